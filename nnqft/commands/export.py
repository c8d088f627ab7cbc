"""``nnqft list`` and ``nnqft export``: formulas out of the engine (``nnqft check`` is in
:mod:`nnqft.commands.check`)."""

from __future__ import annotations

import click

from ._common import NameChoice, OutputPath, emit, json_option


def _languages():
    from ..derive.export.base import LANGUAGES

    return LANGUAGES


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


commands = [list_command, export_command]
