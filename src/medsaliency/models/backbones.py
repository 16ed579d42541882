"""One registry of classifier backbones, built by name, single-channel input, softmax head.

The paper's nine come from ``keras.applications`` with ``weights=None`` (nothing is
downloaded; an optional local weights file is loaded instead), plus a small CNN for fast
runs. Each entry records the smallest input the architecture accepts and the name of its
last convolutional activation (the Grad-CAM target layer). Inputs smaller than the minimum
are upsampled inside the model by a ``Resizing`` layer, so every backbone takes the
prepared ``[S, S, 1]`` arrays as they are.

The backbone is built on the model's own input tensor, so its layers are part of one flat
functional graph: ``model.get_layer(spec.target_layer)`` works for every backbone.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medsaliency.errors import ConfigError


@dataclass(frozen=True)
class BackboneSpec:
    """How to build one architecture: keras.applications attribute (or None), minimum side, Grad-CAM layer."""

    application: str | None
    min_size: int
    target_layer: str


BACKBONES: dict[str, BackboneSpec] = {
    "small_cnn": BackboneSpec(None, 16, "last_conv"),
    "vgg16": BackboneSpec("VGG16", 32, "block5_conv3"),
    "vgg19": BackboneSpec("VGG19", 32, "block5_conv4"),
    "resnet50": BackboneSpec("ResNet50", 32, "conv5_block3_out"),
    "resnet50v2": BackboneSpec("ResNet50V2", 32, "post_relu"),
    "densenet121": BackboneSpec("DenseNet121", 32, "relu"),
    "xception": BackboneSpec("Xception", 71, "block14_sepconv2_act"),
    "inceptionv3": BackboneSpec("InceptionV3", 75, "mixed10"),
    "inceptionresnetv2": BackboneSpec("InceptionResNetV2", 75, "conv_7b_ac"),
    "efficientnetb0": BackboneSpec("EfficientNetB0", 32, "top_activation"),
}


def backbone_spec(name: str) -> BackboneSpec:
    """The registry entry; an unknown name fails with the list of valid names."""
    try:
        return BACKBONES[name]
    except KeyError:
        raise ConfigError(f"unknown backbone {name!r}; valid names: {', '.join(sorted(BACKBONES))}") from None


def architecture_source(name: str) -> str:
    """What defines backbone ``name``'s architecture here: its registry entry and the source of the
    functions that build it (``keras.applications`` models are pinned by the locked Keras version).
    The tuning fingerprint hashes it, so a new or edited backbone restarts only its own studies."""
    spec = backbone_spec(name)
    builders: list[Callable[..., Any]] = [build_classifier, _backbone_features]
    if spec.application is None:
        builders.append(_small_cnn_features)
    return repr(spec) + "".join(code_structure(inspect.getsource(function)) for function in builders)


def build_classifier(
    name: str,
    input_size: int,
    n_classes: int,
    dropout: float,
    channels: int = 1,
    weights_path: str | None = None,
    working_size: int | None = None,
):
    """A compiled-ready ``keras.Model``: ``[B, S, S, channels]`` float32 in [0, 1] -> ``[B, n_classes]`` softmax.

    ``working_size``: the side the backbone runs at (default ``input_size``; smaller is cheaper
    on a CPU), raised to the backbone's minimum; a ``Resizing`` layer named ``input_resize``
    bridges the two. ``weights_path``: an optional local ``.weights.h5`` (no downloads).
    """
    import keras

    spec = backbone_spec(name)
    inputs = keras.Input((input_size, input_size, channels), name="image")
    x = inputs
    side = max(working_size or input_size, spec.min_size)
    if side != input_size:
        x = keras.layers.Resizing(side, side, name="input_resize")(x)
    features = _backbone_features(spec, x)
    x = keras.layers.Dropout(dropout, name="head_dropout")(features)
    outputs = keras.layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name=name)
    if weights_path is not None:
        if not Path(weights_path).is_file():
            raise ConfigError(f"tune.backbones.{name}.weights_path: {weights_path} is not a file")
        model.load_weights(weights_path)
    return model


def _backbone_features(spec: BackboneSpec, x):
    """Global-average-pooled features ``[B, F]`` of the backbone applied to tensor ``x``."""
    import keras

    if spec.application is None:
        return _small_cnn_features(x)
    application: Callable = getattr(keras.applications, spec.application)
    base = application(include_top=False, weights=None, input_tensor=x, pooling="avg")
    return base.output


def _small_cnn_features(x):
    """Three conv blocks (16-32-64 filters, each conv-BN-ReLU-max-pool), a 64-filter conv-BN-ReLU
    block (``conv4``) and a last 64-filter conv (``last_conv``, the Grad-CAM layer), then global
    average pooling.

    The two convolutions after the last pooling widen the receptive field to 54 px, so on the
    64-px default images, with zero padding, the features know *where* they are: the phantom
    classes (and the real tumour types) differ as much by the lesion's position as by its look.
    The Grad-CAM layer keeps 1/8 of the input side (8x8 at 64 px: a 4x4 layer was too coarse to
    point at a 4-px pituitary lesion), and global average pooling keeps Grad-CAM exact (it is
    then CAM). Narrow on purpose: ~15 M multiply-adds per 64-px image, so the twelve attribution
    methods stay affordable on a CPU.
    """
    import keras

    for index, filters in enumerate((16, 32, 64, 64)):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{index + 1}")(x)
        x = keras.layers.BatchNormalization(name=f"bn{index + 1}")(x)
        x = keras.layers.Activation("relu", name=f"relu{index + 1}")(x)
        if index < 3:
            x = keras.layers.MaxPooling2D(2, name=f"pool{index + 1}")(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="last_conv")(x)
    return keras.layers.GlobalAveragePooling2D(name="features")(x)


def code_structure(source: str) -> str:
    """``source``'s syntax tree without comments or docstrings (``ast.dump``): what the code does, so
    that rewording a comment, or moving a file, starts no new study."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            if isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return ast.dump(tree)
