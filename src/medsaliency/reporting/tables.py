"""The cross-dataset summary: Markdown tables and curve figures, and the same as one self-contained HTML page.

:func:`dataset_section` turns one dataset's stage outputs (tune summaries, registry, evaluate
metrics, aggregated curves) into Markdown; :func:`to_html` renders the Markdown with
markdown-it-py and embeds the figures as data URIs, so the page can be mailed or logged alone.
Significance marks compare each method with Random (Holm-adjusted Wilcoxon over patients, each
patient's mean difference of its images' AUCs): ``*`` p < 0.05, ``**`` p < 0.01. Intervals resample
patients, then their images.
"""

from __future__ import annotations

import base64
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medsaliency.evaluation import measures as measure_table
from medsaliency.evaluation.measures import MEASURES, REFERENCE_METHOD
from medsaliency.evaluation.reactivity import PREFIX as REACTIVITY
from medsaliency.evaluation.reactivity import median_reactivity
from medsaliency.evaluation.replicates import MeasureStatistics

# The faithfulness measures beside PIC and the map-shape ones: name -> column title (with the better direction).
FAITHFULNESS = {name: MEASURES[name].title for name in measure_table.FAITHFULNESS}
MAP_SHAPE = {name: MEASURES[name].title for name in measure_table.MAP_SHAPE}
LOCALISATION = measure_table.LOCALISATION


@dataclass(frozen=True)
class DatasetResults:
    """What the report shows of one dataset: ``classification`` rows per backbone, ``metrics``
    per explained model (the evaluate stage's nested JSON), ``curve_figures`` per model, and
    ``data_randomization`` per model (that stage's nested JSON; empty: not run)."""

    name: str
    classification: list[dict]
    metrics: dict[str, dict]
    curve_figures: dict[str, list[str]]
    data_randomization: dict[str, dict] = field(default_factory=dict)
    replicates: dict[str, Replicates] = field(default_factory=dict)


@dataclass
class Replicates:
    """One explained model's replicates: ``statistics`` per measure (over the champion and the
    replicates), ``test`` scores per replicate seed, the figures (paths under the report folder),
    the seed ``floor`` (``ssim``/``spearman`` -> method -> the champion's maps against a replicate's) and
    the seeds the training gate ``rejected`` (seed -> scores, ``val_macro_f1`` among them)."""

    statistics: dict[str, MeasureStatistics]
    test: dict[str, dict[str, float]]
    figures: list[str] = field(default_factory=list)
    floor: dict[str, dict[str, float | None]] = field(default_factory=dict)
    rejected: dict[str, dict[str, float]] = field(default_factory=dict)


def dataset_section(results: DatasetResults, methods: list[str], labels: dict[str, str]) -> str:
    """The Markdown of one dataset: classification, AUC tables, localisation, sanity, exclusions, figures."""
    parts = [f"## {results.name}", ""]
    for model, replicates in results.replicates.items():
        parts += [*replicates_section(model, replicates, results.metrics.get(model, {}), labels), ""]
    parts += ["### Classification (held-out test split)", "", _classification_table(results.classification)]
    models = list(results.metrics)
    for kind in ("sic", "aic"):
        information = "softmax" if kind == "sic" else "accuracy"
        parts += [
            "",
            f"### {kind.upper()} AUC ({information} information curve), 95% bootstrap interval; the mean curve's AUC beside it",
            "",
        ]
        parts.append(_pic_table(results, methods, labels, kind))
    if all("pointing_game" in results.metrics[model] for model in models) and models:
        for measure in LOCALISATION:
            parts += ["", f"### Localisation: {measure.replace('_', ' ')} (lesion masks), mean over images, 95% bootstrap interval", ""]
            parts.append(_method_table(results, methods, labels, lambda metrics, m, measure=measure: _score_cell(metrics, measure, m)))
    for model in models:
        parts += ["", *faithfulness_section(model, results.metrics[model], methods, labels)]
    for model in models:
        parts += ["", *shortcut_section(model, results.metrics[model], methods, labels)]
    for measure, title in (
        ("sanity_ssim", "SSIM between maps of the trained and the weight-randomised model"),
        ("random_logit_ssim", "RandomLogit, SSIM between maps for the explained class and for a random other class"),
    ):
        scored = [m for m in methods if any(m in results.metrics[model].get(measure, {}) for model in models)]
        if scored:
            parts += ["", f"### Sanity: {title} (lower is better), mean, 95% bootstrap interval", "", _sample_sentence(results), ""]
            parts.append(_method_table(results, scored, labels, lambda metrics, m, measure=measure: _score_cell(metrics, measure, m)))
    for model, replicates in results.replicates.items():
        parts += ["", *seed_floor_section(model, replicates, results.metrics.get(model, {}), methods, labels)]
    for model in models:
        parts += ["", *reactivity_section(model, results.metrics[model], methods, labels)]
    for model in models:
        parts += ["", *cascading_section(model, results.metrics[model], methods, labels)]
    for model, randomization in results.data_randomization.items():
        parts += ["", *data_randomization_section(model, randomization, methods, labels)]
    parts += ["", "### Images excluded from the curves", ""]
    reasons = _reasons(results)
    headers = ["model", "images", *[f"{kind} {reason}" for kind in ("aic", "sic") for reason in reasons]]
    parts.append(_table(headers, [_exclusion_row(model, results.metrics[model], reasons) for model in models]))
    for model, figures in results.curve_figures.items():
        parts += ["", f"### Curves: {model}", "", *(f"![{Path(f).stem}]({f})" for f in figures)]
    return "\n".join(parts) + "\n"


def training_sentence(copies: int, perturbation: str) -> str:
    """What the models were trained on, as the report states it: the real images only, or with
    featureless copies (outlier exposure), flagged where those copies are an evaluation's own perturbation."""
    if copies == 0:
        return (
            "The models were trained on the real images only (no featureless copies), so PIC excludes the images whose "
            "fully blurred version the model is not less sure of (see Images excluded from the curves)."
        )
    made = "PIC's own blur: the model was trained on the evaluation's perturbation" if perturbation == "blur" else f"{perturbation}d pixels"
    noun = "copy" if copies == 1 else "copies"
    return f"Each training image had {copies} featureless {noun} ({made}) trained towards the uniform distribution."


def _sample_sentence(results: DatasetResults) -> str:
    """Which images the re-attribution tests used, per model (``n_randomization_images`` of ``n_images``)."""
    counts = ", ".join(
        f"{model}: {int(metrics.get('n_randomization_images', metrics.get('n_images', 0)))} of {int(metrics.get('n_images', 0))}"
        for model, metrics in results.metrics.items()
    )
    return f"On the seeded class-stratified sample of test images that every re-attribution test shares ({counts})."


def _method_table(results: DatasetResults, methods: list[str], labels: dict[str, str], cell) -> str:
    """Rows = methods, columns = the explained models; ``cell(model_metrics, method)`` is the text of one cell."""
    models = list(results.metrics)
    rows = [[labels.get(m, m), *(cell(results.metrics[model], m) for model in models)] for m in methods]
    return _table(["method", *models], rows)


def replicates_section(model: str, replicates: Replicates, metrics: dict, labels: dict[str, str]) -> list[str]:
    """Markdown lines: what holds across the models of ``model``'s configuration, figures first; beside
    each measure's reliability across models and images, its reactivity to weight randomisation
    (median over methods, from the champion's evaluation ``metrics``)."""
    statistics = replicates.statistics
    if not statistics:
        return []
    models = next(iter(statistics.values())).replicates
    f1 = [scores["macro_f1"] for scores in replicates.test.values()]
    recall = [scores["lowest_class_recall"] for scores in replicates.test.values()]
    trained = (
        f" The {len(f1)} retrained models' test macro-F1: {min(f1):.3f}-{max(f1):.3f}; lowest class recall at least {min(recall):.3f}."
        if f1
        else ""
    )
    if replicates.rejected:
        seeds = ", ".join(f"{seed} ({scores['val_macro_f1']:.3f})" for seed, scores in replicates.rejected.items())
        trained += f" Rejected by the training gate (validation macro-F1 too low: did not learn), replaced by the next seed: {seeds}."
    lines = [
        f"### What holds across {models} models of {model}'s configuration",
        "",
        f"The champion and {models - 1} models of its configuration trained again with other seeds, each explaining the same "
        f"test images.{trained} The figures show each method's mean rank per measure (1 = best); its mean with the 95% interval "
        "over models, patients and images (dashed: Random's mean); and the critical-difference diagrams (methods joined by a bar "
        "are not told apart, Nemenyi p >= 0.05). In the table, methods are listed by mean rank; `>` marks an adjacent pair "
        "whose order holds "
        "(the 95% interval of P(left beats right), resampling models, patients and images, excludes 1/2), `≈` one that does not. "
        "W, tau and alpha leave Random out; tau is n/a where a model ties every method. Reactivity: how far the measure moves "
        "a method's score toward Random's when the maps come from the weight-randomised champion (median over the methods it "
        "shows beating Random; 1 = all the way, 0 = not at all; see Sanity: reactivity). The marker measures enter only where "
        "a shortcut is planted.",
        "",
        *[line for figure in replicates.figures for line in (f"![{Path(figure).stem}]({figure})", "")],
        _table(
            [
                "measure",
                "methods by mean rank",
                "pairs ordered",
                "Kendall's W (Friedman p)",
                "test-retest tau (min)",
                "Krippendorff alpha",
                "reactivity to weight randomisation",
                "not above Random",
            ],
            [_replicate_row(name, stats, metrics.get(REACTIVITY, {}).get(name, {}), labels) for name, stats in statistics.items()],
        ),
    ]
    headline_first = sorted(statistics, key=lambda name: not MEASURES[name].headline)  # stable: table order within each
    for name in headline_first:
        lines += ["", *beats_table(name, statistics[name], labels)]
    return lines


def by_mean_rank(stats: MeasureStatistics) -> list[str]:
    """The ranked methods, best mean rank first, then the unranked one (Random): the order of every replicate table and figure."""
    return sorted(stats.ranked, key=lambda m: stats.mean_rank[stats.methods.index(m)]) + [m for m in stats.methods if m not in stats.ranked]


def beats_table(name: str, stats: MeasureStatistics, labels: dict[str, str]) -> list[str]:
    """Markdown lines: P(row beats column) on ``name`` with its 95% interval, methods in mean-rank order
    (Random last); in bold where the interval excludes 1/2, so that the order holds."""
    order = by_mean_rank(stats)
    index = [stats.methods.index(m) for m in order]

    def cell(i: int, j: int) -> str:
        if i == j:
            return ""
        text = f"{stats.beats[i, j]:.2f} [{stats.beats_low[i, j]:.2f}, {stats.beats_high[i, j]:.2f}]"
        return f"**{text}**" if stats.beats_low[i, j] > 0.5 or stats.beats_high[i, j] < 0.5 else text

    return [
        f"#### P(row beats column), {MEASURES[name].title}, 95% interval over models, patients and images",
        "",
        _table(
            ["", *(labels.get(m, m) for m in order)],
            [[labels.get(order[a], order[a]), *(cell(i, j) for j in index)] for a, i in enumerate(index)],
        ),
    ]


def seed_floor_section(model: str, replicates: Replicates, metrics: dict, methods: list[str], labels: dict[str, str]) -> list[str]:
    """Markdown lines: per method the weight-randomisation SSIM beside the SSIM and Spearman correlation
    between two equally good models' maps (the champion's and a replicate's): the floor it needs."""
    floor = replicates.floor
    scored = [m for m in methods if floor.get("ssim", {}).get(m) is not None]
    if not scored:
        return []
    randomised = metrics.get("sanity_ssim", {})
    rows = [
        [labels.get(m, m), _number(randomised.get(m)), _number(floor["ssim"].get(m)), _number(floor.get("spearman", {}).get(m))]
        for m in scored
    ]
    return [
        f"### Sanity: the seed floor, {model}",
        "",
        "How alike two equally good models' maps are: the champion's against each replicate's (trained with another seed), "
        "on the images both explain for the same class, mean over replicates. A weight-randomised SSIM as high as this floor "
        "says the method reacts to the weights no more than to a reseed.",
        "",
        _table(["method", "SSIM, weight-randomised model", "SSIM, another seed", "Spearman, another seed"], rows),
    ]


def _replicate_row(name: str, stats: MeasureStatistics, reactivity: dict[str, float | None], labels: dict[str, str]) -> list[str]:
    held = set(stats.holds())
    order = sorted(stats.ranked, key=lambda m: stats.mean_rank[stats.methods.index(m)])
    chain = labels.get(order[0], order[0]) + "".join(
        f" {'>' if (a, b) in held else '≈'} {labels.get(b, b)}" for a, b in itertools.pairwise(order)
    )
    summary = stats.summary()
    reference = stats.methods.index(REFERENCE_METHOD) if REFERENCE_METHOD in stats.methods else None
    level = [labels.get(m, m) for m in stats.ranked if reference is not None and (m, REFERENCE_METHOD) not in held]
    return [
        MEASURES[name].title,
        chain,
        f"{summary['ordered_pairs']} of {summary['pairs']}",
        f"{_number(summary['kendall_w'])} ({_p_value(stats.friedman_p)})",
        f"{_number(summary['retest_tau'])} ({_number(summary['retest_tau_min'])})",
        _number(summary["krippendorff_alpha"]),
        _number(median_reactivity(reactivity)),
        (", ".join(level) or "none") if reference is not None else "n/a",
    ]


def _p_value(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"p = {value:.2g}"


def _pic_table(results: DatasetResults, methods: list[str], labels: dict[str, str], kind: str) -> str:
    """Rows = methods; per explained model the AUC of the aggregated curve (interval, mark against Random)
    and the AUC of the mean curve (AIC's median curve is a majority vote of 0/1 steps: near ties hide there)."""
    models = list(results.metrics)
    rows = [
        [
            labels.get(m, m),
            *(
                cell
                for model in models
                for cell in (_auc_cell(results.metrics[model], kind, m), _number(results.metrics[model].get(f"{kind}_auc_mean", {}).get(m)))
            ),
        ]
        for m in methods
    ]
    return _table(["method", *(header for model in models for header in (model, f"{model}: mean curve"))], rows)


def to_html(markdown: str, root: Path, title: str) -> str:
    """A standalone HTML page of ``markdown``; images under ``root`` are embedded as PNG data URIs."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark").enable("table").render(markdown)

    def embed(match: re.Match) -> str:
        data = base64.b64encode((root / match.group(1)).read_bytes()).decode()
        return f'src="data:image/png;base64,{data}"'

    body = re.sub(r'src="([^"]+\.png)"', embed, body)
    style = (
        "body{font-family:sans-serif;max-width:72em;margin:2em auto}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}img{max-width:48%}"
    )
    head = f'<head><meta charset="utf-8"><title>{title}</title><style>{style}</style></head>'
    return f"<!DOCTYPE html>\n<html>{head}<body>\n{body}</body></html>\n"


def significance(p_value: float | None) -> str:
    if p_value is None:
        return ""
    return "**" if p_value < 0.01 else "*" if p_value < 0.05 else ""


def shortcut_section(model: str, metrics: dict, methods: list[str], labels: dict[str, str]) -> list[str]:
    """Markdown lines: the model's accuracy with and without the class-coded marker, and the methods
    ranked by their share of saliency on the marker (with the ratio to Random's share), and the share of the
    marker's pixels among each map's most salient (confounder sensitivity). Without a planted shortcut the
    same table is the clean baseline."""
    shortcut = metrics.get("shortcut", {})
    planted = bool(shortcut.get("planted"))
    title = "planted shortcut: methods ranked by how clearly they expose it" if planted else "no shortcut planted (clean baseline)"
    lines = [f"### Saliency on the marker region, {model}: {title}", ""]
    lines.append(
        f"Accuracy on the explained test images with the marker {_number(shortcut.get('accuracy_with_marker'))}, "
        f"without it {_number(shortcut.get('accuracy_without_marker'))}.",
    )
    masses = metrics.get("marker_mass", {})
    reference = masses.get("random")
    ranked = sorted((m for m in methods if masses.get(m) is not None), key=lambda m: -masses[m])
    in_top = metrics.get("marker_in_top", {})
    top_reference = in_top.get("random")
    rows = [
        [
            str(rank),
            labels.get(m, m),
            _score_cell(metrics, "marker_mass", m),
            _ratio(masses[m], reference),
            _score_cell(metrics, "marker_in_top", m),
            _ratio(in_top.get(m), top_reference),
        ]
        for rank, m in enumerate(ranked, start=1)
    ]
    headers = ["rank", "method", "share of saliency on the marker", "x Random", "marker pixels among the most salient", "x Random"]
    return [*lines, "", _table(headers, rows)]


def faithfulness_section(model: str, metrics: dict, methods: list[str], labels: dict[str, str]) -> list[str]:
    """Markdown lines: insertion/deletion and ROAD per method (mean over images, interval, * vs Random),
    sparseness and complexity, and the Kendall tau agreement of the measures' method rankings."""
    lines = []
    for title, measures in (("Faithfulness beside PIC", FAITHFULNESS), ("Map shape", MAP_SHAPE)):
        present = [name for name in measures if metrics.get(name)]
        if present:
            rows = [[labels.get(m, m), *(_score_cell(metrics, name, m) for name in present)] for m in methods]
            lines += [
                f"### {title}, {model}: mean over images, 95% bootstrap interval",
                "",
                _table(["method", *(measures[n] for n in present)], rows),
                "",
            ]
    return lines + agreement_section(model, metrics, methods)


def agreement_section(model: str, metrics: dict, methods: list[str]) -> list[str]:
    """Markdown lines: Kendall tau-b between the measures' rankings of the methods other than Random,
    in bold where |tau| reaches the exact two-sided p <= 0.05 critical value for that many methods."""
    from medsaliency.evaluation.agreement import critical_tau, ranking_agreement

    ranked = [m for m in methods if m != REFERENCE_METHOD]
    names, taus = ranking_agreement(metrics, ranked)
    if len(names) < 2:
        return []
    critical = critical_tau(len(ranked))

    def cell(i: int, j: int) -> str:
        tau = taus[i, j]
        text = _number(None if np.isnan(tau) else tau)
        return f"**{text}**" if i != j and abs(tau) >= critical else text

    chance = (
        f"In bold: |tau| >= {critical:.3f}, which two unrelated rankings of {len(ranked)} methods reach with two-sided "
        "p <= 0.05 (exact); a smaller |tau| is within chance."
        if np.isfinite(critical)
        else f"No tau between rankings of {len(ranked)} methods is rarer than two-sided p = 0.05: the table describes, it cannot test."
    )
    return [
        f"### Agreement of the measures' method rankings, {model}: Kendall tau-b over the {len(ranked)} methods "
        "other than Random (1 = same ranking, -1 = reversed)",
        "",
        chance,
        "",
        _table(["", *names], [[name, *(cell(i, j) for j in range(len(names)))] for i, name in enumerate(names)]),
    ]


def reactivity_section(model: str, metrics: dict, methods: list[str], labels: dict[str, str]) -> list[str]:
    """Markdown lines: per method (rows) and measure (columns) the reactivity to weight randomisation,
    n/a where the measure does not show the method beating Random; the median over methods last."""
    by_measure = {name: values for name, values in metrics.get(REACTIVITY, {}).items() if median_reactivity(values) is not None}
    scored = [m for m in methods if any(m in values for values in by_measure.values())]
    if not by_measure:
        return []
    rows = [[labels.get(m, m), *(_number(values.get(m)) for values in by_measure.values())] for m in scored]
    rows.append(["median", *(_number(median_reactivity(values)) for values in by_measure.values())])
    return [
        f"### Sanity: reactivity of each measure to weight randomisation, {model}",
        "",
        "The weight-randomised model's maps, scored by each measure as if they explained the trained model (same model, "
        "masks and seeds): (trained - randomised) / (trained - Random), of the means over the sampled images. 1: the measure "
        "scores them like Random's maps; 0: like the trained model's (it cannot tell an explanation from noise weights'); "
        "n/a: the measure does not show the method beating Random (p < 0.05). "
        f"On the {int(metrics.get('n_randomization_images', 0))} sampled test images that the re-attribution tests share.",
        "",
        _table(["method", *(MEASURES[name].label for name in by_measure)], rows),
    ]


def cascading_section(model: str, metrics: dict, methods: list[str], labels: dict[str, str]) -> list[str]:
    """Markdown lines: the cascading randomisation's mean SSIM per method (rows) and step (columns:
    the layer down to which the model is randomised, top first); nothing when it did not run."""
    cascading = metrics.get("cascading_ssim", {})
    steps = sorted(step for step in cascading if not step.endswith(("_ci_low", "_ci_high")))
    scored = [m for m in methods if any(m in cascading[step] for step in steps)]
    if not steps or not scored:
        return []
    rows = [[labels.get(m, m), *(_number(cascading[step].get(m)) for step in steps)] for m in scored]
    headers = ["method", *(step.split("_", 1)[1] for step in steps)]
    title = f"### Sanity: cascading randomisation, {model}: SSIM with the trained model's maps"
    return [f"{title}, layers randomised from the top down to the column's (lower is better)", "", _table(headers, rows)]


def data_randomization_section(model: str, metrics: dict, methods: list[str], labels: dict[str, str]) -> list[str]:
    """Markdown lines: how far the shuffled-label twin memorised its labels, and per method the SSIM and
    rank correlation of its maps with the trained model's (mean, interval; lower is better)."""
    scored = [m for m in methods if m in metrics.get("ssim", {})]
    if not scored:
        return []
    rows = [[labels.get(m, m), _score_cell(metrics, "ssim", m), _score_cell(metrics, "spearman", m)] for m in scored]
    return [
        f"### Sanity: data randomisation, {model}: maps of the same architecture trained on shuffled labels (lower is better)",
        "",
        f"The shuffled-label model fits {_number(metrics.get('train_accuracy_shuffled_labels'))} of its (shuffled) training labels "
        f"in {int(metrics.get('epochs', 0))} epochs and classifies {_number(metrics.get('test_accuracy'))} of the test images correctly; "
        f"maps compared on {int(metrics.get('n_images', 0))} sampled test images.",
        "",
        _table(["method", "SSIM with the trained model's maps", "Spearman rank correlation"], rows),
    ]


def _auc_cell(metrics: dict, kind: str, method: str) -> str:
    return _estimate_cell(metrics, f"{kind}_auc", f"{kind}_p_vs_random", method)


def _score_cell(metrics: dict, measure: str, method: str) -> str:
    return _estimate_cell(metrics, measure, f"{measure}_p_vs_random", method)


def _estimate_cell(metrics: dict, key: str, p_key: str, method: str) -> str:
    """``value [low, high]`` with the significance mark against Random."""
    value = metrics.get(key, {}).get(method)
    if value is None:
        return "n/a"
    low, high = metrics.get(f"{key}_ci_low", {}).get(method), metrics.get(f"{key}_ci_high", {}).get(method)
    interval = f" [{low:.3f}, {high:.3f}]" if low is not None and high is not None else ""
    return f"{value:.3f}{interval}{significance(metrics.get(p_key, {}).get(method))}"


def _classification_table(rows: list[dict]) -> str:
    headers = ["model", "champion", "test accuracy", "test macro-F1", "lowest class recall", "val macro-F1", "explained"]
    return _table(
        headers,
        [
            [
                r["name"],
                f"v{r['version']}" if r["version"] else "-",
                _number(r["accuracy"]),
                _number(r["macro_f1"]),
                _number(r["min_recall"]),
                _number(r["val_macro_f1"]),
                "yes" if r["explained"] else "",
            ]
            for r in rows
        ],
    )


def _reasons(results: DatasetResults) -> list[str]:
    first = next(iter(results.metrics.values()), {})
    return sorted(first.get("excluded", {}).get("aic", {}))


def _exclusion_row(model: str, metrics: dict, reasons: list[str]) -> list[str]:
    excluded = metrics.get("excluded", {})
    return [
        model,
        str(int(metrics.get("n_images", 0))),
        *(str(int(excluded.get(kind, {}).get(reason, 0))) for kind in ("aic", "sic") for reason in reasons),
    ]


def _ratio(value: float | None, reference: float | None) -> str:
    """``value / reference`` to 3 decimals; ``n/a`` without a value or a nonzero reference."""
    return _number(value / reference) if value is not None and reference else "n/a"


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(["---"] * len(headers)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
