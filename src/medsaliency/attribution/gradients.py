"""Gradient and path methods from PAIR ``saliency``, driven by :class:`ExplainedModel`'s compiled function.

PAIR's methods explain one image at a time; inside an image they send their path steps or
noisy samples to the model in batches of ``attribution.batch_size``. Each returns a
``[H, W, C]`` attribution; :func:`channel_magnitude` reduces it to the map convention
(``|a|`` summed over channels: PAIR's ``VisualizeImageGrayscale`` reduction, without its
display-only percentile clipping). Baselines are black (all zeros: images are in [0, 1]).

SmoothGrad draws its noise from NumPy's global generator; it is re-seeded with the image's
seed before every image, so the same seed gives the same map.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.sections import Section

if TYPE_CHECKING:
    from medsaliency.config import AttributionConfig


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


ImageAttribution = Callable[[ExplainedModel, np.ndarray, int, "AttributionConfig"], np.ndarray]


def channel_magnitude(attribution: np.ndarray) -> np.ndarray:
    """``[..., H, W, C]`` signed attribution -> ``[..., H, W]`` float32 sum of absolute values."""
    return np.abs(attribution).sum(axis=-1).astype(np.float32)


def per_image(method: ImageAttribution) -> Callable:
    """Lift a one-image PAIR method to ``(explained, images [N,H,W,C], classes [N], config, seeds [N]) -> [N,H,W]``."""

    def attribute(
        explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: AttributionConfig, seeds: np.ndarray
    ) -> np.ndarray:
        maps = []
        for image, target, seed in zip(images, classes, seeds, strict=True):
            np.random.seed(int(seed))
            maps.append(channel_magnitude(method(explained, image.astype(np.float32), int(target), config)))
        return np.stack(maps)

    attribute.__name__ = method.__name__
    attribute.__doc__ = method.__doc__
    attribute.signed = method  # the one-image ``[H, W, C]`` attribution, before the reduction
    return attribute


@per_image
def vanilla_gradient(explained: ExplainedModel, image: np.ndarray, target: int, config: AttributionConfig) -> np.ndarray:
    """d logit / d input (Simonyan 2014)."""
    from saliency.core import GradientSaliency

    return GradientSaliency().GetMask(image, explained.call_model_function, {"class": target})


@per_image
def smoothgrad(explained: ExplainedModel, image: np.ndarray, target: int, config: AttributionConfig) -> np.ndarray:
    """Mean squared gradient over noisy copies (Smilkov 2017)."""
    from saliency.core import GradientSaliency

    return GradientSaliency().GetSmoothedMask(image, explained.call_model_function, {"class": target}, **_noise_options(config))


@per_image
def integrated_gradients(explained: ExplainedModel, image: np.ndarray, target: int, config: AttributionConfig) -> np.ndarray:
    """Integrated Gradients from black (Sundararajan 2017)."""
    from saliency.core import IntegratedGradients

    return IntegratedGradients().GetMask(image, explained.call_model_function, {"class": target}, **_path_options(image, config))


@per_image
def smoothgrad_ig(explained: ExplainedModel, image: np.ndarray, target: int, config: AttributionConfig) -> np.ndarray:
    """SmoothGrad over Integrated Gradients: IG of noisy copies, squared and averaged."""
    from saliency.core import IntegratedGradients

    return IntegratedGradients().GetSmoothedMask(
        image, explained.call_model_function, {"class": target}, **_noise_options(config), **_path_options(image, config)
    )


def _noise_options(config: AttributionConfig) -> dict:
    return {"stdev_spread": config.smoothgrad.stdev_spread, "nsamples": config.smoothgrad.nsamples}


def _path_options(image: np.ndarray, config: AttributionConfig) -> dict:
    return {"x_baseline": np.zeros_like(image), "x_steps": config.integrated_gradients.x_steps, "batch_size": config.batch_size}


@per_image
def guided_ig(explained: ExplainedModel, image: np.ndarray, target: int, config: AttributionConfig) -> np.ndarray:
    """Guided Integrated Gradients, an adaptive path from black (Kapishnikov 2021); one gradient per step."""
    from saliency.core import GuidedIG

    guided = config.guided_ig
    return GuidedIG().GetMask(
        image,
        explained.call_model_function,
        {"class": target},
        x_baseline=np.zeros_like(image),
        x_steps=guided.x_steps,
        max_dist=guided.max_dist,
        fraction=guided.fraction,
    )


@per_image
def blur_ig(explained: ExplainedModel, image: np.ndarray, target: int, config: AttributionConfig) -> np.ndarray:
    """Integrated Gradients along a path of Gaussian blurs (Xu 2020)."""
    from saliency.core import BlurIG

    blur = config.blur_ig
    return BlurIG().GetMask(
        image,
        explained.call_model_function,
        {"class": target},
        max_sigma=blur.max_sigma,
        steps=blur.steps,
        grad_step=blur.grad_step,
        batch_size=config.batch_size,
    )
