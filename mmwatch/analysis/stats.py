"""Small exact statistics for rates and paired regressions, in pure Python.

Rates are shown with Wilson intervals (sane at 0/n and n/n, unlike the normal approximation).
A regression compares the same samples under two revisions, so only discordant pairs carry
information: McNemar's exact test is a binomial test on them. Many cells are tested each night,
so p-values are Holm-adjusted to keep the family-wise false alarm rate at alpha.
"""

from __future__ import annotations

import math
from fractions import Fraction


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for successes/n; (0.0, 1.0) when there is no data."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"wilson needs 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the ends: rounding left 1e-17 / 1 - 1e-16
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return (lo, hi)


def mcnemar_exact(only_new: int, only_old: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pair counts; 1.0 when there are none.

    `only_new`: pairs where only the new revision has the event (e.g. the attack now succeeds);
    `only_old`: pairs where only the old one had it. Under no change each is Binomial(n, 1/2).
    """
    if only_new < 0 or only_old < 0:
        raise ValueError(f"discordant counts must be >= 0, got {only_new}, {only_old}")
    n = only_new + only_old
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(only_new, only_old) + 1))
    return float(min(Fraction(1), Fraction(2 * tail, 2**n)))


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order: monotone and capped at 1."""
    for i, p in enumerate(p_values):
        if not 0.0 <= p <= 1.0:  # also rejects NaN
            raise ValueError(f"p-value {i} is {p!r}, not in [0, 1]")
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in the input order.

    Less strict than Holm when a night makes hundreds of comparisons (every category of every
    attack): it bounds the share of false alerts among those raised, not the chance of any."""
    for i, p in enumerate(p_values):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p-value {i} is {p!r}, not in [0, 1]")
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i], reverse=True)
    adjusted = [0.0] * m
    running = 1.0
    for k, i in enumerate(order):
        rank = m - k  # 1-based rank from the smallest p-value
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


def paired_difference_interval(only_new: int, only_old: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of rate_new - rate_old on n paired items (Agresti-Min adjusted Wald: half an
    item added to each cell of the 2x2 table, which keeps the interval sane at 0 discordant pairs)."""
    if n < 1 or only_new < 0 or only_old < 0 or only_new + only_old > n:
        raise ValueError(f"need 0 <= only_new + only_old <= n >= 1, got {only_new}, {only_old}, {n}")
    b, c, size = only_new + 0.5, only_old + 0.5, n + 2.0
    diff = (b - c) / size
    half = z * math.sqrt(max(0.0, (b + c) - (b - c) ** 2 / size)) / size
    return (max(-1.0, diff - half), min(1.0, diff + half))


def equal_weight_rate(strata: list[tuple[int, int]], z: float = 1.96) -> tuple[float, float, float] | None:
    """The mean of several rates, each stratum (a benchmark x attack) weighing the same however many
    items it has, with a 95 % interval; None without a stratum that has data.

    The headline ASR is this mean, so that a config's mix (500 FigStep items beside 50 of another
    benchmark, three attacks on one benchmark and one on another) does not decide it. One stratum:
    its rate and Wilson interval. Several: the normal interval of the mean, each stratum's variance
    taken at its Agresti-Coull rate ((k + 2) / (n + 4), sane at 0/n and n/n), clipped to [0, 1]."""
    rows = [(k, n) for k, n in strata if n > 0]
    if not rows:
        return None
    if len(rows) == 1:
        k, n = rows[0]
        return (k / n, *wilson(k, n, z))
    for k, n in rows:
        if not 0 <= k <= n:
            raise ValueError(f"equal_weight_rate needs 0 <= successes <= n, got {k}, {n}")
    m = len(rows)
    mean = sum(k / n for k, n in rows) / m
    variance = sum((k + 2) / (n + 4) * (1 - (k + 2) / (n + 4)) / (n + 4) for k, n in rows) / (m * m)
    half = z * math.sqrt(variance)
    return (mean, max(0.0, mean - half), min(1.0, mean + half))
