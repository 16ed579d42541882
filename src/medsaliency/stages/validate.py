"""``validate@<dataset>``: the Great Expectations suite on the manifest; non-zero exit on failure.

Writes the :class:`~medsaliency.io.artifacts.ValidationVerdict` (a DVC metrics file, no timestamps)
and the Data Docs page (timestamped, so not a DVC output); prints each failed expectation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from medsaliency.config import load_params
from medsaliency.data.expectations import validate_manifest
from medsaliency.data.preparation import MANIFEST_NAME, read_manifest
from medsaliency.errors import DataError
from medsaliency.io.artifacts import ValidationVerdict
from medsaliency.io.paths import data_docs_dir, prepared_dir, validation_file


def run(dataset_name: str, params_path: Path = Path("params.yaml"), root: Path = Path(".")) -> int:
    """Validate one dataset's manifest, write the verdict and Data Docs; 1 if any expectation failed."""
    params = load_params(params_path)
    dataset = params.dataset(dataset_name)
    manifest_path = root / prepared_dir(dataset_name) / MANIFEST_NAME
    if not manifest_path.is_file():
        raise DataError(f"{manifest_path}: manifest not found; run the prepare stage first")
    manifest = read_manifest(manifest_path)
    report = validate_manifest(manifest, dataset, params.validate_, dataset_name, docs_dir=root / data_docs_dir(dataset_name))
    verdict = ValidationVerdict(**report.summary())
    verdict.write(root / validation_file(dataset_name))
    met = f"{verdict.successful_expectations}/{verdict.evaluated_expectations}"
    print(f"{dataset_name}: {met} expectations met; Data Docs: {report.data_docs}")
    for failure in report.failures:
        print(f"  {failure.describe()}", file=sys.stderr)
    return 0 if report.success else 1
