"""Feynman rules by expanding an action: the one route from an :class:`Action` to
:class:`~nnqft.rules.feynman.FeynmanRules` (docs/conventions.md §4, §6).

The weight exp(E), E = sign * S, is written as flat monomials (sums multiplied out,
deltas contracted, dummies renamed canonically: :func:`nnqft.algebra.sums.normal_form`).
Each monomial is a coefficient, the named time kernels it carries (``K(t, s)``) and its
legs (field, index, times).  Then, by degree:

* **degree 2 -- propagators.**  Write the quadratic part as E_2 = -1/2 X^T A X.  Without
  time (the O(N) model, zero-dimensional toys) A is a matrix over the fields (times d_ab)
  and the propagators are the entries of A^{-1}.  With time (MSRDJ) the part is
  -zt^T D z + 1/2 zt^T Sigma zt; the kinetic operator D = d delta_ts is inverted into the
  causal response line <z(t) zt(s)> = G_R = delta_ts / d (D is lower triangular in time,
  so is G_R: it vanishes for t < s), the noise term into the correlator line
  <z z> = G_R Sigma G_R^T = Sigma / d^2 (sigma_b2 B(t,s) for the network), <zt zt> = 0.
* **degree >= 3 -- vertices.**  The legs are ordered response fields first, then by the
  order of their times; the summed times are renamed t, s, u, ...  The vertex's
  :class:`~nnqft.rules.feynman.TimeStructure` is its kernel (the named kernels' values),
  leg times and summed times.  *Coupling convention*: the factor a diagram gets per vertex
  is c |H|, c the monomial's coefficient in E (the sign of exp(-S) or exp(S) included) and
  H the permutations of identical legs that keep the leg times (up to renaming the summed
  times, under which the kernel must be invariant): those are the 1/n! of the exponential's
  identical legs that the vertex absorbs; the other permutations relabel times, and the
  diagram generator draws them as distinct Wick contractions.  The index pairings (legs that
  share an index sum: Kronecker deltas, traces) are averaged over H.  So
  -(g/4!) (phi.phi)^2 gives -g with the three pairings 1/3 each (H = S_4, no times), and
  (sigma_w2/2N) K(t,s) (zt(t).zt(s)) (z(t-1).z(s-1)) gives sigma_w2/N with one pairing
  (H = {1, t <-> s}).

>>> from nnqft.rules.action.models import on_phi4_action
>>> rules = rules_from_action(on_phi4_action())
>>> rules.vertex("phi4").coupling, [str(w) for w, _ in rules.vertex("phi4").index_pairings]
(-g, ['1/3', '1/3', '1/3'])
>>> rules.propagator("phi").value, rules.derived_from
(1, 'action')

Design note: the collective-field action (issue 12).  After the neurons decouple,
S[Q, Qt] = N (-sum Qt Q + log Z_1[Qt]) is a theory of bilocal fields Q(t, s), Qt(t, s)
with no neuron index; its Feynman rules are the expansion of S about the saddle point:
the fluctuation fields are entries with two time slots (``slots = ("time", "time")``, a
leg's times a pair, rendered as a tuple in :class:`TimeStructure.legs`), the coefficients
are the single-neuron cumulants (:class:`~nnqft.rules.action.objects.GaussianMean` objects
are plain coefficients here: they carry no field), and the overall N is read off as the
coupling's 1/N counting (propagators ~ 1/N, vertices ~ N).  What this module needs for it:
the leg parser already keeps every time slot (:class:`Leg.times`) and the stabiliser H
renames any number of summed times; the missing step is the inversion of a Hessian whose
entries are kernels in (t, s, t', s') (here only D = d delta_ts is inverted), a hook in
:func:`_timed_propagators`.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from ..algebra.indices import TIME
from ..algebra.sums import normal_form
from ..errors import InvalidParameter, InvalidType
from .feynman import TIMES, FeynmanRules, Propagator, TimeStructure, Vertex

__all__ = ["Leg", "Monomial", "monomials_of", "vertex_of", "propagators_of", "rules_from_action"]


@dataclass(frozen=True)
class Leg:
    """One field factor of a monomial: the field's name, its index (None without one) and
    its times (one per time slot).

    >>> Leg("z", sp.Symbol("j"), (TIME[0] - 1,)).time
    t - 1
    """

    field: str
    index: sp.Expr | None
    times: tuple[sp.Expr, ...] = ()

    @property
    def time(self):
        """The leg's time: the one time slot, a tuple of several, None without time."""
        if not self.times:
            return None
        return self.times[0] if len(self.times) == 1 else sp.Tuple(*self.times)


@dataclass(frozen=True)
class Monomial:
    """One monomial of the weight exp(E): ``coefficient`` (sign included) times the named
    kernel factors times the legs, summed over ``limits``.

    >>> x = sp.Symbol("x")
    >>> Monomial(sp.Rational(-1, 2), (), (Leg("x", None), Leg("x", None)), ()).degree
    2
    """

    coefficient: sp.Expr
    kernels: tuple[sp.Expr, ...]
    legs: tuple[Leg, ...]
    limits: tuple

    @property
    def degree(self) -> int:
        """The number of legs."""
        return len(self.legs)

    @property
    def dummies(self) -> tuple:
        """The summed indices."""
        return tuple(lim[0] for lim in self.limits)


def _bad(what: str, term) -> InvalidParameter:
    return InvalidParameter(f"{what} in the action: {sp.sstr(term)}")


def _leg(action, entry, dummies) -> Leg:
    """The leg of a field entry ``phi[a]``, ``z[i, t]`` or a zero-dimensional ``x``."""
    name = str(entry.base) if isinstance(entry, sp.Indexed) else str(entry)
    indices = entry.indices if isinstance(entry, sp.Indexed) else ()
    if len(indices) != len(action.slots):
        raise InvalidParameter(
            f"field entry {entry} has {len(indices)} indices; the action's fields carry "
            f"({', '.join(action.slots)})"
        )
    index = None
    times = []
    for slot, value in zip(action.slots, indices):
        if slot == "index":
            if value not in dummies:
                raise _bad(f"the index {value} of {entry} is not summed", entry)
            index = value
        else:
            times.append(value)
    return Leg(name, index, tuple(times))


def monomials_of(action) -> list[Monomial]:
    """The monomials of the weight exp(sign * S) of ``action``.

    Raises InvalidParameter for a factor that is not a kernel, a coefficient or a
    non-negative integer power of a declared field (a function of a field, an unknown field).

    >>> from nnqft.rules.action.models import on_phi4_action
    >>> [(m.degree, m.coefficient) for m in monomials_of(on_phi4_action())]
    [(2, -1/2), (4, -g/24)]
    """
    names = set(action.field_names)
    kernels = {k for k, _ in action.kernels}
    out = []
    # normal_form merges terms by their index-carrying factors: zero-dimensional fields
    # (plain symbols) stay in the merged coefficient, so split each summand once more
    terms = [
        (term, summand)
        for term in normal_form(action.weight)
        for summand in sp.Add.make_args(sp.expand(term.summand))
    ]
    for term, summand in terms:
        dummies = set(term.dummies)
        coefficient, kernel, legs = sp.Integer(1), [], []
        for factor in sp.Mul.make_args(summand):
            base, power = factor.as_base_exp()
            head = base.base if isinstance(base, sp.Indexed) else base
            if isinstance(head, (sp.Symbol, sp.IndexedBase)) and str(head) in names:
                if not (power.is_Integer and power > 0):
                    raise _bad("a non-polynomial power of a field", factor)
                legs.extend([_leg(action, base, dummies)] * int(power))
            elif isinstance(base, AppliedUndef) and base.func in kernels and power == 1:
                kernel.append(base)
            elif isinstance(base, sp.Indexed) and not base.has(*[sp.Symbol(n) for n in names]):
                raise InvalidParameter(
                    f"unknown field {base.base} in the action (its fields: "
                    f"{', '.join(action.field_names)})"
                )
            elif factor.has(sp.Indexed, AppliedUndef, *dummies) or any(
                str(s) in names for s in factor.free_symbols
            ):
                raise _bad("a non-polynomial factor", factor)
            else:
                coefficient *= factor
        out.append(Monomial(coefficient, tuple(kernel), tuple(legs), term.limits))
    return out


def _kernel_value(action, factors) -> sp.Expr:
    """The product of the named kernels' values at their arguments."""
    values = dict(action.kernels)
    out = sp.Integer(1)
    for k in factors:
        out *= values[k.func].xreplace(dict(zip(TIMES, k.args)))
    return out


def _kernel_name(factors) -> str:
    return factors[0].func.__name__ if len(factors) == 1 else ""


def _index_structure(field) -> str:
    """``delta_ab`` for a field with index a (``1`` without an index)."""
    if not field.index:
        return "1"
    return f"delta_{field.index}{chr(ord(field.index[-1]) + 1)}"


# --- degree 2: the propagators ---------------------------------------------------------------


def _static_propagators(action, quadratic) -> tuple[Propagator, ...]:
    """Fields without time: the entries of A^{-1}, E_2 = -1/2 X^T A X."""
    names = action.field_names
    a = sp.zeros(len(names))
    for m in quadratic:
        first, second = m.legs
        if first.index != second.index:
            raise _bad("a quadratic term that is not diagonal in the index", m.legs)
        i, j = names.index(first.field), names.index(second.field)
        if i == j:
            a[i, i] -= 2 * m.coefficient
        else:
            a[i, j] -= m.coefficient
            a[j, i] -= m.coefficient
    if a.det() == 0:
        raise InvalidParameter(
            "the quadratic part of the action is degenerate: it has no propagator"
        )
    inverse = a.inv()
    out = []
    for i, j in itertools.combinations_with_replacement(range(len(names)), 2):
        value = sp.factor(inverse[i, j])
        if value == 0:
            continue
        fi, fj = action.fields[i], action.fields[j]
        out.append(
            Propagator(
                kind=fi.name if i == j else f"{fi.name}-{fj.name}",
                fields=(fi.name, fj.name),
                value=value,
                index_structure=_index_structure(fi),
                description=f"<{fi.name} {fj.name}>_0 = {sp.sstr(value)}: the inverse of "
                "the quadratic form",
            )
        )
    return tuple(out)


def _pair_kernel(action, m: Monomial) -> sp.Expr:
    """The time kernel k(t, s) of a quadratic monomial with its first leg at t, second at s."""
    if any(len(leg.times) != 1 for leg in m.legs):
        raise _bad("a quadratic term with other than one time per field", m.legs)
    (t1,), (t2,) = (leg.times for leg in m.legs)
    t, s = TIMES
    kernel = _kernel_value(action, m.kernels)
    if t1 == t2 and t1 in m.dummies:
        return kernel.xreplace({t1: t}) * sp.KroneckerDelta(t, s)
    if {t1, t2} <= set(m.dummies):
        return kernel.xreplace({t1: t, t2: s})
    raise _bad(
        "a quadratic term that is not local in time (only D = d delta_ts is inverted)", m.legs
    )


def _timed_propagators(action, quadratic) -> tuple[Propagator, ...]:
    """MSRDJ: E_2 = -zt^T D z + 1/2 zt^T Sigma zt per response pair; D = d delta_ts."""
    t, s = TIMES
    delta = sp.KroneckerDelta(t, s)
    pairs = dict(action.response)
    if set(pairs) | set(pairs.values()) != set(action.field_names):
        raise InvalidParameter(
            "a time-carrying action needs every field in a response pair (zt, z); "
            f"fields {', '.join(action.field_names)}, pairs {action.response}"
        )
    by_pair: dict[tuple, list] = {}
    for m in quadratic:
        legs = sorted(m.legs, key=lambda leg: leg.field not in pairs)  # response leg first
        m = Monomial(m.coefficient, m.kernels, tuple(legs), m.limits)
        by_pair.setdefault(tuple(leg.field for leg in legs), []).append(m)
    out = []
    for response, field in action.response:
        suffix = "" if len(action.response) == 1 else f"_{field}"
        kinetic = by_pair.pop((response, field), [])
        noise = by_pair.pop((response, response), [])
        if len(kinetic) != 1 or len(noise) > 1:
            raise InvalidParameter(
                f"the action needs one kinetic term {response} {field} and at most one "
                f"noise term {response} {response}; it has {len(kinetic)} and {len(noise)}"
            )
        (m,) = kinetic
        d_kernel = -m.coefficient * _pair_kernel(action, m)  # D(t, s): coefficient of zt(t) z(s)
        d = sp.simplify(d_kernel / delta)
        if d.has(t, s) or d == 0:
            raise _bad(
                "a kinetic term not diagonal in time (only D = d delta_ts is inverted)", m.legs
            )
        index = _index_structure(next(f for f in action.fields if f.name == field))
        # D is lower triangular (diagonal) in time, so is G_R = D^-1: causal, t >= s
        out.append(
            Propagator(
                kind="response" + suffix,
                fields=(response, field),
                value=sp.factor(1 / d),
                directed=True,
                index_structure=index,
                time=TimeStructure(delta, causal=sp.Ge(t, s)),
                description=f"<{field}_i(t) {response}_j(s)>_0 = G_R = D^-1 = d_ij d_ts"
                + ("" if d == 1 else f"/({sp.sstr(d)})")
                + f", read off the kinetic term; arrow {response} -> {field} (causal)",
            )
        )
        if noise:
            (n,) = noise
            kernel = _pair_kernel(action, n)
            swapped = kernel.xreplace({t: s, s: t})
            if sp.simplify(kernel - swapped) != 0:
                kernel = (kernel + swapped) / 2  # only the symmetric part of Sigma is seen
            value = sp.factor(2 * n.coefficient / d**2)
            out.append(
                Propagator(
                    kind="correlator" + suffix,
                    fields=(field, field),
                    value=value,
                    index_structure=index,
                    time=TimeStructure(kernel, _kernel_name(n.kernels)),
                    description=f"<{field}_i(t) {field}_j(s)>_0 = G_R Sigma G_R^T, read off "
                    f"the {response} {response} term",
                )
            )
    if by_pair:
        raise _bad("a quadratic term outside the MSRDJ form -zt D z + zt Sigma zt/2", list(by_pair))
    return tuple(out)


def propagators_of(action, quadratic) -> tuple[Propagator, ...]:
    """The free propagators from the quadratic monomials (see the module docstring).

    >>> from nnqft.rules.action.models import on_phi4_action
    >>> act = on_phi4_action()
    >>> propagators_of(act, [m for m in monomials_of(act) if m.degree == 2])[0].value
    1
    """
    if "time" in action.slots:
        return _timed_propagators(action, quadratic)
    return _static_propagators(action, quadratic)


# --- degree >= 3: the vertices ---------------------------------------------------------------


def _blocks(legs) -> list[tuple[int, ...]]:
    """Positions of the legs that share an index sum (one block per index)."""
    by_index: dict = {}
    for k, leg in enumerate(legs):
        if leg.index is not None:
            by_index.setdefault(leg.index, []).append(k)
    return [tuple(b) for b in by_index.values()]


def _pairing(blocks) -> tuple[tuple[int, int], ...]:
    """Blocks as Kronecker-delta pairs: each sorted block chained (a,b),(b,c)."""
    pairs = []
    for block in blocks:
        block = sorted(block)
        pairs.extend(zip(block, block[1:]))
    return tuple(sorted(pairs))


def _ordered_legs(action, m: Monomial):
    """Response legs first, then by field, then by the order of their summed times;
    the summed times renamed t, s, u, ... in that order."""
    rank = {
        name: (name not in dict(action.response), k) for k, name in enumerate(action.field_names)
    }
    order = {var: k for k, var in enumerate(m.dummies)}

    def key(leg):
        first = [
            order[x] for tm in leg.times for x in sorted(tm.free_symbols, key=str) if x in order
        ]
        return (rank[leg.field], first)

    legs = sorted(m.legs, key=key)
    seen = []
    for leg in legs:
        for tm in leg.times:
            for x in sorted(tm.free_symbols, key=lambda x: order.get(x, -1)):
                if x in order and x not in seen:
                    seen.append(x)
    for k in m.kernels:
        seen.extend(x for x in k.args if x in order and x not in seen)
    rename = dict(zip(seen, TIME))
    legs = [
        Leg(leg.field, leg.index, tuple(tm.xreplace(rename) for tm in leg.times)) for leg in legs
    ]
    kernels = tuple(k.xreplace(rename) for k in m.kernels)
    return legs, kernels, tuple(rename[x] for x in seen)


def _stabiliser(legs, summed, kernel) -> list[tuple[int, ...]]:
    """The permutations of identical legs that keep the leg times, up to a renaming of
    the summed times that keeps the kernel (H of the module docstring)."""
    groups: dict[str, list[int]] = {}
    for k, leg in enumerate(legs):
        groups.setdefault(leg.field, []).append(k)
    renamings = [dict(zip(summed, p)) for p in itertools.permutations(summed)]
    renamings = [r for r in renamings if kernel.xreplace(r) == kernel]
    out = []
    for choice in itertools.product(*[itertools.permutations(g) for g in groups.values()]):
        perm = list(range(len(legs)))
        for group, image in zip(groups.values(), choice):
            for position, old in zip(group, image):
                perm[position] = old
        if any(
            all(
                tuple(tm.xreplace(r) for tm in legs[k].times) == legs[perm[k]].times
                for k in range(len(legs))
            )
            for r in renamings
        ):
            out.append(tuple(perm))
    return out


def _kind(legs, blocks) -> str:
    counts = Counter(leg.field for leg in legs)
    if len(counts) == 1:
        ((name, n),) = counts.items()
        return f"{name}{n}"
    if blocks:
        words = {1: "single", 2: "double", 3: "triple"}
        return f"{words.get(len(blocks), f'{len(blocks)}-fold')}_trace"
    return "_".join(f"{name}{n}" if n > 1 else name for name, n in counts.items())


def _monomial_text(coefficient, kernels, legs, blocks) -> str:
    """The term of S as text, e.g. ``(g/24) (phi.phi)^2``."""

    def leg_text(leg):
        return leg.field + (f"({sp.sstr(leg.time).replace(' ', '')})" if leg.times else "")

    groups = [tuple(leg_text(legs[k]) for k in b) for b in blocks] or [
        (leg_text(leg),) for leg in legs
    ]
    parts = []
    for group, n in Counter(groups).items():
        text = f"({'.'.join(group)})" if len(group) > 1 else group[0]
        parts.append(text + (f"^{n}" if n > 1 else ""))
    kernel = [sp.sstr(k).replace(" ", "") for k in kernels]
    return " ".join([f"({sp.sstr(coefficient)})", *kernel, *parts])


def vertex_of(action, m: Monomial) -> Vertex:
    """The vertex of a monomial of degree >= 3 (coupling convention: module docstring).

    >>> from nnqft.rules.action.models import on_phi4_action
    >>> quartic = monomials_of(on_phi4_action())[1]
    >>> vertex_of(on_phi4_action(), quartic).monomial
    '(g/24) (phi.phi)^2'
    """
    legs, kernels, summed = _ordered_legs(action, m)
    kernel = _kernel_value(action, kernels)
    blocks = _blocks(legs)
    if any(len(b) < 2 for b in blocks):
        raise _bad("an index carried by one leg only (no O(N)-invariant contraction)", m.legs)
    stabiliser = _stabiliser(legs, summed, kernel)
    pairings = Counter()
    for perm in stabiliser:
        # leg k of the permuted vertex is leg perm[k]: a block of old positions moves to
        # the new positions holding them
        where = {old: new for new, old in enumerate(perm)}
        pairings[_pairing([tuple(where[k] for k in b) for b in blocks])] += 1
    order = len(stabiliser)
    time = None
    if "time" in action.slots:
        time = TimeStructure(
            kernel, _kernel_name(kernels), legs=tuple(leg.time for leg in legs), summed=summed
        )
    monomial = _monomial_text(action.sign * m.coefficient, kernels, legs, blocks)
    return Vertex(
        kind=_kind(legs, blocks),
        legs=tuple(leg.field for leg in legs),
        coupling=sp.factor(m.coefficient * order),
        index_pairings=tuple(
            (sp.Rational(n, order), pairing) for pairing, n in sorted(pairings.items())
        ),
        time=time,
        monomial=monomial,
        description=f"read off the action's term {monomial}: coupling = coefficient in "
        f"exp({'-' if action.sign < 0 else ''}S) x {order} time-keeping leg permutations",
    )


def _n_per_index_loop(action, monomials) -> sp.Expr:
    """The range of the index sums: the factor of one closed index loop."""
    index_vars = {leg.index for m in monomials for leg in m.legs if leg.index is not None}
    uppers = {hi for m in monomials for var, _, hi in m.limits if var in index_vars}
    if len(uppers) > 1:
        raise InvalidParameter(f"the index sums of the action have different ranges {uppers}")
    return uppers.pop() if uppers else sp.Integer(1)


def rules_from_action(action) -> FeynmanRules:
    """The Feynman rules of ``action`` by expansion (see the module docstring).

    Raises InvalidParameter for a non-polynomial or unknown factor, a term linear in the
    fields, a degenerate or non-local quadratic part; InvalidType for anything but an Action.

    >>> x, lam = sp.symbols("x lambda")
    >>> from nnqft.rules.action.models import Action
    >>> from nnqft.rules.feynman import Field
    >>> toy = Action("toy", x**2 / 2 + lam * x**3 / 6, -1, (Field("x", "x", "scalar", ""),))
    >>> r = rules_from_action(toy)
    >>> r.vertex("x3").coupling, r.propagator("x").value
    (-lambda, 1)
    """
    from .action.models import Action

    if not isinstance(action, Action):
        raise InvalidType(f"rules_from_action needs an Action, got {type(action).__name__}")
    monomials = monomials_of(action)
    for m in monomials:
        if m.degree == 1:
            raise _bad("a term linear in the fields (a source)", m.legs)
    quadratic = [m for m in monomials if m.degree == 2]
    if not quadratic:
        raise InvalidParameter("the action has no quadratic part: no propagator")
    vertices = [vertex_of(action, m) for m in monomials if m.degree >= 3]
    kinds = Counter(v.kind for v in vertices)
    seen: Counter = Counter()
    for k, v in enumerate(vertices):
        if kinds[v.kind] > 1:  # two monomials of the same shape: number them
            seen[v.kind] += 1
            vertices[k] = Vertex(**{**v.__dict__, "kind": f"{v.kind}_{seen[v.kind]}"})
    responses = dict(action.response)
    return FeynmanRules(
        model=action.model,
        fields=action.fields,
        propagators=propagators_of(action, quadratic),
        vertices=tuple(vertices),
        external_fields=tuple(n for n in action.field_names if n not in responses),
        parameters=action.parameters,
        n_per_index_loop=_n_per_index_loop(action, monomials),
        description=action.description,
        notes=action.notes,
        derived_from="action",
        action=action.text(),
    )
