"""A test that fails on purpose: its report carries the sandbox's log (`scripts/test` checks)."""


def test_a_failure_shows_the_sandbox_log(k2_sandbox):
    k2_sandbox.advance("1s")
    assert False, "failing on purpose"
