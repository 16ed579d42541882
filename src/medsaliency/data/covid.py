"""COVID-19 Radiography Database (Chowdhury 2020) folder layout.

::

    <raw_dir>/<class>/images/<class>-<n>.png   chest X-ray, 299x299, often saved as RGB
    <raw_dir>/<class>/masks/<class>-<n>.png    lung mask, 256x256 (a different size)

The database has no patient ids, so each image is its own patient. Images are read as
grayscale whatever their PNG colour mode; masks are binarised at half their range.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from medsaliency.data.records import ImageRecord, checked_image, checked_mask
from medsaliency.errors import DataError

KNOWN_CLASSES = ("COVID", "Normal", "Lung_Opacity", "Viral Pneumonia")


def iter_covid(raw_dir: Path, class_names: list[str]) -> Iterator[ImageRecord]:
    """Every image of the selected ``class_names`` folders, in sorted order, with its lung mask."""
    check_class_folders(raw_dir, class_names)
    for label in class_names:
        image_dir = raw_dir / label / "images"
        paths = sorted(image_dir.glob("*.png"))
        if not paths:
            raise DataError(f"{image_dir}: no .png images for class {label!r}")
        for path in paths:
            yield read_covid_image(path, label, raw_dir)


def check_class_folders(raw_dir: Path, class_names: list[str]) -> None:
    """Every selected class has a folder, and every folder is a class the database knows."""
    folders = sorted(p.name for p in raw_dir.iterdir() if p.is_dir())
    unknown = [name for name in folders if name not in KNOWN_CLASSES and name not in class_names]
    if unknown:
        raise DataError(f"{raw_dir}: unknown class folder(s) {unknown}; expected among {list(KNOWN_CLASSES)}")
    absent = [name for name in class_names if name not in folders]
    if absent:
        raise DataError(f"{raw_dir}: class folder(s) {absent} from params are missing; found {folders}")


def read_covid_image(path: Path, label: str, raw_dir: Path) -> ImageRecord:
    """One image and the mask of the same name under the sibling ``masks`` folder."""
    mask_path = path.parent.parent / "masks" / path.name
    if not mask_path.is_file():
        raise DataError(f"{path}: its lung mask {mask_path} is missing")
    image = checked_image(read_grayscale_png(path), path)
    mask = checked_mask(read_grayscale_png(mask_path) >= 128, mask_path)
    return ImageRecord(id=path.stem, patient_id=path.stem, label=label, image=image, mask=mask, path=path.relative_to(raw_dir))


def read_grayscale_png(path: Path) -> np.ndarray:
    """uint8 ``[H, W]``: RGB(A) and palette PNGs are converted with ITU-R 601 luma."""
    try:
        with Image.open(path) as picture:
            return np.asarray(picture.convert("L"))
    except (OSError, UnidentifiedImageError) as exc:
        raise DataError(f"{path}: not a readable PNG image ({exc})") from None


def write_covid_png(path: Path, gray: np.ndarray) -> None:
    """Save uint8 ``[H, W]`` as an RGB PNG with three equal channels, as the database does.

    The PNG writer adds no timestamps, so equal arrays give equal bytes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.repeat(np.asarray(gray, dtype=np.uint8)[:, :, None], 3, axis=2)
    Image.fromarray(rgb).save(path, format="PNG", optimize=False, compress_level=1)
