"""
The law of the output norm of my network
========================================

*I have a network: widths, an activation, an initialisation. What is the law of* :math:`|x_L|^2`
*at initialisation for my input?* Describe the network once (:class:`sigdist.Network` or a list of
:class:`sigdist.Layer`), then :func:`sigdist.squared_norm_law` returns a :class:`sigdist.Law`: the
``scipy.stats`` frozen-distribution contract (``pdf``, ``cdf``, ``ppf``, ``sf``, ``logsf``, ``isf``,
``mean``, ``interval`` ...) with its own ``error_estimate``. Here a tanh network with biases and
changing widths, any activation works the same way.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

import sigdist
from sigdist import Layer, Network
from sigdist.montecarlo import dense_squared_norms

QUICK = os.environ.get("SIGDIST_DOCS_QUICK") == "1"
n_networks = 2000 if QUICK else 50000

widths = [32, 64, 64, 16]  # N_0 .. N_3
net = Network([Layer(n, 1.0 / fan_in, sigma_b2=0.05, activation="tanh")  # LeCun variance, small bias
               for fan_in, n in zip(widths[:-1], widths[1:])])
y0 = 32.0  # |x_0|^2 of my input (unit-variance entries)
law = sigdist.squared_norm_law(net, y0)
x0 = np.full(32, 1.0)  # an input with |x_0|^2 = 32
z = dense_squared_norms(net, x0, n_networks, seed=0)[:, -1]

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.8))
grid = np.linspace(law.ppf(1e-4), law.isf(1e-4), 400)
ax1.plot(grid, law.pdf(grid), "k", label="exact")
ax1.hist(z, bins=60, density=True, histtype="step", label=f"Monte Carlo (n = {n_networks})")
ax1.set_xlabel(r"$|x_L|^2$")
ax1.set_ylabel("density")
ax1.legend()
t = np.linspace(law.median(), law.isf(1e-12), 200)
ax2.semilogy(t, law.sf(t), "k", label="exact P(z > t)")
emp = (z[None, :] > t[:, None]).mean(axis=1)
ax2.semilogy(t[emp > 0], emp[emp > 0], ".", ms=3, label="Monte Carlo")
ax2.set_xlabel("t")
ax2.set_title("right tail: exact far beyond sampling")
ax2.legend()
fig.tight_layout()

# %%
# The numbers a user reads off the law.
print(f"mean {law.mean():.4f} (MC {z.mean():.4f} +- {z.std() / np.sqrt(z.size):.4f})")
print(f"5% and 95% quantiles {np.round(law.ppf([0.05, 0.95]), 4)} "
      f"(MC {np.round(np.quantile(z, [0.05, 0.95]), 4)})")
print(f"P(|x_L|^2 > 2 E|x_L|^2) = {law.sf(2 * law.mean()):.3e}; "
      f"the 1e-12 quantile from the right: {law.isf(1e-12):.4f}")
print(f"error estimate of the CDF {law.error_estimate:.1e}, mass lost {law.mass_lost:.1e}")
