"""Grad-CAM, Grad-CAM++ and Score-CAM on a batch of images, from the target layer of the model.

Own code rather than tf-keras-vis: tf-keras-vis clones the model inside every explainer and
runs eagerly, and its Score-CAM applies a softmax on top of the model's output. Here the
activation/gradient model is :class:`ExplainedModel`'s compiled function, built once per
model and shared by all three methods; images go through it ``attribution.batch_size`` at a
time. The formulas follow tf-keras-vis (the reference implementation of the paper), which
``bench/attribution.py`` and the tests compare against:

- Grad-CAM: ``relu(sum_k mean_ij(dS/dA_k) A_k)``.
- Grad-CAM++: channel weights ``sum_ij alpha_ij relu(dS/dA_ij)`` with
  ``alpha = g^2 / (2 g^2 + sum_ij(A) g^3)`` normalised over ``ij`` (tf-keras-vis; the
  ``exp(S)`` factor of the paper cancels in ``alpha`` and only rescales the map, and it
  overflows float32 for logits above ~88, so it is left out).
- Score-CAM: each channel, upsampled and min-max normalised, masks the input; the masked
  input's softmax probability of the class weights the channel: ``relu(sum_k p_k A_k)``.

``S`` is the explained class's logit. Maps are computed at the layer's resolution and
upsampled to the input's by ``scipy.ndimage.zoom(order=1)`` (linear, aligned corners, as in
tf-keras-vis), float32 ``[N, H, W]``, >= 0, not rescaled.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from pydantic import Field

from medsaliency.attribution.batching import consecutive_slices, fixed_batches
from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.sections import Section

EPSILON = 1e-7


class ScoreCamOptions(Section):
    """Score-CAM (``attribution.scorecam``): the ``max_channels`` target-layer channels with the
    largest spatial std (null = all, the default)."""

    max_channels: int | None = Field(default=None, ge=1)


class CamSettings(Protocol):
    """What the Grad-CAM family reads of the attribution options."""

    @property
    def batch_size(self) -> int: ...
    @property
    def scorecam(self) -> ScoreCamOptions: ...


def gradcam(explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: CamSettings, seeds: np.ndarray) -> np.ndarray:
    """Grad-CAM maps, ``[N, H, W]``."""
    return _gradient_weighted_cam(explained, images, classes, config.batch_size, _gradcam_weights)


def gradcam_plus_plus(
    explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: CamSettings, seeds: np.ndarray
) -> np.ndarray:
    """Grad-CAM++ maps, ``[N, H, W]``."""
    return _gradient_weighted_cam(explained, images, classes, config.batch_size, _gradcam_plus_plus_weights)


def _gradient_weighted_cam(
    explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, batch_size: int, channel_weights
) -> np.ndarray:
    """``relu(sum_k w_k A_k)`` upsampled, with ``w = channel_weights(A, dS/dA)`` of shape ``[B, 1, 1, k]``."""
    activations, gradients = fixed_batches(explained.layer_gradients, images, batch_size, classes)
    cams = np.maximum((activations * channel_weights(activations, gradients)).sum(axis=-1), 0)
    return upsample(cams, images.shape[1:3])


def _gradcam_weights(activations: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    return gradients.mean(axis=(1, 2), keepdims=True)


def _gradcam_plus_plus_weights(activations: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    squared, cubed = gradients**2, gradients**3
    denominator = 2 * squared + cubed * activations.sum(axis=(1, 2), keepdims=True)
    alphas = squared / np.where(squared == 0, 1.0, denominator)
    alpha_sums = alphas.sum(axis=(1, 2), keepdims=True)
    alphas = alphas / np.where(alpha_sums == 0, 1.0, alpha_sums)
    return (alphas * np.maximum(gradients, 0)).sum(axis=(1, 2), keepdims=True)


def scorecam(explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: CamSettings, seeds: np.ndarray) -> np.ndarray:
    """Score-CAM maps, ``[N, H, W]``: one forward pass per (image, channel), batched."""
    activations, _ = fixed_batches(explained.layer_gradients, images, config.batch_size, classes)
    cams = []
    for image, target, channels in zip(images, classes, activations, strict=True):
        channels = _strongest_channels(channels, config.scorecam.max_channels)
        weights = _channel_scores(explained, image, int(target), channels, config.batch_size)
        cams.append(np.maximum((channels * weights).sum(axis=-1), 0))
    return upsample(np.stack(cams), images.shape[1:3])


def upsample(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``[N, h, w]`` or ``[N, h, w, k]`` -> the same at ``size``: linear, corners aligned, float32."""
    from scipy.ndimage import zoom

    factors = (1, size[0] / maps.shape[1], size[1] / maps.shape[2]) + (1,) * (maps.ndim - 3)
    return zoom(np.asarray(maps, np.float32), factors, order=1, mode="nearest")


def _channel_scores(explained: ExplainedModel, image: np.ndarray, target: int, channels: np.ndarray, batch_size: int) -> np.ndarray:
    """Softmax probability of ``target`` for the image masked by each normalised, upsampled channel: ``[k]``."""
    masks = upsample(channels[None], image.shape[:2])[0]
    low, high = masks.min(axis=(0, 1)), masks.max(axis=(0, 1))
    masks = (masks - low) / (high - low + EPSILON)
    scores = []
    for batch in consecutive_slices(masks.shape[-1], batch_size):
        masked = image[None] * np.moveaxis(masks[..., batch], -1, 0)[..., None]
        scores.append(explained.probabilities(masked)[:, target])
    return np.concatenate(scores)


def _strongest_channels(channels: np.ndarray, max_channels: int | None) -> np.ndarray:
    """The ``max_channels`` channels of ``[h, w, k]`` with the largest spatial std (all when None)."""
    if max_channels is None or max_channels >= channels.shape[-1]:
        return channels
    strongest = np.sort(np.argsort(-channels.std(axis=(0, 1)), kind="stable")[:max_channels])
    return channels[..., strongest]
