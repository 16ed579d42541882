"""ROAD: the noisy linear imputation and the MoRF curve, checked against Quantus 0.6.0."""

import numpy as np
import pytest
from conftest import REGION, region_model

from medsaliency.evaluation.road import NEIGHBOUR_WEIGHTS, ImageRoad, RoadSettings, image_road, noisy_linear_imputation, removal_masks


def test_imputation_is_a_neighbour_mean_that_keeps_known_pixels():
    """A linear ramp is its own neighbour mean: removed pixels come back exactly (no noise)."""
    ramp = np.add.outer(np.arange(10.0), 2 * np.arange(12.0))[..., None] / 40
    removed = np.zeros((10, 12), bool)
    removed[3:7, 4:9] = True
    np.testing.assert_allclose(noisy_linear_imputation(ramp, removed, 0.0, np.random.default_rng(0)), ramp, atol=1e-12)
    noisy = noisy_linear_imputation(ramp, removed, 0.05, np.random.default_rng(0))
    np.testing.assert_array_equal(noisy[~removed], ramp[~removed])
    assert 0.02 < np.std((noisy - ramp)[removed]) < 0.08
    np.testing.assert_array_equal(noisy, noisy_linear_imputation(ramp, removed, 0.05, np.random.default_rng(0)))


def test_removal_masks_most_and_least_relevant_first():
    saliency = np.arange(20.0).reshape(4, 5)
    masks = removal_masks(saliency, (10, 50), np.random.default_rng(0).permutation(20))  # no ties: the key changes nothing
    assert masks.sum(axis=(2, 3)).tolist() == [[2, 10], [2, 10]]
    assert masks[0, 0].ravel().nonzero()[0].tolist() == [18, 19] and masks[1, 0].ravel().nonzero()[0].tolist() == [0, 1]
    tied = np.zeros((4, 5))
    keys = np.random.default_rng(1).permutation(20)
    assert np.flatnonzero(removal_masks(tied, (10,), keys)[0, 0]).tolist() == sorted(np.argsort(keys)[:2].tolist())


def test_scores_are_mean_heights_and_the_gap_is_lerf_minus_morf():
    probabilities = np.zeros((2, 1, 3, 2))
    probabilities[0, 0, :, 1] = [0.6, 0.2, 0.0]  # MoRF falls
    probabilities[1, 0, :, 1] = [0.9, 0.9, 0.6]  # LeRF holds
    scores = ImageRoad(probabilities, 1).scores((10, 50, 90))
    np.testing.assert_allclose([scores["morf"][0], scores["lerf"][0], scores["gap"][0]], [0.25, 0.825, 0.575])


def test_imputation_and_morf_accuracies_match_quantus():
    """Noise 0 on both sides (Quantus draws its noise from NumPy's global generator): the same
    imputed images to 1e-10, and per percentage the same share of images still predicted as their
    class (Quantus ROAD scores MoRF only, as accuracy). Maps without ties: Quantus sorts unstably."""
    import quantus  # a test dependency in the lock: an import failure (libGL missing) fails the test, never skips it
    from quantus.functions.perturb_func import noisy_linear_imputation as quantus_imputation

    from medsaliency.attribution.explained_model import ExplainedModel

    rng = np.random.default_rng(4)
    inside = np.zeros((24, 24), bool)
    inside[REGION] = True
    images = rng.random((8, 24, 24, 1)).astype(np.float32) * 0.3
    images[:4, inside] += 0.7  # class 0: the region is bright
    images[4:, ~inside] += 0.35  # class 1: the rest is brighter
    maps = rng.random((8, 24, 24)) + 2 * inside * rng.random((8, 1, 1))  # the region most salient, more or less clearly
    removed = removal_masks(maps[0], (30,), np.arange(24 * 24))[0, 0]
    ours = noisy_linear_imputation(images[0], removed, 0.0, rng)
    theirs = quantus_imputation(np.moveaxis(images[0], -1, 0).astype(np.float64), np.flatnonzero(removed.ravel()), noise=0.0)
    np.testing.assert_allclose(ours, np.moveaxis(theirs, 0, -1), atol=1e-10)

    model = region_model()
    explained = ExplainedModel(model, "regions")
    labels = explained.probabilities(images).argmax(axis=1)
    settings = RoadSettings(percentages=(10, 40, 70), noise=0.0)
    ours = np.stack(
        [
            image_road(images[n], maps[n][None], int(labels[n]), explained.probabilities, settings, rng, np.arange(24 * 24)).probabilities
            for n in range(8)
        ]
    )
    our_accuracy = (ours[:, 0, 0].argmax(axis=-1) == labels[:, None]).mean(axis=0)
    metric = quantus.ROAD(
        noise=0.0, percentages=list(settings.percentages), normalise=False, disable_warnings=True, display_progressbar=False
    )
    theirs = metric(model=model, x_batch=images, y_batch=labels, a_batch=maps[:, None], channel_first=False)
    np.testing.assert_allclose(our_accuracy, [theirs[p] for p in settings.percentages])
    assert labels.tolist() == [0] * 4 + [1] * 4 and len(set(our_accuracy)) > 1  # removal changes some predictions


@pytest.mark.parametrize("share", [0.1, 0.5, 0.9])
def test_each_imputed_pixel_is_the_weighted_mean_of_its_neighbours(share):
    """The sparse solve's defining equations hold to 1e-9."""
    rng = np.random.default_rng(4)
    image = rng.random((24, 20, 2))
    removed = rng.random((24, 20)) < share
    imputed = noisy_linear_imputation(image, removed, 0.0, rng)
    padded = np.pad(imputed, ((1, 1), (1, 1), (0, 0)))
    inside = np.pad(np.ones((24, 20)), 1)
    total, weights = np.zeros_like(image), np.zeros((24, 20, 1))
    for (dr, dc), weight in NEIGHBOUR_WEIGHTS.items():
        window = (slice(1 + dr, 25 + dr), slice(1 + dc, 21 + dc))
        total += weight * padded[window]
        weights += weight * inside[window][..., None]
    np.testing.assert_allclose(imputed[removed], (total / weights)[removed], atol=1e-9)
    np.testing.assert_array_equal(imputed[~removed], image[~removed])
