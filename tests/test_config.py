import pydantic
import pytest
import yaml
from conftest import REPO

from medsaliency.config import chosen_methods, load_params, parse_params
from medsaliency.errors import ConfigError


def test_repository_params_load_into_typed_config():
    params = load_params(REPO / "params.yaml")
    brain = params.dataset("brain_tumor")
    assert brain.format == "figshare_mat"
    assert brain.classes == ["meningioma", "glioma", "pituitary"]
    assert isinstance(brain.image_size, int)
    assert params.validate_.max_class_ratio >= 1


def test_unknown_key_is_named(tiny_raw):
    tiny_raw["datasets"]["brain_tumor"]["imagesize"] = 64
    with pytest.raises(ConfigError, match=r"datasets\.brain_tumor\.imagesize: unknown key"):
        parse_params(tiny_raw)


def test_missing_key_is_named(tiny_raw):
    del tiny_raw["split"]["seed"]
    with pytest.raises(ConfigError, match=r"split\.seed: missing key"):
        parse_params(tiny_raw)


def test_wrong_type_names_key_and_expectation(tiny_raw):
    tiny_raw["datasets"]["covid_xray"]["image_size"] = "big"
    with pytest.raises(ConfigError, match=r"datasets\.covid_xray\.image_size: Input should be a valid integer.*'big'"):
        parse_params(tiny_raw)


def test_out_of_range_value_is_named(tiny_raw):
    tiny_raw["split"]["test_fraction"] = 0.9
    with pytest.raises(ConfigError, match=r"split\.test_fraction"):
        parse_params(tiny_raw)


def test_malformed_yaml_names_the_file_and_line(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("seed: 42\nsplit:\n  seed: [1, 2\n")
    with pytest.raises(ConfigError, match=r"(?s)params.yaml: not valid YAML.*line 3"):
        load_params(bad)


def test_top_level_must_be_a_mapping(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text(yaml.safe_dump([1, 2]))
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_params(bad)


def test_unknown_dataset_lists_known_ones(tiny_params):
    with pytest.raises(ConfigError, match="brain_tumor, covid_xray"):
        tiny_params.dataset("mnist")


def test_params_are_immutable(tiny_params):
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        tiny_params.split.seed = 1


def test_names_and_option_sections_derive_from_the_extension_tables(tiny_raw):
    from medsaliency.attribution.methods import METHODS, OPTIONS
    from medsaliency.data.formats import FORMATS
    from medsaliency.evaluation.entropy import ESTIMATORS

    del tiny_raw["attribution"]["methods"], tiny_raw["attribution"]["guided_ig"]
    attribution = parse_params(tiny_raw).attribution
    assert attribution.methods == list(METHODS)  # default: every method, in the table's order
    assert attribution.guided_ig.model_dump() == OPTIONS["guided_ig"]().model_dump() == {"x_steps": 200, "max_dist": 0.02, "fraction": 0.25}
    assert attribution.smoothgrad.nsamples == 3 and attribution.smoothgrad.stdev_spread == 0.15  # set one option, default the other
    # the sections are spelled out for the type checker; they must be exactly the table's
    from medsaliency.config import AttributionConfig, _AttributionSettings

    sections = {
        name: field.annotation for name, field in AttributionConfig.model_fields.items() if name not in _AttributionSettings.model_fields
    }
    assert sections == OPTIONS
    for key, table in (("attribution.methods", METHODS), ("evaluation.entropy", ESTIMATORS), ("datasets.covid_xray.format", FORMATS)):
        raw = parse_params_raw_with(tiny_raw, key, ["nope"] if key.endswith("methods") else "nope")
        with pytest.raises(ConfigError) as error:
            parse_params(raw)
        assert key in str(error.value) and all(repr(name) in str(error.value) for name in table)


def test_unknown_method_option_is_named(tiny_raw):
    tiny_raw["attribution"]["guided_ig"]["stepz"] = 3
    with pytest.raises(ConfigError, match=r"attribution.guided_ig.stepz: unknown key"):
        parse_params(tiny_raw)


def parse_params_raw_with(raw: dict, dotted: str, value) -> dict:
    import copy

    changed = copy.deepcopy(raw)
    *parents, leaf = dotted.split(".")
    node = changed
    for part in parents:
        node = node[part]
    node[leaf] = value
    return changed


def test_faithfulness_settings_are_validated_and_can_be_switched_off(tiny_raw):
    tiny_raw["evaluation"]["road"]["percentages"] = [50, 20]
    with pytest.raises(ConfigError, match=r"evaluation\.road.*strictly ascending"):
        parse_params(tiny_raw)
    tiny_raw["evaluation"].update(road=None, insertion_deletion=None, random_logit=False)
    params = parse_params(tiny_raw)
    assert params.evaluation.road is None and params.evaluation.insertion_deletion is None


def test_a_test_s_methods_are_a_list_or_all(tiny_raw):
    tiny_raw["evaluation"].update(sanity_methods="all", randomization_images_per_class=None)
    tiny_raw["data_randomization"]["methods"] = "all"
    params = parse_params(tiny_raw)
    assert chosen_methods(params.evaluation.sanity_methods, ["gradcam", "random"]) == ["gradcam", "random"]
    assert chosen_methods(["random", "smoothgrad", "gradcam"], ["gradcam", "random"]) == ["random", "gradcam"]
    tiny_raw["evaluation"]["cascading"]["methods"] = "every"
    with pytest.raises(ConfigError, match=r"evaluation\.cascading\.methods"):
        parse_params(tiny_raw)
    tiny_raw["evaluation"]["cascading"]["methods"] = "all"
    tiny_raw["evaluation"]["randomization_images_per_class"] = 0
    with pytest.raises(ConfigError, match=r"evaluation\.randomization_images_per_class"):
        parse_params(tiny_raw)
