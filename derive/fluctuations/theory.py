"""The fluctuations of the collective fields as a field theory: Feynman rules by expansion,
diagrams by the one generator, values by contracting the rules (docs/conventions.md §8).

A :class:`FluctuationTheory` holds the action of the fluctuation multiplet
phi = (dQ, Qt) over its sites (layers, layer x input pair, pairs of times), expanded about
the saddle point: the weight is exp(N E[phi]) with

    E = (1/2) D2 phi phi + sum_k (1/k!) D_k phi^k,

D2 the Hessian and D_k the symmetric derivative tensors (stored sparse, every ordering of
each entry).  Its Feynman rules are those of one scalar field with vertices of degree
3, 4, ... (:func:`shape_rules`, expanded from that action by
:func:`nnqft.rules.expansion.rules_from_action`): the propagator 1/N and the couplings N g_k
fix every diagram's topology, symmetry factor and power of N; the field-space indices are
contracted by :func:`diagram_value` with the matrix propagator Dhat = -D2^{-1} (the inverse
Hessian: the propagator is Dhat/N) in place of 1/N and D_k in place of g_k.  A symmetric
tensor coupling counts like a scalar one, so the symmetry factors carry over unchanged.

The response structure is in the numbers: for an MSRDJ-type theory <Qt Qt> = 0 and the
response <dQ(t) Qt(s)> vanishes for s > t (the Hessian is block triangular in time), so
diagrams that need a backward response are zero here, as they must be.

>>> import numpy as np
>>> cubic = {3: (np.array([[0, 0, 0]]), np.array([1.0]))}
>>> theory = FluctuationTheory(("x",), np.array([[-2.0]]), cubic)
>>> [round(float(v), 12) for v in one_point(theory, 1)]       # (1/2) (1/2) 1 (1/2) = 1/8
[0.125]
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ...errors import InvalidParameter

__all__ = [
    "FluctuationTheory",
    "shape_rules",
    "diagrams_at",
    "diagram_value",
    "one_point",
    "two_point",
    "TermValue",
    "sparse_symmetric",
    "add_derivative",
]


@dataclass(frozen=True)
class FluctuationTheory:
    """The expanded action of the fluctuation multiplet: ``labels`` name the components
    (field, site), ``hessian`` is D2 (n x n), ``vertices`` maps a degree k to the sparse
    symmetric tensor D_k as ``(indices (nnz, k), values (nnz,))`` with every ordering
    listed.  The weight is exp(N E).

    >>> t = FluctuationTheory(("x",), np.array([[-1.0]]), {})
    >>> t.propagator()
    array([[1.]])
    """

    labels: tuple
    hessian: np.ndarray
    vertices: dict = field(default_factory=dict)
    description: str = ""

    @functools.cached_property
    def _propagator(self) -> np.ndarray:
        try:
            return -np.linalg.inv(self.hessian)
        except np.linalg.LinAlgError as exc:
            raise InvalidParameter(
                "the Hessian of the fluctuation action is singular: the saddle point is "
                "degenerate here (no Gaussian fluctuations to expand about)"
            ) from exc

    def propagator(self) -> np.ndarray:
        """Dhat = -D2^{-1}; the propagator <phi_I phi_J> is Dhat_IJ / N."""
        return self._propagator

    def index(self, label) -> int:
        """The component number of a label."""
        return self.labels.index(label)


@functools.lru_cache(maxsize=8)
def shape_rules(max_degree: int):
    """The Feynman rules of one scalar field x with weight
    exp(N (-x^2/2 + sum_{k=3..max_degree} g_k x^k / k!)), expanded from that action.

    >>> [(v.kind, str(v.coupling)) for v in shape_rules(4).vertices]
    [('x3', 'N*g3'), ('x4', 'N*g4')]
    """
    import sympy as sp

    from ...rules import symbols as S
    from ...rules.action.models import Action
    from ...rules.expansion import rules_from_action
    from ...rules.feynman import Field

    x = sp.Symbol("x")
    body = -(x**2) / 2 + sum(
        sp.Symbol(f"g{k}") * x**k / sp.factorial(k) for k in range(3, max_degree + 1)
    )
    action = Action(
        "collective-fluctuations",
        S.N * body,
        1,
        (Field("x", "x", "the fluctuation multiplet (dQ, Qt) over its sites", ""),),
        description="the shape of the fluctuation theory: one multiplet, tensor couplings",
    )
    return rules_from_action(action)


def _n_power(diagram, rules) -> int:
    """The power of N of a diagram, read off the rules: N per vertex coupling, 1/N per line."""
    import sympy as sp

    from ...rules import symbols as S

    (prop,) = rules.propagators
    per_line = sp.degree(sp.denom(prop.value), S.N) - sp.degree(sp.numer(prop.value), S.N)
    coupling = {v.kind: sp.degree(v.coupling, S.N) for v in rules.vertices}
    lines = diagram.graph.number_of_edges()
    return sum(coupling[k] for k in diagram.vertices) - per_line * lines


@functools.lru_cache(maxsize=32)
def diagrams_at(legs: int, order: int, max_degree: int | None = None) -> tuple:
    """Every connected diagram with ``legs`` external legs at 1/N^``order`` beyond the
    leading one (1-point: 1/N^order; 2-point: 1/N^(order+1), the tree being order 0), from
    :func:`nnqft.diagrams.wick.wick_diagrams` over :func:`shape_rules`.

    >>> [(d.vertices, str(d.symmetry_factor)) for d in diagrams_at(1, 1)]
    [(('x3',), '1/2')]
    """
    from ...diagrams.wick import wick_diagrams

    # N^(V - P) with 2P = legs + sum d: 1/N^order needs sum (d - 2) = 2 order - legs (1-pt)
    # or 2 order (2-pt, counted from the tree's 1/N)
    excess = 2 * order - 1 if legs == 1 else 2 * order
    top = excess + 2 if max_degree is None else max_degree
    rules = shape_rules(max(3, top))
    target = -order if legs == 1 else -order - 1

    def of_this_order(kinds):
        return sum(int(k[1:]) - 2 for k in kinds) == excess

    out = []
    for vertices in range(0, excess + 1):
        if vertices == 0 and legs != 2:
            continue
        for d in wick_diagrams(rules, ("x",) * legs, vertices, vertex_sets=of_this_order):
            if _n_power(d, rules) == target:
                out.append(d)
    return tuple(out)


@dataclass(frozen=True)
class TermValue:
    """One diagram's contribution: the diagram, its power of N and its value (the vector
    or matrix over the components, symmetry factor included)."""

    diagram: object
    n_power: int
    value: np.ndarray

    @property
    def symmetry_factor(self) -> Fraction:
        """S of the diagram."""
        return self.diagram.symmetry_factor


def diagram_value(diagram, theory: FluctuationTheory, chunk: int = 2_000_000) -> np.ndarray:
    """The value of a diagram in the theory: S times the contraction of its vertices' tensors
    D_k and its lines' Dhat, as an array over the external legs' components.

    The sum runs over the sparse entries of every vertex at once (their Cartesian
    product, in chunks); a line between two vertex slots is a factor Dhat at their
    indices, a line to an external leg leaves that leg's component free.
    """
    g = diagram.graph
    dhat = theory.propagator()
    n = dhat.shape[0]
    vertex_nodes = sorted(v for v, d in g.nodes(data=True) if d.get("kind") == "vertex")
    leg_nodes = sorted(
        (v for v, d in g.nodes(data=True) if d.get("kind") == "leg"),
        key=lambda v: g.nodes[v]["leg"],
    )
    slots: dict = {v: 0 for v in vertex_nodes}
    vertex_edges = []  # (node a, slot a, node b, slot b)
    leg_edges = []  # (leg position, node b, slot b) or (leg a, leg b) for a bare line
    bare = []
    for u, v in g.edges():
        ends = []
        for node in (u, v):
            if node in slots:
                ends.append((node, slots[node]))
                slots[node] += 1
            else:
                ends.append((node, None))
        (a, sa), (b, sb) = ends
        if sa is not None and sb is not None:
            vertex_edges.append((a, sa, b, sb))
        elif sa is None and sb is None:
            bare.append((leg_nodes.index(a), leg_nodes.index(b)))
        else:
            (leg, _), (node, slot) = ((a, sa), (b, sb)) if sa is None else ((b, sb), (a, sa))
            leg_edges.append((leg_nodes.index(leg), node, slot))
    legs = len(leg_nodes)
    S = float(diagram.symmetry_factor)
    if not vertex_nodes:
        if legs != 2 or len(bare) != 1:
            raise InvalidParameter("a diagram without vertices is one bare line")
        return S * dhat.copy()
    kinds = {v: int(g.nodes[v].get("vertex", "x3")[1:]) for v in vertex_nodes}
    tensors = []
    for v in vertex_nodes:
        k = kinds[v]
        if slots[v] != k:
            raise InvalidParameter(f"vertex {v} has {slots[v]} lines, not {k}")
        if k not in theory.vertices:
            return np.zeros((n,) * legs)
        tensors.append(theory.vertices[k])
    sizes = [len(val) for _, val in tensors]
    out = np.zeros((n,) * legs)
    if 0 in sizes:
        return out
    position = {v: i for i, v in enumerate(vertex_nodes)}
    # iterate over the entries of the first vertex in blocks, the others in full
    inner = int(np.prod(sizes[1:])) if len(sizes) > 1 else 1
    block = max(1, chunk // max(inner, 1))
    grids_rest = np.indices(sizes[1:]).reshape(len(sizes) - 1, -1) if len(sizes) > 1 else None
    for start in range(0, sizes[0], block):
        first = np.arange(start, min(start + block, sizes[0]))
        if grids_rest is None:
            entry = [first]
        else:
            entry = [np.repeat(first, inner)] + [np.tile(r, len(first)) for r in grids_rest]
        weight = np.ones(len(entry[0]))
        for i, (_, val) in enumerate(tensors):
            weight = weight * val[entry[i]]
        for a, sa, b, sb in vertex_edges:
            ia = tensors[position[a]][0][entry[position[a]], sa]
            ib = tensors[position[b]][0][entry[position[b]], sb]
            weight = weight * dhat[ia, ib]
        free = [None] * legs
        for leg, node, slot in leg_edges:
            free[leg] = tensors[position[node]][0][entry[position[node]], slot]
        attached = [f for f in free if f is not None]
        if attached:
            np.add.at(out, tuple(attached), weight)
        else:
            out += weight.sum()
    # contract each attached leg with Dhat (the line from the leg to its vertex)
    if legs == 1:
        return S * (dhat @ out)
    if legs == 2:
        if bare:
            raise InvalidParameter("a connected 2-point diagram with vertices has no bare line")
        return S * (dhat @ out @ dhat.T)
    raise InvalidParameter(f"diagram values for {legs} external legs are not implemented")


def _terms(theory: FluctuationTheory, legs: int, order: int) -> list[TermValue]:
    out = []
    max_degree = max(theory.vertices) if theory.vertices else 3
    for d in diagrams_at(legs, order):
        if any(int(k[1:]) > max_degree for k in d.vertices):
            raise InvalidParameter(
                f"1/N^{order} needs vertices of degree {max(int(k[1:]) for k in d.vertices)}; "
                f"the theory was expanded to degree {max_degree}"
            )
        power = -order if legs == 1 else -order - 1
        out.append(TermValue(d, power, diagram_value(d, theory)))
    return out


def one_point(theory: FluctuationTheory, order: int, *, terms: bool = False):
    """The coefficient of 1/N^order of <phi_I> (a vector over the components), the sum of
    the diagrams of that order; ``terms=True`` returns the :class:`TermValue` list instead.

    >>> cubic = {3: (np.array([[0, 0, 0]]), np.array([2.0]))}
    >>> t = FluctuationTheory(("x",), np.array([[-1.0]]), cubic)
    >>> one_point(t, 1)          # the tadpole: (1/2) * 1 * 2 * 1
    array([1.])
    """
    parts = _terms(theory, 1, order)
    if terms:
        return parts
    return sum((p.value for p in parts), np.zeros(len(theory.labels)))


def two_point(theory: FluctuationTheory, order: int = 0, *, terms: bool = False):
    """The coefficient of 1/N^(order + 1) of the connected <phi_I phi_J>: the tree
    (order 0, Dhat) and its corrections.

    >>> t = FluctuationTheory(("x",), np.array([[-4.0]]), {})
    >>> two_point(t)
    array([[0.25]])
    """
    parts = _terms(theory, 2, order)
    if terms:
        return parts
    n = len(theory.labels)
    return sum((p.value for p in parts), np.zeros((n, n)))


def sparse_symmetric(entries: dict, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """The sparse tensor of ``entries`` {sorted index tuple: value of the symmetric tensor},
    with every distinct ordering listed.

    >>> idx, val = sparse_symmetric({(0, 0, 1): 2.0}, 3)
    >>> sorted(map(tuple, idx.tolist())), val.tolist()
    ([(0, 0, 1), (0, 1, 0), (1, 0, 0)], [2.0, 2.0, 2.0])
    """
    rows, vals = [], []
    for key, value in entries.items():
        if len(key) != degree:
            raise InvalidParameter(f"entry {key} is not of degree {degree}")
        if value == 0:
            continue
        for perm in sorted(set(itertools.permutations(key))):
            rows.append(perm)
            vals.append(value)
    if not rows:
        return np.zeros((0, degree), dtype=int), np.zeros(0)
    return np.array(rows, dtype=int), np.array(vals, dtype=float)


def add_derivative(hessian: np.ndarray, entries: dict, legs, value: float) -> None:
    """Add one monomial's derivative ``value`` at the components ``legs``: to the Hessian
    (both orderings) for two legs, else to ``entries[degree][sorted legs]``.

    >>> h, e = np.zeros((2, 2)), {}
    >>> add_derivative(h, e, [1, 0], 2.0); add_derivative(h, e, [0, 1, 1], 3.0)
    >>> h.tolist(), e
    ([[0.0, 2.0], [2.0, 0.0]], {3: {(0, 1, 1): 3.0}})
    """
    key = tuple(sorted(legs))
    if len(key) == 2:
        i, j = key
        hessian[i, j] += value
        if i != j:
            hessian[j, i] += value
    else:
        bucket = entries.setdefault(len(key), {})
        bucket[key] = bucket.get(key, 0.0) + value
