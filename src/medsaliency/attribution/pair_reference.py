"""PAIR ``saliency``'s own one-image classes for the gradient, path and XRAI methods: the reference
that :mod:`.gradients` and :mod:`.xrai` (which batch the same sums across images) are checked
against, in the tests and in ``bench/attribution.py``.

``call_model_function`` is PAIR's contract (``ExplainedModel.call_model_function``, or an eager
one); the map follows medsaliency's convention (``|a|`` summed over channels; XRAI as it is).
Until the batched methods, this was how medsaliency computed these maps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from medsaliency.attribution.gradients import channel_magnitude

if TYPE_CHECKING:
    from medsaliency.attribution.methods import AttributionSettings

METHODS = ("vanilla_gradient", "smoothgrad", "integrated_gradients", "smoothgrad_ig", "guided_ig", "blur_ig", "xrai_full", "xrai_fast")


def pair_map(method: str, call_model_function, image: np.ndarray, target: int, seed: int, config: AttributionSettings) -> np.ndarray:
    """``[H, W]`` float32 map of one ``[H, W, C]`` image by PAIR's class for ``method`` (one of
    :data:`METHODS`), NumPy's global generator seeded with ``seed`` first (SmoothGrad's noise)."""
    from saliency.core import XRAI, BlurIG, GradientSaliency, GuidedIG, IntegratedGradients, XRAIParameters

    np.random.seed(int(seed))
    image = image.astype(np.float32)
    call, args, black = call_model_function, {"class": int(target)}, np.zeros_like(image)
    if method.startswith("xrai"):
        parameters = XRAIParameters(
            steps=config.xrai.steps, area_threshold=config.xrai.area_threshold, algorithm=method.removeprefix("xrai_")
        )
        return np.asarray(XRAI().GetMask(image, call, args, batch_size=config.batch_size, extra_parameters=parameters), np.float32)
    path = {"x_baseline": black, "x_steps": config.integrated_gradients.x_steps, "batch_size": config.batch_size}
    noise = {"stdev_spread": config.smoothgrad.stdev_spread, "nsamples": config.smoothgrad.nsamples}
    guided = config.guided_ig
    signed = {
        "vanilla_gradient": lambda: GradientSaliency().GetMask(image, call, args),
        "smoothgrad": lambda: GradientSaliency().GetSmoothedMask(image, call, args, **noise),
        "integrated_gradients": lambda: IntegratedGradients().GetMask(image, call, args, **path),
        "smoothgrad_ig": lambda: IntegratedGradients().GetSmoothedMask(image, call, args, **noise, **path),
        "guided_ig": lambda: GuidedIG().GetMask(
            image, call, args, x_baseline=black, x_steps=guided.x_steps, max_dist=guided.max_dist, fraction=guided.fraction
        ),
        "blur_ig": lambda: BlurIG().GetMask(image, call, args, **config.blur_ig.model_dump(), batch_size=config.batch_size),
    }[method]
    return channel_magnitude(signed())
