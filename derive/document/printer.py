r"""nnqft's one LaTeX printer: every document, export, CLI field and rules table prints
through :func:`latex` (docs/conventions.md §1 names the symbols).

:class:`NnqftLatexPrinter` is a :class:`sympy.printing.latex.LatexPrinter` subclass
(sympy's one-printer-per-target design) with its settings declared in
``_default_settings``; an unknown setting raises :class:`~nnqft.errors.InvalidType`.
Every rule is a ``_print_<Class>`` method, never a string replacement on printed output.

The naming policy (:func:`symbol_latex`): ``sigma_w2`` -> ``\sigma_w^2``, ``sigma_b2`` ->
``\sigma_b^2``, ``q0`` -> ``q_0``, ``q12`` -> ``q_{12}``, ``N`` and ``T`` as they are, a word
as subscript upright (``g_vertex`` -> ``g_{\mathrm{vertex}}``), the response field ``zt`` as
``\tilde{z}``, indexed fields as ``z_i(t)``, replicas as superscripts.  Powers of a squared
symbol merge (``sigma_w2**2`` -> ``\sigma_w^4``, ``sigma_w2**T`` -> ``\sigma_w^{2 T}``);
Gaussian means print as ``\int\mathcal{D}z\,\phi^{2}(\sqrt{q}\,z)`` and sums with their
ranges; digamma and polygamma as ``\psi``.

>>> import sympy as sp
>>> from nnqft.rules import action as A
>>> from nnqft.rules import symbols as S
>>> print(latex(A.zt[A.NEURON[0], A.TIME[0]] * S.sigma_w2))
\sigma_w^2 \tilde{z}_{i}(t)
>>> print(latex(A.GaussianMean(sp.Lambda(A.u, A.phi(A.u) ** 2), S.q)))
\int \mathcal{D}z\, \phi^{2}(\sqrt{q}\, z)
>>> print(latex(S.q0 * S.sigma_w2**S.T))
q_0 \sigma_w^{2 T}
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

from ...errors import InvalidType

__all__ = ["NnqftLatexPrinter", "PlainPrinter", "latex", "plain", "symbol_latex", "rules_latex"]

#: symbol name -> LaTeX
_SYMBOLS = {
    "sigma_w2": r"\sigma_w^2",
    "sigma_b2": r"\sigma_b^2",
    "q0": "q_0",
    "q11": "q_{11}",
    "q22": "q_{22}",
    "q12": "q_{12}",
    "q_star": "q^{*}",
    "chi_1": r"\chi_1",
    "chi_parallel": r"\chi_{\parallel}",
    "chi_c": r"\chi_c",
    "xi_q": r"\xi_q",
    "xi_c": r"\xi_c",
    "c_star": "c^{*}",
    "g_0": "g(0)",
    "lambda_max": r"\lambda_{\max}",
    "d_0": "d(0)",
    "S_eff": r"\mathcal{S}[Q,\tilde{Q}]",
    "S": "S",
    "s_1": "s",
    "Z": "Z",
    "Z_1": "Z_1",
    "epsilon": r"\epsilon",
    "u1": "u_1",
    "u2": "u_2",
    "z_1": "z_1",
    "z_2": "z_2",
    "c": "c",
}

#: indexed base -> (LaTeX name, number of neuron indices, has a time slot)
_INDEXED = {
    "z": ("z", 1, True),
    "zt": (r"\tilde{z}", 1, True),
    "W": ("W", 2, True),
    "b": ("b", 1, True),
    "x": ("x", 1, False),
    "xi": (r"\xi", 0, True),
    "J_W": ("J^{W}", 2, True),
    "J_b": ("J^{b}", 1, True),
    "a": ("a", 1, False),
    "X": ("X", 1, False),
}

#: undefined function -> (LaTeX name, number of time arguments; the rest are replica labels)
_FUNCTIONS = {
    "z": ("z", 1),
    "zt": (r"\tilde{z}", 1),
    "Q": ("Q", 2),
    "Qt": (r"\tilde{Q}", 2),
    "q": ("q", None),
    "K": ("K", 2),
    "B": ("B", 2),
    "phi": (r"\phi", 99),
    "d": ("d", 99),
    "C": ("C", 99),
}


#: squared parameters: ``<greek>_<letter>2`` is ``\<greek>_<letter>`` squared
_SQUARED = re.compile(r"^(sigma|lambda|mu|nu|chi|xi|rho|tau)_([a-z])2$")
#: a word subscript (two letters or more, not a Greek letter's name): printed upright
_WORD_SUBSCRIPT = re.compile(r"^([A-Za-z]+)_([A-Za-z]{2,})$")
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi",
    "chi", "psi", "omega",
}  # fmt: skip


def _square_root_latex(name: str) -> str | None:
    """LaTeX of the square root of a squared parameter (``sigma_w2`` -> ``\\sigma_w``)."""
    m = _SQUARED.match(name)
    return rf"\{m.group(1)}_{m.group(2)}" if m else None


def symbol_latex(name: str) -> str | None:
    r"""LaTeX for one of nnqft's symbol names, or None where sympy's own printing of the
    name is the policy (``N``, ``T``, ``x_1``, ``\alpha``).

    >>> symbol_latex("sigma_w2"), symbol_latex("q12"), symbol_latex("q0")
    ('\\sigma_w^2', 'q_{12}', 'q_0')
    >>> symbol_latex("g_vertex"), symbol_latex("N")
    ('g_{\\mathrm{vertex}}', None)
    """
    if name in _SYMBOLS:
        return _SYMBOLS[name]
    root = _square_root_latex(name)
    if root:
        return f"{root}^2"
    m = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
    if m:
        base, digits = m.groups()
        base = rf"\{base}" if base in _GREEK else base
        return f"{base}_{{{digits}}}" if len(digits) > 1 else f"{base}_{digits}"
    m = _WORD_SUBSCRIPT.match(name)
    if m and m.group(2).lower() not in _GREEK and m.group(2) not in ("max", "min"):
        base = rf"\{m.group(1)}" if m.group(1) in _GREEK else m.group(1)
        return rf"{base}_{{\mathrm{{{m.group(2)}}}}}"
    return None


class NnqftLatexPrinter(LatexPrinter):
    r"""sympy's LaTeX printer with nnqft's notation: symbols, fields, replicas, Gaussian means.

    Settings are sympy's, declared in ``_default_settings`` (``ln_notation`` and
    ``inv_trig_style='full'`` by default here); an unknown one raises
    :class:`~nnqft.errors.InvalidType`.

    >>> NnqftLatexPrinter({"ln_notation": False}).doprint(sp.log(sp.Symbol("x")))
    '\\log{\\left(x \\right)}'
    """

    _default_settings = {
        **LatexPrinter._default_settings,
        "ln_notation": True,
        "inv_trig_style": "full",
    }

    def __init__(self, settings=None):
        unknown = sorted(set(settings or {}) - set(self._default_settings))
        if unknown:
            raise InvalidType(
                f"unknown LaTeX setting {unknown[0]!r}; the settings are "
                + ", ".join(sorted(self._default_settings))
            )
        super().__init__(settings)
        self._override: dict = {}

    # symbols -----------------------------------------------------------------------
    def _print_Symbol(self, expr, style="plain"):
        if expr in self._override:
            return self._override[expr]
        if expr in self._settings["symbol_names"]:
            return self._settings["symbol_names"][expr]
        tex = symbol_latex(expr.name)
        return tex if tex is not None else super()._print_Symbol(expr, style=style)

    def _squared_root(self, base) -> str | None:
        """The printed square root of a squared parameter printed by the policy."""
        if not isinstance(base, sp.Symbol) or base in self._override:
            return None
        if base in self._settings["symbol_names"]:
            return None
        return _square_root_latex(base.name)

    # indexed fields ------------------------------------------------------------------
    def _index_list(self, indices) -> str:
        printed = [self._print(i) for i in indices]
        if all(
            len(p) == 1 or (i.is_Symbol and p.startswith("\\")) for p, i in zip(printed, indices)
        ):
            return "".join(printed)
        return ",".join(printed)

    def _print_Indexed(self, expr):
        name = str(expr.base)
        if name not in _INDEXED:
            return super()._print_Indexed(expr)
        tex, n_neuron, has_time = _INDEXED[name]
        idx = list(expr.indices)
        neuron, rest = idx[:n_neuron], idx[n_neuron:]
        time = rest.pop(0) if has_time and rest else None
        out = tex
        if rest:
            out = rf"{out}^{{{self._index_list(rest)}}}"
        if neuron:
            out = rf"{out}_{{{self._index_list(neuron)}}}"
        if time is not None:
            out = rf"{out}({self._print(time)})"
        return out

    def _print_IndexedBase(self, expr):
        name = str(expr)
        return _INDEXED[name][0] if name in _INDEXED else super()._print_IndexedBase(expr)

    # undefined functions: z(t), Q^{ab}(t, s), phi(...) ------------------------------
    def _print_Function(self, expr, exp=None):
        if isinstance(expr, AppliedUndef) and expr.func.__name__ in _FUNCTIONS:
            tex, n_time = _FUNCTIONS[expr.func.__name__]
            args = list(expr.args)
            if n_time is None:  # q: q(t), q(t, s), q(t, a, b), q(t, s, a, b)
                n_time = {1: 1, 2: 2, 3: 1, 4: 2}[len(args)]
            times, reps = args[:n_time], args[n_time:]
            out = tex
            if reps:
                out = rf"{out}^{{{self._index_list(reps)}}}"
            out = rf"{out}({', '.join(self._print(a) for a in times)})"
            if exp is not None:
                return rf"{out}^{{{exp}}}"
            return out
        return super()._print_Function(expr, exp=exp)

    def _print_UndefinedFunction(self, expr):
        name = expr.__name__
        return _FUNCTIONS[name][0] if name in _FUNCTIONS else super()._print_UndefinedFunction(expr)

    def _print_Derivative(self, expr):
        inner = expr.expr
        if isinstance(inner, AppliedUndef) and len(inner.args) == 1:
            (var,) = inner.args
            if len(expr.variables) == expr.derivative_count and set(expr.variables) == {var}:
                name = self._print(inner.func)
                return rf"{name}{chr(39) * expr.derivative_count}({self._print(var)})"
        return super()._print_Derivative(expr)

    def _print_Subs(self, expr):
        der, old, new = expr.args
        if isinstance(der, sp.Derivative) and len(old) == 1:
            inner = der.expr
            if isinstance(inner, AppliedUndef) and inner.args == tuple(old):
                name = self._print(inner.func)
                return rf"{name}{chr(39) * der.derivative_count}({self._print(new[0])})"
        return super()._print_Subs(expr)

    # sums -----------------------------------------------------------------------------
    def _print_Sum(self, expr):
        # outermost first; limits with the same constant range share one sigma
        limits = list(reversed(expr.limits))
        dummies = {lim[0] for lim in limits}
        groups: list[tuple[list, object, object]] = []
        for var, lo, hi in limits:
            bounds = sp.sympify(lo).free_symbols | sp.sympify(hi).free_symbols  # safe: Sum limits
            constant = not ({lo, hi} & dummies) and not (bounds & dummies)
            match = (
                next((g for g in groups if constant and g[1] == lo and g[2] == hi), None)
                if constant
                else None
            )
            if match is None and groups and groups[-1][1] == lo and groups[-1][2] == hi:
                match = groups[-1]
            if match is not None:
                match[0].append(var)
            else:
                groups.append(([var], lo, hi))
        head = "".join(
            rf"\sum_{{{','.join(self._print(v) for v in sorted(vs, key=_index_rank))}"
            rf"={self._print(lo)}}}^{{{self._print(hi)}}}"
            for vs, lo, hi in groups
        )
        body = expr.function
        if body.could_extract_minus_sign():
            return "-" + self._print(sp.Sum(-body, *expr.limits))
        tex = self._print(body)
        if isinstance(body, sp.Add):
            tex = rf"\left({tex}\right)"
        return f"{head} {tex}"

    def _print_Mul(self, expr):
        # a parameter prefactor, then the fields in physics order: \frac{\sigma_w^2}{2N} \sum ...
        factors = sp.Mul.make_args(expr)
        structural = [f for f in factors if _is_structural(f)]
        if not structural or factors == (expr,):  # sympy prints x**(-k) through _print_Mul
            return super()._print_Mul(expr)
        coeff = sp.Mul(*[f for f in factors if not _is_structural(f)])
        sign = ""
        if coeff.could_extract_minus_sign():
            coeff, sign = -coeff, "-"
        parts = []
        for f in sorted(structural, key=_factor_key):
            tex = self._print(f)
            if isinstance(f, sp.Add) or (isinstance(f, sp.Sum) and len(structural) > 1):
                tex = rf"\left({tex}\right)"
            parts.append(tex)
        rest_tex = " ".join(parts)
        if coeff == 1:
            return f"{sign}{rest_tex}"
        coeff_tex = self._print(coeff)
        if isinstance(coeff, sp.Add):
            coeff_tex = rf"\left({coeff_tex}\right)"
        return f"{sign}{coeff_tex} {rest_tex}"

    def _print_Pow(self, expr):
        base, exp = expr.args
        root = self._squared_root(base)
        if root and not (exp.is_Rational and exp.is_negative):
            double = 2 * exp
            if double == 1:
                return root
            if double.is_Integer or not exp.is_number:
                tex = self._print(double)
                return f"{root}^{tex}" if len(tex) == 1 else f"{root}^{{{tex}}}"
        if exp.is_Integer and exp > 1 and isinstance(base, (sp.Indexed, sp.Subs, sp.Derivative)):
            return rf"{self._print(base)}^{{{self._print(exp)}}}"
        if exp.is_Integer and exp > 1 and isinstance(base, AppliedUndef):
            if base.func.__name__ == "phi":  # phi^2(x), like sin^2 x: no ')^2' after a trace
                args = ", ".join(self._print(a) for a in base.args)
                return rf"\phi^{{{self._print(exp)}}}({args})"
            return self._print_Function(base, exp=self._print(exp))
        return super()._print_Pow(expr)

    def _print_Add(self, expr, order=None):
        if not any(_is_structural(t) for t in expr.args):
            return super()._print_Add(expr, order=order)
        terms = sorted(sp.Add.make_args(expr), key=_term_key)
        out = ""
        for k, term in enumerate(terms):
            tex = self._print(term)
            if k == 0:
                out = tex
            elif tex.startswith("-"):
                out += " - " + tex[1:].lstrip()
            else:
                out += " + " + tex
        return out

    def _as_ordered_terms(self, expr, order=None):
        if not any(_is_structural(t) for t in expr.args):
            return super()._as_ordered_terms(expr, order=order)
        return sorted(sp.Add.make_args(expr), key=_term_key)

    def _print_exp(self, expr, exp=None):
        if expr.args[0].has(sp.Sum):  # a long exponent reads better on the line
            tex = rf"\exp\left({self._print(expr.args[0])}\right)"
            return rf"{tex}^{{{exp}}}" if exp else tex
        return self._print_ExpBase(expr, exp=exp)

    def _print_polygamma(self, expr, exp=None):
        m, x = expr.args
        head = r"\psi" if m == 0 else rf"\psi^{{({self._print(m)})}}"
        out = rf"{head}\left({self._print(x)}\right)"
        return rf"{out}^{{{exp}}}" if exp else out

    def _print_KroneckerDelta(self, expr, exp=None):
        i, j = expr.args
        tex = rf"\delta_{{{self._print(i)}{self._print(j)}}}"
        return rf"{tex}^{{{exp}}}" if exp else tex

    # the engine's own objects -------------------------------------------------------------
    def _print_Average(self, expr):
        return rf"\left\langle {self._print(expr.args[0])} \right\rangle"

    def _print_DisorderAverage(self, expr):
        return rf"\mathbb{{E}}_{{W,b}}\left[{self._print(expr.args[0])}\right]"

    def _print_PathIntegral(self, expr):
        exponent, *fields = expr.args
        measure = r"\,".join(rf"\mathcal{{D}}{self._print(f)}" for f in fields)
        tex = self._print(exponent)
        if len(tex) > 40:
            return rf"\int {measure}\; \exp\left[{tex}\right]"
        return rf"\int {measure}\; e^{{{tex}}}"

    def _with_override(self, mapping, body):
        saved = dict(self._override)
        self._override.update(mapping)
        try:
            return self._print(body)
        finally:
            self._override = saved

    def _print_GaussianMean(self, expr):
        f, v = expr.args
        (var,) = f.variables
        arg = rf"\sqrt{{{self._print(v)}}}\, z"
        body = self._with_override({var: arg}, f.expr)
        if isinstance(f.expr, sp.Add):  # the whole sum is integrated
            body = rf"\left[{body}\right]"
        return rf"\int \mathcal{{D}}z\, {body}"

    def _print_BivariateGaussianMean(self, expr):
        f = expr.args[0]
        a, c = f.variables
        body = self._with_override({a: "u_1", c: "u_2"}, f.expr)
        if isinstance(f.expr, sp.Add):
            body = rf"\left[{body}\right]"
        return rf"\int \mathcal{{D}}z_1\,\mathcal{{D}}z_2\, {body}"

    def _print_Equality(self, expr):
        return rf"{self._print(expr.lhs)} = {self._print(expr.rhs)}"


#: physics order of factors: deltas and kernels, collective fields, response fields,
#: weights and sources, fields, activations; traces (sums) by what they contain
_RANK = {
    "KroneckerDelta": 0,
    "K": 0,
    "B": 0,
    "C": 0,
    "Q": 1,
    "Qt": 1,
    "zt": 2,
    "a": 2,
    "W": 3,
    "b": 3,
    "J_W": 3,
    "J_b": 3,
    "X": 3,
    "xi": 3,
    "z": 4,
    "x": 4,
    "phi": 5,
}


def _name_of(node) -> str | None:
    if isinstance(node, sp.Indexed):
        return str(node.base)
    if isinstance(node, AppliedUndef):
        return node.func.__name__
    if isinstance(node, sp.KroneckerDelta):
        return "KroneckerDelta"
    return None


def _is_structural(f) -> bool:
    return f.has(sp.Sum, sp.Indexed, AppliedUndef, sp.KroneckerDelta, *_means())


def _factor_key(f):
    from ...rules.action.objects import NEURON, REPLICA, TIME

    names = [_name_of(n) for n in sp.preorder_traversal(f)]
    ranks = [_RANK.get(n, 6) for n in names if n is not None]
    rank = (min(ranks) if ranks else 6) + (0.5 if isinstance(f, sp.Sum) else 0)
    if isinstance(f, sp.Sum) and ranks and min(ranks) >= 5:
        rank = 5.5
    if isinstance(f, _means()[:2]):  # a Gaussian integral closes the product
        rank = 7
    order = []
    for sym in sorted(f.free_symbols, key=str):
        for offset, pool in ((0, NEURON), (10, TIME), (20, REPLICA)):
            if sym in pool:
                order.append(offset + pool.index(sym))
    return (rank, tuple(sorted(order)), str(f))


def _term_key(term):
    """Order of the terms of a sum: the z-zt term, then weights/vertex, biases, the rest."""
    from ...rules import symbols as S

    names = {_name_of(n) for n in sp.preorder_traversal(term)}
    fields_z = "z" in names and not ({"phi", "W", "J_W", "b", "J_b", "Q"} & names)
    if fields_z:
        group = 0
    elif {"W", "J_W", "Q"} & names or term.has(S.sigma_w2):
        group = 2 if "Qt" in names and "Q" not in names else 1
    elif {"b", "J_b"} & names or term.has(S.sigma_b2):
        group = 2
    else:
        group = 3
    if "Qt" in names and "Q" in names:
        group = 3
    return (group, term.could_extract_minus_sign(), str(term))


def _index_rank(sym):
    from ...rules.action.objects import NEURON, REPLICA, TIME

    for pool in (TIME, NEURON, REPLICA):
        if sym in pool:
            return (0, pool.index(sym), "")
    return (1, 0, str(sym))


def _means():
    from ...rules.action.objects import Average, BivariateGaussianMean, GaussianMean

    return (GaussianMean, BivariateGaussianMean, Average)


def latex(expr, **settings) -> str:
    """LaTeX of a sympy object in nnqft's notation (see :class:`NnqftLatexPrinter`).

    >>> from nnqft.rules import symbols as S
    >>> latex(S.sigma_w2**2 / (2 * S.N))
    '\\\\frac{\\\\sigma_w^4}{2 N}'
    """
    return NnqftLatexPrinter(settings).doprint(expr)


def rules_latex(rules) -> str:
    r"""A LaTeX ``tabular`` of a :class:`~nnqft.rules.feynman.FeynmanRules` (the printing
    lives here, with the one printer; rules/ imports nothing of derive/).

    >>> from nnqft.rules.feynman import linear_network_rules
    >>> tex = rules_latex(linear_network_rules("feedforward"))
    >>> tex.splitlines()[0], r"\frac{\sigma_w^2}{N}" in tex
    ('\\begin{tabular}{llll}', True)
    """
    names = {f.name: f.latex for f in rules.fields}
    lines = [
        r"\begin{tabular}{llll}",
        r"element & fields & value & index structure \\ \hline",
    ]
    for p in rules.propagators:
        a, b = (names.get(f, f) for f in p.fields)
        arrow = r"\to" if p.directed else "-"
        lines.append(
            f"propagator ({_tex_text(p.kind)}) & ${a} {arrow} {b}$ & ${latex(p.value)}$ & "
            r"$\delta_{ij}$ \\"
        )
    for v in rules.vertices:
        legs = ", ".join(
            names.get(f, f) + (f"({t})" if t else "")
            for f, t in zip(v.legs, v.times or [""] * v.degree)
        )
        idx = " + ".join(
            (latex(w) if w != 1 else "") + "".join(rf"\delta_{{{a}{b}}}" for a, b in pairs)
            for w, pairs in v.index_pairings
        )
        weight = f", ${_tex_math(v.time_weight)}$" if v.time_weight else ""
        lines.append(
            f"vertex ({_tex_text(v.kind)}) & ${legs}$ & ${latex(v.coupling)}${weight} & "
            f"${idx}$ \\\\"
        )
    lines.append(r"\end{tabular}")
    return "\n".join(lines)


def _tex_text(text: str) -> str:
    return text.replace("_", r"\_")


def _tex_math(text: str) -> str:
    return text.replace("delta_ts", r"\delta_{ts}")


# --- plain text for terminals ------------------------------------------------------------------


class PlainPrinter(StrPrinter):
    r"""One-line mathematics for a terminal: Gaussian means as ``E_{u~N(0,q)}[phi(u)^2]``,
    derivatives of phi as ``phi'(u)``, fields as ``zt_i(t)``, sums with their ranges, powers
    with ``^``.

    >>> from nnqft.rules import action as A
    >>> from nnqft.rules import symbols as S
    >>> slope = sp.Lambda(A.u, sp.diff(A.phi(A.u), A.u) ** 2)
    >>> print(plain(S.sigma_w2 * A.GaussianMean(slope, A.q_star)))
    sigma_w2*E_{u~N(0,q_star)}[phi'(u)^2]
    >>> print(plain(sp.Sum(A.zt[A.NEURON[0], A.TIME[0]] ** 2, (A.NEURON[0], 1, S.N))))
    sum_{i=1..N} zt_i(t)^2
    """

    #: no sympy object defines this: every class goes through the _print_ methods below
    #: (Indexed brings its own _sympystr)
    printmethod = "_nnqft_plain"

    _NAMES = {"S_eff": "S[Q,Qt]"}

    def _print_Symbol(self, expr):
        return self._NAMES.get(expr.name, expr.name)

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.as_base_exp()
        prec = precedence(expr)
        if exp is sp.S.Half and not rational:
            return f"sqrt({self._print(base)})"
        if expr.is_commutative and exp == -1:
            return f"1/{self.parenthesize(base, prec, strict=False)}"
        if expr.is_commutative and exp.is_Rational and exp < 0:
            return f"1/{self.parenthesize(base, prec, strict=False)}^{self._print(-exp)}"
        head, power = (self.parenthesize(x, prec, strict=False) for x in (base, exp))
        return f"{head}^{power}"

    def _print_Derivative(self, expr):
        inner = expr.expr
        if isinstance(inner, AppliedUndef) and len(inner.args) == 1 and len(expr.variables) >= 1:
            if set(expr.variables) == {inner.args[0]} and len(expr.variables) <= 3:
                primes = "'" * len(expr.variables)
                return f"{inner.func.__name__}{primes}({self._print(inner.args[0])})"
        return super()._print_Derivative(expr)

    def _print_Indexed(self, expr):
        # z[i, t] -> z_i(t); W[i, j, t] -> W_ij(t); a replica index last: z^a_i(t)
        name = self._print(expr.base.label)
        idx = list(expr.indices)
        if len(idx) == 1:
            return f"{name}_{self._print(idx[0])}"
        neurons, time = idx[:-1], idx[-1]
        sub = "".join(self._print(i) for i in neurons)
        return f"{name}_{sub}({self._print(time)})"

    def _print_Sum(self, expr):
        ranges = ", ".join(
            f"{self._print(v)}={self._print(lo)}..{self._print(hi)}" for v, lo, hi in expr.limits
        )
        body = self.parenthesize(expr.function, precedence(sp.Mul(2, 2, evaluate=False)))
        return f"sum_{{{ranges}}} {body}"

    def _print_GaussianMean(self, expr):
        f, v = expr.args
        (var,) = f.variables
        return f"E_{{{self._print(var)}~N(0,{self._print(v)})}}[{self._print(f.expr)}]"

    def _print_BivariateGaussianMean(self, expr):
        f, v1, v2, c = expr.args
        a, b = (self._print(x) for x in f.variables)
        cov = f"{self._print(v1)},{self._print(v2)};{self._print(c)}"
        return f"E_{{({a},{b})~N(0;{cov})}}[{self._print(f.expr)}]"

    def _print_DisorderAverage(self, expr):
        return f"E_{{W,b}}[{self._print(expr.args[0])}]"


def plain(expr) -> str:
    """``expr`` as one line of readable mathematics (see :class:`PlainPrinter`).

    >>> from nnqft.rules import symbols as S
    >>> plain(S.sigma_w2**2 * S.q / 2)
    'q*sigma_w2^2/2'
    """
    return PlainPrinter({"order": None}).doprint(expr)
