"""Test tools for HeyGen DAGs: a local HeyGen emulator and a pytest plugin. Runtime code never imports this.

- :mod:`heygen_provider.testing.emulator`: ``HeyGenEmulator`` (Python), ``heygen-emulator`` (CLI).
- :mod:`heygen_provider.testing.pytest_plugin`: the ``heygen_emulator`` and ``heygen_connection`` fixtures.
"""
