"""Options and output shared by the subcommands (light: imports only click at top level)."""

from __future__ import annotations

import json
import math
import numbers

import click

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object on stdout and nothing else."
)
activation_option = click.option(
    "--activation",
    default="tanh",
    show_default=True,
    help="Activation name (see `nnqft mft --help`), name(params) or an expression of z.",
)
arch_option = click.option(
    "--arch",
    default="feedforward",
    show_default=True,
    help="Architecture: feedforward or recurrent.",
)
bias_option = click.option(
    "--bias",
    default=None,
    help="Recurrent bias convention: shared (default) or fresh.",
)
q0_option = click.option(
    "--q0",
    type=float,
    default=1.0,
    show_default=True,
    help="Input norm |x|^2/N.",
)


def to_jsonable(obj):
    """Turn results into JSON values: numbers as numbers (non-finite as null), sympy
    expressions as sympy-parsable strings, tuples and arrays as lists."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return to_jsonable(obj.tolist())
    if hasattr(obj, "free_symbols"):  # a sympy expression
        if getattr(obj, "is_number", False) and obj.is_real and not obj.is_Rational:
            try:
                return to_jsonable(float(obj))
            except TypeError:
                pass
        import sympy

        return sympy.sstr(obj)
    return str(obj)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if value is None:
        return "-"
    return str(value)


def format_rows(rows: list[dict]) -> str:
    """A plain aligned table of a list of dicts (one row per dict)."""
    if not rows:
        return "(none)"
    keys = list(rows[0])
    cells = [[_cell(r.get(k)) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    line = lambda vals: "  ".join(v.rjust(w) for v, w in zip(vals, widths))  # noqa: E731
    return "\n".join([line(keys), line(["-" * w for w in widths])] + [line(c) for c in cells])


def format_mapping(result: dict) -> str:
    """A readable two-column view of a result; nested row lists become tables."""
    width = max((len(k) for k in result), default=0)
    out = []
    for key, value in result.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            out.append(f"{key}:")
            out.append(format_rows(value))
        else:
            out.append(f"{key.ljust(width)}  {_cell(value)}")
    return "\n".join(out)


def emit(result: dict, as_json: bool, text: str | None = None) -> None:
    """Print ``result`` as one JSON object, or ``text`` (default: a readable table)."""
    if as_json:
        click.echo(json.dumps(to_jsonable(result)))
    else:
        click.echo(text if text is not None else format_mapping(to_jsonable(result)))
