"""The zero-dimensional O(N) model: an exact oracle for sums over phi^4 diagrams.

With x ~ N(0, I_N) and weight exp(-(g/4!)(x.x)^2), every correlator is a power series in
g whose coefficients follow from the moments E[(x.x)^k] = prod_{j<k} (N + 2j) alone
(docs/conventions.md §6), with no diagrams involved.  The diagram expansion says

* log Z       = sum over connected vacuum diagrams of (-g)^V S F,
* <x_a x_b>   = d_ab * sum over connected 2-point diagrams of (-g)^V S F,
* <x_a x_b x_c x_d>_connected = u (d_ab d_cd + d_ac d_bd + d_ad d_bc), u = sum over
  connected 4-point diagrams of (-g)^V S A (and equally with B or C),

S the symmetry factor and F the O(N) factor.  :func:`zero_dim_series` computes the left
sides from the moments; :func:`diagram_series` the right sides from generated diagrams.

>>> zero_dim_series(2)["propagator"]
[1, -N/6 - 1/3, N**2/18 + 5*N/18 + 1/3]
>>> diagram_series(2, 2)
[1, -N/6 - 1/3, N**2/18 + 5*N/18 + 1/3]
"""

from __future__ import annotations

import sympy as sp

from ..rules.symbols import N

__all__ = ["moment", "zero_dim_series", "diagram_series", "cactus_series", "large_n_propagator"]


def moment(k: int, n=N):
    """E[(x.x)^k] for x ~ N(0, I_N): prod_{j<k} (N + 2j).

    Parameters
    ----------
    k : int
        The power, k >= 0.
    n : sympy.Expr or int, optional
        The number of components (default the symbol N).

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> moment(2)
    N*(N + 2)
    """
    return sp.Mul(*[n + 2 * j for j in range(k)])


def _series_div(a, b, order):
    c = []
    for k in range(order + 1):
        acc = a[k] - sum(b[j] * c[k - j] for j in range(1, k + 1))
        c.append(sp.expand(acc / b[0]))
    return c


def _series_log(z, order):
    out = [sp.S.Zero]
    for k in range(1, order + 1):
        acc = z[k] - sp.Rational(1, k) * sum(j * out[j] * z[k - j] for j in range(1, k))
        out.append(sp.expand(acc))
    return out


def zero_dim_series(order: int) -> dict[str, list]:
    """Coefficients of g^0..g^order of Z, log Z, the propagator G = <x.x>/N and the
    connected 4-point coupling u, as polynomials in N.

    Parameters
    ----------
    order : int
        The highest power of the coupling g.

    Returns
    -------
    dict
        ``{"Z", "log_Z", "G", "u"}`` -> list of order + 1 sympy polynomials in N.

    Examples
    --------
    >>> zero_dim_series(1)["log_Z"]
    [0, -N**2/24 - N/12]
    """

    def expectation(extra):  # coefficients of E[(x.x)^extra exp(-(g/24)(x.x)^2)]
        return [
            sp.Rational((-1) ** k, 24**k * sp.factorial(k)) * moment(2 * k + extra)
            for k in range(order + 1)
        ]

    z = [sp.expand(c) for c in expectation(0)]
    xx = _series_div(expectation(1), z, order)
    xxxx = _series_div(expectation(2), z, order)
    g2 = [sp.expand(sp.cancel(c / N)) for c in xx]
    g2sq = [sp.expand(sum(g2[j] * g2[k - j] for j in range(k + 1))) for k in range(order + 1)]
    u = [sp.expand(sp.cancel(xxxx[k] / (N * (N + 2))) - g2sq[k]) for k in range(order + 1)]
    return {"Z": z, "log_Z": _series_log(z, order), "propagator": g2, "four_point": u}


def diagram_series(n_legs: int, order: int, channel: int = 0) -> list:
    """The same coefficients summed over generated connected diagrams:
    sum (-1)^V S F at each order V (for 4 legs the channel ``channel`` of [A, B, C]).

    Parameters
    ----------
    n_legs : int
        0, 2 or 4 external legs.
    order : int
        The highest number of vertices.
    channel : int, optional
        For 4 legs, the channel (0, 1, 2 for A, B, C).

    Returns
    -------
    list of sympy.Expr
        One coefficient per order 0..order.

    Examples
    --------
    >>> diagram_series(4, 1)
    [0, -1/3]
    """
    from .phi4 import generate_diagrams

    out = []
    for k in range(order + 1):
        total = sp.S.Zero
        for d in generate_diagrams(n_legs, k, connected=True):
            poly = d.n_factor_channels[channel] if n_legs == 4 else d.n_factor
            s = d.symmetry_factor
            total += (
                (-1) ** k
                * sp.Rational(s.numerator, s.denominator)
                * sum(sp.Rational(c.numerator, c.denominator) * N**p for p, c in poly.items())
            )
        out.append(sp.expand(total))
    return out


def large_n_propagator(order: int) -> list:
    """Taylor coefficients of the large-N propagator with g = lambda/N (docs/conventions.md §6),
    G(lambda) = 3 (sqrt(1 + 2 lambda/3) - 1)/lambda, from its closed form.

    Parameters
    ----------
    order : int
        The highest power of lambda.

    Returns
    -------
    list of sympy.Rational

    Examples
    --------
    >>> large_n_propagator(2)
    [1, -1/6, 1/18]
    """
    lam = sp.Symbol("lam")
    expr = 3 * (sp.sqrt(1 + 2 * lam / 3) - 1) / lam
    ser = sp.series(expr, lam, 0, order + 1).removeO()
    return [ser.coeff(lam, k) for k in range(order + 1)]


def cactus_series(order: int) -> tuple[list, list]:
    """Large-N propagator from diagrams: at each order V the leading power N^V of the
    2-point diagrams (g = lambda/N gives lambda^V N^(F-degree - V)); returns
    ``(coefficients, [ids of the leading diagrams per order])``.

    Parameters
    ----------
    order : int
        The highest number of vertices.

    Returns
    -------
    tuple of (list, list)
        The coefficients of lambda^0..lambda^order and, per order, the canonical ids of the
        leading (cactus) diagrams.

    Examples
    --------
    >>> cactus_series(2)[0]
    [1, -1/6, 1/18]
    """
    from .phi4 import generate_diagrams

    coefficients, leading = [], []
    for k in range(order + 1):
        total = sp.S.Zero
        ids = []
        for d in generate_diagrams(2, k, connected=True):
            top = d.n_factor.get(k)
            if top:
                ids.append(d.id)
                s = d.symmetry_factor
                total += (
                    (-1) ** k
                    * sp.Rational(s.numerator, s.denominator)
                    * sp.Rational(top.numerator, top.denominator)
                )
            if max(d.n_factor) > k:
                raise AssertionError(f"diagram {d.id} grows faster than N^order")
        coefficients.append(total)
        leading.append(ids)
    return coefficients, leading
