"""pytest plugin for the whole monorepo: no network in tests, a fixed random state at the start of
each test, `gpu` tests only where CUDA is, `slow` ones only with --runslow, and Triton kernels
through the Triton interpreter on machines without CUDA."""

from __future__ import annotations

import os
import socket
import sys

import pytest


class NetworkBlockedError(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise NetworkBlockedError("tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)  # DNS look-ups count as network use


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state, whatever ran before it in its process
    (under pytest-xdist that differs from run to run). torch and numpy are seeded only when
    imported already, so a test that needs neither does not pay for importing them."""
    import random

    random.seed(0)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(0)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(0)


def _has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def pytest_configure(config):
    # Under pytest-xdist each worker gets its share of the cores: a worker per core, each with
    # torch's default of a thread per core, oversubscribes and runs the suite slower than one
    # process does. Set before torch is first imported (and inherited by the CLIs tests start).
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
        if "torch" in sys.modules:  # imported already by a conftest
            sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    # Triton reads this when it is first imported, so it must be set before any test imports it.
    if not _has_cuda():
        os.environ.setdefault("TRITON_INTERPRET", "1")


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    has_cuda = _has_cuda()
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    skip_slow = pytest.mark.skip(reason="slow: pass --runslow")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)
        if "slow" in item.keywords and not config.getoption("--runslow"):
            item.add_marker(skip_slow)
