import { connect } from 'node:net';
import { waitFor } from '../../scripts/lib/wait';
import { ledgerViolations, totalBalance } from '../support/ledger-invariants';
import { Cluster, useCluster } from './support/cluster';
import { call, describeReply, Reply, openAccounts } from './support/http';
import { Load, randomTransfer, TransferBody } from './support/load';
import { startService } from './support/service';

/** main.ts: past this the service gives up on in-flight requests and exits 1. */
const SHUTDOWN_DEADLINE_MS = 10_000;

/** Whether a new TCP connection to `port` is refused (nobody listens there any more). */
function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('SIGTERM under load', () => {
  const database = 'faults_sigterm';
  let cluster: Cluster;

  useCluster((c) => (cluster = c));

  it('stops taking connections, answers every in-flight request, then exits 0 within 10 s', async () => {
    // A pool larger than the test's concurrency: no request waits for a connection. A lock
    // timeout longer than the test holds its lock on a slow machine: no 503 from waiting.
    const service = await startService(await cluster.createDatabase(database), {
      DB_POOL_SIZE: '20',
      DB_LOCK_TIMEOUT_MS: '60000',
    });
    const accounts = Array.from({ length: 6 }, (_, i) => `st-${i}`);
    const initial = 1_000_000;
    await openAccounts(service.baseUrl, ['hot', ...accounts], initial);

    // Background transfers first, acknowledged before the shutdown begins.
    const holder = await cluster.connect(database);
    let blocked: Promise<Reply>[] = [];
    const load = new Load<TransferBody>({
      workers: 6,
      maxRequests: 20_000,
      target: () => service.baseUrl,
      next: () => randomTransfer(accounts, 100),
    });
    try {
      await waitFor('some background load', () => (load.count >= 20 ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 20,
      });
      // The ledger engine commits commands in batches: a batch waiting for a lock holds the
      // commands queued with it, so the background load ends before the lock is taken.
      load.stop();
      await load.done;
      // Requests that are certainly in flight inside the service when SIGTERM arrives: the
      // test holds the lock of account `hot`, so the batches of transfers from it wait in
      // PostgreSQL (one or two batches: the engine runs at most two at once).
      await holder.query(`BEGIN`);
      await holder.query(`SELECT 1 FROM accounts WHERE account_id = 'hot' FOR UPDATE`);
      blocked = accounts.slice(0, 4).map((target) =>
        call(service.baseUrl, 'POST', '/transfers', {
          body: { sourceAccountId: 'hot', targetAccountId: target, amount: 100 },
        }),
      );
      await waitFor(
        'the transfers from hot waiting for its lock in PostgreSQL',
        async () => {
          const [row] = await cluster.query<{ n: string }>(
            'postgres',
            `SELECT count(*)::text AS n FROM pg_stat_activity
              WHERE datname = $1 AND wait_event_type = 'Lock'`,
            [database],
          );
          return Number(row?.n) >= 1 ? true : undefined;
        },
        { timeoutMs: 30_000 },
      );

      let answered = 0;
      for (const reply of blocked) void reply.then(() => (answered += 1));

      const signalledAt = Date.now();
      service.signal('SIGTERM');
      load.stop();
      // It stops listening: a new connection is refused...
      await waitFor(
        'new connections to be refused after SIGTERM',
        async () => ((await connectionRefused(service.port)) ? true : undefined),
        { timeoutMs: 5_000, intervalMs: 20 },
      );
      // ...while the requests it already took are still being served, not dropped: the process
      // lives on and none of them has been answered (their rows are still locked).
      expect(service.alive).toBe(true);
      expect(answered).toBe(0);

      // Released, every one of them is answered with its 201...
      await holder.query(`COMMIT`);
      const replies = await Promise.all(blocked);
      expect(replies.filter((r) => r.status !== 201).map(describeReply)).toEqual([]);

      // ...and then the process exits by itself, with 0, within its deadline. Exit code 0
      // already means it beat its own 10 s timer; measured from here, allow a second for
      // process scheduling on a busy machine.
      const exit = await service.exited;
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(exit.at - signalledAt).toBeLessThan(SHUTDOWN_DEADLINE_MS + 1000);
    } finally {
      load.stop();
      await holder.query(`ROLLBACK`).catch(() => {});
      await holder.end();
      // Every call ends within its own 30 s client timeout, so these settle; nothing below
      // may look at a half-finished load.
      await load.done;
      await Promise.all(blocked);
    }

    // Background requests: never a 5xx; each one acknowledged is in the ledger, whole.
    const errors = load.exchanges.filter((e) => e.reply.status >= 500);
    expect(errors.map((e) => describeReply(e.reply))).toEqual([]);
    const acked = load.exchanges.filter((e) => e.reply.status === 201);
    const ids = [...acked.map((e) => e.reply), ...(await Promise.all(blocked))].map(
      (reply) => (reply.body as { transactionId: string }).transactionId,
    );
    const rows = await cluster.query<{ id: string; n: string }>(
      database,
      `SELECT movement_id::text AS id, count(*)::text AS n FROM ledger_transactions
        WHERE movement_id = ANY($1::uuid[]) GROUP BY 1`,
      [ids],
    );
    expect(rows.filter((r) => r.n === '2').length).toBe(ids.length);
    expect(await ledgerViolations(cluster.db(database))).toEqual([]);
    expect(await totalBalance(cluster.db(database))).toBe(7 * initial);
    const lost = load.exchanges.filter((e) => e.reply.status === 0).length;
    console.log(`SIGTERM: ${acked.length} background transfers acknowledged, ${lost} cut off`);
  });
});
