"""MLflow conventions: where the store is, experiment names, the tags every run carries.

Tracking URI: ``MLFLOW_TRACKING_URI`` if set (a remote server works unchanged), else
``mlflow.tracking_uri`` from params (``sqlite:///mlruns/mlflow.db``: relative to the project
root; inside ``dvc exp run --temp`` or a queued experiment, relative to the repository that
DVC names in ``DVC_ROOT``, so experiments log into the same store as the workspace).
Experiments are ``<dataset>/<purpose>`` (``brain_tumor/tuning``). Every run is tagged with the
git commit, the md5 that ``data.dvc`` records, the dataset, backbone and stage, and, when DVC
runs it as an experiment, ``dvc.exp_name``. Runs that train or explain also record the prepared
dataset they read as an MLflow dataset input (:func:`log_prepared_dataset`): name, DVC md5 as
digest, folder as source, so the UI's Dataset column tells the clean data from the shortcut data.

Run lookups live here too: a study's parent run (tag ``optuna.study``, ``role = study``) and the
best model it logged (tag ``best_model_uri``), and a model's explanation run (tag ``maps_md5``).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from medsaliency.config import MlflowConfig
from medsaliency.errors import DataError
from medsaliency.io import yamlfile
from medsaliency.io.paths import absolute_sqlite_url, prepared_dir

UNKNOWN = "unknown"
STUDY_TAG = "optuna.study"
ROLE_TAG = "role"
STUDY_ROLE = "study"
EXPLANATION_ROLE = "explanation"  # a model's explanation run; its method runs have role "method"
BEST_MODEL_URI_TAG = "best_model_uri"
KERAS_BACKEND_TAG = "keras_backend"
MAPS_MD5_TAG = "maps_md5"
EXPERIMENT_NAME_TAG = "dvc.exp_name"
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING_KIND = "custom_model_development"

# mlflow.set_tracking_uri() also writes MLFLOW_TRACKING_URI into os.environ, so the user's own
# setting is read once, at the first configuration in this process, before we change it.
_NOT_READ = object()
_user_uri: object = _NOT_READ


def tracking_uri(config: MlflowConfig, root: Path = Path(".")) -> str:
    """The URI to use; a relative sqlite path is made absolute under ``root``, its folder created."""
    global _user_uri
    if _user_uri is _NOT_READ:
        _user_uri = os.environ.get("MLFLOW_TRACKING_URI")
    return absolute_sqlite_url(str(_user_uri or config.tracking_uri), Path(os.environ.get("DVC_ROOT") or root))


def configure_mlflow(config: MlflowConfig, root: Path = Path(".")) -> str:
    """Point MLflow at the tracking store, with artifacts under the database's folder; return the URI."""
    import mlflow

    uri = tracking_uri(config, root)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if uri.startswith("sqlite:///"):
        _create_store_once(uri)
    return uri


def _create_store_once(uri: str) -> None:
    """Create (migrate) a sqlite store under a file lock: workers starting together would race."""
    import mlflow
    from filelock import FileLock

    with FileLock(uri.removeprefix("sqlite:///") + ".lock"):
        mlflow.MlflowClient().search_experiments(max_results=1)


def experiment_name(dataset: str, purpose: str) -> str:
    return f"{dataset}/{purpose}"


def ensure_experiment(name: str, uri: str) -> str:
    """The experiment's id, created with artifacts next to a sqlite store (``mlruns/artifacts``).

    Tagged ``mlflow.experimentKind = custom_model_development``, the tag MLflow 3 reads for an
    experiment's kind (model training, not GenAI). The 3.17 UI still opens on its GenAI view
    unless the sidebar switch says "Model training" or the URL carries
    ``?workflowType=machine_learning`` (what ``make ui`` prints).

    Workers that start together may both find no experiment and both create it: the one that loses
    (``RESOURCE_ALREADY_EXISTS``) uses the experiment the other made.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    tags = {EXPERIMENT_KIND_TAG: MODEL_TRAINING_KIND}
    existing = mlflow.get_experiment_by_name(name)
    if existing is None:
        artifact_location = None
        if uri.startswith("sqlite:///"):
            folder = Path(uri.removeprefix("sqlite:///")).parent / "artifacts" / name.replace("/", "_")
            artifact_location = folder.resolve().as_uri()
        try:
            return mlflow.create_experiment(name, artifact_location=artifact_location, tags=tags)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            existing = mlflow.get_experiment_by_name(name)
            assert existing is not None, name  # the other creator's
    for key, value in tags.items():
        if existing.tags.get(key) != value:
            mlflow.MlflowClient().set_experiment_tag(existing.experiment_id, key, value)
    return existing.experiment_id


def _study_filter(study: str) -> str:
    return f"tags.`{STUDY_TAG}` = '{study}' and tags.{ROLE_TAG} = '{STUDY_ROLE}'"


def ensure_study_run(experiment_id: str, study: str, tags: dict[str, str]) -> str:
    """The id of the study's parent run: the oldest existing one (a resumed or joined study) or a new one.

    Two workers may create one each at the same moment: both then keep the oldest and the other is deleted.
    """
    import mlflow

    client = mlflow.MlflowClient()

    def oldest() -> str | None:
        found = client.search_runs(
            [experiment_id], filter_string=_study_filter(study), order_by=["attributes.start_time ASC"], max_results=1
        )
        return found[0].info.run_id if found else None

    existing = oldest()
    if existing:
        return existing
    created = client.create_run(experiment_id, run_name=study, tags={**tags, STUDY_TAG: study, ROLE_TAG: STUDY_ROLE}).info.run_id
    client.set_terminated(created, "FINISHED")
    kept = oldest() or created  # found again: ours, or an older one another process created
    if kept != created:
        client.delete_run(created)
    return kept


def best_model_uri(experiment: str, study: str) -> str:
    """The ``best_model_uri`` tag of the study's parent run; a :class:`DataError` when it logged none."""
    import mlflow

    runs = mlflow.search_runs(experiment_names=[experiment], filter_string=_study_filter(study), output_format="list")
    uris = [run.data.tags[BEST_MODEL_URI_TAG] for run in runs if BEST_MODEL_URI_TAG in run.data.tags]
    if not uris:
        raise DataError(f"study {study}: no logged best model in MLflow experiment {experiment!r}; re-run its tune stage")
    return uris[0]


def maps_md5(path: Path) -> str:
    """The md5 of a maps file: the tag that ties it to the explanation run that logged it."""
    return hashlib.md5(path.read_bytes()).hexdigest()


def explanation_run(dataset: str, maps_path: Path) -> str:
    """The id of the newest run in ``<dataset>/explain`` that logged exactly this maps file."""
    import mlflow

    experiment = experiment_name(dataset, "explain")
    query = f"tags.{MAPS_MD5_TAG} = '{maps_md5(maps_path)}' and tags.{ROLE_TAG} = '{EXPLANATION_ROLE}'"
    runs = mlflow.search_runs(
        experiment_names=[experiment], filter_string=query, order_by=["attributes.start_time DESC"], output_format="list"
    )
    if not runs:
        raise DataError(
            f"{maps_path}: no run in MLflow experiment {experiment!r} logged these maps; run `dvc repro -f attribute@{dataset}`"
        )
    return runs[0].info.run_id


def run_tags(
    dataset: str, stage: str, root: Path = Path("."), backbone: str | None = None, keras_backend: str | None = None
) -> dict[str, str]:
    """The tags of every run: ``git_commit``, ``data_md5``, ``dataset``, ``stage`` (and ``backbone``,
    and ``keras_backend`` for the runs that train or run a model)."""
    tags = {"git_commit": git_commit(root), "data_md5": data_md5(root), "dataset": dataset, "stage": stage}
    if backbone is not None:
        tags["backbone"] = backbone
    if keras_backend is not None:
        tags[KERAS_BACKEND_TAG] = keras_backend
    if os.environ.get("DVC_EXP_NAME"):
        tags[EXPERIMENT_NAME_TAG] = os.environ["DVC_EXP_NAME"]
    return tags


def log_prepared_dataset(run_id: str, dataset: str, digest: str, context: str) -> None:
    """Record ``outputs/prepare/<dataset>`` as an MLflow dataset input of the run, in ``context``
    (``training`` or ``test``): name ``<dataset>``, ``digest`` (:func:`prepared_md5`), the folder as source.

    MLflow's store looks the dataset up and inserts it if absent in one transaction, so two processes
    logging a new dataset at the same moment both insert it and the later one fails on the unique key
    (``BAD_REQUEST``). Logged again, it finds the other's row and only links it to the run.
    """
    import mlflow
    from mlflow.entities import Dataset, DatasetInput, InputTag
    from mlflow.exceptions import MlflowException
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    entity = Dataset(name=dataset, digest=digest, source_type="local", source=json.dumps({"uri": prepared_dir(dataset).as_posix()}))
    inputs = [DatasetInput(entity, tags=[InputTag(MLFLOW_DATASET_CONTEXT, context)])]
    client = mlflow.MlflowClient()
    try:
        client.log_inputs(run_id, datasets=inputs)
    except MlflowException as exc:
        if exc.error_code != "BAD_REQUEST":
            raise
        client.log_inputs(run_id, datasets=inputs)  # a genuine bad request fails again and raises


def prepared_md5(dataset: str, root: Path = Path(".")) -> str:
    """The md5 ``dvc.lock`` records for ``outputs/prepare/<dataset>`` (what ``dvc status`` compares);
    outside a DVC run that has one, an md5 of the folder's files (names and bytes)."""
    folder = prepared_dir(dataset).as_posix()
    lock = root / "dvc.lock"
    if lock.is_file():
        stage = (yamlfile.safe_load(lock.read_text()) or {}).get("stages", {}).get(f"prepare@{dataset}", {})
        for out in stage.get("outs", []):
            if out.get("path") == folder and out.get("md5"):
                return str(out["md5"]).removesuffix(".dir")
    digest = hashlib.md5()
    for path in sorted((root / folder).glob("*")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def git_commit(root: Path = Path(".")) -> str:
    """``HEAD``'s hash, ``-dirty`` appended when tracked files differ; ``unknown`` outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return UNKNOWN
    return f"{commit}-dirty" if dirty else commit


def data_md5(root: Path = Path(".")) -> str:
    """The md5 that ``data.dvc`` records for ``data/`` (``unknown`` without the file)."""
    path = root / "data.dvc"
    if not path.is_file():
        return UNKNOWN
    outs = (yamlfile.safe_load(path.read_text()) or {}).get("outs") or [{}]
    return str(outs[0].get("md5", UNKNOWN)).removesuffix(".dir")
