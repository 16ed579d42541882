"""Statistics over patients and images: bootstrap confidence intervals, paired tests against Random.

The unit is the patient: a brain patient contributes several slices, which are not independent
draws, so every interval resamples patients and every test compares patients. ``groups`` names
each image's patient (``[N]``, any hashable dtype); an image that is its own patient (the chest
X-rays) makes each function the plain image-level one.

- :func:`patient_bootstrap`: a two-level bootstrap sample: patients with replacement, then each
  drawn patient's images with replacement (resampling both levels, as Saravanan et al. 2020 advise
  for nested data; slightly conservative where images vary little within a patient).
- :func:`bootstrap_auc_interval`: resample, aggregate the curves (median or mean, as the point
  estimate), take the AUC; the percentile interval.
- :func:`bootstrap_mean_interval`: the same for the mean of a per-image score (localisation).
- :func:`wilcoxon_against`: per method, the two-sided Wilcoxon signed-rank test of the per-patient
  mean difference between its per-image AUCs (or scores) and the reference method's on the same
  images (SciPy), then :func:`holm` adjusts the p-values for the number of methods compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BootstrapSample:
    """``resamples`` bootstrap samples of ``N`` images, concatenated: ``rows`` int ``[total]`` indexes
    the images, sample ``r`` is ``rows[starts[r]:starts[r] + sizes[r]]`` (sizes vary with the patients drawn)."""

    rows: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray

    def samples(self) -> list[np.ndarray]:
        return np.split(self.rows, self.starts[1:])

    def means(self, values: np.ndarray) -> np.ndarray:
        """``[resamples]``: the mean of ``values`` ``[N]`` over each sample."""
        return np.add.reduceat(values[self.rows], self.starts) / self.sizes


def patient_bootstrap(groups: np.ndarray, resamples: int, rng: np.random.Generator) -> BootstrapSample:
    """Two-level bootstrap of images grouped by patient ``groups`` ``[N]``: each sample draws as many
    patients as there are, with replacement, and for each drawn patient as many of its images as it
    has, with replacement."""
    _, patient = np.unique(groups, return_inverse=True)
    by_patient = np.argsort(patient, kind="stable")
    size = np.bincount(patient)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    drawn = rng.integers(0, len(size), size=(resamples, len(size)))
    repeated = np.repeat(drawn.ravel(), size[drawn].ravel())
    within = (rng.random(len(repeated)) * size[repeated]).astype(np.int64)
    sizes = size[drawn].sum(axis=1)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return BootstrapSample(by_patient[first[repeated] + within], starts, sizes)


def bootstrap_auc_interval(
    curves: np.ndarray, x: np.ndarray, how: str, resamples: int, confidence: float, rng: np.random.Generator, groups: np.ndarray
) -> tuple[float, float]:
    """Percentile ``confidence`` interval of the aggregate AUC of ``curves`` ``[n, P+1]`` of patients
    ``groups`` ``[n]`` (NaN rows dropped)."""
    kept = ~np.isnan(curves).any(axis=1)
    if kept.sum() < 2:
        return float("nan"), float("nan")
    curves = curves[kept]
    aucs = np.empty(resamples)
    for index, rows in enumerate(patient_bootstrap(groups[kept], resamples, rng).samples()):
        sample = curves[rows]
        y = np.median(sample, axis=0) if how == "median" else sample.mean(axis=0)
        aucs[index] = np.trapezoid(y, x)
    return _percentiles(aucs, confidence)


def bootstrap_mean_interval(
    values: np.ndarray, resamples: int, confidence: float, rng: np.random.Generator, groups: np.ndarray
) -> tuple[float, float]:
    """Percentile ``confidence`` interval of the mean of per-image ``values`` ``[N]`` of patients ``groups`` ``[N]`` (NaN dropped)."""
    kept = ~np.isnan(values)
    if kept.sum() < 2:
        return float("nan"), float("nan")
    return _percentiles(patient_bootstrap(groups[kept], resamples, rng).means(values[kept]), confidence)


def wilcoxon_against(aucs: np.ndarray, methods: list[str], reference: str, groups: np.ndarray) -> dict[str, float]:
    """Holm-adjusted two-sided Wilcoxon p-value of each method vs ``reference``: per patient of
    ``groups`` ``[N]``, the mean difference over its images that both have; the signed-rank test
    over those patients.

    ``aucs`` ``[M, N]`` with NaN for excluded images. A method with fewer than two patients with
    paired images, or whose differences are all zero, gets p = 1.
    """
    from scipy.stats import wilcoxon

    base = aucs[methods.index(reference)]
    raw = {}
    for method, values in zip(methods, aucs, strict=True):
        if method == reference:
            continue
        differences = patient_means(values - base, groups)
        raw[method] = 1.0 if len(differences) < 2 or not np.any(differences) else float(wilcoxon(differences).pvalue)
    return holm(raw)


def patient_means(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Mean of the finite ``values`` ``[N]`` per patient of ``groups`` ``[N]``, patients without one left out."""
    kept = np.isfinite(values)
    _, patient = np.unique(groups[kept], return_inverse=True)
    return np.bincount(patient, weights=values[kept]) / np.bincount(patient)


def holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm-Bonferroni step-down adjustment (monotone, capped at 1)."""
    order = sorted(p_values, key=lambda name: p_values[name])
    adjusted, running = {}, 0.0
    for rank, name in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p_values[name]))
        adjusted[name] = running
    return adjusted


def _percentiles(estimates: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(estimates, [tail, 100 - tail])
    return float(low), float(high)
