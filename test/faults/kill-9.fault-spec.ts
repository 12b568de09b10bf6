import { Cluster, useCluster } from './support/cluster';
import { call, describeReply, openAccounts } from './support/http';
import { balances, ledgerViolations, totalBalance } from '../support/ledger-invariants';
import { killUnderLoad, Load, PlannedRequest, randomTransfer, TransferBody } from './support/load';
import { startService } from './support/service';
import { pick, randomInt } from './support/util';

/**
 * kill -9 under load: the service dies between any two instructions, in the middle of
 * transactions. What it acknowledged must survive whole; what it did not must not be half there.
 */
describe('kill -9 under load', () => {
  let cluster: Cluster;
  const database = 'faults_kill9';
  const accounts = Array.from({ length: 8 }, (_, i) => `k9-${i}`);
  const initial = 1_000_000;
  // The pool is larger than the load's concurrency: a 503 for a pool wait past its timeout on
  // a busy machine would be overload, not the fault under test.
  const env = { DB_POOL_SIZE: '20' };

  useCluster((c) => (cluster = c));

  it('keeps every 201-acknowledged transfer, with both entries, after a restart', async () => {
    const url = await cluster.createDatabase(database);
    const first = await startService(url, env);
    await openAccounts(first.baseUrl, accounts, initial);

    const load = new Load<TransferBody>({
      workers: 16,
      maxRequests: 20_000,
      target: () => first.baseUrl,
      next: () => randomTransfer(accounts, 500),
    });
    // Kill once plenty has been acknowledged, with requests certainly in flight.
    const { exit, inFlightAtKill } = await killUnderLoad(first, load, {
      what: '150 acknowledged transfers',
      until: () => load.exchanges.filter((e) => e.reply.status === 201).length >= 150,
    });
    expect(exit.signal).toBe('SIGKILL');
    expect(inFlightAtKill).toBeGreaterThan(0);

    const acked = load.exchanges.filter((e) => e.reply.status === 201);
    expect(load.repliesOtherThan([201, 0])).toEqual([]);

    const second = await startService(url, env);
    // Every acknowledged transfer is in the ledger, whole, exactly as it was acknowledged.
    const missing: string[] = [];
    for (const { request, reply } of acked) {
      const body = reply.body as {
        transactionId: string;
        sourceBalance: number;
        targetBalance: number;
      };
      const r = await call(second.baseUrl, 'GET', `/transactions/${body.transactionId}`);
      const entries = (r.body as { entries?: Record<string, unknown>[] }).entries ?? [];
      const out = entries.find((e) => e.type === 'TRANSFER_OUT');
      const into = entries.find((e) => e.type === 'TRANSFER_IN');
      const whole =
        r.status === 200 &&
        entries.length === 2 &&
        out?.accountId === request.tag.sourceAccountId &&
        out?.amount === -request.tag.amount &&
        out?.balanceAfter === body.sourceBalance &&
        into?.accountId === request.tag.targetAccountId &&
        into?.amount === request.tag.amount &&
        into?.balanceAfter === body.targetBalance;
      if (!whole) missing.push(`${body.transactionId}: ${describeReply(r)}`);
    }
    expect(missing).toEqual([]);

    // Nothing half-applied, every chain intact, money conserved.
    expect(await ledgerViolations(cluster.db(database))).toEqual([]);
    expect(await totalBalance(cluster.db(database))).toBe(accounts.length * initial);
    const audit = await call(second.baseUrl, 'GET', '/audit');
    expect(audit.status).toBe(200);
    expect(audit.body).toMatchObject({
      ok: true,
      mismatches: [],
      totalBalance: accounts.length * initial,
    });

    // Locks of the killed transactions are gone: the same accounts move again at once.
    const before = await balances(cluster.db(database));
    const after = await call(second.baseUrl, 'POST', '/transfers', {
      body: { sourceAccountId: accounts[0], targetAccountId: accounts[1], amount: 1 },
    });
    expect(after.status).toBe(201);
    expect(after.body).toMatchObject({
      sourceBalance: before.get(accounts[0])! - 1,
      targetBalance: before.get(accounts[1])! + 1,
    });
    await second.kill();
  });

  /**
   * The same with the ledger engine's group commit in full swing: transfers and payments
   * (whose batch also writes `payments` and `scheduled_credits` rows) from 32 clients, killed
   * while several multi-command batches are in flight. A batch is one transaction: after the
   * restart every acknowledged movement is there with all its rows, and no batch is half there.
   */
  it('keeps every acknowledged movement of batches in flight, and half-applies none', async () => {
    const mixed = 'faults_kill9_batches';
    const url = await cluster.createDatabase(mixed);
    const first = await startService(url, env);
    await openAccounts(first.baseUrl, accounts, initial);

    type Movement = { kind: 'transfer' | 'payment'; amount: number; accountId: string };
    const load = new Load<Movement>({
      workers: 32,
      maxRequests: 40_000,
      target: () => first.baseUrl,
      next: (i): PlannedRequest<Movement> => {
        if (i % 3 !== 0) {
          const transfer = randomTransfer(accounts, 500);
          const { sourceAccountId, amount } = transfer.tag;
          return { ...transfer, tag: { kind: 'transfer', amount, accountId: sourceAccountId } };
        }
        const body = { accountId: pick(accounts), amount: randomInt(1, 500) };
        return { method: 'POST', path: '/payments', body, tag: { kind: 'payment', ...body } };
      },
    });
    const batchSizes = async () => {
      const text = (await call(first.baseUrl, 'GET', '/metrics')).text;
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      return { sum: value('ledger_batch_size_sum'), count: value('ledger_batch_size_count') };
    };
    const atStart = await batchSizes();
    const { exit, inFlightAtKill } = await killUnderLoad(first, load, {
      what: '300 acknowledged movements, committed several per batch',
      until: async () => {
        if (load.exchanges.filter((e) => e.reply.status === 201).length < 300) return false;
        const now = await batchSizes();
        // More commands than batches since the load began: group commits happened.
        return now.sum - atStart.sum > now.count - atStart.count;
      },
    });
    expect(exit.signal).toBe('SIGKILL');
    expect(inFlightAtKill).toBeGreaterThan(1);

    const acked = load.exchanges.filter((e) => e.reply.status === 201);
    expect(load.repliesOtherThan([201, 0, 422])).toEqual([]);

    const second = await startService(url, env);
    const db = cluster.db(mixed);
    const missing: string[] = [];
    for (const { request, reply } of acked) {
      const body = reply.body as { transactionId: string; paymentId?: string };
      const r = await call(second.baseUrl, 'GET', `/transactions/${body.transactionId}`);
      if (r.status !== 200) missing.push(`${body.transactionId}: ${describeReply(r)}`);
      if (request.tag.kind === 'payment') {
        const p = await call(second.baseUrl, 'GET', `/payments/${body.paymentId}`);
        const payment = p.body as { transactionId?: string; amount?: number };
        if (p.status !== 200 || payment.transactionId !== body.transactionId) {
          missing.push(`${body.paymentId}: ${describeReply(p)}`);
        }
      }
    }
    expect(missing).toEqual([]);

    // No batch half there: every PAYMENT entry has its payment row and its scheduled credit,
    // and the other way round; every chain intact; money conserved (cashbacks are not due).
    const [rows] = await db.sql<{
      entries: string;
      payments: string;
      credits: string;
      paid: string;
    }>(
      `SELECT (SELECT count(*) FROM ledger_transactions WHERE operation = 'PAYMENT')::text AS entries,
              (SELECT count(*) FROM payments p JOIN ledger_transactions e
                 ON e.payment_ref = p.payment_id AND e.operation = 'PAYMENT'
                AND e.movement_id = p.movement_id)::text AS payments,
              (SELECT count(*) FROM scheduled_credits c JOIN payments p
                 ON p.payment_id = c.reference)::text AS credits,
              (SELECT COALESCE(sum(-amount), 0) FROM ledger_transactions
                WHERE operation = 'PAYMENT')::text AS paid`,
    );
    expect([rows.payments, rows.credits]).toEqual([rows.entries, rows.entries]);
    const [counts] = await db.sql<{ payments: string; credits: string }>(
      `SELECT (SELECT count(*) FROM payments)::text AS payments,
              (SELECT count(*) FROM scheduled_credits)::text AS credits`,
    );
    expect(counts).toEqual({ payments: rows.entries, credits: rows.entries });
    expect(await ledgerViolations(db)).toEqual([]);
    expect(await totalBalance(db)).toBe(accounts.length * initial - Number(rows.paid));
    await second.kill();
  });

  /**
   * Holds: captures and voids race on every hold (a capture and a void for each, from 32
   * clients), and the service is killed mid-way. After the restart no hold is both captured
   * and released: a CAPTURED hold has exactly its capture's entries, any other hold none, and
   * every account's held amount is the sum of its AUTHORIZED holds.
   */
  it('never leaves a hold both captured and released', async () => {
    const name = 'faults_kill9_holds';
    const url = await cluster.createDatabase(name);
    const first = await startService(url, env);
    const holders = accounts.slice(0, 4);
    await openAccounts(first.baseUrl, holders, initial);
    const holdIds: string[] = [];
    for (let i = 0; i < 400; i++) {
      const accountId = holders[i % holders.length];
      const target = i % 2 === 0 ? null : holders[(i + 1) % holders.length];
      const r = await call(first.baseUrl, 'POST', '/holds', {
        body: { accountId, amount: randomInt(1, 500), targetAccountId: target },
      });
      if (r.status !== 201) throw new Error(`authorizing failed: ${describeReply(r)}`);
      holdIds.push((r.body as { holdId: string }).holdId);
    }

    type Action = { holdId: string; action: 'capture' | 'void' };
    const load = new Load<Action>({
      workers: 32,
      maxRequests: holdIds.length * 2,
      target: () => first.baseUrl,
      next: (i): PlannedRequest<Action> => {
        const holdId = holdIds[Math.floor(i / 2) % holdIds.length];
        const action = i % 2 === 0 ? 'capture' : 'void';
        return {
          method: 'POST',
          path: `/holds/${holdId}/${action}`,
          body: {},
          tag: { holdId, action },
        };
      },
    });
    const { exit } = await killUnderLoad(first, load, {
      what: '150 holds captured or voided',
      until: () =>
        load.exchanges.filter((e) => e.reply.status === 200 || e.reply.status === 201).length >=
        150,
      intervalMs: 10,
    });
    expect(exit.signal).toBe('SIGKILL');
    expect(load.repliesOtherThan([0, 200, 201, 409])).toEqual([]);

    const second = await startService(url, env);
    const db = cluster.db(name);
    const rows = await db.sql<{
      hold_id: string;
      status: string;
      capture_movement_id: string | null;
      entries: string;
    }>(
      `SELECT h.hold_id, h.status, h.capture_movement_id,
              (SELECT count(*) FROM ledger_transactions e
                WHERE e.movement_id = h.capture_movement_id)::text AS entries
         FROM holds h`,
    );
    const byId = new Map(rows.map((r) => [r.hold_id, r]));
    const wrong: string[] = [];
    for (const row of rows) {
      const expected = row.status === 'CAPTURED' ? ['1', '2'] : ['0'];
      if (!expected.includes(row.entries))
        wrong.push(`${row.hold_id} ${row.status}: ${row.entries} entries`);
    }
    // What was acknowledged is what happened.
    for (const { request, reply } of load.exchanges) {
      if (reply.status !== 200 && reply.status !== 201) continue;
      const status = byId.get(request.tag.holdId)?.status;
      const want = request.tag.action === 'capture' ? 'CAPTURED' : 'VOIDED';
      if (status !== want) wrong.push(`${request.tag.holdId}: acknowledged ${want}, now ${status}`);
      if (request.tag.action === 'capture') {
        const body = reply.body as { transactionId: string };
        if (byId.get(request.tag.holdId)?.capture_movement_id !== body.transactionId) {
          wrong.push(`${request.tag.holdId}: captured as ${body.transactionId}, stored otherwise`);
        }
      }
    }
    expect(wrong).toEqual([]);
    // Every CAPTURED hold moved money once; nothing else did.
    const [moved] = await db.sql<{ captures: string; movements: string }>(
      `SELECT (SELECT count(*) FROM holds WHERE status = 'CAPTURED')::text AS captures,
              (SELECT count(DISTINCT movement_id) FROM ledger_transactions
                WHERE operation IN ('PAYMENT', 'TRANSFER_OUT'))::text AS movements`,
    );
    expect(moved.movements).toBe(moved.captures);
    expect(await ledgerViolations(db)).toEqual([]);
    const [audit] = [await call(second.baseUrl, 'GET', '/audit')];
    expect((audit.body as { ok: boolean }).ok).toBe(true);
    await second.kill();
  });
});
