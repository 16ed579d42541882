"""Insertion and deletion curves on a model whose answer is known by hand."""

import numpy as np
import pytest

from medsaliency.evaluation.insertion_deletion import InsertionDeletionSettings, curve_inputs, image_insertion_deletion, taken_masks

SIZE = 8
REGION = (slice(0, 4), slice(0, 4))  # 16 of the 64 pixels: one quarter


def region_mean_model(images: np.ndarray) -> np.ndarray:
    """Probability of class 0 = the mean of the image inside REGION (images in [0, 1]); class 1 the rest."""
    p0 = images[:, REGION[0], REGION[1], 0].mean(axis=(1, 2))
    return np.stack([p0, 1 - p0], axis=1)


def region_image() -> np.ndarray:
    image = np.zeros((SIZE, SIZE, 1), np.float32)
    image[REGION] = 1.0
    return image


def region_saliency(first: bool) -> np.ndarray:
    """REGION's pixels ranked first (``first``) or last, the others in a fixed order."""
    ranks = np.arange(SIZE * SIZE, dtype=np.float64).reshape(SIZE, SIZE) / 100
    inside = np.zeros((SIZE, SIZE), bool)
    inside[REGION] = True
    return ranks + np.where(inside == first, 10.0, 0.0)


def test_taken_masks_take_equal_shares_most_salient_first_ties_in_the_keys_order():
    saliency = np.array([[1.0, 3.0], [2.0, 2.0]])
    masks = taken_masks(saliency, 4, np.array([0, 1, 2, 3]))
    assert masks.sum(axis=(1, 2)).tolist() == [0, 1, 2, 3, 4]
    assert masks[1].tolist() == [[False, True], [False, False]]
    assert masks[2].tolist() == [[False, True], [True, False]]  # the tie 2.0 / 2.0: pixel 2 has the lower key
    assert taken_masks(saliency, 4, np.array([0, 1, 3, 2]))[2].tolist() == [[False, True], [False, True]]  # now pixel 3


def test_a_plateau_is_taken_in_no_fixed_region_first():
    """A map that is 1 on its top half and 0 below: with raster-order ties the 0-plateau would always go
    from its top rows; a random key spreads the first taken zeros over the whole plateau."""
    saliency = np.zeros((8, 8))
    saliency[:4] = 1.0
    ties = np.random.default_rng(0).permutation(64)
    taken = taken_masks(saliency, 8, ties)[5]  # 40 pixels: the 32 ones, then 8 zeros
    assert taken[:4].all() and taken[4:].sum() == 8 and not taken[4].all() and taken[5:].any()  # raster order: row 4 exactly


def test_deletion_and_insertion_areas_match_the_hand_computed_ones():
    """4 steps of 16 pixels. Region first: deletion [1, 0, 0, 0, 0] -> AUC 0.125; insertion
    [b, 1, 1, 1, 1] -> 0.125 (b + 1) + 0.75, b = the blurred baseline's mean in the region.
    Region last: deletion [1, 1, 1, 1, 0] -> 0.875; insertion [b, b, b, b, 1] -> 0.875 b + 0.125."""
    from scipy.ndimage import gaussian_filter

    settings = InsertionDeletionSettings(steps=4, blur_sigma=1.0)
    image = region_image()
    b = float(gaussian_filter(image.astype(np.float64), sigma=(1.0, 1.0, 0))[REGION].mean())
    maps = np.stack([region_saliency(first=True), region_saliency(first=False)])
    curves = image_insertion_deletion(image, maps, 0, region_mean_model, settings, np.arange(SIZE * SIZE))
    np.testing.assert_allclose(curves.deletion, [[1, 0, 0, 0, 0], [1, 1, 1, 1, 0]], atol=1e-6)
    np.testing.assert_allclose(curves.insertion, [[b, 1, 1, 1, 1], [b, b, b, b, 1]], atol=1e-6)
    insertion, deletion = curves.aucs()
    np.testing.assert_allclose(deletion, [0.125, 0.875], atol=1e-6)
    np.testing.assert_allclose(insertion, [0.125 * (b + 1) + 0.75, 0.875 * b + 0.125], atol=1e-6)
    assert 0 < b < 1


def test_curve_inputs_start_at_the_baselines_and_end_at_the_image():
    rng = np.random.default_rng(2)
    image = rng.random((SIZE, SIZE, 3)).astype(np.float32)
    insertion, deletion = curve_inputs(
        image, rng.random((2, SIZE, SIZE)), InsertionDeletionSettings(steps=5, blur_sigma=1.5), np.arange(SIZE**2)
    )
    assert insertion.shape == deletion.shape == (2, 6, SIZE, SIZE, 3)
    np.testing.assert_array_equal(insertion[:, -1], np.broadcast_to(image, (2, *image.shape)))
    np.testing.assert_array_equal(deletion[:, 0], np.broadcast_to(image, (2, *image.shape)))
    assert not deletion[:, -1].any()
    assert np.abs(insertion[:, 0] - image).max() > 0.1 and insertion[0, 0].std() < image.std()


@pytest.mark.parametrize("steps", [2, 7])
def test_every_step_takes_the_pixels_of_the_step_before(steps):
    masks = taken_masks(np.random.default_rng(steps).random((5, 6)), steps, np.arange(30))
    assert all((masks[k] <= masks[k + 1]).all() for k in range(steps)) and masks[-1].all()
