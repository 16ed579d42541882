"""``make retrain``: the CI retraining workflow's steps, rehearsed against a folder as the DVC remote."""

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from test_pipeline import run

pytestmark = pytest.mark.slow

VENV = Path(sys.executable).parent.parent
MODEL = "covid_xray.small_cnn"


def one_dataset(raw: dict) -> dict:
    """The tiny params on covid_xray alone, with two attribution methods: one retraining in about a minute."""
    raw["datasets"] = {"covid_xray": raw["datasets"]["covid_xray"]}
    raw["attribution"]["methods"] = ["gradcam", "random"]
    raw["evaluation"]["sanity_methods"] = ["gradcam"]
    return raw


def git_project(root: Path, raw: dict) -> Path:
    """A git + DVC repository with the pipeline, the Makefile and the tiny phantoms committed."""
    root.mkdir(parents=True)
    for name in ("dvc.yaml", "pipelines", "src", "Makefile", "requirements.lock", "pyproject.toml", ".gitignore"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    run(["git", "init", "-q"], root)
    run(["git", "config", "user.email", "test@example.com"], root)
    run(["git", "config", "user.name", "test"], root)
    run(["dvc", "init", "-q"], root)
    run(["dvc", "config", "core.analytics", "false"], root)
    run(["medsaliency", "phantoms"], root)
    run(["dvc", "add", "-q", "data"], root)
    commit(root, "data and pipeline")
    return root


def commit(root: Path, message: str) -> None:
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", message], root)


def make_retrain(root: Path, remote: Path) -> str:
    """``make retrain`` with this suite's environment; returns the summary it wrote."""
    summary = root / "build" / "retrain-summary.md"
    summary.unlink(missing_ok=True)
    run(["make", "--no-print-directory", "--assume-old=venv", "retrain", f"VENV={VENV}", f"RETRAIN_REMOTE_URL={remote}"], root)  # this suite's venv, as it is
    return summary.read_text()


def gate_row(summary: str) -> list[str]:
    (row,) = [line for line in summary.splitlines() if line.startswith(f"| {MODEL} |")]
    return [cell.strip() for cell in row.strip("|").split("|")]


def test_make_retrain_promotes_the_first_champion_then_keeps_it_against_a_challenger_that_is_not_better(tmp_path, tiny_raw):
    import mlflow

    root, remote = git_project(tmp_path / "project", one_dataset(tiny_raw)), tmp_path / "remote"

    first = make_retrain(root, remote)
    assert gate_row(first) == [MODEL, "none", "v1", "promoted", "no champion yet", "v1"]
    assert "1 of 1 champion(s) moved" in first and "### SIC AUC" in first and "| Grad-CAM |" in first
    assert "in sync" in run(["dvc", "status", "--cloud", "--remote", "rehearsal"], root).stdout
    commit(root, "retrained")  # as the workflow does: dvc.lock and the metrics files

    shutil.rmtree(root / "data")
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["phantoms"]["seed"] = 2025  # other images: new data
    params["registry"]["min_improvement"] = 1.0  # no challenger can beat the champion by that much
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["medsaliency", "phantoms"], root)
    run(["dvc", "add", "-q", "data"], root)
    commit(root, "new data")

    second = make_retrain(root, remote)
    model, before, challenger, decision, reason, after = gate_row(second)
    assert (before, challenger, decision, after) == ("v1", "v2", "kept", "v1") and "does not beat" in reason
    assert "0 of 1 champion(s) moved" in second
    diff = second.split("## Metrics against the baseline")[1].split("## AUCs")[0]
    assert "outputs/tune/covid_xray/small_cnn.json" in diff and "| study " in diff  # a new study: new data
    assert "in sync" in run(["dvc", "status", "--cloud", "--remote", "rehearsal"], root).stdout
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{root}/mlruns/mlflow.db")
    assert client.get_model_version_by_alias(MODEL, "champion").version == "1"
    assert client.get_model_version_by_alias(MODEL, "challenger").version == "2"
