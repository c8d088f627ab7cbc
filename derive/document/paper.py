r"""The paper: an introduction, the conventions, the registered chapters, a bibliography.

:func:`paper_document` assembles what ``nnqft paper`` writes: the introduction and the
conventions (definitions of the measure, the sign of the response field, q, c, the chi's
and the depth scales, each a sympy object), then every chapter of the registry
(:func:`nnqft.derive.document.derivation.paper_chapters`).  The references are the BibTeX
file shipped with the package (:data:`BIBLIOGRAPHY`), cited by key in the prose;
:func:`write_paper` writes the .tex, the .bib beside it and the Markdown.

>>> doc = paper_document(only=["examples"])
>>> [c.label for c in doc.chapters][:3]
['sec:intro', 'sec:conventions', 'sec:examples']
>>> sorted(cited_keys(doc.chapters))[:2]
['DeDominicis1976', 'GrosvenorJefferson2022']
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from ...rules import action as A
from ...rules import symbols as S
from .derivation import Derivation, Step, paper_chapters

__all__ = [
    "BIBLIOGRAPHY",
    "TITLE",
    "Paper",
    "introduction",
    "conventions_chapter",
    "front_matter",
    "paper_document",
    "cited_keys",
    "bibliography_keys",
    "write_paper",
]

#: the BibTeX file of the paper's references, shipped with the package
BIBLIOGRAPHY = Path(__file__).with_name("nnqft.bib")

TITLE = "The field theory of deep neural networks, derived"

_ABSTRACT = (
    "We derive the statistical field theory of random deep networks, feedforward and "
    "recurrent, in the Martin--Siggia--Rose--Janssen--De Dominicis (MSRDJ) formalism: the "
    "disorder-averaged action, its collective fields and their saddle point, which is the "
    "mean-field theory of signal propagation, the depth scales, the largest Lyapunov "
    "exponent and the edge of chaos, and the first corrections in the inverse width 1/N "
    "of linear networks. Every equation was computed by the symbolic engine nnqft; "
    "nothing in the mathematics was typed into a template."
)

_INTRODUCTION = (
    "A deep network with random Gaussian weights is a disordered dynamical system: the "
    "pre-activations of layer $t$ are driven by those of layer $t-1$ through a random "
    "matrix. The MSRDJ path integral \\cite{MartinSiggiaRose1973,Janssen1976,"
    "DeDominicis1976} turns the update rule into an action whose average over the weights "
    "is exact, and which was first used for random recurrent networks by Sompolinsky, "
    "Crisanti and Sommers \\cite{SompolinskyCrisantiSommers1988}; Helias and Dahmen give a "
    "textbook account \\cite{HeliasDahmen2020}. At infinite width $N$ the collective fields "
    "sit at a saddle point: the mean-field theory of signal propagation, whose length and "
    "correlation maps, slopes $\\chi$ and depth scales $\\xi$ decide whether signals and "
    "gradients survive depth \\cite{Poole2016,Schoenholz2017}. Fluctuations about the saddle "
    "are suppressed by $1/N$, the analogue of the 't Hooft expansion of the O(N) vector "
    "model; Roberts, Yaida and Hanin develop the finite-width theory of feedforward "
    "networks \\cite{RobertsYaidaHanin2022}, and Grosvenor and Jefferson the field theory of "
    "both architectures and its loop corrections \\cite{GrosvenorJefferson2022}, which this "
    "document follows. "
    "Section~\\ref{sec:conventions} fixes the conventions; Section~\\ref{sec:ff} derives the "
    "feedforward theory step by step, the recurrent chapters state what differs, "
    "Section~\\ref{sec:examples} specialises the maps to common activations, and the later "
    "chapters give the 1/N corrections of linear networks. "
    "Appendix~\\ref{app:provenance} names the function of the engine behind every step."
)


@dataclass(frozen=True)
class Paper:
    """A paper: its title, abstract, chapters (Derivations) and BibTeX file."""

    title: str
    abstract: str
    chapters: tuple
    bibliography: Path = BIBLIOGRAPHY


def introduction() -> Derivation:
    """The introduction: what is derived, the literature it follows, the plan.

    >>> introduction().label
    'sec:intro'
    """
    return Derivation("Introduction", (), _INTRODUCTION, label="sec:intro")


def _eq(lhs, rhs) -> sp.Eq:
    return sp.Eq(lhs, rhs, evaluate=False)


def conventions_chapter() -> Derivation:
    """The conventions: the MSRDJ measure and its normalisation, the sign of the response
    field, and the definitions of q, c, chi_1, chi_parallel, chi_c, xi_q, xi_c.

    The definitions are built from the engine's own objects (Gaussian means, the
    disorder average), so they print in the notation of the derivation.

    >>> [s.label for s in conventions_chapter().steps]
    ['sec:conv-msrdj', 'sec:conv-observables', 'sec:conv-slopes']
    """
    t, s_ = A.TIME[:2]
    i = A.NEURON[0]
    u1, u2 = sp.symbols("u1 u2", real=True)
    Qobs = sp.Function("Q")
    q, c = sp.Function("q"), sp.Function("c")
    c_star, xi_q, xi_c = sp.Symbol("c_star"), sp.Symbol("xi_q"), sp.Symbol("xi_c")
    chi_par, chi_c = sp.Symbol("chi_parallel"), sp.Symbol("chi_c")
    q11, q22, q12 = (sp.Function(n) for n in ("q_11", "q_22", "q_12"))
    dphi = sp.Derivative(A.phi(A.u), A.u)
    measure = Step(
        "The MSRDJ measure and the response field",
        "Each update rule $z_i(t) = \\sum_j W_{ij}(t)\\phi(z_j(t-1)) + b_i(t)$ is imposed by a "
        "delta function written as an integral over a response field $\\tilde z_i(t)$ running "
        "along the imaginary axis, "
        "$\\delta(z - f) = \\int_{-i\\infty}^{i\\infty} \\frac{d\\tilde z}{2\\pi i}\\, "
        "e^{-\\tilde z (z - f)}$. The measure $\\mathcal{D}z\\,\\mathcal{D}\\tilde z$ is the "
        "product of $dz\\, d\\tilde z/(2\\pi i)$ over neurons and times, so that with the "
        "sources off $Z = 1$ for every realisation of the weights and biases, before and "
        "after the average; hence moments of response fields alone vanish. The sign: "
        + A.SIGN_CONVENTION
        + " This is the convention of \\cite{HeliasDahmen2020,GrosvenorJefferson2022}.",
        (_eq(sp.Symbol("Z"), A.DisorderAverage(A.PathIntegral(sp.Symbol("S"), A.z, A.zt))),),
        "nnqft.rules.action.msrdj_action",
        label="sec:conv-msrdj",
    )
    observables = Step(
        "Observables: length and correlation",
        "The length $Q(t)$ of a layer is the mean square pre-activation; its mean-field value "
        "$q(t)$ is the limit of its disorder average at infinite width. Two inputs $x^1, x^2$ "
        "through the same weights have variances $q_{11}, q_{22}$, covariance $q_{12}$ and "
        "correlation coefficient $c$.",
        (
            _eq(Qobs(t), sp.Sum(A.z[i, t] ** 2, (i, 1, S.N)) / S.N),
            _eq(q(t), sp.Limit(A.DisorderAverage(Qobs(t)), S.N, sp.oo)),
            _eq(c(t), q12(t) / sp.sqrt(q11(t) * q22(t))),
        ),
        "nnqft.rules.action.objects",
        label="sec:conv-observables",
    )
    gm = A.GaussianMean
    bgm = A.BivariateGaussianMean
    slopes = Step(
        "Slopes and depth scales",
        "With $q^*$ the fixed point of the length map and $c^*$ that of the correlation map: "
        "$\\chi_1$ is the mean squared singular value of a layer's Jacobian, $\\chi_\\parallel$ "
        "the slope of the length map and $\\chi_c$ that of the normalised correlation map "
        "(by Price's theorem); the depth scales are the decay lengths of the deviations "
        "from the fixed points, $|q(t) - q^*| \\sim e^{-t/\\xi_q}$ and $|c(t) - c^*| \\sim "
        "e^{-t/\\xi_c}$ \\cite{Poole2016,Schoenholz2017}. Here $\\int\\mathcal{D}z$ is the "
        "standard Gaussian measure, and $u_{1,2}$ have variance $q^*$ and correlation $c^*$.",
        (
            _eq(A.chi_1, S.sigma_w2 * gm(sp.Lambda(A.u, dphi**2), A.q_star)),
            _eq(
                chi_par,
                S.sigma_w2
                * sp.Subs(
                    sp.Derivative(gm(sp.Lambda(A.u, A.phi(A.u) ** 2), S.q), S.q), S.q, A.q_star
                ),
            ),
            _eq(
                chi_c,
                S.sigma_w2
                * bgm(
                    sp.Lambda(
                        (u1, u2),
                        sp.Derivative(A.phi(u1), u1) * sp.Derivative(A.phi(u2), u2),
                    ),
                    A.q_star,
                    A.q_star,
                    c_star * A.q_star,
                ),
            ),
            _eq(xi_q, -1 / sp.log(chi_par)),
            _eq(xi_c, -1 / sp.log(chi_c)),
            _eq(A.lambda_max, sp.log(A.chi_1) / 2),
        ),
        "docs/conventions.md (definitions)",
        label="sec:conv-slopes",
    )
    del s_
    return Derivation(
        "Conventions",
        (measure, observables, slopes),
        "The network is $z_i(t) = \\sum_j W_{ij}(t)\\phi(z_j(t-1)) + b_i(t)$ with "
        "$W_{ij}(t) \\sim \\mathcal{N}(0, \\sigma_w^2/N)$, $b_i(t) \\sim \\mathcal{N}(0, "
        "\\sigma_b^2)$ and input $x$ of length $q_0 = |x|^2/N$; $N$ is the width and $T$ the "
        "depth (the number of steps of a recurrent network). Logarithms are natural.",
        label="sec:conventions",
    )


def front_matter() -> tuple:
    """The chapters before the registered ones: the introduction and the conventions."""
    return (introduction(), conventions_chapter())


def paper_document(activation=None, only: list[str] | None = None, chapters=None) -> Paper:
    """The whole paper: introduction, conventions, then the registered chapters (or those
    named in ``only``, or the Derivations given as ``chapters``)."""
    body = tuple(chapters) if chapters is not None else tuple(paper_chapters(activation, only))
    return Paper(TITLE, _ABSTRACT, (*front_matter(), *body))


_CITE = re.compile(r"\\cite\{([^}]*)\}")


def cited_keys(chapters) -> set:
    """Every key cited in the chapters' prose and summaries."""
    keys = set()
    for chapter in chapters:
        texts = [chapter.summary, *(s.prose for s in chapter.steps)]
        for text in texts:
            for group in _CITE.findall(text):
                keys.update(k.strip() for k in group.split(","))
    return keys


def bibliography_keys(path: Path = BIBLIOGRAPHY) -> dict:
    """{key: one-line reference} for every entry of a BibTeX file (author, title, year)."""
    text = Path(path).read_text()
    out = {}
    for m in re.finditer(r"@\w+\{([^,]+),(.*?)\n\}", text, flags=re.S):
        fields = dict(re.findall(r"(\w+)\s*=\s*\{((?:[^{}]|\{[^{}]*\})*)\}", m.group(2)))
        clean = {k: re.sub(r"[{}\\\"']|\s+", " ", v).strip() for k, v in fields.items()}
        clean = {k: re.sub(r"\s+", " ", v) for k, v in clean.items()}
        where = clean.get("journal") or clean.get("booktitle") or clean.get("publisher", "")
        author, title, year = (clean.get(k, "") for k in ("author", "title", "year"))
        out[m.group(1).strip()] = f"{author}, {title}, {where} ({year})"
    return out


def write_paper(paper: Paper, out: Path, stem: str = "nnqft-paper") -> dict:
    """Write ``paper`` into the folder ``out``: STEM.tex, the .bib beside it, STEM.md.

    Returns
    -------
    dict
        ``{"tex": Path, "bib": Path, "markdown": Path}``.
    """
    from .latex import render_document
    from .markdown import render_markdown

    out = Path(out)
    bib = out / paper.bibliography.name
    shutil.copyfile(paper.bibliography, bib)
    tex = out / f"{stem}.tex"
    tex.write_text(
        render_document(
            list(paper.chapters),
            title=paper.title,
            abstract=paper.abstract,
            bibliography=bib.stem,
        )
    )
    md = out / f"{stem}.md"
    md.write_text(
        render_markdown(list(paper.chapters), title=paper.title, references=bibliography_keys(bib))
    )
    return {"tex": tex, "bib": bib, "markdown": md}
