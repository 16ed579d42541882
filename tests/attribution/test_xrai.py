"""XRAI's segmentation: PAIR's regions, dilated all at once."""

import numpy as np
import pytest
from saliency.core.xrai import _get_segments_felzenszwalb
from skimage.morphology import dilation, disk

from medsaliency.attribution.xrai import dilate_masks, image_segments


@pytest.mark.parametrize("radius", [1, 3, 5])
def test_dilating_all_masks_at_once_sets_the_pixels_skimage_sets_one_mask_at_a_time(radius):
    rng = np.random.default_rng(radius)
    masks = rng.random((6, 17, 23)) < 0.03
    masks[0] = False  # an empty region stays empty
    masks[1, 0, 0] = masks[1, -1, -1] = masks[2, 0, -1] = True  # corners: nothing leaks past the border
    expected = np.stack([dilation(mask, footprint=disk(radius)) for mask in masks])
    assert np.array_equal(dilate_masks(masks, radius), expected)


def test_the_segments_are_pairs_masks_in_pairs_order():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:32, :32]
    image = ((np.hypot(yy - 12, xx - 20) < 7) * 0.7 + 0.2 * rng.random((32, 32)))[..., None].astype(np.float32)
    ours, pairs = image_segments(image), _get_segments_felzenszwalb(image)
    assert len(ours) == len(pairs) > 6
    assert all(np.array_equal(a, b) for a, b in zip(ours, pairs, strict=True))
