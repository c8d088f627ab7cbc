"""The index-sum algebra (nnqft.algebra): equal sums compare equal whatever their dummies
are called, deltas contract, an entry's derivative picks out its terms; and the package
stands below nnqft.rules (imports nothing of rules, diagrams or derive)."""

import subprocess
import sys

import sympy as sp

from nnqft.algebra import NEURON, TIME, element_diff, normal_form, pool_of, simplify_sums

i, j, k = NEURON[:3]
t, s = TIME[:2]
N = sp.Symbol("N", positive=True, integer=True)
T = sp.Symbol("T", positive=True, integer=True)
x, y = sp.IndexedBase("x"), sp.IndexedBase("y")


def test_renamed_dummies_have_one_normal_form():
    a = sp.Sum(x[i] * y[j], (i, 1, N), (j, 1, N))
    b = sp.Sum(x[k] * y[i], (k, 1, N), (i, 1, N))
    assert normal_form(a - b) == []
    assert normal_form(a - sp.Sum(x[i] * y[i], (i, 1, N))) != []


def test_deltas_contract_and_empty_sums_count():
    summand = sp.KroneckerDelta(i, j) * x[i] * y[j]
    assert simplify_sums(sp.Sum(summand, (i, 1, N), (j, 1, N))) == sp.Sum(x[i] * y[i], (i, 1, N))
    assert simplify_sums(sp.Sum(x[i], (i, 1, N), (t, 1, T))) == T * sp.Sum(x[i], (i, 1, N))


def test_element_diff_picks_the_entry():
    q = sp.Function("Q")
    expr = sp.Sum(q(t, s) * x[t] * x[s], (t, 1, T), (s, 1, T))
    assert element_diff(expr, q(t, s)) == x[t] * x[s]


def test_numbered_indices_keep_their_kind():
    assert pool_of((sp.Symbol("t3"), 1, 2)) is TIME  # by name, though 2 looks like replicas


def test_algebra_imports_nothing_of_the_theory():
    code = (
        "import sys, nnqft.algebra; "
        "bad = [m for m in sys.modules if m.startswith(('nnqft.rules', 'nnqft.derive', "
        "'nnqft.diagrams'))]; print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_rules_action_imports_neither_diagrams_nor_derive():
    code = (
        "import sys, nnqft.rules.action; "
        "bad = [m for m in sys.modules if m.startswith(('nnqft.derive', 'nnqft.diagrams'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
