"""Progress on long work: a bar on stderr when asked (or once slow), none with progress=False, no number changed."""

import numpy as np
import pytest

import sigdist as sd
from sigdist import Layer, Network
from sigdist._progress import progress_bar
from sigdist.montecarlo import dense_squared_norms, smc_moment

BIASED = Layer(2, 0.45, sigma_b2=1.0)

# (name shown in the bar, call taking progress=...): each a small run of an entry point that can be long
CALLS = {
    "rank chain": lambda progress: sd.RankChain(Network.bn_chain(4, gamma=0.5), n_networks=2, seed=0).run(
        40, burn_in=4, progress=progress).r_mean,
    "laws of |x|^2": lambda progress: sd.layer_laws(Network.he([5] * 4), progress=progress)[-1].cdf(1.0),
    "stationary law": lambda progress: sd.stationary_law(BIASED, tol=1e-4, progress=progress).cdf(1.0),
    "mixing depth": lambda progress: sd.mixing_depth(BIASED, eps=0.1, tol=1e-4, progress=progress).distances,
    "real networks": lambda progress: dense_squared_norms(Network.he([5] * 3), np.ones(5), 20, seed=0,
                                                          progress=progress),
    "sequential Monte Carlo": lambda progress: smc_moment(Network.he([5] * 3), n_networks=50, n_replicates=2,
                                                          seed=0, progress=progress).estimate,
    "Lyapunov spectrum": lambda progress: sd.lyapunov_spectrum(Layer(4, 0.25, activation="linear"), 10,
                                                               n_networks=2, seed=0, progress=progress).exponents,
    "ranks of hidden layers": lambda progress: sd.hidden_rank_profile(
        Network.bn_chain(4, gamma=0.5), n_networks=2, rtol=1e-8, seed=0, progress=progress).soft_rank,
}


def _simulate(progress):
    pytest.importorskip("torch")
    from sigdist.montecarlo import simulate

    return simulate(Network.he([5] * 3), np.ones(5), 20, seed=0, progress=progress).squared_norms


CALLS["real networks (torch)"] = _simulate


@pytest.mark.parametrize("name", sorted(CALLS))
def test_progress_true_draws_a_bar_on_stderr_and_false_draws_nothing(name, capfd):
    call = CALLS[name]
    silent = call(False)
    out, err = capfd.readouterr()
    assert err == "" and out == ""
    shown = call(True)
    out, err = capfd.readouterr()
    assert out == ""
    assert name.replace(" (torch)", "") in err
    # the bar only watches: the same seed gives the same numbers with and without it
    np.testing.assert_array_equal(np.asarray(silent), np.asarray(shown))


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("bad", ["yes", 1, 0.5])
def test_a_bad_progress_is_refused_naming_it(name, bad):
    with pytest.raises(ValueError, match="progress"):
        CALLS[name](bad)


def test_the_default_stays_silent_for_quick_work(capfd):
    sd.layer_laws(Network.he([5] * 4))
    sd.RankChain(Network.bn_chain(4, gamma=0.5), seed=0).run(20, burn_in=2)
    with progress_bar(3, "quick", None) as bar:
        for _ in range(3):
            bar.update()
        bar.set_postfix_str("a stage")
    assert capfd.readouterr().err == ""


def test_the_bar_counts_to_its_total_and_shows_its_stage(capfd):
    with progress_bar(5, "five layers", True, unit="layer") as bar:
        bar.set_postfix_str("stage two")
        bar.update(2)
        bar.total = 6
        bar.update(4)
    err = capfd.readouterr().err
    assert "five layers" in err and "6/6" in err and "stage two" in err and "layer" in err


@pytest.mark.parametrize("progress", [None, True, False])
def test_an_interrupt_closes_the_bar_and_goes_on(progress):
    with pytest.raises(KeyboardInterrupt):
        with progress_bar(10, "interrupted", progress) as bar:
            bar.update(3)
            raise KeyboardInterrupt
    if progress is not False:
        assert bar._bar.disable  # tqdm marks a closed bar disabled


def test_an_interrupted_chain_with_a_bar_keeps_its_committed_steps(monkeypatch, capfd):
    chain = sd.RankChain(Network.bn_chain(4, gamma=0.5), n_networks=2, seed=0)
    chain.run(30, burn_in=3, progress=True)
    original = sd.RankChain._advance

    def interrupted(self, size):
        original(self, size)
        raise KeyboardInterrupt

    monkeypatch.setattr(sd.RankChain, "_advance", interrupted)
    with pytest.raises(KeyboardInterrupt):
        chain.run(60, burn_in=3, progress=True)
    assert chain.n_steps == 30  # rolled back to the last committed block
    monkeypatch.undo()
    resumed = chain.run(60, burn_in=3, progress=False)
    straight = sd.RankChain(Network.bn_chain(4, gamma=0.5), n_networks=2, seed=0).run(60, burn_in=3, progress=False)
    assert resumed.r_mean == straight.r_mean
    assert "rank chain" in capfd.readouterr().err
