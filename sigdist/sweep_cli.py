"""``sigdist sweep config.toml``: a parameter sweep from a TOML file, to netCDF or CSV, resumable.

The config file::

    analysis = "tail_index"        # a name in sigdist.analyses.ANALYSES, or "package.module:function"
    out = "tail.nc"                # .nc (netCDF, scipy engine) or .csv; --out overrides
    store = "tail.nc.store"        # finished chunks (default: OUT.store); a rerun computes only what is missing
    seed = 0                       # optional
    chunks = 100                   # optional: grid points per task
    scheduler = "tcp://host:8786"  # optional: a dask scheduler; "serial": no dask; default an embedded cluster

    [axes]
    width = [5, 20, 100]                                       # a list of values
    sigma_w2 = { start = 0.05, stop = 1.0, num = 20 }          # numpy.linspace
    sigma_b2 = { start = 1e-3, stop = 1.0, num = 10, log = true }  # numpy.geomspace
    depth = 1                                                  # a scalar: a fixed parameter

This module owns two functions that :mod:`sigdist.cli` wires in: :func:`add_parser` and :func:`run`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

__all__ = ["add_parser", "load_config", "run"]

_KEYS = {"analysis", "out", "store", "seed", "chunks", "scheduler", "axes"}


def add_parser(subparsers):
    """Add the ``sweep`` subcommand to an argparse ``subparsers`` object; returns its parser."""
    p = subparsers.add_parser(
        "sweep", help="run an analysis over a parameter grid (dask) into netCDF or CSV; resumable",
        description="Run a named analysis at every point of the grid of a TOML config file (keys: analysis, "
                    "out, store, seed, chunks, scheduler, [axes]; see docs/sweeps.md). Finished chunks go to the "
                    "store, so a rerun after an interrupt computes only what is missing.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("config", help="TOML file with the analysis, the axes and the output")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="a dask scheduler (tcp://host:8786) or 'serial'; default: the config's, else an embedded "
                        "LocalCluster of one process per core")
    p.add_argument("--out", metavar="PATH", default=None,
                   help="output file (.nc netCDF, .csv or .json); default: the config's")
    p.add_argument("--json", metavar="PATH", default=None, help="also write the result as JSON here")
    p.add_argument("--plot", metavar="PATH", default=None,
                   help="a figure (PNG) of the first value over the first one or two axes of more than one point")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="a progress bar over chunks (default: shown once the run has taken about 2 s)")
    p.set_defaults(sweep_parser=p)
    return p


def _axis(name, value):
    import numpy as np

    if isinstance(value, dict):
        unknown = set(value) - {"start", "stop", "num", "log"}
        if unknown or not {"start", "stop", "num"} <= set(value):
            raise ValueError(f"axes.{name} as a table needs start, stop, num (and optionally log), got "
                             f"{sorted(value)}")
        num = value["num"]
        if not isinstance(num, int) or isinstance(num, bool) or num < 1:
            raise ValueError(f"axes.{name}.num must be an integer >= 1, got {num!r}")
        space = np.geomspace if value.get("log", False) else np.linspace
        try:
            return space(value["start"], value["stop"], num)
        except (TypeError, ValueError) as err:
            raise ValueError(f"axes.{name}: {err}") from None
    return value


def load_config(path):
    """The config file's settings as sweep's arguments (ValueError naming the key that is wrong)."""
    import tomllib

    try:
        with open(path, "rb") as f:
            config = tomllib.load(f)
    except OSError as err:
        raise ValueError(f"config: cannot read {path!r} ({err.strerror or err})") from None
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"config: {path!r} is not valid TOML ({err})") from None
    unknown = set(config) - _KEYS
    if unknown:
        raise ValueError(f"config: unknown key(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(_KEYS))}")
    if "analysis" not in config:
        raise ValueError("config: the key 'analysis' is missing (a name in sigdist.analyses.ANALYSES)")
    if not isinstance(config.get("axes"), dict) or not config["axes"]:
        raise ValueError("config: the table [axes] is missing or empty")
    analysis = config["analysis"]
    if not isinstance(analysis, str):
        raise ValueError(f"config: analysis must be a string, got {analysis!r}")
    if ":" in analysis:
        module, _, name = analysis.partition(":")
        try:
            analysis = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as err:
            raise ValueError(f"config: analysis {config['analysis']!r} cannot be imported ({err})") from None
    for key in ("out", "store", "scheduler"):
        if key in config and not (isinstance(config[key], str) and config[key]):
            what = "a dask scheduler's address or 'serial'" if key == "scheduler" else "a path"
            raise ValueError(f"config: {key} must be a non-empty string ({what}), got {config[key]!r}")
    seed = config.get("seed")
    if "seed" in config and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"config: seed must be an integer >= 0, got {seed!r}")
    axes = {name: _axis(name, value) for name, value in config["axes"].items()}
    return {"analysis": analysis, "axes": axes, "out": config.get("out"), "store": config.get("store"),
            "seed": config.get("seed"), "chunks": config.get("chunks"), "scheduler": config.get("scheduler")}


def _write(ds, path, json=False):
    if path.endswith(".csv") and not json:
        ds.to_dataframe().to_csv(path)
    elif path.endswith(".json") or json:
        from ._export import dumps

        with open(path, "w") as f:
            f.write(dumps(ds.to_dict(data="list")) + "\n")
    else:
        ds.to_netcdf(path, engine="scipy")


def _plot(ds, path):
    """The first numeric value over the first one or two axes with more than one point (the others at their
    first value)."""
    from .plotting import pyplot, save_figure, use_file_backend

    use_file_backend()
    name = next(v for v in ds.data_vars if ds[v].dtype.kind == "f")
    da = ds[name]
    dims = [d for d in da.dims if da.sizes[d] > 1][:2]
    da = da.isel({d: 0 for d in da.dims if d not in dims})
    _, ax = pyplot().subplots(figsize=(7, 4.5))
    if dims:
        da.plot(ax=ax)
    else:
        ax.plot([0], [float(da)], "o", label=name)
    ax.set_title(f"sigdist sweep: {ds.attrs.get('analysis', '')}")
    save_figure(ax, path)


def run(args):
    """Run the ``sweep`` subcommand; a one-line error naming the option or config key, never a traceback."""
    from ._checks import check_output_path
    from .sweep import sweep

    parser = args.sweep_parser
    try:
        config = load_config(args.config)
    except ValueError as err:
        parser.error(str(err))
    out = args.out or config["out"]
    if not out:
        parser.error("--out: no output path (give --out PATH or out = \"...\" in the config)")
    if not out.endswith((".nc", ".csv", ".json")):
        parser.error(f"--out must end in .nc (netCDF), .csv or .json, got {out!r}")
    try:
        for path, option in ((out, "--out"), (args.json, "--json"), (args.plot, "--plot")):
            if path:
                check_output_path(path, option)
    except ValueError as err:
        parser.error(str(err))
    store = config["store"] or out + ".store"
    scheduler = args.scheduler or config["scheduler"]
    client = None
    try:
        if scheduler == "serial":
            client = "serial"
        elif scheduler:
            from distributed import Client

            try:
                client = Client(scheduler, timeout=30)
            except (OSError, ValueError, TimeoutError) as err:
                parser.error(f"--scheduler: cannot reach {scheduler!r} ({err})")
        start = time.perf_counter()
        try:
            ds = sweep(config["analysis"], client=client, chunks=config["chunks"], store=store,
                       progress=args.progress, seed=config["seed"], **config["axes"])
        except ValueError as err:
            parser.error(f"config {args.config}: {err}")
        _write(ds, out)
        if args.json:
            _write(ds, args.json, json=True)
        if args.plot:
            _plot(ds, args.plot)
    finally:
        if client not in (None, "serial"):
            client.close()
    n = int(ds["error"].size)
    print(f"sigdist sweep: {ds.attrs['analysis']} at {n} points ({ds.attrs['failed_points']} failed) in "
          f"{time.perf_counter() - start:.3g} s -> {out} (chunks in {os.path.abspath(store)})", file=sys.stdout)
    return 0
