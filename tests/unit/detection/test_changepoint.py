from __future__ import annotations

import numpy as np

from firstline.detection.changepoint import best_split, change_points, noise_scale, onset


def test_a_step_is_found_where_it_is() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(10, 1, 80), rng.normal(16, 1, 60)])
    assert best_split(x)[0] == 80
    assert change_points(x) == [80]
    assert onset(x, before=100) == 80


def test_noise_has_no_change_points() -> None:
    rng = np.random.default_rng(1)
    for seed in range(5):
        x = np.random.default_rng(seed).normal(0, 1, 300)
        assert change_points(x) == []
    assert 1.8 < noise_scale(rng.normal(0, 2, 5000)) < 2.2


def test_two_steps_nan_and_tiny_inputs() -> None:
    x = np.array([1.0] * 30 + [5.0] * 30 + [2.0] * 30)
    x[10] = np.nan
    assert change_points(x) == [30, 60]
    assert change_points(np.array([1.0])) == []
    assert onset(np.array([1.0, 2.0]), before=1) is None
