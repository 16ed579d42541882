from collections import Counter

import pytest

from medsaliency.data.splits import patient_labels, split_patients


def make_patients(n_per_class=(20, 12, 7)):
    return {f"{label}-{i}": label for label, n in zip("abc", n_per_class, strict=True) for i in range(n)}


def test_every_patient_gets_exactly_one_split_and_classes_are_stratified():
    labels = make_patients()
    assignment = split_patients(labels, val_fraction=0.15, test_fraction=0.2, seed=3)
    assert set(assignment) == set(labels)
    for label in "abc":
        counts = Counter(split for patient, split in assignment.items() if labels[patient] == label)
        assert counts["train"] > counts["test"] >= 1 and counts["val"] >= 1
    assert Counter(s for p, s in assignment.items() if labels[p] == "a") == {"train": 13, "test": 4, "val": 3}


def test_split_is_seeded_and_independent_of_input_order():
    labels = make_patients()
    shuffled = dict(reversed(list(labels.items())))
    assert split_patients(labels, 0.15, 0.2, 7) == split_patients(shuffled, 0.15, 0.2, 7)
    assert split_patients(labels, 0.15, 0.2, 7) != split_patients(labels, 0.15, 0.2, 8)


def test_patient_label_is_the_majority_of_their_images():
    labels = patient_labels(["p1", "p1", "p1", "p2", "p2"], ["a", "b", "b", "c", "a"])
    assert labels == {"p1": "b", "p2": "a"}


def test_images_of_one_patient_never_straddle_splits():
    patients = [f"p{i // 4}" for i in range(80)]
    labels = ["ab"[i // 4 % 2] for i in range(80)]
    assignment = split_patients(patient_labels(patients, labels), 0.2, 0.2, 0)
    image_splits = [assignment[p] for p in patients]
    per_patient = {}
    for patient, split in zip(patients, image_splits, strict=True):
        per_patient.setdefault(patient, set()).add(split)
    assert all(len(splits) == 1 for splits in per_patient.values())
    assert set(image_splits) == {"train", "val", "test"}


@pytest.mark.parametrize("n", [1, 2])
def test_tiny_classes_go_to_train(n):
    assignment = split_patients({f"p{i}": "a" for i in range(n)}, 0.15, 0.15, 0)
    assert set(assignment.values()) == {"train"}
