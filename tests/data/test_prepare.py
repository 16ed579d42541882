"""The prepare stage on tiny phantoms: manifest, arrays, determinism, and nothing lost on failure."""

import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from medsaliency.cli import main
from medsaliency.data.phantoms.drawing import square_marker
from medsaliency.data.preparation import MANIFEST_COLUMNS, read_manifest, resize_mask
from medsaliency.io.npz import load_npz
from medsaliency.io.paths import prepared_dir


@pytest.fixture
def prepared(phantom_project, tmp_path):
    """A private copy of the phantom project with both datasets prepared."""
    root = tmp_path / "project"
    shutil.copytree(phantom_project, root)
    for dataset in ("brain_tumor", "covid_xray"):
        assert main(["--root", str(root), "--params", str(root / "params.yaml"), "prepare", dataset]) == 0
    return root


def test_manifest_has_one_row_per_image_and_the_documented_columns(prepared):
    manifest = read_manifest(prepared / prepared_dir("brain_tumor") / "manifest.csv")
    n_files = len(list((prepared / "data" / "brain_tumor").glob("*.mat")))
    assert list(manifest.columns) == list(MANIFEST_COLUMNS) and len(manifest) == n_files
    assert manifest["id"].is_unique and set(manifest["split"]) == {"train", "val", "test"}
    assert manifest.groupby("patient_id")["split"].nunique().max() == 1
    assert manifest["has_mask"].all() and (manifest["mask_area_fraction"] > 0).all()
    assert (manifest[["height", "width"]] == 128).all().all()


def test_arrays_per_split_match_the_manifest(prepared):
    out = prepared / prepared_dir("covid_xray")
    manifest = read_manifest(out / "manifest.csv")
    for split in ("train", "val", "test"):
        arrays = load_npz(out / f"{split}.npz")
        rows = manifest[manifest["split"] == split]
        assert arrays["x"].shape == (len(rows), 32, 32, 1) and arrays["x"].dtype == np.float32
        assert 0.0 <= arrays["x"].min() and arrays["x"].max() <= 1.0
        assert arrays["mask"].shape == (len(rows), 32, 32) and set(np.unique(arrays["mask"])) <= {0, 1}
        assert arrays["ids"].tolist() == rows["id"].tolist()
        assert arrays["y"].tolist() == rows["label_index"].tolist()
        assert arrays["classes"].tolist() == ["COVID", "Normal", "Lung_Opacity"]


def test_outputs_are_byte_identical_run_to_run(prepared):
    out = prepared / prepared_dir("brain_tumor")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["--root", str(prepared), "--params", str(prepared / "params.yaml"), "prepare", "brain_tumor"]) == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_npz_outputs_load_without_pickle(prepared):
    with np.load(prepared / prepared_dir("brain_tumor") / "test.npz", allow_pickle=False) as archive:
        assert archive["ids"].dtype.kind == "U"


def test_mask_resize_is_nearest_neighbour():
    mask = np.zeros((256, 256), bool)
    mask[100:140, 30:60] = True
    small = resize_mask(mask, 64)
    assert set(np.unique(small)) == {0, 1}
    assert small[30, 10] == 1 and small[10, 10] == 0


def test_bad_input_leaves_earlier_outputs_untouched(prepared, capsys):
    out = prepared / prepared_dir("brain_tumor")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    victim = prepared / "data" / "brain_tumor" / "3.mat"
    victim.write_bytes(victim.read_bytes()[:1500])
    assert main(["--root", str(prepared), "--params", str(prepared / "params.yaml"), "prepare", "brain_tumor"]) == 2
    assert "3.mat: not a readable MATLAB v7.3" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_malformed_params_fail_the_stage_with_the_key(prepared, capsys):
    params = prepared / "params.yaml"
    params.write_text(params.read_text().replace("val_fraction:", "val_fractoin:"))
    assert main(["--root", str(prepared), "--params", str(params), "prepare", "brain_tumor"]) == 2
    err = capsys.readouterr().err
    assert "split.val_fractoin: unknown key" in err and "split.val_fraction: missing key" in err


def test_manifest_keeps_ids_as_strings(tmp_path):
    path = tmp_path / "m.csv"
    pd.DataFrame(
        {"id": ["0042"], "patient_id": ["007"], "label": ["a"], "split": ["train"], "path": ["x"], "mask_kind": ["lesion"]}
    ).to_csv(path, index=False)
    assert read_manifest(path)["id"].tolist() == ["0042"]


def test_the_shortcut_is_planted_in_every_split_at_the_class_corner(prepared):
    clean = {split: load_npz(prepared / prepared_dir("covid_xray") / f"{split}.npz") for split in ("train", "val", "test")}
    params = prepared / "params.yaml"
    raw = yaml.safe_load(params.read_text())
    raw["shortcut"]["enabled"] = True
    params.write_text(yaml.safe_dump(raw))
    assert main(["--root", str(prepared), "--params", str(params), "prepare", "covid_xray"]) == 0
    for split, before in clean.items():
        after = load_npz(prepared / prepared_dir("covid_xray") / f"{split}.npz")
        for x, label, region in zip(after["x"][..., 0], after["y"], after["marker"], strict=True):
            corner = square_marker(32, int(label), raw["shortcut"]["size_fraction"])
            np.testing.assert_array_equal(region, corner)
            assert (x[corner] == raw["shortcut"]["intensity"]).all()
        np.testing.assert_array_equal(np.where(after["marker"][..., None] > 0, before["x"], after["x"]), before["x"])
        assert not np.array_equal(after["x"], before["x"])
    np.testing.assert_array_equal(load_npz(prepared / prepared_dir("covid_xray") / "test.npz")["x_clean"], clean["test"]["x"])
    np.testing.assert_array_equal(clean["test"]["x_clean"], clean["test"]["x"])  # nothing planted by default
