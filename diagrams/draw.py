"""Drawing diagrams: TikZ-Feynman source (compile with lualatex) and PNG via matplotlib.

Works on any diagram in the conventions of :mod:`nnqft.diagrams` (legs drawn as labelled
external points, vertices as dots, parallel propagators bent apart, self-loops as loops,
directed propagators with an arrow towards ``head``).

>>> from nnqft.diagrams import make_diagram
>>> tadpole = make_diagram([(1, "v"), ("v", 2), ("v", "v")], legs={1: 1, 2: 2})
>>> print(tikz_body(tadpole))
\\feynmandiagram [spring layout, horizontal=n0 to n2] {
  n0 [particle=\\(1\\)] -- [plain] n1,
  n1 -- [plain, loop, out=135, in=45, min distance=1.2cm] n1,
  n1 -- [plain] n2 [particle=\\(2\\)],
};
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import networkx as nx

from ..errors import InvalidParameter

__all__ = ["tikz_body", "tikz_document", "draw_png", "write_drawings", "compile_tikz"]

_STYLE = {"phi": "plain", "response": "fermion", "correlator": "scalar", "disorder": "ghost"}
#: matplotlib line style and grey level per edge kind (a W pair dotted, a bias line dashed)
_LINE = {"correlator": ("--", "k"), "disorder": (":", "0.35")}
#: the legend of the kinds that need one
_LEGEND = {
    "response": "arrow: response line",
    "correlator": "dashed: correlator",
    "disorder": "dotted: W pair",
}
_BENDS = {
    1: [""],
    2: ["half left", "half right"],
    3: ["half left", "", "half right"],
    4: ["bend left=70", "bend left=25", "bend right=25", "bend right=70"],
}


def _names(graph):
    legs = sorted(
        (x for x, kind in graph.nodes(data="kind") if kind == "leg"),
        key=lambda x: repr(graph.nodes[x].get("leg")),
    )
    rest = sorted((x for x in graph.nodes if x not in legs), key=repr)
    return {x: f"n{i}" for i, x in enumerate(legs[:1] + rest + legs[1:])}


def _leg_label(label) -> str:
    r"""A leg label in math: numbers as they are, a word upright (nnqft's LaTeX policy,
    :func:`nnqft.derive.document.printer.symbol_latex`), e.g. ``\mathrm{source}``."""
    text = str(label)
    return rf"\mathrm{{{text}}}" if len(text) > 1 and text.isalpha() else text


def tikz_body(graph) -> str:
    """The ``\feynmandiagram`` of a diagram (needs lualatex for the automatic layout).

    Parameters
    ----------
    graph : networkx.MultiGraph
        A diagram.

    Returns
    -------
    str
        The TikZ-Feynman source of one diagram.

    Examples
    --------
    >>> from nnqft.diagrams import make_diagram
    >>> tadpole = make_diagram([(1, "v"), ("v", "v"), ("v", 2)], legs={1: 1, 2: 2})
    >>> tikz_body(tadpole).startswith("\\\\feynmandiagram")
    True
    """
    names = _names(graph)
    legs = [x for x, kind in graph.nodes(data="kind") if kind == "leg"]
    done = set()
    lines = []
    seen_pairs: Counter = Counter()
    bundles = Counter(
        (min(names[u], names[v]), max(names[u], names[v])) for u, v in graph.edges() if u != v
    )
    loops_at: Counter = Counter()

    def node(x):
        text = names[x]
        if x in legs and x not in done:
            done.add(x)
            text += f" [particle=\\({_leg_label(graph.nodes[x].get('leg'))}\\)]"
        return text

    def edge_key(e):
        a, b = sorted((names[e[0]], names[e[1]]), key=lambda s: int(s[1:]))
        return (int(a[1:]), int(b[1:]))

    for u, v, data in sorted(graph.edges(data=True), key=edge_key):
        if u != v and names[u] != min(names[u], names[v], key=lambda s: int(s[1:])):
            u, v = v, u
        style = [_STYLE.get(data.get("kind"), "plain")]
        if data.get("directed") and data.get("head") == u and u != v:
            u, v = v, u  # draw from tail to head
        if u == v:
            k = loops_at[u]
            loops_at[u] += 1
            angle = 90 + 90 * k
            style += ["loop", f"out={angle + 45}", f"in={angle - 45}", "min distance=1.2cm"]
        else:
            pair = (min(names[u], names[v]), max(names[u], names[v]))
            m = bundles[pair]
            bends = _BENDS.get(m) or [f"bend left={int(80 - 160 * i / (m - 1))}" for i in range(m)]
            bend = bends[seen_pairs[pair]]
            seen_pairs[pair] += 1
            if bend:
                style.append(bend)
        lines.append(f"  {node(u)} -- [{', '.join(style)}] {node(v)},")
    # the layout engine needs one connected graph: join components by invisible lines
    comps = [sorted(c, key=lambda x: int(names[x][1:])) for c in nx.connected_components(graph)]
    comps.sort(key=lambda c: int(names[c[0]][1:]))
    for a, b in zip(comps, comps[1:]):
        lines.append(f"  {names[a[0]]} -- [draw=none] {names[b[0]]},")
    horizontal = ""
    if len(legs) >= 2:
        ordered_legs = sorted(legs, key=lambda x: repr(graph.nodes[x].get("leg")))
        horizontal = f", horizontal={names[ordered_legs[0]]} to {names[ordered_legs[-1]]}"
    if not lines:
        lines = [f"  {names[x]}," for x in graph.nodes]
    return "\\feynmandiagram [spring layout" + horizontal + "] {\n" + "\n".join(lines) + "\n};"


def tikz_document(graphs, captions=None) -> str:
    """A LaTeX document with one TikZ-Feynman diagram per graph (compile with lualatex).

    Parameters
    ----------
    graphs : iterable of networkx.MultiGraph
        The diagrams.
    captions : sequence of str, optional
        One caption per diagram.

    Returns
    -------
    str
        A complete LaTeX document.

    Examples
    --------
    >>> from nnqft.diagrams import make_diagram
    >>> doc = tikz_document([make_diagram([(1, 2)], legs={1: 1, 2: 2})], ["a line"])
    >>> "\\\\begin{document}" in doc and "a line" in doc
    True
    """
    captions = captions or [""] * len(graphs)
    parts = [
        "\\documentclass{article}",
        "\\usepackage[compat=1.1.0]{tikz-feynman}",
        "\\pagestyle{empty}",
        "\\begin{document}",
    ]
    for graph, caption in zip(graphs, captions):
        parts += ["\\begin{center}", tikz_body(graph)]
        if caption:
            parts.append("\\\\[2pt] \\texttt{\\detokenize{" + caption + "}}")
        parts.append("\\end{center}")
    parts.append("\\end{document}")
    return "\n".join(parts) + "\n"


def compile_tikz(tex_path) -> Path | None:
    """Compile a ``.tex`` file with lualatex if present; the PDF path, or None.

    Parameters
    ----------
    tex_path : str or pathlib.Path
        The ``.tex`` file.

    Returns
    -------
    pathlib.Path or None
        The PDF, or None where lualatex is missing or fails.
    """
    exe = shutil.which("lualatex")
    if exe is None:
        return None
    tex_path = Path(tex_path)
    proc = subprocess.run(
        [exe, "-interaction=nonstopmode", "-halt-on-error", tex_path.name],
        cwd=tex_path.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    pdf = tex_path.with_suffix(".pdf")
    if proc.returncode != 0 or not pdf.exists():
        tail = " ".join(proc.stdout.split()[-30:])
        raise InvalidParameter(f"lualatex failed on {tex_path.name}: {tail}")
    return pdf


def _component_layout(graph, nodes, fixed=None):
    simple = nx.Graph()
    simple.add_nodes_from(nodes)
    simple.add_edges_from((u, v) for u, v in graph.edges(nodes) if u != v)
    if len(simple) == 1:
        return {x: (0.0, 0.0) for x in simple}
    if fixed:
        return nx.spring_layout(simple, pos=fixed, fixed=list(fixed), seed=1, k=1.2, iterations=300)
    if len(simple) == 2:
        a, b = list(simple)
        return {a: (-0.5, 0.0), b: (0.5, 0.0)}
    return nx.kamada_kawai_layout(simple)


def _layout(graph):
    """Legs on a circle (2 legs: left and right), vertices by a seeded spring layout;
    components without legs are laid out on their own and placed side by side below."""
    legs = sorted(
        (x for x, kind in graph.nodes(data="kind") if kind == "leg"),
        key=lambda x: repr(graph.nodes[x].get("leg")),
    )
    fixed = {}
    for i, x in enumerate(legs):
        angle = math.pi - 2 * math.pi * i / max(len(legs), 1)
        if len(legs) == 2:
            angle = math.pi if i == 0 else 0.0
        fixed[x] = (2.0 * math.cos(angle), 2.0 * math.sin(angle))
    pos = {}
    with_legs = set()
    for comp in nx.connected_components(graph):
        if comp & set(legs):
            with_legs |= comp
    if with_legs:
        pos.update(_component_layout(graph, with_legs, fixed))
    vacuum = [c for c in nx.connected_components(graph) if not c & with_legs]
    vacuum.sort(key=lambda c: sorted(map(repr, c)))
    y0 = -3.0 if with_legs else 0.0
    for k, comp in enumerate(vacuum):
        sub = _component_layout(graph, comp)
        for x, (px, py) in sub.items():
            pos[x] = (2.2 * (k - (len(vacuum) - 1) / 2) + 0.8 * px, y0 + 0.8 * py)
    return pos


def draw_png(graph, path, title: str | None = None) -> Path:
    """Draw a diagram with matplotlib (Agg) to ``path``.

    Parameters
    ----------
    graph : networkx.MultiGraph
        A diagram.
    path : str or pathlib.Path
        The PNG file to write.
    title : str, optional
        A caption above the drawing.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nnqft.diagrams import make_diagram
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "line.png"
    >>> draw_png(make_diagram([(1, 2)], legs={1: 1, 2: 2}), out).exists()
    True
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, FancyArrowPatch

    pos = _layout(graph)
    fig, ax = plt.subplots(figsize=(3.6, 3.0), dpi=100)
    bundles: Counter = Counter()
    totals = Counter(frozenset((u, v)) for u, v in graph.edges() if u != v)
    loops: Counter = Counter()
    for u, v, data in graph.edges(data=True):
        style, colour = _LINE.get(data.get("kind"), ("-", "k"))
        if u == v:
            k = loops[u]
            loops[u] += 1
            nbrs = [pos[y] for y in graph.neighbors(u) if y != u]
            if nbrs:  # point the loop away from the neighbours
                mx = sum(p[0] for p in nbrs) / len(nbrs) - pos[u][0]
                my = sum(p[1] for p in nbrs) / len(nbrs) - pos[u][1]
                base = math.atan2(-my, -mx) if (mx or my) else math.pi / 2
            else:
                base = 0.0
            angle = base + (k - (graph.number_of_edges(u, u) - 1) / 2) * math.pi / 2
            if not nbrs:
                angle = base + k * math.pi
            r = 0.28
            cx, cy = pos[u][0] + r * math.cos(angle), pos[u][1] + r * math.sin(angle)
            ax.add_patch(Circle((cx, cy), r, fill=False, lw=1.4, ls=style, color=colour))
            continue
        key = frozenset((u, v))
        m, i = totals[key], bundles[key]
        bundles[key] += 1
        rad = 0.0 if m == 1 else 0.5 * (i - (m - 1) / 2) / max((m - 1) / 2, 1)
        a, b = (u, v) if repr(u) < repr(v) else (v, u)
        arrow = "-"
        if data.get("directed"):
            arrow = "-|>" if data.get("head") == b else "<|-"
        ax.add_patch(
            FancyArrowPatch(
                pos[a],
                pos[b],
                connectionstyle=f"arc3,rad={rad}",
                arrowstyle=arrow,
                mutation_scale=12,
                lw=1.4,
                ls=style,
                color=colour,
                shrinkA=0,
                shrinkB=0,
            )
        )
    for x, data in graph.nodes(data=True):
        if data.get("kind") == "leg":
            ax.annotate(
                str(data.get("leg")),
                pos[x],
                ha="center",
                va="center",
                fontsize=10,
                bbox={"boxstyle": "circle", "fc": "white", "ec": "0.4"},
            )
        else:
            ax.plot(*pos[x], "o", color="k", ms=6)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    pad = 0.6
    ax.set_xlim(min(xs) - pad, max(xs) + pad)
    ax.set_ylim(min(ys) - pad, max(ys) + pad)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=7)
    kinds = {data.get("kind") for _, _, data in graph.edges(data=True)}
    legend = [text for kind, text in _LEGEND.items() if kind in kinds]
    if legend and kinds - {"response"}:
        caption = ";  ".join(legend)
        ax.text(0.5, -0.02, caption, transform=ax.transAxes, ha="center", va="top", fontsize=6)
    path = Path(path)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def write_drawings(diagrams, directory, png: bool = True, compile_pdf: bool = False) -> dict:
    """Write ``d0001.tex`` (TikZ-Feynman) and ``d0001.png`` per diagram into ``directory``
    plus ``diagrams.tex`` (all of them) and ``index.json`` (file stem -> id).

    ``diagrams`` are objects with ``graph`` and ``id`` attributes (e.g.
    :class:`nnqft.diagrams.phi4.Diagram`).  Returns the index.

    Parameters
    ----------
    diagrams : iterable
        Objects with ``graph`` and ``id`` attributes.
    directory : str or pathlib.Path
        An existing folder.
    png : bool, optional
        Also draw PNGs.
    compile_pdf : bool, optional
        Also compile ``diagrams.tex`` with lualatex where present.

    Returns
    -------
    dict
        The index: file stem -> canonical id.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    index = {}
    for k, d in enumerate(diagrams, start=1):
        stem = f"d{k:04d}"
        index[stem] = d.id
        (out / f"{stem}.tex").write_text(tikz_document([d.graph]))
        if png:
            sf = getattr(d, "symmetry_factor", None)
            draw_png(d.graph, out / f"{stem}.png", title=f"{stem}  S = {sf}" if sf else stem)
    (out / "diagrams.tex").write_text(
        tikz_document([d.graph for d in diagrams], [d.id for d in diagrams])
    )
    (out / "index.json").write_text(json.dumps(index, indent=1))
    if compile_pdf:
        compile_tikz(out / "diagrams.tex")
    return index
