"""Fast vectorised numeric kernels for registered formulas.

``kernel(ID)`` compiles a formula once and returns a function of numpy arrays (arguments
in the formula's order, broadcast against each other).  Two backends give the same
numbers:

* ``"llvm"``: symengine's ``Lambdify(..., backend="llvm", cse=True)``, machine code through
  LLVM.  symengine has no expm1, log1p or polygamma; the stable forms of
  :func:`nnqft.derive.export.base.stable_form` are handed to it as
  ``expm1(a) = (e^a - 1) a / log(e^a)`` (Kahan's exact-ratio trick, a Piecewise for e^a = 1)
  and ``log1p(a) = 2 atanh(a / (2 + a))``; a formula with polygamma cannot use it.
* ``"numpy"``: the numpy/scipy module of :mod:`nnqft.derive.export.python` (common
  subexpressions eliminated, stable forms, scipy.special for erf/digamma/polygamma).

``backend="auto"`` (the default) builds both where LLVM can take the formula and keeps
the faster on a 20,000-point sample of the formula's domain (on the 2-core development
machine numpy's vectorised libm usually wins: see benchmarks/bench_kernels.py).

>>> import numpy as np
>>> k = kernel("kernel/relu")
>>> k.arguments
('q11', 'q22', 'q12')
>>> k(np.array([1.0, 2.0]), 2.0, 0.0)          # E[relu(u1) relu(u2)] = q/(2 pi) at c = 0
array([0.22507908, 0.31830989])
>>> kernel("kernel/relu", backend="numpy")(1.0, 2.0, 0.0)
array(0.22507908)
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from ...errors import InvalidParameter, InvalidType, unknown_name
from ..formulas import Formula, get_formula
from .base import stable_form

__all__ = ["Kernel", "kernel", "BACKENDS", "llvm_available"]

BACKENDS = ("auto", "llvm", "numpy")


@dataclass(frozen=True)
class Kernel:
    """A compiled formula: call it with arrays (or numbers) in ``arguments`` order."""

    formula: Formula
    backend: str
    arguments: tuple
    _function: object

    def __call__(self, *args) -> np.ndarray:
        if len(args) != len(self.arguments):
            raise InvalidParameter(
                f"kernel {self.formula.id!r} takes {len(self.arguments)} arguments "
                f"({', '.join(self.arguments)}), got {len(args)}"
            )
        arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in args))
        shape = arrays[0].shape if arrays else ()
        out = self._function(*arrays)
        return np.broadcast_to(np.asarray(out, dtype=float), shape).copy()

    def __repr__(self) -> str:
        return f"Kernel({self.formula.id!r}, backend={self.backend!r}, arguments={self.arguments})"


@functools.lru_cache(maxsize=1)
def llvm_available() -> bool:
    """True when symengine's LLVM backend compiles and runs here.

    Returns
    -------
    bool

    Examples
    --------
    >>> isinstance(llvm_available(), bool)
    True
    """
    try:
        import symengine as se

        x = se.Symbol("x")
        f = se.Lambdify([x], x + 1, backend="llvm")
        return float(np.asarray(f(np.array([1.0]))).ravel()[0]) == 2.0
    except Exception:
        return False


def _to_symengine(expr: sp.Expr):
    """symengine form of a stable expression; raises ValueError where symengine lacks a
    function (polygamma)."""
    import symengine as se

    if expr.has(sp.polygamma, sp.gamma, sp.loggamma):
        raise ValueError("symengine's LLVM backend has no polygamma/gamma")

    def _expm1(a):
        u = sp.exp(a)
        return sp.Piecewise((a, sp.Eq(u, 1)), ((u - 1) * a / sp.log(u), True), evaluate=False)

    expr = expr.replace(lambda e: isinstance(e, expm1), lambda e: _expm1(e.args[0]))
    expr = expr.replace(
        lambda e: isinstance(e, log1p), lambda e: 2 * sp.atanh(e.args[0] / (2 + e.args[0]))
    )
    return se.sympify(expr)  # safe: a sympy expression, converted to symengine


def _llvm(formula: Formula, expr: sp.Expr):
    import symengine as se

    args = [se.Symbol(s.name) for s in formula.arguments]
    renamed = expr.xreplace({s: sp.Symbol(s.name) for s in formula.arguments})
    fn = se.Lambdify(args, _to_symengine(renamed), backend="llvm", cse=True, real=True)
    n = len(args)

    def call(*arrays):
        if n == 0:
            return fn(np.empty((0,)))
        stacked = np.stack(arrays, axis=-1) if arrays[0].ndim else np.array(arrays)
        out = np.asarray(fn(np.ascontiguousarray(stacked)))
        # one argument: symengine keeps the stacked axis of length 1 in its output
        return out.reshape(arrays[0].shape) if out.size == arrays[0].size else out

    return call


def _code_only(formula: Formula) -> Formula:
    """The formula without its free text (id, description, notes: they end up in the
    generated docstrings) and with every argument named by a plain identifier, so the code
    :func:`_numpy` compiles comes from the expression's structure alone, whatever a
    formula read from a file says."""
    rename = {
        s: sp.Symbol(f"arg{i}", **s._assumptions_orig)
        for i, s in enumerate(formula.arguments)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", s.name)
    }
    return dataclasses.replace(
        formula,
        id="kernel",
        description="",
        derivation="",
        source="",
        notes=(),
        validity=(),
        expression=formula.expression.xreplace(rename) if rename else formula.expression,
        arguments=tuple(rename.get(s, s) for s in formula.arguments),
    )


def _numpy(formula: Formula, stable: bool = True):
    from .python import NumpyExporter

    exporter = NumpyExporter(function_name="kernel_function", stable=stable)
    source = exporter.export(_code_only(formula))
    namespace: dict = {}
    # the code was printed from the expression tree alone (no text of the formula's reaches
    # it: see _code_only), and sympy's strict printers refuse unknown functions
    exec(compile(source, "<nnqft kernel>", "exec"), namespace)  # safe: generated, see above
    return namespace["kernel_function"]


def kernel(formula: Formula | str, backend: str = "auto", stable: bool = True) -> Kernel:
    """A vectorised numpy function for a formula.

    Parameters
    ----------
    formula : Formula or str
        A :class:`Formula` or a formula id.
    backend : {"auto", "llvm", "numpy"}, optional
        ``"auto"``: the faster of the two where LLVM can take the formula; ``"llvm"``: error
        if it cannot; ``"numpy"``: the generated numpy module.
    stable : bool, optional
        ``False`` skips the stable forms (faster where they add expm1/log calls, e.g. 2.5x
        on the feedforward mean, but it loses digits near sigma_w2 = 1).

    Returns
    -------
    Kernel
        Callable on arrays, one per argument in the formula's order.

    Raises
    ------
    UnknownName
        For an unknown backend.
    InvalidType
        For a formula that is neither an id nor a :class:`Formula`.

    Examples
    --------
    >>> import numpy as np
    >>> k = kernel("kernel/linear", backend="numpy")
    >>> k(np.array([1.0]), np.array([2.0]), np.array([0.5]))
    array([0.5])
    """
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise unknown_name("kernel backend", str(backend), BACKENDS)
    if not isinstance(formula, (str, Formula)):
        raise InvalidType(
            f"kernel needs a formula id (a string) or a Formula, got {type(formula).__name__}"
        )
    if isinstance(formula, str):
        return _cached_kernel(formula, backend, bool(stable))
    return _make_kernel(formula, backend, bool(stable))


@functools.lru_cache(maxsize=128)
def _cached_kernel(id: str, backend: str, stable: bool) -> Kernel:
    return _make_kernel(get_formula(id), backend, stable)


def _make_kernel(formula: Formula, backend: str, stable: bool = True) -> Kernel:
    names = tuple(s.name for s in formula.arguments)
    if backend == "auto":
        fast = _make_kernel(formula, "numpy", stable)
        try:
            other = _make_kernel(formula, "llvm", stable)
        except InvalidParameter:
            return fast
        sample = _sample(formula, 20_000)
        return min((fast, other), key=lambda k: _timing(k, sample))
    if backend == "llvm":
        reason = None
        if not llvm_available():
            reason = "symengine's LLVM backend is not available here"
        else:
            try:
                expr = formula.expression.doit()
                fn = _llvm(formula, stable_form(expr) if stable else expr)
                return Kernel(formula, "llvm", names, fn)
            except (ValueError, TypeError, RuntimeError, NotImplementedError) as exc:
                reason = f"symengine cannot compile it ({exc})"
        raise InvalidParameter(f"no LLVM kernel for {formula.id!r}: {reason}")
    return Kernel(formula, "numpy", names, _numpy(formula, stable))


def _sample(formula: Formula, n: int) -> list:
    rng = np.random.default_rng(0)
    dom = formula.sampling_domain()
    cols = {}
    for s in formula.arguments:
        lo, hi = dom[s.name]
        if s.is_integer:
            cols[s.name] = rng.integers(int(lo), int(hi) + 1, n).astype(float)
        else:
            cols[s.name] = rng.uniform(lo, hi, n)
    if "q12" in cols and "q11" in cols and "q22" in cols:
        cols["q12"] = cols["q12"] * np.sqrt(cols["q11"] * cols["q22"])
    return [cols[s.name] for s in formula.arguments]


def _timing(k: Kernel, sample: list) -> float:
    import time

    best = float("inf")
    with np.errstate(all="ignore"):  # the sample may leave a formula's domain: timing only
        for _ in range(3):
            t = time.perf_counter()
            k(*sample)
            best = min(best, time.perf_counter() - t)
    return best
