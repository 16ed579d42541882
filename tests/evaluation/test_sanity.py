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


def test_cascading_blocks_steps_and_copies():
    from medsaliency.evaluation.sanity import cascade_steps, cascading_copy, randomization_blocks

    model = build_classifier("small_cnn", 16, 3, 0.0)
    blocks = randomization_blocks(model)
    assert (
        blocks[0] == ["probabilities"] and blocks[1] == ["last_conv"] and blocks[2] == ["conv4", "bn4"] and blocks[-1] == ["conv1", "bn1"]
    )
    assert cascade_steps(6, 8) == [1, 2, 3, 4, 5, 6] and cascade_steps(100, 4) == [1, 34, 67, 100]
    top_two = cascading_copy(model, seed=1, top_blocks=2)
    whole = randomized_copy(model, seed=1)
    for layer in model.layers:
        for trained, cascaded, random in zip(
            layer.get_weights(), top_two.get_layer(layer.name).get_weights(), whole.get_layer(layer.name).get_weights(), strict=True
        ):
            expected = random if layer.name in ("probabilities", "last_conv") else trained
            np.testing.assert_array_equal(cascaded, expected)
    last = cascading_copy(model, seed=1, top_blocks=len(blocks))  # the last step is the whole-model check
    assert all(np.array_equal(a, b) for a, b in zip(last.get_weights(), whole.get_weights(), strict=True))
