"""
Deprecated, tolerated until the next major release: waiting on a render from a task lives in the
trigger module, :mod:`heygen_provider.triggers.heygen` (:func:`~heygen_provider.triggers.heygen.status_trigger`,
:func:`~heygen_provider.triggers.heygen.execution_deadline`, :func:`~heygen_provider.triggers.heygen.wait_for_event`).
Importing those names from here still works, with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

from heygen_provider._moved import moved_to

__getattr__ = moved_to(__name__, "heygen_provider.triggers.heygen")
