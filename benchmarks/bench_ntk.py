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

The second table times the two-input O(1/n) corrections and dNTK (``nnqft ntk --inputs 2
--c0 0.5 --json``: the 2x2 mean correction, fluctuations and P_abcd, Q_abcd per layer), with
``--before CMD`` beside the same command of another checkout (e.g. the commit before the
two recursions shared their plane rules), paired in one run: median wall and CPU (user +
system) seconds of whole processes, the CPU speed-up, and the largest relative difference
of any number in the two JSONs.  The last column is the same command with ``--width 64``
(the seeded Monte Carlo of 100 real networks, the JSON's ``simulation``), this checkout.  The
commands run in the current directory, so ``-P`` keeps a checkout's own ``nnqft/`` there from
shadowing the other one's::

    python benchmarks/bench_ntk.py --tables two-inputs --before "/old/venv/bin/python -P -m nnqft"
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys

from process_timing import header, run, run_cpu

#: (activation, sigma_w2, sigma_b2, depth)
CASES = [
    ("erf", 1.5, 0.05, 10),
    ("relu", 2.0, 0.1, 10),
    ("gelu", 1.5, 0.05, 10),
    ("sin", 1.2, 0.1, 10),
    ("erf", 3.0, 0.5, 50),
]

#: (activation, sigma_w2, sigma_b2, depth) of the two-input table, c0 = 0.5
TWO_INPUT_CASES = [
    ("tanh", 2.0, 0.05, 6),
    ("relu", 2.0, 0.05, 6),
    ("gelu", 2.0, 0.05, 6),
    ("erf", 2.0, 0.05, 6),
    ("tanh", 2.0, 0.05, 20),
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


def two_input_ntk(prefix: list[str], act, sw, sb, depth, width=None) -> list[str]:
    cmd = prefix + ["ntk", "--activation", act, "--sigma-w2", str(sw), "--sigma-b2", str(sb),
                    "--depth", str(depth), "--inputs", "2", "--c0", "0.5", "--json"]  # fmt: skip
    return cmd + ([] if width is None else ["--width", str(width)])


def max_rel_diff(a, b) -> float:
    """The largest |x - y| / max(|x|, |y|) over the numbers of two JSON values (inf where
    their structure differs)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return math.inf
        return max((max_rel_diff(a[k], b[k]) for k in a), default=0.0)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return math.inf
        return max((max_rel_diff(x, y) for x, y in zip(a, b)), default=0.0)
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)):
        return 0.0 if a == b else math.inf
    if not isinstance(b, (int, float)):
        return math.inf
    return 0.0 if a == b else abs(a - b) / max(abs(a), abs(b))


def two_input_table(before: list[str] | None, repeat: int) -> None:
    ours = [sys.executable, "-m", "nnqft"]
    print("| activation | sigma_w2 | sigma_b2 | L | before wall / CPU [s] | nnqft wall / CPU [s] "
          "| CPU speed-up | max rel. diff | with --width 64, wall / CPU [s] |")
    print("|---|---|---|---|---|---|---|---|---|")
    for act, sw, sb, depth in TWO_INPUT_CASES:
        cmd = two_input_ntk(ours, act, sw, sb, depth)
        wall, cpu, _ = run_cpu(cmd, repeat)
        old = diff = speedup = "-"
        if before:
            old_cmd = two_input_ntk(before, act, sw, sb, depth)
            old_wall, old_cpu, _ = run_cpu(old_cmd, repeat)
            outs = [json.loads(subprocess.run(c, capture_output=True, check=True).stdout)
                    for c in (old_cmd, cmd)]  # fmt: skip
            old = f"{old_wall:.2f} / {old_cpu:.2f}"
            diff, speedup = f"{max_rel_diff(*outs):.1e}", f"{old_cpu / cpu:.1f}"
        sim_wall, sim_cpu, _ = run_cpu(two_input_ntk(ours, act, sw, sb, depth, 64), repeat)
        print(f"| {act} | {sw} | {sb} | {depth} | {old} | {wall:.2f} / {cpu:.2f} | {speedup} "
              f"| {diff} | {sim_wall:.2f} / {sim_cpu:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nt-python", default="/tmp/ntvenv/bin/python")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tables", default="peer,two-inputs",
                        help="comma-separated: peer (neural-tangents), two-inputs")  # fmt: skip
    parser.add_argument("--before", help="another checkout's nnqft command (two-input table)")
    args = parser.parse_args()
    tables = args.tables.split(",")
    print(header())
    if "peer" in tables and not os.path.exists(args.nt_python):
        print(f"\n(no neural-tangents interpreter at {args.nt_python}: the peer table is left out)")
    elif "peer" in tables:
        print()
        peer_table(args.nt_python, args.repeat)
    if "two-inputs" in tables:
        print()
        two_input_table(shlex.split(args.before) if args.before else None, args.repeat)


def peer_table(nt_python: str, repeat: int) -> None:
    print("| activation | sigma_w2 | sigma_b2 | L | nnqft H(L) | neural-tangents | rel. diff "
          "| nnqft [s] | neural-tangents [s] |")
    print("|---|---|---|---|---|---|---|---|---|")
    for act, sw, sb, depth in CASES:
        ours_cmd = nnqft_ntk(act, sw, sb, depth)
        ours = json.loads(subprocess.run(ours_cmd, capture_output=True, check=True).stdout)
        h = ours["layers"][-1]["ntk"]
        peer_cmd = [nt_python, "-c", PEER, act, str(sw), str(sb), str(depth)]
        peer = float(subprocess.run(peer_cmd, capture_output=True, check=True).stdout)
        t_ours, _ = run(ours_cmd, repeat)
        t_peer, _ = run(peer_cmd, repeat)
        print(f"| {act} | {sw} | {sb} | {depth} | {h:.12g} | {peer:.12g} | "
              f"{abs(h - peer) / abs(peer):.1e} | {t_ours:.2f} | {t_peer:.2f} |")


if __name__ == "__main__":
    main()
