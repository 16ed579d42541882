"""Train/val/test assignment stratified by class and grouped by patient (no patient in two splits)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

SPLITS = ("train", "val", "test")


def patient_labels(patient_ids: Sequence[str], labels: Sequence[str]) -> dict[str, str]:
    """Each patient's label: the most frequent label of their images (ties: alphabetical first)."""
    per_patient: dict[str, Counter] = {}
    for patient, label in zip(patient_ids, labels, strict=True):
        per_patient.setdefault(patient, Counter())[label] += 1
    return {patient: min(counts, key=lambda label: (-counts[label], label)) for patient, counts in per_patient.items()}


def split_patients(labels_by_patient: Mapping[str, str], val_fraction: float, test_fraction: float, seed: int) -> dict[str, str]:
    """Map each patient to ``train``, ``val`` or ``test``.

    Within each class the patients are shuffled with ``seed`` and the first
    ``round(n * test_fraction)`` go to test, the next ``round(n * val_fraction)`` to val, the
    rest to train; a class with at least three patients gets at least one in every split.
    The result depends only on the mapping's content, not on its order.
    """
    rng = np.random.default_rng(seed)
    assignment: dict[str, str] = {}
    for label in sorted(set(labels_by_patient.values())):
        patients = sorted(p for p, lab in labels_by_patient.items() if lab == label)
        shuffled = [patients[i] for i in rng.permutation(len(patients))]
        n_test, n_val = _split_sizes(len(shuffled), val_fraction, test_fraction)
        for index, patient in enumerate(shuffled):
            assignment[patient] = "test" if index < n_test else "val" if index < n_test + n_val else "train"
    return assignment


def _split_sizes(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    minimum = 1 if n >= 3 else 0
    n_test = max(minimum, round(n * test_fraction))
    n_val = max(minimum, round(n * val_fraction))
    return n_test, n_val
