"""Export to Julia: one scalar function per formula (broadcast it with ``f.(args...)``).

erf, digamma and polygamma come from SpecialFunctions.jl (``using SpecialFunctions`` is
emitted when needed); ``expm1`` and ``log1p`` are in Base.  N and T are Float64 holding
integers; ``x^y`` with a negative base is defined in Julia when y is integer-valued.

>>> from nnqft.derive.export.base import export
>>> print(export("kernel/erf", "julia").splitlines()[-2])
    return 2 * asin(2 * q12 ./ (sqrt(2 * q11 + 1) .* sqrt(2 * q22 + 1))) / pi
"""

from __future__ import annotations

from sympy.printing.julia import JuliaCodePrinter

from .base import Exporter

__all__ = ["JuliaExporter", "NnqftJuliaPrinter", "EXPORTERS"]

JULIA_RESERVED = frozenset(
    """baremodule begin break catch const continue do else elseif end export false finally
    for function global if import let local macro module quote return struct true try using
    while pi im e Inf NaN""".split()
)


class NnqftJuliaPrinter(JuliaCodePrinter):
    """Julia printer with SpecialFunctions.jl names for erf, digamma and polygamma."""

    def __init__(self, settings=None):
        super().__init__({"strict": True, **(settings or {})})

    def _print_polygamma(self, expr):
        m, x = expr.args
        if m == 0:
            return f"digamma({self._print(x)})"
        return f"polygamma({int(m)}, {self._print(x)})"

    def _print_erf(self, expr):
        return f"erf({self._print(expr.args[0])})"

    def _print_expm1(self, expr):
        return f"expm1({self._print(expr.args[0])})"

    def _print_log1p(self, expr):
        return f"log1p({self._print(expr.args[0])})"


class JuliaExporter(Exporter):
    """Julia target: ``function name(args...)`` of Float64 scalars."""

    language = "julia"
    extension = "jl"
    reserved = JULIA_RESERVED

    printer_class = NnqftJuliaPrinter

    def preamble(self, formula, prepared, names, printer) -> list[str]:
        out = []
        if prepared.needs & {"erf"} or any(n.startswith("polygamma") for n in prepared.needs):
            out += ["using SpecialFunctions", ""]
        return out + ['"""', *self.doc_lines(formula, names), '"""']

    def opening(self, fname, args, formula, prepared, names) -> list[str]:
        return [f"function {fname}({', '.join(args)})"]

    def assignment(self, name, code) -> list[str]:
        return [f"    {name} = {code}"]

    def closing(self, fname, args, code) -> list[str]:
        return [f"    return {code}", "end"]


EXPORTERS = {"julia": JuliaExporter}
