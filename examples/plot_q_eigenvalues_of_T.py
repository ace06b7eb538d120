"""
Eigenvalues and eigenvectors of the transition operator T
=========================================================

*What are the eigenpairs of T for my layer, and what do they say?* With a bias (:math:`\\sigma_b > 0`)
the chain :math:`z_l = (\\sigma_w^2 z_{l-1} + \\sigma_b^2) S_l` has a stationary law: the Perron
eigenvector of T (eigenvalue 1); the next eigenvalues set how fast a deep network forgets its input.

Two calls give the eigenpairs:

* :func:`sigdist.discrete_eigen` ``(layer, k)``: the leading ``k`` eigenpairs of the discretised
  operator on the grid :func:`sigdist.stationary_law` uses (:func:`sigdist.stationary.default_stationary_grid`);
* ``sigdist.TransitionOperator(layer).matrix(grid)``: the matrix itself, on a
  :class:`sigdist.grid.LogGrid` you choose (a grid is required: the operator has no default one).

For a relu layer the leading discrete eigenvalues are the exact
:math:`\\lambda_{-(j+1)} = E[(\\sigma_w^2 S)^j]` of :func:`sigdist.mellin_eigenvalue` for the same layer
without bias (the operator maps polynomials of degree ``j`` to themselves, triangularly), and the Perron vector is the stationary law,
which real deep networks sample. Higher eigenvalues (j >= 4 here) live on far tails that the grid cuts
off, and the discrete ones fall below the exact values: read them as the grid's, not the operator's.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

import sigdist
from sigdist import Layer
from sigdist.montecarlo import dense_squared_norms

QUICK = os.environ.get("SIGDIST_DOCS_QUICK") == "1"
n_networks = 2000 if QUICK else 40000

layer = Layer(20, 1.0 / 20, sigma_b2=0.5)
spectrum = sigdist.discrete_eigen(layer, k=6)
# T maps a polynomial of degree j to one of degree j with leading coefficient E[(sigma_w^2 S)^j], which
# does not depend on the bias: the Mellin eigenvalue of the same layer without bias
exact = [sigdist.mellin_eigenvalue(Layer(20, 1.0 / 20), -(j + 1)) for j in range(6)]
for j, (lam, ex) in enumerate(zip(spectrum.eigenvalues, exact)):
    print(f"eigenvalue {j}: discrete {lam.real:.8f}, exact E[(sigma_w^2 S)^{j}] = {ex:.8f}")

# the same grid, and the operator's matrix on it (a LogGrid is required)
operator = sigdist.TransitionOperator(layer)
grid = sigdist.stationary.default_stationary_grid(operator, 1e-8)
T = operator.matrix(grid)
print(f"grid {grid}; matrix shape {T.shape}")

stationary = sigdist.stationary_law(layer)
deep = sigdist.Network([layer] * 40)  # 40 layers: the second eigenvalue 0.5 leaves 0.5^40 of the input
z = dense_squared_norms(deep, np.ones(20) / np.sqrt(20), n_networks, seed=0)[:, -1]

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.8))
ax1.semilogy(range(6), np.abs(spectrum.eigenvalues), "o", label="discrete_eigen")
ax1.semilogy(range(6), exact, "k+", ms=12, label=r"exact $E[(\sigma_w^2 S)^j]$")
ax1.set_xlabel("j")
ax1.set_ylabel("|eigenvalue|")
ax1.legend()
t = np.linspace(stationary.ppf(1e-4), stationary.isf(1e-4), 400)
ax2.plot(t, stationary.pdf(t), "k", label="stationary law (Perron vector)")
ax2.hist(z, bins=60, density=True, histtype="step", label=f"layer 40, Monte Carlo (n = {n_networks})")
ax2.set_xlabel(r"$z = |x_l|^2$")
ax2.legend(fontsize=8)
fig.tight_layout()
print(f"stationary mean {stationary.mean():.4f} (MC at layer 40: {z.mean():.4f} +- {z.std() / np.sqrt(z.size):.4f})")
