"""Fit one classifier on any Keras backend: seeded batches, class weights, featureless images, early stopping.

Arrays are those of :mod:`medsaliency.data.preparation`: ``x`` float32 ``[N, S, S, 1]`` in [0, 1],
``y`` int64 ``[N]`` class indices.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from medsaliency.config import BackboneTuneConfig, Hyperparameters, TrainConfig

# Images per forward pass when the BatchNormalization statistics are recomputed before each validation
# (:func:`population_batch_norm_statistics`): each pass is an eager model call, so passes of the tuning
# batch size (seven over the default brain training split) cost a large share of a small-CNN epoch on a
# CPU; one pass of all of them costs a fraction of that and gives the plain population statistics.
STATISTICS_BATCH_SIZE = 256


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
    statistics = population_batch_norm_statistics(x, STATISTICS_BATCH_SIZE)
    stopping = (
        [keras.callbacks.EarlyStopping(monitor="val_loss", patience=train.patience, restore_best_weights=True)] if early_stopping else []
    )
    training = TrainingBatches(
        np.concatenate([x, extra]), soft_targets(y, len(extra), n_classes), weights, hp.batch_size, hp.augmentation, seed
    )
    validation = (val_xy[0], soft_targets(val_xy[1], 0, n_classes))
    return run_epochs(model, training, validation, epochs, [statistics, *stopping, *callbacks])


def train_model(
    backbone: str,
    spec: BackboneTuneConfig,
    hp: Hyperparameters,
    train_xy: tuple[np.ndarray, np.ndarray],
    val_xy: tuple[np.ndarray, np.ndarray],
    n_classes: int,
    train: TrainConfig,
    seed: int,
):
    """A new ``backbone`` classifier trained as a tuning trial trains one (``hp``, ``spec.epochs`` with
    early stopping), with every random draw from ``seed``: initial weights, dropout, batch order,
    augmentation and featureless copies. Returns the model."""
    import keras

    from medsaliency.models.backbones import build_classifier

    configure_runtime(train, seed)
    keras.backend.clear_session()
    x = train_xy[0]
    model = build_classifier(backbone, x.shape[1], n_classes, hp.dropout, weights_path=spec.weights_path, working_size=spec.working_size)
    fit_classifier(model, train_xy, val_xy, hp, spec.epochs, train, seed)
    return model


def run_epochs(model, batches, validation: tuple[np.ndarray, np.ndarray], epochs: int, callbacks: Sequence):
    """``model.fit``'s loop, batch by batch: ``train_on_batch`` on each of ``batches`` (a
    :class:`~medsaliency.models.batches.TrainingBatches`), then validation on ``validation``
    (:func:`validate`: ``val_*`` logs; the callbacks' ``on_test_*`` hooks run there), with the same callback calls as
    ``fit`` (early stopping, Optuna pruning, logging); returns the Keras ``History``.

    Why not ``fit``: on TensorFlow, Keras feeds a ``PyDataset`` through ``tf.data.Dataset.from_generator``
    with a prefetch thread, which on a 2-core CPU makes a small-CNN epoch several times slower than the
    same batches given one by one or as arrays. The
    epoch's train logs are the batch logs averaged over images, as ``fit`` reports them.
    """
    import keras

    callback_list = keras.callbacks.CallbackList(list(callbacks), add_history=True, model=model, epochs=epochs, steps=len(batches))
    model.stop_training = False
    callback_list.on_train_begin()
    logs: dict[str, float] = {}
    for epoch in range(epochs):
        callback_list.on_epoch_begin(epoch)
        totals: dict[str, float] = {}
        images = 0
        for step in range(len(batches)):
            callback_list.on_train_batch_begin(step)
            batch = batches[step]
            batch_logs = model.train_on_batch(*batch, return_dict=True)
            callback_list.on_train_batch_end(step, batch_logs)
            totals = {key: totals.get(key, 0.0) + value * len(batch[0]) for key, value in batch_logs.items()}
            images += len(batch[0])
        batches.on_epoch_end()
        logs = {key: value / images for key, value in totals.items()}
        evaluation = validate(model, *validation, batches.batch_size, callback_list)
        logs.update({f"val_{key}": value for key, value in evaluation.items()})
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return model.history


def validate(model, x: np.ndarray, y: np.ndarray, batch_size: int, callback_list) -> dict[str, float]:
    """``model.evaluate``'s numbers (loss and metrics averaged over images) from ``test_on_batch`` calls,
    with its ``on_test_*`` callback calls. Why not ``evaluate``: on TensorFlow it builds a new
    ``tf.data`` pipeline on every call, which costs time each epoch and prints an ``E0000 ...
    use_unbounded_threadpool`` line (TensorFlow's own op-definition mismatch, harmless but read as an error)."""
    callback_list.on_test_begin()
    totals: dict[str, float] = {}
    for step, start in enumerate(range(0, len(x), batch_size)):
        callback_list.on_test_batch_begin(step)
        rows = slice(start, start + batch_size)
        batch_logs = model.test_on_batch(x[rows], y[rows], return_dict=True)
        callback_list.on_test_batch_end(step, batch_logs)
        totals = {key: totals.get(key, 0.0) + value * len(x[rows]) for key, value in batch_logs.items()}
    logs = {key: value / len(x) for key, value in totals.items()}
    callback_list.on_test_end(logs)
    return logs


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
    """float32 ``[N, K]`` softmax outputs, ``predict_on_batch`` over ``batch_size`` images at a time
    (``model.predict`` would build a ``tf.data`` pipeline: see :func:`validate`)."""
    batches = [np.asarray(model.predict_on_batch(x[start : start + batch_size])) for start in range(0, len(x), batch_size)]
    return np.concatenate(batches).astype(np.float32) if batches else np.zeros((0, int(model.output_shape[-1])), np.float32)
