"""``nnqft simulate``: Monte Carlo of real random networks beside the mean-field theory."""

from __future__ import annotations

import click

from ._common import (
    MAX_DEPTH,
    MAX_JOBS,
    MAX_SIMULATION_SECONDS,
    NameChoice,
    OutputPath,
    activation_option,
    arch_option,
    bias_option,
    check_bias,
    check_depth,
    check_simulation,
    emit,
    json_option,
    q0_option,
)


def _plot(path: str, result, theory_q, theory_c) -> None:
    """Theory vs simulation per layer: E Q(t) with error bars, residuals in standard errors
    and, for two inputs, c(t)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    net = result.network
    layers = result.column("layer")
    mean, err = result.column("mean"), result.column("mean_stderr")
    panels = 3 if theory_c is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.8), constrained_layout=True)
    ax = axes[0]
    ax.plot(layers, theory_q, "-", color="k", lw=1.2, label="mean-field q(t)", zorder=1)
    ax.errorbar(
        layers,
        mean,
        yerr=err,
        fmt="o",
        ms=4,
        capsize=3,
        color="C0",
        label=f"E Q(t), {result.samples} nets ({result.sampler})",
        zorder=2,
    )
    ax.set(xlabel="layer t", ylabel="Q(t) = |z(t)|²/N", title="length")
    ax.legend(fontsize=8)
    ax = axes[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        resid = (mean - theory_q) / err
    ax.axhspan(-3, 3, color="0.9", zorder=0, label="±3 standard errors")
    ax.axhline(0, color="k", lw=0.8)
    ax.plot(layers, resid, "o-", ms=4, color="C0")
    lim = max(4.0, float(np.nanmax(np.abs(resid))) * 1.15 if np.isfinite(resid).any() else 4.0)
    ax.set(
        xlabel="layer t", ylabel="(E Q − q) / stderr", title="simulation − theory", ylim=(-lim, lim)
    )
    ax.legend(fontsize=8, loc="upper right")
    if theory_c is not None:
        ax = axes[2]
        ax.plot(layers, theory_c, "-", color="k", lw=1.2, label="mean-field c(t)", zorder=1)
        ax.errorbar(
            layers,
            result.column("correlation"),
            yerr=result.column("correlation_stderr"),
            fmt="o",
            ms=4,
            capsize=3,
            color="C1",
            label="E c(t)",
            zorder=2,
        )
        ax.set(xlabel="layer t", ylabel="c(t)", title=f"correlation (c0 = {result.c0:g})")
        ax.legend(fontsize=8)
    for ax in axes:
        ax.xaxis.get_major_locator().set_params(integer=True)
    bias = f", {net.bias} bias" if net.bias else ""
    fig.suptitle(
        f"{net.arch} {net.activation.name}{bias}: σw²={net.sigma_w2:g}, σb²={net.sigma_b2:g}, "
        f"N={net.width}, q0={net.q0:g}",
        fontsize=10,
    )
    fig.savefig(path, dpi=120)
    plt.close(fig)


@click.command("simulate")
@arch_option
@activation_option
@click.option("--sigma-w2", type=float, required=True, help="Weight variance sigma_w2.")
@click.option(
    "--sigma-b2", type=float, default=0.0, show_default=True, help="Bias variance sigma_b2."
)
@click.option(
    "--width",
    type=int,
    required=True,
    help="Width N (neurons per layer); refused when one chunk's arrays would pass 4 GiB.",
)
@click.option(
    "--depth", type=int, required=True, help=f"Depth T (layers or time steps; at most {MAX_DEPTH})."
)
@click.option(
    "--samples",
    type=int,
    default=10000,
    show_default=True,
    help="Number of independent random networks.  Jobs estimated over "
    f"{MAX_SIMULATION_SECONDS:.0f} s are refused; over 10 s the estimate is printed first.",
)
@q0_option
@bias_option
@click.option(
    "--c0",
    type=float,
    default=None,
    help="Also propagate a second input with this correlation to the first; adds c(t) and q12(t).",
)
@click.option(
    "--sampler",
    type=NameChoice("sampler", ("auto", "full", "fast")),
    default="auto",
    show_default=True,
    help="full: real weight matrices; fast: exact layer-by-layer Gaussian "
    "(feedforward only); auto: fast when feedforward.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--jobs",
    type=int,
    default=1,
    show_default=True,
    help=f"Worker processes of a local Dask cluster, 1 to {MAX_JOBS} (results do not depend "
    "on it; more than 1 needs 'nnqft[distributed]').",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="local|tcp://HOST:PORT",
    help="Run the chunks on Dask: 'local' starts a LocalCluster of --jobs processes (the "
    "default when --jobs > 1), tcp://HOST:PORT submits to an existing cluster.  Same numbers "
    "as --jobs 1.",
)
@click.option(
    "--backend",
    type=NameChoice("backend", ("numpy", "jax")),
    default="numpy",
    show_default=True,
    help="Array library of the full-matrix sampler; jax (needs 'nnqft[jax]') uses a GPU where "
    "present and other random streams than numpy (same statistics, not the same bits).",
)
@click.option(
    "--plot",
    "plot_path",
    type=OutputPath(suffixes="matplotlib"),
    default=None,
    help="Write a plot of theory vs simulation per layer (FILE.png; any matplotlib format).",
)
@json_option
def simulate_command(
    arch,
    activation,
    sigma_w2,
    sigma_b2,
    width,
    depth,
    samples,
    q0,
    bias,
    c0,
    sampler,
    seed,
    jobs,
    scheduler,
    backend,
    plot_path,
    as_json,
):
    """Sample random networks and compare Q(t) = |z(t)|^2/N with mean-field theory.

    Per layer: E Q, Var Q and E ln Q with standard errors, and the mean-field q(t)
    (theory_mean).  Example:

        nnqft simulate --activation tanh --sigma-w2 1.5 --sigma-b2 0.05 --width 16 --depth 6
    """
    from ..derive.meanfield import correlation_trajectory, q_trajectory
    from ..derive.montecarlo.chunks import DASK_HINT, MissingDependency, resolve_scheduler
    from ..derive.montecarlo.simulate import simulate
    from ..errors import InvalidParameter
    from ..rules.network import Network

    check_bias(arch, bias)
    if not 1 <= jobs <= MAX_JOBS:
        raise InvalidParameter(f"--jobs must be an integer from 1 to {MAX_JOBS}, got {jobs}")
    if scheduler is not None:
        try:
            ok = scheduler != "serial" and resolve_scheduler(scheduler)
        except InvalidParameter:
            ok = False
        if not ok:
            raise InvalidParameter(
                f"--scheduler must be 'local' or tcp://HOST:PORT (port 1 to 65535), "
                f"got {scheduler!r}"
            )
    if jobs > 1 or scheduler is not None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise MissingDependency(
                f"--jobs > 1 and --scheduler run on Dask, which is not installed: {DASK_HINT}"
            ) from None
    if samples < 1:
        raise InvalidParameter(f"--samples must be an integer >= 1, got {samples}")
    if width < 1:
        raise InvalidParameter(f"--width must be an integer >= 1, got {width}")
    check_depth(depth)
    net = Network(
        arch,
        activation,
        sigma_w2=sigma_w2,
        sigma_b2=sigma_b2,
        width=width,
        depth=depth,
        bias=bias,
        q0=q0,
    )
    two = c0 is not None
    if two and not -1.0 <= c0 <= 1.0:
        raise InvalidParameter(f"--c0 is a correlation and must lie in [-1, 1], got {c0}")
    if sampler == "fast" and net.arch != "feedforward":
        raise InvalidParameter("--sampler fast is exact only for feedforward nets; use full")
    if backend == "jax" and sampler == "fast":
        raise InvalidParameter("--backend jax runs the full-matrix sampler; use --sampler full")
    resolved = sampler if sampler != "auto" else ("fast" if net.arch == "feedforward" else "full")
    if backend == "jax":
        resolved = "full"
    check_simulation(resolved, width, depth, samples, 2 if two else 1)
    result = simulate(
        net,
        samples,
        seed=seed,
        jobs=jobs,
        sampler=sampler,
        inputs=2 if two else 1,
        c0=c0,
        scheduler=scheduler,
        backend=backend,
    )
    if two:
        _, _, _, theory_c = correlation_trajectory(net, c0)
    theory_q = q_trajectory(net)
    rows = []
    for t, row in enumerate(result.rows()):
        row = dict(row)
        row["theory_mean"] = float(theory_q[t])
        if two:
            row["theory_correlation"] = float(theory_c[t])
        rows.append(row)
    if plot_path:
        _plot(plot_path, result, theory_q, theory_c if two else None)
    out = {
        "arch": net.arch,
        "activation": net.activation.name,
        "bias": net.bias,
        "sigma_w2": net.sigma_w2,
        "sigma_b2": net.sigma_b2,
        "width": net.width,
        "depth": net.depth,
        "q0": net.q0,
        "samples": samples,
        "seed": seed,
        "sampler": result.sampler,
        "layers": rows,
    }
    if two:
        out["c0"] = c0
    if net.bias is None:
        del out["bias"]
    if plot_path:
        out["plot"] = plot_path
    emit(out, as_json)


commands = [simulate_command]
