"""Figures (matplotlib, no numerics): part of the application layer with the CLI and the demo.

Nothing here chooses a matplotlib backend: a notebook keeps its own. The CLI and the validation
scripts, which only write files, choose the non-interactive Agg backend themselves.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_layer_laws", "plot_rank_trace", "pyplot", "finish_figure", "use_file_backend"]


def pyplot():
    """``matplotlib.pyplot`` on whatever backend the caller chose (imported only when a figure is drawn)."""
    import matplotlib.pyplot as plt

    return plt


def use_file_backend():
    """Select the non-interactive Agg backend: for programs that only write figures to files (the CLI,
    the validation scripts), never called by the library itself."""
    import matplotlib

    matplotlib.use("Agg")


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


def plot_rank_trace(result, path):
    """Trace of ``r(H_l)`` of a :class:`sigdist.rank_chain.RankChainResult`, with its long-run mean and +-2 s.e."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for k in range(result.trace_r.shape[1]):
        ax.plot(result.trace_steps, result.trace_r[:, k], lw=0.6, alpha=0.7)
    ax.axhline(result.r_mean, color="k", lw=1.2, label=f"E[r] = {result.r_mean:.4f} +- {result.r_mean_se:.1e}")
    for sign in (-2, 2):
        ax.axhline(result.r_mean + sign * result.r_mean_se, color="k", lw=0.6, ls=":")
    ax.axvline(result.burn_in, color="0.5", lw=0.8, ls="--", label="burn-in")
    ax.set_xlabel("layer (chain step)")
    ax.set_ylabel("r(H)")
    ax.set_title(f"BN rank chain: width = {result.width}, N = {result.batch}, gamma = {result.gamma:g}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
