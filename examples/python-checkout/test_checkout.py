"""The shop's tests, run under `k2-sandbox run` (see README.md): a customer pays by STK push
and the result arrives; the receiver is also handed the sandbox's forged and stale callbacks
(receiver probes), which `run` judges through the scenario's expectations.

Exits non-zero if a test fails.
"""

import os
import sys

import requests

import app

callback_url = app.serve()

# The receiver probes go to this app's own URL, known only now: load them as a scenario.
probes = f"name: probes\nprobes:\n  - url: {callback_url}\n"
loaded = requests.post(os.environ["K2_SANDBOX_URL"] + "/_sandbox/scenarios", data=probes,
                       headers={"Content-Type": "application/yaml"}, timeout=10)
assert loaded.status_code == 201, loaded.text

payment = app.checkout("+254712345678", 100, callback_url)
result = app.result_of(payment)
assert result is not None, "no result callback within 15 s"
assert result["attributes"]["status"] == "Success", result
print(f"test_checkout: paid, {result['attributes']['event']['resource']['reference']}")
sys.exit(0)
