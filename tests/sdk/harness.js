'use strict'
// What the Node SDK checks share: a callback receiver that hands every delivery to the SDK's
// own Webhooks.webhookHandler (as an express app with a JSON body parser would), waiting for a
// named delivery, triggering simulated activity, and one line per check with a closing count.
// A known SDK bug is a named known failure with its cause: it never counts as a pass, and a
// "known" failure that stops failing fails the run, so the list stays true.

const http = require('http')

const WAIT_MS = 15000

function assert (condition, message) {
  if (!condition) throw new Error(message)
}

function assertEqual (actual, expected, what) {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Error(`${what}: ${a}, expected ${e}`)
}

// Equal as values: object keys in any order (metadata is stored as jsonb, which orders keys).
function assertSame (actual, expected, what) {
  try {
    require('node:assert').deepStrictEqual(actual, expected)
  } catch (_) {
    throw new Error(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`)
  }
}

function harness (label, base, K2) {
  const deliveries = []
  const waiters = []
  const results = []

  function settle () {
    for (const waiter of [...waiters]) {
      const index = deliveries.findIndex(d => d.name === waiter.name)
      if (index >= 0) {
        const [delivery] = deliveries.splice(index, 1)
        waiters.splice(waiters.indexOf(waiter), 1)
        clearTimeout(waiter.timer)
        if (delivery.error) waiter.reject(new Error(`the SDK rejected the ${waiter.name} delivery: ${delivery.error}`))
        else waiter.resolve(delivery.body)
      }
    }
  }

  const server = http.createServer((req, res) => {
    let raw = ''
    req.on('data', chunk => { raw += chunk })
    req.on('end', () => {
      const name = req.url.split('/').pop()
      const expressReq = { body: JSON.parse(raw), get: header => req.headers[header.toLowerCase()] }
      let statusCode = 500
      const expressRes = { status: code => { statusCode = code; return { json: () => {} } } }
      K2.Webhooks.webhookHandler(expressReq, expressRes)
        .then(body => deliveries.push({ name, body }))
        .catch(error => deliveries.push({ name, error: String(error) }))
        .finally(() => {
          res.writeHead(statusCode)
          res.end()
          settle()
        })
    })
  })

  return {
    async listen () {
      await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
      return `http://127.0.0.1:${server.address().port}/cb`
    },

    waitFor (name) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.findIndex(w => w.name === name), 1)
          reject(new Error(`no ${name} delivery within ${WAIT_MS} ms`))
        }, WAIT_MS)
        waiters.push({ name, resolve, reject, timer })
        settle()
      })
    },

    async trigger (body) {
      const response = await fetch(`${base}/_sandbox/events`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body)
      })
      if (response.status !== 201) throw new Error(`trigger: ${response.status} ${await response.text()}`)
      return response.json()
    },

    async check (name, fn) {
      try {
        await fn()
        results.push({ name })
        console.log(`ok   ${label} ${name}`)
      } catch (error) {
        results.push({ name, error })
        console.log(`FAIL ${label} ${name}: ${error && error.stack ? error.stack : JSON.stringify(error)}`)
      }
    },

    // A call an SDK bug breaks: it must fail, and it is reported with its cause.
    async known (name, cause, fn) {
      try {
        await fn()
      } catch (error) {
        results.push({ name, known: true })
        console.log(`KNOWN ${label} ${name}: ${cause} (${error && error.message ? error.message : error})`)
        return
      }
      results.push({ name, error: 'passed' })
      console.log(`FAIL ${label} ${name}: listed as a known SDK bug (${cause}) but it passed: update the list`)
    },

    finish () {
      const failed = results.filter(r => r.error).length
      const known = results.filter(r => r.known).length
      console.log(`${results.length - failed - known} passed, ${known} known SDK bugs, ${failed} failed`)
      server.close()
      process.exit(failed ? 1 : 0)
    }
  }
}

module.exports = { harness, assert, assertEqual, assertSame }
