"""The actions of the named models as :class:`Action` objects (docs/conventions.md §2, §4, §6).

An :class:`Action` is what :func:`nnqft.rules.expansion.rules_from_action` expands into
Feynman rules: a sympy expression ``S`` in the fields (``phi[a]``, ``z[i, t]``, ``zt[i, t]``:
:class:`sympy.IndexedBase` entries whose slots are given by ``slots``), sums over their
indices, the sign of the weight exp(+-S), the named time kernels it is written with (``K``,
``B``) and the model's metadata (fields, response pairs, parameters).  Nothing here is a
rule: the propagators and vertices are read off ``S`` by the expansion.

* :func:`on_phi4_action` -- the O(N) vector model, weight exp(-S),
  S = phi.phi/2 + (g/4!) (phi.phi)^2, with the O(N) index summed 1..N;
* :func:`linear_network_action` -- the disorder-averaged MSRDJ action of
  :func:`~nnqft.rules.action.disorder.averaged_action` (weight exp(S)) with the activation
  put in; it is a polynomial for phi(z) = z only.

>>> act = on_phi4_action()
>>> act.text()
'exp(-S), S = g*Sum(phi[a]**2, (a, 1, N))**2/24 + Sum(phi[a]**2, (a, 1, N))/2'
>>> from nnqft.rules.network import Network
>>> lin = linear_network_action(Network("recurrent", "linear", bias="fresh"))
>>> lin.model, lin.sign, dict(lin.kernels)
('linear-recurrent-fresh', 1, {K: 1, B: KroneckerDelta(s, t)})
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ...errors import InvalidParameter
from .. import symbols as S
from ..feynman import Field, g
from ..network import Network
from .disorder import averaged_action, disorder_families
from .objects import TIME, B, K, phi

__all__ = ["Action", "PHI", "O_N_INDEX", "on_phi4_action", "linear_network_action"]

#: the O(N) vector field phi_a and its index a (summed 1..N)
PHI = sp.IndexedBase("phi")
O_N_INDEX = sp.Symbol("a", integer=True, positive=True)


@dataclass(frozen=True)
class Action:
    """A polynomial action S with its fields, as data; the weight is exp(sign * S).

    ``slots`` names what each field entry's indices are: ``("index", "time")`` for
    ``z[i, t]``, ``("index",)`` for ``phi[a]``, ``()`` for a zero-dimensional field ``x``
    (a plain :class:`sympy.Symbol`).  ``response`` pairs each MSRDJ response field with its
    field (``(("zt", "z"),)``); ``kernels`` maps each named time kernel (an undefined
    function of two times, ``K(t, s)``) to its value in the times ``t, s``.  ``model``,
    ``description``, ``notes`` and ``parameters`` are carried into the rules unchanged.

    >>> x = sp.Symbol("x")
    >>> toy = Action("toy", x**2 / 2 + x**4, sign=-1, fields=(Field("x", "x", "a scalar", ""),))
    >>> toy.field_names, toy.weight
    (('x',), -x**4 - x**2/2)
    """

    model: str
    exponent: sp.Expr
    sign: int
    fields: tuple[Field, ...]
    slots: tuple[str, ...] = ()
    response: tuple[tuple[str, str], ...] = ()
    kernels: tuple[tuple[sp.FunctionClass, sp.Expr], ...] = ()
    parameters: tuple[sp.Symbol, ...] = ()
    description: str = ""
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if self.sign not in (1, -1):
            raise InvalidParameter(f"the sign of an action's weight is +1 or -1, got {self.sign}")
        unknown = set(self.slots) - {"index", "time"}
        if unknown:
            raise InvalidParameter(f"unknown field slot(s) {sorted(unknown)}; known: index, time")

    @property
    def field_names(self) -> tuple[str, ...]:
        """The names of the fields, in their declared order."""
        return tuple(f.name for f in self.fields)

    @property
    def weight(self) -> sp.Expr:
        """The exponent of the weight, sign * S."""
        return self.sign * self.exponent

    def text(self) -> str:
        """The weight and the action as one line of text (with the kernels' values)."""
        text = f"exp({'-' if self.sign < 0 else ''}S), S = {sp.sstr(self.exponent)}"
        kernels = [f"{k}(t,s) = {sp.sstr(v)}" for k, v in self.kernels]
        return text + ("; " + ", ".join(kernels) if kernels else "")


def on_phi4_action(width=S.N) -> Action:
    """The O(N) vector model: weight exp(-S), S = phi.phi/2 + (g/4!) (phi.phi)^2 (§6).

    ``width`` is N, the range of the O(N) index a.

    >>> on_phi4_action().exponent.has(PHI[O_N_INDEX])
    True
    """
    dot = sp.Sum(PHI[O_N_INDEX] ** 2, (O_N_INDEX, 1, width))
    return Action(
        model="on-phi4",
        exponent=dot / 2 + g / sp.factorial(4) * dot**2,
        sign=-1,
        fields=(Field("phi", r"\phi", "O(N) vector field", "a"),),
        slots=("index",),
        parameters=(g, S.N),
        description="O(N) vector model, weight exp(-phi.phi/2 - (g/4!)(phi.phi)^2)",
        notes=("'t Hooft coupling lambda = g N; large N keeps the cactus diagrams",),
    )


def _time_kernel(covariance: sp.Expr) -> sp.Expr:
    """The time factor of a disorder covariance: its factors in the times t, s (1 if none)."""
    times = TIME[:2]
    return sp.Mul(*[f for f in sp.Mul.make_args(covariance) if f.has(*times)])


def linear_network_action(net: Network) -> Action:
    """The disorder-averaged MSRDJ action of ``net`` with its activation put in (§2, §4).

    The generic average keeps the time kernels K(t,s), B(t,s) of the weight and bias
    covariances as functions (so the vertex keeps both of its times); their values are
    read off the covariances of :func:`~nnqft.rules.action.disorder.disorder_families`.
    For an activation other than phi(z) = z the action is not a polynomial in z and the
    expansion refuses it.

    >>> lin = linear_network_action(Network("feedforward", "linear"))
    >>> lin.response, lin.slots
    ((('zt', 'z'),), ('index', 'time'))
    """
    z = sp.Symbol("z")
    activation = sp.Lambda(z, net.activation.expr.subs(S.z, z))
    exponent = averaged_action(net, generic=True).replace(phi, activation)
    weights, biases = disorder_families(net)
    kernels = (
        (K, _time_kernel(weights.covariance)),
        (B, _time_kernel(biases.covariance)),
    )
    name = net.activation.name
    model = f"{name}-{net.arch}" + (f"-{net.bias}" if net.arch == "recurrent" else "")
    return Action(
        model=model,
        exponent=exponent,
        sign=1,
        fields=(
            Field("z", "z", "pre-activation z_i(t)", "i"),
            Field("zt", r"\tilde z", "MSRDJ response field zt_i(t)", "i"),
        ),
        slots=("index", "time"),
        response=(("zt", "z"),),
        kernels=kernels,
        parameters=(S.sigma_w2, S.sigma_b2, S.q0, S.N, S.T),
        description=(
            f"{name} {net.arch} network (phi(z) = {sp.sstr(net.activation.expr)}), "
            "disorder-averaged MSRDJ theory"
        ),
        notes=(
            "<zt zt>_0 = 0",
            "per vertex sigma_w2/N, per closed neuron-index loop N, per free time sum up to T",
        ),
    )
