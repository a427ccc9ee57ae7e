# frozen_string_literal: true

# Drives every call of the official Ruby SDK 4.0.0 (k2-connect-ruby master, the v2 API; not on
# a reachable registry: extracted by scripts/test from its pinned GitHub archive, its lib/ on
# the load path) against a running k2-sandbox. Every callback is verified and parsed by the
# SDK's own K2ProcessResult, every webhook event by K2ProcessWebhook (HMAC of the parsed
# body's ActiveSupport to_json), and the parsed values are compared with what was sent.
#
# Usage: K2_BASE_URL=http://127.0.0.1:PORT ruby -I <sdk>/lib -r ./comparison.rb check4.rb
require "k2-connect-ruby"
require_relative "harness"

BASE = ENV.fetch("K2_BASE_URL").chomp("/")
CLIENT_ID = ENV.fetch("K2_CLIENT_ID", "sandbox-client-id")
CLIENT_SECRET = ENV.fetch("K2_CLIENT_SECRET", "sandbox-client-secret")
API_KEY = ENV.fetch("K2_API_KEY", "sandbox-api-key")
TILL = "K000000"
BRANCH = "633aa26c-7b7c-4091-ae28-96c0687cf886"
# The SDK wants its base URL with the trailing slash.
K2ConnectRuby::K2Utilities::Config::K2Config.base_url = "#{BASE}/"
H = Harness.new("ruby 4.0.0", BASE)
RECEIVER = H.listen

# A result callback as the SDK parses it: verified, typed, valid.
def result(name)
  delivery = H.wait_for(name)
  parsed = K2ConnectRuby::K2Utilities::K2ProcessResult.process(delivery.payload, API_KEY, delivery.signature)
  assert(parsed.valid?, "#{name}: #{parsed.errors.full_messages}") if parsed.respond_to?(:valid?)
  [parsed, delivery.payload]
end

def webhook(name)
  delivery = H.wait_for(name)
  parsed = K2ConnectRuby::K2Utilities::K2ProcessWebhook.process(delivery.payload, API_KEY, delivery.signature)
  assert(parsed.valid?, "#{name}: #{parsed.errors.full_messages}") if parsed.respond_to?(:valid?)
  parsed
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

EVENTS = %w[buygoods_transaction_received buygoods_transaction_reversed b2b_transaction_received
  settlement_transfer_completed customer_created card_transaction_received card_transaction_voided
  card_transaction_reversed].freeze
H.check("K2Subscribe#webhook_subscribe (every event type) + query_webhook") do
  EVENTS.each do |event_type|
    subscriber = K2ConnectRuby::K2Entity::K2Subscribe.new(token)
    url = "#{RECEIVER}/#{event_type}"
    subscriber.webhook_subscribe(event_type: event_type, url: url, scope: "company")
    document = subscriber.query_webhook
    assert_equal(document[:data][:attributes][:url], url, "#{event_type} url")
  end
  subscriber = K2ConnectRuby::K2Entity::K2Subscribe.new(token)
  subscriber.webhook_subscribe(event_type: "buygoods_transaction_received", url: "#{RECEIVER}/daraja",
    scope: "till", scope_reference: TILL, enable_daraja_payload: true)
  assert_equal(subscriber.query_webhook[:data][:attributes][:enable_daraja_payload], true, "daraja")
end

H.known("K2Subscribe#webhook_subscribe (b2b_transaction_reversed)", "its validator leaves out " \
  "b2b_transaction_reversed, which its README lists: 'Event type is invalid'") do
  K2ConnectRuby::K2Entity::K2Subscribe.new(token).webhook_subscribe(event_type: "b2b_transaction_reversed",
    url: "#{RECEIVER}/b2b_transaction_reversed", scope: "company")
end
# Subscribed without the SDK, so that the SDK's handling of the event is still tried.
H.control("POST", "/api/v2/webhook_subscriptions", { event_type: "b2b_transaction_reversed",
  url: "#{RECEIVER}/b2b_transaction_reversed", scope: "company" }, token: token)

H.check("K2Stk#send_stk_request + query_resource + K2ProcessResult") do
  metadata = { "customer_id" => "123_456_789", "reference" => "123_456", "notes" => "Invoice 12" }
  stk = K2ConnectRuby::K2Entity::K2Stk.new(token)
  stk.send_stk_request(payment_channel: "M-PESA STK Push", till_number: TILL, first_name: "Jane",
    last_name: "Doe", phone_number: "+254712345678", email: "jane@example.com", currency: "KES",
    amount: "100", metadata: metadata, callback_url: "#{RECEIVER}/incoming_payment")
  parsed, payload = result("incoming_payment")
  assert_equal([parsed.status, parsed.amount, parsed.till_number, parsed.sender_phone_number],
    ["Success", "100.0", TILL, "+254712345678"], "result")
  assert_equal(parsed.metadata, metadata, "metadata")
  state[:transaction] = parsed.transaction_reference
  assert_equal(JSON.parse(stk.query_resource(stk.location_url).to_json), payload, "GET and the callback")
  received = webhook("buygoods_transaction_received")
  assert_equal(received.reference, state[:transaction], "the webhook names the payment")
  daraja = webhook("daraja")
  assert_equal(daraja.transaction_id, state[:transaction], "TransID")
end

[
  ["b2b_transaction_received", { till_number: TILL, amount: 300, sending_till: "000777" },
    ->(w) { assert_equal([w.amount, w.sending_till], ["300.0", "000777"], "amount, sending_till") }],
  ["buygoods_transaction_reversed", { transaction: state[:transaction] },
    ->(w) { assert_equal(w.reference, state[:transaction], "reference") }],
  ["b2b_transaction_reversed", { till_number: TILL }, ->(w) { assert(w.reference, "reference") }],
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
%w[card_transaction_received card_transaction_voided card_transaction_reversed].each do |type|
  H.known("#{type} webhook + K2ProcessWebhook", "process_k2_connect_payload has no case for card events: " \
    "'No Other Specified Event!'") do
    H.trigger(type: type, till_number: TILL, amount: 1000)
    webhook(type)
  end
end

# A name holding the characters Rails escapes: the SDK hashes the parsed body's ActiveSupport
# to_json, which escapes them as the API does, so it verifies (docs/fidelity.md).
H.check("customer_created webhook holding the characters Rails escapes") do
  name = "Ann & Co\u2028<Ltd>\u2029 Kenya"
  H.trigger(type: "customer_created", first_name: name, last_name: "Doe")
  assert_equal(webhook("customer_created").resource_first_name, name, "first name")
end

H.check("TransferAccount#add_transfer_account (wallet, bank) + query_resource") do
  account = K2ConnectRuby::K2Entity::TransferAccount.new(token)
  account.add_transfer_account(type: "merchant_wallet", first_name: "Jane", last_name: "Doe",
    phone_number: "254712345678", network: "Safaricom", email: "jane@example.com", nickname: "Mine")
  state[:wallet] = account.transfer_account_location_url.split("/").last
  wallet = account.query_resource(account.transfer_account_location_url)
  assert_equal(wallet[:data][:type], "merchant_wallet", "type")
  account.add_transfer_account(type: "merchant_bank_account", account_name: "Jane Doe", account_number: "123456789",
    bank_branch_ref: BRANCH, settlement_method: "EFT", nickname: "Bank")
  state[:bank] = account.transfer_account_location_url.split("/").last
  bank = account.query_resource(account.transfer_account_location_url)
  assert_equal(bank[:data][:attributes][:settlement_method], "EFT", "settlement_method")
end

H.check("ExternalRecipient#add_external_recipient (every type) + query_resource") do
  [
    { type: "mobile_wallet", first_name: "John", last_name: "Doe", email: "john@example.com",
      phone_number: "+254712345679", network: "Safaricom" },
    { type: "bank_account", account_name: "John Doe", account_number: "987654321", bank_branch_ref: BRANCH,
      settlement_method: "RTS" },
    { type: "till", till_name: "Shop", till_number: "123456" },
    { type: "paybill", paybill_name: "KPLC", paybill_number: "888880", paybill_account_number: "ACC-1" },
  ].each do |recipient|
    external = K2ConnectRuby::K2Entity::ExternalRecipient.new(token)
    external.add_external_recipient(recipient)
    document = external.query_resource(external.recipients_location_url)
    assert(external.recipients_location_url.end_with?(document[:data][:id].to_s), document.inspect)
  end
end

[
  { type: "mobile_wallet", phone_number: "254712345679", network: "Safaricom", amount: "100", description: "Salary" },
  { type: "bank_account", bank_branch_ref: BRANCH, account_name: "John Doe", account_number: "987654321",
    amount: "200", description: "Rent" },
  { type: "till", till_number: "123456", amount: "300", description: "Stock" },
  { type: "paybill", paybill_number: "888880", paybill_account_number: "ACC-1", amount: "400", description: "Power" },
  { type: "merchant_wallet", reference: :wallet, amount: "50" },
  { type: "merchant_bank_account", reference: :bank, amount: "60" },
].each do |destination|
  H.check("SendMoney#create_payment (#{destination[:type]}) + query_resource + K2ProcessResult") do
    destination = destination.merge(reference: state.fetch(destination[:reference])) if destination[:reference]
    metadata = { "order_no" => "ORD-#{destination[:type]}" }
    send_money = K2ConnectRuby::K2Entity::SendMoney.new(token)
    send_money.create_payment(destinations: [destination], currency: "KES", source_identifier: nil,
      metadata: metadata, callback_url: "#{RECEIVER}/send_money")
    parsed, payload = result("send_money")
    assert_equal([parsed.status, parsed.metadata], ["Processed", metadata], "status, metadata")
    assert_equal(JSON.parse(send_money.query_resource(send_money.payments_location_url).to_json), payload,
      "GET and the callback")
  end
end

H.check("SendMoney#create_payment (to my accounts: every available shilling) + K2ProcessResult") do
  H.control("PUT", "/_sandbox/balances", { balance: "750" })
  send_money = K2ConnectRuby::K2Entity::SendMoney.new(token)
  send_money.create_payment(destinations: [], currency: "KES", source_identifier: nil,
    callback_url: "#{RECEIVER}/send_money")
  parsed, = result("send_money")
  assert_equal(parsed.status, "Processed", "status")
  swept = parsed.transfer_batches.sum { |batch| batch["amount"].to_f }
  assert_equal(swept, 750.0, "the amount swept")
end

H.check("K2Polling#poll + query_resource + callback") do
  polling = K2ConnectRuby::K2Entity::K2Polling.new(token)
  polling.poll(scope: "till", scope_reference: TILL, from_time: "2020-01-01T00:00:00+03:00",
    to_time: "2100-01-01T00:00:00+03:00", callback_url: "#{RECEIVER}/polling")
  delivery = H.wait_for("polling")
  # The SDK parses no polling result (K2ProcessResult: "No Other Specified Payment Type!"): its
  # signature is checked on its own.
  assert(K2ConnectRuby::K2Utilities::K2Authenticator.authenticate(delivery.payload, API_KEY, delivery.signature),
    "signature")
  references = delivery.payload["data"]["attributes"]["transactions"].map { |t| t["resource"]["reference"] }
  assert(references.include?(state[:transaction]), references.inspect)
  assert_equal(JSON.parse(polling.query_resource.to_json), delivery.payload, "GET and the callback")
end

H.check("Reversal#initiate_reversal + query_status + K2ProcessResult") do
  paid = H.trigger(type: "buygoods_transaction_received", till_number: TILL, amount: 700)
  webhook("buygoods_transaction_received")
  reference = paid["payload"]["event"]["resource"]["reference"]
  reversal = K2ConnectRuby::K2Entity::Reversal.new(token)
  reversal.initiate_reversal(transaction_reference: reference, reason: "Paid twice",
    metadata: { "reason" => "duplicate" }, callback_url: "#{RECEIVER}/reversal")
  parsed, payload = result("reversal")
  assert_equal([parsed.type, parsed.status, parsed.transaction_reference, parsed.reason],
    ["reversal", "Processed", reference, "Paid twice"], "result")
  assert_equal(parsed.reversal_bulk_payment[:amount], "700.0", "amount")
  assert_equal(JSON.parse(reversal.query_status.to_json), payload, "GET and the callback")
end

link = ->(note) do
  { till_number: TILL, currency: "KES", amount: 350, payment_reference: "daud", note: note,
    metadata: { "order" => "42" }, callback_url: "#{RECEIVER}/payment_link" }
end
H.check("PaymentLink#create_payment_link + query_status + paid + K2ProcessResult") do
  payment_link = K2ConnectRuby::K2Entity::PaymentLink.new(token)
  payment_link.create_payment_link(link.call("Paid on its page"))
  assert_equal(payment_link.query_status[:data][:attributes][:payment_link][:status], "Active", "status")
  H.control("POST", "/_sandbox/payment_links/#{payment_link.payment_link_location_url.split('/').last}/pay",
    { phone_number: "+254712345678" })
  parsed, payload = result("payment_link")
  assert_equal([parsed.amount, parsed.note, parsed.payment_link[:status]], [350, "Paid on its page", "Paid"], "result")
  assert_equal(parsed.metadata, { order: "42" }, "metadata")
  assert_equal(JSON.parse(payment_link.query_status.to_json), payload, "GET and the callback")
end
H.check("PaymentLink#cancel_payment_link + K2ProcessResult") do
  payment_link = K2ConnectRuby::K2Entity::PaymentLink.new(token)
  payment_link.create_payment_link(link.call("Cancelled"))
  payment_link.cancel_payment_link(payment_link.payment_link_location_url)
  parsed, = result("payment_link")
  assert_equal(parsed.payment_link[:status], "Cancelled", "status")
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
