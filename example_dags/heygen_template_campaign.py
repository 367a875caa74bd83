"""
Template campaign: one HeyGen template, one video per CSV row, each stored beside the others.

Teams personalise at scale with templates designed in HeyGen's editor: the layout, avatar and music
stay, and each row fills the template's variables. ``data/template_rows.csv`` (or the CSV ``rows_uri``
names) has one column per variable of the ``template_id`` param; a row whose variables do not fit the
template (a missing, unknown or mistyped one) fails on its own, naming each bad variable, before it is
paid for. The other rows render and are stored as usual.

Before anything is paid for, ``preflight`` reads the template once, checks every row against it,
estimates each video from the template's scripts with the row's text in place, and stops the run when
the total is over ``max_cost`` or the account's remaining credit.

Against the bundled emulator the default template ``tpl_weekly_update`` exists; against HeyGen, set the
``template_id`` param to one of your templates (``GET /v3/templates`` lists them).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task, task_group

from heygen_provider.campaign.tasks import rows_from_csv, storage_folder, store_video
from heygen_provider.file_names import unique_file_stems
from heygen_provider.operators.template import HeyGenTemplateVideoOperator

DATA_FILE = Path(__file__).parent / "data" / "template_rows.csv"
# Renders take minutes, so 30 s polls cost little; the demo's emulator renders in seconds and polls faster.
POLL_INTERVAL = float(os.environ.get("HEYGEN_POLL_INTERVAL", "30"))

with DAG(
    dag_id="heygen_template_campaign",
    description="One HeyGen template rendered once per CSV row",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    # Transient faults only: a row that does not fit the template fails at once, and a retry re-attaches
    # to a video still rendering instead of paying again.
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["heygen", "example"],
    params={
        "template_id": Param("tpl_weekly_update", type="string"),
        # Where the videos go: a folder or a bucket, and the bucket's connection.
        "output_uri": Param(os.environ.get("HEYGEN_OUTPUT_URI", "file:///tmp/heygen-videos"), type="string"),
        "output_conn_id": Param(
            os.environ.get("HEYGEN_OUTPUT_CONN_ID"),
            type=["null", "string"],
            description="The connection of an s3:// (gs://, ...) output_uri, e.g. aws_default",
        ),
        "rows_uri": Param(
            None,
            type=["null", "string"],
            description="The CSV to read (a path or an object storage URI); empty: the bundled sample",
        ),
        "max_cost": Param(
            None,
            type=["null", "number"],
            minimum=0,
            description="Stop before any render when the estimated cost (USD) is above this; empty: no limit",
        ),
    },
) as dag:
    # [START howto_heygen_template_rows]
    @task
    def read_rows(params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One render per CSV row: its columns are the template's variables."""
        assert params is not None
        rows = rows_from_csv(params.get("rows_uri") or DATA_FILE)
        # Files named after the row's region, never two rows alike (north.mp4, north-2.mp4, row-3.mp4).
        file_stems = unique_file_stems(row.get("region") or "" for row in rows)
        return [
            {"variables": row, "title": f"Weekly update: {row.get('region') or index + 1}", "file_stem": file_stem}
            for index, (row, file_stem) in enumerate(zip(rows, file_stems, strict=True))
        ]

    # [END howto_heygen_template_rows]

    # [START howto_heygen_template_render]
    @task_group
    def render_row(variables: dict[str, Any], title: str, file_stem: str) -> None:
        """One row: render the template with its variables, then store the video."""
        video = HeyGenTemplateVideoOperator(
            task_id="render_template",
            template_id="{{ params.template_id }}",
            variables=variables,
            title=title,
            caption=True,
            poll_interval=POLL_INTERVAL,
            deferrable=True,
            max_active_tis_per_dag=8,
            map_index_template="{{ task.title }}",
        )
        store_video(video, file_stem, folder)

    # [START howto_heygen_template_preflight]
    @task(retries=0)
    def preflight(rows: list[dict[str, Any]], params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Every row checked against the template and estimated, the total against the budget; nothing paid."""
        from heygen_provider.campaign.budget import preflight_template_campaign

        assert params is not None
        estimate = preflight_template_campaign(params["template_id"], rows, max_cost=params.get("max_cost"))
        return estimate.as_json()

    folder = storage_folder()
    rows = read_rows()
    preflight(rows) >> render_row.expand_kwargs(rows)
    # [END howto_heygen_template_preflight]
    # [END howto_heygen_template_render]
