"""Pick the reader for a dataset's format and check its raw folder exists and is not empty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from medsaliency.data.formats import FORMATS
from medsaliency.data.records import ImageRecord
from medsaliency.errors import DataError

if TYPE_CHECKING:
    from medsaliency.config import DatasetConfig


def iter_records(dataset: DatasetConfig, root: Path = Path(".")) -> Iterator[ImageRecord]:
    """Stream the dataset's records, one file at a time (the real sets do not fit memory as float32)."""
    raw_dir = root / dataset.raw_dir
    if not raw_dir.is_dir():
        raise DataError(f"{raw_dir}: data folder not found (datasets.*.raw_dir in params.yaml)")
    if not any(raw_dir.iterdir()):
        raise DataError(f"{raw_dir}: data folder is empty")
    count = 0
    for record in FORMATS[dataset.format].read(raw_dir, list(dataset.classes)):
        count += 1
        yield record
    if count == 0:
        raise DataError(f"{raw_dir}: no image files in the {dataset.format} layout")
