"""Training helpers, featureless copies and classification metrics (no MLflow, no Optuna)."""

import keras
import numpy as np
import pytest
from keras.ops import convert_to_numpy as to_numpy

from medsaliency.config import FeaturelessConfig, Hyperparameters, TrainConfig
from medsaliency.models.backbones import build_classifier
from medsaliency.models.batches import TrainingBatches
from medsaliency.models.featureless import featureless_images, soft_targets
from medsaliency.models.metrics import classification_metrics, confusion
from medsaliency.models.training import (
    class_weights,
    configure_runtime,
    fit_classifier,
    predict_probabilities,
    recompute_batch_norm_statistics,
    run_epochs,
    validate,
)

TRAIN = TrainConfig(
    patience=5,
    mixed_precision=False,
    deterministic=True,
    featureless=FeaturelessConfig(copies=1, perturbation="shuffle", known_fraction=0.01),
)


def test_class_weights_are_balanced():
    weights = class_weights(np.array([0, 0, 0, 1]), 3)
    assert weights == {0: pytest.approx(4 / 9), 1: pytest.approx(4 / 3), 2: 1.0}


def separable_images(n, rng):
    """Class 0 dark, class 1 bright upper half, class 2 bright lower half: learnable in a few epochs."""
    y = np.arange(n) % 3
    x = rng.random((n, 24, 24, 1), dtype=np.float32) * 0.2
    x[y == 1, :12] += 0.7
    x[y == 2, 12:] += 0.7
    return x, y


def fitted_small_cnn(train, val, batch_size: int, epochs: int):
    """A small CNN fitted with Adam on 24-px images (seeded); the model and its Keras history."""
    configure_runtime(TRAIN, seed=0)
    hp = Hyperparameters(
        optimizer="adam", learning_rate=0.003, momentum=0.9, weight_decay=0.0, batch_size=batch_size, dropout=0.0, augmentation=0.0
    )
    model = build_classifier("small_cnn", 24, 3, hp.dropout)
    return model, fit_classifier(model, train, val, hp, epochs=epochs, train=TRAIN, seed=0)


def test_small_cnn_learns_a_separable_task():
    rng = np.random.default_rng(0)
    train, val = separable_images(96, rng), separable_images(30, rng)
    model, history = fitted_small_cnn(train, val, batch_size=16, epochs=8)
    loss, val_accuracy = history.history["loss"], history.history["val_accuracy"]
    assert 1 <= len(val_accuracy) == len(loss) <= 8 and loss[-1] < loss[0]  # one score per epoch run; it fitted
    assert classification_metrics(val[1], predict_probabilities(model, val[0]), ["a", "b", "c"])["accuracy"] > 0.9


def test_seeded_training_is_reproducible():
    rng = np.random.default_rng(1)
    train, val = separable_images(48, rng), separable_images(12, rng)
    hp = Hyperparameters(optimizer="sgd", learning_rate=0.01, momentum=0.9, weight_decay=1e-4, batch_size=16, dropout=0.1, augmentation=0.1)
    predictions = []
    for _ in range(2):
        configure_runtime(TRAIN, seed=5)
        model = build_classifier("small_cnn", 24, 3, hp.dropout)
        fit_classifier(model, train, val, hp, epochs=2, train=TRAIN, seed=5)
        predictions.append(predict_probabilities(model, val[0]))
    np.testing.assert_array_equal(predictions[0], predictions[1])


def test_batch_norm_statistics_become_the_population_statistics_of_the_training_images():
    configure_runtime(TRAIN, seed=0)
    model = build_classifier("small_cnn", 16, 3, 0.0)
    x = np.random.default_rng(2).random((37, 16, 16, 1), dtype=np.float32)  # 37: the last batch is short
    weights = [to_numpy(w).copy() for w in model.trainable_weights]
    recompute_batch_norm_statistics(model, x, batch_size=16)
    conv1 = to_numpy(keras.Model(model.input, model.get_layer("conv1").output)(x))  # the input of bn1, [37, 16, 16, 32]
    batches = [conv1[start : start + 16] for start in range(0, 37, 16)]
    bn1 = model.get_layer("bn1")
    np.testing.assert_allclose(to_numpy(bn1.moving_mean), np.mean([b.mean(axis=(0, 1, 2)) for b in batches], axis=0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        to_numpy(bn1.moving_variance), np.mean([b.var(axis=(0, 1, 2)) for b in batches], axis=0), rtol=1e-3, atol=1e-6
    )
    assert bn1.momentum == 0.99 and all(np.array_equal(a, to_numpy(b)) for a, b in zip(weights, model.trainable_weights, strict=True))


def test_inference_matches_training_mode_after_fitting():
    rng = np.random.default_rng(3)
    train, val = separable_images(96, rng), separable_images(30, rng)
    model, _ = fitted_small_cnn(train, val, batch_size=96, epochs=3)
    inference = to_numpy(model(train[0], training=False))
    np.testing.assert_allclose(inference, to_numpy(model(train[0], training=True)), atol=1e-4)  # one batch: batch statistics = population


def test_featureless_copies_are_blurred_seeded_and_target_the_uniform_distribution():
    x = np.random.default_rng(4).random((3, 16, 16, 1), dtype=np.float32)
    config = FeaturelessConfig(copies=2, perturbation="blur", known_fraction=0.05)
    extra = featureless_images(x, config, seed=1)
    assert extra.shape == (6, 16, 16, 1) and extra.dtype == np.float32
    assert extra[..., 0].std(axis=(1, 2)).mean() < x[..., 0].std(axis=(1, 2)).mean()  # blurred: less detail
    np.testing.assert_array_equal(extra, featureless_images(x, config, seed=1))
    assert not np.array_equal(extra[:3], extra[3:])  # each copy its own random pixels
    assert featureless_images(x, config.model_copy(update={"copies": 0}), seed=1).shape == (0, 16, 16, 1)
    np.testing.assert_allclose(soft_targets(np.array([2, 0]), 1, 3), [[0, 0, 1], [1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])


def test_shuffled_copies_keep_each_images_pixels_in_a_seeded_random_order():
    x = np.random.default_rng(4).random((3, 16, 16, 3), dtype=np.float32)
    config = FeaturelessConfig(copies=2, perturbation="shuffle", known_fraction=0.05)
    extra = featureless_images(x, config, seed=1)
    assert extra.shape == (6, 16, 16, 3) and extra.dtype == np.float32
    for copy, source in zip(extra, np.concatenate([x, x]), strict=True):  # the same pixels (RGB triples kept together)
        np.testing.assert_array_equal(np.unique(copy.reshape(-1, 3), axis=0), np.unique(source.reshape(-1, 3), axis=0))
        assert not np.array_equal(copy, source)
    np.testing.assert_array_equal(extra, featureless_images(x, config, seed=1))
    assert not np.array_equal(extra[:3], extra[3:])  # each copy its own order


def test_a_model_fitted_with_featureless_copies_is_unsure_of_featureless_images():
    rng = np.random.default_rng(0)
    train, val = separable_images(96, rng), separable_images(30, rng)
    model, _ = fitted_small_cnn(train, val, batch_size=16, epochs=8)
    assert classification_metrics(val[1], predict_probabilities(model, val[0]), ["a", "b", "c"])["accuracy"] > 0.9
    blurred = featureless_images(val[0], TRAIN.featureless, seed=9)
    assert predict_probabilities(model, blurred).max(axis=1).mean() < 0.7


def test_mixed_precision_keeps_float32_probabilities():
    try:
        configure_runtime(TRAIN.model_copy(update={"mixed_precision": True, "deterministic": False}), seed=0)
        model = build_classifier("small_cnn", 16, 3, 0.0)
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
        assert model.get_layer("conv1").compute_dtype == "float16"
        assert model.output.dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_classification_metrics_by_hand():
    y = np.array([0, 0, 1, 1, 2, 2])
    probabilities = np.eye(3)[[0, 1, 1, 1, 2, 0]]
    metrics = classification_metrics(y, probabilities, ["a", "b", "c"])
    f1_a, f1_b, f1_c = 0.5, 0.8, 2 / 3
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert metrics["macro_f1"] == pytest.approx((f1_a + f1_b + f1_c) / 3)
    assert metrics["recall.b"] == 1.0 and metrics["precision.b"] == pytest.approx(2 / 3)
    assert confusion(y, probabilities, 3).tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]


def test_the_epoch_loop_drives_callbacks_like_fit_stops_early_and_restores_the_best_weights():
    """run_epochs (fit's loop, batch by batch): train and val logs per epoch, on_test_begin before each
    validation, early stopping on val_loss with the best epoch's weights restored."""
    rng = np.random.default_rng(6)
    (x, y), (val_x, val_y) = separable_images(40, rng), separable_images(12, rng)
    configure_runtime(TRAIN, seed=1)
    model = build_classifier("small_cnn", 24, 3, 0.0)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    schedule, snapshots, validations = [3.0, 2.0, 2.5, 2.6, 1.0], [], []

    class Scripted(keras.callbacks.Callback):  # replaces val_loss before EarlyStopping reads it
        def on_test_begin(self, logs=None):
            validations.append(len(snapshots))

        def on_epoch_end(self, epoch, logs=None):
            assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(logs)
            logs["val_loss"] = schedule[epoch]
            snapshots.append([w.copy() for w in self.model.get_weights()])

    batches = TrainingBatches(x, soft_targets(y, 0, 3), np.ones(len(x), np.float32), 16, 0.0, seed=0)
    stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = run_epochs(model, batches, (val_x, soft_targets(val_y, 0, 3)), len(schedule), [Scripted(), stopping])
    assert history.epoch == [0, 1, 2, 3] and history.history["val_loss"] == schedule[:4]  # stopped after 2 worse epochs
    assert validations == [0, 1, 2, 3] and batches.epoch == 4  # one validation and one reshuffle per epoch
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), snapshots[1], strict=True))  # epoch 1's weights
    assert not all(np.array_equal(a, b) for a, b in zip(snapshots[1], snapshots[3], strict=True))


def test_validation_gives_evaluates_numbers_and_calls_the_test_hooks():
    keras.utils.set_random_seed(4)
    model = build_classifier("small_cnn", 16, 3, 0.0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(2)
    x, y = rng.random((21, 16, 16, 1), dtype=np.float32), np.eye(3, dtype=np.float32)[rng.integers(0, 3, 21)]
    calls = []

    class Hooks(keras.callbacks.Callback):
        def on_test_begin(self, logs=None):
            calls.append("begin")

        def on_test_end(self, logs=None):
            calls.append(sorted(logs))

    ours = validate(model, x, y, 8, keras.callbacks.CallbackList([Hooks()], model=model))
    theirs = model.evaluate(x, y, batch_size=8, return_dict=True, verbose=0)
    assert calls == ["begin", sorted(theirs)]
    assert ours == pytest.approx(theirs, rel=1e-5)
