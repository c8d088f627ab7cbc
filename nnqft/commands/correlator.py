"""``nnqft correlator`` and ``nnqft xi``: loop corrections.

Conventions: docs/conventions.md §4-5 (linear), §8 (any activation), §9 (depth scales).

``correlator`` prints an observable of Q(T) = |z(T)|^2/N (mean, variance, log-mean) through
a requested order in 1/N or exact at finite N, with its coefficients of 1/N^k and LaTeX;
``--latex FILE`` writes the derivation (rules -> diagrams -> closed form).  ``xi`` prints
the depth scales: for linear nets mean-field, fluctuation, typical (finite-width Lyapunov
exponent), the shifted critical point and the recurrent stationary q* with its 1/N
correction; for any activation the finite-width fixed point and every depth scale through
1/N (docs/conventions.md §9): feedforward from the per-layer maps, recurrent (``--bias``,
``--steps``) K*(N), chi_parallel(N), xi_q(N) from the recurrent collective-field diagrams.
"""

from __future__ import annotations

import math

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
    layer or step for any activation, feedforward or recurrent (give --sigma-w2,
    --sigma-b2, --depth)."""
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
    if arch == "recurrent":
        out = _recurrent_nonlinear(activation, bias, observable, order, exact,
                                   numbers["--sigma-w2"], numbers["--sigma-b2"],
                                   1.0 if q0 is None else q0, depth)
        emit(out, as_json, _recurrent_text(out))
        return
    net = Network(
        arch, activation, numbers["--sigma-w2"], numbers["--sigma-b2"], depth=depth,
        q0=1.0 if q0 is None else q0, bias=bias,
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
def _recurrent_nonlinear(activation, bias, observable, order, exact, sigma_w2, sigma_b2, q0,
                         depth, latex_file=None, draw_dir=None) -> dict:
    """``nnqft correlator --arch recurrent`` for a nonlinear activation: E Q(t) through 1/N
    (``mean``) or Var Q(t) at O(1/N) (``variance``) for t = 1..T, from the diagrams of the
    collective-field theory (derive/fluctuations/recurrent.py), with every diagram's
    per-step value."""
    from ..errors import InvalidParameter, OrderTooHigh
    from ..rules.network import Network

    if exact:
        raise InvalidParameter(
            "--exact: a nonlinear recurrent net has no closed form; give --order"
        )
    if latex_file or draw_dir:
        raise InvalidParameter("--latex and --draw are for linear networks")
    if observable not in ("mean", "variance"):
        raise InvalidParameter(
            f"--observable {observable}: for a nonlinear recurrent net, mean or variance"
        )
    missing = [name for name, v in (("--sigma-w2", sigma_w2), ("--sigma-b2", sigma_b2),
                                    ("--depth", depth)) if v is None]
    if missing:
        raise InvalidParameter(
            f"a nonlinear recurrent net needs numbers: give {', '.join(missing)}"
        )
    if order > 1:
        raise OrderTooHigh(
            f"order {order} is beyond reach for the nonlinear recurrent net (maximum 1: the "
            "collective-field action is expanded to cubic order)"
        )
    from ..derive.fluctuations.recurrent import recurrent_correlators

    net = Network("recurrent", activation, sigma_w2, sigma_b2, bias=bias or "shared", q0=q0)
    rows, parts = recurrent_correlators(net, depth, order=1, terms=True)
    theory = parts["theory"]
    steps = []
    for row in rows:
        if observable == "mean":
            coeffs = {"0": row["mean"][0]}
            if order >= 1:
                coeffs["1"] = row["mean"][1]
        else:
            coeffs = {"0": 0.0} if order == 0 else {"0": 0.0, "1": row["variance"][0]}
        steps.append({"t": row["t"], "coefficients": coeffs, "two_time": row["two_time"]}
                     if observable == "mean" else {"t": row["t"], "coefficients": coeffs})
    diagrams = []
    terms = parts["mean"] if observable == "mean" else parts["variance"]
    if order >= 1:
        for term in terms:
            d = term.diagram
            values = []
            for row in rows:
                i = theory.index(("dY", (row["t"], row["t"])))
                values.append(float(term.value[i] if term.value.ndim == 1 else term.value[i, i]))
            diagrams.append({
                "id": d.id,
                "order": 1,
                "symmetry_factor": str(d.symmetry_factor),
                "n_power": term.n_power,
                "name": "tadpole" if d.vertices == ("x3",) else
                        ("propagator" if not d.vertices else ""),
                "values": values,
            })
    return {
        "formula": f"recurrent-{net.bias}/{observable}",
        "arch": "recurrent",
        "activation": net.activation.name,
        "bias": net.bias,
        "observable": observable,
        "order": order,
        "exact": False,
        "sigma_w2": sigma_w2,
        "sigma_b2": sigma_b2,
        "q0": q0,
        "depth": depth,
        "method": "collective-field diagrams about the two-time saddle point, Gauss-Hermite "
                  "moments (docs/conventions.md §8)",
        "steps": steps,
        "diagrams": diagrams,
    }


def _recurrent_text(out: dict) -> str:
    lines = [f"formula     {out['formula']}  ({out['activation']}, sigma_w2 = "
             f"{out['sigma_w2']:g}, sigma_b2 = {out['sigma_b2']:g}, q0 = {out['q0']:g})"]
    for step in out["steps"]:
        coeffs = "  ".join(f"1/N^{k}: {v:.10g}" for k, v in step["coefficients"].items())
        lines.append(f"t = {step['t']:<4d}{coeffs}")
    for d in out["diagrams"]:
        lines.append(f"diagram     1/N^{d['order']}  S = {d['symmetry_factor']:<4s} ({d['name']})")
    return "\n".join(lines)


@click.command("xi")
@click.option(
    "--activation",
    default="linear",
    show_default=True,
    help="Activation; nonlinear ones need --sigma-w2, --sigma-b2, --width.",
)
@arch_option
@bias_option
@click.option("--sigma-w2", type=float, default=None, help="Weight variance (else symbolic).")
@click.option("--sigma-b2", type=float, default=None, help="Bias variance (else symbolic).")
@click.option("--width", type=int, default=None, help="Width N (else symbolic).")
@click.option(
    "--steps",
    type=int,
    default=None,
    help="Recurrent, nonlinear: steps of the diagrams to extrapolate K* from "
    "(default 12, at most 40; the cost grows like steps^4).",
)
@json_option
def xi_command(activation, arch, bias, sigma_w2, sigma_b2, width, steps, as_json):
    """Depth scales at finite width: mean field and the 1/N corrections (docs/conventions.md §9).

    Linear nets: the exact depth scales (symbolic unless all values are given), plus the
    finite-width series under ``finite_width`` when all are numbers (feedforward).  Any other
    activation: every depth scale as {mean_field, coefficient_1, value_at_N, ...} or null
    with its reason; recurrent nets (``--bias shared`` by default): the stationary K*(N) and
    chi_parallel(N), xi_q(N) from the collective-field diagrams over ``--steps`` steps.
    """
    from ..errors import InvalidParameter
    from ..rules.activations import get_activation
    from ..rules.network import Network

    check_bias(arch, bias)
    act = get_activation(activation)
    given = {"sigma_w2": sigma_w2, "sigma_b2": sigma_b2, "width": width}
    numeric = all(v is not None for v in given.values())
    recurrent_nonlinear = act.name != "linear" and arch == "recurrent"
    if steps is not None and not recurrent_nonlinear:
        raise InvalidParameter("--steps is for a nonlinear recurrent net (--arch recurrent)")
    if act.name != "linear" and not numeric:
        missing = ", ".join("--" + k.replace("_", "-") for k, v in given.items() if v is None)
        raise InvalidParameter(f"a nonlinear activation needs numbers for {missing}")
    if recurrent_nonlinear:
        from ..derive.fluctuations.recurrent_scales import MAX_STEPS, recurrent_depth_scales

        if steps is not None and not 9 <= steps <= MAX_STEPS:
            raise InvalidParameter(
                f"--steps {steps}: give 9 to {MAX_STEPS} (the tail extrapolation needs 9; "
                "the cost grows like steps^4)"
            )
        if width < 1:
            raise InvalidParameter(f"--width {width}: the width N is a positive integer")
        net = Network("recurrent", act, bias=bias or "shared", **given)
        result = recurrent_depth_scales(net, steps)
    elif act.name == "linear":
        from ..derive.loops.amplitudes import correlation_lengths

        net = Network("feedforward", "linear", **{k: v for k, v in given.items() if v is not None})
        result = correlation_lengths(net)
        if arch == "recurrent":
            result = _recurrent_linear_exponent(result, given)
        if numeric and arch == "feedforward":
            from ..derive.finite_width.depth_scales import depth_scales

            result["finite_width"] = _without_notes(depth_scales(net))
    else:
        from ..derive.finite_width.depth_scales import depth_scales

        result = depth_scales(Network("feedforward", act, **given))
    emit(result, as_json, _xi_text(result))


def _recurrent_linear_exponent(result: dict, given: dict) -> dict:
    """The linear net's exponent entries for a recurrent net: the feedforward values (a fresh
    W per layer) do not hold for a shared W, whose exponent is ln rho(W) with no 1/N series;
    null with the reason, and the mean field (1/2) ln sigma_w2 beside them."""
    from ..derive.finite_width.recurrent_lyapunov import NO_SERIES_REASON

    out = dict(result)
    reasons = dict(out.get("reasons", {}))
    notes = dict(out.get("notes", {}))
    why = {
        "lyapunov_exponent": NO_SERIES_REASON,
        "xi_typical": "-1/(2 lyapunov_exponent), and a recurrent net's exponent has no 1/N "
        "series (reasons.lyapunov_exponent)",
        "sigma_w2_critical": "where lyapunov_exponent = 0: 1 at N = oo; a recurrent net's "
        "exponent has no 1/N series (reasons.lyapunov_exponent)",
    }
    for key, reason in why.items():
        out[key] = None
        reasons[key] = reason
        notes.pop(key, None)
    s = given.get("sigma_w2")
    if s is None:
        import sympy as sp

        from ..rules import symbols as S

        out["lyapunov_exponent_mean_field"] = sp.log(S.sigma_w2) / 2
    else:
        out["lyapunov_exponent_mean_field"] = 0.5 * math.log(s) if s > 0 else None
    notes["lyapunov_exponent_mean_field"] = (
        "(1/2) ln sigma_w2: the recurrent linear net's exponent ln rho(W) at N = oo "
        "(the circular law's radius)"
    )
    out["reasons"], out["notes"] = reasons, notes
    return out


def _without_notes(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "notes"}


def _series_text(entry: dict) -> str:
    """One finite-width quantity on one line: value at N, mean field, 1/N coefficient."""
    if entry.get("value_at_N") is None:
        mf = entry.get("mean_field")
        head = "null" if mf is None else f"null at finite N (mean field {mf:.6g})"
        why = entry.get("reason")
        return head if why is None else f"{head} ({why})"
    def g(key, spec=".6g"):
        value = entry.get(key)
        return "null" if value is None else format(value, spec)

    text = (
        f"{g('value_at_N')} = {g('mean_field')} + ({g('coefficient_1')})/N"
        f"   [1/N term {g('relative_correction', '.2g')} of mean field"
    )
    if entry.get("expansion_parameter") is not None:
        text += f", xi^2/N = {entry['expansion_parameter']:.2g}"
    if entry.get("gap_ratio") is not None:
        text += f", shift/gap = {entry['gap_ratio']:.2g}"
    text += "]" if entry.get("reliable") else "]  UNRELIABLE (truncated series)"
    return text


def _xi_text(result: dict) -> str:
    """One line per scale; a null prints as 'null' with its reason (notes stay in --json)."""
    from ._common import to_jsonable

    data = to_jsonable(result)
    reasons = data.get("reasons", {})
    shown = [k for k in data if k not in ("reasons", "notes", "finite_width", "trajectory")]
    width = max(len(k) for k in shown)
    lines = []
    for key in shown:
        value = data[key]
        if isinstance(value, dict) and "value_at_N" in value:
            text = _series_text(value)
        elif key == "fixed_point" and isinstance(value, dict):
            text = (
                f"K* = {_series_text(value['K_star'])}"
                + (f"; V* = {value['V_star']:.6g}" if value.get("V_star") is not None else "")
                if value.get("reason") is None
                else f"null ({value['reason']})"
            )
        elif key in reasons and not isinstance(value, dict):
            text = f"null ({reasons[key]})"
        elif isinstance(value, float):
            text = f"{value:.6g}"
        elif key == "mean_field" and isinstance(value, dict):
            text = ", ".join(
                f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v}" for k, v in value.items()
            )
        else:
            text = str(value)
        lines.append(f"{key.ljust(width)}  {text}")
    if "finite_width" in data:
        lines += ["", "finite width, through 1/N (docs/conventions.md §9):"]
        lines += ["  " + line for line in _xi_text(data["finite_width"]).splitlines()]
    return "\n".join(lines)


commands = [correlator_command, xi_command]
