/**
 * `npm run bench [-- --duration 15 --connections 32 --warmup 3 --no-pgbench --only a,b --save]`
 *
 * Starts a throw-away PostgreSQL (or uses BENCH_DATABASE_URL's server, in fresh databases),
 * runs pgbench's TPC-B-like transaction on it as the reference, starts the service as its own
 * process on a fresh database, seeds 1,000 funded accounts plus `hot`, then drives each
 * workload with autocannon from this process. Prints a table and writes the report to
 * bench/results/last-run.json (ignored by git); `--save` writes the committed
 * bench/results/latest.json instead. Fails (exit 1) when the ledger does not balance
 * afterwards. Everything it starts is stopped on the way out, on failure and on Ctrl-C too.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, release, totalmem, type as osType } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type autocannon from 'autocannon';
import { findPgbench, Pgbench, pgbenchVersion } from './pgbench';
import { StatementStats, withClient } from './postgres';
import {
  BatchStats,
  BenchReport,
  Check,
  CpuPerRequest,
  mib,
  profile,
  ReferenceReport,
  render,
  round,
  Target,
  WorkloadReport,
} from './report';
import { BenchStack } from './stack';
import {
  ACCOUNT_COUNT,
  ALL_ACCOUNTS,
  drive,
  FUNDING,
  HOT_ACCOUNT,
  stopLoad,
  Workload,
  WorkloadName,
  WORKLOADS,
} from './workloads';

const ROOT = resolve(__dirname, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results');
const PORTS = { from: 4600, to: 4699 };
const PGBENCH_SCALE = 10;

interface Options {
  duration: number;
  connections: number;
  warmup: number;
  pgbench: boolean;
  only: readonly WorkloadName[];
  save: boolean;
}

const log = (message: string) => console.error(`[bench ${new Date().toISOString()}] ${message}`);
const describe = (error: unknown): string =>
  error instanceof Error
    ? error.message + (error.cause === undefined ? '' : ` (${describe(error.cause)})`)
    : String(error);

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '15' },
      connections: { type: 'string', default: '32' },
      warmup: { type: 'string', default: '3' },
      'no-pgbench': { type: 'boolean', default: false },
      only: { type: 'string', default: WORKLOADS.map((w) => w.name).join(',') },
      save: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run bench -- [--duration <s>=15] [--connections <n>=32] [--warmup <s>=3] ' +
        '[--no-pgbench] [--only uniform,c1,hot,payment,overload,read] [--save]\n' +
        '--save: write the committed bench/results/latest.json (default: last-run.json)\n' +
        'env: BENCH_DATABASE_URL (use that server instead of an embedded one), BENCH_PGBENCH ' +
        '(path of pgbench), and the service settings (DB_POOL_SIZE, LOG_LEVEL, ...)',
    );
    return undefined;
  }
  const int = (name: string, raw: string, min: number, max: number) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };
  return {
    duration: int('duration', values.duration, 1, 3600),
    connections: int('connections', values.connections, 1, 1000),
    warmup: int('warmup', values.warmup, 0, 600),
    pgbench: !values['no-pgbench'],
    only: workloadNames(values.only),
    save: values.save,
  };
}

function workloadNames(raw: string): WorkloadName[] {
  const known = new Set<string>(WORKLOADS.map((w) => w.name));
  const names = raw.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`--only takes workloads of ${[...known].join(', ')}; got "${raw}"`);
  }
  return names as WorkloadName[];
}

/** What the bench started, stopped in reverse order exactly once (end, failure or signal). */
const stack = new BenchStack({
  ports: PORTS,
  logFile: (name) => join(RESULTS, `${name}.log`),
  log,
});

let interrupted = false;
let pgbenchRunning: Pgbench | undefined;
function checkpoint(): void {
  if (interrupted) throw new Error('interrupted');
}
function abort(reason: string, code: number): void {
  if (interrupted) return;
  interrupted = true;
  log(`${reason}: stopping the load, the service and the database`);
  stopLoad();
  pgbenchRunning?.kill();
  void stack.close().finally(() => process.exit(code));
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => abort(signal, 130));
}
process.on('uncaughtException', (error) => abort(`FAILED: ${describe(error)}`, 1));

async function seed(baseUrl: string): Promise<void> {
  const ids = [...ALL_ACCOUNTS, HOT_ACCOUNT];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      checkpoint();
      const accountId = ids[next++];
      const response = await fetch(`${baseUrl}/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ accountId, initialDeposit: FUNDING }),
      });
      if (response.status !== 201) {
        throw new Error(`POST /accounts ${accountId}: ${response.status} ${await response.text()}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** The `ledger_batch_size` histogram of the service: cumulative bucket counts, sum, count. */
interface BatchSizes {
  buckets: Map<number, number>;
  sum: number;
  count: number;
}

async function scrapeBatchSizes(baseUrl: string): Promise<BatchSizes> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const m of text.matchAll(/^ledger_batch_size_bucket\{le="([^"]+)"\} (\d+)$/gm)) {
    buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  }
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { buckets, sum: value('ledger_batch_size_sum'), count: value('ledger_batch_size_count') };
}

/** Commands per batch during a workload: the mean, and the p99 as its histogram bucket bound. */
function batchStats(before: BatchSizes, after: BatchSizes): BatchStats | null {
  const count = after.count - before.count;
  if (count <= 0) return null;
  const rank = Math.ceil(count * 0.99);
  let p99 = Infinity;
  for (const [le, cumulative] of [...after.buckets].sort((a, b) => a[0] - b[0])) {
    if (cumulative - (before.buckets.get(le) ?? 0) >= rank) {
      p99 = le;
      break;
    }
  }
  return { batches: count, mean: round((after.sum - before.sum) / count, 1), p99AtMost: p99 };
}

/** Milliseconds of CPU per unit of work between two readings of a CPU-seconds counter. */
function cpuMeter(before: number | null) {
  return (after: number | null, units: number): number | null =>
    before === null || after === null || units <= 0
      ? null
      : round(((after - before) * 1000) / units, 3);
}

interface Tally {
  ok: number;
  /** Sent but not answered 2xx: at most these may have committed unseen. */
  unanswered: number;
}

interface Tallies {
  transfers: Tally;
  payments: Tally;
}

/**
 * `booked` commands are in the ledger (and `rows` rows that must match them one for one): at
 * least every request answered 2xx, at most those plus the ones sent but not answered 2xx.
 */
function bookedOnce(
  name: keyof Tallies,
  booked: number,
  rows: number,
  tally: Tally,
  found: string,
): Check {
  return {
    name: `${name} booked once`,
    ok: booked === rows && booked >= tally.ok && booked <= tally.ok + tally.unanswered,
    detail:
      `${found} for ${tally.ok} ${name} answered 2xx ` +
      `(+ up to ${tally.unanswered} sent but unanswered or refused)`,
  };
}

/** Afterwards the ledger must balance: audit ok, money conserved, no lost or phantom transfer. */
async function verify(baseUrl: string, ledgerUrl: string, tally: Tallies): Promise<Check[]> {
  const response = await fetch(`${baseUrl}/audit`, { signal: AbortSignal.timeout(120_000) });
  const audit = (await response.json()) as {
    ok?: boolean;
    accountsChecked?: number;
    entriesChecked?: number;
    totalBalance?: number;
    mismatches?: unknown[];
  };
  const sql = await withClient(ledgerUrl, async (c) => {
    const result = await c.query<Record<string, string>>(`
      SELECT (SELECT count(*) FROM accounts) AS accounts,
             (SELECT sum(balance) FROM accounts) AS balances,
             (SELECT min(balance) FROM accounts) AS min_balance,
             (SELECT sum(amount) FROM ledger_transactions) AS ledger_sum,
             (SELECT count(*) FROM ledger_transactions WHERE operation = 'TRANSFER_OUT') AS outs,
             (SELECT count(*) FROM ledger_transactions WHERE operation = 'TRANSFER_IN') AS ins,
             (SELECT count(*) FROM ledger_transactions WHERE operation = 'PAYMENT') AS paid,
             (SELECT count(*) FROM payments) AS payment_rows,
             (SELECT COALESCE(sum(amount), 0) FROM ledger_transactions
               WHERE operation IN ('PAYMENT', 'CASHBACK')) AS spent`);
    return result.rows[0];
  });
  // Money leaves the ledger only through payments (and comes back as cashback).
  const expected = (ACCOUNT_COUNT + 1) * FUNDING + Number(sql.spent);
  const outs = Number(sql.outs);
  const paid = Number(sql.paid);
  return [
    {
      name: 'GET /audit',
      ok: response.status === 200 && audit.ok === true,
      detail:
        `${response.status}, ok ${String(audit.ok)}, ${audit.accountsChecked} accounts, ` +
        `${audit.entriesChecked} entries, ${audit.mismatches?.length ?? '?'} mismatches`,
    },
    {
      name: 'money conserved',
      ok:
        audit.totalBalance === expected &&
        sql.balances === String(expected) &&
        sql.ledger_sum === String(expected),
      detail:
        `expected ${expected}; audit totalBalance ${audit.totalBalance}, ` +
        `sum of balances ${sql.balances}, sum of ledger amounts ${sql.ledger_sum}`,
    },
    {
      name: 'accounts',
      ok: sql.accounts === String(ACCOUNT_COUNT + 1) && Number(sql.min_balance) >= 0,
      detail: `${sql.accounts} accounts, lowest balance ${sql.min_balance}`,
    },
    bookedOnce(
      'transfers',
      outs,
      Number(sql.ins),
      tally.transfers,
      `${outs} TRANSFER_OUT and ${sql.ins} TRANSFER_IN entries`,
    ),
    bookedOnce(
      'payments',
      paid,
      Number(sql.payment_rows),
      tally.payments,
      `${paid} PAYMENT entries and ${sql.payment_rows} payments`,
    ),
  ];
}

function summarize(
  workload: Workload,
  result: autocannon.Result,
  connections: number,
  peakRss: number | null,
  cpuMsPerRequest: CpuPerRequest,
  reference: ReferenceReport | undefined,
  batches: BatchStats | null,
): WorkloadReport {
  const requestsPerSec = result.requests.total / Math.max(result.duration, 0.001);
  return {
    name: workload.name,
    description: workload.description,
    durationSec: result.duration,
    connections,
    requests: result.requests.total,
    requestsPerSec: round(requestsPerSec, 1),
    latencyMs: {
      average: round(result.latency.average),
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    status: {
      '2xx': result['2xx'],
      non2xx: result.non2xx,
      '4xx': result['4xx'],
      '5xx': result['5xx'],
      errors: result.errors,
      timeouts: result.timeouts,
      codes: Object.fromEntries(
        Object.entries(result.statusCodeStats).map(([code, stat]) => [code, stat.count]),
      ),
    },
    ratioToPgbench: reference ? round(requestsPerSec / reference.tps) : null,
    peakRssMiB: mib(peakRss),
    cpuMsPerRequest,
    batches,
    db: null,
  };
}

/** The targets of the ledger-engine issue (#12): ratios to pgbench measured in the same run. */
function judge(report: BenchReport): Target[] {
  const w = (name: string) => report.workloads.find((x) => x.name === name);
  const targets: Target[] = [];
  const ratioTarget = (name: string, ratio: number, p99?: number) => {
    const x = w(name);
    if (!x) return;
    const r = x.ratioToPgbench;
    const failures = x.status.non2xx + x.status.errors + x.status.timeouts;
    targets.push({
      name: `${name} >= ${ratio} x pgbench TPS${p99 ? `, p99 < ${p99} ms` : ''}, all 2xx`,
      met: r === null ? null : r >= ratio && (!p99 || x.latencyMs.p99 < p99) && failures === 0,
      detail: `${r ?? 'n/a'} x, p99 ${x.latencyMs.p99} ms, ${failures} failed requests`,
    });
  };
  ratioTarget('uniform', 1.5, 50);
  ratioTarget('hot', 1.2, 50);
  ratioTarget('payment', 1.0);
  const c1 = w('c1');
  if (c1) {
    // Latency on a shared machine depends on its load: "no slower than before" can only be
    // judged against the previous build run the same way right after (README, Benchmarks).
    targets.push({
      name: 'c1 p50 no slower than the previous build (compare with its own c1 run)',
      met: null,
      detail: `p50 ${c1.latencyMs.p50} ms, ${c1.cpuMsPerRequest.service ?? '-'} ms service CPU per request`,
    });
  }
  const overload = w('overload');
  if (overload) {
    const answered = overload.status['2xx'] + overload.status.non2xx;
    const share = answered > 0 ? overload.status.non2xx / answered : 1;
    targets.push({
      name: 'overload (1,000 connections): <= 1 % non-2xx, p99 < 2 s',
      met: share <= 0.01 && overload.latencyMs.p99 < 2000,
      detail: `${round(share * 100)} % non-2xx, p99 ${overload.latencyMs.p99} ms`,
    });
  }
  const fives = report.workloads.reduce((sum, x) => sum + x.status['5xx'], 0);
  targets.push({ name: 'zero 5xx', met: fives === 0, detail: `${fives} 5xx in all workloads` });
  const peak = report.service.peakRssMiB;
  targets.push({
    name: 'service memory < 300 MB',
    met: peak === null ? null : peak * 1.048576 < 300,
    detail: `peak RSS ${peak ?? 'n/a'} MiB`,
  });
  return targets;
}

async function main(options: Options): Promise<number> {
  const startedAt = new Date().toISOString();
  await mkdir(RESULTS, { recursive: true });
  const server = await stack.postgres(Math.max(100, options.connections + 60));
  checkpoint();

  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const ledgerDb = `ledger_bench_${suffix}`;
  const pgbenchDb = `pgbench_bench_${suffix}`;
  const ledgerUrl = await stack.database(ledgerDb);
  const opened = await StatementStats.open(ledgerUrl);
  let stats: StatementStats | undefined;
  if (opened instanceof StatementStats) {
    stats = opened;
    stack.defer(() => opened.close());
  } else {
    log(`pg_stat_statements unavailable, no statement profile: ${opened.unavailable}`);
  }
  const postgresVersion = await withClient(ledgerUrl, async (c) => {
    const result = await c.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0].server_version;
  });

  let reference: ReferenceReport | undefined;
  let skipped = '--no-pgbench';
  const pgbenchBinary = options.pgbench ? findPgbench() : undefined;
  if (options.pgbench && !pgbenchBinary) {
    skipped = process.env.BENCH_PGBENCH
      ? `BENCH_PGBENCH=${process.env.BENCH_PGBENCH} is not an executable`
      : 'pgbench not found on PATH nor in /usr/lib/postgresql/*/bin';
  }
  if (pgbenchBinary) {
    const pgbench = new Pgbench(pgbenchBinary, await stack.database(pgbenchDb));
    pgbenchRunning = pgbench;
    log(`reference: ${pgbenchBinary} -i -s ${PGBENCH_SCALE} (its own database)`);
    await pgbench.init(PGBENCH_SCALE);
    checkpoint();
    if (options.warmup > 0) await pgbench.tpcb(options.connections, options.warmup);
    checkpoint();
    await stats?.reset(pgbenchDb);
    log(`reference: TPC-B-like, ${options.connections} clients, ${options.duration} s`);
    const cpu = cpuMeter(server.cpuSeconds());
    const result = await pgbench.tpcb(options.connections, options.duration);
    const postgresCpuMsPerTransaction = cpu(server.cpuSeconds(), result.transactions ?? 0);
    pgbenchRunning = undefined;
    const db = stats ? profile(await stats.snapshot(pgbenchDb), result.transactions ?? 0) : null;
    reference = {
      tool: pgbenchVersion(pgbenchBinary),
      ...result,
      postgresCpuMsPerTransaction,
      db,
    };
    log(`reference: ${result.tps.toFixed(1)} tps`);
  } else {
    log(`reference skipped: ${skipped}`);
  }
  checkpoint();

  const service = await stack.service(ledgerUrl);
  log(`seeding ${ACCOUNT_COUNT} accounts and '${HOT_ACCOUNT}', ${FUNDING} each`);
  await seed(service.baseUrl);

  const workloads: WorkloadReport[] = [];
  const tally: Tallies = {
    transfers: { ok: 0, unanswered: 0 },
    payments: { ok: 0, unanswered: 0 },
  };
  const count = (workload: Workload, result: autocannon.Result, connections: number) => {
    if (workload.books === 'nothing') return;
    const t = tally[workload.books];
    t.ok += result['2xx'];
    t.unanswered += result.non2xx + result.errors + result.timeouts + connections;
  };
  for (const workload of WORKLOADS.filter((w) => options.only.includes(w.name))) {
    const connections = workload.connections ?? options.connections;
    checkpoint();
    if (options.warmup > 0) {
      log(`${workload.name}: warm-up ${options.warmup} s`);
      const warm = await drive(service.baseUrl, workload, connections, options.warmup);
      count(workload, warm, connections);
    }
    checkpoint();
    await stats?.reset(ledgerDb);
    const batchesBefore = await scrapeBatchSizes(service.baseUrl);
    log(`${workload.name}: ${connections} connections, ${options.duration} s`);
    const stopSampling = service.sampleRss();
    const serviceCpu = cpuMeter(service.cpuSeconds());
    const postgresCpu = cpuMeter(server.cpuSeconds());
    const ownBefore = process.cpuUsage();
    const ownCpu = cpuMeter((ownBefore.user + ownBefore.system) / 1e6);
    const result = await drive(service.baseUrl, workload, connections, options.duration);
    const own = process.cpuUsage();
    const requests = result.requests.total;
    const cpu: CpuPerRequest = {
      service: serviceCpu(service.cpuSeconds(), requests),
      postgres: postgresCpu(server.cpuSeconds(), requests),
      loadGenerator: ownCpu((own.user + own.system) / 1e6, requests),
    };
    const peakRss = stopSampling();
    count(workload, result, connections);
    const batches = batchStats(batchesBefore, await scrapeBatchSizes(service.baseUrl));
    const summary = summarize(workload, result, connections, peakRss, cpu, reference, batches);
    summary.db = stats ? profile(await stats.snapshot(ledgerDb), result.requests.total) : null;
    workloads.push(summary);
    log(
      `${workload.name}: ${summary.requestsPerSec} req/s, p99 ${summary.latencyMs.p99} ms, ` +
        `${summary.status.non2xx} non-2xx, ${batches?.mean ?? '-'} commands per batch`,
    );
  }
  checkpoint();

  log('verifying the ledger (GET /audit, sums)');
  const checks = await verify(service.baseUrl, ledgerUrl, tally);
  const peakRss = service.peakRss();
  await service.stop();

  const cpuList = cpus();
  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command:
      `npm run bench -- --duration ${options.duration} --connections ${options.connections} ` +
      `--warmup ${options.warmup}${options.pgbench ? '' : ' --no-pgbench'}` +
      (options.only.length < WORKLOADS.length ? ` --only ${options.only.join(',')}` : '') +
      (options.save ? ' --save' : ''),
    settings: {
      durationSec: options.duration,
      connections: options.connections,
      warmupSec: options.warmup,
      accounts: ACCOUNT_COUNT,
      fundingPerAccount: FUNDING,
      pgbenchScale: PGBENCH_SCALE,
      DB_POOL_SIZE: process.env.DB_POOL_SIZE ?? '10 (default)',
      LEDGER_MAX_BATCH: process.env.LEDGER_MAX_BATCH ?? '256 (default)',
      LEDGER_BATCHES_IN_FLIGHT: process.env.LEDGER_BATCHES_IN_FLIGHT ?? '2 (default)',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info (default)',
    },
    machine: {
      cpus: `${cpuList.length} x ${cpuList[0]?.model.trim() ?? 'unknown'}`,
      memoryGiB: round(totalmem() / 1024 ** 3, 1),
      os: `${osType()} ${release()}`,
      node: process.version,
      postgres: `${postgresVersion} (${server.embedded ? 'embedded, same machine' : 'BENCH_DATABASE_URL'})`,
    },
    reference: reference ?? { skipped },
    workloads,
    service: { peakRssMiB: mib(peakRss) },
    correctness: { ok: checks.every((c) => c.ok), checks },
    targets: [],
  };
  report.targets = judge(report);
  const file = join(RESULTS, options.save ? 'latest.json' : 'last-run.json');
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${render(report)}\n`);
  log(`written: ${file} (logs: service.log, postgres.log)`);
  return report.correctness.ok ? 0 : 1;
}

async function entry(): Promise<void> {
  let code = 1;
  try {
    const options = parseOptions(process.argv.slice(2));
    code = options ? await main(options) : 0;
    if (code !== 0) log('FAILED: the ledger does not balance after the run (see correctness)');
  } catch (error) {
    if (!interrupted) log(`FAILED: ${describe(error)}`);
  }
  await stack.close();
  if (!interrupted) process.exit(code);
}

void entry();
