"""The collective fields, the saddle point and the two-replica distance recursion
(docs/conventions.md §2-3).

:func:`collective_fields` replaces the phi-trace of the disorder-averaged action by
Q(t, s), enforces its definition with the conjugate Qt and decouples the neurons;
:func:`saddle_point` solves dS_eff/dQ = dS_eff/dQt = 0 and reads off the Gaussian law of
the single neuron, i.e. the mean-field maps as :class:`~nnqft.rules.action.objects.GaussianMean`
objects; :func:`distance_recursion` linearises two replicas about coincidence (chi_1 and
lambda_max).  Putting a concrete activation in (closed forms, numbers) is
:mod:`nnqft.derive.meanfield.saddle`.

>>> from nnqft.rules.network import Network
>>> sorted(str(v) for v in saddle_point(Network("feedforward", "tanh")).maps["length"].free_symbols)
['q', 'sigma_b2', 'sigma_w2']
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from ...algebra.indices import index_order, is_neuron
from ...algebra.sums import element_diff, is_field_factor, normal_form, simplify_sums
from ...errors import NnqftError
from .. import symbols as S
from ..network import Network
from .disorder import GaussianFamily, averaged_action, gaussian_average
from .objects import (
    NEURON,
    REPLICA,
    TIME,
    Average,
    BivariateGaussianMean,
    GaussianMean,
    PathIntegral,
    Q,
    Qt,
    S_eff,
    chi_1,
    d,
    lambda_max,
    phi,
    q_star,
    qf,
    replica_index,
    u,
    u1,
    u2,
    x,
    z,
    z1,
    zt,
    zt1,
)

__all__ = [
    "CollectiveFields",
    "collective_fields",
    "average",
    "SaddlePoint",
    "saddle_point",
    "DistanceRecursion",
    "distance_recursion",
]


# --- collective fields -------------------------------------------------------------------


def _is_phi_trace(expr) -> bool:
    return (
        isinstance(expr, sp.Sum)
        and len(expr.limits) == 1
        and is_neuron(expr.limits[0])
        and all(isinstance(f, AppliedUndef) and f.func == phi for f in _factors(expr.function))
    )


def _factors(expr):
    out = []
    for f in sp.Mul.make_args(expr):
        if isinstance(f, sp.Pow) and f.exp.is_Integer and f.exp > 0:
            out.extend([f.base] * int(f.exp))
        else:
            out.append(f)
    return out


def _pair_of(trace: sp.Sum) -> tuple:
    """The collective-field arguments (t, s[, alpha, beta]) of sum_j phi(z_j(t-1)) phi(z_j(s-1))."""
    fs = _factors(trace.function)
    if len(fs) != 2:
        raise NnqftError(f"not a two-field trace: {trace}")
    args = []
    for f in fs:
        (ind,) = f.args
        args.append(ind.indices)
    times = tuple(a[1] + 1 for a in args)
    reps = tuple(a[2] for a in args if len(a) > 2)
    return times + reps


@dataclass(frozen=True)
class CollectiveFields:
    """The action rewritten in collective fields (docs/conventions.md §2).

    ``definition``: Q(t,s) = (sigma_w2/N) sum_j phi(z_j(t-1)) phi(z_j(s-1));
    ``with_q``: the averaged action with the phi-trace of the vertex replaced by Q;
    ``lagrange``: the exponent of 1 = int DQ DQt exp(lagrange) enforcing the definition;
    ``single_neuron``: the single-neuron action s[z, zt; Q, Qt];
    ``qq_term``: -sum Qt Q (per neuron); ``effective``: S_eff = N (qq_term + ln Z_1);
    ``pair_args``: the arguments of Q the vertex uses ((t, t) feedforward, (t, s) recurrent);
    ``initial``: Q at t = 1 from the input.
    """

    definition: sp.Eq
    with_q: sp.Expr
    lagrange: sp.Expr
    single_neuron: sp.Expr
    qq_term: sp.Expr
    effective: sp.Eq
    pair_args: tuple
    initial: sp.Eq
    replicas: int = 1


def _to_single_neuron(expr: sp.Expr) -> sp.Expr:
    """Drop the neuron index: z[i, t(, a)] -> z(t(, a)), zt[i, t] -> zt(t)."""

    def repl(ind):
        return {z: z1, zt: zt1}[ind.base](*ind.indices[1:])

    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base in (z, zt), repl)


def _symmetric_q(expr: sp.Expr) -> sp.Expr:
    """Q(s, t, beta, alpha) -> Q(t, s, alpha, beta): Q, Qt and q are symmetric by definition."""

    def canon(e):
        args = e.args
        half = len(args) // 2 if len(args) == 4 else None
        pairs = (list(zip(args[:2], args[2:])) if half else [(a,) for a in args[:2]]) + (
            [] if half or len(args) <= 2 else []
        )
        if len(args) not in (2, 4):
            return e
        key = [tuple(index_order(s) if isinstance(s, sp.Symbol) else 50 for s in p) for p in pairs]
        if key[1] < key[0]:
            pairs = pairs[::-1]
            new = (pairs[0][0], pairs[1][0]) + ((pairs[0][1], pairs[1][1]) if half else ())
            return e.func(*new)
        return e

    return expr.replace(lambda e: isinstance(e, AppliedUndef) and e.func in (Q, Qt, qf), canon)


@functools.lru_cache(maxsize=64)
def collective_fields(net: Network, replicas: int = 1) -> CollectiveFields:
    """Introduce Q and its conjugate Qt in the disorder-averaged action; decouple the neurons.

    The phi-trace of the double-trace vertex, found by the engine in the averaged action,
    is replaced by N Q(t,s)/sigma_w2; the delta functional enforcing the definition is an
    integral over Qt (imaginary axis), after which every remaining term is a sum over one
    neuron index of the same single-neuron expression, so the exponent is N times a
    single-neuron action.

    >>> cf = collective_fields(Network("feedforward", "tanh", q0=S.q0))
    >>> cf.initial
    Eq(Q(1, 1), q0*sigma_w2)
    """
    rep = replica_index(replicas)
    avg = averaged_action(net, replicas)
    n = net.width
    found = []

    def swap(expr):
        found.append(expr)
        return n * Q(*_pair_of(expr)) / net.sigma_w2

    with_q = avg.replace(_is_phi_trace, swap)
    if not found:
        raise NnqftError("no double-trace vertex found in the averaged action")
    trace = found[0]
    pair_args = _pair_of(trace)
    vertex = next(term for term in sp.Add.make_args(with_q) if term.has(Q))
    outer = next(s for s in sp.preorder_traversal(vertex) if isinstance(s, sp.Sum))
    pair_limits = tuple(lim for lim in outer.limits if not is_neuron(lim))
    t, s = TIME[:2]
    j = NEURON[1]
    alpha, beta = REPLICA[:2]
    if rep is None:
        gen_trace = phi(z[j, t - 1]) * phi(z[j, s - 1])
        gen_args = (t, s)
    else:
        gen_trace = phi(z[j, t - 1, alpha]) * phi(z[j, s - 1, beta])
        gen_args = (t, s, alpha, beta)
    definition = sp.Eq(Q(*gen_args), net.sigma_w2 / n * sp.Sum(gen_trace, (j, 1, n)))
    # the trace the engine found is the definition at the vertex's arguments
    at_pair = definition.rhs.xreplace(dict(zip(gen_args, pair_args)))
    if normal_form(sp.expand(at_pair - net.sigma_w2 / n * trace)):
        raise NnqftError(f"the vertex trace {trace} is not the collective field {definition}")
    lag_summand = -Qt(*pair_args) * (n * Q(*pair_args) - net.sigma_w2 * trace)
    lagrange = sp.Sum(lag_summand, *pair_limits) if pair_limits else lag_summand
    total = simplify_sums(with_q + lagrange, merge=False)
    qq_parts, neuron_parts = [], []
    for term in normal_form(total):
        neuron = [lim for lim in term.limits if is_neuron(lim)]
        rest = tuple(lim for lim in term.limits if not is_neuron(lim))
        if not neuron:
            qq_parts.append(sp.Sum(term.summand, *rest) if rest else term.summand)
            continue
        if len(neuron) != 1:
            raise NnqftError("a term couples two neurons after the collective fields")
        body = _to_single_neuron(term.summand)
        if body.has(neuron[0][0]):
            raise NnqftError("the neurons do not decouple")
        neuron_parts.append(sp.Sum(body, *rest) if rest else body)
    qq_term = _symmetric_q(simplify_sums(sp.Add(*qq_parts) / n))
    single = _symmetric_q(simplify_sums(sp.Add(*neuron_parts)))
    effective = sp.Eq(S_eff, n * (qq_term + sp.log(PathIntegral(single, z1, zt1))))
    # t = 1: phi(z_j(0)) is the input x_j (docs/conventions.md §1), and |x|^2 = N q0
    first = definition.rhs.xreplace({t: 1, s: 1}).replace(
        lambda e: isinstance(e, AppliedUndef) and e.func == phi and e.args[0].indices[1] == 0,
        lambda e: x[(e.args[0].indices[0],) + tuple(e.args[0].indices[2:])],
    )
    if rep is None:
        first = first.xreplace({sp.Sum(x[j] ** 2, (j, 1, n)): n * net.q0})
    initial = sp.Eq(Q(*((1, 1) + gen_args[2:])), first)
    return CollectiveFields(
        definition=definition,
        with_q=with_q,
        lagrange=simplify_sums(lagrange, merge=False),
        single_neuron=single,
        qq_term=qq_term,
        effective=effective,
        pair_args=pair_args,
        initial=initial,
        replicas=replicas,
    )


# --- the saddle point --------------------------------------------------------------------


def average(expr: sp.Expr) -> sp.Expr:
    """<expr> in the single-neuron theory: linear, field-free factors pulled out."""
    out = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr)):
        fields = [f for f in sp.Mul.make_args(term) if is_field_factor(f)]
        const = [f for f in sp.Mul.make_args(term) if not is_field_factor(f)]
        out += sp.Mul(*const) * (Average(sp.Mul(*fields)) if fields else 1)
    return out


def _response_only(e) -> bool:
    """<zt ... zt> = 0: the MSRDJ measure is normalised, Z[sources = 0] = 1 for every Q."""
    fields = [f.base if isinstance(f, sp.Pow) else f for f in sp.Mul.make_args(e.args[0])]
    return all(isinstance(f, AppliedUndef) and f.func == zt1 for f in fields)


@dataclass(frozen=True)
class SaddlePoint:
    """The saddle point of S_eff (N -> infinity) and the mean-field theory it implies.

    ``stationarity``: dS_eff/dQt = 0 and dS_eff/dQ = 0 as derived;
    ``solution_q``: Q = sigma_w2 <phi phi>; ``solution_qt``: Qt = 0;
    ``gaussian_action``: s at Qt = 0 (quadratic in zt);
    ``gaussian_rule``: that quadratic term = the Gaussian rule for xi ~ N(0, C);
    ``covariance``: <z(t) z(s)> = C(t, s); ``two_time``: C with Q at the saddle;
    ``equal_time``: the recursion for the equal-time covariance(s);
    ``maps``: {"length": L(q)} (and {"correlation": F(q11, q22, q12)} for two replicas).
    """

    stationarity: tuple
    solution_q: sp.Eq
    solution_qt: sp.Eq
    gaussian_action: sp.Expr
    gaussian_rule: sp.Eq
    covariance: sp.Eq
    two_time: sp.Eq
    equal_time: tuple
    maps: dict
    initial: sp.Eq


def _gaussian_means(expr: sp.Expr, variance) -> sp.Expr:
    """Averages of functions of jointly Gaussian z's -> (Bivariate)GaussianMean objects.

    ``variance(f1, f2)`` is the covariance of the single-neuron fields f1, f2.
    """

    def convert(avg):
        body = avg.args[0]
        fields = sorted(body.atoms(AppliedUndef) & set(body.atoms(AppliedUndef)), key=str)
        fields = [f for f in fields if f.func == z1]
        if len(fields) == 1:
            (f,) = fields
            return GaussianMean(sp.Lambda(u, body.xreplace({f: u})), variance(f, f))
        if len(fields) == 2:
            f, g = fields
            return BivariateGaussianMean(
                sp.Lambda((u1, u2), body.xreplace({f: u1, g: u2})),
                variance(f, f),
                variance(g, g),
                variance(f, g),
            )
        return avg

    return expr.replace(lambda e: isinstance(e, Average), convert)


@functools.lru_cache(maxsize=64)
def saddle_point(net: Network, replicas: int = 1) -> SaddlePoint:
    """Derive the saddle-point equations of the collective-field action and solve them.

    dS_eff/dQt = 0 gives Q = sigma_w2 <phi phi>; dS_eff/dQ = 0 gives Qt = <zt zt>/2 = 0;
    with Qt = 0 the single-neuron action is quadratic in zt, i.e. z is Gaussian with
    covariance C = K Q + sigma_b2 B read off by the engine and confirmed by the Gaussian
    rule.  At equal times this is the mean-field recursion (docs/conventions.md §3).

    >>> sp_ = saddle_point(Network("recurrent", "relu", bias="fresh"))
    >>> sp_.maps["length"]
    sigma_b2 + sigma_w2*GaussianMean(Lambda(u, phi(u)**2), q)
    """
    rep = replica_index(replicas)
    cf = collective_fields(net, replicas)
    t, s = TIME[:2]
    alpha, beta = REPLICA[:2]
    pattern = _symmetric_q(Q(*cf.pair_args)).args
    res = set(pattern)
    eqs = []
    solutions = {}
    for var, other in ((Qt, Q), (Q, Qt)):
        element = var(*pattern)
        deriv = element_diff(cf.qq_term, element, res) + average(
            element_diff(cf.single_neuron, element, res)
        )
        eqs.append(sp.Eq(deriv, 0))
        (sol,) = sp.solve(deriv, other(*pattern), dict=False)
        solutions[other] = sp.Eq(other(*pattern), sol)
    solution_q = solutions[Q]
    raw_qt = solutions[Qt]
    solution_qt = sp.Eq(
        raw_qt.lhs,
        raw_qt.rhs.replace(
            lambda e: isinstance(e, Average) and _response_only(e), lambda e: sp.Integer(0)
        ),
    )
    if solution_qt.rhs != 0:
        raise NnqftError(f"the conjugate field does not vanish at the saddle: {solution_qt}")
    gauss = simplify_sums(
        cf.single_neuron.replace(
            lambda e: isinstance(e, AppliedUndef) and e.func == Qt, lambda e: sp.Integer(0)
        )
    )
    quadratic = sp.Add(
        *[
            term
            for term in sp.Add.make_args(gauss)
            if sum(1 for a in term.atoms(AppliedUndef) if a.func == zt1) >= 1 and not term.has(z1)
        ]
    )
    # read C(t, s) off the quadratic form: C = d^2 s / dzt(t) dzt(s')
    if rep is None:
        e1, e2 = zt1(t), zt1(s)
    else:
        e1, e2 = zt1(t, alpha), zt1(s, beta)
    cov = _symmetric_q(element_diff(element_diff(quadratic, e1, {s, beta}), e2, {t, alpha}))
    cov = sp.factor(cov)
    xi = sp.IndexedBase("xi")
    ind = (t,) if rep is None else (t, alpha)
    pr = (s,) if rep is None else (s, beta)
    lims = ((1, net.depth),) if rep is None else ((1, net.depth), (1, 2))
    family = GaussianFamily(xi, ind, pr, lims, cov)
    rule = gaussian_average(zt1(*ind), family)
    if normal_form(_symmetric_q(simplify_sums(rule))) != normal_form(quadratic):
        raise NnqftError("the quadratic form is not the Gaussian rule of the covariance read off")
    gaussian_rule = sp.Eq(quadratic, rule, evaluate=False)
    covariance = sp.Eq(Average(z1(*ind) * z1(*pr)), cov)
    # Q at the saddle, in place of Q in C
    pat = solution_q.lhs.args

    def at_saddle(e):
        mapping = {}
        for p, a in zip(pat, e.args):
            if p in mapping and mapping[p] != a:
                raise NnqftError(f"{e} is outside the collective fields of this network")
            mapping[p] = a
        return solution_q.rhs.xreplace(mapping)

    two_time = sp.Eq(
        qf(*(pr[:0] + (t, s) + ((alpha, beta) if rep is not None else ()))),
        cov.replace(lambda e: isinstance(e, AppliedUndef) and e.func == Q, at_saddle),
    )

    # equal times; the law of z(t-1) is the mean-field covariance at t-1
    def var_single(f, g):
        return qf(f.args[0])

    def var_rep(f, g):
        return qf(f.args[0], f.args[1], g.args[1])

    if rep is None:
        rhs = two_time.rhs.xreplace({s: t})
        equal = (sp.Eq(qf(t), _gaussian_means(rhs, var_single)),)
        maps = {"length": equal[0].rhs.xreplace({qf(t - 1): S.q})}
        init = sp.Eq(qf(1), cf.initial.rhs + net.sigma_b2)
    else:
        equal = []
        for a_, b_ in ((1, 1), (2, 2), (1, 2)):
            rhs = two_time.rhs.xreplace({s: t, alpha: a_, beta: b_})
            equal.append(sp.Eq(qf(t, a_, b_), _gaussian_means(rhs, var_rep)))
        equal = tuple(equal)
        prev = {qf(t - 1, 1, 1): S.q11, qf(t - 1, 2, 2): S.q22, qf(t - 1, 1, 2): S.q12}
        maps = {
            "length": equal[0].rhs.xreplace({qf(t - 1, 1, 1): S.q}),
            "correlation": equal[2].rhs.xreplace(prev),
        }
        init = sp.Eq(qf(1, alpha, beta), cf.initial.rhs + net.sigma_b2)
    return SaddlePoint(
        stationarity=tuple(eqs),
        solution_q=solution_q,
        solution_qt=solution_qt,
        gaussian_action=gauss,
        gaussian_rule=gaussian_rule,
        covariance=covariance,
        two_time=two_time,
        equal_time=equal,
        maps=maps,
        initial=init,
    )


# --- two replicas: the distance recursion and the Lyapunov exponent -----------------------


@dataclass(frozen=True)
class DistanceRecursion:
    """Two replicas with the same weights, linearised about coincidence (docs/conventions.md §3).

    ``distance``: d = q11 + q22 - 2 q12; ``linearised``: d(t) = chi_1 d(t-1) + O(d^2);
    ``chi_1``: sigma_w2 int Dz phi'(sqrt(q*) z)^2 as derived; ``solution``: d(t) = chi_1^t d(0);
    ``lyapunov``: lambda_max = lim ln(d(t)/d(0))/(2t) = ln(chi_1)/2; ``critical``: chi_1 = 1;
    ``ordered`` / ``chaotic``: the sets of chi_1 where lambda_max < 0 / > 0.
    """

    distance: sp.Eq
    fixed_point: sp.Eq
    linearised: sp.Eq
    chi_1: sp.Expr
    solution: sp.Eq
    lyapunov: sp.Eq
    critical: sp.Eq
    ordered: sp.Basic
    chaotic: sp.Basic


@functools.lru_cache(maxsize=64)
def distance_recursion(net: Network) -> DistanceRecursion:
    """Derive chi_1 and lambda_max = (1/2) ln chi_1 from the two-replica saddle point.

    >>> dr = distance_recursion(Network("feedforward", "tanh"))
    >>> dr.lyapunov.rhs
    log(chi_1)/2
    >>> dr.critical
    Eq(chi_1, 1)
    """
    sp2 = saddle_point(net, replicas=2)
    F, L = sp2.maps["correlation"], sp2.maps["length"]
    t = TIME[0]
    eps = sp.Symbol("epsilon")
    d_prev = d(t - 1)
    distance = sp.Eq(d(t), qf(t, 1, 1) + qf(t, 2, 2) - 2 * qf(t, 1, 2))
    fixed = sp.Eq(q_star, L.xreplace({S.q: q_star}))
    # both replicas at the fixed point, q12(t-1) = q* - d(t-1)/2
    near = F.xreplace({S.q11: q_star, S.q22: q_star}).xreplace({S.q12: q_star - eps})
    new_d = 2 * fixed.rhs - 2 * near  # q11 + q22 - 2 q12 one step later
    order0 = sp.simplify(new_d.xreplace({eps: 0}))
    if order0 != 0:
        raise NnqftError(f"coincident replicas do not stay coincident: {order0}")
    slope = sp.diff(new_d, eps).xreplace({eps: 0}).doit()
    chi = sp.expand(slope / 2)
    linearised = sp.Eq(d(t), chi * d_prev)
    d0 = sp.Symbol("d_0", positive=True)
    tt = sp.Symbol("t", integer=True, nonnegative=True)
    dd = sp.Function("d")
    sol = sp.rsolve(dd(tt) - chi_1 * dd(tt - 1), dd(tt), {dd(0): d0})
    solution = sp.Eq(dd(tt), sol)
    lam = sp.limit(sp.expand_log(sp.log(sol / d0), force=True) / (2 * tt), tt, sp.oo)
    lyapunov = sp.Eq(lambda_max, lam)
    (crit,) = sp.solve(sp.Eq(lam, 0), chi_1)
    ordered = _symbol_first(sp.solve_univariate_inequality(lam < 0, chi_1, relational=True))
    chaotic = _symbol_first(sp.solve_univariate_inequality(lam > 0, chi_1, relational=True))
    return DistanceRecursion(
        distance=distance,
        fixed_point=fixed,
        linearised=linearised,
        chi_1=chi,
        solution=solution,
        lyapunov=lyapunov,
        critical=sp.Eq(chi_1, crit),
        ordered=ordered,
        chaotic=chaotic,
    )


def _symbol_first(rel):
    """Write a relation as 'chi_1 > 1' rather than '1 < chi_1'."""
    if isinstance(rel, sp.core.relational.Relational) and rel.lhs.is_number:
        return rel.reversed
    return rel
