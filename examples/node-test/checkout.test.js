'use strict'
// A shop's tests on the k2-sandbox JS API (`npm install --save-dev k2-sandbox`) and the official
// Node SDK, under node:test: an STK push paid and called back with a valid signature, a reset
// between tests, and an expectation that fails the way a test should.

const { test, before, after } = require('node:test')
const assert = require('node:assert')
const crypto = require('node:crypto')
const http = require('node:http')
const path = require('node:path')
const { start } = require('k2-sandbox')

let sandbox, K2, receiver, location
const deliveries = []

before(async () => {
  sandbox = await start()
  K2 = require('k2-connect-node')({
    clientId: sandbox.clientId, clientSecret: sandbox.clientSecret,
    apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl
  })
  receiver = http.createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => { body += chunk })
    req.on('end', () => {
      deliveries.push({ body, signature: req.headers['x-kopokopo-signature'] })
      res.writeHead(200).end()
    })
  })
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve))
})

after(async () => {
  receiver.close()
  await sandbox.stop()
})

async function token () {
  return (await K2.TokenService.getToken()).access_token
}

test('an STK push is paid and called back, signed', async () => {
  location = await K2.StkService.initiateIncomingPayment({
    paymentChannel: 'M-PESA STK Push', tillNumber: 'K000000', firstName: 'Joe', lastName: 'Buyer',
    phoneNumber: '+254712345678', email: 'joe@example.com', currency: 'KES', amount: 2500,
    callbackUrl: `http://127.0.0.1:${receiver.address().port}/k2/callback`,
    accessToken: await token()
  })
  for (let i = 0; i < 100 && !deliveries.length; i++) await new Promise((r) => setTimeout(r, 50))
  const [{ body, signature }] = deliveries
  const expected = crypto.createHmac('sha256', sandbox.apiKey).update(body).digest('hex')
  assert.strictEqual(signature, expected)
  assert.strictEqual(JSON.parse(body).data.attributes.status, 'Success')
  const document = await K2.StkService.getStatus({ location, accessToken: await token() })
  assert.strictEqual(document.data.attributes.event.resource.amount, '2500.0')
})

test('a reset forgets what the last test did', async () => {
  await sandbox.reset()
  await assert.rejects(K2.StkService.getStatus({ location, accessToken: await token() }))
})

test('an expectation the app did not meet rejects verify with the verdict table', async () => {
  await sandbox.load(path.join(__dirname, 'expects-a-payout.yaml'))
  await sandbox.advance('1s')
  await assert.rejects(sandbox.verify(), (error) => {
    assert.match(error.message, /k2-sandbox expectations failed/)
    assert.match(error.message, /FAIL +expects-a-payout +exactly one payout/)
    return true
  })
})
