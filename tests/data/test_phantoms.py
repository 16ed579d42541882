"""Synthetic phantoms: real formats, plausible anatomy per class, seeded bytes."""

import hashlib

import numpy as np
import pytest

from medsaliency.config import parse_params
from medsaliency.data.covid import iter_covid
from medsaliency.data.figshare import iter_figshare
from medsaliency.data.formats import write_phantom_datasets
from medsaliency.errors import DataError


def folder_digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def write(raw, root):
    params = parse_params(raw)
    write_phantom_datasets(params, root)
    return params


def test_generation_is_byte_deterministic(tiny_raw, tmp_path):
    write(tiny_raw, tmp_path / "a")
    write(tiny_raw, tmp_path / "b")
    first = folder_digest(tmp_path / "a" / "data")
    assert first == folder_digest(tmp_path / "b" / "data") and len(first) > 40
    tiny_raw["phantoms"]["seed"] += 1
    write(tiny_raw, tmp_path / "c")
    assert folder_digest(tmp_path / "c" / "data") != first


def test_phantoms_are_in_the_real_formats(phantom_project, tiny_params):
    brain = list(iter_figshare(phantom_project / "data" / "brain_tumor", tiny_params.dataset("brain_tumor").classes))
    chest = list(iter_covid(phantom_project / "data" / "covid_xray", tiny_params.dataset("covid_xray").classes))
    assert {r.label for r in brain} == {"meningioma", "glioma", "pituitary"}
    assert len({r.patient_id for r in brain}) == 12 and len(brain) > 12  # several slices per patient
    assert all(r.mask.any() and r.mask.shape == r.image.shape == (128, 128) for r in brain)
    assert all(r.image.shape == (160, 160) and r.mask.shape == (128, 128) for r in chest)


def lesion_centroids(records, label):
    centroids = [np.argwhere(r.mask).mean(axis=0) / r.mask.shape[0] * 2 - 1 for r in records if r.label == label]
    return np.array(centroids)  # (y, x) in [-1, 1]


def test_lesions_sit_where_each_tumour_type_grows(tiny_raw, tmp_path):
    tiny_raw["phantoms"]["brain"]["atypical_fraction"] = 0.0
    params = write(tiny_raw, tmp_path)
    records = list(iter_figshare(tmp_path / "data" / "brain_tumor", params.dataset("brain_tumor").classes))
    pituitary = lesion_centroids(records, "pituitary")
    meningioma = lesion_centroids(records, "meningioma")
    glioma = lesion_centroids(records, "glioma")
    assert np.all(np.abs(pituitary[:, 1]) < 0.08) and np.all(pituitary[:, 0] > 0.3)  # midline, skull base
    assert np.all(np.hypot(*meningioma.T) > 0.5)  # against the skull
    assert np.all(np.hypot(*glioma.T) < 0.55)  # intra-axial
    areas = {label: np.mean([r.mask.mean() for r in records if r.label == label]) for label in ("pituitary", "glioma")}
    assert areas["pituitary"] < areas["glioma"]


def test_covid_findings_are_peripheral_and_normal_lungs_are_clear(tiny_raw, tmp_path):
    tiny_raw["phantoms"]["chest"].update(atypical_fraction=0.0, noise_std=0.0)
    params = write(tiny_raw, tmp_path)
    records = list(iter_covid(tmp_path / "data" / "covid_xray", params.dataset("covid_xray").classes))
    from PIL import Image

    def lung_brightness(record):
        mask = np.asarray(Image.fromarray(record.mask.astype(np.uint8)).resize(record.image.shape[::-1], Image.Resampling.NEAREST), bool)
        return record.image[mask].mean()

    mean = {label: np.mean([lung_brightness(r) for r in records if r.label == label]) for label in ("Normal", "COVID", "Lung_Opacity")}
    assert mean["Normal"] < mean["COVID"] and mean["Normal"] < mean["Lung_Opacity"]


def test_existing_data_is_never_overwritten(tiny_raw, tmp_path):
    target = tmp_path / "data" / "brain_tumor"
    target.mkdir(parents=True)
    (target / "mine.mat").write_bytes(b"precious")
    with pytest.raises(DataError, match=r"data/brain_tumor: already holds files"):
        write(tiny_raw, tmp_path)
    assert (target / "mine.mat").read_bytes() == b"precious"


def test_difficulty_knobs_change_the_images(tiny_raw, tmp_path):
    write(tiny_raw, tmp_path / "a")
    tiny_raw["phantoms"]["brain"]["noise_std"] = 0.0
    write(tiny_raw, tmp_path / "b")
    a, b = (next(iter_figshare(tmp_path / name / "data" / "brain_tumor", ["meningioma", "glioma", "pituitary"])) for name in "ab")
    assert np.abs(np.diff(b.image, axis=1)).mean() < np.abs(np.diff(a.image, axis=1)).mean()
