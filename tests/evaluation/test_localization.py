"""Localisation against lesion masks: pointing game, relevance mass, IoU of the top pixels."""

import numpy as np

from medsaliency.evaluation.localization import mass_in_mask, pointing_game, top_fraction_coverage, top_fraction_iou


def test_pointing_game_and_mass_in_mask_by_hand():
    masks = np.zeros((3, 4, 4), np.uint8)
    masks[0, :2, :2] = 1
    masks[1, 2:, 2:] = 1
    maps = np.zeros((3, 4, 4), np.float32)
    maps[0, 0, 0], maps[0, 3, 3] = 3.0, 1.0  # peak inside, 3/4 of the mass inside
    maps[1, 0, 0] = 1.0  # peak outside
    np.testing.assert_array_equal(pointing_game(maps, masks), [1.0, 0.0, np.nan])  # no lesion: no score
    np.testing.assert_allclose(mass_in_mask(maps, masks), [0.75, 0.0, np.nan])


def test_a_tied_maximum_scores_its_share_inside_the_mask_not_a_sure_hit():
    masks = np.zeros((2, 4, 4), np.uint8)
    masks[:, :2, :2] = 1  # a quarter of the image
    maps = np.zeros((2, 4, 4), np.float32)  # map 0: flat, every pixel ties for the maximum
    maps[1, 0, 0] = maps[1, 0, 1] = maps[1, 3, 3] = 1.0  # map 1: three tied peaks, two inside
    np.testing.assert_allclose(pointing_game(maps, masks), [0.25, 2 / 3])


def test_top_fraction_iou_by_hand():
    ranks = np.arange(16, dtype=np.float32).reshape(4, 4)  # distinct values: the top 25% is the last row
    maps = np.stack([ranks, ranks, ranks])
    masks = np.zeros((3, 4, 4), np.uint8)
    masks[0, 2:, 2:] = 1  # 2 of its 4 pixels in the last row: IoU 2 / (4 + 4 - 2)
    masks[1, 3, :] = 1  # exactly the last row
    np.testing.assert_allclose(top_fraction_iou(maps, masks, 0.25), [1 / 3, 1.0, np.nan])
    np.testing.assert_allclose(top_fraction_iou(maps, masks, 0.5)[:2], [4 / 8, 4 / 8])  # the last two rows hold both masks


def test_top_fraction_iou_shares_the_pixels_tied_at_the_cut():
    """A CAM-like map, zero outside a small blob: the top 25% is the blob and a share of the zeros,
    never every zero pixel, and no zero pixel counts more than another for where it lies."""
    masks = np.zeros((2, 4, 4), np.uint8)
    masks[:, :2, :] = 1  # the top half: 8 pixels
    maps = np.zeros((2, 4, 4), np.float32)
    maps[0, 0, 0] = maps[0, 0, 1] = 1.0  # 2 of k = 4 above the cut, both in the mask; 14 zeros tie for 2 places
    overlap = 2 + (2 / 14) * 6  # 6 of the tied zeros lie in the mask
    flat = 4 * 8 / 16  # map 1 is flat: k = 4 places shared by all 16 pixels, 8 in the mask
    np.testing.assert_allclose(top_fraction_iou(maps, masks, 0.25), [overlap / (4 + 8 - overlap), flat / (4 + 8 - flat)])


def test_top_fraction_coverage_is_the_share_of_the_region_among_the_most_salient_pixels():
    """Confounder sensitivity: a map on the marker covers it; a flat map covers the top fraction of it, however sharp."""
    markers = np.zeros((3, 4, 4), np.uint8)
    markers[:, 0, :2] = 1  # a 2-pixel marker
    maps = np.zeros((3, 4, 4), np.float32)
    maps[0, 0, 0] = maps[0, 0, 1] = 1.0  # both marker pixels in the top 4 (25%)
    maps[1, 3, 3] = 100.0  # one sharp peak off the marker: the 15 zeros share the 3 places left
    np.testing.assert_allclose(top_fraction_coverage(maps, markers, 0.25), [1.0, 3 / 15, 0.25])
