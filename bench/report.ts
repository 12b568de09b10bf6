import type { StatementRow } from './postgres';

export interface DbProfile {
  /** Requests (or pgbench transactions) the statements are divided by. */
  requests: number;
  statementsPerRequest: number;
  /** Execution time inside PostgreSQL per request (excludes network and waiting for a connection). */
  dbMsPerRequest: number;
  top: { query: string; callsPerRequest: number; meanMs: number; shareOfDbTime: number }[];
}

export interface WorkloadReport {
  name: string;
  description: string;
  durationSec: number;
  connections: number;
  requests: number;
  requestsPerSec: number;
  latencyMs: { average: number; p50: number; p90: number; p99: number; max: number };
  status: {
    '2xx': number;
    non2xx: number;
    '4xx': number;
    '5xx': number;
    errors: number;
    timeouts: number;
    codes: Record<string, number>;
  };
  ratioToPgbench: number | null;
  peakRssMiB: number | null;
  /** CPU time per request: the service, PostgreSQL (embedded only), autocannon. */
  cpuMsPerRequest: CpuPerRequest;
  /** Commands per ledger batch (one transaction) during the workload; null: no batch ran. */
  batches: BatchStats | null;
  db: DbProfile | null;
}

export interface BatchStats {
  batches: number;
  mean: number;
  /** Upper bound of the histogram bucket holding the 99th percentile. */
  p99AtMost: number;
}

export interface CpuPerRequest {
  service: number | null;
  postgres: number | null;
  loadGenerator: number | null;
}

export interface ReferenceReport {
  tool: string;
  command: string;
  tps: number;
  latencyAverageMs: number | null;
  transactions: number | null;
  failedTransactions: number | null;
  /** PostgreSQL CPU time per pgbench transaction (embedded server only). */
  postgresCpuMsPerTransaction: number | null;
  db: DbProfile | null;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Target {
  name: string;
  /** Null when it cannot be judged (no pgbench, no memory reading). */
  met: boolean | null;
  detail: string;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  settings: Record<string, string | number>;
  machine: Record<string, string | number>;
  reference: ReferenceReport | { skipped: string };
  workloads: WorkloadReport[];
  service: { peakRssMiB: number | null };
  correctness: { ok: boolean; checks: Check[] };
  targets: Target[];
}

export const mib = (bytes: number | null) =>
  bytes === null ? null : Math.round((bytes / 1024 / 1024) * 10) / 10;
export const round = (value: number, digits = 2) => Number(value.toFixed(digits));

export function profile(rows: StatementRow[], requests: number): DbProfile | null {
  if (requests <= 0) return null;
  const calls = rows.reduce((sum, r) => sum + r.calls, 0);
  const totalMs = rows.reduce((sum, r) => sum + r.totalMs, 0);
  return {
    requests,
    statementsPerRequest: round(calls / requests),
    dbMsPerRequest: round(totalMs / requests, 3),
    top: rows.slice(0, 6).map((r) => ({
      query: r.query.length > 160 ? `${r.query.slice(0, 157)}...` : r.query,
      callsPerRequest: round(r.calls / requests),
      meanMs: round(r.totalMs / Math.max(1, r.calls), 3),
      shareOfDbTime: totalMs > 0 ? round(r.totalMs / totalMs) : 0,
    })),
  };
}

/** A Markdown table (pads cells so it also reads well in a terminal); column 0 left-aligned. */
export function markdownTable(rows: (string | number)[][]): string {
  const widths = rows[0].map((_, i) => Math.max(3, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const cells = (r: (string | number)[]) =>
    r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])));
  const rule = widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`));
  return [line(cells(rows[0])), line(rule), ...rows.slice(1).map((r) => line(cells(r)))].join('\n');
}

const dash = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined ? '-' : value.toFixed(digits);

/** The human-readable report: the table first, then where the time goes, then verdicts. */
export function render(report: BenchReport): string {
  const lines: string[] = [];
  const s = report.settings;
  lines.push(
    `Banking Ledger API bench: ${s.connections} connections, ${s.durationSec} s per workload ` +
      `(${s.warmupSec} s warm-up), ${report.startedAt}`,
  );
  lines.push(
    `machine: ${Object.entries(report.machine)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  lines.push('');
  const rows: (string | number)[][] = [
    [
      'workload',
      'req/s',
      'p50 ms',
      'p99 ms',
      'conns',
      'per batch (mean / p99)',
      'non-2xx',
      '5xx',
      'errors',
      'x pgbench',
      'peak RSS MiB',
      'CPU ms/req service',
      'postgres',
      'autocannon',
    ],
  ];
  const ref = report.reference;
  if ('tps' in ref) {
    const pgCpu = dash(ref.postgresCpuMsPerTransaction, 3);
    rows.push([
      'pgbench TPC-B',
      ref.tps.toFixed(1),
      '',
      '',
      String(report.settings.connections),
      '',
      '',
      '',
      '',
      '1.00',
      '',
      '',
      pgCpu,
      '',
    ]);
  }
  for (const w of report.workloads) {
    rows.push([
      w.name,
      w.requestsPerSec.toFixed(1),
      w.latencyMs.p50.toFixed(1),
      w.latencyMs.p99.toFixed(1),
      w.connections,
      w.batches ? `${w.batches.mean.toFixed(1)} / ≤${w.batches.p99AtMost}` : '-',
      w.status.non2xx,
      w.status['5xx'],
      w.status.errors + w.status.timeouts,
      dash(w.ratioToPgbench, 2),
      dash(w.peakRssMiB),
      dash(w.cpuMsPerRequest.service, 3),
      dash(w.cpuMsPerRequest.postgres, 3),
      dash(w.cpuMsPerRequest.loadGenerator, 3),
    ]);
  }
  lines.push(markdownTable(rows));
  lines.push('');
  if ('tps' in ref) {
    lines.push(
      `reference: ${ref.command} (latency average ${dash(ref.latencyAverageMs, 2)} ms, ` +
        `failed ${ref.failedTransactions ?? '-'})`,
    );
  } else {
    lines.push(`reference: pgbench skipped (${ref.skipped}); ratios not computed`);
  }
  lines.push(`service peak RSS over the whole run (VmHWM): ${dash(report.service.peakRssMiB)} MiB`);
  lines.push('');
  const profiled: [string, DbProfile | null][] = [
    ...('tps' in ref ? [['pgbench', ref.db] as [string, DbProfile | null]] : []),
    ...report.workloads.map((w) => [w.name, w.db] as [string, DbProfile | null]),
  ];
  if (profiled.some(([, p]) => p !== null)) {
    lines.push('where the database time goes, per request (pg_stat_statements):');
    for (const [name, p] of profiled) {
      if (!p) continue;
      lines.push(
        `  ${name}: ${p.statementsPerRequest} statements, ${p.dbMsPerRequest} ms executing`,
      );
      for (const t of p.top) {
        lines.push(
          `    ${t.callsPerRequest.toFixed(2)}x ${t.meanMs.toFixed(3)} ms ` +
            `${(t.shareOfDbTime * 100).toFixed(0).padStart(3)}%  ${t.query.slice(0, 90)}`,
        );
      }
    }
    lines.push('');
  }
  lines.push('targets:');
  for (const t of report.targets) {
    const verdict = t.met === null ? 'n/a ' : t.met ? 'met ' : 'MISS';
    lines.push(`  ${verdict} ${t.name}: ${t.detail}`);
  }
  lines.push('');
  lines.push(`correctness: ${report.correctness.ok ? 'OK' : 'FAILED'}`);
  for (const c of report.correctness.checks) {
    lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  }
  return lines.join('\n');
}
