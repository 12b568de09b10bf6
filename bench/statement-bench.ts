/**
 * npm run bench:statement: exports one account of 1,000,000 ledger entries as json, csv and
 * ndjson from the built service, and measures entries/s, time to first byte and the service's
 * memory growth. Targets (issue #19): ≥ 100,000 entries/s, first byte < 200 ms, RSS growth
 * < 50 MB, for every format.
 *
 *   npm run bench:statement                         # embedded throw-away PostgreSQL
 *   npm run bench:statement -- --entries 200000 --runs 3
 *   BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run bench:statement
 *
 * Steps: a PostgreSQL (embedded in a temp dir, or BENCH_DATABASE_URL's server in a fresh
 * database dropped at the end); the service started as its own process on that database
 * (which applies the migrations); the ledger seeded in SQL (INSERT … SELECT generate_series,
 * with a correct balance_after chain); then, per format and run, one streamed GET whose body
 * is counted as it arrives (never held) while the service's VmRSS is sampled every 20 ms.
 * Results: printed, and written to bench/results/statement-latest.json.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { get, type IncomingMessage } from 'node:http';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { withClient } from './postgres';
import { mib, markdownTable, round } from './report';
import { BenchStack } from './stack';

const ROOT = resolve(__dirname, '../..');
const RESULTS = join(ROOT, 'bench', 'results');
const PORTS = { from: 4700, to: 4799 };
const ACCOUNT = 'statement-bench';
const COUNTERPARTY = 'statement-bench-other';
const T0 = 1_763_700_000_000;
const FORMATS = ['json', 'csv', 'ndjson'] as const;
type Format = (typeof FORMATS)[number];

const TARGET = { entriesPerSecond: 100_000, firstByteMs: 200, rssGrowthMiB: 50 / 1.048576 };

const log = (message: string) => console.log(`[statement-bench] ${message}`);

function memoryKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/**
 * One account with `entries` entries stamped T0+1 … T0+entries: a first large DEPOSIT, then
 * a repeating mix of deposits, transfers out (with a counterparty) and payments (with a
 * paymentId), whose running sum is the balance_after chain.
 */
async function seed(url: string, entries: number): Promise<void> {
  await withClient(url, async (c) => {
    await c.query(
      `INSERT INTO accounts (account_id, currency, created_at, balance, last_entry_at)
       VALUES ($1, 'USD', $3, 0, $3), ($2, 'USD', $3, 0, $3)`,
      [ACCOUNT, COUNTERPARTY, T0],
    );
    await c.query(
      `INSERT INTO ledger_transactions (movement_id, account_id, timestamp, operation, amount,
                                        balance_after, counterparty_account_id, payment_ref)
       SELECT gen_random_uuid(), $1, $3::bigint + i, op, amount,
              sum(amount) OVER (ORDER BY i), counterparty, ref
         FROM (SELECT i,
                      CASE WHEN i = 1 THEN 'DEPOSIT' WHEN i % 4 = 0 THEN 'TRANSFER_OUT'
                           WHEN i % 10 = 3 THEN 'PAYMENT' ELSE 'DEPOSIT' END AS op,
                      CASE WHEN i = 1 THEN 1000000000 WHEN i % 4 = 0 THEN -150
                           WHEN i % 10 = 3 THEN -1234 ELSE 100 + i % 900 END AS amount,
                      CASE WHEN i % 4 = 0 AND i > 1 THEN $2 END AS counterparty,
                      CASE WHEN i % 10 = 3 AND i % 4 <> 0 THEN 'payment' || i END AS ref
                 FROM generate_series(1, $4::bigint) AS i) s
        ORDER BY i`,
      [ACCOUNT, COUNTERPARTY, T0, entries],
    );
    await c.query(
      `UPDATE accounts SET balance = (SELECT sum(amount) FROM ledger_transactions
                                       WHERE account_id = $1), last_entry_at = $2
        WHERE account_id = $1`,
      [ACCOUNT, T0 + entries],
    );
    await c.query('VACUUM ANALYZE ledger_transactions');
  });
}

interface Run {
  format: Format;
  entries: number;
  bytes: number;
  seconds: number;
  entriesPerSecond: number;
  firstByteMs: number;
  rssBeforeMiB: number | null;
  rssPeakMiB: number | null;
  rssGrowthMiB: number | null;
}

/** Newline count of a chunk (csv and ndjson have one line per entry plus one header line). */
function lines(chunk: Buffer): number {
  let n = 0;
  for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) n++;
  return n;
}

/**
 * Downloads one statement, counting as it goes. The entry count comes from the body itself:
 * lines for csv and ndjson, the trailing `entryCount` for json (checked against `expected`).
 */
function exportOnce(baseUrl: string, pid: number, format: Format, expected: number): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const rssBefore = memoryKb(pid, 'VmRSS');
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      const rss = memoryKb(pid, 'VmRSS');
      if (rss !== null) rssPeak = Math.max(rssPeak ?? 0, rss);
    }, 20);
    const started = process.hrtime.bigint();
    let firstByte: bigint | undefined;
    let bytes = 0;
    let newlines = 0;
    let tail = '';
    const url = `${baseUrl}/accounts/${ACCOUNT}/statement?format=${format}&to=${T0 + expected + 1}`;
    get(url, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        clearInterval(sampler);
        reject(new Error(`${format}: HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      res.on('data', (chunk: Buffer) => {
        firstByte ??= process.hrtime.bigint();
        bytes += chunk.length;
        if (format === 'json') tail = (tail + chunk.toString('latin1')).slice(-200);
        else newlines += lines(chunk);
      });
      res.on('error', reject);
      res.on('end', () => {
        const ended = process.hrtime.bigint();
        clearInterval(sampler);
        const rss = memoryKb(pid, 'VmRSS');
        if (rss !== null) rssPeak = Math.max(rssPeak ?? 0, rss);
        const entries =
          format === 'json' ? Number(/"entryCount":(\d+)\}$/.exec(tail)?.[1] ?? NaN) : newlines - 1;
        if (entries !== expected) {
          reject(new Error(`${format}: ${entries} entries, expected ${expected}`));
          return;
        }
        const seconds = Number(ended - started) / 1e9;
        const kbToMiB = (kb: number | null) => (kb === null ? null : round(kb / 1024, 1));
        resolveRun({
          format,
          entries,
          bytes,
          seconds: round(seconds, 3),
          entriesPerSecond: Math.round(entries / seconds),
          firstByteMs: round(Number(firstByte! - started) / 1e6, 1),
          rssBeforeMiB: kbToMiB(rssBefore),
          rssPeakMiB: kbToMiB(rssPeak),
          rssGrowthMiB:
            rssBefore === null || rssPeak === null ? null : round((rssPeak - rssBefore) / 1024, 1),
        });
      });
    }).on('error', (error) => {
      clearInterval(sampler);
      reject(error);
    });
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      entries: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '1' },
    },
  });
  const entries = Number(values.entries);
  const runs = Number(values.runs);
  if (!Number.isSafeInteger(entries) || entries < 1 || !Number.isSafeInteger(runs) || runs < 1) {
    throw new Error('--entries and --runs must be positive integers');
  }
  await mkdir(RESULTS, { recursive: true });
  const stack = new BenchStack({
    ports: PORTS,
    logFile: (name) => join(RESULTS, `statement-${name}.log`),
    log,
  });
  process.once('SIGINT', () => void stack.close().then(() => process.exit(130)));
  try {
    await stack.postgres(50);
    const url = await stack.database(
      `ledger_statement_bench_${process.pid}_${Date.now().toString(36)}`,
    );
    const service = await stack.service(url);

    const seedStarted = Date.now();
    log(`seeding ${entries.toLocaleString('en')} entries on '${ACCOUNT}'`);
    await seed(url, entries);
    log(`seeded in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

    // Warm-up: a small range in every format (JIT, pool, plans), not measured.
    for (const format of FORMATS) {
      await new Promise<void>((done, fail) =>
        get(
          `${service.baseUrl}/accounts/${ACCOUNT}/statement?format=${format}&to=${T0 + 1000}`,
          (res) => res.resume().on('end', done).on('error', fail),
        ).on('error', fail),
      );
    }

    const results: Run[] = [];
    for (let run = 1; run <= runs; run++) {
      for (const format of FORMATS) {
        const result = await exportOnce(service.baseUrl, service.pid, format, entries);
        log(
          `${format} run ${run}: ${result.entriesPerSecond.toLocaleString('en')} entries/s, ` +
            `first byte ${result.firstByteMs} ms, RSS +${result.rssGrowthMiB} MiB`,
        );
        results.push(result);
      }
    }
    const peakRss = service.peakRss();
    const rows = results.map((r) => {
      const met =
        r.entriesPerSecond >= TARGET.entriesPerSecond &&
        r.firstByteMs < TARGET.firstByteMs &&
        (r.rssGrowthMiB ?? 0) < TARGET.rssGrowthMiB;
      return [
        r.format,
        r.entries,
        r.entriesPerSecond,
        r.firstByteMs,
        r.seconds,
        round(r.bytes / 1024 / 1024, 1),
        r.rssBeforeMiB ?? 'n/a',
        r.rssPeakMiB ?? 'n/a',
        r.rssGrowthMiB ?? 'n/a',
        met ? 'yes' : 'NO',
      ];
    });
    console.log(
      '\n' +
        markdownTable([
          [
            'format',
            'entries',
            'entries/s',
            'first byte ms',
            'seconds',
            'body MiB',
            'RSS before MiB',
            'RSS peak MiB',
            'RSS growth MiB',
            'targets met',
          ],
          ...rows,
        ]),
    );
    console.log(`service peak RSS since start (VmHWM): ${mib(peakRss)} MiB`);
    await writeFile(
      join(RESULTS, 'statement-latest.json'),
      JSON.stringify({ at: new Date().toISOString(), entries, runs, results }, null, 2) + '\n',
    );
    return rows.every((row) => row[row.length - 1] === 'yes') ? 0 : 1;
  } finally {
    await stack.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
