"""Do the faithfulness measures agree on which saliency method is best? Kendall's tau between rankings.

Each measure ranks the methods of one explained model by its score (the evaluate stage's metrics
JSON, ``<measure>.<method>``), oriented so that larger is better for all of them (deletion AUC and
ROAD MoRF: lower is better, so they are negated). :func:`ranking_agreement` returns Kendall's tau-b
(SciPy, ties handled) between every pair of measures over the methods both scored: 1 = the same
ranking, -1 = reversed, near 0 = unrelated. The report leaves Random out (every measure ranks it
last or near it, which inflates every tau) and marks the taus at or beyond :func:`critical_tau`,
the smallest |tau| that two independent rankings of that many methods reach with two-sided
p <= 0.05 (exact: 0.491 for 11 methods, 0.455 for 12).
"""

from __future__ import annotations

import math

import numpy as np

from medsaliency.evaluation.measures import MEASURES

# Measure -> +1 when larger is better, -1 when smaller is better (the measures table's ranking measures).
# Localisation only where lesion masks exist.
ORIENTATION = {name: measure.orientation for name, measure in MEASURES.items() if measure.ranks}


def ranking_agreement(metrics: dict, methods: list[str]) -> tuple[list[str], np.ndarray]:
    """The measures of ``ORIENTATION`` present in ``metrics`` (nested: measure -> method -> value) and
    their pairwise Kendall tau-b ``[Q, Q]`` over ``methods`` (NaN where fewer than 3 methods are scored)."""
    from scipy.stats import kendalltau

    measures = [name for name in ORIENTATION if isinstance(metrics.get(name), dict) and metrics[name]]
    scores = np.array([[_value(metrics[name].get(m)) * ORIENTATION[name] for m in methods] for name in measures], np.float64)
    taus = np.full((len(measures), len(measures)), np.nan)
    for i in range(len(measures)):
        for j in range(len(measures)):
            both = np.isfinite(scores[i]) & np.isfinite(scores[j])
            if both.sum() >= 3:
                taus[i, j] = kendalltau(scores[i][both], scores[j][both]).statistic
    return measures, taus


def critical_tau(n: int, alpha: float = 0.05) -> float:
    """Smallest |tau| with exact two-sided p <= ``alpha`` for ``n`` untied items under independence
    (Kendall's null distribution of the number of discordant pairs, by its generating polynomial);
    NaN when no tau is that rare (``n`` < 5 at 0.05)."""
    counts: np.ndarray = np.ones(1)
    for k in range(2, n + 1):  # the number of inversions of a random permutation of k items
        counts = np.convolve(counts, np.ones(k))
    pairs = n * (n - 1) // 2
    tail = np.cumsum(counts / counts.sum())  # P(discordant <= d)
    rare = np.flatnonzero(2 * tail[: pairs // 2 + 1] <= alpha + 1e-12)
    return float("nan") if not len(rare) else 1 - 4 * int(rare[-1]) / (n * (n - 1))


def _value(value) -> float:
    return float("nan") if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
