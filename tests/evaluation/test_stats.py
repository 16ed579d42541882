"""Statistics: Holm correction, Wilcoxon against Random, bootstrap intervals."""

import numpy as np
import pytest

from medsaliency.evaluation.stats import bootstrap_auc_interval, bootstrap_mean_interval, holm, wilcoxon_against


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


def test_bootstrap_mean_interval_brackets_the_mean_and_needs_two_values():
    values = np.random.default_rng(5).normal(3.0, 1.0, 100)
    low, high = bootstrap_mean_interval(values, 500, 0.95, np.random.default_rng(0))
    assert low < values.mean() < high and high - low < 0.6
    assert np.isnan(bootstrap_mean_interval(np.array([1.0, np.nan]), 100, 0.95, np.random.default_rng(0))).all()
