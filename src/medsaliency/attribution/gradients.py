"""Gradient and path methods: PAIR ``saliency``'s arithmetic, batched across images and samples.

Each method computes what PAIR's class of the same name computes for one image (same path
points, same noise, same sums; ``bench/attribution.py`` and the tests compare the maps with
PAIR's at r >= 0.9999), but hands every image's path steps or noisy copies to
:func:`~medsaliency.attribution.batching.gradient_blocks`, which fills model calls of exactly
``attribution.batch_size`` rows across images (PAIR: one call per image path, one row per call
for SmoothGrad). Each returns ``[N, H, W]``: the signed ``[N, H, W, C]`` attribution reduced by
:func:`channel_magnitude` (``|a|`` summed over channels: PAIR's ``VisualizeImageGrayscale``
reduction, without its display-only percentile clipping). Baselines are black (all zeros:
images are in [0, 1]). Guided IG, whose path depends on each step's gradient, runs PAIR's own
``GuidedIG`` image by image.

SmoothGrad's noise comes from NumPy's global generator, re-seeded with the image's seed before
every image and drawn sample after sample as PAIR draws it, so the same seed gives the same map.
Blur IG's Gaussian blurs are linear operators on the image rows and columns: they are built once
per size and sigma (:func:`blur_operators`) and applied as matrix products.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Protocol

import numpy as np
from pydantic import Field

from medsaliency.attribution.batching import fixed_batches, gradient_blocks
from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.sections import Section


class SmoothingOptions(Section):
    """SmoothGrad noise (``attribution.smoothgrad``, also SmoothGrad-IG's): ``nsamples`` noisy copies,
    noise std = ``stdev_spread`` x (max - min) of the image. Defaults: PAIR's."""

    nsamples: int = Field(default=25, ge=1)
    stdev_spread: float = Field(default=0.15, gt=0)


class IntegratedGradientsOptions(Section):
    """Integrated Gradients from a black (all-zero) baseline in ``x_steps`` Riemann steps
    (``attribution.integrated_gradients``, also SmoothGrad-IG's). Default: PAIR's."""

    x_steps: int = Field(default=25, ge=1)


class GuidedIGOptions(Section):
    """Guided IG (Kapishnikov 2021): ``x_steps`` steps, ``fraction`` of features moved per step,
    ``max_dist`` (``attribution.guided_ig``). Defaults: PAIR's (the paper: 25 steps, max_dist 1.0, fraction 0.5)."""

    x_steps: int = Field(default=200, ge=1)
    max_dist: float = Field(default=0.02, gt=0, le=1)
    fraction: float = Field(default=0.25, gt=0, le=1)


class BlurIGOptions(Section):
    """Blur IG (Xu 2020): a path of Gaussian blurs up to ``max_sigma`` pixels in ``steps`` steps
    (``attribution.blur_ig``). Defaults: PAIR's."""

    max_sigma: float = Field(default=50.0, gt=0)
    steps: int = Field(default=100, ge=1)
    grad_step: float = Field(default=0.01, gt=0)


class GradientSettings(Protocol):
    """What the gradient methods read of the attribution options (``params.attribution`` has it all)."""

    @property
    def batch_size(self) -> int: ...
    @property
    def smoothgrad(self) -> SmoothingOptions: ...
    @property
    def integrated_gradients(self) -> IntegratedGradientsOptions: ...
    @property
    def guided_ig(self) -> GuidedIGOptions: ...
    @property
    def blur_ig(self) -> BlurIGOptions: ...


Path = tuple[np.ndarray, np.ndarray, int]  # (input [H, W, C], baseline [H, W, C], explained class)


def channel_magnitude(attribution: np.ndarray) -> np.ndarray:
    """``[..., H, W, C]`` signed attribution -> ``[..., H, W]`` float32 sum of absolute values."""
    return np.abs(attribution).sum(axis=-1).astype(np.float32)


def vanilla_gradient(
    explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: GradientSettings, seeds: np.ndarray
) -> np.ndarray:
    """d logit / d input (Simonyan 2014)."""
    return channel_magnitude(fixed_batches(explained.input_gradients, images, config.batch_size, classes))


def smoothgrad(
    explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: GradientSettings, seeds: np.ndarray
) -> np.ndarray:
    """Mean squared gradient over ``smoothgrad.nsamples`` noisy copies (Smilkov 2017)."""
    copies = (noisy_copies(image, seed, config.smoothgrad) for image, seed in zip(images, seeds, strict=True))
    blocks = ((noisy, np.full(len(noisy), target, np.int32)) for noisy, target in zip(copies, classes, strict=True))
    squares = [
        (grads.astype(np.float64) ** 2).mean(axis=0) for grads in gradient_blocks(explained.input_gradients, blocks, config.batch_size)
    ]
    return channel_magnitude(np.stack(squares))


def integrated_gradients(
    explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: GradientSettings, seeds: np.ndarray
) -> np.ndarray:
    """Integrated Gradients from black (Sundararajan 2017), ``integrated_gradients.x_steps`` steps."""
    paths = ((image, np.zeros_like(image), target) for image, target in zip(images, classes, strict=True))
    attributions = integrated(explained, paths, config.integrated_gradients.x_steps, config.batch_size)
    return channel_magnitude(np.stack(list(attributions)))


def smoothgrad_ig(
    explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: GradientSettings, seeds: np.ndarray
) -> np.ndarray:
    """SmoothGrad over Integrated Gradients: IG of ``smoothgrad.nsamples`` noisy copies, squared and averaged."""
    samples = config.smoothgrad.nsamples

    def paths() -> Iterator[Path]:
        for image, target, seed in zip(images, classes, seeds, strict=True):
            for noisy in noisy_copies(image, seed, config.smoothgrad):
                yield noisy, np.zeros_like(image), target

    attributions = integrated(explained, paths(), config.integrated_gradients.x_steps, config.batch_size)
    squares = [np.mean([next(attributions) ** 2 for _ in range(samples)], axis=0) for _ in images]
    return channel_magnitude(np.stack(squares))


def noisy_copies(image: np.ndarray, seed: int, options: SmoothingOptions) -> np.ndarray:
    """``[nsamples, H, W, C]`` float64: ``image`` plus Gaussian noise of std ``stdev_spread`` x (max - min),
    drawn from NumPy's global generator seeded with ``seed`` (PAIR's draws, one copy after the other)."""
    np.random.seed(int(seed))
    stdev = options.stdev_spread * (np.max(image) - np.min(image))
    return image + np.random.normal(0, stdev, (options.nsamples, *image.shape))


def integrated(explained: ExplainedModel, paths: Iterable[Path], steps: int, batch_size: int) -> Iterator[np.ndarray]:
    """Integrated Gradients ``[H, W, C]`` of each ``(input, baseline, class)`` of ``paths``, in order:
    PAIR's Riemann sum, the mean gradient at ``baseline + alpha (input - baseline)`` for ``steps``
    alphas evenly spaced over [0, 1], times ``input - baseline``."""
    alphas = np.linspace(0, 1, steps)[:, None, None, None]
    differences: deque[np.ndarray] = deque()

    def blocks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for x, baseline, target in paths:
            differences.append(x - baseline)
            yield baseline + alphas * differences[-1], np.full(steps, target, np.int32)

    for grads in gradient_blocks(explained.input_gradients, blocks(), batch_size):
        yield grads.sum(axis=0) * differences.popleft() / steps


def guided_ig(
    explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: GradientSettings, seeds: np.ndarray
) -> np.ndarray:
    """Guided Integrated Gradients, an adaptive path from black (Kapishnikov 2021): PAIR's ``GuidedIG``,
    one image at a time (each step's gradient decides the next step), one gradient per step."""
    return channel_magnitude(
        np.stack([guided_ig_image(explained, image, int(target), config) for image, target in zip(images, classes, strict=True)])
    )


def guided_ig_image(explained: ExplainedModel, image: np.ndarray, target: int, config: GradientSettings) -> np.ndarray:
    """PAIR's Guided IG of one ``[H, W, C]`` image, signed ``[H, W, C]``."""
    from saliency.core import GuidedIG

    guided = config.guided_ig
    return GuidedIG().GetMask(
        image.astype(np.float32),
        explained.call_model_function,
        {"class": target},
        x_baseline=np.zeros_like(image, np.float32),
        x_steps=guided.x_steps,
        max_dist=guided.max_dist,
        fraction=guided.fraction,
    )


def blur_ig(explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: GradientSettings, seeds: np.ndarray) -> np.ndarray:
    """Integrated Gradients along a path of Gaussian blurs (Xu 2020), PAIR's ``BlurIG`` sums: at each of
    ``steps`` sigmas up to ``max_sigma`` (zero-padded borders), the gradient at the blurred image times
    d(blurred image)/d sigma (a forward difference of ``grad_step``) times the sigma step, summed, negated."""
    blur = config.blur_ig
    sigmas = np.arange(blur.steps + 1) * blur.max_sigma / blur.steps
    height, width = images.shape[1:3]
    at = (blur_operators(height, tuple(sigmas[:-1])), blur_operators(width, tuple(sigmas[:-1])))
    ahead = (blur_operators(height, tuple(sigmas[:-1] + blur.grad_step)), blur_operators(width, tuple(sigmas[:-1] + blur.grad_step)))
    weights = np.diff(sigmas)[:, None, None, None]
    slopes: deque[np.ndarray] = deque()

    def blocks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for image, target in zip(images, classes, strict=True):
            blurred = blurred_copies(image, *at)
            slopes.append((blurred_copies(image, *ahead) - blurred) / blur.grad_step)
            yield blurred, np.full(len(blurred), target, np.int32)

    sums = [
        -(weights * slopes.popleft() * grads).sum(axis=0)
        for grads in gradient_blocks(explained.input_gradients, blocks(), config.batch_size)
    ]
    return channel_magnitude(np.stack(sums))


@lru_cache(maxsize=8)
def blur_operators(size: int, sigmas: tuple[float, ...]) -> np.ndarray:
    """``[S, size, size]`` float64: row ``i`` of operator ``s`` holds the weights that SciPy's
    ``gaussian_filter1d(sigma=sigmas[s], mode="constant")`` gives each input position for output
    ``i`` (the identity for sigma 0, as PAIR leaves the image unblurred there)."""
    from scipy.ndimage import gaussian_filter1d

    identity = np.eye(size)
    return np.stack([identity if sigma == 0 else gaussian_filter1d(identity, sigma, axis=0, mode="constant") for sigma in sigmas])


def blurred_copies(image: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``[S, H, W, C]`` float64: ``image`` ``[H, W, C]`` blurred along its rows and columns by each of the
    ``S`` operator pairs ``rows`` ``[S, H, H]`` and ``columns`` ``[S, W, W]``."""
    channels = np.moveaxis(image.astype(np.float64), -1, 0)[None]  # [1, C, H, W]
    blurred = rows[:, None] @ channels @ np.swapaxes(columns, 1, 2)[:, None]
    return np.moveaxis(blurred, 1, -1)
