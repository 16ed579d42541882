"""The Great Expectations suite: green on prepared phantoms, red with names on each corruption."""

import json
import shutil

import pytest

from medsaliency.cli import main
from medsaliency.data.expectations import validate_manifest
from medsaliency.data.preparation import read_manifest, write_manifest
from medsaliency.io.paths import data_docs_dir, prepared_dir, validation_file


@pytest.fixture(scope="module")
def prepared_root(phantom_project, tmp_path_factory):
    root = tmp_path_factory.mktemp("validate") / "project"
    shutil.copytree(phantom_project, root)
    assert main(["--root", str(root), "--params", str(root / "params.yaml"), "prepare", "brain_tumor"]) == 0
    return root


@pytest.fixture
def manifest(prepared_root):
    return read_manifest(prepared_root / prepared_dir("brain_tumor") / "manifest.csv")


@pytest.fixture
def brain(tiny_params):
    return tiny_params.dataset("brain_tumor")


def failures(manifest, brain, tiny_params):
    report = validate_manifest(manifest, brain, tiny_params.validate_, "brain_tumor")
    return report, {(f.expectation, f.column): f for f in report.failures}


def test_prepared_phantoms_pass_every_expectation(manifest, brain, tiny_params):
    report, failed = failures(manifest, brain, tiny_params)
    assert report.success and not failed and len(report.outcomes) > 25


def test_patient_in_two_splits_is_caught_and_named(manifest, brain, tiny_params):
    patient = manifest.loc[0, "patient_id"]
    first_row_of_patient = manifest.index[manifest["patient_id"] == patient][0]
    manifest.loc[first_row_of_patient, "split"] = "test" if manifest.loc[first_row_of_patient, "split"] != "test" else "train"
    report, failed = failures(manifest, brain, tiny_params)
    leak = failed[("expect_column_values_to_be_in_set", "check_patient_splits")]
    assert not report.success and f"(patient {patient})" in leak.describe()


def test_duplicate_id_is_caught_and_named(manifest, brain, tiny_params):
    manifest.loc[3, "id"] = manifest.loc[2, "id"]
    _, failed = failures(manifest, brain, tiny_params)
    assert manifest.loc[2, "id"] in failed[("expect_column_values_to_be_unique", "id")].offending


def test_label_outside_the_classes(manifest, brain, tiny_params):
    manifest.loc[1, "label"] = "astrocytoma"
    _, failed = failures(manifest, brain, tiny_params)
    assert failed[("expect_column_values_to_be_in_set", "label")].offending == ["astrocytoma"]


def test_non_finite_and_out_of_range_intensities(manifest, brain, tiny_params):
    manifest = manifest.astype({"intensity_max": float, "intensity_mean": float, "intensity_min": float})
    manifest.loc[4, "intensity_max"] = float("inf")
    manifest.loc[5, "intensity_mean"] = float("nan")
    manifest.loc[6, "intensity_min"] = -5.0
    _, failed = failures(manifest, brain, tiny_params)
    assert failed[("expect_column_values_to_be_between", "intensity_max")].offending == [float("inf")]
    assert ("expect_column_values_to_not_be_null", "intensity_mean") in failed
    assert failed[("expect_column_values_to_be_between", "intensity_min")].offending == [-5.0]


def test_wrong_image_shape_and_missing_mask(manifest, brain, tiny_params):
    manifest.loc[7, "height"] = 9999
    manifest.loc[8, "has_mask"] = False
    _, failed = failures(manifest, brain, tiny_params)
    assert failed[("expect_column_values_to_be_between", "height")].offending == [9999]
    assert ("expect_column_values_to_be_in_set", "has_mask") in failed


def test_class_missing_from_a_split(manifest, brain, tiny_params):
    dropped = manifest[~((manifest["split"] == "val") & (manifest["label"] == "glioma"))].reset_index(drop=True)
    _, failed = failures(dropped, brain, tiny_params)
    failure = failed[("expect_column_distinct_values_to_contain_set", "check_split_label")]
    assert failure.missing == ["val/glioma"] and "missing values ['val/glioma']" in failure.describe()


def test_class_imbalance_beyond_tolerance(manifest, brain, tiny_params):
    keep = manifest[(manifest["label"] != "pituitary") | (manifest.index % 4 == 0)].reset_index(drop=True)
    strict = tiny_params.validate_.model_copy(update={"max_class_ratio": 1.5})
    report = validate_manifest(keep, brain, strict, "brain_tumor")
    (imbalance,) = [f for f in report.failures if f.column == "check_label_count"]
    assert imbalance.rows and all("id" in str(row) for row in imbalance.rows)


def test_schema_change_is_caught(manifest, brain, tiny_params):
    _, failed = failures(manifest.drop(columns=["intensity_std"]), brain, tiny_params)
    assert ("expect_table_columns_to_match_set", None) in failed


def test_stage_exits_non_zero_prints_failures_writes_docs_and_keeps_inputs(prepared_root, capsys):
    root = prepared_root
    manifest_path = root / prepared_dir("brain_tumor") / "manifest.csv"
    original = manifest_path.read_bytes()
    args = ["--root", str(root), "--params", str(root / "params.yaml"), "validate", "brain_tumor"]
    assert main(args) == 0
    verdict = json.loads((root / validation_file("brain_tumor")).read_text())
    assert verdict["success"] is True and verdict["unsuccessful_expectations"] == 0
    try:
        manifest = read_manifest(manifest_path)
        manifest.loc[0, "label"] = "astrocytoma"
        write_manifest(manifest, manifest_path)
        edited = manifest_path.read_bytes()
        assert main(args) == 1
        err = capsys.readouterr().err
        assert "FAILED expect_column_values_to_be_in_set on column 'label': offending values ['astrocytoma']" in err
        verdict = json.loads((root / validation_file("brain_tumor")).read_text())
        assert verdict["success"] is False and verdict["unsuccessful_expectations"] >= 1
        docs = root / data_docs_dir("brain_tumor") / "index.html"
        assert docs.is_file() and "brain_tumor_manifest" in docs.read_text()
        assert manifest_path.read_bytes() == edited
    finally:
        manifest_path.write_bytes(original)


def test_verdict_file_is_deterministic(prepared_root):
    args = ["--root", str(prepared_root), "--params", str(prepared_root / "params.yaml"), "validate", "brain_tumor"]
    main(args)
    first = (prepared_root / validation_file("brain_tumor")).read_bytes()
    main(args)
    assert (prepared_root / validation_file("brain_tumor")).read_bytes() == first
