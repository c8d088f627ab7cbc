"""The paper's chapter "Fluctuations about the saddle point" (docs/conventions.md §8, §9).

Every equation is an object the engine derived: the collective action, the saddle point,
the layer action expanded to cubic order, the propagators and vertices of
:func:`~nnqft.derive.fluctuations.rules.collective_rules`, the diagrams at 1/N with their
symmetry factors and values per layer, the finite-width depth scales of
:func:`~nnqft.derive.finite_width.depth_scales.depth_scales`, and the dictionary to the
O(N) vector model.

>>> chapter = fluctuation_chapter("tanh")
>>> chapter.title
'Fluctuations about the saddle point: 1/N corrections for a tanh network'
>>> [s.label for s in chapter.steps][:3]
['sec:fl-collective', 'sec:fl-action', 'sec:fl-saddle']
"""

from __future__ import annotations

import sympy as sp

from ...rules import symbols as S
from ...rules.activations import get_activation
from ...rules.network import Network

__all__ = ["fluctuation_chapter", "EXAMPLE"]

#: the example network of the chapter's numbers: chaotic side, small bias
EXAMPLE = {"sigma_w2": 1.5, "sigma_b2": 0.05, "q0": 1.0, "depth": 6, "width": 64}


def _functions():
    t = sp.Symbol("t", integer=True, positive=True)
    j = sp.Symbol("j", integer=True, positive=True)
    Q, Qt, K0 = sp.Function("Q"), sp.Function(r"\tilde{Q}"), sp.Function("K_0")
    return t, j, Q, Qt, K0


def _number(x: float) -> sp.Float:
    return sp.Float(x, 8)


def fluctuation_chapter(activation=None):
    """The chapter for ``activation`` (default tanh) with numbers at :data:`EXAMPLE`."""
    from ..document.derivation import Derivation, Equation, Step
    from ..finite_width.depth_scales import depth_scales
    from .correlators import nonlinear_correlator
    from .feedforward import layer_action
    from .rules import collective_rules

    act = get_activation(activation or "tanh")
    t, j, Q, Qt, K0 = _functions()
    phi = sp.Function(r"\phi")
    N, w, b = S.N, S.sigma_w2, S.sigma_b2
    steps = []
    zz = sp.IndexedBase("z")
    definition = sp.Eq(Q(t), b + w / N * sp.Sum(phi(zz[j, t - 1]) ** 2, (j, 1, N)))
    steps.append(
        Step(
            "The collective field of a layer",
            "In a feedforward network the variance of the pre-activations of layer t given "
            "the layer below is one number per layer: the collective field Q(t). Given "
            "Q(t), the z_i(t) are independent Gaussians of variance Q(t); Q(1) is fixed by "
            "the input.",
            (definition,),
            "nnqft.derive.fluctuations.feedforward",
            "sec:fl-collective",
        )
    )
    u, J = sp.symbols("u J")
    W = sp.Function("W")
    action = sp.Eq(
        sp.Symbol("E"),
        sp.Sum(-Qt(t) * Q(t) + b * Qt(t) + W(w * Qt(t), Q(t - 1)), (t, 2, sp.Symbol("T"))),
    )
    generating = sp.Eq(W(J, sp.Symbol("K")), sp.log(sp.Function(r"\mathbb{E}_{u \sim N(0, K)}")(
        sp.exp(J * phi(u) ** 2))))
    steps.append(
        Step(
            "The action of the collective fields",
            "Imposing the definition with a conjugate field and integrating out the neurons "
            "leaves the weight exp(N E): N times a functional of the collective fields, so "
            "$1/N$ plays the role of Planck's constant. $W$ is the cumulant generating "
            "function of $\\phi(u)^2$.",
            (action, generating),
            "nnqft.derive.fluctuations.feedforward.layer_action",
            "sec:fl-action",
        )
    )
    expr, (qt, dq, dqp), saddle = layer_action(3)
    display = {qt: sp.Symbol(r"\tilde{Q}_t"), dq: sp.Symbol(r"\delta Q_t"),
               dqp: sp.Symbol(r"\delta Q_{t-1}")}
    steps.append(
        Step(
            "The saddle point",
            "The part of E linear in the conjugate field vanishes at the mean-field length "
            "map; nnqft solves that condition. The brackets are Gaussian means of powers of "
            "$\\phi$ and their $q$-derivatives at the saddle-point variance of the layer below.",
            (sp.Eq(K0(t), saddle),),
            "nnqft.derive.fluctuations.feedforward.layer_action",
            "sec:fl-saddle",
        )
    )
    steps.append(
        Step(
            "Expansion about the saddle point",
            "With dQ = Q - K0 the layer action to cubic order: its quadratic part is the "
            "Hessian, the rest are the vertices (Gaussian cumulants of $\\phi^2$ and their "
            "$q$-derivatives).",
            (sp.Eq(sp.Symbol("E_t"), expr.subs(display, simultaneous=True)),),
            "nnqft.derive.fluctuations.feedforward.layer_action",
            "sec:fl-expansion",
        )
    )
    rules = collective_rules(Network("feedforward", act))
    props = [sp.Eq(sp.Symbol(f"G_{{{p.kind}}}"), p.value) for p in rules.propagators]
    steps.append(
        Step(
            "Propagators: the inverse Hessian",
            "The kinetic part -Qt(t)[dQ(t) - chi(t-1) dQ(t-1)] is inverted as a geometric "
            "series: a causal response line from Qt(s) to dQ(t), t >= s, and the correlator "
            "line $R \\Sigma R^T$ with the noise $\\Sigma$ of $\\phi^2$ (each carries $1/N$).",
            tuple(props),
            "nnqft.derive.fluctuations.rules.collective_rules",
            "sec:fl-propagators",
        )
    )
    verts = []
    for v in rules.vertices:
        name = v.kind.replace(" ", "\\,")
        verts.append(sp.Eq(sp.Symbol("g_{" + name + "}"), v.coupling))
    steps.append(
        Step(
            f"Vertices for {act.name}",
            f"Each cubic monomial is a vertex with coupling N times its derivative, in "
            f"closed form where the Gaussian means of {act.name} have one.",
            tuple(verts),
            "nnqft.derive.fluctuations.rules.collective_rules",
            "sec:fl-vertices",
        )
    )
    net = Network(
        "feedforward", act, EXAMPLE["sigma_w2"], EXAMPLE["sigma_b2"], q0=EXAMPLE["q0"]
    )
    mean = nonlinear_correlator(net, "mean", 1, EXAMPLE["depth"])
    var = nonlinear_correlator(net, "variance", 1, EXAMPLE["depth"])
    table = sp.ImmutableMatrix(
        [
            [s["t"], _number(s["coefficients"]["0"]), _number(s["coefficients"]["1"]),
             _number(v["coefficients"]["1"])]
            for s, v in zip(mean["steps"], var["steps"])
        ]
    )
    steps.append(
        Step(
            "The diagrams at 1/N and their values",
            "A diagram with $V$ vertices and $P$ lines carries $N^{V-P}$: at $1/N$ the one-point "
            "function of dQ is the tadpole alone (symmetry factor 1/2), which gives K1; the "
            "tree correlator gives V, and $\\mathrm{Var}\\,Q = (V + 2K_0^2)/N$. At $1/N^2$ "
            "the degree-5 "
            "tadpole and the 3+4 and 3+3+3 diagrams give K2. The numbers are for "
            f"sigma_w2 = {EXAMPLE['sigma_w2']}, sigma_b2 = {EXAMPLE['sigma_b2']}, q0 = 1; the "
            "recursion of the finite-width chapter gives the same to 1e-12.",
            (Equation(table, note="columns: t, K0(t), K1(t), N Var Q(t) at 1/N"),),
            "nnqft.derive.fluctuations.correlators.nonlinear_correlator",
            "sec:fl-diagrams",
        )
    )
    scales = depth_scales(
        Network("feedforward", act, EXAMPLE["sigma_w2"], EXAMPLE["sigma_b2"],
                width=EXAMPLE["width"])
    )
    eqs = []
    for key, symbol in (("chi_parallel", r"\chi_{\parallel}"), ("chi_1", r"\chi_1"),
                        ("xi_q", r"\xi_q"), ("lyapunov_exponent", r"\lambda_{\max}"),
                        ("chi_c", r"\chi_c"), ("xi_c", r"\xi_c"),
                        ("sigma_w2_critical", r"\sigma^2_{w,c}")):
        entry = scales.get(key)
        if isinstance(entry, dict) and entry.get("mean_field") is not None and \
                entry.get("coefficient_1") is not None:
            eqs.append(sp.Eq(sp.Function(symbol)(N),
                             _number(entry["mean_field"]) + _number(entry["coefficient_1"]) / N))
    steps.append(
        Step(
            "Finite-width corrections to the depth scales",
            "Linearising the finite-width maps about their fixed point gives the slopes and "
            f"depth scales through 1/N (numbers for {act.name} at the example parameters; "
            "definitions in the conventions).",
            tuple(eqs) or (sp.Eq(sp.Symbol("xi"), sp.oo),),
            "nnqft.derive.finite_width.depth_scales.depth_scales",
            "sec:fl-depth",
        )
    )
    from ..finite_width.scale_invariant_edge import scale_invariant_edge

    edge = [
        sp.Eq(sp.Function(rf"\sigma^{{2,\mathrm{{{name}}}}}_{{w,c}}")(N),
              scale_invariant_edge(name)["sigma_w2_critical"])
        for name in ("linear", "relu")
    ]  # fmt: skip
    steps.append(
        Step(
            "The edge of chaos at finite width",
            r"At width N the edge moves to where the typical exponent "
            r"$\lambda_{\max}(N) = \frac12 \ln(\sigma_w^2 g) - (3\langle\phi'^4\rangle - "
            r"g^2)/(4 g^2 N)$ vanishes ($g = \langle\phi'^2\rangle$, variance-free for "
            r"scale-invariant activations): a finite-width network needs a larger weight "
            r"variance to be critical. Closed forms for the linear network and ReLU:",
            tuple(edge),
            "nnqft.derive.finite_width.scale_invariant_edge.scale_invariant_edge",
            "sec:fl-edge",
        )
    )
    lam = sp.Symbol(r"\lambda_{\mathrm{tH}}")
    steps.append(
        Step(
            "Dictionary to the O(N) vector model",
            "The weight variance is the 't Hooft coupling of the vector model; the mean-field "
            "saddle point is the sum of its cactus diagrams (the infinite-width limit); each "
            "line of the collective field is a chain of bubbles and costs 1/N, so the loops "
            "of the collective theory are the 1/N corrections, growing with depth as T/N.",
            (sp.Eq(lam, w),),
            "nnqft.derive.fluctuations.chapter",
            "sec:fl-dictionary",
        )
    )
    return Derivation(
        f"Fluctuations about the saddle point: 1/N corrections for a {act.name} network",
        tuple(steps),
        "The collective-field theory of a feedforward network expanded about its saddle "
        "point: its Feynman rules, the diagrams of each order in 1/N and their values.",
        "ch:fluctuations",
    )
