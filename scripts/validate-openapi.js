// Validates an OpenAPI document with @apidevtools/swagger-parser.
//
//   node scripts/validate-openapi.js http://localhost:3000/docs-json
//   node scripts/validate-openapi.js openapi.json
//   curl -s http://localhost:3000/docs-json | node scripts/validate-openapi.js --dereferenced -
//
// Prints a one-line summary, or with --dereferenced the document with every $ref resolved (as
// JSON on stdout); exits 1 with the validation error when the document is invalid.
//
// It is a separate process on purpose: swagger-parser loads ES-module dependencies, which plain
// Node (>= 20.19, require(esm)) handles but Jest's module loader on Node 20 does not, so the
// e2e test (test/e2e/openapi.e2e-spec.ts) hands the document over to this script.
/* global fetch, AbortSignal -- Node >= 18 globals */
const { readFileSync } = require('node:fs');
const SwaggerParser = require('@apidevtools/swagger-parser');

async function readDocument(source) {
  if (source === '-') return JSON.parse(readFileSync(0, 'utf8'));
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source, { signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`GET ${source} answered ${res.status}`);
    return res.json();
  }
  return JSON.parse(readFileSync(source, 'utf8'));
}

async function main() {
  const args = process.argv.slice(2);
  const dereferenced = args.includes('--dereferenced');
  const source = args.find((a) => a !== '--dereferenced');
  if (!source) throw new Error('usage: validate-openapi.js [--dereferenced] <url|file|->');
  const document = await readDocument(source);
  // validate() dereferences the object it is given in place; `document` is not used after.
  const api = await SwaggerParser.validate(document);
  if (dereferenced) {
    process.stdout.write(JSON.stringify(api));
  } else {
    const operations = Object.values(api.paths ?? {}).reduce(
      (n, item) => n + Object.keys(item).filter((k) => k !== 'parameters').length,
      0,
    );
    console.log(`valid OpenAPI ${api.openapi ?? api.swagger}: ${operations} operations`);
  }
}

main().catch((error) => {
  console.error(`invalid OpenAPI document: ${error.message}`);
  process.exit(1);
});
