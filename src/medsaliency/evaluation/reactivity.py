"""Reactivity to weight randomisation: does a measure see that a map explains noise weights?

A measure is only worth ranking methods by if it reacts when the explanation stops explaining the
model (Tomsett et al., AAAI 2020; MetaQuantus, Hedström et al. 2023). The evaluate stage already
explains its sample of test images with the weight-randomised model (the sanity check); here those
maps are scored by the same measures, with the *trained* model, masks and seeds, as if they were the
trained model's explanations. Per measure and method, over the sampled images:

    reactivity = (trained - randomised) / (trained - Random)

where ``trained`` is the mean score of the method's maps of the trained model, ``randomised`` that of
its maps of the randomised model, and ``Random`` that of the Random baseline's maps. 1: the
randomised model's maps score like Random's (the measure saw that they explain nothing); 0: they score
like the trained maps (the measure cannot tell the two apart); below 0: they score better; above 1:
worse than Random. Defined only where the measure says the method beats Random (``beats_random``: its
test against Random over all images, in its better direction); NaN elsewhere.
"""

from __future__ import annotations

import numpy as np

from medsaliency.evaluation.measures import MEASURES, REFERENCE_METHOD

PREFIX = "reactivity"  # flat metrics: reactivity.<measure>.<method>


def reactivity(trained: np.ndarray, randomized: np.ndarray, reference: np.ndarray) -> float:
    """``(trained - randomized) / (trained - reference)`` of the means over the images ``[S]`` where all
    three scores are finite; NaN without such an image or with equal trained and reference means."""
    finite = np.isfinite(trained) & np.isfinite(randomized) & np.isfinite(reference)
    if not finite.any():
        return float("nan")
    t, z, r = (float(np.mean(values[finite])) for values in (trained, randomized, reference))
    return (t - z) / (t - r) if t != r else float("nan")


def reactivity_metrics(
    trained: dict[str, dict[str, np.ndarray]], randomized: dict[str, dict[str, np.ndarray]], beats_random: dict[str, set[str]]
) -> dict[str, float]:
    """``reactivity.<measure>.<method>`` for every measure with a better direction that both ``trained``
    and ``randomized`` score (measure -> method -> ``[S]``, the same sampled images) and every method of
    ``randomized`` but Random: the reactivity where ``beats_random[measure]`` holds the method, NaN elsewhere."""
    metrics: dict[str, float] = {}
    for name, by_method in randomized.items():
        measure = MEASURES.get(name)
        if measure is None or not measure.tested_against_random or REFERENCE_METHOD not in trained.get(name, {}):
            continue
        reference = trained[name][REFERENCE_METHOD]
        for method, values in by_method.items():
            if method != REFERENCE_METHOD:
                react = reactivity(trained[name][method], values, reference) if method in beats_random.get(name, set()) else float("nan")
                metrics[f"{PREFIX}.{name}.{method}"] = react
    return metrics


def median_reactivity(by_method: dict[str, float | None]) -> float | None:
    """The median over the methods with a reactivity (None, NaN: not defined), or None without any."""
    values = [v for v in by_method.values() if v is not None and np.isfinite(v)]
    return float(np.median(values)) if values else None
