"""The real ``dvc.yaml`` run by real DVC through ``make retrain``, on a tiny git project of this repository.

``first_run`` (shared by every test process, built once: see conftest) is the whole ``dvc repro`` of the
tiny profile (both datasets, all twelve methods) through ``make retrain``, the CI retraining workflow
rehearsed against a folder as the DVC remote. Tests that change a project work on their own copy of it
(and of its remote), so no test sees another's changes and any order, or any one test alone, passes:
``second_run`` retrains on new covid_xray images with a gate no challenger passes; the MLflow UI test
opens its store in a real headless Chromium. (A copied MLflow store keeps the first project's absolute
artifact locations: later runs add artifacts there, and nothing the first run's tests read changes.)
"""

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import REPO, mlflow_server, tiny_params_raw
from pipeline_project import RetrainRun, commit, copied_project, gate_row, make_retrain, run, store_client

from medsaliency.mlops.tracking_layout import MAX_METHOD_METRICS
from medsaliency.reporting.results_page import lock_digest

pytestmark = pytest.mark.slow

TINY_METHODS = tiny_params_raw()["attribution"]["methods"]  # what the tiny pipeline explains with


def test_whole_pipeline_runs_and_is_then_up_to_date(first_run):
    root, raw = first_run.root, tiny_params_raw()
    for stage in (
        "validate@brain_tumor",
        "tune@covid_xray-small_cnn",
        "register@brain_tumor",
        "attribute@covid_xray",
        "evaluate@brain_tumor",
        "data_randomization@covid_xray",
        "replicates@brain_tumor",
        "report",
    ):
        assert f"Running stage '{stage}'" in first_run.stdout
    # TensorFlow's C++ log lines look like "E0000 00:00:..."; a run that did not fail prints none
    assert not re.findall(r"(?m)^[EF]\d{4} ", first_run.stdout), "error-looking lines in the log of a run that succeeded"
    for dataset in ("brain_tumor", "covid_xray"):
        assert json.loads((root / "outputs" / "validate" / dataset / "validation.json").read_text())["success"] is True
        assert (root / "outputs" / "prepare" / dataset / "train.npz").is_file()
        registry = json.loads((root / "outputs" / "register" / dataset / "registry.json").read_text())
        assert registry["top_k"] == [f"{dataset}.small_cnn"] and registry["models"][0]["champion_version"] == "1"
    for dataset in ("brain_tumor", "covid_xray"):
        check_explanation(root, dataset, n_images=3)
        check_evaluation(root, dataset)
        check_data_randomization(root, dataset)
        check_replicates(root, dataset)
    check_report(root)
    lock = (root / "dvc.lock").read_text()
    second = run(["dvc", "repro"], root)
    assert "Running stage" not in second.stdout and (root / "dvc.lock").read_text() == lock
    assert "up to date" in run(["dvc", "status"], root).stdout
    metrics = run(["dvc", "metrics", "show", "--json"], root).stdout
    assert '"successful_expectations"' in metrics and '"macro_f1"' in metrics and '"n_images"' in metrics and '"sanity_ssim"' in metrics
    plots = json.loads(run(["dvc", "plots", "show", "--json"], root).stdout)["data"]
    (sic_plot,) = plots["outputs/plots/brain_tumor/brain_tumor.small_cnn.sic.csv"]
    assert {row["field"] for row in sic_plot["content"]["data"]["values"]} == set(raw["attribution"]["methods"])


def test_editing_one_backbones_budget_makes_only_the_stages_that_train_or_read_it_stale(first_run, tmp_path):
    root = copied_project(first_run, tmp_path / "edited")
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["tune"]["backbones"]["small_cnn"]["epochs"] = 3
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    status = run(["dvc", "status"], root).stdout.splitlines()
    stale = {line.strip().rstrip(":") for line in status if line and not line.startswith(("\t", " "))}
    tuned = {"tune@brain_tumor-small_cnn", "tune@covid_xray-small_cnn", "register@brain_tumor", "register@covid_xray"}
    # data_randomization and replicates train each champion's backbone again, as tune.backbones defines it (a param they read)
    retrained = {f"{stage}@{dataset}" for stage in ("data_randomization", "replicates") for dataset in ("brain_tumor", "covid_xray")}
    assert stale == tuned | retrained


def test_make_retrain_pushes_everything_and_promotes_the_first_champions(first_run):
    for dataset in ("brain_tumor", "covid_xray"):
        assert gate_row(first_run.summary, f"{dataset}.small_cnn") == [
            f"{dataset}.small_cnn",
            "none",
            "v1",
            "promoted",
            "no champion yet",
            "v1",
        ]
    assert "2 of 2 champion(s) moved" in first_run.summary and "### SIC AUC" in first_run.summary and "| Grad-CAM |" in first_run.summary
    assert "in sync" in run(["dvc", "status", "--cloud", "--remote", "rehearsal"], first_run.root).stdout


@pytest.fixture(scope="module")
def second_run(first_run, tmp_path_factory) -> RetrainRun:
    """New covid_xray images (other phantom seed), committed as the workflow would, and a gate no challenger passes."""
    root = copied_project(first_run, tmp_path_factory.mktemp("second"))
    commit(root, "retrained")  # as the workflow does: the new dvc.lock
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["phantoms"]["seed"] = 2025
    params["registry"]["min_improvement"] = 1.0  # no challenger can beat its champion by that much
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    other = tmp_path_factory.mktemp("other_phantoms")
    (other / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["medsaliency", "--root", str(other), "--params", str(other / "params.yaml"), "phantoms"], root)
    shutil.rmtree(root / "data" / "covid_xray")
    shutil.copytree(other / "data" / "covid_xray", root / "data" / "covid_xray")
    run(["dvc", "add", "-q", "data"], root)
    commit(root, "new covid_xray images")
    return make_retrain(root)


def test_make_retrain_on_new_data_keeps_the_champion_against_a_challenger_that_is_not_better(second_run):

    _, before, challenger, decision, reason, after = gate_row(second_run.summary, "covid_xray.small_cnn")
    assert (before, challenger, decision, after) == ("v1", "v2", "kept", "v1") and "does not beat" in reason
    assert gate_row(second_run.summary, "brain_tumor.small_cnn")[1:5] == ["v1", "v1", "unchanged", "no new challenger"]
    assert "0 of 2 champion(s) moved" in second_run.summary
    assert (
        "Running stage 'tune@covid_xray-small_cnn'" in second_run.stdout
        and "Running stage 'tune@brain_tumor-small_cnn'" not in second_run.stdout
    )
    changes = second_run.summary.split("## Metrics this run changed")[1].split("## AUCs")[0]
    assert "| outputs/tune/covid_xray/small_cnn.json | study | covid_xray.small_cnn.data-" in changes  # a new study: new data
    assert "brain_tumor" not in changes
    assert "in sync" in run(["dvc", "status", "--cloud", "--remote", "rehearsal"], second_run.root).stdout  # pushed
    client = store_client(second_run.root)
    assert str(client.get_model_version_by_alias("covid_xray.small_cnn", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("covid_xray.small_cnn", "challenger").version) == "2"


def check_explanation(root: Path, dataset: str, n_images: int) -> None:
    """The attribute stage's maps file and its MLflow run (tags, timings, heatmap grid, maps)."""
    import hashlib

    from medsaliency.io.npz import load_npz

    path = root / "outputs" / "attribute" / dataset / f"{dataset}.small_cnn.npz"
    arrays = load_npz(path)
    assert arrays["maps"].shape == (len(TINY_METHODS), n_images, 32, 32) and arrays["maps"].dtype == "float32"
    assert arrays["methods"].tolist() == list(TINY_METHODS) and len(set(arrays["labels"].tolist())) == 3
    assert str(arrays["model_version"]) == "1" and arrays["images"].shape == (n_images, 32, 32, 1)
    client = store_client(root)
    experiment = client.get_experiment_by_name(f"{dataset}/explain")
    assert experiment.tags["mlflow.note.content"].startswith("**Saliency methods compared.**")
    (run,) = client.search_runs([experiment.experiment_id], filter_string="tags.role = 'explanation'")
    assert run.data.tags["registered_model_name"] == f"{dataset}.small_cnn" and run.data.tags["registered_model_alias"] == "champion"
    assert run.data.tags["maps_md5"] == hashlib.md5(path.read_bytes()).hexdigest() and run.data.tags["stage"] == "attribute"
    assert {"cost/attribution_seconds_per_image", "classification/sample_accuracy", "classification/test_macro_f1"} <= set(run.data.metrics)
    assert run.data.params["guided_ig.x_steps"] == "25" and run.data.params["n_images"] == str(n_images)
    children = {child.data.params["method"]: child for child in method_runs(client, run)}
    assert set(children) == set(TINY_METHODS) and children["guided_ig"].info.run_name == "Guided IG"
    assert children["guided_ig"].data.params["guided_ig.x_steps"] == "25" and "guided_ig.x_steps" not in children["xrai_full"].data.params
    for child in children.values():
        assert child.data.params["model"] == f"{dataset}.small_cnn" and child.data.params["model_version"] == "1"
        assert child.data.tags["role"] == "method" and child.data.metrics["cost/seconds_per_image"] > 0
    check_dataset_input(client.get_run(run.info.run_id), root, dataset, "test")
    artifacts = {item.path for folder in ("heatmaps", "maps") for item in client.list_artifacts(run.info.run_id, folder)}
    assert artifacts == {"heatmaps/grid_01.png", f"maps/{path.name}"}


def check_dataset_input(run, root: Path, dataset: str, context: str) -> None:
    """The run records the prepared dataset it read: name, the md5 dvc.lock holds for it, context."""
    lock = yaml.safe_load((root / "dvc.lock").read_text())["stages"][f"prepare@{dataset}"]
    (out,) = [out for out in lock["outs"] if out["path"] == f"outputs/prepare/{dataset}"]
    (item,) = run.inputs.dataset_inputs
    assert (item.dataset.name, item.dataset.digest) == (dataset, out["md5"].removesuffix(".dir"))
    assert {tag.key: tag.value for tag in item.tags} == {"mlflow.data.context": context}


def check_evaluation(root: Path, dataset: str) -> None:
    """The evaluate stage's DVC metrics and plots, and its metrics and figures in the explanation run."""

    metrics = json.loads((root / "outputs" / "evaluate" / dataset / "metrics" / f"{dataset}.small_cnn.json").read_text())
    sic = metrics["sic_auc"]
    assert set(sic) == set(TINY_METHODS) and all(0 <= value <= 1 for value in sic.values() if value is not None)
    assert set(metrics["excluded"]) == {"aic", "sic"} and metrics["n_images"] == 3 and metrics["n_randomization_images"] == 3
    assert ("pointing_game" in metrics) == (dataset == "brain_tumor") and metrics["sanity_ssim"]["random"] == 1.0
    assert ("mass_in_mask_p_vs_random" in metrics) == (dataset == "brain_tumor") and set(metrics["marker_mass"]) == set(TINY_METHODS)
    for measure in ("insertion_auc", "deletion_auc", "road_morf", "road_lerf", "road_gap", "sparseness", "complexity"):
        assert set(metrics[measure]) == set(TINY_METHODS), measure
    assert all(0 <= metrics["insertion_auc"][m] <= 1 and 0 <= metrics["deletion_auc"][m] <= 1 for m in TINY_METHODS)
    assert set(metrics["road_gap_p_vs_random"]) == set(TINY_METHODS) - {"random"}
    assert metrics["random_logit_ssim"]["random"] == 1.0 and set(metrics["random_logit_ssim"]) == set(metrics["sanity_ssim"])
    steps = sorted(step for step in metrics["cascading_ssim"] if not step.endswith(("_ci_low", "_ci_high")))
    assert steps == ["01_probabilities", "04_conv3", "06_conv1"]  # tiny params: 3 of the 6 blocks, top down
    assert all(metrics["cascading_ssim"][step]["random"] == 1.0 for step in steps)
    assert metrics["cascading_ssim"]["06_conv1"]["gradcam"] == metrics["sanity_ssim"]["gradcam"]  # the last step is the whole check
    reactive = metrics["reactivity"]  # every tested measure scored on the randomised model's maps (None: not above Random)
    assert {"sic_auc", "aic_auc", "insertion_auc", "deletion_auc", "road_gap", "marker_mass"} <= set(reactive)
    assert all(set(by_method) == set(metrics["sanity_ssim"]) - {"random"} for by_method in reactive.values())
    assert (
        metrics["shortcut"]["planted"] == 0.0
        and metrics["shortcut"]["accuracy_with_marker"] == metrics["shortcut"]["accuracy_without_marker"]
    )
    curves = (root / "outputs" / "plots" / dataset / f"{dataset}.small_cnn.sic.csv").read_text().splitlines()
    assert curves[0].split(",") == ["information", *TINY_METHODS] and len(curves) == 1002
    client = store_client(root)
    (run,) = client.search_runs(
        [client.get_experiment_by_name(f"{dataset}/explain").experiment_id], filter_string="tags.role = 'explanation'"
    )
    assert run.data.metrics["images/explained"] == 3 and "images/excluded_sic_prediction_not_lower" in run.data.metrics
    assert not any(key.startswith(("pic/", "removal/", "road/")) for key in run.data.metrics)  # those are the methods' runs'
    figures = {item.path for item in client.list_artifacts(run.info.run_id, "evaluation")}
    assert {"evaluation/aic.png", "evaluation/sic.png", "evaluation/per_image.parquet"} <= figures
    assert {"evaluation/removal_curves.png", "evaluation/cascading_randomisation.png"} <= figures
    costs = {name for name in run.data.metrics if name.startswith("cost/")} - {"cost/attribution_seconds_per_image"}
    assert {
        f"cost/{m}_seconds_per_image" for m in ("pic", "insertion_deletion", "road", "sanity", "reactivity", "random_logit", "cascading")
    } == costs
    for child in method_runs(client, run):
        method, logged = child.data.params["method"], child.data.metrics
        assert len(logged) <= MAX_METHOD_METRICS and all("/" in key for key in logged), sorted(logged)
        for key, measure in (("pic/sic_auc", "sic_auc"), ("pic/aic_auc_ci_low", "aic_auc_ci_low"), ("road/gap", "road_gap")):
            assert logged[key] == pytest.approx(nan_if_none(metrics[measure][method]), nan_ok=True), (method, key)
        if method in reactive["sic_auc"]:
            assert logged["reactivity/sic_auc"] == pytest.approx(nan_if_none(reactive["sic_auc"][method]), nan_ok=True)
        if method in metrics["cascading_ssim"]["06_conv1"]:
            history = client.get_metric_history(child.info.run_id, "sanity/cascading_ssim")
            assert sorted((m.step, m.value) for m in history) == [
                (step, metrics["cascading_ssim"][f"{step:02d}_{layer}"][method])
                for step, layer in ((1, "probabilities"), (4, "conv3"), (6, "conv1"))
            ]
    description = client.get_model_version(f"{dataset}.small_cnn", "1").description
    assert "## Test scores" in description and f"explanation run `{run.info.run_id}`" in description.split("## Saliency evaluation")[1]


def nan_if_none(value: float | None) -> float:
    """A DVC metric as MLflow holds it: null in the JSON is NaN there."""
    return float("nan") if value is None else value


def method_runs(client, run) -> list:
    """The method runs nested under an explanation run."""
    return client.search_runs([run.info.experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{run.info.run_id}'")


def check_data_randomization(root: Path, dataset: str) -> None:
    """The shuffled-label twin: its comparison (DVC metrics), its run, its registered version that holds no alias."""
    from medsaliency.mlops.registry import CHAMPION, ModelRegistry

    metrics = json.loads((root / "outputs" / "data_randomization" / dataset / f"{dataset}.small_cnn.json").read_text())
    methods = tiny_params_raw()["data_randomization"]["methods"]
    assert set(metrics["ssim"]) == set(metrics["spearman"]) == set(methods)
    assert metrics["ssim"]["random"] == 1.0 and metrics["spearman"]["random"] == 1.0  # the same seeds: the same random maps
    assert 0 <= metrics["train_accuracy_shuffled_labels"] <= 1 and 0 <= metrics["test_accuracy"] <= 1 and metrics["n_images"] == 3
    client = store_client(root)
    (run,) = client.search_runs([client.get_experiment_by_name(f"{dataset}/data_randomization").experiment_id])
    assert {"ssim.gradcam", "spearman.vanilla_gradient", "train_accuracy_shuffled_labels"} <= set(run.data.metrics)
    (version,) = client.search_model_versions(f"name = '{dataset}.small_cnn.data_randomized'")
    assert version.tags["never_promote"] == "true" and ModelRegistry(client).alias_version(version.name, CHAMPION) is None


def check_replicates(root: Path, dataset: str) -> None:
    """Two retrained models beside the champion: their per-image tables, the statistics over the three,
    a run per seed (param ``seed``) and registered versions that hold no alias."""
    from medsaliency.evaluation.replicates import RANKED_MEASURES
    from medsaliency.mlops.registry import CHAMPION, ModelRegistry

    folder = root / "outputs" / "replicates" / dataset
    summary = json.loads((folder / "metrics" / f"{dataset}.small_cnn.json").read_text())
    assert summary["models"] == 3 and set(summary["replicates"]) == {"1000", "1001"} and summary["rejected"] == {}  # tiny gate: 0
    assert all(0 <= scores["macro_f1"] <= 1 for scores in summary["replicates"].values())
    floor = summary["seed_floor"]
    assert set(floor) == {"ssim", "spearman"} and len(floor["ssim"]) == 12
    assert floor["ssim"]["random"] in (1.0, None)  # Random's maps depend only on the image seeds; None: no class in common
    localised = {"pointing_game", "mass_in_mask", "top_iou"} if dataset == "brain_tumor" else set()
    statistics = json.loads((folder / "details" / f"{dataset}.small_cnn.statistics.json").read_text())
    assert (folder / "details" / f"{dataset}.small_cnn.seed-1001.per_image.csv").is_file()
    assert set(statistics) == set(RANKED_MEASURES) - ({"pointing_game", "mass_in_mask", "top_iou"} - localised)
    sic = statistics["sic_auc"]
    assert sic["replicates"] == 3 and len(sic["methods"]) == 12 and "random" not in sic["ranked"]
    assert len(sic["beats"]) == 12 and sic["beats"][0][0] == 0.5
    client = store_client(root)
    runs = client.search_runs([client.get_experiment_by_name(f"{dataset}/replicates").experiment_id])
    assert sorted(run.data.params["seed"] for run in runs) == ["1000", "1001"]
    assert all("insertion_auc.gradcam" in run.data.metrics and "val_macro_f1" in run.data.metrics for run in runs)
    assert all(run.data.tags["gate"] == "admitted" for run in runs)
    inputs = [[(item.dataset.name, item.tags[0].value) for item in run.inputs.dataset_inputs] for run in runs]
    assert inputs == [[(dataset, "training")]] * 2  # the UI's Dataset column names what each replicate was trained on
    versions = client.search_model_versions(f"name = '{dataset}.small_cnn.replicate'")
    assert sorted(version.tags["seed"] for version in versions) == ["1000", "1001"]
    assert all(version.tags["never_promote"] == "true" for version in versions)
    assert ModelRegistry(client).alias_version(f"{dataset}.small_cnn.replicate", CHAMPION) is None


def check_report(root: Path) -> None:
    """The summary: both datasets' tables in Markdown, a self-contained HTML page, a run in MLflow."""

    markdown = (root / "outputs" / "report" / "report.md").read_text()
    assert "## brain_tumor" in markdown and "## covid_xray" in markdown and "| Grad-CAM |" in markdown
    assert markdown.count("### What holds across 3 models of") == 2
    assert markdown.index("### What holds across") < markdown.index("### Classification")
    holds = markdown.split("### What holds across")[1].split("### Classification")[0]
    assert "| SIC AUC (higher better) |" in holds and "on the marker" not in holds  # no shortcut planted: no marker ranking
    assert (root / "outputs" / "report" / "figures" / "brain_tumor.small_cnn.replicates.cd.png").stat().st_size > 10_000
    assert "pointing game" in markdown.split("## covid_xray")[0] and "pointing game" not in markdown.split("## covid_xray")[1]
    assert markdown.count("### Agreement of the measures' method rankings") == 2 and "| road_gap |" in markdown
    assert markdown.count("### Sanity: data randomisation") == 2 and markdown.count("### Sanity: cascading randomisation") == 2
    html = (root / "outputs" / "report" / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 10 and "<table>" in html  # per dataset: 2 curves, 3 replicate figures
    page = (root / "docs" / "results.md").read_text()  # the docs site's results page: the report, and which run it shows
    digest = re.search(r"`dvc.lock` digest `([0-9a-f]{12})`", page)
    assert digest and digest.group(1) == lock_digest(root) and "on 20" in page and " cores)" in page
    figures = re.findall(r"\]\(results/([^)]+)\)", page)
    assert len(figures) == 10 and all((root / "docs" / "results" / name).is_file() for name in figures)
    assert page.split("\n", 1)[0] == markdown.split("\n", 1)[0] and "| Grad-CAM |" in page
    client = store_client(root)
    (run,) = client.search_runs([client.get_experiment_by_name("report").experiment_id])
    assert {item.path for item in client.list_artifacts(run.info.run_id, "report")} >= {"report/report.md", "report/report.html"}


# Every text on the page while the compare view's metrics table (a virtualised grid that renders
# only the rows in view) is scrolled from top to bottom; the grid is left scrolled to its end.
TEXTS_WHILE_SCROLLING_METRICS = """(async () => {
  const textNodes = () => {
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), found = [];
    while (walk.nextNode()) found.push(walk.currentNode);
    return found;
  };
  const texts = () => textNodes().map(node => node.nodeValue.trim()).filter(Boolean);
  const anchor = textNodes().find(node => node.nodeValue.trim() === 'pic/aic_auc');
  let grid = anchor && anchor.parentElement;
  while (grid && grid.scrollHeight <= grid.clientHeight + 2) grid = grid.parentElement;
  const seen = new Set(texts());
  for (let y = 0; grid && y <= grid.scrollHeight; y += 40) {
    grid.scrollTop = y;
    await new Promise(done => setTimeout(done, 80));
    texts().forEach(t => seen.add(t));
  }
  if (grid) grid.scrollIntoView({block: 'center'});
  return [...seen];
})()"""


@pytest.mark.browser
def test_mlflow_ui_charts_each_measure_once_with_a_bar_per_method_and_compares_two_methods(second_run, tmp_path):
    """The UI as a user sees it, in a real headless Chromium: the explain experiment's Chart view, after
    expanding the model's run and showing all runs, draws ``pic/aic_auc`` once, in section ``pic``, with
    one bar per method run and that run's value; the compare view of two method runs lists their measures
    side by side. Screenshots of both go to build/screenshots (the docs' UI walkthrough)."""
    import mlflow
    from tools.headless import Browser
    from tools.mlflow_ui import CHARTS, open_method_charts

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("the UI test needs headless Chromium: apt-get install chromium (.ci/run installs it)")
    shots = REPO / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    chart_png, compare_png = shots / "mlflow-ui-methods-chart.png", shots / "mlflow-ui-compare-methods.png"
    with mlflow_server(f"sqlite:///{second_run.root}/mlruns/mlflow.db", tmp_path / "artifacts") as url:
        client = mlflow.MlflowClient(tracking_uri=url, registry_uri=url)
        experiment = client.get_experiment_by_name("brain_tumor/explain")
        (model_run,) = client.search_runs([experiment.experiment_id], "tags.role = 'explanation'")
        methods = {run.info.run_id: run for run in method_runs(client, model_run)}
        with Browser(chromium, width=1600, height=1400) as browser:
            open_method_charts(browser, url, experiment.experiment_id, model_run.info.run_name, len(methods), "pic")
            charts = [chart for chart in browser.evaluate(CHARTS) if chart["title"] == "pic/aic_auc"]
            browser.screenshot(chart_png)
            two = sorted(methods, key=lambda run_id: methods[run_id].data.params["method"])[:2]
            ids = ",".join(f"%22{run_id}%22" for run_id in two)
            browser.open(f"{url}/#/compare-runs?runs=[{ids}]&experiments=[%22{experiment.experiment_id}%22]")
            browser.wait_for("document.body.innerText.includes('pic/aic_auc')")
            texts = set(browser.evaluate(TEXTS_WHILE_SCROLLING_METRICS))
            browser.screenshot(compare_png)
    assert len(methods) == len(TINY_METHODS) == 12
    (chart,) = charts  # each measure drawn once
    assert chart["section"] == "pic" and sorted(chart["runs"]) == sorted(methods)
    for run_id, value in zip(chart["runs"], chart["values"], strict=True):
        assert value == pytest.approx(methods[run_id].data.metrics["pic/aic_auc"])
    assert "Comparing 2 Runs from 1 Experiment" in texts and {methods[run_id].info.run_name for run_id in two} <= texts
    assert {"pic/sic_auc", "pic/aic_auc_ci_low", "removal/insertion_auc", "road/gap", "cost/seconds_per_image"} <= texts
    for png in (chart_png, compare_png):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
