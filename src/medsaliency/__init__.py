"""medsaliency: train medical-image classifiers, explain them, and measure the explanations."""

__version__ = "0.1.0"
