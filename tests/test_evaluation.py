"""Statistics, localisation, the sanity check and the metric layout of the evaluate stage."""

import numpy as np
import pytest
from conftest import repo_params_raw

from medsaliency.config import parse_params
from medsaliency.evaluation.localization import mass_in_mask, pointing_game, top_fraction_iou
from medsaliency.evaluation.pic import PicResults
from medsaliency.evaluation.sanity import map_similarity, randomized_copy
from medsaliency.evaluation.stats import bootstrap_auc_interval, bootstrap_mean_interval, holm, wilcoxon_against
from medsaliency.evaluation.summary import per_image_table, score_metrics, shortcut_metrics
from medsaliency.models.backbones import build_classifier
from medsaliency.stages.evaluate import nest


def test_holm_by_hand():
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03})
    assert adjusted == pytest.approx({"a": 0.03, "c": 0.06, "b": 0.06})  # 3*0.01, 2*0.03, max(0.06, 1*0.04)
    assert holm({"a": 0.6, "b": 0.5}) == {"b": 1.0, "a": 1.0}


def test_wilcoxon_finds_a_consistent_shift_and_not_noise():
    rng = np.random.default_rng(0)
    random = rng.uniform(0.4, 0.6, 20)
    aucs = np.stack([random + 0.2 + rng.normal(0, 0.01, 20), random + rng.normal(0, 0.05, 20), random])
    aucs[0, 3] = np.nan  # an excluded image is left out of the pairs
    p = wilcoxon_against(aucs, ["better", "same", "random"], "random")
    assert set(p) == {"better", "same"} and p["better"] < 0.001 and p["same"] > 0.05


def test_bootstrap_interval_brackets_the_estimate_and_narrows_with_more_images():
    x = np.linspace(0, 1, 11)
    rng = np.random.default_rng(1)
    few = np.clip(x[None] ** rng.uniform(0.5, 2, (8, 1)), 0, 1)
    many = np.clip(x[None] ** rng.uniform(0.5, 2, (200, 1)), 0, 1)
    estimate = np.trapezoid(np.median(many, axis=0), x)
    low, high = bootstrap_auc_interval(many, x, "median", 500, 0.95, np.random.default_rng(2))
    few_low, few_high = bootstrap_auc_interval(few, x, "median", 500, 0.95, np.random.default_rng(2))
    assert low <= estimate <= high and (high - low) < (few_high - few_low)
    assert np.isnan(bootstrap_auc_interval(few[:1], x, "median", 50, 0.95, np.random.default_rng(0))).all()


def test_localisation_scores_by_hand():
    masks = np.zeros((3, 4, 4), np.uint8)
    masks[0, :2, :2] = 1
    masks[1, 2:, 2:] = 1
    maps = np.zeros((3, 4, 4), np.float32)
    maps[0, 0, 0], maps[0, 3, 3] = 3.0, 1.0  # peak inside, 3/4 of the mass inside
    maps[1, 0, 0] = 1.0  # peak outside
    np.testing.assert_array_equal(pointing_game(maps, masks), [1.0, 0.0, np.nan])
    np.testing.assert_allclose(mass_in_mask(maps, masks), [0.75, 0.0, np.nan])
    np.testing.assert_allclose(top_fraction_iou(maps, masks, 0.25)[:1], [1 / 4])  # top 4 pixels: all ties at 0 and above


def test_sanity_ssim_is_one_for_identical_maps_and_low_for_unrelated():
    rng = np.random.default_rng(3)
    maps = rng.random((2, 16, 16)).astype(np.float32)
    np.testing.assert_allclose(map_similarity(maps, maps * 5 + 1), [1.0, 1.0])
    assert (map_similarity(maps, rng.random((2, 16, 16))) < 0.3).all()


def test_randomized_copy_has_the_architecture_and_new_weights():
    model = build_classifier("small_cnn", 16, 3, 0.0)
    copy = randomized_copy(model, seed=1)
    assert [layer.name for layer in copy.layers] == [layer.name for layer in model.layers]
    kernels = [(a, b) for a, b in zip(model.get_weights(), copy.get_weights(), strict=True) if a.ndim == 4]
    assert kernels and all(not np.array_equal(a, b) for a, b in kernels)
    again = randomized_copy(model, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(copy.get_weights(), again.get_weights(), strict=True))


def test_metric_names_nest_for_dvc_and_nan_becomes_null():
    assert nest({"sic_auc.gradcam": 0.5, "excluded.aic.low_prediction": 2.0, "pointing_game.random": float("nan")}) == {
        "sic_auc": {"gradcam": 0.5},
        "excluded": {"aic": {"low_prediction": 2.0}},
        "pointing_game": {"random": None},
    }


def test_localisation_metrics_carry_an_interval_and_a_test_against_random():
    config = parse_params(repo_params_raw()).evaluation
    rng = np.random.default_rng(4)
    scores = {"gradcam": rng.uniform(0.5, 0.9, 30), "smoothgrad": rng.uniform(0.0, 0.1, 30), "random": rng.uniform(0.0, 0.1, 30)}
    scores["smoothgrad"][2] = np.nan  # an image without a lesion has no score
    metrics = score_metrics("mass_in_mask", scores, config, test_against_random=True)
    assert metrics["mass_in_mask.gradcam"] == pytest.approx(scores["gradcam"].mean())
    assert metrics["mass_in_mask_ci_low.gradcam"] < metrics["mass_in_mask.gradcam"] < metrics["mass_in_mask_ci_high.gradcam"]
    assert metrics["mass_in_mask.smoothgrad"] == pytest.approx(np.nanmean(scores["smoothgrad"]))
    assert metrics["mass_in_mask_p_vs_random.gradcam"] < 0.001 < 0.05 < metrics["mass_in_mask_p_vs_random.smoothgrad"]
    assert "mass_in_mask_p_vs_random.random" not in metrics
    assert "sanity_ssim_p_vs_random.gradcam" not in score_metrics("sanity_ssim", scores, config, test_against_random=False)


def test_bootstrap_mean_interval_brackets_the_mean_and_needs_two_values():
    values = np.random.default_rng(5).normal(3.0, 1.0, 100)
    low, high = bootstrap_mean_interval(values, 500, 0.95, np.random.default_rng(0))
    assert low < values.mean() < high and high - low < 0.6
    assert np.isnan(bootstrap_mean_interval(np.array([1.0, np.nan]), 100, 0.95, np.random.default_rng(0))).all()


def test_shortcut_metrics_measure_the_accuracy_lost_without_the_marker():
    labels = np.array([0, 1, 2, 2])
    with_marker = np.eye(3)[[0, 1, 2, 2]]
    without_marker = np.eye(3)[[0, 0, 0, 2]]
    assert shortcut_metrics(labels, with_marker, without_marker, planted=True) == {
        "shortcut.planted": 1.0, "shortcut.accuracy_with_marker": 1.0, "shortcut.accuracy_without_marker": 0.5,
    }  # fmt: skip


def test_per_image_table_has_a_row_per_image_and_method():
    pic = PicResults(np.linspace(0, 1, 3), {"aic": np.array([[0.1, np.nan]]), "sic": np.array([[0.2, 0.3]])}, {})
    table = per_image_table(np.array(["a", "b"]), np.array([0, 1]), np.array([0, 0]), ["gradcam"], pic, {"sanity_ssim": {"gradcam": np.array([0.9, 0.8])}})
    assert table.to_dict("records")[1] == {"id": "b", "label": 1, "explained_class": 0, "method": "gradcam", "aic_auc": pytest.approx(np.nan, nan_ok=True), "sic_auc": 0.3, "sanity_ssim": 0.8}
