"""Every diagram of any :class:`~nnqft.rules.feynman.FeynmanRules`: one entry point.

Conventions: docs/conventions.md §6; the graph conventions of :mod:`nnqft.diagrams`.

:func:`diagrams_from_rules` reads the vertices (kind, legs' fields, coupling, index
pairings) and propagators of a rules object and returns every diagram with the given
external legs and order (the number of vertices, any mix of the rules' vertex kinds: the
power of the couplings) as a :class:`RulesDiagram`: a typed ``networkx.MultiGraph``
(legs ``'L1'``..., vertices ``'v1'``...; ``vertex=<kind>`` where the rules have several
kinds, ``field=<name>`` on legs where they have several fields; edges ``kind=<propagator
kind>``, directed ones with ``directed=True`` and ``head``), its exact canonical id
(:mod:`nnqft.diagrams.canonical`), symmetry factor 1/|Aut|, neuron-index (O(N)) factor
from the vertices' index pairings, loops, 1PI flag and named class
(:mod:`nnqft.diagrams.classes`).

Two routes, one result type:

* **growth** (one field, one undirected propagator, no time labels: phi^4, phi^3,
  phi^3 + phi^4, ...): the canonical-deduplicating growth of
  :func:`nnqft.diagrams.generate.generate_connected` with the vertices read off the rules
  (:func:`growth_vertices`).  The phi^4 entry points (:mod:`nnqft.diagrams.phi4`,
  ``nnqft diagrams``) run this growth with :data:`~nnqft.diagrams.generate.PHI4_VERTICES`,
  which is ``growth_vertices(get_rules("on-phi4"))`` (held as data so that the command
  imports no sympy; the tests hold the two equal and the outputs identical).
* **wick** (several fields, directed lines): the exhaustive contraction of
  :func:`nnqft.diagrams.wick.wick_diagrams` (at most
  :data:`~nnqft.diagrams.wick.MAX_HALF_EDGES` half-edges).

Rules with time labels (the linear network's MSRDJ theories) take a depth T:
``diagrams_from_rules(rules, 2, order, depth=T)`` contracts their vertices written out at
every time (:mod:`nnqft.diagrams.timed`), exact at every order in 1/N at that T.  Their
closed forms in symbolic T come from the reduced (ladder-resummed) chord and layer
diagrams of :mod:`nnqft.diagrams.network`, which the tests hold equal to these.

Each diagram is worth ``coupling x symmetry_factor x index factor`` (:meth:`RulesDiagram.value`):
the sum over the connected diagrams of an order is the Taylor coefficient of the
zero-dimensional cumulant (the tests check phi^3, phi^4 and phi^3 + phi^4 against the
Gaussian moments).

>>> import sympy as sp
>>> from nnqft.rules.action.models import Action
>>> from nnqft.rules.expansion import rules_from_action
>>> from nnqft.rules.feynman import Field
>>> x, lam = sp.symbols("x lambda")
>>> cubic = rules_from_action(Action("phi3", x**2 / 2 + lam * x**3 / 6, -1,
...                                  (Field("x", "x", "a scalar", ""),)))
>>> ds = diagrams_from_rules(cubic, 2, 2)
>>> [(str(d.symmetry_factor), d.diagram_class, d.loops) for d in ds]
[('1/2', 'petal', 1), ('1/2', 'cactus', 1)]
>>> sum(d.value() for d in ds)
lambda**2
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING

from ..errors import InvalidParameter, InvalidType, OrderTooHigh
from .canonical import canonical_form
from .classes import classify
from .generate import VertexSpec, gc_paused, generate_connected

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "RulesDiagram",
    "diagrams_from_rules",
    "growth_vertices",
    "class_counts",
    "MAX_HALF_EDGES",
    "METHODS",
]

#: the most half-edges (legs + the vertices' legs) a growth run takes
MAX_HALF_EDGES = 40
#: the routes :func:`diagrams_from_rules` takes (``auto``: growth where it applies)
METHODS = ("auto", "growth", "wick")


def _timed(rules) -> bool:
    from ..rules.feynman import FeynmanRules

    return isinstance(rules, FeynmanRules) and any(v.time is not None for v in rules.vertices)


def _timed_request(rules, legs, order, connected, one_pi, self_loops, method, depth):
    """diagrams_from_rules for rules with time labels: the integer-depth generator."""
    from ..rules.feynman import FeynmanRules
    from .timed import timed_diagrams

    if not isinstance(rules, FeynmanRules):
        raise InvalidType(f"diagrams need a FeynmanRules, got {type(rules).__name__}")
    if not _timed(rules):
        raise InvalidParameter(
            f"depth= applies to rules with time labels; {getattr(rules, 'model', rules)!r} has none"
        )
    if depth is None:
        raise InvalidParameter(
            f"the rules of {rules.model!r} carry time labels: give the depth T (depth=); "
            "the closed forms in symbolic T come from nnqft.derive.loops"
        )
    if one_pi or not self_loops or method != "auto":
        raise InvalidParameter("one_pi, self_loops and method do not apply with a depth")
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise InvalidParameter(f"order (the power of 1/N) must be an integer >= 0, got {order!r}")
    if isinstance(legs, bool) or legs not in (2, 4):
        raise InvalidParameter(f"legs must be 2 (Q(T)) or 4 (Q(T)^2) with a depth, got {legs!r}")
    external = ((rules.external_fields[0], depth),) * legs
    return timed_diagrams(rules, external, depth, order=order, connected=connected)


def _check_rules(rules) -> None:
    from ..rules.feynman import FeynmanRules

    if not isinstance(rules, FeynmanRules):
        raise InvalidType(f"diagrams need a FeynmanRules, got {type(rules).__name__}")
    if not rules.vertices:
        raise InvalidParameter(f"the rules of {rules.model!r} have no vertex: no diagrams")
    if any(v.time is not None for v in rules.vertices) or any(
        p.time is not None for p in rules.propagators
    ):
        raise InvalidParameter(
            f"the rules of {rules.model!r} carry time labels: the growth and Wick routes "
            "take theories without time (diagrams_from_rules with depth=T contracts them)"
        )


def _growth_field(rules) -> str | None:
    """The one field of a theory the growth takes, None where it does not apply."""
    fields = {f for v in rules.vertices for f in v.legs}
    if len(fields) != 1 or len(rules.propagators) != 1:
        return None
    (name,) = fields
    p = rules.propagators[0]
    if p.directed or tuple(p.fields) != (name, name):
        return None
    return name


def growth_vertices(rules) -> tuple[VertexSpec, ...]:
    """The vertices of ``rules`` as the growth reads them: ``(kind, valence)`` each.

    Raises InvalidParameter where the growth does not apply (several fields, a directed
    line, time labels) and InvalidType for anything but a FeynmanRules.

    >>> from nnqft.rules.feynman import get_rules
    >>> growth_vertices(get_rules("on-phi4"))
    (VertexSpec(kind='phi4', valence=4),)
    """
    _check_rules(rules)
    if _growth_field(rules) is None:
        raise InvalidParameter(
            f"the growth takes one field with one undirected propagator; {rules.model!r} "
            f"has fields {sorted({f for v in rules.vertices for f in v.legs})} and "
            f"propagators {[p.kind for p in rules.propagators]} (method='wick' contracts it)"
        )
    return tuple(VertexSpec(v.kind, v.degree) for v in rules.vertices)


@dataclass(frozen=True, eq=False)
class RulesDiagram:
    """One diagram of a theory: canonical ``id``, typed ``graph``, ``order`` (vertices),
    ``n_legs``, the kinds of its ``vertices`` (sorted), ``symmetry_factor`` 1/|Aut|,
    ``connected``, ``one_pi`` and ``loops``; equality goes by ``id``."""

    id: str
    graph: nx.MultiGraph = field(repr=False)
    order: int
    n_legs: int
    vertices: tuple[str, ...]
    symmetry_factor: Fraction
    connected: bool
    one_pi: bool
    loops: int
    rules: object = field(repr=False, default=None)

    def __eq__(self, other):
        return isinstance(other, RulesDiagram) and self.id == other.id

    def __hash__(self):
        return hash(self.id)

    @property
    def diagram_class(self) -> str:
        """The named class (:func:`nnqft.diagrams.classes.diagram_class`)."""
        return classify(*_encoded(self.graph))

    @cached_property
    def index_factor(self) -> dict:
        """``{channel: {power of N: Fraction}}`` from the vertices' index pairings
        (:func:`nnqft.diagrams.wick.index_factor`); a channel is the tuple of leg pairs
        joined by open index strands (the bare line: ``{((1, 2),): {0: 1}}``); fields
        without an index give ``{(): {0: 1}}``.  Vertices of several fields with an index
        are not contracted (InvalidParameter, from :mod:`nnqft.diagrams.wick`)."""
        from .wick import index_factor

        if all(not pairs for v in self.rules.vertices for _, pairs in v.index_pairings):
            return {(): {0: Fraction(1)}}  # fields without an index: no strands
        return index_factor(self, self.rules)

    @property
    def coupling(self):
        """The product of the vertices' couplings (sympy)."""
        import sympy as sp

        return sp.Mul(*[self.rules.vertex(k).coupling for k in self.vertices])

    def value(self):
        """coupling x symmetry factor x the index factor summed over channels, with
        ``n_per_index_loop`` per closed index loop (sympy)."""
        import sympy as sp

        n = self.rules.n_per_index_loop
        s = sp.Rational(self.symmetry_factor.numerator, self.symmetry_factor.denominator)
        total = sp.Add(
            *[
                sp.Rational(c.numerator, c.denominator) * n**p
                for poly in self.index_factor.values()
                for p, c in poly.items()
            ]
        )
        return sp.expand(self.coupling * s * total)

    def to_dict(self) -> dict:
        """A JSON-ready entry (the keys of the phi^4 listing where they apply)."""
        names = {x: str(x) for x in self.graph.nodes}
        return {
            "id": self.id,
            "edges": [[names[u], names[v]] for u, v in self.graph.edges()],
            "symmetry_factor": str(self.symmetry_factor),
            "order": self.order,
            "vertices": list(self.vertices),
            "loops": self.loops,
            "one_pi": self.one_pi,
            "connected": self.connected,
            "diagram_class": self.diagram_class,
        }


def _validate(rules, legs, order, method):
    _check_rules(rules)
    if method not in METHODS:
        from ..errors import unknown_name

        raise unknown_name("method", method, METHODS)
    if isinstance(order, bool) or not isinstance(order, int):
        raise InvalidType(f"order must be an integer, got {order!r}")
    if order < 0:
        raise InvalidParameter(f"order must be >= 0, got {order}")
    if isinstance(legs, bool):
        raise InvalidType(f"legs must be a number or a sequence of field names, got {legs!r}")
    if isinstance(legs, int):
        if legs < 0:
            raise InvalidParameter(f"legs must be >= 0, got {legs}")
        if not rules.external_fields:
            raise InvalidParameter(f"the rules of {rules.model!r} name no external field")
        legs = (rules.external_fields[0],) * legs
    else:
        try:
            fields = None if isinstance(legs, str) else tuple(legs)
        except TypeError:
            fields = None
        if fields is None or not all(isinstance(f, str) for f in fields):
            raise InvalidType(f"legs must be a number or a sequence of field names, got {legs!r}")
        legs = fields
    names = {f.name for f in rules.fields}
    for f in legs:
        if f not in names:
            raise InvalidParameter(f"unknown leg field {f!r}; the rules have {sorted(names)}")
    one = _growth_field(rules)
    if method == "auto":
        method = "growth" if one is not None and all(f == one for f in legs) else "wick"
    elif method == "growth":
        growth_vertices(rules)
        if any(f != one for f in legs):
            raise InvalidParameter(f"the growth's legs carry the field {one!r}, got {legs}")
    top = max(v.degree for v in rules.vertices)
    if method == "growth" and len(legs) + top * order > MAX_HALF_EDGES:
        raise OrderTooHigh(
            f"{len(legs)} legs at order {order}: up to {len(legs) + top * order} half-edges, "
            f"beyond the cap {MAX_HALF_EDGES}"
        )
    return legs, method


def _graph(pieces, kinds_named: bool):
    """The typed MultiGraph of generated connected pieces (legs 'L<label>', vertices
    'v1'...), with the line kind ``line``; returns (graph, vertex kinds in order)."""
    import networkx as nx

    graph = nx.MultiGraph()
    kinds = []
    k = 0
    for raw, only, line in pieces:
        names = []
        for i, label in enumerate(raw.labels):
            if label is None:
                k += 1
                names.append(f"v{k}")
                kind = raw.vertices[i] if raw.vertices else only
                kinds.append(kind)
                attrs = {"kind": "vertex", "vertex": kind} if kinds_named else {"kind": "vertex"}
                graph.add_node(names[-1], **attrs)
            else:
                names.append(f"L{label}")
                graph.add_node(names[-1], kind="leg", leg=label)
        for a, b in raw.edges:
            graph.add_edge(names[a], names[b], kind=line)
    return graph, kinds


def _encoded(graph):
    nodes = list(graph.nodes)
    pos = {x: k for k, x in enumerate(nodes)}
    labels = tuple(
        None if d.get("kind") == "vertex" else d.get("leg") for _, d in graph.nodes(data=True)
    )
    return labels, tuple((pos[u], pos[v]) for u, v in graph.edges())


def _make(graph, kinds, order, n_legs, rules, connected=None) -> RulesDiagram:
    from .phi4 import is_one_particle_irreducible, loop_number

    ident, aut = canonical_form(graph)
    labels, edges = _encoded(graph)
    if connected is None:
        import networkx as nx

        connected = graph.number_of_nodes() > 0 and nx.is_connected(graph)
    return RulesDiagram(
        id=ident,
        graph=graph,
        order=order,
        n_legs=n_legs,
        vertices=tuple(sorted(kinds)),
        symmetry_factor=Fraction(1, aut),
        connected=connected,
        one_pi=connected and is_one_particle_irreducible(labels, edges),
        loops=loop_number(labels, edges),
        rules=rules,
    )


def _growth(rules, n_legs, order, connected, self_loops):
    from .phi4 import _compositions, _set_partitions, _vacuum_multisets

    vertices = growth_vertices(rules)
    line = rules.propagators[0].kind
    named = len(vertices) > 1
    only = vertices[0].kind
    cache: dict = {}

    def conn(labels, k):
        key = (tuple(labels), k)
        if key not in cache:
            cache[key] = generate_connected(
                len(labels), k, self_loops=self_loops, leg_labels=labels, vertices=vertices
            )
        return cache[key]

    out = {}
    labels = list(range(1, n_legs + 1))
    if connected:
        for raw in conn(labels, order):
            graph, kinds = _graph([(raw, only, line)], named)
            d = _make(graph, kinds, order, n_legs, rules, connected=True)
            out[d.id] = d
        return out
    for partition in _set_partitions(labels):
        partition = sorted(partition)
        minimums = [0 if len(b) == 2 else 1 for b in partition]
        for orders in _compositions(order, len(partition), minimums):
            rest = order - sum(orders)
            block_choices = [conn(b, k) for b, k in zip(partition, orders)]
            if any(not c for c in block_choices):
                continue
            for vac in _vacuum_multisets(rest, lambda k: conn([], k)):
                for blocks in itertools.product(*block_choices):
                    pieces = [(r, only, line) for r in (*blocks, *vac)]
                    graph, kinds = _graph(pieces, named)
                    d = _make(graph, kinds, order, n_legs, rules)
                    out.setdefault(d.id, d)
    return out


def _wick(rules, legs, order, connected, self_loops):
    from .wick import wick_diagrams

    out = {}
    for w in wick_diagrams(rules, legs, order, connected=connected):
        graph = w.graph
        if not self_loops and any(u == v for u, v in graph.edges()):
            continue
        d = _make(graph, list(w.vertices), order, len(legs), rules)
        if d.symmetry_factor != w.symmetry_factor:  # pragma: no cover - two routes disagree
            raise AssertionError(f"{d.id}: 1/|Aut| {d.symmetry_factor} != {w.symmetry_factor}")
        out[d.id] = d
    return out


def diagrams_from_rules(
    rules,
    legs,
    order: int,
    *,
    connected: bool = True,
    one_pi: bool = False,
    self_loops: bool = True,
    method: str = "auto",
    depth: int | None = None,
) -> list:
    """Every diagram of the theory ``rules`` with the external ``legs`` and ``order``
    vertices; for a theory with time labels, at integer ``depth``, of ``order`` in 1/N.

    Parameters
    ----------
    rules : FeynmanRules
        The theory (without time labels).
    legs : int or sequence of str
        The number of external legs (each the rules' first external field) or the field of
        each leg; legs are labelled 1, 2, ... (an index each: the channels of the index
        factor name them).
    order : int
        The number of vertices (any mix of the rules' vertex kinds).
    connected : bool
        Connected diagrams only (default); False adds the disconnected ones (products of
        lower diagrams, vacuum bubbles; the empty diagram of order 0 is not listed).
    one_pi : bool
        One-particle-irreducible only (implies connected).
    self_loops : bool
        False drops diagrams with a line from a vertex to itself.
    method : str
        ``'auto'`` (the growth where it applies, else Wick), ``'growth'`` or ``'wick'``.
    depth : int, optional
        Rules with time labels (the linear network's MSRDJ theories) only, and required
        there: the depth T.  ``legs`` (2 or 4) are then that many external fields at time
        T read as Q(T) or Q(T)^2, ``order`` is the power of 1/N, ``connected`` keeps the
        cumulant, and the diagrams are :class:`~nnqft.diagrams.timed.TimedDiagram` from
        :func:`~nnqft.diagrams.timed.timed_diagrams` (``one_pi``, ``self_loops`` and
        ``method`` do not apply).

    Returns
    -------
    list of RulesDiagram (TimedDiagram with a depth)
        Sorted by id (by order, vertices and id with a depth).

    Raises
    ------
    InvalidType
        Rules that are not a FeynmanRules; a non-integer order or legs.
    InvalidParameter
        A negative order or leg count, an unknown leg field, rules with time labels or
        without vertices, ``method='growth'`` for a theory it does not take.
    OrderTooHigh
        More than :data:`MAX_HALF_EDGES` half-edges for the growth.

    Examples
    --------
    >>> from nnqft.rules.feynman import get_rules
    >>> [len(diagrams_from_rules(get_rules("on-phi4"), 2, k)) for k in range(4)]
    [1, 1, 3, 10]
    >>> d = diagrams_from_rules(get_rules("on-phi4"), 2, 1)[0]
    >>> d.id, d.symmetry_factor, d.diagram_class
    ('L1.L2.V(o)|0-2,1-2', Fraction(1, 2), 'petal')
    >>> d.index_factor
    {((1, 2),): {0: Fraction(2, 3), 1: Fraction(1, 3)}}
    >>> ds = diagrams_from_rules(get_rules("linear-recurrent-shared"), 2, 2, depth=2)
    >>> sum(d.value for d in ds)         # the 1/N^2 part of E Q(2)
    2*q0*sigma_w2**2
    """
    if depth is not None or _timed(rules):
        return _timed_request(rules, legs, order, connected, one_pi, self_loops, method, depth)
    legs, method = _validate(rules, legs, order, method)
    connected = connected or one_pi
    if not legs and order == 0:
        return []
    with gc_paused():
        if method == "growth":
            found = _growth(rules, len(legs), order, connected, self_loops)
        else:
            found = _wick(rules, legs, order, connected, self_loops)
    out = [d for d in found.values() if d.one_pi or not one_pi]
    out.sort(key=lambda d: d.id)
    return out


def class_counts(diagrams) -> Counter:
    """How many diagrams of each class (a summary for listings and tests).

    >>> from nnqft.rules.feynman import get_rules
    >>> dict(class_counts(diagrams_from_rules(get_rules("on-phi4"), 2, 2)))
    {'petal': 1, 'cactus': 1, 'mushroom': 1}
    """
    return Counter(d.diagram_class for d in diagrams)
