"""Figures (matplotlib, no numerics)."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_layer_laws", "pyplot", "finish_figure"]


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (figures are written to files)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_layer_laws(laws, path, samples=None, title=None):
    """Densities of ``|x^(l)|^2`` for each law, optionally over a histogram of samples of the last layer."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    hi = max(float(law.ppf(0.999)) for law in laws)
    z = np.linspace(hi * 1e-4, hi, 800)
    cmap = plt.get_cmap("viridis")
    for i, law in enumerate(laws):
        ax.plot(z, law.pdf(z), color=cmap(i / max(len(laws) - 1, 1)), lw=1.4, label=law.label)
    if samples is not None:
        ax.hist(samples, bins=60, range=(0, hi), density=True, color="0.6", alpha=0.5,
                label=f"Monte Carlo, layer {len(laws)} ({len(samples)} networks)")
    ax.set_xlabel(r"squared signal norm $z = |x^{(l)}|^2$")
    ax.set_ylabel("density")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def finish_figure(fig, path, ok, dpi=120):
    """Write a validation figure, report the checks, and return the script's exit code (0 when ``ok``)."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    print(f"figure written to {path}; checks {'passed' if ok else 'FAILED'}")
    return 0 if ok else 1
