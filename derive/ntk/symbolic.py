"""The infinite-width NTK as sympy expressions: per layer, and in closed form in the layer.

The recursion is that of :mod:`nnqft.derive.ntk.kernel` (docs/conventions.md §10),

    H(1) = lambda_b + lambda_W q0,
    H(l+1) = lambda_b + lambda_W <phi phi>_K(l) + C_W <phi' phi'>_K(l) H(l),

evaluated here with the activation's closed-form Gaussian kernels (``Activation.kernel``,
``Activation.derivative_kernel`` and their diagonals), for one input or two (the 2x2 Gram
matrix, inputs of correlation c0).

**Closed form in the layer index.**  For a scale-invariant activation (phi(a z) = a phi(z),
a > 0: linear, ReLU, leaky ReLU) the single-input integrals are <phi^2>_K = A2 K and
<phi'^2>_K = D, a constant, at every K, so the recursions are linear with constant
coefficients: with rho = C_W A2 and r = C_W D,

    K(m) = rho^(m-1) K(1) + C_b sum_{j=0}^{m-2} rho^j,
    H(l) = r^(l-1) H(1) + sum_{m=1}^{l-1} r^(l-1-m) (lambda_b + lambda_W A2 K(m)),

and the sums close (geometric sums; rho = r for every positively homogeneous phi, since
phi = z phi' gives A2 = D, hence the terms l r^(l-1)).  :func:`ntk_closed_form` does
these sums with sympy for the symbolic layer index T, for any C_b.

>>> import sympy as sp
>>> from nnqft.rules import symbols as S
>>> cf = ntk_closed_form("relu")                  # at sigma_b2 = 0: T q0 r^(T-1) + geometric sum
>>> cf.subs(S.sigma_b2, 0)
2*T*q0*(sigma_w2/2)**T/sigma_w2 + ((sigma_w2/2)**T - 1)/(sigma_w2/2 - 1)
>>> from nnqft.rules.network import Network
>>> ntk_symbolic(Network("feedforward", "linear", sigma_b2=0, q0=S.q0), 2)[1]["ntk"]
2*q0*sigma_w2 + sigma_w2 + 1
"""

from __future__ import annotations

import functools

from ...errors import InvalidParameter, NoExactForm
from ...rules import symbols as S
from ...rules.activations import get_activation
from ...rules.network import Network, require_network, resolve_depth
from ..gaussian import closed_form
from .kernel import learning_rates

__all__ = ["ntk_symbolic", "ntk_closed_form"]


def _sym(value, name: str):
    import sympy as sp

    from ..convert import to_sympy

    return sp.nsimplify(value) if isinstance(value, float) else to_sympy(value, name)


def _tidy(e):
    import sympy as sp

    e = sp.sympify(e)  # safe: an expression the engine just built
    if e.is_polynomial() or e.is_rational_function():
        return sp.factor(sp.expand(e)) if e.free_symbols else sp.nsimplify(e)
    return e


def _kernels(act):
    forms = {w: closed_form(act, w) for w in ("phi^2", "phi'^2", "phi phi", "phi' phi'")}
    if forms["phi^2"] is None or forms["phi'^2"] is None:
        raise NoExactForm(
            f"activation {act.name!r} has no closed-form Gaussian kernel, so the NTK has no "
            "symbolic form; use ntk_trajectory for numbers (closed forms: linear, relu, "
            "leaky_relu, abrelu, erf, gelu, sin, cos)"
        )
    return forms


def ntk_symbolic(
    net: Network, depth: int | None = None, c0=None, lambda_b=1, lambda_W=1
) -> list[dict]:
    """The infinite-width NTK per layer as sympy expressions (see the module docstring).

    Parameters
    ----------
    net : Network
        Its sigma_w2, sigma_b2, q0 may be numbers or symbols (floats are read exactly).
    depth : int, optional
        Number of layers (default: the network's depth).
    c0 : number or sympy expression, optional
        Two inputs of correlation c0: the 2x2 Gram matrices (as sympy Matrices).
    lambda_b, lambda_W : number or sympy expression, optional
        The learning-rate factors (default 1).

    Returns
    -------
    list of dict
        Per layer ``layer``, ``K``, ``ntk``, ``chi_perp`` (as :func:`ntk_trajectory`).

    Raises
    ------
    NoExactForm
        Where the activation's Gaussian kernels have no closed form (tanh).

    Examples
    --------
    >>> from nnqft.rules.network import Network
    >>> rows = ntk_symbolic(Network("feedforward", "relu", sigma_b2=0, q0=S.q0), 3)
    >>> rows[2]["ntk"]
    (3*q0*sigma_w2**2 + sigma_w2**2 + 2*sigma_w2 + 4)/4
    """
    import sympy as sp

    require_network(net)
    T = resolve_depth(net, depth)
    act = net.activation
    forms = _kernels(act)
    cw, cb, q0 = (_sym(getattr(net, n), n) for n in ("sigma_w2", "sigma_b2", "q0"))
    lb, lw = (_sym(v, n) for v, n in zip(learning_rates(lambda_b, lambda_W, symbolic=True),
                                          ("lambda_b", "lambda_W")))  # fmt: skip
    if c0 is None:
        K, H = cb + cw * q0, lb + lw * q0
        rows = []
        for layer in range(1, T + 1):
            phi2 = forms["phi^2"].subs(S.q, K)
            dphi2 = forms["phi'^2"].subs(S.q, K)
            rows.append(
                {"layer": layer, "K": _tidy(K), "ntk": _tidy(H), "chi_perp": _tidy(cw * dphi2)}
            )
            K, H = cb + cw * phi2, lb + lw * phi2 + cw * dphi2 * H
        return rows
    if forms["phi phi"] is None or forms["phi' phi'"] is None:
        raise NoExactForm(f"activation {act.name!r} has no closed-form two-input kernels")
    c0 = _sym(c0, "c0")
    if c0.is_number and not -1 <= float(c0) <= 1:
        raise InvalidParameter(f"input correlation c0 must be a number in [-1, 1], got {c0}")
    k = [cb + cw * q0, cb + cw * q0, cb + cw * q0 * c0]
    h = [lb + lw * q0, lb + lw * q0, lb + lw * q0 * c0]
    rows = []
    for layer in range(1, T + 1):
        sub = {S.q11: k[0], S.q22: k[1], S.q12: k[2]}
        phi2 = [forms["phi^2"].subs(S.q, v) for v in k[:2]]
        dphi2 = [forms["phi'^2"].subs(S.q, v) for v in k[:2]]
        pair = forms["phi phi"].subs(sub, simultaneous=True)
        dpair = forms["phi' phi'"].subs(sub, simultaneous=True)
        rows.append(
            {
                "layer": layer,
                "K": sp.Matrix([[k[0], k[2]], [k[2], k[1]]]).applyfunc(_tidy),
                "ntk": sp.Matrix([[h[0], h[2]], [h[2], h[1]]]).applyfunc(_tidy),
                "chi_perp": sp.Matrix(
                    [[cw * dphi2[0], cw * dpair], [cw * dpair, cw * dphi2[1]]]
                ).applyfunc(_tidy),
            }
        )
        h = [lb + lw * e + cw * d * hh for e, d, hh in zip((*phi2, pair), (*dphi2, dpair), h)]
        k = [cb + cw * e for e in (*phi2, pair)]
    return rows


def _geometric_sum(expr, m, lo, hi, r):
    """sum_{m=lo}^{hi} expr for expr a sum of terms c r^(a m + e) (c free of m): each term
    a geometric series, c r^(a lo + e) (r^(a (hi - lo + 1)) - 1)/(r^a - 1), or c (hi - lo + 1)
    r^e when a = 0.  The removable case r^a = 1 is the limit of the generic form."""
    import sympy as sp

    y = sp.Dummy("y", positive=True)  # r**m

    def split(p):  # r**(a m + e) -> r**e y**a
        a, e = sp.Poly(sp.expand(p.exp), m).all_coeffs() if p.exp.has(m) else (0, p.exp)
        return r**e * y**a

    body = sp.powsimp(sp.expand(expr), force=True)
    body = body.replace(lambda p: p.is_Pow and p.base == r and p.exp.has(m), split)
    if body.has(m):
        raise NoExactForm(f"the NTK sum {expr} is not geometric in the layer")
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(body)):
        c, dep = sp.factor(term).as_independent(y, as_Add=False)
        a = sp.simplify(y * sp.diff(dep, y) / dep)  # the power of y in dep = y**a
        if not a.is_Integer or sp.simplify(dep - y**a) != 0:
            raise NoExactForm(f"the NTK sum has a term {term} that is not geometric in the layer")
        count = hi - lo + 1
        if a == 0:
            total += c * count
        else:
            total += c * r ** (a * lo) * (r ** (a * count) - 1) / (r**a - 1)
    return total


@functools.lru_cache(maxsize=32)
def _closed_form(name: str, lambda_b, lambda_W, layer):
    import sympy as sp

    act = get_activation(name)
    if not act.is_scale_invariant:
        raise InvalidParameter(
            f"activation {act.name!r} is not scale-invariant (phi(a z) = a phi(z)); the NTK "
            "closes in the layer index for linear, relu, leaky_relu, abrelu"
        )
    forms = _kernels(act)
    A2 = sp.simplify(forms["phi^2"] / S.q)
    D = sp.simplify(forms["phi'^2"])
    if A2.has(S.q) or D.has(S.q):
        raise NoExactForm(f"the Gaussian moments of {act.name!r} are not scale-free")
    if sp.simplify(A2 - D) != 0:  # phi = z phi' gives A2 = D; anything else is not covered
        raise NoExactForm(f"<phi^2>/K and <phi'^2> of {act.name!r} differ")
    cw, cb, q0 = S.sigma_w2, S.sigma_b2, S.q0
    # derived with symbols for the learning rates (so that the terms can be collected)
    lb, lw = sp.symbols("lambda_b lambda_W", positive=True)
    # the sums in the ratio r = C_W D = C_W A2 as one symbol, which is put in at the end
    r = sp.Symbol("r", positive=True)
    m, j = sp.symbols("m j", integer=True, positive=True)
    K = r ** (m - 1) * (cb + cw * q0) + cb * _geometric_sum(r**j, j, 0, m - 2, r)
    term = r ** (layer - 1 - m) * (lb + lw * (r / cw) * K)
    tail = _geometric_sum(term, m, 1, layer - 1, r)
    H = sp.expand(sp.powsimp(sp.expand(r ** (layer - 1) * (lb + lw * q0) + tail), force=True))
    # tidy: the powers r**(layer + k) as P r**k, each coefficient factored as a function of r
    P = sp.Symbol("P", positive=True)
    H = sp.expand(H.replace(lambda e: e.is_Pow and e.base == r and e.exp.has(layer),
                            lambda e: P * r ** sp.expand(e.exp - layer)))  # fmt: skip
    coeff = sp.collect(H, [lb * lw, lb, lw * q0, lw * cb, lw], evaluate=False)
    H = sp.Add(*(k * sp.collect(sp.factor(v), P) for k, v in coeff.items()))
    H = H.subs({P: r**layer}).subs(r, cw * D)
    return H.subs({lb: lambda_b, lw: lambda_W}, simultaneous=True)


def ntk_closed_form(activation, layer=None, lambda_b=1, lambda_W=1):
    """The single-input infinite-width NTK H(T) in closed form in the layer index T.

    For scale-invariant activations (linear, ReLU, leaky ReLU, abrelu), any sigma_b2: the
    recursion of the module docstring summed with sympy.  Denominators 1 - C_W D (and
    1 - C_W A2) are removable poles: at C_W D = 1 the value is the limit.

    Parameters
    ----------
    activation : str or Activation
        A scale-invariant activation.
    layer : sympy expression or int, optional
        The layer index (default: the symbol T).
    lambda_b, lambda_W : number or sympy expression, optional
        The learning-rate factors (default 1).

    Returns
    -------
    sympy.Expr
        In sigma_w2, sigma_b2, q0 and the layer.

    Examples
    --------
    >>> ntk_closed_form("linear", 1)
    q0 + 1
    >>> import sympy as sp
    >>> sp.factor(ntk_closed_form("relu", 2).subs(S.sigma_b2, 0))
    (2*q0*sigma_w2 + sigma_w2 + 2)/2
    """
    import sympy as sp

    from ..convert import to_sympy

    layer = S.T if layer is None else to_sympy(layer, "layer")
    lb, lw = (_sym(v, n) for v, n in zip(learning_rates(lambda_b, lambda_W, symbolic=True),
                                          ("lambda_b", "lambda_W")))  # fmt: skip
    act = get_activation(activation)
    out = _closed_form(act.name, lb, lw, layer)
    return sp.factor(out) if layer.is_Integer else out
