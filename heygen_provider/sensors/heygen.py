"""
:class:`HeyGenVideoSensor`: wait for a video submitted elsewhere, e.g. by
``HeyGenGenerateVideoOperator(wait_for_completion=False)``.

``poke`` and ``reschedule`` modes ask HeyGen once per poke; ``deferrable=True`` hands the wait to the
same :class:`~heygen_provider.triggers.heygen.HeyGenVideoStatusTrigger` the operator uses.

This module is imported when DAG files are parsed, so it imports only what the sensor's definition
needs; the hook, the models and the trigger load when it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from heygen_provider._checks import positive_seconds
from heygen_provider._compat import AirflowSensorTimeout, AirflowSkipException
from heygen_provider.exceptions import HeyGenRenderError, HeyGenRenderTimeoutError, HeyGenTransientError
from heygen_provider.operators.heygen import default_deferrable
from heygen_provider.operators.upstream_data import UpstreamDataMixin
from heygen_provider.vocabulary import DEFAULT_CONN_ID, DEFAULT_WAIT_TIMEOUT

if TYPE_CHECKING:
    from airflow.sdk import Context

    from heygen_provider.models.event import VideoEvent
    from heygen_provider.triggers.heygen import VideoUrlChecks


class HeyGenVideoSensor(UpstreamDataMixin, BaseSensorOperator):
    """
    Succeed when a HeyGen render has completed; fail (or skip, with ``soft_fail``) when it failed, was
    cancelled or did not finish within ``timeout``.

    The result pushed to XCom is the operator's: ``video_id``, ``status``, ``video_url``,
    ``thumbnail_url``, ``gif_url``, ``caption_url``, ``duration``, ``callback_id``, ...

    :param video_id: the HeyGen video id (templated), e.g.
        ``"{{ ti.xcom_pull(task_ids='submit', key='video_id') }}"``.
    :param heygen_conn_id: the ``heygen`` connection.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    """

    template_fields: Sequence[str] = ("video_id", "heygen_conn_id")

    def __init__(
        self,
        *,
        video_id: str,
        heygen_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs["poke_interval"] = positive_seconds("poke_interval", kwargs.get("poke_interval", 30.0))
        kwargs.setdefault("timeout", DEFAULT_WAIT_TIMEOUT.total_seconds())
        super().__init__(**kwargs)
        self.video_id = video_id
        self.heygen_conn_id = heygen_conn_id
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        # Counted per operator instance: poke mode keeps it across pokes; reschedule mode starts again.
        # Made at the first poke: the trigger module is too heavy to import while a DAG file is parsed.
        self._video_url_checks: VideoUrlChecks | None = None

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        from heygen_provider.triggers.heygen import status_trigger

        # Ask once first: a video that is already done needs no trigger.
        if (done := self.poke(context)) is not False:
            return done.xcom_value if isinstance(done, PokeReturnValue) else None
        self.defer(
            trigger=status_trigger(
                video_id=self.video_id,
                heygen_conn_id=self.heygen_conn_id,
                poll_interval=self.poke_interval,
                timeout=self.timeout,
                execution_timeout=self.execution_timeout,
                context=context,
            ),
            method_name="execute_complete",
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        from heygen_provider.hooks.heygen import HeyGenHook
        from heygen_provider.models.event import VideoEvent
        from heygen_provider.triggers.heygen import VideoUrlChecks

        if self._video_url_checks is None:
            self._video_url_checks = VideoUrlChecks(self.video_id)
        try:
            status = HeyGenHook(self.heygen_conn_id).get_video_status(self.video_id)
        except HeyGenTransientError as error:
            self.log.warning("HeyGen video %s: transient error, poking again later: %s", self.video_id, error)
            return False
        self.log.info("HeyGen video %s is %s", self.video_id, status.service_status)
        if (no_url := self._video_url_checks.error_after(status)) is not None:
            raise no_url
        if status.awaiting_video_url:
            self.log.warning("HeyGen video %s is completed but has no video_url yet; asking again", self.video_id)
        if not status.is_terminal:
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._result(VideoEvent.from_status(status)))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """
        Resume after the trigger's event. Idempotent: events are delivered at least once.

        Raises what the same fault raises in ``poke`` mode, so an ``except`` clause works in every mode.
        """
        from heygen_provider.models.event import VideoEvent

        return self._result(VideoEvent.from_payload(event))

    def _result(self, event: VideoEvent) -> dict[str, Any]:
        try:
            return event.result_or_raise()
        except HeyGenRenderError as error:
            if self.soft_fail:
                raise AirflowSkipException(f"Skipping due to soft_fail: {error}") from error
            if isinstance(error, HeyGenRenderTimeoutError):
                raise AirflowSensorTimeout(str(error)) from error
            raise
