"""Dask execution: a real scheduler and two real worker processes on 127.0.0.1 give the same
per-run results as serial and process-pool execution; so does a local Dask cluster."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sweep_util import model_results, subprocess_env, tiny_experiment

from sim.cli import main
from sim.experiments.store import read_summaries
from sim.experiments.sweep import run_sweep, warm_worker

distributed = pytest.importorskip("distributed")
QUIET = {"progress": False}  # the library prints nothing unless given a log


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group (a worker's nanny and its worker), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory) -> Iterator[str]:
    """``dask scheduler`` and two ``dask worker`` processes (one thread each); torn down
    whatever happens in the tests."""
    warm_worker()  # compile here first: the workers load the kernels from the disk cache
    folder = tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{_free_port()}"
    procs: list[subprocess.Popen] = []
    logs = []

    def start(*args: str) -> None:
        log = open(folder / f"{len(procs)}.log", "w")  # noqa: SIM115 - closed at teardown
        logs.append(log)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "dask", *args], cwd=folder, env=subprocess_env(),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
              "--no-dashboard", "--dashboard-address", ":0")  # its HTTP server: any port
        for i in range(2):
            start("worker", address, "--nthreads", "1", "--nworkers", "1", "--host",
                  "127.0.0.1", "--no-dashboard", "--name", f"w{i}", "--local-directory",
                  str(folder / f"w{i}"))
        with distributed.Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)
        for log in logs:
            log.close()
    assert all(p.poll() is not None for p in procs)


def test_dask_cluster_same_results_as_serial_and_process_pool(tmp_path, dask_cluster,
                                                              capsys):
    exp = tiny_experiment(tmp_path, reps=3)  # 12 runs
    out = tmp_path / "dask"
    assert main(["sweep", str(exp), "--scheduler", dask_cluster, "--out", str(out),
                 "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    run_sweep(exp, tmp_path / "serial", workers=0, **QUIET)
    run_sweep(exp, tmp_path / "pool", workers=2, **QUIET)
    on_dask = model_results(out)
    assert len(on_dask) == 12
    pd.testing.assert_frame_equal(on_dask, model_results(tmp_path / "serial"),
                                  check_exact=True)
    pd.testing.assert_frame_equal(on_dask, model_results(tmp_path / "pool"),
                                  check_exact=True)
    workers = set(read_summaries(out)["worker"])
    assert all(int(w.rsplit(":", 1)[1]) != os.getpid() for w in workers)
    assert len(workers) == 2  # both cluster workers took runs


def test_dask_local_cluster(tmp_path):
    exp = tiny_experiment(tmp_path, reps=1)  # 4 runs
    stats = run_sweep(exp, tmp_path / "local", dask_local=2, **QUIET)
    assert stats.done == 4 and "local Dask cluster" in stats.executor
    run_sweep(exp, tmp_path / "serial", workers=0, **QUIET)
    pd.testing.assert_frame_equal(model_results(tmp_path / "local"),
                                  model_results(tmp_path / "serial"), check_exact=True)


def test_sensitivity_study_on_the_dask_cluster_gives_the_same_indices(tmp_path, dask_cluster):
    """A Sobol' study of the model on the real cluster: same outputs, in the same sample
    order, and the same indices as in this process."""
    from test_sensitivity import model_study

    from sim.sensitivity.study import run_study

    study = model_study(tmp_path, n=8)
    on_dask = run_study(study, tmp_path / "dask", scheduler=dask_cluster, **QUIET)
    serial = run_study(study, tmp_path / "serial", workers=0, **QUIET)
    assert "Dask cluster" in on_dask.stats.executor and not on_dask.stats.failed
    np.testing.assert_array_equal(on_dask.y, serial.y)
    pd.testing.assert_frame_equal(on_dask.analysis.indices, serial.analysis.indices)
    assert len(set(read_summaries(tmp_path / "dask")["worker"])) == 2


def _listening(pids: set[int]) -> list[tuple[int, str, int]]:
    psutil = pytest.importorskip("psutil")
    found = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            for c in psutil.Process(pid).net_connections(kind="inet"):
                if c.status == psutil.CONN_LISTEN:
                    found.append((pid, c.laddr.ip, c.laddr.port))
    return found


def _http_status(port: int, path: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_local_cluster_listens_on_loopback_only_with_tls_and_no_dashboard():
    psutil = pytest.importorskip("psutil")
    from sim.experiments.sweep import open_pool

    me = psutil.Process()
    # other tests' servers (the module's test cluster) may be children of this process too
    before = set(_listening({me.pid} | {p.pid for p in me.children(recursive=True)}))
    with open_pool(dask_local=1) as pool:
        client = pool.executor._client
        info = client.scheduler_info()
        assert info["address"].startswith("tls://127.0.0.1:"), info["address"]
        assert all(w.startswith("tls://127.0.0.1:") for w in info["workers"])
        http = info["services"]["dashboard"]  # the scheduler's HTTP server (health, ...)
        assert _http_status(http, "/health") == 200 and _http_status(http, "/status") == 404
        assert "127.0.0.1" in pool.description and "TLS" in pool.description
        pids = {me.pid} | {p.pid for p in me.children(recursive=True)}
        ports = [x for x in _listening(pids) if x not in before]  # the local cluster's
        assert ports and all(ip == "127.0.0.1" for _, ip, _ in ports), ports
        # another local user without the cluster's credentials cannot submit anything
        with pytest.raises((OSError, TimeoutError, TypeError, ValueError)):
            distributed.Client(info["address"], timeout="3s")


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory) -> Iterator[tuple[str, dict[str, str]]]:
    """A scheduler and one worker that accept only TLS connections with certificates signed
    by a throw-away CA (``Security.temporary``: one self-signed certificate for all)."""
    from distributed.security import Security

    warm_worker()
    folder = tmp_path_factory.mktemp("tls")
    sec = Security.temporary()
    files = {"--tls-ca-file": folder / "ca.pem", "--tls-cert": folder / "cert.pem",
             "--tls-key": folder / "key.pem"}
    files["--tls-ca-file"].write_text(sec.tls_ca_file)
    files["--tls-cert"].write_text(sec.tls_client_cert)
    files["--tls-key"].write_text(sec.tls_client_key)
    tls = [str(x) for pair in files.items() for x in pair]
    port = _free_port()
    address = f"tls://127.0.0.1:{port}"
    procs, logs = [], []
    try:
        for args in (["scheduler", "--host", "127.0.0.1", "--port", str(port), "--protocol",
                      "tls", "--no-dashboard"],
                     ["worker", address, "--nthreads", "1", "--nworkers", "1", "--host",
                      "127.0.0.1", "--no-dashboard", "--local-directory", str(folder / "w")]):
            log = open(folder / f"{args[0]}.log", "w")  # noqa: SIM115 - closed at teardown
            logs.append(log)
            procs.append(subprocess.Popen([sys.executable, "-m", "dask", *args, *tls],
                                          cwd=folder, env=subprocess_env(), stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))
        with distributed.Client(address, security=sec, timeout="60s") as client:
            client.wait_for_workers(1, timeout=120)
        yield address, {k: str(v) for k, v in files.items()}
    finally:
        for proc in reversed(procs):
            _stop(proc)
        for log in logs:
            log.close()


def test_tls_cluster_runs_the_sweep_with_the_same_results(tmp_path, tls_cluster, capsys):
    address, files = tls_cluster
    exp = tiny_experiment(tmp_path, reps=1)  # 4 runs
    tls = [x for pair in files.items() for x in pair]
    out = tmp_path / "tls"
    assert main(["sweep", str(exp), "--scheduler", address, *tls, "--out", str(out),
                 "--quiet"]) == 0, capsys.readouterr().err
    run_sweep(exp, tmp_path / "serial", workers=0, **QUIET)
    pd.testing.assert_frame_equal(model_results(out), model_results(tmp_path / "serial"),
                                  check_exact=True)
    capsys.readouterr()
    # without the certificates the cluster cannot be used: exit 2, one clear line
    assert main(["sweep", str(exp), "--scheduler", address, "--out", str(tmp_path / "no"),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "cannot connect" in err and "--tls-ca-file" in err
    assert not (tmp_path / "no").exists()
    # TLS files with a tcp:// address, or without --scheduler: refused before connecting
    assert main(["sweep", str(exp), "--scheduler", address.replace("tls", "tcp"), *tls,
                 "--out", str(tmp_path / "no"), "--quiet"]) == 2
    assert "must start with tls://" in capsys.readouterr().err
    assert main(["sweep", str(exp), "--dask-local", "1", *tls, "--quiet"]) == 2
    assert "only with --scheduler" in capsys.readouterr().err
