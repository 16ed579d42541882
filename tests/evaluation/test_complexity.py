"""Sparseness and complexity of maps: known cases, and the same numbers as Quantus 0.6.0."""

import numpy as np
import pytest

from medsaliency.evaluation.complexity import complexity, sparseness


def test_uniform_and_one_pixel_maps_are_the_extremes():
    uniform, spike = np.ones((1, 8, 8)), np.zeros((1, 8, 8))
    spike[0, 3, 4] = -5.0  # the sign does not matter
    assert sparseness(uniform)[0] == pytest.approx(0.0)
    assert sparseness(spike)[0] == pytest.approx(1 - 1 / 64)  # Gini of one non-zero among n: (n - 1) / n
    assert complexity(uniform)[0] == pytest.approx(np.log(64))
    assert complexity(spike)[0] == pytest.approx(0.0)
    assert sparseness(np.zeros((1, 4, 4)))[0] == 0.0 and complexity(np.zeros((1, 4, 4)))[0] == pytest.approx(np.log(16))


def test_sparseness_and_complexity_agree_with_quantus():
    """Quantus adds 1e-7 to every value (Sparseness) and 1e-12 inside the log (Complexity) after
    scaling each map by its maximum: on maps of 32 x 32 pixels that moves the scores by < 1e-5."""
    import quantus  # a test dependency in the lock: an import failure (libGL missing) fails the test, never skips it

    rng = np.random.default_rng(5)
    maps = rng.gamma(0.3, size=(6, 32, 32)) * rng.choice([-1, 1], size=(6, 32, 32))
    x = rng.random((6, 1, 32, 32)).astype(np.float32)
    y = np.zeros(6, int)
    theirs = {
        "sparseness": quantus.Sparseness(disable_warnings=True)(model=None, x_batch=x, y_batch=y, a_batch=maps[:, None].copy()),
        "complexity": quantus.Complexity(disable_warnings=True)(model=None, x_batch=x, y_batch=y, a_batch=maps[:, None].copy()),
    }
    np.testing.assert_allclose(sparseness(maps), theirs["sparseness"], atol=1e-5)
    np.testing.assert_allclose(complexity(maps), theirs["complexity"], atol=1e-5)
