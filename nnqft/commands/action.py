"""``nnqft action`` (one network's field theory, derived) and ``nnqft paper`` (the whole
chain as one compiled document)."""

from __future__ import annotations

import click

from ._common import ARCH_TYPE, BIAS_HELP, BIAS_TYPE, OutputPath, check_bias, emit, json_option

_ARCH_HELP = "Architecture: feedforward or recurrent."


def _equation_rows(derivation) -> list[dict]:
    import sympy as sp

    from ..derive.document.latex import latex

    steps = []
    for step in derivation.steps:
        steps.append(
            {
                "title": step.title,
                "prose": step.prose,
                "source": step.source,
                "equations": [
                    {"sympy": sp.sstr(eq.expr), "latex": latex(eq.expr), "note": eq.note}
                    for eq in step.equations
                ],
            }
        )
    return steps


def _write(path, text: str) -> str:
    from pathlib import Path

    from ..errors import InvalidParameter

    p = Path(path)
    if p.parent and not p.parent.exists():
        raise InvalidParameter(f"cannot write {path}: folder {p.parent} does not exist")
    p.write_text(text)
    return str(p)


@click.command("action")
@click.option("--arch", type=ARCH_TYPE, default="feedforward", show_default=True, help=_ARCH_HELP)
@click.option("--bias", type=BIAS_TYPE, default=None, help=BIAS_HELP)
@click.option(
    "--activation",
    default=None,
    help="Specialise phi to this activation (name, name(params) or expression of z); "
    "default: phi stays abstract.",
)
@click.option(
    "--latex",
    "latex_file",
    type=OutputPath(suffixes=(".tex",)),
    default=None,
    help="Write the derivation as a LaTeX file (FILE.tex).",
)
@click.option(
    "--markdown", "markdown_file", type=OutputPath(), default=None, help="Write it as Markdown."
)
@click.option(
    "--pdf",
    is_flag=True,
    help="Compile the LaTeX file to PDF (needs latexmk or pdflatex; without --latex the file "
    "is nnqft-action-ARCH[-BIAS].tex in the current folder).",
)
@click.option(
    "--notebook",
    "notebook_file",
    type=OutputPath(suffixes=(".ipynb",)),
    default=None,
    help="Write the derivation as a Jupyter notebook (FILE.ipynb): Markdown cells with the "
    "equations, code cells evaluating the activation's maps with nnqft.kernel.",
)
@json_option
def action_command(arch, bias, activation, latex_file, markdown_file, pdf, notebook_file, as_json):
    """Derive a network's MSRDJ field theory: action, disorder average, collective fields,
    saddle point (mean-field maps), chi_1, Lyapunov exponent and edge of chaos.

    Every equation is computed by the engine; --latex/--pdf write it as a document.
    """
    from ..derive.document import field_theory as FT
    from ..derive.document.latex import compile_pdf, latex, render_document
    from ..derive.document.markdown import render_markdown
    from ..rules import action as A

    check_bias(arch, bias)
    if pdf:
        from ..derive.document.latex import tex_engine
        from ..errors import InvalidParameter

        if tex_engine() is None:
            raise InvalidParameter("--pdf needs a TeX engine: install latexmk or pdflatex")
        if latex_file is None:
            name = f"nnqft-action-{arch}{'-' + (bias or 'shared') if arch == 'recurrent' else ''}"
            latex_file = OutputPath(suffixes=(".tex",)).convert(f"{name}.tex", None, None)
    net = FT.network_for(arch, bias)
    derivation = FT.field_theory(arch, bias, activation)
    sp2 = A.saddle_point(net, replicas=2)
    dr = A.distance_recursion(net)
    act = None
    if activation is not None:
        from ..rules.activations import get_activation

        act = get_activation(activation)
    result = {
        "arch": net.arch,
        "bias": net.bias,
        "activation": act.name if act else None,
        "sign_convention": A.SIGN_CONVENTION_TEXT,
        "averaged_action": A.averaged_action(net),
        "length_map": sp2.maps["length"],
        "correlation_map": sp2.maps["correlation"],
        "chi_1": dr.chi_1,
        "lyapunov_exponent": dr.lyapunov.rhs,
        "critical": dr.critical,
    }
    if act is not None:
        res = FT.activation_results(act, net)
        result.update(
            {
                "length_map_specialised": res["length_map"],
                "chi_1_specialised": res["chi_1"],
                "critical_sigma_w2": res["critical"].rhs if res["critical"] is not None else None,
                "critical_condition": res["critical_condition_text"],
                "method": res["method"],
            }
        )
    result["latex_file"] = _write(latex_file, render_document(derivation)) if latex_file else None
    result["markdown_file"] = (
        _write(markdown_file, render_markdown(derivation)) if markdown_file else None
    )
    result["pdf_file"] = str(compile_pdf(latex_file).pdf) if pdf else None
    result["notebook_file"] = None
    if notebook_file:
        from ..derive.document.notebook import build_notebook, notebook_formulas, write_notebook

        formulas = notebook_formulas([act.name] if act is not None else [])
        nb = build_notebook([derivation], formulas, title=derivation.title.split(", $")[0])
        result["notebook_file"] = str(write_notebook(nb, notebook_file))
    result["steps"] = _equation_rows(derivation)
    if as_json:
        emit(result, True)
        return 0
    from ..derive.document.printer import plain

    lines = [
        f"{derivation.title.split(', $')[0]}: {len(derivation)} steps, "
        f"{len(derivation.equations())} equations",
        f"sign convention   {A.SIGN_CONVENTION_TEXT}",
    ]
    words = {
        "averaged_action": "averaged action",
        "length_map": "length map",
        "correlation_map": "correlation map",
        "chi_1": "chi_1",
    }
    for key, name in words.items():
        lines.append(f"{name:<17} {plain(result[key])}")
    lines.append(f"{'lyapunov':<17} lambda_max = {plain(result['lyapunov_exponent'])}")
    lines.append(f"{'edge of chaos':<17} chi_1 = 1; ordered chi_1 < 1, chaotic chi_1 > 1")
    if act is not None:
        spec_l, spec_chi = result["length_map_specialised"], result["chi_1_specialised"]
        lines.append(f"{'with ' + act.name:<17} L(q) = {plain(spec_l)}")
        lines.append(f"{'':<17} chi_1 = {plain(spec_chi)}  ({result['method']})")
        if result["critical_sigma_w2"] is not None:
            lines.append(
                f"{'':<17} critical sigma_w2 = {result['critical_sigma_w2']} "
                f"({result['critical_condition']})"
            )
    for key in ("latex_file", "markdown_file", "pdf_file", "notebook_file"):
        if result[key]:
            lines.append(f"{'wrote':<17} {result[key]}")
    if not latex_file:
        lines.append("(the full derivation: --latex FILE [--pdf], --markdown FILE, or --json)")
    del latex
    click.echo("\n".join(lines))
    return 0


@click.command("paper")
@click.option(
    "--out",
    "out_dir",
    type=OutputPath(kind="dir"),
    required=True,
    help="Folder to write the paper into (created if missing; its parent must exist).",
)
@click.option("--activation", default=None, help="Also specialise every chapter to it.")
@click.option(
    "--notebook",
    "notebook_file",
    type=OutputPath(suffixes=(".ipynb",)),
    default=None,
    help="Also write the paper as a Jupyter notebook (FILE.ipynb): Markdown cells with the "
    "equations, code cells evaluating every closed-form result with nnqft.kernel.",
)
@json_option
def paper_command(out_dir, activation, notebook_file, as_json):
    """Write the whole chain (model -> action -> disorder average -> collective fields ->
    saddle point -> MFT maps -> Lyapunov exponent -> edge of chaos, and every registered
    later chapter) as one LaTeX document and Markdown, and compile it to PDF when TeX is
    installed."""
    import sys
    from pathlib import Path

    from tqdm import tqdm

    from ..derive.document import derivation as D
    from ..derive.document.latex import compile_pdf, tex_engine
    from ..derive.document.paper import paper_document, write_paper
    from ..errors import InvalidParameter

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidParameter(f"--out {out_dir} exists and is not a folder")
    out.mkdir(exist_ok=True)
    chapters = []
    for name in tqdm(D.chapter_names(), desc="chapters", disable=None, file=sys.stderr):
        chapters.extend(D.paper_chapters(activation=activation, only=[name]))
    paper = paper_document(activation, chapters=chapters)
    written = write_paper(paper, out)
    tex_path, md_path = written["tex"], written["markdown"]
    result = {
        "tex": str(tex_path),
        "markdown": str(md_path),
        "pdf": None,
        "pdf_skipped": None,
        "latex_errors": None,
        "overfull_boxes": None,
        "chapters": [c.title for c in paper.chapters],
        "steps": sum(len(c) for c in paper.chapters),
        "equations": sum(len(c.equations()) for c in paper.chapters),
        "bibliography": str(written["bib"]),
        "undefined_references": None,
        "notebook": None,
    }
    if notebook_file:
        from ..derive.document.field_theory import EXAMPLE_ACTIVATIONS
        from ..derive.document.notebook import build_notebook, notebook_formulas, write_notebook

        names = [*EXAMPLE_ACTIVATIONS, *([activation] if activation else [])]
        nb = build_notebook(paper.chapters, notebook_formulas(names, linear=True), paper.title)
        result["notebook"] = str(write_notebook(nb, notebook_file))
    if tex_engine() is None:
        result["pdf_skipped"] = "no TeX engine found (install latexmk or pdflatex)"
    else:
        compiled = compile_pdf(tex_path)
        result.update(
            pdf=str(compiled.pdf),
            latex_errors=len(compiled.errors),
            overfull_boxes=len(compiled.overfull),
            undefined_references=len(compiled.undefined),
        )
    emit(result, as_json)
    return 0


commands = [action_command, paper_command]
