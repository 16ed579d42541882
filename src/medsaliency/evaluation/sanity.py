"""Model-parameter randomisation sanity check (Adebayo et al. 2018).

A map that explains the model must change when the model's learned weights are replaced by
random ones. :func:`randomized_copy` re-initialises every layer (same architecture, fresh
draws of each layer's own initialisers, seeded); :func:`map_similarity` compares the maps of
the trained and the randomised model with SSIM (scikit-image) after scaling each map to
[0, 1]. High similarity = the method does not depend on what the model learned (Random
scores 1 by construction: its maps depend only on the image).
"""

from __future__ import annotations

import numpy as np


def randomized_copy(model, seed: int):
    """A ``keras.Model`` with ``model``'s architecture and freshly initialised weights."""
    import keras

    keras.utils.set_random_seed(seed)
    copy = keras.models.clone_model(model)
    copy.build(model.input_shape)
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
