import { MIGRATIONS } from '../../migrations';
import { Cluster, useCluster } from './support/cluster';
import { call, describeReply, openAccounts } from './support/http';
import { balances, ledgerViolations } from '../support/ledger-invariants';
import { Load, randomTransfer, TransferBody } from './support/load';
import { Service, startService } from './support/service';
import { waitFor } from '../../scripts/lib/wait';
import { pick, randomInt } from './support/util';

const CASHBACK_DELAY_MS = 3000;

/** Two service processes on one database, as a deployment with two replicas runs them. */
describe('two instances on one database', () => {
  const database = 'faults_two';
  let cluster: Cluster;
  let instances: Service[];
  const url = (i: number) => instances[i % 2].baseUrl;

  useCluster((c) => (cluster = c));

  beforeAll(async () => {
    const databaseUrl = await cluster.createDatabase(database);
    // Both start at once on an empty database: both try to apply every migration.
    // The pool is larger than the test's concurrency: a 503 for a pool wait past its timeout
    // on a busy machine would be overload, not the fault under test.
    const env = {
      CASHBACK_DELAY_MS: String(CASHBACK_DELAY_MS),
      CASHBACK_WORKER_INTERVAL_MS: '100',
      DB_POOL_SIZE: '20',
    };
    instances = await Promise.all([startService(databaseUrl, env), startService(databaseUrl, env)]);
  });
  afterEach(async () => {
    expect(await ledgerViolations(cluster.db(database))).toEqual([]);
  });

  it('both start on an empty database at once: every migration applied exactly once', async () => {
    const rows = await cluster.query<{ name: string }>(
      database,
      `SELECT name FROM typeorm_migrations ORDER BY id`,
    );
    expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    for (const service of instances) {
      expect((await call(service.baseUrl, 'GET', '/health')).status).toBe(200);
    }
  });

  it('transfers through both at once serialize: all succeed, exact balances, unbroken chains', async () => {
    const accounts = ['two-a', 'two-b', 'two-c'];
    const initial = 1_000_000;
    await openAccounts(url(0), accounts, initial);
    let turn = 0;
    const load = new Load<TransferBody>({
      workers: 20,
      maxRequests: 300,
      target: () => url(turn++),
      next: () => randomTransfer(accounts, 100),
    });
    await load.done;
    expect(
      load.exchanges.filter((e) => e.reply.status !== 201).map((e) => describeReply(e.reply)),
    ).toEqual([]);

    const expected = new Map(accounts.map((a) => [a, initial]));
    for (const { tag } of load.exchanges.map((e) => e.request)) {
      expected.set(tag.sourceAccountId, expected.get(tag.sourceAccountId)! - tag.amount);
      expected.set(tag.targetAccountId, expected.get(tag.targetAccountId)! + tag.amount);
    }
    expect(await balances(cluster.db(database))).toEqual(expected);

    // Each response reports the balances its own entries hold: one serial order explains all.
    const entries = await cluster.query<{
      movement: string;
      account_id: string;
      balance_after: string;
    }>(
      database,
      `SELECT movement_id::text AS movement, account_id, balance_after::text AS balance_after
         FROM ledger_transactions WHERE operation IN ('TRANSFER_OUT', 'TRANSFER_IN')`,
    );
    const after = new Map(
      entries.map((e) => [`${e.movement}/${e.account_id}`, Number(e.balance_after)]),
    );
    const disagreeing = load.exchanges.filter(({ request, reply }) => {
      const body = reply.body as {
        transactionId: string;
        sourceBalance: number;
        targetBalance: number;
      };
      return (
        after.get(`${body.transactionId}/${request.tag.sourceAccountId}`) !== body.sourceBalance ||
        after.get(`${body.transactionId}/${request.tag.targetAccountId}`) !== body.targetBalance
      );
    });
    expect(disagreeing.map((e) => e.reply.text)).toEqual([]);
  });

  it('credits every cashback exactly once while both workers and both APIs race for it', async () => {
    const accounts = ['cb-a', 'cb-b', 'cb-c', 'cb-d'];
    const initial = 10_000_000;
    await openAccounts(url(1), accounts, initial);
    // 60 payments through both instances; some too small to earn a cashback (rounds to 0).
    const paid = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        call(url(i), 'POST', '/payments', {
          body: {
            accountId: accounts[i % accounts.length],
            amount: i % 10 === 0 ? randomInt(1, 49) : randomInt(50, 50_000),
          },
        }),
      ),
    );
    expect(paid.filter((r) => r.status !== 201).map(describeReply)).toEqual([]);
    const payments = paid.map(
      (r) =>
        r.body as {
          paymentId: string;
          accountId: string;
          amount: number;
          cashbackAmount: number;
          cashbackDueAt: number;
        },
    );
    expect(new Set(payments.map((p) => p.paymentId)).size).toBe(payments.length);

    // While the cashbacks fall due, both instances are asked about every account and payment,
    // and move money on them: settle-on-touch in two processes racing two workers.
    const readers = new Load<null>({
      workers: 8,
      maxRequests: 100_000,
      target: () => url(randomInt(0, 1)),
      next: (i) => {
        const accountId = pick(accounts);
        const kind = i % 4;
        if (kind === 0) return { method: 'GET', path: `/accounts/${accountId}/balance`, tag: null };
        if (kind === 1)
          return {
            method: 'GET',
            path: `/accounts/${accountId}/transactions?limit=500`,
            tag: null,
          };
        if (kind === 2)
          return { method: 'GET', path: `/payments/${pick(payments).paymentId}`, tag: null };
        return { method: 'POST', path: '/deposits', body: { accountId, amount: 1 }, tag: null };
      },
    });
    try {
      await waitFor(
        'every payment to report CASHBACK_RECEIVED',
        async () => {
          for (const p of payments) {
            const r = await call(url(randomInt(0, 1)), 'GET', `/payments/${p.paymentId}`);
            if ((r.body as { status?: unknown }).status !== 'CASHBACK_RECEIVED') return undefined;
          }
          return true;
        },
        { timeoutMs: CASHBACK_DELAY_MS + 60_000, intervalMs: 250 },
      );
    } finally {
      readers.stop();
      await readers.done;
    }
    const failed = readers.exchanges.filter(
      (e) => e.reply.status !== 200 && e.reply.status !== 201,
    );
    expect(
      failed.map((e) => `${e.request.method} ${e.request.path}: ${describeReply(e.reply)}`),
    ).toEqual([]);

    // Exactly one CASHBACK entry per payment that earned one, at its due time, of its amount.
    const credited = await cluster.query<{
      payment_ref: string;
      n: string;
      amount: string;
      ts: string;
    }>(
      database,
      `SELECT payment_ref, count(*)::text AS n, max(amount)::text AS amount, max(timestamp)::text AS ts
         FROM ledger_transactions WHERE operation = 'CASHBACK' GROUP BY payment_ref`,
    );
    const byPayment = new Map(credited.map((c) => [c.payment_ref, c]));
    const wrong = payments.flatMap((p) => {
      const c = byPayment.get(p.paymentId);
      if (p.cashbackAmount === 0) return c ? [`${p.paymentId}: cashback 0 but ${c.n} entries`] : [];
      if (
        !c ||
        c.n !== '1' ||
        Number(c.amount) !== p.cashbackAmount ||
        Number(c.ts) !== p.cashbackDueAt
      ) {
        return [
          `${p.paymentId}: expected one CASHBACK of ${p.cashbackAmount} at ${p.cashbackDueAt}, got ${JSON.stringify(c)}`,
        ];
      }
      return [];
    });
    expect(wrong).toEqual([]);
    expect(credited.length).toBe(payments.filter((p) => p.cashbackAmount > 0).length);

    // Money: initial − payments + cashbacks + the 1-unit deposits that were acknowledged.
    const expected = new Map(accounts.map((a) => [a, initial]));
    for (const p of payments)
      expected.set(p.accountId, expected.get(p.accountId)! - p.amount + p.cashbackAmount);
    for (const { request, reply } of readers.exchanges) {
      if (request.method === 'POST' && reply.status === 201) {
        const id = (request.body as { accountId: string }).accountId;
        expected.set(id, expected.get(id)! + 1);
      }
    }
    const actual = await balances(cluster.db(database));
    expect(accounts.map((a) => actual.get(a))).toEqual(accounts.map((a) => expected.get(a)));
    const audit = await call(url(0), 'GET', '/audit');
    expect(audit.body).toMatchObject({ ok: true, mismatches: [] });
  });
});
