"""``make shortcut``: the planted-shortcut experiment as a real ``dvc exp run --temp`` beside the clean run."""

import pytest
from pipeline_project import VENV, RetrainRun, commit, copied_project, run, store_client

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shortcut_run(first_run, tmp_path_factory) -> RetrainRun:
    """``make shortcut`` for covid_xray only: a DVC experiment in a temporary copy, logging into the project's store."""
    root = copied_project(first_run, tmp_path_factory.mktemp("shortcut"))
    commit(root, "retrained")
    result = run(
        ["make", "--no-print-directory", "--assume-old=venv", "shortcut", f"VENV={VENV}", "SHORTCUT_TARGETS=evaluate@covid_xray"], root
    )
    return RetrainRun(root, result.stdout, (root / "outputs" / "shortcut" / "comparison.md").read_text())


def test_shortcut_experiment_sits_beside_the_clean_run_with_its_own_data_and_models(shortcut_run):

    root = shortcut_run.root
    changed = [line[3:] for line in run(["git", "status", "--porcelain"], root).stdout.splitlines()]
    assert changed in ([], ["docs/shortcut.md"]) and "up to date" in run(["dvc", "status"], root).stdout  # workspace kept
    assert "shortcut" in run(["dvc", "exp", "list", "--name-only"], root).stdout
    client = store_client(root)
    experiment = client.get_experiment_by_name("covid_xray/explain")
    runs = {
        r.data.tags["registered_model_name"]: r
        for r in client.search_runs([experiment.experiment_id], "tags.role = 'explanation'", order_by=["attributes.start_time ASC"])
    }
    clean, planted = (
        client.get_run(runs["covid_xray.small_cnn"].info.run_id),
        client.get_run(runs["covid_xray.small_cnn.shortcut"].info.run_id),
    )
    assert planted.data.tags["dvc.exp_name"] == "shortcut" and "dvc.exp_name" not in clean.data.tags
    assert planted.inputs.dataset_inputs[0].dataset.digest != clean.inputs.dataset_inputs[0].dataset.digest
    assert planted.data.metrics["shortcut/planted"] == 1.0 and clean.data.metrics["shortcut/planted"] == 0.0
    assert str(client.get_model_version_by_alias("covid_xray.small_cnn.shortcut", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("covid_xray.small_cnn", "champion").version) == "1"  # the clean champion is untouched
    comparison = shortcut_run.summary
    assert "`covid_xray.small_cnn.shortcut` v1" in comparison and "`covid_xray.small_cnn` v1" in comparison
    assert "share on marker, shortcut" in comparison and "| Random |" in comparison and "marker pixels in the top" in comparison
    page = (root / "docs" / "shortcut.md").read_text()  # the docs site's page: the comparison under its provenance
    assert "Written by `make shortcut`" in page and comparison.split("\n", 1)[1] in page
