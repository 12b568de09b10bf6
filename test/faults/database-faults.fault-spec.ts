import { Cluster, useCluster } from './support/cluster';
import { call, describeReply, isProblem, Reply, openAccounts } from './support/http';
import { balances, ledgerViolations } from '../support/ledger-invariants';
import { Load, PlannedRequest } from './support/load';
import { startService } from './support/service';
import { waitFor } from '../../scripts/lib/wait';
import { pick } from './support/util';

/** A 503 is only acceptable as the contract's DATABASE_UNAVAILABLE problem. */
function isUnavailable(r: Reply): boolean {
  return (
    r.status === 503 &&
    isProblem(r) &&
    (r.body as { code?: unknown }).code === 'DATABASE_UNAVAILABLE'
  );
}

describe('database faults', () => {
  let cluster: Cluster;

  useCluster((c) => (cluster = c));

  it('recovers by itself when all its connections are terminated mid-load; a 503 changed nothing', async () => {
    const database = 'faults_terminate';
    const service = await startService(await cluster.createDatabase(database));
    const accounts = Array.from({ length: 6 }, (_, i) => `term-${i}`);
    const initial = 1_000_000_000_000;
    await openAccounts(service.baseUrl, accounts, initial);

    // Every money request carries a unique amount, so the ledger tells whether it happened.
    interface Tag {
      kind: 'transfer' | 'deposit' | 'withdrawal' | 'read';
      amount: number;
      source?: string;
      target?: string;
    }
    const plan = (i: number): PlannedRequest<Tag> => {
      const amount = 1_000_000 + i;
      const source = pick(accounts);
      const target = pick(accounts.filter((a) => a !== source));
      const roll = i % 10;
      if (roll < 6) {
        return {
          method: 'POST',
          path: '/transfers',
          body: { sourceAccountId: source, targetAccountId: target, amount },
          tag: { kind: 'transfer', amount, source, target },
        };
      }
      if (roll < 8) {
        const kind = roll === 6 ? 'deposit' : 'withdrawal';
        return {
          method: 'POST',
          path: kind === 'deposit' ? '/deposits' : '/withdrawals',
          body: { accountId: source, amount },
          tag: { kind, amount, source },
        };
      }
      const path =
        roll === 8 ? `/accounts/${source}/balance` : `/accounts/${source}/transactions?limit=5`;
      return { method: 'GET', path, tag: { kind: 'read', amount: 0 } };
    };
    const load = new Load<Tag>({
      workers: 12,
      maxRequests: 20_000,
      target: () => service.baseUrl,
      next: plan,
    });

    let killed = 0;
    for (let round = 0; round < 3; round++) {
      const seen = load.count;
      await waitFor('more load', () => (load.count >= seen + 60 ? true : undefined), {
        timeoutMs: 60_000,
        intervalMs: 20,
      });
      killed += await cluster.terminateConnections(database);
    }
    const lastKill = load.count;
    await waitFor(
      'load after the last kill',
      () => (load.count >= lastKill + 60 ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    load.stop();
    await load.done;
    expect(killed).toBeGreaterThan(0);

    // No 500, no dropped connection, no other status: success or DATABASE_UNAVAILABLE only.
    const wrong = load.exchanges.filter(
      (e) => !(e.reply.status === 200 || e.reply.status === 201 || isUnavailable(e.reply)),
    );
    expect(
      wrong.map((e) => `${e.request.method} ${e.request.path}: ${describeReply(e.reply)}`),
    ).toEqual([]);

    // A 201 is in the ledger (whole); a 503 left no trace.
    const money = load.exchanges.filter((e) => e.request.tag.kind !== 'read');
    const rows = await cluster.query<{ amount: string; entries: string }>(
      database,
      `SELECT abs(amount)::text AS amount, count(*)::text AS entries FROM ledger_transactions
        WHERE abs(amount) = ANY($1::bigint[]) GROUP BY 1`,
      [money.map((e) => e.request.tag.amount)],
    );
    const found = new Map(rows.map((r) => [Number(r.amount), Number(r.entries)]));
    const mismatched = money.flatMap(({ request, reply }) => {
      const { kind, amount } = request.tag;
      const expected = reply.status === 201 ? (kind === 'transfer' ? 2 : 1) : 0;
      const actual = found.get(amount) ?? 0;
      return actual === expected
        ? []
        : [`${kind} ${amount} answered ${reply.status}: ${actual} entries`];
    });
    expect(mismatched).toEqual([]);

    // Balances are exactly what the acknowledged requests say.
    const expected = new Map(accounts.map((a) => [a, initial]));
    for (const { request, reply } of money) {
      if (reply.status !== 201) continue;
      const { kind, amount, source, target } = request.tag;
      const delta = kind === 'withdrawal' || kind === 'transfer' ? -amount : amount;
      expected.set(source!, expected.get(source!)! + delta);
      if (kind === 'transfer') expected.set(target!, expected.get(target!)! + amount);
    }
    expect(await balances(cluster.db(database))).toEqual(expected);
    expect(await ledgerViolations(cluster.db(database))).toEqual([]);

    // Recovered without a restart: everything asked afterwards succeeds.
    expect(service.alive).toBe(true);
    const after = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? call(service.baseUrl, 'POST', '/deposits', {
              body: { accountId: accounts[i % 6], amount: 1 },
            })
          : call(service.baseUrl, 'GET', `/accounts/${accounts[i % 6]}/transactions?limit=3`),
      ),
    );
    expect(after.filter((r) => r.status !== 200 && r.status !== 201).map(describeReply)).toEqual(
      [],
    );
    const audit = await call(service.baseUrl, 'GET', '/audit');
    expect(audit.body).toMatchObject({ ok: true, mismatches: [] });
    const unavailable = load.exchanges.filter((e) => e.reply.status === 503).length;
    console.log(
      `pg_terminate_backend: ${killed} connections killed, ${load.count} requests, ${unavailable} answered 503`,
    );
  });

  it('answers 503 within seconds while the database is down, and recovers without a restart', async () => {
    const database = 'faults_down';
    const service = await startService(await cluster.createDatabase(database));
    for (const accountId of ['down-a', 'down-b']) {
      const r = await call(service.baseUrl, 'POST', '/accounts', {
        body: { accountId, initialDeposit: 10_000 },
      });
      expect(r.status).toBe(201);
    }
    const pid = service.pid;

    await cluster.stop();

    const health = await call(service.baseUrl, 'GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body).toEqual({ status: 'error', database: 'down' });
    expect(health.ms).toBeLessThan(5000);

    // Every kind of database-backed request, two of each at once (more than a few pool slots).
    const probes: [string, string, unknown?][] = [
      ['POST', '/transfers', { sourceAccountId: 'down-a', targetAccountId: 'down-b', amount: 100 }],
      ['POST', '/deposits', { accountId: 'down-a', amount: 100 }],
      ['POST', '/withdrawals', { accountId: 'down-a', amount: 100 }],
      ['POST', '/payments', { accountId: 'down-a', amount: 100 }],
      ['POST', '/accounts', { accountId: 'down-new', initialDeposit: 5 }],
      ['GET', '/accounts'],
      ['GET', '/accounts/down-a'],
      ['GET', '/accounts/down-a/balance'],
      ['GET', '/accounts/down-a/transactions'],
      ['GET', '/transactions/0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10'],
      ['GET', '/audit'],
    ];
    const replies = await Promise.all(
      [...probes, ...probes].map(async ([method, path, body]) => ({
        what: `${method} ${path}`,
        reply: await call(service.baseUrl, method, path, { body }),
      })),
    );
    const notQuick503 = replies.filter(({ reply }) => !(isUnavailable(reply) && reply.ms < 8000));
    expect(notQuick503.map(({ what, reply }) => `${what}: ${describeReply(reply)}`)).toEqual([]);
    expect(service.alive).toBe(true);

    await cluster.start();
    await service.waitHealthy(30_000);
    expect(service.pid).toBe(pid);

    // Nothing the outage answered 503 to happened; the same process serves again.
    const transfer = await call(service.baseUrl, 'POST', '/transfers', {
      body: { sourceAccountId: 'down-a', targetAccountId: 'down-b', amount: 1 },
    });
    expect(transfer.status).toBe(201);
    expect(transfer.body).toMatchObject({ sourceBalance: 9_999, targetBalance: 10_001 });
    expect((await call(service.baseUrl, 'GET', '/accounts/down-new')).status).toBe(404);
    expect(await ledgerViolations(cluster.db(database))).toEqual([]);
  });
});
