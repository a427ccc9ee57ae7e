"""pytest plugin: the `k2_sandbox` fixture, a sandbox on a free port for the test session.

Options: `--k2-seed N`, `--k2-clock INSTANT` (or `k2_seed`, `k2_clock` in the ini file) for
reproducible ids and a virtual clock. The sandbox's log is attached to each failing test's
report (the section "k2-sandbox log").
"""

from __future__ import annotations

import pytest

from . import Sandbox


def pytest_addoption(parser):
    group = parser.getgroup("k2-sandbox")
    group.addoption("--k2-seed", type=int, default=None,
                    help="seed the sandbox's ids, references and tokens")
    group.addoption("--k2-clock", default=None,
                    help="start the sandbox's virtual clock frozen at this RFC 3339 instant")
    parser.addini("k2_seed", "seed the sandbox's ids, references and tokens", default=None)
    parser.addini("k2_clock", "start a virtual clock frozen at this RFC 3339 instant", default=None)


_RUNNING = []


@pytest.fixture(scope="session")
def k2_sandbox(request):
    """A running k2-sandbox for the session: `base_url`, `base_url_slash`, `client_id`,
    `client_secret`, `api_key`, `reset()`, `advance(duration)`, `load(path)`, `verify()`."""
    config = request.config
    seed = config.getoption("k2_seed") or config.getini("k2_seed")
    clock = config.getoption("k2_clock") or config.getini("k2_clock")
    sandbox = Sandbox(seed=int(seed) if seed else None, clock=clock or None)
    _RUNNING.append(sandbox)
    yield sandbox
    _RUNNING.remove(sandbox)
    sandbox.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _RUNNING:
        log = _RUNNING[-1].log()
        # The end of the log: what led up to the failure.
        report.sections.append(("k2-sandbox log", "\n".join(log.splitlines()[-200:])))
