"""The default data that ``data.dvc`` records, and a failed validation stopping the real DVC pipeline."""

import subprocess

import pytest
from conftest import REPO
from pipeline_project import VENV, bare_env, dvc_project, recorded_md5, run

pytestmark = pytest.mark.slow


def test_default_phantoms_regenerate_exactly_what_data_dvc_records(tmp_path):
    root = dvc_project(tmp_path / "project")
    run(["medsaliency", "phantoms"], root)
    run(["dvc", "add", "-q", "data"], root)
    assert recorded_md5(root / "data.dvc") == recorded_md5(REPO / "data.dvc")


def test_failed_validation_stops_the_pipeline_with_named_failures(tmp_path, tiny_raw):
    tiny_raw["datasets"]["covid_xray"]["raw_side_range"] = [200, 400]  # the tiny chest images are 160 px
    root = dvc_project(tmp_path / "project", tiny_raw)
    run(["medsaliency", "phantoms"], root)
    run(["dvc", "add", "-q", "data"], root)
    # As docs/data.md says to run DVC by hand: in a shell whose PATH lacks the venv until it is activated
    # (the stages run `python pipelines/<stage>.py`, the python on PATH).
    activated = f"source {VENV}/bin/activate && dvc repro validate@covid_xray"
    result = subprocess.run(["bash", "-c", activated], cwd=root, env=bare_env(), capture_output=True, text=True)
    assert "Running stage 'prepare@covid_xray'" in result.stdout, result.stderr
    assert result.returncode != 0
    assert "FAILED expect_column_values_to_be_between on column 'height': offending values [160" in result.stderr
    assert (root / "outputs" / "validate" / "covid_xray" / "data_docs" / "index.html").is_file()
    assert (root / "outputs" / "prepare" / "covid_xray" / "manifest.csv").is_file()
    assert "validate@covid_xray" in run(["dvc", "status"], root).stdout
