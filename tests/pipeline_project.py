"""Helpers of the end-to-end tests: tiny DVC and git projects of this repository's pipeline, run for real.

``run`` calls a command with this suite's venv first on PATH; ``bare_env`` is a new shell's environment
(no venv on PATH); ``make_retrain`` runs ``make retrain`` against a folder as the DVC remote.
"""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from conftest import REPO

VENV = Path(sys.executable).parent.parent


def run(command, cwd, check=True):
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}  # mlflow sets it in-process
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", GX_ANALYTICS_ENABLED="false")
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def bare_env() -> dict[str, str]:
    """The environment of a new shell: no venv on PATH, no tracking URI."""
    env = {key: value for key, value in os.environ.items() if key not in {"MLFLOW_TRACKING_URI", "VIRTUAL_ENV"}}
    env["PATH"] = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not p.startswith(str(VENV)))
    return env | {"GX_ANALYTICS_ENABLED": "false"}


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


@dataclass(frozen=True)
class RetrainRun:
    """A ``make retrain`` of the shared project: its output (stdout, then stderr: the log a user reads) and
    the summary it wrote."""

    root: Path
    stdout: str
    summary: str


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


def make_retrain(root: Path) -> RetrainRun:
    """``make retrain`` with this suite's venv as it is, against ``<root>/../remote``."""
    summary = root / "build" / "retrain-summary.md"
    summary.unlink(missing_ok=True)
    result = run(
        ["make", "--no-print-directory", "--assume-old=venv", "retrain", f"VENV={VENV}", f"RETRAIN_REMOTE_URL={root.parent / 'remote'}"],
        root,
    )
    return RetrainRun(root, result.stdout + result.stderr, summary.read_text())


def copied_project(source: RetrainRun, destination: Path) -> Path:
    """A copy of ``source``'s project (git, DVC cache, outputs, stores) and of its DVC remote, beside each other."""
    destination.mkdir(parents=True, exist_ok=True)
    # .dvc/tmp holds DVC's transient locks: a copy taken while another test runs dvc there must not inherit them.
    shutil.copytree(source.root, destination / "project", symlinks=True, ignore=shutil.ignore_patterns("tmp"))
    if (source.root.parent / "remote").is_dir():
        shutil.copytree(source.root.parent / "remote", destination / "remote")
    return destination / "project"


def gate_row(summary: str, model: str) -> list[str]:
    (row,) = [line for line in summary.splitlines() if line.startswith(f"| {model} |")]
    return [cell.strip() for cell in row.strip("|").split("|")]


def store_client(root: Path):
    """An ``MlflowClient`` on a project's own store, for runs *and* the registry (an earlier test in this
    process may have pointed MLflow's global registry URI elsewhere)."""
    import mlflow

    uri = f"sqlite:///{root}/mlruns/mlflow.db"
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
