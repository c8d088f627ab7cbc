"""phi^4 diagrams of the O(N) model: counts, reference values, the zero-dimensional
identity (an independent route through the moments E[(x.x)^k]) and large N."""

from fractions import Fraction

import networkx as nx
import pytest
import sympy as sp
from conftest import reference_values

from nnqft.diagrams.on_tensor import on_factor
from nnqft.diagrams.phi4 import (
    generate_diagrams,
    is_cactus,
    is_one_particle_irreducible,
)
from nnqft.diagrams.zero_dim import (
    cactus_series,
    diagram_series,
    large_n_propagator,
    moment,
    zero_dim_series,
)
from nnqft.errors import InvalidParameter, InvalidType, OrderTooHigh
from nnqft.rules.symbols import N

REFERENCE = reference_values("on_phi4")

# Known counts: connected 2-point diagrams with labelled legs, orders 1..7
DESIGN_COUNTS = [1, 3, 10, 39, 174, 853, 4632]


def poly_expr(poly):
    return sum(sp.Rational(c.numerator, c.denominator) * N**p for p, c in poly.items())


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 6])
def test_design_counts(order):
    assert len(generate_diagrams(2, order, connected=True)) == DESIGN_COUNTS[order - 1]


@pytest.mark.slow
@pytest.mark.parametrize("order", [7])
def test_design_counts_high_orders(order):
    assert len(generate_diagrams(2, order, connected=True)) == DESIGN_COUNTS[order - 1]


def test_reference_values():
    for order, count in REFERENCE["two_point_connected_counts"]["by_order"].items():
        assert len(generate_diagrams(2, int(order), connected=True)) == count
    sums = REFERENCE["two_point_connected_sum_symmetry_factors_N1"]["by_order"]
    for order, total in sums.items():
        ds = generate_diagrams(2, int(order), connected=True)
        # at N = 1 every O(N) factor is 1, so the sum is a plain sum of symmetry factors
        assert all(sum(d.n_factor.values()) == 1 for d in ds)
        assert sum(d.symmetry_factor for d in ds) == Fraction(total)
    (tadpole,) = generate_diagrams(2, 1, connected=True)
    sunset = [d for d in generate_diagrams(2, 2, connected=True) if not is_cactus(d)]
    assert len(sunset) == 1
    for d, key in ((tadpole, "tadpole"), (sunset[0], "sunset")):
        assert str(d.symmetry_factor) == REFERENCE[key]["symmetry_factor"]
        expected = sp.sympify(REFERENCE[key]["n_factor"], locals={"N": N})
        assert sp.expand(poly_expr(d.n_factor) - expected) == 0
    g = sp.Symbol("g")
    series = sp.sympify(REFERENCE["zero_dim_propagator_series"]["formula"], locals={"N": N})
    ours = zero_dim_series(2)["propagator"]
    assert sp.expand(sum(c * g**k for k, c in enumerate(ours)) - series) == 0
    assert sp.expand(sum(c * g**k for k, c in enumerate(diagram_series(2, 2))) - series) == 0


def test_one_loop_bubble_is_one_half_per_channel():
    bubbles = [d for d in generate_diagrams(4, 2, one_pi=True)]
    assert len(bubbles) == 3
    for d in bubbles:
        assert d.symmetry_factor == Fraction(1, 2)
        assert d.loops == 1
    # each bubble is a different channel (s, t, u)
    leg_pairs = {
        frozenset(frozenset(d.labels[a] for a in nbrs) for nbrs in _leg_pairs(d)) for d in bubbles
    }
    assert len(leg_pairs) == 3


def _leg_pairs(d):
    out = {}
    for a, b in d.edges:
        if d.labels[a] is not None:
            out.setdefault(b, set()).add(a)
        if d.labels[b] is not None:
            out.setdefault(a, set()).add(b)
    return out.values()


def test_moments():
    # E[(x.x)^k] by direct integration at N = 1, 3 (chi-square moments)
    for n in (1, 3):
        for k in range(5):
            direct = sp.gamma(sp.Rational(n, 2) + k) * 2**k / sp.gamma(sp.Rational(n, 2))
            assert moment(k, n) == direct


@pytest.mark.parametrize(
    "legs,key,max_order",
    [(2, "propagator", 5), (4, "four_point", 4), (0, "log_Z", 6)],
)
def test_zero_dimensional_identity(legs, key, max_order):
    """sum over connected diagrams of (-1)^V S F equals the coefficient of the series
    computed from the moments alone, as polynomials in N."""
    exact = zero_dim_series(max_order)[key]
    diagrams = diagram_series(legs, max_order)
    for k in range(max_order + 1):
        assert sp.expand(diagrams[k] - exact[k]) == 0, (legs, k)


def test_four_point_channels_are_equal():
    for k in range(1, 4):
        a, b, c = (diagram_series(4, k, channel=ch)[k] for ch in range(3))
        assert sp.expand(a - b) == 0 and sp.expand(a - c) == 0


@pytest.mark.parametrize("legs,key,order", [(2, "propagator", 6), (4, "four_point", 5)])
def test_zero_dimensional_identity_high_order(legs, key, order):
    exact = zero_dim_series(order)[key][order]
    for channel in range(3 if legs == 4 else 1):
        total = sp.S.Zero
        for d in generate_diagrams(legs, order, connected=True):
            poly = d.n_factor_channels[channel]
            total += sp.Rational(d.symmetry_factor.numerator, d.symmetry_factor.denominator) * (
                poly_expr(poly)
            )
        assert sp.expand((-1) ** order * total - exact) == 0


def test_full_vacuum_and_disconnected_sums():
    """All diagrams (disconnected too) at N symbolic: Z and <x_a x_b> un-normalised."""
    z = zero_dim_series(4)["Z"]
    for k in range(1, 5):
        total = sum(
            sp.Rational(d.symmetry_factor.numerator, d.symmetry_factor.denominator)
            * poly_expr(d.n_factor)
            for d in generate_diagrams(0, k)
        )
        assert sp.expand((-1) ** k * total - z[k]) == 0
    # <x_1 x_1 exp(-V)> at N = 1: moments 1, -15/24, ...
    for k in range(4):
        total = sum(d.symmetry_factor for d in generate_diagrams(2, k))
        expected = Fraction(moment(2 * k + 1, 1)) / (24**k * sp.factorial(k))
        assert total == expected


@pytest.mark.parametrize("order", range(1, 7))
def test_large_n_leading_diagrams_are_the_cactus_diagrams(order):
    coefficients, leading = cactus_series(order)
    for k in range(1, order + 1):
        cactus = {d.id for d in generate_diagrams(2, k, connected=True) if is_cactus(d)}
        assert set(leading[k]) == cactus
    assert coefficients == large_n_propagator(order)


def test_filters_follow_their_definitions():
    for legs, k in ((2, 4), (4, 3), (0, 4)):
        every = generate_diagrams(legs, k)
        conn = generate_diagrams(legs, k, connected=True)
        one_pi = generate_diagrams(legs, k, one_pi=True)
        no_loops = generate_diagrams(legs, k, connected=True, self_loops=False)
        assert {d.id for d in conn} == {d.id for d in every if nx.is_connected(d.graph)}
        assert {d.id for d in no_loops} == {
            d.id for d in conn if not any(u == v for u, v in d.graph.edges())
        }
        assert {d.id for d in one_pi} == {d.id for d in conn if _one_pi_networkx(d.graph)}


def _one_pi_networkx(graph):
    """Independent 1PI test: amputate the legs, then no internal edge is a bridge."""
    amputated = graph.subgraph(n for n, kind in graph.nodes(data="kind") if kind == "vertex")
    simple = nx.Graph()
    simple.add_nodes_from(amputated)
    counts = {}
    for u, v in amputated.edges():
        if u != v:
            counts[frozenset((u, v))] = counts.get(frozenset((u, v)), 0) + 1
    for pair, m in counts.items():
        u, v = tuple(pair)
        simple.add_edge(u, v, m=m)
    bridges = [e for e in nx.bridges(simple) if simple.edges[e]["m"] == 1]
    return not bridges


def test_loops_and_one_pi_of_known_diagrams():
    (tadpole,) = generate_diagrams(2, 1, connected=True)
    assert tadpole.loops == 1 and tadpole.one_pi
    chain = [d for d in generate_diagrams(2, 2, connected=True) if not d.one_pi]
    assert len(chain) == 1 and chain[0].loops == 2
    assert is_one_particle_irreducible(chain[0].labels, chain[0].edges) is False
    for d in generate_diagrams(2, 4, connected=True):
        # Euler: loops = internal lines - vertices + 1 = (4V - 2)/2 - V + 1 = V
        assert d.loops == d.order


def test_on_factor_by_brute_force_over_pairings():
    """Transfer contraction vs the plain sum over all 3^V pairings with networkx loop
    counting (an independent implementation)."""
    import itertools

    for d in generate_diagrams(4, 3, connected=True) + generate_diagrams(2, 3, connected=True):
        graph = d.graph
        vertices = [x for x, kind in graph.nodes(data="kind") if kind == "vertex"]
        half = {x: [] for x in graph.nodes}
        for k, (u, v) in enumerate(graph.edges()):
            half[u].append((k, 0))
            half[v].append((k, 1))
        brute = {}
        for choice in itertools.product(range(3), repeat=len(vertices)):
            strands = nx.Graph()
            for k, _ in enumerate(graph.edges()):
                strands.add_edge((k, 0), (k, 1))
            for x, c in zip(vertices, choice):
                h = half[x]
                p = [(0, 1, 2, 3), (0, 2, 1, 3), (0, 3, 1, 2)][c]
                strands.add_edge(h[p[0]], h[p[1]])
                strands.add_edge(h[p[2]], h[p[3]])
            closed, channel = 0, []
            leg_of = {half[x][0]: graph.nodes[x]["leg"] for x in graph if x not in vertices}
            for comp in nx.connected_components(strands):
                legs = sorted(leg_of[h] for h in comp if h in leg_of)
                if legs:
                    channel.append(tuple(legs))
                else:
                    closed += 1
            key = tuple(sorted(channel))
            brute.setdefault(key, {}).setdefault(closed, 0)
            brute[key][closed] += 1
        denom = 3 ** len(vertices)
        expected = {
            ch: {p: Fraction(c, denom) for p, c in sorted(poly.items())}
            for ch, poly in sorted(brute.items())
        }
        assert on_factor(graph) == expected


def test_two_construction_paths_give_the_same_diagrams():
    """Closing a node at a time and adding a propagator at a time reach the same set,
    with the same canonical labelling and |Aut|."""
    from nnqft.diagrams.generate import generate_connected, generate_connected_by_edges

    for legs, order in ((2, 5), (4, 4), (0, 5), (6, 2)):
        for self_loops in (True, False):
            a = generate_connected(legs, order, self_loops=self_loops)
            b = generate_connected_by_edges(legs, order, self_loops=self_loops)
            assert a == b


def test_reductions_agree_with_the_plain_transfer():
    """Self-loop and bubble reductions (contract) against the plain transfer over every
    vertex (contract_plain)."""
    from nnqft.diagrams.generate import generate_connected
    from nnqft.diagrams.on_tensor import contract, contract_plain

    def clean(result):
        poly, denom = result
        return {ch: {p: c for p, c in pp.items() if c} for ch, pp in poly.items()}, denom

    for legs, order in ((2, 5), (4, 4), (0, 5)):
        for d in generate_connected(legs, order):
            args = (len(d.labels), list(d.labels), list(d.edges))
            assert clean(contract(*args)) == clean(contract_plain(*args))


def test_large_runs_warn_with_the_expected_count(monkeypatch):
    from nnqft.diagrams import phi4

    monkeypatch.setattr(phi4, "LARGE_RUN_EDGES", 5)
    with pytest.warns(UserWarning, match="expect about 39 connected diagrams"):
        ds = phi4.generate_diagrams(2, 4, connected=True, progress=True)
    assert len(ds) == 39  # the table's exact count


def test_expected_count_table_is_exact_and_generates_nothing(monkeypatch):
    from nnqft.diagrams import phi4

    for (legs, loops), counts in phi4._KNOWN_COUNTS.items():
        for order in range(1 if legs == 0 else 0, 5 if legs == 4 else 6):
            expected = counts[order]
            got = len(generate_diagrams(legs, order, connected=True, self_loops=loops))
            assert got == expected, (legs, loops, order)

    def fail(*args, **kwargs):
        raise AssertionError("the estimate must not generate diagrams")

    monkeypatch.setattr(phi4, "generate_connected", fail)
    assert phi4.expected_count(2, 7) == 4632
    assert phi4.expected_count(2, 9) == 160000  # 27607**2 / 4632, two figures
    assert phi4.expected_count(6, 3) is None
    with pytest.warns(UserWarning, match="expect many diagrams"):
        phi4._warn_expected(6, 3, True, True)


def test_bad_input():
    with pytest.raises(InvalidParameter, match="even"):
        generate_diagrams(3, 2)
    with pytest.raises(InvalidParameter, match="order"):
        generate_diagrams(2, -1)
    with pytest.raises(InvalidType):
        generate_diagrams(2, 1.5)
    with pytest.raises(OrderTooHigh):
        generate_diagrams(2, 99)
