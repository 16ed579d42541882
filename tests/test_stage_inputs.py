"""Bad inputs to the attribute, evaluate and report stages get errors that name the file and the fix."""

import numpy as np
import pytest

from medsaliency.errors import DataError
from medsaliency.jsonfile import read_json
from medsaliency.npz import save_npz
from medsaliency.stages.attribute import top_models
from medsaliency.stages.evaluate import MAPS_KEYS, load_maps


def test_missing_or_malformed_register_output_is_named(tmp_path):
    with pytest.raises(DataError, match=r"registry.json: not found; run the register stage first"):
        top_models(tmp_path / "registry.json")
    (tmp_path / "registry.json").write_text('{"models": [], "top_k": ["ds.net"]}')
    with pytest.raises(DataError, match=r"registry.json: not a register output \(KeyError: 'ds.net'\)"):
        top_models(tmp_path / "registry.json")


def maps_arrays(**changes) -> dict:
    arrays = {key: np.zeros(1) for key in MAPS_KEYS}
    arrays.update(maps=np.zeros((2, 3, 4, 4), np.float32), methods=np.array(["gradcam", "random"]), ids=np.array(["a", "b", "c"]))
    arrays.update(changes)
    return arrays


def test_maps_file_problems_are_named(tmp_path):
    path = tmp_path / "ds.net.npz"
    with pytest.raises(DataError, match=r"ds.net.npz: maps not found; run the attribute stage"):
        load_maps(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"ds.net.npz: not a readable .npz"):
        load_maps(path)
    save_npz(path, **{key: value for key, value in maps_arrays().items() if key != "explained_class"})
    with pytest.raises(DataError, match=r"missing array\(s\) explained_class; re-run the attribute stage"):
        load_maps(path)
    broken = maps_arrays()
    broken["maps"][1, 2, 0, 0] = np.nan
    save_npz(path, **broken)
    with pytest.raises(DataError, match=r"maps of shape \(2, 3, 4, 4\) are not finite"):
        load_maps(path)
    save_npz(path, **maps_arrays())
    assert load_maps(path)["maps"].shape == (2, 3, 4, 4)


def test_stage_json_problems_are_named(tmp_path):
    with pytest.raises(DataError, match=r"metrics.json: not found; run evaluate"):
        read_json(tmp_path / "metrics.json", "not found; run evaluate")
    (tmp_path / "metrics.json").write_text("{broken")
    with pytest.raises(DataError, match=r"metrics.json: not valid JSON"):
        read_json(tmp_path / "metrics.json", "")
