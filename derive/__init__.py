"""What diagrams and maps are worth, and every way out to the user.

Mean-field theory, amplitudes, finite-width recursions, derivations, export, checks and
Monte Carlo of real networks.
"""
