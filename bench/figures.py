"""Figures from measurements: percentiles, and durations and sizes as the reports print them."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> str:
    """Seconds as milliseconds, ``n/a`` for NaN (a percentile of nothing)."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def mb(size_bytes: float) -> str:
    return f"{size_bytes / 1e6:.1f} MB"
