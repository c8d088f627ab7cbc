"""What the theory is: activations, networks, actions and Feynman rules (data, light algebra).

This package imports neither :mod:`nnqft.diagrams` nor :mod:`nnqft.derive`; the sums over
indices it is written in are the algebra of :mod:`nnqft.algebra`.
"""
