"""The measures table: what each consumer derives from one line, and a measure of the maps added by a line."""

from types import SimpleNamespace

import numpy as np

from medsaliency.evaluation import measures
from medsaliency.evaluation.measures import MEASURES, MapInputs, Measure


def test_directions_labels_and_tests_come_from_the_table():
    from medsaliency.evaluation.agreement import ORIENTATION
    from medsaliency.mlops.tracking_layout import METHOD_KEYS, UNLOGGED
    from medsaliency.reporting.tables import FAITHFULNESS

    assert (
        MEASURES["deletion_auc"].title == "deletion AUC (lower better)" and FAITHFULNESS["deletion_auc"] == MEASURES["deletion_auc"].title
    )
    assert ORIENTATION["deletion_auc"] == -1 and ORIENTATION["road_gap"] == 1 and "road_morf" not in ORIENTATION
    assert MEASURES["road_gap"].tested_against_random and not MEASURES["sanity_ssim"].tested_against_random  # a re-explaining check
    assert not MEASURES["sparseness"].tested_against_random and "sparseness_ci_low" in UNLOGGED  # no better direction
    assert METHOD_KEYS["road_gap_p_vs_random"] == "road/gap_p_vs_random" and "sanity_ssim_p_vs_random" not in METHOD_KEYS
    assert not MEASURES["top_iou"].needs_model and MEASURES["sic_auc"].needs_model


def test_a_measure_of_the_maps_is_scored_from_its_table_line_where_it_applies(monkeypatch):
    from medsaliency.evaluation.model_evaluation import saliency_scores

    def brightest_pixel(maps, inputs):  # a scratch measure: the largest value of each map
        return maps.reshape(len(maps), -1).max(axis=1)

    scratch = Measure("brightest", "brightest pixel", "higher", "scratch/brightest", "map_shape", score=brightest_pixel)
    monkeypatch.setitem(MEASURES, "brightest", scratch)
    maps = np.random.default_rng(0).random((2, 3, 8, 8)).astype(np.float32)  # [methods, images, H, W]
    masks = np.zeros((3, 8, 8), bool)
    masks[:, 2:5, 2:5] = True
    source = SimpleNamespace(maps=maps, method_names=["a", "b"], masks=masks, markers=masks)
    config = SimpleNamespace(top_fraction=0.1, complexity=False)
    lesion, lung = saliency_scores(source, "lesion", config), saliency_scores(source, "lung", config)
    np.testing.assert_array_equal(lesion["brightest"]["b"], maps[1].reshape(3, -1).max(axis=1))
    assert list(lesion)[:4] == ["pointing_game", "mass_in_mask", "top_iou", "marker_mass"] and list(lesion)[-1] == "brightest"
    assert "top_iou" not in lung and "sparseness" not in lung and "brightest" in lung  # no lesion masks; complexity off
    assert isinstance(MapInputs(None, masks, 0.1, True), MapInputs) and measures.LOCALISATION == (
        "pointing_game",
        "mass_in_mask",
        "top_iou",
    )
