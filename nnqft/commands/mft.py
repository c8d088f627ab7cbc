"""``nnqft mft``, ``nnqft critical``, ``nnqft phase``: mean-field theory and the edge of chaos
(docs/conventions.md §3, §7)."""

from __future__ import annotations

import math

import click

from ._common import OutputPath, activation_option, emit, json_option, note, q0_option

#: most Gauss-Hermite nodes (--nodes) and grid points per axis (phase --points)
MAX_NODES = 20_000
MAX_POINTS = 1_000

nodes_option = click.option(
    "--nodes",
    type=int,
    default=None,
    help="Force Gauss-Hermite quadrature with this many nodes, 2 to 20000 (default: closed "
    "form where the activation has one, else 201 to 1601 nodes, more at larger q).",
)


def _number(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "undefined"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.10g}"
    return str(value)


def _text(result: dict) -> str:
    """Two columns; an undefined value shows its reason, the quadrature error its maximum."""
    shown = {k: v for k, v in result.items() if k != "reasons"}
    shown |= {f"reason[{k}]": why for k, why in (result.get("reasons") or {}).items()}
    width = max(len(k) for k in shown)
    lines = []
    for key, value in shown.items():
        if key == "quadrature_error":
            if not value:
                continue
            worst = max(value, key=value.get)
            value = f"{value[worst]:.1e} relative at most ({worst}; each in --json)"
        lines.append(f"{key.ljust(width)}  {_number(value)}")
    return "\n".join(lines)


def _check_nodes(nodes) -> None:
    from ..errors import InvalidParameter

    if nodes is not None and nodes < 2:
        raise InvalidParameter(f"--nodes must be an integer >= 2, got {nodes}")
    if nodes is not None and nodes > MAX_NODES:
        raise InvalidParameter(f"--nodes {nodes} is above the cap of {MAX_NODES} nodes")


@click.command("mft")
@activation_option
@click.option("--sigma-w2", type=float, required=True, help="Weight variance sigma_w2 (> 0).")
@click.option(
    "--sigma-b2", type=float, default=0.0, show_default=True, help="Bias variance sigma_b2."
)
@q0_option
@nodes_option
@json_option
def mft_command(activation, sigma_w2, sigma_b2, q0, nodes, as_json):
    """Mean-field fixed point: q*, c*, chi_1, chi_c, Lyapunov exponent, depth scales, phase.

    q* is reached from q(1) = sigma_w2 q0 + sigma_b2; in the chaotic phase c* is the stable
    correlation fixed point below 1.  Infinite depth scales (criticality) print as inf, and
    as null in --json; without a fixed point (q grows without bound, or the length map's
    integral diverges) phase is 'unbounded' and everything defined at q* is null, for
    every activation alike; "reasons" says why each null is null.  Quadrature results
    carry "quadrature_error" (relative, from a rule with 1.5x the nodes) and a warning
    on stderr above 1e-9.  Activations: linear, relu, leaky_relu(alpha), abrelu(a, b), erf,
    tanh, sigmoid, gelu, swish (silu), sin, cos, softplus, or an expression of z such as
    "z*tanh(z)".  Example:

        nnqft mft --activation tanh --sigma-w2 1.5 --sigma-b2 0.05
    """
    from ..derive.meanfield import fixed_point
    from ..rules.network import Network

    _check_nodes(nodes)
    net = Network("feedforward", activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2, q0=q0)
    mf = fixed_point(net, nodes=nodes).as_dict()
    result = {
        "activation": mf.pop("activation"),
        "sigma_w2": mf.pop("sigma_w2"),
        "sigma_b2": mf.pop("sigma_b2"),
        "q0": float(net.q0),
    }
    result.update(mf)
    _warn_quadrature(result.get("quadrature_error"))
    emit(result, as_json, _text(result))


def _warn_quadrature(errors) -> None:
    """One stderr line when the estimated quadrature error exceeds what the tests check."""
    from ..derive.meanfield import QUADRATURE_TOL

    if not errors:
        return
    key = max(errors, key=errors.get)
    if errors[key] > QUADRATURE_TOL:
        click.echo(
            f"nnqft: warning: estimated quadrature error {errors[key]:.1e} (relative) in {key}, "
            f"beyond the {QUADRATURE_TOL:g} the rules are tested to; see quadrature_error",
            err=True,
        )


@click.command("critical")
@activation_option
@click.option(
    "--sigma-b2",
    type=float,
    default=None,
    help="Find sigma_w2 with chi_1 = 1 at this bias variance.  Without it: the point where "
    "chi_parallel = chi_1 = 1 (GELU, swish: q* != 0; tanh-like: (1/phi'(0)^2, 0)).",
)
@nodes_option
@json_option
def critical_command(activation, sigma_b2, nodes, as_json):
    """The edge of chaos: sigma_w2, sigma_b2 and q* where chi_1 = 1.  Example:

    nnqft critical --activation tanh --sigma-b2 0.05
    """
    from ..derive.meanfield import critical_point

    _check_nodes(nodes)
    point = critical_point(activation, sigma_b2, nodes=nodes).as_dict()
    emit(point, as_json, _text(point))


@click.command("phase")
@activation_option
@click.option(
    "--sigma-w2-range",
    type=(float, float),
    default=(0.5, 4.0),
    show_default=True,
    help="Grid range of sigma_w2 (MIN MAX).",
)
@click.option(
    "--sigma-b2-range",
    type=(float, float),
    default=(0.0, 0.5),
    show_default=True,
    help="Grid range of sigma_b2 (MIN MAX).",
)
@click.option(
    "--points",
    type=int,
    default=101,
    show_default=True,
    help=f"Grid points along each axis, 2 to {MAX_POINTS}.",
)
@q0_option
@nodes_option
@click.option(
    "--plot",
    "plot_path",
    type=OutputPath(suffixes="matplotlib"),
    default=None,
    help="Write a plot (FILE.png; any matplotlib format): the xi_c map with the edge of "
    "chaos on top.",
)
@click.option(
    "--xi-max",
    type=float,
    default=100.0,
    show_default=True,
    help="Cap of the plot's colour scale for xi_c.",
)
@click.option(
    "--width",
    type=int,
    default=None,
    help="Also the edge of chaos at this finite width N (where lambda_max(N) = 0, through "
    "1/N; feedforward): JSON 'critical_line_finite_width', dashed on the plot.",
)
@json_option
def phase_command(
    activation,
    sigma_w2_range,
    sigma_b2_range,
    points,
    q0,
    nodes,
    plot_path,
    xi_max,
    width,
    as_json,
):
    """Phase diagram: the critical line and the depth-scale map over (sigma_w2, sigma_b2).

    --json gives the grids, the critical line and the maps (xi_c, xi_q, q*, c*, chi_1,
    phase; rows are sigma_b2, columns sigma_w2; null where a scale is infinite, or where
    the point has no fixed point: phase 'unbounded').  Example:

        nnqft phase --activation tanh --plot phase_tanh.png
    """
    import numpy as np

    from ..derive.meanfield.phase import phase_diagram, plot_phase_diagram
    from ..errors import InvalidParameter

    _check_nodes(nodes)
    if points < 2:
        raise InvalidParameter(f"--points must be an integer >= 2, got {points}")
    if points > MAX_POINTS:
        raise InvalidParameter(
            f"--points {points} is above the cap of {MAX_POINTS} per axis "
            f"({MAX_POINTS}x{MAX_POINTS} grid cells)"
        )
    for name, (lo, hi), low in (
        ("--sigma-w2-range", sigma_w2_range, 0.0),
        ("--sigma-b2-range", sigma_b2_range, 0.0),
    ):
        if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
            raise InvalidParameter(f"{name} needs finite MIN < MAX, got {lo} {hi}")
        if lo < low or (name == "--sigma-w2-range" and lo <= 0):
            what = "positive" if name == "--sigma-w2-range" else "non-negative"
            raise InvalidParameter(f"{name} must be {what}, got MIN = {lo}")
    if not xi_max > 0:
        raise InvalidParameter(f"--xi-max must be positive, got {xi_max}")
    if width is not None and width < 2:
        raise InvalidParameter(f"--width must be an integer >= 2, got {width}")
    if points > 200:
        note(f"phase: {points}x{points} grid cells; this can take minutes")
    diagram = phase_diagram(
        activation,
        np.linspace(*sigma_w2_range, points),
        np.linspace(*sigma_b2_range, points),
        q0=q0,
        nodes=nodes,
    )
    finite = None
    if width is not None:
        from ..derive.finite_width.critical_line import finite_width_critical_line

        finite = finite_width_critical_line(
            activation, diagram.sigma_b2, width, q0=q0, progress=None
        )
    if plot_path:
        try:
            plot_phase_diagram(diagram, plot_path, xi_max=xi_max, finite_width_line=finite)
        except OSError as exc:
            raise InvalidParameter(f"cannot write plot {plot_path!r}: {exc.strerror}") from None
    result = diagram.as_dict()
    if finite is not None:
        result["critical_line_finite_width"] = {
            "width": width,
            "what": "sigma_w2 where the finite-width Lyapunov exponent vanishes, "
            "mean_field + coefficient_1/N (docs/conventions.md §9); null with a reason where "
            "undefined",
            "points": finite.rows(),
        }
    if plot_path:
        result["plot"] = plot_path
    emit(result, as_json, _summary(diagram, plot_path, finite))


def _summary(diagram, plot_path, edge=None) -> str:
    import numpy as np

    from ._common import format_rows

    counts = {p: int((diagram.phase == p).sum()) for p in ("ordered", "critical", "chaotic")}
    for extra in ("unbounded", "undefined"):  # no fixed point; chi_1 not computable
        if (diagram.phase == extra).any():
            counts[extra] = int((diagram.phase == extra).sum())
    sw, sb = diagram.sigma_w2, diagram.sigma_b2
    lines = [
        f"activation  {diagram.activation}",
        f"method      {diagram.method}",
        f"grid        sigma_w2 {sw[0]:g}..{sw[-1]:g} x sigma_b2 {sb[0]:g}..{sb[-1]:g}"
        f" ({sw.size} x {sb.size}), q0 = {diagram.q0:g}",
        "phases      " + ", ".join(f"{k} {v}" for k, v in counts.items()),
    ]
    finite = diagram.xi_c[np.isfinite(diagram.xi_c)]
    if finite.size:
        lines.append(f"xi_c        {finite.min():.4g} .. {finite.max():.4g} (inf on the edge)")
    if plot_path:
        lines.append(f"plot        {plot_path}")
    rows = diagram.critical_line.rows()
    step = max(1, len(rows) // 10)
    shown = rows[::step] + ([rows[-1]] if (len(rows) - 1) % step else [])
    lines.append("critical line (chi_1 = 1):")
    lines.append(format_rows([{k: _number(v) for k, v in r.items()} for r in shown]))
    if edge is not None:
        rows = edge.rows()
        shown = rows[::step] + ([rows[-1]] if (len(rows) - 1) % step else [])
        lines.append(f"critical line at N = {edge.width} (lambda_max(N) = 0, through 1/N):")
        keys = ("sigma_b2", "sigma_w2", "mean_field", "coefficient_1")
        table = [{k: "null" if r[k] is None else _number(r[k]) for k in keys} for r in shown]
        lines.append(format_rows(table))
        why = sorted({r["reason"] for r in rows if r["reason"]})
        lines += [f"null: {w}" for w in why]
    return "\n".join(lines)


commands = [mft_command, critical_command, phase_command]
