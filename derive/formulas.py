"""The formula registry: every derived quantity nnqft can hand on, under a stable id.

A formula id (``mft/length-map/erf``, ``linear-feedforward/variance``, ...) names a
*provider*: a function that asks the engine for the expression when it is first needed
(nothing is typed in here) and returns a :class:`Formula` carrying the sympy expression
and what a user of the exported code must know: the argument order, the symbols'
assumptions, where the formula is valid, how it was derived, and a one-line description.

A provider whose source module is not installed (or not written yet) is simply not
listed by :func:`list_formulas`.

>>> f = get_formula("kernel/relu")
>>> [s.name for s in f.arguments]
['q11', 'q22', 'q12']
>>> "kernel/erf" in list_formulas()
True
>>> get_formula("kernel/ref")
Traceback (most recent call last):
...
nnqft.errors.UnknownName: unknown formula id 'kernel/ref'; ... (did you mean 'kernel/erf'?)
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp

from ..errors import InvalidParameter, unknown_name
from ..rules import symbols as S

__all__ = [
    "Formula",
    "ARGUMENT_ORDER",
    "DEFAULT_DOMAIN",
    "list_formulas",
    "get_formula",
    "formula_from_expression",
    "register_formula",
]

#: the order in which a formula's arguments appear in every exported function
ARGUMENT_ORDER = ("sigma_w2", "sigma_b2", "q0", "q", "q11", "q22", "q12", "N", "T")

#: where numerical checks sample each symbol (lo, hi), inside its assumptions; N and T
#: are sampled as integers.  q12 is sampled as c sqrt(q11 q22) with c in (lo, hi).
DEFAULT_DOMAIN = {
    "sigma_w2": (0.25, 2.5),
    "sigma_b2": (0.05, 1.0),
    "q0": (0.2, 3.0),
    "q": (0.1, 3.0),
    "q11": (0.1, 3.0),
    "q22": (0.1, 3.0),
    "q12": (-0.9, 0.9),
    "N": (2, 400),
    "T": (1, 12),
}


@dataclass(frozen=True)
class Formula:
    """A derived expression with everything an exported function must document.

    ``arguments`` fixes the argument order of every exported function; the symbols keep
    their sympy assumptions (N and T are positive integers).  ``validity`` lists the
    conditions under which the expression is the quantity it claims to be (as sympy
    relationals), ``domain`` where numerical checks sample (a tuple of
    ``(name, lo, hi)``), ``order`` the power of 1/N it is truncated at (None: exact in N,
    or N-independent).

    >>> f = get_formula("kernel/erf")
    >>> f.id, f.order, f.source
    ('kernel/erf', None, 'nnqft.rules.activations')
    """

    id: str
    expression: sp.Expr
    arguments: tuple
    description: str
    derivation: str
    source: str
    validity: tuple = ()
    domain: tuple = ()
    order: int | None = None
    notes: tuple = field(default=())

    def sampling_domain(self) -> dict:
        """{name: (lo, hi)} for every argument: the formula's own ranges over the defaults."""
        dom = {s.name: DEFAULT_DOMAIN.get(s.name, (0.1, 2.0)) for s in self.arguments}
        dom.update({name: (lo, hi) for name, lo, hi in self.domain})
        return dom

    def metadata(self) -> dict:
        """Everything but the expression, as JSON-ready values."""
        return {
            "id": self.id,
            "description": self.description,
            "arguments": [_argument_record(s) for s in self.arguments],
            "validity": [sp.sstr(c) for c in self.validity],
            "derivation": self.derivation,
            "source": self.source,
            "order": self.order,
            "notes": list(self.notes),
        }


def _argument_record(sym: sp.Symbol) -> dict:
    """{name, assumptions}: the strongest of integer/positive/nonnegative/real that hold."""
    kinds = []
    if sym.is_integer:
        kinds.append("integer")
    if sym.is_positive:
        kinds.append("positive")
    elif sym.is_nonnegative:
        kinds.append("nonnegative")
    elif sym.is_real:
        kinds.append("real")
    return {"name": sym.name, "assumptions": kinds}


def _ordered(symbols) -> tuple:
    """Symbols in :data:`ARGUMENT_ORDER`, others after them by name."""
    rank = {name: i for i, name in enumerate(ARGUMENT_ORDER)}
    return tuple(sorted(symbols, key=lambda s: (rank.get(s.name, len(rank)), s.name)))


def formula_from_expression(
    expression: sp.Expr,
    id: str = "expression",
    *,
    arguments=None,
    description: str = "a user expression",
    derivation: str = "given",
    source: str = "user",
    validity: tuple = (),
    domain: tuple = (),
    order: int | None = None,
    notes: tuple = (),
) -> Formula:
    """Wrap any sympy expression as a :class:`Formula`, e.g. to export an expression that is
    not in the registry.

    Parameters
    ----------
    expression : sympy.Expr
        The expression (a string is parsed by the whitelist parser).
    id : str, optional
        Its id (names the exported function).
    arguments : sequence of sympy.Symbol, optional
        The argument order; default: its free symbols in the standard order
        (:data:`ARGUMENT_ORDER`).
    description, derivation, source : str, optional
        What it is, how it was derived and where from (for the exported comment).
    validity, domain, order, notes : optional
        As the fields of :class:`Formula`.

    Returns
    -------
    Formula

    Raises
    ------
    InvalidParameter
        Where the expression depends on a symbol that is not among ``arguments``.

    Examples
    --------
    >>> formula_from_expression(S.T / S.N + S.sigma_w2).arguments
    (sigma_w2, N, T)
    """
    from .convert import to_sympy

    expression = to_sympy(expression, "expression")
    free = expression.free_symbols
    if arguments is None:
        arguments = _ordered(free)
    else:
        arguments = tuple(arguments)
        missing = free - set(arguments)
        if missing:
            names = ", ".join(sorted(s.name for s in missing))
            raise InvalidParameter(f"formula {id!r} depends on {names}, not in its arguments")
    return Formula(
        id=id,
        expression=expression,
        arguments=arguments,
        description=description,
        derivation=derivation,
        source=source,
        validity=tuple(validity),
        domain=tuple(domain),
        order=order,
        notes=tuple(notes),
    )


# --- providers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Provider:
    """How to build one formula: ``build(order)`` calls the engine; ``module`` and ``needs``
    (attribute names) say what must exist for the formula to be listed."""

    id: str
    module: str
    needs: tuple
    build: Callable
    orders: bool = False  # True when the formula is a 1/N series that takes an order


_PROVIDERS: dict[str, _Provider] = {}
_FAMILIES: list[Callable[[], list[_Provider]]] = []


def register_formula(
    id: str, module: str, build: Callable, needs: tuple = (), orders: bool = False
) -> None:
    """Add a provider of formulas to the registry.

    Parameters
    ----------
    id : str
        The formula id.
    module : str
        The module the provider needs (relative to nnqft, e.g. ``'.derive.meanfield'``): the
        id is listed only when it imports and has every name in ``needs``.
    build : callable
        ``build(order)`` returns the :class:`Formula`.
    needs : tuple of str, optional
        Names ``module`` must have.
    orders : bool, optional
        Whether the formula is a 1/N series that ``get_formula(id, order=K)`` re-derives.

    Examples
    --------
    >>> build = lambda order: formula_from_expression(S.sigma_w2**S.T, "example/power")
    >>> register_formula("example/power", ".derive.formulas", build)
    >>> "example/power" in list_formulas()
    True
    >>> _ = _PROVIDERS.pop("example/power")     # leave the registry as it was
    """
    _PROVIDERS[id] = _Provider(id, module, tuple(needs), build, orders)


@functools.lru_cache(maxsize=64)
def _module(name: str):
    try:
        return importlib.import_module(name, "nnqft")
    except ImportError:
        return None


def _available(p: _Provider) -> bool:
    mod = _module(p.module)
    return mod is not None and all(hasattr(mod, a) for a in p.needs)


def _all_providers() -> dict[str, _Provider]:
    out = {}
    for family in _FAMILIES:
        for p in family():
            out[p.id] = p
    out.update(_PROVIDERS)
    return out


def list_formulas() -> list[str]:
    """Every formula id the installed engine can derive, sorted.

    Returns
    -------
    list of str

    Examples
    --------
    >>> ids = list_formulas()
    >>> "kernel/erf" in ids and "kernel/tanh" not in ids   # tanh has no closed form
    True
    """
    return sorted(i for i, p in _all_providers().items() if _available(p))


def get_formula(id: str, order: int | None = None) -> Formula:
    """Build the formula ``id`` (cached).

    Parameters
    ----------
    id : str
        A formula id (:func:`list_formulas`).
    order : int, optional
        Re-derives a 1/N series through 1/N^order where the formula is one; elsewhere it
        must be None.

    Returns
    -------
    Formula

    Raises
    ------
    UnknownName
        For an id that is not registered (with the nearest ones).
    InvalidParameter
        For an order where the formula is not a series, or a bad order.

    Examples
    --------
    >>> get_formula("kernel-derivative/relu").expression
    (pi - acos(q12/(sqrt(q11)*sqrt(q22))))/(2*pi)
    """
    providers = _all_providers()
    p = providers.get(id)
    if p is None or not _available(p):
        known = [i for i, q in providers.items() if _available(q)]
        raise unknown_name("formula id", id, known)
    if order is not None:
        from ..rules.network import check_order

        check_order(order)
    return _build(id, order)


@functools.lru_cache(maxsize=256)
def _build(id: str, order: int | None) -> Formula:
    p = _all_providers()[id]
    if not p.orders:
        # exact in N or N-independent: truncating it is the caller's business (check.py)
        return p.build(None)
    return p.build(order)


# --- activations' Gaussian kernels (rules/activations.py) ----------------------------------


def _closed_form_activations() -> list[str]:
    from ..rules.activations import get_activation, known_activations

    # abrelu's default (slopes 0, 1) is relu itself: only its parametrised forms are new
    return [a for a in known_activations() if a != "abrelu" and get_activation(a).has_closed_form]


def _kernel_family() -> list[_Provider]:
    out = []
    for name in _closed_form_activations():
        for which, attr, desc in (
            ("kernel", "kernel", "E[phi(u1) phi(u2)]"),
            ("kernel-derivative", "derivative_kernel", "E[phi'(u1) phi'(u2)]"),
        ):
            out.append(
                _Provider(
                    f"{which}/{name}",
                    ".rules.activations",
                    ("get_activation",),
                    functools.partial(_kernel_formula, name, which, attr, desc),
                )
            )
    return out


def _kernel_formula(name, which, attr, desc, order=None) -> Formula:
    from ..rules.activations import get_activation

    act = get_activation(name)
    expr = getattr(act, attr)
    return formula_from_expression(
        expr,
        f"{which}/{name}",
        arguments=(S.q11, S.q22, S.q12),
        description=f"{desc} for phi = {sp.sstr(act.expr)}, (u1, u2) ~ N(0, [[q11, q12], "
        "[q12, q22]])",
        derivation=f"closed-form Gaussian integral of the activation registry ({act.description})",
        source="nnqft.rules.activations",
        validity=(sp.Abs(S.q12) < sp.sqrt(S.q11 * S.q22),),
    )


_FAMILIES.append(_kernel_family)


# --- mean-field theory (derive/meanfield/) --------------------------------------------------


#: what -> (mft function, its arguments after the network, exported arguments, description,
#: derivation, validity); the description is completed by ``phi = <activation>``
_MFT = {
    "length-map": (
        "length_map",
        (S.q,),
        (S.sigma_w2, S.sigma_b2, S.q),
        "mean-field length map q -> sigma_w2 E[phi(sqrt(q) z)^2] + sigma_b2",
        "saddle point of the collective-field action (docs/conventions.md §3), "
        "closed-form Gaussian kernel",
        (),
    ),
    "chi1": (
        "chi_1",
        (S.q,),
        (S.sigma_w2, S.sigma_b2, S.q),
        "chi_1 = sigma_w2 E[phi'(sqrt(q) z)^2] at variance q (at q = q* it decides order/chaos)",
        "derivative of the correlation map at c = 1 (docs/conventions.md §3)",
        (),
    ),
    "correlation-map": (
        "correlation_map",
        (S.q11, S.q22, S.q12),
        (S.sigma_w2, S.sigma_b2, S.q11, S.q22, S.q12),
        "mean-field covariance map q12 -> sigma_w2 E[phi(u1) phi(u2)] + sigma_b2",
        "saddle point of the two-replica collective-field action (docs/conventions.md §3)",
        (sp.Abs(S.q12) < sp.sqrt(S.q11 * S.q22),),
    ),
}


def _mft_family() -> list[_Provider]:
    if _module(".derive.meanfield") is None:
        return []
    return [
        _Provider(
            f"mft/{what}/{name}",
            ".derive.meanfield",
            (_MFT[what][0],),
            functools.partial(_mft_formula, what, name),
        )
        for name in _closed_form_activations()
        for what in _MFT
    ]


def _mft_formula(what, name, order=None) -> Formula:
    from ..rules.network import Network
    from . import meanfield

    fname, inputs, arguments, description, derivation, validity = _MFT[what]
    expr = getattr(meanfield, fname)(Network("feedforward", name), *inputs)
    return formula_from_expression(
        sp.sympify(expr),  # safe: a sympy result
        f"mft/{what}/{name}",
        arguments=arguments,
        description=f"{description}, phi = {name}",
        derivation=derivation,
        source=f"nnqft.derive.meanfield.{fname}",
        validity=validity,
    )


_FAMILIES.append(_mft_family)


# --- linear networks: exact finite-N results (linear.py) and loop corrections (amplitudes.py) --

_LINEAR_TEXT = {
    "mean": "E[Q(T)], Q = |z(T)|^2/N",
    "variance": "Var[Q(T)], Q = |z(T)|^2/N",
    "log-mean": "E[ln Q(T)], Q = |z(T)|^2/N (slope in T: twice the finite-width Lyapunov exponent)",
}

#: id -> (linear.py function, observable, validity, sampling domain)
_FEEDFORWARD = {
    "linear-feedforward/mean": ("feedforward_mean", "mean", (), ()),
    "linear-feedforward/variance": ("feedforward_variance", "variance", (), ()),
    "linear-feedforward/log-mean": (
        "feedforward_log_mean",
        "log-mean",
        (sp.Eq(S.sigma_b2, 0),),
        (),
    ),
}

#: the recurrent series formulas, each through 1/N^2 (or the highest order derived, if lower)
#: unless an order is asked for; the recurrent log-mean (a delta-method combination whose
#: text exceeds what the safe parser reads back) has no id
_RECURRENT = tuple(
    f"linear-recurrent-{bias}/{observable}"
    for observable in ("mean", "variance")
    for bias in ("shared", "fresh")
)
_RECURRENT_DEFAULT_ORDER = 2


def _linear_family() -> list[_Provider]:
    out = [
        _Provider(
            id, ".derive.loops.linear", (spec[0],), functools.partial(_feedforward_formula, id)
        )
        for id, spec in _FEEDFORWARD.items()
    ]
    out += [
        _Provider(
            id,
            ".derive.loops.amplitudes",
            ("correlator",),
            functools.partial(_recurrent_formula, id),
            orders=True,
        )
        for id in _RECURRENT
    ]
    return out


def _feedforward_formula(id, order=None) -> Formula:
    from .loops import linear

    fname, observable, validity, domain = _FEEDFORWARD[id]
    if observable == "log-mean":
        expr = linear.feedforward_log_mean(S.T, sp.Integer(0))
    elif observable == "mean":  # the pipeline's result: the cactus diagrams of the rules
        from ..rules.network import Network
        from .loops.amplitudes import correlator

        expr = correlator(Network("feedforward", "linear"), "mean", exact=True).expression
    else:
        expr = getattr(linear, fname)(S.T)
    expr = sp.sympify(expr)  # safe: a sympy result of the engine
    return formula_from_expression(
        expr,
        id,
        description=f"{_LINEAR_TEXT[observable]} of a linear feedforward network"
        + (" at sigma_b2 = 0" if observable == "log-mean" else ""),
        derivation="exact at finite N: layer t given layer t-1 is iid Gaussian "
        "(docs/conventions.md "
        f"§5); nnqft.derive.loops.linear.{fname}",
        source=f"nnqft.derive.loops.linear.{fname}",
        validity=validity,
        domain=domain,
    )


def _recurrent_formula(id, order=None) -> Formula:
    from ..rules.feynman import parse_model_id
    from .loops import amplitudes

    model, observable = id.split("/")
    net = parse_model_id(model).network
    bias = net.bias
    highest = amplitudes.max_order("recurrent", observable)
    used = min(_RECURRENT_DEFAULT_ORDER, highest) if order is None else order
    corr = amplitudes.correlator(net, observable, order=used)
    expr = sp.sympify(getattr(corr, "expression", corr))  # safe: a sympy result
    return formula_from_expression(
        expr,
        id,
        arguments=_ordered(expr.free_symbols | {S.sigma_w2, S.sigma_b2, S.q0, S.N, S.T}),
        description=f"{_LINEAR_TEXT[observable]} of a linear recurrent network, {bias} bias, "
        f"through 1/N^{used}",
        derivation=f"1/N expansion through 1/N^{used} (Feynman diagrams, docs/conventions.md §4); "
        "nnqft.derive.loops.amplitudes.correlator",
        source="nnqft.derive.loops.amplitudes.correlator",
        order=used,
        notes=tuple(str(v) for v in getattr(corr, "validity", ())),
    )


_FAMILIES.append(_linear_family)


# --- finite width, scale-invariant activations (finite_width.py, docs/conventions.md §7) ------

_FW_TEXT = {
    "K0": "K0(T), the infinite-width kernel E[z^2] at layer T",
    "V": "V(T), the four-point vertex: Cov(z_i^2, z_j^2) = V/n at layer T",
}


def _finite_width_family() -> list[_Provider]:
    if _module(".derive.finite_width.recursions") is None:
        return []
    from ..rules.activations import get_activation

    out = []
    for name in _closed_form_activations():
        if not get_activation(name).is_scale_invariant:
            continue
        for what in ("K0", "V"):
            out.append(
                _Provider(
                    f"finite-width/{what}/{name}",
                    ".derive.finite_width.recursions",
                    ("scale_invariant_closed_form",),
                    functools.partial(_finite_width_formula, what, name),
                )
            )
    return out


def _finite_width_formula(what, name, order=None) -> Formula:
    from .finite_width import recursions as finite_width

    closed = finite_width.scale_invariant_closed_form(name, S.T)
    expr = sp.sympify(closed[what])  # safe: a sympy result
    return formula_from_expression(
        expr,
        f"finite-width/{what}/{name}",
        arguments=(S.sigma_w2, S.q0, S.T),
        description=f"{_FW_TEXT[what]}, phi = {name}, sigma_b2 = 0 (PDLT scale-invariant class)",
        derivation="PDLT recursions for K0 and V solved in closed form in the layer index "
        "(docs/conventions.md §7); "
        "nnqft.derive.finite_width.recursions.scale_invariant_closed_form",
        source="nnqft.derive.finite_width.recursions.scale_invariant_closed_form",
        validity=(sp.Eq(S.sigma_b2, 0),),
    )


_FAMILIES.append(_finite_width_family)


# --- the finite-width edge of chaos, scale-invariant activations (§9) ------------------------

_EDGE_TEXT = {
    "lyapunov": ("lyapunov_exponent", (S.sigma_w2, S.N),
                 "lambda_max(N), the typical Lyapunov exponent per layer through 1/N"),
    "sigma_w2-critical": ("sigma_w2_critical", (S.N,),
                          "sigma_w2,c(N), the edge of chaos lambda_max(N) = 0 through 1/N"),
}  # fmt: skip


def _edge_family() -> list[_Provider]:
    if _module(".derive.finite_width.scale_invariant_edge") is None:
        return []
    from ..rules.activations import get_activation

    return [
        _Provider(
            f"finite-width/{what}/{name}",
            ".derive.finite_width.scale_invariant_edge",
            ("scale_invariant_edge",),
            functools.partial(_edge_formula, what, name),
        )
        for name in _closed_form_activations()
        if get_activation(name).is_scale_invariant
        for what in _EDGE_TEXT
    ]


def _edge_formula(what, name, order=None) -> Formula:
    from .finite_width.scale_invariant_edge import scale_invariant_edge

    key, arguments, text = _EDGE_TEXT[what]
    return formula_from_expression(
        scale_invariant_edge(name)[key],
        f"finite-width/{what}/{name}",
        arguments=arguments,
        description=f"{text}, phi = {name}, any sigma_b2 (feedforward)",
        derivation="(1/2) E ln(|J delta|^2/|delta|^2) at the finite-width stationary law with "
        "the variance-free tangent moments <phi'^2>, <phi'^4> integrated exactly "
        "(docs/conventions.md §9); nnqft.derive.finite_width.scale_invariant_edge",
        source="nnqft.derive.finite_width.scale_invariant_edge.scale_invariant_edge",
        notes=("truncated after 1/N",),
    )


_FAMILIES.append(_edge_family)


# --- the neural tangent kernel at infinite width (derive/ntk/, docs/conventions.md §9) -------


def _ntk_family() -> list[_Provider]:
    if _module(".derive.ntk.symbolic") is None:
        return []
    from ..rules.activations import get_activation

    return [
        _Provider(
            f"ntk-feedforward-{name}/infinite-width",
            ".derive.ntk.symbolic",
            ("ntk_closed_form",),
            functools.partial(_ntk_formula, name),
        )
        for name in _closed_form_activations()
        if get_activation(name).is_scale_invariant
    ]


def _ntk_formula(name, order=None) -> Formula:
    from .ntk.symbolic import ntk_closed_form

    expr = sp.sympify(ntk_closed_form(name, S.T))  # safe: a sympy result
    return formula_from_expression(
        expr,
        f"ntk-feedforward-{name}/infinite-width",
        arguments=(S.sigma_w2, S.sigma_b2, S.q0, S.T),
        description=f"H(T), the infinite-width neural tangent kernel of layer T, phi = {name}, "
        "one input, learning-rate factors lambda_b = lambda_W = 1",
        derivation="the NTK recursion H(l+1) = lambda_b + lambda_W <phi^2>_K + C_W <phi'^2>_K H(l) "
        "(docs/conventions.md §9) summed in closed form in the layer index; "
        "nnqft.derive.ntk.symbolic.ntk_closed_form",
        source="nnqft.derive.ntk.symbolic.ntk_closed_form",
        notes=("removable poles where C_W <phi'^2> = 1: the value there is the limit",),
    )


_FAMILIES.append(_ntk_family)


# --- the fluctuation diagrams summed in the depth (fluctuations/symbolic.py, §8) ----------

_FLUCT_TEXT = {
    "K0": "K0(T), the saddle point E[z^2] at infinite width, layer T",
    "K1": "K1(T), the 1/N correction to E[z^2] = K0 + K1/N at layer T",
    "V": "V(T): Cov(z_i^2, z_j^2) = V/N at layer T",
}


def _fluctuation_family() -> list[_Provider]:
    if _module(".derive.fluctuations.symbolic") is None:
        return []
    return [
        _Provider(
            f"fluctuations/{what}/{name}",
            ".derive.fluctuations.symbolic",
            ("fluctuation_closed_form",),
            functools.partial(_fluctuation_formula, what, name),
        )
        for name in ("linear", "relu", "leaky_relu")  # scale-invariant: the symbolic route's class
        for what in ("K0", "K1", "V")
    ]


def _fluctuation_formula(what, name, order=None) -> Formula:
    from .fluctuations.symbolic import fluctuation_closed_form

    closed = fluctuation_closed_form(name)
    expr = sp.sympify(closed[what])  # safe: a sympy result
    return formula_from_expression(
        expr,
        f"fluctuations/{what}/{name}",
        arguments=(S.sigma_w2, S.sigma_b2, S.q0, S.T),
        description=f"{_FLUCT_TEXT[what]}, phi = {name}, any sigma_b2 (feedforward)",
        derivation="tree and tadpole diagrams of the collective-field fluctuation theory "
        "(diagrams_at, docs/conventions.md §8) with symbolic couplings, summed over the "
        "vertex layer in closed form in T; nnqft.derive.fluctuations.symbolic",
        source="nnqft.derive.fluctuations.symbolic.fluctuation_closed_form",
        validity=(sp.Ne(closed["chi"], 1),),
        notes=(
            "valid for T >= 1; the denominators chi - 1 (chi = sigma_w2 <phi'^2>) are "
            "removable, but the float exports of V lose their digits near chi = 1 (the "
            "exporter says so): evaluate exactly there",
        ),
    )


_FAMILIES.append(_fluctuation_family)
