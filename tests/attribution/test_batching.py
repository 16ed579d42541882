"""Fixed-size model calls across blocks, and XRAI's matrix ranking against PAIR's loop."""

import numpy as np
import pytest
from saliency.core import XRAI

from medsaliency.attribution.batching import fixed_batches, gradient_blocks
from medsaliency.attribution.xrai import rank_regions


class RecordingGradients:
    """A stand-in gradient function with a known answer (2 x + class), recording each call's size."""

    def __init__(self):
        self.sizes = []

    def __call__(self, x, classes):
        self.sizes.append(len(x))
        return 2 * x + classes[:, None, None, None]


def test_blocks_share_calls_of_exactly_the_batch_size_and_come_back_in_order():
    rng = np.random.default_rng(0)
    blocks = [(rng.random((rows, 4, 4, 1), dtype=np.float32), np.full(rows, rows, np.int32)) for rows in (3, 9, 1, 14, 5)]
    function = RecordingGradients()
    results = list(gradient_blocks(function, iter(blocks), batch_size=8))
    assert function.sizes == [8, 8, 8, 8]  # 32 rows: the last call padded from 0 to 8 rows
    for (x, classes), result in zip(blocks, results, strict=True):
        np.testing.assert_array_equal(result, 2 * x + classes[:, None, None, None])


def test_fixed_batches_pads_the_last_call_and_cuts_it_back():
    function = RecordingGradients()
    x = np.ones((11, 2, 2, 1), np.float32)
    result = fixed_batches(function, x, 4, np.zeros(11, np.int32))
    assert function.sizes == [4, 4, 4] and result.shape == x.shape
    np.testing.assert_array_equal(result, 2 * x)


def random_segments(rng, side: int, count: int) -> list[np.ndarray]:
    """Overlapping rectangles, some repeated (exact ties), some tiny (below the 50-pixel minimum)."""
    segments = []
    for _ in range(count):
        top, left = rng.integers(0, side - 4, 2)
        height, width = rng.integers(2, side - top), rng.integers(2, side - left)
        mask = np.zeros((side, side), bool)
        mask[top : top + height, left : left + width] = True
        segments.append(mask)
    return segments + segments[:3]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("area_threshold", [1.0, 0.4])
def test_rank_regions_is_pairs_greedy_xrai(seed, area_threshold):
    rng = np.random.default_rng(seed)
    density = rng.random((32, 32), dtype=np.float32)
    density[:8] = 0.5  # a plateau: regions with equal densities
    segments = random_segments(rng, 32, 40)
    theirs, _ = XRAI._xrai(attr=density, segs=segments, area_perc_th=area_threshold, min_pixel_diff=50)
    np.testing.assert_array_equal(rank_regions(density, segments, area_threshold), theirs)


def test_consecutive_slices_cover_every_item_once_in_order_the_last_one_shorter():
    from medsaliency.attribution.batching import consecutive_slices

    assert consecutive_slices(5, 2) == [slice(0, 2), slice(2, 4), slice(4, 5)]
    assert consecutive_slices(4, 2) == [slice(0, 2), slice(2, 4)] and consecutive_slices(0, 3) == []
