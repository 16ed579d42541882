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
an image's predictions go to the model in two batches (its original with its fully blurred
image, then all its blurred images), so an image's result does not depend on which other images
share its process; an image both curves exclude is never blurred further. :func:`image_pic` is
the per-image unit that ``evaluate`` sends to Dask workers (:mod:`medsaliency.compute`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from medsaliency.evaluation.blur import blur, from_uint8, to_uint8
from medsaliency.evaluation.entropy import ESTIMATORS

PAPER_THRESHOLDS = (0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.10, 0.13, 0.21, 0.34, 0.5, 0.75)
CURVES = ("aic", "sic")
EXCLUSION_REASONS = ("low_prediction", "entropy_not_lower", "prediction_not_lower")


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
    ``excluded[kind]`` reason -> count, the shared information axis ``x`` ``[P+1]``, and
    ``sic_scores`` ``[M, N, T]``: the explained class's probability per threshold (NaN: not blurred)."""

    x: np.ndarray
    auc: dict[str, np.ndarray]
    curves: dict[str, np.ndarray]
    excluded: dict[str, Counter] = field(default_factory=dict)
    sic_scores: np.ndarray | None = None


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
) -> PicResults:
    """AIC and SIC of ``maps`` ``[M, N, H, W]`` on ``images`` float ``[N, H, W, C]`` in [0, 1], in this process.

    ``classes`` ``[N]``: the class each map explains (SIC); ``labels`` ``[N]``: the true class
    (AIC). ``predict``: float32 ``[B, H, W, C]`` -> probabilities ``[B, K]``. ``random_masks``
    bool ``[N, H, W]``. Exactly :func:`image_pic` of every image (wherever it ran) and :func:`pic_results`.
    """
    per_image = [image_pic(images[n], maps[:, n], random_masks[n], labels[n], classes[n], predict, settings) for n in range(len(images))]
    return pic_results(per_image, len(maps), settings)


@dataclass(frozen=True)
class CurveEnds:
    """(entropy, prediction) of the original and of the fully blurred image; why the image is excluded, if it is."""

    original: tuple[float, float]
    blurred: tuple[float, float]
    reason: str | None


@dataclass(frozen=True)
class ImagePic:
    """One image's PIC for ``M`` methods: per curve kind its :class:`CurveEnds` and, unless excluded,
    ``curves[kind]`` ``[M, P+1]`` and ``auc[kind]`` ``[M]``; ``sic_scores`` ``[M, T]``: the explained
    class's probability at each threshold (None when both curves exclude the image: never blurred)."""

    ends: dict[str, CurveEnds]
    curves: dict[str, np.ndarray]
    auc: dict[str, np.ndarray]
    sic_scores: np.ndarray | None


def image_pic(
    image: np.ndarray,
    maps: np.ndarray,
    random_mask: np.ndarray,
    label: int,
    explained_class: int,
    predict: Callable[[np.ndarray], np.ndarray],
    settings: PicSettings,
) -> ImagePic:
    """Both curves of one ``image`` float ``[H, W, C]`` for its ``maps`` ``[M, H, W]``. Two model calls:
    the original with its fully blurred image, then every blurred image of every method at once
    (skipped when both curves exclude the image), so the same batches wherever it runs."""
    pixels, channels = to_uint8(image), image.shape[-1]
    estimate = ESTIMATORS[settings.entropy]
    fully_blurred = blur(pixels, random_mask)
    entropies = (estimate(pixels), estimate(fully_blurred))
    probabilities = predict(from_uint8(np.stack([pixels, fully_blurred]), channels))
    ends = {}
    for kind in CURVES:
        original_pred, blurred_pred = _scores(kind, probabilities, label, explained_class)
        reason = exclusion_reason(original_pred, blurred_pred, *entropies, settings.min_pred_value)
        ends[kind] = CurveEnds((entropies[0], original_pred), (entropies[1], blurred_pred), reason)
    if all(ends[kind].reason for kind in CURVES):
        return ImagePic(ends, {}, {}, None)
    series = blurred_series(pixels, maps, random_mask, tuple(settings.thresholds), settings.entropy)
    probabilities = predict(from_uint8(series.images, channels))
    curves, aucs = {}, {}
    for kind in CURVES:
        if ends[kind].reason is None:
            predictions = _scores(kind, probabilities, label, explained_class)
            curves[kind], aucs[kind] = _method_curves(series.entropies, predictions, ends[kind], settings)
    sic_scores = _scores("sic", probabilities, label, explained_class).reshape(len(maps), len(settings.thresholds))
    return ImagePic(ends, curves, aucs, sic_scores)


def pic_results(images: list[ImagePic], n_methods: int, settings: PicSettings) -> PicResults:
    """The :class:`PicResults` of per-image results of ``n_methods`` maps each, in image order (NaN where excluded)."""
    x = np.append(np.linspace(0.0, 1.0, settings.num_points, endpoint=False), 1.0)
    results = PicResults(
        x,
        {kind: np.full((n_methods, len(images)), np.nan) for kind in CURVES},
        {kind: np.full((n_methods, len(images), len(x)), np.nan) for kind in CURVES},
        sic_scores=np.full((n_methods, len(images), len(settings.thresholds)), np.nan),
    )
    results.excluded = {kind: Counter(image.ends[kind].reason for image in images if image.ends[kind].reason) for kind in CURVES}
    for n, image in enumerate(images):
        for kind, curves in image.curves.items():
            results.curves[kind][:, n], results.auc[kind][:, n] = curves, image.auc[kind]
        if image.sic_scores is not None and results.sic_scores is not None:
            results.sic_scores[:, n] = image.sic_scores
    return results


def _scores(kind: str, probabilities: np.ndarray, label: int, explained: int) -> np.ndarray:
    """SIC: the explained class's probability; AIC: 1.0 where the top class is the true label."""
    if kind == "sic":
        return probabilities[:, explained].astype(np.float64)
    return (probabilities.argmax(axis=1) == label).astype(np.float64)


def _method_curves(entropies: np.ndarray, predictions: np.ndarray, ends: CurveEnds, settings: PicSettings) -> tuple[np.ndarray, np.ndarray]:
    """Curves ``[M, P+1]`` and AUCs ``[M]`` of one image from its per-threshold ``entropies`` and ``predictions`` ``[M*T]``."""
    steps = len(settings.thresholds)
    curves, aucs = [], []
    for m in range(len(entropies) // steps):
        window = slice(m * steps, (m + 1) * steps)
        _, y, auc = information_curve(
            entropies[window], predictions[window], ends.original, ends.blurred, settings.keep_monotonous, settings.num_points
        )
        curves.append(y)
        aucs.append(auc)
    return np.stack(curves), np.asarray(aucs)
