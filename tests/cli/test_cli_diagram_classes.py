"""`nnqft diagrams --json`: every entry names its class after the keys it always had
(the contract: keys are added, never removed or renamed), and the class is the one
diagrams/classes.py gives the same diagram."""

import json
import subprocess
import sys

from nnqft.diagrams.classes import DIAGRAM_CLASSES
from nnqft.diagrams.phi4 import generate_diagrams

OLD_KEYS = ["id", "edges", "symmetry_factor", "n_factor", "order", "loops", "one_pi", "connected"]


def test_json_entries_name_their_class():
    proc = subprocess.run(
        [sys.executable, "-m", "nnqft", "diagrams", "--legs", "2", "--order", "3", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    entries = json.loads(proc.stdout)["diagrams"]
    by_id = {d.id: d.diagram_class for d in generate_diagrams(2, 3)}
    assert len(entries) == len(by_id)
    for entry in entries:
        assert list(entry) == OLD_KEYS + ["diagram_class"]
        assert entry["diagram_class"] in DIAGRAM_CLASSES
        assert entry["diagram_class"] == by_id[entry["id"]]
    assert {e["diagram_class"] for e in entries} >= {"petal", "cactus", "mushroom"}
