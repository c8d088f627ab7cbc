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
    "correlator": ".derive.amplitudes",
    "Correlator": ".derive.amplitudes",
    "correlation_lengths": ".derive.amplitudes",
    "length_map": ".derive.mft",
    "correlation_map": ".derive.mft",
    "q_trajectory": ".derive.mft",
    "correlation_trajectory": ".derive.mft",
    "chi_1": ".derive.mft",
    "chi_c": ".derive.mft",
    "chi_parallel": ".derive.mft",
    "fixed_point": ".derive.mft",
    "MeanField": ".derive.mft",
    "critical_point": ".derive.mft",
    "critical_line": ".derive.mft",
    "simulate": ".derive.simulate",
    "SimulationResult": ".derive.simulate",
    "LayerStatistics": ".derive.simulate",
    "fast_feedforward_preactivations": ".derive.simulate",
    "measure_lyapunov": ".derive.lyapunov",
    "LyapunovMeasurement": ".derive.lyapunov",
    "phase_diagram": ".derive.phase",
    "plot_phase_diagram": ".derive.phase",
    "finite_width": ".derive.finite_width",
    "finite_width_symbolic": ".derive.finite_width",
    "finite_width_two_inputs": ".derive.finite_width",
    "universality_class": ".derive.finite_width",
    "scale_invariant_closed_form": ".derive.finite_width",
    "msrdj_action": ".rules.action",
    "saddle_point": ".rules.action",
    "distance_recursion": ".rules.action",
    "Derivation": ".derive.derivation",
    "register_chapter": ".derive.derivation",
    "field_theory": ".derive.field_theory",
    "render_document": ".derive.latex",
    "compile_pdf": ".derive.latex",
    "kernel": ".derive.kernels",
    "export": ".derive.codegen",
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
