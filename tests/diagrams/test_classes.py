"""Named diagram classes: a partition (tree, petal, cactus, mushroom, other) that agrees
with the graph-theoretic cactus test, reads the same off a graph as off the encoded form,
and names the small phi^4 diagrams as docs/conventions.md §6 says."""

from collections import Counter

import pytest

from nnqft.diagrams import make_diagram
from nnqft.diagrams.classes import DIAGRAM_CLASSES, class_and_bridge, classify, diagram_class
from nnqft.diagrams.phi4 import generate_diagrams, is_cactus, is_one_particle_irreducible
from nnqft.errors import InvalidType


@pytest.mark.parametrize("legs,order", [(0, 3), (2, 3), (2, 4), (4, 3)])
def test_classes_partition_and_match_the_cactus_test(legs, order):
    for d in generate_diagrams(legs, order, connected=True):
        name = diagram_class(d)
        assert name in DIAGRAM_CLASSES
        assert is_cactus(d) == (name in ("tree", "petal", "cactus"))
        assert diagram_class(d.graph) == name  # the graph route agrees
        assert d.to_dict()["diagram_class"] == name


def test_the_two_point_classes_at_order_two_and_four():
    names = [diagram_class(d) for d in generate_diagrams(2, 2, connected=True)]
    assert names == ["petal", "cactus", "mushroom"]  # tadpole chain, bubble on tadpole, sunset
    counts = Counter(diagram_class(d) for d in generate_diagrams(2, 4, connected=True))
    assert counts == {"petal": 1, "cactus": 12, "mushroom": 25, "other": 1}


def test_hand_made_diagrams():
    assert classify((1, 2), ((0, 1),)) == "tree"  # the bare line
    ring = [(1, "a"), ("a", "b"), ("b", "c"), ("c", "a"), ("c", 2)]
    assert diagram_class(make_diagram(ring, legs={1: 1, 2: 2})) == "cactus"
    two_cores = [("a", "b")] * 3 + [("b", "c")] + [("c", "d")] * 3
    assert diagram_class(make_diagram(two_cores)) == "other"
    with pytest.raises(InvalidType):
        diagram_class(42)


@pytest.mark.parametrize("legs,order", [(0, 4), (2, 5), (4, 4)])
def test_the_bridge_flag_is_the_1pi_test_and_the_shortcuts_agree(legs, order):
    for d in generate_diagrams(legs, order, connected=True):
        name, bridge = class_and_bridge(d.labels, d.edges, True)
        assert (not bridge) == is_one_particle_irreducible(d.labels, d.edges) == d.one_pi
        assert name == classify(d.labels, d.edges)  # without the connected shortcuts
