"""Noise statistics of the OpenDP mechanisms, over many runs of a fixed query."""

from __future__ import annotations

import math
import statistics

from gateway.aggregates import noise

RUNS = 4000


def test_given_epsilon_one_then_count_noise_is_centred_with_the_laplace_spread() -> None:
    """ε = 1 over one count vector with sensitivity 1: discrete Laplace, scale 1/ε, so
    the standard deviation is about √2·scale (≈1.41) and the mean is the true count."""
    plan = noise.plan_noise(1.0, cells=1, count_vectors=1, sum_bounds={}, per_person=1)
    assert math.isclose(plan.epsilon, 1.0, rel_tol=1e-6)
    samples = [noise.noisy_counts([500], plan.count_scale)[0] for _ in range(RUNS)]
    mean = statistics.fmean(samples)
    spread = statistics.pstdev(samples)
    expected = math.sqrt(2) * plan.count_scale
    # The mean of 4000 draws is within 5 standard errors of 500.
    assert abs(mean - 500) < 5 * expected / math.sqrt(RUNS)
    assert 0.85 * expected < spread < 1.15 * expected


def test_given_a_sum_then_noise_is_calibrated_to_the_clamping_bound() -> None:
    """ε = 0.5 split over a count and a sum bounded by 100: scale of the sum is
    100 / 0.25 = 400 (share ε/2, one person contributes at most 100)."""
    plan = noise.plan_noise(
        0.5, cells=1, count_vectors=1, sum_bounds={"amount": 100.0}, per_person=1
    )
    assert math.isclose(plan.sum_scales["amount"], 400.0, rel_tol=1e-6)
    assert plan.epsilon <= 0.5 + 1e-9
    samples = [noise.noisy_sums([10_000.0], plan.sum_scales["amount"])[0] for _ in range(RUNS)]
    expected = math.sqrt(2) * 400.0
    assert abs(statistics.fmean(samples) - 10_000.0) < 5 * expected / math.sqrt(RUNS)
    assert 0.85 * expected < statistics.pstdev(samples) < 1.15 * expected


def test_given_a_small_true_count_then_post_processing_never_releases_a_negative() -> None:
    plan = noise.plan_noise(0.1, cells=3, count_vectors=1, sum_bounds={}, per_person=1)
    for _ in range(200):
        assert min(noise.noisy_counts([0, 1, 2], plan.count_scale)) >= 0
