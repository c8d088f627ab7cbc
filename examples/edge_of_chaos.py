"""The edge of chaos of a tanh network, derived and then checked against real networks.

Run: python examples/edge_of_chaos.py
"""

import nnqft

# 1. Where is the edge of chaos at sigma_b2 = 0.05?  (chi_1 = 1, docs/conventions.md §3)
edge = nnqft.critical_point("tanh", sigma_b2=0.05)
print(f"critical sigma_w2 = {edge.sigma_w2:.6f}, q* = {edge.q_star:.6f}")

# 2. Mean-field theory on either side of it
for sigma_w2 in (1.5, edge.sigma_w2, 2.5):
    mf = nnqft.fixed_point(nnqft.Network("feedforward", "tanh", sigma_w2, 0.05))
    print(f"sigma_w2 = {sigma_w2:.4f}: {mf.phase:8s} chi_1 = {mf.chi_1:.4f}  xi_c = {mf.xi_c:.1f}")

# 3. The same numbers from real random networks: q(t) from theory vs Monte Carlo
net = nnqft.Network("feedforward", "tanh", sigma_w2=1.5, sigma_b2=0.05, width=256, depth=6)
theory = nnqft.q_trajectory(net)
result = nnqft.simulate(net, samples=2000, seed=1)
for row, q in zip(result.layers, theory):
    pull = (row.mean - q) / row.mean_stderr
    print(
        f"layer {row.layer}: simulated {row.mean:.4f} +- {row.mean_stderr:.4f}, "
        f"mean field {q:.4f} ({pull:+.1f} sigma)"
    )
