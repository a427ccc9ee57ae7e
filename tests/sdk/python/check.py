"""Drives every method of the official Python SDK (k2-connect 2.0.0) against a running
k2-sandbox, and validates every callback and webhook the sandbox sends with the SDK's own
code (ResultHandler.process, then payload_decomposer.decompose).

Usage: K2_BASE_URL=http://127.0.0.1:PORT python check.py
Prints one line per check and a closing "N passed, N failed" line; exits non-zero on failure.
"""

import json
import logging
import os
import queue
import sys
import threading
import time
import traceback

import flask
import requests
from werkzeug.serving import make_server

import k2connect
from k2connect import payload_decomposer

BASE = os.environ["K2_BASE_URL"].rstrip("/")
CLIENT_ID = os.environ.get("K2_CLIENT_ID", "sandbox-client-id")
CLIENT_SECRET = os.environ.get("K2_CLIENT_SECRET", "sandbox-client-secret")
API_KEY = os.environ.get("K2_API_KEY", "sandbox-api-key")
WAIT = 15  # seconds a delivery may take on a loaded CI machine

# --- the callback receiver: every delivery goes through the SDK's own processing ---------

logging.getLogger("werkzeug").setLevel(logging.ERROR)
deliveries = queue.Queue()
app = flask.Flask("k2-sdk-check")


@app.post("/cb/<name>")
def receive(name):
    try:
        processed = k2connect.ResultHandler.process(flask.request)
        decomposed = payload_decomposer.decompose(processed)
        deliveries.put((name, json.loads(processed), decomposed, None))
    except Exception as e:  # a failure here is a finding: record it
        deliveries.put((name, None, None, f"{type(e).__name__}: {e}"))
    return "", 200


server = make_server("127.0.0.1", 0, app)
threading.Thread(target=server.serve_forever, daemon=True).start()
RECEIVER = f"http://127.0.0.1:{server.server_port}/cb"

results = []


def check(name):
    def wrap(fn):
        try:
            fn()
            results.append((name, None))
            print(f"ok   python {name}")
        except Exception as e:
            results.append((name, e))
            print(f"FAIL python {name}: {type(e).__name__}: {e}")
            traceback.print_exc(limit=3)
        return fn

    return wrap


def wait_for(name):
    """The next delivery to /cb/<name>, processed by the SDK."""
    deadline = time.time() + WAIT
    pending = []
    try:
        while time.time() < deadline:
            try:
                item = deliveries.get(timeout=0.2)
            except queue.Empty:
                continue
            if item[0] == name:
                if item[3]:
                    raise AssertionError(f"the SDK rejected the {name} delivery: {item[3]}")
                return item[1], item[2]
            pending.append(item)
        raise AssertionError(f"no {name} delivery within {WAIT}s")
    finally:
        for item in pending:
            deliveries.put(item)


def trigger(body):
    response = requests.post(f"{BASE}/_sandbox/events", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


# --- the SDK against the sandbox ---------------------------------------------------------

k2connect.initialize(CLIENT_ID, CLIENT_SECRET, BASE + "/", api_secret=API_KEY)
tokens = k2connect.Tokens
token_response = tokens.request_access_token()
TOKEN = tokens.get_access_token(token_response)
state = {}


@check("Tokens.request_access_token")
def _():
    assert TOKEN and token_response["token_type"] == "Bearer", token_response


@check("Tokens.introspect_access_token")
def _():
    response = tokens.introspect_access_token(TOKEN)
    assert response is not None


@check("Tokens.request_token_info")
def _():
    info = tokens.request_token_info(TOKEN)
    assert info["application"]["uid"] == CLIENT_ID, info


@check("Tokens.revoke_access_token")
def _():
    other = tokens.get_access_token(tokens.request_access_token())
    tokens.revoke_access_token(other)
    response = requests.get(f"{BASE}/oauth/token/info", headers={"Authorization": f"Bearer {other}"}, timeout=10)
    assert response.status_code == 401, response.status_code


@check("Webhooks.create_subscription")
def _():
    webhooks = k2connect.Webhooks(TOKEN)
    for event in ["buygoods_transaction_received", "buygoods_transaction_reversed",
                  "b2b_transaction_received", "customer_created", "settlement_transfer_completed"]:
        location = webhooks.create_subscription({
            "event_type": event, "webhook_uri": f"{RECEIVER}/{event}", "scope": "company",
            "scope_reference": "", "enable_daraja_payload": False})
        assert "/api/v2/webhook_subscriptions/" in location, location


@check("IncomingPayments.create_incoming_payment + callback")
def _():
    service = k2connect.IncomingPayments(TOKEN)
    location = service.create_incoming_payment({
        "payment_channel": "M-PESA STK Push", "till_number": "K000000",
        "subscriber": {"first_name": "Joe", "last_name": "Buyer", "phone_number": "+254712345678",
                       "email": "joe@example.com"},
        "amount": {"currency": "KES", "value": 100},
        "metadata": {"customer_id": "123456789", "notes": "Payment for invoice 12345"},
        "callback_url": f"{RECEIVER}/incoming_payment"})
    assert "/api/v2/incoming_payments/" in location, location
    state["incoming_payment"] = location.rsplit("/", 1)[1]
    body, decomposed = wait_for("incoming_payment")
    assert decomposed.status == "Success", body
    assert decomposed.amount == "100.0"
    state["transaction_reference"] = decomposed.transaction_reference


@check("IncomingPayments.view_incoming_payment")
def _():
    document = k2connect.IncomingPayments(TOKEN).view_incoming_payment(
        {"incoming_payment_reference": state["incoming_payment"]})
    assert document["data"]["attributes"]["status"] == "Success", document


@check("buygoods_transaction_received webhook")
def _():
    body, decomposed = wait_for("buygoods_transaction_received")
    assert decomposed.topic == "buygoods_transaction_received", body
    state["webhook_event"] = body["id"]


@check("b2b_transaction_received webhook")
def _():
    trigger({"type": "b2b_transaction_received", "till_number": "K000000", "amount": 300})
    body, decomposed = wait_for("b2b_transaction_received")
    assert decomposed.topic == "b2b_transaction_received", body


@check("customer_created webhook")
def _():
    trigger({"type": "customer_created", "first_name": "Jane", "last_name": "Doe"})
    body, decomposed = wait_for("customer_created")
    assert decomposed.topic == "customer_created", body


# A name holding the characters Rails escapes (\u0026, \u003c, \u003e, \u2028, \u2029): the SDK
# hashes the raw body, so it verifies the bytes the real API sends (docs/fidelity.md).
ESCAPED_NAME = "Ann & Co\u2028<Ltd>\u2029 Kenya"


@check("customer_created webhook holding the characters Rails escapes")
def _():
    trigger({"type": "customer_created", "first_name": ESCAPED_NAME, "last_name": "Doe"})
    body, decomposed = wait_for("customer_created")
    assert body["event"]["resource"]["first_name"] == ESCAPED_NAME, body


@check("TransferAccount.add_transfer_account (wallet and bank)")
def _():
    service = k2connect.TransferAccount(TOKEN)
    wallet = service.add_transfer_account({"type": "merchant_wallet", "first_name": "Jane", "last_name": "Doe",
                                           "phone_number": "+254712345678", "network": "Safaricom"})
    bank = service.add_transfer_account({"type": "merchant_bank_account", "account_name": "Jane Doe",
                                         "account_number": "123456789", "settlement_method": "EFT",
                                         "bank_branch_ref": "633aa26c-7b7c-4091-ae28-96c0687cf886"})
    assert "/api/v2/merchant_wallets/" in wallet and "/api/v2/merchant_bank_accounts/" in bank
    state["merchant_wallet"] = wallet.rsplit("/", 1)[1]


@check("settlement_transfer_completed webhook")
def _():
    trigger({"type": "settlement_transfer_completed", "amount": 50})
    body, decomposed = wait_for("settlement_transfer_completed")
    assert decomposed.topic == "settlement_transfer_completed", body


@check("SendMoney.add_external_recipient (every type, each read back)")
def _():
    # Exactly what the SDK's models accept: its bank account has no settlement_method.
    recipients = [
        {"type": "mobile_wallet", "first_name": "John", "last_name": "Doe", "nickname": "JD",
         "email": "john@example.com", "phone_number": "+254712345679", "network": "Safaricom"},
        {"type": "bank_account", "account_name": "John Doe", "account_number": "987654321",
         "bank_branch_ref": "633aa26c-7b7c-4091-ae28-96c0687cf886", "nickname": "JD bank"},
        {"type": "till", "till_name": "Shop", "till_number": "123456", "nickname": "Shop"},
        {"type": "paybill", "paybill_name": "KPLC", "paybill_number": "888880",
         "paybill_account_number": "ACC-1", "nickname": "Power"},
    ]
    labels = {"mobile_wallet": "Mobile Wallet", "bank_account": "Bank Account", "till": "Till",
              "paybill": "Paybill"}
    for recipient in recipients:
        location = k2connect.SendMoney(TOKEN).add_external_recipient(recipient)
        assert "/api/v2/external_recipients/" in location, location
        document = requests.get(location, headers={"Authorization": f"Bearer {TOKEN}"}).json()
        attributes = document["data"]["attributes"]
        assert attributes["recipient_type"] == labels[recipient["type"]], document
        # Every detail sent is shown back (the nickname is not part of the document).
        for key, value in recipient.items():
            if key not in ("type", "nickname"):
                assert attributes[key] == value, (key, document)


@check("SendMoney.create_payment (external wallets) + callback")
def _():
    location = k2connect.SendMoney(TOKEN).create_payment({
        "source_identifier": None, "currency": "KES", "callback_url": f"{RECEIVER}/send_money",
        "destinations": [{"type": "mobile_wallet", "phone_number": "254712345679", "network": "Safaricom",
                          "amount": 100, "description": "Salary", "nickname": "JD", "favourite": True}],
        "metadata": {"notes": "Salary"}})
    assert "/api/v2/send_money/" in location, location
    body, _ = wait_for("send_money")
    assert body["data"]["attributes"]["status"] == "Processed", body


@check("SendMoney.create_payment (each external type) + callback")
def _():
    # One payment per type: a payment's destinations are all of one type.
    destinations = [
        {"type": "mobile_wallet", "phone_number": "254712345679", "network": "Safaricom",
         "amount": 10, "description": "Wallet"},
        {"type": "bank_account", "account_name": "John Doe", "account_number": "987654321",
         "bank_branch_ref": "633aa26c-7b7c-4091-ae28-96c0687cf886", "amount": 20, "description": "Bank"},
        {"type": "till", "till_number": "123456", "amount": 30, "description": "Till"},
        {"type": "paybill", "paybill_number": "888880", "paybill_account_number": "ACC-1",
         "amount": 40, "description": "Paybill"},
    ]
    for destination in destinations:
        location = k2connect.SendMoney(TOKEN).create_payment({
            "source_identifier": None, "currency": "KES", "callback_url": f"{RECEIVER}/send_money",
            "destinations": [destination]})
        assert "/api/v2/send_money/" in location, location
        body, _ = wait_for("send_money")
        attributes = body["data"]["attributes"]
        assert attributes["status"] == "Processed", body
        assert attributes["destinations"][0]["type"] == destination["type"], body
        paid = attributes["transfer_batches"][0]["disbursements"][0]
        assert paid["destination_type"] == destination["type"], body
        assert paid["status"] == "Transferred", body
        assert paid["amount"] == f"{destination['amount']}.0", body


@check("SendMoney.create_payment (own wallet) + callback")
def _():
    k2connect.SendMoney(TOKEN).create_payment({
        "source_identifier": None, "currency": "KES", "callback_url": f"{RECEIVER}/send_money",
        "destinations": [{"type": "merchant_wallet", "reference": state["merchant_wallet"], "amount": 10}]})
    body, _ = wait_for("send_money")
    assert body["data"]["attributes"]["status"] == "Processed", body


@check("SendMoney.create_payment (blind transfer) + callback")
def _():
    k2connect.SendMoney(TOKEN).create_payment({
        "source_identifier": None, "currency": "KES", "callback_url": f"{RECEIVER}/send_money",
        "destinations": []})
    body, _ = wait_for("send_money")
    assert body["data"]["attributes"]["status"] == "Processed", body


@check("Polling.initiate_polling_request + polling_request_status + callback")
def _():
    service = k2connect.Polling(TOKEN)
    location = service.initiate_polling_request({
        "scope": "company", "scope_reference": "", "from_time": "2020-01-01T00:00:00+03:00",
        "to_time": "2100-01-01T00:00:00+03:00", "callback_url": f"{RECEIVER}/polling"})
    body, _ = wait_for("polling")
    assert body["data"]["attributes"]["transactions"], body
    document = service.polling_request_status(location)
    assert document["data"]["attributes"]["status"] == "Success", document


@check("TransactionNotifications.send_transaction_sms_notification + status + callback")
def _():
    service = k2connect.TransactionNotifications
    location = service.send_transaction_sms_notification({
        "access_token": TOKEN, "webhook_event_reference": state["webhook_event"],
        "message": "Thank you", "callback_url": f"{RECEIVER}/sms"})
    body, _ = wait_for("sms")
    assert body["data"]["attributes"]["status"] == "Success", body
    document = service.transaction_notification_status(TOKEN, location)
    assert document["data"]["attributes"]["status"] == "Success", document


@check("Reversals.initiate_reversal + get_status + callback")
def _():
    service = k2connect.Reversals(TOKEN)
    location = service.initiate_reversal({
        "transaction_reference": state["transaction_reference"], "reason": "Wrong amount",
        "metadata": {"order": "1"}, "callback_url": f"{RECEIVER}/reversal"})
    body, _ = wait_for("reversal")
    assert body["data"]["attributes"]["status"] == "Processed", body
    document = service.get_status({"reversal-reference": location.rsplit("/", 1)[1]})
    assert document["data"]["attributes"]["reversal_bulk_payment"]["status"] == "Transferred", document


@check("buygoods_transaction_reversed webhook")
def _():
    body, decomposed = wait_for("buygoods_transaction_reversed")
    assert decomposed.topic == "buygoods_transaction_reversed", body


@check("PaymentLinks.create_payment_link + get_status + cancel_payment_link + callback")
def _():
    service = k2connect.PaymentLinks(TOKEN)
    location = service.create_payment_link({
        "currency": "KES", "amount": 350, "till_number": "K000000", "payment_reference": "INV-1",
        "note": "Thanks", "callback_url": f"{RECEIVER}/payment_link", "metadata": {"order": "1"}})
    reference = location.rsplit("/", 1)[1]
    document = service.get_status({"payment-link-reference": reference})
    assert document["data"]["attributes"]["payment_link"]["status"] == "Active", document
    service.cancel_payment_link({"payment-link-reference": reference})
    body, _ = wait_for("payment_link")
    assert body["data"]["attributes"]["payment_link"]["status"] == "Cancelled", body


failed = [name for name, error in results if error]
print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
server.shutdown()
sys.exit(1 if failed else 0)
