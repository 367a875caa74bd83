"""
:class:`HeyGenGenerateVideoOperator`: submit a video on the worker, then wait in the triggerer.

Submit, wait, result:

1. ``execute`` validates the rendered parameters (before any paid call), re-attaches to a video this
   task already submitted or submits a new one, pushes ``video_id`` to XCom and checks the status once.
2. It then defers to :class:`~heygen_provider.triggers.heygen.HeyGenVideoStatusTrigger`; with
   ``deferrable=False`` it runs the same waiting code on the worker; with ``wait_for_completion=False``
   it returns at once, for a :class:`~heygen_provider.sensors.heygen.HeyGenVideoSensor` to wait.
3. ``execute_complete`` turns the trigger's event into the result, or an error with HeyGen's code.

This module is imported when DAG files are parsed, so it imports only what the operator's definition
needs; the hook, the models and HTTP libraries load at execute time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TypeGuard

from airflow.sdk import BaseOperator

from heygen_provider._checks import positive_seconds
from heygen_provider.connection_form import DEFAULT_CONN_ID
from heygen_provider.generations import V3_OPTIONS
from heygen_provider.links.heygen import XCOM_VIDEO_ID, XCOM_VIDEO_PAGE, HeyGenVideoLink, video_page_url

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

    from heygen_provider.hooks.heygen import HeyGenHook
    from heygen_provider.models import VideoGenerateRequest, VideoStatusResponse
    from heygen_provider.models.event import VideoEvent
    from heygen_provider.operators.submission_record import SubmissionRecord

#: HeyGen renders take 5 to 15 minutes and can pass 20 at peak.
DEFAULT_RENDER_TIMEOUT = timedelta(hours=1)
DEFAULT_POLL_INTERVAL = 30.0
#: The only parameters whose (whole) value may name a ``.json`` template file.
TEMPLATE_FILE_FIELDS = ("video_inputs", "extra_fields")


def default_deferrable() -> bool:
    """``[operators] default_deferrable``, the default of every ``deferrable`` parameter here."""
    from airflow.configuration import conf

    return conf.getboolean("operators", "default_deferrable", fallback=False)


class HeyGenGenerateVideoOperator(BaseOperator):
    """
    Render one HeyGen avatar video and (by default) wait for it without holding a worker slot.

    Every request parameter is templated; ``video_inputs`` and ``extra_fields`` may also name a ``.json``
    template file (their whole value); any other text ending in ``.json`` is just text.

    :param video_inputs: the scenes (1 to 50), each ``{"character": ..., "voice": ..., "background": ...}``.
    :param dimension: ``"720p"``, ``"1080p"``, ``"4K"`` (Scale and Enterprise plans) or
        ``{"width": ..., "height": ...}``; HeyGen's default is 1280x720.
    :param caption: ask HeyGen for captions.
    :param title: the video's title in HeyGen's web app.
    :param callback_id: your id for this video, echoed back by HeyGen in status answers and webhooks.
    :param callback_url: a URL HeyGen calls when the render ends.
    :param test: a free, watermarked test render (``api_version`` legacy only).
    :param folder_id: the HeyGen folder for the video (``api_version`` legacy only).
    :param extra_fields: top-level request fields the provider does not know yet, sent verbatim.
    :param engine: v3: ``avatar_iv`` (HeyGen's default), ``avatar_v`` or ``avatar_iii``.
    :param motion_prompt: v3: body motion and gestures, in words (photo avatars, or ``avatar_v``).
    :param expressiveness: v3: ``high``, ``medium`` or ``low`` (photo avatars).
    :param aspect_ratio: v3: ``16:9``, ``9:16``, ``1:1``, ``4:5``, ``5:4`` or ``auto``, instead of ``dimension``.
    :param resolution: v3: ``720p``, ``1080p`` or ``4k``, instead of ``dimension``.
    :param output_format: v3: ``mp4`` or ``webm`` (transparent background).
    :param remove_background: v3: remove the avatar's background.
    :param fit: v3: ``contain`` or ``cover``.
    :param heygen_conn_id: the ``heygen`` connection.
    :param wait_for_completion: wait for the render to end; ``False`` returns right after submitting.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param poll_interval: seconds between status checks.
    :param timeout: how long to wait for the render (seconds or a timedelta); default one hour.
    """

    template_fields: Sequence[str] = (
        "video_inputs",
        "dimension",
        "caption",
        "title",
        "callback_id",
        "callback_url",
        "test",
        "folder_id",
        "extra_fields",
        *V3_OPTIONS,
        "heygen_conn_id",
    )
    template_ext: Sequence[str] = (".json",)
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "video_inputs": "json",
        "extra_fields": "json",
        "dimension": "json",
    }
    operator_extra_links = (HeyGenVideoLink(),)
    ui_color = "#e6e0ff"

    def __init__(
        self,
        *,
        video_inputs: list[dict[str, Any]] | str,
        dimension: dict[str, int] | str | None = None,
        caption: bool | None = None,
        title: str | None = None,
        callback_id: str | None = None,
        callback_url: str | None = None,
        test: bool | None = None,
        folder_id: str | None = None,
        extra_fields: dict[str, Any] | None = None,
        engine: str | None = None,
        motion_prompt: str | None = None,
        expressiveness: str | None = None,
        aspect_ratio: str | None = None,
        resolution: str | None = None,
        output_format: str | None = None,
        remove_background: bool | None = None,
        fit: str | None = None,
        heygen_conn_id: str = DEFAULT_CONN_ID,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | timedelta = DEFAULT_RENDER_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        from heygen_provider.operators.submission_record import with_record_cleanup

        kwargs["on_success_callback"] = with_record_cleanup(kwargs.get("on_success_callback"))
        super().__init__(**kwargs)
        self.video_inputs = video_inputs
        self.dimension = dimension
        self.caption = caption
        self.title = title
        self.callback_id = callback_id
        self.callback_url = callback_url
        self.test = test
        self.folder_id = folder_id
        self.extra_fields = extra_fields
        self.engine = engine
        self.motion_prompt = motion_prompt
        self.expressiveness = expressiveness
        self.aspect_ratio = aspect_ratio
        self.resolution = resolution
        self.output_format = output_format
        self.remove_background = remove_background
        self.fit = fit
        self.heygen_conn_id = heygen_conn_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = positive_seconds("poll_interval", poll_interval)
        self.timeout = positive_seconds("timeout", timeout)

    def resolve_template_files(self) -> None:
        # Airflow reads, when the DAG is parsed, every template field whose value ends in a template_ext
        # as a file; only these fields may name one (a title "edit package.json" is text).
        for name in TEMPLATE_FILE_FIELDS:
            value = getattr(self, name, None)
            if _names_template_file(value, self.template_ext):
                environment = self.get_template_env()
                try:
                    setattr(self, name, environment.loader.get_source(environment, value)[0])  # type: ignore[union-attr]
                except Exception:
                    self.log.exception("Failed to resolve template field %r", name)
        self.prepare_template()

    def _do_render_template_fields(
        self,
        parent: Any,
        template_fields: Iterable[str],
        context: Context,
        jinja_env: jinja2.Environment,
        seen_oids: set[int],
    ) -> None:
        # Airflow's per-field rendering step (the one it calls on mapped tasks too). A whole video_inputs
        # or extra_fields value ending in .json is a template file; every other string is text to render.
        fields = list(template_fields)
        if parent is self:
            for name in [name for name in fields if name in TEMPLATE_FILE_FIELDS]:
                value = getattr(self, name, None)
                if _names_template_file(value, self.template_ext):
                    setattr(self, name, self._render(jinja_env.get_template(value), context))
                    fields.remove(name)
        super()._do_render_template_fields(parent, fields, context, jinja_env, seen_oids)

    def render_template(
        self,
        content: Any,
        context: Context,
        jinja_env: jinja2.Environment | None = None,
        seen_oids: set[int] | None = None,
    ) -> Any:
        # Airflow would load any string ending in a template_ext as a file, nested ones included (a scene's
        # input_text, a URL); here a string is always text. Files are handled per field above.
        if isinstance(content, str):
            environment = jinja_env or self.get_template_env()
            return self._render(environment.from_string(content), context)
        return super().render_template(content, context, jinja_env, seen_oids)

    @property
    def hook(self) -> HeyGenHook:
        from heygen_provider.hooks.heygen import HeyGenHook

        return HeyGenHook(self.heygen_conn_id)

    def build_request(self) -> VideoGenerateRequest:
        """
        Validate the rendered parameters into the request body.

        :raises HeyGenRequestValidationError: naming every bad field and its rule; no HTTP call is made.
        """
        from heygen_provider.models import VideoGenerateRequest
        from heygen_provider.models.params import parse_structured_param

        return VideoGenerateRequest.from_params(
            {
                "video_inputs": parse_structured_param("video_inputs", self.video_inputs),
                "dimension": parse_structured_param("dimension", self.dimension, allow_text=True),
                "caption": self.caption,
                "title": self.title,
                "callback_id": self.callback_id,
                "callback_url": self.callback_url,
                "test": self.test,
                "folder_id": self.folder_id,
                "extra_fields": parse_structured_param("extra_fields", self.extra_fields),
                **{name: getattr(self, name) for name in V3_OPTIONS},
            }
        )

    def execute(self, context: Context) -> dict[str, Any] | None:
        from heygen_provider.models.event import VideoEvent
        from heygen_provider.operators.submission_record import submission_record_for
        from heygen_provider.waiting import status_trigger, wait_for_event

        request = self.build_request()
        hook = self.hook
        # The generation's translation checks what it can express, still before any call.
        hook.request_body(request)
        record = submission_record_for(context)
        video_id, status = self._reattach_or_submit(hook, request, record, context)
        context["ti"].xcom_push(key=XCOM_VIDEO_ID, value=video_id)
        page = video_page_url(video_id, hook.settings.base_url)
        context["ti"].xcom_push(key=XCOM_VIDEO_PAGE, value=page)
        self.log.info("HeyGen video %s %r: %s", video_id, request.title or "(no title)", page)

        if status is None:
            status = hook.get_video_status(video_id)
        if status.is_terminal or not self.wait_for_completion:
            return self._finish(VideoEvent.from_status(status))

        trigger = status_trigger(
            video_id=video_id,
            heygen_conn_id=self.heygen_conn_id,
            poll_interval=self.poll_interval,
            timeout=self.timeout,
            execution_timeout=self.execution_timeout,
            context=context,
        )
        if self.deferrable:
            self.defer(trigger=trigger, method_name="execute_complete")
        # Blocking mode runs the trigger's own waiting code on the worker: one implementation of
        # polling, deadlines and fault tolerance for both modes.
        return self._finish(wait_for_event(trigger))

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
        return self._finish(video_event)

    def _finish(self, event: VideoEvent) -> dict[str, Any] | None:
        if not self.wait_for_completion and not event.render_ended:
            self.log.info("HeyGen video %s submitted; not waiting for it", event.video_id)
            return event.result
        result = {**event.result_or_raise(), "title": self.title or None}
        self.log.info("HeyGen video %s is ready: %s", event.video_id, result.get("video_url"))
        # The record stays until Airflow has recorded the success (forget_submission, a success callback).
        return result

    def _reattach_or_submit(
        self, hook: HeyGenHook, request: VideoGenerateRequest, record: SubmissionRecord, context: Context
    ) -> tuple[str, VideoStatusResponse | None]:
        from heygen_provider.exceptions import HeyGenNotFoundError
        from heygen_provider.operators.submission_record import Submission, idempotency_key, request_fingerprint

        fingerprint = request_fingerprint(request.to_payload())
        previous = _load(record)
        earlier = previous if previous is not None and previous.request_fingerprint == fingerprint else None
        replaces: str | None = None
        if earlier is not None and earlier.video_id is not None:
            try:
                status = hook.get_video_status(earlier.video_id)
            except HeyGenNotFoundError:
                self.log.warning("HeyGen video %s from an earlier try no longer exists", earlier.video_id)
                replaces = earlier.video_id
            else:
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
                replaces = earlier.video_id
        key = idempotency_key(context, fingerprint, replaces)
        uploaded = dict(earlier.assets) if earlier is not None else {}
        request, assets = hook.upload_images(request, uploaded=uploaded, idempotency_key=key)
        if assets != uploaded:
            _save(record, Submission(replaces, fingerprint, assets), self.log, "its uploaded photos")
        video_id = self._submit(hook, request, key)
        _save(record, Submission(video_id, fingerprint, assets), self.log, f"HeyGen video {video_id}")
        return video_id, None

    def _submit(self, hook: HeyGenHook, request: VideoGenerateRequest, idempotency_key: str) -> str:
        from heygen_provider.exceptions import HeyGenServerError, HeyGenSubmitUncertainError, HeyGenTransportError

        try:
            created = hook.create_video(request, idempotency_key=idempotency_key)
        except (HeyGenServerError, HeyGenTransportError) as error:
            if isinstance(error, HeyGenTransportError) and not error.request_may_have_reached_server:
                raise
            if hook.settings.api.idempotent_creates:
                # The create carried its idempotency key: a task retry sends the same key, and HeyGen
                # answers with the video it already made instead of rendering a second one.
                raise
            labels = ", ".join(
                f"{name} {value!r}"
                for name, value in (("title", request.title), ("callback_id", request.callback_id))
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


def _names_template_file(value: Any, template_ext: Sequence[str]) -> TypeGuard[str]:
    return isinstance(value, str) and value.endswith(tuple(template_ext))


def _load(record: SubmissionRecord) -> Any:
    from heygen_provider.exceptions import HeyGenError

    try:
        return record.load()
    except Exception as error:
        # Never read as "no earlier submission": that would pay again. This try fails; a retry reads again.
        raise HeyGenError(
            f"Could not read {record.description} to find an earlier submission ({error}); not submitting, "
            "so a retry of this task can check again"
        ) from error


def _save(record: SubmissionRecord, submission: Any, log: Any, what: str) -> None:
    try:
        record.save(submission)
    except Exception:
        log.warning(
            "Could not record %s in %s: a retry of this task relies on the idempotency key alone",
            what,
            record.description,
            exc_info=True,
        )
