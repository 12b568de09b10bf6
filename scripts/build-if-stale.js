// `npm start` runs this first: it compiles to dist/ only when the sources changed since the last
// build it made, so a restart without source changes starts at once instead of waiting for tsc
// (about 20 s on a busy 2-core machine).
//
// "Changed" is decided by content, not by file times: a SHA-256 over the path and bytes of every
// input of the build (src/, migrations/, the tsconfig files, package-lock.json for the
// dependencies' types), compared with the one dist/.build-stamp holds. The stamp is written
// only after tsc succeeded; a missing dist/src/main.js, or one written after the stamp (by
// `npm run build` from other sources, say), always rebuilds.
//
//   node scripts/build-if-stale.js          # build if needed
//   node scripts/build-if-stale.js --force  # build anyway
const { createHash } = require('node:crypto');
const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const { join, relative, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
const STAMP = join(ROOT, 'dist', '.build-stamp');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const INPUT_DIRS = ['src', 'migrations'];
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

function sourcesHash() {
  const files = [
    ...INPUT_DIRS.flatMap((dir) => filesUnder(join(ROOT, dir))),
    ...INPUT_FILES.map((file) => join(ROOT, file)).filter((file) => existsSync(file)),
  ].sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

function main() {
  const force = process.argv.includes('--force');
  const hash = sourcesHash();
  const stamp = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : '';
  const current =
    stamp === hash && existsSync(MAIN) && statSync(MAIN).mtimeMs <= statSync(STAMP).mtimeMs;
  if (!force && current) {
    console.log('dist/ is current (no source change since the last build): not compiling');
    return;
  }
  console.log('compiling to dist/ (tsc -p tsconfig.build.json)');
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
  writeFileSync(STAMP, `${hash}\n`);
}

main();
