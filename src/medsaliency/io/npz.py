"""Byte-deterministic ``.npz`` archives, loaded back without pickle.

``numpy.savez`` stamps each zip entry with the current time, so the same arrays give
different bytes (and a different DVC hash) on every run. :func:`save_npz` writes the same
format with a fixed timestamp; :func:`load_npz` refuses object arrays.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from medsaliency.errors import DataError

_FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write ``arrays`` (no object dtypes) to ``path`` as a compressed ``.npz``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, array in arrays.items():
            array = np.asarray(array)
            if array.dtype.hasobject:
                raise TypeError(f"array {name!r} has an object dtype; it could not be loaded without pickle")
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_TIMESTAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, buffer.getvalue())


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file, read with ``allow_pickle=False``."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable .npz archive of plain arrays ({exc})") from None
