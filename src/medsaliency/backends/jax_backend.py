"""JAX: determinism flags, devices, and the model functions as ``jax.jit`` over Keras' ``stateless_call``.

The classifier is split at the target layer into two Keras models sharing its weights: ``to_layer``
(image -> target activations ``A``) and ``from_layer`` (``A`` -> the head's input features).
Gradients are ``jax.grad`` of the explained logit (summed over the batch: each image's logit depends
on that image alone in inference mode) with respect to the image or to ``A``. The weights are
passed to the jitted functions as arguments, not baked in as constants, so compilation does not
grow with the model's size and the compiled code is the same for every model of one architecture
(which JAX's persistent compilation cache, ``JAX_COMPILATION_CACHE_DIR``, can then reuse). Each
function is compiled once per batch size.
"""

from __future__ import annotations

import os
from importlib import metadata

import numpy as np

from medsaliency.backends import ModelFunctions, head_logits

DETERMINISTIC_XLA_FLAG = "--xla_gpu_deterministic_ops=true"
# model.compile(jit_compile=...): without jit, JAX runs a train step op by op, several times slower
# per epoch and with a far longer first epoch.
JIT_COMPILE = True


def enable_determinism() -> None:
    """XLA on the CPU is deterministic; on a GPU ask for deterministic ops (read when JAX first starts
    a backend: call before the first computation)."""
    flags = os.environ.get("XLA_FLAGS", "")
    if DETERMINISTIC_XLA_FLAG not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {DETERMINISTIC_XLA_FLAG}".strip()


def use_one_thread() -> bool:
    """Whether XLA runs on one thread: its flags are read once, when JAX starts (``SINGLE_THREAD_ENVIRONMENT``)."""
    from medsaliency.backends import SINGLE_THREAD_ENVIRONMENT

    return SINGLE_THREAD_ENVIRONMENT["XLA_FLAGS"] in os.environ.get("XLA_FLAGS", "")


def devices() -> list[str]:
    """The accelerators JAX sees (empty: it runs on the CPU)."""
    import jax

    return [str(device) for device in jax.devices() if device.platform != "cpu"]


def framework_requirements() -> list[str]:
    """``jax`` and ``jaxlib`` at their installed versions."""
    return [f"{name}=={metadata.version(name)}" for name in ("jax", "jaxlib")]


def compile_model_functions(model, target_layer: str, head) -> ModelFunctions:
    """:class:`ModelFunctions` of ``model``, split at ``target_layer``; ``head`` is its softmax ``Dense``."""
    import jax
    import jax.numpy as jnp
    import keras

    layer_output = model.get_layer(target_layer).output
    to_layer = keras.Model(model.inputs, layer_output, name=f"{model.name}_to_{target_layer}")
    from_layer = keras.Model(layer_output, head.input, name=f"{model.name}_from_{target_layer}")
    weights = (_state(to_layer), _state(from_layer), (head.kernel.value, head.bias.value))

    def activations_of(weights, x):
        activations, _ = to_layer.stateless_call(*weights[0], x, training=False)
        return activations

    def logits_from(weights, activations):
        features, _ = from_layer.stateless_call(*weights[1], activations, training=False)
        return head_logits(features, *weights[2])

    def explained_score(activations, weights, chosen):
        return jnp.take_along_axis(logits_from(weights, activations), chosen[:, None], axis=1).sum()

    logits = jax.jit(lambda weights, x: logits_from(weights, activations_of(weights, x)))
    input_gradients = jax.jit(jax.grad(lambda x, weights, chosen: explained_score(activations_of(weights, x), weights, chosen)))

    @jax.jit
    def layer_gradients(weights, x, chosen):
        activations = activations_of(weights, x)
        gradients = jax.grad(explained_score)(activations, weights, chosen)
        return activations.astype(jnp.float32), gradients.astype(jnp.float32)

    def gradients_of_layer(x, chosen):
        activations, gradients = layer_gradients(weights, x, chosen)
        return np.asarray(activations), np.asarray(gradients)

    return ModelFunctions(
        logits=lambda x: np.asarray(logits(weights, x), np.float32),
        input_gradients=lambda x, chosen: np.asarray(input_gradients(x, weights, chosen), np.float32),
        layer_gradients=gradients_of_layer,
    )


def _state(model) -> tuple[list, list]:
    """``(trainable, non_trainable)`` variable values of ``model``, in the order ``stateless_call`` takes them."""
    return [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables]
