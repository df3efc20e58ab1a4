import math

import numpy as np
import pytest

from learner.metrics import accuracy, all_metrics, auc, log_loss, rmse


def test_auc_known_values():
    assert auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert auc([0, 1], [0.2, 0.9]) == 1.0
    assert auc([1, 0], [0.2, 0.9]) == 0.0


def test_auc_ties_count_half():
    assert auc([0, 1], [0.5, 0.5]) == 0.5
    # pairs (pos, neg): (.2,.2)=.5 (.2,.1)=1 (.9,.2)=1 (.9,.1)=1 -> 3.5/4
    assert auc([0, 1, 1, 0], [0.2, 0.2, 0.9, 0.1]) == pytest.approx(0.875)


def test_auc_matches_pairwise_definition_on_random_data():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    p = np.round(rng.random(300), 1)  # many ties
    pos, neg = p[y == 1], p[y == 0]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert auc(y, p) == pytest.approx(pairs)


def test_auc_single_class_is_nan():
    assert math.isnan(auc([1, 1], [0.3, 0.4]))


def test_rmse_log_loss_accuracy():
    assert rmse([1, 0], [0.8, 0.4]) == pytest.approx(math.sqrt(0.1))
    assert log_loss([1, 0], [0.8, 0.4]) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)
    assert accuracy([1, 0, 1], [0.6, 0.5, 0.4]) == pytest.approx(1 / 3)
    assert log_loss([1], [0.0]) == pytest.approx(-math.log(1e-15))
    m = all_metrics([1, 0], [0.8, 0.4])
    assert set(m) == {"auc", "rmse", "log_loss", "accuracy"}


def test_length_mismatch_raises():
    with pytest.raises(ValueError):
        rmse([1, 0], [0.5])
