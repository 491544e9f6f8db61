"""The unbiased pass@k estimator (Chen et al. 2021) and a bootstrap interval over problems."""

from __future__ import annotations

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

    Per-problem values take few distinct values (one per (n, c) pair), so each resample is a
    multinomial draw of their counts: fast however many problems there are."""
    if not values:
        return (0.0, 0.0)
    import numpy as np

    counts = Counter(values)
    distinct = np.array(list(counts.keys()), dtype=float)
    probs = np.array(list(counts.values()), dtype=float) / len(values)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(values), probs, size=resamples)
    means = draws @ distinct / len(values)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return (float(low), float(high))
