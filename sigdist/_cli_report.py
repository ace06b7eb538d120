"""The ``sigdist`` command's plumbing: option types, the printed table with its legend, JSON and CSV output.

No numerics and no figures here (the figures are drawn by :mod:`sigdist.plotting`, called from :mod:`sigdist.cli`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from dataclasses import dataclass, field

from ._cli_text import COLUMNS, legend_line
from ._export import jsonable

__all__ = ["integer", "number", "Table", "print_table", "write_json", "write_csv", "option_error_message"]


def integer(minimum, maximum=None):
    """An argparse type: an integer in [minimum, maximum]; argparse names the option in its one-line error."""
    bound = f"in [{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer {bound}, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be an integer {bound}, got {text!r}")
        return value
    return parse


def number(low=None, high=None, *, low_open=False, high_open=False, allow_inf=False):
    """An argparse type: a finite number in the interval given (``allow_inf``: ``inf`` is accepted too)."""
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    what = "a finite number" + (" " + " and ".join(parts) if parts else "") + (" or inf" if allow_inf else "")

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if value == math.inf and allow_inf:
            return value
        if not math.isfinite(value) or (low is not None and (value < low or (low_open and value == low))) or \
                (high is not None and (value > high or (high_open and value == high))):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value
    return parse


def option_error_message(err, options, fallback=None):
    """``"argument --opt: message"`` for a library ``ValueError`` whose message starts with a parameter name
    that ``options`` maps to a command-line option (the library names its parameters, the CLI its options);
    ``fallback`` names the option(s) for a message that names none of them."""
    text = " ".join(str(err).split())
    words = [w.split("[", 1)[0].split("=", 1)[0].rstrip(":;,") for w in text.split(" ", 2)[:2]]
    for name, option in options.items():
        if name in words:
            return f"argument {option}: {text}"
    return f"argument {fallback}: {text}" if fallback else text


def option_failer(parser, command):
    """``fail(message)``: the subcommand's one-line error (argparse's ``parser.error``, exit status 2), or
    ``SystemExit("sigdist <command>: error: ...")`` when ``run`` is called without its parser."""
    def fail(message):
        if parser is not None:
            parser.error(message)
        raise SystemExit(f"sigdist {command}: error: {message}")
    return fail


@dataclass
class Table:
    """What a subcommand prints, and writes as JSON or CSV: header lines, settings, a table, notes."""

    command: str
    header: list
    settings: dict
    rows: list
    formats: list
    notes: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    columns: list = None

    def __post_init__(self):
        if self.columns is None:
            self.columns = [name for name, _ in COLUMNS[self.command]]

    def as_dict(self):
        """The machine-readable form: settings, columns with their meanings, rows (full precision)."""
        meanings = dict(COLUMNS[self.command])
        return {"command": self.command, "settings": {k: jsonable(v) for k, v in self.settings.items()},
                "columns": list(self.columns), "legend": {c: meanings.get(c, "") for c in self.columns},
                "rows": [[jsonable(v) for v in row] for row in self.rows], "notes": list(self.notes),
                **{k: jsonable(v) for k, v in self.extra.items()}}


def _cell(value, fmt):
    if isinstance(value, (str, bool)) or value is None:
        return str(value)
    return format(value, fmt.lstrip("<>"))


def print_table(table, out=print):
    """The header lines, the table (columns aligned by ``formats``), the legend line and the notes."""
    for line in table.header:
        out(line)
    widths = [max([len(name)] + [len(_cell(row[i], fmt)) for row in table.rows])
              for i, (name, fmt) in enumerate(zip(table.columns, table.formats))]
    left = [fmt[:1] == "<" for fmt in table.formats]
    names = [f"{name:<{w}}" if lft else f"{name:>{w}}" for name, w, lft in zip(table.columns, widths, left)]
    out(" ".join(names).rstrip())
    for row in table.rows:
        cells = [_cell(v, fmt) for v, fmt in zip(row, table.formats)]
        out(" ".join(f"{c:<{w}}" if lft else f"{c:>{w}}" for c, w, lft in zip(cells, widths, left)).rstrip())
    out(legend_line(table.command))
    for line in table.notes:
        out(line)


def _open(path):
    return sys.stdout if path == "-" else open(path, "w", newline="")


def write_json(table, path):
    """The table as JSON at ``path`` (``-``: standard output)."""
    text = json.dumps(table.as_dict(), indent=1, allow_nan=False)
    f = _open(path)
    try:
        f.write(text + "\n")
    finally:
        if f is not sys.stdout:
            f.close()


def write_csv(table, path):
    """The table as CSV at ``path`` (``-``: standard output): ``# name = value`` lines for the settings first."""
    buf = io.StringIO()
    buf.write(f"# sigdist {table.command}\n")
    for key, value in table.settings.items():
        buf.write(f"# {key} = {jsonable(value)}\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        # NaN empty, finite floats to all their digits, anything else (an infinity, a name) as it prints
        writer.writerow(["" if c is None else (repr(c) if isinstance(c, float) else v)
                         for v, c in zip(row, map(jsonable, row))])
    f = _open(path)
    try:
        f.write(buf.getvalue())
    finally:
        if f is not sys.stdout:
            f.close()
