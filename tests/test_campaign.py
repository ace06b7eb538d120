"""sigdist.campaign: Monte Carlo in seeded blocks on dask workers, reduced to moments and a histogram."""

import numpy as np
import pytest

pytest.importorskip("distributed")
pytestmark = pytest.mark.filterwarnings("ignore:Port .* is already in use")

import sigdist  # noqa: E402

NET = sigdist.Network.constant(6, 3, 0.3)  # E z = (6 * 0.3 / 2)^3 = 0.729; a visible atom (7/64 at layer 1 alone)


@pytest.fixture(scope="module")
def clusters():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as one, \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as two, \
            Client(one, set_as_default=False) as c1, Client(two, set_as_default=False) as c2:
        yield c1, c2


def _fields(c):
    return (c.power_sums, c.counts, c.below, c.above, c.nonfinite, c.atom, c.first_moment, c.second_moment_se)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_one_and_two_workers_and_the_serial_loop_agree_to_the_bit(clusters, backend):
    if backend == "torch":
        pytest.importorskip("torch")
    runs = [sigdist.campaign(NET, 1.0, 3000, client=client, block=400, seed=11, backend=backend)
            for client in ("serial", *clusters)]
    assert runs[0].n_blocks == 8  # 7 full blocks and one of 200
    for other in runs[1:]:
        for a, b in zip(_fields(runs[0]), _fields(other)):
            np.testing.assert_array_equal(a, b)
    assert runs[0].backend.startswith("torch" if backend == "torch" else "numpy")


def test_moments_atom_and_histogram_agree_with_the_exact_law():
    c = sigdist.campaign(NET, 1.0, 20000, client="serial", block=5000, seed=2, backend="numpy")
    law = sigdist.squared_norm_law(NET)
    assert c.counts.sum() + round(c.atom * c.n_networks) + c.below + c.above == c.n_networks
    assert abs(c.first_moment - law.mean()) < 4 * c.first_moment_se
    assert abs(c.second_moment - law.moment(2)) < 4 * c.second_moment_se
    assert abs(c.atom - law.atom) < 4 * c.atom_se
    F, se = c.edge_cdf()
    inside = (se > 0)
    z = (F[inside] - law.cdf(c.bin_edges[inside])) / se[inside]
    assert np.max(np.abs(z)) < 4.5  # ~100 correlated edges
    # a test that can fail: a law with another sigma_w2 is rejected by the same statistic
    wrong = sigdist.squared_norm_law(sigdist.Network.constant(6, 3, 0.33))
    assert np.max(np.abs((F[inside] - wrong.cdf(c.bin_edges[inside])) / se[inside])) > 6
    q = c.quantile([0.25, 0.5, 0.9])
    np.testing.assert_allclose(q, law.ppf([0.25, 0.5, 0.9]), rtol=0.1)


def test_the_seed_decides_the_numbers():
    a = sigdist.campaign(NET, 2.0, 500, client="serial", block=100, seed=5, backend="numpy")
    b = sigdist.campaign(NET, 2.0, 500, client="serial", block=100, seed=5, backend="numpy")
    c = sigdist.campaign(NET, 2.0, 500, client="serial", block=100, seed=6, backend="numpy")
    assert a.first_moment == b.first_moment and a.first_moment != c.first_moment
    assert a.seed == "5"
    ds = a.to_xarray()
    assert ds.counts.dims == ("bin",) and int(ds.counts.sum()) == int(a.counts.sum())


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_networks=0), "n_networks"),
    (dict(block=0), "block"),
    (dict(bins=[1.0, 0.5]), "bins"),
    (dict(backend="jax"), "backend"),
    (dict(progress="sometimes"), "progress"),
    (dict(client=3), "client"),
    (dict(y0=-1.0), "y0"),
])
def test_bad_input_is_refused_by_name(kwargs, message):
    args = dict(network=NET, y0=1.0, n_networks=100, client="serial")
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        sigdist.campaign(**args)


def test_a_quantile_outside_the_histograms_range_is_refused_naming_it():
    c = sigdist.campaign(NET, 1.0, 2000, client="serial", block=1000, seed=3, backend="numpy", bins=[0.1, 1.0, 2.0])
    assert c.below > 0 and c.above > 0
    F, _ = c.edge_cdf()
    inside = 0.5 * (F[0] + F[-1])
    assert 0.1 < c.quantile(inside) < 2.0
    assert c.quantile(c.atom / 2) == 0.0
    for q in (F[-1] + (1 - F[-1]) / 2, c.atom + (F[0] - c.atom) / 2):
        with pytest.raises(ValueError, match="histogram's range"):
            c.quantile(q)
    with pytest.raises(ValueError, match="histogram's range"):
        c.quantile([inside, 0.9999])


@pytest.mark.parametrize("bad, moment", [(np.inf, np.inf), (np.nan, np.nan)])
def test_non_finite_samples_make_the_moments_non_finite_with_a_warning(monkeypatch, bad, moment):
    import importlib

    module = importlib.import_module("sigdist.campaign")
    reduce = module._reduce
    monkeypatch.setattr(module, "_reduce", lambda z, edges: reduce(np.where(np.arange(z.size) == 0, bad, z), edges))
    with pytest.warns(sigdist.SigdistWarning, match="2 of 400 networks gave a non-finite z"):
        c = sigdist.campaign(NET, 1.0, 400, client="serial", block=200, seed=1, backend="numpy")
    assert c.nonfinite == 2
    np.testing.assert_array_equal([c.first_moment, c.second_moment, c.first_moment_se], moment)
    assert 0 < c.atom < 1  # the atom still counts all networks


class NoTasks:
    def submit(self, *args, **kwargs):
        raise AssertionError("a block was submitted")


def test_device_and_a_missing_torch_are_refused_before_any_block(monkeypatch):
    import importlib

    with pytest.raises(ValueError, match="device must be"):
        sigdist.campaign(NET, 1.0, 100, client=NoTasks(), device="gpu")
    with pytest.raises(ValueError, match="device='cuda' needs the torch backend"):
        sigdist.campaign(NET, 1.0, 100, client=NoTasks(), backend="numpy", device="cuda")
    monkeypatch.setattr(importlib.import_module("sigdist.campaign"), "_has_torch", lambda: False)
    with pytest.raises(ValueError, match="backend='torch' needs torch"):
        sigdist.campaign(NET, 1.0, 100, client=NoTasks(), backend="torch")
