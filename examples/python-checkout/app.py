"""A small shop backend that takes M-PESA payments through Kopo Kopo with the official Python
SDK (k2-connect): `checkout()` sends an STK push; `/k2/callbacks` receives results and webhook
events, accepting only those signed with the API key and created in the last five minutes.

Configured like any K2 app, by environment: K2_BASE_URL, K2_CLIENT_ID, K2_CLIENT_SECRET,
K2_API_KEY (`k2-sandbox run` sets them). BROKEN=1 makes it a careless app that trusts every
callback without checking its signature: `k2-sandbox run` catches that.
"""

import datetime
import json
import logging
import os
import threading

import flask
import k2connect
from werkzeug.serving import make_server

BASE = os.environ["K2_BASE_URL"].rstrip("/")
API_KEY = os.environ["K2_API_KEY"]
BROKEN = os.environ.get("BROKEN") == "1"
FRESH = datetime.timedelta(minutes=5)

k2connect.initialize(os.environ["K2_CLIENT_ID"], os.environ["K2_CLIENT_SECRET"], BASE + "/",
                     api_secret=API_KEY)

logging.getLogger("werkzeug").setLevel(logging.ERROR)
app = flask.Flask("shop")
results = {}  # incoming payment id -> its result document
arrived = threading.Condition()


def genuine(request):
    """Whether a callback is signed with our API key (checked by the SDK) and fresh."""
    if BROKEN:
        return True
    try:
        body = json.loads(k2connect.ResultHandler.process(request))
    except Exception:  # a missing or wrong signature
        return False
    created = body.get("created_at") or body.get("data", {}).get("attributes", {}).get(
        "initiation_time")
    if created is None:
        return True
    at = datetime.datetime.fromisoformat(created)
    return abs(datetime.datetime.now(datetime.timezone.utc) - at) < FRESH


@app.post("/k2/callbacks")
def callback():
    if not genuine(flask.request):
        return "", 401
    body = flask.request.get_json()
    data = body.get("data", {})
    if data.get("type") == "incoming_payment":
        with arrived:
            results[data["id"]] = data
            arrived.notify_all()
    return "", 200


def serve():
    """Starts the receiver on a free port; returns its callback URL."""
    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}/k2/callbacks"


def checkout(phone, amount, callback_url):
    """Asks the customer to pay `amount` KES by STK push; returns the incoming payment's id."""
    tokens = k2connect.Tokens
    token = tokens.get_access_token(tokens.request_access_token())
    location = k2connect.IncomingPayments(token).create_incoming_payment({
        "payment_channel": "M-PESA STK Push", "till_number": "000000",
        "subscriber": {"first_name": "Joe", "last_name": "Buyer", "phone_number": phone,
                       "email": "joe@example.com"},
        "amount": {"currency": "KES", "value": amount},
        "metadata": {"customer_id": "42", "notes": "Order 42"},
        "callback_url": callback_url})
    return location.rsplit("/", 1)[1]


def result_of(payment_id, timeout=15):
    """Waits for the payment's result callback."""
    with arrived:
        arrived.wait_for(lambda: payment_id in results, timeout)
    return results.get(payment_id)
