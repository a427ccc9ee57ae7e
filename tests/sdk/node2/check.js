'use strict'
// Drives every call of the official Node SDK 2.0.0 (k2-connect-node, the v2 API; not on npm:
// extracted by scripts/test from its pinned GitHub archive, path in K2_NODE2_SDK) against a
// running k2-sandbox. Every callback and webhook event is verified by the SDK's own
// Webhooks.webhookHandler (HMAC of JSON.stringify(req.body)), and what it hands back is
// compared with what was sent.
//
// Usage: K2_BASE_URL=http://127.0.0.1:PORT K2_NODE2_SDK=path/to/k2-connect-node node check.js

const { harness, assert, assertEqual, assertSame } = require('../harness')

const BASE = process.env.K2_BASE_URL.replace(/\/$/, '')
const K2 = require(process.env.K2_NODE2_SDK)({
  clientId: process.env.K2_CLIENT_ID || 'sandbox-client-id',
  clientSecret: process.env.K2_CLIENT_SECRET || 'sandbox-client-secret',
  apiKey: process.env.K2_API_KEY || 'sandbox-api-key',
  baseUrl: BASE
})
const { listen, waitFor, trigger, check, known, finish } = harness('node 2.0.0', BASE, K2)
const TILL = 'K000000'
const BRANCH = '633aa26c-7b7c-4091-ae28-96c0687cf886'

async function control (method, path, body) {
  const response = await fetch(`${BASE}${path}`, {
    method, headers: { 'Content-Type': 'application/json' }, body: body && JSON.stringify(body)
  })
  const text = await response.text()
  assert(response.ok, `${method} ${path}: ${response.status} ${text}`)
  return JSON.parse(text)
}

async function tokens (state) {
  await check('TokenService.getToken', async () => {
    const token = await K2.TokenService.getToken()
    assert(token.token_type === 'Bearer' && token.access_token, JSON.stringify(token))
    state.accessToken = token.access_token
  })
  const { accessToken } = state
  await check('TokenService.infoToken', async () => {
    const info = await K2.TokenService.infoToken({ accessToken })
    assertEqual(info.application.uid, 'sandbox-client-id', 'application.uid')
  })
  await known('TokenService.introspectToken', 'it resolves response.body, which axios does not set (response.data)', async () => {
    const introspection = await K2.TokenService.introspectToken({ accessToken })
    assert(introspection && introspection.active === true, `resolved ${JSON.stringify(introspection)}`)
  })
  const other = (await K2.TokenService.getToken()).access_token
  await known('TokenService.revokeToken resolves the answer', 'it resolves response.body, which axios does not set (response.data)', async () => {
    const answer = await K2.TokenService.revokeToken({ accessToken: other })
    assert(answer !== undefined, 'resolved undefined')
  })
  await check('TokenService.revokeToken revokes', async () => {
    const refused = await K2.TokenService.infoToken({ accessToken: other }).then(() => false, () => true)
    assert(refused, 'the revoked token still works')
  })
}

const EVENTS = ['buygoods_transaction_received', 'buygoods_transaction_reversed', 'b2b_transaction_received',
  'b2b_transaction_reversed', 'settlement_transfer_completed', 'customer_created', 'card_transaction_received',
  'card_transaction_voided', 'card_transaction_reversed', 'm2m_transaction_received']

async function webhooks (receiver, state) {
  const { accessToken } = state
  await check('Webhooks.subscribe (every event type) + getStatus', async () => {
    for (const eventType of EVENTS) {
      const url = `${receiver}/${eventType}`
      const location = await K2.Webhooks.subscribe({ eventType, url, scope: 'company', accessToken })
      assert(location.includes('/api/v2/webhook_subscriptions/'), location)
      const subscription = await K2.Webhooks.getStatus({ location, accessToken })
      assertEqual(subscription.data.attributes.event_type, eventType, 'event_type')
      assertEqual(subscription.data.attributes.url, url, 'url')
    }
  })
  await check('Webhooks.subscribe (till scope, Daraja payload)', async () => {
    const location = await K2.Webhooks.subscribe({
      eventType: 'buygoods_transaction_received', url: `${receiver}/daraja`, scope: 'till',
      scopeReference: TILL, enableDarajaPayload: true, accessToken
    })
    const subscription = await K2.Webhooks.getStatus({ location, accessToken })
    assertEqual(subscription.data.attributes.enable_daraja_payload, true, 'enable_daraja_payload')
  })
}

async function stk (receiver, state) {
  const { accessToken } = state
  await check('StkService.initiateIncomingPayment + getStatus + callback', async () => {
    const metadata = { customerId: '123456789', reference: '123456', notes: 'Payment for invoice 123456' }
    const location = await K2.StkService.initiateIncomingPayment({
      paymentChannel: 'M-PESA STK Push', tillNumber: TILL, firstName: 'Jane', lastName: 'Doe',
      phoneNumber: '+254712345678', email: 'jane@example.com', currency: 'KES', amount: 100,
      metadata, callbackUrl: `${receiver}/incoming_payment`, accessToken
    })
    assert(location.includes('/api/v2/incoming_payments/'), location)
    const body = await waitFor('incoming_payment')
    const a = body.data.attributes
    assertEqual(a.status, 'Success', 'status')
    assertSame(a.metadata, metadata, 'metadata')
    assertEqual(a.event.resource.amount, '100.0', 'amount')
    assertEqual(a.event.resource.sender_phone_number, '+254712345678', 'sender_phone_number')
    assertEqual(a.event.resource.till_number, TILL, 'till_number')
    state.transaction = a.event.resource.reference
    const document = await K2.StkService.getStatus({ location, accessToken })
    assertEqual(document, body, 'GET and the callback')
    // A payment received is also a webhook event, and the Daraja subscription's.
    const event = await waitFor('buygoods_transaction_received')
    assertEqual(event.event.resource.reference, state.transaction, 'the webhook names the payment')
    const daraja = await waitFor('daraja')
    assertEqual(daraja.TransID, state.transaction, 'TransID')
  })
}

// Every other event type, triggered; the SDK verifies each and the values are the ones sent.
async function events (state) {
  const cases = [
    ['b2b_transaction_received', { till_number: TILL, amount: 300, sending_till: '000777' },
      r => assertEqual([r.amount, r.sending_till], ['300.0', '000777'], 'amount, sending_till')],
    ['buygoods_transaction_reversed', { transaction: state.transaction },
      r => assertEqual(r.reference, state.transaction, 'reference')],
    ['b2b_transaction_reversed', { till_number: TILL }, r => assert(r.reversal_time, 'reversal_time')],
    ['settlement_transfer_completed', { amount: 50 }, r => assertEqual(r.amount, '50.0', 'amount')],
    ['customer_created', { first_name: 'Ann', last_name: 'Lee', phone_number: '+254700000001' },
      r => assertEqual([r.first_name, r.last_name, r.phone_number], ['Ann', 'Lee', '+254700000001'], 'customer')],
    ['card_transaction_received', { till_number: TILL, amount: 1000 }, r => assertEqual(r.amount, '1000.0', 'amount')],
    ['card_transaction_voided', { till_number: TILL, amount: 1000 }, r => assertEqual(r.amount, '1000.0', 'amount')],
    ['card_transaction_reversed', { till_number: TILL, amount: 1000 }, r => assertEqual(r.amount, '1000.0', 'amount')],
    ['m2m_transaction_received', { amount: 456, sending_merchant: 'Jane Flowers' },
      r => assertEqual([r.amount, r.sending_merchant], ['456.0', 'Jane Flowers'], 'amount, sending_merchant')]
  ]
  for (const [type, fields, expect] of cases) {
    await check(`${type} webhook`, async () => {
      const triggered = await trigger({ type, ...fields })
      const body = await waitFor(type)
      assertEqual(body.id, triggered.id, 'id')
      assertEqual(body.topic, type, 'topic')
      expect(body.event.resource)
    })
  }
}

async function escapedCharacters () {
  await known('customer_created webhook holding the characters Rails escapes',
    'it verifies the HMAC of JSON.stringify(req.body), which writes & < > U+2028 U+2029 unescaped where the API (Rails) escapes them: it fails against the real API too',
    async () => {
      await trigger({ type: 'customer_created', first_name: 'Ann & Co\u2028<Ltd>\u2029 Kenya', last_name: 'Doe' })
      await waitFor('customer_created')
    })
}

async function accounts (state) {
  const { accessToken } = state
  await check('TransferService.createMerchantWallet + createMerchantBankAccount', async () => {
    const wallet = await K2.TransferService.createMerchantWallet({
      firstName: 'Jane', lastName: 'Doe', phoneNumber: '+254712345678', network: 'Safaricom', accessToken
    })
    const bank = await K2.TransferService.createMerchantBankAccount({
      accountName: 'Jane Doe', bankBranchRef: BRANCH, accountNumber: '123456789', settlementMethod: 'EFT', accessToken
    })
    assert(wallet.includes('/api/v2/merchant_wallets/'), wallet)
    assert(bank.includes('/api/v2/merchant_bank_accounts/'), bank)
    state.wallet = wallet.split('/').pop()
    state.bank = bank.split('/').pop()
  })
  await check('ExternalRecipientService.addExternalRecipient (every type)', async () => {
    const recipients = [
      { type: 'mobile_wallet', firstName: 'John', lastName: 'Doe', email: 'john@example.com', phoneNumber: '+254712345679', network: 'Safaricom', nickname: 'JD' },
      { type: 'bank_account', accountName: 'John Doe', bankBranchRef: BRANCH, accountNumber: '987654321', settlementMethod: 'RTS', nickname: 'JD bank' },
      { type: 'till', tillName: 'Shop', tillNumber: '123456', nickname: 'Shop' },
      { type: 'paybill', paybillName: 'KPLC', paybillNumber: '888880', paybillAccountNumber: 'ACC-1', nickname: 'Power' }
    ]
    for (const recipient of recipients) {
      const location = await K2.ExternalRecipientService.addExternalRecipient({ ...recipient, accessToken })
      assert(location.includes('/api/v2/external_recipients/'), location)
    }
  })
}

async function sendMoney (receiver, state) {
  const { accessToken } = state
  const destinations = [
    { type: 'mobile_wallet', phone_number: '+254712345679', network: 'Safaricom', amount: '100', description: 'Salary', nickname: 'JD', favourite: true },
    { type: 'bank_account', bank_branch_ref: BRANCH, account_name: 'John Doe', account_number: '987654321', amount: '200', description: 'Rent' },
    { type: 'till', till_number: '123456', amount: '300', description: 'Stock' },
    { type: 'paybill', paybill_number: '888880', paybill_account_number: 'ACC-1', amount: '400', description: 'Power' },
    { type: 'merchant_wallet', reference: state.wallet, amount: '50', description: 'To my wallet' },
    { type: 'merchant_bank_account', reference: state.bank, amount: '60', description: 'To my bank' }
  ]
  for (const destination of destinations) {
    await check(`SendMoneyService.sendMoney (${destination.type}) + getStatus + callback`, async () => {
      const metadata = { customerId: '8675309', notes: destination.description }
      const location = await K2.SendMoneyService.sendMoney({
        sourceIdentifier: null, currency: 'KES', destinations: [destination], metadata,
        callbackUrl: `${receiver}/send_money`, accessToken
      })
      assert(location.includes('/api/v2/send_money/'), location)
      const body = await waitFor('send_money')
      const a = body.data.attributes
      assertEqual(a.status, 'Processed', 'status')
      assertSame(a.metadata, metadata, 'metadata')
      if (destination.reference) {
        // To the merchant's own account: the reference shows it as a transfer batch.
        assertEqual(a.destinations, null, 'destinations')
        const d = a.transfer_batches[0].disbursements[0]
        assertEqual([d.destination_type, d.destination_reference], [destination.type, destination.reference], 'disbursement')
        assertEqual(Number(d.amount), Number(destination.amount), 'amount')
      } else {
        assertEqual(a.destinations[0].type, destination.type, 'destination type')
        assertEqual(Number(a.destinations[0].amount), Number(destination.amount), 'amount')
      }
      const document = await K2.SendMoneyService.getStatus({ location, accessToken })
      assertEqual(document, body, 'GET and the callback')
    })
  }
}

async function polling (receiver, state) {
  const { accessToken } = state
  await check('PollingService.pollTransactions + getStatus + callback', async () => {
    const location = await K2.PollingService.pollTransactions({
      scope: 'till', scopeReference: TILL, fromTime: '2020-01-01T00:00:00+03:00',
      toTime: '2100-01-01T00:00:00+03:00', callbackUrl: `${receiver}/polling`, accessToken
    })
    const body = await waitFor('polling')
    const references = body.data.attributes.transactions.map(t => t.resource.reference)
    assert(references.includes(state.transaction), JSON.stringify(references))
    const document = await K2.PollingService.getStatus({ location, accessToken })
    assertEqual(document, body, 'GET and the callback')
  })
}

async function reversals (receiver, state) {
  const { accessToken } = state
  await check('ReversalService.initiateReversal + getStatus + callback', async () => {
    const paid = await trigger({ type: 'buygoods_transaction_received', till_number: TILL, amount: 700 })
    await waitFor('buygoods_transaction_received')
    const reference = paid.payload.event.resource.reference
    const metadata = { reason: 'duplicate' }
    const location = await K2.ReversalService.initiateReversal({
      transactionReference: reference, reason: 'Paid twice', metadata,
      callbackUrl: `${receiver}/reversal`, accessToken
    })
    assert(location.includes('/api/v2/reversals/'), location)
    const body = await waitFor('reversal')
    const a = body.data.attributes
    assertEqual([body.data.type, a.status, a.transaction_reference, a.reason], ['reversal', 'Processed', reference, 'Paid twice'], 'result')
    assertSame(a.metadata, metadata, 'metadata')
    assertEqual(a.reversal_bulk_payment.amount, '700.0', 'amount')
    const document = await K2.ReversalService.getStatus({ location, accessToken })
    assertEqual(document, body, 'GET and the callback')
  })
}

async function paymentLinks (receiver, state) {
  const { accessToken } = state
  const link = (note) => ({
    amount: 350, currency: 'KES', tillNumber: TILL, paymentReference: 'daud', note,
    metadata: { order: '42' }, callbackUrl: `${receiver}/payment_link`, accessToken
  })
  await check('PaymentLinkService.createPaymentLink + getStatus + paid + callback', async () => {
    const location = await K2.PaymentLinkService.createPaymentLink(link('Paid on its page'))
    assert(location.includes('/api/v2/payment_links/'), location)
    const active = await K2.PaymentLinkService.getStatus({ location, accessToken })
    assertEqual(active.data.attributes.payment_link.status, 'Active', 'status')
    await control('POST', `/_sandbox/payment_links/${location.split('/').pop()}/pay`, { phone_number: '+254712345678' })
    const body = await waitFor('payment_link')
    const a = body.data.attributes
    assertEqual([a.amount, a.note, a.payment_link.status], [350, 'Paid on its page', 'Paid'], 'result')
    assertSame(a.metadata, { order: '42' }, 'metadata')
    const document = await K2.PaymentLinkService.getStatus({ location, accessToken })
    assertEqual(document, body, 'GET and the callback')
  })
  await check('PaymentLinkService.cancelPaymentLink + callback', async () => {
    const location = await K2.PaymentLinkService.createPaymentLink(link('Cancelled'))
    await K2.PaymentLinkService.cancelPaymentLink({ location, accessToken })
    const body = await waitFor('payment_link')
    assertEqual(body.data.attributes.payment_link.status, 'Cancelled', 'status')
  })
}

async function main () {
  const receiver = await listen()
  const state = {}
  await tokens(state)
  await webhooks(receiver, state)
  await stk(receiver, state)
  await events(state)
  await escapedCharacters()
  await accounts(state)
  await sendMoney(receiver, state)
  await polling(receiver, state)
  await reversals(receiver, state)
  await paymentLinks(receiver, state)
  await check('a delivery with a wrong signature is rejected by the SDK', async () => {
    let status = 0
    await K2.Webhooks.webhookHandler(
      { body: { topic: 'buygoods_transaction_received', id: 'forged' }, get: () => '00'.repeat(32) },
      { status: code => { status = code; return { json: () => {} } } }
    ).catch(() => {})
    assertEqual(status, 401, 'status')
  })
  finish()
}

main().catch(error => {
  console.log(`FAIL node 2.0.0 harness: ${error && error.stack ? error.stack : error}`)
  process.exit(1)
})
