"""Where one model's evaluation goes in MLflow: a run per (model, method), metrics in ``/`` sections.

The evaluation's flat metrics (:mod:`medsaliency.evaluation.summary`: ``<measure>.<method>``, the DVC
metrics file's keys) are split here into

- each method's run (nested under the model's explanation run): the measure alone as the key, in the
  section of its family (``pic/sic_auc``, ``removal/insertion_auc``, ``road/gap``,
  ``localisation/pointing_game``, ``shortcut/marker_mass``, ``complexity/sparseness``,
  ``sanity/weight_ssim``; the reactivity to weight randomisation of each measure tested against Random,
  ``reactivity/sic_auc``), so that MLflow's Chart view draws each measure once with one bar per
  method, and its runs table lists the methods as rows. The cascading randomisation is one key per
  statistic (``sanity/cascading_ssim``, ``_ci_low``, ``_ci_high``) whose step is the number of the
  layer block randomised (1 = the output layer), a line per method in the Chart view;
- the model's run: image counts and exclusions (``images/...``), the shortcut check
  (``classification/accuracy_with_marker``, ``shortcut/planted``).

Every flat key must have a place: :func:`split_metrics` refuses an unknown one by name. A measure's
keys come from its line in the measures table (:mod:`medsaliency.evaluation.measures`); model-level
names are :data:`MODEL_KEYS`. The intervals of
``sparseness`` and ``complexity`` (no better direction, so no test) stay in the DVC metrics and the
per-image table, which keeps a method run under :data:`MAX_METHOD_METRICS` metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from medsaliency.evaluation.measures import MEASURES, Measure
from medsaliency.evaluation.reactivity import PREFIX as REACTIVITY

MAX_METHOD_METRICS = 80  # a method run stays one readable list of sections in the run page


def _measure_keys(measure: Measure) -> dict[str, str]:
    """A measure's flat names -> its keys: the mean, its bootstrap interval and (tested ones) the test
    against Random; a measure with no better direction logs its mean alone (see :data:`UNLOGGED`)."""
    flat, key = measure.name, measure.mlflow_key
    if measure.better is None:
        return {flat: key}
    keys = {flat: key, f"{flat}_ci_low": f"{key}_ci_low", f"{flat}_ci_high": f"{key}_ci_high"}
    return keys | ({f"{flat}_p_vs_random": f"{key}_p_vs_random"} if measure.tested_against_random else {})


def _pic_keys() -> dict[str, str]:
    """PIC's own names: the AUC of the aggregated curve, the mean of the per-image AUCs, the interval,
    and ``<curve>_p_vs_random``."""
    keys = {}
    for curve in ("sic", "aic"):
        for suffix in ("", "_mean", "_ci_low", "_ci_high"):
            keys[f"{curve}_auc{suffix}"] = f"{MEASURES[f'{curve}_auc'].mlflow_key}{suffix}"
        keys[f"{curve}_p_vs_random"] = f"pic/{curve}_p_vs_random"
    return keys


def _reactivity_keys() -> dict[str, str]:
    """``reactivity.<measure>`` -> ``reactivity/<measure>``: every measure tested against Random."""
    return {f"{REACTIVITY}.{m.name}": f"{REACTIVITY}/{m.name}" for m in MEASURES.values() if m.tested_against_random}


PIC = ("sic_auc", "aic_auc")
# flat measure name (the part before ``.<method>``) -> key in the method's run, from the measures table
METHOD_KEYS: dict[str, str] = {
    **_pic_keys(),
    **{flat: key for measure in MEASURES.values() if measure.name not in PIC for flat, key in _measure_keys(measure).items()},
    **_reactivity_keys(),
}
UNLOGGED = {f"{m.name}{suffix}" for m in MEASURES.values() if m.better is None for suffix in ("_ci_low", "_ci_high")}
CASCADING = "cascading_ssim"  # cascading_ssim.<NN_layer>[_ci_low|_ci_high].<method>, NN = blocks randomised
CASCADING_KEY = "sanity/cascading_ssim"

# flat model-level name -> key in the model's run
MODEL_KEYS: dict[str, str] = {
    "n_images": "images/explained",
    "n_randomization_images": "images/randomised",
    "shortcut.planted": "shortcut/planted",
    "shortcut.accuracy_with_marker": "classification/accuracy_with_marker",
    "shortcut.accuracy_without_marker": "classification/accuracy_without_marker",
}
EXCLUDED = "excluded."  # excluded.<curve>.<reason> -> images/excluded_<curve>_<reason>


@dataclass(frozen=True)
class Metric:
    """One MLflow metric value: its key, value and step (0 unless the key is a history)."""

    key: str
    value: float
    step: int = 0


@dataclass
class RunMetrics:
    """The evaluation split by run: ``by_method[method]`` for the method runs, ``model`` for the model's run."""

    by_method: dict[str, list[Metric]] = field(default_factory=dict)
    model: list[Metric] = field(default_factory=list)


def split_metrics(metrics: dict[str, float], methods: list[str]) -> RunMetrics:
    """The flat evaluation ``metrics`` laid out by run (see the module docstring). Raises ``KeyError``
    naming the first key that has no place (a measure missing from :data:`METHOD_KEYS`)."""
    split = RunMetrics({method: [] for method in methods})
    for flat, value in metrics.items():
        name, _, method = flat.rpartition(".")
        if flat in MODEL_KEYS:
            split.model.append(Metric(MODEL_KEYS[flat], value))
        elif flat.startswith(EXCLUDED):
            split.model.append(Metric("images/excluded_" + flat.removeprefix(EXCLUDED).replace(".", "_"), value))
        elif method not in split.by_method:
            raise KeyError(f"evaluation metric {flat!r}: not a model-level metric and {method!r} is not an explained method")
        elif name.startswith(CASCADING + "."):
            split.by_method[method].append(_cascading_metric(name, value))
        elif name in METHOD_KEYS:
            split.by_method[method].append(Metric(METHOD_KEYS[name], value))
        elif name not in UNLOGGED:
            raise KeyError(f"evaluation metric {flat!r}: measure {name!r} has no MLflow key in tracking_layout.METHOD_KEYS")
    return split


def _cascading_metric(name: str, value: float) -> Metric:
    """``cascading_ssim.04_conv3_ci_low`` -> ``sanity/cascading_ssim_ci_low`` at step 4."""
    step_name = name.removeprefix(CASCADING + ".")
    suffix = next((s for s in ("_ci_low", "_ci_high") if step_name.endswith(s)), "")
    return Metric(CASCADING_KEY + suffix, value, int(step_name.split("_", 1)[0]))
