"""The unbiased pass@k estimator (Chen et al. 2021) and a bootstrap interval over problems.

Standard library only: `bench run` and `bench report` must work on a plain install."""

from __future__ import annotations

import math
import random
from collections import Counter


def pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k): the chance that k of the n samples, drawn without replacement,
    hold at least one correct one. Computed as a product, which stays exact in floating point
    where the binomials themselves would overflow."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got c={c}, n={n}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    # C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k/i)
    ratio = 1.0
    for i in range(n - c + 1, n + 1):
        ratio *= 1.0 - k / i
    return 1.0 - ratio


def bootstrap_interval(
    values: list[float], *, resamples: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """A percentile bootstrap interval for the mean of ``values``, resampling problems.

    Seeded: the same journal gives the same interval on every machine and Python version."""
    if not values:
        return (0.0, 0.0)
    means = sorted(bootstrap_means(values, resamples=resamples, seed=seed))
    tail = (1.0 - level) / 2
    return (_quantile(means, tail), _quantile(means, 1.0 - tail))


def bootstrap_means(values: list[float], *, resamples: int, seed: int) -> list[float]:
    """The means of ``resamples`` resamples of ``values`` with replacement.

    Per-problem values take few distinct values (one per (n, c) pair), so each resample is a
    multinomial draw of their counts: fast however many problems there are."""
    counts = Counter(values)
    distinct = list(counts)
    probs = [counts[v] / len(values) for v in distinct]
    rng = random.Random(seed)
    n = len(values)
    out = []
    for _ in range(resamples):
        drawn = _multinomial(rng, n, probs)
        out.append(math.fsum(k * v for k, v in zip(drawn, distinct, strict=True)) / n)
    return out


def _quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default `percentile`)."""
    at = q * (len(ordered) - 1)
    low = math.floor(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def _multinomial(rng: random.Random, n: int, probs: list[float]) -> list[int]:
    """Counts of ``n`` draws over categories of probability ``probs``, as a chain of binomials:
    the first category's count, then the next one's among the draws left, and so on."""
    counts: list[int] = []
    left, mass = n, 1.0
    for p in probs[:-1]:
        if left == 0 or mass <= 0.0:
            counts.append(0)
            continue
        k = binomial(rng, left, min(max(p / mass, 0.0), 1.0))
        counts.append(k)
        left -= k
        mass -= p
    counts.append(left)
    return counts


def binomial(rng: random.Random, n: int, p: float) -> int:
    """A Binomial(n, p) draw. The algorithm of CPython's `Random.binomialvariate` (Lib/random.py,
    Python 3.12 on), written out here so that results do not depend on the Python version:
    Devroye's geometric method for n·p < 10, else Hörmann's BTRS (transformed rejection with
    squeeze)."""
    if n < 0:
        raise ValueError("n must be non-negative")
    if p <= 0.0 or p >= 1.0:
        if p == 0.0:
            return 0
        if p == 1.0:
            return n
        raise ValueError("p must be in the range 0.0 <= p <= 1.0")
    if n == 1:
        return int(rng.random() < p)
    if p > 0.5:
        return n - binomial(rng, n, 1.0 - p)
    if n * p < 10.0:
        x = y = 0
        c = math.log2(1.0 - p)
        if not c:
            return x
        while True:
            # 1 - random() is uniform on (0, 1]: log2 never sees 0.
            y += math.floor(math.log2(1.0 - rng.random()) / c) + 1
            if y > n:
                return x
            x += 1
    spq = math.sqrt(n * p * (1.0 - p))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    vr = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    lpq = math.log(p / (1.0 - p))
    m = math.floor((n + 1) * p)  # the mode
    h = math.lgamma(m + 1) + math.lgamma(n - m + 1)
    while True:
        u = rng.random() - 0.5
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + c)
        if k < 0 or k > n:
            continue
        v = 1.0 - rng.random()  # in (0, 1], so that log(v) below is defined
        if us >= 0.07 and v <= vr:
            return k
        v *= alpha / (a / (us * us) + b)
        if math.log(v) <= h - math.lgamma(k + 1) - math.lgamma(n - k + 1) + (k - m) * lpq:
            return k
