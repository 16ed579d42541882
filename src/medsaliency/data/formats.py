"""The dataset formats, one entry each: how to read the raw files, and how to write phantoms in that layout.

``datasets.<name>.format`` in ``params.yaml`` names an entry. A new format is its reader (raw
folder + class names -> :class:`~medsaliency.data.records.ImageRecord` stream), its phantom
writer (the synthetic default in the same layout) and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from medsaliency.data.covid import iter_covid
from medsaliency.data.figshare import iter_figshare
from medsaliency.data.phantoms.writer import write_brain_dataset, write_chest_dataset
from medsaliency.data.records import ImageRecord

if TYPE_CHECKING:
    from medsaliency.config import DatasetConfig, PhantomConfig

Reader = Callable[[Path, list[str]], Iterator[ImageRecord]]
PhantomWriter = Callable[[Path, "DatasetConfig", "PhantomConfig"], int]


@dataclass(frozen=True)
class DatasetFormat:
    """``read(raw_dir, classes)`` streams the records; ``write_phantoms(folder, dataset, phantoms)``
    writes the synthetic default into ``folder`` and returns the number of image files."""

    read: Reader
    write_phantoms: PhantomWriter
    description: str


FORMATS: dict[str, DatasetFormat] = {
    "figshare_mat": DatasetFormat(iter_figshare, write_brain_dataset, "Figshare brain tumour (Cheng 2017): MATLAB v7.3 cjdata files"),
    "covid_png": DatasetFormat(iter_covid, write_chest_dataset, "COVID-19 Radiography Database: <class>/images|masks/*.png"),
}
