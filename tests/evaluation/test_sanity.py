"""The model-randomisation sanity check: SSIM of maps, the randomised copy."""

import numpy as np

from medsaliency.evaluation.sanity import map_similarity, randomized_copy
from medsaliency.models.backbones import build_classifier


def test_sanity_ssim_is_one_for_identical_maps_and_low_for_unrelated():
    rng = np.random.default_rng(3)
    maps = rng.random((2, 16, 16)).astype(np.float32)
    np.testing.assert_allclose(map_similarity(maps, maps * 5 + 1), [1.0, 1.0])
    assert (map_similarity(maps, rng.random((2, 16, 16))) < 0.3).all()


def test_randomized_copy_has_the_architecture_and_new_weights():
    model = build_classifier("small_cnn", 16, 3, 0.0)
    copy = randomized_copy(model, seed=1)
    assert [layer.name for layer in copy.layers] == [layer.name for layer in model.layers]
    kernels = [(a, b) for a, b in zip(model.get_weights(), copy.get_weights(), strict=True) if a.ndim == 4]
    assert kernels and all(not np.array_equal(a, b) for a, b in kernels)
    again = randomized_copy(model, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(copy.get_weights(), again.get_weights(), strict=True))
