"""Canonical ids and symmetry factors: exact, relabelling-invariant, checked against
networkx isomorphism and a half-edge automorphism count done by networkx."""

import itertools
import random
from fractions import Fraction

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from networkx.algorithms.isomorphism import GraphMatcher

from nnqft.diagrams import (
    automorphism_count,
    canonical_id,
    make_diagram,
    relabel,
    symmetry_factor,
)
from nnqft.diagrams.phi4 import generate_diagrams
from nnqft.errors import InvalidParameter, InvalidType

NODE_MATCH = lambda a, b: a == b  # noqa: E731


def edge_match(a, b):
    """Multigraph edge bundles match iff they have the same multiset of edge attributes."""

    def bag(d):
        return sorted(repr(sorted(x.items())) for x in d.values())

    return bag(a) == bag(b)


def half_edge_graph(diagram):
    """The half-edge route: u-v becomes u-h1-h2-v; half-edge nodes coloured by propagator
    kind and, for directed lines, by tail/head; legs and vertices keep their attributes."""
    h = nx.Graph()
    for x, data in diagram.nodes(data=True):
        h.add_node(("n", x), colour=repr(sorted(data.items())))
    for k, (u, v, data) in enumerate(diagram.edges(data=True)):
        kind = data.get("kind")
        if data.get("directed"):
            tail = u if data["head"] == v else v
            head = v if tail == u else u
            cu, cv = (kind, "tail"), (kind, "head")
            u, v = tail, head
        else:
            cu = cv = (kind, "half")
        h.add_node(("h", k, 0), colour=repr(cu))
        h.add_node(("h", k, 1), colour=repr(cv))
        h.add_edge(("n", u), ("h", k, 0))
        h.add_edge(("h", k, 0), ("h", k, 1))
        h.add_edge(("h", k, 1), ("n", v))
    return h


def networkx_automorphisms(diagram):
    h = half_edge_graph(diagram)
    matcher = GraphMatcher(h, h, node_match=lambda a, b: a["colour"] == b["colour"])
    return sum(1 for _ in matcher.isomorphisms_iter())


# (networkx enumerates every automorphism one by one: keep the groups small)
SMALL = [
    d
    for k in range(4)
    for legs in (0, 2, 4)
    for d in generate_diagrams(legs, k)
    if d.symmetry_factor >= Fraction(1, 400)
]


@pytest.mark.parametrize("diagram", SMALL, ids=lambda d: d.id)
def test_symmetry_factor_equals_half_edge_automorphisms_from_networkx(diagram):
    assert automorphism_count(diagram.graph) == networkx_automorphisms(diagram.graph)
    assert diagram.symmetry_factor == Fraction(1, networkx_automorphisms(diagram.graph))


def test_generated_id_is_canonical_id_of_its_graph():
    for legs, order in ((2, 4), (4, 3), (0, 4), (2, 3)):
        for d in generate_diagrams(legs, order, connected=True):
            assert canonical_id(d.graph) == d.id
            assert symmetry_factor(d.graph) == d.symmetry_factor


def test_known_factors():
    tadpole = make_diagram([(1, "v"), ("v", 2), ("v", "v")], legs={1: 1, 2: 2})
    sunset = make_diagram(
        [(1, "x"), ("x", "y"), ("x", "y"), ("x", "y"), ("y", 2)], legs={1: 1, 2: 2}
    )
    figure_eight = make_diagram([("v", "v"), ("v", "v")])
    melon = make_diagram([("a", "b")] * 4)
    assert symmetry_factor(tadpole) == Fraction(1, 2)
    assert symmetry_factor(sunset) == Fraction(1, 6)
    assert symmetry_factor(figure_eight) == Fraction(1, 8)
    assert symmetry_factor(melon) == Fraction(1, 48)
    # two identical vacuum components: k! on top of each component's group
    two = nx.disjoint_union(figure_eight, figure_eight)
    assert automorphism_count(two) == 8 * 8 * 2


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_weisfeiler_lehman_collision_is_not_a_collision_here():
    """Prism and K3,3 share their WL hash but are not isomorphic."""
    prism = nx.circular_ladder_graph(3)
    k33 = nx.complete_bipartite_graph(3, 3)
    assert nx.weisfeiler_lehman_graph_hash(prism) == nx.weisfeiler_lehman_graph_hash(k33)
    a = make_diagram(list(prism.edges()))
    b = make_diagram(list(k33.edges()))
    assert canonical_id(a) != canonical_id(b)
    assert automorphism_count(a) == 12 and automorphism_count(b) == 72


def test_directed_edges_are_oriented_and_legs_are_labelled():
    def line(head):
        return make_diagram(
            [("a", "b", {"kind": "response", "directed": True, "head": head})],
            legs={"a": 1, "b": 2},
        )

    assert canonical_id(line("a")) != canonical_id(line("b"))
    plain = make_diagram([("a", "b")], legs={"a": 1, "b": 2})
    swapped = make_diagram([("a", "b")], legs={"a": 2, "b": 1})
    assert canonical_id(plain) == canonical_id(swapped)
    # a directed self-loop does not flip; an undirected one does
    loop_d = make_diagram([("v", "v", {"kind": "response", "directed": True, "head": "v"})])
    assert automorphism_count(loop_d) == 1
    assert automorphism_count(make_diagram([("v", "v")])) == 2


def test_bad_graphs():
    with pytest.raises(InvalidType):
        canonical_id(nx.Graph())
    bad = make_diagram([("a", "b", {"directed": True, "head": "c"})])
    with pytest.raises(InvalidParameter, match="head"):
        canonical_id(bad)


POOL = [d for legs, k in ((2, 4), (4, 3), (0, 4)) for d in generate_diagrams(legs, k)]


@given(st.sampled_from(POOL), st.randoms(use_true_random=False))
def test_relabelling_never_changes_id_or_symmetry_factor(diagram, rnd):
    graph = diagram.graph
    nodes = list(graph.nodes)
    names = list(range(100, 100 + len(nodes)))
    rnd.shuffle(names)
    other = relabel(graph, dict(zip(nodes, names)))
    # also rebuild the MultiGraph with edges inserted in a random order
    edges = list(other.edges(data=True))
    rnd.shuffle(edges)
    rebuilt = nx.MultiGraph()
    order = list(other.nodes(data=True))
    rnd.shuffle(order)
    rebuilt.add_nodes_from(order)
    for u, v, data in edges:
        if rnd.random() < 0.5:
            u, v = v, u
        rebuilt.add_edge(u, v, **data)
    assert canonical_id(rebuilt) == diagram.id
    assert symmetry_factor(rebuilt) == diagram.symmetry_factor


@given(st.integers(min_value=0, max_value=10**6))
def test_random_multigraphs_relabel_invariant(seed):
    rnd = random.Random(seed)
    n = rnd.randint(1, 6)
    edges = [(rnd.randrange(n), rnd.randrange(n)) for _ in range(rnd.randint(1, 9))]
    kinds = ["phi", "correlator"]
    g = make_diagram(
        [(u, v, {"kind": rnd.choice(kinds)}) for u, v in edges], legs={0: 1} if n > 1 else {}
    )
    perm = list(range(n))
    rnd.shuffle(perm)
    h = relabel(g, dict(enumerate(perm)))
    assert canonical_id(g) == canonical_id(h)
    count = automorphism_count(g)
    assert automorphism_count(h) == count
    if count <= 2000:  # networkx lists automorphisms one by one
        assert count == networkx_automorphisms(g)


def test_distinct_ids_are_not_isomorphic():
    """Every pair of generated diagrams (same legs, order) with different ids is
    non-isomorphic by networkx's matcher, and each id is reached by one diagram only."""
    for legs, order in ((2, 3), (4, 2), (0, 3), (2, 4)):
        ds = generate_diagrams(legs, order)
        assert len({d.id for d in ds}) == len(ds)
        for a, b in itertools.combinations(ds, 2):
            assert not nx.is_isomorphic(
                a.graph, b.graph, node_match=NODE_MATCH, edge_match=edge_match
            ), (a.id, b.id)


@given(st.sampled_from(POOL), st.sampled_from(POOL))
def test_equal_ids_iff_isomorphic(a, b):
    iso = nx.is_isomorphic(a.graph, b.graph, node_match=NODE_MATCH, edge_match=edge_match)
    assert (a.id == b.id) == iso


def test_large_symmetry_groups_are_counted_not_enumerated():
    """networkx needs 141 s for 7 disjoint melons; components and twin cells
    are counted by orbit size here (48^7 7! and 10!)."""
    import math

    melons = make_diagram([(f"a{k}", f"b{k}") for k in range(7) for _ in range(4)])
    assert automorphism_count(melons) == 48**7 * math.factorial(7)
    star = make_diagram([("c", k) for k in range(10)])
    assert automorphism_count(star) == math.factorial(10)
    # twins that are joined to each other: a triangle of equal nodes, K4 with one leg
    assert automorphism_count(make_diagram([(0, 1), (1, 2), (0, 2)])) == 6
    k4 = make_diagram(
        [(a, b) for a in range(4) for b in range(a + 1, 4)] + [(0, "L")], legs={"L": 1}
    )
    assert automorphism_count(k4) == 6 == networkx_automorphisms(k4)
