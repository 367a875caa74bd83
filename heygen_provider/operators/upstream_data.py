"""
Values from upstream tasks are data, never Jinja templates: :class:`UpstreamDataMixin`, used by every operator
and sensor of the provider.

Airflow renders a templated field's value unless it came from XCom: an ``XComArg`` (nested ones included)
or a mapped task group's argument resolves to its value as it is, and ``expand(field=upstream.output)``
marks the values it resolved (``seen_oids``) so they are not rendered. ``expand_kwargs(upstream.output)``
does not mark its rows' values (Airflow 3.1 to 3.3): a row title ``{{ conn.heygen_default.password }}``
would be rendered into the API key. The mixin marks them too, so every value a row brings is passed on
as it is, while what the DAG file wrote (``partial()``, ``default_args``, a literal row) stays a template.

This module is imported when DAG files are parsed: it imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

#: ``EXPAND_INPUT_TYPE`` of the input ``expand_kwargs()`` makes (Airflow's ``ListOfDictsExpandInput``).
_ROWS_INPUT_TYPE = "list-of-dicts"


class UpstreamDataMixin:
    """
    Jinja rendering that leaves every value from an upstream task as it is (see the module's text).

    Mixed in before ``BaseOperator`` (or ``BaseSensorOperator``); an operator that renders more than
    Airflow does must skip the values in ``seen_oids`` too.
    """

    def _do_render_template_fields(
        self,
        parent: Any,
        template_fields: Iterable[str],
        context: Context,
        jinja_env: jinja2.Environment,
        seen_oids: set[int],
    ) -> None:
        # Airflow's per-field rendering step, on the task being run (the one it calls on mapped tasks too):
        # ``seen_oids`` holds the values Airflow itself resolved from XCom; the rows of expand_kwargs join.
        fields = list(template_fields)
        if parent is self:
            seen_oids = seen_oids | upstream_row_value_ids(self, fields, context)
            fields = self._render_jinja_files(fields, context, jinja_env, seen_oids)
        super()._do_render_template_fields(parent, fields, context, jinja_env, seen_oids)  # type: ignore[misc]

    def _render_jinja_files(
        self, template_fields: list[str], context: Context, jinja_env: jinja2.Environment, seen_oids: set[int]
    ) -> list[str]:
        """
        Render the fields whose value names a Jinja template file; return the fields left to render. None here.

        :param template_fields: the fields to render.
        :param context: the task's context.
        :param jinja_env: the environment that loads and renders the files.
        :param seen_oids: ids of the values from upstream tasks: never a file name.
        """
        return template_fields


def upstream_row_value_ids(task: Any, template_fields: Iterable[str], context: Mapping[str, Any]) -> set[int]:
    """
    The ids of ``task``'s field values that an ``expand_kwargs()`` row from an upstream task gave it.

    A value equal to what the DAG file wrote for the field (in ``partial()`` or ``default_args``) is the
    DAG file's: it stays a template. Empty when ``task`` is not a mapped task's, or its rows are written
    in the DAG file.

    :param task: the operator about to be rendered (unmapped by Airflow from its mapped task).
    :param template_fields: the fields to render.
    :param context: the task's context (its task instance gives the map index).
    """
    dag = task.dag if task.has_dag() else None
    mapped = dag.task_dict.get(task.task_id) if dag is not None else None
    if mapped is None or mapped is task or not getattr(mapped, "is_mapped", False):
        return set()
    rows = getattr(mapped, "expand_input", None)
    if getattr(rows, "EXPAND_INPUT_TYPE", None) != _ROWS_INPUT_TYPE:
        # expand(): Airflow itself marks the values it resolved from XCom.
        return set()
    if isinstance(rows.value, (list, tuple)):  # type: ignore[union-attr]
        row = rows.value[context["ti"].map_index]  # type: ignore[union-attr]
        if isinstance(row, Mapping):
            # A row written in the DAG file is a template, as everything written there is.
            return set()
    written = {**(getattr(dag, "default_args", None) or {}), **mapped.partial_kwargs}
    ids = set()
    for name in template_fields:
        value = getattr(task, name, None)
        if name in written and _same(value, written[name]):
            continue
        ids.add(id(value))
    return ids


def _same(value: Any, written: Any) -> bool:
    # Text equal to what the DAG file wrote renders the DAG file's template, not the row's data.
    return value is written or (isinstance(value, str) and isinstance(written, str) and value == written)
