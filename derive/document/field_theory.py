r"""The field theory of a random network as a :class:`~nnqft.derive.document.derivation.Derivation`.

The chain, each link computed by :mod:`nnqft.rules.action` (docs/conventions.md §2-3), a concrete
activation put in by :mod:`nnqft.derive.meanfield.saddle`:
model -> MSRDJ action -> disorder average (Gaussian rule) -> collective fields ->
single-neuron action times N -> saddle point -> mean-field maps -> two replicas ->
linearised distance recursion -> chi_1 -> lambda_max = (1/2) ln chi_1 -> edge of chaos.

>>> d = field_theory("feedforward")
>>> [s.title for s in d][:3]
['The network', 'The MSRDJ action', 'The sources of the disorder']
>>> d.steps[-1].equations[0].expr
Eq(chi_1, 1)
"""

from __future__ import annotations

import sympy as sp

from ...algebra.sums import simplify_sums
from ...errors import unknown_name
from ...rules import action as A
from ...rules import symbols as S
from ...rules.activations import Activation, get_activation
from ...rules.network import Network
from ..gaussian import method_name
from ..meanfield.saddle import specialise
from .derivation import Derivation, Equation, Step
from .latex import latex

__all__ = [
    "STEP_KEYS",
    "network_for",
    "field_theory",
    "field_theory_chapters",
    "examples_chapter",
    "activation_results",
]

#: the links of the chain, in order
STEP_KEYS = (
    "model",
    "action",
    "sources",
    "gaussian-rule",
    "averaged",
    "collective",
    "single-neuron",
    "saddle",
    "gaussian-process",
    "mft",
    "replicas",
    "distance",
    "lyapunov",
    "edge",
)

_S = sp.Symbol("S")
_S_bar = sp.Symbol(r"\bar{S}")
_Z = sp.Symbol("Z")
_s1 = sp.Symbol("s_1")
_J_W = sp.IndexedBase("J_W")
_J_b = sp.IndexedBase("J_b")
_a = sp.IndexedBase("a")
_X = sp.IndexedBase("X")
_C = sp.Function("C")
_z1, _z2 = sp.symbols("z_1 z_2", real=True)
_c = sp.Symbol("c", real=True)
_L = sp.Function("L")  # the length map
_F = sp.Function("F")  # the correlation map


def network_for(arch: str = "feedforward", bias: str | None = None) -> Network:
    """The symbolic network a derivation is about (sigma_w2, sigma_b2, q0, N, T symbols).

    The activation is left abstract (phi) in the derivation; the Network carries 'linear'
    only because every Network names one.
    """
    return Network(arch, "linear", bias=bias, q0=S.q0)


def _eq(lhs, rhs) -> sp.Eq:
    return sp.Eq(lhs, rhs, evaluate=False)


def _arch_words(net: Network) -> str:
    if net.arch == "feedforward":
        return "feedforward network (new weights and biases in every layer)"
    return f"recurrent network (one weight matrix for all steps, {net.bias} bias)"


def _model(net, act):
    fams = A.disorder_families(net)
    eqs = [A.update_rule(net), A.PHI_OF_INPUT]
    if net.arch == "recurrent":
        eqs.append(A.update_rule(net, time_resolved=True))
    eqs += [f.moment() for f in fams]
    if act is not None:
        eqs.append(Equation(_eq(A.phi(S.z), act.expr), note=f"activation: {act.name}"))
    return Step(
        "The network",
        f"A {_arch_words(net)} of width $N$ and depth $T$, whose input enters unactivated, "
        "written $\\phi(z_j(0)) = x_j$; the weights and biases are centred Gaussians.",
        tuple(eqs),
        "nnqft.rules.action.update_rule, disorder_families",
    )


def _action(net, act):
    return Step(
        "The MSRDJ action",
        "Response fields $\\tilde z$ enforce the update rule. " + A.SIGN_CONVENTION,
        (
            _eq(_Z, A.DisorderAverage(A.PathIntegral(_S, A.z, A.zt))),
            _eq(_S, A.msrdj_action(net)),
        ),
        "nnqft.rules.action.msrdj_action",
    )


def _sources(net, act):
    action = A.msrdj_action(net)
    fw, fb = A.disorder_families(net)
    jw, rest = A.linear_coefficient(action, fw)
    jb, rest = A.linear_coefficient(rest, fb)
    lw = list(zip(fw.indices, fw.limits))
    lb = list(zip(fb.indices, fb.limits))
    sw = sp.Sum(fw.base[fw.indices] * _J_W[fw.indices], *[(v, *r) for v, r in lw])
    sb = sp.Sum(fb.base[fb.indices] * _J_b[fb.indices], *[(v, *r) for v, r in lb])
    return Step(
        "The sources of the disorder",
        "The action is linear in the weights and biases; the engine reads off their "
        "coefficients $J^W$ and $J^b$.",
        (
            _eq(_S, simplify_sums(rest) + sw + sb),
            _eq(_J_W[fw.indices], jw),
            _eq(_J_b[fb.indices], jb),
        ),
        "nnqft.rules.action.linear_coefficient",
    )


def _gaussian_rule(net, act):
    k, l = A.NEURON[2:4]
    generic = A.GaussianFamily(_X, (k,), (l,), ((1, sp.Symbol("n")),), _C(k, l))
    rule = A.gaussian_average(_a[k], generic)
    lhs = sp.log(A.DisorderAverage(sp.exp(sp.Sum(_a[k] * _X[k], (k, 1, sp.Symbol("n"))))))
    fw, fb = A.disorder_families(net)
    eqs = [Equation(_eq(lhs, rule), note="Gaussian $X$, covariance $C$")]
    for fam, j in ((fw, _J_W), (fb, _J_b)):
        lims = [(v, *r) for v, r in zip(fam.indices, fam.limits)]
        lhs = sp.log(
            A.DisorderAverage(sp.exp(sp.Sum(fam.base[fam.indices] * j[fam.indices], *lims)))
        )
        eqs.append(_eq(lhs, A.gaussian_average(j[fam.indices], fam)))
    return Step(
        "The Gaussian average",
        "One rule does the whole disorder average: the cumulant generating function of "
        "centred Gaussians, applied to the weights and the biases with their covariances.",
        tuple(eqs),
        "nnqft.rules.action.gaussian_average",
    )


def _averaged(net, act):
    generic = A.averaged_action(net, generic=True)
    return Step(
        "The disorder-averaged action",
        "Substituting the sources and contracting the Kronecker deltas gives a quadratic bias "
        "term and a double-trace vertex of strength $\\sigma_w^2/N$ (the 't Hooft scaling of "
        "the O(N) vector model), first for general time structures K and B, then for this network.",
        (_eq(_S_bar, generic), _eq(_S_bar, A.averaged_action(net))),
        "nnqft.rules.action.averaged_action",
    )


def _collective(net, act):
    cf = A.collective_fields(net)
    return Step(
        "Collective fields",
        "The engine finds the $\\phi$-trace of the vertex, names it Q and enforces the "
        "definition with a conjugate field $\\tilde Q$ integrated along the imaginary axis.",
        (
            cf.definition,
            _eq(sp.Integer(1), A.PathIntegral(cf.lagrange, A.Q, A.Qt)),
            _eq(_S_bar, simplify_sums(cf.with_q + cf.lagrange)),
        ),
        "nnqft.rules.action.collective_fields",
    )


def _single_neuron(net, act):
    cf = A.collective_fields(net)
    return Step(
        "The single-neuron action",
        "Every remaining term is a sum over one neuron index of the same expression, so the "
        "neurons decouple and the exponent is N times an action of the collective fields.",
        (
            _eq(A.S_eff, net.width * (cf.qq_term + sp.log(A.Z_1))),
            _eq(A.Z_1, A.PathIntegral(_s1, A.z1, A.zt1)),
            _eq(_s1, cf.single_neuron),
        ),
        "nnqft.rules.action.collective_fields",
    )


def _saddle(net, act):
    sp_ = A.saddle_point(net)
    return Step(
        "The saddle point",
        "As $N\\to\\infty$ the collective fields sit at the stationary point of "
        "$\\mathcal{S}$; response-field moments vanish because the MSRDJ measure is "
        "normalised, so $\\tilde Q = 0$ there.",
        (*sp_.stationarity, sp_.solution_q, sp_.solution_qt),
        "nnqft.rules.action.saddle_point",
    )


def _gaussian_process(net, act):
    sp_ = A.saddle_point(net)
    return Step(
        "A Gaussian single-neuron process",
        "With $\\tilde Q = 0$ the single-neuron action is quadratic in $\\tilde z$, so z is "
        "Gaussian with the covariance the engine reads off the quadratic form (and checks "
        "against the Gaussian rule).",
        (
            _eq(_s1, sp_.gaussian_action),
            sp_.covariance,
            Equation(sp_.two_time, note="with Q at the saddle point"),
        ),
        "nnqft.rules.action.saddle_point",
    )


def _mft(net, act):
    sp_ = A.saddle_point(net)
    eqs = [*sp_.equal_time, sp_.initial, _eq(_L(S.q), sp_.maps["length"])]
    if act is not None:
        spec = specialise(sp_.maps["length"], act)
        how = "closed form" if not spec.has(A.GaussianMean) else method_name(act)
        eqs.append(Equation(_eq(_L(S.q), spec), note=f"{act.name}, {how}"))
    return Step(
        "The mean-field recursion",
        "At equal times the saddle point is the length map of mean-field theory, started "
        "from the input's norm.",
        tuple(eqs),
        "nnqft.rules.action.saddle_point",
    )


def _u_definitions():
    return (
        _eq(A.u1, sp.sqrt(S.q11) * _z1),
        _eq(A.u2, sp.sqrt(S.q22) * (_c * _z1 + sp.sqrt(1 - _c**2) * _z2)),
        _eq(_c, S.q12 / sp.sqrt(S.q11 * S.q22)),
    )


def _replicas(net, act):
    sp2 = A.saddle_point(net, replicas=2)
    eqs = [
        Equation(
            _eq(
                A.Q(*A.collective_fields(net, 2).definition.lhs.args),
                A.collective_fields(net, 2).definition.rhs,
            ),
            note="replicas $\\alpha,\\beta$",
        ),
        sp2.equal_time[2],
        sp2.initial,
        _eq(_F(S.q11, S.q22, S.q12), sp2.maps["correlation"]),
        *_u_definitions(),
    ]
    if act is not None:
        spec = specialise(sp2.maps["correlation"], act)
        how = "closed form" if not spec.has(A.BivariateGaussianMean) else method_name(act)
        eqs.append(Equation(_eq(_F(S.q11, S.q22, S.q12), spec), note=f"{act.name}, {how}"))
    return Step(
        "Two replicas",
        "Two inputs through the same weights: the same derivation with a replica index "
        "gives collective fields $Q^{\\alpha\\beta}$ whose off-diagonal saddle point is the "
        "correlation map.",
        tuple(eqs),
        "nnqft.rules.action.saddle_point(replicas=2)",
    )


def _distance(net, act):
    dr = A.distance_recursion(net)
    eqs = [dr.distance, dr.fixed_point, dr.linearised, _eq(A.chi_1, dr.chi_1)]
    if act is not None:
        spec = specialise(dr.chi_1, act)
        eqs.append(Equation(_eq(A.chi_1, spec), note=act.name))
    return Step(
        "The linearised distance",
        "For nearby replicas at the fixed point, differentiating the correlation map "
        "(Price's theorem) gives the growth factor of their squared distance per layer.",
        tuple(eqs),
        "nnqft.rules.action.distance_recursion",
    )


def _lyapunov(net, act):
    dr = A.distance_recursion(net)
    return Step(
        "The Lyapunov exponent",
        "Solving the linear recursion and taking the growth rate of the distance "
        "$\\sqrt{d}$ gives the largest Lyapunov exponent.",
        (dr.solution, dr.lyapunov),
        "nnqft.rules.action.distance_recursion",
    )


def activation_results(act: Activation, net: Network | None = None) -> dict:
    """Closed-form results for one activation: length map, chi_1(q*), critical sigma_w2.

    ``critical`` is derived where the engine can: chi_1 free of q* gives it directly;
    otherwise, if phi(0) = 0, q* = 0 is a fixed point at sigma_b2 = 0 and chi_1 there is
    sigma_w2 phi'(0)^2.

    >>> activation_results(get_activation("relu"))["critical"]
    Eq(sigma_w2, 2)
    >>> activation_results(get_activation("erf"))["critical"]
    Eq(sigma_w2, pi/4)
    """
    net = net or network_for("feedforward")
    sp_ = A.saddle_point(net)
    dr = A.distance_recursion(net)
    length = specialise(sp_.maps["length"], act)
    chi = specialise(dr.chi_1, act)
    critical, condition, plain = None, None, None
    if not chi.has(A.q_star) and not chi.has(A.GaussianMean):
        sols = sp.solve(sp.Eq(chi, 1), S.sigma_w2)
        if len(sols) == 1:
            critical, condition = _eq(S.sigma_w2, sols[0]), "for every $\\sigma_b^2$"
            plain = "for every sigma_b2"
    else:
        at_zero = specialise(dr.fixed_point.rhs.xreplace({A.q_star: 0, S.sigma_b2: 0}), act)
        if sp.simplify(at_zero) == 0:
            chi0 = specialise(dr.chi_1.xreplace({A.q_star: 0}), act)
            sols = sp.solve(sp.Eq(sp.simplify(chi0), 1), S.sigma_w2)
            if len(sols) == 1:
                critical, condition = _eq(S.sigma_w2, sols[0]), "at $\\sigma_b^2 = 0$ ($q^*=0$)"
                plain = "at sigma_b2 = 0, where q* = 0"
    return {
        "length_map": length,
        "chi_1": chi,
        "critical": critical,
        "critical_condition": condition,
        "critical_condition_text": plain,
        "method": (
            "closed form"
            if not (length.has(A.GaussianMean) or chi.has(A.GaussianMean))
            else method_name(act)
        ),
    }


def _edge(net, act):
    dr = A.distance_recursion(net)
    eqs = [
        Equation(dr.critical, note="edge of chaos: $\\lambda_{\\max} = 0$"),
        Equation(dr.ordered, note="ordered: $\\lambda_{\\max} < 0$, $c^* = 1$ stable"),
        Equation(dr.chaotic, note="chaotic: $\\lambda_{\\max} > 0$, $c^* < 1$"),
    ]
    if act is not None:
        res = activation_results(act, net)
        if res["critical"] is not None:
            eqs.append(Equation(res["critical"], note=f"{act.name}, {res['critical_condition']}"))
    return Step(
        "The edge of chaos",
        "The sign of the Lyapunov exponent separates the phases; criticality is $\\chi_1 = 1$.",
        tuple(eqs),
        "nnqft.rules.action.distance_recursion",
    )


_BUILDERS = {
    "model": _model,
    "action": _action,
    "sources": _sources,
    "gaussian-rule": _gaussian_rule,
    "averaged": _averaged,
    "collective": _collective,
    "single-neuron": _single_neuron,
    "saddle": _saddle,
    "gaussian-process": _gaussian_process,
    "mft": _mft,
    "replicas": _replicas,
    "distance": _distance,
    "lyapunov": _lyapunov,
    "edge": _edge,
}


def field_theory(
    arch: str = "feedforward",
    bias: str | None = None,
    activation=None,
    steps=None,
    title: str | None = None,
) -> Derivation:
    """The derivation of one network's field theory, mean-field theory and edge of chaos.

    ``activation`` (a name or :class:`Activation`) adds its closed forms or quadrature
    where phi is specialised; without it phi stays abstract.  ``steps`` selects links of
    the chain by key (:data:`STEP_KEYS`).
    """
    net = network_for(arch, bias)
    act = get_activation(activation) if activation is not None else None
    keys = STEP_KEYS if steps is None else tuple(steps)
    for key in keys:
        if key not in _BUILDERS:
            raise unknown_name("derivation step", key, STEP_KEYS)
    name = "Feedforward network" if arch == "feedforward" else f"Recurrent network, {net.bias} bias"
    if act is not None:
        name += f", $\\phi(z) = {latex(act.expr)}$"
    summary = (
        "Every equation below is a sympy object computed by nnqft; the response field "
        "convention is stated once in the action step."
    )
    return Derivation(title or name, tuple(_BUILDERS[k](net, act) for k in keys), summary)


def field_theory_chapters(activation=None) -> list[Derivation]:
    """The paper's field-theory chapters: the feedforward chain in full, the recurrent
    chain (shared bias) in full, and the fresh-bias variant where it differs."""
    return [
        field_theory("feedforward", activation=activation),
        field_theory("recurrent", "shared", activation=activation),
        field_theory(
            "recurrent",
            "fresh",
            activation=activation,
            steps=("model", "averaged", "gaussian-process", "mft"),
        ),
    ]


#: activations the examples chapter works out (each has closed-form kernels or quadrature)
EXAMPLE_ACTIVATIONS = ("linear", "relu", "erf", "tanh")


def examples_chapter(activation=None) -> Derivation:
    """Length map, chi_1 and critical point for a few activations, specialised by the engine."""
    names = list(EXAMPLE_ACTIVATIONS)
    if activation is not None and get_activation(activation).name not in names:
        names.append(get_activation(activation).name)
    steps = []
    for name in names:
        act = get_activation(name)
        res = activation_results(act)
        eqs = [
            Equation(_eq(A.phi(S.z), act.expr)),
            Equation(_eq(_L(S.q), res["length_map"]), note=res["method"]),
            Equation(_eq(A.chi_1, res["chi_1"])),
        ]
        if res["critical"] is not None:
            eqs.append(Equation(res["critical"], note=f"critical, {res['critical_condition']}"))
        steps.append(
            Step(
                f"{name}",
                "The abstract maps of the field theory with this activation put in.",
                tuple(eqs),
                "nnqft.derive.document.field_theory.activation_results",
            )
        )
    return Derivation(
        "Examples: activations",
        tuple(steps),
        "The same derived maps, specialised; closed-form Gaussian kernels where they exist.",
    )
