"""``nnqft ntk``: the neural tangent kernel at infinite width per layer (docs/conventions.md §10),
optionally beside the empirical NTK of real random networks."""

from __future__ import annotations

import click

from ._common import (
    MAX_DEPTH,
    MAX_SIMULATION_BYTES,
    MAX_SIMULATION_SECONDS,
    NOTE_SECONDS,
    SIMULATION_SECONDS_PER_FLOP,
    activation_option,
    arch_option,
    bias_option,
    check_bias,
    check_depth,
    emit,
    json_option,
    note,
    q0_option,
    refuse_if_too_large,
)

#: why the 1/n entries are null where they are
CORRECTION_REASON = (
    "the O(1/n) correction to the mean NTK is derived for feedforward nets (one or two inputs) "
    "and for linear recurrent nets (one input)"
)
#: the linear recurrent net's correction beyond the depth its sums are built for
RECURRENT_DEPTH_REASON = (
    "the O(1/n) correction to the mean NTK of a linear recurrent net is built for depth <= {}"
)
VARIANCE_REASON = (
    "the O(1/n) variance of the NTK across initialisations is derived for feedforward nets "
    "only (one or two inputs)"
)
#: two opposite inputs and no bias: the 2x2 kernel is singular at layer 1
DEGENERATE_REASON = (
    "c0 = -1 with sigma_b2 = 0: the two inputs' 2x2 kernel is degenerate at layer 1, and the "
    "two-input O(1/n) recursions need a nondegenerate one"
)
#: the two-input dNTK's phi'' of a kinked phi is handled when phi is piecewise linear
DNTK_KINK_REASON = (
    "the two-input dNTK of a kinked activation is derived only for piecewise-linear ones "
    "(phi'' = 0 within each piece)"
)
#: output neurons whose NTK rows the simulation computes
OUTPUTS = 8


def _check_finite(name: str, value: float) -> None:
    import math

    from ..errors import InvalidParameter

    if not math.isfinite(value):
        raise InvalidParameter(f"{name} must be a finite number, got {value}")


def _simulation_cost(width: int, depth: int, samples: int, inputs: int, recurrent: bool):
    """(bytes of one network's arrays, estimated seconds): N^2 weights per layer drawn
    (once for a recurrent net) and the backward passes, sum over output layers."""
    n2 = float(width) * width
    weights = n2 * (1 if recurrent else depth)
    backward = n2 * depth * depth * inputs * min(OUTPUTS, width) / 2
    seconds = samples * (5 * weights + backward) * SIMULATION_SECONDS_PER_FLOP
    return 8 * (weights + depth * inputs * width * (OUTPUTS + 2)), seconds


@click.command("ntk")
@activation_option
@click.option("--sigma-w2", type=float, default=1.0, show_default=True, help="C_W = sigma_w2.")
@click.option("--sigma-b2", type=float, default=0.0, show_default=True, help="C_b = sigma_b2.")
@q0_option
@click.option(
    "--depth",
    type=int,
    default=6,
    show_default=True,
    help=f"Number of layers (at most {MAX_DEPTH}).",
)
@click.option(
    "--inputs",
    type=click.IntRange(1, 2),
    default=None,
    help="1 (default) or 2 inputs of correlation --c0 (the 2x2 Gram matrix).",
)
@click.option("--c0", type=float, default=None, help="Correlation of the two inputs, in [-1, 1].")
@arch_option
@bias_option
@click.option(
    "--lambda-b", type=float, default=1.0, show_default=True, help="Learning-rate factor of biases."
)
@click.option(
    "--lambda-w",
    type=float,
    default=1.0,
    show_default=True,
    help="Learning-rate factor of weights (lambda_W/n per weight).",
)
@click.option(
    "--width",
    type=int,
    default=None,
    help="Also the empirical NTK of real networks of this width (Monte Carlo).",
)
@click.option(
    "--samples", type=int, default=None, help="Networks of the simulation (with --width; 100)."
)
@click.option("--seed", type=int, default=1, show_default=True, help="Monte Carlo seed.")
@json_option
def ntk_command(
    activation,
    sigma_w2,
    sigma_b2,
    q0,
    depth,
    inputs,
    c0,
    arch,
    bias,
    lambda_b,
    lambda_w,
    width,
    samples,
    seed,
    as_json,
):
    """The NTK H(l) per layer at infinite width (docs/conventions.md §10).

    H(1) = lambda_b + lambda_W q0, H(l+1) = lambda_b + lambda_W <phi phi>_K(l) +
    sigma_w2 <phi' phi'>_K(l) H(l); two inputs give the 2x2 Gram matrix.  Recurrent nets
    (backpropagation through time, shared W) have the same NTK at infinite width.  With
    --width the empirical NTK of real networks (explicit backpropagation) is shown beside
    it, with standard errors.  Feedforward nets and linear recurrent nets with one input
    also get the 1/n correction to the mean, E H_ii = H + ntk_correction/n; feedforward
    ones also the variance of H across
    initialisations at O(1/n): Var(H_ii) = ntk_variance/n, and (JSON only) PDLT's dNTK
    statistics P, Q per layer; two inputs get both as 2x2 matrices over the input
    entries H_ii;ab, and the dNTK's P_abcd, Q_abcd over the inputs.
    """
    from ..errors import InvalidParameter
    from ..rules.network import Network

    check_depth(depth)
    check_bias(arch, bias)
    for name, value in (("--c0", c0), ("--lambda-b", lambda_b), ("--lambda-w", lambda_w)):
        if value is not None:
            _check_finite(name, value)
    if c0 is not None and not -1.0 <= c0 <= 1.0:
        raise InvalidParameter(f"--c0 is a correlation in [-1, 1], got {c0}")
    if inputs is None:
        inputs = 1 if c0 is None else 2
    if inputs == 2 and c0 is None:
        raise InvalidParameter("--inputs 2 needs --c0, the correlation of the two inputs")
    if inputs == 1 and c0 is not None:
        raise InvalidParameter("--c0 is the correlation of two inputs; use it with --inputs 2")
    if samples is not None and width is None:
        raise InvalidParameter("--samples sets the simulated networks; it needs --width")
    net = Network(arch, activation, sigma_w2, sigma_b2, depth=depth, q0=q0, bias=bias)
    from ..derive.ntk.kernel import learning_rates

    lambda_b, lambda_w = learning_rates(lambda_b, lambda_w)
    if width is not None:
        if width < 1:
            raise InvalidParameter(f"--width must be a positive integer, got {width}")
        if inputs == 2 and width < 2:
            raise InvalidParameter("two inputs with a chosen correlation need --width >= 2")
        samples = 100 if samples is None else samples
        if samples < 2:
            raise InvalidParameter(f"--samples must be at least 2, got {samples}")
        nbytes, seconds = _simulation_cost(width, depth, samples, inputs, arch == "recurrent")
        refuse_if_too_large(
            f"ntk --width {width}", nbytes / 2**30, MAX_SIMULATION_BYTES / 2**30, "GiB",
            "lower --width or --depth",
        )  # fmt: skip
        refuse_if_too_large(
            f"simulation of {samples} networks x {depth} layers at width {width}",
            seconds,
            MAX_SIMULATION_SECONDS,
            "s (estimated)",
            "lower --samples, --width or --depth",
        )
        if seconds > NOTE_SECONDS:
            note(f"ntk: {samples} networks at width {width}, estimated {seconds:.0f} s")

    from ..derive.gaussian import method_name
    from ..derive.ntk.kernel import ntk_trajectory

    rows = ntk_trajectory(net, depth, c0=c0, lambda_b=lambda_b, lambda_W=lambda_w)
    layers = [r | {"ntk_correction": None, "ntk_variance": None} for r in rows]
    notes = [
        "H_ij(l) = d_ij H(l) at infinite width; lambda_b per bias, lambda_W/n per weight; "
        "H(1) = K(1) when lambda_b = sigma_b2 and lambda_W = sigma_w2",
    ]
    reasons = {}
    json_notes = []
    json_reasons = {}  # the dntk is in the JSON only, so is the reason it is missing
    if arch == "feedforward" and inputs == 1:
        from ..derive.ntk.correction import ntk_mean_correction
        from ..derive.ntk.variance import ntk_fluctuations

        for row, c in zip(layers, ntk_mean_correction(net, depth, lambda_b, lambda_w)):
            row["ntk_correction"] = c["ntk_correction"]
        notes.append(
            "ntk_correction: E H_ii = ntk + ntk_correction/n + O(1/n^2) (the Markov chain in "
            "(G, Hhat) one order further, with the Stein term of the row shared by z_i and H_ii)"
        )

        for row, f in zip(layers, ntk_fluctuations(net, depth, lambda_b, lambda_w)):
            row["ntk_variance"] = f["ntk_variance"]
            row["ntk_fluctuation"] = {k: f[k] for k in ("A", "B", "D")}
        notes.append(
            "ntk_variance: Var(H_ii) = ntk_variance/n + O(1/n^2), = A + 2B with "
            "Cov(H_ii, H_jj) = A/n, Var(H_ij) = B/n (i != j), Cov(z_i^2, H_jj) = D/n"
        )

        from ..derive.ntk.dntk import dntk_statistics

        for row, d in zip(layers, dntk_statistics(net, depth, lambda_b, lambda_w)):
            row["dntk"] = {"P": d["P"], "Q": d["Q"]}
        # in the JSON's notes only: the text output is a contract too, and has no dntk column
        json_notes.append(
            "dntk: PDLT's P, Q of the dNTK dH_i0i1i2 = sum_mu lambda_mu dz_i0/dmu dH_i1i2/dmu, "
            "E[dH_i0i1i2 z_i3] = [d_i0i3 d_i1i2 P + (d_i0i1 d_i2i3 + d_i0i2 d_i1i3) Q]/n + "
            "O(1/n^2)"
        )
    elif arch == "feedforward" and c0 == -1.0 and sigma_b2 == 0.0:
        reasons["ntk_correction"] = reasons["ntk_variance"] = DEGENERATE_REASON
    elif arch == "feedforward":
        import numpy as np

        from ..derive.ntk.dntk_two_inputs import component_keys, two_input_statistics

        act = net.activation
        dntk_kinked = bool(act.kink_points) and not act.is_scale_invariant
        # both in one pass over the layers: they share each layer's plane rule
        corrections, dntk_rows = two_input_statistics(
            net, c0, depth, lambda_b, lambda_w, dntk=not dntk_kinked
        )
        if isinstance(corrections, InvalidParameter):  # e.g. a kernel too large for the
            # plane rule: the infinite-width NTK stands, the corrections are null with why
            reasons["ntk_correction"] = reasons["ntk_variance"] = str(corrections)
            corrections = []
        for row, c in zip(layers, corrections):
            row["ntk_correction"] = c["ntk_correction"]
            row["ntk_variance"] = c["ntk_variance"]
            row["ntk_fluctuation"] = {k: c[k] for k in ("A", "B", "D", "entry_covariance")}
        notes.append(
            "ntk_correction (two inputs): the 2x2 matrix H1_ab, E H_ii;ab = ntk_ab + "
            "ntk_correction_ab/n + O(1/n^2), input entries ab of one output neuron i (PDLT's "
            "recursions with input indices; the entries 11, 22 are the one-input values)"
        )
        notes.append(
            "ntk_variance (two inputs): the 2x2 matrix n Var(H_ii;ab), entry by entry; "
            "ntk_fluctuation: A_ab = n Cov(H_ii;ab, H_jj;ab), B_ab = n Var(H_ij;ab) (i != j), "
            "D = n Cov(G_alpha, Hhat_beta) over (11, 22, 12), entry_covariance = "
            "n Cov(H_ii;11, H_ii;22)"
        )

        keys = component_keys()
        if dntk_kinked:
            json_reasons["dntk"] = DNTK_KINK_REASON
        elif isinstance(dntk_rows, InvalidParameter):  # e.g. beyond the floating-point
            json_reasons["dntk"] = str(dntk_rows)  # range: the rest of the output stands
            dntk_rows = []
        for row, d in zip(layers, dntk_rows):
            P, Q = (np.asarray(d[k]).ravel() for k in ("P", "Q"))
            row["dntk"] = {f"P_{k}": float(v) for k, v in zip(keys, P)} | {
                f"Q_{k}": float(v) for k, v in zip(keys, Q)
            }
        json_notes.append(
            "dntk (two inputs): PDLT's P, Q with input indices, keys P_abcd, Q_abcd (a0 a1 a2 a3 "
            "in inputs 1, 2; all 16 each): E[dH_i0i1i2;a0a1a2 z_i3;a3] = [d_i0i3 d_i1i2 "
            "P_a0a1a2a3 + d_i0i1 d_i2i3 Q_a0a1a2a3 + d_i0i2 d_i1i3 Q_a0a2a1a3]/n + O(1/n^2), "
            "dH_i0i1i2;a0a1a2 = sum_mu lambda_mu dz_i0;a0/dmu dH_i1i2;a1a2/dmu; P_a0a1a2a3 = "
            "P_a0a2a1a3; P_1111 = P_2222 and Q_1111 = Q_2222 are the one-input P, Q"
        )
    elif inputs == 1 and net.activation.name == "linear":
        from ..derive.ntk.recurrent_correction import (
            MAX_CORRECTION_DEPTH,
            recurrent_ntk_correction,
        )

        reasons["ntk_variance"] = VARIANCE_REASON
        if depth > MAX_CORRECTION_DEPTH:
            reasons["ntk_correction"] = RECURRENT_DEPTH_REASON.format(MAX_CORRECTION_DEPTH)
        else:
            try:
                corrections = recurrent_ntk_correction(net, depth, lambda_b, lambda_w)
            except InvalidParameter as err:  # beyond the floating-point range: the
                corrections = []  # infinite-width NTK stands, the correction is null with why
                reasons["ntk_correction"] = str(err)
            for row, c in zip(layers, corrections):
                row["ntk_correction"] = c["ntk_correction"]
            if corrections:
                notes.append(
                    "ntk_correction (linear recurrent): E H_ii = ntk + ntk_correction/n + "
                    "O(1/n^2), exact in sigma_w2, sigma_b2, q0, lambda_b, lambda_W: "
                    "one-trace moments (1/N) E tr[(W^T)^k W^m] from the reduced chord diagrams "
                    "(the input on its sphere); 0 for a fresh bias"
                )
    else:
        reasons["ntk_correction"] = CORRECTION_REASON
        reasons["ntk_variance"] = VARIANCE_REASON
    if arch == "recurrent":
        notes.append(
            "recurrent: the gradients of the shared W from different steps pair through the "
            "backward kernel, which vanishes between different steps at infinite width, so the "
            "NTK equals the feedforward one (shared and fresh bias alike)"
        )
    result = {
        "activation": net.activation.name,
        "arch": arch,
        "bias": net.bias,
        "sigma_w2": sigma_w2,
        "sigma_b2": sigma_b2,
        "q0": q0,
        "depth": depth,
        "inputs": inputs,
        "c0": c0,
        "lambda_b": lambda_b,
        "lambda_W": lambda_w,
        "method": method_name(net.activation),
        "layers": layers,
        "notes": notes,
        "reasons": reasons,
    }
    if width is not None:
        import numpy as np

        from ..derive.montecarlo.ntk import empirical_ntk

        with np.errstate(all="ignore"):
            sim = empirical_ntk(
                net.replace(width=width),
                samples,
                c0=c0,
                lambda_b=lambda_b,
                lambda_W=lambda_w,
                outputs=OUTPUTS,
                seed=seed,
            )
        for row, s in zip(layers, sim):
            row["simulation"] = {k: v for k, v in s.items() if k != "layer"}
        result["simulation"] = {
            "width": width,
            "samples": samples,
            "seed": seed,
            "outputs": min(OUTPUTS, width),
            "what": "mean over networks of (1/k) sum_i H_ii over k output neurons, with its "
            "standard error; variance: of one H_ii across networks (n variance -> "
            "ntk_variance); offdiagonal_variance: of H_12; diagonal_covariance: of H_11, H_22 "
            "(neuron indices, input 1); entry_variance: of each input entry H_ii;ab of one "
            "neuron, averaged over the k neurons (n entry_variance -> ntk_variance); "
            "entry_covariance: of H_ii;11 with H_ii;22 (n entry_covariance -> "
            "ntk_fluctuation.entry_covariance)",
        }
    if as_json:
        emit(result | {"notes": notes + json_notes, "reasons": reasons | json_reasons}, True)
        return
    from ._common import format_mapping, format_rows, to_jsonable

    head = {
        k: v for k, v in result.items() if k not in ("layers", "notes", "reasons", "simulation")
    }
    table = []
    for r in layers:
        line = {"layer": r["layer"]}
        for key in ("K", "ntk"):
            if inputs == 1:
                line[key] = r[key]
            else:
                line |= {f"{key}_11": r[key][0][0], f"{key}_12": r[key][0][1]}
        line["chi_perp"] = r["chi_perp"] if inputs == 1 else r["chi_perp"][0][0]
        if r["ntk_correction"] is not None and inputs == 1:
            line["ntk_correction"] = r["ntk_correction"]
            if width is not None:  # the truncated series at the simulated width
                line["ntk_at_n"] = r["ntk"] + r["ntk_correction"] / width
        elif r["ntk_correction"] is not None:
            line["ntk_correction_11"] = r["ntk_correction"][0][0]
            line["ntk_correction_12"] = r["ntk_correction"][0][1]
            if width is not None:
                line["ntk_12_at_n"] = r["ntk"][0][1] + r["ntk_correction"][0][1] / width
        if r["ntk_variance"] is not None and inputs == 1:
            line["ntk_variance"] = r["ntk_variance"]
        elif r["ntk_variance"] is not None:
            line["ntk_variance_11"] = r["ntk_variance"][0][0]
            line["ntk_variance_12"] = r["ntk_variance"][0][1]
        if "simulation" in r:
            s = r["simulation"]
            line["ntk_sim"] = s["ntk"] if inputs == 1 else s["ntk"][0][0]
            line["stderr"] = s["ntk_stderr"] if inputs == 1 else s["ntk_stderr"][0][0]
            if inputs == 1:
                line["n_var_sim"] = width * s["variance"]
            if inputs == 2:
                line["ntk_12_sim"] = s["ntk"][0][1]
                if r["ntk_variance"] is not None:
                    line["n_var_12_sim"] = width * s["entry_variance"][0][1]
        table.append(line)
    text = [format_mapping(to_jsonable(head)), "layers:", format_rows(to_jsonable(table))]
    text += [f"note: {n}" for n in notes]
    text += [f"{k}: null, {v}" for k, v in reasons.items()]
    emit(result, False, "\n".join(text))


commands = [ntk_command]
