"""The numeric commands import no sympy, networkx or matplotlib (README: start-up).

Each command runs in-process in a fresh interpreter (the CLI's ``main``), which then reports
which of the heavy libraries it loaded; the output must be the JSON the command prints.
"""

import json
import subprocess
import sys

import pytest

HEAVY = ("sympy", "networkx", "matplotlib")
_RUN = f"""
import sys
from nnqft.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print("\\n" + repr(sorted(m for m in {HEAVY!r} if m in sys.modules)), end="")
sys.exit(code)
"""

COMMANDS = [
    "mft --activation tanh --sigma-w2 1.5 --sigma-b2 0.05 --json",
    "mft --activation relu --sigma-w2 2 --json",
    "mft --activation erf --sigma-w2 3 --json",
    "mft --activation gelu --sigma-w2 1.5 --sigma-b2 0.1 --nodes 301 --json",
    "mft --activation swish --sigma-w2 2 --sigma-b2 0.1 --json",
    "critical --activation tanh --sigma-b2 0.05 --json",
    "critical --activation erf --json",
    "phase --activation tanh --points 4 --json",
    "phase --activation relu --points 3 --json",
    "finite-width --activation tanh --sigma-w2 1.5 --depth 5 --json",
    "finite-width --activation sigmoid --sigma-w2 1.5 --depth 4 --next-order --c0 0.5 --json",
    "finite-width --activation erf --sigma-w2 1.2 --depth 4 --json",
    "simulate --activation tanh --sigma-w2 1.5 --width 8 --depth 3 --samples 20 --json",
    "ntk --activation tanh --sigma-w2 1.5 --depth 4 --json",
    "ntk --activation relu --sigma-w2 2 --depth 3 --c0 0.5 --json",
    "ntk --activation tanh --depth 3 --c0 0.5 --width 8 --samples 20 --json",
    "ntk --activation erf --arch recurrent --bias fresh --depth 3 --width 6 --samples 10 --json",
    "simulate --activation sin --sigma-w2 1.5 --width 8 --depth 3 --samples 20 --c0 0.5 --json",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_numeric_command_imports_no_symbolic_library(command):
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, *command.split()],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    output, _, loaded = proc.stdout.rpartition("\n")
    assert isinstance(json.loads(output), dict)
    assert loaded == "[]", f"{command!r} imported {loaded}"


def test_the_check_sees_a_symbolic_import():
    """The same harness reports sympy where a command does need it (a user expression)."""
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, "mft", "--activation", "z*tanh(z)", "--sigma-w2", "1.5"]
        + ["--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "'sympy'" in proc.stdout.rpartition("\n")[2]
