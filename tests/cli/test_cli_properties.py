"""Every subcommand under generated arguments: exit 0, 1 (only `check`) or 2, never a
traceback, at most 3 lines on stderr, and with --json exactly one JSON object on stdout.

The subcommands and their options are discovered from the click group, so a new command
is driven too.  Expensive sizes are bounded in the strategies (small --samples, --width,
--depth, --order, --points), beside edge values that the caps must refuse quickly.
"""

import itertools
import json
import math
import signal

import click
import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnqft.cli import cli

pytestmark = pytest.mark.slow

_CTX = click.Context(cli)
COMMANDS = cli.list_commands(_CTX)
EXAMPLES = 15
SECONDS_PER_EXAMPLE = 30
#: values owned by other engineers that still hang (reported, not driven here): `xi --width`
#: of 10**5 and more spends minutes in the symbolic 1/N expansion
KNOWN_HANGS = {("xi", "--width"): 10**4}

#: small ranges where a value does real work; edge values must be refused fast
SMALL = {
    "--samples": (1, 30),
    "--width": (1, 6),
    "--depth": (1, 4),
    "--order": (0, 3),
    "--points": (2, 3),
    "--nodes": (2, 60),
    "--legs": (0, 4),
    "--jobs": (1, 1),
    "--seed": (0, 5),
}
EDGE_INTS = [0, -1, -7, 2**31, 2**63, 10**18, 10**100]
EDGE_FLOATS = [math.nan, math.inf, -math.inf, -0.0, 0.0, 1e308, -1e308, 5e-324, 1e300, 1e-300]
TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["", " ", "; rm -rf /", "$(echo hi)", "`id`", "a|b", "../..", "-1", "nan",
         "ünïcødé", "z**z**z", "exp(exp(exp(z)))", "tanh(", "\\frac{1}{N}", "☃"]
    ),
)  # fmt: skip
ACTIVATIONS = ["tanh", "relu", "erf", "linear", "gelu", "sin", "leaky_relu(0.1)", "z*tanh(z)"]


def _mostly(good, bad, clean):
    """A clean example draws ``good`` values only (it gets past parsing and does work);
    others draw ``good`` three times in four."""
    return good if clean else st.one_of(good, good, good, bad)


def _int(name, command, clean):
    lo, hi = SMALL.get(name, (1, 4) if clean else (-3, 8))
    edges = [v for v in EDGE_INTS if v <= KNOWN_HANGS.get((command, name), math.inf)]
    return _mostly(st.integers(lo, hi), st.sampled_from(edges), clean).map(str)


def _float(clean):
    good = st.floats(0.1, 3) if clean else st.floats(0, 4)
    bad = st.one_of(st.sampled_from(EDGE_FLOATS), st.floats(allow_nan=True))
    return _mostly(good, bad, clean).map(repr)


def _names(ptype):
    try:
        return ptype.names()
    except AttributeError:
        return list(getattr(ptype, "choices", ()))


def _path(ptype, base, command, clean):
    kind = getattr(ptype, "kind", "file")
    name = (
        "out"
        if kind == "dir"
        else "out" + (".tex" if getattr(ptype, "suffixes", None) == (".tex",) else ".png")
    )
    bad = st.sampled_from(
        ["", "  ", f"{base}/missing/{name}", f"{base}/afile/{name}", f"/proc/nnqft/{name}",
         f"{base}", f"{base}/afile", f"{base}/out.txt", f"{base}/out."]
    )  # fmt: skip
    if command == "paper":  # a good folder compiles the whole paper: minutes
        return bad.filter(lambda p: p != base)
    return _mostly(st.just(f"{base}/{name}"), bad, clean)


def _value(param, base, command, clean):
    ptype, name = param.type, param.opts[0]
    if isinstance(ptype, click.Tuple):
        return st.tuples(*[_float(clean) for _ in ptype.types]).map(list)
    if isinstance(ptype, click.types.IntParamType):
        return _int(name, command, clean)
    if isinstance(ptype, click.types.FloatParamType):
        return _float(clean)
    if type(ptype).__name__ == "OutputPath":
        return _path(ptype, base, command, clean)
    names = _names(ptype)
    if names:
        return _mostly(st.sampled_from(names), TEXT, clean)
    if name == "--activation":
        return _mostly(st.sampled_from(ACTIVATIONS), TEXT, clean)
    if name in ("formula", "--against"):
        return st.one_of(
            st.sampled_from(["linear-feedforward/mean", "linear-recurrent-shared/mean",
                             "mft/chi1/relu", "mft/length-map/erf"]), TEXT)  # fmt: skip
    if name == "expression":
        return st.one_of(
            st.sampled_from(["sigma_w2**T*q0", "sigma_w2**T*q0 + 1/N", "q0", "N*T"]), TEXT
        )
    return TEXT


def _arguments(command, base, clean=False):
    cmd = cli.get_command(_CTX, command)
    parts = []
    for param in cmd.params:
        if isinstance(param, click.Argument):
            parts.append(_value(param, base, command, clean).map(lambda v: [v]))
            continue
        name = param.opts[0]
        if name in ("--help", "--version"):
            continue
        if param.is_flag:
            if name == "--pdf":  # compiling TeX is slow; --pdf alone is covered elsewhere
                continue
            parts.append(st.booleans().map(lambda on, n=name: [n] if on else []))
            continue
        value = _value(param, base, command, clean)

        def option(v, n=name):
            return [n, *v] if isinstance(v, list) else [n, v]

        if param.required:
            parts.append(value.map(option))
        elif param.multiple:
            parts.append(st.lists(value, max_size=2).map(
                lambda vs: list(itertools.chain(*(option(v) for v in vs)))))  # fmt: skip
        else:
            parts.append(st.one_of(st.just([]), value.map(option)))
    return st.tuples(*parts).map(lambda ps: list(itertools.chain(*ps)))


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang(f"no answer within {SECONDS_PER_EXAMPLE} s")


_counter = itertools.count()


@pytest.mark.parametrize("command", COMMANDS)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_command_answers_cleanly(command, data, tmp_path, capsys):
    base = tmp_path / f"ex{next(_counter)}"
    base.mkdir()
    (base / "afile").write_text("x")
    clean = data.draw(st.booleans(), label="clean")
    args = [command, *data.draw(_arguments(command, str(base), clean), label="args")]
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS_PER_EXAMPLE)
    try:
        code, out, err = run_cli(args, capsys)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    allowed = (0, 1, 2) if command == "check" else (0, 2)
    assert code in allowed, (args, code, err)
    assert "Traceback" not in err and "RuntimeWarning" not in err, (args, err)
    assert len(err.splitlines()) <= 3, (args, err)
    if code == 2:
        assert err.startswith("nnqft: error: "), (args, err)
    if code in (0, 1) and "--json" in args:
        assert isinstance(json.loads(out), dict), (args, out)
