"""
Rank of a batch-normalised network (Daneshmand et al. 2020, Fig. 2)
===================================================================

*Do the hidden representations of my deep linear network collapse in rank, and does batch norm stop
it?* Without BN, the product of random matrices collapses to rank one: the gaps of its Lyapunov spectrum
(exact for Gaussian weights, :func:`sigdist.lyapunov.gaussian_lyapunov_exponents`) fix how many
directions survive :math:`l` layers. With BN the rank stays high at any depth.
:func:`sigdist.hidden_rank_profile` measures real networks against depth; :class:`sigdist.RankChain`
runs the BN chain for long and returns the long-run mean of the rank bound :math:`r(H)` with its
standard error.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

import sigdist
from sigdist import Layer, Network
from sigdist.lyapunov import gaussian_lyapunov_exponents

QUICK = os.environ.get("SIGDIST_DOCS_QUICK") == "1"
d = 16 if QUICK else 64
depth = 30 if QUICK else 100
n_networks = 4 if QUICK else 10
rtol = 1e-7 * d  # the torch.matrix_rank convention of the paper

bn = Network.bn_chain(d, depth)  # linear layers, BN after each
vanilla = Network([Layer(d, 1.0 / d, activation="linear")] * depth)
prof_bn = sigdist.hidden_rank_profile(bn, n_networks=n_networks, rtol=rtol, seed=0)
prof_vanilla = sigdist.hidden_rank_profile(vanilla, n_networks=n_networks, rtol=rtol, seed=0)

# Lyapunov prediction for the vanilla product: direction i survives l layers while (mu_1 - mu_i) l < ln(1/rtol)
mu = gaussian_lyapunov_exponents(Layer(d, 1.0 / d, activation="linear"))
layers = np.arange(1, depth + 1)
predicted = [(np.subtract(mu[0], mu) * l < np.log(1 / rtol)).sum() for l in layers]
benettin = sigdist.lyapunov_spectrum(Network([Layer(d, 1.0 / d, activation="linear")]), 400 if QUICK else 2000,
                                     n_networks=8, seed=0)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
ax1.errorbar(prof_bn.layer, prof_bn.numerical_rank, yerr=2 * prof_bn.numerical_rank_se, fmt="o-", ms=3,
             label=f"BN, real networks (n = {n_networks})")
ax1.errorbar(prof_vanilla.layer, prof_vanilla.numerical_rank, yerr=2 * prof_vanilla.numerical_rank_se,
             fmt="s-", ms=3, label="no BN, real networks")
ax1.plot(layers, predicted, "k--", label="no BN: Lyapunov prediction")
ax1.set_yscale("log")
ax1.set_xlabel("layer l")
ax1.set_ylabel("numerical rank of H_l")
ax1.legend(fontsize=8)
ax2.plot(np.arange(1, d + 1), mu, "k-", label="exact Gaussian Lyapunov exponents")
ax2.errorbar(np.arange(1, d + 1), benettin.exponents, yerr=2 * benettin.exponents_se, fmt=".", ms=4,
             label="Benettin QR estimate, ±2 s.e.")
ax2.set_xlabel("i")
ax2.set_ylabel(r"$\mu_i$")
ax2.legend(fontsize=8)
fig.tight_layout()

# %%
# The long-run rank of the BN chain, with its standard error.
res = sigdist.RankChain(Network.bn_chain(d, gamma=0.5), n_networks=4, seed=0).run(
    2000 if QUICK else 20000, burn_in=200 if QUICK else 2000, progress=False)
print(f"width {d}, gamma 0.5: long-run E[r(H)] = {res.r_mean:.3f} +- {res.r_mean_se:.3f}, "
      f"E[soft rank] = {res.soft_rank_mean:.3f} +- {res.soft_rank_mean_se:.3f}")
print(f"last layer: BN rank {prof_bn.numerical_rank[-1]:.1f}, vanilla rank {prof_vanilla.numerical_rank[-1]:.1f} "
      f"(Lyapunov prediction {predicted[-1]})")
