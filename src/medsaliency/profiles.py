"""Profiles: overlays merged over ``params.yaml`` (``profiles/paper.yaml`` holds only what differs).

Merge rules (JSON Merge Patch, RFC 7386, with one change so that a meaningful ``null`` survives):
a mapping merges key by key, recursively; any other value replaces the base value (lists too);
``null`` on a key whose base value is a mapping removes that entry (a backbone, a dataset), on any
other key it sets ``null`` (``images_per_class: null``). The merge runs on ruamel.yaml's round-trip
nodes, so the comments of ``params.yaml`` are kept; the result is validated before it is written.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from medsaliency.config import Params, parse_params
from medsaliency.errors import ConfigError
from medsaliency.io.atomic import staged_file


def merge_overlay(base: dict, overlay: dict, prefix: str = "") -> dict:
    """``base`` with ``overlay`` merged in (in place; returned for convenience)."""
    if not isinstance(overlay, dict):
        raise ConfigError(f"{prefix or 'overlay'}: an overlay is a mapping of sections, got {type(overlay).__name__}")
    for key, value in overlay.items():
        current = base.get(key)
        if value is None and isinstance(current, dict):
            del base[key]
        elif isinstance(value, dict) and isinstance(current, dict):
            merge_overlay(current, value, f"{prefix}{key}.")
        else:
            base[key] = value
    return base


def apply_profile(params_path: Path, profile_path: Path, output: Path | None = None) -> Params:
    """Merge ``profile_path`` over ``params_path``, validate, write to ``output`` (default: ``params_path``)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.width = 120
    base = _load(yaml, params_path)
    merged = merge_overlay(base, _load(yaml, profile_path))
    params = parse_params(_plain(merged), source=f"{params_path} + {profile_path}")
    buffer = io.StringIO()
    yaml.dump(merged, buffer)
    with staged_file(output or params_path) as staging:
        staging.write_text(buffer.getvalue())
    return params


def set_keras_backend(params_path: Path, backend: str) -> Params:
    """``keras_backend: <backend>`` in ``params_path``: that one line changed, the rest of the file as it
    was; validated before it is written."""
    from medsaliency.io import yamlfile

    try:
        text = params_path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{params_path}: file not found") from None
    changed, count = re.subn(r"(?m)^keras_backend:[ \t]*[^\s#]*", f"keras_backend: {backend}", text)
    if count != 1:
        raise ConfigError(f"{params_path}: expected one top-level 'keras_backend:' line, found {count}")
    params = parse_params(yamlfile.safe_load(changed), source=f"{params_path} + keras_backend: {backend}")
    with staged_file(params_path) as staging:
        staging.write_text(changed)
    return params


def _load(yaml, path: Path):
    try:
        data = yaml.load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except Exception as exc:  # ruamel's errors share no public base class
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return data


def _plain(node):
    """ruamel's round-trip containers as plain dicts, lists and scalars (what pydantic validates strictly)."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)
