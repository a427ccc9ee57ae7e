"""A shop's tests on the `k2_sandbox` pytest fixture (`pip install k2-sandbox`) and the official
Python SDK: an STK push paid and called back with a valid signature, a reset between tests,
and an expectation that fails the way a test should."""

import hashlib
import hmac
import http.server
import json
import queue
import threading
from pathlib import Path

import k2connect
import pytest
import requests

HERE = Path(__file__).parent


@pytest.fixture
def receiver():
    """A callback receiver on a free port: the deliveries it got, raw body and signature."""
    got = queue.Queue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.put((body, self.headers["X-KopoKopo-Signature"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/k2/callback", got
    server.shutdown()


def stk_push(k2_sandbox, callback_url):
    k2connect.initialize(k2_sandbox.client_id, k2_sandbox.client_secret, k2_sandbox.base_url_slash,
                         api_secret=k2_sandbox.api_key)
    token = k2connect.Tokens.get_access_token(k2connect.Tokens.request_access_token())
    location = k2connect.IncomingPayments(token).create_incoming_payment({
        "payment_channel": "M-PESA STK Push", "till_number": "K000000",
        "subscriber": {"first_name": "Joe", "last_name": "Buyer", "phone_number": "+254712345678"},
        "amount": {"currency": "KES", "value": 2500},
        "callback_url": callback_url})
    return token, location


def test_an_stk_push_is_paid_and_called_back_signed(k2_sandbox, receiver):
    url, got = receiver
    token, location = stk_push(k2_sandbox, url)
    body, signature = got.get(timeout=10)
    expected = hmac.new(k2_sandbox.api_key.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, signature)
    assert json.loads(body)["data"]["attributes"]["status"] == "Success"
    answer = requests.get(location, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.json()["data"]["attributes"]["event"]["resource"]["amount"] == "2500.0"
    pytest.shared_location = location


def test_a_reset_forgets_what_the_last_test_did(k2_sandbox):
    k2_sandbox.reset()
    k2connect.initialize(k2_sandbox.client_id, k2_sandbox.client_secret, k2_sandbox.base_url_slash)
    token = k2connect.Tokens.get_access_token(k2connect.Tokens.request_access_token())
    answer = requests.get(pytest.shared_location, headers={"Authorization": f"Bearer {token}"},
                          timeout=10)
    assert answer.status_code == 404


def test_an_expectation_the_app_did_not_meet_fails_verify_with_the_verdict_table(k2_sandbox):
    k2_sandbox.load(HERE / "expects-a-payout.yaml")
    k2_sandbox.advance("1s")
    with pytest.raises(AssertionError) as failed:
        k2_sandbox.verify()
    message = str(failed.value)
    assert "k2-sandbox expectations failed" in message
    assert "exactly one payout" in message and "FAIL" in message, message
