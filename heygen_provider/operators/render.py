"""
:class:`HeyGenRenderOperator`: what every operator that pays for one HeyGen video shares.

Submit, wait, result, for any kind of render (a video request, a template). ``execute`` reads top to
bottom:

1. Prepare: the subclass turns its rendered parameters into a :class:`PreparedRender`
   (:meth:`HeyGenRenderOperator.prepare_render`), validated and translated once, before any paid call.
2. Re-attach to the video an earlier try of this task paid for (its
   :mod:`submission record <heygen_provider.operators.submission_record>`), or: upload the photos no
   earlier try uploaded (:mod:`heygen_provider.hooks.assets`), record them, and create the video with the
   task instance's idempotency key (:mod:`heygen_provider.idempotency`), recording it too. A create
   refused for want of a render slot (HTTP 429) waits for one in
   :class:`~heygen_provider.triggers.render_slot.HeyGenRenderSlotTrigger` and resumes in
   ``execute_after_slot``, which starts again at step 2 with the same key.
3. Wait: push ``video_id`` to XCom, check the status once, then defer to
   :class:`~heygen_provider.triggers.heygen.HeyGenVideoStatusTrigger`; with ``deferrable=False`` the same
   waiting code runs on the worker; with ``wait_for_completion=False`` it returns at once, for a
   :class:`~heygen_provider.sensors.heygen.HeyGenVideoSensor` to wait.
   ``execute_complete`` turns the trigger's event into the result, or an error with HeyGen's code.

This module is imported when DAG files are parsed, so it imports only what the operator's definition
needs; the hook, the models and HTTP libraries load at execute time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.configuration import conf
from airflow.sdk import BaseOperator

from heygen_provider._checks import positive_seconds
from heygen_provider.exceptions import (
    HeyGenConnectionError,
    HeyGenError,
    HeyGenNotFoundError,
    HeyGenServerError,
    HeyGenSubmitUncertainError,
    HeyGenTransportError,
)
from heygen_provider.links.heygen import XCOM_VIDEO_ID, XCOM_VIDEO_PAGE, HeyGenVideoLink, video_page_url
from heygen_provider.operators.upstream_data import UpstreamDataMixin
from heygen_provider.vocabulary import DEFAULT_CONN_ID, DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT

if TYPE_CHECKING:
    from airflow.sdk import Context

    from heygen_provider.hooks.assets import Photo
    from heygen_provider.hooks.heygen import HeyGenHook
    from heygen_provider.kill import TaskInstanceKey
    from heygen_provider.models import VideoStatusResponse
    from heygen_provider.models.event import VideoEvent
    from heygen_provider.models.slot_wait import SlotWait
    from heygen_provider.operators.submission_record import Submission, SubmissionRecord

#: HeyGen renders take 5 to 15 minutes and can pass 20 at peak.
DEFAULT_RENDER_TIMEOUT = DEFAULT_WAIT_TIMEOUT


def default_deferrable() -> bool:
    """``[operators] default_deferrable``, the default of every ``deferrable`` parameter here."""
    return conf.getboolean("operators", "default_deferrable", fallback=False)


@dataclass(frozen=True)
class PreparedRender:
    """
    One render, validated and translated once, before any paid call: what the operator pays for.

    :param payload: what identifies the render, whatever the API version; its fingerprint is recorded, and a
        retry re-attaches only to a video of the same payload.
    :param body: the create call's body. Each photo's asset id stands in it as a placeholder until uploaded
        (:func:`~heygen_provider.hooks.assets.with_asset_ids`).
    :param photos: the local photos to upload to HeyGen's assets before the create.
    :param template_id: the HeyGen template to render (``POST /v3/templates/{template_id}``); ``None``
        for a video request (``POST /v3/videos``).
    """

    payload: Mapping[str, Any]
    body: Mapping[str, Any]
    photos: tuple[Photo, ...] = ()
    template_id: str | None = None

    @property
    def title(self) -> str | None:
        """The video's title in HeyGen's web app."""
        return self.payload.get("title")

    @property
    def callback_id(self) -> str | None:
        """The caller's id for the video, echoed back by HeyGen."""
        return self.payload.get("callback_id")


class HeyGenRenderOperator(UpstreamDataMixin, BaseOperator):
    """
    Base of the operators that render one HeyGen video and (by default) wait for it without holding a
    worker slot. A subclass says what to render (:meth:`prepare_render`); this class owns the rest.

    The parameters below are every render operator's (the subclasses document only their own):

    :param heygen_conn_id: the ``heygen`` connection.
    :param wait_for_completion: wait for the render to end; ``False`` returns right after submitting.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param poll_interval: seconds between status checks.
    :param timeout: how long to wait for the render (seconds or a timedelta); default one hour.
    :param cancel_on_kill: delete the HeyGen video (``DELETE /v3/videos/{id}``) when this task is killed
        while it waits: marked failed, or its DAG run marked failed. Not when a worker or triggerer stops,
        the task is cleared or times out: a retry re-attaches to the video then. Off by default: HeyGen
        does not document whether deleting a render in progress stops its billing. Needs the v3 API.
    """

    operator_extra_links = (HeyGenVideoLink(),)
    ui_color = "#e6e0ff"
    #: The video's title in HeyGen's web app, also in the result (a subclass parameter).
    title: str | None = None

    def __init__(
        self,
        *,
        heygen_conn_id: str = DEFAULT_CONN_ID,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | timedelta = DEFAULT_RENDER_TIMEOUT,
        cancel_on_kill: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.heygen_conn_id = heygen_conn_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = positive_seconds("poll_interval", poll_interval)
        self.timeout = positive_seconds("timeout", timeout)
        self.cancel_on_kill = cancel_on_kill
        #: The video this try waits on and its task instance, for :meth:`on_kill` (same process only).
        self._waiting_on: tuple[str, TaskInstanceKey] | None = None

    @property
    def hook(self) -> HeyGenHook:
        from heygen_provider.hooks.heygen import HeyGenHook

        return HeyGenHook(self.heygen_conn_id)

    def prepare_render(self, hook: HeyGenHook) -> PreparedRender:
        """
        The render of the rendered parameters, validated and translated once; free calls only (no create).

        :raises HeyGenRequestValidationError: naming every bad field and its rule.
        """
        raise NotImplementedError

    def execute(self, context: Context) -> dict[str, Any] | None:
        from heygen_provider.models.slot_wait import SlotWait

        return self._submit_and_wait(context, SlotWait())

    def execute_after_slot(self, context: Context, event: dict[str, Any]) -> dict[str, Any] | None:
        """
        Resume after waiting for a render slot in the triggerer: as :meth:`execute`, re-attach to a video an
        earlier try paid for first, else send the create again, with the same ``Idempotency-Key`` (derived
        from the task instance and the request, never carried by the trigger). Idempotent.

        :raises HeyGenRenderSlotTimeoutError: when no slot became free before the ``timeout``.
        """
        from heygen_provider.models.slot_wait import SlotEvent

        slot_event = SlotEvent.from_payload(event)
        slot_event.raise_if_timed_out(time.time())
        return self._submit_and_wait(context, slot_event.wait)

    def _submit_and_wait(self, context: Context, slot_wait: SlotWait) -> dict[str, Any] | None:
        """Re-attach, or upload, record and create (waiting for a render slot if HeyGen has none); then wait."""
        from heygen_provider.hooks.assets import upload_photos, with_asset_ids
        from heygen_provider.idempotency import idempotency_key, request_fingerprint
        from heygen_provider.operators.submission_record import Submission, submission_record_for

        hook = self.hook
        if self.cancel_on_kill:
            _check_can_delete(hook)
        render = self.prepare_render(hook)
        record = submission_record_for(context)
        fingerprint = request_fingerprint(dict(render.payload))
        earlier = _earlier_submission(record, fingerprint)
        reattached = self._reattach(hook, earlier)
        if reattached is not None:
            video_id, status = reattached
        else:
            replaces = earlier.video_id if earlier is not None else None
            key = idempotency_key(context, fingerprint, replaces)
            uploaded = dict(earlier.assets) if earlier is not None else {}
            assets = upload_photos(hook, render.photos, uploaded, key)
            if assets != uploaded:
                _save(record, Submission(replaces, fingerprint, assets), self.log, "its uploaded photos")
            body = with_asset_ids(render.body, render.photos, assets)
            video_id, slot_wait = self._create_in_a_slot(hook, context, render, body, key, slot_wait=slot_wait)
            _save(record, Submission(video_id, fingerprint, assets), self.log, f"HeyGen video {video_id}")
            status = None
        return self._wait(hook, context, render, video_id, status, slot_wait_seconds=slot_wait.seconds(time.time()))

    def _create_in_a_slot(
        self,
        hook: HeyGenHook,
        context: Context,
        render: PreparedRender,
        body: dict[str, Any],
        idempotency_key: str,
        *,
        slot_wait: SlotWait,
    ) -> tuple[str, SlotWait]:
        """
        The create; when HeyGen refuses it for want of a render slot (HTTP 429), wait for one and send it
        again: deferred, in the triggerer (this task resumes in :meth:`execute_after_slot`), or on this worker
        in blocking mode. Nothing was created by a refused create, so nothing is recorded for it.
        """
        from heygen_provider.exceptions import HeyGenRateLimitError
        from heygen_provider.triggers.render_slot import slot_trigger, wait_for_slot

        while True:
            try:
                video_id = self._create(hook, render, body, idempotency_key)
            except HeyGenRateLimitError as refusal:
                slot_wait = slot_wait.after_refusal(time.time(), self.timeout)
                trigger = slot_trigger(
                    heygen_conn_id=self.heygen_conn_id,
                    wait=slot_wait,
                    retry_in=hook.settings.retry_policy.slot_wait(refusal, slot_wait.refusals),
                    execution_timeout=self.execution_timeout,
                    context=context,
                )
                if self.deferrable:
                    # The wait so far travels in the trigger and comes back in its event.
                    self.defer(trigger=trigger, method_name="execute_after_slot")
                # Blocking mode: the user chose to wait on the worker; the trigger's own wait runs here.
                wait_for_slot(trigger).raise_if_timed_out(time.time())
                continue
            if slot_wait.refusals:
                self.log.info(
                    "HeyGen video %s submitted after waiting %.0f s for a render slot",
                    video_id,
                    slot_wait.seconds(time.time()),
                )
            return video_id, slot_wait

    def _reattach(self, hook: HeyGenHook, earlier: Submission | None) -> tuple[str, VideoStatusResponse] | None:
        """The video an earlier try submitted and its status, when it succeeded or still renders."""
        if earlier is None or earlier.video_id is None:
            return None
        try:
            status = hook.get_video_status(earlier.video_id)
        except HeyGenNotFoundError:
            self.log.warning("HeyGen video %s from an earlier try no longer exists", earlier.video_id)
            return None
        if status.is_success or not status.is_terminal:
            self.log.info(
                "Re-attaching to HeyGen video %s submitted by an earlier try (%s); not submitting again",
                earlier.video_id,
                status.service_status,
            )
            return earlier.video_id, status
        self.log.warning(
            "HeyGen video %s from an earlier try %s; submitting a new render",
            earlier.video_id,
            status.status.value,
        )
        return None

    def _create(self, hook: HeyGenHook, render: PreparedRender, body: dict[str, Any], idempotency_key: str) -> str:
        """The paid create call of ``render`` with ``body``; a create that may have reached HeyGen is never re-sent."""
        try:
            if render.template_id is None:
                created = hook.create_video_from_body(body, idempotency_key=idempotency_key)
            else:
                created = hook.create_template_video(render.template_id, body, idempotency_key=idempotency_key)
        except (HeyGenServerError, HeyGenTransportError) as error:
            if isinstance(error, HeyGenTransportError) and not error.request_may_have_reached_server:
                raise
            if hook.settings.api.idempotent_creates:
                # The create carried its idempotency key: a task retry sends the same key, and HeyGen
                # answers with the video it already made instead of rendering a second one.
                raise
            labels = ", ".join(
                f"{name} {value!r}"
                for name, value in (("title", render.title), ("callback_id", render.callback_id))
                if value
            )
            raise HeyGenSubmitUncertainError(
                f"{error}. The create request may have reached HeyGen, so it is not sent again and this task "
                "fails without automatic retries, to avoid paying for a second render. Check HeyGen's web app "
                f"for a video created around {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}"
                f"{' with ' + labels if labels else ''}; clear the task to submit again."
            ) from error
        self.log.info("Submitted HeyGen video %s", created.video_id)
        return created.video_id

    def _wait(
        self,
        hook: HeyGenHook,
        context: Context,
        render: PreparedRender,
        video_id: str,
        status: VideoStatusResponse | None,
        *,
        slot_wait_seconds: float = 0.0,
    ) -> dict[str, Any] | None:
        """
        Publish the video, then wait for it: in the triggerer, on this worker, or not at all.

        :param slot_wait_seconds: seconds the create waited for a render slot, for the result.
        """
        from heygen_provider.models.event import VideoEvent
        from heygen_provider.triggers.heygen import status_trigger, wait_for_event

        self._waiting_on = (video_id, context["ti"])
        context["ti"].xcom_push(key=XCOM_VIDEO_ID, value=video_id)
        page = video_page_url(video_id, hook.settings.base_url)
        context["ti"].xcom_push(key=XCOM_VIDEO_PAGE, value=page)
        self.log.info("HeyGen video %s %r: %s", video_id, render.title or "(no title)", page)

        if status is None:
            status = hook.get_video_status(video_id)
        if status.is_terminal or not self.wait_for_completion:
            return self._finish(VideoEvent.from_status(status), slot_wait_seconds)

        trigger = status_trigger(
            video_id=video_id,
            heygen_conn_id=self.heygen_conn_id,
            poll_interval=self.poll_interval,
            timeout=self.timeout,
            execution_timeout=self.execution_timeout,
            context=context,
            # Only a deferred task's trigger deletes; a task waiting on its worker has on_kill.
            cancel_on_kill=self.cancel_on_kill and self.deferrable,
            # In the trigger and its event, not the deferral's kwargs, which dag.test() drops.
            slot_wait_seconds=slot_wait_seconds,
        )
        if self.deferrable:
            self.defer(trigger=trigger, method_name="execute_complete")
        # Blocking mode runs the trigger's own waiting code on the worker: one implementation of
        # polling, deadlines and fault tolerance for both modes.
        return self._finish(wait_for_event(trigger), slot_wait_seconds)

    def on_kill(self) -> None:
        """
        With ``cancel_on_kill``, delete the video this task waits on, when the task was marked failed.

        Airflow also calls this when the worker shuts down, the task is cleared or its
        ``execution_timeout`` passes; the task instance's state tells those apart (:mod:`heygen_provider.kill`),
        and there the video is left for the retry to re-attach to.
        """
        if not self.cancel_on_kill or self._waiting_on is None:
            return
        from heygen_provider.kill import task_was_killed

        video_id, task_instance = self._waiting_on
        try:
            killed = task_was_killed(task_instance)
        except Exception as error:
            killed, reason = False, f"Airflow could not say whether the task was killed ({error!r})"
        else:
            reason = "the task is not marked failed"
        if not killed:
            self.log.info("HeyGen video %s left as it is (cancel_on_kill): %s", video_id, reason)
            return
        try:
            deleted = self.hook.delete_video(video_id)
        except HeyGenError as error:
            self.log.warning("HeyGen video %s: could not delete it (cancel_on_kill): %s", video_id, error)
            return
        self.log.warning(
            "HeyGen video %s %s (cancel_on_kill): the task was marked failed",
            video_id,
            "deleted" if deleted else "was already gone",
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any] | None:
        """
        Resume after the trigger's event. Idempotent: events are delivered at least once.

        :raises HeyGenRenderError: when the render failed, was cancelled or timed out, with HeyGen's code
            and message. Cancelled is never success.
        :raises HeyGenError: the class the fault raised in the triggerer (a bad key, an unknown video).
        """
        from heygen_provider.models.event import VideoEvent

        video_event = VideoEvent.from_payload(event)
        context["ti"].xcom_push(key=XCOM_VIDEO_ID, value=video_event.video_id)
        slot_wait_seconds = event.get("slot_wait_seconds")
        return self._finish(
            video_event, float(slot_wait_seconds) if isinstance(slot_wait_seconds, (int, float)) else 0.0
        )

    def _finish(self, event: VideoEvent, slot_wait_seconds: float = 0.0) -> dict[str, Any] | None:
        if not self.wait_for_completion and not event.render_ended:
            self.log.info("HeyGen video %s submitted; not waiting for it", event.video_id)
            return None if event.result is None else {**event.result, "slot_wait_seconds": slot_wait_seconds}
        # The seconds the create waited for a render slot, beside the render's own time.
        result = {**event.result_or_raise(), "title": self.title or None, "slot_wait_seconds": slot_wait_seconds}
        self.log.info("HeyGen video %s is ready: %s", event.video_id, result.get("video_url"))
        # The record outlives the success, so clearing this task re-attaches to the video it paid for.
        return result


def _check_can_delete(hook: HeyGenHook) -> None:
    """``cancel_on_kill`` on a connection that cannot delete a video: refused before any paid call."""
    settings = hook.settings
    if settings.api.video is None:
        raise HeyGenConnectionError(
            f"cancel_on_kill: deleting a HeyGen video needs HeyGen's v3 API, but connection "
            f"{hook.heygen_conn_id!r} uses api_version {settings.api_version!r}, which cannot delete or cancel "
            "a render. Set the connection's extra api_version to 'v3' (the default), or cancel_on_kill=False"
        )


def _earlier_submission(record: SubmissionRecord, fingerprint: str) -> Submission | None:
    """What an earlier try of this task submitted for the same request (``fingerprint``), if anything."""
    try:
        previous = record.load()
    except Exception as error:
        # Never read as "no earlier submission": that would pay again. This try fails; a retry reads again.
        raise HeyGenError(
            f"Could not read {record.description} to find an earlier submission ({error}); not submitting, "
            "so a retry of this task can check again"
        ) from error
    return previous if previous is not None and previous.request_fingerprint == fingerprint else None


def _save(record: SubmissionRecord, submission: Submission, log: Any, what: str) -> None:
    try:
        record.save(submission)
    except Exception:
        log.warning(
            "Could not record %s in %s: a retry of this task relies on the idempotency key alone",
            what,
            record.description,
            exc_info=True,
        )
