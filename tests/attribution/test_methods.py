"""Saliency methods: the map convention, correctness on models whose answer is known, seeds."""

import keras
import numpy as np
import pytest
from conftest import REGION, region_model, tiny_params_raw
from saliency.core import IntegratedGradients

from medsaliency.attribution import cam
from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.attribution.methods import METHODS, AttributionError, check_maps, compute_maps, explained_classes, image_seeds
from medsaliency.attribution.pair_reference import pair_map
from medsaliency.attribution.random_map import random_map
from medsaliency.attribution.selection import select_images
from medsaliency.config import AttributionConfig
from medsaliency.errors import ConfigError
from medsaliency.models.backbones import BACKBONES, build_classifier


def fast_config(**changes) -> AttributionConfig:
    """The suite's attribution params with fewer steps and samples (the maths is the same)."""
    raw = tiny_params_raw()["attribution"]
    raw.update(batch_size=8, smoothgrad={"nsamples": 3, "stdev_spread": 0.15}, blur_ig={"max_sigma": 8.0, "steps": 8, "grad_step": 0.01})
    raw["xrai"] = {"steps": 8, "area_threshold": 1.0}
    raw.update(changes)
    return AttributionConfig.model_validate(raw)


@pytest.fixture(scope="module")
def small_model() -> ExplainedModel:
    keras.utils.set_random_seed(3)
    return ExplainedModel(build_classifier("small_cnn", 16, 3, 0.0), BACKBONES["small_cnn"].target_layer)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(5).random((3, 16, 16, 1), dtype=np.float32)


def test_integrated_gradients_are_complete(small_model, images):
    """Sum of IG attributions = f(x) - f(baseline) for the explained logit (Sundararajan's axiom)."""
    image, target = images[0], 1
    attribution = IntegratedGradients().GetMask(
        image, small_model.call_model_function, {"class": target}, x_baseline=np.zeros_like(image), x_steps=400, batch_size=64
    )
    logits = small_model.logits(np.stack([image, np.zeros_like(image)]))
    difference = logits[0, target] - logits[1, target]
    assert abs(difference) > 1e-3
    assert attribution.sum() == pytest.approx(difference, rel=0.02, abs=1e-4)


@pytest.mark.parametrize(
    "method", ["vanilla_gradient", "smoothgrad", "integrated_gradients", "smoothgrad_ig", "blur_ig", "xrai_full", "xrai_fast"]
)
def test_batched_methods_give_pairs_maps(small_model, method):
    """Rows of several images share model calls here; PAIR explains one image at a time. Same maps."""
    config = fast_config()
    images = np.random.default_rng(8).random((5, 16, 16, 1), dtype=np.float32)
    classes, seeds = np.array([0, 1, 2, 1, 0], np.int32), np.array([3, 4, 5, 6, 7], np.uint32)
    ours = METHODS[method].compute(small_model, images, classes, config, seeds)
    for mine, image, target, seed in zip(ours, images, classes, seeds, strict=True):
        theirs = pair_map(method, small_model.call_model_function, image, int(target), int(seed), config)
        assert np.corrcoef(mine.ravel(), theirs.ravel())[0, 1] > 0.99999
        np.testing.assert_allclose(mine, theirs, rtol=2e-3, atol=1e-5 * np.abs(theirs).max())


def eager_input_gradients(model, images: np.ndarray, score) -> np.ndarray:
    """d score(model(x)) / d x by the backend's own eager autodiff: TensorFlow's tape or ``jax.grad``."""
    if keras.backend.backend() == "jax":
        import jax

        return np.asarray(jax.grad(lambda x: score(model(x, training=False)))(images))
    import tensorflow as tf

    x = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = score(model(x, training=False))
    return tape.gradient(value, x).numpy()


def test_input_gradients_match_the_backends_eager_autodiff(small_model, images):
    def score(probabilities):
        logits = keras.ops.log(probabilities)  # log-softmax: the same gradients as the logit, less a shared term
        return keras.ops.sum(logits[:, 1] - keras.ops.mean(logits, axis=1))

    expected = eager_input_gradients(small_model.model, images, score)
    classes = np.ones(3, np.int32)
    ours = small_model.input_gradients(images, classes) - np.mean(
        [small_model.input_gradients(images, np.full(3, k)) for k in range(3)], axis=0
    )
    np.testing.assert_allclose(ours, expected, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("method", ["gradcam", "gradcam_plus_plus", "scorecam"])
def test_cam_methods_light_the_region_the_class_depends_on(method):
    explained = ExplainedModel(region_model(), "regions")
    x = np.random.default_rng(1).uniform(0.2, 1.0, (2, 24, 24, 1)).astype(np.float32)
    maps = getattr(cam, method)(explained, x, np.zeros(2, np.int32), fast_config(), np.zeros(2))
    inside = np.zeros((24, 24), bool)
    inside[REGION] = True
    for saliency in maps:
        assert saliency[inside].mean() > 2 * saliency[~inside].mean()
        assert saliency[REGION[0].start + 2 : REGION[0].stop - 2, REGION[1].start + 2 : REGION[1].stop - 2].min() > saliency[
            ~inside
        ].max() * (0.0 if method != "scorecam" else 0.5)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf-keras-vis, the reference, runs on TensorFlow only")
def test_cam_family_agrees_with_tf_keras_vis(small_model):
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
    from tf_keras_vis.scorecam import Scorecam
    from tf_keras_vis.utils.model_modifiers import ReplaceToLinear
    from tf_keras_vis.utils.scores import CategoricalScore

    images = np.random.default_rng(9).random((12, 16, 16, 1), dtype=np.float32)
    classes = np.arange(12, dtype=np.int32) % 3
    for ours, reference in ((cam.gradcam, Gradcam), (cam.gradcam_plus_plus, GradcamPlusPlus), (cam.scorecam, Scorecam)):
        theirs = reference(small_model.model, model_modifier=ReplaceToLinear(), clone=True)(
            CategoricalScore(list(classes)), images, penultimate_layer="last_conv"
        )
        mine = ours(small_model, images, classes, fast_config(), np.zeros(12))
        compared = 0
        for a, b in zip(mine, theirs, strict=True):
            if np.ptp(b) == 0:  # no positive evidence: tf-keras-vis gives a constant map, so must we
                assert np.ptp(a) == 0
                continue
            compared += 1
            assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.99
        assert compared >= 2, f"{ours.__name__}: too few non-constant maps to compare"


def test_same_seeds_give_identical_maps_and_new_seeds_new_noise(small_model, images):
    config = fast_config(methods=["smoothgrad", "smoothgrad_ig", "guided_ig", "xrai_fast", "random"])
    classes = np.array([0, 1, 2], np.int32)
    seeds = image_seeds(7, np.array(["a", "b", "c"]))
    first = compute_maps(small_model, images, classes, config, seeds).maps
    again = compute_maps(small_model, images, classes, config, seeds).maps
    other = compute_maps(small_model, images, classes, config, image_seeds(8, np.array(["a", "b", "c"]))).maps
    for method in config.methods:
        np.testing.assert_array_equal(first[method], again[method])
    assert not np.array_equal(first["smoothgrad"], other["smoothgrad"]) and not np.array_equal(first["random"], other["random"])


def test_random_maps_do_not_depend_on_the_model(small_model, images):
    other = ExplainedModel(build_classifier("small_cnn", 16, 3, 0.0), "last_conv")
    seeds = image_seeds(7, np.array(["a", "b", "c"]))
    np.testing.assert_array_equal(
        random_map(small_model, images, np.zeros(3), fast_config(), seeds),
        random_map(other, images[::-1], np.ones(3), fast_config(), seeds),
    )
    assert not np.array_equal(*random_map(small_model, images[:2], np.zeros(2), fast_config(), seeds[:2]))


@pytest.mark.parametrize("channels", [1, 3])
def test_every_method_gives_float32_maps_at_input_resolution(channels):
    explained = ExplainedModel(build_classifier("small_cnn", 16, 3, 0.0, channels=channels), "last_conv")
    x = np.random.default_rng(2).random((2, 16, 16, channels), dtype=np.float32)
    classes, probabilities = explained_classes(explained, x, np.array([0, 1]), "predicted", 32)
    result = compute_maps(explained, x, classes, fast_config(methods=list(METHODS)), image_seeds(1, np.array(["p", "q"])))
    assert list(result.maps) == list(METHODS) and probabilities.shape == (2, 3)
    for method, maps in result.maps.items():
        assert maps.shape == (2, 16, 16) and maps.dtype == np.float32 and np.isfinite(maps).all(), method
        assert maps.max() > maps.min(), f"{method}: constant map"
        assert result.seconds_per_image[method] > 0


def test_explain_true_uses_the_labels(small_model, images):
    classes, probabilities = explained_classes(small_model, images, np.array([2, 2, 0]), "true", 2)
    assert classes.tolist() == [2, 2, 0]
    assert explained_classes(small_model, images, np.array([2, 2, 0]), "predicted", 2)[0].tolist() == probabilities.argmax(axis=1).tolist()


def test_unknown_target_layer_and_non_softmax_head_are_named():
    model = build_classifier("small_cnn", 16, 3, 0.0)
    with pytest.raises(ConfigError, match=r"has no layer 'conv9' \(attribution.target_layers\)"):
        ExplainedModel(model, "conv9")
    inputs = keras.Input((8, 8, 1))
    linear = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ConfigError, match="needs a final softmax Dense layer"):
        ExplainedModel(linear, "flatten")


def test_broken_maps_are_refused_with_the_method_and_image():
    maps = np.zeros((3, 4, 4), np.float32)
    maps[1, 0, 0] = np.nan
    with pytest.raises(AttributionError, match="xrai_full: non-finite values in the map of image 1"):
        check_maps("xrai_full", maps, (3, 4, 4))
    with pytest.raises(AttributionError, match=r"gradcam: maps of shape \(3, 4, 4\), expected \(3, 5, 5\)"):
        check_maps("gradcam", maps, (3, 5, 5))


def test_selection_is_class_stratified_seeded_and_tolerates_small_classes():
    labels = np.array([0] * 10 + [1] * 10 + [2] * 1)
    chosen = select_images(labels, 3, 3, seed=4)
    assert np.bincount(labels[chosen]).tolist() == [3, 3, 1]
    np.testing.assert_array_equal(chosen, select_images(labels, 3, 3, seed=4))
    assert not np.array_equal(chosen, select_images(labels, 3, 3, seed=5))


def test_maps_do_not_depend_on_how_the_images_are_split_into_tasks(small_model):
    """``attribute`` sends whole ``batch_size`` batches to each task: one task or several, the same bytes."""
    from medsaliency.attribution.explanation import explain_images

    config = fast_config(methods=list(METHODS), batch_size=2)
    x = np.random.default_rng(9).random((4, 16, 16, 1), dtype=np.float32)
    labels, seeds = np.array([0, 1, 2, 0]), image_seeds(1, np.array(["a", "b", "c", "d"]))
    whole = explain_images(small_model, x, labels, seeds, config)
    parts = [explain_images(small_model, x[part], labels[part], seeds[part], config) for part in (slice(0, 2), slice(2, 4))]
    np.testing.assert_array_equal(whole.probabilities, np.concatenate([part.probabilities for part in parts]))
    for method in METHODS:
        np.testing.assert_array_equal(whole.attributions.maps[method], np.concatenate([p.attributions.maps[method] for p in parts]), method)
