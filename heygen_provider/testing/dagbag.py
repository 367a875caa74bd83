"""Loading DAG files for tests and the demo, wherever this Airflow keeps its DagBag."""

from __future__ import annotations

from typing import Any


def load_dag_bag(dag_folder: str) -> Any:
    """
    Parse the DAG files in ``dag_folder``.

    :param dag_folder: a folder of DAG files; it must also be the configured dags folder for
        ``dag.test()`` to run them. It is put on ``sys.path``, as Airflow's dag-processor and task
        runner do with a DAG bundle, so DAG files can import the modules beside them.
    """
    import sys

    if dag_folder not in sys.path:
        sys.path.append(dag_folder)
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1 and 3.2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef,attr-defined,unused-ignore]
    return DagBag(dag_folder=dag_folder)
