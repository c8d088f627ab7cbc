"""`nnqft rules` and `nnqft diagrams`: the CLI contract, end to end."""

import json
import subprocess
import sys
from fractions import Fraction

import pytest
import sympy as sp

from nnqft.rules.symbols import N


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "nnqft", *args], capture_output=True, text=True, timeout=300
    )


def test_diagrams_json_contract():
    proc = run(
        "diagrams", "--model", "on-phi4", "--legs", "2", "--order", "3", "--connected", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)  # exactly one JSON object
    assert out["count"] == 10 == len(out["diagrams"])
    assert out["sum_symmetry_factors"] == "11/8"
    for d in out["diagrams"]:
        assert set(d) >= {"id", "edges", "symmetry_factor", "n_factor"}
        Fraction(d["symmetry_factor"])
        sp.sympify(d["n_factor"], locals={"N": N})  # sympy-parsable in N
        assert all(len(e) == 2 for e in d["edges"])
    # the sum of S x n_factor is the g^3 coefficient of the zero-dimensional propagator
    total = sum(
        Fraction(d["symmetry_factor"]) * sp.sympify(d["n_factor"], locals={"N": N})
        for d in out["diagrams"]
    )
    from nnqft.diagrams.zero_dim import zero_dim_series

    assert sp.expand(-total - zero_dim_series(3)["propagator"][3]) == 0
    assert sp.expand(sp.sympify(out["sum_symmetry_times_n_factor"], locals={"N": N}) - total) == 0


def test_design_example_two_loop_factor():
    """The CLI contract writes symmetry factor "1/12" and n_factor "(N+2)**2/9" as strings."""
    out = json.loads(run("diagrams", "--legs", "2", "--order", "3", "--connected", "--json").stdout)
    pairs = {(d["symmetry_factor"], d["n_factor"]) for d in out["diagrams"]}
    assert ("1/12", "(N + 2)**2/9") in pairs


def test_four_point_channels_and_vacuum():
    out = json.loads(run("diagrams", "--legs", "4", "--order", "2", "--1pi", "--json").stdout)
    assert out["count"] == 3
    channels = sorted(tuple(d["n_factor_channels"]) for d in out["diagrams"])
    for d in out["diagrams"]:
        total = sum(sp.sympify(c, locals={"N": N}) for c in d["n_factor_channels"])
        assert sp.expand(total - sp.sympify(d["n_factor"], locals={"N": N})) == 0
    assert len(set(channels)) == 3
    vac = json.loads(run("diagrams", "--legs", "0", "--order", "2", "--json").stdout)
    assert vac["count"] == 3  # figure-eight chain, melon, two figure-eights
    assert Fraction(vac["sum_symmetry_factors"]) == Fraction(35, 384)


def test_filters_and_text_output(tmp_path):
    proc = run("diagrams", "--legs", "2", "--order", "2", "--connected", "--no-self-loops")
    assert proc.returncode == 0
    assert "count" in proc.stdout and "1/6" in proc.stdout
    proc = run("diagrams", "--legs", "2", "--order", "2", "--connected", "--draw", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    index = json.loads((tmp_path / "index.json").read_text())
    assert len(index) == 3
    for stem in index:
        assert (tmp_path / f"{stem}.png").stat().st_size > 1000
        assert "\\feynmandiagram" in (tmp_path / f"{stem}.tex").read_text()


@pytest.mark.parametrize(
    "args,message",
    [
        (["diagrams", "--legs", "3", "--order", "2"], "even"),
        (["diagrams", "--order", "-1"], "order"),
        (["diagrams", "--model", "on-phi5", "--order", "1"], "unknown model"),
        (["rules", "--model", "nope"], "unknown model"),
        (["diagrams", "--model", "linear-feedforward", "--order", "1"], "--depth"),
    ],
)
def test_bad_input_one_line_exit_2(args, message):
    proc = run(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_rules_command():
    out = json.loads(run("rules", "--model", "on-phi4", "--json").stdout)
    (vertex,) = out["vertices"]
    assert vertex["coupling"] == "-g" and len(vertex["index_pairings"]) == 3
    ff = json.loads(run("rules", "--model", "linear-feedforward", "--json").stdout)
    kinds = {p["kind"]: p for p in ff["propagators"]}
    assert kinds["response"]["directed"] and kinds["response"]["causal"]
    assert kinds["correlator"]["value"] == "sigma_b2"
    assert ff["vertices"][0]["coupling"] == "sigma_w2/N"
    # time structure as data beside its text: K = delta_ts for a feedforward net, both
    # times summed, the response line causal
    time = ff["vertices"][0]["time"]
    assert time["name"] == "K" and time["kernel"] == "KroneckerDelta(s, t)"
    assert time["summed"] == ["t", "s"] and ff["vertices"][0]["times"] == ["t", "s", "t-1", "s-1"]
    assert kinds["response"]["time"]["causal"] == "t >= s"
    assert kinds["correlator"]["time"]["causal"] is None
    text = run("rules", "--model", "linear-recurrent").stdout
    assert "double_trace" in text and "K(t,s) = 1" in text
    latex = run("rules", "--model", "linear-recurrent", "--latex").stdout
    assert latex.startswith("\\begin{tabular}") and "double\\_trace" in latex


def test_rules_from_action_matches_the_table():
    derived = json.loads(
        run("rules", "--model", "linear-recurrent", "--from-action", "--json").stdout
    )
    declared = json.loads(run("rules", "--model", "linear-recurrent", "--json").stdout)
    assert derived["vertices"][0]["coupling"] == declared["vertices"][0]["coupling"]
    assert derived["vertices"][0]["time_weight"] == declared["vertices"][0]["time_weight"]
    assert derived["vertices"][0]["time"] == declared["vertices"][0]["time"]
    assert derived["vertices"][0]["time"]["kernel"] == "1"  # one W for all times
    assert [p["time"] for p in derived["propagators"]] == [
        p["time"] for p in declared["propagators"]
    ]
    proc = run("rules", "--model", "on-phi4", "--from-action")
    assert proc.returncode == 2 and "linear" in proc.stderr


def test_network_models_dispatch():
    pytest.importorskip("nnqft.diagrams.network")
    proc = run(
        "diagrams", "--model", "linear-feedforward", "--order", "1", "--depth", "2", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["count"] == len(out["diagrams"]) >= 1


def test_diagrams_json_streamed_equals_whole_result():
    """The streamed JSON is the one object json.dumps would write for the whole result."""
    from nnqft.diagrams.phi4 import generate_diagrams

    proc = run("diagrams", "--legs", "4", "--order", "3", "--1pi", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    ds = generate_diagrams(4, 3, one_pi=True)
    assert out["diagrams"] == [d.to_dict() for d in ds]
    assert list(out) == [
        "model", "legs", "order", "filters", "diagrams", "count", "sum_symmetry_factors",
        "sum_symmetry_times_n_factor",
    ]  # fmt: skip
    assert proc.stdout == json.dumps(out) + "\n"


def test_diagrams_count_only():
    args = ("diagrams", "--legs", "4", "--order", "3", "--connected")
    full = json.loads(run(*args, "--json").stdout)
    proc = run("diagrams", "--legs", "4", "--order", "3", "--connected", "--count-only", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert "diagrams" not in out
    for key in ("count", "sum_symmetry_factors", "sum_symmetry_times_n_factor"):
        assert out[key] == full[key]

    def value(d, k):
        poly = sp.sympify(d["n_factor_channels"][k], locals={"N": N})
        return Fraction(d["symmetry_factor"]) * poly

    channels = [sum((value(d, k) for d in full["diagrams"]), sp.S.Zero) for k in range(3)]
    got = [sp.sympify(x, locals={"N": N}) for x in out["sum_symmetry_times_n_factor_channels"]]
    assert all(sp.expand(a - b) == 0 for a, b in zip(got, channels))
    text = run("diagrams", "--legs", "2", "--order", "3", "--connected", "--count-only")
    assert "count" in text.stdout and "10" in text.stdout


def test_diagrams_phi4_path_imports_neither_sympy_nor_networkx():
    code = (
        "import sys, io, contextlib\n"
        "from nnqft.cli import main\n"
        "buf = io.StringIO()\n"
        "try:\n"
        "    with contextlib.redirect_stdout(buf):\n"
        "        main(['diagrams', '--legs', '2', '--order', '5', '--connected', '--json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('sympy' in sys.modules, 'networkx' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["False", "False"], proc.stderr


def test_network_diagrams_from_the_rules():
    """--from-rules: the diagrams contracted from the rules at depth T; their values sum
    to the closed form's coefficient at that T (recurrent shared bias, E Q at 1/N)."""
    from nnqft.derive.loops.amplitudes import recurrent_mean_coefficients
    from nnqft.rules.symbols import T, parse_expression

    p = run(
        "diagrams",
        "--model",
        "linear-recurrent-shared",
        "--depth",
        "3",
        "--order",
        "1",
        "--from-rules",
        "--json",
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["generator"] == "rules" and out["observable"] == "mean"
    assert out["count"] == len(out["diagrams"]) > 0
    total = sum(parse_expression(d["value"]) for d in out["diagrams"])
    expected = recurrent_mean_coefficients("shared", 1)[1].subs(T, 3)
    assert sp.simplify(total - expected) == 0
    assert sp.simplify(parse_expression(out["coefficient"]) - expected) == 0
    bad = run("diagrams", "--order", "1", "--from-rules")
    assert bad.returncode == 2 and "linear network models only" in bad.stderr
