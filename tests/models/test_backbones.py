"""The backbone registry: every architecture built once, its Grad-CAM layer, input sizes, local weights."""

from pathlib import Path

import numpy as np
import pytest

from medsaliency.attribution import cam
from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.errors import ConfigError
from medsaliency.models.backbones import BACKBONES, architecture_source, backbone_spec, build_classifier

PAPER_NINE = {"vgg16", "vgg19", "resnet50", "resnet50v2", "densenet121", "xception", "inceptionv3", "inceptionresnetv2", "efficientnetb0"}


def test_registry_has_the_paper_nine_and_a_small_cnn():
    assert set(BACKBONES) == PAPER_NINE | {"small_cnn"}


def test_unknown_backbone_lists_valid_names():
    with pytest.raises(ConfigError, match=r"unknown backbone 'alexnet'; valid names: densenet121, efficientnetb0, inceptionresnetv2"):
        backbone_spec("alexnet")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_every_backbone_builds_single_channel_and_its_target_layer_gives_a_spatial_map(name, tiny_params):
    """The one sweep over all ten architectures (each built once): input, output, upsampling, Grad-CAM."""
    model = build_classifier(name, 32, 3, dropout=0.1)
    assert model.input_shape == (None, 32, 32, 1) and model.output_shape == (None, 3)
    if BACKBONES[name].min_size > 32:  # Xception 71, Inception* 75: upsampled inside the model
        assert model.get_layer("input_resize").output.shape[1] == BACKBONES[name].min_size
    explained = ExplainedModel(model, BACKBONES[name].target_layer)
    x = np.random.default_rng(0).random((1, 32, 32, 1), dtype=np.float32)
    activations, grads = explained.layer_gradients(x, np.array([1], np.int32))
    assert activations.ndim == 4 and activations.shape == grads.shape and activations.dtype == np.float32
    maps = cam.gradcam(explained, x, np.array([1], np.int32), tiny_params.attribution, np.zeros(1))
    assert maps.shape == (1, 32, 32) and np.isfinite(maps).all()


def test_working_size_resizes_inside_the_model():
    model = build_classifier("vgg16", 64, 3, 0.0, working_size=32)
    assert model.input_shape == (None, 64, 64, 1) and model.get_layer("input_resize").output.shape[1] == 32
    assert model.get_layer("block5_conv3").output.shape[1] == 2


def test_missing_local_weights_file_names_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"tune.backbones.small_cnn.weights_path: .*nope.weights.h5 is not a file"):
        build_classifier("small_cnn", 32, 3, 0.0, weights_path=str(tmp_path / "nope.weights.h5"))


def test_local_weights_file_is_loaded(tmp_path):
    source = build_classifier("small_cnn", 32, 3, 0.0)
    path = tmp_path / "w.weights.h5"
    source.save_weights(path)
    loaded = build_classifier("small_cnn", 32, 3, 0.0, weights_path=str(path))
    x = np.random.default_rng(0).random((2, 32, 32, 1), dtype=np.float32)
    np.testing.assert_array_equal(source.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_architecture_source_is_the_backbones_own():
    small, vgg16 = architecture_source("small_cnn"), architecture_source("vgg16")
    assert "name='_small_cnn_features'" in small and "'VGG16'" in vgg16 and "name='_small_cnn_features'" not in vgg16
    assert architecture_source("vgg19") != vgg16


def test_code_structure_ignores_comments_and_docstrings_but_not_code():
    from medsaliency.models.backbones import code_structure

    plain = "def f(x):\n    return x + 1\n"
    commented = 'def f(x):\n    """Add one."""\n    # why: the next one\n    return x + 1  # inline\n'
    assert code_structure(plain) == code_structure(commented)
    assert code_structure(plain) != code_structure(plain.replace("+ 1", "+ 2"))


def test_the_training_code_fingerprint_reads_every_training_module():
    from medsaliency.mlops.tuning import TRAINING_CODE, code_fingerprint

    package = Path(__file__).resolve().parents[2] / "src" / "medsaliency"
    assert all((package / relative).is_file() for relative in TRAINING_CODE)
    assert code_fingerprint("small_cnn") == code_fingerprint("small_cnn") != code_fingerprint("resnet50")
