"""Statistics over replicates: which method orderings hold across independently trained models."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import friedmanchisquare, kendalltau

from medsaliency.evaluation.replicates import MeasureStatistics, measure_statistics, replicate_statistics, score_matrix

METHODS = ["a", "b", "c", "d", "random"]
PATIENTS = np.repeat(np.arange(8), 3)


def scores(gaps: list[float], seed: int = 0, replicates: int = 5, noise: float = 0.1) -> np.ndarray:
    """``[R, M, N]``: method quality ``gaps`` (one per method), image noise and a replicate shift per method."""
    rng = np.random.default_rng(seed)
    quality = np.asarray(gaps)[None, :, None]
    return quality + rng.normal(0, noise, (replicates, len(gaps), len(PATIENTS))) + rng.normal(0, noise / 2, (replicates, len(gaps), 1))


def test_clear_gaps_hold_and_equal_methods_do_not():
    stats = measure_statistics(scores([0.9, 0.5, 0.5, 0.1, 0.0]), METHODS, PATIENTS, 1, 400, 0.95, np.random.default_rng(1))
    held = set(stats.holds())
    assert {("a", "b"), ("a", "c"), ("b", "d"), ("d", "random")} <= held
    assert ("b", "c") not in held and ("c", "b") not in held  # equal quality: no order claimed either way
    assert stats.best() == ["a"] and stats.mean_rank[0] == 1.0 and np.isnan(stats.mean_rank[-1])
    assert stats.low[0] < stats.mean[0] < stats.high[0]
    assert stats.beats[0, 3] == pytest.approx(1 - stats.beats[3, 0]) and stats.beats[1, 1] == 0.5


def test_friedman_w_and_retest_tau_are_computed_on_the_replicates_means_without_random():
    cube = scores([0.9, 0.6, 0.3, 0.1, 0.0], seed=2)
    stats = measure_statistics(cube, METHODS, PATIENTS, 1, 100, 0.95, np.random.default_rng(0))
    means = cube[:, :4].mean(axis=2)
    expected = friedmanchisquare(*means.T)
    assert stats.friedman_p == pytest.approx(expected.pvalue) and stats.kendall_w == pytest.approx(expected.statistic / (5 * 3))
    assert stats.retest_tau == pytest.approx(np.mean([kendalltau(means[i], means[j]).statistic for i in range(5) for j in range(i + 1, 5)]))
    assert stats.kendall_w > 0.9 and 0 < stats.alpha <= 1 and stats.nemenyi.shape == (4, 4)


def test_lower_is_better_measures_are_read_the_other_way():
    cube = scores([0.9, 0.5, 0.5, 0.1, 0.0], seed=3)
    higher = measure_statistics(cube, METHODS, PATIENTS, 1, 200, 0.95, np.random.default_rng(0))
    lower = measure_statistics(-cube, METHODS, PATIENTS, -1, 200, 0.95, np.random.default_rng(0))
    assert lower.holds() == higher.holds() and lower.best() == ["a"]
    np.testing.assert_allclose(lower.mean, -higher.mean)
    np.testing.assert_allclose(lower.low, -higher.high)


def test_noisy_replicates_claim_no_order():
    cube = scores([0.5, 0.5, 0.5, 0.5, 0.5], seed=4, noise=0.3)
    stats = measure_statistics(cube, METHODS, PATIENTS, 1, 400, 0.95, np.random.default_rng(0))
    assert len(stats.holds()) <= 2 and stats.best() == [] and stats.friedman_p > 0.01


def test_tables_become_score_matrices_and_statistics_round_trip_through_json():
    ids = np.array([f"{n:03d}" for n in range(len(PATIENTS))])
    cube = scores([0.9, 0.5, 0.4, 0.1, 0.0], seed=5, replicates=3)
    tables = [
        pd.DataFrame([{"id": i, "method": m, "sic_auc": cube[r, k, n]} for k, m in enumerate(METHODS) for n, i in enumerate(ids)])
        for r in range(3)
    ]
    tables[1].loc[0, "sic_auc"] = np.nan  # an excluded image
    assert np.isnan(score_matrix(tables[1], "sic_auc", METHODS, ids)[0, 0])
    statistics = replicate_statistics(tables, METHODS, ids, PATIENTS, 200, 0.95, 0)
    assert list(statistics) == ["sic_auc"]  # only the measures every table has
    stats = statistics["sic_auc"]
    again = MeasureStatistics.from_record(json.loads(json.dumps(stats.record(), allow_nan=False)))
    assert again.holds() == stats.holds() and again.summary() == stats.summary()
    assert stats.summary()["pairs"] == 6 and stats.replicates == 3


def test_one_model_alone_has_no_agreement_across_models():
    stats = measure_statistics(scores([0.9, 0.5, 0.5, 0.1, 0.0], replicates=1), METHODS, PATIENTS, 1, 100, 0.95, np.random.default_rng(0))
    summary = stats.summary()
    assert summary["replicates"] == 1 and summary["kendall_w"] is None and summary["retest_tau"] is None
    assert np.isnan(stats.nemenyi).all() and stats.low[0] < stats.mean[0] < stats.high[0]
