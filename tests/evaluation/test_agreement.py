"""Kendall tau between the measures' method rankings."""

import numpy as np
import pytest

from medsaliency.evaluation.agreement import critical_tau, ranking_agreement


def test_identical_reversed_and_oriented_rankings():
    methods = ["a", "b", "c", "d"]
    metrics = {
        "sic_auc": {"a": 0.9, "b": 0.7, "c": 0.5, "d": 0.1},
        "insertion_auc": {"a": 0.8, "b": 0.6, "c": 0.4, "d": 0.2},  # same order
        "deletion_auc": {"a": 0.1, "b": 0.2, "c": 0.3, "d": 0.4},  # lower is better: same order once oriented
        "road_gap": {"a": 0.0, "b": 0.1, "c": 0.2, "d": 0.3},  # reversed
        "top_iou": {"a": 1.0, "b": 0.0, "c": 0.0, "d": 0.0},  # not an agreement measure
    }
    names, taus = ranking_agreement(metrics, methods)
    assert names == ["sic_auc", "insertion_auc", "deletion_auc", "road_gap"]
    np.testing.assert_allclose(taus[0], [1, 1, 1, -1])
    np.testing.assert_allclose(np.diag(taus), 1)


def test_methods_without_a_score_are_left_out_and_too_few_give_nan():
    metrics = {"sic_auc": {"a": 0.9, "b": 0.1, "c": 0.5}, "aic_auc": {"a": 0.9, "b": None, "c": 0.5}}
    names, taus = ranking_agreement(metrics, ["a", "b", "c"])
    assert names == ["sic_auc", "aic_auc"] and np.isnan(taus[0, 1])
    metrics["aic_auc"]["b"] = 0.2
    assert ranking_agreement(metrics, ["a", "b", "c"])[1][0, 1] == pytest.approx(1.0)


@pytest.mark.parametrize("n", [5, 6, 8, 11, 12, 20])
def test_the_critical_tau_is_where_scipys_exact_test_crosses_p_005(n):
    from scipy.stats import kendalltau

    tau = critical_tau(n)
    inversions = round((1 - tau) * n * (n - 1) / 4)

    def ranking(d: int) -> list[int]:  # a permutation of n items with d inversions (Lehmer code)
        items, out = list(range(n)), []
        for i in range(n):
            k = min(d, n - 1 - i)
            out.append(items.pop(k))
            d -= k
        return out

    assert kendalltau(range(n), ranking(inversions), method="exact").pvalue <= 0.05
    assert kendalltau(range(n), ranking(inversions + 1), method="exact").pvalue > 0.05
    assert np.isnan(critical_tau(4))
