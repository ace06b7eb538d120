"""Checkpoints of the BN rank chain: exact resume, rollback on interrupt, and refusal of damaged or old files."""

import json

import numpy as np
import pytest

from sigdist import Network
from sigdist.rank_chain import RankChain


def _chain(width, gamma, **kwargs):
    return RankChain(Network.bn_chain(width, gamma=gamma), **kwargs)


def test_checkpoint_resume_is_exact(tmp_path):
    path = tmp_path / "chain.npz"
    full = _chain(12, 0.5, n_networks=2, seed=9).run(400, burn_in=50, tau=0.5)
    part = _chain(12, 0.5, n_networks=2, seed=9)
    part.run(170, burn_in=50, tau=0.5, checkpoint=path)
    resumed = RankChain.load(path).run(400, burn_in=50, tau=0.5, checkpoint=path)
    assert resumed.n_steps == 400
    for field in ("r_mean", "r_mean_se", "soft_rank_mean", "soft_rank_mean_se", "n_recorded", "lemma1_violations"):
        assert getattr(resumed, field) == getattr(full, field), field
    np.testing.assert_array_equal(resumed.trace_r, full.trace_r)


@pytest.mark.parametrize("weight_law", ["uniform", "orthogonal"])
def test_checkpoint_keeps_the_layer(tmp_path, weight_law):
    path = tmp_path / "chain.npz"
    network = Network.bn_chain(6, gamma=0.3, weight_law=weight_law)
    full = RankChain(network, seed=1, batch=4).run(200, tau=0.5)
    RankChain(network, seed=1, batch=4).run(90, tau=0.5, checkpoint=path)
    loaded = RankChain.load(path)
    assert (loaded.width, loaded.gamma, loaded.weight_law.name, loaded.batch) == (6, 0.3, weight_law, 4)
    assert loaded.run(200, tau=0.5).r_mean == full.r_mean


def test_trace_is_bounded_and_independent_of_how_the_run_was_split(tmp_path, monkeypatch):
    import sigdist.rank_chain as rc

    monkeypatch.setattr(rc, "_TRACE_POINTS", 50)
    full = _chain(4, 0.5, seed=2).run(1000, tau=0.5)
    path = tmp_path / "c.npz"
    _chain(4, 0.5, seed=2).run(130, tau=0.5, checkpoint=path)
    resumed = RankChain.load(path).run(1000, tau=0.5)
    assert 25 <= full.trace_steps.size <= 50
    np.testing.assert_array_equal(resumed.trace_steps, full.trace_steps)
    np.testing.assert_array_equal(resumed.trace_r, full.trace_r)


def test_interrupt_keeps_the_statistics(tmp_path, monkeypatch):
    path = tmp_path / "chain.npz"
    full = _chain(10, 1.0, n_networks=2, seed=4).run(2000, tau=0.5)
    chain = _chain(10, 1.0, n_networks=2, seed=4)
    original = RankChain._advance
    calls = {"n": 0}

    def interrupted(self, size):
        calls["n"] += 1
        if calls["n"] == 5:
            original(self, size)  # the state moves on, then the interrupt lands before it is committed
            raise KeyboardInterrupt
        original(self, size)

    monkeypatch.setattr(RankChain, "_advance", interrupted)
    monkeypatch.setattr(RankChain, "_block_len", lambda self: 100)
    with pytest.raises(KeyboardInterrupt):
        chain.run(2000, tau=0.5, checkpoint=path)
    monkeypatch.setattr(RankChain, "_advance", original)
    saved = RankChain.load(path)
    assert saved.n_steps == 400
    assert chain.n_steps == 400  # the live object is rolled back to the same committed state
    assert saved.run(2000, tau=0.5).r_mean == full.r_mean
    assert chain.run(2000, tau=0.5).r_mean == full.r_mean


def test_torch_backend_checkpoint_resume_is_exact(tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "torch_chain.npz"
    kwargs = dict(n_networks=2, seed=3, backend="torch", device="cpu")
    full = _chain(8, 0.5, **kwargs).run(300, tau=0.5)
    _chain(8, 0.5, **kwargs).run(120, tau=0.5, checkpoint=path)
    resumed = RankChain.load(path).run(300, tau=0.5)
    assert resumed.r_mean == full.r_mean and resumed.soft_rank_mean == full.soft_rank_mean


def test_rank_chain_checks_the_checkpoint_path_before_running(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    chain = _chain(4, 0.5, seed=0)
    monkeypatch.setattr(RankChain, "_advance", lambda self, size: pytest.fail("the chain ran before the check"))
    for bad in (blocker / "c.npz", tmp_path / "missing" / "c.npz", tmp_path):
        with pytest.raises(ValueError, match="checkpoint must be a"):
            chain.run(10, checkpoint=bad)
    assert chain.n_steps == 0


def _edit_checkpoint(path, meta=None, drop=(), **arrays):
    with np.load(path) as data:
        content = {key: np.array(data[key]) for key in data.files}
    if meta is not None:
        edited = {**json.loads(str(content["meta"])), **meta}
        content["meta"] = np.array(json.dumps({k: v for k, v in edited.items() if k not in drop}))
    content.update(arrays)
    np.savez(path, **content)


@pytest.mark.parametrize("meta, arrays, field", [
    ({"n_steps": 10**9}, {}, "r_ints count must be"),
    ({"n_steps": 1e9}, {}, "n_steps must be an integer >= 0"),
    ({"n_steps": -5}, {}, "n_steps must be an integer >= 0"),
    ({"lemma1_violations": -1}, {}, "lemma1_violations must be an integer >= 0"),
    ({"lemma1_violations": 10**6}, {}, "lemma1_violations must be <="),
    ({"gamma": -1}, {}, "gamma must be a number > 0"),
    ({"sigma_w2": 0}, {}, "sigma_w2 must be a finite number > 0"),
    ({"weight_law": "cauchy"}, {}, "weight_law must be one of"),
    ({"width": 1}, {}, "width must be an integer >= 2"),
    ({"n_networks": 3}, {}, "L must be a float array of shape"),
    ({"tau": 2.0}, {}, "tau must be a number in"),
    ({"thin": 0}, {}, "thin must be an integer >= 1"),
    ({"center": "no"}, {}, "center must be True or False"),
    ({}, {"L": "zero row"}, "L has an all-zero row"),
    ({}, {"L": "nan"}, "L must be finite"),
    ({}, {"r_ints": np.array([32, 1, 0, -3])}, "r_ints count must be"),
])
def test_rank_chain_load_refuses_inconsistent_checkpoints(tmp_path, meta, arrays, field):
    path = tmp_path / "c.npz"
    _chain(4, 0.5, n_networks=2, seed=0).run(50, burn_in=10, checkpoint=path)
    RankChain.load(path)  # the untouched file loads
    with np.load(path) as data:
        L = np.array(data["L"])
    if isinstance(arrays.get("L"), str) and arrays["L"] == "zero row":
        L[1, 2] = 0.0
        arrays["L"] = L
    elif isinstance(arrays.get("L"), str) and arrays["L"] == "nan":
        L[0, 0, 0] = np.nan
        arrays["L"] = L
    _edit_checkpoint(path, meta, **arrays)
    with pytest.raises(ValueError, match=field):
        RankChain.load(path)


def test_a_checkpoint_of_the_first_format_is_refused_with_the_renames(tmp_path):
    path = tmp_path / "c.npz"
    _chain(4, 0.5, n_networks=2, seed=0).run(50, checkpoint=path)
    renamed = {"d": 4, "n_chains": 2, "steps": 50, "violations": 0, "version": 1}
    _edit_checkpoint(path, renamed, drop=("width", "n_networks", "n_steps", "lemma1_violations", "sigma_w2"))
    with pytest.raises(ValueError, match=r"version must be 2, got 1 \(a file of sigdist 0.1.*width, n_networks"):
        RankChain.load(path)
