"""Phase diagrams of the mean-field theory: depth scales over a (sigma_w2, sigma_b2) grid.

The whole grid goes through the vectorised fixed-point engine of
:mod:`nnqft.derive.meanfield.fixed_point` at once (in chunks, with a progress bar on a
terminal): Newton on the length map for every point, then the correlation fixed point c*
for the chaotic points (docs/conventions.md §3).  The edge of chaos chi_1 = 1 is drawn over
the xi_c map by :func:`plot_phase_diagram`.

>>> pd = phase_diagram("erf", [0.5, 1.5, 3.0], [0.0, 0.2])
>>> pd.phase.tolist()
[['ordered', 'chaotic', 'chaotic'], ['ordered', 'ordered', 'chaotic']]
>>> [round(float(x), 4) for x in pd.critical_line.sigma_w2]
[0.7854, 1.7882]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InvalidParameter
from ...rules.activations import get_activation
from ._inputs import _array
from .criticality import CriticalLine, _critical_line
from .fixed_point import _CHUNK, _mean_field_arrays, _method

__all__ = [
    "PhaseDiagram",
    "phase_diagram",
    "plot_phase_diagram",
    "DEFAULT_SIGMA_W2",
    "DEFAULT_SIGMA_B2",
]

#: default grid ranges (inclusive): ordered, critical and chaotic regions of tanh and erf
DEFAULT_SIGMA_W2 = (0.5, 4.0)
DEFAULT_SIGMA_B2 = (0.0, 0.5)


@dataclass(frozen=True)
class PhaseDiagram:
    """Mean-field quantities on a grid; 2-d arrays are indexed [sigma_b2 index, sigma_w2 index].

    ``phase`` holds 'ordered' | 'critical' | 'chaotic', or 'unbounded' where the point has
    no fixed point (then q*, c*, the chi's and xi's there are NaN); ``critical_line`` is the
    edge of chaos at the grid's sigma_b2 values.
    """

    activation: str
    sigma_w2: np.ndarray
    sigma_b2: np.ndarray
    q0: float
    q_star: np.ndarray
    c_star: np.ndarray
    chi_1: np.ndarray
    chi_c: np.ndarray
    chi_parallel: np.ndarray
    lyapunov_exponent: np.ndarray
    xi_q: np.ndarray
    xi_c: np.ndarray
    phase: np.ndarray
    critical_line: CriticalLine
    method: str

    def as_dict(self) -> dict:
        """Plain lists (inf/nan stay floats; the CLI's JSON prints them as null)."""
        out = {"activation": self.activation, "method": self.method, "q0": self.q0}
        for key in ("sigma_w2", "sigma_b2"):
            out[key] = getattr(self, key).tolist()
        out["critical_line"] = self.critical_line.rows()
        for key in ("phase", "xi_c", "xi_q", "q_star", "c_star", "chi_1"):
            out[key] = getattr(self, key).tolist()
        return out


def _grid(name: str, values) -> np.ndarray:
    arr = _array(name, values).ravel()
    if arr.size == 0:
        raise InvalidParameter(f"the {name} grid is empty")
    if name == "sigma_w2" and (arr <= 0).any():
        raise InvalidParameter(f"sigma_w2 must be positive, got {arr.min():g}")
    return arr


def phase_diagram(
    activation,
    sigma_w2_grid=None,
    sigma_b2_grid=None,
    *,
    q0: float = 1.0,
    nodes: int | None = None,
    progress: bool | None = None,
    tabulate: bool = True,
) -> PhaseDiagram:
    """q*, c*, chi's, depth scales and the phase on the grid sigma_b2 x sigma_w2.

    Defaults: 101 x 101 points over :data:`DEFAULT_SIGMA_W2` x :data:`DEFAULT_SIGMA_B2`.
    ``progress=None`` shows a progress bar only on a terminal (stderr).  ``tabulate``:
    for a smooth activation integrated by quadrature, E[phi^2], E[phi'^2] and
    dE[phi^2]/dq come from a :class:`~nnqft.derive.meanfield.tabulated.MomentTable`
    (interpolation error ~1e-14 relative; the results equal the direct route's,
    ``tabulate=False``, to ~1e-12); closed forms and kinked activations are direct anyway.
    """
    from tqdm import tqdm

    act = get_activation(activation)
    sw = _grid(
        "sigma_w2", np.linspace(*DEFAULT_SIGMA_W2, 101) if sigma_w2_grid is None else sigma_w2_grid
    )
    sb = _grid(
        "sigma_b2", np.linspace(*DEFAULT_SIGMA_B2, 101) if sigma_b2_grid is None else sigma_b2_grid
    )
    q0 = float(_array("q0", q0))
    moments = _table(act, nodes) if tabulate else None
    W, B = np.meshgrid(sw, sb)
    flat_w, flat_b = W.ravel(), B.ravel()
    pieces = []
    starts = range(0, flat_w.size, _CHUNK)
    bar = tqdm(
        starts,
        desc=f"phase diagram ({act.name})",
        unit="chunk",
        disable=None if progress is None else not progress,
    )
    for lo in bar:
        sl = slice(lo, lo + _CHUNK)
        pieces.append(_mean_field_arrays(act, flat_w[sl], flat_b[sl], q0, nodes, moments))
    fields = {k: np.concatenate([p[k] for p in pieces]).reshape(W.shape) for k in pieces[0]}
    line = _critical_line(act, sb, nodes, moments)
    return PhaseDiagram(
        activation=act.name,
        sigma_w2=sw,
        sigma_b2=sb,
        q0=q0,
        critical_line=line,
        method=_method(act, nodes),
        **fields,
    )


def _table(act, nodes):
    """The moment table where the integrals are quadrature of a smooth phi, else None."""
    from ..gaussian.expect import _smooth
    from .tabulated import moment_table

    if (act.has_closed_form and nodes is None) or act.kink_points or not _smooth(act):
        return None
    try:
        return moment_table(act, nodes)
    except ValueError:  # not smooth enough in q to tabulate: direct quadrature
        return None


def plot_phase_diagram(
    diagram: PhaseDiagram, path, *, xi_max: float = 100.0, finite_width_line=None
) -> None:
    """Write a PNG: the correlation depth scale xi_c (log colour scale, capped at ``xi_max``)
    over (sigma_w2, sigma_b2), the edge of chaos chi_1 = 1 drawn on top, and optionally
    the edge at finite width (a
    :class:`~nnqft.derive.finite_width.critical_line.FiniteWidthCriticalLine`) dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    sw, sb = diagram.sigma_w2, diagram.sigma_b2
    xi = np.where(np.isfinite(diagram.xi_c), diagram.xi_c, xi_max)
    xi = np.clip(xi, None, xi_max)
    valid = np.isfinite(diagram.xi_c) | (diagram.phase == "critical")
    xi = np.ma.masked_where(~valid | ~(xi > 0), xi)
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=150)
    vmin = max(float(xi.min()) if xi.count() else 0.1, 0.1)
    mesh = ax.pcolormesh(
        sw, sb, xi, shading="auto", cmap="magma", norm=LogNorm(vmin=vmin, vmax=xi_max)
    )
    bar = fig.colorbar(mesh, ax=ax, extend="max")
    bar.set_label(r"correlation depth scale $\xi_c$ (layers)")
    levels = [lv for lv in (2, 5, 10, 30) if lv < xi_max]
    if sw.size > 2 and sb.size > 2 and levels:
        contour = ax.contour(
            sw,
            sb,
            np.ma.filled(xi, xi_max),
            levels=levels,
            colors="white",
            linewidths=0.6,
            linestyles="dashed",
            alpha=0.7,
        )
        # one label per line, where it crosses 60% of the height (not clipped at the edges)
        y_label = sb.min() + 0.6 * (sb.max() - sb.min())
        spots = []
        for segs in contour.allsegs:
            for seg in segs:
                if len(seg) > 2:
                    spots.append(tuple(seg[np.argmin(np.abs(seg[:, 1] - y_label))]))
        if spots:
            ax.clabel(contour, fmt=lambda v: rf"$\xi_c$={v:g}", fontsize=7, manual=spots)
    line = diagram.critical_line
    ok = np.isfinite(line.sigma_w2)
    if ok.any():
        ax.plot(
            line.sigma_w2[ok],
            line.sigma_b2[ok],
            color="#3ad1ff",
            lw=2.2,
            label=r"edge of chaos $\chi_1 = 1$",
        )
    fw = finite_width_line
    fw_ok = np.zeros(0, bool) if fw is None else np.isfinite(fw.sigma_w2)
    if fw_ok.any():
        ax.plot(
            fw.sigma_w2[fw_ok],
            fw.sigma_b2[fw_ok],
            color="#9dff57",
            lw=2.0,
            ls="--",
            label=rf"$\lambda_{{max}}(N) = 0$, $N = {fw.width}$ (through $1/N$)",
        )
    if ok.any() or fw_ok.any():
        ax.legend(loc="upper left", framealpha=0.85)
    ax.set_xlim(sw.min(), sw.max())
    ax.set_ylim(sb.min(), sb.max())
    ax.set_xlabel(r"$\sigma_w^2$")
    ax.set_ylabel(r"$\sigma_b^2$")
    ax.set_title(f"{diagram.activation}: mean-field phase diagram")
    _label_phases(ax, diagram)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _label_phases(ax, diagram: PhaseDiagram) -> None:
    """Write 'ordered' and 'chaotic' in each region, a quarter of the way up (below the
    contour labels), centred in the region's extent along that row."""
    sw, sb = diagram.sigma_w2, diagram.sigma_b2
    row = int(np.argmin(np.abs(sb - (sb.min() + 0.25 * (sb.max() - sb.min())))))
    for name in ("ordered", "chaotic"):
        mask = diagram.phase == name
        if mask.sum() < 0.05 * mask.size or not mask[row].any():
            continue
        ax.text(
            sw[mask[row]].mean(),
            sb[row],
            name,
            color="white",
            fontsize=13,
            ha="center",
            va="center",
            weight="bold",
        )
