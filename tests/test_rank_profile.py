"""Rank of the hidden representations of real networks against depth (Daneshmand et al. 2020, Fig. 2)."""

import math

import numpy as np
import pytest

from sigdist import Layer, Network
from sigdist.lyapunov import gaussian_lyapunov_exponents
from sigdist.rank_profile import RankProfile, hidden_rank_profile


def test_batch_norm_keeps_the_rank_that_vanilla_linear_networks_lose():
    common = dict(n_networks=6, rtol=32 * 1e-7, seed=0)  # the matrix_rank convention of the paper
    vanilla = hidden_rank_profile(Network.constant(32, 40, 1.0, activation="linear"), **common)
    bn = hidden_rank_profile(Network.bn_chain(32, 40), **common)
    assert vanilla.numerical_rank[0] == 32
    # vanilla: sigma_i / sigma_1 ~ exp(-(mu_1 - mu_i) l), so at depth l the numerical rank is about
    # #{i : (mu_1 - mu_i) l < ln(1 / rtol)} (Lyapunov exponents, closed form for Gaussian weights)
    mu = gaussian_lyapunov_exponents(Layer(32, 1.0, activation="linear"))
    predicted = np.count_nonzero((mu[0] - mu) * 40 < math.log(1 / common["rtol"]))
    # leading order only: near the threshold (i ~ 18) one index moves log sigma by 40 / (2 (32 - 18)) ~ 1.4, so
    # the O(1) terms of log sigma_i leave the count within a few indices
    assert abs(vanilla.numerical_rank[-1] - predicted) < 3, (vanilla.numerical_rank[-1], predicted)
    z = (bn.rank_bound[-1] - vanilla.rank_bound[-1]) / math.hypot(bn.rank_bound_se[-1], vanilla.rank_bound_se[-1])
    assert z > 4
    relu = hidden_rank_profile(Network.bn_chain(32, 10, activation="relu"), center=True, **common)
    assert np.all(relu.rank_bound > 1)


def test_weight_scale_does_not_change_the_ranks_without_a_skip_connection():
    kwargs = dict(n_networks=3, rtol=1e-10, seed=4)
    a = hidden_rank_profile(Network.constant(8, 5, 1.0, activation="relu"), **kwargs)
    b = hidden_rank_profile(Network.constant(8, 5, 9.0, activation="relu"), **kwargs)
    np.testing.assert_allclose(b.rank_bound, a.rank_bound, rtol=1e-12)
    np.testing.assert_array_equal(b.numerical_rank, a.numerical_rank)


def test_profile_reads_each_layer_of_the_network():
    # a BN layer and a vanilla layer of a new width: ranks are recorded at depths 0, 1, 2
    net = Network([Layer(6, 1.0, activation="linear", batch_norm=True), Layer(3, 1.0, activation="relu")],
                  input_width=6)
    res = hidden_rank_profile(net, batch=10, n_networks=4, rtol=1e-10, seed=0)
    assert isinstance(res, RankProfile)
    np.testing.assert_array_equal(res.layer, [0, 1, 2])
    assert res.numerical_rank[0] == 6 and res.numerical_rank[2] <= 3
    assert res.to_xarray()["rank_bound"].dims == ("layer",)


@pytest.mark.parametrize("call, match", [
    (lambda: hidden_rank_profile(Network.bn_chain(8, 2), n_networks=1, rtol=1e-8), "n_networks"),
    (lambda: hidden_rank_profile(Network.constant(8, 2, 1.0, activation="tanh"), rtol=1e-8), "homogeneous"),
    (lambda: hidden_rank_profile(Network.constant(8, 2, 1.0, 0.1), rtol=1e-8), "sigma_b2"),
    (lambda: hidden_rank_profile(Network.bn_chain(8, 2), rtol=1e-8, x0=np.ones((7, 8))), "x0 must have shape"),
    (lambda: hidden_rank_profile(Network.bn_chain(8, 2), rtol=-1.0), "rtol"),
    (lambda: hidden_rank_profile(Network.bn_chain(8, 2), rtol=1e-8, tau=2.0), "tau"),
    (lambda: hidden_rank_profile(0, rtol=1e-8), "network"),
])
def test_bad_input_is_refused_by_name(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("seed", [-1, 2**64, 2.0, "1"])
def test_profile_refuses_a_seed_out_of_range(seed):
    with pytest.raises(ValueError, match="seed must be an integer in \\[0, 2\\*\\*64\\)"):
        hidden_rank_profile(Network.bn_chain(3), n_networks=2, rtol=1e-7, seed=seed)


@pytest.mark.parametrize("flag", ["yes", None, 1])
def test_center_must_be_a_real_bool(flag):
    with pytest.raises(ValueError, match="center must be True or False"):
        hidden_rank_profile(Network.bn_chain(3), n_networks=2, rtol=1e-7, center=flag)
