"""The pass@k estimator against hand-computed values, and the bootstrap interval."""

from __future__ import annotations

import subprocess
import sys
from math import comb
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leanloop.bench.estimate import bootstrap_interval, pass_at_k


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (1, 0, 1, 0.0),
        (1, 1, 1, 1.0),
        (4, 1, 1, 1 / 4),
        (4, 1, 2, 1 - 3 / 6),  # 1 - C(3,2)/C(4,2)
        (4, 2, 2, 1 - 1 / 6),  # 1 - C(2,2)/C(4,2)
        (4, 3, 2, 1.0),  # n - c < k: every pair holds a correct sample
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
        (8, 0, 8, 0.0),  # c = 0
        (8, 8, 1, 1.0),  # c = n
        (8, 1, 8, 1.0),  # k = n: any of n
        (8, 0, 1, 0.0),
    ],
)
def test_hand_computed(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_1_is_the_fraction_correct() -> None:
    assert pass_at_k(200, 37, 1) == pytest.approx(37 / 200)


def test_large_n_stays_finite_and_exact() -> None:
    # C(2000, 1000) overflows a float; the product form does not.
    assert pass_at_k(2000, 1, 1000) == pytest.approx(0.5)
    assert pass_at_k(2000, 3, 10) == pytest.approx(1 - comb(1997, 10) / comb(2000, 10))


@given(
    st.integers(1, 60).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))
    )
)
def test_matches_the_binomial_definition(args: tuple[int, int, int]) -> None:
    n, c, k = args
    assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k), abs=1e-9)


@pytest.mark.parametrize(("n", "c", "k"), [(4, 1, 5), (4, 5, 1), (4, 1, 0), (0, 0, 1)])
def test_out_of_range_is_refused(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_bootstrap_interval_brackets_the_mean() -> None:
    values = [0.0] * 50 + [1.0] * 50
    low, high = bootstrap_interval(values)
    assert low < 0.5 < high
    # the standard error of a mean of 100 coin flips is 0.05: the interval is about ±0.1
    assert 0.05 < 0.5 - low < 0.15 and 0.05 < high - 0.5 < 0.15
    assert bootstrap_interval([1.0] * 10) == (1.0, 1.0)
    assert bootstrap_interval(values) == (low, high)  # seeded: the same report twice


def test_bootstrap_interval_matches_the_exact_distribution() -> None:
    # Resampling 100 values, half 0 and half 1, gives a mean distributed as Binomial(100, 1/2)
    # / 100, whose 2.5% and 97.5% quantiles are 0.40 and 0.60.
    low, high = bootstrap_interval([0.0] * 50 + [1.0] * 50, resamples=4000, seed=3)
    assert low == pytest.approx(0.40, abs=0.015) and high == pytest.approx(0.60, abs=0.015)


def test_bootstrap_means_have_the_mean_and_spread_of_the_theory() -> None:
    from statistics import fmean, pstdev

    from leanloop.bench.estimate import bootstrap_means

    values = [0.0] * 30 + [0.25] * 50 + [1.0] * 20  # three distinct values, as pass@k gives
    means = bootstrap_means(values, resamples=6000, seed=1)
    # The mean of a resample is unbiased, with standard error sigma / sqrt(n).
    assert fmean(means) == pytest.approx(fmean(values), abs=0.003)
    assert pstdev(means) == pytest.approx(pstdev(values) / len(values) ** 0.5, rel=0.05)


@pytest.mark.parametrize(("n", "p"), [(7, 0.3), (40, 0.1), (500, 0.4), (1000, 0.93)])
def test_binomial_draws_have_the_binomial_mean_and_variance(n: int, p: float) -> None:
    import random
    from statistics import fmean, pvariance

    from leanloop.bench.estimate import binomial

    rng = random.Random(7)
    draws = [binomial(rng, n, p) for _ in range(20000)]
    assert all(0 <= d <= n for d in draws)
    assert fmean(draws) == pytest.approx(n * p, rel=0.02)
    assert pvariance(draws) == pytest.approx(n * p * (1 - p), rel=0.06)


def test_small_binomial_frequencies_match_the_probabilities() -> None:
    import random

    from leanloop.bench.estimate import binomial

    rng = random.Random(11)
    n, p, trials = 5, 0.35, 40000
    seen = [0] * (n + 1)
    for _ in range(trials):
        seen[binomial(rng, n, p)] += 1
    for k in range(n + 1):
        expected = comb(n, k) * p**k * (1 - p) ** (n - k)
        assert seen[k] / trials == pytest.approx(expected, abs=0.01)


def test_the_estimates_need_no_numpy(tmp_path: Path) -> None:
    """A plain install has no numpy: the estimator must not import it."""
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "from leanloop.bench.estimate import bootstrap_interval\n"
        "print(bootstrap_interval([0.0, 1.0, 1.0, 0.5]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    low, high = (float(x) for x in proc.stdout.strip("()\n").split(","))
    assert 0.0 <= low <= 0.625 <= high <= 1.0
