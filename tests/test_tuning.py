"""Tuning, tracking and the registry on a tiny project, against a real MLflow sqlite store and real Optuna storage."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import numpy as np
import optuna
import pytest
import yaml
from conftest import isolate_tracking, mlflow_server

from medsaliency.cli import main
from medsaliency.config import load_params
from medsaliency.io.npz import load_npz
from medsaliency.io.paths import absolute_sqlite_url, registry_file, tune_summary_file
from medsaliency.mlops.registry import load_registered_model

pytestmark = pytest.mark.slow

DATASET = "covid_xray"
PAPER = {
    "optimizer": "sgd",
    "learning_rate": 0.001,
    "momentum": 0.9395,
    "weight_decay": 0.0003,
    "batch_size": 32,
    "dropout": 0.2,
    "augmentation": 0.0,
}


def tune_params(raw: dict, n_trials=2, epochs=2, storage="sqlite:///outputs/optuna.db") -> dict:
    raw["tune"]["backbones"] = {"small_cnn": {"n_trials": n_trials, "epochs": epochs}}
    raw["tune"]["storage"] = storage
    raw["tune"]["heartbeat_interval"] = 1
    raw["tune"]["grace_period"] = 2
    return raw


@pytest.fixture(scope="module")
def validated(phantom_project, tmp_path_factory):
    """The tiny phantom project, prepared and validated (shared, read-only)."""
    isolate_tracking()
    root = tmp_path_factory.mktemp("tuning") / "validated"
    shutil.copytree(phantom_project, root)
    for stage in ("prepare", "validate"):
        assert cli(root, stage, DATASET) == 0
    return root


def cli(root: Path, *args: str) -> int:
    return main(["--root", str(root), "--params", str(root / "params.yaml"), *args])


def project_copy(validated: Path, tmp_path: Path, **tune) -> Path:
    root = tmp_path / "project"
    shutil.copytree(validated, root)
    raw = tune_params(yaml.safe_load((root / "params.yaml").read_text()), **tune)
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return root


def study_of(root: Path) -> optuna.Study:
    params = load_params(root / "params.yaml")
    summaries = optuna.get_all_study_summaries(absolute_sqlite_url(params.tune.storage, root))
    (summary,) = [s for s in summaries if s.study_name.startswith(f"{DATASET}.small_cnn.")]
    return optuna.load_study(study_name=summary.study_name, storage=absolute_sqlite_url(params.tune.storage, root))


def child_runs(root: Path) -> list:
    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlruns' / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=[f"{DATASET}/tuning"], output_format="list")
    return [run for run in runs if "mlflow.parentRunId" in run.data.tags]


@pytest.fixture(scope="module")
def tuned(validated, tmp_path_factory):
    isolate_tracking()
    root = project_copy(validated, tmp_path_factory.mktemp("tuned"))
    assert cli(root, "tune", DATASET, "small_cnn") == 0
    assert cli(root, "register", DATASET) == 0
    return root


def test_study_enqueues_the_paper_trial_and_completes(tuned):
    study = study_of(tuned)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert study.trials[0].params == PAPER
    assert ".data-" in study.study_name and ".cfg-" in study.study_name


def test_every_trial_is_a_nested_mlflow_run_with_the_standard_tags(tuned):
    runs = sorted(child_runs(tuned), key=lambda run: int(run.data.tags["optuna.trial"]))
    assert [run.data.tags["optuna.state"] for run in runs] == ["COMPLETE", "COMPLETE"]
    for run in runs:
        tags = run.data.tags
        assert {"git_commit", "data_md5", "dataset", "backbone", "stage"} <= set(tags)
        assert (tags["dataset"], tags["backbone"], tags["stage"]) == (DATASET, "small_cnn", "tune")
        assert run.data.params["optimizer"] in ("sgd", "adam") and "val_macro_f1" in run.data.metrics
        history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss")
        assert [m.step for m in history] == list(range(len(history))) and len(history) >= 1
    digests = set()
    for run in [
        *runs,
        *mlflow.search_runs(experiment_names=[f"{DATASET}/tuning"], filter_string="tags.role = 'study'", output_format="list"),
    ]:
        (item,) = mlflow.MlflowClient().get_run(run.info.run_id).inputs.dataset_inputs  # the prepared data it trained on
        assert item.dataset.name == DATASET and {tag.key: tag.value for tag in item.tags} == {"mlflow.data.context": "training"}
        digests.add(item.dataset.digest)
    (digest,) = digests
    assert study_of(tuned).study_name.split(".data-")[1].startswith(digest[:8])  # the study is named by the same data digest


def test_best_model_is_logged_with_signature_example_and_test_metrics(tuned):
    summary = json.loads((tuned / tune_summary_file(DATASET, "small_cnn")).read_text())
    assert summary["trials"]["COMPLETE"] == 2 and 0 <= summary["test"]["macro_f1"] <= 1
    parent = mlflow.search_runs(experiment_names=[f"{DATASET}/tuning"], filter_string="tags.role = 'study'", output_format="list")[0]
    assert parent.data.metrics["test_macro_f1"] == pytest.approx(summary["test"]["macro_f1"], abs=1e-6)
    info = mlflow.models.get_model_info(parent.data.tags["best_model_uri"])
    assert info.signature is not None and info.saved_input_example_info is not None
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(parent.info.run_id)}
    assert {"confusion_matrix.png", "classification_report.txt"} <= artifacts


def test_champion_loads_back_and_predicts_exactly_what_was_trained(tuned):
    registry = json.loads((tuned / registry_file(DATASET)).read_text())
    (entry,) = registry["models"]
    assert entry["champion_version"] == "1" and "decision" not in entry and registry["top_k"] == [entry["name"]]
    champion = load_registered_model(entry["name"], "champion")
    parent = mlflow.search_runs(experiment_names=[f"{DATASET}/tuning"], filter_string="tags.role = 'study'", output_format="list")[0]
    trained = mlflow.keras.load_model(parent.data.tags["best_model_uri"])
    x = load_npz(tuned / "outputs" / "prepare" / DATASET / "test.npz")["x"]
    np.testing.assert_array_equal(champion.predict(x, verbose=0), trained.predict(x, verbose=0))


def test_rerunning_tune_and_register_duplicates_nothing(tuned):
    before_runs = len(child_runs(tuned))
    summary = (tuned / tune_summary_file(DATASET, "small_cnn")).read_text()
    assert cli(tuned, "tune", DATASET, "small_cnn") == 0
    assert cli(tuned, "register", DATASET) == 0
    assert len(study_of(tuned).trials) == 2 and len(child_runs(tuned)) == before_runs
    assert (tuned / tune_summary_file(DATASET, "small_cnn")).read_text() == summary
    versions = mlflow.MlflowClient().search_model_versions(f"name = '{DATASET}.small_cnn'")
    assert len(versions) == 1


def test_a_failing_trial_is_failed_in_optuna_and_mlflow_and_the_study_goes_on(validated, tmp_path, monkeypatch):
    import medsaliency.models.training as training

    root = project_copy(validated, tmp_path)
    real_fit, calls = training.fit_classifier, []

    def fit_that_crashes_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("injected: out of memory")
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(training, "fit_classifier", fit_that_crashes_once)
    assert cli(root, "tune", DATASET, "small_cnn") == 0
    assert [t.state.name for t in study_of(root).trials] == ["FAIL", "COMPLETE", "COMPLETE"]
    runs = {int(r.data.tags["optuna.trial"]): r for r in child_runs(root)}
    assert runs[0].info.status == "FAILED" and runs[0].data.tags["optuna.state"] == "FAIL"
    assert "injected: out of memory" in runs[0].data.tags["error"]
    assert all(runs[n].info.status == "FINISHED" for n in (1, 2))


def run_tune_subprocess(root: Path, *extra: str, tracking_uri: str | None = None) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}  # set by mlflow in this process
    if tracking_uri:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    command = ["medsaliency", "--root", str(root), "--params", str(root / "params.yaml"), "tune", DATASET, "small_cnn", *extra]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_killed_study_resumes_without_duplicates(validated, tmp_path):
    root = project_copy(validated, tmp_path, n_trials=3, epochs=6)
    worker = run_tune_subprocess(root)
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            states = [t.state.name for t in study_of(root).trials]
        except (ValueError, KeyError, optuna.exceptions.StorageInternalError):
            states = []
        if states[:1] == ["COMPLETE"] and "RUNNING" in states[1:] and "1" in {r.data.tags["optuna.trial"] for r in child_runs(root)}:
            time.sleep(1.0)  # let trial 1 get into its training
            break
        time.sleep(0.3)
    else:
        worker.kill()
        pytest.fail(f"trial 1 never started: {worker.communicate()[0][-2000:]}")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert cli(root, "tune", DATASET, "small_cnn") == 0
    trials = study_of(root).trials
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == 3 and trials[1].state.name == "FAIL"
    assert len({t.number for t in complete}) == 3
    runs = child_runs(root)
    assert sorted(int(r.data.tags["optuna.trial"]) for r in runs if r.data.tags.get("optuna.state") == "COMPLETE") == sorted(
        t.number for t in complete
    )
    assert {r.info.status for r in runs if r.data.tags["optuna.trial"] == "1"} == {"FAILED"}
    assert cli(root, "register", DATASET) == 0 and cli(root, "register", DATASET) == 0
    assert len(mlflow.MlflowClient().search_model_versions(f"name = '{DATASET}.small_cnn'")) == 1


@pytest.fixture
def postgres_url():
    """A throw-away database on the machine's PostgreSQL (127.0.0.1:5432): fails loudly if it is not there."""
    import uuid

    import psycopg2

    name = f"medsaliency_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(host="127.0.0.1", port=5432, dbname="test", user="postgres")
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


def test_two_workers_on_postgresql_log_every_trial_to_one_mlflow_server(validated, tmp_path, postgres_url):
    """Scale-out: two worker processes join one PostgreSQL-backed study and log to a real MLflow tracking
    server (database backend, artifact root), as on several machines; every trial is in both."""
    root = project_copy(validated, tmp_path, n_trials=4, epochs=2, storage=postgres_url)
    artifacts = tmp_path / "server-artifacts"
    with mlflow_server(f"sqlite:///{tmp_path / 'server.db'}", artifacts) as server:
        workers = [
            run_tune_subprocess(root, "--worker", tracking_uri=server) for _ in range(2)
        ]  # started together: they race to create the schema
        outputs = [worker.communicate(timeout=600)[0] for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0], outputs
        assert all("trial" in output for output in outputs), "each worker ran trials"
        finalize = run_tune_subprocess(root, tracking_uri=server)  # logs the best model through the server
        assert finalize.wait(timeout=600) == 0, finalize.communicate()[0]
        study = optuna.load_study(study_name=study_of_pg(postgres_url), storage=postgres_url)
        complete = [t.number for t in study.trials if t.state.name == "COMPLETE"]
        assert len(complete) == 4 and len(study.trials) == 4
        assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 4, "workers proposed the same point twice"
        client = mlflow.MlflowClient(tracking_uri=server, registry_uri=server)
        runs = client.search_runs([client.get_experiment_by_name(f"{DATASET}/tuning").experiment_id])
        trials = sorted(int(r.data.tags["optuna.trial"]) for r in runs if "mlflow.parentRunId" in r.data.tags)
        assert trials == sorted(complete)
    assert not (root / "mlruns" / "mlflow.db").exists(), "nothing was logged to the local store"
    assert any(path.name == "MLmodel" for path in artifacts.rglob("MLmodel")), "the best model went to the server's artifact root"


def study_of_pg(url: str) -> str:
    (summary,) = optuna.get_all_study_summaries(url)
    return summary.study_name


def test_study_name_depends_on_the_backbones_own_code_and_params_only(tiny_raw, monkeypatch):
    """A new backbone in params or in the registry leaves the other backbones' studies as they were."""
    from medsaliency.config import parse_params
    from medsaliency.mlops.tuning import study_name
    from medsaliency.models import backbones

    before = study_name(DATASET, "small_cnn", "d" * 32, parse_params(tiny_raw))
    tiny_raw["tune"]["backbones"]["vgg16"] = {"n_trials": 20, "epochs": 50}
    assert study_name(DATASET, "small_cnn", "d" * 32, parse_params(tiny_raw)) == before
    monkeypatch.setitem(backbones.BACKBONES, "resnet18", backbones.BackboneSpec("ResNet18", 32, "conv5"))
    assert study_name(DATASET, "small_cnn", "d" * 32, parse_params(tiny_raw)) == before
    monkeypatch.setitem(backbones.BACKBONES, "small_cnn", backbones.BackboneSpec(None, 24, "last_conv"))  # its own spec: new
    assert study_name(DATASET, "small_cnn", "d" * 32, parse_params(tiny_raw)) != before
    monkeypatch.undo()
    tiny_raw["tune"]["backbones"]["small_cnn"]["epochs"] = 3  # its own budget: new
    assert study_name(DATASET, "small_cnn", "d" * 32, parse_params(tiny_raw)) != before
