"""Every diagram of a time-labelled theory at a fixed depth, read off its Feynman rules.

Conventions: docs/conventions.md §4, §6; the graph conventions of :mod:`nnqft.diagrams`.

The MSRDJ theories of the linear network (:func:`nnqft.rules.feynman.get_rules`,
``linear-feedforward``, ``linear-recurrent-shared``, ``linear-recurrent-fresh``) label
every field with a time.  At an integer depth T the time sums are finite, so the theory is
an ordinary one with one copy of each field per time: :func:`vertex_instances` writes out
each vertex at every assignment of its summed times where its kernel does not vanish, and
:func:`timed_diagrams` Wick-contracts the external legs and the instances' legs along the
propagators the rules declare, each at its time kernel (the response line zt(s) -> z(t) at
``delta_ts``, the correlator at ``sigma_b2 B(t, s)``).  Nothing of the network is built in
but the boundary: a leg at a time outside 1..T is the input ``z(0) = x``, fixed, with
``x.x = N q0``; it is not contracted and ends an index strand.

Weights.  A vertex's coupling carries the permutations of its legs that keep its
structure (fields, leg times up to relabelling the summed times, kernel, index pairings;
:func:`leg_symmetry`, 2 for the double-trace vertex), so an instance enters exp(S) with
``coupling / |H| x kernel``.  A multiset of instances with multiplicities m_i gets
``1 / prod m_i!`` (the 1/k! of the exponential, times the k!/prod m_i! orders), every
labelled contraction one term.  Index strands are joined by the propagators (d_ij), the
vertices' index pairings and the readout (which external legs form one dot product); a
closed strand is ``n_per_index_loop`` (N), a strand between two input legs x.x = N q0.
Each readout dot product is divided by N: ``readout = ((0, 1),)`` is Q(T) = z.z/N.
In the graph the input is one node ``x`` that every input leg meets, so a diagram's
weight is ``1/|Aut|`` times, per vertex, the number of time assignments that give its
legs, times its legs' own symmetry at those times, over |H| (2 at t = s, where the two
zt(t) legs may also be exchanged alone; 1 at t != s, where (t, s) and (s, t) are two
terms of the sum): :attr:`TimedDiagram.time_orbits`.

Which vertices occur.  Every response-field leg needs a partner of the other field at a
time its kernel allows, and causality puts those partners on later vertices or on the
legs: the search builds the vertex multisets from T down to 1, never holding more
response legs at a time than partners (:func:`vertex_multisets`), so it is finite.

This is the integer-depth generator: exact at every order in 1/N, exponential in T (the
feedforward variance at T = 3, the recurrent variance at T = 2 and the mean at T = 5 in
seconds; the recurrent variance at T = 3 is beyond :data:`MAX_CONTRACTIONS`).  The
closed forms in symbolic T come from the reduced chord and layer diagrams
(:mod:`nnqft.diagrams.network`, :mod:`nnqft.diagrams.four_block`,
:mod:`nnqft.diagrams.layer_pairings`), which resum the ladders of these diagrams; the tests
hold the two equal, order by order.

>>> from nnqft.rules.feynman import get_rules
>>> ds = timed_diagrams(get_rules("linear-recurrent-shared"), depth=2)
>>> sorted((d.order, d.n_vertices, str(d.value)) for d in ds)[2:]
[(0, 2, 'q0*sigma_w2**2'), (2, 2, 'q0*sigma_w2**2'), (2, 2, 'q0*sigma_w2**2')]
>>> coefficients(ds)             # E Q(2): the twisted pairings of W W x give 2/N^2
{0: q0*sigma_w2**2 + sigma_b2*sigma_w2 + sigma_b2, 2: 2*q0*sigma_w2**2}
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from math import factorial

import sympy as sp

from ..errors import InvalidParameter, InvalidType, OrderTooHigh
from .canonical import canonical_form
from .unionfind import find_root, join
from .wick import matchings

__all__ = [
    "VertexInstance",
    "TimedDiagram",
    "vertex_instances",
    "leg_symmetry",
    "vertex_multisets",
    "timed_diagrams",
    "coefficients",
    "MAX_CONTRACTIONS",
]

#: the most labelled contractions :func:`timed_diagrams` will enumerate
MAX_CONTRACTIONS = 300_000


@dataclass(frozen=True)
class VertexInstance:
    """One vertex of the rules at explicit times: its ``kind``, the values of its summed
    ``times``, the ``fields`` and ``leg_times`` of its legs, and ``weight``, its factor
    in exp(S) (coupling / |H| x kernel)."""

    kind: str
    times: tuple[int, ...]
    fields: tuple[str, ...]
    leg_times: tuple[int, ...]
    weight: sp.Expr
    pairings: tuple = field(repr=False, default=())
    symmetry: int = 1

    @property
    def own_symmetry(self) -> int:
        """The permutations of this instance's legs that keep each leg's field and time
        and the index pairings: 4 for the double-trace vertex at t = s (the two zt legs,
        the two z legs), 1 at t != s."""
        pairings = {(w, frozenset(frozenset(p) for p in pairs)) for w, pairs in self.pairings}
        legs = tuple(zip(self.fields, self.leg_times))
        count = 0
        for perm in itertools.permutations(range(len(legs))):
            if any(legs[perm[i]] != legs[i] for i in range(len(legs))):
                continue
            count += _keeps_pairings(perm, pairings)
        return count

    @property
    def label(self) -> str:
        """The legs as ``'zt@2,zt@2,z@1,z@1'``, sorted: what the graph's node records."""
        return ",".join(f"{f}@{t}" for f, t in sorted(zip(self.fields, self.leg_times)))


def _require_timed(rules):
    from ..rules.feynman import FeynmanRules

    if not isinstance(rules, FeynmanRules):
        raise InvalidType(f"diagrams need a FeynmanRules, got {type(rules).__name__}")
    if not rules.vertices or any(v.time is None for v in rules.vertices):
        raise InvalidParameter(
            f"the rules of {rules.model!r} have vertices without time labels: "
            "diagrams_from_rules contracts them without a depth"
        )


def leg_symmetry(vertex) -> int:
    """|H|: the permutations of a time-labelled vertex's legs that, with a relabelling of
    its summed times, keep the legs' fields and times, the kernel and the index pairings.

    >>> from nnqft.rules.feynman import get_rules
    >>> leg_symmetry(get_rules("linear-recurrent-shared").vertex("double_trace"))
    2
    """
    ts = vertex.time
    legs = range(vertex.degree)
    pairings = {
        (sp.Rational(w), frozenset(frozenset(p) for p in pairs))
        for w, pairs in vertex.index_pairings
    }
    count = 0
    for relabel in itertools.permutations(ts.summed):
        swap = dict(zip(ts.summed, relabel))
        if sp.simplify(ts.kernel.subs(swap, simultaneous=True) - ts.kernel) != 0:
            continue
        moved = [sp.expand(x.subs(swap, simultaneous=True)) for x in ts.legs]
        for perm in itertools.permutations(legs):
            if any(
                vertex.legs[perm[i]] != vertex.legs[i]
                or sp.expand(ts.legs[perm[i]] - moved[i]) != 0
                for i in legs
            ):
                continue
            count += _keeps_pairings(perm, pairings)
    return count


def _keeps_pairings(perm, pairings) -> bool:
    """Whether the leg permutation maps the set of (weight, index pairing) to itself."""
    image = {(w, frozenset(frozenset(perm[i] for i in p) for p in pairs)) for w, pairs in pairings}
    return image == pairings


@functools.lru_cache(maxsize=16)  # read twice per call (the multisets, the time orbits)
def vertex_instances(rules, depth: int) -> tuple[VertexInstance, ...]:
    """Every vertex of ``rules`` at every assignment of its summed times in 1..depth
    where its kernel does not vanish.

    >>> from nnqft.rules.feynman import get_rules
    >>> [(v.times, v.leg_times) for v in vertex_instances(get_rules("linear-feedforward"), 2)]
    [((1, 1), (1, 1, 0, 0)), ((2, 2), (2, 2, 1, 1))]
    """
    _require_timed(rules)
    out = []
    for v in rules.vertices:
        ts = v.time
        symmetry = leg_symmetry(v)
        coefficient = v.coupling / symmetry
        for times in itertools.product(range(1, depth + 1), repeat=len(ts.summed)):
            at = dict(zip(ts.summed, times))
            kernel = _fixed_number(ts.kernel.subs(at, simultaneous=True), rules, v.kind)
            if kernel == 0:
                continue
            leg_times = tuple(int(x.subs(at, simultaneous=True)) for x in ts.legs)
            out.append(
                VertexInstance(
                    v.kind,
                    times,
                    tuple(v.legs),
                    leg_times,
                    coefficient * kernel,
                    tuple((sp.Rational(w), tuple(map(tuple, p))) for w, p in v.index_pairings),
                    symmetry,
                )
            )
    return tuple(out)


def _response_fields(rules) -> frozenset:
    """The fields that are only ever the tail of a directed line (MSRDJ's zt)."""
    tails = {p.fields[0] for p in rules.propagators if p.directed}
    others = {f for p in rules.propagators for f in (p.fields if not p.directed else p.fields[1:])}
    return frozenset(tails - others)


def _fixed_number(value, rules, kind):
    """``value`` if, at fixed times, it is a polynomial in the rules' parameters (as the
    linear network's delta_ts and 1 are); InvalidParameter otherwise (a kernel that is
    itself a function of time, as the collective fields' chi products)."""
    allowed = set(rules.parameters)
    if value.free_symbols - allowed or value.has(sp.Function, sp.Product, sp.Derivative):
        raise InvalidParameter(
            f"{kind} of {rules.model!r} at fixed times is {value}, not a number in the "
            "rules' parameters: the integer-depth generator takes time kernels such as "
            "delta_ts and 1 (the linear network's MSRDJ theories)"
        )
    return value


def _line(rules, a, b):
    """``(propagator, value, a is the tail)`` of the line between half-edges a and b
    (``(field, time)``), None where the rules have none or its kernel vanishes."""
    for p in rules.propagators:
        for tail, head, a_is_tail in ((a, b, True), (b, a, False)):
            if (tail[0], head[0]) != tuple(p.fields):
                continue
            value = p.value if p.time is None else p.value * p.time.at(head[1], tail[1])
            value = _fixed_number(value, rules, p.kind)
            if value != 0:
                return p, value, a_is_tail
    return None


def vertex_multisets(rules, legs, depth: int):
    """Every multiset of :func:`vertex_instances` whose response legs can all be
    contracted, as tuples of instances (with repetition), built from time ``depth`` down.

    >>> from nnqft.rules.feynman import get_rules
    >>> r = get_rules("linear-feedforward")
    >>> sorted(len(m) for m in vertex_multisets(r, (("z", 2), ("z", 2)), 2))
    [0, 1, 2]
    """
    instances = vertex_instances(rules, depth)
    response = _response_fields(rules)
    top: dict[int, list] = {}
    for v in instances:
        tails = [t for f, t in zip(v.fields, v.leg_times) if f in response]
        heads = [t for f, t in zip(v.fields, v.leg_times) if f not in response]
        if not tails or (heads and max(heads) >= max(tails)):
            raise InvalidParameter(
                f"vertex {v.kind} at times {v.times}: its legs are not causally ordered "
                "(every non-response leg earlier than its latest response leg)"
            )
        top.setdefault(max(tails), []).append(v)

    def count(chosen, time, of_response):
        n = 0
        for v in chosen:
            n += sum(
                1
                for f, t in zip(v.fields, v.leg_times)
                if t == time and (f in response) == of_response
            )
        return n

    external = Counter(t for f, t in legs if f not in response)

    def grow(time, chosen):
        if time == 0:
            yield tuple(chosen)
            return
        supply = external[time] + count(chosen, time, False)
        group = top.get(time, [])
        for size in itertools.count():
            found = False
            for extra in itertools.combinations_with_replacement(range(len(group)), size):
                new = chosen + [group[i] for i in extra]
                if count(new, time, True) <= supply:
                    found = True
                    yield from grow(time - 1, new)
            if not found:
                return

    yield from grow(depth, [])


@dataclass(frozen=True, eq=False)
class TimedDiagram:
    """One diagram at a fixed depth: canonical ``id``, typed ``graph`` (vertex nodes carry
    their legs' fields and times, lines their times), ``order`` (its power of 1/N),
    ``n_vertices``, ``contractions`` (labelled Wick contractions in the class), its
    ``symmetry_factor`` 1/|Aut| (of the graph, the input x one node), ``weight`` (the
    contractions counted with 1/(prod m_i! prod |H|): the diagram's factor beside its
    couplings), ``time_orbits`` (:func:`_time_orbits`; ``weight = time_orbits x
    symmetry_factor``, which the tests hold) and ``value``: the class's whole
    contribution, the coefficient of N^-order (sympy in sigma_w2, sigma_b2, q0)."""

    id: str
    graph: object = field(repr=False)
    order: int
    n_vertices: int
    contractions: int
    symmetry_factor: Fraction
    weight: Fraction
    time_orbits: Fraction
    value: sp.Expr

    @property
    def n_power(self) -> int:
        """The power of N: -order."""
        return -self.order

    def to_dict(self) -> dict:
        """A JSON-ready entry."""
        return {
            "id": self.id,
            "order": self.order,
            "n_power": self.n_power,
            "vertices": self.n_vertices,
            "contractions": self.contractions,
            "symmetry_factor": str(self.symmetry_factor),
            "weight": str(self.weight),
            "value": sp.sstr(self.value),
        }


def _graph(half, owners, matching, lines, boundary):
    import networkx as nx

    g = nx.MultiGraph()
    for name, attrs in owners.items():
        g.add_node(name, **attrs)
    if boundary:  # the input x: one fixed source that every input leg meets
        g.add_node("x", kind="input")
        for h in boundary:
            g.add_edge(half[h][0], "x", kind="input", time=str(half[h][2]))
    for a, b in matching:
        p, _, a_is_tail = lines[a, b]
        (ua, _, ta), (ub, _, tb) = half[a], half[b]
        if p.directed:
            head = ub if a_is_tail else ua
            g.add_edge(
                ua,
                ub,
                kind=p.kind,
                directed=True,
                head=head,
                time=f"{ta}->{tb}" if a_is_tail else f"{tb}->{ta}",
            )
        elif ta == tb:
            g.add_edge(ua, ub, kind=p.kind, time=str(ta))
        else:  # which leg of each end: the line points to its later end
            late = ua if ta > tb else ub
            g.add_edge(
                ua, ub, kind=p.kind, directed=True, head=late, time=f"{min(ta, tb)}->{max(ta, tb)}"
            )
    return g


def _time_orbits(multiset, same) -> Fraction:
    """prod over vertices of (assignments of its times giving these legs) x (its legs'
    own symmetry) / |H|: what a diagram's weight holds beyond 1/|Aut|."""
    out = Fraction(1)
    for v in multiset:
        out *= Fraction(same[v.kind, v.label] * v.own_symmetry, v.symmetry)
    return out


def _joined(g, readout) -> bool:
    """Whether the lines and the readout's dot products join every leg (a cumulant's term)."""
    import networkx as nx

    h = nx.Graph(g)
    if "x" in h:  # the input is fixed: meeting it joins nothing
        h.remove_node("x")
    h.add_edges_from((f"L{a + 1}", f"L{b + 1}") for a, b in readout)
    return nx.is_connected(h)


def _strands(half, matching, pairs, readout, boundary):
    """(closed strands, input strands) of one contraction."""
    parent = list(range(len(half)))
    for a, b in matching:
        join(parent, a, b)
    for a, b in pairs:
        join(parent, a, b)
    for a, b in readout:
        join(parent, a, b)
    roots = Counter(find_root(parent, h) for h in range(len(half)))
    ends = Counter(find_root(parent, h) for h in boundary)
    if any(n != 2 for n in ends.values()):
        raise InvalidParameter(
            "an index strand with other than two input ends: the rules' input legs do not pair up"
        )
    return len(roots) - len(ends), len(ends)


def _check_request(rules, legs, depth, readout):
    _require_timed(rules)
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise InvalidType(f"depth must be an integer, got {depth!r}")
    if depth < 1:
        raise InvalidParameter(f"depth must be >= 1, got {depth}")
    if legs is None:
        legs = ((rules.external_fields[0], depth),) * 2
    try:
        legs = tuple((str(f), int(t)) for f, t in legs)
    except (TypeError, ValueError):
        raise InvalidType(f"legs must be (field, time) pairs, got {legs!r}") from None
    names = {f.name for f in rules.fields}
    for f, t in legs:
        if f not in names:
            raise InvalidParameter(f"unknown leg field {f!r}; the rules have {sorted(names)}")
        if not 1 <= t <= depth:
            raise InvalidParameter(f"a leg's time must lie in 1..{depth}, got {t}")
    if readout is None:
        if len(legs) % 2:
            raise InvalidParameter(
                f"{len(legs)} legs: the default readout pairs them; give readout="
            )
        readout = tuple((k, k + 1) for k in range(0, len(legs), 2))
    readout = tuple((int(a), int(b)) for a, b in readout)
    if sorted(x for p in readout for x in p) != list(range(len(legs))):
        raise InvalidParameter(f"readout must pair every leg once, got {readout}")
    return legs, readout


@dataclass
class _Setup:
    """The half-edges of one vertex multiset and what every contraction of it shares."""

    half: list  # (owner, field, time) per half-edge: legs first, then the vertices' legs
    owners: dict  # node name -> node attributes
    pairs: list  # the vertices' index pairings, as pairs of half-edges
    boundary: list  # the input legs (times outside 1..T): not contracted
    inner: list  # the others, response legs first
    weight: sp.Expr  # prod of instance weights / prod m_i!
    orders: Fraction  # the same in units of the couplings: 1 / (prod m_i! prod |H|)


def _setup(legs, multiset, depth, response) -> _Setup:
    half = [(f"L{k + 1}", f, t) for k, (f, t) in enumerate(legs)]
    owners = {
        f"L{k + 1}": {"kind": "leg", "leg": k + 1, "time": t} for k, (_, t) in enumerate(legs)
    }
    pairs: list = []
    weight, orders = sp.Integer(1), Fraction(1)
    for j, v in enumerate(multiset):
        name = f"v{j + 1}"
        owners[name] = {"kind": "vertex", "vertex": v.kind, "legs": v.label}
        base = len(half)
        half += [(name, f, t) for f, t in zip(v.fields, v.leg_times)]
        if len(v.pairings) != 1:
            raise InvalidParameter(
                f"vertex {v.kind}: timed diagrams take one index pairing per vertex, "
                f"got {len(v.pairings)}"
            )
        w, vp = v.pairings[0]
        weight *= w * v.weight
        orders /= v.symmetry
        pairs += [(base + a, base + b) for a, b in vp]
    for m in Counter(multiset).values():
        weight /= factorial(m)
        orders /= factorial(m)
    boundary = [h for h, (_, _, t) in enumerate(half) if not 1 <= t <= depth]
    if any(half[h][1] in response for h in boundary):
        raise InvalidParameter("a response leg at a time outside 1..T: the rules are not causal")
    inner = sorted(
        set(range(len(half))) - set(boundary), key=lambda h: (half[h][1] not in response, h)
    )
    return _Setup(half, owners, pairs, boundary, inner, weight, orders)


def _contractions(setup: _Setup, readout, line_at, n, q0, connected, budget):
    """``(graph, value, count)`` per labelled graph of one multiset (connected filter
    applied); ``budget`` is a one-item list of contractions still allowed."""
    half = setup.half
    lines = {}
    for a, b in itertools.combinations(setup.inner, 2):
        line = line_at(half[a][1:], half[b][1:])
        if line is not None:
            lines[a, b] = lines[b, a] = line
    labelled: dict = {}
    # response legs come first in setup.inner, so each is placed before the rest pair up
    for matching in matchings(setup.inner, lambda a, b: (a, b) in lines):
        budget[0] -= 1
        if budget[0] < 0:
            raise OrderTooHigh(
                f"more than {MAX_CONTRACTIONS} contractions: beyond the integer-depth "
                "generator (the closed forms in T: nnqft correlator)"
            )
        closed, inputs = _strands(half, matching, setup.pairs, readout, setup.boundary)
        # contractions that differ only by exchanging equivalent legs of one vertex give
        # one labelled graph: build and canonicalise it once
        key = (
            tuple(sorted(tuple(sorted((half[a], half[b]))) for a, b in matching)),
            closed,
            inputs,
        )
        if key in labelled:
            labelled[key][2] += 1
            continue
        g = _graph(half, setup.owners, matching, lines, setup.boundary)
        if connected and len(readout) > 1 and not _joined(g, readout):
            labelled[key] = [None, None, 1]
            continue
        value = setup.weight * n**closed * (n * q0) ** inputs / n ** len(readout)
        for a, b in matching:
            value *= lines[a, b][1]
        labelled[key] = [g, value, 1]
    return [entry for entry in labelled.values() if entry[0] is not None]


def timed_diagrams(rules, legs=None, depth: int = 1, *, readout=None, order=None, connected=True):
    """Every diagram of ``E[prod of readouts]`` at integer ``depth`` for the
    time-labelled theory ``rules``, grouped by canonical id.

    Parameters
    ----------
    rules : FeynmanRules
        A theory whose vertices carry time labels (the linear network's).
    legs : sequence of (field, time), optional
        The external legs; default two legs of the rules' external field at ``depth``.
    depth : int
        The number of steps or layers T (>= 1).
    readout : sequence of (leg, leg), optional
        Which legs (0-based) form one dot product divided by N; default consecutive
        pairs, so two legs read Q(T) and four legs Q(T)^2.
    order : int, optional
        Keep only the diagrams of this power of 1/N.
    connected : bool
        Keep only the diagrams whose lines and readouts join every leg (the cumulant:
        with four legs, Var Q).

    Returns
    -------
    list of TimedDiagram
        Sorted by order, number of vertices and id; their values summed at one order are
        the coefficient of N^-order (:func:`coefficients`).

    Raises
    ------
    InvalidParameter, InvalidType
        Rules without time labels, a leg or readout that does not fit, a depth < 1.
    OrderTooHigh
        More than :data:`MAX_CONTRACTIONS` labelled contractions.

    Examples
    --------
    >>> from nnqft.rules.feynman import get_rules
    >>> ds = timed_diagrams(get_rules("linear-feedforward"), depth=1)
    >>> [(d.order, str(d.value), str(d.weight), str(d.symmetry_factor)) for d in ds]
    [(0, 'sigma_b2', '1', '1'), (0, 'q0*sigma_w2', '1', '1/2')]
    """
    from ..rules import symbols as S

    legs, readout = _check_request(rules, legs, depth, readout)
    response = _response_fields(rules)
    n = rules.n_per_index_loop
    line_at = functools.lru_cache(maxsize=None)(functools.partial(_line, rules))
    same = Counter((v.kind, v.label) for v in vertex_instances(rules, depth))
    found: dict = {}
    budget = [MAX_CONTRACTIONS]
    for multiset in vertex_multisets(rules, legs, depth):
        setup = _setup(legs, multiset, depth, response)
        for g, value, count in _contractions(setup, readout, line_at, n, S.q0, connected, budget):
            ident, aut = canonical_form(g)
            slot = found.setdefault(
                ident, _Class(g, len(multiset), aut, _time_orbits(multiset, same))
            )
            slot.contractions += count
            slot.weight += count * setup.orders
            slot.value += count * value
    out = []
    for ident, c in found.items():
        for power, coeff in _by_power(c.value, n).items():
            if order is None or -power == order:
                out.append(
                    TimedDiagram(
                        ident,
                        c.graph,
                        -power,
                        c.n_vertices,
                        c.contractions,
                        Fraction(1, c.aut),
                        c.weight,
                        c.time_orbits,
                        coeff,
                    )
                )
    out.sort(key=lambda d: (d.order, d.n_vertices, d.id))
    return out


@dataclass
class _Class:
    graph: object
    n_vertices: int
    aut: int
    time_orbits: Fraction
    contractions: int = 0
    weight: Fraction = Fraction(0)
    value: sp.Expr = sp.Integer(0)


def _by_power(value, n) -> dict:
    """``{power of n: coefficient}`` of a Laurent polynomial in n."""
    poly = sp.Poly(sp.expand(value * n**64), n)
    return {m[0] - 64: sp.factor(c) for m, c in zip(poly.monoms(), poly.coeffs()) if c != 0}


def coefficients(diagrams) -> dict[int, sp.Expr]:
    """``{order: the diagrams' values summed}``: the 1/N series of the cumulant.

    >>> from nnqft.rules.feynman import get_rules
    >>> coefficients(timed_diagrams(get_rules("linear-recurrent-fresh"), depth=1))
    {0: q0*sigma_w2 + sigma_b2}
    """
    out: dict = {}
    for d in diagrams:
        out[d.order] = out.get(d.order, 0) + d.value
    return {k: sp.factor(sp.expand(v)) for k, v in sorted(out.items())}
