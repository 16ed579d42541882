"""A trained classifier wrapped once for attribution: compiled, batched model functions.

Built once per model and reused for every image and method:

- ``logits(x)``/``probabilities(x)``: ``[B, H, W, C]`` float32 -> ``[B, K]``.
- ``input_gradients(x, classes)``: d logit[class] / d x, ``[B, H, W, C]``.
- ``layer_gradients(x, classes)``: the target layer's activations and d logit[class] / d
  activations, both ``[B, h, w, k]``.
- ``call_model_function``: the PAIR ``saliency`` contract on top of ``input_gradients``.

Gradients are taken of the explained class's **logit** (the pre-softmax score, as Grad-CAM
defines it): softmax gradients vanish once a prediction is confident. The logit is read from
the classifier head, which must be a softmax ``Dense`` layer (as ``build_classifier`` makes).
Each function is a ``tf.function`` with a fixed input signature and a free batch size, so it
is traced once, whatever number of path steps or samples PAIR asks for per call.
"""

from __future__ import annotations

import itertools

import numpy as np

from medsaliency.errors import ConfigError

HEAD_LAYER = "probabilities"
_identities = itertools.count()


class ExplainedModel:
    """``model`` (a softmax classifier) with its Grad-CAM ``target_layer`` and compiled functions."""

    def __init__(self, model, target_layer: str):
        import keras
        import tensorflow as tf

        head = _softmax_head(model)
        try:
            layer_output = model.get_layer(target_layer).output
        except ValueError:
            raise ConfigError(f"model {model.name!r} has no layer {target_layer!r} (attribution.target_layers)") from None
        self.model = model
        self.target_layer = target_layer
        self.identity = next(_identities)  # unlike id(), never reused: a safe cache key for results of this model
        self.input_shape = tuple(int(side) for side in model.input_shape[1:])
        self._kernel, self._bias = head.kernel, head.bias
        self._extractor = keras.Model(model.inputs, [layer_output, head.input], name=f"{model.name}_attribution")
        image = tf.TensorSpec((None, *self.input_shape), tf.float32)
        classes = tf.TensorSpec((None,), tf.int32)
        self._logits = tf.function(self._logits_graph, input_signature=[image])
        self._input_gradients = tf.function(self._input_gradients_graph, input_signature=[image, classes])
        self._layer_gradients = tf.function(self._layer_gradients_graph, input_signature=[image, classes])

    @property
    def n_classes(self) -> int:
        return int(self._kernel.shape[-1])

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Pre-softmax scores, ``[B, K]`` float32."""
        return self._logits(np.asarray(x, np.float32)).numpy()

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Softmax probabilities, ``[B, K]`` float32."""
        logits = self.logits(x)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def input_gradients(self, x: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """d logit[classes[b]] / d x[b] for every image ``b``: ``[B, H, W, C]`` float32."""
        return self._input_gradients(np.asarray(x, np.float32), np.asarray(classes, np.int32)).numpy()

    def layer_gradients(self, x: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Target-layer activations ``A`` and d logit / d ``A``, both ``[B, h, w, k]`` float32."""
        activations, gradients = self._layer_gradients(np.asarray(x, np.float32), np.asarray(classes, np.int32))
        return activations.numpy(), gradients.numpy()

    def call_model_function(self, x_value_batch, call_model_args=None, expected_keys=None) -> dict:
        """PAIR ``saliency`` contract: ``call_model_args={"class": c}`` -> input-output gradients of the batch."""
        from saliency.core.base import INPUT_OUTPUT_GRADIENTS

        batch = np.asarray(x_value_batch, np.float32)
        classes = np.full(len(batch), call_model_args["class"], np.int32)
        return {INPUT_OUTPUT_GRADIENTS: self.input_gradients(batch, classes)}

    def _head_logits(self, features):
        import tensorflow as tf

        return tf.matmul(tf.cast(features, tf.float32), tf.cast(self._kernel, tf.float32)) + tf.cast(self._bias, tf.float32)

    def _logits_graph(self, x):
        _, features = self._extractor(x, training=False)
        return self._head_logits(features)

    def _input_gradients_graph(self, x, classes):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            _, features = self._extractor(x, training=False)
            score = tf.gather(self._head_logits(features), classes, batch_dims=1)
        return tape.gradient(score, x)

    def _layer_gradients_graph(self, x, classes):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)  # records the path from the layer even when no layer before it has trainable weights
            activations, features = self._extractor(x, training=False)
            score = tf.gather(self._head_logits(features), classes, batch_dims=1)
        gradients = tape.gradient(score, activations)
        return tf.cast(activations, tf.float32), tf.cast(gradients, tf.float32)


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
