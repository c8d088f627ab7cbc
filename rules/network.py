"""The :class:`Network` value object: which random network a derivation is about.

Conventions: docs/conventions.md §1.

>>> net = Network("feedforward", "tanh", sigma_w2=1.5, sigma_b2=0.05, width=16, depth=6)
>>> net.activation.name, net.bias
('tanh', None)
>>> Network("recurrent", "linear").bias        # recurrent nets always state their bias
'shared'
>>> Network("feedforward", "relu", sigma_w2=-1)
Traceback (most recent call last):
...
nnqft.errors.InvalidParameter: sigma_w2 must be positive, got -1
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from ..errors import InvalidParameter, InvalidType, OrderTooHigh, unknown_name
from . import symbols as S
from .activations import Activation, get_activation
from .symbols import is_sympy

__all__ = [
    "Network",
    "ARCHITECTURES",
    "BIAS_CONVENTIONS",
    "require_network",
    "resolve_depth",
    "numeric_variances",
    "check_order",
]

ARCHITECTURES = ("feedforward", "recurrent")
BIAS_CONVENTIONS = ("shared", "fresh")


def _number_or_symbol(name: str, value, *, positive: bool, integer: bool = False):
    """Validate a parameter that is a number or a sympy expression; return it normalised."""
    if isinstance(value, bool):
        raise InvalidType(f"{name} must be a number or a sympy symbol, got {value!r}")
    if is_sympy(value):
        import sympy as sp

        if value.is_number:
            if value.is_real is False or value.has(sp.zoo, sp.nan):
                raise InvalidParameter(f"{name} must be a real number, got {value}")
            try:
                value = float(value) if not value.is_Integer else int(value)
            except TypeError:  # complex after all (is_real could not decide)
                raise InvalidParameter(f"{name} must be a real number, got {value}") from None
        else:
            return value
    if not isinstance(value, numbers.Real):
        raise InvalidType(f"{name} must be a number or a sympy symbol, got {value!r}")
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidParameter(f"{name} must be finite, got {value}")
    if integer:
        if int(value) != value:
            raise InvalidParameter(f"{name} must be an integer >= 1, got {value}")
        value = int(value)
        if value < 1:
            raise InvalidParameter(f"{name} must be an integer >= 1, got {value}")
        return value
    if positive and value <= 0:
        raise InvalidParameter(f"{name} must be positive, got {value}")
    if not positive and value < 0:
        raise InvalidParameter(f"{name} must be non-negative, got {value}")
    return value


def check_order(order, maximum: int | None = None, *, what: str = "") -> int:
    """Validate a truncation order K (keep terms through 1/N^K): a non-negative integer, at
    most ``maximum`` when given (then :class:`~nnqft.errors.OrderTooHigh` names ``what``).

    The one place this rule lives: every entry point that takes an order calls it.

    >>> check_order(2, 3)
    2
    >>> check_order(-1)
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidParameter: order must be a non-negative integer, got -1
    >>> check_order(5, 2, what="linear-recurrent-shared/mean")
    Traceback (most recent call last):
    ...
    nnqft.errors.OrderTooHigh: order 5 is beyond reach for linear-recurrent-shared/mean (maximum 2)
    """
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order < 0:
        raise InvalidParameter(f"order must be a non-negative integer, got {order!r}")
    if maximum is not None and order > maximum:
        where = f" for {what}" if what else ""
        raise OrderTooHigh(f"order {order} is beyond reach{where} (maximum {maximum})")
    return int(order)


class _StandardSymbol:
    """A field whose default is a standard symbol of :mod:`.symbols`, made when first read.

    Numeric work on a network (``nnqft mft``) never reads its symbolic width or depth, so
    building a Network does not import sympy.  Stored values live in the instance's
    ``__dict__``; the default is this descriptor itself until it is read.
    """

    def __init__(self, symbol: str):
        self.symbol = symbol

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self  # the dataclass default
        value = obj.__dict__.get(self.name, self)
        if value is self:
            value = getattr(S, self.symbol)
            obj.__dict__[self.name] = value
        return value

    def __set__(self, obj, value):
        obj.__dict__[self.name] = value

    def raw(self, obj):
        """The stored value, this descriptor where the default is still unread."""
        return obj.__dict__.get(self.name, self)


@dataclass(frozen=True)
class Network:
    """A random network: architecture, activation, disorder variances, width and depth.

    Parameters are numbers or sympy symbols (defaults: the standard symbols of
    :mod:`nnqft.rules.symbols`).  ``bias`` is the recurrent bias convention, ``'shared'``
    (one b for all t) or ``'fresh'`` (new b each step); it must be ``None`` for
    feedforward nets, where every layer has its own bias anyway.
    """

    arch: str = "feedforward"
    activation: Activation | str = "linear"
    sigma_w2: object = _StandardSymbol("sigma_w2")
    sigma_b2: object = _StandardSymbol("sigma_b2")
    width: object = _StandardSymbol("N")
    depth: object = _StandardSymbol("T")
    bias: str | None = None
    q0: object = 1

    def __post_init__(self):
        if self.arch not in ARCHITECTURES:
            raise unknown_name("architecture", self.arch, ARCHITECTURES)
        set_ = object.__setattr__
        set_(self, "activation", get_activation(self.activation))
        if self.arch == "feedforward":
            if self.bias is not None:
                raise InvalidParameter(
                    f"bias convention {self.bias!r} applies to recurrent nets only; "
                    "a feedforward net has a new bias in every layer"
                )
        else:
            bias = "shared" if self.bias is None else self.bias
            if bias not in BIAS_CONVENTIONS:
                raise unknown_name("bias convention", bias, BIAS_CONVENTIONS)
            set_(self, "bias", bias)
        for name, positive, integer in (
            ("sigma_w2", True, False),
            ("sigma_b2", False, False),
            ("q0", False, False),
            ("width", True, True),
            ("depth", True, True),
        ):
            value = self._raw(name)
            if not isinstance(value, _StandardSymbol):  # a default symbol needs no check
                set_(self, name, _number_or_symbol(name, value, positive=positive, integer=integer))

    def _raw(self, name: str):
        """A field as stored: a still unread default symbol stays its descriptor."""
        attr = type(self).__dict__.get(name)
        return attr.raw(self) if isinstance(attr, _StandardSymbol) else getattr(self, name)

    @property
    def is_numeric(self) -> bool:
        """True when sigma_w2, sigma_b2 and q0 are all numbers."""
        return not self.has_symbol("sigma_w2", "sigma_b2", "q0")

    def has_symbol(self, *names: str) -> bool:
        """True when one of the fields ``names`` is a sympy object (without importing sympy).

        >>> Network("feedforward", "relu", sigma_w2=2.0).has_symbol("sigma_w2", "sigma_b2")
        True
        """
        return any(is_sympy(v) or isinstance(v, _StandardSymbol) for v in map(self._raw, names))

    def replace(self, **changes) -> Network:
        """A copy with some fields changed (validated again)."""
        from dataclasses import fields

        if "arch" in changes and changes["arch"] == "feedforward" and "bias" not in changes:
            changes["bias"] = None
        values = {f.name: self._raw(f.name) for f in fields(self)}
        return type(self)(**(values | changes))


# --- the checks every computation on a Network makes --------------------------------------


def require_network(net, *, arch: str | None = None, what: str = "this computation") -> Network:
    """``net`` itself when it is a :class:`Network` (of architecture ``arch``, if given).

    >>> require_network(Network("feedforward", "relu")).arch
    'feedforward'
    >>> require_network("relu")
    Traceback (most recent call last):
    ...
    nnqft.errors.InvalidType: expected a Network, got str
    """
    if not isinstance(net, Network):
        raise InvalidType(f"expected a Network, got {type(net).__name__}")
    if arch is not None and net.arch != arch:
        raise InvalidParameter(f"{what}: for {arch} nets only; got arch={net.arch!r}")
    return net


def resolve_depth(net: Network, depth=None) -> int:
    """The number of layers: ``depth`` if given, else the network's (an integer >= 1).

    >>> resolve_depth(Network("feedforward", "relu", depth=5)), resolve_depth(Network(), 3)
    (5, 3)
    """
    depth = net.depth if depth is None else depth
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < 1:
        raise InvalidParameter(f"depth must be an integer >= 1, got {depth!r}")
    return int(depth)


def numeric_variances(net: Network, what: str, hint: str = "") -> tuple[float, float, float]:
    """(sigma_w2, sigma_b2, q0) as floats; a clear error where one is a symbol.

    >>> numeric_variances(Network("feedforward", "relu", 2, 0.5), "fixed_point")
    (2.0, 0.5, 1.0)
    """
    for name in ("sigma_w2", "sigma_b2", "q0"):
        v = getattr(net, name)
        if not isinstance(v, numbers.Real):
            raise InvalidParameter(
                f"{what} needs numbers for sigma_w2, sigma_b2 and q0: a number for {name}, "
                f"got {v} (sigma_w2={net.sigma_w2}, sigma_b2={net.sigma_b2}, q0={net.q0})"
                + (f"; {hint}" if hint else "")
            )
    return float(net.sigma_w2), float(net.sigma_b2), float(net.q0)
