"""The paper's chapter "The neural tangent kernel" (docs/conventions.md §10).

The recursions are written as sympy equations in the conventions' letters; the numbers
per layer come from the engine (:func:`~nnqft.derive.ntk.kernel.ntk_trajectory`,
:func:`~nnqft.derive.ntk.variance.ntk_fluctuations`,
:func:`~nnqft.derive.ntk.correction.ntk_mean_correction`), and the closed form in the
depth from :func:`~nnqft.derive.ntk.symbolic.ntk_closed_form`.

>>> chapter = ntk_chapter("tanh")
>>> chapter.title
'The neural tangent kernel of a tanh network'
>>> [s.label for s in chapter.steps][:3]
['sec:ntk-definition', 'sec:ntk-infinite', 'sec:ntk-closed']
"""

from __future__ import annotations

import sympy as sp

from ...rules import symbols as S
from ...rules.activations import get_activation
from ...rules.network import Network

__all__ = ["ntk_chapter", "EXAMPLE"]

#: the example network of the chapter's numbers
EXAMPLE = {"sigma_w2": 1.5, "sigma_b2": 0.05, "q0": 1.0, "depth": 6}


#: the Gaussian means are at K = K(l), the mean-field kernel of layer l
_K = sp.Symbol("K")


def _mean(f):
    """<f>_K as a printable function of K (``f`` without ^ or _: the LaTeX printer would
    split the name there)."""
    return sp.Function(r"\langle " + f + r" \rangle")(_K)


def ntk_chapter(activation=None):
    """The chapter for ``activation`` (default tanh) with numbers at :data:`EXAMPLE`."""
    from ..document.derivation import Derivation, Equation, Step
    from .correction import ntk_mean_correction
    from .kernel import ntk_trajectory
    from .symbolic import ntk_closed_form
    from .variance import ntk_fluctuations

    act = get_activation(activation or "tanh")
    l = sp.Symbol("l", integer=True, positive=True)  # noqa: E741 - the layer, as in PDLT
    H, H1, K1, P = (sp.Function(n) for n in ("H", "H_1", "K_1", "P"))
    V, D, B = (sp.Function(n) for n in ("V", "D", "B"))
    lb, lw = sp.symbols(r"\lambda_b \lambda_W")
    cw, q0 = S.sigma_w2, S.q0
    n = sp.Symbol("n", positive=True)
    steps = [
        Step(
            "Definition",
            "Gradient descent with rate $\\lambda_b$ on every bias and $\\lambda_W/n$ on every "
            "weight moves the outputs of layer l through the neural tangent kernel, the sum "
            "over all parameters of layers 1..l of the products of the outputs' gradients.",
            (sp.Eq(sp.Function("H_{ij}")(l), sp.Symbol(r"\sum_\theta \lambda_\theta "
                   r"\partial_\theta z_i(l) \partial_\theta z_j(l)")),),
            "nnqft.derive.ntk.kernel",
            "sec:ntk-definition",
        ),
        Step(
            "Infinite width",
            "At infinite width $H_{ij} = \\delta_{ij} H(l)$: the parameters of layer l+1 add "
            "the first two terms, and the earlier layers' gradients pass one Jacobian, "
            "whose mean square is $\\chi_\\perp = C_W \\langle\\phi'^2\\rangle$; every "
            "Gaussian mean $\\langle f \\rangle_K$ is at the layer's kernel, $K = K(l)$.",
            (
                sp.Eq(H(1), lb + lw * q0),
                sp.Eq(H(l + 1), lb + lw * _mean(r"\phi\phi") + cw * _mean(r"\phi'\phi'") * H(l)),
            ),
            "nnqft.derive.ntk.kernel.ntk_trajectory",
            "sec:ntk-infinite",
        ),
    ]
    relu = ntk_closed_form("relu")
    steps.append(
        Step(
            "A closed form in the depth",
            "For the scale-invariant activations the Gaussian means are linear in K and the "
            "recursion sums in closed form in the layer index; for ReLU, with "
            "$\\lambda_b = \\lambda_W = 1$:",
            (sp.Eq(sp.Function("H_{relu}")(S.T), relu),),
            "nnqft.derive.ntk.symbolic.ntk_closed_form",
            "sec:ntk-closed",
        )
    )
    dm = sp.Derivative(_mean(r"\phi'\phi'"), _K)
    ddm = sp.Derivative(_mean(r"\phi'\phi'"), (_K, 2))
    dp = sp.Derivative(_mean(r"\phi\phi"), _K)
    ddp = sp.Derivative(_mean(r"\phi\phi"), (_K, 2))
    dp = sp.Derivative(_mean(r"\phi\phi"), _K)
    ddp = sp.Derivative(_mean(r"\phi\phi"), (_K, 2))
    steps.append(
        Step(
            "Fluctuations across initialisations",
            "Given layer l the rows of the next weight matrix are independent, so the pairs "
            "(z_i, H_ii) of layer l+1 are independent given the layer's kernel G and its "
            "conditional NTK mean $\\hat H$: a Markov chain in (G, $\\hat H$) whose covariance "
            "n Cov = (V, D, A) obeys a linear recursion; "
            "$\\mathrm{Var}\\,H_{ii} = (A + 2B)/n$ with",
            (sp.Eq(B(l + 1), cw**2 * _mean(r"\phi'\phi'\phi'\phi'") * H(l) ** 2
                   + cw**2 * _mean(r"\phi'\phi'") ** 2 * B(l)),),
            "nnqft.derive.ntk.variance.ntk_fluctuations",
            "sec:ntk-variance",
        )
    )
    steps.append(
        Step(
            "The mean at order 1/n",
            "One order further in the same chain, $E H_{ii} = H + H_1/n$: the chain's mean "
            "shifts $K_1$, $H_1$ and covariances V, D enter through the Gaussian means' "
            "K-derivatives, and the weight row shared by $z_i$ and $H_{ii}$ adds, by Stein's "
            "lemma, the term in P, the limit of $(1/n) E[\\phi^T D H D \\phi]$. For linear and "
            "ReLU nets $\\langle\\phi'^2\\rangle$ is constant and $K_1 = 0$: no correction.",
            (
                sp.Eq(H1(l + 1), lw * (K1(l) * dp + V(l) * ddp / 2)
                      + cw * (_mean(r"\phi'\phi'") * H1(l) + dm * (K1(l) * H(l) + D(l))
                              + H(l) * V(l) * ddm / 2)
                      + 2 * cw**3 * P(l - 1) * dm),
                sp.Eq(P(l), _mean(r"\phi\phi\phi'\phi'") * H(l)
                      + cw**2 * _mean(r"(\phi\phi')'") ** 2 * P(l - 1)),
                sp.Eq(sp.Function(r"E\,H_{ii}")(l), H(l) + H1(l) / n),
            ),
            "nnqft.derive.ntk.correction.ntk_mean_correction",
            "sec:ntk-mean",
        )
    )
    net = Network("feedforward", act, EXAMPLE["sigma_w2"], EXAMPLE["sigma_b2"], q0=EXAMPLE["q0"])
    depth = EXAMPLE["depth"]
    rows = ntk_trajectory(net, depth)
    fluct = ntk_fluctuations(net, depth)
    mean = ntk_mean_correction(net, depth)
    table = sp.ImmutableMatrix(
        [
            [r["layer"], sp.Float(r["ntk"], 8), sp.Float(m["ntk_correction"], 8),
             sp.Float(f["ntk_variance"], 8)]
            for r, f, m in zip(rows, fluct, mean)
        ]
    )  # fmt: skip
    steps.append(
        Step(
            "Numbers",
            f"For sigma_w2 = {EXAMPLE['sigma_w2']}, sigma_b2 = {EXAMPLE['sigma_b2']}, q0 = 1 "
            f"and $\\lambda_b = \\lambda_W = 1$; Monte Carlo of real networks (explicit "
            "backpropagation) checks each column in the tests.",
            (Equation(table, note="columns: l, H(l), H_1(l), n Var H_ii(l)"),),
            "nnqft.derive.ntk.correction.ntk_mean_correction",
            "sec:ntk-numbers",
        )
    )
    return Derivation(
        f"The neural tangent kernel of a {act.name} network",
        tuple(steps),
        "The NTK at infinite width, its closed form for ReLU, and its finite-width "
        "corrections at order 1/n: the variance across initialisations and the shift of "
        "the mean.",
        "ch:ntk",
    )
