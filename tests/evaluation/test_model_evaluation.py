"""The evaluation's per-task helpers: RandomLogit's other class, the re-attribution tests' image sample, the scoring of the
weight-randomised model's maps."""

from contextlib import nullcontext
from types import SimpleNamespace

import keras
import numpy as np
from conftest import tiny_params_raw

from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.attribution.methods import compute_maps
from medsaliency.config import AttributionConfig
from medsaliency.evaluation.model_evaluation import (
    EvaluationChunk,
    _randomized_scored,
    _scored_by_model,
    _similarity,
    other_classes,
    random_masks,
    task_settings,
)
from medsaliency.evaluation.sanity import randomization_sample
from medsaliency.models.backbones import BACKBONES, build_classifier


def test_the_other_class_is_never_the_explained_one_and_is_seeded_per_image():
    classes = np.array([0, 1, 2] * 200)
    seeds = np.arange(600)
    others = other_classes(classes, 3, seeds)
    assert (others != classes).all() and set(others.tolist()) == {0, 1, 2}
    assert {int(o) for o, c in zip(others, classes, strict=True) if c == 1} == {0, 2}  # both others drawn
    np.testing.assert_array_equal(others[::7], other_classes(classes[::7], 3, seeds[::7]))  # per image, not per batch
    assert (other_classes(np.array([0, 1]), 2, np.array([5, 6])) == [1, 0]).all()


def test_the_randomisation_sample_is_stratified_by_class_and_seeded():
    labels = np.array([0] * 10 + [1] * 3 + [2] * 7)
    maps = SimpleNamespace(ids=np.arange(20).astype(str), labels=labels, probabilities=np.zeros((20, 3)))

    def sample(per_class, seed):
        return randomization_sample(maps, SimpleNamespace(randomization_images_per_class=per_class, seed=seed))

    chosen = sample(4, 11)
    assert chosen.dtype == bool and [int(chosen[labels == c].sum()) for c in range(3)] == [4, 3, 4]
    np.testing.assert_array_equal(chosen, sample(4, 11))
    assert not np.array_equal(chosen, sample(4, 12))
    assert sample(None, 11).all()


def test_re_explained_similarity_is_computed_on_the_sample_and_nan_elsewhere():
    """The weight-randomised model's SSIM of a sampled image does not depend on which others are sampled."""
    keras.utils.set_random_seed(3)
    explained = ExplainedModel(build_classifier("small_cnn", 16, 3, 0.0), BACKBONES["small_cnn"].target_layer)
    other = ExplainedModel(build_classifier("small_cnn", 16, 3, 0.0), BACKBONES["small_cnn"].target_layer)
    images = np.random.default_rng(5).random((4, 16, 16, 1), dtype=np.float32)
    classes, seeds = np.array([0, 1, 2, 1]), np.arange(4, dtype=np.uint32)
    config = AttributionConfig.model_validate({**tiny_params_raw()["attribution"], "methods": ["vanilla_gradient", "random"]})
    maps = compute_maps(explained, images, classes, config, seeds).maps
    settings = SimpleNamespace(methods=["vanilla_gradient", "random"])

    def similarity(sample):
        chunk = SimpleNamespace(images=images, maps=np.stack([maps["vanilla_gradient"], maps["random"]]), seeds=seeds, sample=sample)
        return _similarity(chunk, settings, lambda: other, classes, config)

    every = similarity(np.ones(4, bool))
    part = similarity(np.array([True, False, False, True]))
    assert np.isfinite(every["vanilla_gradient"]).all() and (every["random"] > 0.999).all()
    for method in ("vanilla_gradient", "random"):
        assert np.isnan(part[method][1:3]).all()
        np.testing.assert_allclose(part[method][[0, 3]], every[method][[0, 3]], atol=1e-6)
    assert np.isnan(similarity(np.zeros(4, bool))["vanilla_gradient"]).all()


def test_the_randomised_models_maps_are_scored_with_the_trained_maps_masks_ties_and_seeds(tiny_params):
    """Scored as the randomised model's, a sample of the trained model's own maps gets exactly the trained
    maps' PIC, insertion/deletion and ROAD scores: only the maps differ between the two (reactivity 0)."""
    keras.utils.set_random_seed(4)
    explained = ExplainedModel(build_classifier("small_cnn", 16, 3, 0.0), BACKBONES["small_cnn"].target_layer)
    images = np.random.default_rng(6).random((4, 16, 16, 1), dtype=np.float32)
    ids, labels, classes = np.array(["a", "b", "c", "d"]), np.array([0, 1, 2, 0]), np.array([0, 1, 2, 1])
    methods = ["vanilla_gradient", "gradcam", "random"]
    config = tiny_params.attribution.restricted(methods, methods)
    maps = np.stack(list(compute_maps(explained, images, classes, config, np.arange(4, dtype=np.uint32)).maps.values()))
    sample = np.array([False, True, False, True])
    seeds = np.arange(10, 14, dtype=np.uint32)
    chunk = EvaluationChunk(images, images, maps, random_masks(ids, (16, 16), tiny_params), labels, classes, seeds, seeds, sample)
    settings = task_settings(tiny_params, methods)
    pic, curves, road = _scored_by_model(images, maps, chunk, np.ones(4, bool), explained, settings, lambda _: nullcontext())
    randomized = _randomized_scored(chunk, {m: maps[i][sample] for i, m in enumerate(methods)}, explained, settings)
    assert len(randomized.pic) == len(randomized.insertion_deletion) == len(randomized.road) == 2
    for scored, n in zip(range(2), np.flatnonzero(sample), strict=True):
        assert randomized.pic[scored].ends == pic[n].ends and randomized.pic[scored].auc.keys() == pic[n].auc.keys()
        for kind, auc in pic[n].auc.items():
            np.testing.assert_array_equal(randomized.pic[scored].auc[kind], auc)
        np.testing.assert_array_equal(randomized.insertion_deletion[scored].insertion, curves[n].insertion)
        np.testing.assert_array_equal(randomized.road[scored].probabilities, road[n].probabilities)
    assert _randomized_scored(chunk, {}, explained, settings).pic == []
