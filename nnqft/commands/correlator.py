"""``nnqft correlator`` and ``nnqft xi``: loop corrections of linear networks.

Conventions: docs/conventions.md §4-5.

``correlator`` prints an observable of Q(T) = |z(T)|^2/N (mean, variance, log-mean) through
a requested order in 1/N or exact at finite N, with its coefficients of 1/N^k and LaTeX;
``--latex FILE`` writes the derivation (rules -> diagrams -> closed form).  ``xi`` prints
the depth scales: mean-field, fluctuation, typical (finite-width Lyapunov exponent), the
shifted critical point and the recurrent stationary q* with its 1/N correction.
"""

from __future__ import annotations

import click

from ._common import (
    NameChoice,
    OutputPath,
    arch_option,
    bias_option,
    check_bias,
    check_depth,
    emit,
    json_option,
)


@click.command("correlator")
@arch_option
@click.option(
    "--activation",
    default="linear",
    show_default=True,
    help="'linear' (closed forms in sigma_w2, sigma_b2, q0, N, T) or any activation with "
    "--sigma-w2/--sigma-b2/--depth (numbers per layer from the fluctuation diagrams).",
)
@bias_option
@click.option("--sigma-w2", type=float, default=None, help="Weight variance (nonlinear route).")
@click.option("--sigma-b2", type=float, default=None, help="Bias variance (nonlinear route).")
@click.option("--q0", type=float, default=None, help="Input size |x|^2/N (default 1).")
@click.option("--depth", type=int, default=None, help="Layers / steps T (nonlinear route).")
@click.option(
    "--observable",
    type=NameChoice("observable", ("mean", "variance", "log-mean", "correlation")),
    default="mean",
    show_default=True,
    help="mean (E Q), variance (Var Q) or log-mean (E ln Q) of Q(T) = |z(T)|^2/N; "
    "correlation: E z1.z2 / sqrt(E|z1|^2 E|z2|^2) of two inputs (per-layer route, --c0).",
)
@click.option("--c0", type=float, default=None, help="Correlation of two inputs (correlation).")
@click.option("--order", type=int, default=None, help="Truncate after 1/N^K.")
@click.option("--exact", is_flag=True, help="Exact at finite N (where a closed form exists).")
@click.option(
    "--latex",
    "latex_file",
    type=OutputPath(suffixes=(".tex",)),
    default=None,
    help="Write the derivation to FILE.tex.",
)
@click.option(
    "--draw",
    "draw_dir",
    type=OutputPath(kind="dir"),
    default=None,
    help="Draw every contributing diagram into DIR (TikZ and PNG, index.json).",
)
@json_option
def correlator_command(
    arch,
    activation,
    bias,
    sigma_w2,
    sigma_b2,
    q0,
    depth,
    observable,
    c0,
    order,
    exact,
    latex_file,
    draw_dir,
    as_json,
):
    """E Q(T), Var Q(T) or E ln Q(T) in 1/N: closed forms for a linear network, numbers per
    layer for any activation (give --sigma-w2, --sigma-b2, --depth)."""
    from ..errors import InvalidParameter
    from ..rules.network import Network

    check_bias(arch, bias)
    numbers = {"--sigma-w2": sigma_w2, "--sigma-b2": sigma_b2, "--depth": depth}
    per_layer = activation != "linear" or observable == "correlation" or c0 is not None
    if per_layer or any(v is not None for v in numbers.values()) or q0 is not None:
        _nonlinear(arch, activation, bias, numbers, q0, observable, c0, order, exact, as_json,
                   latex_file, draw_dir)
        return
    if order is None and not exact:
        raise InvalidParameter("give --order K or --exact")
    if order is not None and exact:
        raise InvalidParameter("give either --order K or --exact, not both")
    from ..derive.loops.amplitudes import correlator

    net = Network(arch, activation, bias=bias)
    result = correlator(net, observable, order=order, exact=exact)
    out = result.to_dict()
    if latex_file:
        with open(latex_file, "w") as fh:
            fh.write(result.derivation().to_latex())
        out["latex_file"] = latex_file
    if draw_dir:
        from ..diagrams.draw import write_drawings

        out["drawings"] = write_drawings(result.diagrams, draw_dir)
        out["draw_dir"] = draw_dir
    text = "\n".join(
        [
            f"formula     {out['formula']}",
            f"expression  {out['expression']}",
            *[f"1/N^{k:<8s}{v}" for k, v in out["coefficients"].items()],
            *[f"validity    {v}" for v in out["validity"]],
            *[
                f"diagram     1/N^{d['order']}  S = {d['symmetry_factor']:<4s} {d['value']}"
                + (f"  ({d['name']})" if d["name"] else "")
                for d in out["diagrams"]
            ],
        ]
    )
    emit(out, as_json, text)


def _nonlinear(arch, activation, bias, numbers, q0, observable, c0, order, exact, as_json,
               latex_file, draw_dir):
    """The numeric route: the fluctuation theory's diagrams at given parameters."""
    from ..errors import InvalidParameter
    from ..rules.network import Network

    missing = [k for k, v in numbers.items() if v is None]
    if missing:
        raise InvalidParameter(
            f"closed forms are for the linear network; activation {activation!r} gives numbers "
            f"per layer: give {', '.join(missing)}"
            if activation != "linear"
            else f"numbers per layer need {', '.join(missing)} as well"
        )
    if exact:
        raise InvalidParameter("--exact is for linear networks; give --order 1 or 2")
    if order is None:
        raise InvalidParameter("give --order 1 or --order 2")
    for flag, value in (("--latex", latex_file), ("--draw", draw_dir)):
        if value:
            raise InvalidParameter(f"{flag} is for the closed-form (linear, symbolic) route")
    depth = numbers["--depth"]
    check_depth(depth)
    net = Network(
        arch, activation, numbers["--sigma-w2"], numbers["--sigma-b2"], depth=depth,
        q0=1.0 if q0 is None else q0, bias=bias,
    )
    if arch == "recurrent":
        raise InvalidParameter(
            "recurrent networks per step: not yet from the fluctuation theory "
            "(the linear closed forms: omit --sigma-w2/--sigma-b2/--depth)"
        )
    if (observable == "correlation") != (c0 is not None):
        raise InvalidParameter("--observable correlation goes with --c0 (two inputs)")
    from ..derive.fluctuations.correlators import nonlinear_correlator

    out = {"arch": arch, "activation": net.activation.name, **nonlinear_correlator(
        net, observable, order, depth, c0=c0
    )}
    out["parameters"] = {"sigma_w2": numbers["--sigma-w2"], "sigma_b2": numbers["--sigma-b2"],
                         "q0": net.q0, "depth": depth}
    last = out["steps"][-1]
    lhs = {"mean": "E Q(t)", "variance": "Var Q(t)", "correlation": "c(t)"}[observable]
    text = "\n".join(
        [
            f"{lhs} = sum_k c_k / N^k, {activation}, {arch}, sigma_w2 = {numbers['--sigma-w2']:g}, "
            f"sigma_b2 = {numbers['--sigma-b2']:g}",
            "t    " + "  ".join(f"c_{k:<12s}" for k in last["coefficients"]),
            *[
                f"{s['t']:<4d} " + "  ".join(f"{v:<14.8g}" for v in s["coefficients"].values())
                for s in out["steps"]
            ],
            *[
                f"diagram  1/N^{d['order']}  S = {d['symmetry_factor']:<4s} {d['name']} "
                f"({d['role']}; at t = {last['t']}: {d['values'][-1]:.8g})"
                for d in out["diagrams"]
            ],
        ]
    )
    emit(out, as_json, text)


@click.command("xi")
@click.option("--sigma-w2", type=float, default=None, help="Weight variance (else symbolic).")
@click.option("--sigma-b2", type=float, default=None, help="Bias variance (else symbolic).")
@click.option("--width", type=int, default=None, help="Width N (else symbolic).")
@json_option
def xi_command(sigma_w2, sigma_b2, width, as_json):
    """Depth scales of linear networks at finite width (numbers when all values given)."""
    from ..derive.loops.amplitudes import correlation_lengths
    from ..rules.network import Network

    given = {"sigma_w2": sigma_w2, "sigma_b2": sigma_b2, "width": width}
    net = Network("feedforward", "linear", **{k: v for k, v in given.items() if v is not None})
    result = correlation_lengths(net)
    emit(result, as_json, _xi_text(result))


def _xi_text(result: dict) -> str:
    """One line per scale; a null prints as 'null' with its reason (notes stay in --json)."""
    from ._common import to_jsonable

    data = to_jsonable(result)
    reasons = data.get("reasons", {})
    shown = [k for k in data if k not in ("reasons", "notes")]
    width = max(len(k) for k in shown)
    lines = []
    for key in shown:
        value = data[key]
        if key in reasons:
            text = f"null ({reasons[key]})"
        elif isinstance(value, float):
            text = f"{value:.6g}"
        else:
            text = str(value)
        lines.append(f"{key.ljust(width)}  {text}")
    return "\n".join(lines)


commands = [correlator_command, xi_command]
