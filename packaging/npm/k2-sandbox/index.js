'use strict'
// k2-sandbox from JavaScript: the binary of this platform's package (@k2-sandbox/<os>-<cpu>,
// an optional dependency, as esbuild ships its own), started on a free port and driven through
// its control plane. Everything is the binary's own behaviour: this only starts and asks it.

const { spawn, execFile } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')

const CREDENTIALS = {
  clientId: 'sandbox-client-id',
  clientSecret: 'sandbox-client-secret',
  apiKey: 'sandbox-api-key'
}

/** The k2-sandbox executable: K2_SANDBOX_BINARY, or this platform's package's. */
function binaryPath () {
  if (process.env.K2_SANDBOX_BINARY) return process.env.K2_SANDBOX_BINARY
  const name = `@k2-sandbox/${process.platform}-${process.arch}`
  const exe = process.platform === 'win32' ? 'k2-sandbox.exe' : 'k2-sandbox'
  try {
    return require.resolve(`${name}/bin/${exe}`)
  } catch {
    throw new Error(`k2-sandbox has no binary for ${process.platform}-${process.arch}: ${name} ` +
      'was not installed (an optional dependency: was it skipped, e.g. --no-optional?)')
  }
}

/**
 * Starts a sandbox on a free port. Options: `seed` (reproducible ids), `clock` (a virtual clock
 * frozen at this RFC 3339 instant), `scenarios` (YAML files to load), `args` (any other flags).
 */
function start (options = {}) {
  const args = ['--port', '0']
  if (options.seed != null) args.push('--seed', String(options.seed))
  if (options.clock) args.push('--clock', options.clock)
  for (const scenario of options.scenarios || []) args.push('--scenario', scenario)
  args.push(...(options.args || []))
  const logPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'k2-sandbox-')), 'k2-sandbox.log')
  const log = fs.openSync(logPath, 'w')
  const child = spawn(binaryPath(), args, { stdio: ['ignore', 'pipe', log] })
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout })
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`k2-sandbox exited (${code}): ${fs.readFileSync(logPath, 'utf8')}`)))
    lines.once('line', (line) => {
      const prefix = 'k2-sandbox listening on '
      if (!line.startsWith(prefix)) {
        child.kill()
        return reject(new Error(`k2-sandbox did not start: ${line}`))
      }
      child.removeAllListeners('exit')
      resolve(sandbox(child, line.slice(prefix.length).trim(), logPath, log))
    })
  })
}

function sandbox (child, baseUrl, logPath, log) {
  async function call (method, route, body, contentType = 'application/json') {
    const response = await fetch(baseUrl + route, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': contentType },
      body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body))
    })
    const text = await response.text()
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`)
    return text ? JSON.parse(text) : null
  }
  return {
    baseUrl,
    ...CREDENTIALS,
    /** Forgets every resource, delivery and balance. */
    reset: () => call('POST', '/_sandbox/reset').then(() => undefined),
    /** Moves the clock ('1s', '7d'); resolves once everything that fell due has run. */
    advance: (by) => call('POST', '/_sandbox/clock/advance', { by }),
    /** Loads a YAML scenario file (all or nothing). */
    load: (file) => call('POST', '/_sandbox/scenarios?source=' + encodeURIComponent(file),
      fs.readFileSync(file, 'utf8'), 'application/yaml'),
    /** Judges the loaded scenarios' expectations; rejects with the verdict table if one failed. */
    verify: () => new Promise((resolve, reject) => {
      execFile(binaryPath(), ['verify', '--url', baseUrl], (error, stdout, stderr) => {
        if (error) reject(new Error('k2-sandbox expectations failed:\n' + stdout + stderr))
        else resolve(stdout)
      })
    }),
    /** What the sandbox logged: every request and callback attempt (it writes every 20 ms). */
    log: async () => {
      await new Promise((resolve) => setTimeout(resolve, 50))
      return fs.readFileSync(logPath, 'utf8')
    },
    /** Stops the sandbox (SIGTERM); resolves when it has exited. */
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => { fs.closeSync(log); resolve() })
      child.kill('SIGTERM')
    })
  }
}

module.exports = { start, binaryPath }
