"""The generated numeric forms of the built-in activations are the lambdified sympy entries.

Three routes must agree: the generated text equals what :func:`generate` writes from the
registry today (no drift); every generated function gives the same bits as lambdifying the
sympy expression it came from (so outputs stay byte-identical); and the traits equal what
:class:`Activation` decides from ``expr``.
"""

import pathlib

import numpy as np
import pytest

from nnqft.rules import activations as A
from nnqft.rules import builtin_forms as B
from nnqft.rules import symbols as S

NAMES = A.DEFERRED
RNG = np.random.default_rng(20261202)
#: phi's arguments: typical pre-activations, far tails (overflow branches) and exact points
Z = np.concatenate([RNG.normal(0, 3, 400), [-800.0, -40.0, -1.0, 0.0, 1e-300, 1.0, 40.0, 800.0]])


def _generated_text() -> str:
    return pathlib.Path(B.__file__).read_text().split(B._MARK)[1].lstrip("\n")


def test_generated_part_is_what_generate_writes_today():
    assert _generated_text() == B.generate()


def _same_bits(a, b) -> bool:
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@pytest.mark.parametrize("name", NAMES)
def test_phi_and_derivatives_match_the_lambdified_entry_bit_for_bit(name):
    full, forms = A._REGISTRY[name](), B.BUILTIN[name]
    for k, f in enumerate(forms.phi):
        expr = full.derivative(k) if k else full.expr
        if f is None:  # a delta function: no numeric form (the sympy route has none either)
            assert expr.has(A_sympy().DiracDelta, A_sympy().Heaviside)
            continue
        with np.errstate(all="ignore"):
            assert _same_bits(f(Z), A.numeric_function(expr)(Z)), (name, k)


def A_sympy():
    import sympy

    return sympy


def _covariances(n: int):
    q11, q22 = RNG.uniform(1e-3, 20, n), RNG.uniform(1e-3, 20, n)
    c = np.concatenate([RNG.uniform(-1, 1, n - 3), [-1.0, 0.0, 1.0]])
    return q11, q22, c * np.sqrt(q11 * q22)


@pytest.mark.parametrize("name", NAMES)
def test_kernels_match_the_lambdified_entry_bit_for_bit(name):
    full, forms = A._REGISTRY[name](), B.BUILTIN[name]
    pair, q = _covariances(300), RNG.uniform(0, 30, 300)
    exprs = {
        "phi phi": (full.kernel, (S.q11, S.q22, S.q12), pair),
        "phi' phi'": (full.derivative_kernel, (S.q11, S.q22, S.q12), pair),
        "phi^2": (A.diagonal_kernel(full, 0), (S.q,), (q,)),
        "phi'^2": (A.diagonal_kernel(full, 1), (S.q,), (q,)),
    }
    for what, (expr, args, values) in exprs.items():
        assert (what in forms.kernels) == (expr is not None), (name, what)
        if expr is None:
            continue
        with np.errstate(all="ignore"):
            got = forms.kernels[what](*values)
            want = A.numeric_function(expr, args)(*values)
        assert _same_bits(got, want), (name, what)


@pytest.mark.parametrize("name", NAMES)
def test_traits_equal_what_the_sympy_entry_decides(name):
    full, forms = A._REGISTRY[name](), B.BUILTIN[name]
    assert forms.is_odd == full.is_odd
    assert forms.is_scale_invariant == full.is_scale_invariant
    assert forms.has_closed_form == full.has_closed_form
    assert forms.kinks == tuple(float(k) for k in full.kinks)
    for k in (0, 1, -1):
        assert _same_bits(forms.at_zero[k if k >= 0 else 2], full.at_zero(k)), (name, k)


@pytest.mark.parametrize("name", NAMES)
def test_deferred_activation_is_the_registry_entry(name):
    """get_activation gives the deferred activation; read, its sympy fields are the entry's."""
    act, full = A.get_activation(name), A._REGISTRY[name]()
    assert act.forms is B.BUILTIN[name]
    assert act == full and full == act and hash(act) == hash(A.get_activation(name))
    for field in ("expr", "kernel", "derivative_kernel", "description", "moments"):
        assert getattr(act, field) == getattr(full, field), field
    assert repr(act) == repr(full) and act.kinks == full.kinks


def test_generated_code_uses_the_functions_lambdify_binds():
    """Each name of a generated function is the very object lambdify's namespace holds
    (scipy's erf behind a lazy wrapper), so no number can differ."""
    from scipy.special import erf

    for name in NAMES:
        full, forms = A._REGISTRY[name](), B.BUILTIN[name]
        for k, f in enumerate(forms.phi):
            if f is None or not f.__name__.startswith(f"_{name}_phi"):
                continue  # none, or constant(value)
            ref = A.numeric_function(full.derivative(k) if k else full.expr)
            for used in f.__code__.co_names:
                mine = B.erf if used == "erf" else getattr(B, used)
                theirs = ref.__globals__.get(used)
                if used == "erf":
                    assert theirs is erf
                elif isinstance(theirs, float):
                    assert mine == theirs or (np.isnan(mine) and np.isnan(theirs))
                elif theirs is not None:
                    assert mine is theirs, used


def test_a_reregistered_name_is_not_deferred():
    original = A._REGISTRY["tanh"]
    try:
        A.register("tanh", A.Activation("tanh", 2 * A_sympy().tanh(S.z)))
        assert A.get_activation("tanh").forms is None
        assert A.get_activation("tanh").expr == 2 * A_sympy().tanh(S.z)
    finally:
        A._REGISTRY["tanh"] = original
        A._build.cache_clear()
    assert A.get_activation("tanh").forms is B.BUILTIN["tanh"]
