"""Reactivity to weight randomisation: the ratio, where it is defined, which measures and methods get one."""

import numpy as np
import pytest

from medsaliency.evaluation.reactivity import median_reactivity, reactivity, reactivity_metrics


def test_reactivity_is_one_at_randoms_score_zero_at_the_trained_score_and_uses_images_all_three_scored():
    trained, reference = np.array([0.8, 0.6, np.nan]), np.array([0.2, 0.2, 0.2])
    assert reactivity(trained, np.array([0.2, 0.2, 0.9]), reference) == pytest.approx(1.0)
    assert reactivity(trained, trained.copy(), reference) == pytest.approx(0.0)
    assert reactivity(trained, np.array([0.5, 0.4, 0.0]), reference) == pytest.approx(0.5)
    assert reactivity(trained, np.array([0.95, 0.95, 0.0]), reference) == pytest.approx(-0.5)  # scores better than trained
    assert np.isnan(reactivity(reference, trained, reference))  # trained level with Random: undefined
    assert np.isnan(reactivity(np.array([np.nan]), np.array([1.0]), np.array([1.0])))


def test_reactivity_metrics_cover_tested_measures_and_non_random_methods_defined_where_the_method_beats_random():
    s = 8
    trained = {
        "deletion_auc": {"a": np.full(s, 0.2), "b": np.full(s, 0.5), "random": np.full(s, 0.6)},  # lower is better
        "sparseness": {"a": np.ones(s), "random": np.zeros(s)},  # no better direction: no reactivity
        "sanity_ssim": {"a": np.ones(s), "random": np.ones(s)},  # re-explains: no reactivity
    }
    randomized = {
        "deletion_auc": {"a": np.full(s, 0.5), "b": np.full(s, 0.6), "random": np.full(s, 0.6)},
        "sparseness": {"a": np.zeros(s), "random": np.zeros(s)},
        "sanity_ssim": {"a": np.zeros(s), "random": np.zeros(s)},
    }
    metrics = reactivity_metrics(trained, randomized, {"deletion_auc": {"a"}})
    assert set(metrics) == {"reactivity.deletion_auc.a", "reactivity.deletion_auc.b"}
    assert metrics["reactivity.deletion_auc.a"] == pytest.approx(0.75)
    assert np.isnan(metrics["reactivity.deletion_auc.b"])  # b not shown to beat Random
    assert median_reactivity({"a": 0.75, "b": None, "c": float("nan"), "d": 0.25}) == pytest.approx(0.5)
    assert median_reactivity({"b": None}) is None
