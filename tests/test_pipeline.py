"""The real ``dvc.yaml`` run by real DVC, and the default data that ``data.dvc`` records."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO

pytestmark = pytest.mark.slow


def run(command, cwd, check=True):
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}  # mlflow sets it in-process
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", GX_ANALYTICS_ENABLED="false")
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def dvc_project(root: Path, params_raw: dict | None = None) -> Path:
    """A DVC repo (no git) holding the repository's pipeline definition and code."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("dvc.yaml", "pipelines", "src"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    (root / "params.yaml").write_text(yaml.safe_dump(params_raw, sort_keys=False) if params_raw else (REPO / "params.yaml").read_text())
    run(["dvc", "init", "--no-scm", "-q"], root)
    run(["dvc", "config", "core.analytics", "false"], root)
    return root


def recorded_md5(dvc_file: Path) -> str:
    return yaml.safe_load(dvc_file.read_text())["outs"][0]["md5"]


def test_default_phantoms_regenerate_exactly_what_data_dvc_records(tmp_path):
    root = dvc_project(tmp_path / "project")
    run(["medsaliency", "phantoms"], root)
    run(["dvc", "add", "-q", "data"], root)
    assert recorded_md5(root / "data.dvc") == recorded_md5(REPO / "data.dvc")


def test_pipeline_runs_through_attribution_and_is_then_up_to_date(tmp_path, tiny_raw):
    root = dvc_project(tmp_path / "project", tiny_raw)
    run(["medsaliency", "phantoms"], root)
    run(["dvc", "add", "-q", "data"], root)
    first = run(["dvc", "repro"], root)
    for stage in ("validate@brain_tumor", "tune@covid_xray-small_cnn", "register@brain_tumor", "attribute@covid_xray", "evaluate@brain_tumor", "report"):
        assert f"Running stage '{stage}'" in first.stdout
    for dataset in ("brain_tumor", "covid_xray"):
        assert json.loads((root / "outputs" / "validate" / dataset / "validation.json").read_text())["success"] is True
        assert (root / "outputs" / "prepare" / dataset / "train.npz").is_file()
        registry = json.loads((root / "outputs" / "register" / dataset / "registry.json").read_text())
        assert registry["top_k"] == [f"{dataset}.small_cnn"] and registry["models"][0]["champion_version"] == "1"
    for dataset in ("brain_tumor", "covid_xray"):
        check_explanation(root, dataset, n_images=3)
        check_evaluation(root, dataset)
    check_report(root)
    lock = (root / "dvc.lock").read_text()
    second = run(["dvc", "repro"], root)
    assert "Running stage" not in second.stdout and (root / "dvc.lock").read_text() == lock
    assert "up to date" in run(["dvc", "status"], root).stdout
    metrics = run(["dvc", "metrics", "show", "--json"], root).stdout
    assert '"successful_expectations"' in metrics and '"macro_f1"' in metrics and '"n_images"' in metrics and '"sanity_ssim"' in metrics
    plots = json.loads(run(["dvc", "plots", "show", "--json"], root).stdout)["data"]
    (sic_plot,) = plots["outputs/plots/brain_tumor/brain_tumor.small_cnn.sic.csv"]
    assert {row["field"] for row in sic_plot["content"]["data"]["values"]} == set(tiny_raw["attribution"]["methods"])
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["tune"]["backbones"]["small_cnn"]["epochs"] = 3
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    stale = {line.strip().rstrip(":") for line in run(["dvc", "status"], root).stdout.splitlines() if line and not line.startswith(("\t", " "))}
    assert stale == {"tune@brain_tumor-small_cnn", "tune@covid_xray-small_cnn", "register@brain_tumor", "register@covid_xray"}


def check_explanation(root: Path, dataset: str, n_images: int) -> None:
    """The attribute stage's maps file and its MLflow run (tags, timings, heatmap grid, maps)."""
    import hashlib

    import mlflow

    from medsaliency.attribution.methods import METHODS
    from medsaliency.npz import load_npz

    path = root / "outputs" / "attribute" / dataset / f"{dataset}.small_cnn.npz"
    arrays = load_npz(path)
    assert arrays["maps"].shape == (len(METHODS), n_images, 32, 32) and arrays["maps"].dtype == "float32"
    assert arrays["methods"].tolist() == list(METHODS) and len(set(arrays["labels"].tolist())) == 3
    assert str(arrays["model_version"]) == "1" and arrays["images"].shape == (n_images, 32, 32, 1)
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{root}/mlruns/mlflow.db")
    experiment = client.get_experiment_by_name(f"{dataset}/explain")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.tags["registered_model_name"] == f"{dataset}.small_cnn" and run.data.tags["registered_model_alias"] == "champion"
    assert run.data.tags["maps_md5"] == hashlib.md5(path.read_bytes()).hexdigest() and run.data.tags["stage"] == "attribute"
    assert {f"seconds_per_image.{method}" for method in METHODS} <= set(run.data.metrics)
    assert run.data.params["guided_ig.x_steps"] == "25" and run.data.params["n_images"] == str(n_images)
    artifacts = {item.path for folder in ("heatmaps", "maps") for item in client.list_artifacts(run.info.run_id, folder)}
    assert artifacts == {"heatmaps/grid_01.png", f"maps/{path.name}"}


def check_evaluation(root: Path, dataset: str) -> None:
    """The evaluate stage's DVC metrics and plots, and its metrics and figures in the explanation run."""
    import mlflow

    from medsaliency.attribution.methods import METHODS

    metrics = json.loads((root / "outputs" / "evaluate" / dataset / "metrics" / f"{dataset}.small_cnn.json").read_text())
    assert set(metrics["sic_auc"]) == set(METHODS) and all(0 <= value <= 1 for value in metrics["sic_auc"].values() if value is not None)
    assert set(metrics["excluded"]) == {"aic", "sic"} and metrics["n_images"] == 3
    assert ("pointing_game" in metrics) == (dataset == "brain_tumor") and metrics["sanity_ssim"]["random"] == 1.0
    curves = (root / "outputs" / "plots" / dataset / f"{dataset}.small_cnn.sic.csv").read_text().splitlines()
    assert curves[0].split(",") == ["information", *METHODS] and len(curves) == 1002
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{root}/mlruns/mlflow.db")
    (run,) = client.search_runs([client.get_experiment_by_name(f"{dataset}/explain").experiment_id])
    assert {f"{kind}_auc.{method}" for kind in ("aic", "sic") for method in METHODS} <= set(run.data.metrics)  # NaN where every image
    assert {"n_images", "excluded.sic.prediction_not_lower", "aic_auc_ci_low.gradcam"} <= set(run.data.metrics)  # was excluded
    figures = {item.path for item in client.list_artifacts(run.info.run_id, "evaluation")}
    assert {"evaluation/aic.png", "evaluation/sic.png", "evaluation/per_image.csv"} <= figures


def check_report(root: Path) -> None:
    """The summary: both datasets' tables in Markdown, a self-contained HTML page, a run in MLflow."""
    import mlflow

    markdown = (root / "outputs" / "report" / "report.md").read_text()
    assert "## brain_tumor" in markdown and "## covid_xray" in markdown and "| Grad-CAM |" in markdown
    assert "pointing game" in markdown.split("## covid_xray")[0] and "pointing game" not in markdown.split("## covid_xray")[1]
    html = (root / "outputs" / "report" / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4 and "<table>" in html
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{root}/mlruns/mlflow.db")
    (run,) = client.search_runs([client.get_experiment_by_name("report").experiment_id])
    assert {item.path for item in client.list_artifacts(run.info.run_id, "report")} >= {"report/report.md", "report/report.html"}


def test_failed_validation_stops_the_pipeline_with_named_failures(tmp_path, tiny_raw):
    tiny_raw["datasets"]["covid_xray"]["raw_side_range"] = [200, 400]  # the tiny chest images are 160 px
    root = dvc_project(tmp_path / "project", tiny_raw)
    run(["medsaliency", "phantoms"], root)
    run(["dvc", "add", "-q", "data"], root)
    result = run(["dvc", "repro", "validate@covid_xray"], root, check=False)
    assert result.returncode != 0
    assert "FAILED expect_column_values_to_be_between on column 'height': offending values [160" in result.stderr
    assert (root / "outputs" / "validate" / "covid_xray" / "data_docs" / "index.html").is_file()
    assert (root / "outputs" / "prepare" / "covid_xray" / "manifest.csv").is_file()
    assert "validate@covid_xray" in run(["dvc", "status"], root).stdout
