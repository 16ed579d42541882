"""Great Expectations 1.x suite for a dataset manifest (see :mod:`medsaliency.data.preparation`).

The suite runs in an ephemeral context (nothing written besides the Data Docs we ask for).
Checks that span rows (every class in every split, class balance, patient leakage) run on
columns derived from the manifest, prefixed ``check_``, so that each is one expectation
whose failures point at the offending rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from medsaliency.config import DatasetConfig, ValidateConfig
from medsaliency.data.preparation import MANIFEST_COLUMNS
from medsaliency.data.splits import SPLITS

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.data_context.types.base import ProgressBarsConfig

DERIVED_COLUMNS = ("check_split_label", "check_label_count", "check_patient_splits")
INDEX_COLUMNS = ["id", "patient_id"]
_SHOWN_VALUES = 10


@dataclass
class ExpectationOutcome:
    """One expectation's verdict, with up to ten offending values and the rows they sit in."""

    expectation: str
    column: str | None
    success: bool
    offending: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    observed: object = None
    missing: list = field(default_factory=list)
    error: str | None = None

    def describe(self) -> str:
        """One line for a terminal: what failed, and on which values and rows."""
        where = f" on column {self.column!r}" if self.column else ""
        text = f"FAILED {self.expectation}{where}"
        if self.error:
            return f"{text}: {self.error}"
        if self.offending:
            text += f": offending values {self.offending}"
        if self.missing:
            text += f": missing values {self.missing}"
        if self.rows:
            text += " in rows " + ", ".join(_row_name(row) for row in self.rows)
        if self.observed is not None and not self.offending and not self.missing:
            text += f": observed {self.observed}"
        return text


@dataclass
class ValidationReport:
    """The suite's verdict on a manifest, and the Data Docs page that shows it."""

    success: bool
    outcomes: list[ExpectationOutcome]
    data_docs: Path | None

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.success]

    def summary(self) -> dict:
        """JSON-ready, deterministic (no timestamps or run ids): DVC hashes it."""
        return {
            "success": self.success,
            "evaluated_expectations": len(self.outcomes),
            "successful_expectations": len(self.outcomes) - len(self.failures),
            "unsuccessful_expectations": len(self.failures),
            "failures": [failure.describe() for failure in self.failures],
        }


def build_expectations(manifest: pd.DataFrame, dataset: DatasetConfig, validate: ValidateConfig) -> list[gxe.Expectation]:
    """The suite for one dataset; thresholds come from ``params.yaml``."""
    low, high = dataset.intensity_range
    side_low, side_high = dataset.raw_side_range
    max_class_count = int(manifest["label"].value_counts().max()) if "label" in manifest and len(manifest) else 0
    every_split_and_class = [f"{split}/{label}" for split in SPLITS for label in dataset.classes]
    expectations: list[gxe.Expectation] = [
        gxe.ExpectTableColumnsToMatchSet(column_set=[*MANIFEST_COLUMNS, *DERIVED_COLUMNS], exact_match=True),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        *[gxe.ExpectColumnValuesToNotBeNull(column=column) for column in MANIFEST_COLUMNS],
        gxe.ExpectColumnValuesToBeUnique(column="id"),
        gxe.ExpectColumnValuesToBeInSet(column="label", value_set=list(dataset.classes)),
        gxe.ExpectColumnValuesToBeInSet(column="split", value_set=list(SPLITS)),
        gxe.ExpectColumnDistinctValuesToContainSet(column="check_split_label", value_set=every_split_and_class),
        gxe.ExpectColumnValuesToBeBetween(column="intensity_min", min_value=low, max_value=high),
        gxe.ExpectColumnValuesToBeBetween(column="intensity_max", min_value=low, max_value=high),
        gxe.ExpectColumnValuesToBeBetween(column="intensity_mean", min_value=low, max_value=high),
        gxe.ExpectColumnValuesToBeBetween(column="intensity_std", min_value=0, max_value=high - low),
        gxe.ExpectColumnValuesToBeBetween(column="height", min_value=side_low, max_value=side_high),
        gxe.ExpectColumnValuesToBeBetween(column="width", min_value=side_low, max_value=side_high),
        gxe.ExpectColumnValuesToBeInSet(column="has_mask", value_set=[True]),
        gxe.ExpectColumnValuesToBeBetween(column="mask_area_fraction", min_value=0, max_value=1, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(column="check_label_count", min_value=max_class_count / validate.max_class_ratio),
        gxe.ExpectColumnValuesToBeInSet(column="check_patient_splits", value_set=[1]),
    ]
    return expectations


def with_derived_columns(manifest: pd.DataFrame) -> pd.DataFrame:
    """The manifest plus the ``check_`` columns (left out where their source columns are missing).

    ``check_split_label``: ``"<split>/<label>"``; ``check_label_count``: how many images share
    the row's label; ``check_patient_splits``: in how many splits the row's patient appears.
    """
    frame = manifest.copy()
    if {"split", "label"} <= set(frame.columns):
        frame["check_split_label"] = frame["split"].astype(str) + "/" + frame["label"].astype(str)
    if "label" in frame.columns:
        frame["check_label_count"] = frame.groupby("label", dropna=False)["label"].transform("size")
    if {"split", "patient_id"} <= set(frame.columns):
        frame["check_patient_splits"] = frame.groupby("patient_id", dropna=False)["split"].transform("nunique")
    return frame


def validate_manifest(
    manifest: pd.DataFrame, dataset: DatasetConfig, validate: ValidateConfig, name: str, docs_dir: Path | None = None
) -> ValidationReport:
    """Run the suite on ``manifest``; with ``docs_dir``, also build Data Docs there."""
    frame = with_derived_columns(manifest)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    if docs_dir is not None:
        context.add_data_docs_site(site_name="local", site_config=_site_config(docs_dir))
    batch = context.data_sources.add_pandas(name).add_dataframe_asset("manifest").add_batch_definition_whole_dataframe("all")
    suite = context.suites.add(gx.ExpectationSuite(name=f"{name}_manifest"))
    for expectation in build_expectations(manifest, dataset, validate):
        suite.add_expectation(expectation)
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=f"{name}_manifest", data=batch, suite=suite))
    index_columns = [column for column in INDEX_COLUMNS if column in frame.columns]
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": index_columns}
    result = definition.run(batch_parameters={"dataframe": frame}, result_format=result_format)
    docs_page = None
    if docs_dir is not None:
        context.build_data_docs(site_names=["local"])
        docs_page = docs_dir / "index.html"
    outcomes = [_outcome(item) for item in result.results]
    return ValidationReport(success=bool(result.success), outcomes=outcomes, data_docs=docs_page)


def _site_config(docs_dir: Path) -> Any:
    return {
        "class_name": "SiteBuilder",
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir.resolve())},
    }


def _outcome(item) -> ExpectationOutcome:
    config = item.expectation_config
    details = item.result or {}
    exception = item.exception_info or {}
    error = exception.get("exception_message") if exception.get("raised_exception") else None
    return ExpectationOutcome(
        expectation=config.type,
        column=config.kwargs.get("column"),
        success=bool(item.success),
        offending=_plain(details.get("partial_unexpected_list", [])[:_SHOWN_VALUES]),
        rows=_plain(details.get("unexpected_index_list", [])[:_SHOWN_VALUES]),
        observed=_plain(details.get("observed_value")),
        missing=_plain(details.get("partial_missing_list", [])[:_SHOWN_VALUES]),
        error=error,
    )


def _row_name(row) -> str:
    """``id 102 (patient 101019)`` from GX's unexpected-index record."""
    if not isinstance(row, dict):
        return str(row)
    name = f"id {row['id']}" if "id" in row else str(row)
    return f"{name} (patient {row['patient_id']})" if "patient_id" in row else name


def _plain(value):
    """numpy scalars and nested containers -> plain Python values (JSON-ready, stable repr)."""
    if isinstance(value, dict):
        return {str(key): _plain(inner) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(inner) for inner in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value
