"""The dataset formats, one entry each: how to read the raw files, and how to write phantoms in that layout.

``datasets.<name>.format`` in ``params.yaml`` names an entry. A new format is its reader (raw
folder + class names -> :class:`~medsaliency.data.records.ImageRecord` stream), its phantom
writer (the synthetic default in the same layout) and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from medsaliency.data.covid import iter_covid
from medsaliency.data.figshare import iter_figshare
from medsaliency.data.phantoms.writer import DatasetLayout, write_brain_dataset, write_chest_dataset
from medsaliency.data.records import ImageRecord
from medsaliency.errors import DataError
from medsaliency.io.atomic import staged_directory

if TYPE_CHECKING:
    from medsaliency.data.phantoms.options import PhantomConfig

Reader = Callable[[Path, list[str]], Iterator[ImageRecord]]
PhantomWriter = Callable[[Path, DatasetLayout, "PhantomConfig"], int]


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


class PhantomParams(Protocol):
    """What :func:`write_phantom_datasets` reads of the params (:class:`medsaliency.config.Params` has it)."""

    @property
    def datasets(self) -> Mapping[str, DatasetLayout]: ...
    @property
    def phantoms(self) -> PhantomConfig: ...


def write_phantom_datasets(params: PhantomParams, root: Path = Path(".")) -> list[Path]:
    """Write every dataset of ``params`` as phantoms in its format's layout under ``root``; return the
    folders written. A dataset folder that already holds files is never touched: a :class:`DataError` says so.
    """
    written = []
    for dataset in params.datasets.values():
        target = root / dataset.raw_dir
        if target.exists() and any(target.iterdir()):
            raise DataError(f"{target}: already holds files; phantoms are only written into an empty or missing folder")
        with staged_directory(target) as staging:
            FORMATS[dataset.format].write_phantoms(staging, dataset, params.phantoms)
        written.append(target)
    return written
