"""
:class:`HeyGenGenerateVideoOperator`: render one video request; submitting, waiting and re-attaching are
:class:`~heygen_provider.operators.render.HeyGenRenderOperator`'s.

This module is imported when DAG files are parsed, so it imports only what the operator's definition
needs; the hook, the models and HTTP libraries load at execute time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeGuard

from heygen_provider._moved import moved_to
from heygen_provider.links.heygen import XCOM_VIDEO_ID
from heygen_provider.operators.render import (
    DEFAULT_RENDER_TIMEOUT,
    HeyGenRenderOperator,
    PreparedRender,
    default_deferrable,
)
from heygen_provider.vocabulary import DEFAULT_CONN_ID, DEFAULT_POLL_INTERVAL, V3_OPTIONS  # noqa: F401 (DEFAULT_CONN_ID is imported from here)

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

    from heygen_provider.hooks.heygen import HeyGenHook
    from heygen_provider.models import VideoGenerateRequest

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_RENDER_TIMEOUT",
    "XCOM_VIDEO_ID",
    "HeyGenGenerateVideoOperator",
    "default_deferrable",
]
#: The only parameters whose (whole) value may name a ``.json`` Jinja template file.
JINJA_FILE_FIELDS = ("video_inputs", "extra_fields")
#: Names this module still answers to, with a DeprecationWarning naming where they went.
_MOVED = {
    "TEMPLATE_FILE_FIELDS": "heygen_provider.operators.heygen.JINJA_FILE_FIELDS",
    "VideoRequestRender": "heygen_provider.operators.render.PreparedRender",
}


class HeyGenGenerateVideoOperator(HeyGenRenderOperator):
    """
    Render one HeyGen avatar video and (by default) wait for it without holding a worker slot.

    Every request parameter is templated; ``video_inputs`` and ``extra_fields`` may also name a ``.json``
    Jinja template file (their whole value); any other text ending in ``.json`` is just text. A value from an
    upstream task (XCom, a mapped row) is data: sent as it is, never rendered, never a file name.

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

    The connection, waiting and ``cancel_on_kill`` parameters are every render operator's:
    :class:`~heygen_provider.operators.render.HeyGenRenderOperator`.
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
        **kwargs: Any,
    ) -> None:
        # heygen_conn_id, wait_for_completion, deferrable, poll_interval, timeout and cancel_on_kill are the
        # base class's.
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

    def resolve_template_files(self) -> None:
        # Airflow reads, when the DAG is parsed, every template field whose value ends in a template_ext
        # as a file; only these fields may name one (a title "edit package.json" is text).
        for name in JINJA_FILE_FIELDS:
            value = getattr(self, name, None)
            if _names_jinja_file(value, self.template_ext):
                environment = self.get_template_env()
                try:
                    setattr(self, name, environment.loader.get_source(environment, value)[0])  # type: ignore[union-attr]
                except Exception:
                    self.log.exception("Failed to resolve template field %r", name)
        self.prepare_template()

    def _render_jinja_files(
        self, template_fields: list[str], context: Context, jinja_env: jinja2.Environment, seen_oids: set[int]
    ) -> list[str]:
        # A whole video_inputs or extra_fields value ending in .json, written in the DAG file, is a Jinja template
        # file; a value from an upstream task (in seen_oids) is data, whatever it ends in.
        fields = list(template_fields)
        for name in [name for name in fields if name in JINJA_FILE_FIELDS]:
            value = getattr(self, name, None)
            if id(value) not in seen_oids and _names_jinja_file(value, self.template_ext):
                setattr(self, name, self._render(jinja_env.get_template(value), context))
                fields.remove(name)
        return fields

    def render_template(
        self,
        content: Any,
        context: Context,
        jinja_env: jinja2.Environment | None = None,
        seen_oids: set[int] | None = None,
    ) -> Any:
        # Airflow would load any string ending in a template_ext as a file, nested ones included (a scene's
        # input_text, a URL); here a string is always text. Files are handled per field above. A value
        # from an upstream task (in seen_oids) is returned as it is, by Airflow's own rendering.
        if isinstance(content, str) and not (seen_oids and id(content) in seen_oids):
            environment = jinja_env or self.get_template_env()
            return self._render(environment.from_string(content), context)
        return super().render_template(content, context, jinja_env, seen_oids)

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

    def prepare_render(self, hook: HeyGenHook) -> PreparedRender:
        """
        The request, validated once (:meth:`build_request`) and translated once into the create body of the
        connection's API version, which checks what that version can express; still before any call.

        :raises HeyGenRequestValidationError: naming every bad field and its rule; no HTTP call is made.
        """
        from heygen_provider.hooks.assets import create_body

        request = self.build_request()
        body, photos = create_body(hook.settings.api, request)
        return PreparedRender(payload=request.to_payload(), body=body, photos=photos)


def _names_jinja_file(value: Any, template_ext: Sequence[str]) -> TypeGuard[str]:
    return isinstance(value, str) and value.endswith(tuple(template_ext))


__getattr__ = moved_to(__name__, _MOVED)
