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
#: architectures and recurrent bias conventions (rules.network knows the same names)
ARCHS = ("feedforward", "recurrent")
BIAS_CONVENTIONS = ("shared", "fresh")
BIAS_HELP = (
    "Bias convention of a recurrent net: shared (one bias vector for all steps; the default "
    "with --arch recurrent) or fresh (a new one each step).  Feedforward nets have a new "
    "bias in every layer and take no --bias."
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
        kinds = set(map(type, obj))
        if kinds == {float}:  # a row of a grid: the same values, without a call per item
            return [v if math.isfinite(v) else None for v in obj]
        if kinds == {str}:
            return list(obj)
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


# --- validation of names, output paths and sizes (before any work is done) ----------------


class NameChoice(click.ParamType):
    """A name out of a fixed set, case-insensitive; the error lists the known names and
    suggests the closest ('did you mean').  ``names`` is a sequence or a zero-argument
    callable returning one (loaded only when the option is given: imports stay lazy).

    >>> NameChoice("bias convention", ("shared", "fresh")).convert("Fresh", None, None)
    'fresh'
    """

    name = "name"

    def __init__(self, kind: str, names, metavar: str | None = None, light=()):
        self.kind = kind
        self._names = names
        self._metavar = metavar
        self._light = tuple(light)  # accepted without calling ``names``

    def names(self) -> list[str]:
        names = self._names() if callable(self._names) else self._names
        return [str(n) for n in names]

    def get_metavar(self, param, ctx=None):  # click 8.1 and 8.2 signatures
        if self._metavar:
            return self._metavar
        if callable(self._names):
            return "NAME"
        return "[" + "|".join(self.names()) + "]"

    def convert(self, value, param, ctx):
        from ..errors import unknown_name

        text = str(value)
        for name in self._light:
            if text.lower() == name.lower():
                return name
        names = self.names()
        for name in names:
            if text.lower() == name.lower():
                return name
        self.fail(str(unknown_name(self.kind, text, names)), param, ctx)


ARCH_TYPE = NameChoice("architecture", ARCHS)
BIAS_TYPE = NameChoice("bias convention", BIAS_CONVENTIONS)
arch_option = click.option(
    "--arch",
    type=ARCH_TYPE,
    default="feedforward",
    show_default=True,
    help="Architecture: feedforward or recurrent.",
)
bias_option = click.option("--bias", type=BIAS_TYPE, default=None, help=BIAS_HELP)


def check_bias(arch: str, bias: str | None) -> None:
    """Refuse a bias convention the net cannot have, by the one rule: :class:`Network`'s
    (a bias convention is a recurrent net's); the message names the ``--bias`` option.

    >>> check_bias("recurrent", "fresh"); check_bias("feedforward", None)
    >>> check_bias("feedforward", "shared")
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidParameter: --bias shared: bias convention 'shared' applies to ...
    """
    from ..errors import InvalidParameter
    from ..rules.network import Network

    try:
        Network(arch, "linear", bias=bias)
    except InvalidParameter as err:
        raise InvalidParameter(f"--bias {bias}: {err}") from None


def matplotlib_formats() -> dict[str, str]:
    """The file formats matplotlib can write here: suffix (no dot) -> description.

    >>> "png" in matplotlib_formats()
    True
    """
    from matplotlib.backend_bases import FigureCanvasBase

    return dict(FigureCanvasBase.get_supported_filetypes())


def _probe_writable(folder) -> str | None:
    """None when a file can be created in ``folder``, else the reason."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


class OutputPath(click.ParamType):
    """A path nnqft will write: ``kind='file'`` (the file, its folder must exist and be
    writable) or ``kind='dir'`` (a folder, created if missing; its parent must exist).
    ``suffixes`` restricts the file's suffix (e.g. ``('.png',)``, or ``'matplotlib'``: the
    formats matplotlib's canvas can write).  Checked when the command line is parsed, so
    a bad path costs nothing.

    >>> OutputPath().convert("", None, None)
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: an empty path
    """

    name = "path"

    def __init__(self, kind: str = "file", suffixes=None):
        if kind not in ("file", "dir"):
            raise ValueError(f"kind must be 'file' or 'dir', got {kind!r}")
        self.kind = kind
        self.suffixes = suffixes

    def get_metavar(self, param, ctx=None):
        return "DIR" if self.kind == "dir" else "FILE"

    def _suffixes(self) -> list[str]:
        if self.suffixes == "matplotlib":
            return ["." + s for s in sorted(matplotlib_formats())]
        return list(self.suffixes or ())

    def convert(self, value, param, ctx):
        import os
        from pathlib import Path

        text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
        if not text.strip():
            self.fail("an empty path", param, ctx)
        if "\0" in text:
            self.fail(f"{text!r} contains a NUL character", param, ctx)
        path = Path(text)
        suffixes = self._suffixes()
        if self.kind == "file" and suffixes:
            if path.suffix.lower() not in suffixes:
                allowed = ", ".join(s.lstrip(".").upper() for s in suffixes)
                got = path.suffix.lstrip(".") or "none"
                self.fail(f"{text!r}: unsupported format {got!r}; supported: {allowed}", param, ctx)
        try:
            exists, is_dir = path.exists(), path.is_dir()
            parent = path.parent
            parent_exists, parent_is_dir = parent.exists(), parent.is_dir()
        except OSError as exc:  # e.g. a name too long
            self.fail(f"{text!r}: {exc.strerror or exc}", param, ctx)
        if self.kind == "file" and is_dir:
            self.fail(f"{text!r} is a folder, not a file", param, ctx)
        if self.kind == "dir" and exists and not is_dir:
            self.fail(f"{text!r} exists and is not a folder", param, ctx)
        if not parent_exists:
            self.fail(f"cannot write {text!r}: folder {str(parent)!r} does not exist", param, ctx)
        if not parent_is_dir:
            self.fail(f"cannot write {text!r}: {str(parent)!r} is not a folder", param, ctx)
        if self.kind == "file" and exists:
            try:
                with open(path, "a"):
                    pass
            except OSError as exc:
                self.fail(f"cannot write {text!r}: {exc.strerror or exc}", param, ctx)
        else:
            reason = _probe_writable(path if self.kind == "dir" and exists else parent)
            if reason:
                self.fail(f"cannot write {text!r}: {reason}", param, ctx)
        return text


def refuse_if_too_large(what: str, estimate: float, cap: float, unit: str, hint: str) -> None:
    """Raise InvalidParameter when ``estimate`` exceeds ``cap`` (both in ``unit``).

    >>> refuse_if_too_large("phase grid", 4e10, 1e6, "cells", "use --points <= 1000")
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidParameter: phase grid too large: 4e+10 cells, the cap is 1e+06 cells; \
use --points <= 1000
    """
    if estimate > cap:
        from ..errors import InvalidParameter

        raise InvalidParameter(
            f"{what} too large: {estimate:.3g} {unit}, the cap is {cap:.3g} {unit}; {hint}"
        )


def note(message: str) -> None:
    """One line on stderr (an estimate before a long job, a warning)."""
    click.echo(f"nnqft: {message}", err=True)


# --- the caps on sizes (documented in the options' help) -----------------------------------

#: most layers (or time steps) a recursion or a simulation runs through
MAX_DEPTH = 10_000
#: most memory the arrays of one simulation chunk may take
MAX_SIMULATION_BYTES = 4 * 2**30
#: most estimated seconds of Monte Carlo (estimated at SIMULATION_SECONDS_PER_FLOP)
MAX_SIMULATION_SECONDS = 900.0
#: above this estimate a simulation first prints its estimate on stderr
NOTE_SECONDS = 10.0
#: a deliberately slow machine: seconds per multiply-add of the samplers (measured 3-30 ns)
SIMULATION_SECONDS_PER_FLOP = 2e-8
#: most worker processes
MAX_JOBS = 64


def check_depth(depth: int, option: str = "--depth") -> None:
    """Refuse a depth outside 1..MAX_DEPTH.

    >>> check_depth(10**7)
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidParameter: --depth 10000000 is above the cap of 10000 layers
    """
    from ..errors import InvalidParameter

    if depth < 1:
        raise InvalidParameter(f"{option} must be an integer >= 1, got {depth}")
    if depth > MAX_DEPTH:
        raise InvalidParameter(f"{option} {depth} is above the cap of {MAX_DEPTH} layers")


def simulation_cost(
    sampler: str, width: int, depth: int, samples: int, inputs: int = 1
) -> tuple[float, float]:
    """(bytes of one chunk's arrays, estimated seconds) of ``samples`` random networks.

    'full' draws an N x N weight matrix per network and layer (N^2 multiply-adds per
    input); 'fast' draws N Gaussians per input and layer.

    >>> b, s = simulation_cost("full", 10**8, 6, 10)
    >>> b > 1e16
    True
    """
    chunk_floats = 2e6  # derive.montecarlo.simulate draws about this many numbers per chunk
    if sampler == "full":
        per_net = float(width) * width
        per_chunk = max(chunk_floats, per_net) * 2 + 4.0 * width * inputs
        flops = float(samples) * depth * per_net * inputs
    else:
        per_net = float(width) * inputs
        per_chunk = max(chunk_floats, per_net) * 6
        flops = float(samples) * depth * per_net * 4
    chunks = max(1.0, samples * per_net / chunk_floats)
    seconds = flops * SIMULATION_SECONDS_PER_FLOP + chunks * depth * 2e-5
    return per_chunk * 8, seconds


def check_simulation(sampler: str, width: int, depth: int, samples: int, inputs: int = 1) -> None:
    """Refuse a simulation that cannot fit (memory) or would run too long; print the
    estimate first when it takes more than NOTE_SECONDS."""
    nbytes, seconds = simulation_cost(sampler, width, depth, samples, inputs)
    if nbytes > MAX_SIMULATION_BYTES:
        fits = (
            int(math.isqrt(MAX_SIMULATION_BYTES // 16))
            if sampler == "full"
            else int(MAX_SIMULATION_BYTES // (48 * inputs))
        )
        refuse_if_too_large(
            f"simulate --width {width} (sampler {sampler})",
            nbytes / 2**30,
            MAX_SIMULATION_BYTES / 2**30,
            "GiB",
            f"--width <= {fits} fits",
        )
    refuse_if_too_large(
        f"simulation of {samples} networks x {depth} layers at width {width}",
        seconds,
        MAX_SIMULATION_SECONDS,
        "s (estimated)",
        "lower --samples, --width or --depth",
    )
    if seconds > NOTE_SECONDS:
        note(
            f"simulate: {samples} networks x {depth} layers at width {width} ({sampler}), "
            f"estimated {seconds:.0f} s; progress is shown on a terminal"
        )
