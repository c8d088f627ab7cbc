"""The examples a newcomer runs first keep working (and print what they promise)."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    "script, expected",
    [
        ("edge_of_chaos.py", "critical sigma_w2 = 1.760955"),
        ("loop_corrections.py", "E Q(3) at N = 4 through 1/N: 17/8"),
    ],
)
def test_example_runs(script, expected):
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert expected in proc.stdout
