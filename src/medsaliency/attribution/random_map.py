"""The Random baseline: uniform noise seeded by the image, independent of any model."""

from __future__ import annotations

import numpy as np


def random_map(explained, images: np.ndarray, classes: np.ndarray, config: object, seeds: np.ndarray) -> np.ndarray:
    """``[N, H, W]`` float32 uniform in [0, 1), drawn from each image's seed; ``explained`` is ignored."""
    height, width = images.shape[1:3]
    return np.stack([np.random.default_rng(int(seed)).random((height, width), dtype=np.float32) for seed in seeds])
