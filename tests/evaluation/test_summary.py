"""One model's evaluation as numbers: score metrics with intervals and tests, shortcut metrics, the per-image table."""

import numpy as np
import pytest
from conftest import tiny_params_raw

from medsaliency.config import parse_params
from medsaliency.evaluation.pic import PicResults
from medsaliency.evaluation.summary import per_image_table, score_metrics, shortcut_metrics


def test_localisation_metrics_carry_an_interval_and_a_test_against_random():
    config = parse_params(tiny_params_raw()).evaluation
    rng = np.random.default_rng(4)
    scores = {"gradcam": rng.uniform(0.5, 0.9, 30), "smoothgrad": rng.uniform(0.0, 0.1, 30), "random": rng.uniform(0.0, 0.1, 30)}
    scores["smoothgrad"][2] = np.nan  # an image without a lesion has no score
    metrics = score_metrics("mass_in_mask", scores, config, True, np.arange(30))
    assert metrics["mass_in_mask.gradcam"] == pytest.approx(scores["gradcam"].mean())
    assert metrics["mass_in_mask_ci_low.gradcam"] < metrics["mass_in_mask.gradcam"] < metrics["mass_in_mask_ci_high.gradcam"]
    assert metrics["mass_in_mask.smoothgrad"] == pytest.approx(np.nanmean(scores["smoothgrad"]))
    assert metrics["mass_in_mask_p_vs_random.gradcam"] < 0.001 < 0.05 < metrics["mass_in_mask_p_vs_random.smoothgrad"]
    assert "mass_in_mask_p_vs_random.random" not in metrics
    assert "sanity_ssim_p_vs_random.gradcam" not in score_metrics("sanity_ssim", scores, config, False, np.arange(30))


def test_shortcut_metrics_measure_the_accuracy_lost_without_the_marker():
    labels = np.array([0, 1, 2, 2])
    with_marker = np.eye(3)[[0, 1, 2, 2]]
    without_marker = np.eye(3)[[0, 0, 0, 2]]
    assert shortcut_metrics(labels, with_marker, without_marker, planted=True) == {
        "shortcut.planted": 1.0,
        "shortcut.accuracy_with_marker": 1.0,
        "shortcut.accuracy_without_marker": 0.5,
    }


def test_per_image_table_has_a_row_per_image_and_method():
    pic = PicResults(np.linspace(0, 1, 3), {"aic": np.array([[0.1, np.nan]]), "sic": np.array([[0.2, 0.3]])}, {})
    table = per_image_table(
        np.array(["a", "b"]), np.array([0, 1]), np.array([0, 0]), ["gradcam"], pic, {"sanity_ssim": {"gradcam": np.array([0.9, 0.8])}}
    )
    assert table.to_dict("records")[1] == {
        "id": "b",
        "label": 1,
        "explained_class": 0,
        "method": "gradcam",
        "aic_auc": pytest.approx(np.nan, nan_ok=True),
        "sic_auc": 0.3,
        "sanity_ssim": 0.8,
    }
