"""``report``: one summary of every dataset, model and method (Markdown + HTML), logged to MLflow.

Reads the outputs of tune, register, evaluate, data_randomization and replicates for each dataset of params.yaml and writes
``outputs/report/report.md``, ``report.html`` (self-contained) and ``figures/``; the same
files go to a run of the MLflow experiment ``report``. The report is also the documentation site's
results page (:mod:`medsaliency.reporting.results_page`). Last of the stages, it also writes every
experiment's description (:mod:`medsaliency.mlops.experiment_notes`).
"""

from __future__ import annotations

from pathlib import Path

from medsaliency.config import Params, load_params
from medsaliency.errors import DataError
from medsaliency.io.artifacts import RegisteredModel, RegistryRecord, TuneSummary
from medsaliency.io.atomic import staged_directory
from medsaliency.io.jsonfile import read_json
from medsaliency.io.paths import (
    curves_dir,
    data_randomization_dir,
    evaluation_metrics_dir,
    registry_file,
    replicates_details_dir,
    replicates_metrics_dir,
    report_dir,
    tune_summary_file,
)
from medsaliency.reporting.results_page import write_results_page
from medsaliency.reporting.tables import DatasetResults, Replicates, dataset_section, to_html, training_sentence

TITLE = "medsaliency: saliency methods compared"
EXPERIMENT = "report"
MISSING = "not found; run the pipeline up to this stage (dvc repro)"


def run(params_path: Path = Path("params.yaml"), root: Path = Path(".")) -> int:
    from medsaliency.attribution.methods import LABELS

    params = load_params(params_path)
    with staged_directory(root / report_dir()) as folder:
        sections = [
            dataset_section(collect(name, params, root, folder), list(params.attribution.methods), LABELS) for name in params.datasets
        ]
        intro = (
            f"# {TITLE}\n\nPIC entropy estimator: `{params.evaluation.entropy}`; curves aggregated by {params.evaluation.aggregate}; "
            "significance against Random: `*` p < 0.05, `**` p < 0.01 (Holm-adjusted Wilcoxon over patients); "
            "intervals resample patients, then their images. "
            "Each dataset opens with what holds across the champion and the models of its configuration trained again with "
            "other seeds; every table after it comes from the champion alone, so an order between two methods there is "
            f"that model's. {training_sentence(params.train.featureless.copies, params.train.featureless.perturbation)}\n\n"
        )
        markdown = intro + "\n".join(sections)
        (folder / "report.md").write_text(markdown)
        (folder / "report.html").write_text(to_html(markdown, folder, TITLE))
    page = write_results_page(markdown, root / report_dir() / "figures", root)
    log_report(root / report_dir(), params, root)
    print(f"wrote {report_dir() / 'report.md'}, report.html and {page.relative_to(root)}")
    return 0


def collect(dataset_name: str, params: Params, root: Path, folder: Path) -> DatasetResults:
    """One dataset's tables and figures (figures written under ``folder/figures``)."""
    registry = RegistryRecord.read(root / registry_file(dataset_name))
    explained = registry.top_k
    classification = [_classification_row(entry, dataset_name, explained, root) for entry in registry.models]
    metrics = {name: read_json(root / evaluation_metrics_dir(dataset_name) / f"{name}.json", MISSING) for name in explained}
    randomization = {name: read_json(root / data_randomization_dir(dataset_name) / f"{name}.json", MISSING) for name in explained}
    figures = {
        name: [_curve_figure(dataset_name, name, kind, metrics[name], params, root, folder) for kind in ("sic", "aic")]
        for name in explained
    }
    replicates = {name: _replicates(dataset_name, name, _planted(metrics[name]), root, folder) for name in explained}
    present = {name: found for name, found in replicates.items() if found is not None}
    return DatasetResults(dataset_name, classification, metrics, figures, randomization, present)


def _planted(metrics: dict) -> bool:
    """Whether the evaluated model's data carried the class-coded marker (the evaluate stage's ``shortcut.planted``)."""
    return bool(metrics.get("shortcut", {}).get("planted"))


def _replicates(dataset_name: str, name: str, planted: bool, root: Path, folder: Path) -> Replicates | None:
    """The replicates stage's statistics of ``name`` with their figures drawn (None: it did not run or had no
    replicates). Without a planted marker the marker measures are left out: they would rank the methods by
    the saliency each puts on an empty corner."""
    from medsaliency.evaluation.measures import MEASURES
    from medsaliency.evaluation.replicates import RANKED_MEASURES, MeasureStatistics
    from medsaliency.reporting.replicate_figures import replicate_figures

    path = root / replicates_details_dir(dataset_name) / f"{name}.statistics.json"
    if not path.is_file():
        return None
    records = read_json(path, MISSING)
    shown = [m for m in RANKED_MEASURES if m in records and (planted or MEASURES[m].group != "shortcut")]
    statistics = {measure: MeasureStatistics.from_record(records[measure]) for measure in shown}
    summary = read_json(root / replicates_metrics_dir(dataset_name) / f"{name}.json", MISSING)
    if not statistics or summary.get("models", 1) < 2:
        return None
    figures = replicate_figures(name, statistics, folder)
    return Replicates(statistics, summary.get("replicates", {}), figures, summary.get("seed_floor", {}), summary.get("rejected", {}))


def _classification_row(entry: RegisteredModel, dataset_name: str, explained: list[str], root: Path) -> dict:
    summary = TuneSummary.read(root / tune_summary_file(dataset_name, entry.backbone))
    return {
        "name": entry.name,
        "version": entry.champion_version,
        "accuracy": summary.test.get("accuracy"),
        "macro_f1": summary.test.get("macro_f1"),
        "min_recall": summary.min_recall,
        "val_macro_f1": summary.val_macro_f1,
        "explained": entry.name in explained,
    }


def _curve_figure(dataset_name: str, name: str, kind: str, metrics: dict, params: Params, root: Path, folder: Path) -> str:
    import pandas as pd

    from medsaliency.attribution.methods import LABELS
    from medsaliency.reporting.figures import information_curves

    source = root / curves_dir(dataset_name) / f"{name}.{kind}.csv"
    if not source.is_file():
        raise DataError(f"{source}: curves not found; run the evaluate stage")
    table = pd.read_csv(source)
    methods = [column for column in table.columns if column != "information"]
    aucs = {m: metrics.get(f"{kind}_auc", {}).get(m) or float("nan") for m in methods}
    relative = Path("figures") / f"{name}.{kind}.png"
    information_curves(
        table["information"].to_numpy(),
        {m: table[m].to_numpy() for m in methods},
        aucs,
        LABELS,
        f"{name}: {kind.upper()} ({params.evaluation.aggregate})",
        folder / relative,
    )
    return relative.as_posix()


def log_report(folder: Path, params: Params, root: Path) -> None:
    import mlflow

    from medsaliency.mlops.experiment_notes import describe_experiments
    from medsaliency.mlops.tracking import configure_mlflow, ensure_experiment, run_tags

    uri = configure_mlflow(params.mlflow, root)
    experiment_id = ensure_experiment(EXPERIMENT, uri)
    tags = {**run_tags("all", "report", root), "datasets": ",".join(params.datasets)}
    with mlflow.start_run(experiment_id=experiment_id, run_name="summary", tags=tags):
        mlflow.log_artifacts(str(folder), "report")
    print(f"MLflow experiment descriptions: {', '.join(describe_experiments())}")
