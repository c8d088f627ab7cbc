"""The generated engine forms (d E[phi^2]/dq, the fused integrand) are the lambdified sympy
entries: the same text as :func:`generate` writes today and the same bits."""

import importlib
import pathlib

import numpy as np
import pytest

from nnqft.derive.gaussian import builtin_forms as G
from nnqft.rules import activations as A
from nnqft.rules import symbols as S
from nnqft.rules.builtin_forms import _MARK

E = importlib.import_module("nnqft.derive.gaussian.expect")  # the module, not the function
RNG = np.random.default_rng(14)
Z = np.concatenate([RNG.normal(0, 3, 400), [-800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0]])


def _same_bits(a, b) -> bool:
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    return bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def test_generated_part_is_what_generate_writes_today():
    text = pathlib.Path(G.__file__).read_text().split(_MARK)[1].lstrip("\n")
    assert text == G.generate()


@pytest.mark.parametrize("name", A.DEFERRED)
def test_slope_and_fused_integrand_match_the_lambdified_entry(name):
    full, forms = A._REGISTRY[name](), G.BUILTIN[name]
    slope = E.closed_form(full, "d/dq phi^2")
    assert (forms.slope is None) == (slope is None)
    q = RNG.uniform(0, 30, 300)
    if slope is not None:
        assert _same_bits(forms.slope(q), A.numeric_function(slope, (S.q,))(q))
    assert forms.smooth == E._smooth(full)
    if forms.fused is None:
        assert not forms.smooth
        return
    square, slopes = E._fused_lambdas(full)
    with np.errstate(all="ignore"):
        assert _same_bits(forms.fused[0](Z), square(Z))
        for got, want in zip(forms.fused[1](Z), slopes(Z)):
            assert _same_bits(got, want)


@pytest.mark.parametrize("name", A.DEFERRED)
def test_expect_gives_the_same_bits_deferred_and_from_sympy(name):
    """The whole engine route: expect() of the deferred activation (numpy forms) against the
    same activation read from its sympy entry (lambdify), for every mean-field quantity."""
    deferred, full = A.get_activation(name), A._REGISTRY[name]()
    assert deferred.forms is not None and full.forms is None
    q = RNG.uniform(0, 12, 40)
    q11, q22 = q, RNG.uniform(0, 12, 40)
    q12 = RNG.uniform(-1, 1, 40) * np.sqrt(q11 * q22)
    for kw in ({}, {"nodes": 301}, {"rule": "hermite"}):
        a = E.expect(deferred, E.MEAN_FIELD, q, **kw)
        b = E.expect(full, E.MEAN_FIELD, q, **kw)
        assert all(_same_bits(x, y) for x, y in zip(a, b)), kw
        for what in ("phi phi", "phi' phi'"):
            a = E.expect(deferred, what, q11, q22, q12, **kw)
            assert _same_bits(a, E.expect(full, what, q11, q22, q12, **kw)), (what, kw)
    for what in ("phi'", "phi^4", "d^2/dq^2 phi^2"):
        a = E.expect(deferred, what, 0.7, rule="panel")
        assert _same_bits(a, E.expect(full, what, 0.7, rule="panel")), what
