"""Which test images are explained: a seeded, class-stratified sample, the same for every model."""

from __future__ import annotations

import numpy as np


def select_images(labels: np.ndarray, n_classes: int, per_class: int | None, seed: int) -> np.ndarray:
    """Indices into ``labels``: up to ``per_class`` per class (all a class has, if fewer or if
    ``per_class`` is None), drawn with ``seed``; ordered by class, then by index."""
    rng = np.random.default_rng(seed)
    chosen = []
    for label in range(n_classes):
        candidates = np.flatnonzero(np.asarray(labels) == label)
        take = len(candidates) if per_class is None else min(per_class, len(candidates))
        chosen.append(np.sort(rng.choice(candidates, size=take, replace=False)) if take else candidates)
    return np.concatenate(chosen).astype(np.int64)
