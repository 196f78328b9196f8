"""The tests behind the detectors, chosen for the small counts of grievance posts.

Volume spikes use the exact conditional test for two Poisson rates: with `x` posts in a window
of length `w` and `y` in a baseline of length `b`, under "same rate" `x` given `x + y` is
Binomial(x + y, w / (w + b)). It needs no estimate of the baseline rate, so a short or quiet
baseline cannot make a handful of posts look significant, and it is exact for any count.
Share jumps use a one-sided binomial test of the window's negative posts against the baseline
share, smoothed with a Beta(1, 1) prior so an empty baseline never gives a share of 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import binom, poisson


@dataclass(frozen=True)
class Test:
    observed: int
    expected: float
    ratio: float
    p_value: float


def rate_test(x: int, y: int, window: float, baseline: float) -> Test:
    """Is `x` posts in `window` (any unit) more than `y` posts in `baseline` predicts?"""
    expected = y * window / baseline
    # Half a post of prior in the baseline, so a ratio over an empty baseline stays finite.
    ratio = x / ((y + 0.5) * window / baseline)
    p = float(binom.sf(x - 1, x + y, window / (window + baseline))) if x > 0 else 1.0
    return Test(x, round(expected, 3), round(ratio, 2), p)


def share_test(x: int, n: int, base_x: int, base_n: int) -> tuple[float, float, float]:
    """(window share, baseline share, p) for `x` negative of `n` against `base_x` of `base_n`."""
    p0 = (base_x + 1) / (base_n + 2)
    p = float(binom.sf(x - 1, n, p0)) if x > 0 else 1.0
    return (x / n if n else 0.0), p0, p


def rate_alarm_probability(
    rate: float, window: float, baseline: float, min_count: int, min_ratio: float, max_p: float
) -> float:
    """P(the spike test fires) when window and baseline are both Poisson with `rate` per day.

    Summed exactly over the baseline count and the window count (both cut where the Poisson
    tail is below 1e-12)."""
    lam_w, lam_b = rate * window, rate * baseline
    y_max = int(poisson.isf(1e-12, lam_b)) + 1
    x_max = int(poisson.isf(1e-12, lam_w)) + 1 + min_count
    total = 0.0
    for y in range(y_max + 1):
        py = poisson.pmf(y, lam_b)
        for x in range(min_count, x_max + 1):
            t = rate_test(x, y, window, baseline)
            if t.ratio >= min_ratio and t.p_value <= max_p:
                total += py * poisson.sf(x - 1, lam_w)  # every larger x fires too
                break
    return total


def false_alarms_per_day(
    rates: list[float], window_days: float, baseline_days: float, **thresholds: float
) -> float:
    """Expected false alerts per day over series with these daily rates (one check a day)."""
    per_check = sum(
        rate_alarm_probability(r, window_days, baseline_days, **thresholds) for r in rates
    )
    return per_check / max(window_days, 1.0)


def log10(p: float) -> float:
    return math.log10(p) if p > 0 else -300.0
