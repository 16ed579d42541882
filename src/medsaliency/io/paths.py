"""Where each stage writes, relative to the project root (``dvc.yaml`` declares the same paths)."""

from __future__ import annotations

from pathlib import Path

OUTPUTS = Path("outputs")


def prepared_dir(dataset: str) -> Path:
    """``manifest.csv`` and ``{train,val,test}.npz`` of one dataset (a DVC directory output)."""
    return OUTPUTS / "prepare" / dataset


def validation_file(dataset: str) -> Path:
    """The deterministic JSON verdict of the validate stage (a DVC metrics file)."""
    return OUTPUTS / "validate" / dataset / "validation.json"


def data_docs_dir(dataset: str) -> Path:
    """Great Expectations Data Docs (HTML with run timestamps, so git- and DVC-ignored)."""
    return OUTPUTS / "validate" / dataset / "data_docs"


def tune_summary_file(dataset: str, backbone: str) -> Path:
    """Best trial, its params, validation and test metrics of one study (a DVC metrics file)."""
    return OUTPUTS / "tune" / dataset / f"{backbone}.json"


def tune_summaries_dir(dataset: str) -> Path:
    """The folder of a dataset's tune summaries, one ``<backbone>.json`` per backbone."""
    return OUTPUTS / "tune" / dataset


def registry_file(dataset: str) -> Path:
    """The resolved ``{name, version, alias}`` of each registered model and the top-k ranking."""
    return OUTPUTS / "register" / dataset / "registry.json"


def absolute_sqlite_url(url: str, root: Path = Path(".")) -> str:
    """``sqlite:///relative/path.db`` made absolute under ``root`` (its folder created); other URLs unchanged."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url[len(prefix) :].startswith("/"):
        return url
    database = (root / url[len(prefix) :]).resolve()
    database.parent.mkdir(parents=True, exist_ok=True)
    return prefix + str(database)


def attribution_dir(dataset: str) -> Path:
    """One ``<registered model>.npz`` of saliency maps per explained model (a DVC directory output)."""
    return OUTPUTS / "attribute" / dataset


def maps_file(dataset: str, model_name: str) -> Path:
    """The maps of one registered model (``brain_tumor.small_cnn``) on the selected test images."""
    return attribution_dir(dataset) / f"{model_name}.npz"


def evaluation_metrics_dir(dataset: str) -> Path:
    """``<model>.json`` per explained model: AUCs, intervals, tests, localisation, sanity (DVC metrics)."""
    return OUTPUTS / "evaluate" / dataset / "metrics"


def evaluation_details_dir(dataset: str) -> Path:
    """Per-image tables and per-image curves of every model (a DVC directory output)."""
    return OUTPUTS / "evaluate" / dataset / "details"


def replicates_metrics_dir(dataset: str) -> Path:
    """``<model>.json`` per explained model: the summary of the statistics over its replicates (DVC metrics)."""
    return OUTPUTS / "replicates" / dataset / "metrics"


def replicates_details_dir(dataset: str) -> Path:
    """Per explained model: each replicate's per-image table and the statistics over the replicates
    (``<model>.statistics.json``, which the report reads)."""
    return OUTPUTS / "replicates" / dataset / "details"


def data_randomization_dir(dataset: str) -> Path:
    """``<model>.json`` per explained model: its maps against those of its shuffled-label twin (DVC metrics)."""
    return OUTPUTS / "data_randomization" / dataset


def curves_dir(dataset: str) -> Path:
    """``<model>.aic.csv`` / ``<model>.sic.csv``: aggregated curves, one column per method (DVC plots)."""
    return OUTPUTS / "plots" / dataset


def report_dir() -> Path:
    """``report.md``, ``report.html`` (figures embedded) and ``figures/`` (a DVC directory output)."""
    return OUTPUTS / "report"


def shortcut_comparison_file() -> Path:
    """The clean-vs-shortcut table of ``medsaliency shortcut-comparison`` (not a DVC output)."""
    return OUTPUTS / "shortcut" / "comparison.md"
