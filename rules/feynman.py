"""Feynman rules: fields, propagators, vertices, index and time structure.

Conventions: docs/conventions.md §4, §6.

A :class:`FeynmanRules` is plain data read off an action: which fields exist, which
free propagators join them (with kind, direction and value), which interaction vertices
there are (their legs, coupling, neuron-index trace structure and time structure) and
which field an external leg carries.  The diagram engine (:mod:`nnqft.diagrams`) only
reads this data; amplitudes are evaluated in :mod:`nnqft.derive`.

No rule is typed in: every model's rules are expanded from its action
(:mod:`nnqft.rules.expansion` reads :mod:`nnqft.rules.action.models`):

* :func:`on_phi4_rules` -- the O(N) vector model with V = (g/4!)(phi.phi)^2, whose
  vertex tensor is (d d + d d + d d)/3 (docs/conventions.md §6);
* :func:`linear_network_rules` -- the disorder-averaged MSRDJ theory of the linear network
  phi(z) = z, feedforward or recurrent (docs/conventions.md §4): a directed, causal response line
  z-zt, a correlator line sigma_b2 B(t,s) and the double-trace vertex
  (sigma_w2/2N) K(t,s) (zt(t).zt(s)) (z(t-1).z(s-1)).

>>> rules = on_phi4_rules()
>>> rules.vertices[0].coupling
-g
>>> [p.kind for p in linear_network_rules("feedforward").propagators]
['response', 'correlator']
>>> get_rules("linear-recurrent").vertex("double_trace").time_weight
'K(t,s) = 1'

Time structure is data (:class:`TimeStructure`: a sympy kernel in the times ``t, s``, the
leg times, the summed times, a causal relation); the strings above are rendered from it.

>>> t, s = TIMES
>>> get_rules("linear-feedforward").vertex("double_trace").time.at(3, 3)
1
>>> response = get_rules("linear-feedforward").propagator("response").time
>>> response.causal, response.at(2, 3)
(t >= s, 0)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sympy as sp

from ..errors import InvalidParameter, unknown_name
from . import symbols as S

__all__ = [
    "TIMES",
    "TimeStructure",
    "Field",
    "Propagator",
    "Vertex",
    "FeynmanRules",
    "on_phi4_rules",
    "linear_network_rules",
    "get_rules",
    "rules_from_action",
    "MODELS",
    "ModelId",
    "parse_model_id",
    "g",
]

#: the quartic coupling of the O(N) model, V = (g/4!)(phi.phi)^2
g = sp.Symbol("g", positive=True)
#: the two time labels of a kernel (the symbols of :mod:`nnqft.rules.action`'s time sums)
TIMES = (sp.Symbol("t", integer=True, positive=True), sp.Symbol("s", integer=True, positive=True))


@dataclass(frozen=True)
class TimeStructure:
    """How a propagator or a vertex depends on its time labels, as data (docs/conventions.md §4).

    ``kernel`` is a sympy expression in :data:`TIMES` ``(t, s)`` (``1`` or
    ``KroneckerDelta(t, s)`` here), called ``name`` in the conventions (``K`` for the vertex,
    ``B`` for the bias covariance, ``''`` for the response line's own delta).  A vertex lists
    the time of each leg in ``legs`` and the times it sums over 1..T in ``summed``.  A
    propagator may carry a ``causal`` relation between its head time ``t`` and its tail time
    ``s`` (``t >= s``) outside which it vanishes.

    >>> t, s = TIMES
    >>> k = TimeStructure(sp.KroneckerDelta(t, s), "K", legs=(t, s), summed=(t, s))
    >>> k.render(), k.at(2, 2), k.at(2, 1)
    ('K(t,s) = delta_ts', 1, 0)
    """

    kernel: sp.Expr
    name: str = ""
    legs: tuple[sp.Expr, ...] = ()
    summed: tuple[sp.Symbol, ...] = ()
    causal: sp.Basic | None = None

    def at(self, t, s) -> sp.Expr:
        """The kernel at times ``(t, s)``; 0 where the causal relation fails (a Piecewise
        where it cannot be decided)."""
        times = dict(zip(TIMES, (sp.sympify(t), sp.sympify(s))))
        value = self.kernel.subs(times, simultaneous=True)
        if self.causal is None:
            return value
        holds = self.causal.subs(times, simultaneous=True)
        if holds in (sp.true, sp.false):
            return value if holds else sp.Integer(0)
        return sp.Piecewise((value, holds), (0, True))

    def kernel_text(self) -> str:
        """The kernel as text: ``1`` or ``delta_ts``."""
        t, s = TIMES
        if self.kernel == sp.KroneckerDelta(t, s):
            return "delta_ts"
        return sp.sstr(self.kernel)

    def render(self) -> str:
        """``K(t,s) = delta_ts``, or the bare kernel where it has no name."""
        text = self.kernel_text()
        return f"{self.name}(t,s) = {text}" if self.name else text

    def leg_labels(self) -> tuple[str, ...]:
        """The leg times as short labels: ``('t', 's', 't-1', 's-1')``."""
        return tuple(sp.sstr(leg).replace(" ", "") for leg in self.legs)

    def to_dict(self) -> dict:
        """JSON-ready fields (sympy as strings; ``causal`` is null where there is none)."""
        return {
            "name": self.name,
            "kernel": sp.sstr(self.kernel),
            "legs": [sp.sstr(leg) for leg in self.legs],
            "summed": [sp.sstr(x) for x in self.summed],
            "causal": None if self.causal is None else sp.sstr(self.causal),
        }


@dataclass(frozen=True)
class Field:
    """A field of the theory: ``name`` as used in diagrams, ``latex`` and a description.

    ``index`` names the internal (neuron / O(N)) index the field carries, e.g. ``'i'``.
    """

    name: str
    latex: str
    description: str
    index: str = "i"


@dataclass(frozen=True)
class Propagator:
    """A free propagator <a b>_0 between fields ``fields = (a, b)``.

    ``kind`` is the edge attribute diagrams carry.  A ``directed`` propagator points from
    ``fields[0]`` (the tail, e.g. the response field zt) to ``fields[1]`` (the head, e.g. z).
    ``value`` is its sympy value; ``index_structure`` says how it carries the neuron index
    (always d_ij here) and ``time`` (a :class:`TimeStructure`, None without times) how it
    carries the time labels; ``causal`` and ``time_structure`` are read off ``time``.
    """

    kind: str
    fields: tuple[str, str]
    value: sp.Expr
    directed: bool = False
    index_structure: str = "delta_ij"
    time: TimeStructure | None = None
    description: str = ""

    @property
    def causal(self) -> bool:
        """True when it vanishes unless the head's time is not earlier than the tail's."""
        return self.time is not None and self.time.causal is not None

    @property
    def time_structure(self) -> str:
        """The time structure as text, e.g. ``'sigma_b2 B(t,s), B = delta_ts'``."""
        if self.time is None:
            return ""
        if not self.time.name:
            return self.time.render()
        name = self.time.name
        return f"{sp.sstr(self.value)} {name}(t,s), {name} = {self.time.kernel_text()}"


@dataclass(frozen=True)
class Vertex:
    """An interaction vertex.

    ``legs`` are the fields of its legs in a fixed order; ``coupling`` the factor a
    diagram gets per vertex (the sign of exp(S) or exp(-S) included, the 1/n! of the
    monomial cancelled by the leg permutations, as usual); ``time`` the
    :class:`TimeStructure` (None where the theory has no time), from which ``times`` (the
    label of each leg) and ``time_weight`` (the kernel as text) are read.

    ``index_pairings`` is the neuron-index (trace) structure: a tuple of
    ``(weight, ((leg, leg), (leg, leg), ...))``; the vertex tensor is the weighted sum over
    these pairings of products of Kronecker deltas joining the paired legs.  For the O(N)
    vertex this is the three pairings with weight 1/3; for the double-trace vertex one
    pairing (zt zt)(z z) with weight 1.
    """

    kind: str
    legs: tuple[str, ...]
    coupling: sp.Expr
    index_pairings: tuple[tuple[sp.Rational, tuple[tuple[int, int], ...]], ...]
    time: TimeStructure | None = None
    monomial: str = ""
    description: str = ""

    @property
    def times(self) -> tuple[str, ...]:
        """The time label of each leg, e.g. ``('t', 's', 't-1', 's-1')`` (empty without time)."""
        return () if self.time is None else self.time.leg_labels()

    @property
    def time_weight(self) -> str:
        """The time kernel as text, e.g. ``'K(t,s) = 1'`` (empty without time)."""
        return "" if self.time is None else self.time.render()

    @property
    def degree(self) -> int:
        """Number of legs (4 for both built-in models)."""
        return len(self.legs)


@dataclass(frozen=True)
class FeynmanRules:
    """The Feynman rules of one model (plain data; see the module docstring)."""

    model: str
    fields: tuple[Field, ...]
    propagators: tuple[Propagator, ...]
    vertices: tuple[Vertex, ...]
    external_fields: tuple[str, ...]
    parameters: tuple[sp.Symbol, ...]
    n_per_index_loop: sp.Expr = S.N
    description: str = ""
    notes: tuple[str, ...] = field(default=())
    #: where the rules come from (``'action'``: expanded by :mod:`nnqft.rules.expansion`)
    derived_from: str = ""
    #: the action they were expanded from, as text
    action: str = ""

    def propagator(self, kind: str) -> Propagator:
        """The propagator of the given kind (UnknownName if there is none)."""
        for p in self.propagators:
            if p.kind == kind:
                return p
        raise unknown_name("propagator kind", kind, [p.kind for p in self.propagators])

    def vertex(self, kind: str) -> Vertex:
        """The vertex of the given kind (UnknownName if there is none)."""
        for v in self.vertices:
            if v.kind == kind:
                return v
        raise unknown_name("vertex kind", kind, [v.kind for v in self.vertices])

    def table(self) -> list[dict]:
        """One row per propagator and vertex, for ``nnqft rules``."""
        rows = []
        for p in self.propagators:
            arrow = f"{p.fields[0]} -> {p.fields[1]}" if p.directed else "-".join(p.fields)
            rows.append(
                {
                    "element": "propagator",
                    "kind": p.kind,
                    "fields": arrow,
                    "value": sp.sstr(p.value),
                    "index": p.index_structure,
                    "time": p.time_structure or "-",
                }
            )
        for v in self.vertices:
            pairings = " + ".join(
                (f"{sp.sstr(w)}*" if w != 1 else "") + "".join(f"d({a},{b})" for a, b in pairs)
                for w, pairs in v.index_pairings
            )
            legs = ", ".join(
                f"{f}({t})" if t else f for f, t in zip(v.legs, v.times or [""] * v.degree)
            )
            rows.append(
                {
                    "element": "vertex",
                    "kind": v.kind,
                    "fields": legs,
                    "value": sp.sstr(v.coupling),
                    "index": pairings,
                    "time": v.time_weight or "-",
                }
            )
        return rows

    def to_dict(self) -> dict:
        """A JSON-ready description (sympy values as strings)."""
        return {
            "model": self.model,
            "description": self.description,
            "fields": [
                {"name": f.name, "latex": f.latex, "index": f.index, "description": f.description}
                for f in self.fields
            ],
            "propagators": [
                {
                    "kind": p.kind,
                    "fields": list(p.fields),
                    "directed": p.directed,
                    "causal": p.causal,
                    "value": sp.sstr(p.value),
                    "index_structure": p.index_structure,
                    "time_structure": p.time_structure,
                    "time": None if p.time is None else p.time.to_dict(),
                    "description": p.description,
                }
                for p in self.propagators
            ],
            "vertices": [
                {
                    "kind": v.kind,
                    "legs": list(v.legs),
                    "times": list(v.times),
                    "coupling": sp.sstr(v.coupling),
                    "index_pairings": [
                        {"weight": sp.sstr(w), "pairs": [list(p) for p in pairs]}
                        for w, pairs in v.index_pairings
                    ],
                    "time_weight": v.time_weight,
                    "time": None if v.time is None else v.time.to_dict(),
                    "monomial": v.monomial,
                    "description": v.description,
                }
                for v in self.vertices
            ],
            "external_fields": list(self.external_fields),
            "parameters": [sp.sstr(s) for s in self.parameters],
            "n_per_index_loop": sp.sstr(self.n_per_index_loop),
            "notes": list(self.notes),
            "derived_from": self.derived_from,
            "action": self.action,
        }


@functools.lru_cache(maxsize=16)
def _derived(model: str) -> FeynmanRules:
    """The rules of a canonical model id, expanded from its action (cached: rules are frozen)."""
    from .action.models import linear_network_action, on_phi4_action
    from .expansion import rules_from_action as expand

    network = parse_model_id(model).network
    return expand(on_phi4_action() if network is None else linear_network_action(network))


def on_phi4_rules() -> FeynmanRules:
    """The O(N) vector model V = (g/4!)(phi.phi)^2 (docs/conventions.md §6), expanded from
    :func:`~nnqft.rules.action.models.on_phi4_action`.

    The weight is exp(-x.x/2 - V); the vertex factor is -g times the symmetric tensor
    (d_ab d_cd + d_ac d_bd + d_ad d_bc)/3, each diagram carries 1/|Aut| and N per closed
    index loop.  The propagator is 1 in zero dimensions (x ~ N(0, I_N)) and 1/(p^2 + m^2)
    in d dimensions; the combinatorics are the same.

    >>> r = on_phi4_rules()
    >>> [w for w, _ in r.vertices[0].index_pairings]
    [1/3, 1/3, 1/3]
    """
    return _derived("on-phi4")


def linear_network_rules(arch="feedforward", bias: str | None = None) -> FeynmanRules:
    """MSRDJ Feynman rules of the linear network phi(z) = z (docs/conventions.md §2, §4),
    expanded from its disorder-averaged action
    (:func:`~nnqft.rules.action.models.linear_network_action`).

    ``arch`` is a :class:`~nnqft.rules.network.Network` (its arch and bias are used; the
    rules stay symbolic in sigma_w2, sigma_b2, N, T) or an architecture name with ``bias``,
    validated by :class:`~nnqft.rules.network.Network`.

    Disorder covariances: E[W_ij(t) W_kl(s)] = (sigma_w2/N) d_ik d_jl K(t,s) and
    E[b_i(t) b_k(s)] = sigma_b2 d_ik B(t,s), feedforward K = B = d_ts, recurrent K = 1 with
    B = 1 (shared bias) or d_ts (fresh bias).  Sign convention: S = -sum zt (z - W z - b),
    weights exp(S), so the averaged vertex is +(sigma_w2/2N) K(t,s)(zt(t).zt(s))(z(t-1).z(s-1))
    and its coupling per diagram is sigma_w2/N (the 1/2 is the vertex's t<->s symmetry).

    >>> r = linear_network_rules("recurrent", bias="fresh")
    >>> r.propagator("correlator").time_structure
    'sigma_b2 B(t,s), B = delta_ts'
    >>> r.vertex("double_trace").index_pairings
    ((1, ((0, 1), (2, 3))),)
    """
    from .network import Network

    net = arch if isinstance(arch, Network) else Network(arch, "linear", bias=bias)
    return _derived(f"linear-{net.arch}" + (f"-{net.bias}" if net.arch == "recurrent" else ""))


def rules_from_action(action) -> FeynmanRules:
    """The Feynman rules of an :class:`~nnqft.rules.action.models.Action` by expansion
    (:func:`nnqft.rules.expansion.rules_from_action`); a
    :class:`~nnqft.rules.network.Network` stands for its disorder-averaged MSRDJ action,
    a polynomial for the linear network only.

    >>> from nnqft.rules.network import Network
    >>> r = rules_from_action(Network("recurrent", "linear", bias="fresh"))
    >>> r.vertex("double_trace").coupling, r.propagator("correlator").time_structure
    (sigma_w2/N, 'sigma_b2 B(t,s), B = delta_ts')
    """
    from .action.models import linear_network_action
    from .expansion import rules_from_action as expand
    from .network import Network

    if isinstance(action, Network):
        if action.activation.name != "linear":
            raise InvalidParameter(
                f"the MSRDJ action of a {action.activation.name} network is not a polynomial "
                "in z: Feynman rules by expansion need the linear network (phi(z) = z)"
            )
        action = linear_network_action(action)
    return expand(action)


#: model name -> constructor of its rules (the names ``nnqft rules --model`` accepts),
#: each expanded from the model's action
MODELS = {
    "on-phi4": on_phi4_rules,
    "linear-feedforward": lambda: linear_network_rules("feedforward"),
    "linear-recurrent": lambda: linear_network_rules("recurrent", "shared"),
    "linear-recurrent-shared": lambda: linear_network_rules("recurrent", "shared"),
    "linear-recurrent-fresh": lambda: linear_network_rules("recurrent", "fresh"),
}


@dataclass(frozen=True)
class ModelId:
    """A parsed model id: ``family`` is ``'on-phi4'`` or ``'linear'``; for the linear
    network models ``network`` is the :class:`~nnqft.rules.network.Network` it names
    (activation linear, arch and bias from the id), else None."""

    id: str
    family: str
    network: object = None

    @property
    def canonical(self) -> str:
        """The id with the bias spelled out (``linear-recurrent`` -> ``-shared``)."""
        if self.network is None:
            return self.id
        net = self.network
        return f"linear-{net.arch}" + (f"-{net.bias}" if net.arch == "recurrent" else "")


def parse_model_id(model: str) -> ModelId:
    """Parse a model id (``on-phi4``, ``linear-feedforward``, ``linear-recurrent[-shared|
    -fresh]``): the one place a model name is taken apart.  UnknownName otherwise.

    >>> m = parse_model_id("linear-recurrent")
    >>> m.family, m.network.arch, m.network.bias, m.canonical
    ('linear', 'recurrent', 'shared', 'linear-recurrent-shared')
    >>> parse_model_id("on-phi4").network is None
    True
    """
    if not isinstance(model, str) or model not in MODELS:
        raise unknown_name("model", model, MODELS)
    if model == "on-phi4":
        return ModelId(model, "on-phi4")
    from .network import Network

    _, arch, *bias = model.split("-")
    return ModelId(model, "linear", Network(arch, "linear", bias=bias[0] if bias else None))


def get_rules(model: str) -> FeynmanRules:
    """The rules of a named model (see :data:`MODELS`); UnknownName otherwise.

    >>> get_rules("on-phi4").model
    'on-phi4'
    """
    return _derived(parse_model_id(model).canonical)
