"""The data randomisation test's pieces: the shuffled labels, the map comparison, the training budget."""

import numpy as np
import pytest

from medsaliency.evaluation.shuffled_labels import balanced_counts, compare_maps, rank_correlation, shuffled_labels


def test_shuffled_labels_keep_the_class_counts_and_spread_every_class_over_all_labels():
    y = np.random.default_rng(0).permutation(np.repeat([0, 1, 2], [67, 58, 72]))  # the brain's training split
    shuffled = shuffled_labels(y, 17)
    assert np.bincount(shuffled).tolist() == [67, 58, 72]
    table = np.array([[np.sum((y == c) & (shuffled == k)) for k in range(3)] for c in range(3)])
    expected = np.outer([67, 58, 72], [67, 58, 72]) / 197
    assert np.abs(table - expected).max() < 1  # each class gets the labels in proportion: no class predicts a label
    np.testing.assert_array_equal(shuffled, shuffled_labels(y, 17))
    assert not np.array_equal(shuffled, shuffled_labels(y, 18))


def test_balanced_counts_keep_both_margins():
    for sizes in ([50, 50, 50], [67, 58, 72], [1, 2, 9], [5, 0, 3], [7]):
        counts = balanced_counts(np.array(sizes))
        assert counts.sum(axis=1).tolist() == sizes and counts.sum(axis=0).tolist() == sizes and (counts >= 0).all()


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
