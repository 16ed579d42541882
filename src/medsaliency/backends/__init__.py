"""The Keras backend seam: the few things Keras 3 does not abstract, one module per backend.

Keras runs one model definition on TensorFlow or JAX, chosen by ``KERAS_BACKEND`` before
``keras`` is first imported (default ``tensorflow``). The rest of medsaliency is backend-free
(NumPy in, NumPy out, ``keras.ops`` inside models). What is not lives here, with the same
functions in :mod:`.tensorflow_backend` and :mod:`.jax_backend`:

- ``JIT_COMPILE``: what ``model.compile(jit_compile=...)`` gets for training.
- ``enable_determinism()``: the same inputs give the same numbers, run to run.
- ``use_one_thread()``: one thread per model call (False when the framework already runs with more).
- ``devices()``: the accelerators the backend sees, as names (empty: the CPU).
- ``framework_requirements()``: the distributions a served model needs besides ``keras``.
- ``compile_model_functions(model, target_layer, head)``: the :class:`ModelFunctions` that
  attribution asks of a classifier (logits, input gradients, target-layer gradients).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from medsaliency.errors import ConfigError

SUPPORTED = ("tensorflow", "jax")

# One thread per process for every framework, read when each is first imported. A model call's
# result depends on how many threads split its sums (measured: TensorFlow on 1 and 2 threads
# differs in the last bits), so processes that must agree bit for bit, wherever they run, all
# use one; parallelism comes from processes (medsaliency.compute).
SINGLE_THREAD_ENVIRONMENT = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class ModelFunctions:
    """Compiled functions of one classifier, NumPy in and out, any batch size ``B``.

    - ``logits(x)``: ``[B, H, W, C]`` float32 -> pre-softmax scores ``[B, K]`` float32.
    - ``input_gradients(x, classes)``: d logit[classes[b]] / d x[b], ``[B, H, W, C]`` float32.
    - ``layer_gradients(x, classes)``: the target layer's activations ``A`` and d logit / d ``A``,
      both ``[B, h, w, k]`` float32.
    """

    logits: Callable[[np.ndarray], np.ndarray]
    input_gradients: Callable[[np.ndarray, np.ndarray], np.ndarray]
    layer_gradients: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def name() -> str:
    """The running Keras backend: ``tensorflow`` or ``jax`` (anything else is refused)."""
    import keras

    backend = keras.backend.backend()
    if backend not in SUPPORTED:
        raise ConfigError(f"KERAS_BACKEND={backend!r} is not supported: use one of {', '.join(SUPPORTED)}")
    return backend


def select(wanted: str, source: str) -> None:
    """Make ``wanted`` (the params' ``keras_backend``, read from ``source``) this process's Keras backend.

    Call before Keras is imported. DVC records params, not the environment, so a different
    ``KERAS_BACKEND`` in the environment is refused rather than followed or ignored.
    """
    from_environment = os.environ.get("KERAS_BACKEND")
    if from_environment and from_environment != wanted:
        raise ConfigError(
            f"KERAS_BACKEND={from_environment} in the environment, but {source} has keras_backend: {wanted}. "
            f"DVC records the params, so change it there (`medsaliency set-backend {from_environment}`, "
            f"or `dvc exp run -S keras_backend={from_environment}`), or unset KERAS_BACKEND"
        )
    if "keras" in sys.modules:
        if name() != wanted:
            raise ConfigError(f"{source} has keras_backend: {wanted}, but Keras was already imported on {name()}")
        return
    os.environ["KERAS_BACKEND"] = wanted


def current() -> ModuleType:
    """The module of the running backend (see the module docstring for its functions). Both are named
    here, not looked up by string, so that the dvc.yaml dependency check sees them."""
    from medsaliency.backends import jax_backend, tensorflow_backend

    return {"tensorflow": tensorflow_backend, "jax": jax_backend}[name()]


def head_logits(features, kernel, bias):
    """Pre-softmax scores ``[B, K]`` float32 from the head's input ``features`` ``[B, F]`` and its weights
    (``keras.ops``: any backend; float32 whatever the mixed-precision policy computed the features in)."""
    from keras import ops

    return ops.matmul(ops.cast(features, "float32"), ops.cast(kernel, "float32")) + ops.cast(bias, "float32")
