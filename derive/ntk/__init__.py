"""The neural tangent kernel at infinite width (docs/conventions.md §9): numbers per layer
(:mod:`.kernel`), sympy per layer and closed forms in the layer index (:mod:`.symbolic`)."""

from .kernel import check_correlation, learning_rates, ntk_trajectory

__all__ = ["ntk_trajectory", "learning_rates", "check_correlation"]
