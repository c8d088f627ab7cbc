"""Where Monte Carlo chunks run: serially, on a local Dask cluster, on a cluster at an address,
with JAX.  The same seed gives the same bits everywhere (numpy), and the same statistics
with JAX (other random streams: agreement within 4 standard errors).  Only 127.0.0.1."""

import json
import logging
import socket
import sys
import time

import numpy as np
import pytest
from conftest import run_cli

from nnqft.derive.montecarlo import chunks
from nnqft.derive.montecarlo.chunks import (
    MissingDependency,
    SchedulerUnreachable,
    resolve_scheduler,
    run_chunks,
)
from nnqft.derive.montecarlo.lyapunov import measure_lyapunov
from nnqft.derive.montecarlo.simulate import simulate
from nnqft.errors import InvalidParameter
from nnqft.rules.network import Network

SIM = ["simulate", "--activation", "tanh", "--sigma-w2", "1.5", "--width", "8", "--depth", "2"]
SIM += ["--samples", "10"]

#: recurrent N = 64: 488 networks per chunk, so 1500 networks are 4 chunks
RECURRENT = Network("recurrent", "tanh", 2.0, 0.1, width=64, depth=4, bias="fresh")


@pytest.fixture(scope="module")
def cluster():
    """A 2-worker LocalCluster on 127.0.0.1 (one process per worker), shared by this module."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    ) as c:
        yield c.scheduler_address


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- bit-identical across schedulers --------------------------------------------------------


@pytest.mark.slow
def test_simulate_on_a_two_worker_cluster_is_bit_identical(cluster):
    assert cluster.startswith("tcp://127.0.0.1:")
    one = simulate(RECURRENT, 1500, seed=21, inputs=2, c0=0.2, jobs=1)
    remote = simulate(RECURRENT, 1500, seed=21, inputs=2, c0=0.2, scheduler=cluster)
    assert one.rows() == remote.rows()
    other = simulate(RECURRENT, 1500, seed=22, inputs=2, c0=0.2, scheduler=cluster)
    assert one.rows() != other.rows()


@pytest.mark.slow
def test_lyapunov_on_a_two_worker_cluster_is_bit_identical(cluster):
    net = Network("recurrent", "tanh", 4.0, 0.3, width=100, bias="fresh")  # 400 per chunk
    one = measure_lyapunov(net, 900, steps=5, burn_in=2, seed=3, jobs=1)
    two = measure_lyapunov(net, 900, steps=5, burn_in=2, seed=3, scheduler=cluster)
    assert (one.exponent, one.stderr) == (two.exponent, two.stderr)
    assert np.isfinite(one.stderr) and one.samples == 900


@pytest.mark.slow
def test_jobs_2_starts_a_local_cluster_with_the_same_numbers():
    pytest.importorskip("distributed")
    one = simulate(RECURRENT, 1000, seed=5, jobs=1)
    two = simulate(RECURRENT, 1000, seed=5, jobs=2)  # scheduler 'local' by default
    assert one.rows() == two.rows()


def _sleepy(index, count):
    """Earlier chunks finish later: completion order is the reverse of chunk order."""
    time.sleep(0.3 * (count - index))
    return index


@pytest.mark.slow
def test_results_come_back_in_chunk_order_not_completion_order(cluster):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    try:
        assert run_chunks(_sleepy, [(i, 4) for i in range(4)], scheduler=cluster) == [0, 1, 2, 3]
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


@pytest.mark.slow
def test_cli_tcp_scheduler_gives_the_numbers_of_one_process(cluster, capsys):
    args = ["simulate", "--arch", "recurrent", "--bias", "fresh", "--activation", "tanh"]
    args += ["--sigma-w2", "2", "--sigma-b2", "0.1", "--width", "64", "--depth", "3"]
    args += ["--samples", "1200", "--json"]
    code, one, err = run_cli(args, capsys)
    assert code == 0, err
    code, remote, err = run_cli([*args, "--scheduler", cluster], capsys)
    assert code == 0, err
    assert json.loads(one) == json.loads(remote)


# --- bad schedulers: one line ---------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1:8786", "tcp://", "tcp://host", "tcp://host:0", "tcp://host:65536", "udp://h:1",
     "tcp://a b:1", "local "],
)  # fmt: skip
def test_bad_scheduler_addresses(address, capsys):
    with pytest.raises(InvalidParameter):
        resolve_scheduler(address)
    code, out, err = run_cli([*SIM, "--scheduler", address], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("nnqft: error: --scheduler must be 'local' or tcp://HOST:PORT"), err


def test_good_scheduler_addresses():
    for address in ("local", "serial", "tcp://127.0.0.1:8786", "tcp://[::1]:8786", "tcp://h-1:1"):
        assert resolve_scheduler(address) == address
    assert resolve_scheduler(None, 1) == "serial" and resolve_scheduler(None, 3) == "local"


def test_unreachable_scheduler_is_one_line_fast(capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(chunks, "CONNECT_TIMEOUT", 1)
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    start = time.perf_counter()
    code, out, err = run_cli([*SIM, "--scheduler", address], capsys)
    assert time.perf_counter() - start < 10
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith(f"nnqft: error: no Dask scheduler answered at {address}"), err
    with pytest.raises(SchedulerUnreachable):
        simulate(RECURRENT, 10, scheduler=address)


@pytest.mark.parametrize("extra", [["--jobs", "2"], ["--scheduler", "local"]])
def test_without_dask_the_cli_says_what_to_install(extra, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    code, out, err = run_cli([*SIM, *extra], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert "pip install 'nnqft[distributed]'" in err
    with pytest.raises(MissingDependency, match="nnqft.distributed"):
        simulate(RECURRENT, 10, jobs=2)
    assert simulate(RECURRENT, 10, jobs=1).samples == 10  # serial needs no Dask


# --- the JAX backend ------------------------------------------------------------------------


def _agree(a, b, names, k=4.0):
    for name in names:
        err = np.hypot(a.column(name + "_stderr"), b.column(name + "_stderr"))
        z = (a.column(name) - b.column(name)) / err
        assert np.all(np.abs(z) <= k), (name, np.round(z, 2))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arch", "bias", "c0"), [("feedforward", None, None), ("recurrent", "shared", 0.3)]
)
def test_jax_backend_agrees_with_numpy_within_standard_errors(arch, bias, c0):
    """Other random streams, same distribution: every statistic within 4 standard errors of
    the numpy full-matrix sampler (N = 24, 5 layers, 4000 networks each)."""
    pytest.importorskip("jax")
    net = Network(arch, "tanh", 4.0, 0.3, width=24, depth=5, bias=bias, q0=0.7)
    inputs = 1 if c0 is None else 2
    ref = simulate(net, 4000, seed=11, sampler="full", inputs=inputs, c0=c0)
    jx = simulate(net, 4000, seed=12, backend="jax", inputs=inputs, c0=c0)
    assert jx.sampler == "full"
    names = ["mean", "variance", "log_mean"] + (["correlation", "q12"] if c0 is not None else [])
    _agree(ref, jx, names)
    again = simulate(net, 4000, seed=12, backend="jax", inputs=inputs, c0=c0)
    assert again.rows() == jx.rows()  # same seed, same device: same numbers


def test_jax_backend_refuses_the_fast_sampler(capsys):
    with pytest.raises(InvalidParameter, match="full"):
        simulate(
            RECURRENT.replace(arch="feedforward", bias=None), 10, backend="jax", sampler="fast"
        )
    code, out, err = run_cli([*SIM, "--backend", "jax", "--sampler", "fast"], capsys)
    assert code == 2 and err.count("\n") == 1, err


def test_without_jax_the_backend_says_what_to_install(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)
    code, out, err = run_cli([*SIM, "--backend", "jax"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert "pip install 'nnqft[jax]'" in err
