"""Performance Information Curves (Kapishnikov et al. 2019/2021, as used by Brima & Atemkeng).

For one image and one saliency map: reveal the pixels whose saliency is at or above the
``1 - t`` quantile (plus a seeded random 1% of pixels shared by all methods on the image) for
each threshold ``t``, blur the rest (:mod:`.blur`), and measure the blurred image's
information (:mod:`.entropy`) and the model's prediction. Both are normalised between the
fully blurred image (only the random pixels known) and the original, clipped to [0, 1]; the
prediction keeps its running maximum (a monotone curve); the points, with (0, 0) and (1, 1),
are interpolated linearly on ``num_points`` + 1 evenly spaced information levels, and the
trapezoid area is the AUC. SIC predicts the softmax probability of the explained class;
AIC predicts 1 when the model's top class is the true label, else 0.

An image is excluded (per curve kind, counted by reason, in PAIR's order) when its original
prediction is below ``min_pred_value`` (``low_prediction``), when the fully blurred image
is not less informative than the original (``entropy_not_lower``), or when its prediction
is not lower (``prediction_not_lower``).

With the ``webp`` estimator every number equals PAIR ``compute_pic_metric``'s. The work is
shared instead of repeated: the fully blurred image and both entropies of the original once
per image, each blurred image and its entropy once for AIC and SIC, identical masks once;
every prediction an image needs goes to the model in one batch; an image both curves exclude
is never blurred further; images are blurred in parallel worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from medsaliency.evaluation.blur import blur, from_uint8, to_uint8
from medsaliency.evaluation.entropy import ESTIMATORS

PAPER_THRESHOLDS = (0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.10, 0.13, 0.21, 0.34, 0.5, 0.75)
CURVES = ("aic", "sic")
EXCLUSION_REASONS = ("low_prediction", "entropy_not_lower", "prediction_not_lower")
START_METHOD = "forkserver"  # not fork: the parent holds TensorFlow's threads


@dataclass(frozen=True)
class PicSettings:
    """``thresholds`` ascending fractions of most salient pixels; ``entropy`` an :data:`ESTIMATORS` name."""

    thresholds: tuple[float, ...] = PAPER_THRESHOLDS
    entropy: str = "webp"
    random_mask_fraction: float = 0.01
    min_pred_value: float = 0.0
    keep_monotonous: bool = True
    num_points: int = 1000


@dataclass(frozen=True)
class BlurredSeries:
    """One image's blurred images for every method and threshold: ``images`` uint8 ``[M*T, ...]``
    (method-major) and their ``entropies`` ``[M*T]``."""

    images: np.ndarray
    entropies: np.ndarray


@dataclass
class PicResults:
    """Per curve kind: ``auc[kind]`` ``[M, N]`` (NaN where excluded), ``curves[kind]`` ``[M, N, P+1]``,
    ``excluded[kind]`` reason -> count, and the shared information axis ``x`` ``[P+1]``."""

    x: np.ndarray
    auc: dict[str, np.ndarray]
    curves: dict[str, np.ndarray]
    excluded: dict[str, Counter] = field(default_factory=dict)


def revealed_mask(saliency: np.ndarray, threshold: float, random_mask: np.ndarray) -> np.ndarray:
    """Pixels with saliency >= its ``1 - threshold`` quantile, or in the random mask: bool ``[H, W]``."""
    return (saliency >= np.quantile(saliency, 1 - threshold)) | random_mask


def blurred_series(
    image: np.ndarray, maps: np.ndarray, random_mask: np.ndarray, thresholds: tuple[float, ...], entropy: str
) -> BlurredSeries:
    """The blurred images and entropies of ``maps`` ``[M, H, W]`` at every threshold (identical masks blurred once)."""
    estimate = ESTIMATORS[entropy]
    images, blurred_by_mask = [], {}
    for saliency in maps:
        for threshold in thresholds:
            mask = revealed_mask(saliency, threshold, random_mask)
            key = np.packbits(mask).tobytes()
            if key not in blurred_by_mask:
                blurred_by_mask[key] = blur(image, mask)
            images.append(blurred_by_mask[key])
    entropy_by_image: dict[bytes, float] = {}
    for blurred in images:
        key = blurred.tobytes()
        if key not in entropy_by_image:
            entropy_by_image[key] = estimate(blurred)
    entropies = [entropy_by_image[blurred.tobytes()] for blurred in images]
    return BlurredSeries(np.stack(images), np.asarray(entropies, np.float64))


def exclusion_reason(
    original_pred: float, blurred_pred: float, original_entropy: float, blurred_entropy: float, min_pred_value: float
) -> str | None:
    """Why PAIR would skip this image (its order of checks), or None."""
    if original_pred < min_pred_value:
        return "low_prediction"
    if blurred_entropy >= original_entropy:
        return "entropy_not_lower"
    if blurred_pred >= original_pred:
        return "prediction_not_lower"
    return None


def information_curve(
    entropies: np.ndarray,
    predictions: np.ndarray,
    original: tuple[float, float],
    blurred: tuple[float, float],
    keep_monotonous: bool = True,
    num_points: int = 1000,
) -> tuple[np.ndarray, np.ndarray, float]:
    """One PIC: per-threshold ``entropies`` and ``predictions`` ``[T]``; ``original``/``blurred`` are
    ``(entropy, prediction)`` of the original and fully blurred image -> ``(x, y, auc)``, ``[P+1]`` each."""
    from scipy.interpolate import interp1d

    (original_entropy, original_pred), (blurred_entropy, blurred_pred) = original, blurred
    information = np.clip((np.asarray(entropies) - blurred_entropy) / (original_entropy - blurred_entropy), 0.0, 1.0)
    performance = np.clip((np.asarray(predictions) - blurred_pred) / (original_pred - blurred_pred), 0.0, 1.0)
    if keep_monotonous:
        performance = np.maximum.accumulate(np.maximum(performance, 0.0))
    x_points = np.concatenate([information, [0.0, 1.0]])
    y_points = np.concatenate([performance, [0.0, 1.0]])
    x = np.linspace(0.0, 1.0, num=num_points, endpoint=False)
    y = np.append(interp1d(x=x_points, y=y_points)(x), 1.0)
    x = np.append(x, 1.0)
    return x, y, float(np.trapezoid(y, x))


def aggregate(curves: np.ndarray, x: np.ndarray, how: str = "median") -> tuple[np.ndarray, float]:
    """Pointwise ``median`` or ``mean`` of ``curves`` ``[n, P+1]`` (NaN rows ignored) and its trapezoid AUC."""
    kept = curves[~np.isnan(curves).any(axis=1)]
    if not len(kept):
        return np.full_like(x, np.nan), float("nan")
    y = np.median(kept, axis=0) if how == "median" else np.mean(kept, axis=0)
    return y, float(np.trapezoid(y, x))


def compute_pic(
    images: np.ndarray,
    maps: np.ndarray,
    labels: np.ndarray,
    classes: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
    settings: PicSettings,
    random_masks: np.ndarray,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> PicResults:
    """AIC and SIC of ``maps`` ``[M, N, H, W]`` on ``images`` float ``[N, H, W, C]`` in [0, 1].

    ``classes`` ``[N]``: the class each map explains (SIC); ``labels`` ``[N]``: the true class
    (AIC). ``predict``: float32 ``[B, H, W, C]`` -> probabilities ``[B, K]``. ``random_masks``
    bool ``[N, H, W]``. ``workers`` processes blur the images (1: in this process; 0: one per
    core). Images that both curves exclude are never blurred further.
    """
    n_methods, n_images = maps.shape[:2]
    x = np.append(np.linspace(0.0, 1.0, settings.num_points, endpoint=False), 1.0)
    results = PicResults(
        x, {k: np.full((n_methods, n_images), np.nan) for k in CURVES}, {k: np.full((n_methods, n_images, len(x)), np.nan) for k in CURVES}
    )
    uint8_images = [to_uint8(image) for image in images]
    ends = _curve_ends(uint8_images, random_masks, labels, classes, predict, settings, images.shape[-1])
    results.excluded = {kind: Counter(end.reason for end in ends[kind] if end.reason) for kind in CURVES}
    todo = [n for n in range(n_images) if any(ends[kind][n].reason is None for kind in CURVES)]
    jobs = [(uint8_images[n], maps[:, n], random_masks[n], tuple(settings.thresholds), settings.entropy) for n in todo]
    for done, (n, series) in enumerate(zip(todo, _map_jobs(jobs, workers), strict=True)):
        probabilities = predict(from_uint8(series.images, images.shape[-1]))
        for kind in CURVES:
            if ends[kind][n].reason is None:
                _image_curves(
                    results, kind, n, series.entropies, _scores(kind, probabilities, labels[n], classes[n]), ends[kind][n], settings
                )
        if progress is not None:
            progress(done)
    return results


@dataclass(frozen=True)
class CurveEnds:
    """(entropy, prediction) of the original and of the fully blurred image; why the image is excluded, if it is."""

    original: tuple[float, float]
    blurred: tuple[float, float]
    reason: str | None


def _curve_ends(
    uint8_images: list[np.ndarray], random_masks: np.ndarray, labels, classes, predict, settings: PicSettings, channels: int
) -> dict[str, list[CurveEnds]]:
    """Both ends of every curve, from one batch of originals and fully blurred images."""
    estimate = ESTIMATORS[settings.entropy]
    fully_blurred = [blur(image, mask) for image, mask in zip(uint8_images, random_masks, strict=True)]
    entropies = [(estimate(image), estimate(blurred)) for image, blurred in zip(uint8_images, fully_blurred, strict=True)]
    probabilities = predict(from_uint8(np.stack(uint8_images + fully_blurred), channels))
    count = len(uint8_images)
    ends: dict[str, list[CurveEnds]] = {kind: [] for kind in CURVES}
    for n in range(count):
        for kind in CURVES:
            original_pred, blurred_pred = _scores(kind, probabilities[[n, count + n]], labels[n], classes[n])
            reason = exclusion_reason(original_pred, blurred_pred, entropies[n][0], entropies[n][1], settings.min_pred_value)
            ends[kind].append(CurveEnds((entropies[n][0], original_pred), (entropies[n][1], blurred_pred), reason))
    return ends


def _scores(kind: str, probabilities: np.ndarray, label: int, explained: int) -> np.ndarray:
    """SIC: the explained class's probability; AIC: 1.0 where the top class is the true label."""
    if kind == "sic":
        return probabilities[:, explained].astype(np.float64)
    return (probabilities.argmax(axis=1) == label).astype(np.float64)


def _image_curves(
    results: PicResults, kind: str, n: int, entropies: np.ndarray, predictions: np.ndarray, ends: CurveEnds, settings: PicSettings
) -> None:
    steps = len(settings.thresholds)
    for m in range(len(entropies) // steps):
        window = slice(m * steps, (m + 1) * steps)
        _, y, auc = information_curve(
            entropies[window], predictions[window], ends.original, ends.blurred, settings.keep_monotonous, settings.num_points
        )
        results.curves[kind][m, n], results.auc[kind][m, n] = y, auc


def _blurred_series_job(job: tuple) -> BlurredSeries:
    return blurred_series(*job)


def _map_jobs(jobs: list[tuple], workers: int) -> Iterator[BlurredSeries]:
    """``blurred_series`` of each job, in order: in this process, or in ``workers`` worker processes
    (forkserver, not fork: the parent holds TensorFlow's threads)."""
    workers = min(workers if workers > 0 else os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        yield from map(_blurred_series_job, jobs)
        return
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context(START_METHOD), initializer=_one_thread_per_worker
    ) as pool:
        yield from pool.map(_blurred_series_job, jobs)


def _one_thread_per_worker() -> None:
    """Worker processes already fill the cores: BLAS/OpenMP thread pools in each would fight over them
    (measured: 2 workers on 2 cores ran 5x slower than one process until limited to 1 thread each)."""
    import scipy.interpolate  # noqa: F401  (loads SciPy's own OpenBLAS, so that the limit reaches it)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
