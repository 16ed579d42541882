"""Where each stage writes, relative to the project root (``dvc.yaml`` declares the same paths)."""

from __future__ import annotations

from pathlib import Path

OUTPUTS = Path("outputs")


def prepared_dir(dataset: str) -> Path:
    """``manifest.csv`` and ``{train,val,test}.npz`` of one dataset (a DVC directory output)."""
    return OUTPUTS / "prepare" / dataset


def validation_file(dataset: str) -> Path:
    """The deterministic JSON verdict of the validate stage (a DVC metrics file)."""
    return OUTPUTS / "validate" / dataset / "validation.json"


def data_docs_dir(dataset: str) -> Path:
    """Great Expectations Data Docs (HTML with run timestamps, so git- and DVC-ignored)."""
    return OUTPUTS / "validate" / dataset / "data_docs"
