import { ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import type { SqlTarget } from '../../support/ledger-invariants';
import { freePort } from '../../../scripts/lib/net';
import { runningPostmasterPid } from '../../../scripts/lib/postgres';
import { waitFor } from '../../../scripts/lib/wait';
import { killAllServices } from './service';
import { within } from './util';

const PG_SERVER = resolve(__dirname, 'pg-server.js');

/**
 * A PostgreSQL cluster owned by one fault-test file: its own temp directory and port, so the
 * test may stop it, start it again and kill its backends without touching anyone else's
 * database (the machine's PostgreSQL on 5432 is never used).
 */
export class Cluster {
  private server?: ChildProcess;
  private serverExit?: Promise<void>;
  private readonly output: string[] = [];

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<Cluster> {
    const dir = await mkdtemp(join(tmpdir(), 'ledger-faults-pg-'));
    // As root the server runs as `postgres`, which must be able to enter the directory.
    await chmod(dir, 0o755);
    const cluster = new Cluster(dir, await freePort());
    try {
      await cluster.start();
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** URL of database `name` on this cluster (the `postgres` superuser). */
  url(name = 'postgres'): string {
    return `postgresql://postgres:postgres@127.0.0.1:${this.port}/${name}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Starts the server (creating the cluster on first use); resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.server) return;
    const child = spawn(process.execPath, [PG_SERVER, this.dataDir, String(this.port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.server = child;
    this.serverExit = new Promise((r) => child.once('exit', () => r()));
    let stdout = '';
    const ready = new Promise<void>((resolveReady, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('\n')) resolveReady();
      });
      child.stderr.on('data', (chunk: Buffer) => this.remember(chunk.toString()));
      child.once('exit', (code, signal) =>
        reject(new Error(`pg-server exited (${code ?? signal}): ${this.output.join('')}`)),
      );
    });
    try {
      if (!(await within(ready, 90_000))) throw new Error('PostgreSQL did not start within 90 s');
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Fast shutdown: every open connection is terminated, new ones are refused. */
  async stop(): Promise<void> {
    const child = this.server;
    if (!child) return;
    this.server = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    if (!(await within(this.serverExit!, 30_000))) child.kill('SIGKILL');
    this.killPostmaster();
    await waitFor(
      'the postmaster to exit',
      () => (runningPostmasterPid(this.dataDir) === undefined ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );
  }

  /** Stops the server and deletes the cluster's files. Safe to call twice. */
  async dispose(): Promise<void> {
    try {
      await this.stop();
    } finally {
      this.killPostmaster();
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  async createDatabase(name: string): Promise<string> {
    await this.query('postgres', `CREATE DATABASE ${name}`);
    return this.url(name);
  }

  /** One statement on a short-lived connection (assertions behind the API's back). */
  async query<T extends Record<string, unknown> = Record<string, unknown>>(
    database: string,
    text: string,
    params?: unknown[],
  ): Promise<T[]> {
    const client = new Client({
      connectionString: this.url(database),
      connectionTimeoutMillis: 10_000,
    });
    client.on('error', () => {});
    await client.connect();
    try {
      return (await client.query<T>(text, params)).rows;
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** Database `name` as a target for the shared ledger checks (test/support/ledger-invariants). */
  db(name: string): SqlTarget {
    return { sql: (text, params) => this.query(name, text, params) };
  }

  /** A long-lived connection the test drives itself (e.g. to hold a row lock). */
  async connect(database: string): Promise<Client> {
    const client = new Client({
      connectionString: this.url(database),
      connectionTimeoutMillis: 10_000,
    });
    client.on('error', () => {});
    await client.connect();
    return client;
  }

  /** pg_terminate_backend on every connection to `database` but the caller's: the count killed. */
  async terminateConnections(database: string): Promise<number> {
    const rows = await this.query<{ killed: boolean }>(
      'postgres',
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [database],
    );
    return rows.filter((r) => r.killed).length;
  }

  private remember(text: string): void {
    this.output.push(text);
    if (this.output.length > 40) this.output.shift();
  }

  /** Last resort when the wrapper died without stopping its server: immediate shutdown. */
  private killPostmaster(): void {
    const pid = runningPostmasterPid(this.dataDir);
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
  }
}

/**
 * The cluster of one test file: created before its tests; after them, every service the file
 * started is killed, then the cluster is stopped and deleted. `use` receives it once it is up.
 */
export function useCluster(use: (cluster: Cluster) => void): void {
  let cluster: Cluster | undefined;
  beforeAll(async () => {
    cluster = await Cluster.create();
    use(cluster);
  });
  afterAll(async () => {
    await killAllServices();
    await cluster?.dispose();
  });
}
