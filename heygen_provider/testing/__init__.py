"""Test tools for HeyGen DAGs: a local HeyGen emulator and a pytest plugin. Runtime code never imports this."""
