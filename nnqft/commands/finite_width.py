"""``nnqft finite-width``: K0, K1 and V layer by layer (docs/conventions.md §7), optionally against
Monte Carlo of real networks of two widths."""

from __future__ import annotations

import click

from ._common import (
    MAX_DEPTH,
    OutputPath,
    activation_option,
    check_depth,
    check_simulation,
    emit,
    json_option,
    q0_option,
)


def _plot(path: str, net, rows, results) -> None:
    """Three panels per layer, simulation with 1-standard-error bars: the relative deviation
    of E[z^2] from mean field against K1/(n K0); n (E[z^2] - K0) against K1 (the widths
    collapse); n Var[Q]/K0^2 (Q = |z|^2/n) against 2 + V/K0^2 and its O(1/n) form
    [2 (K0 + K1/n)^2 + (1 + 2/n)(V + V1/n)]/K0^2, exact for Var Q = 2 (m^2 + v)/n + v."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    layers = np.array([r["layer"] for r in rows])
    K0, K1, V = (np.array([r[k] for r in rows]) for k in ("K0", "K1", "V"))
    V1 = np.array([r["V1"] for r in rows])
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.3), constrained_layout=True)
    offsets = np.linspace(-0.12, 0.12, len(results)) if len(results) > 1 else [0.0]
    style = {"fmt": "o", "ms": 3.5, "capsize": 2.5}

    ax = axes[0]
    ax.axhline(0, color="k", lw=1.3, label="K0 alone (mean field)")
    for k, (n, res) in enumerate(results):
        color = f"C{k}"
        ax.plot(layers, K1 / (n * K0), "--", color=color, lw=1.2, label=f"K1/(n K0), n = {n}")
        ax.errorbar(
            layers + offsets[k],
            res.column("mean") / K0 - 1,
            yerr=res.column("mean_stderr") / K0,
            color=color,
            label=f"simulation, n = {n}",
            **style,
        )
    ax.set(xlabel="layer l", ylabel="E[z²]/K0 − 1", title="kernel: deviation from mean field")
    ax.legend(fontsize=8)

    ax = axes[1]
    ax.axhline(0, color="0.6", lw=0.8)
    ax.plot(layers, K1, "-", color="k", lw=1.3, label="K1 (theory)")
    for k, (n, res) in enumerate(results):
        ax.errorbar(
            layers + offsets[k],
            n * (res.column("mean") - K0),
            yerr=n * res.column("mean_stderr"),
            color=f"C{k}",
            label=f"n (E[z²] − K0), n = {n}",
            **style,
        )
    ax.set(xlabel="layer l", ylabel="n (E[z²] − K0)", title="1/n correction K1")
    ax.legend(fontsize=8)

    ax = axes[2]
    ax.plot(layers, 2 + V / K0**2, "-", color="k", lw=1.3, label="2 + V/K0² (leading)")
    for k, (n, res) in enumerate(results):
        color = f"C{k}"
        with_next = (2 * (K0 + K1 / n) ** 2 + (1 + 2 / n) * (V + V1 / n)) / K0**2
        ax.plot(layers, with_next, "--", color=color, lw=1.1, label=f"with O(1/n), n = {n}")
        ax.errorbar(
            layers + offsets[k],
            n * res.column("variance") / K0**2,
            yerr=n * res.column("variance_stderr") / K0**2,
            color=color,
            label=f"simulation, n = {n}",
            **style,
        )
    ax.set(xlabel="layer l", ylabel="n Var[|z|²/n] / K0²", title="four-point vertex V")
    ax.legend(fontsize=8)
    for ax in axes:
        ax.xaxis.get_major_locator().set_params(integer=True)
    samples = results[0][1].samples if results else 0
    fig.suptitle(
        f"{net.activation.name}: σw² = {net.sigma_w2:g}, σb² = {net.sigma_b2:g}, "
        f"q0 = {net.q0:g}; {samples} networks per width (error bars: 1 standard error)",
        fontsize=10,
    )
    fig.savefig(path, dpi=120)
    plt.close(fig)


@click.command("finite-width")
@activation_option
@click.option("--sigma-w2", type=float, default=1.0, show_default=True, help="C_W = sigma_w2.")
@click.option("--sigma-b2", type=float, default=0.0, show_default=True, help="C_b = sigma_b2.")
@q0_option
@click.option(
    "--depth",
    type=int,
    default=8,
    show_default=True,
    help=f"Number of layers (at most {MAX_DEPTH}).",
)
@click.option("--next-order", is_flag=True, help="Also K2, V1, W3: the next 1/n coefficients.")
@click.option("--universality", is_flag=True, help="Also the activation's universality class.")
@click.option(
    "--c0",
    type=float,
    default=None,
    help="Also two inputs of correlation c0: K12 and the 1/n correction to the correlation map.",
)
@click.option(
    "--plot",
    "plot_path",
    type=OutputPath(suffixes=(".png",)),
    default=None,
    help="Write theory vs simulation to FILE.png.",
)
@click.option(
    "--width",
    "widths",
    type=int,
    multiple=True,
    help="Width of the simulated networks (repeatable; with --plot; default 16 and 64).",
)
@click.option(
    "--samples", type=int, default=100000, show_default=True, help="Networks per width (--plot)."
)
@click.option("--seed", type=int, default=1, show_default=True, help="Monte Carlo seed (--plot).")
@json_option
def finite_width_command(
    activation,
    sigma_w2,
    sigma_b2,
    q0,
    depth,
    next_order,
    universality,
    c0,
    plot_path,
    widths,
    samples,
    seed,
    as_json,
):
    """K0, K1, V per layer: E[z^2] = K0 + K1/n, Cov(z_i^2, z_j^2) = V/n (docs/conventions.md §7).

    PDLT conventions: K0(1) = sigma_b2 + sigma_w2 q0, V(1) = K1(1) = 0; chi_parallel and
    chi_perp at K0.  --c0 adds two inputs: E[z1 z2] = K0_12 + K1_12/n and the correlation
    E[z1 z2]/sqrt(E z1^2 E z2^2) = correlation0 + correlation1/n.  --plot compares with
    Monte Carlo of real feedforward networks.
    """
    from ..errors import InvalidParameter
    from ..rules.network import Network

    check_depth(depth)
    if widths and not plot_path:
        raise InvalidParameter("--width sets the simulated widths; it needs --plot FILE.png")
    net = Network("feedforward", activation, sigma_w2, sigma_b2, depth=depth, q0=q0)
    for n in widths:
        if n < 1:
            raise InvalidParameter(f"--width must be a positive integer, got {n}")
    if samples < 2:
        raise InvalidParameter(f"--samples must be at least 2, got {samples}")
    if c0 is not None and not -1.0 <= c0 <= 1.0:
        raise InvalidParameter(f"--c0 is a correlation in [-1, 1], got {c0}")
    if plot_path:
        for n in widths or (16, 64):
            check_simulation("fast", n, depth, samples)

    from ..derive.finite_width.recursions import finite_width, quadrature_method, universality_class

    rows = finite_width(net, depth, next_order=next_order)
    result = {
        "activation": net.activation.name,
        "sigma_w2": sigma_w2,
        "sigma_b2": sigma_b2,
        "q0": q0,
        "depth": depth,
        "method": quadrature_method(net.activation),
        "layers": rows,
    }
    if universality:
        result["universality"] = universality_class(net.activation).as_dict()
    if c0 is not None:
        if not -1.0 <= c0 <= 1.0:
            raise InvalidParameter(f"--c0 is a correlation in [-1, 1], got {c0}")
        from ..derive.finite_width.recursions import finite_width_two_inputs

        result["two_inputs"] = [
            {
                "layer": r["layer"],
                "K0_12": r["K0"][2],
                "K1_12": r["K1"][2],
                "V_12_12": r["V"][2][2],
                "correlation0": r["correlation0"],
                "correlation1": r["correlation1"],
            }
            for r in finite_width_two_inputs(net, c0, depth)
        ]
    if plot_path:
        import numpy as np

        from ..derive.montecarlo.simulate import simulate

        results = []
        for n in widths or (16, 64):
            with np.errstate(all="ignore"):  # ln Q of dead ReLU nets is -inf; not used here
                res = simulate(net.replace(width=n), samples, seed=seed)
            results.append((n, res))
        _plot(plot_path, net, finite_width(net, depth, next_order=True), results)
        result["plot"] = plot_path
        result["simulation"] = [
            {
                "width": n,
                "samples": samples,
                "layers": [
                    {
                        "layer": r.layer,
                        "mean": r.mean,
                        "mean_stderr": r.mean_stderr,
                        "variance": r.variance,
                        "variance_stderr": r.variance_stderr,
                    }
                    for r in res.layers
                ],
            }
            for n, res in results
        ]
    if as_json:
        emit(result, True)
        return
    from ._common import format_mapping, format_rows, to_jsonable

    skip = ("layers", "simulation", "universality", "two_inputs")
    head = {k: v for k, v in result.items() if k not in skip}
    text = [format_mapping(to_jsonable(head)), "layers:", format_rows(to_jsonable(rows))]
    if c0 is not None:
        text += [f"two inputs (c0 = {c0:g}):", format_rows(to_jsonable(result["two_inputs"]))]
    if universality:
        u = result["universality"]
        text.append(f"universality class: {u['name']} ({u['description']})")
        text.append(
            f"  critical sigma_w2 = {u['sigma_w2']}, sigma_b2 = {u['sigma_b2']}, K* = {u['K_star']}"
        )
        for key, value in {**u["constants"], **u["large_depth"]}.items():
            text.append(f"  {key}: {value}")
    emit(result, False, "\n".join(text))


commands = [finite_width_command]
