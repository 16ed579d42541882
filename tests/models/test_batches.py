"""The training input: seeded batches and the NumPy augmentation (no backend involved)."""

import numpy as np

from medsaliency.models.augmentation import augment, random_transforms
from medsaliency.models.batches import TrainingBatches


def batches_of(epoch_batches: TrainingBatches) -> list[tuple]:
    return [epoch_batches[index] for index in range(len(epoch_batches))]


def test_every_image_once_an_epoch_reshuffled_and_reproducible():
    x = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1) * np.ones((1, 4, 4, 1), np.float32)
    batches = TrainingBatches(x, np.arange(10), np.ones(10, np.float32), batch_size=4, augmentation=0.0, seed=7)
    first = batches_of(batches)
    assert [len(b[0]) for b in first] == [4, 4, 2]
    assert sorted(np.concatenate([b[1] for b in first])) == list(range(10))
    for images, labels, weights in first:  # images stay with their labels and weights
        np.testing.assert_array_equal(images[:, 0, 0, 0], labels)
        np.testing.assert_array_equal(weights, np.ones(len(labels)))
    batches.on_epoch_end()
    second = np.concatenate([b[1] for b in batches_of(batches)])
    assert sorted(second) == list(range(10)) and list(second) != list(np.concatenate([b[1] for b in first]))
    again = TrainingBatches(x, np.arange(10), np.ones(10, np.float32), batch_size=4, augmentation=0.0, seed=7)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches_of(again)]), np.concatenate([b[1] for b in first]))


def test_a_batch_is_a_function_of_seed_epoch_and_index_only():
    x = np.random.default_rng(0).random((12, 16, 16, 1), dtype=np.float32)
    batches = TrainingBatches(x, np.arange(12), np.ones(12, np.float32), batch_size=4, augmentation=0.1, seed=3)
    last_first = batches[2][0]
    in_order = batches_of(batches)
    np.testing.assert_array_equal(last_first, in_order[2][0])  # asked out of order, same bytes
    assert not np.allclose(in_order[0][0], x[batches.order(0)[:4]])  # augmented


def test_augmentation_transforms_are_exact_on_known_cases():
    image = np.random.default_rng(1).random((1, 9, 9, 2), dtype=np.float32)
    identity = np.eye(2)[None]
    np.testing.assert_array_equal(augment(image, identity), image)
    flip = np.array([[[1.0, 0.0], [0.0, -1.0]]])
    np.testing.assert_allclose(augment(image, flip), image[:, :, ::-1], atol=1e-6)
    quarter_turn = np.array([[[0.0, -1.0], [1.0, 0.0]]])  # output (r, c) reads input (S-1-c, r): clockwise
    np.testing.assert_allclose(augment(image, quarter_turn), np.rot90(image, k=-1, axes=(1, 2)), atol=1e-6)


def test_random_transforms_stay_within_the_strength():
    transforms = random_transforms(2000, 0.1, np.random.default_rng(2))
    scales = np.sqrt(np.abs(np.linalg.det(transforms)))  # the zoom factor
    angles = np.abs(np.arctan2(transforms[:, 1, 0], transforms[:, 0, 0]))
    assert 0.9 <= scales.min() < 0.92 and 1.08 < scales.max() <= 1.1
    assert angles.max() <= 0.1 * 2 * np.pi + 1e-9 and angles.max() > 0.95 * 0.1 * 2 * np.pi
    assert 0.45 < np.mean(np.linalg.det(transforms) < 0) < 0.55  # half of them flipped
