"""
The screenshots of the campaign pipeline guide (``docs/campaign-pipeline.rst``), taken from a real
Airflow deployment: ``make screenshots``.

It starts the local HeyGen emulator and Airflow (api-server, scheduler, dag-processor, triggerer) on
loopback in a throwaway folder, triggers ``heygen_data_to_video`` with one row whose render fails with
HeyGen's 40119, waits for the run to end, and photographs Airflow's own UI with headless Chromium
(Debian's ``chromium`` package, driven by Playwright): the grid with the labelled mapped renders, one
render's log, and the summary's log. Alongside, it runs ``heygen_review_before_publish`` on the example's
first two rows and photographs what a reviewer sees while both reviews wait: the run's required actions
with the first row's review, and the second row's review form. The PNGs go to
``docs/_static/screenshots/``.

Renders last a little over a minute, so that a log shows the once-a-minute progress line as well as the
status changes; the whole script takes five to ten minutes.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import FloatRect, Locator, Page, ViewportSize

    from tests.deployment.airflow_deployment import AirflowDeployment

REPOSITORY = Path(__file__).resolve().parents[2]
OUTPUT = REPOSITORY / "docs" / "_static" / "screenshots"
DAG_ID = "heygen_data_to_video"
#: The example's data and the region whose render the emulator fails with 40119 (video too long).
EXAMPLE_ROWS = REPOSITORY / "example_dags" / "data" / "weekly_figures.csv"
BAD_REGION = "Atlantis emulator:fail"
BAD_ROW_INDEX = 2
GENERATE_TASK = "render_row.generate_video"
RUN_ID = "manual__screenshots"
#: The review example, run on the example's first two rows: each row's video waits for a person's answer.
REVIEW_DAG_ID = "heygen_review_before_publish"
REVIEW_RUN_ID = "manual__review_screenshots"
REVIEW_TASK = "review_row.review"
REVIEW_ROWS = 2
#: The image files, by what they show; docs/campaign-pipeline.rst shows each.
SCREENSHOTS = {
    "grid": "campaign-grid.png",
    "log": "campaign-generate-log.png",
    "summary": "campaign-summary.png",
    "reviews": "review-required-actions.png",
    "review_form": "review-form.png",
}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGUMENTS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: Wide enough for the task group's table without a cut column, tall enough for its ten rows; every
#: image is cropped to its content.
VIEWPORT: ViewportSize = {"width": 1600, "height": 1200}
#: Pixels of page kept around what an image shows.
MARGIN = 16
#: Milliseconds Playwright waits for a page's content.
UI_TIMEOUT_MS = 60_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where the PNGs go (default: %(default)s)")
    parser.add_argument(
        "--render-seconds",
        type=float,
        default=75.0,
        help="how long each emulated render takes; over 60 s a log shows a progress line (default: %(default)s)",
    )
    parser.add_argument(
        "--keep-open",
        action="store_true",
        help="leave the deployment running after the screenshots (or their failure) until Ctrl-C, to look at the UI",
    )
    arguments = parser.parse_args(argv)
    # A SIGTERM, or the Ctrl-C a background job ignores by default, still tears the deployment down.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    # Run as a script: the repository's packages (heygen_provider, tests.deployment) are next to docs/.
    sys.path.insert(0, str(REPOSITORY))
    output: Path = arguments.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="heygen-screenshots-") as folder:
        scratch = Path(folder)
        with deployment(scratch, arguments.render_seconds) as airflow:
            reviews = run_campaign(airflow, scratch)
            base_url = f"http://127.0.0.1:{airflow.port}"
            try:
                take_screenshots(base_url, reviews, output, scratch)
            finally:
                if arguments.keep_open:
                    print(f"Airflow UI: {base_url}/dags/{DAG_ID}/runs/{RUN_ID} (Ctrl-C stops it)", flush=True)
                    _wait_for_interrupt()
    for name in SCREENSHOTS.values():
        print(f"{output / name}: {(output / name).stat().st_size:,} bytes")
    return 0


@contextmanager
def deployment(scratch: Path, render_seconds: float) -> Iterator[AirflowDeployment]:
    """The emulator and a LocalExecutor deployment of the campaign and review DAGs only, torn down afterwards."""
    from heygen_provider.testing.emulator import EmulatorSettings, HeyGenEmulator
    from tests.deployment.airflow_deployment import COMPONENTS, AirflowDeployment

    home, dags = scratch / "airflow-home", scratch / "dags"
    home.mkdir()
    # Only the DAGs photographed: the dag-processor parses less and the UI lists nothing else.
    dags.mkdir()
    for module in (DAG_ID, REVIEW_DAG_ID):
        (dags / f"{module}.py").symlink_to(REPOSITORY / "example_dags" / f"{module}.py")
    (dags / "data").symlink_to(EXAMPLE_ROWS.parent)
    with HeyGenEmulator(EmulatorSettings(render_seconds=render_seconds), in_subprocess=True) as emulator:
        env = {
            **emulator.airflow_connection().env(),
            "HEYGEN_POLL_INTERVAL": "5",
            "HEYGEN_OUTPUT_URI": (scratch / "videos").as_uri(),
        }
        airflow = AirflowDeployment(home, dags, env)
        try:
            _step("migrating the metadata database")
            airflow.cli("db", "migrate", timeout=300)
            for component in COMPONENTS:
                airflow.start(component)
            _step("starting Airflow")
            airflow.wait_healthy(("metadatabase", "scheduler", "triggerer", "dag_processor"))
            for dag_id in (DAG_ID, REVIEW_DAG_ID):
                airflow.wait_for_dag(dag_id)
            yield airflow
        finally:
            airflow.stop_all()


def run_campaign(airflow: AirflowDeployment, scratch: Path) -> list[dict[str, Any]]:
    """
    Trigger the campaign with a bad row, and the review example on two rows; wait for every campaign run
    to end and for both reviews to wait for a person.

    :return: the waiting reviews (Airflow's human-in-the-loop details), in row order.
    """
    from tests.deployment.processes import wait_until

    rows = write_rows_with_a_bad_one(scratch / "figures.csv")
    conf = {"rows_uri": rows.as_uri(), "output_uri": (scratch / "videos").as_uri()}
    # First a run of the bundled rows, all good, then the one with the bad row: the grid shows a green
    # run next to a red one. (The example has no schedule, so unpausing adds no run of its own.)
    airflow.cli("dags", "unpause", DAG_ID)
    good = {"output_uri": (scratch / "videos" / "good").as_uri()}
    airflow.cli("dags", "trigger", DAG_ID, "--conf", json.dumps(good))
    airflow.cli("dags", "trigger", DAG_ID, "--run-id", RUN_ID, "--conf", json.dumps(conf))
    # The review renders alongside: its reviews then wait, unanswered, for the screenshot.
    airflow.cli("dags", "unpause", REVIEW_DAG_ID)
    review = {
        "rows_uri": write_rows(scratch / "review.csv", read_rows(EXAMPLE_ROWS)[:REVIEW_ROWS]).as_uri(),
        "output_uri": (scratch / "videos" / "reviewed").as_uri(),
    }
    airflow.cli("dags", "trigger", REVIEW_DAG_ID, "--run-id", REVIEW_RUN_ID, "--conf", json.dumps(review))
    _step("waiting for the campaign runs to end and the reviews to wait for a person (a few minutes)")

    def ended() -> bool:
        airflow.assert_running()
        states = [state for (state,) in airflow.query("SELECT state FROM dag_run WHERE dag_id = :d", d=DAG_ID)]
        return bool(states) and all(state in ("success", "failed") for state in states)

    wait_until(ended, 900, "the DAG runs to end", airflow.diagnose)
    wait_until(lambda: len(pending_reviews(airflow)) == REVIEW_ROWS, 300, "the reviews to wait", airflow.diagnose)
    [(state,)] = airflow.query("SELECT state FROM dag_run WHERE run_id = :run_id", run_id=RUN_ID)
    # The bad row must have failed alone: anything else would photograph a different story.
    generate = dict(
        airflow.query(
            "SELECT map_index, state FROM task_instance WHERE run_id = :run_id AND task_id = :task_id",
            run_id=RUN_ID,
            task_id=GENERATE_TASK,
        )
    )
    expected = {index: "failed" if index == BAD_ROW_INDEX else "success" for index in range(5)}
    if state != "failed" or generate != expected:
        raise RuntimeError(f"unexpected run: {state}, generate tasks {generate}\n{airflow.diagnose()}")
    return sorted(pending_reviews(airflow), key=lambda detail: int(detail["task_instance"]["map_index"]))


def pending_reviews(airflow: AirflowDeployment) -> list[dict[str, Any]]:
    """The review run's reviews waiting for an answer (Airflow's human-in-the-loop details)."""
    airflow.assert_running()
    details = airflow.rest("GET", f"/api/v2/dags/{REVIEW_DAG_ID}/dagRuns/{REVIEW_RUN_ID}/hitlDetails")
    return [
        detail
        for detail in details["hitl_details"]
        if not detail["response_received"] and detail["task_instance"]["state"] in ("awaiting_input", "deferred")
    ]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_rows_with_a_bad_one(path: Path) -> Path:
    """The example's rows with a third one whose render the emulator fails with 40119."""
    rows = read_rows(EXAMPLE_ROWS)
    rows.insert(BAD_ROW_INDEX, {**rows[0], "region": BAD_REGION, "manager": "Nemo"})
    return write_rows(path, rows)


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def take_screenshots(base_url: str, reviews: list[dict[str, Any]], output: Path, scratch: Path) -> None:
    """
    Photograph the campaign's run and the reviews in Airflow's UI.

    :param base_url: the UI's address.
    :param reviews: the review run's waiting reviews, in row order.
    :param output: the folder of the PNGs.
    :param scratch: a throwaway folder, for the browser's profile.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(scratch / "chromium-profile"),
            executable_path=CHROMIUM,
            args=list(CHROMIUM_ARGUMENTS),
            headless=True,
            viewport=VIEWPORT,
            color_scheme="light",
            locale="en-US",
            timezone_id="UTC",
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            photograph_campaign(page, f"{base_url}/dags/{DAG_ID}/runs/{RUN_ID}", output, scratch)
            photograph_reviews(page, f"{base_url}/dags/{REVIEW_DAG_ID}/runs/{REVIEW_RUN_ID}", reviews, output)
        finally:
            browser.close()


def photograph_campaign(page: Page, run_url: str, output: Path, scratch: Path) -> None:
    """The grid, one render's log and the summary's log of the campaign's run with the bad row."""
    _step("photographing the grid")
    # The task group's page lists both tasks of every row, by label, in the CSV's order.
    open_page(page, f"{run_url}/tasks/group/render_row?sort=map_index", "Upstream Failed")
    bottom = max(_bottom(page.locator("table")), _bottom(page.get_by_test_id("task-every_row_stored")))
    shoot(page, output / SCREENSHOTS["grid"], _down_to(bottom))

    _step("photographing a render's log")
    open_page(page, f"{run_url}/tasks/{GENERATE_TASK}/mapped/0", "is completed (was processing)")
    wrap_log_lines(page)
    bottom = _bottom(page.get_by_test_id("virtualized-list"))
    shoot(page, output / SCREENSHOTS["log"], _down_to(bottom))

    _step("photographing the summary")
    open_page(page, f"{run_url}/tasks/write_summary", "4 ready, 1 failed")
    wrap_log_lines(page)
    check_summary_lines(page, [row["region"] for row in read_rows(scratch / "figures.csv")])
    # Down to the per-row lines, above the return value (which repeats them on one line).
    bottom = _top(page.get_by_text("Returned value was").first) - MARGIN
    shoot(page, output / SCREENSHOTS["summary"], _down_to(bottom))


def photograph_reviews(page: Page, run_url: str, reviews: list[dict[str, Any]], output: Path) -> None:
    """
    What a reviewer sees: the run's required actions (both reviews listed, the first one open) and the
    second review's form on its task's page, each with its row's thumbnail, links and script.
    """
    first, second = reviews[0], reviews[1]
    _step("photographing the required actions")
    # The run's "required actions" open in a dialog over the run's page: the list and one review.
    page.goto(f"{run_url}/required_actions", wait_until="networkidle")
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(f"Pending required actions ({len(reviews)})").wait_for()
    # The list's cells read the review's subject (its map index label): the first row's opens its review
    # (the open review's details, right of the list, repeat the subject of the one open at first).
    dialog.get_by_role("cell", name=first["subject"], exact=True).first.click()
    wait_for_thumbnail(dialog, first)
    shoot(page, output / SCREENSHOTS["reviews"], _around(dialog))

    _step("photographing a review's form")
    form = f"{run_url}/tasks/{REVIEW_TASK}/mapped/{second['task_instance']['map_index']}/required_actions"
    open_page(page, form, second["subject"], REVIEW_TASK)
    wait_for_thumbnail(page.locator("body"), second)
    shoot(page, output / SCREENSHOTS["review_form"], _down_to(_bottom(page.get_by_role("button", name="Reject"))))


def wait_for_thumbnail(area: Locator, review: dict[str, Any]) -> None:
    """Wait until the review's own thumbnail (the emulator's drawing of its row) has loaded."""
    video_id = re.search(r"!\[Thumbnail of ([0-9a-f]+)\]", review["body"])
    if video_id is None:
        raise RuntimeError(f"the review {review['subject']!r} shows no thumbnail:\n{review['body']}")
    image = area.get_by_role("img", name=f"Thumbnail of {video_id[1]}")
    # decode() settles once the image is loaded, and fails for a broken one.
    image.evaluate("image => image.decode()")
    area.page.wait_for_load_state("networkidle")


def open_page(page: Page, url: str, ready_text: str, grouped_task: str = GENERATE_TASK) -> None:
    """
    Go to ``url``, open every task group of the grid and wait until ``ready_text`` shows.

    :param grouped_task: a task inside a group, shown once the groups are open.
    """
    page.goto(url, wait_until="networkidle")
    page.get_by_test_id("task-every_row_stored").wait_for()
    # The UI remembers open groups; the button is disabled when every group is open already.
    expand = page.get_by_test_id("expand-all-button")
    if expand.is_enabled():
        expand.click()
    # The grid names a task "task-" and its id with dashes for dots.
    page.get_by_test_id("task-" + grouped_task.replace(".", "-")).wait_for()
    page.get_by_text(ready_text).first.wait_for()
    page.wait_for_load_state("networkidle")


def check_summary_lines(page: Page, regions: list[str]) -> None:
    """Every row has its own log line, above the return value (which repeats them all on one line)."""
    shown = page.get_by_test_id("virtualized-list").inner_text()
    end = shown.index("Returned value was")
    missing = [region for region in regions if shown.find(f"- Weekly figures: {region}: ", 0, end) < 0]
    if missing:
        raise RuntimeError(f"the summary's log shows no line for {missing} above its return value:\n{shown}")


def shoot(page: Page, path: Path, clip: FloatRect) -> None:
    """The ``clip`` of the page, with no pointer, focus ring or tooltip on it."""
    page.mouse.move(VIEWPORT["width"] - 1, VIEWPORT["height"] - 1)
    page.evaluate("document.activeElement instanceof HTMLElement && document.activeElement.blur()")
    page.screenshot(path=str(path), clip=clip, animations="disabled")


def wrap_log_lines(page: Page) -> None:
    """Long log lines wrapped rather than cut at the panel's edge (a setting the browser remembers)."""
    page.get_by_test_id("log-settings-button").click()
    wrap = page.get_by_role("menuitem", name=re.compile(r"^Wrap"))
    if wrap.count():
        wrap.click()
    else:
        page.keyboard.press("Escape")
    page.get_by_role("menu").wait_for(state="hidden")


def _down_to(bottom: float) -> FloatRect:
    """The whole width of the page, from its top down to ``bottom`` and a margin."""
    height = bottom + MARGIN
    if height > VIEWPORT["height"]:
        raise RuntimeError(f"the content ends at {bottom:.0f} px, below the {VIEWPORT['height']} px window")
    return {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height}


def _around(locator: Locator) -> FloatRect:
    """The element's box (a dialog: what is around it is dimmed), within the window."""
    box = locator.bounding_box()
    if box is None:
        raise RuntimeError(f"{locator} is not on the page")
    left, top = max(box["x"], 0), max(box["y"], 0)
    right = min(box["x"] + box["width"], VIEWPORT["width"])
    bottom = box["y"] + box["height"]
    if bottom > VIEWPORT["height"]:
        raise RuntimeError(f"{locator} ends at {bottom:.0f} px, below the {VIEWPORT['height']} px window")
    return {"x": left, "y": top, "width": right - left, "height": bottom - top}


def _bottom(locator: Locator) -> float:
    box = locator.bounding_box()
    if box is None:
        raise RuntimeError(f"{locator} is not on the page")
    return box["y"] + box["height"]


def _top(locator: Locator) -> float:
    box = locator.bounding_box()
    if box is None:
        raise RuntimeError(f"{locator} is not on the page")
    return box["y"]


def _step(text: str) -> None:
    print(f"screenshots: {text} ...", flush=True)


def _wait_for_interrupt() -> None:
    with suppress(KeyboardInterrupt):
        while True:
            time.sleep(3600)


def _interrupt(signal_number: int, frame: Any) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
