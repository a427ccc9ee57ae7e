/** Options of `start`. */
export interface StartOptions {
  /** Seed ids, references and tokens: a reproducible run. */
  seed?: number
  /** Start a virtual clock frozen at this RFC 3339 instant, e.g. "2026-05-01T10:00:00+03:00". */
  clock?: string
  /** YAML scenario files to load at start-up. */
  scenarios?: string[]
  /** Any other `k2-sandbox serve` flags. */
  args?: string[]
}

/** A running sandbox. */
export interface Sandbox {
  /** `http://127.0.0.1:PORT`: the Node SDK's `baseUrl`. */
  baseUrl: string
  clientId: string
  clientSecret: string
  /** The key callbacks are signed with. */
  apiKey: string
  /** Forgets every resource, delivery and balance. */
  reset(): Promise<void>
  /** Moves the clock ("1s", "7d"); resolves once everything that fell due has run. */
  advance(by: string): Promise<unknown>
  /** Loads a YAML scenario file. */
  load(file: string): Promise<unknown>
  /** Judges the loaded scenarios' expectations; rejects with the verdict table if one failed. */
  verify(): Promise<string>
  /** What the sandbox logged. */
  log(): Promise<string>
  /** Stops the sandbox. */
  stop(): Promise<void>
}

/** Starts a sandbox on a free port. */
export function start(options?: StartOptions): Promise<Sandbox>

/** The k2-sandbox executable this package runs. */
export function binaryPath(): string
