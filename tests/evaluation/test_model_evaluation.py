"""The evaluation's per-task helpers that need no model: RandomLogit's other class."""

import numpy as np

from medsaliency.evaluation.model_evaluation import other_classes


def test_the_other_class_is_never_the_explained_one_and_is_seeded_per_image():
    classes = np.array([0, 1, 2] * 200)
    seeds = np.arange(600)
    others = other_classes(classes, 3, seeds)
    assert (others != classes).all() and set(others.tolist()) == {0, 1, 2}
    assert {int(o) for o, c in zip(others, classes, strict=True) if c == 1} == {0, 2}  # both others drawn
    np.testing.assert_array_equal(others[::7], other_classes(classes[::7], 3, seeds[::7]))  # per image, not per batch
    assert (other_classes(np.array([0, 1]), 2, np.array([5, 6])) == [1, 0]).all()
