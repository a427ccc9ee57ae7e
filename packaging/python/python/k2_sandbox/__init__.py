"""The k2-sandbox emulator of the Kopo Kopo K2 Connect API, run from Python.

`Sandbox` starts the binary this package installed on a free port and drives it through its
control plane; the pytest plugin (`k2_sandbox.pytest_plugin`) makes one the `k2_sandbox`
fixture. Everything is the binary's own behaviour: this package only starts and asks it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import List, Optional

__all__ = ["Sandbox", "binary"]

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"
API_KEY = "sandbox-api-key"


def binary() -> str:
    """The k2-sandbox executable this package installed (or, failing that, the one on PATH)."""
    name = "k2-sandbox.exe" if sys.platform == "win32" else "k2-sandbox"
    installed = Path(sysconfig.get_path("scripts")) / name
    if installed.is_file():
        return str(installed)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError("k2-sandbox is not installed: pip install k2-sandbox")


class Sandbox:
    """A running sandbox: `base_url` (and `base_url_slash`, the form the Python SDK wants),
    the credentials, and what the control plane does (`reset`, `advance`, `load`, `verify`)."""

    def __init__(self, seed: Optional[int] = None, clock: Optional[str] = None,
                 scenarios: Optional[List[str]] = None, args: Optional[List[str]] = None):
        self.client_id, self.client_secret, self.api_key = CLIENT_ID, CLIENT_SECRET, API_KEY
        command = [binary(), "--port", "0"]
        if seed is not None:
            command += ["--seed", str(seed)]
        if clock:
            command += ["--clock", clock]
        for scenario in scenarios or []:
            command += ["--scenario", str(scenario)]
        command += list(args or [])
        handle, self.log_path = tempfile.mkstemp(prefix="k2-sandbox-", suffix=".log")
        self._log = os.fdopen(handle, "wb")
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log)
        first = self._process.stdout.readline().decode()
        prefix = "k2-sandbox listening on "
        if not first.startswith(prefix):
            self.stop()
            raise RuntimeError(f"k2-sandbox did not start: {first!r}\n{self.log()}")
        self.base_url = first[len(prefix):].strip()
        self.base_url_slash = self.base_url + "/"

    def log(self) -> str:
        """What the sandbox logged so far: every request and callback attempt."""
        time.sleep(0.05)  # the sandbox writes its log out every 20 ms
        return Path(self.log_path).read_text(errors="replace")

    def _call(self, method: str, path: str, body=None, content_type="application/json"):
        data = None if body is None else (
            body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as refused:
            raise RuntimeError(f"{method} {path}: {refused.code} {refused.read().decode()}") from None

    def reset(self) -> None:
        """Forgets every resource, delivery, balance and loaded scenario's world."""
        self._call("POST", "/_sandbox/reset")

    def advance(self, duration: str) -> dict:
        """Moves the clock (`"1s"`, `"7d"`); returns once everything that fell due has run."""
        return self._call("POST", "/_sandbox/clock/advance", {"by": duration})

    def load(self, scenario_path) -> dict:
        """Loads a YAML scenario file (all or nothing; a refusal says file, line and field)."""
        path = Path(scenario_path)
        return self._call("POST", "/_sandbox/scenarios?source=" + urllib.parse.quote(str(path)),
                          path.read_bytes(), content_type="application/yaml")

    def verify(self) -> None:
        """Judges the loaded scenarios' expectations; raises AssertionError with the verdict
        table when one failed (the CLI's own `k2-sandbox verify`)."""
        __tracebackhide__ = True  # the failure is the test's, not this method's
        judged = subprocess.run([binary(), "verify", "--url", self.base_url],
                                capture_output=True, text=True)
        if judged.returncode != 0:
            raise AssertionError("k2-sandbox expectations failed:\n" + judged.stdout + judged.stderr)

    def stop(self) -> None:
        """Stops the sandbox (SIGTERM, then a kill after 5 s)."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process.stdout.close()
        self._log.close()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *_) -> None:
        self.stop()
