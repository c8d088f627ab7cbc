"""Every bad command line: one line on stderr, exit code 2, refused fast, before any work."""

import time

import pytest
from conftest import run_cli as run

SIM = ["simulate", "--activation", "tanh", "--sigma-w2", "1.5", "--width", "4", "--depth", "2"]
FW = ["finite-width", "--depth", "2", "--samples", "10"]
EXPORT = ["export", "linear-feedforward/mean", "--lang", "c"]
CORR = ["correlator", "--order", "1"]


def refused(args, capsys, *needles, seconds=5.0):
    start = time.perf_counter()
    code, out, err = run(args, capsys)
    elapsed = time.perf_counter() - start
    assert code == 2, (code, out, err)
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("nnqft: error: "), err
    assert "Traceback" not in err and "RuntimeWarning" not in err
    for needle in needles:
        assert needle in err, err
    assert elapsed < seconds, f"refusal took {elapsed:.1f} s"
    return err


# --- output paths --------------------------------------------------------------------------

FILE_OPTIONS = [
    (SIM + ["--plot"], "out.png"),
    (FW + ["--plot"], "out.png"),
    (EXPORT + ["-o"], "out.c"),
    (CORR + ["--latex"], "out.tex"),
    (["action", "--latex"], "out.tex"),
    (["action", "--markdown"], "out.md"),
    (["phase", "--points", "2", "--plot"], "out.png"),
]
DIR_OPTIONS = [(["paper", "--out"], "paper"), (["diagrams", "--order", "1", "--draw"], "figs")]


@pytest.mark.parametrize("args, name", FILE_OPTIONS + DIR_OPTIONS)
def test_missing_parent_folder(args, name, tmp_path, capsys):
    refused(args + [str(tmp_path / "nowhere" / name)], capsys, "does not exist")
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("args, name", FILE_OPTIONS + DIR_OPTIONS)
def test_parent_is_a_regular_file(args, name, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    refused(args + [str(tmp_path / "afile" / name)], capsys, "is not a folder")


@pytest.mark.parametrize("args, name", FILE_OPTIONS + DIR_OPTIONS)
def test_unwritable_place(args, name, capsys):
    refused(args + [f"/proc/nnqft/{name}"], capsys, "cannot write")


@pytest.mark.parametrize("args, name", FILE_OPTIONS)
def test_file_option_given_a_folder(args, name, tmp_path, capsys):
    (tmp_path / name).mkdir()
    refused(args + [str(tmp_path / name)], capsys, "is a folder")


@pytest.mark.parametrize("args, name", DIR_OPTIONS)
def test_folder_option_given_a_file(args, name, tmp_path, capsys):
    (tmp_path / name).write_text("x")
    refused(args + [str(tmp_path / name)], capsys, "not a folder")


@pytest.mark.parametrize("args, name", FILE_OPTIONS + DIR_OPTIONS)
@pytest.mark.parametrize("empty", ["", "  "])
def test_empty_path(args, name, empty, capsys):
    refused(args + [empty], capsys, "an empty path")


def test_unwritable_file_in_proc(capsys):
    refused(EXPORT + ["-o", "/proc/x"], capsys, "cannot write '/proc/x'")


def test_phase_plot_names_the_supported_formats(capsys):
    err = refused(["phase", "--points", "2", "--plot", "out.txt"], capsys, "'txt'", "PNG", "SVG")
    assert "PDF" in err


def test_finite_width_plot_is_png(capsys):
    refused(FW + ["--plot", "out.pdf"], capsys, "PNG")


def test_diagrams_pdf_needs_draw(capsys):
    refused(["diagrams", "--order", "1", "--pdf"], capsys, "--pdf", "--draw")


def test_bad_path_is_refused_before_work(tmp_path, capsys, monkeypatch):
    """The path is checked when the command line is parsed: the simulation never starts."""
    import nnqft.derive.montecarlo.simulate as S

    def boom(*a, **k):
        raise AssertionError("simulate ran")

    monkeypatch.setattr(S, "simulate", boom)
    refused(SIM + ["--plot", str(tmp_path / "no" / "x.png")], capsys, "does not exist")


def test_good_path_still_written(tmp_path, capsys):
    code, out, err = run(EXPORT + ["-o", str(tmp_path / "f.c")], capsys)
    assert code == 0, err
    assert (tmp_path / "f.c").read_text().strip()


# --- sizes that cannot fit -----------------------------------------------------------------


@pytest.mark.parametrize(
    "args, needles",
    [
        (["phase", "--points", "100000"], ["cap of 1000"]),
        (SIM[:-4] + ["--width", "100000000", "--depth", "2", "--sampler", "full"], ["GiB"]),
        (SIM[:-4] + ["--width", "100000000", "--depth", "2"], ["GiB", "cap"]),
        (SIM[:-4] + ["--width", "16", "--depth", "6", "--samples", str(10**11)], ["cap is 900"]),
        (SIM[:-2] + ["--depth", str(10**7)], ["cap of 10000"]),
        (SIM + ["--jobs", "100000"], ["--jobs"]),
        (["finite-width", "--depth", str(10**7)], ["cap of 10000"]),
        (["finite-width", "--plot", "x.png", "--samples", str(10**12)], ["cap is 900"]),
        (["diagrams", "--legs", "100000", "--order", "1"], ["legs <= 12"]),
        (["diagrams", "--legs", "2", "--order", "1000"], ["legs + 4*order <= 34"]),
        (["diagrams", "--legs", "-2", "--order", "1"], ["non-negative"]),
        (
            ["diagrams", "--model", "linear-feedforward", "--order", "1", "--depth", str(10**9)],
            ["cap of 10000"],
        ),
        (["mft", "--sigma-w2", "1", "--nodes", str(10**9)], ["cap of 20000"]),
        (["critical", "--nodes", str(10**9)], ["cap"]),
        (CORR[:1] + ["--order", "1000"], []),
        (CORR[:1] + ["--order", "-1"], ["non-negative"]),
    ],
)
def test_sizes_that_cannot_fit_are_refused_fast(args, needles, capsys):
    refused(args, capsys, *needles, seconds=3.0)


def test_long_simulation_prints_its_estimate_first(capsys, monkeypatch):
    from nnqft.commands import _common

    monkeypatch.setattr(_common, "NOTE_SECONDS", 0.0)
    code, out, err = run(SIM + ["--samples", "10", "--json"], capsys)
    assert code == 0, err
    assert err.count("\n") == 1 and "estimated" in err


# --- the bias convention follows the architecture ------------------------------------------


@pytest.mark.parametrize("command", [SIM, ["action"], CORR])
def test_feedforward_takes_no_bias(command, capsys):
    refused(command + ["--arch", "feedforward", "--bias", "shared"], capsys, "recurrent nets only")


@pytest.mark.parametrize("command", [SIM, ["action"], CORR])
def test_bias_help_states_the_default_per_architecture(command, capsys):
    code, out, _ = run(command[:1] + ["--help"], capsys)
    assert code == 0
    text = " ".join(out.split())
    assert "the default with --arch recurrent" in text and "take no --bias" in text


def test_recurrent_default_is_shared(capsys):
    import json

    code, out, err = run(
        ["simulate", "--arch", "recurrent", "--sigma-w2", "1", "--width", "3", "--depth", "2",
         "--samples", "4", "--json"], capsys)  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["bias"] == "shared"


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, needles",
    [
        (["correlator", "--observable", "varience", "--activation", "tnah"],
         ["'varience'", "did you mean 'variance'"]),
        (SIM + ["--arch", "feedfoward"], ["unknown architecture", "did you mean 'feedforward'"]),
        (["action", "--arch", "recurrent", "--bias", "sharde"], ["did you mean 'shared'"]),
        (CORR + ["--arch", "recurrent", "--bias", "frsh"], ["known: fresh, shared"]),
        (["diagrams", "--model", "on-phi3", "--order", "1"], ["did you mean 'on-phi4'"]),
        (["rules", "--model", "linear-feedfoward"], ["unknown model"]),
        (["export", "linear-feedforward/mean", "--lang", "pyhton"], ["unknown language"]),
        (SIM + ["--sampler", "fsat"], ["did you mean 'fast'"]),
        (SIM + ["--arch", "recurrent", "--sampler", "fast"], ["feedforward"]),
    ],
)  # fmt: skip
def test_unknown_names_are_named_first(args, needles, capsys):
    refused(args, capsys, *needles)


def test_names_are_case_insensitive(capsys):
    code, out, err = run(["correlator", "--observable", "MEAN", "--order", "0", "--json"], capsys)
    assert code == 0, err


# --- numpy warnings ------------------------------------------------------------------------


def test_overflow_is_an_error_with_its_cause(capsys):
    err = refused(SIM[:3] + ["--sigma-w2", "1e300", "--width", "4", "--depth", "3",
                             "--samples", "4"], capsys, "overflow")  # fmt: skip
    assert "nnqft.derive" in err


def test_help_does_not_import_numpy():
    import subprocess
    import sys

    code = (
        "import sys; from nnqft.cli import main\n"
        "try: main(['simulate', '--help'])\nexcept SystemExit: pass\n"
        "assert 'numpy' not in sys.modules and 'sympy' not in sys.modules, 'heavy import'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("order", ["-1", "11", str(2**31)])
def test_check_order_is_capped(order, capsys):
    args = ["check", "q0", "--against", "linear-feedforward/mean", "--order", order]
    refused(args, capsys, "from 0 to 10", seconds=3.0)
