"""Stage JSON outputs: read with an error that names the file and what to run; flat metrics nested."""

from __future__ import annotations

import json
import math
from pathlib import Path

from medsaliency.errors import DataError


def read_json(path: Path, missing: str) -> dict:
    """The parsed file; a :class:`DataError` says ``<path>: <missing>`` when absent, or why it is not JSON."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: {missing}") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None


def nested(metrics: dict[str, float]) -> dict:
    """``{"a.b": 1}`` -> ``{"a": {"b": 1}}``; NaN becomes None (JSON has no NaN)."""
    tree: dict = {}
    for key, value in metrics.items():
        *parents, leaf = key.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = None if isinstance(value, float) and math.isnan(value) else value
    return tree
