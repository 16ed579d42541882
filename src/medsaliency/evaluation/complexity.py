"""How concentrated a saliency map is: sparseness (Gini index) and complexity (entropy).

Both read only the map, never the model, and both take ``|map|`` (the sign of an attribution is
not its importance here). A map that puts all its mass on few pixels is sparse (Gini near 1) and
simple (low entropy); a uniform map has Gini 0 and the largest entropy, ``log(H * W)``.

- :func:`sparseness`: the Gini index of the sorted absolute values (Chalasani et al. 2020), as
  Quantus ``Sparseness`` computes it.
- :func:`complexity`: the Shannon entropy (nats) of ``|map|`` normalised to sum 1 (Bhatt et al.
  2020), as Quantus ``Complexity`` computes it.

``tests/evaluation/test_complexity.py`` checks both against Quantus 0.6.0 on the same maps.
"""

from __future__ import annotations

import numpy as np


def sparseness(maps: np.ndarray) -> np.ndarray:
    """Gini index ``[N]`` in [0, 1) of each map of ``maps`` ``[N, H, W]``; an all-zero map scores 0."""
    values = np.sort(np.abs(maps).reshape(len(maps), -1).astype(np.float64), axis=1)
    n = values.shape[1]
    weights = 2 * np.arange(1, n + 1) - n - 1
    totals = values.sum(axis=1)
    gini = (values * weights).sum(axis=1) / (n * np.where(totals > 0, totals, 1.0))
    return np.where(totals > 0, gini, 0.0)


def complexity(maps: np.ndarray) -> np.ndarray:
    """Entropy ``[N]`` in nats of each map's ``|map|`` as a distribution over its pixels; an
    all-zero map counts as uniform (the largest entropy, ``log(H * W)``)."""
    values = np.abs(maps).reshape(len(maps), -1).astype(np.float64)
    totals = values.sum(axis=1, keepdims=True)
    shares = np.where(totals > 0, values / np.where(totals > 0, totals, 1.0), 1.0 / values.shape[1])
    logs = np.log(shares, out=np.zeros_like(shares), where=shares > 0)
    return -(shares * logs).sum(axis=1)
