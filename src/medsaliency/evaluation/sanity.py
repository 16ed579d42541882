"""Model-parameter randomisation sanity check (Adebayo et al. 2018), whole and cascading.

A map that explains the model must change when the model's learned weights are replaced by
random ones. :func:`randomized_copy` re-initialises every layer (same architecture, fresh
draws of each layer's own initialisers, seeded); :func:`map_similarity` compares the maps of
the trained and the randomised model with SSIM (scikit-image) after scaling each map to
[0, 1]. High similarity = the method does not depend on what the model learned (Random
scores 1 by construction: its maps depend only on the image).

The cascading variant randomises from the top down, cumulatively: :func:`randomization_blocks`
groups the weighted layers into blocks (a layer and the normalisation layers right after it),
output first; :func:`cascade_steps` picks how many top blocks each step randomises (every block,
or ``max_steps`` evenly spaced cuts on deep backbones); :func:`cascading_copy` keeps the trained
weights below the cut and takes the same seeded random weights as :func:`randomized_copy` above
it, so the last step is exactly the whole-model check.

Every test that explains images again (these, RandomLogit, data randomisation) costs a full
attribution pass per model or class; :func:`randomization_sample` picks the images they share.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from medsaliency.config import EvaluationConfig
    from medsaliency.io.artifacts import MapsFile


def randomization_sample(maps: MapsFile, config: EvaluationConfig) -> np.ndarray:
    """bool ``[N]``: the images of ``maps`` that the re-attribution tests use, a class-stratified sample
    (true labels) of ``config.randomization_images_per_class`` each (every image for None), drawn
    with ``config.seed``: the same images for every test and every model of a dataset."""
    from medsaliency.attribution.selection import select_images

    n_classes = maps.probabilities.shape[1]
    sample = np.zeros(len(maps.ids), bool)
    sample[select_images(maps.labels, n_classes, config.randomization_images_per_class, config.seed)] = True
    return sample


def randomized_copy(model, seed: int):
    """A ``keras.Model`` with ``model``'s architecture and freshly initialised weights.

    Every random initializer gets its own integer seed, derived from ``seed``, the layer's name and
    the initializer's role, so the draws are stateless: the same weights in any process, whatever
    else used a random generator before (a Dask worker's event loop draws from Python's global
    ``random`` concurrently with the task: seeding the global generators and cloning raced with it
    and gave another model now and then)."""
    import keras

    def clone(layer):
        config = layer.get_config()
        for key, value in config.items():
            if key.endswith("_initializer") and isinstance(value, dict) and "seed" in value.get("config", {}):
                value["config"]["seed"] = _initializer_seed(seed, layer.name, key)
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.build(model.input_shape)
    return copy


def _initializer_seed(seed: int, layer: str, role: str) -> int:
    """A stable 31-bit seed for one initializer of one layer."""
    digest = hashlib.sha256(f"{seed}/{layer}/{role}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (2**31 - 1)


NORMALIZATION_LAYERS = ("BatchNormalization", "LayerNormalization", "GroupNormalization")


def randomization_blocks(model) -> list[list[str]]:
    """The names of the weighted layers of ``model`` in blocks, output first: each block is one
    weighted layer and the normalisation layers that follow it."""
    blocks: list[list[str]] = []
    for layer in model.layers:
        if not layer.weights:
            continue
        if blocks and type(layer).__name__ in NORMALIZATION_LAYERS:
            blocks[-1].append(layer.name)
        else:
            blocks.append([layer.name])
    return blocks[::-1]


def cascade_steps(n_blocks: int, max_steps: int) -> list[int]:
    """How many top blocks each cascading step randomises: 1..n_blocks, or ``max_steps`` evenly
    spaced counts ending at ``n_blocks`` when there are more blocks than that."""
    if n_blocks <= max_steps:
        return list(range(1, n_blocks + 1))
    return sorted({int(k) for k in np.rint(np.linspace(1, n_blocks, max_steps))})


def cascading_copy(model, seed: int, top_blocks: int):
    """``model`` with its ``top_blocks`` top blocks randomised (the weights :func:`randomized_copy`
    draws with ``seed``) and the trained weights below them."""
    copy = randomized_copy(model, seed)
    for block in randomization_blocks(model)[top_blocks:]:
        for name in block:
            copy.get_layer(name).set_weights(model.get_layer(name).get_weights())
    return copy


def map_similarity(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """SSIM ``[N]`` between maps ``[N, H, W]`` scaled per map to [0, 1] (two flat maps: 1)."""
    from skimage.metrics import structural_similarity

    scores = []
    for a, b in zip(first, second, strict=True):
        a, b = _unit_range(a), _unit_range(b)
        scores.append(1.0 if np.ptp(a) == np.ptp(b) == 0 else structural_similarity(a, b, data_range=1.0, win_size=_window(a.shape)))
    return np.asarray(scores, np.float64)


def _unit_range(saliency: np.ndarray) -> np.ndarray:
    low, high = float(saliency.min()), float(saliency.max())
    return np.zeros_like(saliency, np.float64) if high <= low else (saliency.astype(np.float64) - low) / (high - low)


def _window(shape: tuple[int, int]) -> int:
    """scikit-image's default 7x7 window, smaller (odd) for tiny maps."""
    side = min(7, *shape)
    return side if side % 2 else side - 1
