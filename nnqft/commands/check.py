"""``nnqft check``: the verdict on a hand calculation, in words."""

from __future__ import annotations

import click

from ._common import emit, json_option

#: `check --order` truncates both sides through 1/N^K: a series of K + 1 terms
MAX_CHECK_ORDER = 10


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

    Decided symbolically and, independently, numerically in 40-digit arithmetic at 24
    random points of the formula's domain (agreement within 1e-25 x max(1, |value|)).
    When they differ it says what is wrong where it can (a factor, the sign of a 1/N
    coefficient, a missing or extra term), prints the correct formula and the factored
    difference, and names the first order in 1/N (and the lowest power of sigma_w2)
    where they differ.  An EXPRESSION may start with "-" (no "--" needed).  LaTeX
    (\\frac{\\sigma_w^2}{2}) is read by sympy's LaTeX parser, whose runtime
    antlr4-python3-runtime==4.11.* is installed with nnqft.
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
    """The verdict first, then what is wrong in words, the correct formula and the
    difference (yours minus the formula, factored)."""
    import sympy

    through = f" (through 1/N^{r.order})" if r.order is not None else ""
    lines = [
        f"formula     {r.formula_id}{through}",
        f"equivalent  {'yes' if r.equivalent else 'no'}",
        f"verdict     {r.verdict}",
    ]
    lines += [f"diagnosis   {words}" for words in r.diagnosis]
    lines += [
        f"correct     {sympy.sstr(r.correct if r.correct is not None else r.target)}",
        f"difference  {sympy.sstr(r.difference)}",
        f"symbolic    {r.symbolic}",
    ]
    if r.equivalent and r.failed_points == 0:
        lines.append(
            f"numeric     agree within 1e-25 x max(1, |value|) at {r.points} random points "
            f"(40 digits; largest difference {r.max_absolute_difference:.2g})"
        )
    elif not r.equivalent:
        lines.append(
            f"numeric     largest difference {r.max_relative_difference:.3g} relative "
            f"({r.max_absolute_difference:.3g} absolute) at {r.points} random points (40 digits)"
        )
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


commands = [check_command]
