"""``nnqft rules`` and ``nnqft diagrams`` (DESIGN.md)."""

from __future__ import annotations

import click

from ._common import MAX_DEPTH, NameChoice, OutputPath, check_depth, emit, format_rows, json_option

#: the diagram counts grow factorially: most external legs, and most half-edges
#: (legs + 4 * order) of a phi^4 diagram the command generates
MAX_LEGS = 12
MAX_HALF_EDGES = 34


def _models():
    from ..rules.feynman import MODELS

    return MODELS


MODEL_TYPE = NameChoice("model", _models, metavar="MODEL")

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
    structure (PHYSICS.md §4, §6)."""
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
    if as_latex and not as_json:
        click.echo(rules.to_latex())
        return 0
    result = rules.to_dict()
    if as_latex:
        result["latex"] = rules.to_latex()
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
@json_option
def diagrams_command(
    model, legs, order, connected, one_pi, no_self_loops, draw_dir, pdf, depth, as_json
):
    """Every Feynman diagram of a given order, with symmetry factor 1/|Aut| (legs
    labelled), O(N) factor, loops and 1PI flag; deduplicated by an exact canonical form."""
    import warnings

    from ..errors import InvalidParameter
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
    if legs > MAX_LEGS or legs + 4 * order > MAX_HALF_EDGES:
        raise InvalidParameter(
            f"--legs {legs} --order {order} is beyond the cap: legs <= {MAX_LEGS} and "
            f"legs + 4*order <= {MAX_HALF_EDGES} (e.g. --legs 2 --order 8, --legs 4 --order 7)"
        )
    from ..diagrams.phi4 import generate_diagrams

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        diagrams = generate_diagrams(
            legs,
            order,
            connected=connected,
            one_pi=one_pi,
            self_loops=not no_self_loops,
            progress=True,
        )
    for w in caught:
        click.echo(f"nnqft: warning: {w.message}", err=True)
    result = _phi4_result(diagrams, model, legs, order, connected, one_pi, no_self_loops)
    if draw_dir:
        from ..diagrams.draw import write_drawings

        write_drawings(diagrams, draw_dir, compile_pdf=pdf)
        result["drawn_to"] = draw_dir
    if as_json:
        emit(result, True)
    else:
        emit(result, False, _phi4_text(result))
    return 0


def _phi4_result(diagrams, model, legs, order, connected, one_pi, no_self_loops) -> dict:
    from collections import Counter
    from fractions import Fraction

    from ..diagrams.on_tensor import on_factor_expr

    weighted: Counter = Counter()
    for d in diagrams:
        for p, c in d.n_factor.items():
            weighted[p] += d.symmetry_factor * c
    return {
        "model": model,
        "legs": legs,
        "order": order,
        "filters": {
            "connected": connected or one_pi,
            "one_pi": one_pi,
            "no_self_loops": no_self_loops,
        },
        "diagrams": [d.to_dict() for d in diagrams],
        "count": len(diagrams),
        "sum_symmetry_factors": str(sum((d.symmetry_factor for d in diagrams), Fraction(0))),
        "sum_symmetry_times_n_factor": str(on_factor_expr(dict(weighted))),
    }


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
