"""The MSRDJ field theory of a random network, derived by the engine (docs/conventions.md §2-3).

Fields are sympy objects: the network's pre-activations ``z[i, t]`` and response fields
``zt[i, t]`` (printed z_i(t) and \\tilde z_i(t)) are :class:`sympy.IndexedBase` entries, a
replica index is a third index (``z[i, t, alpha]``), sums are :class:`sympy.Sum`; after the
neurons decouple the single-neuron fields are functions ``z(t)``, ``zt(t)``.

**Sign convention.** The update rule is enforced by
``1 = int dz dzt/(2 pi i) exp(-zt (z - W phi - b))`` with ``zt`` integrated along the
imaginary axis, so the action is ``S = -sum_{i,t} zt_i(t) (z_i(t) - sum_j W_ij(t)
phi(z_j(t-1)) - b_i(t))`` and the weight enters as ``+W zt phi``.  With this sign the
disorder average adds ``+1/2 a^T C a`` to the exponent (see :func:`gaussian_average`).

Nothing below is typed in: the disorder average is the generic Gaussian rule
``<exp(sum_k a_k x_k)> = exp(1/2 sum_kl a_k C_kl a_l)`` applied to the coefficient of the
disorder variables that the engine reads off the action; Kronecker deltas are contracted,
sums merged and factorised into neuron traces by the small index algebra of this module.

>>> from nnqft.rules.network import Network
>>> net = Network("feedforward", "tanh")
>>> vertex = disorder_average(net)
>>> sp.srepr(vertex).count("KroneckerDelta")     # every delta has been contracted
0
>>> sorted(str(v) for v in saddle_point(net).maps["length"].free_symbols)
['q', 'sigma_b2', 'sigma_w2']
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from ..errors import InvalidParameter, NnqftError
from . import symbols as S
from .network import Network

__all__ = [
    "SIGN_CONVENTION",
    "SIGN_CONVENTION_TEXT",
    "PHI_OF_INPUT",
    "GaussianFamily",
    "GaussianMean",
    "BivariateGaussianMean",
    "Average",
    "DisorderAverage",
    "PathIntegral",
    "update_rule",
    "msrdj_action",
    "disorder_families",
    "linear_coefficient",
    "gaussian_average",
    "normal_form",
    "simplify_sums",
    "element_diff",
    "disorder_average",
    "averaged_action",
    "CollectiveFields",
    "collective_fields",
    "SaddlePoint",
    "saddle_point",
    "DistanceRecursion",
    "distance_recursion",
    "specialise",
    "numeric_function_of",
]

#: the one sign convention for the response field, stated in every derivation
SIGN_CONVENTION = (
    r"The response field $\tilde z$ is integrated along the imaginary axis and enters as "
    r"$e^{-\tilde z\,(z - W\phi - b)}$, so a Gaussian average adds $+\frac12 a^{\mathsf T} C a$ "
    r"to the exponent."
)

#: the same convention in plain text (for terminals and JSON)
SIGN_CONVENTION_TEXT = (
    "zt is integrated along the imaginary axis and enters as exp(-zt (z - W phi - b)), "
    "so a Gaussian average adds +1/2 a^T C a to the exponent"
)

# --- symbols -----------------------------------------------------------------------------

_idx = dict(integer=True, positive=True)
#: index pools by kind; the kind of a summation index is read off its upper limit
NEURON = tuple(sp.Symbol(n, **_idx) for n in "ijklmn")
TIME = tuple(sp.Symbol(n, **_idx) for n in "tsuvrp")
REPLICA = tuple(sp.Symbol(n, **_idx) for n in ("alpha", "beta", "gamma", "delta"))

z = sp.IndexedBase("z")  #: pre-activation z_i(t)
zt = sp.IndexedBase("zt")  #: response field \tilde z_i(t)
W = sp.IndexedBase("W")  #: weights W_ij(t)
b = sp.IndexedBase("b")  #: biases b_i(t)
x = sp.IndexedBase("x")  #: the input x_j
phi = sp.Function("phi")  #: the activation, kept abstract until :func:`specialise`
K = sp.Function("K")  #: time structure of the weight covariance
B = sp.Function("B")  #: time structure of the bias covariance
Q = sp.Function("Q")  #: collective field Q(t, s) (with replicas Q(t, s, alpha, beta))
Qt = sp.Function("Qt")  #: its conjugate \tilde Q(t, s)
z1 = sp.Function("z")  #: single-neuron field z(t) (z(t, alpha) with replicas)
zt1 = sp.Function("zt")  #: single-neuron response field
qf = sp.Function("q")  #: the mean-field covariance q(t, s) (q(t, s, alpha, beta))
d = sp.Function("d")  #: squared distance of two replicas, d(t)
S_eff = sp.Symbol("S_eff")  #: the action of the collective fields (printed S[Q, Qt])
Z_1 = sp.Symbol("Z_1")  #: the single-neuron partition function
chi_1 = sp.Symbol("chi_1", positive=True)
lambda_max = sp.Symbol("lambda_max", real=True)
q_star = sp.Symbol("q_star", positive=True)
u = sp.Symbol("u", real=True)
u1, u2 = sp.symbols("u1 u2", real=True)
#: the input convention of docs/conventions.md §1: phi is not applied to the input
PHI_OF_INPUT = sp.Eq(phi(z[NEURON[1], 0]), x[NEURON[1]])


class PathIntegral(sp.Function):
    """``int D(fields) exp(exponent)``: args (exponent, *field bases)."""

    @classmethod
    def eval(cls, *args):
        return None


class DisorderAverage(sp.Function):
    """``<expr>_{W,b}``: the average over the weights and biases."""

    nargs = 1


class Average(sp.Function):
    """``<expr>``: the average in the single-neuron theory at the saddle point."""

    nargs = 1


class GaussianMean(sp.Function):
    """``int Dz f(sqrt(v) z)``, i.e. E[f(u)] for u ~ N(0, v); args (Lambda(u, f), v).

    Differentiation uses the heat equation dE[f]/dv = E[f'']/2, so sympy's chain rule
    works through it; at v = 0 it is f(0).

    >>> g = GaussianMean(sp.Lambda(u, u**2), S.q)
    >>> sp.diff(g, S.q)
    1
    """

    nargs = 2

    @classmethod
    def eval(cls, f, v):
        if not isinstance(f, sp.Lambda):
            raise InvalidParameter("GaussianMean needs a sympy Lambda as its first argument")
        if v.is_zero:
            return f.expr.subs(f.variables[0], 0)
        if not f.expr.has(*f.variables):
            return f.expr
        if f.expr.is_polynomial(*f.variables):
            (var,) = f.variables
            poly = sp.Poly(f.expr, var)
            return sum(
                c * (v ** (k // 2) * sp.factorial2(k - 1) if k % 2 == 0 else 0)
                for (k,), c in poly.terms()
            )
        return None

    def fdiff(self, argindex=2):
        f, v = self.args
        if argindex != 2:
            raise sp.ArgumentIndexError(self, argindex)
        (var,) = f.variables
        return GaussianMean(sp.Lambda(var, sp.diff(f.expr, var, 2) / 2), v)


class BivariateGaussianMean(sp.Function):
    """E[f(u1, u2)] for (u1, u2) ~ N(0, [[v1, c], [c, v2]]); args (Lambda((u1, u2), f), v1, v2, c).

    Differentiation follows Price's theorem: dE/dc = E[d1 d2 f], dE/dv1 = E[d1^2 f]/2.
    Coincident arguments (v1 = v2 = c) collapse it to a single :class:`GaussianMean`.

    >>> f = sp.Lambda((u1, u2), phi(u1) * phi(u2))
    >>> sp.diff(BivariateGaussianMean(f, S.q11, S.q22, S.q12), S.q12).args[0].expr
    Derivative(phi(u1), u1)*Derivative(phi(u2), u2)
    """

    nargs = 4

    @classmethod
    def eval(cls, f, v1, v2, c):
        if not isinstance(f, sp.Lambda) or len(f.variables) != 2:
            raise InvalidParameter("BivariateGaussianMean needs a Lambda of two variables")
        if v1 == v2 == c:
            a, bb = f.variables
            return GaussianMean(sp.Lambda(u, f.expr.xreplace({a: u, bb: u}).doit()), v1)
        return None

    def fdiff(self, argindex=4):
        f, v1, v2, c = self.args
        a, bb = f.variables
        body = {
            2: sp.diff(f.expr, a, 2) / 2,
            3: sp.diff(f.expr, bb, 2) / 2,
            4: sp.diff(f.expr, a, bb),
        }.get(argindex)
        if body is None:
            raise sp.ArgumentIndexError(self, argindex)
        return BivariateGaussianMean(sp.Lambda((a, bb), body), v1, v2, c)


# --- the network and its action ------------------------------------------------------------


def _replicas(replicas: int):
    if not isinstance(replicas, int) or replicas not in (1, 2):
        raise InvalidParameter(f"replicas must be 1 or 2, got {replicas!r}")
    return REPLICA[0] if replicas == 2 else None


def _field(base, i, t, a=None):
    return base[i, t] if a is None else base[i, t, a]


def update_rule(net: Network, time_resolved: bool = False) -> sp.Eq:
    """The network's update rule z_i(t) = sum_j W_ij phi(z_j(t-1)) + b_i as an equation.

    ``time_resolved`` writes the recurrent weights as W_ij(t) (equal for all t), the form
    the action uses; the input enters through :data:`PHI_OF_INPUT`.

    >>> update_rule(Network("recurrent", "tanh", bias="shared"))
    Eq(z[i, t], b[i] + Sum(phi(z[j, t - 1])*W[i, j], (j, 1, N)))
    """
    i, j = NEURON[:2]
    t = TIME[0]
    rec = net.arch == "recurrent" and not time_resolved
    w = W[i, j] if rec else W[i, j, t]
    bias = b[i] if rec and net.bias == "shared" else b[i, t]
    return sp.Eq(z[i, t], sp.Sum(w * phi(z[j, t - 1]), (j, 1, net.width)) + bias)


def msrdj_action(net: Network, replicas: int = 1) -> sp.Expr:
    """The MSRDJ action S = -sum_{i,t} zt_i(t) (z_i(t) - sum_j W_ij(t) phi(z_j(t-1)) - b_i(t)).

    With ``replicas=2`` two copies of the network (two inputs, the same W and b) carry a
    replica index alpha.  Z = int Dz Dzt exp(S) (sign convention: :data:`SIGN_CONVENTION`).

    >>> msrdj_action(Network("feedforward", "tanh")).limits
    ((i, 1, N), (t, 1, T))
    """
    a = _replicas(replicas)
    i, j = NEURON[:2]
    t = TIME[0]
    pre = sp.Sum(W[i, j, t] * phi(_field(z, j, t - 1, a)), (j, 1, net.width))
    summand = -_field(zt, i, t, a) * (_field(z, i, t, a) - pre - b[i, t])
    limits = [(i, 1, net.width), (t, 1, net.depth)] + ([(a, 1, 2)] if a is not None else [])
    return sp.Sum(summand, *limits)


@dataclass(frozen=True)
class GaussianFamily:
    """Centred Gaussian variables ``base[indices]`` with covariance ``covariance`` between
    ``base[indices]`` and ``base[primed]`` (an expression in both index tuples)."""

    base: sp.IndexedBase
    indices: tuple
    primed: tuple
    limits: tuple  # (lower, upper) per index
    covariance: sp.Expr

    def moment(self) -> sp.Eq:
        """E[x_k x_k'] = C(k, k') as an equation (printed with the disorder average)."""
        return sp.Eq(
            DisorderAverage(self.base[self.indices] * self.base[self.primed]), self.covariance
        )


def disorder_families(net: Network, generic: bool = False) -> tuple[GaussianFamily, ...]:
    """The weights and biases as Gaussian families (docs/conventions.md §1).

    E[W_ij(t) W_kl(s)] = (sigma_w2/N) d_ik d_jl K(t,s), E[b_i(t) b_k(s)] = sigma_b2 d_ik B(t,s)
    with K = B = delta for feedforward nets, K = 1 for recurrent nets (one W for all t) and
    B = 1 (shared bias) or delta (fresh bias).  ``generic`` keeps K and B as functions.

    >>> disorder_families(Network("recurrent", "tanh", bias="fresh"))[1].covariance
    sigma_b2*KroneckerDelta(i, k)*KroneckerDelta(s, t)
    """
    i, j, k, l = NEURON[:4]
    t, s = TIME[:2]
    n = net.width
    if generic:
        kt, bt = K(t, s), B(t, s)
    else:
        delta = sp.KroneckerDelta(t, s)
        kt = delta if net.arch == "feedforward" else sp.Integer(1)
        bt = sp.Integer(1) if net.bias == "shared" else delta
    wf = GaussianFamily(
        W,
        (i, j, t),
        (k, l, s),
        ((1, n), (1, n), (1, net.depth)),
        net.sigma_w2 / n * sp.KroneckerDelta(i, k) * sp.KroneckerDelta(j, l) * kt,
    )
    bf = GaussianFamily(
        b,
        (i, t),
        (k, s),
        ((1, n), (1, net.depth)),
        net.sigma_b2 * sp.KroneckerDelta(i, k) * bt,
    )
    return wf, bf


# --- the index algebra ---------------------------------------------------------------------


def _pool_for(upper) -> tuple:
    if upper == S.N or (getattr(upper, "is_Symbol", False) and upper.name == "N"):
        return NEURON
    if upper == S.T or (getattr(upper, "is_Symbol", False) and upper.name == "T"):
        return TIME
    if upper.is_Integer and int(upper) <= 4:
        return REPLICA
    # a numeric width or depth: decide by the symbol names the network uses
    return NEURON


def _pool_of(lim) -> tuple:
    """The kind of a summation index: by the pool its name comes from (the engine only
    sums over pool symbols and their numbered fresh copies), else by its upper limit."""
    var, _, upper = lim
    for pool in (NEURON, TIME, REPLICA):
        if var in pool or re.fullmatch(rf"{pool[0].name}\d+", var.name):
            return pool
    return _pool_for(upper)


def _fresh(pool: tuple, used: set) -> sp.Symbol:
    for sym in pool:
        if sym not in used:
            return sym
    for n in itertools.count(1):
        sym = sp.Symbol(f"{pool[0].name}{n}", **_idx)
        if sym not in used:
            return sym
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class _Term:
    """One flat term: sum over ``limits`` (innermost first) of ``summand`` (a monomial)."""

    limits: tuple
    summand: sp.Expr

    @property
    def dummies(self) -> tuple:
        return tuple(lim[0] for lim in self.limits)


def _rename(term: _Term, used: set) -> _Term:
    """Rename the dummies of ``term`` that clash with ``used``; add the new ones to it."""
    mapping, limits = {}, []
    for var, lo, hi in term.limits:
        new = var
        if var in used:
            new = _fresh(_pool_of((var, lo, hi)), used | set(mapping.values()))
            mapping[var] = new
        used.add(new)
        limits.append((new, lo, hi))
    return _Term(tuple(limits), term.summand.xreplace(mapping) if mapping else term.summand)


def _flat(expr: sp.Expr, reserved: set) -> list[_Term]:
    if isinstance(expr, sp.Sum):
        out = []
        for inner in _flat(expr.function, reserved | {v for v, *_ in expr.limits}):
            out.append(
                _Term(inner.limits + tuple(tuple(lim) for lim in expr.limits), inner.summand)
            )
        return out
    if isinstance(expr, sp.Add):
        return [t for arg in expr.args for t in _flat(arg, reserved)]
    if isinstance(expr, sp.Mul):
        combos = [_Term((), sp.Integer(1))]
        for arg in expr.args:
            new = []
            for left in combos:
                for right in _flat(arg, reserved):
                    used = set(reserved) | set(left.dummies) | left.summand.free_symbols
                    used |= arg.free_symbols
                    right = _rename(right, used)
                    new.append(_Term(left.limits + right.limits, left.summand * right.summand))
            combos = new
        return combos
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp > 1 and expr.base.has(sp.Sum):
        return _flat(sp.Mul(*([expr.base] * int(expr.exp)), evaluate=False), reserved)
    return [_Term((), expr)]


def _monomials(term: _Term) -> list[_Term]:
    expanded = sp.expand(term.summand)
    return [_Term(term.limits, m) for m in sp.Add.make_args(expanded) if m != 0]


def _contract(term: _Term) -> _Term:
    """Sum out Kronecker deltas whose argument is a summation index."""
    limits, summand = list(term.limits), term.summand
    changed = True
    while changed:
        changed = False
        for delta in summand.atoms(sp.KroneckerDelta):
            dummies = [lim[0] for lim in limits]
            a, c = delta.args
            for gone, stay in ((c, a), (a, c)):
                if gone in dummies:
                    summand = summand.xreplace({delta: sp.Integer(1)}).xreplace({gone: stay})
                    limits = [lim for lim in limits if lim[0] != gone]
                    changed = True
                    break
            if changed:
                break
    return _Term(tuple(limits), summand)


def _drop_unused(term: _Term) -> _Term:
    """Sums whose index does not appear give a factor (upper - lower + 1)."""
    factor, limits = sp.Integer(1), []
    for var, lo, hi in term.limits:
        if term.summand.has(var):
            limits.append((var, lo, hi))
        else:
            factor *= hi - lo + 1
    return _Term(tuple(limits), factor * term.summand)


_PRIORITY = {"zt": 0, "z": 1, "phi": 2, "x": 3}


def _factor_rank(f) -> int:
    for node in sp.preorder_traversal(f):
        if isinstance(node, sp.Indexed):
            return _PRIORITY.get(str(node.base), 4)
        if isinstance(node, AppliedUndef):
            return _PRIORITY.get(node.func.__name__, 4)
    return 5


def _canonical(term: _Term, reserved: set) -> _Term:
    """Rename dummies canonically: of all renamings within each kind, the one whose sorted
    factor list (response fields first) reads smallest, so equal terms compare equal."""
    kinds: dict[str, list] = {}
    for lim in term.limits:
        kinds.setdefault(_pool_of(lim)[0].name, []).append(lim)
    used = set(reserved) | (term.summand.free_symbols - set(term.dummies))
    targets = {}
    for kind, lims in kinds.items():
        names = []
        for _ in lims:
            names.append(_fresh(_pool_of(lims[0]), used | set(names)))
        targets[kind] = names
    placeholders = {
        kind: [sp.Symbol(f"_{kind}{k}", **_idx) for k in range(len(lims))]
        for kind, lims in kinds.items()
    }
    best = None
    for perms in itertools.product(*[itertools.permutations(lims) for lims in kinds.values()]):
        mapping = {}
        for kind, perm in zip(kinds, perms):
            mapping.update({lim[0]: ph for lim, ph in zip(perm, placeholders[kind])})
        renamed = term.summand.xreplace(mapping)
        key = sorted((_factor_rank(f), str(f)) for f in sp.Mul.make_args(renamed))
        if best is None or key < best[0]:
            best = (key, mapping)
    final = {}
    for kind in kinds:
        for ph, name in zip(placeholders[kind], targets[kind]):
            final[ph] = name
    mapping = {var: final[ph] for var, ph in best[1].items()} if best else {}
    limits = [(mapping[v], lo, hi) for v, lo, hi in term.limits]
    rank = {"i": 0, "t": 1, "alpha": 2}
    limits.sort(key=lambda lim: (rank.get(_pool_of(lim)[0].name, 3), _order(lim[0])))
    return _Term(tuple(limits), term.summand.xreplace(mapping))


def _order(sym) -> int:
    for pool in (NEURON, TIME, REPLICA):
        if sym in pool:
            return pool.index(sym)
    return 99


def normal_form(expr: sp.Expr, reserved=()) -> list[_Term]:
    """Flat, delta-contracted, canonically renamed monomial terms of ``expr``, merged.

    Two expressions are equal as sums over indices when their normal forms are equal.
    """
    reserved = set(reserved) | expr.free_symbols
    merged: dict[tuple, sp.Expr] = {}
    for term in _flat(expr, reserved):
        for mono in _monomials(term):
            mono = _drop_unused(_contract(mono))
            for part in _monomials(mono):
                canon = _canonical(part, reserved)
                # split the summand into an index-free coefficient and the index-carrying rest
                coeff, rest = sp.Integer(1), sp.Integer(1)
                for f in sp.Mul.make_args(canon.summand):
                    if f.has(sp.Indexed, AppliedUndef, *canon.dummies):
                        rest *= f
                    else:
                        coeff *= f
                key = (canon.limits, rest)
                merged[key] = merged.get(key, sp.Integer(0)) + coeff
    return [_Term(lims, sp.factor(c) * rest) for (lims, rest), c in merged.items() if c != 0]


def _is_neuron(lim) -> bool:
    return _pool_of(lim) is NEURON


def _factorised(term: _Term) -> sp.Expr:
    """Write one flat term as sums over time/replica of products of neuron traces."""
    neuron = [lim for lim in term.limits if _is_neuron(lim)]
    outer = [lim for lim in term.limits if not _is_neuron(lim)]
    factors = list(sp.Mul.make_args(term.summand))
    groups: list[tuple[set, list]] = []  # (neuron indices, factors)
    loose = []
    for f in factors:
        idx = {lim[0] for lim in neuron if f.has(lim[0])}
        if not idx:
            loose.append(f)
            continue
        joined = [g for g in groups if g[0] & idx]
        for g in joined:
            groups.remove(g)
            idx |= g[0]
        groups.append((idx, [f] + [h for g in joined for h in g[1]]))
    traces = []
    for idx, fs in groups:
        lims = [lim for lim in neuron if lim[0] in idx]
        traces.append(sp.Sum(sp.Mul(*reversed(fs)), *lims))
    outer_vars = {lim[0] for lim in outer}
    const = sp.Mul(*[f for f in loose if not f.has(*outer_vars)]) if outer_vars else sp.Mul(*loose)
    inner = sp.Mul(*[f for f in loose if outer_vars and f.has(*outer_vars)]) * sp.Mul(*traces)
    return const * (sp.Sum(inner, *outer) if outer else inner)


def simplify_sums(expr: sp.Expr, reserved=(), merge: bool = True) -> sp.Expr:
    """Contract deltas, merge terms with the same sums and factorise neuron traces.

    With ``merge`` the terms sharing their sums (after canonical renaming) are written as
    one sum of a combined summand, e.g. sum_{t,s} (K Q + sigma_b2 B) zt zt.
    """
    terms = normal_form(expr, reserved)
    if not merge:
        return sp.Add(*[_factorised(t) for t in terms])
    by_shape: dict[tuple, list[_Term]] = {}
    for term in terms:
        fields = [f for f in sp.Mul.make_args(term.summand) if _is_field_factor(f)]
        rest = sp.Mul(*fields) if fields else None
        by_shape.setdefault((term.limits, rest), []).append(term)
    out = []
    for (limits, rest), group in by_shape.items():
        if rest is None or len(group) == 1:
            out.extend(_factorised(t) for t in group)
            continue
        coeffs = [sp.cancel(t.summand / rest) for t in group]
        out.append(_factorised(_Term(limits, sp.factor(sp.Add(*coeffs)) * rest)))
    return sp.Add(*out)


_FIELD_FUNCS = ("z", "zt", "phi")


def _is_field_factor(f) -> bool:
    """True for factors made of fields (z, zt, phi, as Indexed or single-neuron functions)."""
    for node in sp.preorder_traversal(f):
        if isinstance(node, sp.Indexed) and str(node.base) in ("z", "zt"):
            return True
        if isinstance(node, AppliedUndef) and node.func.__name__ in _FIELD_FUNCS:
            return True
    return False


def element_diff(expr: sp.Expr, element: sp.Expr, reserved=()) -> sp.Expr:
    """d expr / d element where ``expr`` holds sums over indices and ``element`` is one
    entry (``Q(t, s)``, ``zt(t)``, ``W[i, j, t]``) with free index symbols.

    Each occurrence X(e) in a summand contributes dsummand/dX(e) prod_k delta(e_k, e0_k);
    the deltas are then contracted.

    >>> t, s = TIME[:2]
    >>> element_diff(sp.Sum(Q(t, t) * zt1(t) ** 2, (t, 1, S.T)), Q(s, s))
    zt(s)**2
    """
    base = element.base if isinstance(element, sp.Indexed) else element.func
    target = tuple(element.indices if isinstance(element, sp.Indexed) else element.args)
    reserved = set(reserved) | element.free_symbols
    pieces = []
    for term in _flat(expr, reserved):
        term = _rename(term, set(reserved))
        occ = [
            a
            for a in term.summand.atoms(sp.Indexed, AppliedUndef)
            if (a.base if isinstance(a, sp.Indexed) else a.func) == base
        ]
        for a in occ:
            args = a.indices if isinstance(a, sp.Indexed) else a.args
            if len(args) != len(target):
                continue
            deltas = sp.Mul(*[sp.KroneckerDelta(e, e0) for e, e0 in zip(args, target)])
            dsum = sp.diff(term.summand, a)
            if dsum != 0:
                pieces.append(sp.Sum(dsum * deltas, *term.limits) if term.limits else dsum * deltas)
    if not pieces:
        return sp.Integer(0)
    return simplify_sums(sp.Add(*pieces), reserved)


def linear_coefficient(action: sp.Expr, family: GaussianFamily) -> tuple[sp.Expr, sp.Expr]:
    """Split ``action`` = sum_k a_k x_k + rest for the family's variables x; return (a, rest).

    ``a`` is an expression in the family's generic indices (sums over the action's other
    indices kept).  Raises :class:`NnqftError` if the action is not linear in the family.
    """
    reserved = set(family.indices) | set(family.primed)
    coeff, rest = [], []
    for term in _flat(action, reserved):
        for mono in _monomials(_rename(term, set(reserved))):
            occ = [a for a in mono.summand.atoms(sp.Indexed) if a.base == family.base]
            if not occ:
                rest.append(sp.Sum(mono.summand, *mono.limits) if mono.limits else mono.summand)
                continue
            if len(occ) != 1 or sp.degree(mono.summand, occ[0]) != 1:
                raise NnqftError(f"the action is not linear in {family.base}")
            (var,) = occ
            dummies = mono.dummies
            if any(e not in dummies for e in var.indices) or len(set(var.indices)) != len(
                var.indices
            ):
                raise NnqftError(f"{var} is not summed over all its indices")
            mapping = dict(zip(var.indices, family.indices))
            remaining = tuple(lim for lim in mono.limits if lim[0] not in mapping)
            body = sp.diff(mono.summand, var).xreplace(mapping)
            coeff.append(sp.Sum(body, *remaining) if remaining else body)
    return sp.Add(*coeff), sp.Add(*rest)


def gaussian_average(coefficient: sp.Expr, family: GaussianFamily) -> sp.Expr:
    """The Gaussian rule <exp(sum_k a_k x_k)> = exp(1/2 sum_{k,k'} a_k C_{kk'} a_k'),
    returned as the exponent 1/2 sum a C a (unsimplified: sums and deltas as they come).

    >>> fam = disorder_families(Network("feedforward", "tanh"))[1]
    >>> simplify_sums(gaussian_average(zt[fam.indices], fam))
    sigma_b2*Sum(zt[i, t]**2, (i, 1, N), (t, 1, T))/2
    """
    primed = coefficient.xreplace(dict(zip(family.indices, family.primed)))
    limits = [(v, lo, hi) for v, (lo, hi) in zip(family.indices, family.limits)]
    limits += [(v, lo, hi) for v, (lo, hi) in zip(family.primed, family.limits)]
    return sp.Rational(1, 2) * sp.Sum(coefficient * family.covariance * primed, *limits)


@functools.lru_cache(maxsize=64)
def disorder_average(net: Network, replicas: int = 1, generic: bool = False) -> sp.Expr:
    """The terms the average over W and b adds to the action, simplified.

    For one replica: (sigma_w2/2N) sum_{t,s} K(t,s) (zt(t).zt(s)) (phi(t-1).phi(s-1)) +
    (sigma_b2/2) sum_{t,s} B(t,s) zt(t).zt(s), with K and B contracted for ``net``.
    """
    action = msrdj_action(net, replicas)
    total = sp.Integer(0)
    for fam in disorder_families(net, generic):
        coeff, _ = linear_coefficient(action, fam)
        total += gaussian_average(coeff, fam)
    return simplify_sums(total, merge=False)


@functools.lru_cache(maxsize=64)
def averaged_action(net: Network, replicas: int = 1, generic: bool = False) -> sp.Expr:
    """The action after the disorder average: the W, b-free part plus :func:`disorder_average`."""
    action = msrdj_action(net, replicas)
    rest = action
    for fam in disorder_families(net, generic):
        _, rest = linear_coefficient(rest, fam)
    return simplify_sums(rest, merge=False) + disorder_average(net, replicas, generic)


# --- collective fields -------------------------------------------------------------------


def _is_phi_trace(expr) -> bool:
    return (
        isinstance(expr, sp.Sum)
        and len(expr.limits) == 1
        and _is_neuron(expr.limits[0])
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
        key = [tuple(_order(s) if isinstance(s, sp.Symbol) else 50 for s in p) for p in pairs]
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
    rep = _replicas(replicas)
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
    pair_limits = tuple(lim for lim in outer.limits if not _is_neuron(lim))
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
        neuron = [lim for lim in term.limits if _is_neuron(lim)]
        rest = tuple(lim for lim in term.limits if not _is_neuron(lim))
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
        fields = [f for f in sp.Mul.make_args(term) if _is_field_factor(f)]
        const = [f for f in sp.Mul.make_args(term) if not _is_field_factor(f)]
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
    rep = _replicas(replicas)
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


# --- a concrete activation ------------------------------------------------------------------


def _pattern(body: sp.Expr, variables) -> str | None:
    """Which kernel a Gaussian-mean body is: 'phi' (phi phi), 'dphi' (phi' phi') or None."""
    if len(variables) == 1:
        (v,) = variables
        pairs = {"phi": phi(v) ** 2, "dphi": sp.Derivative(phi(v), v) ** 2}
    else:
        a, c = variables
        pairs = {
            "phi": phi(a) * phi(c),
            "dphi": sp.Derivative(phi(a), a) * sp.Derivative(phi(c), c),
        }
    for name, form in pairs.items():
        if sp.simplify(body - form) == 0:
            return name
    return None


def specialise(expr: sp.Expr, activation, closed_form: bool = True) -> sp.Expr:
    """Put a concrete activation in place of phi.

    Gaussian means of phi phi and phi' phi' become the activation's closed-form kernels
    where they exist (and ``closed_form``); the others keep their integral with the
    concrete phi (evaluated by quadrature in :func:`numeric_function_of`).

    >>> from nnqft.rules.activations import get_activation
    >>> specialise(saddle_point(Network("feedforward", "relu")).maps["length"],
    ...            get_activation("relu"))
    q*sigma_w2/2 + sigma_b2
    """
    from .activations import get_activation

    act = get_activation(activation)
    lam = sp.Lambda(S.z, act.expr)

    def concrete(body):
        return body.replace(phi, lam).doit()

    def gm(f, v):
        kind = _pattern(f.expr, f.variables)
        if closed_form and kind is not None:
            kern = act.kernel if kind == "phi" else act.derivative_kernel
            if kern is not None:
                return sp.simplify(kern.subs({S.q11: v, S.q22: v, S.q12: v}))
        return GaussianMean(sp.Lambda(f.variables, concrete(f.expr)), v)

    def gm2(f, v1, v2, c):
        kind = _pattern(f.expr, f.variables)
        if closed_form and kind is not None:
            kern = act.kernel if kind == "phi" else act.derivative_kernel
            if kern is not None:
                return kern.subs({S.q11: v1, S.q22: v2, S.q12: c}, simultaneous=True)
        return BivariateGaussianMean(sp.Lambda(f.variables, concrete(f.expr)), v1, v2, c)

    out = expr.replace(lambda e: isinstance(e, GaussianMean), lambda e: gm(*e.args))
    out = out.replace(lambda e: isinstance(e, BivariateGaussianMean), lambda e: gm2(*e.args))
    return out.replace(phi, lam).doit() if out.has(phi) else out


def numeric_function_of(
    expr: sp.Expr, args: tuple, activation, nodes: int | None = None, use_kernels: bool = True
):
    """A vectorised numpy function of ``args`` for ``expr`` with a concrete activation.

    Closed-form kernels are used where they exist (and ``nodes`` is None); the remaining
    Gaussian means are evaluated by the quadratures of :mod:`nnqft.rules.activations`.
    ``use_kernels=False`` ignores the activation's kernels altogether and integrates the
    derived integrand itself by Gauss-Hermite quadrature (an independent route).

    >>> from nnqft.rules.network import Network
    >>> L = numeric_function_of(saddle_point(Network("feedforward", "relu")).maps["length"],
    ...                         (S.sigma_w2, S.sigma_b2, S.q), "relu")
    >>> float(L(2.0, 0.1, 1.5))
    1.6
    """
    import numpy as np
    from sympy.utilities.lambdify import implemented_function

    from .activations import (
        bivariate_gaussian_mean,
        gaussian_kernel,
        get_activation,
        mean_square,
        numeric_function,
    )

    act = get_activation(activation)
    spec = specialise(expr, act, closed_form=nodes is None and use_kernels)
    counter = itertools.count()

    def numeric_gm(e):
        f, v = e.args
        kind = _pattern_concrete(f, act) if use_kernels else None
        if kind is not None:
            fn = lambda var, k=kind: mean_square(act, var, k, nodes)  # noqa: E731
        else:
            g = numeric_function(f.expr, f.variables)
            fn = lambda var, g=g: _gm_numeric(g, var, nodes)  # noqa: E731
        return implemented_function(f"gm{next(counter)}", fn)(v)

    def numeric_gm2(e):
        f, v1, v2, c = e.args
        kind = _pattern_concrete(f, act) if use_kernels else None
        if kind is None:
            a, cc = f.variables
            parts_a = sp.Mul(*[p for p in sp.Mul.make_args(f.expr) if not p.has(cc)])
            parts_c = sp.Mul(*[p for p in sp.Mul.make_args(f.expr) if p.has(cc)])
            if parts_c.has(a):
                raise NnqftError(f"cannot evaluate the non-separable mean {e}")
            ga, gc = numeric_function(parts_a, (a,)), numeric_function(parts_c, (cc,))
            fn = lambda x1, x2, x12: bivariate_gaussian_mean(  # noqa: E731
                ga, gc, x1, x2, x12, nodes or 201
            )
        else:
            fn = lambda x1, x2, x12, k=kind: gaussian_kernel(  # noqa: E731
                act, x1, x2, x12, derivative=k, nodes=nodes
            )
        return implemented_function(f"gmb{next(counter)}", fn)(v1, v2, c)

    spec = spec.replace(lambda e: isinstance(e, GaussianMean), numeric_gm)
    spec = spec.replace(lambda e: isinstance(e, BivariateGaussianMean), numeric_gm2)
    f = sp.lambdify(args, spec, modules=["scipy", "numpy"])

    def call(*xs):
        return np.asarray(f(*xs), dtype=float) + 0.0 * sum(np.asarray(a, dtype=float) for a in xs)

    return call


def _gm_numeric(g, var, nodes):
    from .activations import gaussian_mean

    return gaussian_mean(g, var, nodes or 201)


def _pattern_concrete(f: sp.Lambda, act) -> int | None:
    """0 when the body is phi(u1) phi(u2) (or phi(u)^2) for this activation, 1 for phi' phi'."""
    vs = f.variables
    for k in (0, 1):
        g = act.derivative(k) if k else act.expr
        form = g.subs(S.z, vs[0]) ** 2 if len(vs) == 1 else g.subs(S.z, vs[0]) * g.subs(S.z, vs[1])
        if f.expr == form or sp.simplify(f.expr - form) == 0:
            return k
    return None
