"""Classifiers: the backbone registry, training, and classification metrics."""
