r"""The field theory of a random network as a :class:`~nnqft.derive.document.derivation.Derivation`.

The chain, each link computed by :mod:`nnqft.rules.action` (docs/conventions.md §2-3), a concrete
activation put in by :mod:`nnqft.derive.meanfield.saddle`:
model -> MSRDJ action -> disorder average (Gaussian rule) -> collective fields ->
single-neuron action times N -> saddle point -> mean-field maps -> two replicas ->
linearised distance recursion -> chi_1 -> depth scales chi_parallel, chi_c, xi_q, xi_c ->
lambda_max = (1/2) ln chi_1 -> edge of chaos.

In the paper (:func:`field_theory_chapters`) the recurrent chapters keep only the steps
whose equations differ from the feedforward chapter's and say which ones they share.

>>> d = field_theory("feedforward")
>>> [s.title for s in d][:3]
['The network', 'The MSRDJ action', 'The sources of the disorder']
>>> d.steps[-1].equations[0].expr
Eq(chi_1, 1)
"""

from __future__ import annotations

import dataclasses

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
    "depth_scales",
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
    "depth-scales",
    "lyapunov",
    "edge",
)

#: label prefixes of the three networks (unique labels in one paper)
_PREFIX = {("feedforward", None): "ff", ("recurrent", "shared"): "rs", ("recurrent", "fresh"): "rf"}

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
_eps = sp.Function("epsilon")  # q(t) - q*, the deviation from the length fixed point
_delta = sp.Function("delta")  # c(t) - c*, the deviation from the correlation fixed point
_cmap = sp.Function("c")  # the correlation coefficient of two inputs per layer
_chi_par, _chi_c = sp.symbols("chi_parallel chi_c", real=True)
_xi_q, _xi_c = sp.symbols("xi_q xi_c", positive=True)
_c_star = sp.Symbol("c_star", real=True)


def _prefix(net: Network) -> str:
    return _PREFIX[(net.arch, net.bias if net.arch == "recurrent" else None)]


def _tag(net: Network, name: str) -> str:
    """An equation label unique in the paper: eq:PREFIX-NAME."""
    return f"eq:{_prefix(net)}-{name}"


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
        return (
            "A feedforward network of width $N$ and depth $T$ (layers $t = 1, \\dots, T$), "
            "with new weights and biases drawn in every layer"
        )
    bias = (
        "one bias vector for all steps (shared bias)"
        if net.bias == "shared"
        else "a new bias vector at every step (fresh bias)"
    )
    return (
        "A recurrent network of width $N$ run for $T$ steps ($T$ is the number of steps, "
        "the depth of the unrolled network). Its weights have a time-independent "
        "covariance, so they are one matrix, $W(t) = W$ for every $t$, and it has " + bias
    )


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
        f"{_arch_words(net)}. The input enters unactivated, written "
        "$\\phi(z_j(0)) = x_j$; the weights and biases are centred Gaussians.",
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
    eqs = [
        *sp_.equal_time,
        sp_.initial,
        Equation(_eq(_L(S.q), sp_.maps["length"]), label=_tag(net, "length-map")),
    ]
    if act is not None:
        spec = specialise(sp_.maps["length"], act)
        eqs.append(Equation(_eq(_L(S.q), spec), note=_method_note(act, spec)))
    return Step(
        "The mean-field recursion",
        "At equal times the saddle point is the length map of mean-field theory, started "
        "from the input's norm.",
        tuple(eqs),
        "nnqft.rules.action.saddle_point",
    )


def _method_note(act: Activation, spec) -> str:
    """How a specialised map is evaluated, in words (never the quadrature rule's code name)."""
    if not spec.has(A.GaussianMean, A.BivariateGaussianMean):
        return f"{_display_name(act)}: closed form"
    return f"{_display_name(act)}: no closed form, Gaussian quadrature"


#: activations by the names a physicist writes
_DISPLAY = {
    "linear": "linear",
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "erf": "erf",
    "tanh": "tanh",
    "gelu": "GELU",
    "swish": "swish",
    "sigmoid": "sigmoid",
    "softplus": "softplus",
    "sin": "sine",
    "cos": "cosine",
}


def _display_name(act: Activation) -> str:
    return _DISPLAY.get(act.name.split("(")[0], act.name)


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
        eqs.append(Equation(_eq(_F(S.q11, S.q22, S.q12), spec), note=_method_note(act, spec)))
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
    eqs = [
        dr.distance,
        dr.fixed_point,
        dr.linearised,
        Equation(_eq(A.chi_1, dr.chi_1), label=_tag(net, "chi1")),
    ]
    if act is not None:
        spec = specialise(dr.chi_1, act)
        eqs.append(Equation(_eq(A.chi_1, spec), note=_display_name(act)))
    return Step(
        "The linearised distance",
        "For nearby replicas at the fixed point, differentiating the correlation map "
        "(Price's theorem) gives the growth factor of their squared distance per layer.",
        tuple(eqs),
        "nnqft.rules.action.distance_recursion",
    )


def depth_scales(net: Network) -> dict:
    """chi_parallel, chi_c and the depth scales xi_q, xi_c, derived from the mean-field maps.

    The length map linearised at q*, eps(t) = chi_parallel eps(t-1), and the normalised
    correlation map c(t) = F(q*, q*, c(t-1) q*)/q* linearised at c*, delta(t) = chi_c
    delta(t-1), are solved (sympy's rsolve); the depth scale is the decay length of the
    solution, eps(t) = eps(0) exp(-t/xi_q).

    >>> d = depth_scales(network_for("feedforward"))
    >>> d["xi_q"].rhs
    -1/log(chi_parallel)
    >>> d["chi_c"].rhs.args[1].func.__name__
    'BivariateGaussianMean'
    """
    sp2 = A.saddle_point(net, replicas=2)
    length, corr = sp2.maps["length"], sp2.maps["correlation"]
    t = A.TIME[0]
    tt = sp.Symbol("t", integer=True, nonnegative=True)
    chi_par = sp.diff(length, S.q).xreplace({S.q: A.q_star}).doit()
    normalised = corr.xreplace({S.q11: A.q_star, S.q22: A.q_star, S.q12: _c * A.q_star}) / A.q_star
    chi_c = sp.diff(normalised, _c).doit().xreplace({_c: _c_star})

    def decay_length(slope):
        # g(t) = slope g(t-1) solved, then written as g(0) exp(-t/xi)
        g, g0 = sp.Function("g"), sp.Symbol("g_0", positive=True)
        sol = sp.rsolve(g(tt) - slope * g(tt - 1), g(tt), {g(0): g0})
        rate = sp.expand_log(sp.log(sol / g0), force=True) / tt
        return sp.simplify(-1 / rate)

    return {
        "linearised_length": _eq(_eps(t), _chi_par * _eps(t - 1)),
        "chi_parallel": _eq(_chi_par, chi_par),
        "xi_q": _eq(_xi_q, decay_length(_chi_par)),
        "correlation_map": _eq(_cmap(t), normalised.xreplace({_c: _cmap(t - 1)})),
        "linearised_correlation": _eq(_delta(t), _chi_c * _delta(t - 1)),
        "chi_c": _eq(_chi_c, chi_c),
        "xi_c": _eq(_xi_c, decay_length(_chi_c)),
    }


def _depth_scales(net, act):
    d = depth_scales(net)
    eqs = [
        d["linearised_length"],
        Equation(d["chi_parallel"], label=_tag(net, "chi-parallel")),
        Equation(d["xi_q"], label=_tag(net, "xi-q")),
        Equation(d["correlation_map"], note="$u_{1,2}$ of variance $q^*$, correlation $c(t-1)$"),
        d["linearised_correlation"],
        Equation(d["chi_c"], label=_tag(net, "chi-c")),
        Equation(d["xi_c"], label=_tag(net, "xi-c")),
    ]
    if act is not None:
        for key in ("chi_parallel", "chi_c"):
            spec = specialise(d[key].rhs, act)
            eqs.append(Equation(_eq(d[key].lhs, spec), note=_method_note(act, spec)))
    return Step(
        "Depth scales",
        "Near the fixed points the deviations $\\epsilon(t) = q(t) - q^*$ of the length and "
        "$\\delta(t) = c(t) - c^*$ of the correlation of two inputs decay geometrically, "
        "with the slopes of the maps at the fixed points; the decay lengths are the depth "
        "scales to which signals propagate \\cite{Schoenholz2017}. In the ordered phase "
        "$c^* = 1$ and $\\chi_c = \\chi_1$; both scales diverge at criticality.",
        tuple(eqs),
        "nnqft.derive.document.field_theory.depth_scales",
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

    ``critical`` is derived where the engine can.  chi_1 free of q* gives the critical
    sigma_w2 directly; it is critical for every sigma_b2 only if the length map has a
    finite fixed point there, else (linear, ReLU: q grows without bound for sigma_b2 > 0)
    only at sigma_b2 = 0.  Otherwise, if phi(0) = 0, q* = 0 is a fixed point at
    sigma_b2 = 0 and chi_1 there is sigma_w2 phi'(0)^2.

    >>> activation_results(get_activation("relu"))["critical"]
    Eq(sigma_w2, 2)
    >>> activation_results(get_activation("relu"))["critical_condition_text"]
    'at sigma_b2 = 0 only: for sigma_b2 > 0 there is no finite q* at sigma_w2 = 2'
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
            critical = _eq(S.sigma_w2, sols[0])
            if _finite_fixed_point(length.xreplace({S.sigma_w2: sols[0]})):
                condition, plain = "for every $\\sigma_b^2$", "for every sigma_b2"
            else:
                at = latex(sols[0])
                condition = (
                    "at $\\sigma_b^2 = 0$ only: for $\\sigma_b^2 > 0$ there is no finite "
                    f"$q^*$ at $\\sigma_w^2 = {at}$"
                )
                plain = (
                    "at sigma_b2 = 0 only: for sigma_b2 > 0 there is no finite q* "
                    f"at sigma_w2 = {sp.sstr(sols[0])}"
                )
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


def _finite_fixed_point(length) -> bool:
    """Whether q = L(q) has a positive finite solution for a generic sigma_b2 > 0."""
    b = sp.Symbol("b", positive=True)
    sols = sp.solve(sp.Eq(length.xreplace({S.sigma_b2: b}), S.q), S.q)
    return any(sol.is_positive is not False and not sol.has(sp.oo, sp.zoo) for sol in sols)


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
            eqs.append(
                Equation(res["critical"], note=f"{_display_name(act)}, {res['critical_condition']}")
            )
    return Step(
        "The edge of chaos",
        "The sign of the Lyapunov exponent separates the phases \\cite{Poole2016}; "
        "criticality is $\\chi_1 = 1$.",
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
    "depth-scales": _depth_scales,
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

    Parameters
    ----------
    arch, bias : str
        The network (``"feedforward"``, or ``"recurrent"`` with ``"shared"``/``"fresh"``).
    activation : str or Activation, optional
        Adds its closed forms or quadrature where phi is specialised; without it phi
        stays abstract.
    steps : iterable of str, optional
        Links of the chain by key (:data:`STEP_KEYS`).
    title : str, optional
        The chapter title (default: the network in words).

    Returns
    -------
    Derivation
        Labelled ``sec:PREFIX`` (``ff``, ``rs``, ``rf``) with steps ``sec:PREFIX-KEY``.

    Examples
    --------
    >>> d = field_theory("recurrent", "shared", steps=("model",))
    >>> d.label, d.steps[0].label
    ('sec:rs', 'sec:rs-model')
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
    prefix = _prefix(net)
    built = tuple(
        dataclasses.replace(_BUILDERS[k](net, act), label=f"sec:{prefix}-{k}") for k in keys
    )
    summary = "Every equation below is a sympy object computed by nnqft."
    return Derivation(title or name, built, summary, label=f"sec:{prefix}")


def _shared_with(chapter: Derivation, reference: Derivation) -> set:
    """The step keys whose equations are identical (the same sympy objects) in both."""

    def key(step):  # sec:ff-gaussian-rule -> gaussian-rule
        return step.label.split("-", 1)[1]

    ref = {key(s): [e.expr for e in s.equations] for s in reference.steps}
    return {key(s) for s in chapter.steps if ref.get(key(s)) == [e.expr for e in s.equations]}


def _lower_first(title: str) -> str:
    """'The MSRDJ action' -> 'the MSRDJ action' (an acronym keeps its case)."""
    first = title.split(" ", 1)[0]
    return title if first.isupper() and len(first) > 1 else title[:1].lower() + title[1:]


def _differs_from(chapter: Derivation, reference: Derivation, what: str, shown: dict) -> Derivation:
    """``chapter`` without the steps it shares with ``reference``; the summary says what
    differs and refers to where the shared steps are displayed (``shown``: step key ->
    (title, label) of the displayed step, updated with this chapter's kept steps)."""
    shared = _shared_with(chapter, reference)
    kept = tuple(s for s in chapter.steps if s.label.split("-", 1)[1] not in shared)
    refs = ", ".join(
        f"{_lower_first(shown[k][0])} (\\ref{{{shown[k][1]}}})"
        for k in STEP_KEYS
        if k in shared and k in shown
    )
    summary = (
        f"{what} Only the steps whose equations differ from Section~\\ref{{{reference.label}}} "
        f"are shown; the engine derives the others identically: {refs}."
    )
    shown.update({s.label.split("-", 1)[1]: (s.title, s.label) for s in kept})
    return dataclasses.replace(chapter, steps=kept, summary=summary)


def field_theory_chapters(activation=None) -> list[Derivation]:
    """The paper's field-theory chapters: the feedforward chain in full; the recurrent
    chain (shared bias) with only the steps that differ from it; the fresh-bias variant
    with only the steps that differ from the shared-bias one.

    >>> ff, shared, fresh = field_theory_chapters()
    >>> len(ff) > len(shared) > 0 and "mft" not in [s.label[7:] for s in shared.steps]
    True
    """
    ff = field_theory("feedforward", activation=activation)
    shared = field_theory("recurrent", "shared", activation=activation)
    fresh = field_theory("recurrent", "fresh", activation=activation)
    shown = {s.label.split("-", 1)[1]: (s.title, s.label) for s in ff.steps}
    ff = dataclasses.replace(
        ff,
        summary="The chain in full, in the conventions of Section~\\ref{sec:conventions}; "
        "every equation below is a sympy object computed by nnqft.",
    )
    return [
        ff,
        _differs_from(
            shared,
            ff,
            "The recurrent network applies one weight matrix at every step: its covariance "
            "does not depend on time, so $W(t) = W$, the kernel $K(t,s) = 1$ couples all pairs "
            "of steps (the feedforward $K = \\delta_{ts}$ couples equal times only), and $T$ "
            "is the number of steps \\cite{SompolinskyCrisantiSommers1988}.",
            shown,
        ),
        _differs_from(
            fresh,
            shared,
            "With a fresh bias at every step the bias covariance is $B(t,s) = \\delta_{ts}$ "
            "instead of $1$; the weights are shared as in Section~\\ref{sec:rs}.",
            shown,
        ),
    ]


#: activations the examples chapter works out (each has closed-form kernels or quadrature)
EXAMPLE_ACTIVATIONS = ("linear", "relu", "erf", "tanh")

#: subsection titles of the examples chapter
_EXAMPLE_TITLES = {
    "linear": "The linear network",
    "relu": "Rectified linear units (ReLU)",
    "erf": "The error function",
    "tanh": "The hyperbolic tangent",
}


def examples_chapter(activation=None) -> Derivation:
    """Length map, chi_1 and critical point for a few activations, specialised by the engine.

    >>> [s.title for s in examples_chapter()][:2]
    ['The linear network', 'Rectified linear units (ReLU)']
    """
    names = list(EXAMPLE_ACTIVATIONS)
    if activation is not None and get_activation(activation).name not in names:
        names.append(get_activation(activation).name)
    steps = []
    for name in names:
        act = get_activation(name)
        res = activation_results(act)
        eqs = [
            Equation(_eq(A.phi(S.z), act.expr)),
            Equation(_eq(_L(S.q), res["length_map"]), note=_method_note(act, res["length_map"])),
            Equation(_eq(A.chi_1, res["chi_1"])),
        ]
        if res["critical"] is not None:
            eqs.append(Equation(res["critical"], note=f"critical {res['critical_condition']}"))
        title = _EXAMPLE_TITLES.get(name, f"$\\phi(z) = {latex(act.expr)}$")
        steps.append(
            Step(
                title,
                "The maps of Section~\\ref{sec:ff} (Eqs.~\\eqref{eq:ff-length-map} and "
                "\\eqref{eq:ff-chi1}) with this activation put in.",
                tuple(eqs),
                "nnqft.derive.document.field_theory.activation_results",
                label=f"sec:example-{name.split('(')[0]}",
            )
        )
    return Derivation(
        "Examples: activations",
        tuple(steps),
        "The same derived maps, specialised; closed-form Gaussian kernels where they exist "
        "\\cite{Poole2016}.",
        label="sec:examples",
    )
