"""``make retrain`` (the CI retraining workflow's steps, rehearsed against a folder as the DVC remote) and
the MLflow UI over the store it leaves, in a real headless Chromium."""

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import REPO, mlflow_server, tiny_params_raw
from test_pipeline import run

pytestmark = pytest.mark.slow

VENV = Path(sys.executable).parent.parent
MODEL = "covid_xray.small_cnn"


def one_dataset(raw: dict) -> dict:
    """The tiny params on covid_xray alone, with two attribution methods: one retraining in about a minute."""
    raw["datasets"] = {"covid_xray": raw["datasets"]["covid_xray"]}
    raw["tune"]["backbones"] = {"small_cnn": {"n_trials": 1, "epochs": 1}}
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


@dataclass(frozen=True)
class Retrained:
    """A project retrained twice: first on its data (no champion yet), then on new data with a gate no challenger passes."""

    root: Path
    first: str
    second: str


@pytest.fixture(scope="module")
def retrained(tmp_path_factory) -> Retrained:
    base = tmp_path_factory.mktemp("retrain")
    root, remote = git_project(base / "project", one_dataset(tiny_params_raw())), base / "remote"
    first = make_retrain(root, remote)
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
    return Retrained(root, first, make_retrain(root, remote))


def test_make_retrain_promotes_the_first_champion(retrained):
    assert gate_row(retrained.first) == [MODEL, "none", "v1", "promoted", "no champion yet", "v1"]
    assert "1 of 1 champion(s) moved" in retrained.first and "### SIC AUC" in retrained.first and "| Grad-CAM |" in retrained.first


def test_make_retrain_on_new_data_keeps_the_champion_against_a_challenger_that_is_not_better(retrained):
    import mlflow

    model, before, challenger, decision, reason, after = gate_row(retrained.second)
    assert (before, challenger, decision, after) == ("v1", "v2", "kept", "v1") and "does not beat" in reason
    assert "0 of 1 champion(s) moved" in retrained.second
    diff = retrained.second.split("## Metrics against the baseline")[1].split("## AUCs")[0]
    assert "outputs/tune/covid_xray/small_cnn.json" in diff and "| study " in diff  # a new study: new data
    assert "in sync" in run(["dvc", "status", "--cloud", "--remote", "rehearsal"], retrained.root).stdout  # pushed
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{retrained.root}/mlruns/mlflow.db")
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "1"
    assert str(client.get_model_version_by_alias(MODEL, "challenger").version) == "2"


# Every text on the page while the compare view's metrics table (a virtualised grid that renders
# only the rows in view) is scrolled from top to bottom; the grid is left scrolled to its end.
TEXTS_WHILE_SCROLLING_METRICS = """(async () => {
  const textNodes = () => { const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), found = []; while (walk.nextNode()) found.push(walk.currentNode); return found; };
  const texts = () => textNodes().map(node => node.nodeValue.trim()).filter(Boolean);
  const anchor = textNodes().find(node => node.nodeValue.trim() === 'aic_auc.gradcam');
  let grid = anchor && anchor.parentElement;
  while (grid && grid.scrollHeight <= grid.clientHeight + 2) grid = grid.parentElement;
  const seen = new Set(texts());
  for (let y = 0; grid && y <= grid.scrollHeight; y += 40) { grid.scrollTop = y; await new Promise(done => setTimeout(done, 80)); texts().forEach(t => seen.add(t)); }
  if (grid) grid.scrollIntoView({block: 'center'});
  return [...seen];
})()"""


@pytest.mark.browser
def test_mlflow_ui_in_chromium_compares_the_explanation_runs_auc_metrics(retrained, tmp_path):
    """The UI over the retrained store, in a real headless Chromium: the compare view of both explanation
    runs lists every ``sic_auc.*``/``aic_auc.*`` metric side by side (NaN too: the tiny models are weak)."""
    import mlflow

    from tools.headless import Browser

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("the UI test needs headless Chromium: apt-get install chromium (.ci/run installs it)")
    screenshot = REPO / "build" / "screenshots" / "mlflow-ui-compare-runs.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.unlink(missing_ok=True)
    with mlflow_server(f"sqlite:///{retrained.root}/mlruns/mlflow.db", tmp_path / "artifacts") as url:
        client = mlflow.MlflowClient(tracking_uri=url)
        experiment = client.get_experiment_by_name("covid_xray/explain")
        runs = client.search_runs([experiment.experiment_id])
        assert len(runs) == 2  # one per attribute run: the first data, then the new data
        ids = ",".join(f"%22{r.info.run_id}%22" for r in runs)
        with Browser(chromium, height=1400) as browser:
            browser.open(f"{url}/#/compare-runs?runs=[{ids}]&experiments=[%22{experiment.experiment_id}%22]")
            browser.wait_for("document.body.innerText.includes('aic_auc.gradcam')")
            texts = set(browser.evaluate(TEXTS_WHILE_SCROLLING_METRICS))
            browser.screenshot(screenshot)
    assert "Comparing 2 Runs from 1 Experiment" in texts
    assert {r.info.run_id for r in runs} <= texts and runs[0].info.run_name in texts
    for method in ("gradcam", "random"):
        assert {f"sic_auc.{method}", f"aic_auc.{method}", f"sic_auc_ci_low.{method}", f"sic_auc_ci_high.{method}"} <= texts
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000
