"""PIC (AIC/SIC): parity with PAIR saliency.metrics.pic, its golden cases, the estimators, exclusions."""

import numpy as np
import pytest
from conftest import REGION, region_model
from saliency.metrics import pic as pair

from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.evaluation.blur import blur, from_uint8, random_pixel_mask, to_uint8
from medsaliency.evaluation.entropy import ESTIMATORS, shannon_entropy, shannon_minmax_entropy, webp_entropy
from medsaliency.evaluation.pic import PAPER_THRESHOLDS, PicSettings, aggregate, compute_pic, image_pic, information_curve, pic_results


def test_blur_golden_cases_of_pair():
    """PAIR's own 3x3 cases: corners are always known; the rest is linear interpolation."""
    image = np.asarray([[0.0, 0.0, 0.0], [1.0, 8.0, 1.0], [0.0, 0.0, 0.0]])
    known = np.asarray([[0, 0, 0], [1, 0, 0], [0, 0, 0]], bool)
    np.testing.assert_array_equal(blur(image, known), [[0.0, 0.0, 0.0], [1.0, 0.5, 0.0], [0.0, 0.0, 0.0]])
    corners_only = np.asarray([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(blur(corners_only, np.zeros((3, 3), bool)), np.ones((3, 3)))
    everything = np.arange(9, dtype=np.uint8).reshape(3, 3)
    assert blur(everything, np.ones((3, 3), bool)) is everything


@pytest.mark.parametrize("shape", [(20, 20), (20, 17, 3)])
def test_blur_equals_pair_pixel_for_pixel(shape):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    for fraction in (0.01, 0.2, 0.8):
        known = rng.random(shape[:2]) < fraction
        np.testing.assert_array_equal(blur(image, known), pair.create_blurred_image(image, known))


def test_random_mask_sets_the_requested_fraction():
    mask = random_pixel_mask(100, 200, 0.1, np.random.default_rng(1))
    assert mask.dtype == bool and np.count_nonzero(mask) == 2000
    np.testing.assert_array_equal(mask, random_pixel_mask(100, 200, 0.1, np.random.default_rng(1)))


def test_aggregate_golden_case_of_pair():
    x = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    curves = np.array([[0.0, 0.2, 0.4, 0.6, 1.0], [0.0, 0.4, 0.4, 0.4, 1.0]])
    y, auc = aggregate(curves, x, "mean")
    np.testing.assert_almost_equal(y, [0.0, 0.3, 0.4, 0.5, 1.0])
    assert auc == pytest.approx((0 + 0.3) / 8 + (0.3 + 0.4) / 8 + (0.4 + 0.5) / 8 + (0.5 + 1.0) / 8, abs=1e-12)
    median_y, _ = aggregate(np.vstack([curves, [np.nan] * 5, [0.0, 0.3, 0.3, 0.3, 1.0]]), x, "median")
    np.testing.assert_almost_equal(median_y, [0.0, 0.3, 0.4, 0.4, 1.0])  # the excluded (NaN) row is ignored


def test_information_curve_is_monotone_and_spans_the_unit_square():
    x, y, auc = information_curve(
        np.array([5.0, 7.0, 9.0]), np.array([0.6, 0.3, 0.9]), original=(10.0, 1.0), blurred=(4.0, 0.2), num_points=100
    )
    assert len(x) == len(y) == 101 and x[0] == 0 and x[-1] == 1 and y[-1] == 1
    assert np.all(np.diff(y) >= -1e-12) and 0 < auc < 1


def test_estimators_by_hand():
    flat = np.full((8, 8), 7, np.uint8)
    halves = np.zeros((8, 8), np.uint8)
    halves[:, 4:] = 200
    assert shannon_entropy(flat) == 0 and shannon_minmax_entropy(flat) == 0
    assert shannon_entropy(halves) == pytest.approx(1.0)
    # density-normalised over 0..200: bin width 200/256, densities 0.5 / (200/256) = 0.64 in two bins
    assert shannon_minmax_entropy(halves) == pytest.approx(-2 * 0.64 * np.log2(0.64))
    assert webp_entropy(halves) == pair.estimate_image_entropy(halves)
    noisy = np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)
    smooth = blur(noisy, np.zeros((32, 32), bool))
    assert webp_entropy(noisy) > webp_entropy(smooth) and shannon_entropy(noisy) > shannon_entropy(smooth)
    assert set(ESTIMATORS) == {"webp", "shannon", "shannon_minmax"}


def region_images(count: int, seed: int = 3) -> np.ndarray:
    """Noise with a bright patch in the region: region_model() is confident on the originals."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.0, 0.5, (count, 24, 24, 1)).astype(np.float32)
    images[(slice(None), *REGION, slice(None))] += 0.45
    return images


def test_curves_and_aucs_equal_pair_compute_pic_metric():
    explained = ExplainedModel(region_model(), "regions")
    images = region_images(5)
    rng = np.random.default_rng(0)
    maps = np.stack([rng.random((5, 24, 24)), np.abs(images[..., 0] - 0.3) + rng.random((5, 24, 24)) * 0.01]).astype(np.float32)
    masks = np.stack([random_pixel_mask(24, 24, 0.01, rng) for _ in range(5)])
    labels = np.array([0, 0, 1, 0, 0])
    classes = explained.probabilities(images).argmax(axis=1)
    settings = PicSettings(min_pred_value=0.0)
    ours = compute_pic(images, maps, labels, classes, explained.probabilities, settings, masks)
    compared = {"aic": 0, "sic": 0}
    for n in range(5):
        u8 = to_uint8(images[n])
        predictors = {
            "sic": lambda batch, n=n: explained.probabilities(from_uint8(batch, 1))[:, classes[n]],
            "aic": lambda batch, n=n: (explained.probabilities(from_uint8(batch, 1)).argmax(axis=1) == labels[n]).astype(float),
        }
        for kind, predict in predictors.items():
            for m in range(2):
                try:
                    theirs = pair.compute_pic_metric(
                        u8, maps[m, n], masks[n], predict, list(PAPER_THRESHOLDS), min_pred_value=0.0, num_data_points=1000
                    )
                except pair.ComputePicMetricError:
                    assert np.isnan(ours.auc[kind][m, n])
                    continue
                compared[kind] += 1
                np.testing.assert_allclose(
                    ours.curves[kind][m, n], theirs.curve_y, rtol=0, atol=1e-6
                )  # float32 batch vs single predictions
                np.testing.assert_allclose(ours.x, theirs.curve_x, rtol=0, atol=0)
                assert abs(ours.auc[kind][m, n] - theirs.auc) <= 1e-6
    assert compared["sic"] >= 6 and compared["aic"] >= 2, compared
    assert ours.excluded["aic"]["low_prediction"] == 0 and sum(ours.excluded["aic"].values()) == 5 - compared["aic"] // 2


def test_exclusions_are_counted_by_reason():
    explained = ExplainedModel(region_model(), "regions")
    images = region_images(3)
    maps = np.random.default_rng(1).random((1, 3, 24, 24)).astype(np.float32)
    masks = np.zeros((3, 24, 24), bool)
    wrong = np.array([1, 1, 1])  # region_model says class 0: AIC's original prediction is 0 -> low or not lower
    result = compute_pic(images, maps, wrong, np.zeros(3, int), explained.probabilities, PicSettings(min_pred_value=0.5), masks)
    assert result.excluded["aic"] == {"low_prediction": 3} and np.isnan(result.auc["aic"]).all()
    strict = compute_pic(images, maps, wrong, np.zeros(3, int), explained.probabilities, PicSettings(min_pred_value=0.999999), masks)
    assert strict.excluded["sic"]["low_prediction"] == 3


def test_an_image_gives_the_same_numbers_whatever_else_is_computed_with_it():
    """``evaluate`` sends images to Dask workers in chunks: an image's result is its own, in any chunk or order."""
    explained = ExplainedModel(region_model(), "regions")
    images = region_images(4, seed=8)
    maps = np.random.default_rng(2).random((2, 4, 24, 24)).astype(np.float32)
    masks = np.stack([random_pixel_mask(24, 24, 0.01, np.random.default_rng(k)) for k in range(4)])
    classes = np.zeros(4, int)
    settings = PicSettings(entropy="shannon")
    together = compute_pic(images, maps, classes, classes, explained.probabilities, settings, masks)
    one_by_one = {n: image_pic(images[n], maps[:, n], masks[n], 0, 0, explained.probabilities, settings) for n in (3, 1, 2, 0)}
    apart = pic_results([one_by_one[n] for n in range(4)], 2, settings)
    for kind in ("aic", "sic"):
        np.testing.assert_array_equal(together.auc[kind], apart.auc[kind])
        np.testing.assert_array_equal(together.curves[kind], apart.curves[kind])
    np.testing.assert_array_equal(together.sic_scores, apart.sic_scores)
    assert together.excluded == apart.excluded
    assert np.isfinite(together.sic_scores[:, ~np.isnan(together.auc["sic"][0])]).all()
