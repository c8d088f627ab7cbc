"""The finite-width mean of the NTK of the linear recurrent network, from its diagrams.

Conventions: docs/conventions.md §4, §5, §10.  One W for every step, ``z(t) = W z(t-1) +
b(t)``, ``z(0) = x`` with ``|x|^2 = N q0``, ``W_ij ~ N(0, sigma_w2/N)``, the bias shared
(one b) or fresh (one b(t) per step), ``b ~ N(0, sigma_b2)``; learning rates lambda_b per
bias and lambda_W/N per weight.  We build

    E H_ii(T) = H0(T) + H1(T)/N + H2(T)/N^2 + O(1/N^3)

exactly at every integer step T: each coefficient a polynomial in sigma_w2, sigma_b2, q0,
lambda_b, lambda_W.

**Words.**  ``dz(T)/dW_ab = sum_t (W^(T-t))_ia z_b(t-1)`` (backpropagation through time)
and ``dz(T)/db = sum_k W^k`` (shared, k < T) or ``dz(T)/db(u) = W^(T-u)`` (fresh), so

    H_ii = (lambda_W/N) sum_{t,u} [W^(T-t) (W^T)^(T-u)]_ii z(t-1).z(u-1)
           + lambda_b [(sum_k W^k)(sum_l (W^T)^l)]_ii            (shared)
           + lambda_b sum_u [W^(T-u) (W^T)^(T-u)]_ii               (fresh).

The output neurons are exchangeable, so ``E H_ii = E (1/N) tr H``.  The law of W is O(N)
invariant (``W -> O W O^T``) and every trace is, so the input may be replaced by a vector
uniform on its sphere (as in :mod:`nnqft.derive.loops.variance`): given W,
``E x^T A x = q0 tr A`` exactly; the bias gives ``E b^T A b = sigma_b2 tr A``, the cross
terms x-b vanish.  With ``M(k, m) = (1/N) E tr[(W^T)^k W^m]`` (the moments of §5) and
``z(t-1).z(u-1) -> N q0 tr[(W^T)^(t-1) W^(u-1)]/N + N sigma_b2 sum_(k,l) tr[(W^T)^k W^l]/N``
(shared: k < t-1, l < u-1; fresh: ``(k, l) = (t-1-v, u-1-v)``, 1 <= v <= min(t, u) - 1),

    E H = lambda_W sum_{t,u} E[X_tu Y_tu] + lambda_b sum M(k, l),
    E[X Y] = E X E Y + Cov(X, Y),

``X_tu = (1/N) tr[(W^T)^(T-u) W^(T-t)]`` (cyclicity), ``Y_tu`` the normalised trace of the
forward two-time kernel.  The means are one-trace moments M(k, m), read off the reduced
chord diagrams of :func:`nnqft.diagrams.network.trace_diagrams` (a reduced diagram with
a, b, c chords within the first factor, across, within the second stands for
``C(A-1, a-1) C(B-1, b-1) C(C-1, c-1)`` pairings of the word with ``k = 2A + B``,
``m = 2C + B``, each ``sigma_w2^((k+m)/2) N^-deficit``).  The covariances are
``N^-2 Cov(tr, tr)`` with ``Cov(tr[(W^T)^a0 W^a1], tr[(W^T)^a2 W^a3]) = O(1)``: the
connected **two-trace** diagrams of :mod:`nnqft.diagrams.four_block` (blocks a0..a3,
zero blocks allowed), counted at each block length by the placements of
:mod:`nnqft.derive.loops.variance`.  So H1 needs only M through 1/N (the covariance starts
at 1/N^2); H2 adds M at 1/N^2 and the planar connected two-trace diagrams.

At N -> oo, ``M(k, m) = d_km sigma_w2^k`` and H0 is the feedforward linear NTK of
:mod:`nnqft.derive.ntk.kernel`.  In the input part every word has 2T - 2 letters, so the
q0 term of each coefficient is a single monomial ``lambda_W q0 sigma_w2^(T-1)`` times an
integer.

**Fresh bias: H1 = 0 at every step.**  ``M(k, k)`` has no 1/N term (§5), and with a fresh
bias every Y_tu with t != u vanishes at N -> oo (only equal lengths pair), as every X_tu
does; so each product ``E X E Y`` at 1/N pairs a diagonal (no 1/N) with a diagonal, and the
bias part is ``sum_k M(k, k)``.  The first correction of the fresh-bias NTK is H2.  With a
shared bias H1 has lambda_W sigma_b2 and lambda_b terms but no q0 term: the input's part of
Y_tu is ``q0 M(t-1, u-1)``, and in ``E X E Y`` at 1/N one factor is at N -> oo, which needs t = u,
and the other is then a diagonal moment, which has no 1/N term.

>>> rows = recurrent_ntk_coefficients("shared", 3, order=1)
>>> rows[2][1]                  # step 3: the bias derivative's M(0, 2) + M(2, 0) = 2 s/N
2*lambda_b*sigma_w2
>>> rows[1][0]
2*lambda_W*q0*sigma_w2 + lambda_W*sigma_b2 + lambda_b*sigma_w2 + lambda_b
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from ...errors import InvalidParameter, OrderTooHigh
from ...rules import symbols as S
from ...rules.network import Network, numeric_variances, require_network, resolve_depth
from .kernel import learning_rates

# sympy is imported where an expression is built (the numeric NTK commands load none of it;
# the diagram engine behind the counts does: README, start-up)

__all__ = [
    "MAX_CORRECTION_ORDER",
    "MAX_CORRECTION_DEPTH",
    "MAX_SECOND_ORDER_DEPTH",
    "LAMBDA_B",  # noqa: F822 (made on first use, module __getattr__)
    "LAMBDA_W",  # noqa: F822
    "trace_moment_counts",
    "trace_covariance_counts",
    "recurrent_ntk_polynomials",
    "recurrent_ntk_coefficients",
    "recurrent_ntk_correction",
]

#: the highest power of 1/N of E H built here
MAX_CORRECTION_ORDER = 2
#: the deepest net whose coefficients are built (the sums over step pairs cost ~T^4: ~1 s at 100)
MAX_CORRECTION_DEPTH = 100
#: the deepest net whose 1/N^2 coefficient is built (the two-trace placements cost ~T^5: ~2 s at 24)
MAX_SECOND_ORDER_DEPTH = 24
_LAMBDAS = {"LAMBDA_B": "lambda_b", "LAMBDA_W": "lambda_W"}


def __getattr__(name: str):
    """The learning-rate symbols of the coefficients, ``LAMBDA_B`` = lambda_b and
    ``LAMBDA_W`` = lambda_W (positive sympy symbols, made on first use)."""
    if name not in _LAMBDAS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import sympy as sp

    value = sp.Symbol(_LAMBDAS[name], positive=True)
    globals()[name] = value
    return value


def _compositions(n: int, parts: int) -> int:
    """Ways to write n as an ordered sum of ``parts`` positive integers (a ladder of n pairs
    split among ``parts`` chords; 1 for n = parts = 0)."""
    if parts == 0:
        return int(n == 0)
    return math.comb(n - 1, parts - 1) if n >= 1 else 0


def _zeros(*shape) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    out.fill(0)
    return out


@functools.lru_cache(maxsize=32)
def trace_moment_counts(order: int, size: int) -> tuple:
    """``c[d][k, m]``, d = 0..order, k, m < size: the number of Wick pairings of
    ``tr[(W^T)^k W^m]`` with deficit d, so that ``M(k, m) = sum_d c[d][k, m]
    sigma_w2^((k+m)/2) N^-d``: every reduced chord diagram
    (:func:`~nnqft.derive.loops.evaluate.type_weights`) with each chord a ladder of L >= 1
    pairs.  Integer (object) numpy arrays.

    >>> c = trace_moment_counts(1, 4)
    >>> c[0][2, 2], c[1][2, 0], c[1][3, 1], c[1][2, 2]        # M(3,1) = 2 s^2/N + ...
    (1, 1, 2, 0)
    """
    from ..loops.evaluate import type_weights

    out = []
    weights = type_weights(order)
    for d in range(order + 1):
        c = _zeros(size, size)
        for (a, b, cc), w in weights.get(d, {}).items():
            half = (size + 1) // 2
            fa = np.array([_compositions(n, a) for n in range(half)], dtype=object)
            fc = np.array([_compositions(n, cc) for n in range(half)], dtype=object)
            for B in range(size):
                fb = _compositions(B, b)
                if not fb:
                    continue
                rows = len(range(B, size, 2))
                c[B::2, B::2] += (w * fb) * np.outer(fa[:rows], fc[:rows])
        out.append(c)
    return tuple(out)


@functools.lru_cache(maxsize=16)
def trace_covariance_counts(size: int) -> dict:
    """``{(a0, a1, a2, a3): n}``, every a < size: the number of connected planar pairings
    of ``tr[(W^T)^a0 W^a1] tr[(W^T)^a2 W^a3]``, so that ``Cov(tr[(W^T)^a0 W^a1],
    tr[(W^T)^a2 W^a3]) = n sigma_w2^((a0+a1+a2+a3)/2) + O(1/N)``: the deficit-0 diagrams of
    :func:`~nnqft.diagrams.four_block.block_diagrams` ('two-trace'), each placed at every
    block length (:func:`nnqft.derive.loops.variance.placement_counts`).

    >>> trace_covariance_counts(2)[(1, 1, 1, 1)]       # Cov(tr W^T W, tr W^T W) = 2 s^2
    2
    """
    from ...diagrams.four_block import block_diagrams
    from ..loops.variance import placement_counts

    out: dict = {}
    for d in block_diagrams("two-trace", 0):
        for blocks, n in placement_counts(d.types, size - 1).items():
            if blocks[0] + blocks[1] == 0 or blocks[2] + blocks[3] == 0:
                continue
            out[blocks] = out.get(blocks, 0) + n
    return out


def _check_bias(bias) -> str:
    if bias not in ("shared", "fresh"):
        raise InvalidParameter(f"unknown bias {bias!r}; known: shared, fresh")
    return bias


def _check(bias, depth, order) -> tuple:
    bias = _check_bias(bias)
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order < 0:
        raise InvalidParameter(f"order must be a non-negative integer, got {order!r}")
    if order > MAX_CORRECTION_ORDER:
        raise OrderTooHigh(
            f"the recurrent NTK mean is built through 1/N^{MAX_CORRECTION_ORDER}, got order {order}"
        )
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < 1:
        raise InvalidParameter(f"depth must be an integer >= 1, got {depth!r}")
    limit = MAX_SECOND_ORDER_DEPTH if order >= 2 else MAX_CORRECTION_DEPTH
    if depth > limit:
        raise InvalidParameter(
            f"the recurrent NTK mean through 1/N^{order} is built for depth <= {limit}, got {depth}"
        )
    return bias, int(depth), int(order)


def _kernel_sums(E: np.ndarray, bias: str) -> np.ndarray:
    """``G[a, b]``: the bias part of the forward kernel, sum of ``E[k, l]`` over the
    (k, l) of ``z(a).z(b)`` (shared: k < a, l < b; fresh: (a - v, b - v), v >= 1); the
    last axis is the power of sigma_w2."""
    n = E.shape[0]
    G = _zeros(n + 1, n + 1, E.shape[2])
    for a in range(1, n + 1):
        for b in range(1, n + 1):
            if bias == "shared":
                G[a, b] = G[a - 1, b] + G[a, b - 1] - G[a - 1, b - 1] + E[a - 1, b - 1]
            else:
                G[a, b] = G[a - 1, b - 1] + E[a - 1, b - 1]
    return G


def recurrent_ntk_polynomials(bias: str, depth: int, order: int = 1) -> list:
    """The integer coefficients of E H_ii(T), T = 1..depth, through 1/N^order.

    Returns per step a dict ``{d: (x, w, b)}``: the 1/N^d coefficient is
    ``lambda_W q0 x sigma_w2^(T-1) + lambda_W sigma_b2 sum_p w[p] sigma_w2^p
    + lambda_b sum_p b[p] sigma_w2^p`` (``w``, ``b`` lists of integers).

    >>> recurrent_ntk_polynomials("fresh", 2, 1)[1][1]
    (0, [0, 0], [0, 0])
    """
    bias, depth, order = _check(bias, depth, order)
    size = depth
    c = trace_moment_counts(order, size)
    # E[d][k, l, p]: the moment M_d(k, l) as a polynomial in sigma_w2 (p = (k + l)/2)
    G = []
    for d in range(order + 1):
        E = _zeros(size, size, size)
        for k in range(size):
            for m in range(k % 2, size, 2):
                E[k, m, (k + m) // 2] = c[d][k, m]
        G.append(_kernel_sums(E, bias))
    cov = trace_covariance_counts(size) if order >= 2 else {}
    if order >= 2:
        cov_poly = {}  # {(i, j, a, b): kernel-bias part of sum Cov, as a polynomial}

        def cov_bias(i, j, a, b):
            key = (i, j, a, b)
            if key not in cov_poly:
                poly = [0] * size
                pairs = (
                    [(k, l) for k in range(a) for l in range(b)]
                    if bias == "shared"
                    else [(a - v, b - v) for v in range(1, min(a, b) + 1)]
                )
                for k, l in pairs:
                    n = cov.get((i, j, k, l), 0)
                    if n:
                        poly[(i + j + k + l) // 2] += n
                cov_poly[key] = poly
            return cov_poly[key]

    rows = []
    for T in range(1, depth + 1):
        row = {}
        for d in range(order + 1):
            x = 0
            w = _zeros(T)  # powers of sigma_w2 below T
            for d1 in range(d + 1):
                d2 = d - d1
                for i in range(T):  # i = T - u, j = T - t: X = M(i, j)
                    for j in range(i % 2, T, 2):
                        n = c[d1][i, j]
                        if not n:
                            continue
                        a, b = T - 1 - j, T - 1 - i  # Y's word: (W^T)^(t-1) W^(u-1)
                        x += n * c[d2][a, b]
                        shift = (i + j) // 2
                        w[shift:] += n * G[d2][a, b][: T - shift]
            if d >= 2:  # Cov(X, Y) = N^-2 Cov(tr, tr): planar two-trace diagrams
                for i in range(T):
                    for j in range(T):
                        a, b = T - 1 - j, T - 1 - i
                        x += cov.get((i, j, a, b), 0)
                        w += np.array(cov_bias(i, j, a, b)[:T], dtype=object)
            lam = G[d][T, T]
            row[d] = (int(x), [int(v) for v in w[:T]], [int(v) for v in lam[:T]])
        rows.append(row)
    return rows


def _expression(T: int, x: int, w: list, b: list):
    import sympy as sp

    lb, lw = (globals().get(n) or __getattr__(n) for n in ("LAMBDA_B", "LAMBDA_W"))
    s = S.sigma_w2
    poly = lambda coeffs: sp.Add(*[n * s**p for p, n in enumerate(coeffs) if n])  # noqa: E731
    return sp.expand(lw * S.q0 * x * s ** (T - 1) + lw * S.sigma_b2 * poly(w) + lb * poly(b))


def recurrent_ntk_coefficients(bias: str, depth: int, order: int = 1) -> list:
    """``[{d: H_d(T)}]`` for T = 1..depth: ``E H_ii(T) = sum_d H_d(T)/N^d + O(1/N^(order+1))``
    for the linear recurrent net, each H_d a polynomial in sigma_w2, sigma_b2, q0 and the
    symbols :data:`LAMBDA_B`, :data:`LAMBDA_W` (see the module docstring).

    Parameters
    ----------
    bias : str
        ``'shared'`` or ``'fresh'``.
    depth : int
        The last step T (1 <= depth <= :data:`MAX_CORRECTION_DEPTH`; through 1/N^2 at most
        :data:`MAX_SECOND_ORDER_DEPTH`).
    order : int
        The highest power of 1/N (0, 1 or 2).

    >>> import sympy as sp
    >>> sp.factor(recurrent_ntk_coefficients("shared", 4, 1)[3][1])
    2*sigma_w2*(2*lambda_W*sigma_b2 + 2*lambda_b*sigma_w2 + lambda_b)
    """
    return [
        {d: _expression(T, *poly) for d, poly in row.items()}
        for T, row in enumerate(recurrent_ntk_polynomials(bias, depth, order), start=1)
    ]


def _value(T: int, poly: tuple, s: float, b: float, q0: float, lb: float, lw: float) -> float:
    x, w, lam = poly
    horner = lambda coeffs: sum(float(n) * s**p for p, n in enumerate(coeffs) if n)  # noqa: E731
    return lw * q0 * float(x) * s ** (T - 1) + lw * b * horner(w) + lb * horner(lam)


def recurrent_ntk_correction(
    net: Network, depth: int | None = None, lambda_b=1.0, lambda_W=1.0, order: int = 1
) -> list[dict]:
    """Per step of a linear recurrent net with numeric variances: ``layer``, ``ntk`` (H0,
    the infinite-width NTK), ``ntk_correction`` (H1) and, with ``order=2``,
    ``ntk_correction_2`` (H2): ``E H_ii = ntk + ntk_correction/N + ntk_correction_2/N^2``.

    >>> from nnqft.rules.network import Network
    >>> net = Network("recurrent", "linear", 0.8, 0.1, bias="shared")
    >>> [round(r["ntk_correction"], 6) for r in recurrent_ntk_correction(net, 3)]
    [0.0, 0.0, 1.6]
    """
    require_network(net, arch="recurrent", what="the recurrent NTK mean correction")
    if net.activation.name != "linear":
        raise InvalidParameter(
            "the recurrent NTK mean correction is built for linear nets (one W, words in W "
            f"and W^T), got activation {net.activation.name!r}"
        )
    s, b, q0 = numeric_variances(net, "the recurrent NTK mean correction")
    T = resolve_depth(net, depth)
    lb, lw = learning_rates(lambda_b, lambda_W)
    polys = recurrent_ntk_polynomials(net.bias, T, order)
    rows = []
    names = {0: "ntk", 1: "ntk_correction", 2: "ntk_correction_2"}
    for step, row in enumerate(polys, start=1):
        out = {"layer": step}
        for d, poly in row.items():
            try:
                value = _value(step, poly, s, b, q0, lb, lw)
            except OverflowError:
                value = math.inf
            if not math.isfinite(value) or abs(value) > 1e300:
                raise InvalidParameter(
                    f"the 1/N^{d} coefficient of the recurrent NTK at step {step} is beyond "
                    "the floating-point range; use a smaller depth or sigma_w2"
                )
            out[names[d]] = value
        rows.append(out)
    return rows
