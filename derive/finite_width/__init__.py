"""Finite-width recursions of feedforward networks (K0, K1, V) for any activation."""
