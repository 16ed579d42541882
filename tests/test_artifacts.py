"""The records stages hand each other: written and read back, and bad files named with the fix."""

import json

import numpy as np
import pytest

from medsaliency.errors import DataError
from medsaliency.io.artifacts import MapsFile, RegisteredModel, RegistryRecord, TuneSummary, ValidationVerdict
from medsaliency.io.npz import save_npz


def test_registry_record_round_trips_as_sorted_json_and_lists_the_explained_models(tmp_path):
    models = [RegisteredModel("ds.b", "b", "2", "1", 0.8), RegisteredModel("ds.a", "a", "1", None, None)]
    path = RegistryRecord("ds", models, ["ds.b"]).write(tmp_path / "registry.json")
    text = path.read_text()
    assert text.endswith("}\n") and list(json.loads(text)) == ["dataset", "models", "top_k"]
    assert json.loads(text)["models"][1] == {
        "backbone": "a",
        "challenger_version": "1",
        "champion_macro_f1": None,
        "champion_version": None,
        "name": "ds.a",
    }
    record = RegistryRecord.read(path)
    assert record.models == models and [model.name for model in record.explained()] == ["ds.b"]


def test_missing_or_malformed_register_output_is_named(tmp_path):
    path = tmp_path / "registry.json"
    with pytest.raises(DataError, match=r"registry.json: not found; run the register stage first"):
        RegistryRecord.read(path)
    path.write_text('{"dataset": "ds", "models": [], "top_k": ["ds.net"]}')
    with pytest.raises(DataError, match=r"registry.json: top_k names ds.net that are not among its models; re-run the register stage"):
        RegistryRecord.read(path)
    path.write_text('{"dataset": "ds", "models": [{"name": "ds.net"}], "top_k": []}')
    with pytest.raises(
        DataError, match=r"missing field\(s\) backbone, challenger_version, champion_version, champion_macro_f1; re-run the register"
    ):
        RegistryRecord.read(path)


def test_tune_summary_and_verdict_round_trip_and_name_missing_fields(tmp_path):
    summary = TuneSummary(
        "ds",
        "net",
        "ds.net.data-1.cfg-2",
        0,
        {"optimizer": "sgd"},
        0.9,
        {"macro_f1": 0.8, "recall.a": 0.7, "recall.b": 0.9},
        {"COMPLETE": 2},
    )
    assert TuneSummary.read(summary.write(tmp_path / "net.json")) == summary and summary.min_recall == 0.7
    (tmp_path / "broken.json").write_text('{"dataset": "ds"}')
    with pytest.raises(DataError, match=r"broken.json: missing field\(s\) backbone, study, .*; re-run the tune stage"):
        TuneSummary.read(tmp_path / "broken.json")
    verdict = ValidationVerdict(False, 3, 2, 1, ["expect_x failed"])
    path = verdict.write(tmp_path / "validation.json")
    assert ValidationVerdict.read(path) == verdict and not ValidationVerdict.passed(path)
    assert not ValidationVerdict.passed(tmp_path / "absent.json")


def maps_arrays(**changes) -> dict:
    arrays = {
        "maps": np.zeros((2, 3, 4, 4), np.float32),
        "methods": np.array(["gradcam", "random"]),
        "images": np.zeros((3, 4, 4, 1), np.float32),
        "clean_images": np.zeros((3, 4, 4, 1), np.float32),
        "masks": np.zeros((3, 4, 4), np.uint8),
        "markers": np.zeros((3, 4, 4), np.uint8),
        "ids": np.array(["a", "b", "c"]),
        "patient_ids": np.array(["p1", "p1", "p2"]),
        "labels": np.array([0, 1, 2]),
        "explained_class": np.array([0, 1, 1], np.int32),
        "probabilities": np.full((3, 3), 1 / 3, np.float32),
        "model_name": np.array("ds.net"),
        "model_version": np.array("1"),
        "target_layer": np.array("last_conv"),
        "explain": np.array("predicted"),
    }
    arrays.update(changes)
    return arrays


def test_maps_file_round_trips_byte_for_byte(tmp_path):
    save_npz(tmp_path / "written.npz", **maps_arrays())
    maps = MapsFile.read(tmp_path / "written.npz")
    assert maps.model_name == "ds.net" and maps.method_names == ["gradcam", "random"] and not maps.marker_planted
    maps.write(tmp_path / "again.npz")
    assert (tmp_path / "again.npz").read_bytes() == (tmp_path / "written.npz").read_bytes()


def test_maps_file_problems_are_named(tmp_path):
    path = tmp_path / "ds.net.npz"
    with pytest.raises(DataError, match=r"ds.net.npz: maps not found; run the attribute stage"):
        MapsFile.read(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"ds.net.npz: not a readable .npz"):
        MapsFile.read(path)
    save_npz(path, **{key: value for key, value in maps_arrays().items() if key != "explained_class"})
    with pytest.raises(DataError, match=r"missing array\(s\) explained_class; re-run the attribute stage"):
        MapsFile.read(path)
    broken = maps_arrays()
    broken["maps"][1, 2, 0, 0] = np.nan
    save_npz(path, **broken)
    with pytest.raises(DataError, match=r"maps of shape \(2, 3, 4, 4\) are not finite"):
        MapsFile.read(path)
