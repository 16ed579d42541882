"""The summary report: tables, significance marks, exclusions, HTML with embedded figures."""

import base64

import numpy as np

from medsaliency.evaluation.replicates import measure_statistics
from medsaliency.reporting.tables import (
    DatasetResults,
    Replicates,
    dataset_section,
    reactivity_section,
    seed_floor_section,
    significance,
    to_html,
    training_sentence,
)

LABELS = {"gradcam": "Grad-CAM", "random": "Random"}


def metrics(auc: float, p: float, with_lesions: bool) -> dict:
    result = {
        "n_images": 6.0,
        "sic_auc": {"gradcam": auc, "random": 0.4},
        "sic_auc_ci_low": {"gradcam": auc - 0.1, "random": 0.3},
        "sic_auc_ci_high": {"gradcam": auc + 0.1, "random": 0.5},
        "sic_auc_mean": {"gradcam": auc - 0.05, "random": 0.41},
        "sic_p_vs_random": {"gradcam": p},
        "aic_auc": {"gradcam": None, "random": 0.2},
        "n_randomization_images": 3.0,
        "sanity_ssim": {"gradcam": 0.2, "random": 1.0},
        "sanity_ssim_ci_low": {"gradcam": 0.1},
        "sanity_ssim_ci_high": {"gradcam": 0.3},
        "excluded": {
            "aic": {"prediction_not_lower": 6.0, "low_prediction": 0.0},
            "sic": {"prediction_not_lower": 1.0, "low_prediction": 0.0},
        },
    }
    if with_lesions:
        result.update(
            pointing_game={"gradcam": 0.5, "random": 0.0},
            mass_in_mask={"gradcam": 0.3, "random": 0.1},
            top_iou={"gradcam": 0.2, "random": 0.05},
        )
        result.update(
            mass_in_mask_ci_low={"gradcam": 0.25, "random": 0.05},
            mass_in_mask_ci_high={"gradcam": 0.35, "random": 0.15},
            mass_in_mask_p_vs_random={"gradcam": 0.03},
        )
    result.update(
        marker_mass={"gradcam": 0.02, "random": 0.04},
        marker_mass_ci_low={"gradcam": 0.01, "random": 0.03},
        marker_mass_ci_high={"gradcam": 0.03, "random": 0.05},
        marker_mass_p_vs_random={"gradcam": 0.001},
        marker_in_top={"gradcam": 0.3, "random": 0.1},
        marker_in_top_ci_low={"gradcam": 0.2, "random": 0.08},
        marker_in_top_ci_high={"gradcam": 0.4, "random": 0.12},
        marker_in_top_p_vs_random={"gradcam": 0.001},
        shortcut={"planted": 1.0, "accuracy_with_marker": 0.95, "accuracy_without_marker": 0.4},
    )
    return result


def results(tmp_path, with_lesions=True) -> DatasetResults:
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "m.sic.png").write_bytes(b"\x89PNG fake")
    classification = [
        {
            "name": "ds.small_cnn",
            "version": "2",
            "accuracy": 0.8,
            "macro_f1": 0.75,
            "min_recall": 0.6,
            "val_macro_f1": 0.7,
            "explained": True,
        }
    ]
    return DatasetResults(
        "ds", classification, {"ds.small_cnn": metrics(0.612, 0.004, with_lesions)}, {"ds.small_cnn": ["figures/m.sic.png"]}
    )


def table_under(text: str, heading: str) -> list[str]:
    """The table rows of the section whose ``###`` heading starts with ``heading``."""
    (section,) = [part for part in text.split("\n### ") if part.startswith(heading)]
    return [line for line in section.splitlines() if line.startswith("| ")]


def test_section_tables_carry_intervals_significance_and_exclusions(tmp_path):
    text = dataset_section(results(tmp_path), ["gradcam", "random"], LABELS)
    assert "| ds.small_cnn | v2 | 0.800 | 0.750 | 0.600 | 0.700 | yes |" in table_under(text, "Classification")
    sic = table_under(text, "SIC AUC")
    assert sic[0] == "| method | ds.small_cnn | ds.small_cnn: mean curve |"
    assert sic[1:] == ["| Grad-CAM | 0.612 [0.512, 0.712]** | 0.562 |", "| Random | 0.400 [0.300, 0.500] | 0.410 |"]
    assert table_under(text, "AIC AUC")[1] == "| Grad-CAM | n/a | n/a |"  # every image excluded from AIC
    assert table_under(text, "Localisation: pointing game")[1:] == ["| Grad-CAM | 0.500 |", "| Random | 0.000 |"]
    assert table_under(text, "Localisation: mass in mask")[1] == "| Grad-CAM | 0.300 [0.250, 0.350]* |"  # interval, test vs Random
    assert table_under(text, "Localisation: top iou")[1:] == ["| Grad-CAM | 0.200 |", "| Random | 0.050 |"]  # no interval
    assert table_under(text, "Sanity")[1:] == ["| Grad-CAM | 0.200 [0.100, 0.300] |", "| Random | 1.000 |"]
    assert "test images that every re-attribution test shares (ds.small_cnn: 3 of 6)" in text
    assert table_under(text, "Images excluded")[1] == "| ds.small_cnn | 6 | 0 | 6 | 0 | 1 |"
    assert "![m.sic](figures/m.sic.png)" in text


def test_no_localisation_tables_without_lesion_masks(tmp_path):
    assert "pointing game" not in dataset_section(results(tmp_path, with_lesions=False), ["gradcam", "random"], LABELS)


def test_significance_marks():
    assert [significance(p) for p in (0.001, 0.02, 0.2, None)] == ["**", "*", "", ""]


def test_html_is_self_contained(tmp_path):
    section = dataset_section(results(tmp_path), ["gradcam", "random"], LABELS)
    html = to_html(section, tmp_path, "title")
    assert "<table>" in html and "figures/m.sic.png" not in html
    assert "data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode() in html


def test_shortcut_table_ranks_methods_by_their_saliency_on_the_marker(tmp_path):
    text = dataset_section(results(tmp_path), ["gradcam", "random"], LABELS)
    section = text.split("### Saliency on the marker region, ds.small_cnn: planted shortcut")[1]
    assert "with the marker 0.950, without it 0.400" in section
    assert section.index("| 1 | Random | 0.040 [0.030, 0.050] | 1.000 | 0.100 [0.080, 0.120] | 1.000 |") < section.index(
        "| 2 | Grad-CAM | 0.020 [0.010, 0.030]** | 0.500 | 0.300 [0.200, 0.400]** | 3.000 |"
    )


def test_shortcut_comparison_ranks_methods_by_their_share_on_the_marker_against_random():
    from medsaliency.reporting.shortcut_comparison import ExplanationRun, comparison_markdown

    def run(model, shares, accuracy):
        metrics = {"classification/accuracy_with_marker": 1.0, "classification/accuracy_without_marker": accuracy}
        scores = {m: {"shortcut/marker_mass": mass, "shortcut/marker_in_top": top} for m, (mass, top) in shares.items()}
        return ExplanationRun(model, "1", "abc", "d1", metrics, scores)

    clean = run("ds.small_cnn", {"gradcam": (0.001, 0.05), "random": (0.006, 0.1)}, 0.9)
    planted = run("ds.small_cnn.shortcut", {"gradcam": (0.03, 0.8), "random": (0.006, 0.1)}, 0.4)
    text = comparison_markdown("ds", {"clean": clean, "shortcut": planted}, LABELS)
    assert "1.000 as explained, 0.400 without the marker" in text
    assert text.index("| 1 | Grad-CAM | 0.001 | 0.030 | 0.029 | 5.000 | 0.050 -> 0.800 | 8.000 |") < text.index(
        "| 2 | Random | 0.006 | 0.006 | 0.000 | 1.000 | 0.100 -> 0.100 | 1.000 |"
    )
    only_clean = comparison_markdown("ds", {"clean": clean}, LABELS)
    assert "- shortcut: no evaluated explanation run in MLflow yet" in only_clean and "| rank |" not in only_clean


def test_faithfulness_map_shape_and_agreement_tables(tmp_path):
    methods = ["gradcam", "vanilla_gradient", "random"]
    scores = {
        "sic_auc": {"gradcam": 0.7, "vanilla_gradient": 0.5, "random": 0.3},
        "insertion_auc": {"gradcam": 0.6, "vanilla_gradient": 0.5, "random": 0.4},
        "insertion_auc_ci_low": {"gradcam": 0.55, "vanilla_gradient": 0.45, "random": 0.35},
        "insertion_auc_ci_high": {"gradcam": 0.65, "vanilla_gradient": 0.55, "random": 0.45},
        "insertion_auc_p_vs_random": {"gradcam": 0.001, "vanilla_gradient": 0.2},
        "deletion_auc": {"gradcam": 0.1, "vanilla_gradient": 0.3, "random": 0.2},
        "road_gap": {"gradcam": 0.2, "vanilla_gradient": 0.1, "random": 0.0},
        "sparseness": {"gradcam": 0.8, "vanilla_gradient": 0.5, "random": 0.33},
        "random_logit_ssim": {"gradcam": 0.9, "random": 1.0},
        "cascading_ssim": {
            "01_probabilities": {"gradcam": 0.8, "random": 1.0},
            "01_probabilities_ci_low": {"gradcam": 0.7, "random": 1.0},
            "02_conv1": {"gradcam": 0.1, "random": 1.0},
        },
    }
    data = DatasetResults("ds", [], {"ds.small_cnn": scores}, {})
    text = dataset_section(data, methods, {**LABELS, "vanilla_gradient": "Vanilla Gradient"})
    faithfulness = table_under(text, "Faithfulness beside PIC, ds.small_cnn")
    road = "ROAD LeRF - MoRF (SRG) (higher better)"
    assert faithfulness[0] == f"| method | insertion AUC (higher better) | deletion AUC (lower better) | {road} |"
    assert faithfulness[1] == "| Grad-CAM | 0.600 [0.550, 0.650]** | 0.100 | 0.200 |"
    assert table_under(text, "Map shape")[0] == "| method | sparseness (Gini) |"
    assert table_under(text, "Sanity: RandomLogit")[1:] == ["| Grad-CAM | 0.900 |", "| Random | 1.000 |"]
    assert table_under(text, "Sanity: cascading")[:3] == [
        "| method | probabilities | conv1 |",
        "| Grad-CAM | 0.800 | 0.100 |",
        "| Random | 1.000 | 1.000 |",
    ]
    assert "No tau between rankings of 2 methods" in text  # Random left out: two methods rank, nothing to test


def test_the_agreement_leaves_random_out_and_marks_only_taus_beyond_chance():
    methods = ["a", "b", "c", "d", "e", "f", "random"]
    order = {"a": 6, "b": 5, "c": 4, "d": 3, "e": 2, "f": 1, "random": 9}  # Random first everywhere: left out
    scores = {
        "sic_auc": dict(order),
        "insertion_auc": dict(order),  # the same order: tau 1
        "deletion_auc": {"a": 3, "b": 1, "c": 5, "d": 2, "e": 6, "f": 4, "random": 0},  # lower better: weakly related
    }
    text = dataset_section(DatasetResults("ds", [], {"ds.net": scores}, {}), methods, {})
    assert "over the 6 methods other than Random" in text and "|tau| >= 0.867" in text
    agreement = table_under(text, "Agreement")
    assert agreement[0] == "|  | sic_auc | insertion_auc | deletion_auc |"
    assert agreement[1] == "| sic_auc | 1.000 | **1.000** | 0.333 |"  # 5 of 15 pairs discordant: within chance


def test_each_dataset_opens_with_what_holds_across_its_replicates():
    rng = np.random.default_rng(0)
    methods = ["gradcam", "smoothgrad", "xrai_full", "random"]
    cube = np.array([0.8, 0.5, 0.5, 0.1])[None, :, None] + rng.normal(0, 0.05, (4, 4, 12))
    stats = measure_statistics(cube, methods, np.repeat(np.arange(4), 3), 1, 300, 0.95, np.random.default_rng(1))
    test = {"1000": {"macro_f1": 0.95, "lowest_class_recall": 0.9}, "1001": {"macro_f1": 0.97, "lowest_class_recall": 0.85}}
    rejected = {"1002": {"val_macro_f1": 0.167}}
    replicates = Replicates({"road_gap": stats, "sic_auc": stats}, test, ["figures/m.ranks.png", "figures/m.cd.png"], {}, rejected)
    labels = {**LABELS, "smoothgrad": "SmoothGrad", "xrai_full": "XRAI"}
    reactivity = {"reactivity": {"sic_auc": {"gradcam": 0.9, "smoothgrad": 0.2, "xrai_full": None}}}
    text = dataset_section(DatasetResults("ds", [], {"ds.net": reactivity}, {}, replicates={"ds.net": replicates}), methods, labels)
    assert text.index("### What holds across 4 models of ds.net's configuration") < text.index("### Classification")
    assert "test macro-F1: 0.950-0.970; lowest class recall at least 0.850" in text
    assert "training gate (validation macro-F1 too low: did not learn), replaced by the next seed: 1002 (0.167)." in text
    row = table_under(text, "What holds")[2]
    assert row.startswith("| SIC AUC (higher better) | Grad-CAM > ")  # the clear leader's order holds
    assert "SmoothGrad ≈ XRAI" in row or "XRAI ≈ SmoothGrad" in row  # equal methods: no order claimed
    assert row.endswith("| 0.550 | none |")  # the median reactivity of the methods that have one; every method above Random
    assert table_under(text, "What holds")[1].endswith("| n/a | none |")  # no reactivity measured for ROAD's gap
    assert "![m.ranks](figures/m.ranks.png)" in text and "![m.cd](figures/m.cd.png)" in text
    assert text.index("![m.cd](figures/m.cd.png)") < text.index("| measure | methods by mean rank"), "figures before the tables"
    assert "### Sanity: the seed floor" not in text  # no floor measured
    srg = "#### P(row beats column), ROAD LeRF - MoRF (SRG) (higher better)"
    assert srg in text and text.index("#### P(row beats column), SIC AUC") < text.index(srg)  # every measure, headline ones first
    beats = text.split("#### P(row beats column), SIC AUC (higher better)")[1].split("\n\n")[1].splitlines()
    assert beats[0] == "|  | Grad-CAM | SmoothGrad | XRAI | Random |" or beats[0] == "|  | Grad-CAM | XRAI | SmoothGrad | Random |"
    assert beats[2].startswith("| Grad-CAM |  | **1.00 [") and beats[2].count("**") == 6  # the leader beats all three


def test_the_weight_randomisation_ssim_stands_beside_the_seed_floor():
    floor = {"ssim": {"gradcam": 0.62, "random": 1.0}, "spearman": {"gradcam": 0.7, "random": 1.0}}
    replicates = Replicates({}, {}, [], floor)
    text = seed_floor_section("ds.net", replicates, {"sanity_ssim": {"gradcam": 0.31}}, ["gradcam", "smoothgrad", "random"], LABELS)
    table = table_under("\n" + "\n".join(text), "Sanity: the seed floor")
    assert table[0] == "| method | SSIM, weight-randomised model | SSIM, another seed | Spearman, another seed |"
    assert table[1:] == ["| Grad-CAM | 0.310 | 0.620 | 0.700 |", "| Random | n/a | 1.000 | 1.000 |"]


def test_the_replicate_figures_are_drawn_for_every_measure(tmp_path):
    """Mean-rank heatmap, forest plots and critical-difference diagrams, one file each, paths relative to the report."""
    from PIL import Image

    from medsaliency.reporting.replicate_figures import replicate_figures

    rng = np.random.default_rng(0)
    methods = ["gradcam", "smoothgrad", "xrai_full", "random"]
    statistics = {}
    for measure in ("sic_auc", "aic_auc", "insertion_auc", "deletion_auc"):
        cube = np.array([0.8, 0.5, 0.4, 0.1])[None, :, None] + rng.normal(0, 0.05, (3, 4, 12))
        statistics[measure] = measure_statistics(cube, methods, np.repeat(np.arange(4), 3), 1, 200, 0.95, np.random.default_rng(1))
    paths = replicate_figures("ds.net", statistics, tmp_path)
    assert paths == [f"figures/ds.net.replicates.{kind}.png" for kind in ("ranks", "forest", "cd")]
    forest = Image.open(tmp_path / paths[1])
    assert forest.width > 900 and forest.height > 300  # 3 panels across, 2 rows for 4 measures
    assert np.asarray(forest.convert("L")).std() > 10  # something is drawn


def test_the_report_says_what_the_models_were_trained_on():
    assert "trained on the real images only" in training_sentence(0, "shuffle")
    assert "1 featureless copy (shuffled pixels)" in training_sentence(1, "shuffle")
    assert "trained on the evaluation's perturbation" in training_sentence(2, "blur")


def test_the_reactivity_table_shows_each_measure_with_a_reactivity_per_method_and_its_median():
    metrics = {
        "n_randomization_images": 9.0,
        "reactivity": {
            "sic_auc": {"gradcam": 0.8, "smoothgrad": 0.4, "xrai_full": None},
            "deletion_auc": {"gradcam": -0.2, "smoothgrad": None, "xrai_full": 0.6},
            "marker_mass": {"gradcam": None, "smoothgrad": None, "xrai_full": None},  # no method beats Random: no column
        },
    }
    labels = {**LABELS, "smoothgrad": "SmoothGrad", "xrai_full": "XRAI"}
    text = "\n" + "\n".join(reactivity_section("ds.net", metrics, ["gradcam", "smoothgrad", "xrai_full", "random"], labels))
    assert "On the 9 sampled test images" in text
    assert table_under(text, "Sanity: reactivity") == [
        "| method | SIC AUC | deletion AUC |",
        "| Grad-CAM | 0.800 | -0.200 |",
        "| SmoothGrad | 0.400 | n/a |",
        "| XRAI | n/a | 0.600 |",
        "| median | 0.600 | 0.200 |",
    ]
    assert reactivity_section("ds.net", {"reactivity": {"sic_auc": {"gradcam": None}}}, ["gradcam"], labels) == []
