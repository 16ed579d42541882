"""The in-memory form every loader returns, whatever the file format."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medsaliency.errors import DataError


@dataclass(frozen=True)
class ImageRecord:
    """One raw image with its label and optional mask, as read from disk.

    ``image``: float32 ``[H, W]`` in the file's own intensity units, finite.
    ``mask``: bool ``[h, w]`` or ``None``; its size may differ from the image (COVID lung
    masks are 256 px for 299 px images) and is resized to the image in ``prepare``.
    ``path``: the source file, relative to the dataset's raw folder.
    """

    id: str
    patient_id: str
    label: str
    image: np.ndarray
    mask: np.ndarray | None
    path: Path


def checked_image(array: np.ndarray, path: Path) -> np.ndarray:
    """``array`` as float32 ``[H, W]``; a :class:`DataError` names ``path`` if it is not a finite 2-D image."""
    if array.ndim != 2:
        raise DataError(f"{path}: image must be 2-D [H, W], got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise DataError(f"{path}: image must be numeric, got dtype {array.dtype}")
    image = array.astype(np.float32)
    bad = ~np.isfinite(image)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(f"{path}: image has {int(bad.sum())} non-finite pixel(s) (NaN or inf), first at row {row}, column {col}")
    return image


def checked_mask(array: np.ndarray, path: Path, expected_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``array`` as a bool ``[h, w]`` mask; optionally it must match ``expected_shape``."""
    if array.ndim != 2:
        raise DataError(f"{path}: mask must be 2-D [H, W], got shape {array.shape}")
    if expected_shape is not None and array.shape != tuple(expected_shape):
        raise DataError(f"{path}: mask shape {array.shape} differs from image shape {tuple(expected_shape)}")
    return np.asarray(array) > 0
