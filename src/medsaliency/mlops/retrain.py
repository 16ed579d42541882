"""Retraining on changed data or code: the CI workflow's steps, runnable on any machine.

``dvc pull`` from a remote (what is not there yet is rebuilt), ``dvc repro`` (whose
``register`` stages run the promotion gate), ``dvc push`` of every new output, then a
Markdown summary: each registered model's champion before and after with the gate's
decision, every metric the run changed (``dvc metrics show`` before and after: the metrics
files stay out of git, see .gitignore, so there is no git baseline to diff against), and the
AUC tables of the report.
``.github/workflows/retrain.yml`` runs it against the configured remote; ``make retrain``
rehearses it here against a folder.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from medsaliency.config import load_params
from medsaliency.errors import MedsaliencyError
from medsaliency.io.paths import report_dir
from medsaliency.mlops.registry import CHALLENGER, CHAMPION

DVC = [sys.executable, "-m", "dvc"]  # the DVC of this environment, whatever PATH holds
_MISSING = object()


class RetrainError(MedsaliencyError):
    """A DVC step of the retraining failed."""


@dataclass(frozen=True)
class GateOutcome:
    """One registered model after the run: champion ``before``/``after`` (None: there was none),
    the ``challenger`` version and the gate's ``decision`` and ``reason`` (from the version's tags)."""

    name: str
    before: str | None
    after: str | None
    challenger: str
    decision: str
    reason: str


def retrain(remote: str, params_path: Path = Path("params.yaml"), root: Path = Path(".")) -> str:
    """Run pull, repro, push against ``remote`` (a DVC remote's name) and return the Markdown summary."""
    from medsaliency.mlops.registry import ModelRegistry
    from medsaliency.mlops.tracking import configure_mlflow

    params = load_params(params_path)
    require_remote(remote, root)
    configure_mlflow(params.mlflow, root)
    registry, names = ModelRegistry(), registered_names(params)
    before = aliases(registry, names)
    dvc(["pull", "--remote", remote, "--allow-missing"], root)
    metrics_before = metrics_snapshot(root)
    dvc(["repro"], root)
    outcomes = gate_outcomes(registry, before, aliases(registry, names))
    dvc(["push", "--remote", remote], root)
    changes = metrics_changes(metrics_before, metrics_snapshot(root))
    return summary(outcomes, changes, auc_tables(root / report_dir() / "report.md"))


def dvc(arguments: list[str], root: Path) -> None:
    """``dvc <arguments>`` in ``root``, its output streamed; a failure names the step."""
    print(f"$ dvc {' '.join(arguments)}", flush=True)
    if subprocess.run([*DVC, *arguments], cwd=root).returncode != 0:
        raise RetrainError(f"`dvc {' '.join(arguments)}` failed; nothing after it ran (outputs already produced are kept)")


def require_remote(remote: str, root: Path) -> None:
    """Fail before any work when ``remote`` is not a configured DVC remote (a pull with nothing to fetch would not notice)."""
    listed = subprocess.run([*DVC, "remote", "list"], cwd=root, capture_output=True, text=True)
    names = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    if listed.returncode != 0 or remote not in names:
        raise RetrainError(
            f"DVC remote {remote!r} is not configured in {root.resolve()} (configured: {', '.join(names) or 'none'}); "
            "add it with `dvc remote add`"
        )


def registered_names(params) -> list[str]:
    """Every model the register stages manage: ``<dataset>.<backbone>``."""
    return [f"{dataset}.{backbone}" for dataset in params.datasets for backbone in params.tune.backbones]


def aliases(registry, names: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """Registered model name -> (champion, challenger) versions in the registry now (None: no such alias)."""
    return {name: (registry.alias_version(name, CHAMPION), registry.alias_version(name, CHALLENGER)) for name in names}


def gate_outcomes(registry, before: dict, after: dict) -> list[GateOutcome]:
    """What the gate did to each model in this run: a new challenger carries the decision in its
    ``promotion.*`` tags; a model whose challenger did not change had nothing to decide."""
    outcomes = []
    for name, (champion, challenger) in after.items():
        previous_champion, previous_challenger = before[name]
        decision, reason = "unchanged", "no new challenger"
        if challenger != previous_challenger:
            tags = registry.client.get_model_version(name, challenger).tags
            decision, reason = tags.get("promotion.decision", "kept"), tags.get("promotion.reason", "already champion")
        outcomes.append(GateOutcome(name, previous_champion, champion, challenger or "?", decision, reason))
    return outcomes


def metrics_snapshot(root: Path) -> dict[tuple[str, str], object]:
    """Every metric in the workspace now, ``(file, dotted key) -> value`` (``dvc metrics show``; empty when none)."""
    result = subprocess.run([*DVC, "metrics", "show", "--json"], cwd=root, capture_output=True, text=True)
    if result.returncode != 0 or not result.stdout.strip():
        return {}
    files = json.loads(result.stdout).get("", {}).get("data", {})
    return {(path, key): value for path, content in files.items() for key, value in _flatten(content.get("data", {}))}


def metrics_changes(before: dict, after: dict) -> str:
    """A Markdown table of the metrics that are new or changed, ``before -> after``."""
    changed = sorted(key for key in after if before.get(key, _MISSING) != after[key] and not _both_nan(before.get(key), after[key]))
    if not changed:
        return "_no metric changed_"
    rows = [f"| {path} | {key} | {_cell(before.get((path, key), _MISSING))} | {_cell(after[(path, key)])} |" for path, key in changed]
    return "\n".join(["| file | metric | before | after |", "|---|---|---|---|", *rows])


def auc_tables(report_markdown: Path) -> str:
    """The dataset headings and the SIC/AIC AUC tables of the report (the rest stays in the report)."""
    if not report_markdown.is_file():
        return "_no report_"
    kept, keep = [], False
    for line in report_markdown.read_text().splitlines():
        if line.startswith("## ") or line.startswith("### "):
            keep = line.startswith("## ") or " AUC " in line
        if keep:
            kept.append(line)
    return "\n".join(kept).strip()


def summary(outcomes: list[GateOutcome], changes: str, aucs: str) -> str:
    """The job summary in Markdown."""
    rows = [f"| {o.name} | {_version(o.before)} | v{o.challenger} | {o.decision} | {o.reason} | {_version(o.after)} |" for o in outcomes]
    promoted = sum(o.before != o.after for o in outcomes)
    return "\n".join(
        [
            "# Retraining",
            "",
            f"{promoted} of {len(outcomes)} champion(s) moved.",
            "",
            "## Promotion gate",
            "",
            "| model | champion before | challenger | decision | reason | champion after |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "## Metrics this run changed",
            "",
            changes,
            "",
            "## AUCs",
            "",
            aucs,
            "",
        ]
    )


def _flatten(tree: dict, prefix: str = ""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _both_nan(first, second) -> bool:
    return isinstance(first, float) and isinstance(second, float) and math.isnan(first) and math.isnan(second)


def _cell(value) -> str:
    if value is _MISSING:
        return "—"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _version(version: str | None) -> str:
    return f"v{version}" if version else "none"
