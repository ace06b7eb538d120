"""Every public entry point refuses None, a wrong type, NaN, a negative or an empty value by name.

Each row calls one function with one bad argument and expects ``ValueError`` or ``TypeError`` whose message
names the parameter (``"<param> must be ..."``), never an AttributeError, IndexError or a numpy message.
"""

import math

import numpy as np
import pytest

import sigdist
from sigdist import Layer, Network, TransitionOperator
from sigdist.grid import LogGrid
from sigdist import batchnorm, correlation, kernel, lengths, lyapunov, pretraining, rank, rank_chain, rank_profile, spectrum, stationary
from sigdist.montecarlo import compare, dense_squared_norms, smc_moment

NAN = float("nan")
NET = Network.constant(4, 2, 0.5)
LAYER = Layer(10, 0.2)
BIASED = Layer(10, 0.2, 0.1)
X0 = np.ones(4)


def _op():
    return TransitionOperator(BIASED)


CASES = [
    # the network description
    ("Layer width None", lambda: Layer(None, 0.2), "width"),
    ("Layer width negative", lambda: Layer(-3, 0.2), "width"),
    ("Layer sigma_w2 NaN", lambda: Layer(10, NAN), "sigma_w2"),
    ("Layer sigma_b2 negative", lambda: Layer(10, 0.2, -1.0), "sigma_b2"),
    ("Layer activation None", lambda: Layer(10, 0.2, activation=None), "activation"),
    ("Layer batch_norm string", lambda: Layer(10, 0.2, batch_norm="no"), "batch_norm"),
    ("Network layers None", lambda: Network(None), "layers"),
    ("Network layers empty", lambda: Network([]), "layers"),
    ("Network.he widths short", lambda: Network.he([3]), "widths"),
    ("Network.constant depth 0", lambda: Network.constant(3, 0, 0.5), "depth"),
    ("LogGrid.from_range size 1", lambda: LogGrid.from_range(1, 2, 1), "size"),
    ("LogGrid.from_range size float", lambda: LogGrid.from_range(1, 2, 2.5), "size"),
    # laws
    ("squared_norm_law y0 NaN", lambda: sigdist.squared_norm_law(NET, NAN), "y0"),
    ("squared_norm_law y0 negative", lambda: sigdist.squared_norm_law(NET, -1.0), "y0"),
    ("squared_norm_law y0 None", lambda: sigdist.squared_norm_law(NET, None), "y0"),
    ("squared_norm_law tol NaN", lambda: sigdist.squared_norm_law(NET, 1.0, tol=NAN), "tol"),
    ("squared_norm_law tol 0", lambda: sigdist.squared_norm_law(NET, 1.0, tol=0.0), "tol"),
    ("layer_laws lattice_size None", lambda: sigdist.layer_laws(NET, 1.0, lattice_size=None), "lattice_size"),
    ("TransitionOperator tol NaN", lambda: TransitionOperator(LAYER, tol=NAN), "tol"),
    ("matrix grid string", lambda: _op().matrix(grid="grid"), "grid"),
    # the kernel
    ("kernel_cdf layer None", lambda: kernel.kernel_cdf(None, 1.0, 1.0), "layer"),
    ("kernel_cdf y None", lambda: kernel.kernel_cdf(LAYER, None, 1.0), "y"),
    ("kernel_cdf y NaN", lambda: kernel.kernel_cdf(LAYER, NAN, 1.0), "y"),
    ("kernel_cdf y negative", lambda: kernel.kernel_cdf(LAYER, -1.0, 1.0), "y"),
    ("kernel_cdf z string", lambda: kernel.kernel_cdf(LAYER, 1.0, "z"), "z"),
    ("kernel_cdf z NaN", lambda: kernel.kernel_cdf(LAYER, 1.0, NAN), "z"),
    ("kernel_pdf layer int", lambda: kernel.kernel_pdf(3, 1.0, 1.0), "layer"),
    ("kernel_sf z None", lambda: kernel.kernel_sf(LAYER, 1.0, None), "z"),
    ("kernel_logpdf y string", lambda: kernel.kernel_logpdf(LAYER, "y", 1.0), "y"),
    ("kernel_atom layer None", lambda: kernel.kernel_atom(1.0, None), "layer"),
    # the spectrum
    ("mellin_eigenvalue m NaN", lambda: spectrum.mellin_eigenvalue(LAYER, NAN), "m"),
    ("mellin_eigenvalue network None", lambda: spectrum.mellin_eigenvalue(None, -2.0), "network"),
    ("critical_window network None", lambda: spectrum.critical_window(None), "network"),
    ("tail_index network None", lambda: spectrum.tail_index(None), "network"),
    ("stationary_moments network None", lambda: stationary.stationary_moments(None), "network"),
    ("stationary_law network None", lambda: stationary.stationary_law(None), "network"),
    ("stationary_law grid string", lambda: stationary.stationary_law(BIASED, grid="grid"), "grid"),
    ("stationary_law tol 0", lambda: stationary.stationary_law(BIASED, tol=0.0), "tol"),
    ("augmented_matrix grid int", lambda: stationary.augmented_matrix(_op(), grid=3), "grid"),
    ("discrete_eigen k 0", lambda: stationary.discrete_eigen(_op(), k=0), "k"),
    ("mixing_depth network None", lambda: stationary.mixing_depth(None), "network"),
    ("mixing_depth eps None", lambda: stationary.mixing_depth(BIASED, eps=None), "eps"),
    ("mixing_depth eps NaN", lambda: stationary.mixing_depth(BIASED, eps=NAN), "eps"),
    ("mixing_depth y0 negative", lambda: stationary.mixing_depth(BIASED, y0=-1.0), "y0"),
    ("mixing_depth max_depth 0", lambda: stationary.mixing_depth(BIASED, max_depth=0), "max_depth"),
    ("mixing_depth tol NaN", lambda: stationary.mixing_depth(BIASED, tol=NAN), "tol"),
    # two inputs
    ("correlation_map rho NaN", lambda: correlation.correlation_map(NAN), "rho"),
    ("product_law v11 None", lambda: correlation.product_law(None, 1.0, 0.5), "v11"),
    ("product_law v22 negative", lambda: correlation.product_law(1.0, -1.0, 0.5), "v22"),
    ("scalar_product_law tol NaN", lambda: correlation.scalar_product_law(LAYER, 1, 1, .5, tol=NAN), "tol"),
    ("scalar_product_law tol 0", lambda: correlation.scalar_product_law(LAYER, 1, 1, .5, tol=0.0), "tol"),
    ("scalar_product_law layer None", lambda: correlation.scalar_product_law(None, 1, 1, .5), "layer"),
    ("pair_samples network None", lambda: correlation.pair_samples(None, 1.0, 1.0, 0.0), "network"),
    ("pair_samples y1 zero", lambda: correlation.pair_samples(NET, 0.0, 1.0, 0.0), "y1"),
    ("pair_samples y2 NaN", lambda: correlation.pair_samples(NET, 1.0, NAN, 0.0), "y2"),
    ("pair_samples y12 too large", lambda: correlation.pair_samples(NET, 1.0, 1.0, 2.0), "y12"),
    ("pair_samples seed negative", lambda: correlation.pair_samples(NET, 1.0, 1.0, 0.0, seed=-1), "seed"),
    ("pair_samples seed 2**64", lambda: correlation.pair_samples(NET, 1.0, 1.0, 0.0, seed=2**64), "seed"),
    ("pair_samples chunk 0", lambda: correlation.pair_samples(NET, 1.0, 1.0, 0.0, chunk=0), "chunk"),
    ("pair_samples n_networks 1", lambda: correlation.pair_samples(NET, 1.0, 1.0, 0.0, n_networks=1), "n_networks"),
    ("mean_field_cosines network None", lambda: correlation.mean_field_cosines(None, 1.0, 1.0, 0.0), "network"),
    ("shared_pair_samples y1 zero", lambda: correlation.shared_pair_samples(Network.gsm([4, 4]), 0.0, 1.0, 0.0),
     "y1"),
    # rank measures
    ("rank_bound H None", lambda: rank.rank_bound(None), "H"),
    ("rank_bound H empty", lambda: rank.rank_bound(np.zeros((0, 3))), "H"),
    ("rank_bound H NaN", lambda: rank.rank_bound(np.full((2, 2), NAN)), "H"),
    ("stable_rank H zero", lambda: rank.stable_rank(np.zeros((2, 2))), "H"),
    ("soft_rank tau NaN", lambda: rank.soft_rank(np.eye(2), tau=NAN), "tau"),
    ("numerical_rank rtol negative", lambda: rank.numerical_rank(np.eye(2), rtol=-1.0), "rtol"),
    ("soft_rank_from_gram M 1d", lambda: rank.soft_rank_from_gram(np.ones(3), 0.5), "M"),
    # batch norm
    ("batch_norm H zero row", lambda: batchnorm.batch_norm(np.zeros((2, 3))), "H"),
    ("batch_norm center string", lambda: batchnorm.batch_norm(np.ones((2, 3)), center="no"), "center"),
    ("bn_step gamma negative", lambda: batchnorm.bn_step(np.eye(2), np.eye(2), -1.0), "gamma"),
    ("RankChain network None", lambda: rank_chain.RankChain(None), "network"),
    ("RankChain network without batch norm", lambda: rank_chain.RankChain(Layer(4, 1.0, activation="linear")),
     "network"),
    ("RankChain seed negative", lambda: rank_chain.RankChain(Network.bn_chain(4, gamma=0.5), seed=-1, backend="numpy"),
     "seed"),
    ("RankChain seed 2**64",
     lambda: rank_chain.RankChain(Network.bn_chain(4, gamma=0.5), seed=2**64, backend="numpy"), "seed"),
    ("RankChain.run thin past steps",
     lambda: rank_chain.RankChain(Network.bn_chain(4, gamma=0.5), seed=0).run(10, thin=100), "thin"),
    ("RankChain.run tau NaN", lambda: rank_chain.RankChain(Network.bn_chain(4, gamma=0.5), seed=0).run(10, tau=NAN),
     "tau"),
    ("RankChain.run checkpoint folder",
     lambda: rank_chain.RankChain(Network.bn_chain(4, gamma=0.5), seed=0).run(10, checkpoint="/"), "checkpoint"),
    ("bn_chain gamma NaN", lambda: Network.bn_chain(4, gamma=NAN), "gamma"),
    ("lyapunov_spectrum network 0", lambda: lyapunov.lyapunov_spectrum(0, 10), "network"),
    ("lyapunov_spectrum seed negative",
     lambda: lyapunov.lyapunov_spectrum(Layer(3, 1.0, activation="linear"), 10, seed=-1), "seed"),
    ("hidden_rank_profile network None",
     lambda: rank_profile.hidden_rank_profile(None, batch=3, n_networks=2, rtol=1e-7), "network"),
    # Monte Carlo without torch
    ("dense_squared_norms network None", lambda: dense_squared_norms(None, X0, 3), "network"),
    ("dense_squared_norms x0 None", lambda: dense_squared_norms(NET, None, 3), "x0"),
    ("dense_squared_norms x0 NaN", lambda: dense_squared_norms(NET, np.full(4, NAN), 3), "x0"),
    ("dense_squared_norms n_networks 0", lambda: dense_squared_norms(NET, X0, 0), "n_networks"),
    ("dense_squared_norms chunk negative", lambda: dense_squared_norms(NET, X0, 3, chunk=-1), "chunk"),
    ("dense_squared_norms chunk 0", lambda: dense_squared_norms(NET, X0, 3, chunk=0), "chunk"),
    ("dense_squared_norms seed negative", lambda: dense_squared_norms(NET, X0, 3, seed=-1), "seed"),
    ("dense_squared_norms seed 2**64", lambda: dense_squared_norms(NET, X0, 3, seed=2**64), "seed"),
    ("smc_moment network None", lambda: smc_moment(None), "network"),
    ("smc_moment y0 NaN", lambda: smc_moment(NET, NAN), "y0"),
    ("smc_moment power None", lambda: smc_moment(NET, 1.0, None), "power"),
    ("smc_moment power negative", lambda: smc_moment(NET, 1.0, -1.0), "power"),
    ("smc_moment n_replicates 1", lambda: smc_moment(NET, n_replicates=1), "n_replicates"),
    ("smc_moment seed 2**64", lambda: smc_moment(NET, seed=2**64), "seed"),
    ("compare law None", lambda: compare(None, np.ones(10)), "law"),
    ("compare samples None", lambda: compare(sigdist.squared_norm_law(NET, 1.0), None), "samples"),
    ("compare samples empty", lambda: compare(sigdist.squared_norm_law(NET, 1.0), []), "samples"),
    ("compare bins 1", lambda: compare(sigdist.squared_norm_law(NET, 1.0), np.ones(10), bins=1), "bins"),
]


@pytest.mark.parametrize("call, param", [(c, p) for _, c, p in CASES], ids=[name for name, _, _ in CASES])
def test_bad_input_is_refused_by_name(call, param):
    with pytest.raises((ValueError, TypeError), match=rf"(^|\W){param}\b"):
        call()


TORCH_CASES = [
    ("simulate network None", lambda sim: sim(None, X0, 3, device="cpu"), "network"),
    ("simulate x0 None", lambda sim: sim(NET, None, 3, device="cpu"), "x0"),
    ("simulate n_networks 0", lambda sim: sim(NET, X0, 0, device="cpu"), "n_networks"),
    ("simulate chunk 0", lambda sim: sim(NET, X0, 3, device="cpu", chunk=0), "chunk"),
    ("simulate seed negative", lambda sim: sim(NET, X0, 3, device="cpu", seed=-1), "seed"),
    ("simulate seed 2**64", lambda sim: sim(NET, X0, 3, device="cpu", seed=2**64), "seed"),
    ("simulate device None", lambda sim: sim(NET, X0, 3, device=None), "device"),
    ("simulate method unknown", lambda sim: sim(NET, X0, 3, device="cpu", method="exact"), "method"),
    ("simulate record 0", lambda sim: sim(NET, X0, 3, device="cpu", record=(0,)), "record"),
    ("maximize_rank_bound n_iter negative", lambda sim: pretraining.maximize_rank_bound([np.eye(2)], np.eye(2), n_iter=-1),
     "n_iter"),
    ("maximize_rank_bound lr NaN", lambda sim: pretraining.maximize_rank_bound([np.eye(2)], np.eye(2), lr=NAN), "lr"),
]


@pytest.mark.parametrize("call, param", [(c, p) for _, c, p in TORCH_CASES], ids=[name for name, _, _ in TORCH_CASES])
def test_bad_input_to_torch_entry_points_is_refused_by_name(call, param):
    pytest.importorskip("torch")
    from sigdist.montecarlo import simulate

    with pytest.raises((ValueError, TypeError), match=rf"(^|\W){param}\b"):
        call(simulate)
