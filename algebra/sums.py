"""The algebra of sums over indices: flatten, contract Kronecker deltas, rename dummies
canonically, merge, factorise into neuron traces, and differentiate by one entry.

A sum is a :class:`sympy.Sum` over indices of the kinds of :mod:`nnqft.algebra.indices`;
:func:`normal_form` writes it as flat monomial :class:`Term` objects (so two sums are equal
when their normal forms are), :func:`simplify_sums` writes it back as factorised sums.

>>> from nnqft.algebra.indices import NEURON, TIME
>>> i, j = NEURON[:2]
>>> t, s = TIME[:2]
>>> N, T = sp.symbols("N T", positive=True, integer=True)
>>> zt = sp.IndexedBase("zt")
>>> expr = sp.KroneckerDelta(t, s) * zt[i, t] * zt[i, s]
>>> simplify_sums(sp.Sum(expr, (i, 1, N), (t, 1, T), (s, 1, T)))
Sum(zt[i, t]**2, (i, 1, N), (t, 1, T))
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from .indices import (
    INDEX_ASSUMPTIONS,
    fresh_index,
    index_order,
    is_neuron,
    pool_of,
)

__all__ = [
    "Term",
    "FIELD_RANK",
    "FIELD_NAMES",
    "rename_apart",
    "flat_terms",
    "monomials",
    "normal_form",
    "simplify_sums",
    "is_field_factor",
    "element_diff",
]


@dataclass(frozen=True)
class Term:
    """One flat term: sum over ``limits`` (innermost first) of ``summand`` (a monomial).

    >>> from nnqft.algebra.indices import TIME
    >>> Term(((TIME[0], 1, sp.Symbol("T")),), sp.Symbol("x")).dummies
    (t,)
    """

    limits: tuple
    summand: sp.Expr

    @property
    def dummies(self) -> tuple:
        return tuple(lim[0] for lim in self.limits)


def rename_apart(term: Term, used: set) -> Term:
    """Rename the dummies of ``term`` that clash with ``used``; add the new ones to it.

    Parameters
    ----------
    term : Term
        A flat term (limits and summand).
    used : set of sympy.Symbol
        Names already taken; updated in place with the new dummies.

    Returns
    -------
    Term
        The same sum with clash-free dummies.

    Examples
    --------
    >>> from nnqft.algebra.indices import TIME
    >>> t = TIME[0]
    >>> rename_apart(Term(((t, 1, 3),), sp.Function("f")(t)), {t}).summand
    f(s)
    """
    mapping, limits = {}, []
    for var, lo, hi in term.limits:
        new = var
        if var in used:
            new = fresh_index(pool_of((var, lo, hi)), used | set(mapping.values()))
            mapping[var] = new
        used.add(new)
        limits.append((new, lo, hi))
    return Term(tuple(limits), term.summand.xreplace(mapping) if mapping else term.summand)


def flat_terms(expr: sp.Expr, reserved: set) -> list[Term]:
    """``expr`` as a list of flat terms (products of sums multiplied out, dummies renamed
    apart from each other and from ``reserved``).

    Parameters
    ----------
    expr : sympy.Expr
        An expression with sympy Sums.
    reserved : set of sympy.Symbol
        Free index names the dummies must avoid.

    Returns
    -------
    list of Term

    Examples
    --------
    >>> from nnqft.algebra.indices import TIME
    >>> t = TIME[0]
    >>> f = sp.Function("f")
    >>> [term.limits for term in flat_terms(sp.Sum(f(t), (t, 1, 3)) ** 2, set())]
    [((t, 1, 3), (s, 1, 3))]
    """
    if isinstance(expr, sp.Sum):
        out = []
        for inner in flat_terms(expr.function, reserved | {v for v, *_ in expr.limits}):
            out.append(Term(inner.limits + tuple(tuple(lim) for lim in expr.limits), inner.summand))
        return out
    if isinstance(expr, sp.Add):
        return [t for arg in expr.args for t in flat_terms(arg, reserved)]
    if isinstance(expr, sp.Mul):
        combos = [Term((), sp.Integer(1))]
        for arg in expr.args:
            new = []
            for left in combos:
                for right in flat_terms(arg, reserved):
                    used = set(reserved) | set(left.dummies) | left.summand.free_symbols
                    used |= arg.free_symbols
                    right = rename_apart(right, used)
                    new.append(Term(left.limits + right.limits, left.summand * right.summand))
            combos = new
        return combos
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp > 1 and expr.base.has(sp.Sum):
        return flat_terms(sp.Mul(*([expr.base] * int(expr.exp)), evaluate=False), reserved)
    return [Term((), expr)]


def monomials(term: Term) -> list[Term]:
    """The expanded summand of ``term`` split into one term per monomial.

    Parameters
    ----------
    term : Term
        A flat term.

    Returns
    -------
    list of Term
        One per monomial of the expanded summand, with the same limits.

    Examples
    --------
    >>> x, y = sp.symbols("x y")
    >>> [m.summand for m in monomials(Term((), (x + y) * x))]
    [x**2, x*y]
    """
    expanded = sp.expand(term.summand)
    return [Term(term.limits, m) for m in sp.Add.make_args(expanded) if m != 0]


def _contract(term: Term) -> Term:
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
    return Term(tuple(limits), summand)


def _drop_unused(term: Term) -> Term:
    """Sums whose index does not appear give a factor (upper - lower + 1)."""
    factor, limits = sp.Integer(1), []
    for var, lo, hi in term.limits:
        if term.summand.has(var):
            limits.append((var, lo, hi))
        else:
            factor *= hi - lo + 1
    return Term(tuple(limits), factor * term.summand)


#: the order of the factors in a canonical term, by the name of their field (response
#: fields first); the names are those of the network's fields (docs/conventions.md §2)
FIELD_RANK = {"zt": 0, "z": 1, "phi": 2, "x": 3}


def _factor_rank(f) -> int:
    for node in sp.preorder_traversal(f):
        if isinstance(node, sp.Indexed):
            return FIELD_RANK.get(str(node.base), 4)
        if isinstance(node, AppliedUndef):
            return FIELD_RANK.get(node.func.__name__, 4)
    return 5


def _canonical(term: Term, reserved: set) -> Term:
    """Rename dummies canonically: of all renamings within each kind, the one whose sorted
    factor list (response fields first) reads smallest, so equal terms compare equal."""
    kinds: dict[str, list] = {}
    for lim in term.limits:
        kinds.setdefault(pool_of(lim)[0].name, []).append(lim)
    used = set(reserved) | (term.summand.free_symbols - set(term.dummies))
    targets = {}
    for kind, lims in kinds.items():
        names = []
        for _ in lims:
            names.append(fresh_index(pool_of(lims[0]), used | set(names)))
        targets[kind] = names
    placeholders = {
        kind: [sp.Symbol(f"_{kind}{k}", **INDEX_ASSUMPTIONS) for k in range(len(lims))]
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
    limits.sort(key=lambda lim: (rank.get(pool_of(lim)[0].name, 3), index_order(lim[0])))
    return Term(tuple(limits), term.summand.xreplace(mapping))


def normal_form(expr: sp.Expr, reserved=()) -> list[Term]:
    """Flat, delta-contracted, canonically renamed monomial terms of ``expr``, merged.

    Two expressions are equal as sums over indices when their normal forms are equal.

    Parameters
    ----------
    expr : sympy.Expr
        An expression with sums over indices.
    reserved : iterable of sympy.Symbol, optional
        Free indices (kept, never used as dummies).

    Returns
    -------
    list of Term
        The merged terms, sorted; empty when ``expr`` is zero as a sum.

    Examples
    --------
    >>> from nnqft.algebra.indices import NEURON
    >>> i, j = NEURON[:2]
    >>> N = sp.Symbol("N", positive=True, integer=True)
    >>> x = sp.IndexedBase("x")
    >>> normal_form(sp.Sum(x[i], (i, 1, N)) - sp.Sum(x[j], (j, 1, N)))
    []
    """
    reserved = set(reserved) | expr.free_symbols
    merged: dict[tuple, sp.Expr] = {}
    for term in flat_terms(expr, reserved):
        for mono in monomials(term):
            mono = _drop_unused(_contract(mono))
            for part in monomials(mono):
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
    return [Term(lims, sp.factor(c) * rest) for (lims, rest), c in merged.items() if c != 0]


def _factorised(term: Term) -> sp.Expr:
    """Write one flat term as sums over time/replica of products of neuron traces."""
    neuron = [lim for lim in term.limits if is_neuron(lim)]
    outer = [lim for lim in term.limits if not is_neuron(lim)]
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

    Parameters
    ----------
    expr : sympy.Expr
        An expression with sums over indices.
    reserved : iterable of sympy.Symbol, optional
        Free indices.
    merge : bool, optional
        Combine terms with the same sums into one sum.

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> from nnqft.algebra.indices import NEURON
    >>> i, j = NEURON[:2]
    >>> N = sp.Symbol("N", positive=True, integer=True)
    >>> x = sp.IndexedBase("x")
    >>> simplify_sums(sp.Sum(x[i], (i, 1, N)) + 2 * sp.Sum(x[j], (j, 1, N)))
    3*Sum(x[i], (i, 1, N))
    """
    terms = normal_form(expr, reserved)
    if not merge:
        return sp.Add(*[_factorised(t) for t in terms])
    by_shape: dict[tuple, list[Term]] = {}
    for term in terms:
        fields = [f for f in sp.Mul.make_args(term.summand) if is_field_factor(f)]
        rest = sp.Mul(*fields) if fields else None
        by_shape.setdefault((term.limits, rest), []).append(term)
    out = []
    for (limits, rest), group in by_shape.items():
        if rest is None or len(group) == 1:
            out.extend(_factorised(t) for t in group)
            continue
        coeffs = [sp.cancel(t.summand / rest) for t in group]
        out.append(_factorised(Term(limits, sp.factor(sp.Add(*coeffs)) * rest)))
    return sp.Add(*out)


#: the names of the fields (as IndexedBase or single-neuron functions); phi only as a function
FIELD_NAMES = ("z", "zt", "phi")


def is_field_factor(f) -> bool:
    """True for factors made of fields (z, zt, phi, as Indexed or single-neuron functions).

    Parameters
    ----------
    f : sympy.Expr
        One factor of a product.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_field_factor(sp.Function("phi")(sp.Symbol("u"))), is_field_factor(sp.Symbol("q"))
    (True, False)
    """
    for node in sp.preorder_traversal(f):
        if isinstance(node, sp.Indexed) and str(node.base) in ("z", "zt"):
            return True
        if isinstance(node, AppliedUndef) and node.func.__name__ in FIELD_NAMES:
            return True
    return False


def element_diff(expr: sp.Expr, element: sp.Expr, reserved=()) -> sp.Expr:
    """d expr / d element where ``expr`` holds sums over indices and ``element`` is one
    entry (``Q(t, s)``, ``zt(t)``, ``W[i, j, t]``) with free index symbols.

    Each occurrence X(e) in a summand contributes dsummand/dX(e) prod_k delta(e_k, e0_k);
    the deltas are then contracted.

    Parameters
    ----------
    expr : sympy.Expr
        An expression with sums over indices.
    element : sympy.Expr
        The entry to differentiate by, with free index symbols.
    reserved : iterable of sympy.Symbol, optional
        Further free indices.

    Returns
    -------
    sympy.Expr
        The derivative, deltas contracted.

    Examples
    --------
    >>> from nnqft.algebra.indices import TIME
    >>> t, s = TIME[:2]
    >>> Q, zt = sp.Function("Q"), sp.Function("zt")
    >>> element_diff(sp.Sum(Q(t, t) * zt(t) ** 2, (t, 1, sp.Symbol("T"))), Q(s, s))
    zt(s)**2
    """
    base = element.base if isinstance(element, sp.Indexed) else element.func
    target = tuple(element.indices if isinstance(element, sp.Indexed) else element.args)
    reserved = set(reserved) | element.free_symbols
    pieces = []
    for term in flat_terms(expr, reserved):
        term = rename_apart(term, set(reserved))
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
