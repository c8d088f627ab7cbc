"""The reference route the export tests compare generated code with: Gaussian quadrature
written here in numpy, independent of nnqft's own rules."""

import numpy as np

#: (q11, q22, q12) points: two inputs with different lengths, positive and negative overlap
POINTS = [(0.7, 1.3, 0.4), (1.5, 0.4, -0.3), (0.2, 2.0, 0.55)]


def gaussian_mean(phi, q11, q22, q12, nodes=80):
    """E[phi(u1) phi(u2)], (u1, u2) ~ N(0, [[q11, q12], [q12, q22]]), by a 2-d
    Gauss-Hermite rule written here (an independent route to the closed-form kernels)."""
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    z1, z2 = np.meshgrid(z, z, indexing="ij")
    u1 = np.sqrt(q11) * z1
    u2 = q12 / np.sqrt(q11) * z1 + np.sqrt(q22 - q12**2 / q11) * z2
    return float(np.sum(np.outer(w, w) * phi(u1) * phi(u2)))
