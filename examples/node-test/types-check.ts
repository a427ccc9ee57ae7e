// The package's TypeScript types, as a TypeScript test would use them (tsc --noEmit --strict).
import { start, Sandbox, StartOptions } from 'k2-sandbox'

async function useIt (): Promise<void> {
  const options: StartOptions = { seed: 42, clock: '2026-05-01T10:00:00+03:00', scenarios: [] }
  const sandbox: Sandbox = await start(options)
  const url: string = sandbox.baseUrl
  await sandbox.advance('1s')
  await sandbox.reset()
  const verdicts: string = await sandbox.verify()
  const log: string = await sandbox.log()
  await sandbox.stop()
  console.log(url, verdicts, log, sandbox.clientId, sandbox.clientSecret, sandbox.apiKey)
}

void useIt
