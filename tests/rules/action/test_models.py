"""The models' actions (nnqft.rules.action.models) as objects.

Independent routes: the O(N) action evaluated at random fields against phi.phi/2 +
(g/4!)(phi.phi)^2 computed with numpy; the linear network's generic action with its kernels
put in against the contracted averaged action of rules.action.disorder (normal forms equal).
"""

import numpy as np
import pytest
import sympy as sp

from nnqft.algebra import normal_form
from nnqft.errors import InvalidParameter
from nnqft.rules.action import averaged_action
from nnqft.rules.action.models import (
    O_N_INDEX,
    PHI,
    Action,
    linear_network_action,
    on_phi4_action,
)
from nnqft.rules.feynman import TIMES, Field, g
from nnqft.rules.network import Network

NETS = [("feedforward", None), ("recurrent", "shared"), ("recurrent", "fresh")]


def test_on_phi4_action_is_the_quartic_model():
    n = 3
    act = on_phi4_action(width=n)
    rng = np.random.default_rng(11)
    values = rng.normal(size=n)
    at = {PHI[k + 1]: values[k] for k in range(n)}
    dot = values @ values
    for coupling in (0.0, 0.7):
        got = float(act.exponent.doit().subs(at).subs(g, coupling))
        assert np.isclose(got, dot / 2 + coupling / 24 * dot**2)
    assert act.sign == -1 and act.slots == ("index",) and act.field_names == ("phi",)
    assert act.exponent.has(O_N_INDEX)
    assert act.text().startswith("exp(-S), S = ")


@pytest.mark.parametrize("arch,bias", NETS)
def test_linear_action_with_its_kernels_is_the_averaged_action(arch, bias):
    net = Network(arch, "linear", bias=bias)
    act = linear_network_action(net)
    kernels = dict(act.kernels)
    put_in = act.exponent.replace(
        lambda f: f.func in kernels,
        lambda f: kernels[f.func].xreplace(dict(zip(TIMES, f.args))),
    )
    contracted = averaged_action(net).replace(
        sp.Function("phi"), sp.Lambda(sp.Symbol("u"), sp.Symbol("u"))
    )
    assert normal_form(put_in - contracted) == []
    assert act.sign == 1 and act.response == (("zt", "z"),)
    assert all(f"{k}(t,s) = " in act.text() for k in kernels)


def test_nonlinear_activation_stays_in_the_action():
    act = linear_network_action(Network("feedforward", "tanh"))
    assert act.exponent.has(sp.tanh) and act.model == "tanh-feedforward"


def test_bad_actions_objects():
    x = sp.Symbol("x")
    field = (Field("x", "x", "scalar", ""),)
    with pytest.raises(InvalidParameter, match="sign"):
        Action("bad", x**2, 2, field)
    with pytest.raises(InvalidParameter, match="slot"):
        Action("bad", x**2, 1, field, slots=("replica",))
