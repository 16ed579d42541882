"""Classification metrics (scikit-learn) and the confusion-matrix figure."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score, precision_recall_fscore_support


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Flat, MLflow-ready metrics: ``accuracy``, ``macro_f1`` and ``precision.<class>`` etc.

    ``probabilities``: ``[N, K]``; the prediction is the arg-max.
    """
    labels = list(range(len(classes)))
    predicted = probabilities.argmax(axis=1)
    precision, recall, f1, _ = precision_recall_fscore_support(y_true, predicted, labels=labels, zero_division=0)
    metrics = {
        "accuracy": float(accuracy_score(y_true, predicted)),
        "macro_f1": float(f1_score(y_true, predicted, labels=labels, average="macro", zero_division=0)),
    }
    for index, name in enumerate(classes):
        metrics[f"precision.{name}"] = float(precision[index])
        metrics[f"recall.{name}"] = float(recall[index])
        metrics[f"f1.{name}"] = float(f1[index])
    return metrics


def confusion(y_true: np.ndarray, probabilities: np.ndarray, n_classes: int) -> np.ndarray:
    """int ``[K, K]``: rows are true classes, columns predicted."""
    return confusion_matrix(y_true, probabilities.argmax(axis=1), labels=list(range(n_classes)))


def report_text(y_true: np.ndarray, probabilities: np.ndarray, classes: list[str]) -> str:
    """scikit-learn's per-class precision/recall/F1 table."""
    return classification_report(
        y_true, probabilities.argmax(axis=1), labels=list(range(len(classes))), target_names=classes, zero_division=0, digits=4
    )


def confusion_figure(matrix: np.ndarray, classes: list[str], title: str):
    """A matplotlib Figure of the confusion matrix with counts in the cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(1.4 * len(classes) + 2, 1.2 * len(classes) + 1.5))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    axes.set_yticks(range(len(classes)), classes)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    for (row, col), count in np.ndenumerate(matrix):
        axes.text(col, row, str(count), ha="center", va="center", color="white" if count > matrix.max() / 2 else "black")
    figure.tight_layout()
    return figure
