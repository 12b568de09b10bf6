import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import { LedgerEngine } from '../../src/ledger/engine/ledger-engine';
import { waitFor } from '../../scripts/lib/wait';
import { accountId, balanceOf, createAccount } from '../support/factories';
import { ledgerViolations } from '../support/ledger-invariants';
import { LogCapture } from '../support/log-capture';
import { createTestApp, TestApp } from '../support/test-app';

jest.setTimeout(120_000);

/**
 * The group-commit engine on real PostgreSQL. To put chosen requests into ONE batch, a test
 * holds the row lock of a "blocker" account from its own connection and fills both in-flight
 * batch slots with deposits to it; the requests sent next queue behind them and form the next
 * batch together once the lock is released. That it really was one batch is checked in the
 * database: every row it wrote carries the same transaction id (xmin).
 */
describe('ledger engine: batches', () => {
  let t: TestApp;
  let engine: LedgerEngine;
  const http = () => request(t.app.getHttpServer());

  // The poison command's 500 is logged: captured and asserted, not printed.
  const logs = new LogCapture();
  beforeAll(async () => {
    t = await createTestApp({ logs: logs.stream });
    engine = t.app.get(LedgerEngine);
  });
  afterAll(async () => {
    await t?.close();
  });

  /**
   * Runs `send` while the engine is held, so everything it submits forms one batch. supertest
   * sends a request only once it is awaited: `started` sends it now.
   */
  const started = <T>(test: PromiseLike<T>): Promise<T> =>
    new Promise((ok, fail) => {
      test.then(ok, fail);
    });

  async function inOneBatch<T>(expected: number, send: () => PromiseLike<T>[]): Promise<T[]> {
    const blocker = (await createAccount(t)).accountId;
    const holder = new Client({ connectionString: t.database.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM accounts WHERE account_id = $1 FOR UPDATE', [blocker]);
      const held = [1, 2].map(() =>
        started(http().post('/deposits').send({ accountId: blocker, amount: 1 }).expect(201)),
      );
      await waitFor(async () => Promise.resolve(engine.running === 2 && engine.queued === 0), {
        what: 'both batch slots to wait on the blocker',
        intervalMs: 5,
      });
      const responses = send().map(started);
      await waitFor(async () => Promise.resolve(engine.queued === expected), {
        what: `${expected} commands to queue`,
        intervalMs: 5,
      });
      await holder.query('COMMIT');
      await Promise.all(held);
      return await Promise.all(responses);
    } finally {
      await holder.end();
    }
  }

  async function transactionsOf(movementIds: string[]): Promise<number> {
    const [row] = await t.sql<{ n: string }>(
      `SELECT count(DISTINCT xmin::text)::text AS n FROM ledger_transactions
        WHERE movement_id = ANY($1::uuid[])`,
      [movementIds],
    );
    return Number(row.n);
  }

  it('decides commands in arrival order: a refused transfer changes nothing, the others land', async () => {
    const a = (await createAccount(t, { initialDeposit: 100 })).accountId;
    const b = (await createAccount(t)).accountId;
    const [first, refused, third] = await inOneBatch(3, () => [
      http().post('/transfers').send({ sourceAccountId: a, targetAccountId: b, amount: 70 }),
      // Sees the first transfer's effect: only 30 left.
      http().post('/transfers').send({ sourceAccountId: a, targetAccountId: b, amount: 40 }),
      http().post('/transfers').send({ sourceAccountId: a, targetAccountId: b, amount: 30 }),
    ]);
    expect([first.status, refused.status, third.status]).toEqual([201, 422, 201]);
    expect(refused.body).toMatchObject({
      code: 'INSUFFICIENT_FUNDS',
      detail: `Account ${a} has 30, needs 40.`,
    });
    expect([first.body.sourceBalance, third.body.sourceBalance]).toEqual([30, 0]);
    expect(third.body.targetBalance).toBe(100);
    expect(await transactionsOf([first.body.transactionId, third.body.transactionId])).toBe(1);
    expect(await balanceOf(t, a)).toBe(0);
    expect(await balanceOf(t, b)).toBe(100);
    expect(await ledgerViolations(t)).toEqual([]);
  });

  it('a database error in one command fails it alone; the rest of its batch commits', async () => {
    const ids = await Promise.all([1, 2, 3].map(() => createAccount(t)));
    await t.sql(`CREATE FUNCTION refuse_777() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'poison'; END $$`);
    await t.sql(`CREATE TRIGGER refuse_777 BEFORE INSERT ON ledger_transactions
      FOR EACH ROW WHEN (NEW.amount = 777) EXECUTE FUNCTION refuse_777()`);
    try {
      const responses = await inOneBatch(3, () => [
        http().post('/deposits').send({ accountId: ids[0].accountId, amount: 10 }),
        http().post('/deposits').send({ accountId: ids[1].accountId, amount: 777 }),
        http().post('/deposits').send({ accountId: ids[2].accountId, amount: 30 }),
      ]);
      expect(responses.map((r) => r.status)).toEqual([201, 500, 201]);
      expect(responses[1].body.code).toBe('INTERNAL_ERROR');
      await logs.waitFor(
        (l) => l.level === 'warn' && /a batch of 3 failed .*poison/.test(String(l.msg)),
      );
      await logs.waitFor(
        (l) =>
          l.level === 'error' &&
          l.requestId === responses[1].headers['x-request-id'] &&
          JSON.stringify(l).includes('poison'),
      );
    } finally {
      await t.sql(`DROP TRIGGER refuse_777 ON ledger_transactions`);
      await t.sql(`DROP FUNCTION refuse_777()`);
    }
    expect(await Promise.all(ids.map((a) => balanceOf(t, a.accountId)))).toEqual([10, 0, 30]);
  });

  it('two requests with one key in one batch behave as one after the other', async () => {
    const a = (await createAccount(t)).accountId;
    const key = randomUUID();
    const other = randomUUID();
    const [first, replay, reused, otherFirst] = await inOneBatch(4, () => [
      http().post('/deposits').set('Idempotency-Key', key).send({ accountId: a, amount: 5 }),
      http().post('/deposits').set('Idempotency-Key', key).send({ accountId: a, amount: 5 }),
      http().post('/deposits').set('Idempotency-Key', key).send({ accountId: a, amount: 6 }),
      http().post('/withdrawals').set('Idempotency-Key', other).send({ accountId: a, amount: 50 }),
    ]);
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.text).toBe(first.text);
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // A refused keyed command is stored with its 4xx, in the same batch.
    expect(otherFirst.status).toBe(422);
    const again = await http()
      .post('/withdrawals')
      .set('Idempotency-Key', other)
      .send({ accountId: a, amount: 50 });
    expect([again.status, again.headers['idempotent-replayed'], again.text]).toEqual([
      422,
      'true',
      otherFirst.text,
    ]);
    expect(await balanceOf(t, a)).toBe(5);
    const stored = await t.sql(
      `SELECT idempotency_key FROM idempotency_keys WHERE idempotency_key = ANY($1)`,
      [[key, other]],
    );
    expect(stored).toHaveLength(2);
  });

  it('opening one id twice in one batch: one 201, one 409 ACCOUNT_EXISTS', async () => {
    const id = accountId();
    const responses = await inOneBatch(2, () => [
      http().post('/accounts').send({ accountId: id, initialDeposit: 10 }),
      http().post('/accounts').send({ accountId: id, initialDeposit: 20 }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([201, 409]);
    expect(responses[1].body.code).toBe('ACCOUNT_EXISTS');
    expect(await balanceOf(t, id)).toBe(10);
  });

  it('a payment in a batch draws its id only if accepted, and ids rise in batch order', async () => {
    const a = (await createAccount(t, { initialDeposit: 100 })).accountId;
    const [p1, refused, p2] = await inOneBatch(3, () => [
      http().post('/payments').send({ accountId: a, amount: 60 }),
      http().post('/payments').send({ accountId: a, amount: 60 }),
      http().post('/payments').send({ accountId: a, amount: 40 }),
    ]);
    expect([p1.status, refused.status, p2.status]).toEqual([201, 422, 201]);
    const n = (id: string) => Number(id.replace('payment', ''));
    expect(n(p2.body.paymentId)).toBe(n(p1.body.paymentId) + 1);
    expect(await transactionsOf([p1.body.transactionId, p2.body.transactionId])).toBe(1);
  });

  it('refunds of one payment in one batch see each other: never more than the payment', async () => {
    const a = (await createAccount(t, { initialDeposit: 10_000 })).accountId;
    const payment = (await http().post('/payments').send({ accountId: a, amount: 10_000 }))
      .body as { paymentId: string };
    const refund = (amount: number) =>
      http().post(`/payments/${payment.paymentId}/refunds`).send({ amount });
    // The service reads the payment before submitting, so arrival order is not send order:
    // equal amounts make the outcome independent of it.
    const responses = await inOneBatch(4, () => [3000, 3000, 3000, 3000].map(refund));
    const accepted = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status !== 201);
    expect(accepted).toHaveLength(3);
    expect(refused.map((r) => [r.status, r.body.detail])).toEqual([
      [422, `Payment ${payment.paymentId} has 1000 left to refund, not 3000.`],
    ]);
    // Each refund saw the ones before it in the batch: the cashback shrinks 140, 80, 20.
    expect(
      accepted.map((r) => r.body.payment.cashbackAmount as number).sort((x, y) => y - x),
    ).toEqual([140, 80, 20]);
    expect(await transactionsOf(accepted.map((r) => r.body.transactionId as string))).toBe(1);
    expect(await balanceOf(t, a)).toBe(9000);
    const [row] = await t.sql<{ refunded: string; cashback: string; credit: string }>(
      `SELECT p.refunded_amount::text AS refunded, p.cashback_amount::text AS cashback,
              c.amount::text AS credit
         FROM payments p JOIN scheduled_credits c ON c.reference = p.payment_id
        WHERE p.payment_id = $1`,
      [payment.paymentId],
    );
    expect(row).toEqual({ refunded: '9000', cashback: '20', credit: '20' });
    expect(await ledgerViolations(t)).toEqual([]);
  });

  it('reversals of one movement in one batch see each other: never more than the original', async () => {
    const a = (await createAccount(t, { initialDeposit: 1000 })).accountId;
    const b = (await createAccount(t)).accountId;
    const transfer = (
      await http().post('/transfers').send({ sourceAccountId: a, targetAccountId: b, amount: 900 })
    ).body as { transactionId: string };
    const reverse = (amount: number) =>
      http().post(`/transactions/${transfer.transactionId}/reversals`).send({ amount });
    const responses = await inOneBatch(3, () => [400, 400, 400].map(reverse));
    const [v1, v2] = responses.filter((r) => r.status === 201);
    expect(responses.filter((r) => r.status !== 201).map((r) => r.body.code)).toEqual([
      'REVERSAL_EXCEEDS_REMAINING',
    ]);
    // Each response shows the entry ids the ledger stored for its own movement.
    for (const v of [v1, v2]) {
      const stored = await t.sql<{ id: string; account_id: string }>(
        `SELECT transaction_id::text AS id, account_id FROM ledger_transactions
          WHERE movement_id = $1 ORDER BY transaction_id`,
        [v.body.transactionId],
      );
      expect(
        (v.body.entries as { entryId: string; accountId: string }[]).map((e) => ({
          id: e.entryId,
          account_id: e.accountId,
        })),
      ).toEqual(stored);
    }
    expect(await transactionsOf([v1.body.transactionId, v2.body.transactionId])).toBe(1);
    expect([await balanceOf(t, a), await balanceOf(t, b)]).toEqual([900, 100]);
    expect(await ledgerViolations(t)).toEqual([]);
  });

  it('500 concurrent mixed movements on 10 accounts: money conserved, no overdraft, chains hold', async () => {
    const accounts = await Promise.all(
      Array.from({ length: 10 }, () => createAccount(t, { initialDeposit: 1000 })),
    );
    const ids = accounts.map((a) => a.accountId);
    const before = await batchStats();
    let external = 10_000;
    const pick = (i: number, k: number) => ids[(i * 7 + k * 3) % ids.length];
    const requests = Array.from({ length: 500 }, (_, i) => {
      const amount = 1 + ((i * 37) % 400);
      switch (i % 4) {
        case 0:
          return http()
            .post('/deposits')
            .send({ accountId: pick(i, 1), amount });
        case 1:
          return http()
            .post('/withdrawals')
            .send({ accountId: pick(i, 2), amount });
        case 2:
          return http()
            .post('/payments')
            .send({ accountId: pick(i, 3), amount });
        default: {
          const source = pick(i, 4);
          const target = ids[(ids.indexOf(source) + 1 + (i % 9)) % ids.length];
          return http()
            .post('/transfers')
            .send({ sourceAccountId: source, targetAccountId: target, amount });
        }
      }
    });
    const responses = await Promise.all(requests);
    for (const [i, res] of responses.entries()) {
      expect([201, 422]).toContain(res.status);
      if (res.status === 422) expect(res.body.code).toBe('INSUFFICIENT_FUNDS');
      if (res.status !== 201) continue;
      if (i % 4 === 0) external += res.body.amount as number;
      if (i % 4 === 1 || i % 4 === 2) external -= res.body.amount as number;
    }
    const rows = await t.sql<{ total: string; lowest: string }>(
      `SELECT sum(balance)::text AS total, min(balance)::text AS lowest FROM accounts
        WHERE account_id = ANY($1)`,
      [ids],
    );
    expect(Number(rows[0].total)).toBe(external);
    expect(Number(rows[0].lowest)).toBeGreaterThanOrEqual(0);
    expect(await ledgerViolations(t)).toEqual([]);
    // Under this load the engine committed several commands per transaction.
    const after = await batchStats();
    expect(after.sum - before.sum).toBe(500);
    expect(after.count - before.count).toBeLessThan(500);
  });

  async function batchStats(): Promise<{ count: number; sum: number }> {
    const metrics = await http().get('/metrics').expect(200);
    const value = (name: string) =>
      Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics.text)?.[1]);
    return { count: value('ledger_batch_size_count'), sum: value('ledger_batch_size_sum') };
  }
});
