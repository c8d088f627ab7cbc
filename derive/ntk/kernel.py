"""The neural tangent kernel (NTK) at infinite width, layer by layer (docs/conventions.md §10).

PDLT conventions: z(1) = W(1) x + b(1), z(l+1) = W(l+1) phi(z(l)) + b(l+1), W(l) ~
N(0, C_W/n_{l-1}), b ~ N(0, C_b), C_W = sigma_w2, C_b = sigma_b2.  The NTK of layer l is

    H_ij(l; x, x') = sum_theta lambda_theta dz_i(l; x)/dtheta dz_j(l; x')/dtheta,

the sum over every weight and bias of layers 1..l, with learning-rate factors lambda_b for
biases and lambda_W/n_{m-1} for the weights W(m) of layer m.

**Derivation (feedforward).**  Split the parameters into those of layer l+1 and the
rest.  The bias b_i(l+1) contributes lambda_b d_ij; the weights W_ik(l+1) contribute
(lambda_W/n_l) sum_k phi(z_k(l; x)) phi(z_k(l; x')) d_ij.  Every earlier parameter
reaches z_i(l+1) through the chain rule, dz_i(l+1)/dtheta = sum_k W_ik phi'(z_k(l))
dz_k(l)/dtheta, so these contribute sum_{k,m} W_ik W_jm phi'(z_k) phi'(z'_m) H_km(l).
At infinite width the neuron sums self-average to Gaussian expectations over the
pre-activations of layer l, whose covariance is the mean-field kernel K(l) of §3,
H_km(l) -> d_km H(l), and sum_k W_ik W_jk g_k -> d_ij C_W <g>.  Hence H_ij(l) = d_ij H(l)
with

    H(1)   = lambda_b + lambda_W q0                      (phi is not applied to the input)
    H(l+1) = lambda_b + lambda_W <phi(u) phi(u')>_K(l) + C_W <phi'(u) phi'(u')>_K(l) H(l),

and for two inputs the same recursion entry by entry for the 2x2 Gram matrix H_ab(l),
H_12(1) = lambda_b + lambda_W q0 c0, the expectations over (u, u') ~ N(0, K(l)) with the
correlation map of §3.  With lambda_b = C_b and lambda_W = C_W, H(1) = K(1): the first
layer's NTK is its kernel.  The factor C_W <phi'^2> multiplying H(l) is chi_1 of §3 at
q = K(l) (``chi_perp`` in PDLT), so H grows or decays like the squared gradients.

**Derivation (recurrent, backpropagation through time).**  One W serves every step,
z(t) = W phi(z(t-1)) + b(t) with phi(z(0)) = x, and b shared (one b) or fresh (one per
step).  The gradient of z_i(T) with respect to the shared W collects one term per step,

    dz_i(T)/dW_ab = sum_t g_ia(T, t) phi_b(z(t-1)),   g(T, t) = dz(T)/dz(t),

with g(T, T) = 1 and g(T, t) = g(T, t+1) W D(t), D(t) = diag phi'(z(t)).  So

    H_ii(T) = sum_{t, s} Gamma(t, s) [lambda_W Phi(t-1, s-1) + lambda_b B(t, s)],
    Gamma(t, s) = sum_a g_ia(T, t) g_ia(T, s),   Phi(t, s) = phi(z(t)).phi(z(s))/N,

B(t, s) = 1 (shared bias) or d_ts (fresh): contributions of different steps t != s
add up with the two-time kernel Phi(t-1, s-1) of the forward pass (§1; Phi(0, s) =
x.phi(z(s))/N).  At infinite width the backward kernel obeys Gamma(t, s) = C_W
<phi'(z(t)) phi'(z(s))> Gamma(t+1, s+1) (the forward W and the backward W^T decouple:
the gradient-independence of wide nets) and ends at Gamma(T, T) = 1 but Gamma(T, s) =
g_ii(T, s) -> 0 for s < T (a diagonal element of a product of random matrices,
O(N^-1/2)).  So Gamma(t, s) = 0 unless t = s: the cross-time terms, of either bias
convention, vanish at infinite width (the backward paths from z(T) to steps t and s have
different lengths), and what remains, Gamma(t, t) = prod_{u=t}^{T-1} C_W <phi'^2>_q(u)
with the equal-time kernel q(u) of the mean-field theory (the same as feedforward, §3),
is the feedforward recursion above.  The recurrent NTK equals the feedforward one at
infinite width, for shared and fresh biases alike; weight sharing and the shared bias
show first at O(1/N).  :mod:`nnqft.derive.montecarlo.ntk` measures the cross-time part
of real recurrent nets: it falls off with N.

Gaussian expectations come from :func:`nnqft.derive.gaussian.expect`: the activation's
closed-form kernels where it has them (linear, ReLU family, erf, GELU, sin, cos),
quadrature otherwise.

>>> from nnqft.rules.network import Network
>>> rows = ntk_trajectory(Network("feedforward", "relu", 2.0, 0.0), depth=3)
>>> [r["ntk"] for r in rows]                      # H(l) = l q0 (sigma_w2/2)^(l-1) + l
[2.0, 4.0, 6.0]
>>> two = ntk_trajectory(Network("feedforward", "linear", 1.0, 0.0), 2, c0=0.5)
>>> two[-1]["ntk"]
[[4.0, 3.0], [3.0, 4.0]]
"""

from __future__ import annotations

import math
import numbers

from ...errors import InvalidParameter, InvalidType
from ...rules.network import Network, numeric_variances, require_network, resolve_depth
from ...rules.symbols import is_sympy
from ..gaussian import expect

__all__ = ["ntk_trajectory", "learning_rates", "check_correlation"]


def learning_rates(lambda_b=1, lambda_W=1, *, symbolic: bool = False) -> tuple:
    """Validate the learning-rate factors (lambda_b, lambda_W): real, finite, >= 0.

    Numbers come back as floats; with ``symbolic=True`` sympy objects pass unchanged.

    >>> learning_rates(1, 0.5)
    (1.0, 0.5)
    >>> learning_rates(-1, 1)
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidParameter: lambda_b must be a finite number >= 0, got -1
    """
    out = []
    for name, value in (("lambda_b", lambda_b), ("lambda_W", lambda_W)):
        if symbolic and is_sympy(value):
            out.append(value)
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InvalidType(f"{name} must be a number, got {value!r}")
        if not (math.isfinite(value) and value >= 0):
            raise InvalidParameter(f"{name} must be a finite number >= 0, got {value!r}")
        out.append(float(value))
    return tuple(out)


def check_correlation(c0) -> float:
    """The input correlation c0 as a float in [-1, 1].

    >>> check_correlation(0.5)
    0.5
    >>> check_correlation(2)
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidParameter: input correlation c0 must be a number in [-1, 1], got 2
    """
    if isinstance(c0, bool) or not isinstance(c0, numbers.Real) or not -1 <= c0 <= 1:
        raise InvalidParameter(f"input correlation c0 must be a number in [-1, 1], got {c0!r}")
    return float(c0)


def _finite(value: float, what: str, layer: int) -> float:
    value = float(value)
    if not math.isfinite(value) or abs(value) > 1e300:
        raise InvalidParameter(
            f"{what} = {value:g} at layer {layer} is beyond the floating-point range; "
            "use a smaller depth or sigma_w2"
        )
    return value


def ntk_trajectory(
    net: Network, depth: int | None = None, c0=None, lambda_b=1.0, lambda_W=1.0
) -> list[dict]:
    """The infinite-width NTK H(l) for layers l = 1..depth (see the module docstring).

    Parameters
    ----------
    net : Network
        Feedforward or recurrent (the same NTK at infinite width), numeric variances.
    depth : int, optional
        Number of layers (default: the network's depth).
    c0 : float, optional
        With a correlation c0 in [-1, 1], two inputs of norm q0: the 2x2 Gram matrices.
    lambda_b, lambda_W : float, optional
        Learning-rate factors of biases and weights (default 1).

    Returns
    -------
    list of dict
        Per layer ``layer``, ``K`` (the mean-field kernel: q, or the 2x2 matrix), ``ntk``
        (H, or the 2x2 matrix H_ab) and ``chi_perp`` = C_W <phi'^2>_K (the factor taking
        H(l) to H(l+1); for two inputs the 2x2 matrix C_W <phi'(u_a) phi'(u_b)>).

    Examples
    --------
    >>> from nnqft.rules.network import Network
    >>> net = Network("feedforward", "tanh", 1.5, 0.05)
    >>> [round(r["ntk"], 6) for r in ntk_trajectory(net, 3)]
    [2.0, 2.6428, 3.382694]
    """
    require_network(net)
    cw, cb, q0 = numeric_variances(net, "the numeric NTK", "use ntk_symbolic for expressions")
    T = resolve_depth(net, depth)
    lb, lw = learning_rates(lambda_b, lambda_W)
    act = net.activation
    if c0 is None:
        K, H = cb + cw * q0, lb + lw * q0
        rows = []
        if K <= 0:
            raise InvalidParameter(
                "the first-layer variance sigma_b2 + sigma_w2*q0 must be positive; "
                "a zero input with no bias gives z = 0 exactly"
            )
        for layer in range(1, T + 1):
            if K <= 0:
                raise InvalidParameter(f"the kernel K underflows to 0 at layer {layer}")
            phi2, dphi2 = expect(act, ("phi^2", "phi'^2"), K)
            phi2 = _finite(phi2, "E[phi^2]", layer)
            dphi2 = _finite(dphi2, "E[phi'^2]", layer)
            rows.append({"layer": layer, "K": K, "ntk": H, "chi_perp": cw * dphi2})
            if layer < T:
                H = _finite(lb + lw * phi2 + cw * dphi2 * H, "the NTK H", layer + 1)
                K = _finite(cb + cw * phi2, "the kernel K", layer + 1)
        return rows
    c0 = check_correlation(c0)
    k11 = cb + cw * q0
    if k11 <= 0:
        raise InvalidParameter(
            "the first-layer variance sigma_b2 + sigma_w2*q0 must be positive; "
            "a zero input with no bias gives z = 0 exactly"
        )
    k = [k11, k11, cb + cw * q0 * c0]  # (11, 22, 12)
    h = [lb + lw * q0, lb + lw * q0, lb + lw * q0 * c0]
    rows = []
    for layer in range(1, T + 1):
        bound = math.sqrt(k[0] * k[1])
        k12 = max(-bound, min(bound, k[2]))
        if min(k[:2]) <= 0:
            raise InvalidParameter(f"the kernel K underflows to 0 at layer {layer}")
        single = [expect(act, ("phi^2", "phi'^2"), v) for v in k[:2]]
        phi2 = [_finite(m[0], "E[phi^2]", layer) for m in single]
        dphi2 = [_finite(m[1], "E[phi'^2]", layer) for m in single]
        if k12 == bound:  # identical inputs: the single-variable integrals, exact
            pair, dpair = phi2[0], dphi2[0]
        else:
            pair = _finite(expect(act, "phi phi", k[0], k[1], k12), "E[phi phi]", layer)
            dpair = _finite(expect(act, "phi' phi'", k[0], k[1], k12), "E[phi' phi']", layer)
        rows.append(
            {
                "layer": layer,
                "K": _matrix(k),
                "ntk": _matrix(h),
                "chi_perp": _matrix([cw * dphi2[0], cw * dphi2[1], cw * dpair]),
            }
        )
        if layer < T:
            h = [
                _finite(lb + lw * e + cw * d * hh, "the NTK H", layer + 1)
                for e, d, hh in zip((*phi2, pair), (*dphi2, dpair), h)
            ]
            k = [_finite(cb + cw * e, "the kernel K", layer + 1) for e in (*phi2, pair)]
    return rows


def _matrix(v) -> list:
    """(11, 22, 12) -> [[11, 12], [12, 22]] as floats."""
    a, b, c = (float(x) for x in v)
    return [[a, c], [c, b]]
