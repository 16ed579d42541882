"""``tune@<dataset>-<backbone>``: one Optuna study, trials as nested MLflow runs, the best model logged.

Reads the prepared splits and the validation verdict (training refuses data that did not
validate), runs the study to ``n_trials`` (see :mod:`medsaliency.mlops.tuning`), logs the best model
on the study's parent run and writes its :class:`~medsaliency.io.artifacts.TuneSummary`.
"""

from __future__ import annotations

import os
from pathlib import Path

from medsaliency.config import Params, load_params
from medsaliency.errors import DataError
from medsaliency.io.artifacts import SplitArrays, TuneSummary, ValidationVerdict
from medsaliency.io.paths import absolute_sqlite_url, prepared_dir, tune_summary_file, validation_file
from medsaliency.mlops.tuning import TuningJob, open_study, run_worker, study_name


def run(dataset_name: str, backbone: str, params_path: Path = Path("params.yaml"), root: Path = Path("."), finalize: bool = True) -> int:
    """Run trials until the study is complete; with ``finalize``, log the best model and write the summary."""
    from medsaliency.mlops.best_model import log_best_model
    from medsaliency.models.backbones import backbone_spec
    from medsaliency.models.training import configure_runtime, device_summary

    params = load_params(params_path)
    dataset = params.dataset(dataset_name)
    backbone_spec(backbone)
    n_trials = params.backbone(backbone).n_trials
    verdict = root / validation_file(dataset_name)
    if not ValidationVerdict.passed(verdict):
        raise DataError(f"{verdict}: the data of {dataset_name!r} has not passed validation; run the validate stage")
    splits = {name: SplitArrays.read(root / prepared_dir(dataset_name) / f"{name}.npz") for name in ("train", "val", "test")}
    configure_runtime(params.train, params.seed)
    job = open_job(params, dataset_name, backbone, dataset.classes, splits, root)
    # Workers that join one study must not share a sampler seed, or they would propose the same points.
    sampler_seed = params.seed if finalize else params.seed + os.getpid()
    study = open_study(job.study_name, params.tune, sampler_seed, absolute_sqlite_url(params.tune.storage, root))
    print(f"{job.study_name}: {len(study.trials)} trial(s) so far, running up to {n_trials}; {device_summary()}")
    run_worker(job, study, n_trials)
    if not finalize:
        return 0
    best = log_best_model(study, job.parent_run_id, splits["test"], dataset.classes)
    summary = TuneSummary(dataset=dataset_name, backbone=backbone, study=job.study_name, **best)
    summary.write(root / tune_summary_file(dataset_name, backbone))
    scores = f"val macro-F1 {summary.val_macro_f1}, test macro-F1 {summary.test.get('macro_f1')}"
    print(f"{job.study_name}: best trial {summary.best_trial}, {scores}")
    return 0


def open_job(params: Params, dataset_name: str, backbone: str, classes: list[str], splits: dict[str, SplitArrays], root: Path) -> TuningJob:
    """Tracking set up, the study named, and its parent MLflow run found or created."""
    from medsaliency import backends
    from medsaliency.mlops.tracking import (
        configure_mlflow,
        ensure_experiment,
        ensure_study_run,
        experiment_name,
        log_prepared_dataset,
        prepared_md5,
        run_tags,
    )

    uri = configure_mlflow(params.mlflow, root)
    experiment_id = ensure_experiment(experiment_name(dataset_name, "tuning"), uri)
    data_digest = prepared_md5(dataset_name, root)
    name = study_name(dataset_name, backbone, data_digest, params)
    tags = run_tags(dataset_name, "tune", root, backbone, backends.name())
    parent_run_id = ensure_study_run(experiment_id, name, tags)
    log_prepared_dataset(parent_run_id, dataset_name, data_digest, "training")
    return TuningJob(
        dataset_name, backbone, list(classes), splits["train"], splits["val"], params, name, experiment_id, parent_run_id, tags, data_digest
    )
