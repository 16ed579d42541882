"""The planted-shortcut experiment read back from MLflow: the clean and the shortcut model side by side.

``make shortcut`` runs the pipeline as a DVC experiment with ``shortcut.enabled=true``; its
models are registered as ``<dataset>.<backbone>.shortcut`` and its explanation runs land in
the same ``<dataset>/explain`` experiments as the clean ones. This module finds, per dataset,
the newest evaluated explanation run of each kind (and its method runs) and writes one Markdown table: each model's
accuracy with and without the marker, and per saliency method the share of saliency on the
marker region in both runs (and, where masks mark lesions, on the lesion), ranked by how
clearly the method exposes the shortcut (its share on the marker in the shortcut run, as a
multiple of Random's). Random has no access to the model: its share
is the marker's area in both runs, the check that the comparison is fair. The mass share favours
sharp maps (a map with all its mass on a few pixels can put it all on the marker), so beside it
stands the confounder sensitivity of Sun et al. (MICCAI 2023): the share of the marker's pixels
among the map's most salient ``evaluation.top_fraction`` (Random: about that fraction).
"""

from __future__ import annotations

from dataclasses import dataclass

SHORTCUT_SUFFIX = ".shortcut"
MARKER = "shortcut/marker_mass"  # keys of the method runs (medsaliency.mlops.tracking_layout)
MARKER_IN_TOP = "shortcut/marker_in_top"
LESION = "localisation/mass_in_mask"
ACCURACY_WITH, ACCURACY_WITHOUT = "classification/accuracy_with_marker", "classification/accuracy_without_marker"


@dataclass(frozen=True)
class ExplanationRun:
    """One evaluated explanation run: the registered model it explains, its data digest, the model
    run's ``metrics`` and each method run's (``methods[method]``), keyed as MLflow shows them."""

    model: str
    version: str
    run_id: str
    data_digest: str
    metrics: dict[str, float]
    methods: dict[str, dict[str, float]]


def latest_explanation_runs(dataset: str) -> dict[str, ExplanationRun]:
    """``{"clean": run, "shortcut": run}``: the newest evaluated explanation run of each kind (absent when none)."""
    from medsaliency.mlops.method_runs import evaluated_explanation_runs, method_runs

    found: dict[str, ExplanationRun] = {}
    for run in evaluated_explanation_runs(dataset):
        model = run.data.tags.get("registered_model_name", "")
        kind = "shortcut" if model.endswith(SHORTCUT_SUFFIX) else "clean"
        if kind not in found:
            digests = [item.dataset.digest for item in run.inputs.dataset_inputs] if run.inputs else []
            methods = {method: dict(found.data.metrics) for method, found in method_runs(run.info.run_id).items()}
            version = run.data.tags.get("registered_model_version", "?")
            found[kind] = ExplanationRun(model, version, run.info.run_id, ",".join(digests), dict(run.data.metrics), methods)
    return found


def comparison_markdown(dataset: str, runs: dict[str, ExplanationRun], labels: dict[str, str]) -> str:
    """The dataset's section: accuracies, then the methods ranked by marker share in the shortcut run."""
    lines = [f"## {dataset}", ""]
    for kind in ("clean", "shortcut"):
        run = runs.get(kind)
        if run is None:
            lines.append(f"- {kind}: no evaluated explanation run in MLflow yet")
            continue
        accuracy = run.metrics.get(ACCURACY_WITH), run.metrics.get(ACCURACY_WITHOUT)
        lines.append(
            f"- {kind}: `{run.model}` v{run.version} (run `{run.run_id}`, data digest `{run.data_digest}`): "
            f"test accuracy {_number(accuracy[0])} as explained, {_number(accuracy[1])} without the marker"
        )
    if set(runs) != {"clean", "shortcut"}:
        return "\n".join(lines) + "\n"
    clean, shortcut = runs["clean"].methods, runs["shortcut"].methods
    methods = sorted((m for m in shortcut if MARKER in shortcut[m]), key=lambda m: -shortcut[m][MARKER])
    random_share = shortcut.get("random", {}).get(MARKER)
    lesion = any(LESION in scores for scores in shortcut.values())
    random_top = shortcut.get("random", {}).get(MARKER_IN_TOP)
    header = ["rank", "method", "share on marker, clean", "share on marker, shortcut [95% CI]", "shift", "x Random (shortcut)"]
    header += ["marker pixels in the top, clean -> shortcut", "x Random (shortcut)"]
    header += ["share on lesion, clean -> shortcut"] if lesion else []
    rows = []
    for rank, method in enumerate(methods, start=1):
        before, scores = clean.get(method, {}).get(MARKER), shortcut[method]
        after, low, high = scores[MARKER], scores.get(MARKER + "_ci_low"), scores.get(MARKER + "_ci_high")
        interval = f" [{low:.3f}, {high:.3f}]" if low is not None and high is not None else ""
        shift = _number(after - before) if before is not None else "n/a"
        ratio = _ratio(after, random_share)
        row = [str(rank), labels.get(method, method), _number(before), f"{after:.3f}{interval}", shift, ratio]
        top_before, top_after = clean.get(method, {}).get(MARKER_IN_TOP), scores.get(MARKER_IN_TOP)
        row += [f"{_number(top_before)} -> {_number(top_after)}", _ratio(top_after, random_top)]
        if lesion:
            row.append(f"{_number(clean.get(method, {}).get(LESION))} -> {_number(scores.get(LESION))}")
        rows.append(row)
    table = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] * len(header)) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    return "\n".join([*lines, "", *table]) + "\n"


def _ratio(value: float | None, reference: float | None) -> str:
    return _number(value / reference) if value is not None and reference else "n/a"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
