"""Statistics: Holm correction, Wilcoxon against Random, bootstrap intervals."""

import numpy as np
import pytest
from scipy.stats import wilcoxon

from medsaliency.evaluation.stats import (
    bootstrap_auc_interval,
    bootstrap_mean_interval,
    holm,
    patient_bootstrap,
    patient_means,
    wilcoxon_against,
)


def test_holm_by_hand():
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03})
    assert adjusted == pytest.approx({"a": 0.03, "c": 0.06, "b": 0.06})  # 3*0.01, 2*0.03, max(0.06, 1*0.04)
    assert holm({"a": 0.6, "b": 0.5}) == {"b": 1.0, "a": 1.0}


def test_wilcoxon_finds_a_consistent_shift_and_not_noise():
    rng = np.random.default_rng(0)
    random = rng.uniform(0.4, 0.6, 20)
    aucs = np.stack([random + 0.2 + rng.normal(0, 0.01, 20), random + rng.normal(0, 0.05, 20), random])
    aucs[0, 3] = np.nan  # an excluded image is left out of the pairs
    p = wilcoxon_against(aucs, ["better", "same", "random"], "random", np.arange(20))
    assert set(p) == {"better", "same"} and p["better"] < 0.001 and p["same"] > 0.05


def test_bootstrap_interval_brackets_the_estimate_and_narrows_with_more_images():
    x = np.linspace(0, 1, 11)
    rng = np.random.default_rng(1)
    few = np.clip(x[None] ** rng.uniform(0.5, 2, (8, 1)), 0, 1)
    many = np.clip(x[None] ** rng.uniform(0.5, 2, (200, 1)), 0, 1)
    estimate = np.trapezoid(np.median(many, axis=0), x)
    low, high = bootstrap_auc_interval(many, x, "median", 500, 0.95, np.random.default_rng(2), np.arange(200))
    few_low, few_high = bootstrap_auc_interval(few, x, "median", 500, 0.95, np.random.default_rng(2), np.arange(8))
    assert low <= estimate <= high and (high - low) < (few_high - few_low)
    assert np.isnan(bootstrap_auc_interval(few[:1], x, "median", 50, 0.95, np.random.default_rng(0), np.arange(1))).all()


def test_bootstrap_mean_interval_brackets_the_mean_and_needs_two_values():
    values = np.random.default_rng(5).normal(3.0, 1.0, 100)
    low, high = bootstrap_mean_interval(values, 500, 0.95, np.random.default_rng(0), np.arange(100))
    assert low < values.mean() < high and high - low < 0.6
    assert np.isnan(bootstrap_mean_interval(np.array([1.0, np.nan]), 100, 0.95, np.random.default_rng(0), np.arange(2))).all()


def test_a_bootstrap_sample_draws_whole_patients_and_then_images_within_them():
    groups = np.array(["b", "a", "b", "c", "a", "b"])  # a: 2 images, b: 3, c: 1
    sample = patient_bootstrap(groups, 400, np.random.default_rng(0))
    rows = sample.samples()
    assert len(rows) == 400 and all(len(r) == size for r, size in zip(rows, sample.sizes, strict=True))
    assert {int(size) for size in sample.sizes} <= set(range(3, 10)) and len(set(sample.sizes.tolist())) > 3
    for r in rows[:50]:  # every drawn image belongs to a drawn patient, as many rows per draw as it has images
        counts = {g: int(np.sum(groups[r] == g)) for g in "abc"}
        assert counts["a"] % 2 == 0 and counts["b"] % 3 == 0
    assert sample.means(np.arange(6.0))[0] == pytest.approx(np.arange(6.0)[rows[0]].mean())


def test_resampling_patients_keeps_the_interval_honest_where_slices_of_one_patient_resemble_each_other():
    """12 patients x 5 slices whose scores share a patient effect: resampling slices as if independent
    covers the true mean far less often than 95%; resampling patients (then slices) does not."""
    rng = np.random.default_rng(0)
    patients = np.repeat(np.arange(12), 5)
    covered = {"patients": 0, "images": 0}
    trials = 200
    for _ in range(trials):
        values = rng.normal(0, 1, 12)[patients] + rng.normal(0, 0.5, 60)  # true mean 0
        for unit, groups in (("patients", patients), ("images", np.arange(60))):
            low, high = bootstrap_mean_interval(values, 300, 0.95, rng, groups)
            covered[unit] += low <= 0 <= high
    assert covered["patients"] / trials >= 0.9 and covered["images"] / trials <= 0.75


def test_the_test_against_random_compares_patients_not_slices():
    rng = np.random.default_rng(3)
    patients = np.repeat(np.arange(10), 4)
    random = rng.uniform(0.3, 0.5, 40)
    method = random + rng.normal(0.05, 0.1, 10)[patients]
    method[5] = np.nan  # an excluded slice: its patient keeps the other three
    p = wilcoxon_against(np.stack([method, random]), ["method", "random"], "random", patients)["method"]
    by_patient = patient_means(method - random, patients)
    assert len(by_patient) == 10 and p == pytest.approx(wilcoxon(by_patient).pvalue)
    assert p != pytest.approx(wilcoxon(method[~np.isnan(method)] - random[~np.isnan(method)]).pvalue)
