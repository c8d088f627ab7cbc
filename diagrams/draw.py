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
    components without legs are laid out on their own and placed side by side below.
    A diagram whose every node carries a ``pos`` (its generator's drawing) keeps it."""
    given = dict(graph.nodes(data="pos"))
    if given and all(p is not None for p in given.values()):
        return {x: (float(p[0]), float(p[1])) for x, p in given.items()}
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


# --- plain TikZ with fixed coordinates (pdflatex, no layout engine) ------------------------

#: the preamble lines a document with :func:`tikz_picture` drawings needs
TIKZ_PREAMBLE = (
    r"\usepackage{tikz}",
    r"\usetikzlibrary{decorations.markings,arrows.meta}",
    r"\tikzset{"
    r"nnqft response/.style={thick,postaction={decorate},decoration={markings,"
    r"mark=at position 0.55 with {\arrow{Stealth[length=4pt]}}}},"
    r"nnqft correlator/.style={thick,dashed},"
    r"nnqft disorder/.style={thick,dotted,gray},"
    r"nnqft phi/.style={thick},"
    r"nnqft vertex/.style={circle,fill,inner sep=0pt,minimum size=4pt},"
    r"nnqft end/.style={circle,draw,fill=white,inner sep=0pt,minimum size=5pt},"
    r"nnqft label/.style={font=\scriptsize,inner sep=1pt}}",
)

#: what each line kind means, in words, for the legend of a chapter's drawings
TIKZ_LEGEND = {
    "response": r"response line $\langle z\,\tilde z\rangle$, arrow from the source to the readout",
    "correlator": r"correlator (bias) line $\sigma_b^2 B(t,s)$, or the input's $q_0$",
    "disorder": r"W pair: one double-trace vertex $\sigma_w^2/N$",
    "phi": r"propagator",
}


def line_kinds(graph) -> tuple[str, ...]:
    """The line kinds a :func:`tikz_picture` of ``graph`` draws, in legend order.

    >>> from nnqft.diagrams.network import trace_diagrams
    >>> line_kinds(trace_diagrams(0)[1].graph())
    ('response', 'correlator', 'disorder')
    """
    kinds = {data.get("kind", "phi") for _, _, data in graph.edges(data=True)}
    lens = _lens(graph)
    if lens is not None and len(lens[3]) == 1:
        kinds.add("correlator")  # one source: drawn as two ends and the line joining them
    return tuple(k for k in TIKZ_LEGEND if k in kinds) + tuple(
        sorted(k for k in kinds if k not in TIKZ_LEGEND)
    )


def tikz_legend(kinds) -> str:
    """One ``tikzpicture`` line sample per kind with its meaning (once per chapter).

    >>> "dotted" in tikz_legend(["disorder"]) or "nnqft disorder" in tikz_legend(["disorder"])
    True
    """
    rows = []
    for k, kind in enumerate(kinds):
        y = -0.45 * k
        style = f"nnqft {kind}" if kind in TIKZ_LEGEND else "nnqft phi"
        text = TIKZ_LEGEND.get(kind, kind)
        rows.append(
            rf"\draw[{style}] (0,{y:.2f}) -- (0.9,{y:.2f}); "
            rf"\node[anchor=west,font=\small] at (1.1,{y:.2f}) {{{text}}};"
        )
    return "\\begin{tikzpicture}\n" + "\n".join(rows) + "\n\\end{tikzpicture}"


def _lens(graph):
    """The two response lines of a diagram of E Q(T): ``(top, bottom, readout, sources)``
    with each line the list of its W vertices from the source to the readout, or None
    when ``graph`` is not such a diagram (no readout leg, or not two response lines)."""
    readout = [x for x, d in graph.nodes(data=True) if d.get("leg") == "readout"]
    sources = sorted(
        (x for x, d in graph.nodes(data=True) if "source" in (d.get("leg"), d.get("kind"))),
        key=repr,
    )
    if len(readout) != 1 or not sources:
        return None
    (end,) = readout
    out_edges = []  # (tail, head) of each response edge
    for u, v, d in graph.edges(data=True):
        if d.get("kind") not in ("response", "disorder", "correlator"):
            return None
        if d.get("kind") != "response":
            continue
        head = d.get("head", v)
        out_edges.append((u if head == v else v, head))
    successors: dict = {}
    for tail, head in out_edges:
        successors.setdefault(tail, []).append(head)
    lines = []
    starts = [(s, h) for s in sources for h in successors.get(s, [])]
    if len(starts) != 2:
        return None
    for _start, first in starts:
        path, x = [], first
        while x != end:
            path.append(x)
            nxt = successors.get(x, [])
            if len(nxt) != 1 or len(path) > graph.number_of_nodes():
                return None
            x = nxt[0]
        lines.append(path)
    return lines[0], lines[1], end, sources


def _opening(unit: float) -> str:
    return (
        rf"\begin{{tikzpicture}}[x={unit}cm,y={unit}cm,"
        r"baseline=(current bounding box.center)]"
    )


def _time_label(graph, x) -> str:
    t = graph.nodes[x].get("time")
    return "" if t is None else f"${t}$"


def _lens_picture(graph, lens, unit: float) -> str:
    top, bottom, end, sources = lens
    width = max(len(top), len(bottom), 1) + 1
    height = 0.55
    pos: dict = {}
    for row, y in ((top, height), (bottom, -height)):
        for i, x in enumerate(row):
            pos[x] = ((i + 1) * width / (len(row) + 1), y)
    pos[end] = (width + 0.35, 0.0)
    ends = ("src-a", "src-b")
    lines = [_opening(unit)]

    def at(p):
        return f"({p[0]:.3f},{p[1]:.3f})"

    lines.append(rf"\node[nnqft end] ({ends[0]}) at (0,{height}) {{}};")
    lines.append(rf"\node[nnqft end] ({ends[1]}) at (0,{-height}) {{}};")
    lines.append(rf"\node[nnqft end] (readout) at {at(pos[end])} {{}};")
    lines.append(r"\node[nnqft label,right] at (readout.east) {$T$};")
    names = {}
    for k, x in enumerate(top + bottom):
        names[x] = f"w{k}"
        lines.append(rf"\node[nnqft vertex] (w{k}) at {at(pos[x])} {{}};")
        label = _time_label(graph, x)
        if label:
            side = "above" if x in top else "below"
            lines.append(rf"\node[nnqft label,{side}=2pt] at (w{k}) {{{label}}};")
    # one source node (x or b, summed): its two ends joined by the correlator line; two
    # source nodes: joined where the graph joins them (a bias), else the input x at both
    joined = len(sources) == 1 or any(
        d.get("kind") == "correlator" for _, _, d in graph.edges(data=True)
    )
    if joined:
        lines.append(rf"\draw[nnqft correlator] ({ends[0]}) -- ({ends[1]});")
    else:
        for e in ends:
            lines.append(rf"\node[nnqft label,left] at ({e}.west) {{$x$}};")
    for start, row in zip(ends, (top, bottom)):
        chain = [start, *(names[x] for x in row), "readout"]
        for a, b in zip(chain, chain[1:]):
            lines.append(rf"\draw[nnqft response] ({a}) -- ({b});")
    top_set = set(top)
    for u, v, d in graph.edges(data=True):
        if d.get("kind") != "disorder":
            continue
        if (u in top_set) == (v in top_set):  # within one line: an arc away from the other
            a, b = sorted((u, v), key=lambda x: pos[x][0])
            span = pos[b][0] - pos[a][0]
            up = u in top_set
            out, into = (60, 120) if up else (-60, -120)
            looseness = min(1.0 + 0.15 * span, 1.6)
            lines.append(
                rf"\draw[nnqft disorder] ({names[a]}) to[out={out},in={into},"
                rf"looseness={looseness:.2f}] ({names[b]});"
            )
        else:
            lines.append(rf"\draw[nnqft disorder] ({names[u]}) -- ({names[v]});")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def tikz_picture(graph, unit: float = 0.6) -> str:
    r"""A diagram as a plain ``tikzpicture`` with fixed coordinates (compiles with pdflatex;
    needs :data:`TIKZ_PREAMBLE`).

    A diagram of E Q(T) (a readout leg, two response lines from the source) is drawn as
    two rows, the first factor of z(T).z(T) above and the second below, from the source
    on the left (its two ends joined by the correlator line: the bias, or the input) to the
    readout at time T on the right; W pairs within a line arc away from the other line,
    pairs across the lines join the rows, and W vertices with a fixed time carry it.
    Any other diagram (phi^4: tadpole, sunset, ...) is placed by :func:`_layout` (legs left
    and right), parallel lines bent apart and self-loops drawn as loops.

    Parameters
    ----------
    graph : networkx.MultiGraph
        A diagram in the conventions of :mod:`nnqft.diagrams`.
    unit : float, optional
        Centimetres per layout unit.

    Returns
    -------
    str
        ``\begin{tikzpicture} ... \end{tikzpicture}``.

    Examples
    --------
    >>> from nnqft.diagrams.network import trace_diagrams
    >>> pic = tikz_picture(trace_diagrams(0)[1].graph())
    >>> pic.count("nnqft vertex"), pic.count("nnqft disorder")
    (2, 1)
    """
    lens = _lens(graph)
    if lens is not None:
        return _lens_picture(graph, lens, unit)
    return _generic_picture(graph, unit)


def _generic_picture(graph, unit: float) -> str:
    pos = _layout(graph)
    names = {x: f"v{k}" for k, x in enumerate(sorted(graph.nodes, key=repr))}
    lines = [_opening(unit)]
    for x, data in sorted(graph.nodes(data=True), key=lambda item: repr(item[0])):
        px, py = pos[x]
        if data.get("kind") == "leg":
            lines.append(
                rf"\node[nnqft end] ({names[x]}) at ({px:.3f},{py:.3f}) {{}};"
                rf" \node[nnqft label,{'left' if px < 0 else 'right'}] at ({names[x]}) "
                rf"{{${_leg_label(data.get('leg'))}$}};"
            )
        else:
            lines.append(rf"\node[nnqft vertex] ({names[x]}) at ({px:.3f},{py:.3f}) {{}};")
    totals = Counter(frozenset((u, v)) for u, v in graph.edges() if u != v)
    seen: Counter = Counter()
    loops: Counter = Counter()
    for u, v, data in graph.edges(data=True):
        kind = data.get("kind", "phi")
        style = f"nnqft {kind}" if kind in TIKZ_LEGEND else "nnqft phi"
        if data.get("directed") and data.get("head") == u and u != v:
            u, v = v, u
        if u == v:
            k = loops[u]
            loops[u] += 1
            angle = 90 + 180 * k
            lines.append(
                rf"\draw[{style}] ({names[u]}) to[out={angle - 35},in={angle + 35},"
                rf"looseness=12] ({names[u]});"
            )
            continue
        key = frozenset((u, v))
        m, i = totals[key], seen[key]
        seen[key] += 1
        bend = 0 if m == 1 else int(round(60 * (i - (m - 1) / 2) / max((m - 1) / 2, 1)))
        path = "--" if bend == 0 else f"to[bend left={bend}]"
        lines.append(rf"\draw[{style}] ({names[u]}) {path} ({names[v]});")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)
