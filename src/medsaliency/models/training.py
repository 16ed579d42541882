"""Fit one classifier on any Keras backend: seeded batches, class weights, featureless images, early stopping.

Arrays are those of :mod:`medsaliency.data.prepare`: ``x`` float32 ``[N, S, S, 1]`` in [0, 1],
``y`` int64 ``[N]`` class indices.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from medsaliency.config import Hyperparameters, TrainConfig


def configure_runtime(train: TrainConfig, seed: int) -> None:
    """Seeds, optional deterministic kernels, and the mixed-precision policy, before any model is built."""
    import keras

    from medsaliency import backends

    keras.utils.set_random_seed(seed)
    if train.deterministic:
        backends.current().enable_determinism()
    keras.mixed_precision.set_global_policy("mixed_float16" if train.mixed_precision else "float32")


def device_summary() -> str:
    """``training with <backend> on N accelerator(s)`` or ``... on the CPU``: what the Keras backend sees."""
    from medsaliency import backends

    accelerators = backends.current().devices()
    where = f"{len(accelerators)} accelerator(s): {', '.join(accelerators)}" if accelerators else "the CPU"
    return f"training with {backends.name()} on {where}"


def class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """Balanced weights ``n / (K * count_k)``; a class absent from ``y`` gets weight 1."""
    counts = np.bincount(y, minlength=n_classes)
    return {k: float(len(y) / (n_classes * counts[k])) if counts[k] else 1.0 for k in range(n_classes)}


def make_optimizer(hp: Hyperparameters):
    """SGD with momentum or Adam, both with decoupled weight decay."""
    import keras

    if hp.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=hp.learning_rate, momentum=hp.momentum, weight_decay=hp.weight_decay)
    return keras.optimizers.Adam(learning_rate=hp.learning_rate, weight_decay=hp.weight_decay)


def fit_classifier(
    model,
    train_xy: tuple[np.ndarray, np.ndarray],
    val_xy: tuple[np.ndarray, np.ndarray],
    hp: Hyperparameters,
    epochs: int,
    train: TrainConfig,
    seed: int,
    callbacks: Sequence = (),
    early_stopping: bool = True,
):
    """Compile and fit ``model`` in place; returns the Keras ``History``.

    The training images are weighted by :func:`class_weights` and joined by the featureless
    copies of ``train.featureless`` (weight 1, uniform target; :mod:`.featureless`). Before every
    validation the BatchNormalization statistics are recomputed over the real training images
    (:func:`population_batch_norm_statistics`), so validation (real images only), early stopping
    (``val_loss``, ``train.patience``, best weights restored) and the saved model all see the
    network exactly as inference will run it. ``early_stopping=False`` trains every epoch (the data
    randomisation test: its validation labels are shuffled, there is nothing to stop on).
    """
    import keras

    from medsaliency import backends
    from medsaliency.models.batches import TrainingBatches
    from medsaliency.models.featureless import featureless_images, soft_targets

    (x, y), n_classes = train_xy, int(model.output_shape[-1])
    extra = featureless_images(x, train.featureless, seed)
    weights = np.concatenate([np.array([class_weights(y, n_classes)[label] for label in y], np.float32), np.ones(len(extra), np.float32)])
    model.compile(
        optimizer=make_optimizer(hp), loss="categorical_crossentropy", metrics=["accuracy"], jit_compile=backends.current().JIT_COMPILE
    )
    statistics = population_batch_norm_statistics(x, hp.batch_size)
    stopping = (
        [keras.callbacks.EarlyStopping(monitor="val_loss", patience=train.patience, restore_best_weights=True)] if early_stopping else []
    )
    training = TrainingBatches(
        np.concatenate([x, extra]), soft_targets(y, len(extra), n_classes), weights, hp.batch_size, hp.augmentation, seed
    )
    return model.fit(
        training,
        validation_data=(val_xy[0], soft_targets(val_xy[1], 0, n_classes)),
        validation_batch_size=hp.batch_size,
        epochs=epochs,
        callbacks=[statistics, *stopping, *callbacks],
        verbose=0,
    )


def population_batch_norm_statistics(x: np.ndarray, batch_size: int):
    """A Keras callback that sets every BatchNormalization's moving mean and variance to the average
    of its batch statistics over all of ``x`` ``[N, S, S, C]``, with the current weights.

    Why: Keras keeps those statistics as an exponential moving average over training steps. With a
    few hundred images there are only ~7 steps an epoch, the weights move fast, and the average
    lags them: the network trains well (batch statistics) while in inference mode it predicts one
    class. Measured on the brain phantoms (small CNN, Adam 1e-3): validation accuracy 0.27-0.29 in
    inference mode against 0.56-0.60 with batch statistics over epochs 6-8. Recomputing the
    statistics before each validation ("precise BN", Wu & Johnson 2021) removes the lag; it costs
    one forward pass over the training images per epoch. Each batch is passed in training mode with
    momentum ``k / (k + 1)`` at batch ``k``, which leaves the plain mean of the batch statistics.
    """
    import keras

    class PopulationStatistics(keras.callbacks.Callback):
        def on_test_begin(self, logs=None):
            recompute_batch_norm_statistics(self.model, x, batch_size)

    return PopulationStatistics()


def recompute_batch_norm_statistics(model, x: np.ndarray, batch_size: int) -> None:
    """Set the moving statistics of ``model``'s BatchNormalization layers from ``x`` (see above); weights unchanged."""
    import keras

    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not layers:
        return
    momenta = [layer.momentum for layer in layers]
    try:
        for index, start in enumerate(range(0, len(x), batch_size)):
            for layer in layers:
                layer.momentum = index / (index + 1)
            model(x[start : start + batch_size], training=True)
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum


def predict_probabilities(model, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """float32 ``[N, K]`` softmax outputs."""
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)
