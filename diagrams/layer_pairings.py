"""The diagrams of Var Q(T) of the linear feedforward network: sequences of layer pairings.

Conventions: docs/conventions.md §4-5.

``E Q(T)^2 = N^-2 E[(z.z)(z.z)]`` has four strands, the four z(T)'s of ``(z1.z2)(z3.z4)``
(here numbered 0..3, the readout pairing :data:`TOP` = (01)(23)).  Each strand is a word
``W(T) ... W(L+1) v`` from its source ``v``: the input x (L = 0) or the bias b(L) of layer L.
The rules decide what pairs with what (:func:`check_rules`): the vertex kernel
``K(t, s) = delta_ts`` pairs W's only within one layer, so at each layer t the W(t) letters
of the strands alive there are paired (one of three pairings of four strands, the one
pairing of two), and the correlator kernel ``B = delta_ts`` pairs bias vectors only among
strands of equal source layer.  The index sums of a level (between layers l and l + 1) are
the cycles of the union of the pairing above it and the one below it (the pairing of
layer l, the bias pairing of the strands born at l); each cycle is a factor N, each W pair
sigma_w2/N, each b pair sigma_b2, each pair of input ends x.x = N q0.

Power counting: with four strands alive, a level whose two pairings agree has two cycles
and one that changes the pairing has one, while two strands always give one cycle; every
change of the pairing costs one 1/N and nothing else does.  So Var Q (the connected part:
some pairing joins {0, 1} with {2, 3}) at order 1/N^d is the sum over the configurations
whose four-strand chain ``B, P(L0+1), ..., P(T), TOP`` (B: the pairing the strands are born
in, L0 the layer where the last of them is born) changes d times.  A run of equal pairings
is a ladder; reducing every run to one rung leaves the *reduced diagram*: the source
pattern (:data:`PATTERNS`), the pair born first (two-pair patterns) and the word
``w_0 ... w_(d-1)`` of pairings visited before the readout, consecutive letters distinct,
``w_(d-1) != TOP``.  There are ``6 * 2^d`` reduced diagrams at order 1/N^d, finitely many;
:func:`layer_diagrams` lists them, :meth:`LayerDiagram.graph` draws one as a typed
``networkx.MultiGraph`` with its :func:`~nnqft.diagrams.canonical_id`, and
:func:`reduce_layers` maps an unreduced configuration to its reduced diagram.

>>> from nnqft.rules.feynman import get_rules
>>> ds = layer_diagrams(get_rules("linear-feedforward"), 1)
>>> len(ds), sorted({d.pattern for d in ds})
(12, ['bias', 'bias+bias', 'input', 'input+bias'])
>>> len({d.id for d in ds})           # classes under the symmetry of (z1.z2)(z3.z4)
4
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from itertools import product

import networkx as nx
import sympy as sp

from ..errors import InvalidParameter
from ..rules.feynman import TIMES, FeynmanRules
from . import canonical_id
from .unionfind import join, n_classes

__all__ = [
    "TOP",
    "PAIRINGS",
    "PATTERNS",
    "LayerDiagram",
    "check_rules",
    "layer_diagrams",
    "reduce_layers",
    "index_loops",
]

#: the three pairings of the four strands; the first is the readout's (z1.z2)(z3.z4)
PAIRINGS = (((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2)))
TOP = PAIRINGS[0]
#: where the strands come from: all four from the input, all four from one bias vector,
#: an input pair and a bias pair, two bias pairs of different layers
PATTERNS = ("input", "bias", "input+bias", "bias+bias")
_PATTERN_WORDS = {
    "input": "four input strands",
    "bias": "four strands from one bias",
    "input+bias": "an input pair and a later bias pair",
    "bias+bias": "two bias pairs of different layers",
}


def _pairing_text(pairing) -> str:
    return "".join(f"({a + 1}{b + 1})" for a, b in pairing)


@dataclass(frozen=True)
class LayerDiagram:
    """A reduced diagram of Var Q(T): source pattern, word of pairings, first-born pair.

    ``pattern`` is one of :data:`PATTERNS`; ``word`` the pairings ``w_0 ... w_(d-1)`` (each
    one of :data:`PAIRINGS`) that the four strands visit from their birth to the readout,
    every run of equal layer pairings one letter (for ``'input'`` w_0 is the pairing of
    layer 1; otherwise w_0 is the pairing the strands are born in: the bias pairing, or
    the first-born pair ``old`` with the later pair); ``old`` is the pair of strands born
    first (the two-pair patterns only).  Its order is ``d = len(word)``.
    """

    pattern: str
    word: tuple
    old: tuple | None = None

    @property
    def deficit(self) -> int:
        """The number of changes of the pairing: the power of 1/N."""
        return len(self.word)

    def code(self) -> tuple[int, ...]:
        """The diagram as integers: (pattern, first-born strands or -1 -1, word letters).

        >>> d = LayerDiagram("input", (PAIRINGS[1],))
        >>> d.code(), LayerDiagram.from_code(d.code()) == d
        ((0, -1, -1, 1), True)
        """
        old = self.old if self.old is not None else (-1, -1)
        return (PATTERNS.index(self.pattern), *old, *(PAIRINGS.index(w) for w in self.word))

    @classmethod
    def from_code(cls, code) -> LayerDiagram:
        """The diagram of a :meth:`code`."""
        pattern = PATTERNS[code[0]]
        old = None if code[1] < 0 else (int(code[1]), int(code[2]))
        return cls(pattern, tuple(PAIRINGS[int(k)] for k in code[3:]), old)

    @property
    def name(self) -> str:
        """The diagram in words: its sources and the pairings it visits."""
        seq = " -> ".join(_pairing_text(w) for w in (*self.word, TOP))
        born = f", first born {_pairing_text((self.old,))}" if self.old else ""
        return f"{_PATTERN_WORDS[self.pattern]}{born}; layer pairings {seq} (readout)"

    def graph(self) -> nx.MultiGraph:
        """The reduced diagram as a ``networkx.MultiGraph`` (conventions of
        :mod:`nnqft.diagrams`): per strand a source vertex (``vertex='input'`` or
        ``'bias'``), its W insertions (one per ladder) and the readout vertex of its dot
        product, joined by directed ``response`` edges towards the readout; ``disorder``
        edges pair the W's of one ladder (one per letter of the word after the birth;
        two-pair patterns also the ladder of the first-born pair), ``correlator`` edges the
        bias vectors of equal layer.

        >>> g = LayerDiagram("bias", (PAIRINGS[1], PAIRINGS[2])).graph()
        >>> sorted(k for _, _, k in g.edges(data="kind")).count("disorder")
        2
        """
        g = nx.MultiGraph()
        for r in (0, 1):
            g.add_node(("R", r), kind="vertex", vertex="readout")
        old = set(self.old or ())
        for a in range(4):
            from_input = self.pattern == "input" or (self.pattern == "input+bias" and a in old)
            source = "input" if from_input else "bias"
            g.add_node(("S", a), kind="vertex", vertex=source)
        chains = {a: [("S", a)] for a in range(4)}
        if self.old:
            for a in self.old:
                g.add_node(("O", a), kind="vertex", vertex="W")
                chains[a].append(("O", a))
            g.add_edge(("O", self.old[0]), ("O", self.old[1]), kind="disorder")
        levels = self.word if self.pattern == "input" else self.word[1:]
        first = 0 if self.pattern == "input" else 1
        for j, pairing in enumerate(levels, start=first):
            for a in range(4):
                g.add_node(("W", j, a), kind="vertex", vertex="W")
                chains[a].append(("W", j, a))
            for a, b in pairing:
                g.add_edge(("W", j, a), ("W", j, b), kind="disorder")
        if self.pattern == "bias":
            bias_pairs = self.word[0]
        elif self.pattern == "input+bias":
            bias_pairs = [p for p in self.word[0] if p != self.old]
        elif self.pattern == "bias+bias":
            bias_pairs = list(self.word[0])
        else:
            bias_pairs = []
        for a, b in bias_pairs:
            g.add_edge(("S", a), ("S", b), kind="correlator")
        for a in range(4):
            chain = [*chains[a], ("R", a // 2)]
            for u, v in zip(chain, chain[1:]):
                g.add_edge(u, v, kind="response", directed=True, head=v)
        _place(g, self.pattern != "input", 1 + len(levels) + bool(self.old))
        return g

    @property
    def id(self) -> str:
        """The canonical id of :meth:`graph`."""
        return _graph_id(self)

    def realize(self, stretch: int = 1) -> tuple:
        """An unreduced configuration of this diagram, every ladder ``stretch`` >= 1 layers
        long (a birth pairing counts as one rung), as :func:`reduce_layers` and
        :func:`index_loops` take it: ``(sources, pairings, bias)``.

        >>> LayerDiagram("input", (PAIRINGS[1],)).realize()
        ((0, 0, 0, 0), (((0, 2), (1, 3)),), None)
        """
        first, rest = self.word[0], self.word[1:]
        tail = [w for w in rest for _ in range(stretch)]
        if self.pattern == "input":
            return (0, 0, 0, 0), tuple([first] * stretch + tail), None
        if self.pattern == "bias":
            return (1, 1, 1, 1), tuple([()] + [first] * (stretch - 1) + tail), first
        start = 0 if self.pattern == "input+bias" else 1  # the first-born pair's layer
        born = start + stretch  # the later pair's layer
        sources = tuple(start if a in self.old else born for a in range(4))
        layers = [()] * start + [(self.old,)] * stretch + [first] * (stretch - 1) + tail
        return sources, tuple(layers), None


def _place(g: nx.MultiGraph, bias: bool, columns: int) -> None:
    """Drawing positions (``pos``, not part of the canonical form): strand a on row a,
    the source at the left, one column per ladder, the readouts at the right; in a column
    the pair holding the lower strand sits a little to the right, so that a pair never
    runs through the other pair's vertices."""
    column = {"S": 0, "O": 1}
    shift = 1 if any(x[0] == "O" for x in g) else 0
    for x in g:
        if x[0] == "R":
            g.nodes[x]["pos"] = (1.2 * columns, -(2 * x[1] + 0.5))
            continue
        a = x[-1]
        c = column.get(x[0], (x[1] if x[0] == "W" else 0) + shift + (0 if bias else 1))
        kinds = {"S": "correlator"}.get(x[0], "disorder")
        partner = [v for _, v, k in g.edges(x, data="kind") if k == kinds and v[0] == x[0]]
        lower = min([a, *(v[-1] for v in partner)])
        offset = 0.35 if partner and lower != min(_alive(g, x)) else 0.0
        g.nodes[x]["pos"] = (1.2 * c + offset, -float(a))


def _alive(g: nx.MultiGraph, x) -> list:
    """The strands with a vertex in the column of ``x``."""
    return [v[-1] for v in g if v[:-1] == x[:-1]]


@functools.lru_cache(maxsize=4096)
def _graph_id(d: LayerDiagram) -> str:
    return canonical_id(d.graph())


def check_rules(rules: FeynmanRules) -> None:
    """Raise unless the rules are those of the layer-pairing picture: a double-trace vertex
    with kernel ``K = delta_ts`` (W's pair within a layer) and a correlator line with
    ``B = delta_ts`` (bias vectors pair within a layer).

    >>> from nnqft.rules.feynman import get_rules
    >>> check_rules(get_rules("linear-feedforward"))        # passes
    >>> try:
    ...     check_rules(get_rules("linear-recurrent-shared"))
    ... except InvalidParameter as e:
    ...     print(str(e).split(";")[1])
     linear-recurrent-shared has K(t,s) = 1
    """
    t, s = TIMES
    delta = sp.KroneckerDelta(t, s)
    vertex = rules.vertex("double_trace")
    if vertex.time is None or vertex.time.kernel != delta:
        raise InvalidParameter(
            "layer pairings need the vertex kernel K = delta_ts (a new W per layer); "
            f"{rules.model} has {vertex.time_weight or 'no time kernel'}"
        )
    line = rules.propagator("correlator")
    if line.time is None or line.time.kernel != delta:
        raise InvalidParameter(
            "layer pairings need the bias kernel B = delta_ts (a new bias per layer); "
            f"{rules.model} has {line.time.render() if line.time else 'no time kernel'}"
        )


def _words(d: int):
    """Words of d pairings, consecutive letters distinct, the last not the readout's."""
    for word in product(PAIRINGS, repeat=d):
        if word[-1] == TOP or any(a == b for a, b in zip(word, word[1:])):
            continue
        yield word


def layer_diagrams(rules: FeynmanRules, order: int) -> tuple[LayerDiagram, ...]:
    """Every reduced diagram of Var Q(T) of orders 1/N .. 1/N^order (there are none at
    order 0: a chain that never changes its pairing is disconnected).

    Parameters
    ----------
    rules : FeynmanRules
        The rules of a linear feedforward net (checked by :func:`check_rules`).
    order : int
        The highest power of 1/N.

    Returns
    -------
    tuple of LayerDiagram
        ``6 * 2^d`` diagrams at each order d, sorted by order, pattern and code.

    Examples
    --------
    >>> from nnqft.rules.feynman import get_rules
    >>> [sum(1 for d in layer_diagrams(get_rules("linear-feedforward"), 3) if d.deficit == k)
    ...  for k in (1, 2, 3)]
    [12, 24, 48]
    """
    check_rules(rules)
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise InvalidParameter(f"order must be a non-negative integer, got {order!r}")
    out = []
    for d in range(1, order + 1):
        for word in _words(d):
            out.append(LayerDiagram("input", word))
            out.append(LayerDiagram("bias", word))
            for pattern in ("input+bias", "bias+bias"):
                for old in word[0]:
                    out.append(LayerDiagram(pattern, word, old))
    out.sort(key=lambda x: (x.deficit, PATTERNS.index(x.pattern), x.code()))
    return tuple(out)


def _runs(chain) -> list:
    out = []
    for p in chain:
        if not out or out[-1] != p:
            out.append(p)
    return out


def reduce_layers(sources, pairings, bias=None) -> LayerDiagram | None:
    """The reduced diagram of an unreduced configuration, or None when it is disconnected.

    ``sources[a]`` is strand a's source layer (0: the input, L >= 1: the bias b(L));
    ``pairings[t - 1]`` the pairing of the W(t) letters (a tuple of strand pairs of the
    strands alive at layer t, those with source < t); ``bias`` the pairing of four strands
    born from one bias vector (None otherwise).  Every run of equal pairings becomes one
    letter, the readout's final run dropped.

    >>> reduce_layers((0, 0, 0, 0), (PAIRINGS[1], PAIRINGS[1], TOP)).word == (PAIRINGS[1],)
    True
    >>> reduce_layers((0, 0, 1, 1), (((0, 1),), TOP)) is None     # (E Q)^2's pairing
    True
    """
    layers = sorted(set(sources))
    if len(layers) == 1:
        if layers[0] == 0:
            pattern, chain, old = "input", list(pairings), None
        else:
            if bias is None:
                raise InvalidParameter("four strands from one bias vector need its pairing")
            pattern, chain, old = "bias", [_sorted(bias), *pairings[layers[0] :]], None
    elif len(layers) == 2:
        first, last = layers
        old = tuple(a for a in range(4) if sources[a] == first)
        new = tuple(a for a in range(4) if sources[a] == last)
        if len(old) != 2:
            raise InvalidParameter(f"strands born in pairs: got sources {sources}")
        pattern = "input+bias" if first == 0 else "bias+bias"
        chain = [_sorted((old, new)), *pairings[last:]]
    else:
        raise InvalidParameter(f"sources {sources}: four strands come in at most two layers")
    word = _runs([*(_sorted(p) for p in chain), TOP])[:-1]
    if not word:
        return None
    return LayerDiagram(pattern, tuple(word), old)


def _sorted(pairing) -> tuple:
    return tuple(sorted(tuple(sorted(p)) for p in pairing))


def index_loops(sources, pairings, bias=None) -> dict:
    """The pairs and index loops of an unreduced configuration (as :func:`reduce_layers`
    takes it), counted by union-find on the strands' indices level by level.

    Returns ``{'w_pairs', 'b_pairs', 'loops', 'input_paths'}``: W pairs, bias pairs,
    closed index loops (each N) and index paths between two input ends (each x.x = N q0).

    >>> index_loops((0, 0, 0, 0), (PAIRINGS[1],))     # one change at level 1
    {'w_pairs': 2, 'b_pairs': 0, 'loops': 1, 'input_paths': 2}
    """
    depth = len(pairings)
    var = {}
    for a in range(4):
        for level in range(sources[a], depth + 1):
            var[a, level] = len(var)
    parent = list(range(len(var)))
    for a, b in TOP:
        join(parent, var[a, depth], var[b, depth])
    w_pairs = 0
    for t, pairing in enumerate(pairings, start=1):
        for a, b in pairing:
            w_pairs += 1
            join(parent, var[a, t], var[b, t])
            join(parent, var[a, t - 1], var[b, t - 1])
    b_pairs = 0
    by_layer: dict = {}
    for a in range(4):
        if sources[a]:
            by_layer.setdefault(sources[a], []).append(a)
    for layer, strands in by_layer.items():
        pairs = [tuple(strands)] if len(strands) == 2 else list(bias or ())
        for a, b in pairs:
            b_pairs += 1
            join(parent, var[a, layer], var[b, layer])
    ends = [var[a, 0] for a in range(4) if sources[a] == 0]
    paths = n_classes(parent, ends)
    return {
        "w_pairs": w_pairs,
        "b_pairs": b_pairs,
        "loops": n_classes(parent) - paths,
        "input_paths": paths,
    }
