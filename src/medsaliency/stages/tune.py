"""``tune@<dataset>-<backbone>``: one Optuna study, trials as nested MLflow runs, the best model logged."""

from __future__ import annotations

import json
import os
from pathlib import Path

from medsaliency.atomic import staged_file
from medsaliency.config import Params, load_params
from medsaliency.errors import DataError
from medsaliency.npz import load_npz
from medsaliency.paths import absolute_sqlite_url, prepared_dir, tune_summary_file, validation_file
from medsaliency.stages import validate
from medsaliency.tuning import STUDY_TAG, SplitArrays, TuningJob, open_study, run_worker, study_name


def run(dataset_name: str, backbone: str, params_path: Path = Path("params.yaml"), root: Path = Path("."), finalize: bool = True) -> int:
    """Run trials until the study is complete; with ``finalize``, log the best model and write the summary."""
    from medsaliency.best_model import log_best_model
    from medsaliency.models.backbones import backbone_spec
    from medsaliency.models.training import configure_runtime

    params = load_params(params_path)
    dataset = params.dataset(dataset_name)
    backbone_spec(backbone)
    n_trials = params.backbone(backbone).n_trials
    require_validated(dataset_name, root)
    splits = {name: load_split(dataset_name, name, root) for name in ("train", "val", "test")}
    configure_runtime(params.train, params.seed)
    job = open_job(params, dataset_name, backbone, dataset.classes, splits, root)
    # Workers that join one study must not share a sampler seed, or they would propose the same points.
    sampler_seed = params.seed if finalize else params.seed + os.getpid()
    study = open_study(job.study_name, params.tune, sampler_seed, absolute_sqlite_url(params.tune.storage, root))
    print(f"{job.study_name}: {len(study.trials)} trial(s) so far, running up to {n_trials}; {device_summary()}")
    run_worker(job, study, n_trials)
    if not finalize:
        return 0
    summary = {"dataset": dataset_name, "backbone": backbone, "study": job.study_name, **log_best_model(study, job.parent_run_id, splits["test"], dataset.classes)}
    target = root / tune_summary_file(dataset_name, backbone)
    with staged_file(target) as staging:
        staging.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    print(f"{job.study_name}: best trial {summary['best_trial']}, val macro-F1 {summary['val_macro_f1']}, test macro-F1 {summary['test'].get('macro_f1')}")
    return 0


def open_job(params: Params, dataset_name: str, backbone: str, classes: list[str], splits: dict[str, SplitArrays], root: Path) -> TuningJob:
    """Tracking set up, the study named, and its parent MLflow run found or created."""
    from medsaliency.tracking import configure_mlflow, ensure_experiment, experiment_name, log_prepared_dataset, prepared_md5, run_tags

    uri = configure_mlflow(params.mlflow, root)
    experiment_id = ensure_experiment(experiment_name(dataset_name, "tuning"), uri)
    data_digest = prepared_md5(dataset_name, root)
    name = study_name(dataset_name, backbone, data_digest, params)
    tags = run_tags(dataset_name, "tune", root, backbone)
    parent_run_id = ensure_parent_run(experiment_id, name, tags)
    log_prepared_dataset(parent_run_id, dataset_name, data_digest, "training")
    return TuningJob(dataset_name, backbone, list(classes), splits["train"], splits["val"], params, name, experiment_id, parent_run_id, tags, data_digest)


def ensure_parent_run(experiment_id: str, name: str, tags: dict[str, str]) -> str:
    """The study's parent run: the existing one (a resumed or joined study) or a new one."""
    import mlflow

    client = mlflow.MlflowClient()
    query = f"tags.`{STUDY_TAG}` = '{name}' and tags.role = 'study'"
    found = client.search_runs([experiment_id], filter_string=query, order_by=["attributes.start_time ASC"], max_results=1)
    if found:
        return found[0].info.run_id
    created = client.create_run(experiment_id, run_name=name, tags={**tags, STUDY_TAG: name, "role": "study"}).info.run_id
    client.set_terminated(created, "FINISHED")
    oldest = client.search_runs([experiment_id], filter_string=query, order_by=["attributes.start_time ASC"], max_results=1)[0].info.run_id
    if oldest != created:  # another worker created one at the same moment: keep the first
        client.delete_run(created)
    return oldest


def require_validated(dataset_name: str, root: Path) -> None:
    """Refuse to train on data whose Great Expectations suite did not pass."""
    if not validate.passed(dataset_name, root):
        raise DataError(f"{root / validation_file(dataset_name)}: the data of {dataset_name!r} has not passed validation; run the validate stage")


def load_split(dataset_name: str, split: str, root: Path) -> SplitArrays:
    arrays = load_npz(root / prepared_dir(dataset_name) / f"{split}.npz")
    return SplitArrays(x=arrays["x"], y=arrays["y"])


def device_summary() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"training on {len(gpus)} GPU(s)" if gpus else "training on the CPU"
