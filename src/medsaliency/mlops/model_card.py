"""The registered version's description, a short Markdown model card the Model Registry page renders.

Two sections, each written by the stage that knows it and replaced whole when that stage runs again:
``## Test scores`` (register: the best trial's held-out scores) and ``## Saliency evaluation``
(evaluate: the best method per headline measure with its 95% interval, the PIC exclusions, the run).
"""

from __future__ import annotations

import math

from medsaliency.evaluation.measures import MEASURES

TEST_SCORES = "Test scores"
EVALUATION = "Saliency evaluation"
# (flat measure, label, True if higher is better): the measures the headline names a best method for
HEADLINE_MEASURES = tuple((name, m.label, m.better == "higher") for name, m in MEASURES.items() if m.headline)


def with_section(description: str | None, heading: str, body: str) -> str:
    """``description`` with its ``## heading`` section replaced by ``body`` (appended when absent)."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in (description or "").splitlines():
        if line.startswith("## "):
            current = line.removeprefix("## ").strip()
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    sections[heading] = body.strip().splitlines()
    return "\n\n".join(f"## {name}\n" + "\n".join(lines).strip() for name, lines in sections.items()) + "\n"


def test_scores(test: dict[str, float], study: str, trial: int) -> str:
    """The held-out scores of the best trial as one Markdown table row per metric."""
    rows = [f"| {key} | {value:.3f} |" for key, value in sorted(test.items())]
    return "\n".join([f"Best trial {trial} of study `{study}`, on the held-out test split.", "", "| metric | value |", "|---|---|", *rows])


def evaluation_headline(metrics: dict[str, float], methods: list[str], labels: dict[str, str], run_id: str) -> str:
    """The best method per :data:`HEADLINE_MEASURES` from the evaluation's flat ``metrics``, with intervals."""
    n_images = int(metrics["n_images"])
    lines = [f"{len(methods)} methods on {n_images} test images, explanation run `{run_id}` (one nested run per method)."]
    for flat, label, higher in HEADLINE_MEASURES:
        scored = {m: metrics[f"{flat}.{m}"] for m in methods if math.isfinite(metrics.get(f"{flat}.{m}", math.nan))}
        if not scored:
            continue
        best = (max if higher else min)(scored, key=lambda method: scored[method])
        low, high = metrics.get(f"{flat}_ci_low.{best}", math.nan), metrics.get(f"{flat}_ci_high.{best}", math.nan)
        interval = f" [{low:.3f}, {high:.3f}]" if math.isfinite(low) and math.isfinite(high) else ""
        direction = "highest" if higher else "lowest"
        lines.append(f"- {direction} {label} on this model: **{labels.get(best, best)}** {scored[best]:.3f}{interval}")
    for curve in ("sic", "aic"):
        excluded = {key.rsplit(".", 1)[1]: int(v) for key, v in metrics.items() if key.startswith(f"excluded.{curve}.") and v}
        reasons = ", ".join(f"{reason} {count}" for reason, count in excluded.items()) or "none"
        lines.append(f"- {curve.upper()} curves excluded of {n_images}: {reasons}")
    return "\n".join(lines)
