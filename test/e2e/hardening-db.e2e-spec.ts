import { Client } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { DatabaseLocation } from '../../src/database/database-location';
import { DatabaseProbe, PROBE_TIMEOUT_MS } from '../../src/health/database-probe';
import { balanceOf, createAccount } from '../support/factories';
import { freePort } from '../../scripts/lib/net';
import { LogCapture } from '../support/log-capture';
import { TestApp, useTestApp } from '../support/test-app';

interface OpenApiOperation {
  responses?: Record<
    string,
    {
      headers?: Record<string, unknown>;
      content?: Record<string, { examples?: Record<string, unknown> }>;
    }
  >;
}

interface Outcome {
  amount: number;
  status: number;
  code?: string;
  retryAfter?: string;
  contentType?: string;
}

/** A session of our own that takes an ACCESS EXCLUSIVE lock on `table` until `release()`. */
async function lockTable(url: string, table: string): Promise<{ release(): Promise<void> }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return {
    release: async () => {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

/** Polls (never sleeps blindly) until `check()` holds; fails after 10 s. */
async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function deposit(t: TestApp, accountId: string, amount: number, key?: string): Promise<Outcome> {
  let req = request(t.app.getHttpServer()).post('/deposits');
  if (key) req = req.set('Idempotency-Key', key);
  return req.send({ accountId, amount }).then((res) => ({
    amount,
    status: res.status,
    code: (res.body as { code?: string }).code,
    retryAfter: res.headers['retry-after'],
    contentType: res.headers['content-type'],
  }));
}

async function health(t: TestApp): Promise<{ status: number; ms: number; body: unknown }> {
  const started = Date.now();
  const res = await request(t.app.getHttpServer()).get('/health');
  return { status: res.status, ms: Date.now() - started, body: res.body };
}

function expectServiceBusy(outcome: Outcome): void {
  expect(outcome).toEqual({
    amount: outcome.amount,
    status: 503,
    code: 'SERVICE_BUSY',
    retryAfter: '1',
    contentType: expect.stringContaining('application/problem+json') as string,
  });
}

/**
 * One app for the enclosing describe with its warn lines captured (a busy database is logged
 * as a warning) and the cashback worker out of the way; `env` sets the limits under test.
 */
function useAppLoggingWarnings(env: Record<string, string>): {
  logs: LogCapture;
  app: () => TestApp;
} {
  const logs = new LogCapture();
  const app = useTestApp({
    logs: logs.stream,
    env: { ...env, LOG_LEVEL: 'warn', CASHBACK_WORKER_INTERVAL_MS: '3600000' },
  });
  return { logs, app };
}

describe('a table lock held by another session (issue #15, items 1 and 3)', () => {
  // Two pooled connections, one of them for ledger batches: the deposits queue as commands
  // (not as pool connections), their batches wait 2 s for the lock and meet lock_timeout
  // (55P03), each of its requests answered 503.
  const { logs, app } = useAppLoggingWarnings({
    DB_POOL_SIZE: '2',
    LEDGER_BATCHES_IN_FLIGHT: '1',
    DB_LOCK_TIMEOUT_MS: '2000',
  });
  let t: TestApp;
  beforeAll(() => (t = app()));

  it('applies the configured timeouts to the pool connections', async () => {
    const rows: { name: string; setting: string }[] = await t.app.get(DataSource).query(
      `SELECT name, setting FROM pg_settings
          WHERE name IN ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout')
          ORDER BY name`,
    );
    expect(rows).toEqual([
      { name: 'idle_in_transaction_session_timeout', setting: '30000' },
      { name: 'lock_timeout', setting: '2000' },
      { name: 'statement_timeout', setting: '15000' },
    ]);
  });

  it('answers 503 SERVICE_BUSY with Retry-After (never 500), /health 200, and books exactly the acknowledged deposits', async () => {
    const account = await createAccount(t);
    const lock = await lockTable(t.database.url, 'accounts');
    let duringLock: Outcome[];
    let probes: { status: number; ms: number; body: unknown }[];
    try {
      const deposits = Array.from({ length: 8 }, (_, i) =>
        deposit(t, account.accountId, 1000 + i, i % 2 === 0 ? `lock-${i}` : undefined),
      );
      // While the deposits hang on the lock and the pool is exhausted: the database answers.
      probes = [];
      for (let i = 0; i < 3; i++) probes.push(await health(t));
      duringLock = await Promise.all(deposits);
    } finally {
      await lock.release();
    }

    for (const probe of probes) {
      expect(probe).toEqual({
        status: 200,
        ms: expect.any(Number) as number,
        body: { status: 'ok', database: 'up' },
      });
      expect(probe.ms).toBeLessThan(PROBE_TIMEOUT_MS);
    }
    // Each of them is busy: its batch met the lock timeout (55P03).
    duringLock.forEach(expectServiceBusy);
    const busyLines = logs.lines.filter(
      (l) => l.level === 'warn' && String(l.msg).includes('service busy'),
    );
    expect(busyLines).toHaveLength(8);
    expect(busyLines.every((l) => String(l.msg).includes('lock timeout'))).toBe(true);
    // Never logged as an unexpected error (the filter's 500 line, with a stack).
    expect(logs.lines.filter((l) => l.level === 'error' && l.msg !== 'request failed')).toEqual([]);

    // The lock is gone: the same requests (the keyed ones retried with their keys) now succeed,
    // because a 503 was never stored as the key's answer.
    const after = await Promise.all(
      duringLock.map((o, i) =>
        deposit(t, account.accountId, o.amount, i % 2 === 0 ? `lock-${i}` : undefined),
      ),
    );
    expect(after.map((o) => o.status)).toEqual(Array(8).fill(201));
    const acknowledged = after.reduce((sum, o) => sum + o.amount, 0);
    expect(await balanceOf(t, account.accountId)).toBe(acknowledged);
    const [entries] = await t.sql<{ n: string }>(
      'SELECT count(*)::text AS n FROM ledger_transactions WHERE account_id = $1',
      [account.accountId],
    );
    expect(entries?.n).toBe('8');
  });

  it('documents SERVICE_BUSY and its Retry-After header on every route that reads the database', async () => {
    const res = await request(t.app.getHttpServer()).get('/docs-json').expect(200);
    const paths = (res.body as { paths: Record<string, Record<string, OpenApiOperation>> }).paths;
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(operations)) {
        if (path === '/health' || path === '/metrics') continue;
        const busy = op.responses?.['503'];
        const examples = busy?.content?.['application/problem+json']?.examples ?? {};
        if (!('SERVICE_BUSY' in examples) || !busy?.headers?.['Retry-After']) {
          missing.push(`${method.toUpperCase()} ${path}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('answers /health 200 while every pooled connection is taken by a slow statement', async () => {
    const dataSource = t.app.get(DataSource);
    const slow = [1, 2].map(() => dataSource.query('SELECT pg_sleep(3)'));
    try {
      await waitUntil('both pooled connections to be busy', async () => {
        const [row] = await t.sql<{ n: string }>(
          `SELECT count(*)::text AS n FROM pg_stat_activity
            WHERE datname = current_database() AND query = 'SELECT pg_sleep(3)' AND state = 'active'`,
        );
        return row?.n === '2';
      });
      const probe = await health(t);
      expect(probe.status).toBe(200);
      expect(probe.ms).toBeLessThan(PROBE_TIMEOUT_MS);
    } finally {
      await Promise.all(slow);
    }
  });
});

describe('a statement timeout (57014)', () => {
  // The lock wait outlasts the statement timeout: the server cancels the statement (57014).
  const { logs, app } = useAppLoggingWarnings({
    DB_STATEMENT_TIMEOUT_MS: '1000',
    DB_LOCK_TIMEOUT_MS: '10000',
  });
  let t: TestApp;
  beforeAll(() => (t = app()));

  it('is 503 SERVICE_BUSY with Retry-After, and the request changed nothing', async () => {
    const account = await createAccount(t, { initialDeposit: 500 });
    const lock = await lockTable(t.database.url, 'accounts');
    let outcome: Outcome;
    try {
      outcome = await deposit(t, account.accountId, 700);
    } finally {
      await lock.release();
    }
    expectServiceBusy(outcome);
    expect(
      logs.lines.filter(
        (l) => l.level === 'warn' && String(l.msg).includes('due to statement timeout'),
      ),
    ).toHaveLength(1);
    expect(await balanceOf(t, account.accountId)).toBe(500);
  });
});

describe('the /health probe', () => {
  it('says down, quickly, when nothing answers at the database address', async () => {
    const url = `postgresql://postgres@127.0.0.1:${await freePort()}/postgres`;
    const probe = new DatabaseProbe(new DatabaseLocation(url));
    const started = Date.now();
    expect(await probe.isUp()).toBe(false);
    expect(Date.now() - started).toBeLessThan(2 * PROBE_TIMEOUT_MS);
    await probe.onApplicationShutdown();
  });
});
