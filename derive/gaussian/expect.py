"""One API for the Gaussian expectations of an activation: :func:`expect`.

With u ~ N(0, q) and (u1, u2) ~ N(0, [[q11, q12], [q12, q22]]) (docs/conventions.md §3, §7),
``what`` names the expectation::

    "phi^p"        E[phi(u)^p]                "phi'"        E[phi'(u)]
    "phi'^2"       E[phi'(u)^2]               "phi phi"     E[phi(u1) phi(u2)]
    "d^k/dq^k phi^p"  its k-th derivative in q ("d/dq phi^2": chi_parallel / sigma_w2)
    "phi' phi'"    E[phi'(u1) phi'(u2)]

The activation's closed form is used where its entry has one (kernels, stated moments:
:func:`closed_form`), quadrature otherwise, by one of three rules:

- ``"graded"`` (default): Gauss-Hermite graded by the variance, panels above q = 10, the
  polar rule for a kink at 0 (:mod:`nnqft.derive.gaussian.quadrature`);
- ``"hermite"``: for smooth phi Gauss-Hermite only (graded node counts, no panels), with
  E[phi^2], E[phi'^2], dE[phi^2]/dq fused in one pass: the rule of the mean-field engine,
  whose Mehler series it matches exactly; kinked phi as ``"graded"``;
- ``"panel"``: composite Gauss-Legendre panels with the kinks as edges (scalar q; ~1e-13 at
  any variance, q-derivatives of every order): the rule of the finite-width recursions.

``what`` may be a tuple: the values come back as a tuple, from one pass of the rule, and
from the closed forms only when every item has one.

>>> from nnqft.rules.activations import get_activation
>>> float(expect(get_activation("relu"), "phi^2", 3.0))
1.5
>>> round(float(expect(get_activation("tanh"), "phi'^2", 1.0)), 10)
0.4644029024
>>> import sympy as sp
>>> expect(get_activation("erf"), "d/dq phi^2", sp.Symbol("q"))
4/(pi*(2*q + 1)*sqrt(4*q + 1))
"""

from __future__ import annotations

import functools
import math
import re
from typing import TYPE_CHECKING

import numpy as np

from ...errors import InvalidParameter
from ...rules import symbols as S
from ...rules.activations import Activation, diagonal_kernel, get_activation, numeric_function
from ...rules.symbols import is_sympy
from .builtin_forms import BUILTIN, clipped_exp
from .quadrature import (
    NODE_BANDS,
    PANEL_NODES,
    PlaneRule,
    bivariate_gaussian_mean,
    by_rule,
    gaussian_mean,
    hermite_e,
    panel_rule,
    polar_gaussian_mean,
)

if TYPE_CHECKING:  # sympy is imported where a closed form is built
    import sympy as sp

__all__ = [
    "expect",
    "closed_form",
    "kernel_derivatives",
    "mean_square",
    "gaussian_kernel",
    "method_name",
    "panel_method",
    "RULES",
]

#: the quadrature rules :func:`expect` offers (see the module docstring)
RULES = ("graded", "hermite", "panel")
#: the three single-variable expectations of the mean-field engine, fused by rule "hermite"
MEAN_FIELD = ("phi^2", "phi'^2", "d/dq phi^2")

_WHAT = re.compile(
    r"\s*(?:d(?:\^(?P<k>\d+))?/dq(?:\^(?P<k2>\d+))?\s+)?"
    r"(?P<body>phi\^(?P<p>\d+)|phi'\^2|phi'|phi phi|phi' phi')\s*"
)


@functools.lru_cache(maxsize=128)
def _parse(what: str) -> tuple[str, int, int]:
    """'d^2/dq^2 phi^4' -> ('phi^p', 4, 2): (kind, power, q-derivative order)."""
    m = _WHAT.fullmatch(what) if isinstance(what, str) else None
    if m is None:
        raise InvalidParameter(
            f"unknown Gaussian expectation {what!r}; known: phi^p, phi'^2, phi', phi phi, "
            "phi' phi', each optionally after d/dq or d^k/dq^k"
        )
    k = 0 if "/dq" not in what else int(m.group("k") or 1)
    if m.group("k") and m.group("k2") and m.group("k") != m.group("k2"):
        raise InvalidParameter(f"mismatched derivative orders in {what!r}")
    body = m.group("body")
    if m.group("p"):
        if int(m.group("p")) < 1:
            raise InvalidParameter(f"the power in {what!r} must be >= 1")
        return "phi^p", int(m.group("p")), k
    if body in ("phi phi", "phi' phi'") and k:
        raise InvalidParameter(f"{what!r}: q-derivatives are for single-variable expectations")
    return body, 2 if body == "phi'^2" else 1, k


# --- closed forms -------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def closed_form(activation: Activation, what: str, integrate: bool = False) -> sp.Expr | None:
    """The closed form of an expectation, from the activation's entry, or None.

    In ``q`` for single-variable expectations, in ``q11, q22, q12`` for pairs.  The entry's
    kernels give E[phi^2], E[phi'^2] (their diagonal), the pairs and, differentiated, their
    q-derivatives; its ``moments`` give E[phi^p].  ``integrate=True`` also tries the
    symbolic integrator :func:`~nnqft.derive.gaussian.symbolic.gaussian_moment`.

    >>> from nnqft.rules.activations import get_activation
    >>> closed_form(get_activation("relu"), "phi^4", integrate=True)
    3*q**2/2
    >>> closed_form(get_activation("tanh"), "phi^2") is None
    True
    """
    import sympy as sp

    act = activation
    kind, p, k = _parse(what)
    if kind == "phi phi":
        return act.kernel
    if kind == "phi' phi'":
        return act.derivative_kernel
    base = None
    if kind == "phi^p" and p == 2:
        base = diagonal_kernel(act, 0)
    elif kind == "phi'^2":
        base = diagonal_kernel(act, 1)
    if base is None and kind == "phi^p":
        base = act.moment(p)
    if base is None and integrate:
        from .symbolic import gaussian_moment

        integrand = act.expr**p if kind == "phi^p" else act.derivative(1) ** p
        base = gaussian_moment(integrand)
    if base is None or k == 0:
        return base
    return sp.simplify(sp.diff(base, S.q, k))


@functools.lru_cache(maxsize=64)
def kernel_derivatives(activation: Activation):
    """Gradient and Hessian of the closed-form E[phi phi] in (q11, q22, q12), lambdified.

    >>> from nnqft.rules.activations import get_activation
    >>> grad, hess = kernel_derivatives(get_activation("linear"))
    >>> [float(g(1.0, 1.0, 0.5)) for g in grad]
    [0.0, 0.0, 1.0]
    """
    import sympy as sp

    args = (S.q11, S.q22, S.q12)
    grad = [sp.diff(activation.kernel, a) for a in args]
    hess = [[sp.diff(g, b) for b in args] for g in grad]
    return (
        [numeric_function(g, args) for g in grad],
        [[numeric_function(h, args) for h in row] for row in hess],
    )


# --- the one API ----------------------------------------------------------------------------


def expect(
    activation,
    what,
    q,
    q22=None,
    q12=None,
    *,
    nodes: int | None = None,
    rule: str = "graded",
    closed: str = "entry",
):
    """A Gaussian expectation of phi (see the module docstring for ``what`` and ``rule``).

    ``q`` is the variance (numbers or arrays, which broadcast; a sympy object gives the
    closed form); pairs take ``q, q22, q12`` = q11, q22, q12.  ``closed``: ``"entry"`` uses
    the entry's closed forms, ``"integrate"`` also the symbolic integrator, ``"none"``
    quadrature only.  ``nodes`` forces one Gauss-Hermite rule (and quadrature).

    >>> from nnqft.rules.activations import get_activation
    >>> sin = get_activation("sin")
    >>> a = expect(sin, ("phi^2", "d^2/dq^2 phi^4"), 0.7, rule="panel", closed="integrate")
    >>> b = expect(sin, ("phi^2", "d^2/dq^2 phi^4"), 0.7, rule="panel", closed="none")
    >>> bool(np.allclose(a, b, rtol=1e-12, atol=0))
    True
    """
    act = get_activation(activation)
    if rule not in RULES:
        raise InvalidParameter(f"unknown quadrature rule {rule!r}; known: {', '.join(RULES)}")
    if closed not in ("entry", "integrate", "none"):
        raise InvalidParameter(f"closed must be 'entry', 'integrate' or 'none', got {closed!r}")
    many = isinstance(what, (tuple, list))
    whats = tuple(what) if many else (what,)
    parsed = [_parse(w) for w in whats]
    pair = [kind in ("phi phi", "phi' phi'") for kind, _, _ in parsed]
    if any(pair) and not all(pair):
        raise InvalidParameter("expect: single-variable and pair expectations in separate calls")
    forms = None
    args = (q, q22, q12) if pair[0] else (q,)
    symbolic = any(is_sympy(a) for a in args)
    if nodes is None and closed != "none":
        # a built-in entry at numbers: its closed forms as numpy code, without sympy
        known = None
        if not symbolic and closed == "entry":
            known = [_numeric_closed_form(act, kind, p, k) for kind, p, k in parsed]
        if known is not None and _UNTABULATED not in known:
            if all(f is not None for f in known):
                out = tuple(_evaluate_numeric(f, args, pair[0]) for f in known)
                return out if many else out[0]
        else:
            forms = [closed_form(act, w, closed == "integrate") for w in whats]
            if any(f is None for f in forms):
                forms = None
    if symbolic:
        if forms is None:
            return None if not many else tuple(None for _ in whats)
        syms = (S.q11, S.q22, S.q12) if pair[0] else (S.q,)
        sub = dict(zip(syms, args))
        out = tuple(f.subs(sub, simultaneous=True) for f in forms)
        return out if many else out[0]
    if forms is not None:
        out = tuple(_evaluate(f, args, pair[0]) for f in forms)
    elif pair[0]:
        out = tuple(
            _pair(act, kind == "phi' phi'", q, q22, q12, nodes, rule) for kind, *_ in parsed
        )
    elif rule == "panel":
        out = _panel(act, parsed, q)
    elif rule == "hermite" and _smooth(act) and set(whats) <= set(MEAN_FIELD):
        values = _fused_moments(act, q, nodes)
        out = tuple(values[MEAN_FIELD.index(w)] for w in whats)
    else:
        out = tuple(_graded(act, kind, p, k, q, nodes, rule) for kind, p, k in parsed)
    return out if many else out[0]


def _evaluate(form: sp.Expr, args, pair: bool):
    syms = (S.q11, S.q22, S.q12) if pair else (S.q,)
    return _evaluate_numeric(numeric_function(form, syms), args, pair)


#: :func:`_numeric_closed_form`'s answer where the generated forms hold no code
_UNTABULATED = object()


def _numeric_closed_form(act: Activation, kind: str, p: int, k: int):
    """The numpy code of ``closed_form(act, what)`` for a built-in entry, None where that is
    None, or _UNTABULATED (then ask :func:`closed_form`).

    The code is :mod:`nnqft.rules.builtin_forms` and :mod:`.builtin_forms`: what
    :func:`closed_form` lambdified gives, generated from the same entries.  Built-in
    entries state no ``moments``, so E[phi^p] for p != 2 and E[phi'] have none.
    """
    extra = BUILTIN.get(act.name) if act.forms is not None else None
    if extra is None:
        return _UNTABULATED
    kernels = act.forms.kernels
    if kind in ("phi phi", "phi' phi'"):
        return kernels.get(kind)
    if kind == "phi'" or (kind == "phi^p" and p != 2):
        return None
    base = "phi^2" if kind == "phi^p" else "phi'^2"
    if base not in kernels:
        return None
    if k == 0:
        return kernels[base]
    if k == 1 and base == "phi^2":
        return extra.slope
    return _UNTABULATED


def _evaluate_numeric(function, args, pair: bool):
    """A closed form's numpy function at numeric arguments (pairs clipped to a covariance)."""
    arrays = list(np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in args)))
    if pair:
        bound = np.sqrt(arrays[0] * arrays[1])
        arrays[2] = np.clip(arrays[2], -bound, bound)  # rounding can push |c| past 1
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        value = np.asarray(function(*arrays), dtype=float)
    # the arguments' shape even when the closed form is a constant (zeros, not 0.0 * x: inf)
    return value + np.zeros(np.shape(arrays[-1]))


def _kinked_at_zero(act: Activation) -> bool:
    return act.kink_points == (0,)


@functools.lru_cache(maxsize=256)
def _smooth(act: Activation) -> bool:
    """phi has no kinks and phi'' no delta functions (then E[phi phi''] is an ordinary integral)."""
    if act.forms is not None and act.name in BUILTIN:
        return BUILTIN[act.name].smooth
    import sympy as sp

    d2 = act.derivative(2)
    return not act.kinks and not d2.has(sp.DiracDelta, sp.Heaviside, sp.Piecewise, sp.sign)


def _pair(act: Activation, derivative: bool, var1, var2, cov, nodes, rule):
    """E[phi^(k)(u1) phi^(k)(u2)] by quadrature: plane panels (rule 'panel', scalars), the
    polar rule for a kink at 0, else tensor Gauss-Hermite graded by the variances."""
    f = act.numeric(int(derivative))
    if rule == "panel":
        kinks = act.kink_points
        return PlaneRule(float(var1), float(var2), float(cov), kinks).mean(f, f)
    var1, var2, cov = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (var1, var2, cov)))
    bound = np.sqrt(var1 * var2)
    cov = np.clip(cov, -bound, bound)  # rounding can push |c| past 1 and break acos/asin
    if _kinked_at_zero(act):
        return polar_gaussian_mean(f, f, var1, var2, cov)
    return bivariate_gaussian_mean(f, f, var1, var2, cov, nodes)


def _graded(act: Activation, kind: str, p: int, k: int, var, nodes, rule):
    """One single-variable expectation by the graded rule (Gauss-Hermite only for 'hermite')."""
    var = np.asarray(var, dtype=float)
    if k > 1 or (k == 1 and not (kind == "phi^p" and p == 2)):
        raise InvalidParameter(
            f"the q-derivative d^{k}/dq^{k} of E[{kind.replace('^p', f'^{p}')}] needs rule='panel'"
        )
    if k == 1:
        return _d_mean_square(act, var, nodes, rule)
    f = act.numeric(0 if kind == "phi^p" else 1)
    if _kinked_at_zero(act):
        return polar_gaussian_mean(lambda u: f(u) ** p, lambda u: 1.0, var, var, var)
    if rule == "hermite" and _smooth(act):
        flat = np.ascontiguousarray(var).ravel()

        def evaluate(x, w, qs):
            vals = np.broadcast_to(f(np.sqrt(qs)[:, None] * x) ** p, (qs.size, x.size))
            return [np.einsum("ij,j->i", vals, w)]

        return by_rule(flat, nodes, evaluate, 1)[0].reshape(var.shape)
    return gaussian_mean(lambda u: f(u) ** p, var, nodes)


def _d_mean_square(act: Activation, var, nodes, rule) -> np.ndarray:
    """d/dq E[phi(u)^2] by quadrature: E[phi'^2 + phi phi''] for smooth phi; with a kink,
    where phi'' holds a delta function, Stein's lemma gives E[u phi phi'] / q (phi' only)."""
    f0, f1 = act.numeric(0), act.numeric(1)
    if _smooth(act):
        if rule == "hermite":
            return _fused_moments(act, var, nodes)[2]
        f2 = act.numeric(2)
        return gaussian_mean(lambda u: f1(u) ** 2 + f0(u) * f2(u), var, nodes)
    num = (
        polar_gaussian_mean(lambda u: u * f0(u) * f1(u), lambda u: 1.0, var, var, var)
        if _kinked_at_zero(act)
        else gaussian_mean(lambda u: u * f0(u) * f1(u), var, nodes)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        small = var <= 0
        safe = np.where(small, 1.0, var)
        out = np.where(small, f1(np.zeros_like(var)) ** 2, num / safe)
    return out


def _fused_lambdas(act: Activation):
    """(phi^2, [phi'^2, phi'^2 + phi phi'']) lambdified: the code :mod:`.builtin_forms`
    holds for the built-in activations."""
    import sympy as sp

    p0, p1, p2 = act.expr, act.derivative(1), act.derivative(2)
    square = sp.lambdify((S.z,), p0**2, modules=["scipy", "numpy"])
    # In the derivatives of exp-type activations (swish, sigmoid, softplus) far out, the
    # exponentials overflow into inf/inf = nan where the true value is the saturated limit
    # (e.g. swish'(-1000) = 0).  Clipping exponents at +-150 (e^150 ~ 1e65, so its 4th power
    # stays finite) keeps those limits right to ~1e-60; phi^2 itself is left unclipped, so
    # genuine growth still shows as inf.
    exp = {"exp": clipped_exp}
    slopes = sp.lambdify(
        (S.z,), [p1**2, p1**2 + p0 * p2], modules=[exp, "scipy", "numpy"], cse=True
    )
    return square, slopes


@functools.lru_cache(maxsize=256)
def _fused_integrand(act: Activation):
    """One numpy function u -> (phi^2, phi'^2, phi'^2 + phi phi'') sharing subexpressions."""
    extra = BUILTIN.get(act.name) if act.forms is not None else None
    if extra is not None and extra.fused is not None:
        square, slopes = extra.fused
    else:
        square, slopes = _fused_lambdas(act)

    def moments(u):
        return [np.broadcast_to(v, u.shape) for v in (square(u), *slopes(u))]

    return moments


def _fused_moments(act: Activation, var, nodes):
    """E[phi^2], E[phi'^2], dE[phi^2]/dq of smooth phi, one Gauss-Hermite pass per rule."""
    var = np.asarray(var, dtype=float)
    flat = np.ascontiguousarray(var).ravel()
    fused = _fused_integrand(act)

    def evaluate(x, w, qs):
        # einsum, not BLAS: a threaded matvec is 20x slower on a busy machine
        return [np.einsum("ij,j->i", v, w) for v in fused(np.sqrt(qs)[:, None] * x)]

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = by_rule(flat, nodes, evaluate, 3)
    return tuple(o.reshape(var.shape) for o in out)


def _panel(act: Activation, parsed, var) -> tuple:
    """Every expectation in one panel rule: d^k/dq^k E[f] = E[f(sqrt(q) x) He_2k(x)]/(2q)^k."""
    var = float(var)
    phi, dphi = act.numeric(0), act.numeric(1)
    u, w = panel_rule(var, act.kink_points)
    x = u / math.sqrt(var)
    rows = []
    with np.errstate(over="ignore", invalid="ignore"):
        for kind, p, k in parsed:
            g = phi if kind == "phi^p" else dphi
            vals = g(u) ** p if kind != "phi'" else g(u)
            if k:
                vals = vals * hermite_e(2 * k, x)
            rows.append(np.broadcast_to(vals, u.shape))
        sums = np.stack(rows) @ w
    return tuple(float(s * (2.0 * var) ** -k) for s, (_, _, k) in zip(sums, parsed))


# --- the names the rest of nnqft has used -----------------------------------------------------


def mean_square(act: Activation, var, derivative: int = 0, nodes: int | None = None):
    """E[phi^(k)(u)^2], u ~ N(0, var), vectorised; closed form where known.

    ``expect(act, "phi^2" or "phi'^2", var, nodes=nodes)``.

    >>> from nnqft.rules.activations import get_activation
    >>> float(mean_square(get_activation("relu"), 3.0))
    1.5
    """
    var = np.asarray(var, dtype=float)
    return expect(act, "phi'^2" if derivative else "phi^2", var, nodes=nodes)


def gaussian_kernel(
    act: Activation, var1, var2, cov, derivative: int = 0, nodes: int | None = None
):
    """E[phi^(k)(u1) phi^(k)(u2)] (k = ``derivative`` in 0, 1), vectorised.

    ``expect(act, "phi phi" or "phi' phi'", var1, var2, cov, nodes=nodes)``: the closed form
    when there is one and ``nodes`` is None; otherwise quadrature with ``nodes``
    Gauss-Hermite nodes per dimension (default: graded by variance, :data:`NODE_BANDS`), or
    the polar rule for activations kinked at 0.

    >>> from nnqft.rules.activations import get_activation
    >>> round(float(gaussian_kernel(get_activation("linear"), 1.0, 2.0, 0.5)), 12)
    0.5
    """
    if derivative not in (0, 1):
        raise InvalidParameter(f"derivative must be 0 or 1, got {derivative!r}")
    return expect(act, "phi' phi'" if derivative else "phi phi", var1, var2, cov, nodes=nodes)


def method_name(act: Activation, nodes: int | None = None) -> str:
    """How :func:`expect` evaluates this activation's Gaussian integrals, for reports.

    >>> from nnqft.rules.activations import get_activation
    >>> method_name(get_activation("relu")), method_name(get_activation("tanh"), 301)
    ('closed-form', 'gauss-hermite(301 nodes)')
    """
    if act.has_closed_form and nodes is None:
        return "closed-form"
    if _kinked_at_zero(act):
        return "polar gauss-legendre (4 arcs x 24 angular x 168 radial nodes)"
    if nodes is None:
        bands = f"{NODE_BANDS[0][1]}-{NODE_BANDS[-1][1]}"
        return f"gauss-hermite({bands} nodes, more at larger variance)"
    return f"gauss-hermite({nodes} nodes)"


def panel_method(act: Activation) -> str:
    """The panel rule's description with its stated accuracy, for reports.

    >>> from nnqft.rules.activations import get_activation
    >>> panel_method(get_activation("tanh"))
    'gauss-legendre panels (16 nodes, width <= 1), relative accuracy ~1e-13'
    """
    kinks = f", split at kinks {', '.join(str(k) for k in act.kinks)}" if act.kink_points else ""
    return (
        f"gauss-legendre panels ({PANEL_NODES} nodes, width <= 1{kinks}), relative accuracy ~1e-13"
    )
