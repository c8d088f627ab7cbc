"""Numeric forms of the built-in activations, without sympy at run time.

The numeric commands (``nnqft mft``, ``phase``, ...) evaluate phi, its derivatives and the
closed-form kernels of an activation entry of :mod:`nnqft.rules.activations` as numpy
functions.  Lambdifying the sympy entries costs sympy's import (~1 s); this module holds
the numpy code that :func:`~nnqft.rules.activations.numeric_function` would produce for
every built-in activation without parameters, generated from those very entries by
:func:`generate` (``python -m nnqft.rules.builtin_forms`` rewrites the generated part).
``tests/rules/test_builtin_forms.py`` regenerates it and requires the same text, and the
same numbers bit for bit, so the forms cannot drift from the sympy entries.

>>> forms = BUILTIN["erf"]
>>> forms.is_odd, forms.has_closed_form, forms.kinks
(True, True, ())
>>> round(float(forms.kernels["phi phi"](1.0, 1.0, 1.0)), 12)      # (2/pi) asin(2/3)
0.464559054398
>>> round(float(BUILTIN["tanh"].phi[1](0.0)), 12)                   # tanh'(0)
1.0
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import reduce  # noqa: F401  (the generated code of max(0, z) uses it)

import numpy as np
from numpy import (  # noqa: F401  (names the generated code uses, as lambdify binds them)
    arccos,
    arcsin,
    cos,
    cosh,
    equal,
    exp,
    less,
    log,
    maximum,
    nan,
    pi,
    select,
    sin,
    sinh,
    sqrt,
    tanh,
)

__all__ = ["BuiltinForms", "BUILTIN", "DERIVATIVES", "generate", "function_source", "constant"]

#: derivatives of phi held: phi, phi', ..., phi'''' (the finite-width recursions use all)
DERIVATIVES = 5


def erf(x):
    """scipy.special.erf, imported at the first call (scipy.special takes ~0.2 s to import).

    >>> float(erf(0.0))
    0.0
    """
    from scipy.special import erf as scipy_erf

    return scipy_erf(x)


def constant(value: float):
    """A function of any arguments that broadcasts the constant ``value`` over them, as
    :func:`~nnqft.rules.activations.numeric_function` returns for a constant expression.

    >>> constant(0.5)(np.zeros(3))
    array([0.5, 0.5, 0.5])
    """

    def broadcast(*xs):
        return np.full(np.broadcast(*xs).shape, value)

    return broadcast


@dataclass(frozen=True)
class BuiltinForms:
    """The numeric forms of one built-in activation.

    ``phi[k]``: the k-th derivative of phi (None where it holds a delta function);
    ``kernels``: the closed forms that exist, keyed as :func:`nnqft.derive.gaussian.expect`
    names them ("phi phi", "phi' phi'" in q11, q22, q12; "phi^2", "phi'^2" in q); the
    traits as :class:`~nnqft.rules.activations.Activation` computes them; ``at_zero``:
    (phi(0), phi'(0), 1/phi'(0)^2), each exact before rounding (NaN where undefined).
    """

    phi: tuple
    kernels: dict = field(default_factory=dict)
    is_odd: bool = False
    is_scale_invariant: bool = False
    kinks: tuple = ()
    has_closed_form: bool = False
    at_zero: tuple = (nan, nan, nan)


# --- the generator ------------------------------------------------------------------------


def function_source(func, name: str, rename: dict | None = None) -> str:
    """The source of a lambdified function, renamed ``name`` (and names in ``rename``
    replaced), ready to be written into a generated module.

    >>> function_source(constant, "f").splitlines()[0]
    'def f(value: float):'
    """
    import inspect

    source = inspect.getsource(func)
    source = re.sub(r"^def \w+\(", f"def {name}(", source, count=1)
    for old, new in (rename or {}).items():
        source = re.sub(rf"\b{old}\(", f"{new}(", source)
    return source


def numeric_source(expr, args, name: str, rename: dict | None = None) -> tuple[str, str]:
    """(definitions, expression) for ``numeric_function(expr, args)`` in generated code:
    a constant expression becomes ``constant(value)``, anything else a ``def``.

    >>> import sympy as sp
    >>> numeric_source(sp.Integer(1), (sp.Symbol("z"),), "f")
    ('', 'constant(1.0)')
    """
    from .activations import numeric_function

    if not expr.free_symbols & set(args):
        return "", f"constant({float(expr)!r})"
    return function_source(numeric_function(expr, args), name, rename), name


def _literal(value: float) -> str:
    return repr(value) if np.isfinite(value) else f"float({str(value)!r})"


def generate() -> str:
    """The generated part of this module, from the sympy entries of the registry."""
    import sympy as sp

    from . import activations as A
    from . import symbols as S

    defs, entries = [], []
    for key in A.DEFERRED:
        act = A._REGISTRY[key]()
        tag = f"_{key}"
        phis = []
        for k in range(DERIVATIVES):
            e = act.derivative(k) if k else act.expr
            if e.has(sp.DiracDelta, sp.Heaviside, sp.Subs, sp.Derivative):
                phis.append("None")
                continue
            src, ref = numeric_source(e, (S.z,), f"{tag}_phi{k}")
            defs.append(src)
            phis.append(ref)
        kernels = []
        pair = (S.q11, S.q22, S.q12)
        for what, e, args in (
            ("phi phi", act.kernel, pair),
            ("phi' phi'", act.derivative_kernel, pair),
            ("phi^2", A.diagonal_kernel(act, 0), (S.q,)),
            ("phi'^2", A.diagonal_kernel(act, 1), (S.q,)),
        ):
            if e is not None:
                slug = {"phi phi": "k", "phi' phi'": "dk", "phi^2": "m", "phi'^2": "dm"}[what]
                src, ref = numeric_source(e, args, f"{tag}_{slug}")
                defs.append(src)
                kernels.append(f"{what!r}: {ref}")
        kinks = tuple(float(k) for k in act.kinks)
        at_zero = ", ".join(_literal(act.at_zero(k)) for k in (0, 1, -1))
        entries.append(
            f"    {key!r}: BuiltinForms(\n"
            f"        phi=({', '.join(phis)}),\n"
            f"        kernels={{{', '.join(kernels)}}},\n"
            f"        is_odd={act.is_odd!r},\n"
            f"        is_scale_invariant={act.is_scale_invariant!r},\n"
            f"        kinks={kinks!r},\n"
            f"        has_closed_form={act.has_closed_form!r},\n"
            f"        at_zero=({at_zero}),\n"
            "    ),\n"
        )
    return generated_module(defs, entries)


_MARK = "# --- generated by generate(): do not edit below this line ---\n"


def generated_module(defs, entries) -> str:
    """The generated part of a builtin-forms module: the functions, then ``BUILTIN``."""
    body = "\n\n\n".join(d.rstrip("\n") for d in defs if d)
    return f"# fmt: off\n{body}\n\n\nBUILTIN = {{\n{''.join(entries)}}}\n# fmt: on\n"


def write_generated(path, text: str) -> None:  # pragma: no cover - the maintainer's tool
    """Replace what follows the generated-code mark in ``path`` by ``text``."""
    import pathlib

    path = pathlib.Path(path)
    head = path.read_text().split(_MARK)[0]
    path.write_text(head + _MARK + "\n\n" + text)


if __name__ == "__main__":  # pragma: no cover
    write_generated(__file__, generate())


# --- generated by generate(): do not edit below this line ---


# fmt: off
def _linear_phi0(z):
    return z


def _linear_k(q11, q22, q12):
    return q12


def _linear_m(q):
    return q


def _relu_phi0(z):
    return reduce(maximum, [0, z])


def _relu_k(q11, q22, q12):
    return (1/2)*sqrt(q11)*sqrt(q22)*(sqrt(1 - q12**2/(q11*q22)) + q12*(pi - arccos(q12/(sqrt(q11)*sqrt(q22))))/(sqrt(q11)*sqrt(q22)))/pi


def _relu_dk(q11, q22, q12):
    return (1/2)*(pi - arccos(q12/(sqrt(q11)*sqrt(q22))))/pi


def _relu_m(q):
    return (1/2)*q


def _erf_phi0(z):
    return erf(z)


def _erf_phi1(z):
    return 2*exp(-z**2)/sqrt(pi)


def _erf_phi2(z):
    return -4*z*exp(-z**2)/sqrt(pi)


def _erf_phi3(z):
    return 4*(2*z**2 - 1)*exp(-z**2)/sqrt(pi)


def _erf_phi4(z):
    return 8*z*(3 - 2*z**2)*exp(-z**2)/sqrt(pi)


def _erf_k(q11, q22, q12):
    return 2*arcsin(2*q12/(sqrt(2*q11 + 1)*sqrt(2*q22 + 1)))/pi


def _erf_dk(q11, q22, q12):
    return 4/(pi*sqrt(-4*q12**2 + (2*q11 + 1)*(2*q22 + 1)))


def _erf_m(q):
    return 2*arcsin(2*q/(2*q + 1))/pi


def _erf_dm(q):
    return 4/(pi*sqrt(4*q + 1))


def _tanh_phi0(z):
    return tanh(z)


def _tanh_phi1(z):
    return 1 - tanh(z)**2


def _tanh_phi2(z):
    return 2*(tanh(z)**2 - 1)*tanh(z)


def _tanh_phi3(z):
    return -2*(tanh(z)**2 - 1)*(3*tanh(z)**2 - 1)


def _tanh_phi4(z):
    return 8*(tanh(z)**2 - 1)*(3*tanh(z)**2 - 2)*tanh(z)


def _sigmoid_phi0(z):
    return (1 + exp(-z))**(-1.0)


def _sigmoid_phi1(z):
    return exp(-z)/(1 + exp(-z))**2


def _sigmoid_phi2(z):
    return (-1 + 2*exp(-z)/(1 + exp(-z)))*exp(-z)/(1 + exp(-z))**2


def _sigmoid_phi3(z):
    return (1 - 6*exp(-z)/(1 + exp(-z)) + 6*exp(-2*z)/(1 + exp(-z))**2)*exp(-z)/(1 + exp(-z))**2


def _sigmoid_phi4(z):
    return (-1 + 14*exp(-z)/(1 + exp(-z)) - 36*exp(-2*z)/(1 + exp(-z))**2 + 24*exp(-3*z)/(1 + exp(-z))**3)*exp(-z)/(1 + exp(-z))**2


def _gelu_phi0(z):
    return (1/2)*z*(erf((1/2)*sqrt(2)*z) + 1)


def _gelu_phi1(z):
    return (1/2)*sqrt(2)*z*exp(-1/2*z**2)/sqrt(pi) + (1/2)*erf((1/2)*sqrt(2)*z) + 1/2


def _gelu_phi2(z):
    return sqrt(2)*(1 - 1/2*z**2)*exp(-1/2*z**2)/sqrt(pi)


def _gelu_phi3(z):
    return (1/2)*sqrt(2)*z*(z**2 - 4)*exp(-1/2*z**2)/sqrt(pi)


def _gelu_phi4(z):
    return sqrt(2)*(-1/2*z**2*(z**2 - 3) + 2*z**2 - 2)*exp(-1/2*z**2)/sqrt(pi)


def _gelu_k(q11, q22, q12):
    return (1/2)*q12*arcsin(q12/(sqrt(q11 + 1)*sqrt(q22 + 1)))/pi + (1/4)*q12 + (1/2)*(q11*q22*(q11*q22 + q11 - q12**2 + q22 + 1) + q12**2)/(pi*(q11 + 1)*(q22 + 1)*sqrt(q11*q22 + q11 - q12**2 + q22 + 1))


def _gelu_dk(q11, q22, q12):
    return (1/2)*q12*((q11*q22 + q11 - q12**2 + q22 + 1)**(-3/2) + (q11 + q22 + 2)/((q11 + 1)*(q22 + 1)*sqrt(q11*q22 + q11 - q12**2 + q22 + 1)))/pi + (1/2)*arcsin(q12/(sqrt(q11 + 1)*sqrt(q22 + 1)))/pi + 1/4


def _gelu_m(q):
    return (1/4)*q*(4*q + 2*(q + 1)*sqrt(2*q + 1)*arcsin(q/(q + 1)) + pi*(q + 1)*sqrt(2*q + 1))/(pi*(q + 1)*sqrt(2*q + 1))


def _gelu_dm(q):
    return (1/4)*(2*q*sqrt(2*q + 1)*(5*q + 3) + 2*(q + 1)*(2*q + 1)**2*arcsin(q/(q + 1)) + pi*(q + 1)*(2*q + 1)**2)/(pi*(q + 1)*(2*q + 1)**2)


def _swish_phi0(z):
    return z/(1 + exp(-z))


def _swish_phi1(z):
    return z*exp(-z)/(1 + exp(-z))**2 + (1 + exp(-z))**(-1.0)


def _swish_phi2(z):
    return (-z*(1 - 2*exp(-z)/(1 + exp(-z))) + 2)*exp(-z)/(1 + exp(-z))**2


def _swish_phi3(z):
    return (z*(1 - 6*exp(-z)/(1 + exp(-z)) + 6*exp(-2*z)/(1 + exp(-z))**2) - 3 + 6*exp(-z)/(1 + exp(-z)))*exp(-z)/(1 + exp(-z))**2


def _swish_phi4(z):
    return (-z*(1 - 14*exp(-z)/(1 + exp(-z)) + 36*exp(-2*z)/(1 + exp(-z))**2 - 24*exp(-3*z)/(1 + exp(-z))**3) + 4 - 24*exp(-z)/(1 + exp(-z)) + 24*exp(-2*z)/(1 + exp(-z))**2)*exp(-z)/(1 + exp(-z))**2


def _sin_phi0(z):
    return sin(z)


def _sin_phi1(z):
    return cos(z)


def _sin_phi2(z):
    return -sin(z)


def _sin_phi3(z):
    return -cos(z)


def _sin_phi4(z):
    return sin(z)


def _sin_k(q11, q22, q12):
    return exp(-1/2*q11 - 1/2*q22)*sinh(q12)


def _sin_dk(q11, q22, q12):
    return exp(-1/2*q11 - 1/2*q22)*cosh(q12)


def _sin_m(q):
    return exp(-q)*sinh(q)


def _sin_dm(q):
    return exp(-q)*cosh(q)


def _cos_phi0(z):
    return cos(z)


def _cos_phi1(z):
    return -sin(z)


def _cos_phi2(z):
    return -cos(z)


def _cos_phi3(z):
    return sin(z)


def _cos_phi4(z):
    return cos(z)


def _cos_k(q11, q22, q12):
    return exp(-1/2*q11 - 1/2*q22)*cosh(q12)


def _cos_dk(q11, q22, q12):
    return exp(-1/2*q11 - 1/2*q22)*sinh(q12)


def _cos_m(q):
    return exp(-q)*cosh(q)


def _cos_dm(q):
    return exp(-q)*sinh(q)


def _softplus_phi0(z):
    return log(exp(z) + 1)


def _softplus_phi1(z):
    return exp(z)/(exp(z) + 1)


def _softplus_phi2(z):
    return (1 - exp(z)/(exp(z) + 1))*exp(z)/(exp(z) + 1)


def _softplus_phi3(z):
    return (1 - 3*exp(z)/(exp(z) + 1) + 2*exp(2*z)/(exp(z) + 1)**2)*exp(z)/(exp(z) + 1)


def _softplus_phi4(z):
    return (1 - 7*exp(z)/(exp(z) + 1) + 12*exp(2*z)/(exp(z) + 1)**2 - 6*exp(3*z)/(exp(z) + 1)**3)*exp(z)/(exp(z) + 1)


BUILTIN = {
    'linear': BuiltinForms(
        phi=(_linear_phi0, constant(1.0), constant(0.0), constant(0.0), constant(0.0)),
        kernels={'phi phi': _linear_k, "phi' phi'": constant(1.0), 'phi^2': _linear_m, "phi'^2": constant(1.0)},
        is_odd=True,
        is_scale_invariant=True,
        kinks=(),
        has_closed_form=True,
        at_zero=(0.0, 1.0, 1.0),
    ),
    'relu': BuiltinForms(
        phi=(_relu_phi0, None, None, None, None),
        kernels={'phi phi': _relu_k, "phi' phi'": _relu_dk, 'phi^2': _relu_m, "phi'^2": constant(0.5)},
        is_odd=False,
        is_scale_invariant=True,
        kinks=(0.0,),
        has_closed_form=True,
        at_zero=(0.0, 0.5, 4.0),
    ),
    'erf': BuiltinForms(
        phi=(_erf_phi0, _erf_phi1, _erf_phi2, _erf_phi3, _erf_phi4),
        kernels={'phi phi': _erf_k, "phi' phi'": _erf_dk, 'phi^2': _erf_m, "phi'^2": _erf_dm},
        is_odd=True,
        is_scale_invariant=False,
        kinks=(),
        has_closed_form=True,
        at_zero=(0.0, 1.1283791670955126, 0.7853981633974483),
    ),
    'tanh': BuiltinForms(
        phi=(_tanh_phi0, _tanh_phi1, _tanh_phi2, _tanh_phi3, _tanh_phi4),
        kernels={},
        is_odd=True,
        is_scale_invariant=False,
        kinks=(),
        has_closed_form=False,
        at_zero=(0.0, 1.0, 1.0),
    ),
    'sigmoid': BuiltinForms(
        phi=(_sigmoid_phi0, _sigmoid_phi1, _sigmoid_phi2, _sigmoid_phi3, _sigmoid_phi4),
        kernels={},
        is_odd=False,
        is_scale_invariant=False,
        kinks=(),
        has_closed_form=False,
        at_zero=(0.5, 0.25, 16.0),
    ),
    'gelu': BuiltinForms(
        phi=(_gelu_phi0, _gelu_phi1, _gelu_phi2, _gelu_phi3, _gelu_phi4),
        kernels={'phi phi': _gelu_k, "phi' phi'": _gelu_dk, 'phi^2': _gelu_m, "phi'^2": _gelu_dm},
        is_odd=False,
        is_scale_invariant=False,
        kinks=(),
        has_closed_form=True,
        at_zero=(0.0, 0.5, 4.0),
    ),
    'swish': BuiltinForms(
        phi=(_swish_phi0, _swish_phi1, _swish_phi2, _swish_phi3, _swish_phi4),
        kernels={},
        is_odd=False,
        is_scale_invariant=False,
        kinks=(),
        has_closed_form=False,
        at_zero=(0.0, 0.5, 4.0),
    ),
    'sin': BuiltinForms(
        phi=(_sin_phi0, _sin_phi1, _sin_phi2, _sin_phi3, _sin_phi4),
        kernels={'phi phi': _sin_k, "phi' phi'": _sin_dk, 'phi^2': _sin_m, "phi'^2": _sin_dm},
        is_odd=True,
        is_scale_invariant=False,
        kinks=(),
        has_closed_form=True,
        at_zero=(0.0, 1.0, 1.0),
    ),
    'cos': BuiltinForms(
        phi=(_cos_phi0, _cos_phi1, _cos_phi2, _cos_phi3, _cos_phi4),
        kernels={'phi phi': _cos_k, "phi' phi'": _cos_dk, 'phi^2': _cos_m, "phi'^2": _cos_dm},
        is_odd=False,
        is_scale_invariant=False,
        kinks=(),
        has_closed_form=True,
        at_zero=(1.0, 0.0, float('nan')),
    ),
    'softplus': BuiltinForms(
        phi=(_softplus_phi0, _softplus_phi1, _softplus_phi2, _softplus_phi3, _softplus_phi4),
        kernels={},
        is_odd=False,
        is_scale_invariant=False,
        kinks=(),
        has_closed_form=False,
        at_zero=(0.6931471805599453, 0.5, 4.0),
    ),
}
# fmt: on
