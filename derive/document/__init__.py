"""Derivations as documents: steps, the one LaTeX printer, Markdown, chapters, TeX."""
