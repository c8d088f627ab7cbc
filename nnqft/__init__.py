"""nnqft: a symbolic derivation engine for the field theory of deep neural networks.

The public API is re-exported here lazily (importing nnqft does not import sympy):

>>> import nnqft
>>> nnqft.Network("feedforward", "relu", sigma_w2=2.0, sigma_b2=0.0).activation.name
'relu'
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: public name -> module that defines it (relative to nnqft)
_EXPORTS = {
    "NnqftError": ".errors",
    "InvalidParameter": ".errors",
    "InvalidType": ".errors",
    "UnknownName": ".errors",
    "UnknownActivation": ".errors",
    "OrderTooHigh": ".errors",
    "NoExactForm": ".errors",
    "ParseError": ".errors",
    "Network": ".rules.network",
    "Activation": ".rules.activations",
    "get_activation": ".rules.activations",
    "register_activation": ".rules.activations:register",
    "known_activations": ".rules.activations",
    "FeynmanRules": ".rules.feynman",
    "get_rules": ".rules.feynman",
    "on_phi4_rules": ".rules.feynman",
    "linear_network_rules": ".rules.feynman",
    "rules_from_action": ".rules.feynman",
    "Diagram": ".diagrams.phi4",
    "generate_diagrams": ".diagrams.phi4",
    "canonical_id": ".diagrams",
    "symmetry_factor": ".diagrams",
    "automorphism_count": ".diagrams",
    "correlator": ".derive.loops.amplitudes",
    "Correlator": ".derive.loops.amplitudes",
    "correlation_lengths": ".derive.loops.amplitudes",
    "length_map": ".derive.meanfield",
    "correlation_map": ".derive.meanfield",
    "q_trajectory": ".derive.meanfield",
    "correlation_trajectory": ".derive.meanfield",
    "chi_1": ".derive.meanfield",
    "chi_c": ".derive.meanfield",
    "chi_parallel": ".derive.meanfield",
    "fixed_point": ".derive.meanfield",
    "MeanField": ".derive.meanfield",
    "critical_point": ".derive.meanfield",
    "critical_line": ".derive.meanfield",
    "simulate": ".derive.montecarlo.simulate",
    "SimulationResult": ".derive.montecarlo.simulate",
    "LayerStatistics": ".derive.montecarlo.simulate",
    "fast_feedforward_preactivations": ".derive.montecarlo.simulate",
    "measure_lyapunov": ".derive.montecarlo.lyapunov",
    "LyapunovMeasurement": ".derive.montecarlo.lyapunov",
    "phase_diagram": ".derive.meanfield.phase",
    "plot_phase_diagram": ".derive.meanfield.phase",
    "finite_width": ".derive.finite_width.recursions",
    "finite_width_symbolic": ".derive.finite_width.recursions",
    "finite_width_two_inputs": ".derive.finite_width.recursions",
    "universality_class": ".derive.finite_width.recursions",
    "scale_invariant_closed_form": ".derive.finite_width.recursions",
    "msrdj_action": ".rules.action.msrdj",
    "saddle_point": ".rules.action.collective",
    "distance_recursion": ".rules.action.collective",
    "Derivation": ".derive.document.derivation",
    "register_chapter": ".derive.document.derivation",
    "field_theory": ".derive.document.field_theory",
    "render_document": ".derive.document.latex",
    "compile_pdf": ".derive.document.latex",
    "kernel": ".derive.export.kernels",
    "export": ".derive.export.base",
    "check": ".derive.check",
    "get_formula": ".derive.formulas",
    "list_formulas": ".derive.formulas",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    try:
        target = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'nnqft' has no attribute {name!r}") from None
    module, _, attr = target.partition(":")
    value = getattr(importlib.import_module(module, __name__), attr or name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
