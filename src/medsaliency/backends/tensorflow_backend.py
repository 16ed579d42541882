"""TensorFlow: op determinism, devices, and the model functions as ``tf.function`` + ``GradientTape``.

Each model function is a ``tf.function`` with a fixed input signature and a free batch size, so
it is traced once, whatever number of path steps or samples PAIR asks for per call.
"""

from __future__ import annotations

from importlib import metadata

from medsaliency.backends import ModelFunctions, head_logits

# model.compile(jit_compile=...): a tf.function graph without XLA, whose kernels op determinism covers.
JIT_COMPILE = False


def enable_determinism() -> None:
    """TensorFlow's deterministic kernels (slower on GPUs; same numbers run to run)."""
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()


def use_one_thread() -> bool:
    """One intra-op and one inter-op thread (see ``SINGLE_THREAD_ENVIRONMENT``); False when TensorFlow
    already started with other counts (it fixes them at its first operation)."""
    import tensorflow as tf

    threading = tf.config.threading
    if threading.get_intra_op_parallelism_threads() == threading.get_inter_op_parallelism_threads() == 1:
        return True
    try:
        threading.set_intra_op_parallelism_threads(1)
        threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        return False
    return True


def devices() -> list[str]:
    """The GPUs TensorFlow sees (empty: it runs on the CPU)."""
    import tensorflow as tf

    return [device.name for device in tf.config.list_physical_devices("GPU")]


def framework_requirements() -> list[str]:
    """``tensorflow-cpu`` or ``tensorflow``, whichever is installed, at its installed version."""
    for distribution in ("tensorflow-cpu", "tensorflow"):
        try:
            return [f"{distribution}=={metadata.version(distribution)}"]
        except metadata.PackageNotFoundError:
            continue
    raise RuntimeError("Keras runs on TensorFlow, but no tensorflow distribution is installed")


def compile_model_functions(model, target_layer: str, head) -> ModelFunctions:
    """:class:`ModelFunctions` of ``model``: one extractor to (target activations, head input), a tape for gradients."""
    import keras
    import tensorflow as tf

    extractor = keras.Model(model.inputs, [model.get_layer(target_layer).output, head.input], name=f"{model.name}_attribution")
    image = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)
    classes = tf.TensorSpec((None,), tf.int32)

    def explained_score(features, chosen):
        return tf.gather(head_logits(features, head.kernel, head.bias), chosen, batch_dims=1)

    @tf.function(input_signature=[image])
    def logits(x):
        _, features = extractor(x, training=False)
        return head_logits(features, head.kernel, head.bias)

    @tf.function(input_signature=[image, classes])
    def input_gradients(x, chosen):
        with tf.GradientTape() as tape:
            tape.watch(x)
            _, features = extractor(x, training=False)
            score = explained_score(features, chosen)
        return tape.gradient(score, x)

    @tf.function(input_signature=[image, classes])
    def layer_gradients(x, chosen):
        with tf.GradientTape() as tape:
            tape.watch(x)  # records the path from the layer even when no layer before it has trainable weights
            activations, features = extractor(x, training=False)
            score = explained_score(features, chosen)
        return tf.cast(activations, tf.float32), tf.cast(tape.gradient(score, activations), tf.float32)

    def gradients_of_layer(x, chosen):
        activations, gradients = layer_gradients(x, chosen)
        return activations.numpy(), gradients.numpy()

    return ModelFunctions(
        logits=lambda x: logits(x).numpy(),
        input_gradients=lambda x, chosen: input_gradients(x, chosen).numpy(),
        layer_gradients=gradients_of_layer,
    )
