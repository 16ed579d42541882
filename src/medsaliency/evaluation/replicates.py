"""Which method orderings hold across independently trained models: statistics over replicates.

One measure's per-image scores ``[R, M, N]`` (replicate, method, image; NaN where the image has no
score) are read in the measure's better direction (lower-is-better measures negated), so that a
larger score is always better. The replicates are models of the champion's configuration trained
with other seeds; the images are the same test split for each, grouped by patient.

- **Headline**: each method's mean over replicates and images, with a bootstrap interval that
  resamples replicates, and independently patients and then their images (replicates and images
  are crossed: every replicate scores every image).
- **P(A beats B)**: the chance that, for a random replicate and image, A scores better than B
  (ties count one half), with the same bootstrap interval. An order is claimed only where the
  interval excludes 1/2 (:attr:`MeasureStatistics.holds`).
- **Agreement across replicates** (the methods other than Random): per replicate the methods are
  ranked by their mean score; Friedman's test (SciPy) with Kendall's W = chi2 / (R (M - 1)), and the
  test-retest Kendall tau between every two replicates' rankings.
- **Reliability across images**: Krippendorff's alpha (the ``krippendorff`` package, ordinal) of
  the methods' per-image ranks, every (replicate, image) a rater (Tomsett et al., AAAI 2020).
- **The seed floor** (:func:`seed_floor`): how alike the champion's maps and a replicate's are, the
  reference the randomisation tests lack.
- **Critical differences**: the Nemenyi post hoc test after Friedman (``scikit-posthocs``), the
  input of the critical-difference diagram (Demšar 2006).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields
from itertools import combinations

import numpy as np
import pandas as pd

from medsaliency.evaluation.measures import MEASURES, REFERENCE_METHOD
from medsaliency.evaluation.shuffled_labels import compare_maps
from medsaliency.evaluation.stats import patient_bootstrap
from medsaliency.io.artifacts import MapsFile

# The per-image measures with a better direction that score the explained model's own maps.
RANKED_MEASURES = tuple(name for name, measure in MEASURES.items() if measure.tested_against_random)


@dataclass(frozen=True)
class MeasureStatistics:
    """One measure over ``R`` replicates: per method (``methods`` order) ``mean``, ``low``, ``high``
    (raw units) and ``mean_rank`` (1 = best, among the ranked methods, NaN for Random); ``beats``,
    ``beats_low``, ``beats_high`` ``[M, M]``: P(row beats column) and its interval; over the methods
    other than Random: ``friedman_p``, ``kendall_w``, ``retest_tau`` (mean over replicate pairs),
    ``retest_tau_min``, ``alpha`` (Krippendorff) and ``nemenyi`` ``[M', M']`` p-values (``ranked`` order)."""

    methods: list[str]
    ranked: list[str]
    replicates: int
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    mean_rank: np.ndarray
    beats: np.ndarray
    beats_low: np.ndarray
    beats_high: np.ndarray
    friedman_p: float
    kendall_w: float
    retest_tau: float
    retest_tau_min: float
    alpha: float
    nemenyi: np.ndarray

    def record(self) -> dict:
        """JSON-ready: arrays as lists (NaN as None)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_record(cls, record: dict) -> MeasureStatistics:
        arrays = {"mean", "low", "high", "mean_rank", "beats", "beats_low", "beats_high", "nemenyi"}
        numbers = {"friedman_p", "kendall_w", "retest_tau", "retest_tau_min", "alpha"}

        def value(key: str, raw):
            if key in arrays:
                return np.array(raw, dtype=np.float64)
            return float("nan") if key in numbers and raw is None else raw

        return cls(**{key: value(key, raw) for key, raw in record.items()})

    def summary(self) -> dict[str, float | int | None]:
        """The scalars a run is compared by (DVC metrics): agreement across replicates, reliability, orders that hold."""
        pairs = len(self.ranked) * (len(self.ranked) - 1) // 2
        held = [(a, b) for a, b in self.holds() if a in self.ranked and b in self.ranked]
        return {
            "replicates": self.replicates,
            "kendall_w": _plain(self.kendall_w),
            "friedman_p": _plain(self.friedman_p),
            "retest_tau": _plain(self.retest_tau),
            "retest_tau_min": _plain(self.retest_tau_min),
            "krippendorff_alpha": _plain(self.alpha),
            "ordered_pairs": len(held),
            "pairs": pairs,
        }

    def holds(self) -> list[tuple[str, str]]:
        """``(A, B)`` for every pair where P(A beats B)'s whole interval lies above 1/2."""
        return [(a, b) for i, a in enumerate(self.methods) for j, b in enumerate(self.methods) if i != j and self.beats_low[i, j] > 0.5]

    def best(self) -> list[str]:
        """The ranked methods that beat every other ranked method (an order that holds for each pair)."""
        held = set(self.holds())
        return [a for a in self.ranked if all((a, b) in held for b in self.ranked if b != a)]


def replicate_statistics(
    tables: list[pd.DataFrame], methods: list[str], ids: np.ndarray, patients: np.ndarray, resamples: int, confidence: float, seed: int
) -> dict[str, MeasureStatistics]:
    """:func:`measure_statistics` of every :data:`RANKED_MEASURES` column the per-image ``tables`` (one per
    model: ``id``, ``method`` and a column per measure) share, over images ``ids`` of ``patients`` ``[N]``."""
    rng = np.random.default_rng(seed)
    shared = [name for name in RANKED_MEASURES if all(name in table.columns for table in tables)]
    statistics = {}
    for name in shared:
        scores = np.stack([score_matrix(table, name, methods, ids) for table in tables])
        if np.isfinite(scores).any():
            statistics[name] = measure_statistics(scores, methods, patients, MEASURES[name].orientation, resamples, confidence, rng)
    return statistics


def score_matrix(table: pd.DataFrame, measure: str, methods: list[str], ids: np.ndarray) -> np.ndarray:
    """``[M, N]``: ``measure`` of each method (rows, ``methods`` order) on each image (``ids`` order), NaN where absent."""
    wide = table.pivot(index="method", columns="id", values=measure)
    return wide.reindex(index=methods, columns=[str(i) for i in ids]).to_numpy(dtype=np.float64)


def seed_floor(champion: MapsFile, replicate: MapsFile) -> dict[str, dict[str, float]]:
    """``ssim`` and ``spearman`` -> method -> the mean similarity of the two models' maps over the images
    both explain for the same class (NaN when there is none)."""
    same = champion.explained_class == replicate.explained_class
    methods = champion.method_names
    if not same.any():
        return {measure: dict.fromkeys(methods, float("nan")) for measure in ("ssim", "spearman")}
    ours = {m: champion.maps[i][same] for i, m in enumerate(methods)}
    theirs = {m: replicate.maps[i][same] for i, m in enumerate(methods)}
    return {measure: {m: float(np.nanmean(values)) for m, values in by.items()} for measure, by in compare_maps(ours, theirs).items()}


def mean_floor(floors: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float | None]]:
    """The replicates' :func:`seed_floor` averaged over them (JSON-ready: NaN as None)."""
    if not floors:
        return {}
    means = {measure: {m: float(np.nanmean([floor[measure][m] for floor in floors])) for m in floors[0][measure]} for measure in floors[0]}
    return {measure: {m: (v if np.isfinite(v) else None) for m, v in by.items()} for measure, by in means.items()}


def measure_statistics(
    scores: np.ndarray,
    methods: list[str],
    patients: np.ndarray,
    orientation: int,
    resamples: int,
    confidence: float,
    rng: np.random.Generator,
) -> MeasureStatistics:
    """:class:`MeasureStatistics` of ``scores`` ``[R, M, N]`` of ``methods`` on images of ``patients``
    ``[N]``; ``orientation`` +1 when higher is better, -1 when lower is."""
    oriented = scores * orientation
    ranked = [m for m in methods if m != REFERENCE_METHOD]
    columns = [methods.index(m) for m in ranked]
    with warnings.catch_warnings():  # a method without any score in a replicate: NaN, as meant
        warnings.simplefilter("ignore", RuntimeWarning)
        replicate_means = np.nanmean(oriented, axis=2)  # [R, M]
    replicate_ranks = _ranks(replicate_means[:, columns])  # [R, M'], 1 = best
    mean_rank = np.full(len(methods), np.nan)
    mean_rank[columns] = replicate_ranks.mean(axis=0)
    mean, low, high, beats, beats_low, beats_high = _bootstrap(oriented, patients, resamples, confidence, rng)
    friedman_p, kendall_w = _friedman(replicate_means[:, columns])
    taus = [_tau(replicate_means[a, columns], replicate_means[b, columns]) for a, b in combinations(range(len(scores)), 2)]
    return MeasureStatistics(
        methods=list(methods),
        ranked=ranked,
        replicates=len(scores),
        mean=mean * orientation,
        low=low if orientation > 0 else -high,
        high=high if orientation > 0 else -low,
        mean_rank=mean_rank,
        beats=beats,
        beats_low=beats_low,
        beats_high=beats_high,
        friedman_p=friedman_p,
        kendall_w=kendall_w,
        retest_tau=float(np.mean(taus)) if taus and np.isfinite(taus).all() else float("nan"),
        retest_tau_min=float(np.min(taus)) if taus and np.isfinite(taus).all() else float("nan"),
        alpha=_alpha(oriented[:, columns]),
        nemenyi=_nemenyi(replicate_means[:, columns]),
    )


def _bootstrap(oriented: np.ndarray, patients: np.ndarray, resamples: int, confidence: float, rng: np.random.Generator) -> tuple:
    """Means ``[M]`` and P(A beats B) ``[M, M]`` with their percentile intervals: each resample draws
    ``R`` replicates with replacement and, independently, patients and then their images
    (:func:`~medsaliency.evaluation.stats.patient_bootstrap`); both enter as multiplicity weights."""
    replicates, _, images = oriented.shape
    valid = np.isfinite(oriented)
    values = np.where(valid, oriented, 0.0)
    difference = oriented[:, :, None, :] - oriented[:, None, :, :]  # [R, M, M, N]
    paired = np.isfinite(difference)
    wins = np.where(paired, (difference > 0) + 0.5 * (difference == 0), 0.0)
    sample = patient_bootstrap(patients, resamples, rng)
    draw = np.repeat(np.arange(resamples), sample.sizes)
    image_weights = np.bincount(draw * images + sample.rows, minlength=resamples * images).reshape(resamples, images)
    replicate_draws = rng.integers(0, replicates, size=(resamples, replicates))
    replicate_weights = np.stack([np.bincount(row, minlength=replicates) for row in replicate_draws])
    ones_r, ones_i = np.ones((1, replicates)), np.ones((1, images))

    def weighted(numerator: np.ndarray, denominator: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        subscripts = "br,rmi,bi->bm" if numerator.ndim == 3 else "br,rmni,bi->bmn"
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.einsum(subscripts, v, numerator, w, optimize=True) / np.einsum(subscripts, v, denominator, w, optimize=True)

    mean = weighted(values, valid, ones_r, ones_i)[0]
    beats = weighted(wins, paired, ones_r, ones_i)[0]
    mean_draws = weighted(values, valid, replicate_weights, image_weights)
    beats_draws = weighted(wins, paired, replicate_weights, image_weights)
    tail = (1 - confidence) / 2 * 100
    low, high = np.nanpercentile(mean_draws, [tail, 100 - tail], axis=0)
    beats_low, beats_high = np.nanpercentile(beats_draws, [tail, 100 - tail], axis=0)
    return mean, low, high, beats, beats_low, beats_high


def _ranks(values: np.ndarray) -> np.ndarray:
    """Per row of ``values`` ``[R, M]`` (larger better) the rank of each column, 1 = best, ties averaged."""
    from scipy.stats import rankdata

    return rankdata(-values, axis=1)


def _friedman(replicate_means: np.ndarray) -> tuple[float, float]:
    """Friedman's p-value and Kendall's W of the methods (columns) over the replicates (rows)."""
    from scipy.stats import friedmanchisquare

    replicates, methods = replicate_means.shape
    if replicates < 2 or methods < 3 or not np.isfinite(replicate_means).all():
        return float("nan"), float("nan")
    result = friedmanchisquare(*replicate_means.T)
    return float(result.pvalue), float(result.statistic / (replicates * (methods - 1)))


def _tau(first: np.ndarray, second: np.ndarray) -> float:
    from scipy.stats import kendalltau

    both = np.isfinite(first) & np.isfinite(second)
    return float(kendalltau(first[both], second[both]).statistic) if both.sum() >= 3 else float("nan")


def _alpha(oriented: np.ndarray) -> float:
    """Krippendorff's alpha (ordinal) of the methods' ranks, one rater per (replicate, image)."""
    import krippendorff
    from scipy.stats import rankdata

    raters = oriented.transpose(0, 2, 1).reshape(-1, oriented.shape[1])  # [R * N, M']
    raters = raters[np.isfinite(raters).sum(axis=1) >= 2]
    if len(raters) < 2:
        return float("nan")
    ranks = np.where(np.isfinite(raters), rankdata(np.where(np.isfinite(raters), -raters, np.inf), axis=1), np.nan)
    if len(np.unique(ranks[np.isfinite(ranks)])) < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=ranks, level_of_measurement="ordinal"))


def _plain(value):
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else float(value)
    return value


def _nemenyi(replicate_means: np.ndarray) -> np.ndarray:
    """Nemenyi post hoc p-values ``[M', M']`` after Friedman (methods = columns, replicates = blocks)."""
    import scikit_posthocs

    replicates, methods = replicate_means.shape
    if replicates < 2 or methods < 3 or not np.isfinite(replicate_means).all():
        return np.full((methods, methods), np.nan)
    return scikit_posthocs.posthoc_nemenyi_friedman(replicate_means).to_numpy(dtype=np.float64)
