"""A trained classifier wrapped once for attribution: compiled, batched model functions.

Built once per model and reused for every image and method:

- ``logits(x)``/``probabilities(x)``: ``[B, H, W, C]`` float32 -> ``[B, K]``. A model call's last bits
  depend on its batch, so callers that split images across tasks use fixed ``batch_size`` batches.
- ``input_gradients(x, classes)``: d logit[class] / d x, ``[B, H, W, C]``.
- ``layer_gradients(x, classes)``: the target layer's activations and d logit[class] / d
  activations, both ``[B, h, w, k]``.
- ``call_model_function``: the PAIR ``saliency`` contract on top of ``input_gradients`` (Guided IG).

Gradients are taken of the explained class's **logit** (the pre-softmax score, as Grad-CAM
defines it): softmax gradients vanish once a prediction is confident. The logit is read from
the classifier head, which must be a softmax ``Dense`` layer (as ``build_classifier`` makes).
The functions are compiled by the running Keras backend (:mod:`medsaliency.backends`:
TensorFlow's ``GradientTape`` in a ``tf.function``, or ``jax.grad`` over Keras' ``stateless_call``),
once per model, so a map is the same whichever backend computed it.
"""

from __future__ import annotations

import itertools
from typing import Protocol

import numpy as np

from medsaliency.attribution.batching import fixed_batches
from medsaliency.errors import ConfigError

HEAD_LAYER = "probabilities"
_identities = itertools.count()


class ModelSource(Protocol):
    """Where a task gets its model, in whatever process it runs (so it must pickle small): its Grad-CAM
    ``target_layer``, the model as an :class:`ExplainedModel`, and a source of its weight-randomised copy (every layer, or only the
    ``top_blocks`` top blocks: the cascade) for the sanity checks. The pipeline passes
    :class:`~medsaliency.mlops.model_source.RegisteredModelSource` (a version of the Model Registry,
    loaded once per worker process); attribution and evaluation need nothing else of it."""

    @property
    def target_layer(self) -> str: ...

    def explained(self) -> ExplainedModel: ...

    def randomized(self, seed: int, top_blocks: int | None = None) -> ModelSource: ...


class ExplainedModel:
    """``model`` (a softmax classifier) with its Grad-CAM ``target_layer`` and compiled functions."""

    def __init__(self, model, target_layer: str):
        from medsaliency import backends

        head = _softmax_head(model)
        try:
            model.get_layer(target_layer)
        except ValueError:
            raise ConfigError(f"model {model.name!r} has no layer {target_layer!r} (attribution.target_layers)") from None
        self.model = model
        self.target_layer = target_layer
        self.identity = next(_identities)  # unlike id(), never reused: a safe cache key for results of this model
        self.input_shape = tuple(int(side) for side in model.input_shape[1:])
        self.n_classes = int(head.kernel.shape[-1])
        self._functions = backends.current().compile_model_functions(model, target_layer, head)

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Pre-softmax scores, ``[B, K]`` float32."""
        return self._functions.logits(_images(x))

    def probabilities(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Softmax probabilities, ``[B, K]`` float32; ``batch_size`` images per model call, the last
        call padded to that size (None: all at once)."""
        logits = self.logits(x) if batch_size is None else fixed_batches(self.logits, np.asarray(x), batch_size)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def input_gradients(self, x: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """d logit[classes[b]] / d x[b] for every image ``b``: ``[B, H, W, C]`` float32."""
        return self._functions.input_gradients(_images(x), _classes(classes))

    def layer_gradients(self, x: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Target-layer activations ``A`` and d logit / d ``A``, both ``[B, h, w, k]`` float32."""
        return self._functions.layer_gradients(_images(x), _classes(classes))

    def call_model_function(self, x_value_batch, call_model_args=None, expected_keys=None) -> dict:
        """PAIR ``saliency`` contract: ``call_model_args={"class": c}`` -> input-output gradients of the batch."""
        from saliency.core.base import INPUT_OUTPUT_GRADIENTS

        batch = _images(x_value_batch)
        classes = np.full(len(batch), call_model_args["class"], np.int32)
        return {INPUT_OUTPUT_GRADIENTS: self.input_gradients(batch, classes)}


def _images(x) -> np.ndarray:
    return np.asarray(x, np.float32)


def _classes(classes) -> np.ndarray:
    return np.asarray(classes, np.int32)


def _softmax_head(model):
    """The final softmax ``Dense`` layer whose input features and weights give the logits."""
    import keras

    try:
        head = model.get_layer(HEAD_LAYER)
    except ValueError:
        head = model.layers[-1]
    if not isinstance(head, keras.layers.Dense) or head.activation is not keras.activations.softmax:
        raise ConfigError(
            f"model {model.name!r}: attribution needs a final softmax Dense layer, found {head.__class__.__name__} {head.name!r}"
        )
    return head
