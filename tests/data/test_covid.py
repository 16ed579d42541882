"""The COVID-19 Radiography Database loader on a fixture folder in the published layout."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medsaliency.config import DatasetConfig
from medsaliency.data.covid import iter_covid, read_covid_image
from medsaliency.data.loaders import iter_records
from medsaliency.errors import DataError

CLASSES = ["COVID", "Normal", "Lung_Opacity"]


def save_rgb(path: Path, gray: np.ndarray, tint=(0, 0, 0)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.stack([np.clip(gray.astype(int) + t, 0, 255) for t in tint], axis=-1).astype(np.uint8)
    Image.fromarray(rgb).save(path)


def make_layout(root: Path, classes=CLASSES, per_class=2, image_size=60, mask_size=40) -> None:
    for label in classes:
        for n in range(1, per_class + 1):
            gray = np.tile(np.arange(image_size, dtype=np.uint8) * 4, (image_size, 1))
            save_rgb(root / label / "images" / f"{label}-{n}.png", gray)
            mask = np.zeros((mask_size, mask_size), np.uint8)
            mask[: mask_size // 2, : mask_size // 4] = 255  # top-left block: orientation check
            save_rgb(root / label / "masks" / f"{label}-{n}.png", mask)


def test_images_read_as_grayscale_with_their_own_size_masks(tmp_path):
    make_layout(tmp_path)
    records = list(iter_covid(tmp_path, CLASSES))
    assert [r.id for r in records] == ["COVID-1", "COVID-2", "Normal-1", "Normal-2", "Lung_Opacity-1", "Lung_Opacity-2"]
    first = records[0]
    assert first.image.shape == (60, 60) and first.image.dtype == np.float32
    assert first.image[0, 10] == 40.0  # column ramp survives RGB -> L
    assert first.mask.shape == (40, 40) and first.mask.dtype == bool
    assert first.mask[0, 0] and not first.mask[-1, -1]
    assert first.patient_id == first.id and first.path == Path("COVID/images/COVID-1.png")


def test_rgb_channels_are_combined_as_luma(tmp_path):
    path = tmp_path / "COVID" / "images" / "COVID-1.png"
    save_rgb(path, np.full((8, 8), 100, np.uint8), tint=(60, 0, 0))
    save_rgb(tmp_path / "COVID" / "masks" / "COVID-1.png", np.full((8, 8), 255, np.uint8))
    record = read_covid_image(path, "COVID", tmp_path)
    assert record.image[0, 0] == pytest.approx(0.299 * 160 + 0.587 * 100 + 0.114 * 100, abs=1)


def test_missing_mask_names_image_and_expected_mask(tmp_path):
    make_layout(tmp_path)
    (tmp_path / "Normal" / "masks" / "Normal-2.png").unlink()
    with pytest.raises(DataError, match=r"Normal-2\.png: its lung mask .*masks/Normal-2\.png is missing"):
        list(iter_covid(tmp_path, CLASSES))


def test_unknown_class_folder_is_named(tmp_path):
    make_layout(tmp_path)
    (tmp_path / "Tuberculosis" / "images").mkdir(parents=True)
    with pytest.raises(DataError, match=r"unknown class folder\(s\) \['Tuberculosis'\]"):
        list(iter_covid(tmp_path, CLASSES))


def test_known_but_unselected_class_is_ignored(tmp_path):
    make_layout(tmp_path, classes=[*CLASSES, "Viral Pneumonia"], per_class=1)
    assert {r.label for r in iter_covid(tmp_path, CLASSES)} == set(CLASSES)


def test_selected_class_without_folder_is_named(tmp_path):
    make_layout(tmp_path, classes=["COVID", "Normal"])
    with pytest.raises(DataError, match=r"class folder\(s\) \['Lung_Opacity'\] from params are missing"):
        list(iter_covid(tmp_path, CLASSES))


def test_corrupt_png_names_the_file(tmp_path):
    make_layout(tmp_path)
    (tmp_path / "COVID" / "images" / "COVID-1.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(DataError, match=r"COVID-1\.png: not a readable PNG"):
        list(iter_covid(tmp_path, CLASSES))


@pytest.mark.parametrize("layout", ["figshare_mat", "covid_png"])
def test_empty_or_missing_data_folder_is_named(tmp_path, layout):
    dataset = DatasetConfig(
        format=layout, raw_dir="data/x", classes=CLASSES, image_size=32, intensity_range=[0, 255], raw_side_range=[8, 512], mask_kind="lung"
    )
    with pytest.raises(DataError, match=r"data/x: data folder not found"):
        list(iter_records(dataset, tmp_path))
    (tmp_path / "data" / "x").mkdir(parents=True)
    with pytest.raises(DataError, match=r"data/x: data folder is empty"):
        list(iter_records(dataset, tmp_path))
