"""
The extra links of the provider's tasks: the video's page, the stored video, and a campaign's summary.

Airflow 3 computes a task's links on the worker when the task ends and keeps them in XCom, where the
API server reads them. Each link reads what its task pushed rather than looking anything up: the
generate task pushes its video's page URL next to the video id, while the connection is at hand.

Every link opens something or is not there. Airflow's UI shows a task's "Extra Links" heading whenever
the task has links at all (the API server lists each registered link, with no URL when it has none),
and it draws only ``http(s)`` links: a ``file://`` path would leave the heading with nothing under it.
So a link to a stored file leads to a page a browser opens (an S3 or GCS console page) or is empty,
and a task that stores in a local folder gets no such link (:func:`may_open_in_browser`).

This module is imported when DAG files are parsed: :func:`video_page_url` imports the connection
module, which brings the models, only when it is called.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from airflow.sdk import BaseOperatorLink
from airflow.sdk.execution_time.xcom import XCom

if TYPE_CHECKING:
    from airflow.sdk.definitions.xcom_arg import PlainXComArg
    from airflow.sdk.types import TaskInstanceKey

HEYGEN_VIDEO_PAGE = "https://app.heygen.com/videos/{video_id}"
#: The XCom key under which the operator pushes the video id, as soon as it has one.
XCOM_VIDEO_ID = "video_id"
#: The XCom key of the video's page URL, pushed with the video id.
XCOM_VIDEO_PAGE = "video_page_url"


def video_page_url(video_id: str, base_url: str | None = None) -> str:
    """
    Where a person looks at ``video_id``: HeyGen's web app, or the emulator's page for the video when
    the connection points at a loopback address (the local emulator serves ``/videos/<id>``).

    :param video_id: the HeyGen video id.
    :param base_url: the connection's API base URL.
    """
    from heygen_provider.connection import is_loopback

    if base_url and is_loopback(urlsplit(base_url).hostname or ""):
        return f"{base_url.rstrip('/')}/videos/{quote(video_id, safe='', errors='surrogatepass')}"
    return HEYGEN_VIDEO_PAGE.format(video_id=quote(video_id, safe="", errors="surrogatepass"))


#: Schemes of stored objects that :func:`browsable_url` turns into a page a browser opens.
BROWSABLE_SCHEMES = frozenset({"http", "https", "s3", "s3a", "gs", "gcs"})
#: A location that starts with one of the DAG's params, e.g. ``{{ params.output_uri }}/2026-11-23``.
PARAM_AT_START = re.compile(r"^\{\{\s*params\.(\w+)\s*\}\}")


def browsable_url(path: str) -> str:
    """
    A URL a browser can open from Airflow's UI for a stored object: ``http(s)://`` as it is, ``s3://``
    and ``gs://`` as their cloud console page; ``""`` for anything else (a ``file://`` URI or a local
    path, which the UI does not open).

    :param path: an ``ObjectStoragePath`` URI.
    """
    path = without_connection(path)
    parts = urlsplit(path)
    bucket, key = parts.netloc, parts.path.lstrip("/")
    if parts.scheme in ("s3", "s3a"):
        return f"https://s3.console.aws.amazon.com/s3/object/{bucket}?prefix={quote(key)}"
    if parts.scheme in ("gs", "gcs"):
        return f"https://console.cloud.google.com/storage/browser/_details/{bucket}/{quote(key)}"
    return path if parts.scheme in ("http", "https") else ""


def may_open_in_browser(location: str | None, params: Mapping[str, Any] | None = None) -> bool:
    """
    Whether a link to what is stored at ``location`` can open in a browser, as far as the DAG file tells.

    ``False`` for a local folder (a plain path or ``file://``); ``True`` for a bucket or a web address,
    and when the location is not known before the task runs (a template other than a leading
    ``{{ params.NAME }}``, which is read from the DAG's default ``params``).

    :param location: the folder or file, as the DAG gives it (templates not rendered).
    :param params: the task's params (their defaults when the DAG is parsed).
    """
    if location is None:
        return True
    match = PARAM_AT_START.match(location)
    if match is not None:
        value = (params or {}).get(match.group(1))
        if not isinstance(value, str):
            return True
        location = value + location[match.end() :]
    # The scheme is what decides; a template in it leaves the question open.
    if "{{" in location.split("/", 1)[0] or "{%" in location.split("/", 1)[0]:
        return True
    return urlsplit(location).scheme in BROWSABLE_SCHEMES


def without_connection(path: str) -> str:
    """
    ``path`` without the connection id ``ObjectStoragePath`` writes into it (``s3://aws_default@bucket/key``
    is ``s3://bucket/key``): the address as people know it.

    :param path: an ``ObjectStoragePath`` URI; one that is no valid URL is returned as given.
    """
    try:
        parts = urlsplit(path)
    except ValueError:  # "https://[host": a summary line shows it rather than fail
        return path
    if "@" not in parts.netloc:
        return path
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


class HeyGenVideoLink(BaseOperatorLink):
    """Links a task to its video's page, from what it pushed to XCom (the page, or only the video id)."""

    name = "HeyGen video"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        video_id = XCom.get_value(ti_key=ti_key, key=XCOM_VIDEO_ID)
        if not video_id:
            return ""
        # A task run by an older version of the provider pushed only the id: its page is then HeyGen's.
        return str(XCom.get_value(ti_key=ti_key, key=XCOM_VIDEO_PAGE) or video_page_url(str(video_id)))


class StoredVideoLink(BaseOperatorLink):
    """
    Links a download task to the video it stored, from its result in XCom: its S3 or GCS console page,
    or its ``http(s)`` address; nothing for a local file.
    """

    name = "Stored video"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        result = XCom.get_value(ti_key=ti_key, key="return_value")
        path = result.get("video_path") if isinstance(result, dict) else None
        return browsable_url(str(path)) if path else ""


class CampaignSummaryLink(BaseOperatorLink):
    """
    Links a campaign's summary task to the page it wrote, from the ``page`` of its result in XCom.

    TaskFlow tasks take no extra links as an argument; give one this link with
    :func:`link_to_summary_page`.
    """

    name = "Campaign summary"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        result = XCom.get_value(ti_key=ti_key, key="return_value")
        page = result.get("page") if isinstance(result, dict) else None
        return browsable_url(str(page)) if page else ""


def link_to_summary_page(summary: PlainXComArg, location: str | None = None) -> PlainXComArg:
    """
    Give the task behind ``summary`` the :class:`CampaignSummaryLink`, beside the links it has, unless
    the page is written where a browser cannot open it from Airflow's UI (a local folder).

    Airflow computes a task's links on the worker when the task ends and keeps them in XCom, so a link
    set on a TaskFlow task when the DAG is defined is drawn like an operator's own.

    :param summary: what a summary task returned: a mapping with the page's location under ``page``.
    :param location: where the page is written, as the DAG gives it, e.g. ``"{{ params.output_uri }}"``
        (see :func:`may_open_in_browser`); a local folder adds no link. Unknown (``None``): the link is
        added.
    """
    operator = summary.operator
    if not may_open_in_browser(location, operator.params):
        return summary
    if not any(isinstance(link, CampaignSummaryLink) for link in operator.operator_extra_links):
        operator.operator_extra_links = (*operator.operator_extra_links, CampaignSummaryLink())
    return summary
