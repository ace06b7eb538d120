"""The one shape of sigdist's results that are not laws (moments, chain results, simulations, spectra).

A result is a frozen dataclass deriving from :class:`Result`: its fields are plain properties,
standard errors are named ``<quantity>_se``, its ``repr`` is a few lines (arrays are shown by
shape and their first values, never in full), and :meth:`Result.to_xarray` labels its arrays
with the dimension names the subclass declares in ``_dims`` (``layer``, ``input``, ``network``,
``step``, ``quantity`` ..., as in docs/glossary.md); fields without dims become scalar variables or attributes.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import _export

__all__ = ["Result"]


def _short(value):
    if isinstance(value, np.ndarray):
        if value.size <= 4:
            return np.array2string(value, precision=6, separator=", ")
        flat = ", ".join(f"{v:.6g}" if np.issubdtype(value.dtype, np.number) else str(v) for v in value.flat[:3])
        return f"array(shape={value.shape}, [{flat}, ...])"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)) and len(value) > 4:
        return f"{type(value).__name__}(len={len(value)})"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Result:
    """Base of sigdist's non-law results (a frozen dataclass in every subclass)."""

    #: field name -> tuple of dimension names, for :meth:`to_xarray`
    _dims: dict = {}
    #: dimension name -> name of the field (or callable on self) holding its coordinates
    _coords: dict = {}

    def _fields(self):
        if dataclasses.is_dataclass(self):
            return [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self) if f.repr]
        return [(k, v) for k, v in vars(self).items() if not k.startswith("_")]

    def __repr__(self):
        # fields packed into lines of about 100 characters: a result reads in a few lines at any size
        lines, line = [f"{type(self).__name__}("], "   "
        for name, value in self._fields():
            item = f" {name}={_short(value)},"
            if len(line) + len(item) > 100 and line.strip():
                lines.append(line)
                line = "   "
            line += item
        if line.strip():
            lines.append(line)
        return "\n".join(lines) + "\n)"

    def to_xarray(self):
        """An ``xarray.Dataset``: the fields in ``_dims`` as labelled arrays, the numbers as scalars,
        other fields (names, settings) as attributes."""
        import xarray as xr

        data, attrs = {}, {}
        for name, value in self._fields():
            if name in self._dims:
                if value is None:  # a quantity that does not apply to this result: not in the data set
                    continue
                data[name] = (self._dims[name], np.asarray(value))
            elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
                data[name] = ((), value)
            elif isinstance(value, (str, bool)) or value is None:
                attrs[name] = str(value) if value is None or isinstance(value, bool) else value
        coords = {}
        for dim, source in self._coords.items():
            coords[dim] = source(self) if callable(source) else np.asarray(getattr(self, source))
        return xr.Dataset(data, coords=coords, attrs=attrs)

    def to_json(self, path=None):
        """Every field as a JSON object ``{"type", "dims": {field: [dim, ...]}, "data": {field: value}}``.

        Arrays become nested lists, NaN ``null`` and infinities ``"inf"`` / ``"-inf"`` (always valid JSON),
        a complex array ``{"real", "imag"}``, other objects (a network) their ``repr``. With ``path`` the
        text is written there (and None returned); without, it is returned.
        """
        return _export.result_to_json(self, path)

    def to_csv(self, path=None):
        """The result's table as CSV: one row per index of the dimension most fields run along (``layer``,
        ``network`` ...), one column per field along it (a field with further dims spreads over columns
        ``name[dim=value]``); numbers, settings and the fields of other dims as ``#`` comment lines above.

        Raises ``ValueError`` for a result with no such field (write it with :meth:`to_json` or
        :meth:`to_netcdf`). With ``path`` the text is written there (and None returned); without, it is
        returned.
        """
        return _export.result_to_csv(self, path)

    def to_netcdf(self, path):
        """:meth:`to_xarray` written to the netCDF file ``path`` (netCDF3 through ``engine="scipy"``: no
        further dependency; read it back with ``xarray.open_dataset(path, engine="scipy")``). netCDF3 has
        no complex numbers: a complex field ``v`` is written as ``v_real`` and ``v_imag``."""
        _export.result_to_netcdf(self, path)
