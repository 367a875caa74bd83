"""A template render with retries, for the integration tests' retry and re-attach scenarios."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, Param

from heygen_provider.operators.template import HeyGenTemplateVideoOperator

POLL_INTERVAL = float(os.environ.get("HEYGEN_POLL_INTERVAL", "0.2"))
RENDER_TIMEOUT = float(os.environ.get("HEYGEN_TEST_RENDER_TIMEOUT", "20"))

with DAG(
    dag_id="it_template_with_retries",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"title": Param("template retry", type="string")},
    default_args={"retries": 2, "retry_delay": timedelta(0)},
    tags=["heygen", "integration-test"],
):
    HeyGenTemplateVideoOperator(
        task_id="render_template",
        template_id="tpl_weekly_update",
        variables={
            "manager_name": "Grace",
            "region": "North",
            "headline": "Figures are up.",
            "logo": "https://www.example.com/logo.png",
        },
        title="{{ params.title }}",
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        timeout=RENDER_TIMEOUT,
    )
