"""The ``prepare`` step: raw files -> manifest (one row per image) + model-ready arrays per split.

Outputs, written to a temporary folder and swapped in only when complete (a failure leaves
any earlier outputs exactly as they were):

- ``manifest.csv``: the columns of :data:`MANIFEST_COLUMNS`, one row per image.
- ``train.npz``, ``val.npz``, ``test.npz``: ``x`` float32 ``[N, S, S, 1]`` in [0, 1]
  (each image min-max scaled; with the planted shortcut enabled, marker burnt in), ``y`` int64
  ``[N]`` class index, ``mask`` uint8 ``[N, S, S]`` (nearest-neighbour resized; all zero where
  an image has no mask), ``marker`` uint8 ``[N, S, S]`` (the class-coded marker region of
  :mod:`medsaliency.data.shortcut`, planted or not), ``ids`` and ``patient_ids`` str ``[N]``,
  ``classes`` str ``[K]``. ``S`` is ``image_size``. ``test.npz`` also holds ``x_clean``: the
  test images without the marker (equal to ``x`` when the shortcut is disabled).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from medsaliency.config import DatasetConfig, ShortcutConfig, SplitConfig
from medsaliency.data.loaders import iter_records
from medsaliency.data.records import ImageRecord
from medsaliency.data.shortcut import marker_regions, plant_markers
from medsaliency.data.splits import SPLITS, patient_labels, split_patients
from medsaliency.io.atomic import staged_directory
from medsaliency.io.npz import save_npz

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = (
    "id",
    "patient_id",
    "label",
    "label_index",
    "split",
    "path",
    "height",
    "width",
    "has_mask",
    "mask_kind",
    "mask_area_fraction",
    "intensity_min",
    "intensity_max",
    "intensity_mean",
    "intensity_std",
)


@dataclass
class PreparedImage:
    """One image reduced to its manifest row and its resized arrays (``[S, S]`` each)."""

    row: dict
    x: np.ndarray
    mask: np.ndarray


def prepare_dataset(
    dataset: DatasetConfig, split: SplitConfig, shortcut: ShortcutConfig, out_dir: Path, root: Path = Path(".")
) -> pd.DataFrame:
    """Read the raw dataset, split it by patient, write manifest and arrays (the shortcut planted
    if enabled); return the manifest."""
    items = [
        prepare_image(record, dataset)
        for record in tqdm(iter_records(dataset, root), desc=f"prepare {out_dir.name}", unit="img", mininterval=2)
    ]
    manifest = pd.DataFrame([item.row for item in items], columns=list(MANIFEST_COLUMNS))
    labels = patient_labels(manifest["patient_id"].tolist(), manifest["label"].tolist())
    assignment = split_patients(labels, split.val_fraction, split.test_fraction, split.seed)
    manifest["split"] = manifest["patient_id"].map(assignment)
    with staged_directory(out_dir) as staging:
        write_manifest(manifest, staging / MANIFEST_NAME)
        for name in SPLITS:
            chosen = np.flatnonzero(manifest["split"].to_numpy() == name)
            arrays = _split_arrays(manifest, items, chosen, dataset.classes)
            arrays["marker"] = marker_regions(arrays["y"], dataset.image_size, shortcut.size_fraction)
            clean = arrays["x"]
            arrays["x"] = plant_markers(clean, arrays["marker"], shortcut)
            if name == "test":
                arrays["x_clean"] = clean
            save_npz(staging / f"{name}.npz", **arrays)
    return manifest


def prepare_image(record: ImageRecord, dataset: DatasetConfig) -> PreparedImage:
    """Manifest row and ``image_size`` arrays for one record."""
    image = record.image
    size = dataset.image_size
    mask = record.mask if record.mask is not None else np.zeros(image.shape, dtype=bool)
    row = {
        "id": record.id,
        "patient_id": record.patient_id,
        "label": record.label,
        "label_index": dataset.classes.index(record.label),
        "split": "",
        "path": record.path.as_posix(),
        "height": image.shape[0],
        "width": image.shape[1],
        "has_mask": record.mask is not None,
        "mask_kind": dataset.mask_kind if record.mask is not None else "none",
        "mask_area_fraction": float(mask.mean()),
        "intensity_min": float(image.min()),
        "intensity_max": float(image.max()),
        "intensity_mean": float(image.mean()),
        "intensity_std": float(image.std()),
    }
    return PreparedImage(row=row, x=resize_image(scale_unit(image), size), mask=resize_mask(mask, size))


def scale_unit(image: np.ndarray) -> np.ndarray:
    """Min-max scale to [0, 1] (a constant image becomes all zeros)."""
    low, high = float(image.min()), float(image.max())
    if high == low:
        return np.zeros_like(image, dtype=np.float32)
    return ((image - low) / (high - low)).astype(np.float32)


def resize_image(image: np.ndarray, size: int) -> np.ndarray:
    """Bilinear (antialiased when shrinking) resize of float32 ``[H, W]`` to ``[size, size]``."""
    resized = Image.fromarray(image.astype(np.float32)).resize((size, size), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def resize_mask(mask: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour resize of a bool ``[h, w]`` mask to uint8 ``[size, size]`` of 0/1."""
    resized = Image.fromarray(mask.astype(np.uint8)).resize((size, size), Image.Resampling.NEAREST)
    return np.asarray(resized, dtype=np.uint8)


def write_manifest(manifest: pd.DataFrame, path: Path) -> None:
    """CSV with a fixed float format, so equal data gives equal bytes."""
    manifest.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")


def read_manifest(path: Path) -> pd.DataFrame:
    """The manifest with ids read as strings (``"0042"`` stays ``"0042"``)."""
    return pd.read_csv(path, dtype={"id": str, "patient_id": str, "label": str, "split": str, "path": str, "mask_kind": str})


def _split_arrays(manifest: pd.DataFrame, items: list[PreparedImage], chosen: np.ndarray, classes: list[str]) -> dict[str, np.ndarray]:
    size = items[0].x.shape[0]
    return {
        "x": np.stack([items[i].x for i in chosen])[..., None] if len(chosen) else np.zeros((0, size, size, 1), np.float32),
        "y": manifest["label_index"].to_numpy(dtype=np.int64)[chosen],
        "mask": np.stack([items[i].mask for i in chosen]) if len(chosen) else np.zeros((0, size, size), np.uint8),
        "ids": manifest["id"].to_numpy(dtype=str)[chosen],
        "patient_ids": manifest["patient_id"].to_numpy(dtype=str)[chosen],
        "classes": np.asarray(classes, dtype=str),
    }
