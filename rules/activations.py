"""Activations: a registry of small pieces, each carrying its own Gaussian kernel.

An :class:`Activation` holds the sympy expression phi(z) and, where they exist in closed
form, its two Gaussian kernels (docs/conventions.md §3)::

    kernel            = E[phi(u1)  phi(u2)]
    derivative_kernel = E[phi'(u1) phi'(u2)],   (u1, u2) ~ N(0, [[q11, q12], [q12, q22]])

as sympy expressions in the symbols ``q11, q22, q12``.  An entry may also state higher
moments E[phi(u)^p] in ``q`` (``moments``).  This module says what an activation IS; the
numbers (closed forms evaluated, quadrature where there are none) come from
:func:`nnqft.derive.gaussian.expect`, which everything else (mean-field maps, chi's,
finite-width recursions, export) uses.

>>> relu = get_activation("relu")
>>> diagonal_kernel(relu)                      # E[relu(u)^2], u ~ N(0, q)
q/2

Register your own with :func:`register` or pass an expression of ``z``:

>>> get_activation("z*tanh(z)").name
'z*tanh(z)'
"""

from __future__ import annotations

import functools
import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InvalidParameter, ParseError, UnknownActivation, unknown_name
from . import symbols as S
from .symbols import is_sympy

if TYPE_CHECKING:  # sympy is imported where an expression is built or read
    import sympy as sp

__all__ = [
    "Activation",
    "register",
    "get_activation",
    "known_activations",
    "diagonal_kernel",
    "numeric_function",
]


class _Symbolic:
    """A field of :class:`Activation` that a built-in activation makes when first read.

    ``get_activation("tanh")`` returns an activation whose sympy data (``expr``, the
    kernels, ``moments``, ``description``) come from its registry entry on first access;
    until then its numbers come from :mod:`nnqft.rules.builtin_forms`, so the numeric
    commands never import sympy.  ``default`` is the dataclass default (none: required).
    """

    _REQUIRED = object()

    def __init__(self, default=_REQUIRED):
        self.default = default

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            if self.default is self._REQUIRED:
                raise AttributeError(self.name)  # tells dataclass: no default
            return self.default
        values = obj.__dict__
        if self.name not in values:
            obj._resolve()
        return values[self.name]

    def __set__(self, obj, value):
        obj.__dict__[self.name] = value


@dataclass(frozen=True, eq=False)
class Activation:
    """One activation function phi(z) with its closed-form Gaussian kernels, if any.

    ``kernel`` and ``derivative_kernel`` are sympy expressions in ``q11, q22, q12`` (see the
    module docstring) or ``None`` where no closed form is known; ``moments`` maps powers p
    to E[phi(u)^p], u ~ N(0, q), in ``q`` (a dict or pairs; stored as sorted pairs), for the
    moments known in closed form beyond the kernels' E[phi^2].

    >>> act = get_activation("erf")
    >>> act.expr
    erf(z)
    >>> act.has_closed_form, act.is_odd
    (True, True)
    """

    name: str
    expr: sp.Expr = _Symbolic()
    kernel: sp.Expr | None = _Symbolic(None)
    derivative_kernel: sp.Expr | None = _Symbolic(None)
    description: str = _Symbolic("")
    moments: tuple = _Symbolic(())

    def __post_init__(self):
        pairs = self.moments.items() if isinstance(self.moments, dict) else self.moments
        if not pairs:
            object.__setattr__(self, "moments", ())
            return
        import sympy as sp

        try:
            pairs = tuple(sorted((int(p), sp.sympify(e)) for p, e in pairs))
        except (TypeError, ValueError, sp.SympifyError):
            raise InvalidParameter(
                f"moments of activation {self.name!r} must map powers to expressions in q"
            ) from None
        for p, e in pairs:
            if p < 1 or e.free_symbols - {S.q}:
                raise InvalidParameter(
                    f"moment E[phi^{p}] of activation {self.name!r} must be an expression in q "
                    f"for a power p >= 1, got {e}"
                )
        object.__setattr__(self, "moments", pairs)

    @classmethod
    def _deferred(cls, name: str, factory: Callable[[], Activation], forms) -> Activation:
        """A built-in activation whose sympy fields come from ``factory()`` when first read;
        ``forms`` (:class:`~nnqft.rules.builtin_forms.BuiltinForms`) answers the numbers."""
        act = object.__new__(cls)
        act.__dict__.update(name=name, _factory=factory, _forms=forms)
        return act

    def _resolve(self) -> None:
        """Fill the sympy fields of a deferred built-in from its registry entry."""
        factory = self.__dict__.get("_factory")
        if factory is None:
            raise AttributeError("an Activation without its sympy fields")
        full = factory()
        for name in ("expr", "kernel", "derivative_kernel", "description", "moments"):
            self.__dict__.setdefault(name, full.__dict__[name])

    @property
    def forms(self):
        """The numeric forms of a built-in activation (None for every other activation)."""
        return self.__dict__.get("_forms")

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        if self is other:
            return True
        factory = self.__dict__.get("_factory")
        if factory is not None and factory is other.__dict__.get("_factory"):
            return self.name == other.name
        return self._fields() == other._fields()

    def __hash__(self):
        return hash((type(self).__name__, self.name))  # equal activations share the name

    def _fields(self) -> tuple:
        return (
            self.name,
            self.expr,
            self.kernel,
            self.derivative_kernel,
            self.description,
            self.moments,
        )

    def moment(self, p: int) -> sp.Expr | None:
        """E[phi(u)^p], u ~ N(0, q), as the entry states it, or None.

        >>> from nnqft.rules.symbols import q, z
        >>> Activation("cube", z**3, moments={2: 15 * q**3}).moment(2)
        15*q**3
        """
        return dict(self.moments).get(p)

    @property
    def has_closed_form(self) -> bool:
        """True when both kernels are known in closed form."""
        if self.forms is not None:
            return self.forms.has_closed_form
        return self.kernel is not None and self.derivative_kernel is not None

    @property
    def is_odd(self) -> bool:
        """phi(-z) = -phi(z): then c* = 0 is a correlation fixed point at sigma_b2 = 0."""
        if self.forms is not None:
            return self.forms.is_odd
        z = S.z
        return _identity_holds(lambda x: self.expr.subs(z, -x) + self.expr.subs(z, x))

    @property
    def is_scale_invariant(self) -> bool:
        """phi(a z) = a phi(z) for a > 0: PDLT's scale-invariant class (linear, ReLU, ...)."""
        if self.forms is not None:
            return self.forms.is_scale_invariant
        import sympy as sp

        a, z = sp.Rational(5, 2), S.z
        return _identity_holds(lambda x: self.expr.subs(z, a * x) - a * self.expr.subs(z, x))

    @functools.cached_property
    def kinks(self) -> tuple:
        """Points where phi is not smooth (from Max/Min/Abs/Heaviside/Piecewise in ``expr``).

        Quadrature splits the integration domain there, so kinked activations keep
        near machine accuracy.
        """
        return _kinks(self.expr)

    @property
    def kink_points(self) -> tuple:
        """:attr:`kinks` as floats (for the quadrature rules; no sympy for built-ins).

        >>> get_activation("relu").kink_points
        (0.0,)
        """
        if self.forms is not None:
            return self.forms.kinks
        return tuple(float(k) for k in self.kinks)

    def at_zero(self, k: int) -> float:
        """phi(0) (k = 0), phi'(0) (k = 1) or 1/phi'(0)^2 (k = -1), each exact before it is
        rounded to a float; NaN where phi' is undefined at 0.

        >>> get_activation("erf").at_zero(-1) == float(np.pi / 4)
        True
        """
        if self.forms is not None:
            return self.forms.at_zero[k if k >= 0 else 2]
        if k == 0:
            return float(self.expr.subs(S.z, 0))
        slope = self.derivative(1).subs(S.z, 0)
        try:
            return float(slope if k == 1 else 1 / slope**2)
        except TypeError:  # a kink at 0: phi'(0) undefined
            return float("nan")

    def derivative(self, k: int = 1) -> sp.Expr:
        """The k-th derivative of phi as a sympy expression of z."""
        import sympy as sp

        return sp.diff(self.expr, S.z, k)

    def numeric(self, k: int = 0) -> Callable[[np.ndarray], np.ndarray]:
        """A vectorised numpy function for the k-th derivative of phi."""
        forms = self.forms
        if forms is not None and k < len(forms.phi) and forms.phi[k] is not None:
            return forms.phi[k]
        return numeric_function(self.derivative(k) if k else self.expr)

    def _repr_latex_(self) -> str:
        import sympy as sp

        return f"$\\phi(z) = {sp.latex(self.expr)}$"

    def __repr__(self) -> str:
        import sympy as sp

        return f"Activation({self.name!r}, {sp.sstr(self.expr)})"


def _identity_holds(residual) -> bool:
    """True when residual(x) vanishes (to 1e-12) at every probe point.

    The probes are :data:`_PROBES` below.  (A list of exact rationals k/7 was meant here,
    but a later ``_PROBES`` shadowed it, so these are the points the identities have always
    been decided at; kept so that ``is_odd`` and ``is_scale_invariant`` do not change.)
    """
    import sympy as sp

    return all(abs(complex(sp.N(residual(x), 20))) < 1e-12 for x in _PROBES)


def _kinks(expr: sp.Expr) -> tuple:
    import sympy as sp

    z = S.z
    zeros = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Max, sp.Min)) and len(node.args) == 2:
            zeros.append(node.args[0] - node.args[1])
        elif isinstance(node, (sp.Abs, sp.Heaviside, sp.sign)):
            zeros.append(node.args[0])
        elif isinstance(node, sp.Piecewise):
            for _, cond in node.args:
                if isinstance(cond, sp.core.relational.Relational):
                    zeros.append(cond.lhs - cond.rhs)
    points = set()
    for f in zeros:
        if z in f.free_symbols:
            points.update(r for r in sp.solve(f, z) if r.is_real)
    return tuple(sorted(points, key=float))


# --- numerics -------------------------------------------------------------------------

_MODULES = ["scipy", "numpy"]  # scipy first: erf must map to scipy.special.erf, not math.erf


def numeric_function(expr: sp.Expr, args: tuple | None = None) -> Callable:
    """Lambdify ``expr`` of ``args`` (default: ``(z,)``) to a vectorised numpy/scipy
    function (cached)."""
    return _lambdified(expr, (S.z,) if args is None else args)


@functools.lru_cache(maxsize=512)
def _lambdified(expr: sp.Expr, args: tuple) -> Callable:
    import sympy as sp

    f = sp.lambdify(args, expr, modules=_MODULES)
    if not expr.free_symbols & set(args):
        # a constant expression (e.g. phi' = 1 for the linear activation) must still broadcast
        const = float(expr)
        return lambda *xs: np.full(np.broadcast(*xs).shape, const)
    return f


@functools.lru_cache(maxsize=256)
def diagonal_kernel(act: Activation, derivative: int = 0) -> sp.Expr | None:
    """The single-variable kernel E[phi^(k)(u)^2], u ~ N(0, q), as an expression in ``q``.

    ``None`` when the activation has no closed form.
    """
    kern = act.kernel if derivative == 0 else act.derivative_kernel
    if kern is None or derivative not in (0, 1):
        return None
    import sympy as sp

    q = S.q
    return sp.simplify(kern.subs({S.q11: q, S.q22: q, S.q12: q}))


# --- the registry -----------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _arccos_kernels():
    """The arc-cosine kernels of order 1 and 0 (Cho & Saul 2009): E[relu relu], E[step step]."""
    import sympy as sp

    q11, q22, q12 = S.q11, S.q22, S.q12
    theta = sp.acos(q12 / sp.sqrt(q11 * q22))
    one = sp.sqrt(q11 * q22) / (2 * sp.pi) * (sp.sin(theta) + (sp.pi - theta) * sp.cos(theta))
    return one, (sp.pi - theta) / (2 * sp.pi)


def _linear() -> Activation:
    import sympy as sp

    return Activation("linear", S.z, S.q12, sp.Integer(1), "phi(z) = z")


def _relu() -> Activation:
    import sympy as sp

    one, zero = _arccos_kernels()
    return Activation("relu", sp.Max(0, S.z), one, zero, "max(0, z); arc-cosine kernel")


def _exact(value) -> sp.Expr:
    """A parameter as an exact number: text through the safe number parser (never
    ``sympify``), floats through ``nsimplify`` (0.1 -> 1/10)."""
    import sympy as sp

    if isinstance(value, str):
        from .parse import parse_number

        return parse_number(value, what="activation parameter")
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, sp.Basic)):
        raise InvalidParameter(f"activation parameter {value!r} is not a real number")
    value = sp.nsimplify(value)
    if not (value.is_number and value.is_real and value.is_finite):
        raise InvalidParameter(f"activation parameter {value} is not a finite real number")
    return value


def _abrelu(a, b, name: str) -> Activation:
    # phi = b relu(z) - a relu(-z); with X = E[relu(u1) relu(-u2)] = J - q12/2 this gives
    # E[phi phi] = (a-b)^2 J1 + ab q12 and E[phi' phi'] = (a-b)^2 J0 + ab.
    import sympy as sp

    a, b = _exact(a), _exact(b)
    z = S.z
    expr = sp.Piecewise((b * z, z > 0), (a * z, True))
    one, zero = _arccos_kernels()
    return Activation(
        name,
        expr,
        (a - b) ** 2 * one + a * b * S.q12,
        (a - b) ** 2 * zero + a * b,
        f"slope {a} for z < 0, {b} for z > 0; arc-cosine kernel",
    )


def _leaky_relu(alpha="1/100") -> Activation:
    alpha = _exact(alpha)
    return _abrelu(alpha, 1, "relu" if alpha == 0 else f"leaky_relu({alpha})")


def _erf() -> Activation:
    import sympy as sp

    q11, q22, q12 = S.q11, S.q22, S.q12
    det = (1 + 2 * q11) * (1 + 2 * q22)
    return Activation(
        "erf",
        sp.erf(S.z),
        2 / sp.pi * sp.asin(2 * q12 / sp.sqrt(det)),
        4 / sp.pi / sp.sqrt(det - 4 * q12**2),
        "arcsine kernel (Williams 1997)",
    )


def _sin() -> Activation:
    import sympy as sp

    damp, q12 = sp.exp(-(S.q11 + S.q22) / 2), S.q12
    return Activation("sin", sp.sin(S.z), damp * sp.sinh(q12), damp * sp.cosh(q12), "sin(z)")


def _cos() -> Activation:
    import sympy as sp

    damp, q12 = sp.exp(-(S.q11 + S.q22) / 2), S.q12
    return Activation("cos", sp.cos(S.z), damp * sp.cosh(q12), damp * sp.sinh(q12), "cos(z)")


def _gelu() -> Activation:
    # phi = z/2 + g with g = (z/2) erf(z/sqrt2) even, so E[phi phi] = q12/4 + E[g g]; Stein's
    # lemma twice reduces E[u1 h1 u2 h2] (h = erf(z/sqrt2)) to the arcsine kernel
    # A = (2/pi) asin(q12/sqrt(P)) and E[h' h'] = (2/pi)/sqrt(R); Price's theorem
    # (d/dq12 E[phi phi] = E[phi' phi']) gives the second kernel.  Checked against
    # quadrature to 1e-10 in tests/derive/test_mft.py.
    import sympy as sp

    q11, q22, q12, z = S.q11, S.q22, S.q12, S.z
    P = (1 + q11) * (1 + q22)
    R = 1 + q11 + q22 + q11 * q22 - q12**2  # = P - q12^2, expanded: 1 + 2q on the diagonal
    asin = sp.asin(q12 / sp.sqrt(P))
    kernel = (
        q12 / 4 + q12 * asin / (2 * sp.pi) + (q11 * q22 * R + q12**2) / (2 * sp.pi * P * sp.sqrt(R))
    )
    derivative_kernel = (
        sp.Rational(1, 4)
        + asin / (2 * sp.pi)
        + q12 / (2 * sp.pi) * ((2 + q11 + q22) / (P * sp.sqrt(R)) + R ** sp.Rational(-3, 2))
    )
    return Activation(
        "gelu",
        z * (1 + sp.erf(z / sp.sqrt(2))) / 2,
        kernel,
        derivative_kernel,
        "z Phi(z); closed-form kernels via Stein's lemma",
    )


def _tanh() -> Activation:
    import sympy as sp

    return Activation("tanh", sp.tanh(S.z), description="no closed-form kernel: quadrature")


def _sigmoid() -> Activation:
    import sympy as sp

    z = S.z
    return Activation("sigmoid", 1 / (1 + sp.exp(-z)), description="logistic; quadrature")


def _swish() -> Activation:
    import sympy as sp

    z = S.z
    return Activation("swish", z / (1 + sp.exp(-z)), description="z sigmoid(z) (SiLU); quadrature")


def _softplus() -> Activation:
    import sympy as sp

    z = S.z
    return Activation("softplus", sp.log(1 + sp.exp(z)), description="log(1 + e^z); quadrature")


_REGISTRY: dict[str, Callable[..., Activation]] = {
    "linear": _linear,
    "relu": _relu,
    "leaky_relu": _leaky_relu,
    "abrelu": lambda a=0, b=1: _abrelu(a, b, f"abrelu({_exact(a)}, {_exact(b)})"),
    "erf": _erf,
    "tanh": _tanh,
    "sigmoid": _sigmoid,
    "gelu": _gelu,
    "swish": _swish,
    "sin": _sin,
    "cos": _cos,
    "softplus": _softplus,
}
_ALIASES = {"silu": "swish", "identity": "linear", "logistic": "sigmoid"}
#: the entries without parameters whose numbers rules.builtin_forms holds (sympy-free)
DEFERRED = ("linear", "relu", "erf", "tanh", "sigmoid", "gelu", "swish", "sin", "cos", "softplus")
_ORIGINAL = {name: _REGISTRY[name] for name in DEFERRED}


def register(name: str, factory: Callable[..., Activation] | Activation) -> None:
    """Add an activation (or a factory taking its parameters) to the registry.

    >>> from nnqft.rules.symbols import z
    >>> register("softsign", Activation("softsign", z / (1 + abs(z))))
    >>> get_activation("softsign").has_closed_form
    False
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise InvalidParameter(f"activation name {name!r} must be an identifier")
    _REGISTRY[name] = (
        factory if callable(factory) and not isinstance(factory, Activation) else (lambda: factory)
    )
    _build.cache_clear()  # a name registered again must give the new activation


def known_activations() -> list[str]:
    """The registered activation names (aliases excluded), sorted."""
    return sorted(_REGISTRY)


@functools.lru_cache(maxsize=256)
def _build(name: str, args: tuple, kwargs: tuple = ()) -> Activation:
    factory = _REGISTRY[name]
    if not args and not kwargs and factory is _ORIGINAL.get(name):
        from .builtin_forms import BUILTIN

        forms = BUILTIN.get(name)
        if forms is not None:  # empty while the generator itself runs
            return Activation._deferred(name, factory, forms)
    return factory(*args, **dict(kwargs))


def get_activation(spec) -> Activation:
    """Look up an activation by name, ``name(params)`` or an expression of ``z``.

    Parameters are numbers (``leaky_relu(0.1)``, ``leaky_relu(alpha=0.2)``, ``1/3``);
    expressions are read by the safe parser :func:`nnqft.rules.parse.parse_expression`,
    never evaluated as Python.

    >>> get_activation("leaky_relu(0.1)").name
    'leaky_relu(1/10)'
    >>> get_activation("tnah")
    Traceback (most recent call last):
    ...
    nnqft.errors.UnknownActivation: unknown activation 'tnah'; known: ... (did you mean 'tanh'?)
    >>> get_activation("lambda z: z")
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidParameter: activation 'lambda z: z' is neither a known name nor ...
    """
    if isinstance(spec, Activation):
        return spec
    if is_sympy(spec):
        import sympy as sp

        if isinstance(spec, sp.Expr):
            return _custom(spec, str(spec))
    if not isinstance(spec, str):
        raise UnknownActivation(f"activation must be a name or an expression of z, got {spec!r}")
    text = spec.strip()
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?", text, flags=re.DOTALL)
    if m:
        name = _ALIASES.get(m.group(1).lower(), m.group(1).lower())
        if name in _REGISTRY:
            args, kwargs = _parse_params(name, m.group(2))
            try:
                return _build(name, args, kwargs)
            except TypeError:
                import sympy as sp

                shown = ", ".join([sp.sstr(a) for a in args] + [f"{k}={v}" for k, v in kwargs])
                raise InvalidParameter(
                    f"activation {name!r} does not take parameters ({shown})"
                ) from None
    # not a registered name: maybe an expression of z
    from .parse import parse_expression

    try:
        expr, reason = parse_expression(text, {"z": S.z}), None
    except ParseError as exc:
        expr, reason = None, getattr(exc, "reason", str(exc))
    if expr is not None and expr.free_symbols == {S.z}:
        return _custom(expr, text)
    if m is None and expr is not None:
        return _custom(expr, text)  # says which symbols are not allowed
    if m is None:
        raise InvalidParameter(
            f"activation {text[:80]!r} is neither a known name nor an expression of z: {reason}"
        )
    raise unknown_name("activation", text, list(_REGISTRY) + list(_ALIASES), cls=UnknownActivation)


def _parse_params(name: str, text: str | None) -> tuple[tuple, tuple]:
    """``0.1, b=2`` -> ((1/10,), (("b", 2),)): numbers only, through the safe parser."""
    if text is None or not text.strip():
        return (), ()
    args, kwargs = [], []
    for piece in text.split(","):
        key, eq, value = piece.partition("=")
        if eq:
            key = key.strip()
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", key):
                raise InvalidParameter(
                    f"activation parameter name {key[:40]!r} of {name!r} must be an identifier"
                )
            kwargs.append((key, _parse_param(value)))
        else:
            if kwargs:
                raise InvalidParameter(f"positional parameter after a named one in {name!r}")
            args.append(_parse_param(piece))
    return tuple(args), tuple(kwargs)


def _parse_param(text: str):
    from .parse import parse_number

    return parse_number(text.strip(), what="activation parameter")


def _custom(expr: sp.Expr, name: str) -> Activation:
    import sympy as sp

    z = S.z
    undefined = sorted(str(f.func) for f in expr.atoms(sp.core.function.AppliedUndef))
    if undefined:
        raise InvalidParameter(
            f"activation expression {name!r} uses unknown function(s) {', '.join(undefined)}; "
            "use sympy functions of z (tanh, exp, erf, log, ...)"
        )
    if expr.free_symbols - {z}:
        extra = ", ".join(sorted(str(s) for s in expr.free_symbols - {z}))
        raise InvalidParameter(f"activation expression {name!r} may depend on z only, not {extra}")
    if z not in expr.free_symbols:
        raise InvalidParameter(
            f"activation expression {name!r} does not depend on z: a constant phi carries no "
            "signal (chi_1 = 0); use an expression of z"
        )
    _check_real_and_finite(expr, name)
    return Activation(name, expr, description="user expression; quadrature")


#: where a user's phi is probed: both signs, zero, and the scale of typical pre-activations
_PROBES = (-3.7, -1.3, -0.2, 0, 0.45, 1.1, 2.9)


def _check_real_and_finite(expr: sp.Expr, name: str) -> None:
    """Refuse a phi that is complex or infinite somewhere on the real line (log(z), 1/z):
    every Gaussian expectation integrates over all real z."""
    import math

    import sympy as sp

    f = sp.lambdify(S.z, expr, "mpmath")
    for point in _PROBES:
        try:
            value = complex(f(point))
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            value = complex("nan")
        if value.imag != 0 or not math.isfinite(value.real):
            shown = "not finite" if not math.isfinite(abs(value)) else f"{value:.3g}"
            raise InvalidParameter(
                f"activation expression {name!r} must be real and finite for every real z; "
                f"at z = {point} it is {shown}"
            )
