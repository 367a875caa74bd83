"""
:class:`HeyGenTemplateVideoOperator`: render a HeyGen template with one row's variables.

Before any paid call it reads the template (``GET /v3/templates/{template_id}``, free) and checks the
row's variables against the template's: every missing, unknown or mistyped variable is named in one
:class:`~heygen_provider.exceptions.HeyGenTemplateVariablesError`. Submitting, waiting, re-attaching on
retry and the idempotency key are :class:`~heygen_provider.operators.render.HeyGenRenderOperator`'s, the
same as the generate operator's.

This module is imported when DAG files are parsed, so it imports only what the operator's definition
needs; the hook, the models and HTTP libraries load at execute time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from heygen_provider._moved import moved_to
from heygen_provider.exceptions import HeyGenRequestValidationError, HeyGenTemplateVariablesError
from heygen_provider.operators.render import HeyGenRenderOperator, PreparedRender

if TYPE_CHECKING:
    from heygen_provider.hooks.heygen import HeyGenHook

#: Options of ``POST /v3/templates/{template_id}`` besides ``variables`` (also this operator's parameters).
TEMPLATE_OPTIONS = ("title", "caption", "callback_id", "callback_url", "dimension", "folder_id", "scene_ids")


class HeyGenTemplateVideoOperator(HeyGenRenderOperator):
    """
    Render one video from a HeyGen template (v3), and (by default) wait for it without holding a worker.

    Every parameter is templated, so under ``.partial(...).expand(variables=rows)`` each mapped task
    renders one row.

    :param template_id: the template, as HeyGen's web app or ``GET /v3/templates`` names it.
    :param variables: the row: variable name to a plain value (text for a text variable, an ``https`` URL
        for an image, video or audio one, an id for a character or a voice) or to the variable in
        HeyGen's own shape ``{"type": ..., "properties": {...}}``. JSON text of it is read too.
    :param require_all_variables: a variable the row leaves out is an error (it would render the
        template's default, usually a placeholder); ``False`` lets HeyGen use the default.
    :param title: the video's title in HeyGen's web app.
    :param caption: burn captions into the video.
    :param callback_id: your id for this video, echoed back in webhooks.
    :param callback_url: a URL HeyGen calls when the render ends.
    :param dimension: ``{"width": ..., "height": ...}``, matching the template's aspect ratio.
    :param folder_id: the HeyGen folder for the video.
    :param scene_ids: the template's scenes to render, in order (repeats allowed); default all.
    :param extra_fields: top-level request fields the provider does not know yet, sent verbatim.

    The connection (a v3 one), waiting and ``cancel_on_kill`` parameters are every render operator's:
    :class:`~heygen_provider.operators.render.HeyGenRenderOperator`.
    """

    template_fields: Sequence[str] = (
        "template_id",
        "variables",
        *TEMPLATE_OPTIONS,
        "extra_fields",
        "heygen_conn_id",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"variables": "json", "extra_fields": "json"}

    def __init__(
        self,
        *,
        template_id: str,
        variables: Mapping[str, Any] | str,
        require_all_variables: bool = True,
        title: str | None = None,
        caption: bool | None = None,
        callback_id: str | None = None,
        callback_url: str | None = None,
        dimension: dict[str, int] | str | None = None,
        folder_id: str | None = None,
        scene_ids: list[str] | str | None = None,
        extra_fields: dict[str, Any] | str | None = None,
        **kwargs: Any,
    ) -> None:
        # heygen_conn_id, wait_for_completion, deferrable, poll_interval, timeout and cancel_on_kill are the
        # base class's.
        super().__init__(**kwargs)
        self.template_id = template_id
        self.variables = variables
        self.require_all_variables = require_all_variables
        self.title = title
        self.caption = caption
        self.callback_id = callback_id
        self.callback_url = callback_url
        self.dimension = dimension
        self.folder_id = folder_id
        self.scene_ids = scene_ids
        self.extra_fields = extra_fields

    def prepare_render(self, hook: HeyGenHook) -> PreparedRender:
        """
        Read the template and check the row against it, once; the body of the generate call.

        :raises HeyGenTemplateVariablesError: naming every missing, unknown or mistyped variable.
        :raises HeyGenRequestValidationError: for another bad parameter.
        """
        from heygen_provider.models.template import check_template_row, parse_template_id

        template_id = parse_template_id(self.template_id)
        row = check_template_row(
            hook.get_template(template_id),
            variables=self.variables,
            dimension=self.dimension,
            scene_ids=self.scene_ids,
            extra_fields=self.extra_fields,
            require_all=self.require_all_variables,
        )
        if row.variable_problems:
            raise HeyGenTemplateVariablesError(template_id, row.all_problems)
        if row.problems:
            raise HeyGenRequestValidationError(row.problems)
        body: dict[str, Any] = {
            **row.extra_fields,
            "variables": row.variables,
            "title": self.title,
            "caption": self.caption,
            "callback_id": self.callback_id,
            "callback_url": self.callback_url,
            "dimension": row.dimension,
            "folder_id": self.folder_id,
            "scene_ids": row.scene_ids,
        }
        body = {name: value for name, value in body.items() if value is not None}
        # Template media are URLs or asset ids already: nothing to upload.
        return PreparedRender(payload={"template_id": template_id, **body}, body=body, template_id=template_id)


__getattr__ = moved_to(__name__, {"TemplateRender": "heygen_provider.operators.render.PreparedRender"})
