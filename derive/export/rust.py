"""Export to Rust: one ``pub fn name(arg: f64, ...) -> f64`` per formula.

sympy's own Rust printer drops parentheses (``(a+b).powi(2)`` printed as ``a + b.powi(2)``:
code that compiles and gives wrong numbers), so this target prints every call in function
form (``f64::powi(a + b, 2)``), where precedence is that of C.  Rust's standard library
has no erf or digamma: both are generated here, erf from its everywhere-positive series
(|x| < 3) and the continued fraction of erfc (|x| >= 3), polygamma from its asymptotic
series (:func:`nnqft.derive.export.base.polygamma_pieces`).

>>> from nnqft.derive.export.base import export
>>> print(export("kernel/sin", "rust", cse=False).splitlines()[-2])
    f64::exp(-1.0/2.0*q11 - 1.0/2.0*q22)*f64::sinh(q12)
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.c import C99CodePrinter
from sympy.printing.precedence import precedence

from .base import POLYGAMMA_SHIFT, Exporter, polygamma_pieces

__all__ = ["RustExporter", "NnqftRustPrinter", "EXPORTERS", "RUST_ERF"]

RUST_RESERVED = frozenset(
    """as break const continue crate else enum extern false fn for if impl in let loop match
    mod move mut pub ref return self Self static struct super trait true type unsafe use
    where while async await dyn abstract become box do final macro override priv typeof
    unsized virtual yield try f64 acc""".split()
)

_FUNCS = {
    "exp": "f64::exp",
    "log": "f64::ln",
    "sqrt": "f64::sqrt",
    "sin": "f64::sin",
    "cos": "f64::cos",
    "tan": "f64::tan",
    "asin": "f64::asin",
    "acos": "f64::acos",
    "atan": "f64::atan",
    "sinh": "f64::sinh",
    "cosh": "f64::cosh",
    "tanh": "f64::tanh",
    "asinh": "f64::asinh",
    "acosh": "f64::acosh",
    "atanh": "f64::atanh",
    "Abs": "f64::abs",
    "floor": "f64::floor",
    "ceiling": "f64::ceil",
    "expm1": "f64::exp_m1",
    "log1p": "f64::ln_1p",
    "erf": "nnqft_erf",
}


class NnqftRustPrinter(C99CodePrinter):
    """Prints sympy expressions as Rust f64 expressions, calls in function form."""

    def __init__(self, settings=None):
        super().__init__({"strict": True, "math_macros": {}, **(settings or {})})

    def _print_Integer(self, expr):
        return f"{int(expr)}.0"

    def _print_Rational(self, expr):
        return f"{int(expr.p)}.0/{int(expr.q)}.0"

    def _print_Float(self, expr):
        text = repr(float(expr))
        return text if any(c in text for c in ".e") else text + ".0"

    def _print_Pi(self, expr):
        return "std::f64::consts::PI"

    def _print_Exp1(self, expr):
        return "std::f64::consts::E"

    def _print_Pow(self, expr):
        b, e = expr.args
        base = self._print(b)
        if e == sp.Rational(1, 2):
            return f"f64::sqrt({base})"
        if e == -sp.Rational(1, 2):
            return f"(1.0/f64::sqrt({base}))"
        if e.is_Integer and abs(int(e)) <= 64:
            return f"f64::powi({base}, {int(e)})"
        return f"f64::powf({base}, {self._print(e)})"

    def _print_Function(self, expr):
        name = type(expr).__name__
        if name not in _FUNCS:
            return self._print_not_supported(expr)
        return f"{_FUNCS[name]}({', '.join(self._print(a) for a in expr.args)})"

    def _print_polygamma(self, expr):
        m, x = expr.args
        return f"nnqft_polygamma_{int(m)}({self._print(x)})"

    def _print_Max(self, expr):
        out = self._print(expr.args[0])
        for a in expr.args[1:]:
            out = f"f64::max({out}, {self._print(a)})"
        return out

    def _print_Min(self, expr):
        out = self._print(expr.args[0])
        for a in expr.args[1:]:
            out = f"f64::min({out}, {self._print(a)})"
        return out

    def _print_Piecewise(self, expr):
        parts = []
        for e, c in expr.args:
            if c == sp.true:
                parts.append(f"{{ {self._print(e)} }}")
                break
            parts.append(f"if {self._print(c)} {{ {self._print(e)} }}")
        else:
            parts.append("{ f64::NAN }")
        return "(" + " else ".join(parts) + ")"

    def _print_Relational(self, expr):
        op = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[expr.rel_op]
        prec = precedence(expr)
        return f"{self.parenthesize(expr.lhs, prec)} {op} {self.parenthesize(expr.rhs, prec)}"


for _name in _FUNCS:
    setattr(NnqftRustPrinter, f"_print_{_name}", NnqftRustPrinter._print_Function)


#: erf for Rust (no erf in std): positive series below 3, erfc continued fraction above
RUST_ERF = """/// erf(x): 2/sqrt(pi) exp(-x^2) sum_n (2x^2)^n x/(2n+1)!! (all terms positive) for
/// |x| < 3; 1 - erfc(x) from the continued fraction of erfc for |x| >= 3.
fn nnqft_erf(x: f64) -> f64 {
    let a = x.abs();
    let r = if a < 3.0 {
        let x2 = a * a;
        let mut term = a;
        let mut sum = a;
        let mut n = 0.0;
        while term > 1e-17 * sum {
            n += 1.0;
            term *= 2.0 * x2 / (2.0 * n + 1.0);
            sum += term;
        }
        std::f64::consts::FRAC_2_SQRT_PI * f64::exp(-x2) * sum
    } else if a < 6.5 {
        let mut frac = 0.0;
        let mut k = 80.0;
        while k > 0.0 {
            frac = (k / 2.0) / (a + frac);
            k -= 1.0;
        }
        1.0 - f64::exp(-a * a) / ((a + frac) * f64::sqrt(std::f64::consts::PI))
    } else {
        1.0
    };
    if x < 0.0 { -r } else { r }
}"""


def rust_polygamma_helper(m: int, printer=None) -> str:
    """The Rust source of ``fn nnqft_polygamma_m(x: f64) -> f64`` for x > 0."""
    printer = printer or NnqftRustPrinter()
    x, w, log_part, horner, increment = polygamma_pieces(m)
    return "\n".join(
        [
            f"/// polygamma({m}, x) for x > 0: shift to x >= {POLYGAMMA_SHIFT}, then the",
            "/// asymptotic",
            "/// (Bernoulli) series; generated by nnqft.derive.export.base.",
            "#[allow(unused_parens, clippy::all)]",
            f"fn nnqft_polygamma_{m}(x0: f64) -> f64 {{",
            "    if !(x0 > 0.0) { return f64::NAN; }",
            "    let mut x = x0;",
            "    let mut acc = 0.0;",
            f"    while x < {POLYGAMMA_SHIFT}.0 {{",
            f"        acc += {printer.doprint(increment)};",
            "        x += 1.0;",
            "    }",
            "    let w = 1.0 / x;",
            f"    acc + {printer.doprint(log_part + horner)}",
            "}",
        ]
    )


class RustExporter(Exporter):
    """Rust target: ``pub fn name(arg: f64, ...) -> f64``; N and T are f64 holding integers."""

    language = "rust"
    extension = "rs"
    reserved = RUST_RESERVED

    printer_class = NnqftRustPrinter
    comment = "/// {}"

    def opening(self, fname, args, formula, prepared, names) -> list[str]:
        return [
            "#[allow(non_snake_case, unused_parens, unused_variables, clippy::all)]",
            f"pub fn {fname}({', '.join(f'{a}: f64' for a in args)}) -> f64 {{",
        ]

    def assignment(self, name, code) -> list[str]:
        return [f"    let {name}: f64 = {code};"]

    def closing(self, fname, args, code) -> list[str]:
        return [f"    {code}", "}"]

    def postamble(self, formula, prepared, names, printer) -> list[str]:
        out = ["", RUST_ERF] if "erf" in prepared.needs else []
        for helper in self.helpers(prepared, rust_polygamma_helper, printer):
            out += ["", helper]
        return out


EXPORTERS = {"rust": RustExporter}
