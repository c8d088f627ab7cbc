"""Correlators of the linear network: the pipeline's results, derived and cached.

Conventions: docs/conventions.md §4-5.

The pipeline: the Feynman rules of the model (:func:`nnqft.rules.feynman.get_rules`) ->
the diagrams of an order (:func:`nnqft.diagrams.network.trace_diagrams`, reduced chord
diagrams with every ladder one chord) -> their values (:mod:`nnqft.derive.loops.evaluate`,
sums over time labels in closed form by :mod:`nnqft.derive.loops.time_sums`) -> the
coefficient of each power of 1/N, the sum of the diagrams of that order.  For a recurrent
linear net the diagrams of

    E Q(T) = q0 M(T, T) + sigma_b2 sum_{k,m<T} M(k, m)          (shared bias)
    E Q(T) = q0 M(T, T) + sigma_b2 sum_{k<T} M(k, k)             (fresh bias)

with ``M(k, m) = (1/N) E tr[(W^T)^k W^m]`` are the Wick pairings of the W's; for a
feedforward net the rules' kernel K = delta_ts leaves only the cactus (the mean field),
and the feedforward variance is the sum of the layer-pairing diagrams of
:mod:`nnqft.diagrams.layer_pairings`, evaluated by
:mod:`nnqft.derive.loops.feedforward_variance`.  The recurrent variance and the log-mean
come from the routes their derivation steps name.
:func:`correlator` is the public entry; results are cached by content.

>>> from nnqft.rules.symbols import T, sigma_b2, sigma_w2, q0
>>> c = recurrent_mean_coefficients("shared", 1)
>>> sp.simplify(c[0] - (q0*sigma_w2**T + sigma_b2*(1 - sigma_w2**T)/(1 - sigma_w2)))
0
>>> sp.simplify(c[1].subs(T, 3))       # the 1/N term of E Q(3): 2 sigma_w2 sigma_b2
2*sigma_b2*sigma_w2
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sympy as sp

from ...diagrams.network import MAX_TRACE_DEFICIT
from ...errors import InvalidParameter, InvalidType, unknown_name
from ...rules import symbols as S
from ...rules.network import Network, check_order
from .evaluate import (
    DiagramValue,
    coefficients_of,
    mean_coefficients,
    mean_diagrams,
    representatives,
    topologies,
    type_weights,
)
from .time_sums import (
    composition_count,
    expand,
    geometric_partial,
    stationary_limit,
    sum_closed_form,
    tidy,
    type_sum,
)

__all__ = [
    "sum_closed_form",
    "composition_count",
    "topologies",
    "type_sum",
    "recurrent_mean_coefficients",
    "expand",
    "MAX_RECURRENT_ORDER",
    "max_order",
    "type_weights",
    "feedforward_variance_coefficients",
    "log_digamma_coefficients",
    "stationary_limit",
    "recurrent_variance_coefficients",
    "Correlator",
    "correlator",
    "correlation_lengths",
    "loop_chapter",
    "diagram_caption",
    "diagram_figures",
]

#: the highest power of 1/N the recurrent closed forms reach
MAX_RECURRENT_ORDER = MAX_TRACE_DEFICIT


def _recurrent_bias(bias) -> str:
    """A recurrent bias convention, validated by :class:`~nnqft.rules.network.Network`."""
    return Network("recurrent", "linear", bias=bias).bias


@functools.lru_cache(maxsize=16)
def recurrent_mean_coefficients(bias: str, order: int, critical: bool = False) -> dict:
    """Coefficients ``{d: E_d(T)}`` of ``E Q(T) = sum_d E_d(T) / N^d`` for a recurrent linear
    net, summed from the diagrams of each order in closed form in T (valid for T >= 1);
    ``critical=True``: at sigma_w2 = 1.

    >>> recurrent_mean_coefficients("fresh", 1)[1]
    0
    """
    from ...rules.feynman import get_rules

    bias = _recurrent_bias(bias)
    check_order(order, MAX_RECURRENT_ORDER, what="the recurrent linear network")
    return mean_coefficients(get_rules(f"linear-recurrent-{bias}"), order, critical)


# --- recurrent variance at leading order -----------------------------------------------------


@functools.lru_cache(maxsize=8)
def recurrent_variance_coefficients(bias: str, order: int = 1) -> dict:
    """Coefficients of ``Var Q(T) = V_1(T)/N + O(1/N^2)`` for a recurrent linear net.

    Given W, z(T) = W^T x + (bias part) is Gaussian with covariance C, so
    ``Var Q = E Var(Q|W) + Var E(Q|W)`` and at O(1/N)

        V_1 = 2 q0^2 [phi(M^2) - phi(M)^2] + 4 q0 phi(A^T C A) + 2 phi(C^2),   A = W^T

    with phi the planar (N -> oo) normalised trace, M = (W^T)^T W^T.  The planar pairings
    of a cyclic word c^a c*^b c^d c*^e (c = W, c* = W^T) are ladders at the four block
    junctions, x12 + x41 = a, x12 + x23 = b, x23 + x34 = d, x34 + x41 = e, each worth
    sigma_w2^(x12+x23+x34+x41); summing the block lengths over 0..T-1 reduces to
    geometric sums, done in closed form:

    * ``phi(M^2) - phi(M)^2 = T s^(2T)``; ``phi(c^T c*^T c^j c*^j) = (j+1) s^(T+j)``;
    * shared: ``phi((B B^T)^2) = sum_m s^m (G(m) + G(m-1)) G(T-1-m)^2``,
      fresh: ``sum_y s^(2y) G(T-1-y)^2``, with G(U) = sum_{y<=U} s^y.

    >>> from nnqft.rules.symbols import T, q0, sigma_b2, sigma_w2
    >>> v1 = recurrent_variance_coefficients("shared")[1]
    >>> sp.simplify(v1.subs(sigma_b2, 0) - 2*T*q0**2*sigma_w2**(2*T))
    0
    """
    bias = _recurrent_bias(bias)
    check_order(order, 1, what="Var Q of the recurrent net (derived through 1/N)")
    s, b, q0, T = S.sigma_w2, S.sigma_b2, S.q0, S.T
    if order == 0:
        return {0: sp.Integer(0)}
    j, m = sp.Symbol("j", integer=True), sp.Symbol("m", integer=True)
    input_part = 2 * q0**2 * T * s ** (2 * T)
    cross = 4 * b * q0 * sum_closed_form((j + 1) * s ** (T + j), j, 0, T - 1)
    if bias == "shared":
        summand = s**m * (geometric_partial(m, s) + geometric_partial(m - 1, s))
        summand *= geometric_partial(T - 1 - m, s) ** 2
    else:
        summand = s ** (2 * m) * geometric_partial(T - 1 - m, s) ** 2
    bias_part = 2 * b**2 * sum_closed_form(summand, m, 0, T - 1)
    return {0: sp.Integer(0), 1: tidy(input_part + cross + bias_part)}


# --- feedforward series from the exact forms -----------------------------------------------


def feedforward_variance_coefficients(order: int) -> dict[int, sp.Expr]:
    """Coefficients of 1/N^j (j <= order) of the exact feedforward Var Q(T), each a closed
    form in T, from the exact recursion (docs/conventions.md §5), not from diagrams: the
    independent check of the diagram route (:mod:`nnqft.derive.loops.feedforward_variance`,
    which :func:`correlator` uses), and the O(1/N) variance of the delta-method log-mean.
    Expanding a^(T-t) = sigma_w2^(2(T-t)) (1 + 2/N)^(T-t) in
    ``V(T) = (2/N) sum_t a^(T-t) m(t)^2`` gives
    ``V_(j+1) = 2^(j+1) sum_t binomial(T-t, j) sigma_w2^(2(T-t)) m(t)^2``.

    >>> from nnqft.rules.symbols import T
    >>> sp.factor(feedforward_variance_coefficients(1)[1].subs(S.sigma_b2, 0))
    2*T*q0**2*sigma_w2**(2*T)
    """
    from .linear import feedforward_mean

    s, T = S.sigma_w2, S.T
    t = sp.Symbol("t", integer=True)
    m_t = feedforward_mean(t)
    out = {0: sp.Integer(0)}
    for j in range(order):
        binom = sp.expand(sp.expand_func(sp.binomial(T - t, j)))
        summand = 2 ** (j + 1) * binom * s ** (2 * (T - t)) * m_t**2
        out[j + 1] = tidy(sum_closed_form(summand, t, 1, T))
    return out


def log_digamma_coefficients(order: int) -> dict[int, sp.Expr]:
    """Coefficients of 1/N^k of ``psi(N/2) - ln(N/2)`` (its asymptotic series:
    -1/N - sum_k B_2k 2^(2k) / (2k N^(2k))).

    >>> log_digamma_coefficients(4)
    {0: 0, 1: -1, 2: -1/3, 3: 0, 4: 2/15}
    """
    out = {k: sp.Integer(0) for k in range(order + 1)}
    if order >= 1:
        out[1] = sp.Integer(-1)
    for k in range(1, order // 2 + 1):
        out[2 * k] = -sp.bernoulli(2 * k) * 2 ** (2 * k) / (2 * k)
    return out


# --- public API ------------------------------------------------------------------------------

OBSERVABLES = ("mean", "variance", "log-mean")
#: rules/engine version, part of every cache key; bump when a derivation changes
ENGINE_VERSION = "linear-pipeline-11"


@dataclass(frozen=True)
class Correlator:
    """A derived observable of ``Q(T) = |z(T)|^2/N`` for a linear network.

    ``expression`` is a sympy expression in sigma_w2, sigma_b2, q0, N, T;
    ``coefficients`` maps k to the coefficient of 1/N^k; ``exact`` says whether the
    expression is exact at finite N (else it is truncated after 1/N^order); ``validity``
    lists the conditions; ``steps`` is the derivation as (title, prose, equation) triples;
    ``diagrams`` the :class:`~nnqft.derive.loops.evaluate.DiagramValue` of every diagram
    class summed (the values of one order sum to that order's coefficient; empty where the
    result comes from a route without diagrams, see ``validity``).
    """

    arch: str
    bias: str | None
    observable: str
    order: int | None
    exact: bool
    expression: sp.Expr
    coefficients: dict
    validity: tuple
    steps: tuple = field(default=(), compare=False, repr=False)
    diagrams: tuple = field(default=(), compare=False, repr=False)

    @property
    def latex(self) -> str:
        """LaTeX of the expression (nnqft's one printer: the string documents and
        ``nnqft export ID --lang latex`` print)."""
        from ..document.printer import latex

        return latex(self.expression)

    def derivation(self):
        """The derivation as a :class:`nnqft.derive.document.derivation.Derivation`."""
        from ..document.derivation import Derivation, Equation, Step

        steps = tuple(
            Step(
                title,
                prose,
                tuple(Equation(_as_equation(e)) for e in eqs),
                "nnqft.derive.loops.amplitudes",
                figures=diagram_figures(self.diagrams) if title == DIAGRAMS_TITLE else (),
            )
            for title, prose, eqs in self.steps
        )
        return Derivation(_title(self.arch, self.bias, self.observable), steps)

    def to_dict(self) -> dict:
        """JSON-ready view (expressions as sympy-parsable strings)."""
        return {
            "formula": _formula_name(self.arch, self.bias, self.observable),
            "arch": self.arch,
            "activation": "linear",
            "bias": self.bias,
            "observable": self.observable,
            "order": self.order,
            "exact": self.exact,
            "expression": sp.sstr(self.expression),
            "coefficients": {str(k): sp.sstr(v) for k, v in self.coefficients.items()},
            "latex": self.latex,
            "validity": list(self.validity),
            "diagrams": _diagram_dicts(self.diagrams),
        }


def _diagram_dicts(diagrams) -> list[dict]:
    """The JSON entries of the diagrams; classes of equal types share one value, so each
    distinct value is printed once."""
    printed: dict = {}
    out = []
    for d in diagrams:
        if d.value not in printed:
            printed[d.value] = {k: v for k, v in d.to_dict().items() if k in ("value", "latex")}
        entry = d.to_dict(printed=printed[d.value])
        out.append(entry)
    return out


def _diagram_data(d: DiagramValue, values: list) -> dict:
    """A :class:`DiagramValue` as cache data; its value is stored once in ``values`` (as an
    expression tree) and referred to by its position (classes of equal types share it)."""
    if d.value not in values:
        values.append(d.value)
    data = {
        "id": d.id,
        "order": d.order,
        "n_power": d.n_power,
        "symmetry_factor": str(d.symmetry_factor),
        "multiplicity": d.multiplicity,
        "chords": d.chords,
        "types": [list(t) for t in d.types],
        "value": values.index(d.value),
        "name": d.name,
        "family": getattr(d, "family", ""),
    }
    if hasattr(d, "word"):  # a variance diagram: its representative, to draw it
        data["word"] = d.word
        data["blocks"] = list(d.blocks)
        data["chord_list"] = [list(c) for c in d.chord_list]
    return data


def _diagram_from_data(data: dict, values: list) -> DiagramValue:
    from fractions import Fraction

    cls, extra = DiagramValue, {}
    if data.get("family") == "layer-pairing":  # the feedforward variance's diagrams
        from .feedforward_variance import LayerDiagramValue

        cls = LayerDiagramValue
    elif "word" in data:  # the recurrent variance's diagrams
        from .variance import BlockDiagramValue

        cls = BlockDiagramValue
        extra = {
            "word": data["word"],
            "blocks": tuple(int(x) for x in data["blocks"]),
            "chord_list": tuple(tuple(int(x) for x in c) for c in data["chord_list"]),
        }
    return cls(
        **extra,
        id=data["id"],
        order=int(data["order"]),
        n_power=int(data["n_power"]),
        symmetry_factor=Fraction(data["symmetry_factor"]),
        multiplicity=int(data["multiplicity"]),
        chords=int(data["chords"]),
        types=tuple(tuple(int(x) for x in t) for t in data["types"]),
        value=values[int(data["value"])],
        name=data["name"],
    )


def _encode_equation(eq) -> dict:
    """An equation as {'lhs': tree, 'rhs': tree} (:mod:`nnqft.derive.exprtree` data trees),
    rebuilt only when a derivation is built (so that a cached request does not pay for it)."""
    from ..exprtree import to_tree

    return {"lhs": to_tree(eq.lhs), "rhs": to_tree(eq.rhs)}


def _as_equation(eq):
    if isinstance(eq, dict):
        from ..exprtree import from_tree

        return sp.Eq(from_tree(eq["lhs"]), from_tree(eq["rhs"]), evaluate=False)
    return eq


_WHAT = {"mean": "the mean of Q(T)", "variance": "the variance of Q(T)", "log-mean": "E ln Q(T)"}


def _title(arch, bias, observable) -> str:
    """A derivation's title in words (the formula id stays in its provenance)."""
    net = "feedforward" if arch == "feedforward" else f"recurrent, {bias} bias"
    return f"Loop corrections to {_WHAT[observable]}: linear {net} network"


def _model_name(arch, bias) -> str:
    return "linear-feedforward" if arch == "feedforward" else f"linear-recurrent-{bias}"


def _formula_name(arch, bias, observable) -> str:
    return f"{_model_name(arch, bias)}/{observable}"


def _series(coefficients: dict) -> sp.Expr:
    return sp.Add(*[c / S.N**k for k, c in sorted(coefficients.items())])


def _check_request(net, observable, order, exact) -> None:
    """The one check of a :func:`correlator` request (the Network has checked arch and
    bias; :func:`~nnqft.rules.network.check_order` checks the order)."""
    from ...errors import NoExactForm

    if not isinstance(net, Network):
        raise InvalidType(f"correlator takes a Network, got {net!r}")
    if net.activation.name != "linear":
        raise InvalidParameter(
            "the loop corrections are derived for the linear network only, "
            f"got {net.activation.name!r}"
        )
    if observable not in OBSERVABLES:
        raise unknown_name("observable", observable, OBSERVABLES)
    name = _formula_name(net.arch, net.bias, observable)
    if exact and order is not None:
        raise InvalidParameter("give either an order or exact, not both")
    if not exact:
        if order is None:
            raise InvalidParameter("give an order (a non-negative integer) or exact=True")
        check_order(order, max_order(net.arch, observable, net.bias), what=name)
    elif net.arch == "recurrent":
        raise NoExactForm(
            f"no exact finite-N closed form for {name}; "
            f"use --order K (K <= {max_order(net.arch, observable, net.bias)})"
        )


def max_order(arch: str, observable: str, bias: str | None = None) -> int:
    """The highest power of 1/N :func:`correlator` derives for ``arch`` and ``observable``
    (the recurrent variance: 1/N^2 for either bias, 1/N when ``bias`` is not given).

    >>> max_order("recurrent", "mean"), max_order("recurrent", "variance")
    (3, 1)
    >>> max_order("recurrent", "variance", "fresh"), max_order("recurrent", "variance", "shared")
    (2, 2)
    """
    if arch == "recurrent":
        if observable == "variance":
            from .variance import symbolic_max_order

            return symbolic_max_order(bias) if bias is not None else 1
        return MAX_RECURRENT_ORDER if observable == "mean" else 1
    return {"mean": 8, "variance": 6, "log-mean": 1}[observable]


def _rules_version(arch, bias) -> dict:
    from ...rules.feynman import get_rules

    rules = get_rules(_model_name(arch, bias))
    vertex = rules.vertex("double_trace")
    return {
        "engine": ENGINE_VERSION,
        "model": rules.model,
        "vertex": vertex.monomial,
        "coupling": sp.sstr(vertex.coupling),
        "time_weight": vertex.time_weight,
    }


def _topology_ids(order: int) -> list:
    """Sorted canonical ids of the reduced diagrams through ``order`` (cached on disk)."""
    from ..cache import cached

    def compute():
        return {"ids": sorted(topologies(order))}

    return cached({"what": "trace-diagram-ids", "engine": ENGINE_VERSION, "order": order}, compute)[
        "ids"
    ]


def correlator(net: Network, observable: str, *, order=None, exact=False) -> Correlator:
    """Derive an observable of Q(T) = |z(T)|^2/N for a linear net (docs/conventions.md §5).

    ``net`` is a :class:`~nnqft.rules.network.Network` with the linear activation (its
    arch and bias convention are used; its parameters stay symbolic in the result).
    ``observable``: ``'mean'`` (E Q), ``'variance'`` (Var Q) or ``'log-mean'`` (E ln Q);
    ``order=K`` truncates after 1/N^K; ``exact=True`` gives the finite-N closed form
    where one exists (feedforward mean, variance, and log-mean at sigma_b2 = 0).  Recurrent
    means come from the diagrams of :mod:`nnqft.diagrams.network`, summed over time labels in
    closed form; results are cached by content (:mod:`nnqft.derive.cache`).

    >>> c = correlator(Network("recurrent", "linear", bias="fresh"), "mean", order=1)
    >>> c.coefficients[1]
    0
    >>> correlator(Network("feedforward"), "variance", order=1).coefficients[0]
    0
    """
    _check_request(net, observable, order, exact)
    arch, bias = net.arch, net.bias
    from ..cache import cached

    content = {
        "what": "correlator",
        "arch": arch,
        "bias": bias,
        "observable": observable,
        "order": order,
        "exact": bool(exact),
        "rules": _rules_version(arch, bias),
    }
    if arch == "recurrent" and order:
        content["diagrams"] = _topology_ids(order)

    def compute():
        c = _derive(arch, observable, bias, order, exact)
        values: list = []
        diagrams = [_diagram_data(d, values) for d in c.diagrams]
        return {
            "expression": c.expression,
            "coefficients": {str(k): v for k, v in c.coefficients.items()},
            "validity": list(c.validity),
            "steps": [[t, p, [_encode_equation(e) for e in eqs]] for t, p, eqs in c.steps],
            "diagrams": diagrams,
            "diagram_values": values,
        }

    data = cached(content, compute)
    return Correlator(
        arch,
        bias,
        observable,
        order,
        bool(exact),
        data["expression"],
        {int(k): v for k, v in data["coefficients"].items()},
        tuple(data["validity"]),
        tuple((t, p, tuple(eqs)) for t, p, eqs in data["steps"]),
        tuple(_diagram_from_data(d, data["diagram_values"]) for d in data["diagrams"]),
    )


def _rules_step(arch, bias):
    from ...rules.feynman import get_rules
    from ..document.latex import latex

    vertex = get_rules(_model_name(arch, bias)).vertex("double_trace")
    kernel = r"K(t,s) = 1" if arch == "recurrent" else r"K(t,s) = \delta_{ts}"
    fields = r"(\tilde z(t)\cdot\tilde z(s))\,(z(t-1)\cdot z(s-1))"
    return (
        "Feynman rules",
        "Averaging the MSRDJ action over $W$ gives the double-trace vertex "
        f"${latex(vertex.coupling / 2)}\\, K(t,s)\\,{fields}$ with ${kernel}$; each vertex "
        f"is a Wick pair of two $W$'s worth ${latex(vertex.coupling)}$, and each closed "
        "neuron-index loop gives a factor $N$.",
        (sp.Eq(sp.Symbol("g_vertex"), vertex.coupling),),
    )


def _derive(arch, observable, bias, order, exact) -> Correlator:
    from ...rules.feynman import get_rules
    from .linear import feedforward_variance, finite_width_lyapunov

    s, q0, T = S.sigma_w2, S.q0, S.T
    rules = get_rules(_model_name(arch, bias))
    steps = [_rules_step(arch, bias)]
    validity = ["T >= 1 (integer depth)"]
    diagrams: tuple = ()
    if arch == "feedforward":
        # the rules' K = delta_ts leaves the bare line and the rung ladder at every order
        # (the mean's own request lists them through its order; the variance and the
        # log-mean need only its value, so the trace diagrams through 1/N suffice)
        cactus = mean_diagrams(rules, max(order or 0, 1) if observable == "mean" else 1)
        if any(d.order for d in cactus):  # pragma: no cover - excluded by the kernel
            raise InvalidParameter("a feedforward mean diagram beyond O(1) survived")
        mean = tidy(sp.Add(*[d.value for d in cactus]))
        steps.append(
            (
                "Cactus resummation",
                "With a new W in every layer only equal-time pairs exist, so no pair joins two "
                "W's of one response line and no two rungs cross: the only diagrams are the "
                "bare bias line and the rung ladder (the cactus), whose sum is the mean-field "
                "length map, exact at every N.",
                (sp.Eq(sp.Symbol("E_Q"), mean),),
            )
        )
        if observable == "mean":
            expression = mean
            diagrams = cactus
            steps.append(_diagrams_step(diagrams))
            coefficients = {k: (mean if k == 0 else sp.Integer(0)) for k in range((order or 0) + 1)}
            validity.append("exact at every N: E Q(T) has no 1/N corrections")
        elif observable == "variance":
            from .feedforward_variance import variance_diagrams

            depth = order if order is not None else 3
            diagrams = variance_diagrams(rules, depth)
            coefficients = coefficients_of(diagrams, depth)
            counts: dict = {}
            for d in diagrams:
                counts[d.order] = counts.get(d.order, 0) + 1
            steps.append(
                (
                    "Layer pairings",
                    "$E\\,Q(T)^2$ has four strands, the four $z(T)$ of "
                    "$(z_1\\cdot z_2)(z_3\\cdot z_4)$, each from the input or from the bias "
                    "of some layer. With $K(t,s) = \\delta_{ts}$ the $W(t)$ letters pair "
                    "within their layer (three pairings of four strands, one of two) and with "
                    "$B(t,s) = \\delta_{ts}$ the biases pair within their layer; the index sums "
                    "of a level are the cycles of the pairings above and below it, so each "
                    "change of the pairing costs $1/N$ and nothing else does. The connected "
                    "configurations (the variance) whose pairing changes $d$ times are order "
                    "$1/N^d$; a run of equal pairings is a ladder, and the reduced diagrams "
                    "(source pattern and the word of pairings visited) are $6 \\cdot 2^d$ at "
                    "order $1/N^d$, in classes under the symmetry of "
                    "$(z_1\\cdot z_2)(z_3\\cdot z_4)$: "
                    + ", ".join(
                        f"{n} at order {'$1/N$' if k == 1 else f'$1/N^{{{k}}}$'}"
                        for k, n in sorted(counts.items())
                    )
                    + ".",
                    (),
                )
            )
            steps.append(
                (
                    "Sums over layers",
                    "Each reduced diagram is summed over the source layers of its strands and "
                    "the $\\binom{n}{d}$ ways to put its $d$ changes on the $n$ levels where "
                    "four strands are alive, each geometric sum in closed form in $T$. $V_d$ "
                    "is the coefficient of $N^{-d}$; it equals the series of the exact "
                    "recursion $V(t) = (1 + 2/N) \\sigma_w^4 V(t-1) + (2/N) m(t)^2$ (the "
                    "check, term by term).",
                    tuple(sp.Eq(sp.Symbol(f"V_{d}"), c) for d, c in coefficients.items() if d),
                )
            )
            drawn = _listed(diagrams)
            steps.append(
                (
                    DIAGRAMS_TITLE,
                    "Each class of reduced diagrams (a diagram and its images under the "
                    "exchanges of $z_1 \\leftrightarrow z_2$, $z_3 \\leftrightarrow z_4$ and of "
                    "the two dot products) drawn beside its symmetry factor, its power of $N$ "
                    "and its value: the four strands run from their sources (left; dashed: "
                    "bias pairs) to the readouts (right), one column of W pairs per ladder; "
                    "the values of one order sum to its coefficient."
                    + (
                        f" Drawn through $1/N$; in all {len(diagrams)} classes."
                        if len(drawn) < len(diagrams)
                        else ""
                    ),
                    (),
                )
            )
            if exact:
                expression = feedforward_variance()
                steps.append(
                    (
                        "Variance recursion",
                        "Given layer t-1 the $z_i(t)$ are iid Gaussian, so "
                        "$V(t) = (1 + 2/N) \\sigma_w^4 V(t-1) + (2/N) m(t)^2$, solved in "
                        "closed form: the exact finite-N variance, whose series the diagrams "
                        "above reproduce.",
                        (),
                    )
                )
                validity.append(
                    "exact at finite N (the recursion's solution); coefficients: the diagrams "
                    "of its first terms"
                )
            else:
                expression = _series(coefficients)
                validity.append(f"truncated after 1/N^{order}")
        else:  # log-mean
            if exact:
                expression = feedforward_log_mean_exact()
                lam = log_digamma_coefficients(4)
                coefficients = {0: sp.log(q0) + T * sp.log(s)}
                coefficients.update({k: T * lam[k] for k in range(1, 5)})
                validity.append("exact at sigma_b2 = 0 only (no closed form for sigma_b2 > 0)")
                steps.append(
                    (
                        "Chi-square product",
                        "At sigma_b2 = 0, Q(t) = sigma_w2 Q(t-1) chi2_N/N, and "
                        "E ln(chi2_N/N) = psi(N/2) - ln(N/2).",
                        (sp.Eq(sp.Symbol("lambda_N"), finite_width_lyapunov() / 2),),
                    )
                )
            else:
                v1 = feedforward_variance_coefficients(1)[1]
                coefficients = {0: sp.log(mean)}
                if order >= 1:
                    coefficients[1] = sp.factor(-v1 / (2 * mean**2))
                expression = _series(coefficients)
                validity.append("delta method: E ln Q = ln E Q - Var Q/(2 (E Q)^2) + O(1/N^2)")
        request = (arch, None, observable, order, exact)
        return _result(request, expression, coefficients, validity, steps, diagrams)
    # recurrent
    weights = type_weights(order)
    counts = {d: sum(w.values()) for d, w in weights.items()}
    steps.append(
        (
            "Words and pairings",
            "$z(T) = W^T x + \\sum_j W^j b$, so $E Q(T) = q_0 M(T,T) + \\sigma_b^2 \\sum "
            "M(k,m)$ with $M(k,m) = N^{-1} E\\,\\mathrm{tr}[(W^\\top)^k W^m]$; every Wick "
            "pairing of $(W^\\top)^k W^m$ is a "
            "reduced diagram (ladders of parallel pairs collapsed) with multiplicities. "
            "Reduced diagrams: "
            + ", ".join(
                f"{n} at order {'1' if d == 0 else ('1/N' if d == 1 else f'1/N^{d}')}"
                for d, n in sorted(counts.items())
            )
            + ".",
            (),
        )
    )
    mean_order = max(order, 1) if observable == "log-mean" else order
    # the diagrams once: their values summed per order are the coefficients
    mean_graphs = mean_diagrams(rules, mean_order)
    mean_c = coefficients_of(mean_graphs, mean_order)
    steps.append(
        (
            "Sums over time labels",
            "Each reduced diagram with $a$, $b$, $c$ pairs within, across and within the "
            "factors is placed in $\\binom{i-1}{a-1}\\binom{l-1}{b-1}\\binom{j-1}{c-1}$ ways; "
            "the sums over the ladder lengths are geometric and done in closed form, "
            "parities by $T = 2v + \\tau$. $E_d$ is the coefficient of $N^{-d}$.",
            tuple(sp.Eq(sp.Symbol(f"E_{d}"), c) for d, c in mean_c.items()),
        )
    )
    if observable == "mean":
        coefficients = dict(mean_c)
        diagrams = mean_graphs
        steps.append(_diagrams_step(diagrams))
        validity.append(f"truncated after 1/N^{order}")
        if order >= 1:
            critical = recurrent_mean_coefficients(bias, 1, critical=True)[1]
            validity.append(f"at sigma_w2 = 1 the 1/N coefficient is {sp.sstr(critical)}")
    else:
        if observable == "variance":
            from .variance import variance_diagrams

            var_graphs = variance_diagrams(rules, order)
            var_c = coefficients_of(var_graphs, order)
            diagrams = var_graphs
            prose = (
                "The law of W is O(N) invariant, so the input may be taken uniform on its "
                "sphere: every source is Gaussian, with a factor $N/(N+2)$ on the terms "
                "with four $x$'s. Given W, z(T) is then Gaussian with covariance "
                "$C = \\sum_{a,b} W^a \\langle v_a v_b^\\top\\rangle (W^\\top)^b$, so "
                "$\\mathrm{Var}\\,Q = (2/N^2) E\\,\\mathrm{tr}\\,C^2 + N^{-2} "
                "\\mathrm{Var}\\,\\mathrm{tr}\\,C - \\tfrac{2}{N+2} F_4$: the reduced diagrams "
                "of the four-block word $\\mathrm{tr}[(W^\\top)^{a_0} W^{a_1} "
                "(W^\\top)^{a_2} W^{a_3}]$ (order $1 + d$), the connected diagrams of "
                "two traces (order $2 + d$) and the four-$x$ part $F_4$ from the mean's "
                "input part. Each value is summed over its ladder lengths and the "
                "sources' block lengths in closed form in $T$."
            )
            steps.append(
                (
                    "Variance from the four-block diagrams",
                    prose,
                    tuple(sp.Eq(sp.Symbol(f"V_{d}"), c) for d, c in var_c.items() if d >= 1),
                )
            )
            steps.append(_diagrams_step(diagrams))
        else:
            var_c = recurrent_variance_coefficients(bias, min(order, 1))
            steps.append(
                (
                    "Variance at leading order",
                    "Given W, z(T) is Gaussian with mean $W^T x$ and covariance C "
                    "($\\sigma_b^2 B B^\\top$, $B = \\sum_j W^j$, shared; "
                    "$\\sigma_b^2 \\sum_j W^j (W^j)^\\top$, fresh), so Var Q = "
                    "E Var(Q|W) + Var E(Q|W); at O(1/N) only planar (non-crossing) pairings "
                    "of four-block words enter: ladders at the four block junctions.",
                    (sp.Eq(sp.Symbol("V_1"), var_c.get(1, sp.Integer(0))),),
                )
            )
        if observable == "variance":
            coefficients = var_c
            validity.append(f"truncated after 1/N^{order}")
        else:
            m0, m1 = mean_c[0], mean_c.get(1, sp.Integer(0))
            coefficients = {0: sp.log(m0)}
            if order >= 1:
                coefficients[1] = sp.factor(sp.together(m1 / m0 - var_c[1] / (2 * m0**2)))
            validity.append(
                "delta method: E ln Q = ln E Q - Var Q/(2 (E Q)^2) + O(1/N^2); "
                f"truncated after 1/N^{order}"
            )
    expression = _series(coefficients)
    request = (arch, bias, observable, order, exact)
    return _result(request, expression, coefficients, validity, steps, diagrams)


#: the most diagrams a derivation lists one by one (1/N^3 has hundreds: they are counted)
_LISTED = 12

#: the title of the derivation step that draws each diagram beside its value
DIAGRAMS_TITLE = "Diagrams and their values"


def _listed(diagrams) -> list:
    """The diagrams a derivation draws one by one: all, or those through 1/N."""
    return list(diagrams) if len(diagrams) <= _LISTED else [d for d in diagrams if d.order <= 1]


def _diagrams_step(diagrams) -> tuple:
    """The derivation step of the diagrams (its drawings are made from the Correlator's
    diagrams when the derivation is built, :func:`diagram_figures`)."""
    counts: dict = {}
    for d in diagrams:
        counts[d.order] = counts.get(d.order, 0) + 1
    prose = (
        "Each class of reduced diagrams (a diagram and its mirror image, the two factors of "
        "$z(T)\\cdot z(T)$ exchanged) drawn beside its symmetry factor, its power of $N$ "
        "and its value, every ladder of parallel W pairs resummed and every placement on "
        "the time axis summed; the values of one order sum to its coefficient."
    )
    if len(_listed(diagrams)) < len(diagrams):
        per_order = ", ".join(f"{n} at order {o}" for o, n in sorted(counts.items()))
        prose += f" Drawn through $1/N$; in all {len(diagrams)} classes ({per_order})."
    return (DIAGRAMS_TITLE, prose, ())


_COUNT_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}


def _count(n: int, noun: str) -> str:
    return f"{_COUNT_WORDS.get(n, str(n))} {noun}{'' if n == 1 else 's'}"


def diagram_caption(d: DiagramValue) -> str:
    """A diagram class in words: its name, or its W pairs (within a line, across the two
    lines), whether they cross, and its mirror image.

    >>> from nnqft.rules.feynman import get_rules
    >>> from .evaluate import mean_diagrams
    >>> [diagram_caption(d) for d in mean_diagrams(get_rules("linear-recurrent-shared"), 1)][2]
    'one W pair: one within a line, with its mirror image'
    """
    if d.name:
        return d.name
    a, b, c = d.types[0]
    pieces = []
    if a + c:
        where = "within a line" if a * c == 0 else "within the lines"
        pieces.append(f"{_COUNT_WORDS.get(a + c, str(a + c))} {where}")
    if b:
        pieces.append(f"{_COUNT_WORDS.get(b, str(b))} across the lines")
    total = a + b + c
    text = f"{_count(total, 'W pair')}: {', '.join(pieces)}" if total else "no W pair"
    chords = representatives(d.order)[d.id].chords
    crossing = sum(
        1
        for i, (p, q) in enumerate(chords)
        for (r, t) in chords[i + 1 :]
        if p < r < q < t or r < p < t < q
    )
    nested = sum(
        1
        for i, (p, q) in enumerate(chords)
        for (r, t) in chords[i + 1 :]
        if p < r < t < q or r < p < q < t
    )
    if len(chords) > 1:
        text += "; " + ("no two cross" if crossing == 0 else f"{_count(crossing, 'crossing')}")
        if nested:
            text += f", {_count(nested, 'nesting')}"
        elif crossing == 0:
            text += ", side by side"
    if d.multiplicity == 2:
        text += ", with its mirror image"
    return text


def diagram_figures(diagrams) -> tuple:
    """One :class:`~nnqft.derive.document.derivation.Figure` per drawn diagram: its TikZ
    picture, caption in words, symmetry factor, power of N and value ``D_k``."""
    from ...diagrams.draw import line_kinds, tikz_picture
    from ..document.derivation import Equation, Figure

    out = []
    for k, d in enumerate(_listed(diagrams), start=1):
        graph = d.graph
        power = "N^{0}" if d.n_power == 0 else f"N^{{{d.n_power}}}"
        facts = f"symmetry factor ${_fraction(d.symmetry_factor)}$, order ${power}$"
        out.append(
            Figure(
                tikz=tikz_picture(graph),
                caption=f"$D_{{{k}}}$: {diagram_caption(d)}",
                equation=Equation(sp.Eq(sp.Symbol(f"D_{k}"), d.value, evaluate=False)),
                facts=facts,
                kinds=line_kinds(graph),
            )
        )
    return tuple(out)


def _fraction(f) -> str:
    if f.denominator == 1:
        return str(f.numerator)
    return f"\\tfrac{{{f.numerator}}}{{{f.denominator}}}"


def _result(request, expression, coefficients, validity, steps, diagrams=()) -> Correlator:
    """The :class:`Correlator` of ``request`` = (arch, bias, observable, order, exact), its
    derivation closed by the result step."""
    from ...rules.action.objects import DisorderAverage

    Q = sp.Function("Q")(S.T)
    lhs = {
        "mean": DisorderAverage(Q),
        "variance": sp.Function("Var")(Q),
        "log-mean": DisorderAverage(sp.log(Q)),
    }[request[2]]
    steps.append(("Result", f"The {request[2]} of Q(T).", (sp.Eq(lhs, expression),)))
    return Correlator(
        *request, expression, coefficients, tuple(validity), tuple(steps), tuple(diagrams)
    )


def feedforward_log_mean_exact() -> sp.Expr:
    """Exact E ln Q(T) of the linear feedforward net at sigma_b2 = 0 (see
    :func:`nnqft.derive.loops.linear.feedforward_log_mean`)."""
    from .linear import feedforward_log_mean

    return feedforward_log_mean(S.T, 0)


#: what each number of :func:`correlation_lengths` means, and where it holds
CORRELATION_LENGTH_NOTES = {
    "xi_mean_field": "q(t) - q* ~ sigma_w2^t: -1/ln sigma_w2, for 0 < sigma_w2 < 1",
    "xi_fluctuation": "Var Q/(E Q)^2 + 1 = (1 + 2/N)^T exactly (feedforward, sigma_b2 = 0)",
    "lyapunov_exponent": "(1/2T) E ln(|J(T) d|^2/|d|^2) of the input-output Jacobian "
    "J(T) = W(T)...W(1) of a feedforward net: exact at every N, T and sigma_b2 (the bias "
    "drops out of J); at sigma_b2 = 0 also half the slope of E ln Q(T)",
    "xi_typical": "-1/(2 lyapunov_exponent): decay length of a typical squared perturbation "
    "|J(T) d|^2 (of the typical Q = exp E ln Q only at sigma_b2 = 0)",
    "sigma_w2_critical": "where lyapunov_exponent = 0: (N/2) exp(-psi(N/2)), any sigma_b2",
    "q_star_recurrent": "recurrent net, shared bias: the T -> oo limit of E Q(T) taken order by "
    "order in 1/N and truncated after 1/N (O(1/N^2) dropped), for 0 < sigma_w2 < 1; not an "
    "exact finite-N value: at finite N the exact E Q(T) has no T -> oo limit (the spectral "
    "radius of a Gaussian W exceeds 1 with positive probability)",
}


def _length_reasons(s: float, b, n, lyap: float, critical: float) -> dict:
    """{key: reason} for the numbers of :func:`correlation_lengths` that are undefined or
    infinite at sigma_w2 = s, sigma_b2 = b (None: symbolic), width n, exponent ``lyap``."""
    import math

    reasons = {}
    if s == 1:
        reasons["xi_mean_field"] = (
            "infinite: sigma_w2 = 1 is marginal (q(t) = q0 + t sigma_b2 has no fixed point "
            "for sigma_b2 > 0 and stays at q0 for sigma_b2 = 0)"
        )
    elif s > 1:
        reasons["xi_mean_field"] = (
            "undefined: sigma_w2 > 1 has no fixed point, q(t) grows like sigma_w2^t"
        )
    if b is None:
        reasons["xi_fluctuation"] = "holds at sigma_b2 = 0 only (sigma_b2 not given)"
    elif b != 0:
        reasons["xi_fluctuation"] = (
            "undefined for sigma_b2 > 0: Var Q/(E Q)^2 + 1 = (1 + 2/N)^T holds at sigma_b2 = 0 "
            "only (with a bias it is not exponential in T; see `nnqft correlator --observable "
            "variance --exact`)"
        )
    if math.isclose(s, critical, rel_tol=1e-13) or lyap == 0:
        reasons["xi_typical"] = "infinite: sigma_w2 is the finite-width critical point"
    elif lyap > 0:
        reasons["xi_typical"] = (
            "undefined: lyapunov_exponent > 0, perturbations grow (sigma_w2 > sigma_w2_critical)"
        )
    if s >= 1:
        why = "undefined: for sigma_w2 >= 1 the recurrent E Q(T) grows with T, no stationary q*"
        reasons["q_star_recurrent"] = why
        reasons["q_star_recurrent_coefficients"] = why
    return reasons


def correlation_lengths(net: Network | None = None) -> dict:
    """The depth scales of linear networks, symbolic or at numbers (docs/conventions.md §3, §5).

    ``net`` is a :class:`~nnqft.rules.network.Network` with the linear activation (default:
    all symbolic); its sigma_w2, sigma_b2 and width are used, each a number or a symbol.

    * ``xi_mean_field = -1/ln sigma_w2`` (0 < sigma_w2 < 1);
    * ``xi_fluctuation``: Var Q/(E Q)^2 + 1 = (1 + 2/N)^T = exp(T/xi_V) (feedforward,
      sigma_b2 = 0), so xi_V = 1/ln(1 + 2/N) ~ N/2;
    * ``lyapunov_exponent`` = (1/2)[ln sigma_w2 + psi(N/2) - ln(N/2)]: the exponent of the
      Jacobian W(T)...W(1), exact for every sigma_b2 (the bias drops out of it), and at
      sigma_b2 = 0 half the slope of E ln Q(T); ``xi_typical = -1/(2 lyapunov)``;
    * ``sigma_w2_critical``: where the finite-width exponent vanishes, (N/2) exp(-psi(N/2));
    * ``q_star_recurrent``: the T -> oo limit of the engine's recurrent shared-bias E Q(T)
      taken order by order and truncated after 1/N (0 < sigma_w2 < 1), with its 1/N
      coefficient; ``q_star_recurrent_truncated_at`` says so.

    With numbers for all three, a length that is infinite or undefined there is None and
    ``reasons`` says why; ``notes`` says what each number means and where it holds.

    >>> r = correlation_lengths(Network(sigma_w2=0.5, width=16, sigma_b2=1.0))
    >>> round(r["q_star_recurrent"], 6)     # 2 + (2/16) * 0.5/0.125
    2.5
    >>> hot = correlation_lengths(Network(sigma_w2=1.5, width=16, sigma_b2=1.0))
    >>> hot["reasons"]["xi_mean_field"]
    'undefined: sigma_w2 > 1 has no fixed point, q(t) grows like sigma_w2^t'
    """
    from .linear import finite_width_lyapunov

    net = Network() if net is None else net
    if not isinstance(net, Network):
        raise InvalidType(f"correlation_lengths takes a Network, got {net!r}")
    if net.activation.name != "linear":
        raise InvalidParameter(
            f"the depth scales are derived for the linear network only, got {net.activation.name!r}"
        )

    def given(value):
        return None if isinstance(value, sp.Basic) else value

    sigma_w2, width, sigma_b2 = given(net.sigma_w2), given(net.width), given(net.sigma_b2)
    numeric = sigma_w2 is not None and width is not None
    two_lyap = finite_width_lyapunov(S.N, S.sigma_w2)
    c = recurrent_mean_coefficients("shared", 1)
    q_star = [stationary_limit(c[0]), stationary_limit(c[1])]
    out = {
        "xi_mean_field": -1 / sp.log(S.sigma_w2),
        "xi_fluctuation": 1 / sp.log(1 + 2 / S.N),
        "lyapunov_exponent": two_lyap / 2,
        "xi_typical": -1 / two_lyap,
        "sigma_w2_critical": S.N / 2 * sp.exp(-sp.polygamma(0, S.N / 2)),
        "q_star_recurrent": q_star[0] + q_star[1] / S.N,
        "q_star_recurrent_coefficients": {"0": q_star[0], "1": q_star[1]},
    }
    if numeric:
        # numbers through mpmath: substituting an Integer N would make sympy expand psi(N/2)
        # into a harmonic number (minutes at N = 10^5), and sympy's evalf of psi takes the
        # same route; nsimplify of a subnormal float is not the number given
        args = (S.sigma_w2, S.N, S.sigma_b2)
        point = (float(sigma_w2), width, float("nan") if sigma_b2 is None else float(sigma_b2))

        def value(v):
            if sigma_b2 is None and S.sigma_b2 in v.free_symbols:  # exact, in sigma_b2
                exact = sp.nsimplify(sigma_w2, rational=True)
                return v.subs({S.sigma_w2: exact, S.N: sp.Integer(width)})
            try:
                return sp.Float(float(sp.lambdify(args, v, "mpmath")(*point)))
            except (ZeroDivisionError, ValueError, OverflowError):
                return sp.nan  # a pole (e.g. -1/ln sigma_w2 at 1): reasons say why
    else:
        subs = {}
        if sigma_w2 is not None:
            subs[S.sigma_w2] = sp.nsimplify(sigma_w2)
        if width is not None:  # a large width stays a float: psi(N/2) must not expand
            subs[S.N] = sp.Integer(width) if width <= 1000 else sp.Float(width, 30)
        if sigma_b2 is not None:
            subs[S.sigma_b2] = sp.nsimplify(sigma_b2)
        value = lambda v: v.subs(subs)  # noqa: E731
    out = {k: (value(v) if isinstance(v, sp.Basic) else v) for k, v in out.items()}
    out["q_star_recurrent_coefficients"] = {
        k: value(v) for k, v in out["q_star_recurrent_coefficients"].items()
    }
    if sigma_w2 is not None and width is not None:
        lyap = float(out["lyapunov_exponent"])
        reasons = _length_reasons(
            float(sigma_w2),
            None if sigma_b2 is None else float(sigma_b2),
            width,
            lyap,
            float(out["sigma_w2_critical"]),
        )
        if sigma_b2 is None:
            reasons.pop("xi_fluctuation")  # stays a number; notes say where it holds
        for key in reasons:
            out[key] = None if key != "q_star_recurrent_coefficients" else {"0": None, "1": None}
        if sigma_b2 is not None:
            out = {
                k: (
                    {kk: None if vv is None else float(vv) for kk, vv in v.items()}
                    if isinstance(v, dict)
                    else None
                    if v is None
                    else float(v)
                )
                for k, v in out.items()
            }
        else:
            out = {
                k: (float(v) if isinstance(v, sp.Basic) and v.is_number else v)
                for k, v in out.items()
            }
        out["reasons"] = reasons
    out["q_star_recurrent_truncated_at"] = "1/N"
    out["notes"] = dict(CORRELATION_LENGTH_NOTES)
    return out


def loop_chapter(activation=None) -> list:
    """The paper's loop-corrections chapter: derivations of the recurrent (shared bias)
    E Q(T) and Var Q(T) through 1/N and of the exact feedforward variance.

    ``activation`` is accepted for the chapter registry; the loop corrections are derived
    for the linear network only.

    >>> [d.title for d in loop_chapter()][0]
    'Loop corrections to the mean of Q(T): linear recurrent, shared bias network'
    """
    shared = Network("recurrent", "linear", bias="shared")
    requests = [
        (shared, "mean", {"order": 1}),
        (shared, "variance", {"order": 1}),
        (Network("feedforward", "linear"), "variance", {"exact": True}),
    ]
    return [correlator(net, obs, **kw).derivation() for net, obs, kw in requests]
