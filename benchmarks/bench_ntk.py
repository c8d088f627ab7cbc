"""The infinite-width NTK beside neural-tangents' ``stax`` kernels: values and whole processes.

neural-tangents (Google, https://github.com/google/neural-tangents) computes the NNGP and
NTK kernels of a ``stax`` network in closed form for the activations it knows.  In NTK
parameterisation its Dense layer is ``z = (W_std/sqrt(n)) w phi + b_std b`` with ``w, b``
the trained parameters, which is nnqft's convention with ``lambda_b = sigma_b2`` and
``lambda_W = sigma_w2`` (docs/conventions.md §10).  For each case the script prints
nnqft's H(L) (``nnqft ntk ... --json``), neural-tangents' NTK of the same network (L Dense
layers, the activation between them), their relative difference, and the whole-process
time of each.

neural-tangents 0.6.5 lists TensorFlow as a dependency for its TensorFlow bridge only; the
stax kernels need jax alone (0.4.30: it does not import with jax 0.10), so the peer script
stubs ``neural_tangents.experimental.empirical_tf`` and runs in an interpreter that has
them installed (``--nt-python``; not a dependency of nnqft)::

    python -m venv /tmp/ntvenv && /tmp/ntvenv/bin/pip install jax==0.4.30 jaxlib==0.4.30 \\
        numpy scipy frozendict absl-py && /tmp/ntvenv/bin/pip install --no-deps \\
        neural-tangents==0.6.5
    python benchmarks/bench_ntk.py --nt-python /tmp/ntvenv/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from process_timing import header, run

#: (activation, sigma_w2, sigma_b2, depth)
CASES = [
    ("erf", 1.5, 0.05, 10),
    ("relu", 2.0, 0.1, 10),
    ("gelu", 1.5, 0.05, 10),
    ("sin", 1.2, 0.1, 10),
    ("erf", 3.0, 0.5, 50),
]

PEER = """
import sys, types
stub = types.ModuleType("neural_tangents.experimental.empirical_tf.empirical")
stub.empirical_ntk_fn_tf = stub.get_apply_fn_and_params = None
sys.modules[stub.__name__] = stub
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
from neural_tangents import stax
act, sw, sb, depth = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
# nnqft's erf is erf(z), sin sin(z), gelu the exact z Phi(z): neural-tangents' defaults
nonlinearity = {"erf": stax.Erf, "relu": stax.Relu, "gelu": stax.Gelu, "sin": stax.Sin}[act]
layers = [stax.Dense(1, W_std=sw ** 0.5, b_std=sb ** 0.5)]
for _ in range(depth - 1):
    layers += [nonlinearity(), stax.Dense(1, W_std=sw ** 0.5, b_std=sb ** 0.5)]
_, _, kernel_fn = stax.serial(*layers)
x = jnp.ones((1, 16), dtype=jnp.float64)
print(float(kernel_fn(x, None, "ntk")[0, 0]))
"""


def nnqft_ntk(act, sw, sb, depth) -> list[str]:
    return [
        sys.executable, "-m", "nnqft", "ntk", "--activation", act, "--sigma-w2", str(sw),
        "--sigma-b2", str(sb), "--depth", str(depth), "--lambda-b", str(sb),
        "--lambda-w", str(sw), "--json",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nt-python", default="/tmp/ntvenv/bin/python")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(header())
    print()
    print("| activation | sigma_w2 | sigma_b2 | L | nnqft H(L) | neural-tangents | rel. diff "
          "| nnqft [s] | neural-tangents [s] |")
    print("|---|---|---|---|---|---|---|---|---|")
    for act, sw, sb, depth in CASES:
        ours_cmd = nnqft_ntk(act, sw, sb, depth)
        ours = json.loads(subprocess.run(ours_cmd, capture_output=True, check=True).stdout)
        h = ours["layers"][-1]["ntk"]
        peer_cmd = [args.nt_python, "-c", PEER, act, str(sw), str(sb), str(depth)]
        peer = float(subprocess.run(peer_cmd, capture_output=True, check=True).stdout)
        t_ours, _ = run(ours_cmd, args.repeat)
        t_peer, _ = run(peer_cmd, args.repeat)
        print(f"| {act} | {sw} | {sb} | {depth} | {h:.12g} | {peer:.12g} | "
              f"{abs(h - peer) / abs(peer):.1e} | {t_ours:.2f} | {t_peer:.2f} |")


if __name__ == "__main__":
    main()
