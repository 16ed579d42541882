"""Reading a stage's JSON output with an error that names the file and what to run."""

from __future__ import annotations

import json
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
