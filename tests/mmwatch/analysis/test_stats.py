"""Wilson, exact McNemar and Holm against hand-computed values."""

from __future__ import annotations

import math

import pytest

from mmwatch.analysis.stats import holm, mcnemar_exact, wilson


def test_wilson_hand_computed() -> None:
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    # 0/10: lower bound exactly 0, upper z^2/(n+z^2) = 3.8416/13.8416
    assert wilson(0, 10) == (0.0, pytest.approx(3.8416 / 13.8416))
    low, high = wilson(10, 10)
    assert high == 1.0 and low == pytest.approx(10 / 13.8416)


def test_wilson_edges() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    narrow = wilson(500, 1000)
    assert narrow[1] - narrow[0] < wilson(5, 10)[1] - wilson(5, 10)[0]
    assert wilson(5, 10, z=1.0)[0] > wilson(5, 10)[0]  # smaller z, narrower interval
    for bad in ((11, 10), (-1, 10), (0, -1)):
        with pytest.raises(ValueError):
            wilson(*bad)


def test_wilson_holds_its_rate_at_zero_and_all() -> None:
    """0 of n and n of n: the interval starts at exactly 0 and ends at exactly 1, for every n
    (rounding once left 1e-17 and 1 - 1e-16, an interval that excluded its own rate)."""
    for n in range(1, 2000):
        assert wilson(0, n)[0] == 0.0 and wilson(n, n)[1] == 1.0, n


def test_mcnemar_exact_hand_computed() -> None:
    assert mcnemar_exact(8, 1) == 0.0390625  # 2 * (1 + 9) / 2**9
    assert mcnemar_exact(1, 8) == 0.0390625
    assert mcnemar_exact(5, 2) == pytest.approx(2 * (1 + 7 + 21) / 128)
    assert mcnemar_exact(6, 0) == 2 / 64
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(3, 3) == 1.0  # capped
    big = mcnemar_exact(1000, 900)  # large n stays exact (no float overflow)
    assert 0.02 < big < 0.03 and math.isfinite(big)
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)


def test_holm_hand_computed() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.6]) == [1.0, 1.0]  # capped at 1
    assert holm([0.02]) == [0.02]
    assert holm([]) == []
    # monotone in the sorted order even when a larger raw p times fewer tests is smaller
    adjusted = holm([0.001, 0.02, 0.021, 0.9])
    assert adjusted == pytest.approx([0.004, 0.06, 0.06, 0.9])


def test_holm_rejects_non_p_values() -> None:
    for bad in ([1.2], [-0.1], [float("nan")]):
        with pytest.raises(ValueError, match="p-value 0"):
            holm(bad)


def test_equal_weight_rate_weighs_each_stratum_the_same() -> None:
    from mmwatch.analysis.stats import equal_weight_rate

    # 90 of 100 on one benchmark, 0 of 10 on another: pooled 82 %, equal weight 45 %
    mean, lo, hi = equal_weight_rate([(90, 100), (0, 10)])
    assert mean == pytest.approx(0.45) and lo < 0.45 < hi
    # by hand: Agresti-Coull variances 92/104*12/104/104 and 2/14*12/14/14, halved squared
    var = (92 / 104 * (12 / 104) / 104 + 2 / 14 * (12 / 14) / 14) / 4
    assert (lo, hi) == pytest.approx((0.45 - 1.96 * var ** 0.5, 0.45 + 1.96 * var ** 0.5))
    assert equal_weight_rate([(3, 10)]) == (0.3, *wilson(3, 10))  # one stratum: its rate and Wilson interval
    assert equal_weight_rate([(0, 0), (2, 4)]) == (0.5, *wilson(2, 4))  # a stratum without data does not count
    assert equal_weight_rate([(0, 0)]) is None
    assert equal_weight_rate([(0, 50), (0, 50)])[1] == 0.0  # clipped at 0
    with pytest.raises(ValueError):
        equal_weight_rate([(5, 3), (1, 2)])
