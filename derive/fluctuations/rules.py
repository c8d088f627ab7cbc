"""The Feynman rules of the collective-field fluctuations, as a printable
:class:`~nnqft.rules.feynman.FeynmanRules` (docs/conventions.md §8).

Read off the expanded layer action of :func:`~nnqft.derive.fluctuations.feedforward.layer_action`
(weight exp(N E)):

* the kinetic part -Qt(t) [dQ(t) - chi(t-1) dQ(t-1)] = -Qt^T (1 - chi S) dQ (S the shift
  t -> t-1) is inverted as the geometric series (1 - chi S)^{-1} = sum_k (chi S)^k: the
  causal response line <dQ(t) Qt(s)> = (1/N) prod_{u=s}^{t-1} chi(u), t >= s, drawn from
  Qt to dQ;
* the noise part (1/2) Sigma(t) Qt(t)^2 gives the correlator line
  <dQ(t) dQ(t')> = (1/N) sum_u R(t,u) Sigma(u) R(t',u);
* every monomial of degree >= 3 is a vertex, its coupling N c |H| (c the coefficient,
  |H| the permutations of identical legs: the convention of :mod:`nnqft.rules.expansion`).

The coefficients are the moment derivatives d^k<phi^(2p)>/dq^k at q(t-1), put in closed
form in q where the activation has one (``relu``: q^p times numbers), else left as
Gaussian means of the named activation.

>>> from nnqft.rules.network import Network
>>> rules = collective_rules(Network("feedforward", "relu"))
>>> [(v.kind, str(v.coupling)) for v in rules.vertices][:2]
[('Qt dQ^2', '0'), ('Qt^2 dQ', '5*N*sigma_w2**2*q(t - 1)/2')]
"""

from __future__ import annotations

import sympy as sp

from ...errors import InvalidParameter
from ...rules import symbols as S
from ...rules.feynman import TIMES, FeynmanRules, Field, Propagator, TimeStructure, Vertex
from ...rules.network import Network, require_network
from .feedforward import layer_action

__all__ = ["collective_rules", "GaussianMoment"]

#: the saddle-point variance of the layer below, q(t-1), in which the couplings are written
q_prev = sp.Function("q")(TIMES[0] - 1)


class GaussianMoment(sp.Function):
    r"""E[phi(u)^p], u ~ N(0, q), of the named activation, without a closed form:
    ``GaussianMoment(p, q)``.

    >>> print(sp.latex(GaussianMoment(4, sp.Symbol("q"))))
    \langle \phi^{4} \rangle_{q}
    """

    nargs = 2

    def _latex(self, printer, exp=None):
        p, q = self.args
        body = rf"\langle \phi^{{{printer._print(p)}}} \rangle_{{{printer._print(q)}}}"
        return body if exp is None else rf"\left({body}\right)^{{{exp}}}"

    def _sympystr(self, printer):
        p, q = self.args
        return f"E[phi^{printer._print(p)}]({printer._print(q)})"


def _specialise(expr: sp.Expr, act) -> sp.Expr:
    """Moment derivatives m((p,), (k,)) -> d^k<phi^(2p)>/dq^k at q(t-1), closed where it is."""
    from ..gaussian import expect
    from .feedforward import _moment_name

    q = sp.Symbol("q", positive=True)
    subs = {}
    for mo in expr.atoms(sp.Function):
        if mo.func.__name__ != "m":
            continue
        closed = expect(act, _moment_name(mo), q, closed="integrate")
        if closed is not None:
            subs[mo] = sp.simplify(closed).subs(q, q_prev)
        else:
            (p,), (k,) = mo.alpha, mo.beta
            gm = GaussianMoment(2 * p, q_prev)
            subs[mo] = gm if k == 0 else sp.Derivative(gm, q_prev, k)
    return sp.factor(expr.subs(subs))


def collective_rules(net: Network, degree: int = 3) -> FeynmanRules:
    """The Feynman rules of the fluctuations (dQ, Qt) of a feedforward net's collective
    field, expanded to ``degree``, with the activation's closed forms where it has them.

    Raises :class:`~nnqft.errors.InvalidParameter` for a recurrent net (its two-time
    fields are in :mod:`nnqft.derive.fluctuations.recurrent`).
    """
    net = require_network(net)
    if net.arch != "feedforward":
        raise InvalidParameter(
            "the printable collective rules are the feedforward ones (--arch feedforward)"
        )
    act = net.activation
    E, (Qt, dQ, dQp), saddle = layer_action(degree)
    t, s = TIMES
    quad = E.coeff(Qt, 1)
    kinetic_self, kinetic_prev = quad.coeff(dQ, 1), quad.coeff(dQp, 1).subs(dQp, 0)
    if kinetic_self != -1:
        raise AssertionError("the kinetic term of the collective field is -Qt dQ")
    chi = _specialise(kinetic_prev.subs({dQ: 0}), act)
    noise = _specialise(2 * E.coeff(Qt, 2).subs({dQ: 0, dQp: 0}), act)
    u = sp.Symbol("u", integer=True)
    response = sp.Product(chi.subs(t, u + 1), (u, s, t - 1)) / S.N
    fields = (
        Field("dQ", r"\delta Q", "fluctuation of the layer variance Q(t) about K0(t)", ""),
        Field("Qt", r"\tilde Q", "its conjugate (MSRDJ response) field", ""),
    )
    propagators = (
        Propagator(
            "response",
            ("Qt", "dQ"),
            response,
            directed=True,
            index_structure="-",
            time=TimeStructure(sp.Integer(1), "", causal=sp.Ge(t, s)),
            description="(1 - chi S)^{-1}/N: the inverse of the kinetic part, causal",
        ),
        Propagator(
            "correlator",
            ("dQ", "dQ"),
            sp.Sum(
                sp.Function("R")(t, u) * noise.subs(t, u) * sp.Function("R")(s, u),
                (u, 2, sp.Min(t, s)),
            ),
            index_structure="-",
            description="R Sigma R^T with R = N x the response line and Sigma = " + sp.sstr(noise),
        ),
    )
    vertices = []
    poly = sp.Poly(E, Qt, dQ, dQp)
    for (a, b, c), coeff in sorted(poly.terms(), key=lambda x: (sum(x[0]), x[0]), reverse=False):
        if a + b + c < 3:
            continue
        legs = ("Qt",) * a + ("dQ",) * (b + c)
        times = (t,) * a + (t,) * b + (t - 1,) * c
        H = sp.factorial(a) * sp.factorial(b) * sp.factorial(c)
        kind = " ".join(
            f"{name}^{k}" if k > 1 else name for name, k in (("Qt", a), ("dQ", b + c)) if k
        )
        vertices.append(
            Vertex(
                kind,
                legs,
                sp.factor(S.N * H * _specialise(coeff, act)),
                ((sp.Integer(1), ()),),
                time=TimeStructure(sp.Integer(1), "", legs=times, summed=(t,)),
                monomial=sp.sstr(coeff * Qt**a * dQp**c),
                description="a Gaussian cumulant of phi^2 and its q-derivatives at q(t-1)",
            )
        )
    vertices.sort(key=lambda v: (v.degree, v.kind))
    return FeynmanRules(
        f"collective-feedforward-{act.name}",
        fields,
        propagators,
        tuple(vertices),
        ("dQ",),
        (S.sigma_w2, S.sigma_b2),
        n_per_index_loop=sp.Integer(1),
        description=(
            f"fluctuations of the collective field of a feedforward {act.name} network about "
            f"its saddle point q(t) = {sp.sstr(_specialise(saddle, act))}"
        ),
        notes=(
            "weight exp(N E): propagators carry 1/N, vertices N; no neuron index is left",
            "couplings are read at q(t-1), the mean-field variance of the layer below",
        ),
        derived_from="action",
        action="E = sum_t [-Qt(t) Q(t) + sigma_b2 Qt(t) + ln E exp(sigma_w2 Qt(t) phi(u)^2)],"
        " u ~ N(0, Q(t-1))",
    )
