"""The app's own test, as `k2-sandbox run` runs it in CI (docs/ci.md): K2_BASE_URL and the
credentials come from the environment; the app takes an STK payment and acknowledges its
signed callback."""

import hashlib
import hmac
import http.server
import os
import queue
import threading

import k2connect


def test_checkout_takes_a_payment():
    got = queue.Queue()
    key = os.environ["K2_API_KEY"].encode()

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            valid = hmac.compare_digest(hmac.new(key, body, hashlib.sha256).hexdigest(),
                                        self.headers["X-KopoKopo-Signature"])
            self.send_response(200 if valid else 401)
            self.end_headers()
            got.put(valid)

        def log_message(self, *_):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    k2connect.initialize(os.environ["K2_CLIENT_ID"], os.environ["K2_CLIENT_SECRET"],
                         os.environ["K2_BASE_URL"] + "/")
    token = k2connect.Tokens.get_access_token(k2connect.Tokens.request_access_token())
    k2connect.IncomingPayments(token).create_incoming_payment({
        "payment_channel": "M-PESA STK Push", "till_number": "K000000",
        "subscriber": {"first_name": "Joe", "last_name": "Buyer", "phone_number": "+254712345678"},
        "amount": {"currency": "KES", "value": 100},
        "callback_url": f"http://127.0.0.1:{server.server_port}/k2/callback"})
    assert got.get(timeout=10), "the callback's signature"
    server.shutdown()
