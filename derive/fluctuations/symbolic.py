"""The feedforward fluctuation theory with symbolic couplings, its diagrams summed in closed
form in the depth T (docs/conventions.md §8).

For a scale-invariant activation (linear, relu, leaky_relu) the Gaussian moments
E[phi(u)^(2p)] at u ~ N(0, K) are c_p K^p, so the couplings of the layer action
(:func:`~nnqft.derive.fluctuations.feedforward.layer_action`) are polynomials in the saddle
point K0(t-1), with chi = sigma_w2 d<phi^2>/dK a constant.  The propagator Dhat = -D2^{-1}
of the chain is then closed-form in the layer labels: for D2 = [[0, B^T], [B, Nn]] in
(dQ, Qt) blocks, Dhat = [[B^{-1} Nn B^{-T}, -B^{-1}], [-B^{-T}, 0]], i.e. the response
<dQ(x) Qt(y)> = chi^(x - y) (y <= x, else 0), <Qt Qt> = 0 and
<dQ(x) dQ(y)> = sum_{u=2}^{min(x, y)} chi^(x-u) n(u) chi^(y-u), n(u) the Qt(u)^2 entry of
D2.  The diagrams are those of :func:`~nnqft.derive.fluctuations.theory.diagrams_at` (the
numeric route's list); each vertex is placed at a layer t (a summation variable), its
slots run over the local fields (Qt(t), dQ(t), dQ(t-1)) and the sums over t are done by
:func:`~nnqft.derive.loops.time_sums.sum_closed_form`.  Diagrams with at most one vertex
are evaluated (the tree: V; the tadpole: K1); K2 and V1 (two vertices) are not built here.

>>> from nnqft.rules import symbols as S
>>> cf = fluctuation_closed_form("relu")
>>> sp.factor(cf["V"].subs(S.sigma_b2, 0))
20*q0**2*sigma_w2**(2*T)*(T - 1)/2**(2*T)
>>> cf["K1"]
0
"""

from __future__ import annotations

import functools
import itertools

import sympy as sp

from ...errors import InvalidParameter, NoExactForm
from ...rules import symbols as S
from ...rules.activations import get_activation
from ..loops.time_sums import sum_closed_form
from .feedforward import layer_action
from .theory import diagrams_at

__all__ = ["symbolic_layer_couplings", "fluctuation_closed_form"]

_t = sp.Symbol("t", integer=True)
_u = sp.Symbol("u_layer", integer=True)
_K = sp.Symbol("K", positive=True)
_r = sp.Symbol("r", positive=True)


def symbolic_layer_couplings(activation) -> dict:
    """The derivatives of one layer's action at the saddle point as polynomials in the
    variance ``K`` of the layer below, keyed by the powers of (Qt(t), dQ(t), dQ(t-1)), and
    ``"saddle"``: K0(t) as a function of K.

    >>> c = symbolic_layer_couplings("relu")
    >>> c["saddle"], c[(1, 0, 1)], c[(2, 0, 0)]
    (K*sigma_w2/2 + sigma_b2, sigma_w2/2, 5*K**2*sigma_w2**2/4)
    """
    act = get_activation(activation)
    if not act.is_scale_invariant:
        raise InvalidParameter(
            f"activation {act.name!r} is not scale-invariant; the symbolic fluctuation route "
            "covers linear, relu, leaky_relu"
        )
    return dict(_couplings(act.name))


@functools.lru_cache(maxsize=16)
def _couplings(name: str) -> tuple:
    from ..gaussian import closed_form

    act = get_activation(name)
    E, (Qt, dQ, dQp), saddle = layer_action(3)
    moments = {mo for mo in (E.atoms(sp.Function) | saddle.atoms(sp.Function))
               if mo.func.__name__ == "m"}  # fmt: skip
    values = {}
    for mo in moments:
        (p,), (k,) = mo.alpha, mo.beta
        form = closed_form(act, f"phi^{2 * p}", integrate=True)
        if form is None:
            raise NoExactForm(f"E[phi^{2 * p}] of {name!r} has no closed form")
        values[mo] = sp.diff(form, S.q, k).subs(S.q, _K)
    out = {"saddle": sp.expand(saddle.xreplace(values))}
    for (a, b, c), coeff in sp.Poly(E, Qt, dQ, dQp).terms():
        value = sp.expand(coeff.xreplace(values) * sp.factorial(a) * sp.factorial(b)
                          * sp.factorial(c))  # fmt: skip
        if value != 0:
            out[(a, b, c)] = value
    return tuple(out.items())


class _Chain:
    """The symbolic propagator of the chain and its vertices at layer t."""

    def __init__(self, name: str):
        c = dict(_couplings(name))
        keys = [k for k in c if k != "saddle"]
        if c.get((1, 1, 0)) != -1 or any(k[1] > 1 or (k[1] and k[0] != 1) for k in keys):
            raise NoExactForm("the layer action is not of the response form -Qt dQ + ...")
        chi = c[(1, 0, 1)]
        A2 = sp.simplify(chi / S.sigma_w2)
        if A2.free_symbols:
            raise NoExactForm("chi is not sigma_w2 times a constant")
        # everything in r = chi (sigma_w2 = r/A2): the layer powers are powers of r alone
        self.r, self.chi_expr = _r, chi
        c = {k: sp.expand(v.subs(S.sigma_w2, _r / A2)) for k, v in c.items()}
        self.chi = _r
        saddle = c["saddle"]
        slope, offset = saddle.coeff(_K, 1), saddle.coeff(_K, 0)
        if self.chi.has(_K) or sp.expand(saddle - slope * _K - offset) != 0:
            raise NoExactForm("chi depends on K or the saddle map is not affine")
        self.c = c
        j = sp.Symbol("j", integer=True)
        K1 = S.sigma_b2 + S.sigma_w2 * S.q0
        # K0(x) = slope^(x-1) K0(1) + offset sum_{j=0}^{x-2} slope^j, the saddle map iterated
        tail = offset * sum_closed_form(slope**j, j, 0, _u - 2)
        self.K0 = sp.expand(slope ** (_u - 1) * K1 + tail)
        self.noise = sp.expand(c.get((2, 0, 0), 0).subs(_K, self.K0.subs(_u, _u - 1)))

    def K0_at(self, x):
        return self.K0.subs(_u, x)

    def response(self, x, y):  # <dQ(x) Qt(y)>, x - y >= 0 known or decided by `later`
        diff = sp.expand(x - y)
        if diff.is_number and diff < 0:
            return sp.Integer(0)
        return self.chi**diff

    def correlator(self, x, y):  # <dQ(x) dQ(y)>, with y <= x
        return sp.expand(sum_closed_form(self.chi ** (x + y - 2 * _u) * self.noise, _u, 2, y))

    def propagator(self, f, x, g, y):
        """Dhat between (f, x) and (g, y); a symbolic x - y is taken as >= 0 (x is T)."""
        if f == "Qt" and g == "Qt":
            return sp.Integer(0)
        if f == "Qt":
            return self.propagator(g, y, f, x)
        diff = sp.expand(x - y)
        if not diff.is_number:
            if x != S.T:
                raise NoExactForm("only diagrams with at most one vertex are summed in closed form")
        elif diff < 0:
            return self.propagator(g, y, f, x) if g == "dQ" else sp.Integer(0)
        if g == "Qt":
            return self.response(x, y)
        return self.correlator(x, y)


def _local(t):
    return {0: ("Qt", t), 1: ("dQ", t), 2: ("dQ", t - 1)}


def _diagram_closed_form(diagram, chain: _Chain) -> sp.Expr:
    """The diagram's value at the external components dQ(T) (every leg), summed over the
    layer t of its vertex in closed form."""
    g = diagram.graph
    vertices = [v for v, d in g.nodes(data=True) if d.get("kind") == "vertex"]
    legs = [v for v, d in g.nodes(data=True) if d.get("kind") == "leg"]
    S_ = sp.Rational(diagram.symmetry_factor.numerator, diagram.symmetry_factor.denominator)
    if not vertices:
        if len(legs) != 2:
            raise InvalidParameter("a diagram without vertices is one bare line")
        return S_ * chain.propagator("dQ", S.T, "dQ", S.T)
    if len(vertices) > 1:
        raise NoExactForm("only diagrams with at most one vertex are summed in closed form")
    (v,) = vertices
    edges = list(g.edges())
    degree = sum(2 if a == b else 1 for a, b in edges)
    total = sp.Integer(0)
    for powers, coeff in chain.c.items():
        if powers == "saddle" or sum(powers) != degree:
            continue
        # every ordering of the monomial's legs over the vertex slots (the symmetric tensor)
        slots_kinds = [k for k, n in enumerate(powers) for _ in range(n)]
        lo = 3 if powers[2] else 2  # dQ(1) is fixed by the input
        value = coeff.subs(_K, chain.K0_at(_t - 1))
        for perm in sorted(set(itertools.permutations(slots_kinds))):
            local = _local(_t)
            slot = iter(perm)
            term = value
            for a, b in edges:
                if a == b:
                    f1, f2 = local[next(slot)], local[next(slot)]
                    term *= chain.propagator(f1[0], f1[1], f2[0], f2[1])
                else:
                    f = local[next(slot)]
                    term *= chain.propagator("dQ", S.T, f[0], f[1])
                if term == 0:
                    break
            if term != 0:
                total += sum_closed_form(sp.expand(term), _t, lo, S.T)
    return S_ * total


@functools.lru_cache(maxsize=16)
def _closed_form(name: str) -> tuple:
    chain = _Chain(name)
    K1 = sum((_diagram_closed_form(d, chain) for d in diagrams_at(1, 1)), sp.Integer(0))
    V = sum((_diagram_closed_form(d, chain) for d in diagrams_at(2, 0)), sp.Integer(0))
    K0 = chain.K0_at(S.T)
    out = tuple((k, _normal(e, chain.chi_expr)) for k, e in (("K0", K0), ("K1", K1), ("V", V)))
    return (*out, ("chi", chain.chi_expr))


def _normal(expr: sp.Expr, chi: sp.Expr) -> sp.Expr:
    """Terms grouped by their power chi^(k T), each coefficient factored; then r -> chi."""
    P = sp.Symbol("P", positive=True)
    expr = sp.expand(sp.powsimp(sp.expand(expr), force=True))

    def split(p):  # r**(k T + e) -> P**k r**e
        k = sp.expand(p.exp).coeff(S.T)
        return P**k * _r ** sp.expand(p.exp - k * S.T)

    expr = sp.expand(expr.replace(lambda p: p.is_Pow and p.base == _r and p.exp.has(S.T), split))
    if expr == 0:
        return sp.Integer(0)
    parts = sp.collect(expr, P, evaluate=False)
    out = sp.Add(*(sp.factor(v.subs(_r, chi)) * k for k, v in parts.items()))
    return out.subs(P, chi**S.T)


def fluctuation_closed_form(activation) -> dict:
    """K0(T), K1(T) and V(T) of a feedforward net in closed form in the depth T, any
    sigma_w2, sigma_b2, q0, from the tree and tadpole diagrams of the fluctuation theory
    (see the module docstring): E z^2 = K0 + K1/N, Cov(z_i^2, z_j^2) = V/N.

    Parameters
    ----------
    activation : str or Activation
        linear, relu or leaky_relu.

    Returns
    -------
    dict
        ``{"K0", "K1", "V", "chi"}``, sympy expressions in sigma_w2, sigma_b2, q0, T (valid
        for T >= 1); denominators (chi - 1) are removable at chi = 1.

    Examples
    --------
    >>> sp.factor(fluctuation_closed_form("linear")["V"].subs({S.sigma_b2: 0, S.T: 3}))
    4*q0**2*sigma_w2**6
    """
    act = get_activation(activation)
    symbolic_layer_couplings(act)  # the scale-invariance check
    return dict(_closed_form(act.name))
