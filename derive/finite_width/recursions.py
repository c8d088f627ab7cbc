"""Finite width beyond mean field: PDLT's kernel K0, four-point vertex V and NLO kernel K1.

Single input, width n, C_W = sigma_w2, C_b = sigma_b2 (docs/conventions.md §7, PDLT conventions)::

    E[z_i(l) z_j(l)]        = delta_ij (K0(l) + K1(l)/n + O(1/n^2))
    Cov(z_i(l)^2, z_j(l)^2) = V(l)/n + O(1/n^2)                       (i != j)

    K0(l+1) = C_b + C_W <phi^2>_K0                      (the mean-field length map)
    V(l+1)  = C_W^2 [<phi^4> - <phi^2>^2]_K0 + chi_par^2 V(l)
    K1(l+1) = chi_par K1(l) + (C_W / 2) d^2<phi^2>/dK^2 V(l)
    K0(1) = C_b + C_W q0,  V(1) = K1(1) = 0              (phi is not applied to the input)

with <f>_K = E f(u), u ~ N(0, K), chi_par = C_W d<phi^2>/dK and chi_perp = C_W <phi'^2>.
(C_W/2) d^2<phi^2>/dK^2 = C_W <phi^2 (z^4 - 6 z^2 K + 3 K^2)>/(8 K^4) is the form of
docs/conventions.md §7.

**How it is derived here.**  In a feedforward net, given layer l the pre-activations of
layer l+1 are iid N(0, G(l+1)) with the *random* variance
G(l+1) = C_b + C_W (1/n) sum_j phi(z_j(l))^2, so G is a Markov chain and, exactly,
E[z^2] = E[G] and Cov(z_i^2, z_j^2) = Var G.  Its conditional mean is F(G) = C_b + C_W <phi^2>_G,
its conditional variance S(G)/n with S = C_W^2 Var_G(phi^2).  Expanding E F(G) and
Var F(G) + E S(G)/n in the cumulants of G (kappa_k = O(n^(1-k))) gives the recursions above at
leading order and, with ``next_order=True``, the next coefficients K2 (E[z^2]) and V1
(Cov), which estimate what the leading truncation leaves out.  The derivatives
d^k<f>/dK^k = <f(sqrt(K) x) He_2k(x)>/(2K)^k (He: Hermite polynomials) need only phi
itself, so kinked activations are handled by the same quadrature.

Numbers come from the closed-form moments where they exist (linear, ReLU, leaky, sin,
cos, ...) and otherwise from composite Gauss-Legendre panels in u with the kinks as panel
edges (~1e-13 relative, smooth or kinked, any variance; see :func:`quadrature_method`).
The two-input version integrates in the plane with the same panels (outer u1, inner u2
given u1), ~1e-12 at any variance.
K0 is the mean-field length-map iterate (:func:`nnqft.derive.meanfield.q_trajectory`), computed
here with the same rule as the other moments.  Sympy expressions come from
:func:`finite_width_symbolic` wherever the Gaussian integrals close.

>>> from nnqft.rules.network import Network
>>> rows = finite_width(Network("feedforward", "tanh", 1.0, 0.0, q0=1.0), depth=6)
>>> round(rows[-1]["K0"], 6), round(rows[-1]["K1"], 6)
(0.103441, -0.079861)
>>> relu = finite_width(Network("feedforward", "relu", 2.0, 0.0), depth=4)
>>> [round(r["V"] / r["K0"] ** 2, 12) for r in relu], [abs(r["K1"]) < 1e-12 for r in relu]
([0.0, 5.0, 10.0, 15.0], [True, True, True, True])
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from ...errors import InvalidParameter, NoExactForm
from ...rules import symbols as S
from ...rules.activations import Activation, get_activation
from ...rules.network import Network, numeric_variances, require_network, resolve_depth
from ..gaussian import (
    PlaneRule,
    closed_form,
    expect,
    gaussian_tail,
    kernel_derivatives,
    panel_method,
)
from ..gaussian.builtin_forms import BUILTIN as _ENGINE_FORMS


def __getattr__(name: str):
    # re-exported for its users; the symbolic integrator imports sympy (PEP 562: when asked)
    if name == "gaussian_moment":
        from ..gaussian.symbolic import gaussian_moment

        return gaussian_moment
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "finite_width",
    "finite_width_symbolic",
    "finite_width_two_inputs",
    "two_input_layer",
    "scale_invariant_closed_form",
    "gaussian_moment",  # noqa: F822 (module __getattr__)
    "universality_class",
    "UniversalityClass",
    "quadrature_method",
]


# --- input handling -----------------------------------------------------------------------


def _network(net) -> Network:
    return require_network(
        net, arch="feedforward", what="the finite-width recursions (docs/conventions.md §7)"
    )


def _numeric(net: Network) -> tuple[float, float, float]:
    cw, cb, q0 = numeric_variances(
        net, "the numeric finite-width recursions", "use finite_width_symbolic for expressions"
    )
    if cb + cw * q0 <= 0:
        raise InvalidParameter(
            "the first-layer variance sigma_b2 + sigma_w2*q0 must be positive "
            f"(got {cb + cw * q0:g}); a zero input with no bias gives z = 0 exactly"
        )
    return cw, cb, q0


def _in_range(K: float, layer: int) -> None:
    """Stop with a clear message when K0 leaves the range where its moments are floats."""
    if not 1e-60 < K < 1e60:
        raise InvalidParameter(
            f"the kernel K0 = {K:g} at layer {layer} is outside the floating-point range "
            "of the recursions (1e-60 .. 1e60); use a smaller depth"
        )


# --- one-variable Gaussian expectations ---------------------------------------------------


def quadrature_method(act: Activation, quadrature: bool = False) -> str:
    """How :func:`finite_width` integrates this activation, with its stated accuracy.

    Closed forms where the moments close (unless ``quadrature``), else the panel rule
    (see :func:`_panel_rule`).

    >>> quadrature_method(get_activation("tanh"))
    'gauss-legendre panels (16 nodes, width <= 1), relative accuracy ~1e-13'
    >>> quadrature_method(get_activation("relu"))
    'closed-form'
    """
    if not quadrature and _closes(act):
        return "closed-form"
    return panel_method(act)


@dataclass(frozen=True)
class _Moments:
    """Gaussian moments of phi^2 at variance K and their K-derivatives (index = order)."""

    m2: tuple  # d^k <phi^2>/dK^k, k = 0..4
    m4: tuple  # d^k <phi^4>/dK^k, k = 0..2
    m6: float  # <phi^6>
    d1: float  # <phi'^2>


#: the moments the recursions need: d^k<phi^2>/dK^k (k <= 4), d^k<phi^4>/dK^k (k <= 2), <phi^6>
_M2 = ("phi^2", "d/dq phi^2", "d^2/dq^2 phi^2", "d^3/dq^3 phi^2", "d^4/dq^4 phi^2")
_M4 = ("phi^4", "d/dq phi^4", "d^2/dq^2 phi^4")


@functools.lru_cache(maxsize=128)
def _closes(act: Activation) -> bool:
    """True when <phi^2>, <phi^4> and <phi^6> all close (entry or symbolic integration)."""
    engine = _ENGINE_FORMS.get(act.name) if act.forms is not None else None
    if engine is not None:  # decided for the built-in entries when they were generated
        return engine.closes
    return all(closed_form(act, w, integrate=True) is not None for w in ("phi^2", "phi^4", "phi^6"))


def _moments(act: Activation, K: float, order: int = 1, quadrature: bool = False) -> _Moments:
    """The moments at variance K: closed forms where they exist, unless ``quadrature``.

    Raises :class:`InvalidParameter` naming the Gaussian integral when it diverges, overflows
    or lies beyond the quadrature's reach at K (never inf/nan as a number).
    """
    if quadrature or not _closes(act):
        _check_integrable(act, K, order)  # a panel sum of a divergent integral is finite
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            mo = _raw_moments(act, K, order, quadrature)
    except (OverflowError, ZeroDivisionError):
        mo = None
    values = () if mo is None else (*mo.m2, *mo.m4, mo.d1) + ((mo.m6,) if order > 1 else ())
    if mo is None or not all(math.isfinite(v) for v in values):
        _check_integrable(act, K, order)
        raise InvalidParameter(
            f"the Gaussian moments of phi = {act.name} overflow at variance K0 = {K:g} "
            "(E[phi^2], E[phi^4] or their K-derivatives exceed the floating-point range); "
            "use a smaller depth or sigma_w2"
        )
    return mo


def _check_integrable(act: Activation, K: float, order: int) -> None:
    """Raise when E[phi^2], E[phi^4] (E[phi^6]) or E[phi'^2] at variance K is not a finite
    number the rules can compute (divergent, overflowing or out of reach)."""
    phi, dphi = act.numeric(0), act.numeric(1)
    checks = [("phi(z)^2", lambda u: phi(u) ** 2), ("phi(z)^4", lambda u: phi(u) ** 4)]
    if order > 1:
        checks.append(("phi(z)^6", lambda u: phi(u) ** 6))
    checks.append(("phi'(z)^2", lambda u: dphi(u) ** 2))
    for what, f in checks:
        why = gaussian_tail(f, K)
        if why is not None:
            raise InvalidParameter(
                f"E[{what}] {_TAIL_WORDS[why]} for {act.name} at variance {K:g} (z ~ N(0, {K:g}))"
            )


_TAIL_WORDS = {
    "diverges": "diverges",
    "overflows": "overflows the floating-point range",
    "unresolved": "is beyond the quadrature's reach (the Gaussian tail does not decay by "
    "13 standard deviations)",
}


def _raw_moments(act: Activation, K: float, order: int, quadrature: bool) -> _Moments:
    """Closed forms when <phi^2>, <phi^4>, <phi^6> all close (unless ``quadrature``), else one
    panel rule; <phi'^2> from the entry's derivative kernel where it has one."""
    d1 = float(expect(act, "phi'^2", K, rule="panel", closed="none" if quadrature else "entry"))
    closed = "integrate" if not quadrature and _closes(act) else "none"
    k2 = 5 if order > 1 or closed == "integrate" else 3
    k4 = 3 if order > 1 or closed == "integrate" else 1
    whats = _M2[:k2] + _M4[:k4] + (("phi^6",) if order > 1 or closed == "integrate" else ())
    vals = [float(v) for v in expect(act, whats, K, rule="panel", closed=closed)]
    m6 = vals[-1] if len(whats) > k2 + k4 else math.nan
    return _Moments(tuple(vals[:k2]), tuple(vals[k2 : k2 + k4]), m6, d1)


# --- the recursions -------------------------------------------------------------------------


def finite_width(
    net: Network, depth: int | None = None, *, next_order: bool = False, quadrature: bool = False
):
    """K0, K1, V (and chi_parallel, chi_perp) for layers 1..depth of a feedforward net.

    Returns one dict per layer with keys ``layer, K0, K1, V, chi_parallel, chi_perp``
    (docs/conventions.md §7; chi's evaluated at K0 of that layer).  With ``next_order=True`` also
    ``K2, V1, W3``: the next coefficients, E[z^2] = K0 + K1/n + K2/n^2 + ...,
    Cov(z_i^2, z_j^2) = V/n + V1/n^2 + ..., third cumulant of the layer variance W3/n^2;
    V1/n (K2/n^2) is the engine's estimate of what the leading order leaves out.

    >>> from nnqft.rules.network import Network
    >>> net = Network("feedforward", "linear", sigma_w2=1.0, sigma_b2=0.0, q0=2.0)
    >>> [(r["K0"], r["K1"], r["V"]) for r in finite_width(net, 3)]   # V = 2 (l-1) K^2
    [(2.0, 0.0, 0.0), (2.0, 0.0, 8.0), (2.0, 0.0, 16.0)]
    >>> row = finite_width(net, 3, next_order=True)[2]    # exact: n Cov = 16 + 16/n
    >>> row["V"], row["V1"], row["K2"]
    (16.0, 16.0, 0.0)
    """
    net = _network(net)
    cw, cb, q0 = _numeric(net)
    T = resolve_depth(net, depth)
    act = net.activation
    order = 2 if next_order else 1
    rows = []
    K = cb + cw * q0
    K1 = V = V1 = W3 = K2 = 0.0
    for layer in range(1, T + 1):
        _in_range(K, layer)
        mo = _moments(act, K, order, quadrature)
        chi_par = cw * mo.m2[1]
        row = {
            "layer": layer,
            "K0": K,
            "K1": float(K1),
            "V": float(V),
            "chi_parallel": chi_par,
            "chi_perp": cw * mo.d1,
        }
        if next_order:
            row |= {"K2": float(K2), "V1": float(V1), "W3": float(W3)}
        rows.append(row)
        if layer == T:
            break
        F1, F2 = chi_par, cw * mo.m2[2]
        Svar = cw**2 * (mo.m4[0] - mo.m2[0] ** 2)
        if next_order:
            F3, F4 = cw * mo.m2[3], cw * mo.m2[4]
            S1 = cw**2 * (mo.m4[1] - 2 * mo.m2[0] * mo.m2[1])
            S2 = cw**2 * (mo.m4[2] - 2 * mo.m2[1] ** 2 - 2 * mo.m2[0] * mo.m2[2])
            R = cw**3 * (mo.m6 - 3 * mo.m4[0] * mo.m2[0] + 2 * mo.m2[0] ** 3)
            K2, V1, W3 = (
                F1 * K2
                + F2 * K1**2 / 2
                + F2 * V1 / 2
                + F3 * K1 * V / 2
                + F3 * W3 / 6
                + F4 * V**2 / 8,
                S1 * K1
                + S2 * V / 2
                + F1**2 * V1
                + 2 * F1 * F2 * K1 * V
                + F1 * F2 * W3
                + (F2**2 / 2 + F1 * F3) * V**2,
                R + 3 * S1 * F1 * V + F1**3 * W3 + 3 * F1**2 * F2 * V**2,
            )
        K1, V = F1 * K1 + F2 * V / 2, Svar + F1**2 * V
        K = cb + cw * mo.m2[0]
    return rows


# --- symbolic Gaussian moments ----------------------------------------------------------------


@functools.lru_cache(maxsize=128)
def _symbolic_moments(act: Activation):
    """(<phi^2>, <phi^4>, <phi'^2>) as expressions in q, each None where it does not close."""
    return tuple(closed_form(act, w, integrate=True) for w in ("phi^2", "phi^4", "phi'^2"))


def finite_width_symbolic(net: Network, depth: int | None = None):
    """K0, K1, V, chi_parallel, chi_perp per layer as sympy expressions (docs/conventions.md §7).

    In the network's sigma_w2, sigma_b2, q0 (symbols by default).  Entries are ``None``
    where the Gaussian integrals do not close (e.g. V and K1 for erf, whose <phi^4> has no
    closed form); :class:`~nnqft.errors.NoExactForm` if not even K0 closes (tanh).

    >>> from nnqft.rules.network import Network
    >>> rows = finite_width_symbolic(Network("feedforward", "relu", sigma_b2=0, q0=S.q0), 3)
    >>> rows[2]["K0"], rows[2]["V"], rows[2]["K1"]
    (q0*sigma_w2**3/4, 5*q0**2*sigma_w2**6/8, 0)
    """
    import sympy as sp

    net = _network(net)
    T = resolve_depth(net, depth)
    act = net.activation
    m2, m4, d1 = _symbolic_moments(act)
    if m2 is None:
        raise NoExactForm(
            f"<phi^2> of activation {act.name!r} has no closed form, so K0 has none; "
            "use finite_width for numbers (closed forms: linear, relu, leaky_relu, abrelu, "
            "erf, sin, cos)"
        )
    cw, cb, q0 = (
        sp.nsimplify(v) if isinstance(v, float) else sp.sympify(v)  # safe: Network-checked
        for v in (net.sigma_w2, net.sigma_b2, net.q0)
    )
    F = cb + cw * m2
    F1, F2 = sp.diff(F, S.q), sp.diff(F, S.q, 2)
    source = None if m4 is None else cw**2 * (m4 - m2**2)
    chi_perp = None if d1 is None else cw * d1
    K, K1, V = cb + cw * q0, sp.Integer(0), sp.Integer(0)
    rows = []
    for layer in range(1, T + 1):

        def at(e, K=K):
            return None if e is None else _tidy(e.subs(S.q, K))

        closed = source is not None
        rows.append(
            {
                "layer": layer,
                "K0": _tidy(K),
                "K1": _tidy(K1) if closed else None,
                "V": _tidy(V) if closed else None,
                "chi_parallel": at(F1),
                "chi_perp": at(chi_perp),
            }
        )
        if layer == T:
            break
        if closed:
            K1, V = at(F1) * K1 + at(F2) * V / 2, at(source) + at(F1) ** 2 * V
        K = at(F)
    return rows


def _tidy(e):
    import sympy as sp

    e = sp.sympify(e)  # safe: an expression the engine just built
    return sp.factor(sp.expand(e)) if e.is_polynomial() or e.is_rational_function() else e


def scale_invariant_closed_form(activation, layer=None):
    """K0, V, K1 in closed form in the layer index for scale-invariant activations at C_b = 0.

    For phi(a z) = a phi(z) and sigma_b2 = 0, <phi^2>_K = A2 K and <phi^4>_K = 3 A4 K^2,
    so K0(l) = (C_W A2)^(l-1) C_W q0, V(l) = nu (l-1) K0(l)^2 with nu = 3 A4/A2^2 - 1, and
    K1 = 0, for every C_W (PDLT's scale-invariant universality class).

    >>> cf = scale_invariant_closed_form("relu")
    >>> cf["nu"], cf["K0"], cf["K1"]
    (5, 2**(1 - T)*q0*sigma_w2**T, 0)
    >>> scale_invariant_closed_form("linear")["V"]
    2*q0**2*sigma_w2**(2*T)*(T - 1)
    """
    import sympy as sp

    layer = S.T if layer is None else layer  # the default: the symbolic layer index T
    from ..convert import to_sympy

    act = get_activation(activation)
    if not act.is_scale_invariant:
        raise InvalidParameter(
            f"activation {act.name!r} is not scale-invariant (phi(a z) = a phi(z)); "
            "closed forms in the layer index exist for linear, relu, leaky_relu, abrelu"
        )
    m2, m4, _ = _symbolic_moments(act)
    if m2 is None or m4 is None:
        raise NoExactForm(f"the Gaussian moments of {act.name!r} do not close")
    A2 = sp.simplify(m2 / S.q)
    nu = sp.simplify(m4 / m2**2 - 1)
    l = to_sympy(layer, "layer")
    K0 = sp.powsimp(sp.expand_power_base((S.sigma_w2 * A2) ** (l - 1) * S.sigma_w2 * S.q0))
    return {"K0": K0, "V": sp.factor(nu * (l - 1) * K0**2), "K1": sp.Integer(0), "nu": nu}


# --- two inputs ------------------------------------------------------------------------------


_PAIRS = ((0, 0), (1, 1), (0, 1))  # the kernel components (11, 22, 12)


def _cross_derivatives(act, cw, k11, k22, k12, rule, quadrature=False):
    """Row 12 of the Jacobian and the Hessian of F12 = C_b + C_W E[phi(u1) phi(u2)]."""
    has_kernel = "phi phi" in act.forms.kernels if act.forms is not None else act.kernel is not None
    if has_kernel and not quadrature:
        grad, hess = kernel_derivatives(act)
        a = (k11, k22, k12)
        return (
            np.array([cw * float(g(*a)) for g in grad]),
            np.array([[cw * float(h(*a)) for h in row] for row in hess]),
        )
    engine = _ENGINE_FORMS.get(act.name) if act.forms is not None else None
    if engine is not None:
        rough = not engine.smooth  # built-ins: decided when their forms were generated
    else:
        import sympy as sp

        rough = act.kinks or act.derivative(2).has(sp.DiracDelta, sp.Heaviside, sp.Piecewise)
    if rough:
        raise NoExactForm(
            f"two-input finite width for {act.name!r} needs a smooth activation or a "
            "closed-form kernel (Price's theorem differentiates phi up to 4 times)"
        )
    d = [act.numeric(k) for k in range(5)]

    def E(i, j):  # E[phi^(i)(u1) phi^(j)(u2)]
        return rule.mean(d[i], d[j])

    grad = cw * np.array([E(2, 0) / 2, E(0, 2) / 2, E(1, 1)])
    h12 = E(2, 2)
    hess = cw * np.array(
        [
            [E(4, 0) / 4, h12 / 4, E(3, 1) / 2],
            [h12 / 4, E(0, 4) / 4, E(1, 3) / 2],
            [E(3, 1) / 2, E(1, 3) / 2, h12],
        ]
    )
    return grad, hess


def finite_width_two_inputs(
    net: Network, c0: float, depth: int | None = None, *, quadrature: bool = False
):
    """The kernel matrix K_{alpha beta} at O(1) and O(1/n) for two inputs, layer by layer.

    Inputs of norm q0 and correlation ``c0`` (as
    :func:`nnqft.derive.meanfield.correlation_trajectory`).
    Per layer: ``K0`` and ``K1`` as (K11, K22, K12), ``V`` the 3x3 matrix with
    Cov(z_i,a z_i,b, z_j,c z_j,d) = V[(ab),(cd)]/n (i != j; basis 11, 22, 12), and the
    correlation E[z1 z2]/sqrt(E z1^2 E z2^2) = ``correlation0`` + ``correlation1``/n.
    The same Markov-chain expansion as :func:`finite_width`, for the 2x2 layer covariance:
    K1' = J K1 + (1/2) tr(H V), V' = S + J V J^T, J and H the Jacobian and Hessians of the
    mean-field maps: the closed-form kernel differentiated where there is one (unless
    ``quadrature``), else Price's theorem (smooth activations); two-variable integrals by
    a panel rule good to ~1e-12 at any variance.  Kinked activations need |c0| < 1 (their
    kernels are not twice differentiable at c = 1).

    >>> from nnqft.rules.network import Network
    >>> net = Network("feedforward", "tanh", 1.5, 0.05)
    >>> two = finite_width_two_inputs(net, 1.0, 4)        # identical inputs: one input
    >>> one = finite_width(net, 4)
    >>> bool(abs(two[-1]["K1"][2] - one[-1]["K1"]) < 1e-10)
    True
    >>> bool(abs(two[-1]["V"][0][2] - one[-1]["V"]) < 1e-10)
    True
    """
    net = _network(net)
    cw, cb, q0 = _numeric(net)
    T = resolve_depth(net, depth)
    if isinstance(c0, bool) or not isinstance(c0, numbers.Real) or not -1 <= c0 <= 1:
        raise InvalidParameter(f"input correlation c0 must be a number in [-1, 1], got {c0!r}")
    act = net.activation
    k = np.array([cb + cw * q0, cb + cw * q0, cb + cw * q0 * float(c0)])
    K1 = np.zeros(3)
    V = np.zeros((3, 3))
    rows = []
    for layer in range(1, T + 1):
        k11, k22, k12 = (float(v) for v in k)
        _in_range(min(k11, k22), layer)
        _in_range(max(k11, k22), layer)
        rho0 = k12 / math.sqrt(k11 * k22)
        rho1 = (
            rho0 * (K1[2] / k12 - (K1[0] / k11 + K1[1] / k22) / 2)
            if k12
            else K1[2] / math.sqrt(k11 * k22)
        )
        rows.append(
            {
                "layer": layer,
                "K0": k.tolist(),
                "K1": K1.tolist(),
                "V": V.tolist(),
                "correlation0": rho0,
                "correlation1": float(rho1),
            }
        )
        if layer == T:
            break
        F, J, H, Scov = two_input_layer(act, cw, cb, k, quadrature=quadrature)
        # H[c] holds d^2 F_c / dq_a dq_b; V[a, b] pairs the kernel components the same way
        K1 = J @ K1 + 0.5 * np.einsum("cab,ab->c", H, V)
        V = Scov + J @ V @ J.T
        k = F
    return rows


def two_input_layer(act: Activation, cw: float, cb: float, k, *, quadrature: bool = False):
    """One layer's mean-field map of the two-input kernel and what the 1/n terms need.

    At kernel ``k`` = (K11, K22, K12) of a layer: ``F`` the next layer's kernel
    C_b + C_W E[phi(u_a) phi(u_b)], ``J`` = dF/dk (3x3), ``H`` = d^2F/dk^2 (3x3x3, H[c]
    the Hessian of F_c), ``S`` = C_W^2 Cov(phi_a phi_b, phi_c phi_d) (3x3, the per-neuron
    covariance of the products in the basis 11, 22, 12), so that one layer of
    :func:`finite_width_two_inputs` is K0' = F, K1' = J K1 + tr(H V)/2, V' = S + J V J^T.

    >>> from nnqft.rules.activations import get_activation
    >>> F, J, H, S = two_input_layer(get_activation("linear"), 2.0, 0.5, [1.0, 1.0, 0.5])
    >>> F.tolist(), J[2].tolist()
    ([2.5, 2.5, 1.5], [0.0, 0.0, 2.0])
    """
    closed = "none" if quadrature else "entry"
    kinks = act.kink_points
    powers = [act.numeric(0)] + [(lambda u, i=i: act.numeric(0)(u) ** i) for i in (2, 3)]
    k11, k22, k12 = (float(v) for v in k)
    mo = [_moments(act, kk, 1, quadrature) for kk in (k11, k22)]
    rule = PlaneRule(k11, k22, k12, kinks)
    grad12, hess12 = _cross_derivatives(act, cw, k11, k22, k12, rule, quadrature)
    J = np.zeros((3, 3))
    J[0, 0], J[1, 1], J[2] = cw * mo[0].m2[1], cw * mo[1].m2[1], grad12
    H = np.zeros((3, 3, 3))
    H[0, 0, 0], H[1, 1, 1], H[2] = cw * mo[0].m2[2], cw * mo[1].m2[2], hess12

    def E(i, j):  # E[phi(u1)^i phi(u2)^j]
        return rule.mean(powers[i - 1], powers[j - 1])

    e11, e22 = mo[0].m2[0], mo[1].m2[0]
    e12 = float(expect(act, "phi phi", k11, k22, k12, rule="panel", closed=closed))
    e22_22 = E(2, 2)
    Scov = cw**2 * np.array(
        [
            [mo[0].m4[0] - e11**2, e22_22 - e11 * e22, E(3, 1) - e11 * e12],
            [e22_22 - e11 * e22, mo[1].m4[0] - e22**2, E(1, 3) - e22 * e12],
            [E(3, 1) - e11 * e12, E(1, 3) - e22 * e12, e22_22 - e12**2],
        ]
    )
    F = np.array([cb + cw * e11, cb + cw * e22, cb + cw * e12])
    return F, J, H, Scov


# --- universality classes ----------------------------------------------------------------------


@dataclass(frozen=True)
class UniversalityClass:
    """PDLT's universality class of an activation at criticality, with derived constants.

    ``name`` is ``'scale-invariant'``, ``'K*=0'``, ``'K*!=0'`` or ``'none'``; ``sigma_w2``,
    ``sigma_b2``, ``K_star`` the critical point; ``constants`` the derived numbers (``nu``;
    ``a1`` and the Taylor coefficients; ``nu_eff``); ``large_depth`` the limits the
    recursions approach, as {statement: value}.
    """

    activation: str
    name: str
    sigma_w2: object = None
    sigma_b2: object = None
    K_star: object = None
    constants: dict = field(default_factory=dict)
    large_depth: dict = field(default_factory=dict)
    description: str = ""

    def as_dict(self) -> dict:
        """Plain dict (for JSON output)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _as_number(e):
    import sympy as sp

    e = sp.nsimplify(e) if isinstance(e, float) else sp.sympify(e)  # safe: engine constant
    return e if e.is_Rational else float(e)


def _scale_invariant_class(act: Activation) -> UniversalityClass:
    import sympy as sp

    m2, m4, _ = _symbolic_moments(act)
    if m2 is not None and m4 is not None:
        A2, A4 = sp.simplify(m2 / S.q), sp.simplify(m4 / (3 * S.q**2))
    else:  # numeric, at K = 1
        mo = _moments(act, 1.0)
        A2, A4 = sp.Float(mo.m2[0]), sp.Float(mo.m4[0] / 3)
    nu = sp.simplify(3 * A4 / A2**2 - 1)
    return UniversalityClass(
        act.name,
        "scale-invariant",
        sigma_w2=_as_number(1 / A2),
        sigma_b2=0,
        K_star=None,
        constants={"A2": _as_number(A2), "A4": _as_number(A4), "nu": _as_number(nu)},
        large_depth={
            "K0(l) = K0(1)": True,
            "V/K0^2 = nu (l-1), exact in l": _as_number(nu),
            "K1 = 0, exact": 0,
        },
        description="phi(a z) = a phi(z): chi_par = chi_perp = 1 at C_b = 0, C_W = 1/A2 for "
        "every K; V/(n K^2) = nu (l-1)/n with nu = 3 A4/A2^2 - 1",
    )


def _taylor(act: Activation, order: int = 3):
    import sympy as sp

    series = sp.series(act.expr, S.z, 0, order + 1).removeO()
    return [sp.simplify(series.coeff(S.z, k) * sp.factorial(k)) for k in range(order + 1)]


def _nonzero_critical_point(act: Activation):
    """K* > 0 with chi_par = chi_perp at C_W = 1/<phi'^2>_K*, C_b = K* - C_W <phi^2>_K* >= 0."""
    from scipy.optimize import brentq

    def gap(logk):
        mo = _moments(act, math.exp(logk))
        return mo.m2[1] / mo.d1 - 1.0

    grid = np.linspace(math.log(1e-3), math.log(1e2), 101)
    vals = [gap(g) for g in grid]
    for a, b, fa, fb in zip(grid, grid[1:], vals, vals[1:]):
        if fa == 0 or fa * fb < 0:
            logk = a if fa == 0 else brentq(gap, a, b, xtol=1e-14, rtol=1e-14)
            K = math.exp(logk)
            mo = _moments(act, K)
            cw = 1.0 / mo.d1
            cb = K - cw * mo.m2[0]
            if cb >= -1e-12:
                return K, cw, max(cb, 0.0), mo
    return None


def universality_class(activation) -> UniversalityClass:
    """The activation's universality class at criticality and its large-depth behaviour.

    - scale-invariant (linear, ReLU, leaky): nu = 3 A4/A2^2 - 1 derived from the moments
      <phi^2>_K = A2 K, <phi^4>_K = 3 A4 K^2; V/(n K^2) = nu (l-1)/n exactly.
    - K* = 0 (tanh, erf, sin): phi(0) = 0, phi'(0) = s1 != 0 and
      a1 = s3/s1 + (3/4)(s2/s1)^2 < 0 (s_k = phi^(k)(0)); critical at C_b = 0, C_W = 1/s1^2;
      (-a1) l K -> 1, V/(l K^2) -> 2/3, K1 -> 1/(3 a1).
    - K* != 0 (GELU, swish): chi_par = chi_perp = 1 at a K* > 0 with C_b >= 0; then
      V/(l K*^2) -> nu_eff = C_W^2 Var(phi^2)_K*/K*^2 and K1/(l^2 K*) -> chi_par' nu_eff K*/4,
      where chi_par' = C_W d^2<phi^2>/dK^2 at K*.

    >>> universality_class("relu").constants["nu"]
    5
    >>> u = universality_class("tanh")
    >>> u.name, u.sigma_w2, u.constants["a1"], u.large_depth["(-a1) l K0 ->"]
    ('K*=0', 1, -2, 1)
    """
    import sympy as sp

    act = get_activation(activation)
    if sp.simplify(act.derivative(1)) == 0:
        raise InvalidParameter(
            f"activation {act.name!r} is constant (phi' = 0): chi_perp = C_W E[phi'^2] = 0 "
            "for every C_W, so it has no criticality and no universality class"
        )
    if act.is_scale_invariant:
        return _scale_invariant_class(act)
    smooth_at_0 = 0 not in [float(k) for k in act.kinks]
    if smooth_at_0:
        s0, s1, s2, s3 = _taylor(act)
        if s0 == 0 and s1 != 0:
            a1 = sp.simplify(s3 / s1 + sp.Rational(3, 4) * (s2 / s1) ** 2)
            if a1.is_negative:
                return UniversalityClass(
                    act.name,
                    "K*=0",
                    sigma_w2=_as_number(1 / s1**2),
                    sigma_b2=0,
                    K_star=0,
                    constants={
                        "s1": _as_number(s1),
                        "s2": _as_number(s2),
                        "s3": _as_number(s3),
                        "a1": _as_number(a1),
                    },
                    large_depth={
                        "(-a1) l K0 ->": 1,
                        "V/(l K0^2) ->": sp.Rational(2, 3),
                        "K1 ->": _as_number(1 / (3 * a1)),
                    },
                    description="phi(0) = 0: at C_b = 0, C_W = 1/phi'(0)^2 the kernel decays as "
                    "1/((-a1) l), a1 = s3/s1 + (3/4)(s2/s1)^2 < 0",
                )
    found = _nonzero_critical_point(act)
    if found is not None:
        K, cw, cb, mo = found
        nu_eff = cw**2 * (mo.m4[0] - mo.m2[0] ** 2) / K**2
        curvature = cw * mo.m2[2]
        return UniversalityClass(
            act.name,
            "K*!=0",
            sigma_w2=cw,
            sigma_b2=cb,
            K_star=K,
            constants={"nu_eff": nu_eff, "chi_par_curvature": curvature},
            large_depth={
                "K0 = K*": K,
                "V/(l K*^2) ->": nu_eff,
                "K1/(l^2 K*) ->": curvature * nu_eff * K / 4,
            },
            description="chi_par = chi_perp = 1 at a nonzero fixed point K*; K* is marginal "
            "(half-stable), V grows linearly and K1 quadratically in l",
        )
    return UniversalityClass(
        act.name,
        "none",
        description="no criticality: not scale-invariant, no K*=0 class (needs phi(0) = 0, "
        "a1 < 0) and no K* > 0 with chi_par = chi_perp = 1 and sigma_b2 >= 0",
    )
