"""Rank measures (Daneshmand et al. 2020, eq. 3, 4, Lemma 1) against SVD and autograd."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigdist.rank import numerical_rank, rank_bound, rank_bound_grad, soft_rank, soft_rank_from_gram, stable_rank

shapes = st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 9))


def _low_rank(seed, d, n, k):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((d, k)) @ rng.standard_normal((k, n)) * rng.uniform(0.1, 10)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), shapes)
def test_lemma1_rank_dominates_rank_bound(seed, shape):
    d, n, k = shape
    H = _low_rank(seed, d, n, k)
    rank = np.linalg.matrix_rank(H)
    assert 1 - 1e-12 <= rank_bound(H) <= rank * (1 + 1e-12)
    assert 1 - 1e-12 <= stable_rank(H) <= rank * (1 + 1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 9), st.integers(1, 9), st.floats(0.01, 1.0))
def test_soft_rank_counts_singular_values(seed, d, n, tau):
    H = np.random.default_rng(seed).standard_normal((d, n))
    s = np.linalg.svd(H, compute_uv=False)
    assert soft_rank(H, tau) == np.count_nonzero(s * s / n >= tau)
    assert soft_rank(H, 0.0) == d  # eq. 3 counts all d singular values at tau = 0


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.floats(-2.0, 2.0))
def test_inertia_count_equals_eigenvalue_count(seed, n, tau):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    M = A + A.T  # indefinite: exercises the 2x2 Bunch-Kaufman blocks
    eig = np.linalg.eigvalsh(M)
    if np.min(np.abs(eig - tau)) < 1e-9:
        return
    assert soft_rank_from_gram(M, tau) == np.count_nonzero(eig >= tau)


def test_inertia_count_on_a_stack_equals_eigenvalue_count():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((5, 40, 30))
    G = A @ np.swapaxes(A, 1, 2) / 30
    np.testing.assert_array_equal(soft_rank_from_gram(G, 0.5), (np.linalg.eigvalsh(G) >= 0.5).sum(-1))


def test_a_stack_gives_each_matrix_its_own_value():
    H = np.random.default_rng(1).standard_normal((4, 6, 9))
    np.testing.assert_allclose(rank_bound(H), [rank_bound(h) for h in H], rtol=1e-14)
    np.testing.assert_array_equal(soft_rank(H, 0.3), [soft_rank(h, 0.3) for h in H])
    np.testing.assert_array_equal(numerical_rank(H, rtol=1e-10), [numerical_rank(h, rtol=1e-10) for h in H])


def test_rank_bound_of_closed_form_cases():
    assert rank_bound(np.eye(5)) == pytest.approx(5.0, rel=1e-15)
    assert rank_bound(np.outer(np.arange(1.0, 4.0), np.ones(7))) == pytest.approx(1.0, rel=1e-14)
    # M = diag(a, b): r = (a + b)^2 / (a^2 + b^2)
    H = np.diag([1.0, 2.0])
    assert rank_bound(H) == pytest.approx(25.0 / 17.0, rel=1e-15)


def test_rank_bound_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    H = rng.standard_normal((5, 7))
    grad = rank_bound_grad(H)
    h = 1e-6
    fd = np.zeros_like(H)
    for idx in np.ndindex(H.shape):
        E = np.zeros_like(H)
        E[idx] = h
        fd[idx] = (rank_bound(H + E) - rank_bound(H - E)) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


def test_torch_tensors_give_the_numpy_values_and_the_autograd_gradient():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    H = rng.standard_normal((3, 6, 8))
    Ht = torch.tensor(H, requires_grad=True)
    r = rank_bound(Ht)
    np.testing.assert_allclose(r.detach().numpy(), rank_bound(H), rtol=1e-13)
    r.sum().backward()
    np.testing.assert_allclose(Ht.grad.numpy(), rank_bound_grad(H), rtol=1e-10, atol=1e-13)
    np.testing.assert_array_equal(soft_rank(torch.tensor(H), 0.4).numpy(), soft_rank(H, 0.4))
    np.testing.assert_array_equal(numerical_rank(torch.tensor(H), rtol=1e-8).numpy(), numerical_rank(H, rtol=1e-8))
    np.testing.assert_allclose(stable_rank(torch.tensor(H)).numpy(), stable_rank(H), rtol=1e-12)
    for f in (lambda h: soft_rank(h, 0.5), stable_rank, rank_bound):
        with pytest.raises(ValueError, match="d, N >= 1"):
            f(torch.empty(3, 0, dtype=torch.float64))


def test_numerical_rank_tolerances_are_explicit():
    H = np.diag([1.0, 1e-3, 1e-9])
    assert numerical_rank(H, rtol=1e-6) == 2
    assert numerical_rank(H, rtol=1e-12) == 3
    assert numerical_rank(H, rtol=0.0, atol=1e-2) == 1
    with pytest.raises(TypeError):
        numerical_rank(H)  # no hidden default tolerance


@pytest.mark.parametrize("call, match", [
    (lambda: soft_rank(np.eye(3), 1.5), "tau"),
    (lambda: soft_rank(np.eye(3), -0.1), "tau"),
    (lambda: rank_bound(np.zeros((3, 4))), "zero"),
    (lambda: rank_bound(np.array([[1.0, np.nan]])), "non-finite"),
    (lambda: rank_bound(np.ones(3)), "shape"),
    (lambda: numerical_rank(np.eye(2), rtol=-1.0), "rtol"),
    (lambda: numerical_rank(np.eye(2), rtol=1e-3, atol=math.inf), "atol"),
    (lambda: stable_rank(np.zeros((2, 2))), "zero"),
    (lambda: soft_rank_from_gram(np.ones((2, 3)), 0.5), "square"),
    (lambda: soft_rank_from_gram(np.full((2, 2), np.nan), 0.5), "non-finite"),
    (lambda: soft_rank_from_gram(np.eye(2), float("nan")), "tau"),
])
def test_bad_input_is_refused_by_name(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_lemma1_second_part_needs_a_bn_output():
    # docs/errata.md: rank_tau >= (1 - tau)^2 r(H) holds when diag M = 1, not for an arbitrary input
    H = np.array([[0.3], [0.4]])
    assert rank_bound(H) == pytest.approx(1.0) and soft_rank(H, 0.5) == 0
    from sigdist.batchnorm import batch_norm

    Hn = batch_norm(np.random.default_rng(0).standard_normal((6, 3)))
    assert soft_rank(Hn, 0.5) >= 0.25 * rank_bound(Hn)


@pytest.mark.parametrize("scale", [1e-200, 1e-160, 1e160, 1e200])
def test_scale_invariant_ranks_survive_extreme_entries(scale):
    # stable_rank(eye(3) * 1e-200) and rank_bound of 1e200 entries were NaN (H H^T under/overflowed)
    H = np.random.default_rng(3).standard_normal((4, 6))
    assert stable_rank(np.eye(3) * scale) == pytest.approx(3.0, rel=1e-14)
    assert rank_bound(np.eye(3) * scale) == pytest.approx(3.0, rel=1e-14)
    assert stable_rank(H * scale) == pytest.approx(stable_rank(H), rel=1e-13)
    assert rank_bound(H * scale) == pytest.approx(rank_bound(H), rel=1e-13)
    np.testing.assert_allclose(rank_bound_grad(H * scale) * scale, rank_bound_grad(H), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="H is zero"):
        rank_bound(np.zeros((2, 3)))
