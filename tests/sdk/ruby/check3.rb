# frozen_string_literal: true

# Drives every call of the official Ruby SDK 3.1.0 (k2-connect-ruby v3.1.0, the v1 API; not on a
# reachable registry: extracted by scripts/test from its pinned GitHub archive, its lib/ on the
# load path) against a running k2-sandbox. Every callback is verified and parsed by the SDK's
# own K2ProcessResult, every webhook event by K2ProcessWebhook, and the parsed values are
# compared with what was sent.
#
# Usage: K2_BASE_URL=http://127.0.0.1:PORT ruby -I <sdk>/lib check3.rb
require "k2-connect-ruby"
require_relative "harness"

BASE = ENV.fetch("K2_BASE_URL").chomp("/")
CLIENT_ID = ENV.fetch("K2_CLIENT_ID", "sandbox-client-id")
CLIENT_SECRET = ENV.fetch("K2_CLIENT_SECRET", "sandbox-client-secret")
API_KEY = ENV.fetch("K2_API_KEY", "sandbox-api-key")
TILL = "K000000"
BRANCH = "633aa26c-7b7c-4091-ae28-96c0687cf886"
# The SDK wants its base URL with the trailing slash.
K2ConnectRuby::K2Utilities::Config::K2Config.set_base_url("#{BASE}/")
H = Harness.new("ruby 3.1.0", BASE)
RECEIVER = H.listen

# A result callback as the SDK parses it. (Its `valid?` is tried once, below: an incoming
# payment's breaks.)
def result(name)
  delivery = H.wait_for(name)
  parsed = K2ConnectRuby::K2Utilities::K2ProcessResult.process(delivery.payload, API_KEY, delivery.signature)
  [parsed, delivery.payload]
end

def webhook(name)
  delivery = H.wait_for(name)
  K2ConnectRuby::K2Utilities::K2ProcessWebhook.process(delivery.payload, API_KEY, delivery.signature)
end

state = {}
k2_token = K2ConnectRuby::K2Entity::K2Token.new(CLIENT_ID, CLIENT_SECRET)
H.check("K2Token#request_token") { state[:token] = k2_token.request_token }
token = state.fetch(:token)
H.check("K2Token#token_info") do
  assert_equal(k2_token.token_info(token)[:application][:uid], CLIENT_ID, "application uid")
end
H.check("K2Token#introspect_token") { assert_equal(k2_token.introspect_token(token)[:active], true, "active") }
H.check("K2Token#revoke_token") do
  other = K2ConnectRuby::K2Entity::K2Token.new(CLIENT_ID, CLIENT_SECRET).request_token
  k2_token.revoke_token(other)
  assert_equal(k2_token.introspect_token(other)[:active], false, "active after revoking")
end

H.check("K2Subscribe#webhook_subscribe (every event type) + query_webhook") do
  [%w[buygoods_transaction_received till], %w[buygoods_transaction_reversed till],
    %w[b2b_transaction_received till], %w[customer_created company],
    %w[settlement_transfer_completed company]].each do |event_type, scope|
    subscriber = K2ConnectRuby::K2Entity::K2Subscribe.new(token)
    url = "#{RECEIVER}/#{event_type}"
    params = { event_type: event_type, url: url, scope: scope }
    params[:scope_reference] = TILL if scope == "till"
    subscriber.webhook_subscribe(params)
    document = subscriber.query_webhook
    assert_equal(document[:data][:attributes][:url], url, "#{event_type} url")
  end
end

H.known("K2Stk#receive_mpesa_payments keeps the metadata", "it sends the metadata as `meta_data`, which " \
  "the API does not read") do
  stk = K2ConnectRuby::K2Entity::K2Stk.new(token)
  stk.receive_mpesa_payments(payment_channel: "M-PESA STK Push", till_number: TILL, first_name: "Jane",
    last_name: "Doe", phone_number: "+254712345678", email: "jane@example.com", currency: "KES",
    value: "100", metadata: { "customer_id" => "123" }, callback_url: "#{RECEIVER}/incoming_payment")
  parsed, = result("incoming_payment")
  webhook("buygoods_transaction_received")
  assert_equal(parsed.metadata, { "customer_id" => "123" }, "metadata")
end

H.check("K2Stk#receive_mpesa_payments + query_resource + K2ProcessResult") do
  stk = K2ConnectRuby::K2Entity::K2Stk.new(token)
  stk.receive_mpesa_payments(payment_channel: "M-PESA STK Push", till_number: TILL, first_name: "Jane",
    last_name: "Doe", phone_number: "+254712345678", email: "jane@example.com", currency: "KES",
    value: "250", metadata: { "customer_id" => "123" }, callback_url: "#{RECEIVER}/incoming_payment")
  parsed, payload = result("incoming_payment")
  assert_equal([parsed.status, parsed.amount, parsed.till_number, parsed.sender_phone_number],
    ["Success", "250.0", TILL, "+254712345678"], "result")
  state[:transaction] = parsed.transaction_reference
  assert_equal(JSON.parse(stk.query_resource(stk.location_url).to_json), payload, "GET and the callback")
  received = webhook("buygoods_transaction_received")
  assert_equal([received.reference, received.amount], [state[:transaction], "250.0"], "the webhook")
  state[:event] = received.id
  state[:payment] = parsed
end
H.known("IncomingPayment#valid?", "its `errors` reader (the payment's own `errors`, nil on success) " \
  "replaces ActiveModel's, so validating a parsed payment raises") do
  assert(state.fetch(:payment).valid?, "invalid")
end

[
  ["b2b_transaction_received", { till_number: TILL, amount: 300, sending_till: "000777" },
    ->(w) { assert_equal([w.amount, w.sending_till], ["300.0", "000777"], "amount, sending_till") }],
  ["buygoods_transaction_reversed", { transaction: state[:transaction] },
    ->(w) { assert_equal(w.reference, state[:transaction], "reference") }],
  ["settlement_transfer_completed", { amount: 50 }, ->(w) { assert_equal(w.amount, "50.0", "amount") }],
  ["customer_created", { first_name: "Ann", last_name: "Lee", phone_number: "+254700000001" },
    ->(w) { assert_equal([w.resource_first_name, w.resource_last_name], %w[Ann Lee], "customer") }],
].each do |type, fields, expect|
  H.check("#{type} webhook + K2ProcessWebhook") do
    triggered = H.trigger({ type: type }.merge(fields))
    parsed = webhook(type)
    assert_equal([parsed.id, parsed.topic], [triggered["id"], type], "id, topic")
    expect.call(parsed)
  end
end

# A name holding the characters Rails escapes: the SDK hashes the parsed body's ActiveSupport
# to_json, which escapes them as the API does, so it verifies (docs/fidelity.md).
H.check("customer_created webhook holding the characters Rails escapes") do
  name = "Ann & Co\u2028<Ltd>\u2029 Kenya"
  H.trigger(type: "customer_created", first_name: name, last_name: "Doe")
  assert_equal(webhook("customer_created").resource_first_name, name, "first name")
end

H.check("K2Settlement#add_settlement_account (wallet, bank) + query_resource") do
  settlement = K2ConnectRuby::K2Entity::K2Settlement.new(token)
  settlement.add_settlement_account(type: "merchant_wallet", first_name: "Jane", last_name: "Doe",
    phone_number: "+254712345678", network: "Safaricom")
  state[:wallet] = settlement.location_url.split("/").last
  assert_equal(settlement.query_resource(settlement.location_url)[:data][:type], "merchant_wallet", "type")
  settlement.add_settlement_account(type: "merchant_bank_account", account_name: "Jane Doe",
    bank_branch_ref: BRANCH, account_number: "123456789", settlement_method: "EFT")
  assert_equal(settlement.query_resource(settlement.location_url)[:data][:type], "merchant_bank_account", "type")
end

H.known("K2Transfer#transfer_funds (targeted, with an amount)", "its input check allows only " \
  "destination_reference, destination_type, callback_url and metadata, so the currency and value of the " \
  "reference's own example are refused (K2IncorrectParams)") do
  K2ConnectRuby::K2Entity::K2Transfer.new(token).transfer_funds("destination_reference" => state[:wallet],
    "destination_type" => "merchant_wallet", "currency" => "KES", "value" => "100",
    "metadata" => { "note" => "to my wallet" }, "callback_url" => "#{RECEIVER}/transfer")
end
H.check("K2Transfer#transfer_funds (targeted, all funds) + query_resource + K2ProcessResult") do
  H.control("PUT", "/_sandbox/balances", { balance: "5000" })
  transfer = K2ConnectRuby::K2Entity::K2Transfer.new(token)
  transfer.transfer_funds("destination_reference" => state[:wallet], "destination_type" => "merchant_wallet",
    "metadata" => { "note" => "to my wallet" }, "callback_url" => "#{RECEIVER}/transfer")
  parsed, payload = result("transfer")
  assert_equal(parsed.status, "Processed", "status")
  assert_equal(JSON.parse(transfer.query_resource(transfer.location_url).to_json), payload, "GET and the callback")
end
H.check("K2Transfer#transfer_funds (blind) + K2ProcessResult") do
  H.control("PUT", "/_sandbox/balances", { balance: "5000" })
  transfer = K2ConnectRuby::K2Entity::K2Transfer.new(token)
  transfer.transfer_funds("currency" => "KES", "value" => "50", "callback_url" => "#{RECEIVER}/transfer")
  parsed, = result("transfer")
  assert_equal(parsed.status, "Processed", "status")
end

H.check("K2Pay#add_recipient (every type) + create_payment + query_resource + K2ProcessResult") do
  pay = K2ConnectRuby::K2Entity::K2Pay.new(token)
  [
    { type: "mobile_wallet", first_name: "John", last_name: "Doe", phone_number: "+254712345679",
      email: "john@example.com", network: "Safaricom" },
    { type: "bank_account", account_name: "John Doe", account_number: "987654321", bank_branch_ref: BRANCH,
      settlement_method: "RTS" },
    { type: "till", till_name: "Shop", till_number: "123456" },
    { type: "paybill", paybill_name: "KPLC", paybill_number: "888880", paybill_account_number: "ACC-1" },
  ].each do |recipient|
    pay.add_recipient(recipient)
    document = pay.query_resource(pay.recipients_location_url)
    assert(pay.recipients_location_url.end_with?(document[:data][:id].to_s), document.inspect)
    state[:recipient] ||= pay.recipients_location_url.split("/").last
  end
  H.control("PUT", "/_sandbox/balances", { balance: "5000" })
  pay.create_payment(destination_reference: state[:recipient], destination_type: "mobile_wallet",
    description: "Salary", category: "salaries", tags: "tag 1", currency: "KES", value: "100",
    callback_url: "#{RECEIVER}/payment", metadata: { "customer_id" => "8675309" })
  parsed, payload = result("payment")
  assert_equal(parsed.status, "Processed", "status")
  assert_equal(JSON.parse(pay.query_resource(pay.payments_location_url).to_json), payload, "GET and the callback")
end

H.check("K2Polling#poll + query_resource + callback") do
  polling = K2ConnectRuby::K2Entity::K2Polling.new(token)
  polling.poll(scope: "till", scope_reference: TILL, from_time: "2020-01-01T00:00:00+03:00",
    to_time: "2100-01-01T00:00:00+03:00", callback_url: "#{RECEIVER}/polling")
  delivery = H.wait_for("polling")
  # The SDK parses no polling result: its signature is checked on its own.
  assert(K2ConnectRuby::K2Utilities::K2Authenticator.authenticate(delivery.payload, API_KEY, delivery.signature),
    "signature")
  references = delivery.payload["data"]["attributes"]["transactions"].map { |t| t["resource"]["reference"] }
  assert(references.include?(state[:transaction]), references.inspect)
  assert_equal(JSON.parse(polling.query_resource.to_json), delivery.payload, "GET and the callback")
end

H.check("K2Notification#send_sms_transaction_notification + query_resource + callback") do
  notification = K2ConnectRuby::K2Entity::K2Notification.new(token)
  notification.send_sms_transaction_notification(webhook_event_reference: state[:event], message: "Thank you",
    callback_url: "#{RECEIVER}/sms")
  delivery = H.wait_for("sms")
  assert(K2ConnectRuby::K2Utilities::K2Authenticator.authenticate(delivery.payload, API_KEY, delivery.signature),
    "signature")
  assert_equal(delivery.payload["data"]["attributes"]["status"], "Success", "status")
  assert_equal(JSON.parse(notification.query_resource.to_json), delivery.payload, "GET and the callback")
end

H.check("a delivery with a wrong signature is rejected by the SDK") do
  rejected = begin
    K2ConnectRuby::K2Utilities::K2ProcessWebhook.process({ "topic" => "customer_created" }, API_KEY, "00" * 32)
    false
  rescue ArgumentError
    true
  end
  assert(rejected, "a forged delivery was accepted")
end

H.finish
