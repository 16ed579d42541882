"""Optuna studies over one (dataset, backbone), each trial a nested MLflow run.

- Storage: any SQLAlchemy URL (sqlite by default, PostgreSQL for several workers), with
  heartbeats: a trial whose process died is failed after the grace period and retried once.
- Sampler: seeded TPE. Pruner: median, fed per epoch by optuna-integration's Keras callback.
- The paper's hyperparameters are enqueued as trial 0 (once, whatever the number of workers).
- The study name carries the dataset, backbone, the md5 of the prepared data (as DVC records
  it) and of the tuning config: new data (a planted shortcut included) or a new search space
  starts a new study; the same one resumes.
- Workers stop when the study holds ``n_trials`` trials that finished, were pruned, or are
  running or queued, so N workers together run N trials, not N x n_trials.

Each trial logs params, per-epoch metrics, final validation metrics and its Optuna state
(``COMPLETE``, ``PRUNED``, ``FAIL``) to MLflow, and its weights as the artifact
``checkpoint/model.keras``, from which the study's best model is later logged with
``mlflow.keras``. The objective is the validation macro-F1 (maximised).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import optuna

from medsaliency.config import Hyperparameters, Optimizer, Params, SearchSpace, TuneConfig
from medsaliency.io.artifacts import SplitArrays
from medsaliency.mlops.tracking import STUDY_TAG
from medsaliency.models.metrics import classification_metrics

# Heartbeats and stale-trial retries are marked experimental; they are what resuming relies on.
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

COUNTED_STATES = (
    optuna.trial.TrialState.COMPLETE,
    optuna.trial.TrialState.PRUNED,
    optuna.trial.TrialState.RUNNING,
    optuna.trial.TrialState.WAITING,
)
CHECKPOINT_ARTIFACT = "checkpoint/model.keras"
# The modules (relative to the package) whose code decides what a trial computes.
TRAINING_CODE = (
    "mlops/tuning.py",
    "models/training.py",
    "models/batches.py",
    "models/augmentation.py",
    "models/featureless.py",
    "models/metrics.py",
    "evaluation/blur.py",
)


@dataclass(frozen=True)
class TuningJob:
    """Everything one worker needs: what to tune, on which data, where to record it."""

    dataset: str
    backbone: str
    classes: list[str]
    train: SplitArrays
    val: SplitArrays
    params: Params
    study_name: str
    experiment_id: str
    parent_run_id: str
    tags: dict[str, str]
    data_digest: str


def study_name(dataset: str, backbone: str, data_fingerprint: str, params: Params) -> str:
    """``<dataset>.<backbone>.data-<md5[:8]>.cfg-<md5[:8]>``."""
    return f"{dataset}.{backbone}.data-{data_fingerprint[:8]}.cfg-{config_fingerprint(params, backbone)[:8]}"


def config_fingerprint(params: Params, backbone: str) -> str:
    """md5 of everything that changes what a trial computes: the params, the training code and the
    Keras backend (TensorFlow and JAX train to other weights: each has its own study).

    ``n_trials`` is left out on purpose: asking for more trials extends the same study.
    """
    relevant = {
        "code": code_fingerprint(backbone),
        "keras_backend": params.keras_backend,
        "seed": params.seed,
        "train": params.train.model_dump(),
        "search_space": params.tune.search_space.model_dump(),
        "paper_trial": params.tune.paper_trial.model_dump(),
        "pruner": params.tune.pruner.model_dump(),
        "epochs": params.backbone(backbone).epochs,
        "weights_path": params.backbone(backbone).weights_path,
        "working_size": params.backbone(backbone).working_size,
    }
    return hashlib.md5(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def code_fingerprint(backbone: str) -> str:
    """md5 of the code that defines a trial of ``backbone``: the training modules (:data:`TRAINING_CODE`)
    and that backbone's own architecture code, each as :func:`code_structure`. Changed training code, or an edit of this backbone,
    starts a new study; adding or editing another backbone does not."""
    from medsaliency.models.backbones import architecture_source, code_structure

    package = Path(__file__).parents[1]
    digest = hashlib.md5()
    for relative in TRAINING_CODE:
        digest.update(code_structure((package / relative).read_text()).encode())
    digest.update(architecture_source(backbone).encode())
    return digest.hexdigest()


def open_study(name: str, tune: TuneConfig, seed: int, storage_url: str) -> optuna.Study:
    """Create or load the study; enqueue the paper's trial unless an identical one exists."""
    storage = rdb_storage(storage_url, tune)
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=tune.pruner.n_startup_trials, n_warmup_steps=tune.pruner.n_warmup_steps),
        load_if_exists=True,
    )
    study.enqueue_trial(tune.paper_trial.model_dump(), skip_if_exists=True)
    return study


def rdb_storage(storage_url: str, tune: TuneConfig, attempts: int = 5) -> optuna.storages.RDBStorage:
    """Optuna's database storage with heartbeats. Workers started together on an empty database race to
    create Optuna's schema (PostgreSQL: "duplicate key ... pg_type"); the loser retries, then finds it made."""
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(1, attempts + 1):
        try:
            return optuna.storages.RDBStorage(
                storage_url,
                heartbeat_interval=tune.heartbeat_interval,
                grace_period=tune.grace_period,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1),
            )
        except SQLAlchemyError:
            if attempt == attempts:
                raise
            time.sleep(attempt)
    raise AssertionError("unreachable")


def sample_hyperparameters(trial: optuna.Trial, space: SearchSpace) -> Hyperparameters:
    """One point of the search space (rates on a log scale)."""
    return Hyperparameters(
        optimizer=cast(Optimizer, trial.suggest_categorical("optimizer", space.optimizer)),
        learning_rate=trial.suggest_float("learning_rate", *space.learning_rate, log=True),
        momentum=trial.suggest_float("momentum", *space.momentum),
        weight_decay=trial.suggest_float("weight_decay", *space.weight_decay, log=True),
        batch_size=trial.suggest_categorical("batch_size", space.batch_size),
        dropout=trial.suggest_float("dropout", *space.dropout),
        augmentation=trial.suggest_float("augmentation", *space.augmentation),
    )


def run_worker(job: TuningJob, study: optuna.Study, n_trials: int, progress: Callable[[str], None] = print) -> None:
    """Run trials until the study holds ``n_trials`` counted trials, none queued and none running.

    Waiting for running trials (other workers', or a dead worker's until its grace period
    expires and Optuna re-queues it) means that when a worker returns, the study is settled.
    """
    while True:
        optuna.storages.fail_stale_trials(study)
        _close_orphaned_runs(study)
        queued = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
        if queued or len(study.get_trials(deepcopy=False, states=COUNTED_STATES)) < n_trials:
            study.optimize(lambda trial: run_trial(job, trial), n_trials=1, catch=(Exception,), gc_after_trial=True)
            last = study.trials[-1]
            progress(f"{job.study_name}: trial {last.number} {last.state.name} value={last.value}")
        elif study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            time.sleep(job.params.tune.heartbeat_interval)
        else:
            return


def run_trial(job: TuningJob, trial: optuna.Trial) -> float:
    """Train one model; log it to a nested MLflow run; return the validation macro-F1."""
    import keras
    import mlflow
    from optuna_integration import KerasPruningCallback

    from medsaliency.mlops.tracking import log_prepared_dataset
    from medsaliency.models.backbones import build_classifier
    from medsaliency.models.training import fit_classifier, predict_probabilities

    hp = sample_hyperparameters(trial, job.params.tune.search_space)
    client = mlflow.MlflowClient()
    tags = {**job.tags, STUDY_TAG: job.study_name, "optuna.trial": str(trial.number), "mlflow.parentRunId": job.parent_run_id}
    run = client.create_run(job.experiment_id, run_name=f"trial-{trial.number}", tags=tags)
    run_id = run.info.run_id
    trial.set_user_attr("mlflow_run_id", run_id)
    log_prepared_dataset(run_id, job.dataset, job.data_digest, "training")
    client.log_batch(run_id, params=[mlflow.entities.Param(k, str(v)) for k, v in hp.model_dump().items()])
    try:
        keras.backend.clear_session()
        backbone = job.params.backbone(job.backbone)
        model = build_classifier(
            job.backbone,
            job.train.x.shape[1],
            len(job.classes),
            hp.dropout,
            weights_path=backbone.weights_path,
            working_size=backbone.working_size,
        )
        callbacks = [epoch_logger(client, run_id), KerasPruningCallback(trial, "val_accuracy")]
        seed = job.params.seed + trial.number
        fit_classifier(model, (job.train.x, job.train.y), (job.val.x, job.val.y), hp, backbone.epochs, job.params.train, seed, callbacks)
        metrics = classification_metrics(job.val.y, predict_probabilities(model, job.val.x), job.classes)
        client.log_batch(run_id, metrics=[_metric(f"val_{k}", v) for k, v in metrics.items()])
        _log_checkpoint(client, run_id, model)
    except optuna.TrialPruned:
        client.set_tag(run_id, "optuna.state", "PRUNED")
        client.set_terminated(run_id, "FINISHED")
        raise
    except Exception as exc:
        client.set_tag(run_id, "optuna.state", "FAIL")
        client.set_tag(run_id, "error", f"{type(exc).__name__}: {exc}"[:5000])
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_tag(run_id, "optuna.state", "COMPLETE")
    client.set_terminated(run_id, "FINISHED")
    return metrics["macro_f1"]


def epoch_logger(client, run_id: str):
    """A Keras callback that logs each epoch's ``loss``, ``accuracy`` and ``val_*`` to one MLflow run."""
    import keras

    class EpochLogger(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            values = [_metric(key, value, step=epoch) for key, value in (logs or {}).items() if np.isfinite(value)]
            if values:
                client.log_batch(run_id, metrics=values)

    return EpochLogger()


def _metric(key: str, value: float, step: int = 0):
    from mlflow.entities import Metric

    return Metric(key=key, value=float(value), timestamp=int(time.time() * 1000), step=step)


def _log_checkpoint(client, run_id: str, model) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        client.log_artifact(run_id, str(path), artifact_path=str(Path(CHECKPOINT_ARTIFACT).parent))


def _close_orphaned_runs(study: optuna.Study) -> None:
    """MLflow runs of trials that Optuna failed as stale (their worker died) are marked FAILED too."""
    import mlflow

    client = mlflow.MlflowClient()
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.FAIL,)):
        run_id = trial.user_attrs.get("mlflow_run_id")
        if run_id and client.get_run(run_id).info.status == "RUNNING":
            client.set_tag(run_id, "optuna.state", "FAIL")
            client.set_tag(run_id, "error", "worker died; Optuna failed the stale trial after its grace period")
            client.set_terminated(run_id, "FAILED")
