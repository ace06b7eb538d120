"""sigdist.sweep: grids of analyses on dask.distributed, returned as xarray."""

import json
import math
import os

import numpy as np
import pytest

pytest.importorskip("distributed")
pytestmark = pytest.mark.filterwarnings("ignore:Port .* is already in use")

import sigdist  # noqa: E402
from sigdist.analyses import ANALYSES  # noqa: E402

CALLS = []


def counted(network, y0=1.0, seed=None):
    """A random user analysis that records every call (serial runs share this process)."""
    CALLS.append((network[0].width, network[0].sigma_w2, y0))
    return {"draw": float(np.random.default_rng(seed).standard_normal()), "scaled": y0 * network[0].sigma_w2}


def fails_at_large_width(network):
    if network[0].width > 10:
        raise ValueError(f"no value for width {network[0].width}")
    return {"value": float(network[0].width)}


INTERRUPT_AT = []


def interrupted(network, seed=None):
    """Stops the whole run (as Ctrl-C would) at the width listed in INTERRUPT_AT."""
    if network[0].width in INTERRUPT_AT:
        raise KeyboardInterrupt
    CALLS.append(network[0].width)
    return {"draw": float(np.random.default_rng(seed).standard_normal())}


class NoTasks:
    """A client that fails the test if anything is submitted to it."""

    def submit(self, *args, **kwargs):
        raise AssertionError("a task was submitted")


@pytest.fixture(scope="module")
def in_process():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        yield client


COSINE_GRID = dict(sigma_w2=[0.1, 0.2, 0.3], width=[4, 8], depth=2, n_networks=50)


def test_dims_coords_and_attributes_are_the_documented_ones():
    ds = sigdist.sweep("squared_norm_law", sigma_w2=[0.1, 0.2], width=[10, 20, 30], depth=2, client="serial",
                       seed=1)
    assert ds.squared_norm.dims == ("sigma_w2", "width", "quantile")
    assert ds.first_moment.dims == ds.error.dims == ("sigma_w2", "width")
    np.testing.assert_array_equal(ds.width, [10, 20, 30])
    np.testing.assert_array_equal(ds["quantile"], [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    assert int(ds.depth) == 2  # a fixed scalar is a scalar coordinate
    for name in ("squared_norm", "first_moment", "atom", "error_estimate", "mass_lost"):
        assert ds[name].attrs["units"] and ds[name].attrs["description"]
    assert ds.attrs["analysis"] == "squared_norm_law" and ds.attrs["sigdist_version"] == sigdist.__version__
    assert ds.attrs["seed"] == "1" and ds.attrs["failed_points"] == 0
    assert (ds.error == "").all()
    # the values are those of the analysis called directly on Network.constant
    law = sigdist.squared_norm_law(sigdist.Network.constant(20, 2, 0.2))
    assert float(ds.first_moment.sel(sigma_w2=0.2, width=20)) == law.mean()
    assert float(ds.squared_norm.sel(sigma_w2=0.2, width=20, quantile=0.5)) == law.ppf(ds["quantile"].values)[3]


def test_sigma_w2_is_the_variance_of_one_weight_not_scaled_by_width():
    # He initialisation sigma_w2 = 2 / width has tail index 1 (Burkholz & Dubatovka); a 1/width rescaling would not
    widths = np.array([5, 20])
    ds = sigdist.sweep("tail_index", width=widths, sigma_w2=[2 / 5, 2 / 20, 0.05], client="serial")
    np.testing.assert_allclose([float(ds.tail_index.isel(width=i, sigma_w2=i)) for i in range(2)], 1.0, rtol=1e-10)
    assert float(ds.tail_index.isel(width=0, sigma_w2=2)) > 1.0  # smaller weights: lighter tail


def test_every_registered_analysis_runs_at_a_point():
    for name, analysis in ANALYSES.items():
        extra = {"gamma": 0.5, "n_steps": 60, "burn_in": 10} if analysis.network_kind == "bn_chain" else \
            {"sigma_w2": 0.2, "depth": 2}
        if name == "mean_cosine":
            extra["n_networks"] = 20
        ds = sigdist.sweep(name, width=[6], client="serial", seed=0, **extra)
        assert (ds.error == "").all(), (name, ds.error.values)
        for o in analysis.outputs:
            assert o.name in ds and ds[o.name].dims[:1] == ("width",)


def test_serial_and_in_process_cluster_agree_to_the_bit(in_process):
    serial = sigdist.sweep("mean_cosine", client="serial", seed=3, **COSINE_GRID)
    spread = sigdist.sweep("mean_cosine", client=in_process, chunks=1, seed=3, **COSINE_GRID)
    chunked = sigdist.sweep("mean_cosine", client=in_process, chunks=4, seed=3, **COSINE_GRID)
    for ds in (spread, chunked):
        np.testing.assert_array_equal(ds.cosine_mean.values, serial.cosine_mean.values)
        np.testing.assert_array_equal(ds.cosine_mean_se.values, serial.cosine_mean_se.values)
    # randomness is per point: another seed moves the Monte Carlo values by about their standard error
    other = sigdist.sweep("mean_cosine", client="serial", seed=4, **COSINE_GRID)
    z = (other.cosine_mean - serial.cosine_mean) / np.hypot(other.cosine_mean_se, serial.cosine_mean_se)
    assert (z != 0).all() and float(np.abs(z).max()) < 5


def worker_threads(network, seed=None):
    """The thread settings a point sees, and a draw from its seed (a point takes 50 ms: both workers get some)."""
    import time

    time.sleep(0.05)
    return {"numba_threads": float(os.environ.get("NUMBA_NUM_THREADS", "nan")),
            "pid": float(os.getpid()), "draw": float(np.random.default_rng(seed).standard_normal())}


def test_the_embedded_cluster_is_two_pinned_processes_and_agrees_with_the_serial_loop(monkeypatch):
    import distributed

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)  # size it as 2 cores
    grid = dict(width=np.arange(1, 9), sigma_w2=[0.1, 0.2], seed=5, chunks=2)
    serial = sigdist.sweep(worker_threads, client="serial", **grid)
    ds = sigdist.sweep(worker_threads, **grid)  # client=None: the embedded LocalCluster
    np.testing.assert_array_equal(ds.draw.values, serial.draw.values)
    assert (ds.numba_threads == 1).all()
    pids = set(ds.pid.values.ravel().tolist())
    assert len(pids) == 2 and os.getpid() not in pids  # two worker processes, not this one
    with pytest.raises(ValueError):
        distributed.default_client()  # the embedded cluster and its client are closed


def test_a_failing_point_records_its_message_and_the_rest_completes(in_process):
    ds = sigdist.sweep(fails_at_large_width, width=[5, 10, 20, 40], sigma_w2=[0.1, 0.2], client=in_process,
                       chunks=3)
    assert ds.attrs["failed_points"] == 4
    np.testing.assert_array_equal(ds.value.sel(width=[5, 10]).values, [[5, 5], [10, 10]])
    assert np.isnan(ds.value.sel(width=[20, 40])).all()
    assert ds.error.sel(width=40, sigma_w2=0.1).item() == "ValueError: no value for width 40"
    assert (ds.error.sel(width=[5, 10]) == "").all()


def test_rerun_on_a_store_computes_only_the_missing_chunks(tmp_path):
    store = tmp_path / "store"
    grid = dict(width=[2, 3, 4, 5, 6, 7], sigma_w2=[0.1, 0.2], seed=7, chunks=4)  # 12 points, 3 chunks
    INTERRUPT_AT[:] = [6]  # the flat index of width 6 is 8: chunks 0 and 1 finish, chunk 2 is interrupted
    CALLS.clear()
    with pytest.raises(KeyboardInterrupt):
        sigdist.sweep(interrupted, client="serial", store=store, **grid)
    assert sorted(os.listdir(store)) == ["chunk-000000.npz", "chunk-000001.npz", "sweep.json"]
    INTERRUPT_AT[:] = []
    CALLS.clear()
    resumed = sigdist.sweep(interrupted, client="serial", store=store, **grid)
    assert CALLS == [2, 6, 6, 7, 7]  # the first point (reading the outputs), then chunk 2 only
    CALLS.clear()
    again = sigdist.sweep(interrupted, client="serial", store=store, **grid)
    assert CALLS == [2]  # nothing left to compute
    fresh = sigdist.sweep(interrupted, client="serial", **grid)
    np.testing.assert_array_equal(resumed.draw.values, fresh.draw.values)
    np.testing.assert_array_equal(again.draw.values, fresh.draw.values)


def test_a_store_written_by_another_sweep_is_refused_naming_the_difference(tmp_path):
    store = tmp_path / "store"
    sigdist.sweep("tail_index", width=[5, 10], sigma_w2=[0.1], client="serial", store=store, seed=0)
    with pytest.raises(ValueError, match="width=.5, 10. there, .5, 20. here"):
        sigdist.sweep("tail_index", width=[5, 20], sigma_w2=[0.1], client="serial", store=store, seed=0)
    with pytest.raises(ValueError, match="analysis"):
        sigdist.sweep("critical_window", width=[5, 10], sigma_w2=[0.1], client="serial", store=store, seed=0)
    with pytest.raises(ValueError, match="seed"):
        sigdist.sweep("tail_index", width=[5, 10], sigma_w2=[0.1], client="serial", store=store, seed=1)
    manifest = json.loads((store / "sweep.json").read_text())
    assert manifest["axes"] == {"width": [5, 10], "sigma_w2": [0.1]}


def test_a_store_without_a_seed_resumes_with_the_recorded_one(tmp_path):
    store = tmp_path / "store"
    first = sigdist.sweep(counted, width=[3, 4], sigma_w2=[0.1], client="serial", store=store)
    (store / "chunk-000001.npz").unlink()
    second = sigdist.sweep(counted, width=[3, 4], sigma_w2=[0.1], client="serial", store=store)
    assert first.attrs["seed"] == second.attrs["seed"]
    np.testing.assert_array_equal(first.draw.values, second.draw.values)


@pytest.mark.parametrize("kwargs, message", [
    (dict(analysis="no_such_analysis", width=[5], sigma_w2=[0.1]), "analysis must be one of"),
    (dict(analysis="tail_index", width=[5], sigma_w2=[0.1], colour=[1, 2]), "axis 'colour' is not a parameter"),
    (dict(analysis="tail_index", width=[], sigma_w2=[0.1]), "axis 'width' is empty"),
    (dict(analysis="tail_index", width=[[5, 6]], sigma_w2=[0.1]), "axis 'width' must be 1-D"),
    (dict(analysis="tail_index", width=[5, 5], sigma_w2=[0.1]), "axis 'width' has repeated values"),
    (dict(analysis="tail_index", width=[5]), "needs sigma_w2"),
    (dict(analysis="tail_index", width=[5, 0], sigma_w2=[0.1]), "axis width=0"),
    (dict(analysis="tail_index", width=[5], sigma_w2=[0.1], activation=["relu", "tanh"]), "axis activation='tanh'"),
    (dict(analysis="critical_window", width=[5], sigma_w2=[0.1], sigma_b2=[0.0, 0.5]), "axis sigma_b2=0.5"),
    (dict(analysis="mean_cosine", width=[5], sigma_w2=[0.1], rho=[0.5, 2.0]), "axis rho=2.0"),
    (dict(analysis="tail_index", width=[5], sigma_w2=[0.1], chunks=0), "chunks must be"),
    (dict(analysis="tail_index", width=[5], sigma_w2=[0.1], progress="yes"), "progress must be"),
    (dict(analysis=counted, width=[5], sigma_w2=[0.1], depth=[1, 0]), "axis depth=0"),
])
def test_bad_input_is_refused_by_name_before_any_task(kwargs, message):
    analysis = kwargs.pop("analysis")
    with pytest.raises(ValueError, match=message):
        sigdist.sweep(analysis, client=NoTasks(), **kwargs)


def _cli(argv):
    import argparse

    from sigdist import sweep_cli

    parser = argparse.ArgumentParser(prog="sigdist")
    sweep_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return sweep_cli.run(args)


CONFIG = """
analysis = "tail_index"
seed = 0
scheduler = "serial"
[axes]
width = [5, 20]
sigma_w2 = { start = 0.05, stop = 0.5, num = 4 }
sigma_b2 = { start = 0.01, stop = 1.0, num = 3, log = true }
depth = 1
"""


def test_cli_sweep_writes_netcdf_and_resumes_from_its_store(tmp_path, capsys):
    import xarray as xr

    config = tmp_path / "c.toml"
    config.write_text(CONFIG)
    out = tmp_path / "t.nc"
    assert _cli(["sweep", str(config), "--out", str(out), "--no-progress"]) == 0
    assert "at 24 points (0 failed)" in capsys.readouterr().out
    with xr.open_dataset(out, engine="scipy") as ds:
        assert ds.tail_index.dims == ("width", "sigma_w2", "sigma_b2")
        np.testing.assert_allclose(ds.sigma_b2, [0.01, 0.1, 1.0])
        direct = sigdist.sweep("tail_index", width=[5, 20], sigma_w2=np.linspace(0.05, 0.5, 4),
                               sigma_b2=np.geomspace(0.01, 1.0, 3), depth=1, client="serial", seed=0)
        np.testing.assert_array_equal(ds.tail_index.values, direct.tail_index.values)
    chunks = sorted(p.name for p in (tmp_path / "t.nc.store").iterdir())
    assert len(chunks) == 25  # 24 single-point chunks and the manifest
    store = tmp_path / "t.nc.store"
    (store / chunks[3]).unlink()
    before = {name: (store / name).stat().st_mtime_ns for name in chunks if name != chunks[3]}
    assert _cli(["sweep", str(config), "--out", str(out), "--no-progress"]) == 0
    assert (store / chunks[3]).exists()  # the missing chunk is computed again, the others are read
    assert {name: (store / name).stat().st_mtime_ns for name in before} == before
    assert _cli(["sweep", str(config), "--out", str(tmp_path / "t.csv")]) == 0
    assert (tmp_path / "t.csv").read_text().startswith("width,sigma_w2,sigma_b2,tail_index")


def test_cli_sweep_writes_json_and_a_figure(tmp_path):
    import json

    config = tmp_path / "c.toml"
    config.write_text(CONFIG)
    out, js, png = tmp_path / "t.nc", tmp_path / "t.json", tmp_path / "t.png"
    assert _cli(["sweep", str(config), "--out", str(out), "--json", str(js), "--plot", str(png),
                 "--no-progress"]) == 0
    data = json.loads(js.read_text())
    assert np.shape(data["data_vars"]["tail_index"]["data"]) == (2, 4, 3)
    assert data["coords"]["width"]["data"] == [5, 20]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("text, message", [
    ("analysis = 'tail_index'\n", "the table \\[axes\\] is missing"),
    ("analysis = 'tail_index'\ncolour = 1\n[axes]\nwidth = [5]\n", "unknown key"),
    ("analysis = 'nope'\n[axes]\nwidth = [5]\nsigma_w2 = [0.1]\n", "analysis must be one of"),
    ("analysis = 'tail_index'\n[axes]\nwidth = [5]\nsigma_w2 = { start = 0.1, stop = 1 }\n", "axes.sigma_w2"),
    ("analysis = 'tail_index'\n[axes]\nwidth = [5, 0]\nsigma_w2 = [0.1]\n", "axis width=0"),
    ("analysis = = \n", "not valid TOML"),
    ("analysis = 'tail_index'\nout = 5\n[axes]\nwidth = [5]\nsigma_w2 = [0.1]\n", "config: out must be"),
    ("analysis = 'tail_index'\nstore = 7\n[axes]\nwidth = [5]\nsigma_w2 = [0.1]\n", "config: store must be"),
    ("analysis = 'tail_index'\nscheduler = 1\n[axes]\nwidth = [5]\nsigma_w2 = [0.1]\n", "config: scheduler must"),
    ("analysis = 'tail_index'\nseed = 'x'\n[axes]\nwidth = [5]\nsigma_w2 = [0.1]\n", "config: seed must be"),
    ("analysis = 'tail_index'\nseed = -1\n[axes]\nwidth = [5]\nsigma_w2 = [0.1]\n", "config: seed must be"),
])
def test_cli_sweep_refuses_a_bad_config_in_one_line(tmp_path, capsys, text, message):
    config = tmp_path / "c.toml"
    config.write_text(text)
    with pytest.raises(SystemExit) as exc:
        _cli(["sweep", str(config), "--out", str(tmp_path / "t.nc"), "--scheduler", "serial"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert __import__("re").search(message, err), err


def warns_at_odd_width(network):
    import warnings

    if network[0].width % 2:
        warnings.warn(f"odd width {network[0].width}", UserWarning)
    return {"value": 1.0}


def test_each_point_records_its_own_warnings_on_threaded_workers(in_process):
    import warnings

    ds = sigdist.sweep(warns_at_odd_width, width=np.arange(2, 42), sigma_w2=[0.1], client=in_process, chunks=3)
    expected = [f"UserWarning: odd width {w}" if w % 2 else "" for w in range(2, 42)]
    assert ds.warning.values[:, 0].tolist() == expected
    with pytest.warns(UserWarning, match="after the sweep"):  # warnings outside a point are shown as before
        warnings.warn("after the sweep", UserWarning)


def _function_named_f(value, module=__name__):
    """A module-level function ``f`` whose body returns ``value`` (a redefinition keeps module and name)."""
    namespace = {"__name__": module}
    exec(f"def f(network):\n    return {{'value': {value!r}}}\n", namespace)
    return namespace["f"]


def test_a_store_refuses_a_redefined_function_and_another_sigdist_version(tmp_path, monkeypatch):
    store = tmp_path / "store"
    grid = dict(width=[3, 4], sigma_w2=[0.1], client="serial", store=store, seed=0)
    first = sigdist.sweep(_function_named_f(1.0), **grid)
    manifest = json.loads((store / "sweep.json").read_text())
    assert manifest["function"] == f"{__name__}:f" and manifest["sigdist_version"] == sigdist.__version__
    # the same definition again resumes; another body under the same name is refused, naming the difference
    np.testing.assert_array_equal(sigdist.sweep(_function_named_f(1.0), **grid).value.values, first.value.values)
    with pytest.raises(ValueError, match="code_hash"):
        sigdist.sweep(_function_named_f(2.0), **grid)
    with pytest.raises(ValueError, match='function="elsewhere:f"'):
        sigdist.sweep(_function_named_f(1.0, module="elsewhere"), **grid)
    monkeypatch.setattr(sigdist, "__version__", "99.0")
    with pytest.raises(ValueError, match="sigdist_version=.*99.0"):
        sigdist.sweep(_function_named_f(1.0), **grid)


def warns_the_same_at_every_point(network):
    import warnings

    warnings.warn("the same message from the same line", UserWarning)
    return {"value": 1.0}


@pytest.mark.parametrize("chunks", [1, 3, 10])
def test_a_warning_repeated_verbatim_is_recorded_at_every_point(in_process, chunks):
    for client in ("serial", in_process):
        ds = sigdist.sweep(warns_the_same_at_every_point, width=np.arange(2, 12), sigma_w2=[0.1], client=client,
                           chunks=chunks)
        assert (ds.warning == "UserWarning: the same message from the same line").all(), ds.warning.values


def nan_or_inf_at_some_widths(network):
    w = network[0].width
    return {"value": math.nan if w == 3 else math.inf if w == 4 else float(w), "other": 2.0}


def test_a_non_finite_value_is_an_error_naming_the_output_and_is_counted():
    ds = sigdist.sweep(nan_or_inf_at_some_widths, width=[2, 3, 4], sigma_w2=[0.1], client="serial")
    assert ds.error.values[:, 0].tolist() == ["", "non-finite value: value is NaN",
                                              "non-finite value: value is infinite"]
    assert ds.attrs["failed_points"] == 2
    assert (ds.other == 2.0).all()  # the finite outputs are kept
    # inf where an output documents it (a diverging stationary moment) is a value, not an error
    stat = sigdist.sweep("stationary_mean", width=[5], sigma_w2=[0.2, 1.0], sigma_b2=0.1, client="serial")
    assert np.isinf(stat.first_moment.sel(sigma_w2=1.0)).all() and stat.attrs["failed_points"] == 0
    deep = sigdist.sweep("squared_norm_moments", width=[100], sigma_w2=[1.0], depth=[1, 200], client="serial")
    assert np.isinf(deep.variance.sel(depth=200)).all() and deep.attrs["failed_points"] == 0  # beyond float64


def test_a_truncated_chunk_file_is_computed_again_and_chunks_are_synced(tmp_path, monkeypatch):
    store = tmp_path / "store"
    grid = dict(width=[2, 3, 4, 5], sigma_w2=[0.1], seed=7, chunks=2, client="serial", store=store)
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    first = sigdist.sweep(interrupted, **grid)
    assert len(synced) == 3  # the manifest and both chunks reach the disk before their rename
    chunk = store / "chunk-000001.npz"
    chunk.write_bytes(chunk.read_bytes()[: chunk.stat().st_size // 2])
    CALLS.clear()
    again = sigdist.sweep(interrupted, **grid)
    assert CALLS == [2, 4, 5]  # the first point (reading the outputs), then the truncated chunk only
    np.testing.assert_array_equal(again.draw.values, first.draw.values)


def test_a_store_resumes_a_seed_sequence_with_a_list_of_entropy(tmp_path):
    store = tmp_path / "store"
    first = sigdist.sweep(counted, width=[3, 4], sigma_w2=[0.1], client="serial", store=store,
                          seed=np.random.SeedSequence([1, 2]))
    assert json.loads((store / "sweep.json").read_text())["seed"]["entropy"] == [1, 2]
    (store / "chunk-000001.npz").unlink()
    second = sigdist.sweep(counted, width=[3, 4], sigma_w2=[0.1], client="serial", store=store)
    np.testing.assert_array_equal(first.draw.values, second.draw.values)
    fresh = sigdist.sweep(counted, width=[3, 4], sigma_w2=[0.1], client="serial", seed=np.random.SeedSequence([1, 2]))
    np.testing.assert_array_equal(fresh.draw.values, second.draw.values)


def test_a_store_that_cannot_be_written_stops_the_sweep(tmp_path, monkeypatch, in_process):
    def disk_full(self, k, arrays):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sigdist._sweep_store.ChunkStore.write", disk_full)
    for client in ("serial", in_process):
        with pytest.raises(OSError, match="No space left"):
            sigdist.sweep("tail_index", width=[5, 10], sigma_w2=[0.1], client=client, store=tmp_path / ("serial" if client == "serial" else "cluster"))


@pytest.mark.parametrize("kwargs, message", [
    (dict(analysis="atom", width=[5], sigma_w2=[0.1], tol=[1e-8, -1.0]), "axis tol=-1.0.*tol must be"),
    (dict(analysis="squared_norm_law", width=[5], sigma_w2=[0.1], tol="x"), "tol must be"),
    (dict(analysis="mean_cosine", width=[5], sigma_w2=[0.1], rho=[True, False]), "first point .*rho must be"),
    (dict(analysis="mean_cosine", width=[5], sigma_w2=[0.1], rho=True), "rho must be"),
])
def test_a_bad_tol_or_a_bool_rho_is_refused_before_any_task(kwargs, message):
    analysis = kwargs.pop("analysis")
    with pytest.raises(ValueError, match=message):
        sigdist.sweep(analysis, client=NoTasks(), **kwargs)


def returns_depth(network):
    return {"depth": 1.0}


def test_the_store_is_checked_before_the_function_runs_and_output_names_are_checked(tmp_path):
    store = tmp_path / "store"
    sigdist.sweep(counted, width=[3, 4], sigma_w2=[0.1], client="serial", store=store, seed=0)
    CALLS.clear()
    with pytest.raises(ValueError, match="other axes"):
        sigdist.sweep(counted, width=[3, 5], sigma_w2=[0.1], client=NoTasks(), store=store, seed=0)
    assert CALLS == []  # refused before the function ran at the first point
    with pytest.raises(ValueError, match="returned the key 'depth'.*fixed parameters"):
        sigdist.sweep(returns_depth, width=[3], sigma_w2=[0.1], depth=2, client=NoTasks())
