"""
``[core] hostname_callable`` for a deployment whose components share one machine: each process reports
the name of the component that started it, so the job table tells two triggerers apart and a task
instance's ``hostname`` names the Celery worker that ran it.
"""

from __future__ import annotations

import os
import socket

COMPONENT_VARIABLE = "HEYGEN_DEPLOYMENT_COMPONENT"
CALLABLE_PATH = f"{__name__}.component_hostname"


def component_hostname() -> str:
    return os.environ.get(COMPONENT_VARIABLE) or socket.getfqdn()
