"""The data randomisation test's pieces: the shuffled labels, the map comparison, the training budget."""

import numpy as np
import pytest

from medsaliency.evaluation.data_randomization import compare_maps, rank_correlation, shuffled_labels


def test_shuffled_labels_keep_the_class_counts_and_break_the_links():
    y = np.repeat([0, 1, 2], 50)
    shuffled = shuffled_labels(y, 17)
    assert np.bincount(shuffled).tolist() == [50, 50, 50] and np.mean(shuffled == y) < 0.6
    np.testing.assert_array_equal(shuffled, shuffled_labels(y, 17))
    assert not np.array_equal(shuffled, shuffled_labels(y, 18))


def test_rank_correlation_of_same_reversed_and_constant_maps():
    maps = np.random.default_rng(1).random((2, 6, 7))
    np.testing.assert_allclose(rank_correlation(maps, maps * 3 + 1), [1, 1])
    np.testing.assert_allclose(rank_correlation(maps, -maps), [-1, -1])
    assert np.isnan(rank_correlation(maps[:1], np.zeros((1, 6, 7))))[0]
    from scipy.stats import spearmanr

    other = np.random.default_rng(2).random((1, 6, 7))
    assert rank_correlation(maps[:1], other)[0] == pytest.approx(spearmanr(maps[0].ravel(), other[0].ravel()).statistic)


def test_compare_maps_gives_both_measures_per_method():
    rng = np.random.default_rng(3)
    trained = {"a": rng.random((3, 8, 8)), "b": rng.random((3, 8, 8))}
    scores = compare_maps(trained, {"a": trained["a"], "b": rng.random((3, 8, 8))})
    assert set(scores) == {"ssim", "spearman"} and set(scores["ssim"]) == {"a", "b"}
    np.testing.assert_allclose(scores["ssim"]["a"], 1) and np.testing.assert_allclose(scores["spearman"]["a"], 1)
    assert (np.abs(scores["spearman"]["b"]) < 0.5).all()
