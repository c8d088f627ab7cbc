"""The layer-pairing diagrams of the feedforward Var Q(T) against a brute-force enumeration
of unreduced layer-pairing sequences (index loops counted by networkx components)."""

from collections import Counter
from itertools import permutations, product

import networkx as nx
import pytest

from nnqft.diagrams.layer_pairings import (
    PAIRINGS,
    LayerDiagram,
    check_rules,
    index_loops,
    layer_diagrams,
    reduce_layers,
)
from nnqft.errors import InvalidParameter
from nnqft.rules.feynman import get_rules

RULES = get_rules("linear-feedforward")


def matchings(items):
    """All perfect matchings of a list (none when its length is odd)."""
    if not items:
        yield ()
        return
    first, rest = items[0], items[1:]
    for i, other in enumerate(rest):
        for tail in matchings(rest[:i] + rest[i + 1 :]):
            yield ((first, other), *tail)


def configurations(depth):
    """Every Wick pairing of E[(z1.z2)(z3.z4)] at depth ``depth`` as a layer-pairing
    sequence: (sources, layer pairings, bias pairing of four equal sources, N power,
    connected)."""
    for sources in product(range(depth + 1), repeat=4):
        groups = Counter(s for s in sources if s)
        if any(n % 2 for n in groups.values()) or sources.count(0) % 2:
            continue
        per_layer = [
            list(matchings([a for a in range(4) if sources[a] < t])) for t in range(1, depth + 1)
        ]
        four = [layer for layer, n in groups.items() if n == 4]
        bias_choices = list(matchings([0, 1, 2, 3])) if four else [None]
        for pairings in product(*per_layer):
            for bias in bias_choices:
                yield sources, pairings, bias, *_power(sources, pairings, bias, depth)


def _power(sources, pairings, bias, depth):
    """The power of N (index components on a graph of (strand, level) nodes) and whether
    some pairing joins {0, 1} with {2, 3}."""
    g = nx.Graph()
    g.add_nodes_from((a, lv) for a in range(4) for lv in range(sources[a], depth + 1))
    g.add_edge((0, depth), (1, depth))
    g.add_edge((2, depth), (3, depth))
    joined = nx.Graph([(0, 1), (2, 3)])
    w_pairs = 0
    for t, pairing in enumerate(pairings, start=1):
        for a, b in pairing:
            w_pairs += 1
            g.add_edge((a, t), (b, t))
            g.add_edge((a, t - 1), (b, t - 1))
            joined.add_edge(a, b)
    layers = {}
    for a in range(4):
        if sources[a]:
            layers.setdefault(sources[a], []).append(a)
    for layer, strands in layers.items():
        for a, b in [tuple(strands)] if len(strands) == 2 else bias:
            g.add_edge((a, layer), (b, layer))
            joined.add_edge(a, b)
    components = nx.number_connected_components(g)  # loops and input paths: N each
    return components - w_pairs - 2, nx.is_connected(joined)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_six_times_two_to_the_d_reduced_diagrams(order):
    ds = [d for d in layer_diagrams(RULES, order) if d.deficit == order]
    assert len(ds) == 6 * 2**order == len(set(ds))


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_brute_force_reduces_onto_the_generated_diagrams(depth):
    generated = {d for d in layer_diagrams(RULES, depth + 1)}
    seen = Counter()
    for sources, pairings, bias, power, connected in configurations(depth):
        reduced = reduce_layers(sources, pairings, bias)
        assert (reduced is not None) == connected
        if reduced is None:
            assert power == 0  # the configurations of (E Q)^2 are O(1)
            continue
        assert reduced.deficit == -power  # each change of pairing costs one 1/N
        assert reduced in generated
        seen[reduced] += 1
    # every diagram of order < depth fits at this depth (bias pairs of two layers need
    # depth >= d + 1), and no reduced diagram is missed
    for d in generated:
        fits = d.deficit < depth or (d.deficit == depth and d.pattern != "bias+bias")
        assert (d in seen) == fits, d


def test_diagram_counts_per_order_at_depth_three():
    """Distinct reduced diagrams (and classes) met by brute force, per order, at T = 3."""
    by_order = Counter()
    classes = {}
    for sources, pairings, bias, power, _connected in configurations(3):
        reduced = reduce_layers(sources, pairings, bias)
        if reduced is not None:
            classes.setdefault(-power, set()).add(reduced.id)
            by_order[-power, reduced] += 1
    distinct = Counter(order for order, _ in by_order)
    assert distinct == {1: 12, 2: 24, 3: 32}  # at order 3 the 16 of two bias pairs need T >= 4
    generated = layer_diagrams(RULES, 2)
    for order in (1, 2):
        assert classes[order] == {d.id for d in generated if d.deficit == order}


SYMMETRIES = [
    p
    for p in permutations(range(4))
    if {frozenset((p[0], p[1])), frozenset((p[2], p[3]))} == {frozenset((0, 1)), frozenset((2, 3))}
]


def _act(perm, d: LayerDiagram) -> LayerDiagram:
    def pairing(m):
        return tuple(sorted(tuple(sorted((perm[a], perm[b]))) for a, b in m))

    old = None if d.old is None else tuple(sorted(perm[a] for a in d.old))
    return LayerDiagram(d.pattern, tuple(pairing(w) for w in d.word), old)


def test_canonical_classes_are_the_orbits_of_the_readout_symmetry():
    assert len(SYMMETRIES) == 8
    ds = layer_diagrams(RULES, 3)
    ids = {d: d.id for d in ds}
    for d in ds:
        orbit = {_act(p, d) for p in SYMMETRIES}
        assert orbit <= set(ds)
        assert {x for x in ds if ids[x] == ids[d]} == orbit


@pytest.mark.parametrize("stretch", [1, 2, 3])
def test_realizations_reduce_back_and_count_their_loops(stretch):
    for d in layer_diagrams(RULES, 3):
        sources, pairings, bias = d.realize(stretch)
        assert reduce_layers(sources, pairings, bias) == d
        c = index_loops(sources, pairings, bias)
        power, connected = _power(sources, pairings, bias, len(pairings))
        assert connected and power == -d.deficit
        assert c["loops"] + c["input_paths"] - c["w_pairs"] - 2 == power
        assert LayerDiagram.from_code(d.code()) == d


def test_graph_is_typed_and_drawn():
    from nnqft.diagrams.draw import line_kinds, tikz_picture

    d = LayerDiagram("bias+bias", (PAIRINGS[1], PAIRINGS[0]), (0, 2))
    g = d.graph()
    kinds = Counter(k for *_, k in g.edges(data="kind"))
    assert kinds == {"response": 4 * 2 + 2, "disorder": 1 + 2, "correlator": 2}
    assert set(line_kinds(g)) == {"response", "disorder", "correlator"}
    picture = tikz_picture(g)
    assert picture.count("nnqft disorder") == 3
    # drawn where the generator placed it (``pos``, outside the canonical form): the
    # readouts right of the three columns, on the rows between their strands
    assert "(3.600,-0.500)" in picture and "(3.600,-2.500)" in picture
    assert all("pos" in data for _, data in g.nodes(data=True))


def test_rules_other_than_the_feedforward_net_are_refused():
    check_rules(RULES)
    for model in ("linear-recurrent-shared", "linear-recurrent-fresh"):
        with pytest.raises(InvalidParameter, match="K = delta_ts"):
            layer_diagrams(get_rules(model), 1)
    with pytest.raises(InvalidParameter):
        layer_diagrams(RULES, -1)
    with pytest.raises(InvalidParameter):
        reduce_layers((0, 0, 1, 2), ((), (), ()))
