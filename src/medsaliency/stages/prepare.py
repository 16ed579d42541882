"""``prepare@<dataset>``: raw files -> manifest and model-ready arrays."""

from __future__ import annotations

from pathlib import Path

from medsaliency.config import load_params
from medsaliency.data.preparation import prepare_dataset
from medsaliency.io.paths import prepared_dir


def run(dataset_name: str, params_path: Path = Path("params.yaml"), root: Path = Path(".")) -> int:
    """Prepare one dataset; print one line per split. Returns the process exit code."""
    params = load_params(params_path)
    dataset = params.dataset(dataset_name)
    out_dir = root / prepared_dir(dataset_name)
    manifest = prepare_dataset(dataset, params.split, params.shortcut, out_dir, root=root)
    counts = manifest.groupby(["split", "label"]).size().unstack(fill_value=0)
    planted = " (planted shortcut: class-coded marker in every image)" if params.shortcut.enabled else ""
    print(f"prepared {len(manifest)} images of {manifest['patient_id'].nunique()} patients into {out_dir}{planted}")
    print(counts.to_string())
    return 0
