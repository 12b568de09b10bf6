import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { waitForExit } from './process-utils';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `pgbench` from BENCH_PGBENCH, else PATH, else a Debian/Ubuntu server install
 * (`/usr/lib/postgresql/<major>/bin`, newest first). Undefined when there is none.
 */
export function findPgbench(): string | undefined {
  const explicit = process.env.BENCH_PGBENCH;
  if (explicit) return executable(explicit) ? explicit : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'pgbench'))) return join(dir, 'pgbench');
  }
  let majors: string[] = [];
  try {
    majors = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  } catch {
    // not a Debian-style install
  }
  return majors.map((m) => `/usr/lib/postgresql/${m}/bin/pgbench`).find(executable);
}

export function pgbenchVersion(pgbench: string): string {
  return execFileSync(pgbench, ['--version']).toString().trim();
}

export interface PgbenchResult {
  tps: number;
  latencyAverageMs: number | null;
  transactions: number | null;
  failedTransactions: number | null;
  command: string;
}

/** Runs pgbench against one database; connection details go through libpq's variables. */
export class Pgbench {
  private child: ChildProcess | undefined;

  constructor(
    private readonly binary: string,
    private readonly databaseUrl: string,
  ) {}

  /** `pgbench -i -s <scale>`: its four tables in its own database. */
  async init(scale: number): Promise<void> {
    await this.run(['-i', '-s', String(scale), '-q'], 900_000);
  }

  /** The built-in TPC-B-like script, prepared statements, `clients` connections. */
  async tpcb(clients: number, seconds: number): Promise<PgbenchResult> {
    const args = [
      '-M',
      'prepared',
      '-c',
      String(clients),
      '-j',
      String(Math.min(2, clients)),
      '-T',
      String(seconds),
    ];
    const output = await this.run(args, (seconds + 120) * 1000);
    const number = (pattern: RegExp) => {
      const match = pattern.exec(output);
      return match ? Number(match[1]) : null;
    };
    // pgbench ≥ 14 prints one tps line; older versions print "including/excluding connections".
    const tps =
      number(/tps = ([\d.]+) \((?:without initial connection time|excluding)/) ??
      number(/tps = ([\d.]+)/);
    if (tps === null) throw new Error(`pgbench printed no tps:\n${output.slice(-2000)}`);
    return {
      tps,
      latencyAverageMs: number(/latency average = ([\d.]+) ms/),
      transactions: number(/number of transactions actually processed: (\d+)/),
      failedTransactions: number(/number of failed transactions: (\d+)/),
      command: `pgbench ${args.join(' ')}`,
    };
  }

  /** Stops a running pgbench (Ctrl-C of the bench). */
  kill(): void {
    this.child?.kill('SIGINT');
  }

  private async run(args: string[], timeoutMs: number): Promise<string> {
    const url = new URL(this.databaseUrl);
    const env = {
      ...process.env,
      PGHOST: url.hostname,
      PGPORT: url.port || '5432',
      PGUSER: decodeURIComponent(url.username),
      PGPASSWORD: decodeURIComponent(url.password),
      PGDATABASE: decodeURIComponent(url.pathname.slice(1)),
    };
    const child = spawn(this.binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await waitForExit(child, timeoutMs);
    this.child = undefined;
    if (code === 'timeout') {
      child.kill('SIGKILL');
      throw new Error(`pgbench ${args.join(' ')} did not finish within ${timeoutMs} ms`);
    }
    if (code !== 0) {
      throw new Error(`pgbench ${args.join(' ')} failed (${code}):\n${output.slice(-2000)}`);
    }
    return output;
  }
}
