"""One MLflow run per (model, method), nested under the model's explanation run.

The attribute stage opens the model's explanation run (tag ``role = explanation``) and, inside it,
one run per saliency method (tags ``mlflow.parentRunId``, ``role = method``, ``method``), named by
the method's label, with the params a comparison groups by (``dataset``, ``model``,
``model_version``, ``method``, ``backend``, ``seed``), the method's own options
(``smoothgrad.nsamples``) and its ``cost/seconds_per_image``. The evaluate stage finds them again
(:func:`method_runs`) and logs each method's measures there (:func:`log_run_metrics`, keys from
:mod:`medsaliency.mlops.tracking_layout`). In MLflow's Chart view each measure is then one chart with a
bar per method, and grouping by ``method`` over several models shows each method's mean and range.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from medsaliency.errors import DataError
from medsaliency.mlops.tracking import EXPLANATION_ROLE, ROLE_TAG, experiment_name
from medsaliency.mlops.tracking_layout import MODEL_KEYS, Metric

METHOD_ROLE = "method"
METHOD_TAG = "method"
PARENT_TAG = "mlflow.parentRunId"  # what MLflow's UI nests runs by
EVALUATED_METRIC = MODEL_KEYS["n_images"]  # logged into an explanation run by the evaluate stage, last


def start_method_runs(
    parent_run_id: str,
    params: dict[str, str],
    options: dict[str, dict[str, str]],
    metrics: dict[str, list[Metric]],
    labels: dict[str, str],
    tags: dict[str, str],
) -> dict[str, str]:
    """Create (and finish) one run per method of ``options`` (method -> its option params) under
    ``parent_run_id``: ``params`` plus ``method`` and the options as params, ``metrics[method]``,
    ``tags`` plus the nesting tags, the run named ``labels[method]``. Returns method -> run id."""
    import mlflow
    from mlflow.entities import Param

    client = mlflow.MlflowClient()
    experiment_id = client.get_run(parent_run_id).info.experiment_id
    runs = {}
    for method, method_options in options.items():
        run_tags = {**tags, PARENT_TAG: parent_run_id, ROLE_TAG: METHOD_ROLE, METHOD_TAG: method}
        run = client.create_run(experiment_id, run_name=labels.get(method, method), tags=run_tags)
        logged = {**params, "method": method, **method_options}
        client.log_batch(
            run.info.run_id,
            metrics=_mlflow_metrics(metrics.get(method, [])),
            params=[Param(key, str(value)) for key, value in logged.items()],
        )
        client.set_terminated(run.info.run_id)
        runs[method] = run.info.run_id
    return runs


def method_runs(parent_run_id: str) -> dict:
    """Method -> the method run (an MLflow ``Run``, metrics included) nested under ``parent_run_id``
    (the newest of each method)."""
    import mlflow

    client = mlflow.MlflowClient()
    experiment_id = client.get_run(parent_run_id).info.experiment_id
    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{PARENT_TAG}` = '{parent_run_id}' and tags.{ROLE_TAG} = '{METHOD_ROLE}'",
        order_by=["attributes.start_time ASC"],
    )
    return {run.data.tags[METHOD_TAG]: run for run in found}


def require_method_runs(parent_run_id: str, methods: Iterable[str]) -> dict[str, str]:
    """Method -> id of :func:`method_runs`, with a :class:`DataError` naming the explanation run and the
    methods it lacks."""
    runs = {method: run.info.run_id for method, run in method_runs(parent_run_id).items()}
    missing = [method for method in methods if method not in runs]
    if missing:
        raise DataError(
            f"MLflow run {parent_run_id} has no nested run for method(s) {', '.join(missing)}: it was logged by an older "
            "attribute stage; run `dvc repro -f attribute@<dataset>` to explain the model again"
        )
    return runs


def log_run_metrics(run_id: str, metrics: Iterable[Metric]) -> None:
    """Log ``metrics`` (with their steps) into ``run_id`` in batches of MLflow's limit, NaN included."""
    import mlflow

    client = mlflow.MlflowClient()
    batch = _mlflow_metrics(metrics)
    for start in range(0, len(batch), 1000):
        client.log_batch(run_id, metrics=batch[start : start + 1000])


def evaluated_explanation_runs(dataset: str) -> list:
    """The models' runs of ``<dataset>/explain`` that the evaluate stage completed (they carry
    :data:`EVALUATED_METRIC`), newest first."""
    import mlflow

    return mlflow.search_runs(
        experiment_names=[experiment_name(dataset, "explain")],
        filter_string=f"metrics.`{EVALUATED_METRIC}` >= 0 and tags.{ROLE_TAG} = '{EXPLANATION_ROLE}'",
        order_by=["attributes.start_time DESC"],
        output_format="list",
    )


def _mlflow_metrics(metrics: Iterable[Metric]) -> list:
    """``metrics`` as MLflow metric entities, stamped now."""
    from mlflow.entities import Metric as MlflowMetric

    now = int(time.time() * 1000)
    return [MlflowMetric(m.key, float(m.value), now, m.step) for m in metrics]
