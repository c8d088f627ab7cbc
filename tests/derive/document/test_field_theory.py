"""The field-theory chapters: their closed forms against quadrature and the numeric edge
of chaos of derive.meanfield, and the chain's equations are the engine's objects."""

import numpy as np
import pytest
import sympy as sp
from scipy.special import erf

from nnqft.derive import meanfield as mft
from nnqft.derive.document.field_theory import activation_results, field_theory
from nnqft.errors import UnknownName
from nnqft.rules import symbols as S
from nnqft.rules.activations import get_activation

# E f(z), z ~ N(0, 1), by the trapezoidal rule (exponentially accurate for analytic f)
Z = np.linspace(-12.0, 12.0, 481)
W = np.exp(-(Z**2) / 2)
W = W / W.sum()
PHI = {"erf": erf, "sin": np.sin, "linear": lambda u: u}
DPHI = {
    "erf": lambda u: 2 / np.sqrt(np.pi) * np.exp(-(u**2)),
    "sin": np.cos,
    "linear": np.ones_like,
}


@pytest.mark.parametrize("name", sorted(PHI))
def test_length_map_and_chi1_equal_quadrature(name):
    """q -> sigma_w2 E[phi(sqrt(q) z)^2] + sigma_b2 and chi_1 = sigma_w2 E[phi'^2], by hand."""
    results = activation_results(get_activation(name))
    sw, sb = 1.7, 0.2
    for q in (0.3, 1.0, 2.5):
        u = np.sqrt(q) * Z
        length = float(results["length_map"].subs({S.sigma_w2: sw, S.sigma_b2: sb, S.q: q}))
        assert length == pytest.approx(sw * W @ PHI[name](u) ** 2 + sb, rel=1e-10)
        chi = results["chi_1"].subs(S.sigma_w2, sw)
        chi = float(chi.subs({s: q for s in chi.free_symbols}))
        assert chi == pytest.approx(sw * W @ DPHI[name](u) ** 2, rel=1e-10)


@pytest.mark.parametrize("name", ["erf", "relu", "sin"])
def test_critical_point_equals_the_numeric_edge_of_chaos(name):
    """The chapter's sigma_w2 at criticality (sigma_b2 = 0) = mft.critical_line's root."""
    critical = activation_results(get_activation(name))["critical"]
    line = mft.critical_line(get_activation(name), np.array([0.0]))
    assert float(critical.rhs) == pytest.approx(float(line.sigma_w2[0]), rel=1e-9)


def test_the_chain_ends_at_the_edge_of_chaos():
    for arch, bias in (("feedforward", None), ("recurrent", "shared")):
        d = field_theory(arch, bias)
        assert d.steps[-1].equations[0].expr == sp.Eq(sp.Symbol("chi_1", positive=True), 1)
        assert all(isinstance(eq.expr, sp.Basic) for step in d.steps for eq in step.equations)
    with pytest.raises(UnknownName):
        field_theory(steps=["no such step"])
