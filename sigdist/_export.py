"""Export of laws and results to JSON, CSV and netCDF (what ``Law.to_json``, ``Result.to_csv`` ... call).

A law is exported as a table on a grid of points ``z``: ``pdf``, ``cdf``, ``sf`` and ``logsf`` there,
with what the law knows about its own accuracy (``atom``, ``mass_lost``, ``error_estimate``) and its
``mean`` and ``var`` where finite as attributes. A result is exported field by field: its labelled arrays
(the dims of :meth:`sigdist.Result.to_xarray`), its numbers and its settings.

JSON is always valid JSON: NaN is written ``null`` and an infinity the strings ``"inf"`` / ``"-inf"``
(``json.dumps(..., allow_nan=False)``); a complex array becomes ``{"real": [...], "imag": [...]}``. netCDF
is written by xarray with ``engine="scipy"`` (netCDF3, no further dependency); netCDF3 has no complex
numbers, so a complex variable ``v`` is written as ``v_real`` and ``v_imag``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
import warnings

import numpy as np

from ._checks import check_output_path

__all__ = ["law_attrs", "law_grid", "law_table", "law_to_csv", "law_to_json", "law_to_xarray", "laws_to_xarray",
           "result_to_csv", "result_to_json", "result_to_netcdf"]

#: points of the default grid of a law
GRID_POINTS = 201
#: a law is heavy-tailed (log-spaced grid) when isf(1e-3) / median exceeds this (the plotting rule)
HEAVY_RATIO = 20.0
#: tail probability at each end of the default grid
GRID_TAIL = 1e-6
#: a result's field whose row holds more values than this is not spread over columns of a CSV table
MAX_COLUMNS = 1000


# -- JSON ------------------------------------------------------------------------------------------

def _number(x):
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def jsonable(value):
    """``value`` as plain JSON types: NaN -> ``None``, +-inf -> ``"inf"`` / ``"-inf"``, arrays -> lists."""
    if value is None or isinstance(value, (bool, np.bool_, str)):
        return bool(value) if isinstance(value, np.bool_) else value
    if isinstance(value, (numbers.Integral, np.integer)):
        return int(value)
    if isinstance(value, (complex, np.complexfloating)):
        return {"real": _number(value.real), "imag": _number(value.imag)}
    if isinstance(value, (numbers.Real, np.floating)):
        return _number(value)
    if isinstance(value, np.ndarray):
        if np.iscomplexobj(value):
            return {"real": jsonable(value.real), "imag": jsonable(value.imag)}
        if value.dtype.kind in "biu":
            return value.tolist()
        if value.dtype.kind == "f":
            return np.vectorize(_number, otypes=[object])(value).tolist() if value.size else value.tolist()
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return repr(value)  # a network, a grid ...: its description


def dumps(obj):
    """JSON text of ``obj`` (through :func:`jsonable`), refusing NaN and infinities that slipped through."""
    return json.dumps(jsonable(obj), allow_nan=False)


def _finish(text, path, name="path"):
    """``text`` when ``path`` is None, else written to ``path`` (and None returned)."""
    if path is None:
        return text
    path = check_output_path(path, name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return None


# -- laws ------------------------------------------------------------------------------------------

def _quiet(f, default=math.nan):
    """``f()`` as a float, or ``default`` where the law cannot answer (no density, an infinite moment)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(f())
    except (ValueError, ArithmeticError, NotImplementedError):
        return default


def _finite_quantile(f, ps):
    for p in ps:
        x = _quiet(lambda: f(p))
        if math.isfinite(x):
            return x
    return math.nan


def _extent(law):
    """``(lo, positive_lo, hi, heavy)``: the ends of a law's default grid and whether it is heavy-tailed."""
    ps = (GRID_TAIL, 1e-5, 1e-4, 1e-3, 1e-2)
    lo, hi = _finite_quantile(law.ppf, ps), _finite_quantile(law.isf, ps)
    median, top = _quiet(law.median), _quiet(lambda: law.isf(1e-3))
    heavy = lo >= 0 and median > 0 and top / median > HEAVY_RATIO
    positive = lo
    if heavy and not lo > 0:  # an atom at 0: the log grid starts at the continuous part's low quantile
        positive = _quiet(lambda: law.ppf(min(_quiet(lambda: law.cdf(0.0), 0.0) + GRID_TAIL, 1.0)))
        if not (positive > 0 and math.isfinite(positive)):
            positive = hi * 1e-12
    return lo, positive, hi, heavy


def _grid(lo, positive, hi, heavy, atom_at=None, n=GRID_POINTS):
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError("the law has no finite quantiles to lay a grid on; pass z")
    if heavy and hi > positive > 0:
        z = np.geomspace(positive, hi, n)
        if atom_at is not None and atom_at < z[0]:
            z = np.concatenate([[atom_at], z])
    else:
        z = np.linspace(lo, hi, n)
    return np.unique(z)


def law_grid(law, z=None):
    """The points a law is tabulated at: ``z`` checked, or by default ``GRID_POINTS`` points from
    ``ppf(1e-6)`` to ``isf(1e-6)``, log-spaced when the law is heavy-tailed (with its atom's point)."""
    if z is not None:
        z = np.atleast_1d(np.asarray(z, dtype=np.float64))
        if z.ndim != 1 or z.size == 0 or not np.all(np.isfinite(z)):
            raise ValueError(f"z must be a non-empty 1-d array of finite points, got shape {z.shape}")
        return z
    lo, positive, hi, heavy = _extent(law)
    return _grid(lo, positive, hi, heavy, law.atom_at if law.atom > 0 else None)


def law_table(law, z):
    """``{"pdf", "cdf", "sf", "logsf"}`` of ``law`` at ``z`` (``pdf`` left out for a law without density)."""
    out = {}
    try:
        out["pdf"] = np.asarray(law.pdf(z), dtype=np.float64)
    except NotImplementedError:
        pass
    out["cdf"] = np.asarray(law.cdf(z), dtype=np.float64)
    out["sf"] = sf = np.asarray(law.sf(z), dtype=np.float64)
    # sf has relative accuracy wherever it is a normal float: its log there is logsf to rounding, and
    # computing the tail twice (a saddle point per point for some laws) would double the cost
    logsf = np.full(sf.shape, -np.inf)
    normal = sf >= np.finfo(np.float64).tiny
    logsf[normal] = np.log(sf[normal])
    if np.any(~normal):
        logsf[~normal] = law.logsf(z[~normal])
    out["logsf"] = logsf
    return out


def law_attrs(law):
    """What a law says about itself: type, label, atom (and its point), mass lost, error estimate, and
    mean, var and tail index where finite."""
    attrs = {"type": type(law).__name__, "label": str(law.label), "atom": float(law.atom)}
    if law.atom > 0:
        attrs["atom_at"] = float(law.atom_at)
    attrs["mass_lost"] = float(law.mass_lost)
    for name in ("error_estimate", "tail_index", "perron_eigenvalue", "size"):
        value = getattr(law, name, None)
        if isinstance(value, numbers.Real) and math.isfinite(value):
            attrs[name] = value if isinstance(value, numbers.Integral) else float(value)
    for name in ("mean", "var"):
        value = _quiet(getattr(law, name))
        if math.isfinite(value):
            attrs[name] = value
    return attrs


def law_to_xarray(law, z=None):
    import xarray as xr

    z = law_grid(law, z)
    data = {name: ("z", values) for name, values in law_table(law, z).items()}
    return xr.Dataset(data, coords={"z": z}, attrs=law_attrs(law))


def law_to_json(law, path=None, z=None):
    z = law_grid(law, z)
    data = {"z": z, **law_table(law, z)}
    return _finish(dumps({"type": type(law).__name__, "attrs": law_attrs(law), "data": data}), path)


def law_to_csv(law, path, z=None):
    z = law_grid(law, z)
    table = {"z": z, **law_table(law, z)}
    header = "# " + " ".join(f"{k}={v}" for k, v in law_attrs(law).items())
    return _finish(_csv_text([header], table), path)


def laws_to_xarray(laws, z=None):
    """Laws of one quantity layer after layer (what :func:`sigdist.layer_laws` returns) as one Dataset.

    Parameters
    ----------
    laws : sequence of Law
        One law per layer, ``l = 1..L``.
    z : array_like, optional
        Common points; default a grid from the smallest ``ppf(1e-6)`` to the largest ``isf(1e-6)``,
        log-spaced when a law is heavy-tailed.

    Returns
    -------
    xarray.Dataset
        ``pdf``, ``cdf``, ``sf``, ``logsf`` on ``(layer, z)``; ``atom``, ``mass_lost``, ``error_estimate``,
        ``mean``, ``var`` and ``label`` on ``layer`` (NaN where a law does not know them).
    """
    import xarray as xr

    laws = list(laws)
    if not laws or not all(hasattr(law, "cdf") and hasattr(law, "mass_lost") for law in laws):
        raise ValueError("laws must be a non-empty sequence of sigdist laws (what layer_laws returns)")
    if z is None:
        ext = [_extent(law) for law in laws]
        ends = lambda k, pick: pick([e[k] for e in ext if math.isfinite(e[k]) and (k != 1 or e[k] > 0)] or [math.nan])  # noqa: E731
        atoms = [law.atom_at for law in laws if law.atom > 0]
        z = _grid(ends(0, min), ends(1, min), ends(2, max), any(e[3] for e in ext), min(atoms) if atoms else None)
    z = law_grid(laws[0], z)
    tables = [law_table(law, z) for law in laws]
    names = [n for n in ("pdf", "cdf", "sf", "logsf") if all(n in t for t in tables)]
    data = {n: (("layer", "z"), np.stack([t[n] for t in tables])) for n in names}
    attrs = [law_attrs(law) for law in laws]
    for name in ("atom", "mass_lost", "error_estimate", "mean", "var"):
        data[name] = ("layer", np.array([a.get(name, math.nan) for a in attrs], dtype=np.float64))
    data["label"] = ("layer", np.array([a["label"] for a in attrs]))
    return xr.Dataset(data, coords={"layer": np.arange(1, len(laws) + 1), "z": z},
                      attrs={"type": attrs[0]["type"]})


# -- results ---------------------------------------------------------------------------------------

def result_to_json(result, path=None):
    dims = {name: list(d) for name, d in result._dims.items()}
    data = dict(result._fields())
    return _finish(dumps({"type": type(result).__name__, "dims": dims, "data": data}), path)


def _cell(v):
    if isinstance(v, (float, np.floating)):
        return repr(float(v))  # 17 significant digits; 'inf', 'nan' as numpy.loadtxt reads them
    if isinstance(v, (np.integer, np.bool_)):
        return str(v.item())
    return str(v)


def _csv_text(comments, columns):
    buf = io.StringIO()
    for line in comments:
        buf.write(line.replace("\n", " ") + "\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(columns))
    cols = [np.asarray(c) for c in columns.values()]
    for row in zip(*cols):
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue()


def _split_complex(ds):
    for name in list(ds.data_vars):
        if np.iscomplexobj(ds[name].values):
            v = ds[name]
            ds = ds.drop_vars(name).assign({f"{name}_real": v.real, f"{name}_imag": v.imag})
    return ds


def result_to_csv(result, path):
    ds = _split_complex(result.to_xarray())
    arrays = [name for name in ds.data_vars if ds[name].ndim > 0]
    if not arrays:
        raise ValueError(f"{type(result).__name__} is not a table (it has no per-layer or per-index field): "
                         "write it with to_json or to_netcdf")
    firsts = [ds[name].dims[0] for name in arrays]
    main = max(dict.fromkeys(firsts), key=firsts.count)  # the dim most fields run along (first one on a tie)
    columns = {main: ds[main].values if main in ds.coords else np.arange(ds.sizes[main])}
    left = []
    for name in arrays:
        var = ds[name]
        rest = var.dims[1:]
        width = int(np.prod([ds.sizes[d] for d in rest])) if rest else 1
        if var.dims[0] != main or width > MAX_COLUMNS:
            left.append(f"{name} {var.dims}")
            continue
        if not rest:
            columns[name] = var.values
            continue
        flat = var.values.reshape(var.shape[0], -1)
        labels = [ds[d].values if d in ds.coords else np.arange(ds.sizes[d]) for d in rest]
        for j, index in enumerate(np.ndindex(*var.shape[1:])):
            tag = "".join(f"[{d}={_cell(labels[k][i])}]" for k, (d, i) in enumerate(zip(rest, index))
                          if ds.sizes[d] > 1)
            columns[f"{name}{tag}"] = flat[:, j]
    comments = [f"# {type(result).__name__}: one row per {main}"]
    comments += [f"# {name} = {_cell(ds[name].values.item())}" for name in ds.data_vars if ds[name].ndim == 0]
    comments += [f"# {k} = {v}" for k, v in ds.attrs.items()]
    if left:
        comments.append("# not in this table (write them with to_netcdf or to_json): " + "; ".join(left))
    return _finish(_csv_text(comments, columns), path)


def result_to_netcdf(result, path):
    path = check_output_path(path, "path")
    ds = _split_complex(result.to_xarray())
    ds.to_netcdf(path, engine="scipy")
