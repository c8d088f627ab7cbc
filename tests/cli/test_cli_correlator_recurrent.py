"""`nnqft correlator --arch recurrent` with a nonlinear activation: the numbers of the
collective-field diagrams (derive/fluctuations/recurrent.py), per step, as a JSON contract."""

import json

import pytest

from nnqft.cli import main

ARGS = ["correlator", "--arch", "recurrent", "--activation", "erf", "--sigma-w2", "1.5",
        "--sigma-b2", "0.1", "--depth", "3", "--order", "1", "--json"]  # fmt: skip


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    captured = capsys.readouterr()
    return exc.value.code, captured.out, captured.err


@pytest.mark.parametrize("bias", ["shared", "fresh"])
def test_mean_steps_and_diagrams(bias, capsys):
    from nnqft.derive.fluctuations.recurrent import recurrent_correlators
    from nnqft.rules.network import Network

    code, out, err = run(ARGS + ["--bias", bias, "--observable", "mean"], capsys)
    assert code == 0, err
    data = json.loads(out)
    rows = recurrent_correlators(Network("recurrent", "erf", 1.5, 0.1, bias=bias), 3)
    assert [s["t"] for s in data["steps"]] == [1, 2, 3]
    for step, row in zip(data["steps"], rows):
        assert [step["coefficients"]["0"], step["coefficients"]["1"]] == pytest.approx(row["mean"])
    (tadpole,) = data["diagrams"]
    assert set(tadpole) >= {"id", "order", "symmetry_factor", "n_power", "name", "values"}
    assert (tadpole["symmetry_factor"], tadpole["n_power"]) == ("1/2", -1)
    # the diagrams sum to the 1/N coefficient at every step
    assert tadpole["values"] == pytest.approx([s["coefficients"]["1"] for s in data["steps"]])


def test_variance_is_the_tree(capsys):
    code, out, err = run(ARGS + ["--observable", "variance"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["steps"][0]["coefficients"] == pytest.approx({"0": 0.0, "1": 2 * 1.6**2})
    assert data["diagrams"][0]["name"] == "propagator"


def test_linear_output_is_unchanged(capsys):
    code, out, err = run(["correlator", "--arch", "recurrent", "--bias", "fresh", "--order", "1",
                          "--json"], capsys)  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["activation"] == "linear" and "expression" in data and "steps" not in data


@pytest.mark.parametrize("extra, needle", [
    (["--observable", "log-mean"], "mean or variance"),
    (["--order", "2"], "maximum 1"),
    (["--exact"], "order"),
])  # fmt: skip
def test_bad_input_exits_2(extra, needle, capsys):
    args = [a for a in ARGS if a != "--json"]
    if extra == ["--exact"]:
        args = args[: args.index("--order")] + args[args.index("--order") + 2:]
    code, out, err = run(args + extra, capsys)
    assert code == 2 and needle in err


def test_missing_numbers_are_named(capsys):
    code, _, err = run(["correlator", "--arch", "recurrent", "--activation", "tanh", "--order",
                        "1"], capsys)  # fmt: skip
    assert code == 2 and "--sigma-w2" in err and "--depth" in err
