"""The twelve methods by name, and one call that computes the chosen ones on a set of images.

Every method has the signature ``(explained, images [N,H,W,C], classes [N], config, seeds [N])
-> [N, H, W] float32`` (larger = more important for ``classes[n]``). How each reduces to that
convention: gradient and path methods (:mod:`.gradients`): ``|a|`` summed over channels;
XRAI (:mod:`.xrai`): its per-pixel region gain as PAIR returns it; Grad-CAM family
(:mod:`.cam`): the ReLU'd class activation map upsampled bilinearly; Random
(:mod:`.random_map`): uniform noise from the image's seed. Maps are not rescaled:
visualisation and PIC only use their order within an image.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from medsaliency.attribution import cam, gradients, xrai
from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.attribution.random_map import random_map
from medsaliency.errors import MedsaliencyError
from medsaliency.sections import Section


class AttributionSettings(gradients.GradientSettings, xrai.XraiSettings, cam.CamSettings, Protocol):
    """What the methods read of ``params.attribution`` (:data:`medsaliency.config.AttributionConfig`):
    the chosen ``methods``, ``batch_size`` and each family's options. Declared here, not imported from
    ``config``, so that ``config`` can import this table without a cycle."""

    @property
    def methods(self) -> list[str]: ...


Method = Callable[[ExplainedModel, np.ndarray, np.ndarray, AttributionSettings, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class MethodSpec:
    """One saliency method: its function, the label figures and tables show, and the option
    sections of ``attribution`` it reads (names of :data:`OPTIONS`)."""

    compute: Method
    label: str
    options: tuple[str, ...] = ()


# The option sections of ``params.yaml``'s ``attribution``: name -> model (every field has a default).
OPTIONS: dict[str, type[Section]] = {
    "smoothgrad": gradients.SmoothingOptions,
    "integrated_gradients": gradients.IntegratedGradientsOptions,
    "guided_ig": gradients.GuidedIGOptions,
    "blur_ig": gradients.BlurIGOptions,
    "xrai": xrai.XraiOptions,
    "scorecam": cam.ScoreCamOptions,
}

# Every method, in the order tables and figures list them. A new method is one entry here and its function.
METHODS: dict[str, MethodSpec] = {
    "vanilla_gradient": MethodSpec(gradients.vanilla_gradient, "Vanilla Gradient"),
    "smoothgrad": MethodSpec(gradients.smoothgrad, "SmoothGrad", ("smoothgrad",)),
    "integrated_gradients": MethodSpec(gradients.integrated_gradients, "Integrated Gradients", ("integrated_gradients",)),
    "smoothgrad_ig": MethodSpec(gradients.smoothgrad_ig, "SmoothGrad IG", ("smoothgrad", "integrated_gradients")),
    "guided_ig": MethodSpec(gradients.guided_ig, "Guided IG", ("guided_ig",)),
    "blur_ig": MethodSpec(gradients.blur_ig, "Blur IG", ("blur_ig",)),
    "xrai_full": MethodSpec(xrai.xrai_full, "XRAI", ("xrai",)),
    "xrai_fast": MethodSpec(xrai.xrai_fast, "Fast XRAI", ("xrai",)),
    "gradcam": MethodSpec(cam.gradcam, "Grad-CAM"),
    "gradcam_plus_plus": MethodSpec(cam.gradcam_plus_plus, "Grad-CAM++"),
    "scorecam": MethodSpec(cam.scorecam, "Score-CAM", ("scorecam",)),
    "random": MethodSpec(random_map, "Random"),
}

LABELS: dict[str, str] = {name: spec.label for name, spec in METHODS.items()}


class AttributionError(MedsaliencyError):
    """A method produced a map that breaks the convention (wrong shape, NaN or infinite values)."""


@dataclass(frozen=True)
class Attributions:
    """``maps[method]``: ``[N, H, W]`` float32; ``seconds_per_image[method]``: wall-clock seconds."""

    maps: dict[str, np.ndarray]
    seconds_per_image: dict[str, float]


def image_seeds(seed: int, ids: np.ndarray) -> np.ndarray:
    """One uint32 seed per image id (a string), derived from ``seed``: the same image gets the
    same noise in every run and for every model."""
    digests = [int.from_bytes(hashlib.md5(str(image_id).encode()).digest()[:4], "little") for image_id in ids]
    return np.array([np.random.SeedSequence([seed, digest]).generate_state(1)[0] for digest in digests], np.uint32)


def explained_classes(
    explained: ExplainedModel, images: np.ndarray, labels: np.ndarray, explain: str, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """The class each map explains (``predicted`` or ``true``) and the model's probabilities ``[N, K]``,
    ``batch_size`` images per model call (the same batches however the images are split into tasks)."""
    probabilities = explained.probabilities(images, batch_size)
    classes = probabilities.argmax(axis=1) if explain == "predicted" else np.asarray(labels)
    return classes.astype(np.int32), probabilities


def compute_maps(
    explained: ExplainedModel,
    images: np.ndarray,
    classes: np.ndarray,
    config: AttributionSettings,
    seeds: np.ndarray,
    progress: Callable[[str], None] | None = None,
) -> Attributions:
    """Every method of ``config.methods`` on ``images`` ``[N, H, W, C]`` (float32 in [0, 1]), timed."""
    maps, seconds = {}, {}
    for name in config.methods:
        if progress is not None:
            progress(name)
        start = time.perf_counter()
        result = METHODS[name].compute(explained, images, classes, config, seeds)
        seconds[name] = (time.perf_counter() - start) / len(images)
        maps[name] = check_maps(name, result, images.shape[:3])
    return Attributions(maps, seconds)


def check_maps(method: str, maps: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """``maps`` as float32 ``[N, H, W]``; an :class:`AttributionError` names the method and the first bad image."""
    maps = np.asarray(maps)
    if maps.shape != tuple(shape):
        raise AttributionError(f"{method}: maps of shape {maps.shape}, expected {tuple(shape)}")
    bad = np.flatnonzero(~np.isfinite(maps).all(axis=(1, 2)))
    if bad.size:
        raise AttributionError(f"{method}: non-finite values in the map of image {int(bad[0])} (of {len(maps)})")
    return maps.astype(np.float32)
