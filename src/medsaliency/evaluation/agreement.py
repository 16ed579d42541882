"""Do the faithfulness measures agree on which saliency method is best? Kendall's tau between rankings.

Each measure ranks the methods of one explained model by its score (the evaluate stage's metrics
JSON, ``<measure>.<method>``), oriented so that larger is better for all of them (deletion AUC and
ROAD MoRF: lower is better, so they are negated). :func:`ranking_agreement` returns Kendall's tau-b
(SciPy, ties handled) between every pair of measures over the methods both scored: 1 = the same
ranking, -1 = reversed, near 0 = unrelated. With 12 methods, |tau| below about 0.4 is within what
two unrelated rankings often give (two-sided p > 0.05).
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


def _value(value) -> float:
    return float("nan") if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
