"""``nnqft list``, ``nnqft export`` and ``nnqft check``: formulas out of the engine."""

from __future__ import annotations

import click

from ._common import NameChoice, OutputPath, emit, json_option


def _languages():
    from ..derive.export.base import LANGUAGES

    return LANGUAGES


#: `check --order` truncates both sides through 1/N^K: a series of K + 1 terms
MAX_CHECK_ORDER = 10
LANGUAGE_HELP = "c, fortran, julia, rust, jax, numpy, mathematica, latex or json"


@click.command("list")
@json_option
@click.option("--ids-only", is_flag=True, help="Print the ids only, one per line.")
def list_command(as_json, ids_only):
    """Every formula id the engine can derive, with its arguments and description."""
    from ..derive.formulas import get_formula, list_formulas

    ids = list_formulas()
    if ids_only and not as_json:
        click.echo("\n".join(ids))
        return 0
    rows = []
    for fid in ids:
        f = get_formula(fid)
        rows.append(
            {
                "id": fid,
                "arguments": [s.name for s in f.arguments],
                "order": f.order,
                "description": f.description,
            }
        )
    if as_json:
        emit({"formulas": rows, "count": len(rows)}, True)
        return 0
    width = max(len(r["id"]) for r in rows) if rows else 0
    lines = [
        f"{r['id'].ljust(width)}  ({', '.join(r['arguments'])})  {r['description']}" for r in rows
    ]
    lines.append(f"{len(rows)} formulas")
    click.echo("\n".join(lines))
    return 0


@click.command("export")
@click.argument("formula")
@click.option(
    "--lang",
    "language",
    type=NameChoice("language", _languages, metavar="LANG"),
    required=True,
    help=f"Target language: {LANGUAGE_HELP}.",
)
@click.option(
    "--order", type=int, default=None, help="Order in 1/N for formulas that are 1/N series."
)
@click.option("--output", "-o", type=OutputPath(), help="Also write the code here.")
@json_option
def export_command(formula, language, order, output, as_json):
    """Export FORMULA (an id from `nnqft list`) as a function in another language.

    The function's argument order and the meaning of each argument are documented in the
    generated comment; N and T are reals holding integers.
    """
    from ..derive.export.base import get_exporter
    from ..derive.formulas import get_formula

    exporter = get_exporter(language)  # unknown language: one line, exit 2
    f = get_formula(formula, order=order)
    code = exporter.export(f)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(code)
    if as_json:
        emit(
            {
                "formula": f.id,
                "language": exporter.language,
                "function": exporter.function_name(f),
                "arguments": [s.name for s in f.arguments],
                "code": code,
            },
            True,
        )
    else:
        click.echo(code, nl=False)
    return 0


class _ExpressionFirst(click.Command):
    """A command whose one argument may start with ``-`` (``nnqft check "-sigma_w2**T"``).

    click would read such an argument as an unknown option; here any word that starts
    with ``-`` and is neither a known option (``--order=2`` included) nor an option's
    value is taken as the argument, as if it came after ``--``.
    """

    def parse_args(self, ctx, args):
        takes_value, flags = set(), set()
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                names = param.opts + param.secondary_opts
                (flags if param.is_flag or param.count else takes_value).update(names)
        out, loose, i = [], [], 0
        while i < len(args):
            word = args[i]
            if word == "--":
                out.extend(args[i:])
                break
            if word in takes_value:
                out.extend(args[i : i + 2])
                i += 2
                continue
            known = word in flags or word.split("=", 1)[0] in takes_value
            if word.startswith("-") and len(word) > 1 and not known:
                loose.append(word)
            else:
                out.append(word)
            i += 1
        if loose:
            out = out + (["--"] if "--" not in out else []) + loose
        return super().parse_args(ctx, out)


@click.command("check", cls=_ExpressionFirst)
@click.argument("expression")
@click.option("--against", "formula", required=True, help="Formula id (see `nnqft list`).")
@click.option(
    "--order",
    type=int,
    default=None,
    help=f"Compare through 1/N^K only (both sides truncated; K from 0 to {MAX_CHECK_ORDER}).",
)
@json_option
def check_command(expression, formula, order, as_json):
    """Is EXPRESSION (sympy syntax or LaTeX) the formula? Exit 0 yes, 1 no, 2 unparsable.

    Decided symbolically and, independently, numerically in 40-digit arithmetic at random
    points of the formula's domain; when they differ, names the first order in 1/N (and
    the lowest power of sigma_w2) where they do.
    """
    if order is not None and not 0 <= order <= MAX_CHECK_ORDER:
        from ..errors import InvalidParameter

        raise InvalidParameter(
            f"--order must be an integer from 0 to {MAX_CHECK_ORDER}, got {order}"
        )
    from ..derive.check import check

    result = check(expression, formula, order=order)
    if as_json:
        emit(result.as_dict(), True)
    else:
        click.echo(_check_text(result))
    return 0 if result.equivalent else 1


def _check_text(r) -> str:
    import sympy

    lines = [
        f"formula     {r.formula_id}"
        + (f" (through 1/N^{r.order})" if r.order is not None else ""),
        f"equivalent  {'yes' if r.equivalent else 'no'}",
        f"difference  {sympy.sstr(r.difference)}",
        f"symbolic    {r.symbolic}",
        f"numeric     max relative difference {r.max_relative_difference:.3g} at {r.points} "
        "random points (40 digits)",
    ]
    if not r.equivalent:
        if r.first_order is None:
            lines.append("first differing order in 1/N: not determined")
        else:
            lines.append(f"first differing order in 1/N: {r.first_order} ({r.first_order_method})")
        if r.leading_difference is not None:
            lines.append(f"leading difference  {sympy.sstr(r.leading_difference)}")
        if r.sigma_w2_power is not None:
            lines.append(f"lowest sigma_w2 power there  {sympy.sstr(r.sigma_w2_power)}")
    lines += list(r.notes)
    return "\n".join(lines)


commands = [list_command, export_command, check_command]
