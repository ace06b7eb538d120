import numpy as np
import pytest

import sigdist
from sigdist.plotting import (heavy_tailed, plot_cosine, plot_layer_laws, plot_lengths, plot_rank_trace,
                              plot_spectrum, save_figure, use_file_backend)

matplotlib = pytest.importorskip("matplotlib")
use_file_backend()
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _concentrated():
    return sigdist.layer_laws(sigdist.Network.constant(200, 2, 2.0 / 200), 1.0)


def _heavy():  # products of few chi-square variables: isf(1e-3) / median ~ 2000
    return sigdist.layer_laws(sigdist.Network.constant(2, 6, 0.5, activation="linear"), 1.0)


def _labels(ax):
    return ax.get_legend_handles_labels()[1]


def test_layer_laws_choose_a_log_axis_for_a_heavy_tail_and_a_linear_one_otherwise():
    from matplotlib.axes import Axes

    heavy, concentrated = _heavy(), _concentrated()
    assert heavy_tailed(heavy[-1]) and not heavy_tailed(concentrated[-1])
    ax = plot_layer_laws(heavy)
    assert isinstance(ax, Axes) and ax.get_xscale() == "log"
    assert plot_layer_laws(concentrated).get_xscale() == "linear"
    assert plot_layer_laws(concentrated, scale="log").get_xscale() == "log"
    assert plot_layer_laws(heavy, scale="linear").get_xscale() == "linear"
    with pytest.raises(ValueError, match="scale"):
        plot_layer_laws(heavy, scale="logarithmic")


@pytest.mark.parametrize("laws", [_concentrated, _heavy])
def test_layer_laws_label_exact_curves_and_monte_carlo_with_n_and_the_histogram_is_a_density(laws):
    laws = laws()
    samples = laws[-1].rvs(size=4000, random_state=np.random.default_rng(1))
    ax = plot_layer_laws(laws, samples=samples, title="t")
    labels = _labels(ax)
    assert sum(label.startswith("exact") for label in labels) == len(laws)
    assert any(label.startswith("Monte Carlo (n = 4000)") for label in labels)
    hist = ax.patches[0]  # the Monte Carlo stairs: its area is the fraction of samples inside the axis range
    values, edges = hist.get_data()[:2]
    widths = np.diff(np.log(edges)) if ax.get_xscale() == "log" else np.diff(edges)
    inside = np.mean((samples >= edges[0]) & (samples <= edges[-1]))
    assert abs(np.sum(values * widths) - inside) < 1e-9 and inside > 0.99
    # the exact curve (last layer) and the histogram agree bin by bin within Monte Carlo error
    line = [ln for ln in ax.get_lines() if ln.get_label().startswith("exact")][-1]
    centres = np.sqrt(edges[:-1] * edges[1:]) if ax.get_xscale() == "log" else 0.5 * (edges[:-1] + edges[1:])
    exact = np.interp(centres, line.get_xdata(), line.get_ydata())
    se = np.sqrt(np.maximum(exact * widths, 1e-12) / samples.size) / widths
    big = exact * widths > 0.02  # bins holding > 2% of the mass: curvature within a bin is below the noise there
    assert np.all(np.abs(values[big] - exact[big]) < 5 * se[big] + 0.05 * exact[big])


def test_plotting_draws_on_the_callers_axes_and_keeps_the_callers_backend(tmp_path):
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    fig, (a, b) = plt.subplots(1, 2)
    assert plot_layer_laws(_concentrated(), ax=b) is b
    assert save_figure(b, tmp_path / "laws.png") == tmp_path / "laws.png"
    assert (tmp_path / "laws.png").read_bytes()[:8] == PNG
    assert matplotlib.get_backend() == before
    with pytest.raises(ValueError, match="fig_or_ax"):
        save_figure("not a figure", tmp_path / "x.png")


def test_rank_trace_labels_chains_and_shows_the_burn_in(tmp_path):
    from sigdist.rank_chain import RankChain

    res = RankChain(sigdist.Network.bn_chain(8, gamma=0.5), n_networks=3, seed=0).run(400, burn_in=100, tau=0.5)
    ax = plot_rank_trace(res)
    labels = _labels(ax)
    assert [label for label in labels if label.startswith("chain")] == ["chain 1", "chain 2", "chain 3"]
    assert any("burn-in" in label for label in labels)
    assert ax.get_xlim()[0] == 0 and res.trace_steps[0] == 101  # the kept trace starts after the shaded burn-in
    span = [p for p in ax.patches if "burn-in" in p.get_label()][0]
    assert np.isclose(span.get_x() + span.get_width(), 100) or np.isclose(np.max(span.get_xy()[:, 0]), 100)
    save_figure(ax, tmp_path / "trace.png")
    assert (tmp_path / "trace.png").read_bytes()[:8] == PNG


def test_spectrum_cosine_and_lengths_plots_return_axes_with_exact_and_monte_carlo_labels():
    from sigdist.correlation import mean_field_cosines, pair_samples
    from sigdist.length_bounds import theorem5_bounds
    from sigdist.lengths import length_moments
    from sigdist.spectrum import critical_window, log_mellin_eigenvalue

    layer = sigdist.Layer(20, 0.1)
    m = np.linspace(-3, -0.6, 5)
    w = critical_window(layer)
    ax = plot_spectrum(m, log_mellin_eigenvalue(layer, m), (w.m_crit, w.m_upper))
    assert ax.get_yscale() == "log" and any("exact" in label for label in _labels(ax))
    net = sigdist.Network.constant(10, 3, 0.2)
    s = pair_samples(net, 1.0, 1.0, 0.5, n_networks=200, seed=0)
    ax = plot_cosine(s.cosines, mean_field_cosines(net, 1.0, 1.0, 0.5))
    assert any(label.startswith("Monte Carlo (n = 200)") for label in _labels(ax))
    assert any("c-map" in label for label in _labels(ax))
    net = sigdist.initializers.initializer_network("he_normal", [10] * 6)
    x0 = np.ones(10)
    ax = plot_lengths(length_moments(net, x0=x0), theorem5_bounds(net, x0=x0))
    labels = _labels(ax)
    assert sum(label.startswith("exact") for label in labels) == 3 and any("Thm 5" in label for label in labels)


def test_a_path_in_place_of_the_samples_says_how_to_save(tmp_path):
    with pytest.raises(TypeError, match="save_figure"):
        plot_layer_laws(_concentrated(), tmp_path / "laws.png")
