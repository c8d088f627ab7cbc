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

from ._common import NameChoice, OutputPath, arch_option, bias_option, check_bias, emit, json_option


@click.command("correlator")
@arch_option
@click.option(
    "--activation",
    default="linear",
    show_default=True,
    help="'linear' (closed forms in T), or for --arch recurrent any activation: numbers from "
    "the collective-field diagrams (give --sigma-w2, --sigma-b2, --depth).",
)
@bias_option
@click.option(
    "--observable",
    type=NameChoice("observable", ("mean", "variance", "log-mean")),
    default="mean",
    show_default=True,
    help="mean (E Q), variance (Var Q) or log-mean (E ln Q) of Q(T) = |z(T)|^2/N.",
)
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
@click.option("--sigma-w2", type=float, default=None, help="Weight variance (nonlinear nets).")
@click.option("--sigma-b2", type=float, default=None, help="Bias variance (nonlinear nets).")
@click.option("--q0", type=float, default=1.0, show_default=True, help="Input size |x|^2/N.")
@click.option("--depth", type=int, default=None, help="Number of steps T (nonlinear nets).")
@json_option
def correlator_command(
    arch, activation, bias, observable, order, exact, latex_file, draw_dir, sigma_w2, sigma_b2,
    q0, depth, as_json
):
    """E Q(T), Var Q(T) or E ln Q(T) in 1/N: closed forms for a linear network; numbers per
    step from the collective-field diagrams for a nonlinear recurrent one."""
    from ..errors import InvalidParameter
    from ..rules.network import Network

    check_bias(arch, bias)
    if order is None and not exact:
        raise InvalidParameter("give --order K or --exact")
    if order is not None and exact:
        raise InvalidParameter("give either --order K or --exact, not both")
    if arch == "recurrent" and activation.strip().lower() != "linear":
        out = _recurrent_nonlinear(activation, bias, observable, order, exact, sigma_w2,
                                   sigma_b2, q0, depth, latex_file, draw_dir)
        emit(out, as_json, _recurrent_text(out))
        return
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
