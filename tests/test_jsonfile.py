"""Stage JSON: flat metric names nested for DVC."""

import pytest

from medsaliency.errors import DataError
from medsaliency.io.jsonfile import nested, read_json


def test_metric_names_nest_for_dvc_and_nan_becomes_null():
    assert nested({"sic_auc.gradcam": 0.5, "excluded.aic.low_prediction": 2.0, "pointing_game.random": float("nan")}) == {
        "sic_auc": {"gradcam": 0.5},
        "excluded": {"aic": {"low_prediction": 2.0}},
        "pointing_game": {"random": None},
    }


def test_stage_json_problems_are_named(tmp_path):
    with pytest.raises(DataError, match=r"metrics.json: not found; run evaluate"):
        read_json(tmp_path / "metrics.json", "not found; run evaluate")
    (tmp_path / "metrics.json").write_text("{broken")
    with pytest.raises(DataError, match=r"metrics.json: not valid JSON"):
        read_json(tmp_path / "metrics.json", "")
