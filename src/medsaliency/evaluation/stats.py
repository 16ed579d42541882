"""Statistics over images: bootstrap confidence intervals, paired tests against Random.

- :func:`bootstrap_auc_interval`: resample the images with replacement, aggregate the curves
  (median or mean, as the point estimate), take the AUC; the percentile interval.
- :func:`bootstrap_mean_interval`: the same for the mean of a per-image score (localisation).
- :func:`wilcoxon_against`: per method, the two-sided Wilcoxon signed-rank test of its
  per-image AUCs (or scores) against the reference method's on the same images (SciPy), then
  :func:`holm` adjusts the p-values for the number of methods compared.
"""

from __future__ import annotations

import numpy as np


def bootstrap_auc_interval(
    curves: np.ndarray, x: np.ndarray, how: str, resamples: int, confidence: float, rng: np.random.Generator
) -> tuple[float, float]:
    """Percentile ``confidence`` interval of the aggregate AUC of ``curves`` ``[n, P+1]`` (NaN rows dropped)."""
    kept = curves[~np.isnan(curves).any(axis=1)]
    if len(kept) < 2:
        return float("nan"), float("nan")
    draws = rng.integers(0, len(kept), size=(resamples, len(kept)))
    aucs = np.empty(resamples)
    for index, rows in enumerate(draws):
        sample = kept[rows]
        y = np.median(sample, axis=0) if how == "median" else sample.mean(axis=0)
        aucs[index] = np.trapezoid(y, x)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(aucs, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_mean_interval(values: np.ndarray, resamples: int, confidence: float, rng: np.random.Generator) -> tuple[float, float]:
    """Percentile ``confidence`` interval of the mean of per-image ``values`` ``[N]`` (NaN dropped)."""
    kept = values[~np.isnan(values)]
    if len(kept) < 2:
        return float("nan"), float("nan")
    means = kept[rng.integers(0, len(kept), size=(resamples, len(kept)))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def wilcoxon_against(aucs: np.ndarray, methods: list[str], reference: str) -> dict[str, float]:
    """Holm-adjusted two-sided Wilcoxon p-value of each method vs ``reference`` on paired per-image AUCs.

    ``aucs`` ``[M, N]`` with NaN for excluded images. A method with fewer than two paired
    images, or whose differences are all zero, gets p = 1.
    """
    from scipy.stats import wilcoxon

    base = aucs[methods.index(reference)]
    raw = {}
    for method, values in zip(methods, aucs, strict=True):
        if method == reference:
            continue
        paired = ~np.isnan(values) & ~np.isnan(base)
        differences = values[paired] - base[paired]
        raw[method] = 1.0 if paired.sum() < 2 or not np.any(differences) else float(wilcoxon(values[paired], base[paired]).pvalue)
    return holm(raw)


def holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm-Bonferroni step-down adjustment (monotone, capped at 1)."""
    order = sorted(p_values, key=lambda name: p_values[name])
    adjusted, running = {}, 0.0
    for rank, name in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p_values[name]))
        adjusted[name] = running
    return adjusted
