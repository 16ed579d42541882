"""The training input: shuffled, augmented, weighted batches as a ``keras.utils.PyDataset``.

Runs the same on every Keras backend (no ``tf.data``): batch ``i`` of epoch ``e`` is a pure function
of ``(seed, e, i)`` — the epoch's order is drawn from ``(seed, e)``, the batch's augmentation
(:mod:`.augmentation`) from ``(seed, e, i)`` — so the stream is deterministic whatever order or
thread Keras asks for batches in, and identical under TensorFlow and JAX.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from medsaliency.models.augmentation import augment, random_transforms


class TrainingBatches(keras.utils.PyDataset):
    """``(x, y, weights)`` batches of ``batch_size``: ``x`` float32 ``[B, S, S, C]``, ``y`` ``[B, K]``
    targets, ``weights`` float32 ``[B]``; reshuffled every epoch; augmented when ``augmentation`` > 0."""

    def __init__(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray, batch_size: int, augmentation: float, seed: int):
        super().__init__(workers=1, use_multiprocessing=False)
        self.x, self.y, self.weights = x, y, weights
        self.batch_size, self.augmentation, self.seed = batch_size, augmentation, seed
        self.epoch = 0

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        chosen = self.order(self.epoch)[index * self.batch_size : (index + 1) * self.batch_size]
        images = self.x[chosen]
        if self.augmentation > 0:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            images = augment(images, random_transforms(len(images), self.augmentation, rng))
        return images, self.y[chosen], self.weights[chosen]

    def order(self, epoch: int) -> np.ndarray:
        """The permutation of the images in ``epoch`` ``[N]``."""
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.x))

    def on_epoch_end(self) -> None:
        self.epoch += 1
