"""Figures (matplotlib, no numerics): part of the application layer with the CLI and the demo.

Every ``plot_*`` function draws on the Axes it is given (``ax=``; a new figure when None) and returns that
Axes; the caller saves it (:func:`save_figure`) or shows it. Exact curves are labelled "exact", simulated
values "Monte Carlo (n = ...)".

Nothing here chooses a matplotlib backend: a notebook keeps its own. The CLI and the validation
scripts, which only write files, choose the non-interactive Agg backend themselves (:func:`use_file_backend`).
"""

from __future__ import annotations

import numpy as np

# scale="auto" draws a log z-axis past the ratio isf(1e-3) / median at which export lays a log-spaced grid
from ._export import HEAVY_RATIO

__all__ = ["plot_layer_laws", "plot_rank_trace", "plot_spectrum", "plot_cosine", "plot_lengths", "save_figure",
           "heavy_tailed", "pyplot", "finish_figure", "use_file_backend"]


def pyplot():
    """``matplotlib.pyplot`` on whatever backend the caller chose (imported only when a figure is drawn)."""
    import matplotlib.pyplot as plt

    return plt


def use_file_backend():
    """Select the non-interactive Agg backend: for programs that only write figures to files (the CLI,
    the validation scripts), never called by the library itself."""
    import matplotlib

    matplotlib.use("Agg")


def _axes(ax, figsize=(7, 4.5)):
    if ax is not None:
        return ax
    _, ax = pyplot().subplots(figsize=figsize)
    return ax


def _labelled(ax, xlabel, ylabel, title, legend=8):
    """Axis labels, the optional title and the legend (its font size): every plot's last step."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=legend)
    return ax


def save_figure(fig_or_ax, path, dpi=120):
    """Write the figure of ``fig_or_ax`` (a Figure or an Axes) to ``path``, close it, and return ``path``."""
    fig = getattr(fig_or_ax, "figure", None) if not hasattr(fig_or_ax, "savefig") else fig_or_ax
    if fig is None:
        raise ValueError(f"fig_or_ax must be a matplotlib Figure or Axes, got {type(fig_or_ax).__name__}")
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


def finish_figure(fig, path, ok, dpi=120):
    """Write a validation figure, report the checks, and return the script's exit code (0 when ``ok``)."""
    save_figure(fig, path, dpi=dpi)
    print(f"figure written to {path}; checks {'passed' if ok else 'FAILED'}")
    return 0 if ok else 1


def heavy_tailed(law):
    """Whether ``law`` is heavy-tailed for plotting: ``isf(1e-3) / median > 20`` (a median of 0 counts)."""
    median = float(law.ppf(0.5))
    upper = float(law.isf(1e-3))
    return not median > 0 or upper / median > HEAVY_RATIO


def plot_layer_laws(laws, samples=None, ax=None, scale="auto", title=None):
    r"""Densities of ``z = |x^(l)|^2``, one exact curve per law, beside a histogram of Monte Carlo samples.

    Parameters
    ----------
    laws : sequence of Law
        E.g. :func:`sigdist.layer_laws`; each curve is labelled with the law's ``label``.
    samples : array_like, optional
        Simulated values of the last law's ``z`` (shape ``(n,)``), or of every law's (shape ``(n, len(laws))``).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    scale : {"auto", "log", "linear"}
        The z-axis. ``"auto"``: log when any law is heavy-tailed (:func:`heavy_tailed`). On a log axis the
        curves are :math:`z f(z)`, the density of :math:`\ln z`, so that areas still read as probabilities.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if scale not in ("auto", "log", "linear"):
        raise ValueError(f"scale must be 'auto', 'log' or 'linear', got {scale!r}")
    if isinstance(samples, (str, bytes)) or hasattr(samples, "__fspath__"):
        raise TypeError("plot_layer_laws takes no path: save the Axes it returns with save_figure(ax, path)")
    laws = list(laws)
    if not laws:
        raise ValueError("laws must hold at least one law")
    log = scale == "log" or (scale == "auto" and any(heavy_tailed(law) for law in laws))
    plt = pyplot()
    ax = _axes(ax)
    cmap = plt.get_cmap("viridis")
    if log:
        # quantiles the laws' grids hold (far-tail quantiles would call the slow exact tail routes), widened
        lo = min(float(law.ppf(law.atom + 0.01 * (1.0 - law.atom))) for law in laws) / 10.0
        hi = max(float(law.isf(1e-3)) for law in laws) * 10.0
        lo = lo if lo > 0 else hi * 1e-8
        z = np.geomspace(lo, hi, 800)
    else:
        hi = max(float(law.ppf(0.999)) for law in laws)
        z = np.linspace(hi * 1e-4, hi, 800)
    for i, law in enumerate(laws):
        y = law.pdf(z) * (z if log else 1.0)
        name = getattr(law, "label", None) or f"layer {i + 1}"
        ax.plot(z, y, color=cmap(i / max(len(laws) - 1, 1)), lw=1.4, label=f"exact, {name}")
    if samples is not None:
        samples = np.asarray(samples, dtype=float)
        columns = samples[:, None] if samples.ndim == 1 else samples
        first = len(laws) - columns.shape[1]
        for j in range(columns.shape[1]):
            x = columns[:, j]
            label = f"Monte Carlo (n = {x.size})" + (f", layer {len(laws)}" if columns.shape[1] == 1 else "")
            color = "0.45" if columns.shape[1] == 1 else cmap((first + j) / max(len(laws) - 1, 1))
            if log:
                edges = np.geomspace(z[0], z[-1], 61)
                counts, _ = np.histogram(x, bins=edges)
                dens = counts / (x.size * np.diff(np.log(edges)))
            else:
                edges = np.linspace(0.0, z[-1], 61)
                counts, _ = np.histogram(x, bins=edges)
                dens = counts / (x.size * np.diff(edges))
            ax.stairs(dens, edges, color=color, alpha=0.7, lw=1.0, label=label if j in (0,) else None)
    if log:
        ax.set_xscale("log")
        ax.set_ylabel(r"density of $\ln z$: $z\,f(z)$")
    else:
        ax.set_ylabel(r"density $f(z)$")
    ax.set_xlabel(r"squared signal norm $z = |x^{(l)}|^2$")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    return ax


def plot_rank_trace(result, ax=None):
    """Trace of ``r(H_l)`` of a :class:`sigdist.rank_chain.RankChainResult`, one line per chain, its long-run
    mean +- 2 s.e., and the burn-in: the steps before the kept trace are shaded (they are not recorded).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax, figsize=(7, 4))
    steps = np.asarray(result.trace_steps)
    trace = np.asarray(result.trace_r).reshape(len(steps), -1)
    for k in range(trace.shape[1]):
        ax.plot(steps, trace[:, k], lw=0.6, alpha=0.8, label=f"chain {k + 1}")
    ax.axhline(result.r_mean, color="k", lw=1.2, label=f"E[r] = {result.r_mean:.4f} +- {result.r_mean_se:.1e}")
    for sign in (-2, 2):
        ax.axhline(result.r_mean + sign * result.r_mean_se, color="k", lw=0.6, ls=":")
    if result.burn_in > 0:
        ax.axvspan(0, result.burn_in, color="0.85", zorder=0, label=f"burn-in (steps 1..{result.burn_in}, not kept)")
    ax.set_xlim(0, max(result.n_steps, 1))
    ax.set_xlabel("layer (chain step)")
    ax.set_ylabel("r(H)")
    ax.set_title(f"BN rank chain: width = {result.width}, N = {result.batch}, gamma = {result.gamma:g}")
    ax.legend(fontsize=7, ncol=2)
    return ax


def plot_spectrum(m, log_eigenvalues, window=None, ax=None, title=None):
    r"""Eigenvalues :math:`\lambda_m` of the transition operator against ``m`` (log scale), the line
    :math:`\lambda = 1`, and the critical window ``(m_crit, m_upper)`` shaded when given.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    m = np.asarray(m, dtype=float)
    ax.plot(m, np.exp(np.minimum(log_eigenvalues, 700.0)), "o-", ms=3, lw=1.4, label=r"exact $\lambda_m$")
    ax.axhline(1.0, color="k", lw=0.6)
    if window is not None:
        lo, hi = window
        ax.axvspan(lo, hi, color="tab:green", alpha=0.15,
                   label=rf"critical window $\lambda_m < 1$: ({lo:.4g}, {hi:.4g})")
    ax.set_yscale("log")
    return _labelled(ax, "m", r"$\lambda_m$", title)


def plot_cosine(cosines, mean_field=None, ax=None, title=None):
    """Per-layer law of the cosine similarity of two inputs: Monte Carlo median, 25-75% and 5-95% bands and
    mean, beside the mean-field c-map.

    Parameters
    ----------
    cosines : array_like, shape (n, depth)
        Simulated cosines (NaN entries, where a signal vanished, are left out).
    mean_field : array_like, shape (depth,), optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    cosines = np.asarray(cosines, dtype=float)
    layers = np.arange(1, cosines.shape[1] + 1)
    q = np.nanquantile(cosines, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    n = cosines.shape[0]
    ax.fill_between(layers, q[0], q[4], color="tab:blue", alpha=0.15, label=f"Monte Carlo (n = {n}): 5-95%")
    ax.fill_between(layers, q[1], q[3], color="tab:blue", alpha=0.3, label="25-75%")
    ax.plot(layers, q[2], color="tab:blue", lw=1.2, label="median")
    ax.plot(layers, np.nanmean(cosines, axis=0), "o", color="tab:blue", ms=3, label="mean")
    if mean_field is not None:
        ax.plot(layers, mean_field, "k--", lw=1.2, label="mean field (c-map), width = infinity")
    return _labelled(ax, "layer l", r"cosine similarity of $x_l$, $x'_l$", title)


def plot_lengths(moments, bounds=None, ax=None, title=None):
    r"""Exact :math:`E[M_l]`, :math:`E[M_l^2]` and :math:`\mathrm{Var}[M_l]` against the layer (log scale),
    with Theorem 5's printed bounds on :math:`E[M_l^2]` when given.

    Parameters
    ----------
    moments : LengthMoments
        :func:`sigdist.lengths.length_moments`.
    bounds : Theorem5Bounds, optional
        :func:`sigdist.length_bounds.theorem5_bounds`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    layers = np.arange(1, len(moments.length_mean) + 1)
    ax.plot(layers, moments.length_mean, lw=1.4, label=r"exact $E[M_l]$")
    ax.plot(layers, moments.length_second_moment, lw=1.4, label=r"exact $E[M_l^2]$")
    ax.plot(layers, moments.length_variance, lw=1.4, label=r"exact Var$[M_l]$")
    if bounds is not None:
        ax.plot(layers, bounds.lower, "k:", lw=1, label=r"Thm 5 lower bound on $E[M_l^2]$")
        ax.plot(layers, bounds.upper, "k--", lw=1,
                label=rf"Thm 5 upper bound ($C_1$={bounds.C1:g}, $C_2$={bounds.C2:g})")
        if bounds.upper_gaussian is not None:
            ax.plot(layers, bounds.upper_gaussian, "k-.", lw=1, label=r"Thm 5 upper bound ($C_1 = C_2 = 4$)")
    ax.set_yscale("log")
    return _labelled(ax, "layer l", r"moments of $M_l = |x_l|^2 / n_l$", title, legend=7)
