"""
Is my initialisation FM1/FM2-safe? (Hanin & Rolnick 2018, Fig. 1a and Fig. 3)
==============================================================================

Hanin & Rolnick name two failure modes of deep relu nets at initialisation, in terms of the lengths
:math:`M_j = |x_j|^2 / n_j`:

* **FM1**: the mean length :math:`E[M_d]` explodes or vanishes with depth (wrong weight variance);
* **FM2**: the empirical variance of :math:`M_1, \\dots, M_d` across layers is large (too narrow layers:
  it grows like :math:`\\sum_j 1/n_j`).

:func:`sigdist.length_moments` gives the exact :math:`E[M_j]` and :math:`\\mathrm{Var}[M_j]` for any
widths and weight law (:func:`sigdist.initializer_network` builds the initialisers users call), and
:func:`sigdist.empirical_variance` the exact FM2 quantity. Real dense networks check both.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

import sigdist
from sigdist.montecarlo import dense_squared_norms

QUICK = os.environ.get("SIGDIST_DOCS_QUICK") == "1"
n_networks = 300 if QUICK else 4000

# %%
# FM1: the mean length against depth for several initialisers (width = depth, as the paper's Fig. 1a)
# (He uniform has He normal's mean, and at constant width Glorot's is LeCun's: not drawn twice)
fig, ax1 = plt.subplots(figsize=(7, 4))
depths = np.arange(10, 101, 10)
for name in ["he_normal_2x", "he_normal", "he_normal_truncated", "lecun_normal"]:
    means = [sigdist.length_moments(sigdist.initializer_network(name, [d] * (d + 1)), x0=np.ones(d)).length_mean[-1]
             for d in depths]
    ax1.semilogy(depths, means, "-", label=name)
    print(f"{name}: E[M_d]/M_0 at d = 100: {means[-1]:.3e}")
for name, marker in [("he_normal", "o"), ("lecun_normal", "s")]:  # Gaussian: real dense networks in numpy
    for d in [10, 20]:
        net = sigdist.initializer_network(name, [d] * (d + 1))
        M = dense_squared_norms(net, np.ones(d), n_networks, seed=d)[:, -1] / d
        ax1.errorbar([d], [M.mean()], yerr=[2 * M.std() / np.sqrt(M.size)], fmt=marker, color="k", ms=4)
ax1.plot([], [], "ko", ms=4, label=f"Monte Carlo (n = {n_networks})")
ax1.set_xlabel("depth d (= width)")
ax1.set_ylabel(r"$E[M_d] / M_0$")
ax1.set_title("FM1: only the He variance keeps the mean")
ax1.legend(fontsize=8)

# %%
# FM2: the mean empirical variance of the lengths, for the architectures of the paper's Fig. 3
# (He normal, M_0 = 1), against sum 1/n_j: it grows exponentially in the sum, whatever the order of the widths.
fig, ax2 = plt.subplots(figsize=(7, 4))
archs = {"alternating 30/10": lambda d: [30 if j % 2 else 10 for j in range(d)],
         "30 then 10": lambda d: [30] * (d // 2) + [10] * (d - d // 2),
         "10 then 30": lambda d: [10] * (d // 2) + [30] * (d - d // 2),
         "constant 15": lambda d: [15] * d, "constant 20": lambda d: [20] * d}
for label, widths_of in archs.items():
    xs, ys = [], []
    for d in range(10, 101, 10):
        hidden = widths_of(d)
        net = sigdist.Network.he([hidden[0]] + hidden)
        xs.append(sum(1.0 / n for n in hidden))
        ys.append(sigdist.empirical_variance(net, float(hidden[0])))
    ax2.semilogy(xs, ys, "o-", ms=3, label=label)
hidden = archs["alternating 30/10"](6)
net = sigdist.Network.he([hidden[0]] + hidden)
M = dense_squared_norms(net, np.ones(hidden[0]), n_networks * 4, seed=1) / np.array(hidden)
emp = M.var(axis=1)  # empirical variance of (M_1..M_6) in each network
exact6 = sigdist.empirical_variance(net, float(hidden[0]))
ax2.errorbar([sum(1.0 / n for n in hidden)], [emp.mean()], yerr=[2 * emp.std() / np.sqrt(emp.size)], fmt="k*",
             ms=8, label="Monte Carlo, depth 6")
print(f"FM2, alternating 30/10, depth 6: exact {exact6:.4f}, Monte Carlo {emp.mean():.4f} "
      f"+- {emp.std() / np.sqrt(emp.size):.4f}")
ax2.set_xlabel(r"$\sum_j 1/n_j$")
ax2.set_ylabel("E[empirical variance of M_j]")
ax2.set_title("FM2: grows with the sum of 1/width (log scale)")
ax2.legend(fontsize=7)
fig.tight_layout()

# %%
# A verdict for one network: mine has widths 784, 100 x 20 and He normal weights.
mine = sigdist.initializer_network("he_normal", [784] + [100] * 20)
m = sigdist.length_moments(mine, 784.0)
print(f"FM1: E[M_20]/M_0 = {m.length_mean[-1]:.4f} (1 is safe); "
      f"FM2: E[empirical variance] = {sigdist.empirical_variance(mine, 784.0):.4f}, "
      f"Var[M_20] = {m.length_variance[-1]:.4f} (sum 1/n_j = {20 / 100:.2f})")
