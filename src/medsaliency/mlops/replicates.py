"""Replicates in MLflow: one run per retrained model and a registered version that no alias can take.

Each replicate of an explained model ``<model>`` gets a run in the experiment ``<dataset>/replicates``
with its seed and the champion's hyperparameters as params (the UI groups and colours runs by
``seed``), its held-out test scores, every measure's mean per method (``<measure>.<method>``) and the
model itself; the model is registered as a version of ``<model>.replicate`` tagged
``never_promote`` (:class:`~medsaliency.mlops.registry.ModelRegistry` refuses it any alias), so
it can be loaded by URI on any Dask worker and can never replace the champion. Every run carries the
training gate's verdict as the tag ``gate`` (``admitted``, ``rejected``); a rejected replicate's run
holds its scores only (no model, no version).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from medsaliency.config import Hyperparameters, Params

if TYPE_CHECKING:
    from mlflow import ActiveRun

EXPERIMENT_PURPOSE = "replicates"
REPLICATE_SUFFIX = "replicate"
SEED_PARAM = "seed"
GATE_TAG, ADMITTED, REJECTED = "gate", "admitted", "rejected"  # the training gate's verdict on each replicate run


@dataclass(frozen=True)
class ReplicateVersion:
    """Where a replicate landed: its MLflow ``run_id``, registered ``name`` and ``version``, and the ``uri`` workers load."""

    run_id: str
    name: str
    version: str

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def log_replicate(
    dataset: str,
    model_name: str,
    backbone: str,
    model,
    hp: Hyperparameters,
    seed: int,
    test: dict[str, float],
    example: np.ndarray,
    params: Params,
    root: Path,
) -> ReplicateVersion:
    """The replicate's run (seed, hyperparameters, ``test_*`` scores, the prepared dataset it was trained on
    as a ``training`` input, the model) and its registered version."""
    from medsaliency.mlops.best_model import log_keras_model
    from medsaliency.mlops.registry import NEVER_PROMOTE_TAG, ModelRegistry

    with _replicate_run(dataset, model_name, backbone, hp, seed, test, params, root, ADMITTED) as (run, tags):
        info = log_keras_model(model, example)
    name = f"{model_name}.{REPLICATE_SUFFIX}"
    description = f"{model_name}'s configuration trained again with other seeds (replicates of the method comparison); never promoted"
    version = ModelRegistry().register(name, info.model_uri, {**tags, SEED_PARAM: str(seed), NEVER_PROMOTE_TAG: "true"}, description)
    return ReplicateVersion(run.info.run_id, name, version)


def log_rejected(
    dataset: str, model_name: str, backbone: str, hp: Hyperparameters, seed: int, scores: dict[str, float], params: Params, root: Path
) -> str:
    """The run of a replicate the training gate rejected (tag ``gate`` = ``rejected``; seed, hyperparameters,
    scores; no model, no registered version); returns its run id."""
    with _replicate_run(dataset, model_name, backbone, hp, seed, scores, params, root, REJECTED) as (run, _):
        return run.info.run_id


@contextmanager
def _replicate_run(
    dataset: str,
    model_name: str,
    backbone: str,
    hp: Hyperparameters,
    seed: int,
    scores: dict[str, float],
    params: Params,
    root: Path,
    gate: str,
) -> Iterator[tuple[ActiveRun, dict[str, str]]]:
    """A started run of ``<dataset>/replicates`` with the replicate's seed, hyperparameters, scores (``test_*``;
    ``val_macro_f1`` as it is), training input and the gate's verdict as a tag; yields it and its tags."""
    import mlflow

    from medsaliency.mlops.tracking import ensure_experiment, experiment_name, log_prepared_dataset, prepared_md5, run_tags

    experiment = ensure_experiment(experiment_name(dataset, EXPERIMENT_PURPOSE), mlflow.get_tracking_uri())
    tags = {**run_tags(dataset, EXPERIMENT_PURPOSE, root, backbone, params.keras_backend), "replicate_of": model_name}
    with mlflow.start_run(experiment_id=experiment, run_name=f"{model_name} seed {seed}", tags={**tags, GATE_TAG: gate}) as run:
        mlflow.log_params({SEED_PARAM: seed, **{f"hp.{key}": value for key, value in hp.model_dump().items()}})
        mlflow.log_metrics({key if key.startswith("val_") else f"test_{key}": value for key, value in scores.items()})
        log_prepared_dataset(run.info.run_id, dataset, prepared_md5(dataset, root), "training")
        yield run, tags


def log_replicate_measures(run_id: str, metrics: dict[str, float]) -> None:
    """The replicate's evaluation (flat ``<measure>.<method>`` metrics, finite ones) into its run."""
    import mlflow

    with mlflow.start_run(run_id=run_id):
        mlflow.log_metrics({key: float(value) for key, value in metrics.items() if np.isfinite(value)})
