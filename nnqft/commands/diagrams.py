"""``nnqft rules`` and ``nnqft diagrams``."""

from __future__ import annotations

import itertools

import click

from ._common import (
    MAX_DEPTH,
    NameChoice,
    OutputPath,
    check_depth,
    emit,
    format_mapping,
    format_rows,
    json_option,
)

#: the diagram counts grow factorially: most external legs, and most half-edges
#: (legs + 4 * order) of a phi^4 diagram the command generates
MAX_LEGS = 12
MAX_HALF_EDGES = 34


def _models():
    from ..rules.feynman import MODELS

    return MODELS


# on-phi4 is accepted without loading the rules module (its path imports no sympy)
MODEL_TYPE = NameChoice("model", _models, metavar="MODEL", light=("on-phi4",))

_MODEL_HELP = "on-phi4, linear-feedforward, linear-recurrent (-shared / -fresh)."


@click.command("rules")
@click.option("--model", type=MODEL_TYPE, default="on-phi4", show_default=True, help=_MODEL_HELP)
@json_option
@click.option("--latex", "as_latex", is_flag=True, help="Print the rules as a LaTeX tabular.")
@click.option(
    "--from-action",
    is_flag=True,
    help="Linear network models: read the rules off the engine's disorder-averaged action.",
)
def rules_command(model, as_json, as_latex, from_action):
    """Feynman rules of a model: propagators and vertices with coupling, index and time
    structure (docs/conventions.md §4, §6)."""
    from ..rules.feynman import get_rules

    rules = get_rules(model)
    if from_action:
        from ..errors import InvalidParameter
        from ..rules.feynman import rules_from_action
        from ..rules.network import Network

        if not model.startswith("linear-"):
            raise InvalidParameter("--from-action applies to the linear network models only")
        parts = model.split("-")
        bias = parts[2] if len(parts) > 2 else None
        rules = rules_from_action(Network(parts[1], "linear", bias=bias))
    if as_latex:
        from ..derive.document.printer import rules_latex
    if as_latex and not as_json:
        click.echo(rules_latex(rules))
        return 0
    result = rules.to_dict()
    if as_latex:
        result["latex"] = rules_latex(rules)
    text = "\n".join(
        [
            f"model  {rules.model}: {rules.description}",
            format_rows(rules.table()),
            "per closed index loop: " + str(rules.n_per_index_loop),
            *(f"note: {n}" for n in rules.notes),
        ]
    )
    emit(result, as_json, text)
    return 0


@click.command("diagrams")
@click.option("--model", type=MODEL_TYPE, default="on-phi4", show_default=True, help=_MODEL_HELP)
@click.option(
    "--legs",
    default=2,
    show_default=True,
    type=int,
    help=f"External legs (0: vacuum; at most {MAX_LEGS}).",
)
@click.option(
    "--order",
    required=True,
    type=int,
    help=f"Number of vertices (phi^4: legs + 4 order at most {MAX_HALF_EDGES}).",
)
@click.option("--connected", is_flag=True, help="Connected diagrams only.")
@click.option("--1pi", "one_pi", is_flag=True, help="One-particle-irreducible (implies connected).")
@click.option(
    "--no-self-loops", is_flag=True, help="Drop diagrams with a line from a vertex to itself."
)
@click.option(
    "--draw",
    "draw_dir",
    type=OutputPath(kind="dir"),
    default=None,
    help="Write TikZ-Feynman .tex and .png per diagram into this folder.",
)
@click.option("--pdf", is_flag=True, help="With --draw: also compile diagrams.tex with lualatex.")
@click.option(
    "--depth",
    default=None,
    type=int,
    help=f"Linear network models: the depth T (at most {MAX_DEPTH}).",
)
@click.option(
    "--count-only",
    is_flag=True,
    help="on-phi4: the count and the sums only (with 4 legs also per channel), no list.",
)
@json_option
def diagrams_command(
    model, legs, order, connected, one_pi, no_self_loops, draw_dir, pdf, depth, count_only, as_json
):
    """Every Feynman diagram of a given order, with symmetry factor 1/|Aut| (legs
    labelled), O(N) factor, loops and 1PI flag; deduplicated by an exact canonical form."""
    import warnings

    from ..errors import InvalidParameter

    if model != "on-phi4":  # the rules module (and sympy) only where a model needs it
        from ..rules.feynman import MODELS

        if model not in MODELS:
            from ..errors import unknown_name

            raise unknown_name("model", model, MODELS)
    if pdf and not draw_dir:
        raise InvalidParameter("--pdf compiles the drawings: it needs --draw DIR")
    if pdf:
        import shutil

        if shutil.which("lualatex") is None:
            raise InvalidParameter("--pdf needs lualatex (TeX Live with TikZ-Feynman)")
    for name, value in (("--legs", legs), ("--order", order)):
        if value < 0:
            raise InvalidParameter(f"{name} must be a non-negative integer, got {value}")
    if model.startswith("linear-"):
        if depth is not None:
            check_depth(depth)
        return _network(model, order, depth, draw_dir, pdf, as_json)
    if depth is not None:
        raise InvalidParameter("--depth applies to the linear network models only")
    if count_only and draw_dir:
        raise InvalidParameter("--count-only lists no diagrams: it cannot be used with --draw")
    if legs > MAX_LEGS or legs + 4 * order > MAX_HALF_EDGES:
        raise InvalidParameter(
            f"--legs {legs} --order {order} is beyond the cap: legs <= {MAX_LEGS} and "
            f"legs + 4*order <= {MAX_HALF_EDGES} (e.g. --legs 2 --order 8, --legs 4 --order 7)"
        )
    from ..diagrams.phi4 import iter_diagrams

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stream = iter_diagrams(
            legs,
            order,
            connected=connected,
            one_pi=one_pi,
            self_loops=not no_self_loops,
            progress=True,
        )
        first = next(stream, None)  # generation (and its warning) happens here
    for w in caught:
        click.echo(f"nnqft: warning: {w.message}", err=True)
    diagrams = itertools.chain([first], stream) if first is not None else iter(())
    head = {
        "model": model,
        "legs": legs,
        "order": order,
        "filters": {
            "connected": connected or one_pi,
            "one_pi": one_pi,
            "no_self_loops": no_self_loops,
        },
    }
    if count_only:
        result = {**head, **_phi4_sums(diagrams, legs, channels=True)}
        emit(result, as_json, format_mapping(result))
        return 0
    if as_json and not draw_dir:
        _stream_json(head, diagrams, legs)
        return 0
    diagrams = list(diagrams)
    entries: list = []
    result = {**head, "diagrams": entries, **_phi4_sums(diagrams, legs, write=entries.append)}
    if draw_dir:
        from ..diagrams.draw import write_drawings

        write_drawings(diagrams, draw_dir, compile_pdf=pdf)
        result["drawn_to"] = draw_dir
    if as_json:
        emit(result, True)
    else:
        emit(result, False, _phi4_text(result))
    return 0


def _phi4_sums(diagrams, legs, channels=False, write=None) -> dict:
    """count, sum_symmetry_factors, sum_symmetry_times_n_factor (and with ``channels``
    and 4 legs, the sums per channel [A, B, C]) in one pass over ``diagrams``; each
    diagram's JSON entry goes to ``write`` when given."""
    from fractions import Fraction

    from ..diagrams.polystr import factor_string

    count = 0
    total = Fraction(0)
    weighted: dict = {}
    per_channel: list[dict] = [{}, {}, {}]
    for d in diagrams:
        count += 1
        s = d.symmetry_factor
        total += s
        for p, c in d.n_factor.items():
            weighted[p] = weighted.get(p, 0) + s * c
        if channels and legs == 4:
            for acc, poly in zip(per_channel, d.n_factor_channels):
                for p, c in poly.items():
                    acc[p] = acc.get(p, 0) + s * c
        if write is not None:
            write(d.to_dict())
    out = {
        "count": count,
        "sum_symmetry_factors": str(total),
        "sum_symmetry_times_n_factor": factor_string(weighted),
    }
    if channels and legs == 4:
        out["sum_symmetry_times_n_factor_channels"] = [factor_string(p) for p in per_channel]
    return out


def _stream_json(head: dict, diagrams, legs) -> None:
    """Write the JSON object of ``nnqft diagrams --json`` diagram by diagram: the same
    text as ``json.dumps`` of the whole result, without holding it."""
    import json

    out = click.get_text_stream("stdout")
    dumps = json.JSONEncoder().encode
    buffer: list[str] = []
    sep = [""]

    def write(entry: dict) -> None:
        buffer.append(sep[0] + dumps(entry))
        sep[0] = ", "
        if len(buffer) >= 512:
            out.write("".join(buffer))
            buffer.clear()

    out.write(dumps(head)[:-1] + ', "diagrams": [')
    sums = _phi4_sums(diagrams, legs, write=write)
    out.write("".join(buffer) + "], " + dumps(sums)[1:] + "\n")
    out.flush()


def _phi4_text(result) -> str:
    rows = [
        {
            "#": k,
            "S": d["symmetry_factor"],
            "n_factor": d["n_factor"],
            "loops": d["loops"],
            "1PI": "yes" if d["one_pi"] else "no",
            "id": d["id"],
        }
        for k, d in enumerate(result["diagrams"], start=1)
    ]
    head = f"{result['model']}: {result['legs']}-point diagrams at order {result['order']}"
    return "\n".join(
        [
            head,
            format_rows(rows),
            f"count                         {result['count']}",
            f"sum_symmetry_factors          {result['sum_symmetry_factors']}",
            f"sum_symmetry_times_n_factor   {result['sum_symmetry_times_n_factor']}",
        ]
    )


def _network(model, order, depth, draw_dir, pdf, as_json):
    """Diagrams of E Q(T) for the linear network (built by nnqft.diagrams.network)."""
    from fractions import Fraction

    from ..errors import InvalidParameter

    if depth is None:
        raise InvalidParameter(f"--depth T is required for model {model!r}")
    try:
        from ..diagrams.network import network_diagrams
    except ImportError:  # pragma: no cover - the network module is built alongside
        raise InvalidParameter(f"diagrams of {model!r} are not available in this build") from None
    parts = model.split("-")
    arch = parts[1]
    bias = parts[2] if len(parts) > 2 else ("shared" if arch == "recurrent" else None)
    diagrams = network_diagrams(arch, depth, order, bias)
    entries = []
    for d in diagrams:
        names = {x: str(x) for x in d.graph.nodes}
        entries.append(
            {
                "id": d.id,
                "edges": [[names[u], names[v]] for u, v in d.graph.edges()],
                "symmetry_factor": str(d.symmetry_factor),
                "n_power": d.n_power,
                "source": d.source,
                "multiplicity": d.multiplicity,
            }
        )
    result = {
        "model": model,
        "depth": depth,
        "order": order,
        "diagrams": entries,
        "count": len(entries),
        "sum_symmetry_factors": str(sum((d.symmetry_factor for d in diagrams), Fraction(0))),
    }
    if draw_dir:
        from ..diagrams.draw import write_drawings

        write_drawings(diagrams, draw_dir, compile_pdf=pdf)
        result["drawn_to"] = draw_dir
    rows = [
        {k: e[k] for k in ("symmetry_factor", "n_power", "source", "multiplicity", "id")}
        for e in entries
    ]
    text = "\n".join(
        [
            f"{model}: diagrams of E Q(T) at depth {depth}, order {order}",
            format_rows(rows),
            f"count                 {result['count']}",
            f"sum_symmetry_factors  {result['sum_symmetry_factors']}",
        ]
    )
    emit(result, as_json, text)
    return 0


commands = [rules_command, diagrams_command]
