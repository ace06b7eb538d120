"""Orthogonal weights in the Network spec (weight_law="orthogonal") and the Jacobians they give.

Exact checks are rounding-level (orthogonality is exact up to QR's roundoff); the Haar law is checked by
z-scores and a KS test at fixed seeds.
"""

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

import sigdist
from sigdist import Layer, Network
from sigdist import jacobian as jac
from sigdist.weights import get_weight_law

ORTHO = get_weight_law("orthogonal")


@pytest.mark.parametrize("shape", [(3, 7, 4), (3, 4, 7), (5, 5)])
def test_orthogonal_law_draws_scaled_semi_orthogonal_matrices_with_unit_entry_variance(shape):
    u = ORTHO.sample(0, shape).reshape((-1, *shape[-2:]))
    rows, cols = shape[-2:]
    gram = u.transpose(0, 2, 1) @ u if rows >= cols else u @ u.transpose(0, 2, 1)
    np.testing.assert_allclose(gram, np.broadcast_to(max(rows, cols) * np.eye(min(rows, cols)), gram.shape),
                               atol=1e-12)
    assert np.mean(u * u) == pytest.approx(1.0, abs=1e-13)  # the entry variance sigma_w2 sees
    assert ORTHO.variance_factor == 1.0 and ORTHO.kurtosis is None


def test_orthogonal_law_torch_sampler_is_orthogonal_in_the_requested_dtype():
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(1)
    u = ORTHO.sample_torch(gen, (4, 9, 5), torch.float32, "cpu")
    assert u.dtype == torch.float32 and tuple(u.shape) == (4, 9, 5)
    np.testing.assert_allclose((u.transpose(1, 2) @ u).double().numpy(), 9 * np.tile(np.eye(5), (4, 1, 1)),
                               atol=5e-5)


@pytest.mark.parametrize("sampler", ["numpy", "torch"])
def test_orthogonal_law_is_haar_first_entry_squared_is_beta(sampler):
    # for Haar Q (n x n), Q_11^2 ~ Beta(1/2, (n-1)/2) and Q_11 is symmetric: without the sign fix of the QR
    # factorisation Q_11 would have one sign (LAPACK's Householder R has a negative diagonal)
    n, count = 6, 20_000
    if sampler == "numpy":
        u = ORTHO.sample(7, (count, n, n))
    else:
        torch = pytest.importorskip("torch")
        u = ORTHO.sample_torch(torch.Generator().manual_seed(7), (count, n, n), torch.float64, "cpu").numpy()
    q11 = u[:, 0, 0] / math.sqrt(n)
    assert stats.kstest(q11 ** 2, stats.beta(0.5, (n - 1) / 2).cdf).pvalue > 1e-3
    assert abs(q11.mean()) < 4 * q11.std() / math.sqrt(count)
    q12 = u[:, 0, 1] / math.sqrt(n)
    assert abs(np.mean(q11 * q12)) < 4 * np.std(q11 * q12) / math.sqrt(count)


def test_to_torch_weights_are_torch_orthogonal_init_with_the_gain_of_sigma_w2():
    torch = pytest.importorskip("torch")
    net = Network([Layer(6, 0.3, 0.0, "relu", weight_law="orthogonal"),
                   Layer(10, 0.2, 0.0, "relu", weight_law="orthogonal")], input_width=4)
    module = net.to_torch(seed=0, dtype=torch.float64)
    w1, w2 = (m.weight.detach().numpy() for m in module if hasattr(m, "weight"))
    np.testing.assert_allclose(w1.T @ w1, 0.3 * 6 * np.eye(4), atol=1e-12)  # 6 x 4: orthonormal columns
    np.testing.assert_allclose(w2.T @ w2, 0.2 * 10 * np.eye(6), atol=1e-12)


def test_linear_orthogonal_jacobian_is_a_scaled_isometry_at_every_depth():
    pytest.importorskip("torch")
    net = Network([Layer(8, 0.25, 0.0, "linear", weight_law="orthogonal")] * 20, input_width=8)
    spec = jac.jacobian_spectrum(net, 5, seed=0, device="cpu")
    np.testing.assert_allclose(spec.squared_singular_values, (0.25 * 8) ** 20, rtol=1e-12)


def test_init_orthogonal_is_the_weight_law_of_the_spec():
    pytest.importorskip("torch")
    he = Network.he([12] * 4)
    ortho = Network([dataclasses.replace(layer, weight_law="orthogonal") for layer in he], he.input_width)
    a = jac.jacobian_spectrum(he, 6, seed=4, init="orthogonal", device="cpu")
    b = jac.jacobian_spectrum(ortho, 6, seed=4, device="cpu")
    np.testing.assert_array_equal(a.squared_singular_values, b.squared_singular_values)


def test_monte_carlo_engine_reads_the_orthogonal_law():
    pytest.importorskip("torch")
    # linear square orthogonal layers keep the norm exactly: |x_L|^2 = (N sigma_w2)^L |x_0|^2
    net = Network([Layer(5, 0.4, 0.0, "linear", weight_law="orthogonal")] * 3, input_width=5)
    x0 = np.array([1.0, 2.0, 0.0, 0.0, 0.0])
    sim = sigdist.montecarlo.simulate(net, x0, 50, seed=0, device="cpu")
    assert sim.method == "full"
    np.testing.assert_allclose(sim.squared_norms[:, -1, 0], 5.0 * 2.0 ** 3, rtol=1e-12)


@pytest.mark.parametrize("route", ["squared_norm_law", "jvp_law", "jvp_samples", "jvp_moments", "spectral_moments",
                                   "length_moments"])
def test_exact_routes_refuse_orthogonal_weights_naming_weight_law(route):
    net = Network([Layer(4, 0.5, 0.0, "relu", weight_law="orthogonal")] * 2, input_width=4)
    f = {"squared_norm_law": lambda: sigdist.squared_norm_law(net, 1.0), "jvp_law": lambda: jac.jvp_law(net),
         "jvp_samples": lambda: jac.jvp_samples(net, n_networks=10), "jvp_moments": lambda: jac.jvp_moments(net),
         "spectral_moments": lambda: jac.spectral_moments(net),
         "length_moments": lambda: sigdist.length_moments(net, 1.0)}[route]
    with pytest.raises(ValueError, match="weight_law='orthogonal'"):
        f()


def test_jacobian_subcommand_with_orthogonal_init_reports_the_free_moments_and_no_finite_width_formula(tmp_path):
    pytest.importorskip("torch")
    import argparse
    import json

    from sigdist import jacobian_cli

    ap = argparse.ArgumentParser(prog="sigdist")
    jacobian_cli.add_parser(ap.add_subparsers(dest="command"))
    path = tmp_path / "out.json"
    args = ap.parse_args(["jacobian", "--width", "16", "--depth", "4", "--init", "orthogonal", "--networks", "400",
                          "--device", "cpu", "--json", str(path)])
    assert jacobian_cli.run(args) == 0
    rows = {r["moment"]: r for r in json.loads(path.read_text())["rows"]}
    assert rows["m2"]["exact_N"] is None and rows["m2"]["infinite_N"] == pytest.approx(5.0, rel=1e-14)
    # E tr(J^T J) / N_0 = (N sigma_w2 / 2)^L = 1 at every width: a z-test of the real networks
    assert abs(rows["m1"]["monte_carlo"] - 1.0) < 4 * rows["m1"]["se"]
