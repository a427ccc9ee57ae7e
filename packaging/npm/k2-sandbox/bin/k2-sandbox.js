#!/usr/bin/env node
'use strict'
// `npx k2-sandbox ...`: the platform's binary, with these arguments, its exit code passed on.
const { spawnSync } = require('node:child_process')
const { binaryPath } = require('..')
const run = spawnSync(binaryPath(), process.argv.slice(2), { stdio: 'inherit' })
process.exit(run.status ?? 1)
