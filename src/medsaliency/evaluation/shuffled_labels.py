"""The data randomisation test (Adebayo et al. 2018): do the maps depend on what the labels taught?

The explained model's architecture and hyperparameters are trained again, this time on the
training images with their labels shuffled (seeded, stratified: class frequencies kept, every
image-label link broken). That model can only memorise; it has learnt nothing about the classes.
A method whose maps for it look like the trained model's maps (high SSIM, high rank correlation)
shows the image, not what the model learnt from the labels.

- :func:`shuffled_labels`: the labels rearranged so that no class predicts any label (a stratified
  permutation: every class gets the labels in proportion to their frequencies).
- :func:`compare_maps`: per method and image, SSIM (:func:`~medsaliency.evaluation.sanity.map_similarity`)
  and Spearman's rank correlation between the two models' maps, for the same explained class.
- :func:`data_randomization_test`: the whole test for one explained model: the twin trained, its maps
  of the re-attribution sample computed, the two models' maps compared (flat metrics).
- :func:`train_on_shuffled_labels`: the training itself, a tuning trial's
  (:func:`~medsaliency.models.training.fit_classifier`, the champion's optimiser settings) for a
  fixed number of epochs and without the regularisers (dropout, augmentation, featureless copies):
  the test needs a model that memorised its labels (Adebayo et al. train to high training
  accuracy), and early stopping on the (shuffled) validation labels would stop before that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medsaliency.evaluation.sanity import map_similarity


@dataclass(frozen=True)
class ShuffledLabelModel:
    """The model trained on shuffled labels and how far it memorised them (``train_accuracy`` on
    the shuffled training labels, between chance and 1)."""

    model: object
    train_accuracy: float


def shuffled_labels(y: np.ndarray, seed: int) -> np.ndarray:
    """The labels ``y`` ``[N]`` rearranged, seeded, so that they say nothing about the true class.

    A plain permutation leaves chance imbalances (of 72 images of one class, 27 may get that class's
    label and 22 another's), and a network that memorises follows them to above-chance test accuracy.
    Here every class's images get the labels in proportion to the labels' frequencies
    (:func:`balanced_counts`), then the images of each class are assigned theirs at random: the same
    label counts as ``y``, and no class predicts any label better than its frequency.
    """
    rng = np.random.default_rng(seed)
    classes, y_index = np.unique(y, return_inverse=True)
    counts = balanced_counts(np.bincount(y_index))
    shuffled = np.empty_like(y)
    for c in range(len(classes)):
        members = np.flatnonzero(y_index == c)
        labels = np.repeat(classes, counts[c])
        shuffled[members] = rng.permutation(labels)
    return shuffled


def balanced_counts(sizes: np.ndarray) -> np.ndarray:
    """``[K, K]`` integers with row and column sums ``sizes`` (the class sizes), each cell the nearest
    to ``sizes[c] * sizes[k] / N``: how many images of class ``c`` get label ``k``."""
    expected = np.outer(sizes, sizes) / sizes.sum()
    counts = np.floor(expected).astype(np.int64)
    fractions = expected - counts
    rows, columns = sizes - counts.sum(axis=1), sizes - counts.sum(axis=0)
    for cell in np.argsort(-fractions, axis=None, kind="stable"):
        c, k = np.unravel_index(cell, counts.shape)
        if rows[c] > 0 and columns[k] > 0:
            counts[c, k] += 1
            rows[c] -= 1
            columns[k] -= 1
    while rows.any():  # what the fractions left: any cell whose row and column still lack one
        c, k = int(np.flatnonzero(rows)[0]), int(np.flatnonzero(columns)[0])
        counts[c, k] += 1
        rows[c] -= 1
        columns[k] -= 1
    return counts


def rank_correlation(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Spearman's rho ``[N]`` between the pixels of maps ``[N, H, W]`` (NaN where one map is constant)."""
    from scipy.stats import rankdata

    a = rankdata(first.reshape(len(first), -1), axis=1)
    b = rankdata(second.reshape(len(second), -1), axis=1)
    a, b = a - a.mean(axis=1, keepdims=True), b - b.mean(axis=1, keepdims=True)
    norms = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, (a * b).sum(axis=1) / norms, np.nan)


def compare_maps(trained: dict[str, np.ndarray], randomized: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Measure (``ssim``, ``spearman``) -> method -> ``[N]`` for the maps (method -> ``[N, H, W]``) of both models."""
    return {
        "ssim": {m: map_similarity(trained[m], randomized[m]) for m in randomized},
        "spearman": {m: rank_correlation(trained[m], randomized[m]) for m in randomized},
    }


def train_on_shuffled_labels(
    backbone: str,
    hp,
    train_xy: tuple[np.ndarray, np.ndarray],
    val_xy: tuple[np.ndarray, np.ndarray],
    n_classes: int,
    epochs: int,
    params,
    seed: int,
) -> ShuffledLabelModel:
    """Build ``backbone`` and train it for ``epochs`` on ``train_xy`` with shuffled labels (``val_xy``'s
    shuffled too: validation only monitors), with ``hp``'s (:class:`~medsaliency.config.Hyperparameters`)
    optimiser, learning rate, momentum, weight decay and batch size, and without what exists to stop
    memorising: dropout, augmentation and the featureless copies are off."""
    import keras

    from medsaliency.models.backbones import build_classifier
    from medsaliency.models.training import configure_runtime, fit_classifier, predict_probabilities

    configure_runtime(params.train, seed)
    keras.backend.clear_session()
    spec = params.backbone(backbone)
    hp = hp.model_copy(update={"dropout": 0.0, "augmentation": 0.0})
    train = params.train.model_copy(update={"featureless": params.train.featureless.model_copy(update={"copies": 0})})
    (x, y), (val_x, val_y) = train_xy, val_xy
    model = build_classifier(backbone, x.shape[1], n_classes, hp.dropout, weights_path=spec.weights_path, working_size=spec.working_size)
    shuffled = shuffled_labels(y, seed)
    fit_classifier(model, (x, shuffled), (val_x, shuffled_labels(val_y, seed + 1)), hp, epochs, train, seed, early_stopping=False)
    accuracy = float(np.mean(predict_probabilities(model, x).argmax(axis=1) == shuffled))
    return ShuffledLabelModel(model, accuracy)


def data_randomization_test(maps, backbone: str, hp, train, val, params) -> tuple[ShuffledLabelModel, dict[str, float]]:
    """The test for the model that made ``maps`` (:class:`~medsaliency.io.artifacts.MapsFile`): its twin on
    shuffled labels (``backbone``, ``hp``, ``params.data_randomization``'s epochs and seed; ``train`` and
    ``val`` :class:`~medsaliency.io.artifacts.SplitArrays`), then ``data_randomization.methods``' maps of the
    re-attribution sample for the same explained classes, compared with the trained model's. Returns
    the twin and the flat metrics: SSIM and Spearman per method with intervals, the twin's accuracy on
    its shuffled training labels and on the true test labels, ``epochs``, ``n_images``."""
    from medsaliency.attribution.explained_model import ExplainedModel
    from medsaliency.attribution.methods import compute_maps, image_seeds
    from medsaliency.evaluation.sanity import randomization_sample
    from medsaliency.evaluation.summary import score_metrics
    from medsaliency.models.training import predict_probabilities

    config = params.data_randomization
    n_classes = maps.probabilities.shape[1]
    twin = train_on_shuffled_labels(backbone, hp, (train.x, train.y), (val.x, val.y), n_classes, config.epochs, params, config.seed)
    attribution = params.attribution.restricted(config.methods, maps.method_names)
    methods = attribution.methods
    sample = randomization_sample(maps, params.evaluation)
    seeds = image_seeds(params.attribution.seed, maps.ids[sample])
    explained = ExplainedModel(twin.model, maps.target_layer)
    twin_maps = compute_maps(explained, maps.images[sample], maps.explained_class[sample], attribution, seeds).maps
    trained_maps = {m: maps.maps[maps.method_names.index(m)][sample] for m in methods}
    metrics = {
        "train_accuracy_shuffled_labels": twin.train_accuracy,
        "test_accuracy": float(np.mean(predict_probabilities(twin.model, maps.images).argmax(axis=1) == maps.labels)),
        "epochs": float(config.epochs),
        "n_images": float(sample.sum()),
    }
    for measure, by_method in compare_maps(trained_maps, twin_maps).items():
        metrics.update(score_metrics(measure, by_method, params.evaluation, False, maps.patient_ids[sample]))
    return twin, metrics
