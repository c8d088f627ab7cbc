"""``nnqft rules`` and ``nnqft diagrams``."""

from __future__ import annotations

import functools
import itertools
import sys

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


def _rules_models():
    return [*_models(), "collective"]


# on-phi4 is accepted without loading the rules module (its path imports no sympy)
MODEL_TYPE = NameChoice("model", _models, metavar="MODEL", light=("on-phi4",))

_MODEL_HELP = "on-phi4, linear-feedforward, linear-recurrent (-shared / -fresh)."


@click.command("rules")
@click.option(
    "--model",
    type=NameChoice("model", _rules_models, metavar="MODEL", light=("on-phi4",)),
    default="on-phi4",
    show_default=True,
    help=_MODEL_HELP + " collective: the fluctuations of the collective field about the "
    "saddle point (with --arch, --activation).",
)
@click.option(
    "--arch",
    type=NameChoice("architecture", ("feedforward", "recurrent")),
    default="feedforward",
    show_default=True,
    help="For --model collective.",
)
@click.option("--activation", default=None, help="For --model collective (default tanh).")
@json_option
@click.option("--latex", "as_latex", is_flag=True, help="Print the rules as a LaTeX tabular.")
@click.option(
    "--from-action",
    is_flag=True,
    help="Linear network models: expand the network's disorder-averaged action "
    "(every model's rules are expanded from its action; this names the network route).",
)
def rules_command(model, arch, activation, as_json, as_latex, from_action):
    """Feynman rules of a model: propagators and vertices with coupling, index and time
    structure (docs/conventions.md §4, §6, §8)."""
    from ..errors import InvalidParameter
    from ..rules.feynman import get_rules, parse_model_id

    if model == "collective":
        if from_action:
            raise InvalidParameter("--from-action applies to the linear network models only")
        from ..derive.fluctuations.rules import collective_rules
        from ..rules.network import Network

        rules = collective_rules(Network(arch, activation or "tanh"))
    elif activation is not None:
        raise InvalidParameter("--activation applies to --model collective only")
    else:
        rules = get_rules(model)
    if from_action:
        from ..rules.feynman import rules_from_action

        network = parse_model_id(model).network
        if network is None:
            raise InvalidParameter("--from-action applies to the linear network models only")
        rules = rules_from_action(network)
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
            f"derived from the {rules.derived_from}: {rules.action}",
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
@click.option(
    "--from-rules",
    is_flag=True,
    help="Linear network models: contract the rules' vertices written out at every time "
    "(--order: the power of 1/N; --legs 2: E Q(T), 4: Var Q(T)); exact at that depth.",
)
@json_option
def diagrams_command(
    model,
    legs,
    order,
    connected,
    one_pi,
    no_self_loops,
    draw_dir,
    pdf,
    depth,
    count_only,
    from_rules,
    as_json,
):
    """Every Feynman diagram of a given order, with symmetry factor 1/|Aut| (legs
    labelled), O(N) factor, loops and 1PI flag; deduplicated by an exact canonical form."""
    import warnings

    from ..errors import InvalidParameter

    if pdf and not draw_dir:
        raise InvalidParameter("--pdf compiles the drawings: it needs --draw DIR")
    if pdf:
        import shutil

        if shutil.which("lualatex") is None:
            raise InvalidParameter("--pdf needs lualatex (TeX Live with TikZ-Feynman)")
    for name, value in (("--legs", legs), ("--order", order)):
        if value < 0:
            raise InvalidParameter(f"{name} must be a non-negative integer, got {value}")
    if model != "on-phi4":  # the rules module (and sympy) only where a model needs it
        from ..rules.feynman import parse_model_id

        network = parse_model_id(model).network
        if depth is None:
            raise InvalidParameter(f"--depth T is required for model {model!r}")
        check_depth(depth)
        if from_rules:
            return _timed(model, depth, legs, order, as_json)
        return _network(model, network.replace(depth=depth), order, draw_dir, pdf, as_json)
    if from_rules:
        raise InvalidParameter("--from-rules applies to the linear network models only")
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
    from ..diagrams.listing import phi4_summary, write_json

    if count_only:
        result = {**head, **phi4_summary(diagrams, legs, channels=True)}
        emit(result, as_json, format_mapping(result))
        return 0
    if as_json and not draw_dir:
        summary = functools.partial(phi4_summary, legs=legs)
        write_json(sys.stdout, head, diagrams, summary)
        return 0
    diagrams = list(diagrams)
    entries: list = []
    result = {**head, "diagrams": entries, **phi4_summary(diagrams, legs, write=entries.append)}
    if draw_dir:
        from ..diagrams.draw import write_drawings

        write_drawings(diagrams, draw_dir, compile_pdf=pdf)
        result["drawn_to"] = draw_dir
    if as_json:
        emit(result, True)
    else:
        emit(result, False, _phi4_text(result))
    return 0


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


def _network(model, network, order, draw_dir, pdf, as_json):
    """Diagrams of E Q(T) for the linear network (built by nnqft.diagrams.network)."""
    from ..diagrams.listing import listing
    from ..diagrams.network import network_diagrams

    diagrams = network_diagrams(network, order)
    entries: list = []
    result = {
        "model": model,
        "depth": network.depth,
        "order": order,
        "diagrams": entries,
        **listing(diagrams, write=entries.append),
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
            f"{model}: diagrams of E Q(T) at depth {network.depth}, order {order}",
            format_rows(rows),
            f"count                 {result['count']}",
            f"sum_symmetry_factors  {result['sum_symmetry_factors']}",
        ]
    )
    emit(result, as_json, text)
    return 0


def _timed(model, depth, legs, order, as_json):
    """Diagrams of E Q(T) or Var Q(T) contracted from the rules at depth T."""
    import sympy as sp

    from ..diagrams.from_rules import diagrams_from_rules
    from ..rules.feynman import get_rules

    diagrams = diagrams_from_rules(get_rules(model), legs, order, depth=depth)
    entries = [d.to_dict() for d in diagrams]
    total = sp.factor(sum((d.value for d in diagrams), sp.Integer(0)))
    result = {
        "model": model,
        "depth": depth,
        "legs": legs,
        "observable": "mean" if legs == 2 else "variance",
        "order": order,
        "generator": "rules",
        "diagrams": entries,
        "count": len(entries),
        "coefficient": sp.sstr(total),
    }
    rows = [
        {k: e[k] for k in ("symmetry_factor", "weight", "vertices", "contractions", "value")}
        for e in entries
    ]
    what = "E Q(T)" if legs == 2 else "Var Q(T)"
    text = "\n".join(
        [
            f"{model}: diagrams of {what} at depth {depth}, order 1/N^{order}, from the rules",
            format_rows(rows),
            f"count        {len(entries)}",
            f"coefficient  {result['coefficient']}",
        ]
    )
    emit(result, as_json, text)
    return 0


commands = [rules_command, diagrams_command]
