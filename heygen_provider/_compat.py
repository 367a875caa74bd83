"""Names that moved between Airflow 3.1 and 3.3, imported from wherever this Airflow keeps them."""

from __future__ import annotations

try:
    from airflow.sdk.exceptions import (
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSensorTimeout,
        AirflowSkipException,
    )
except ImportError:  # Airflow 3.1 and 3.2 keep them in airflow.exceptions.
    from airflow.exceptions import (  # type: ignore[no-redef,attr-defined,unused-ignore]
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSensorTimeout,
        AirflowSkipException,
    )

__all__ = ["AirflowFailException", "AirflowNotFoundException", "AirflowSensorTimeout", "AirflowSkipException"]
