import request from 'supertest';
import type { HoldDto as HoldBody } from '../../src/holds/dto/hold.dto';
import { balanceOf, createAccount } from '../support/factories';
import { worker } from '../support/cashback-worker';
import { createTestApp, ManualClock, TestApp, useLedgerTestApp } from '../support/test-app';

/** API.md v1.1, "Holds (two-phase movements)". */

describe('holds', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 10));
  const app = useLedgerTestApp(clock);
  let t: TestApp;
  beforeAll(() => (t = app()));
  const http = () => request(t.app.getHttpServer());

  const authorize = (body: Record<string, unknown>) => http().post('/holds').send(body);
  const hold = async (body: Record<string, unknown>): Promise<HoldBody> =>
    (await authorize(body).expect(201)).body as HoldBody;
  const capture = (holdId: string, body: Record<string, unknown> = {}) =>
    http().post(`/holds/${holdId}/capture`).send(body);
  const voidHold = (holdId: string) => http().post(`/holds/${holdId}/void`).send({});
  const account = async (id: string) =>
    (await http().get(`/accounts/${id}`).expect(200)).body as Record<string, number | string>;
  const entries = (id: string) =>
    t.sql<{ operation: string; amount: string }>(
      `SELECT operation, amount::text FROM ledger_transactions WHERE account_id = $1 ORDER BY transaction_id`,
      [id],
    );

  it('authorizing lowers the available balance, not the balance, and books nothing', async () => {
    const a = await createAccount(t, { initialDeposit: 1000 });
    const h = await hold({ accountId: a.accountId, amount: 300 });
    expect(h).toMatchObject({
      accountId: a.accountId,
      targetAccountId: null,
      amount: 300,
      status: 'AUTHORIZED',
      capturedAmount: 0,
      capture: null,
      createdAt: clock.now(),
      expiresAt: clock.now() + 604_800_000,
    });
    expect(h.holdId).toMatch(/^hold_[0-9a-f]{32}$/);
    expect(await account(a.accountId)).toMatchObject({
      balance: 1000,
      heldAmount: 300,
      availableBalance: 700,
    });
    const balance = await http().get(`/accounts/${a.accountId}/balance`).expect(200);
    expect(balance.body).toMatchObject({ balance: 1000, heldAmount: 300, availableBalance: 700 });
    expect(await entries(a.accountId)).toEqual([{ operation: 'DEPOSIT', amount: '1000' }]);
    expect((await http().get(`/holds/${h.holdId}`).expect(200)).body).toEqual(h);
  });

  it('a full capture without a target is a payment, with its cashback on the captured amount', async () => {
    const a = await createAccount(t, { initialDeposit: 10_000 });
    const h = await hold({ accountId: a.accountId, amount: 5000 });
    const res = await capture(h.holdId).expect(201);
    expect(res.body).toMatchObject({
      balance: 5000,
      hold: { status: 'CAPTURED', capturedAmount: 5000 },
    });
    expect(res.body.paymentId).toMatch(/^payment\d+$/);
    expect(res.body.hold.capture).toEqual({
      transactionId: res.body.transactionId,
      amount: 5000,
      paymentId: res.body.paymentId,
      timestamp: clock.now(),
    });
    const payment = await http().get(`/payments/${res.body.paymentId}`).expect(200);
    expect(payment.body).toMatchObject({
      accountId: a.accountId,
      amount: 5000,
      cashbackAmount: 100,
      status: 'IN_PROGRESS',
      transactionId: res.body.transactionId,
    });
    expect(await account(a.accountId)).toMatchObject({ heldAmount: 0, availableBalance: 5000 });
    const tx = await http().get(`/transactions/${res.body.transactionId}`).expect(200);
    expect(tx.body.entries).toEqual([
      expect.objectContaining({ type: 'PAYMENT', amount: -5000, paymentId: res.body.paymentId }),
    ]);
  });

  it('a partial capture moves that much and releases the rest', async () => {
    const a = await createAccount(t, { initialDeposit: 1000 });
    const h = await hold({ accountId: a.accountId, amount: 1000 });
    const res = await capture(h.holdId, { amount: 400 }).expect(201);
    expect(res.body).toMatchObject({ balance: 600, hold: { capturedAmount: 400 } });
    const payment = await http().get(`/payments/${res.body.paymentId}`).expect(200);
    expect(payment.body.cashbackAmount).toBe(8);
    expect(await account(a.accountId)).toMatchObject({
      balance: 600,
      heldAmount: 0,
      availableBalance: 600,
    });
  });

  it('a capture with a target is a transfer (full and partial)', async () => {
    const a = await createAccount(t, { initialDeposit: 1000 });
    const b = await createAccount(t);
    const h = await hold({ accountId: a.accountId, amount: 700, targetAccountId: b.accountId });
    const res = await capture(h.holdId, { amount: 500 }).expect(201);
    expect(res.body).toMatchObject({ balance: 500, paymentId: null });
    expect(res.body.hold.capture).toMatchObject({ amount: 500, paymentId: null });
    const tx = await http().get(`/transactions/${res.body.transactionId}`).expect(200);
    expect(tx.body.type).toBe('TRANSFER');
    expect(
      tx.body.entries.map((e: { accountId: string; type: string; amount: number }) => [
        e.accountId,
        e.type,
        e.amount,
      ]),
    ).toEqual([
      [a.accountId, 'TRANSFER_OUT', -500],
      [b.accountId, 'TRANSFER_IN', 500],
    ]);
    expect(await balanceOf(t, b.accountId)).toBe(500);
    const full = await hold({ accountId: a.accountId, amount: 500, targetAccountId: b.accountId });
    await capture(full.holdId).expect(201);
    expect(await balanceOf(t, a.accountId)).toBe(0);
    expect(await balanceOf(t, b.accountId)).toBe(1000);
  });

  it('a void releases the hold and books nothing', async () => {
    const a = await createAccount(t, { initialDeposit: 100 });
    const h = await hold({ accountId: a.accountId, amount: 100 });
    const res = await voidHold(h.holdId).expect(200);
    expect(res.body).toEqual({ ...h, status: 'VOIDED' });
    expect(await account(a.accountId)).toMatchObject({ heldAmount: 0, availableBalance: 100 });
    expect(await entries(a.accountId)).toHaveLength(1);
  });

  it('HOLD_NOT_ACTIVE after each terminal state; CAPTURE_EXCEEDS_HOLD; 404 and 400', async () => {
    const a = await createAccount(t, { initialDeposit: 1000 });
    const captured = await hold({ accountId: a.accountId, amount: 100 });
    const over = await capture(captured.holdId, { amount: 101 }).expect(422);
    expect(over.body.code).toBe('CAPTURE_EXCEEDS_HOLD');
    await capture(captured.holdId).expect(201);
    const voided = await hold({ accountId: a.accountId, amount: 100 });
    await voidHold(voided.holdId).expect(200);
    const expired = await hold({ accountId: a.accountId, amount: 100, expiresInMs: 1000 });
    clock.advance(1000);
    for (const [h, status] of [
      [captured, 'CAPTURED'],
      [voided, 'VOIDED'],
      [expired, 'EXPIRED'],
    ] as const) {
      for (const res of [await capture(h.holdId), await voidHold(h.holdId)]) {
        expect(res.status).toBe(409);
        expect(res.body.code).toBe('HOLD_NOT_ACTIVE');
        expect(res.body.detail).toContain(status);
      }
    }
    const missing = await capture(`hold_${'0'.repeat(32)}`).expect(404);
    expect(missing.body.code).toBe('HOLD_NOT_FOUND');
    await http()
      .get(`/holds/hold_${'0'.repeat(32)}`)
      .expect(404);
    const bad = await http().get('/holds/not-a-hold').expect(400);
    expect(bad.body.errors[0].field).toBe('holdId');
    expect(await balanceOf(t, a.accountId)).toBe(900);
  });

  it("a hold's funds survive a withdrawal that would take them", async () => {
    const a = await createAccount(t, { initialDeposit: 1000 });
    const h = await hold({ accountId: a.accountId, amount: 800 });
    const refused = await http()
      .post('/withdrawals')
      .send({ accountId: a.accountId, amount: 201 })
      .expect(422);
    expect(refused.body.code).toBe('INSUFFICIENT_FUNDS');
    expect((await authorize({ accountId: a.accountId, amount: 201 }).expect(422)).body.code).toBe(
      'INSUFFICIENT_FUNDS',
    );
    await http().post('/withdrawals').send({ accountId: a.accountId, amount: 200 }).expect(201);
    await capture(h.holdId).expect(201);
    expect(await balanceOf(t, a.accountId)).toBe(0);
  });

  it('refuses what a debit would be refused, and the target checks', async () => {
    const a = await createAccount(t, { initialDeposit: 1000, dailyDebitLimit: 500 });
    const eur = await createAccount(t, { currency: 'EUR' });
    const cases: [Record<string, unknown>, number, string][] = [
      [{ accountId: 'nobody-here', amount: 1 }, 404, 'ACCOUNT_NOT_FOUND'],
      [
        { accountId: a.accountId, amount: 1, targetAccountId: 'nobody-here' },
        404,
        'ACCOUNT_NOT_FOUND',
      ],
      [{ accountId: a.accountId, amount: 1, targetAccountId: a.accountId }, 422, 'SAME_ACCOUNT'],
      [
        { accountId: a.accountId, amount: 1, targetAccountId: eur.accountId },
        422,
        'CURRENCY_MISMATCH',
      ],
      [{ accountId: a.accountId, amount: 501 }, 422, 'DAILY_LIMIT_EXCEEDED'],
      [{ accountId: a.accountId, amount: 1, expiresInMs: 0 }, 400, 'VALIDATION_FAILED'],
      [{ accountId: a.accountId, amount: 1, expiresInMs: 2_592_000_001 }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of cases) {
      const res = await authorize(body);
      expect([JSON.stringify(body), res.status, res.body.code]).toEqual([
        JSON.stringify(body),
        status,
        code,
      ]);
    }
    expect(await account(a.accountId)).toMatchObject({ heldAmount: 0, balance: 1000 });
  });

  it('counts toward the daily limit while authorized; a capture is never refused by it', async () => {
    const a = await createAccount(t, { initialDeposit: 10_000, dailyDebitLimit: 1000 });
    const h = await hold({ accountId: a.accountId, amount: 800 });
    const over = await http()
      .post('/withdrawals')
      .send({ accountId: a.accountId, amount: 201 })
      .expect(422);
    expect(over.body.detail).toContain('may debit 200 more today');
    await http().post('/withdrawals').send({ accountId: a.accountId, amount: 200 }).expect(201);
    // The day is used up, but the hold's capture uses what it reserved.
    await capture(h.holdId, { amount: 500 }).expect(201);
    // 200 + 500 captured: 300 of the released remainder is free again today.
    await http().post('/withdrawals').send({ accountId: a.accountId, amount: 300 }).expect(201);
    expect(
      (await http().post('/withdrawals').send({ accountId: a.accountId, amount: 1 })).body.code,
    ).toBe('DAILY_LIMIT_EXCEEDED');
  });

  it('a frozen account refuses new holds but lets an earlier hold be captured; a hold keeps an account open', async () => {
    const a = await createAccount(t, { initialDeposit: 1000 });
    const other = await createAccount(t);
    // A transfer hold: a payment's capture would leave a cashback pending, which keeps it open.
    const h = await hold({
      accountId: a.accountId,
      amount: 1000,
      targetAccountId: other.accountId,
    });
    const close = await http().post(`/accounts/${a.accountId}/close`).expect(409);
    expect(close.body.detail).toContain('1000 is held by authorized holds');
    await http().post(`/accounts/${a.accountId}/freeze`).expect(200);
    expect((await authorize({ accountId: a.accountId, amount: 1 }).expect(422)).body.code).toBe(
      'ACCOUNT_FROZEN',
    );
    await capture(h.holdId).expect(201);
    await http().post(`/accounts/${a.accountId}/close`).expect(200);
    // A target closed after the authorization refuses the capture; the hold stays authorized.
    const c = await createAccount(t, { initialDeposit: 5 });
    const x = await createAccount(t);
    const toX = await hold({ accountId: c.accountId, amount: 5, targetAccountId: x.accountId });
    await http().post(`/accounts/${x.accountId}/close`).expect(200);
    expect((await capture(toX.holdId).expect(422)).body.code).toBe('ACCOUNT_CLOSED');
    expect((await http().get(`/holds/${toX.holdId}`).expect(200)).body.status).toBe('AUTHORIZED');
    expect(
      (
        await authorize({ accountId: c.accountId, amount: 1, targetAccountId: x.accountId }).expect(
          422,
        )
      ).body.code,
    ).toBe('ACCOUNT_CLOSED');
  });

  describe('expiry', () => {
    it('is seen by the next request at expiresAt, whatever it is', async () => {
      const a = await createAccount(t, { initialDeposit: 1000 });
      const h = await hold({ accountId: a.accountId, amount: 600, expiresInMs: 5000 });
      clock.advance(4999);
      expect((await http().get(`/holds/${h.holdId}`).expect(200)).body.status).toBe('AUTHORIZED');
      clock.advance(1);
      // A withdrawal that needs the released funds is the first request after expiresAt.
      await http().post('/withdrawals').send({ accountId: a.accountId, amount: 1000 }).expect(201);
      const seen = await http().get(`/holds/${h.holdId}`).expect(200);
      expect(seen.body).toEqual({ ...h, status: 'EXPIRED' });
      expect(await account(a.accountId)).toMatchObject({ heldAmount: 0, balance: 0 });
    });

    it('is seen by a read of the hold, of the account and of its list', async () => {
      const a = await createAccount(t, { initialDeposit: 1000 });
      const h = await hold({ accountId: a.accountId, amount: 600, expiresInMs: 10 });
      clock.advance(10);
      expect(await account(a.accountId)).toMatchObject({ heldAmount: 0, availableBalance: 1000 });
      const list = await http()
        .get(`/accounts/${a.accountId}/holds`)
        .query({ status: 'EXPIRED' })
        .expect(200);
      expect(list.body.data.map((x: HoldBody) => x.holdId)).toEqual([h.holdId]);
      const none = await http()
        .get(`/accounts/${a.accountId}/holds`)
        .query({ status: 'AUTHORIZED' })
        .expect(200);
      expect(none.body).toEqual({ data: [], nextCursor: null });
    });

    it('is done by the sweeper for holds nobody touches', async () => {
      const a = await createAccount(t, { initialDeposit: 1000 });
      const holds = await Promise.all(
        [1, 2, 3].map(() => hold({ accountId: a.accountId, amount: 100, expiresInMs: 50 })),
      );
      clock.advance(50);
      const statuses = () =>
        t.sql<{ status: string }>(`SELECT status FROM holds WHERE account_id = $1`, [a.accountId]);
      expect((await statuses()).map((r) => r.status)).toEqual([
        'AUTHORIZED',
        'AUTHORIZED',
        'AUTHORIZED',
      ]);
      await worker(t).runOnce();
      expect((await statuses()).map((r) => r.status)).toEqual(['EXPIRED', 'EXPIRED', 'EXPIRED']);
      const [row] = await t.sql<{ held_amount: string; next_hold_expires_at: string | null }>(
        `SELECT held_amount::text, next_hold_expires_at FROM accounts WHERE account_id = $1`,
        [a.accountId],
      );
      expect(row).toEqual({ held_amount: '0', next_hold_expires_at: null });
      expect(holds).toHaveLength(3);
    });

    it('releases each hold once when two instances sweep the same holds', async () => {
      const b = await createTestApp({
        clock,
        database: t.database,
        env: { CASHBACK_WORKER_INTERVAL_MS: '3600000' },
      });
      try {
        const accounts = await Promise.all(
          [1, 2, 3, 4].map(() => createAccount(t, { initialDeposit: 100 })),
        );
        for (const a of accounts) {
          await Promise.all(
            [1, 2].map(() => hold({ accountId: a.accountId, amount: 40, expiresInMs: 20 })),
          );
        }
        clock.advance(20);
        await Promise.all([
          worker(t).runOnce(),
          worker(b).runOnce(),
          worker(t).runOnce(),
          worker(b).runOnce(),
        ]);
        const rows = await t.sql<{ held: string; expired: string }>(
          `SELECT sum(a.held_amount)::text AS held,
                  (SELECT count(*) FROM holds h WHERE h.account_id = ANY($1) AND h.status = 'EXPIRED')::text AS expired
             FROM accounts a WHERE a.account_id = ANY($1)`,
          [accounts.map((a) => a.accountId)],
        );
        expect(rows).toEqual([{ held: '0', expired: '8' }]);
      } finally {
        await b.close();
      }
    });
  });

  describe('concurrency', () => {
    it('50 concurrent holds never exceed the available balance', async () => {
      const a = await createAccount(t, { initialDeposit: 1000, overdraftLimit: 20 });
      const results = await Promise.all(
        Array.from({ length: 50 }, () => authorize({ accountId: a.accountId, amount: 30 })),
      );
      const ok = results.filter((r) => r.status === 201);
      expect(ok).toHaveLength(34);
      expect(
        results.filter((r) => r.status === 422 && r.body.code === 'INSUFFICIENT_FUNDS'),
      ).toHaveLength(16);
      expect(await account(a.accountId)).toMatchObject({ heldAmount: 1020, availableBalance: 0 });
    });

    it('of 30 concurrent captures and voids of one hold, exactly one wins', async () => {
      const a = await createAccount(t, { initialDeposit: 1000 });
      const b = await createAccount(t);
      const h = await hold({ accountId: a.accountId, amount: 500, targetAccountId: b.accountId });
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          i % 2 === 0 ? capture(h.holdId) : voidHold(h.holdId),
        ),
      );
      const winners = results.filter((r) => r.status === 201 || r.status === 200);
      expect(winners).toHaveLength(1);
      expect(
        results.filter((r) => r.status === 409 && r.body.code === 'HOLD_NOT_ACTIVE'),
      ).toHaveLength(29);
      const final = (await http().get(`/holds/${h.holdId}`).expect(200)).body as HoldBody;
      const captured = winners[0].status === 201;
      expect(final.status).toBe(captured ? 'CAPTURED' : 'VOIDED');
      expect(await balanceOf(t, b.accountId)).toBe(captured ? 500 : 0);
      expect(await account(a.accountId)).toMatchObject({
        heldAmount: 0,
        balance: captured ? 500 : 1000,
      });
    });

    it('a keyed capture replays and moves the money once', async () => {
      const a = await createAccount(t, { initialDeposit: 1000 });
      const h = await hold({ accountId: a.accountId, amount: 300 });
      const key = `capture-${h.holdId}`;
      const first = await capture(h.holdId).set('Idempotency-Key', key).expect(201);
      const again = await http()
        .post(`/holds/${h.holdId}/capture`)
        .set('Idempotency-Key', key)
        .send({})
        .expect(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(await balanceOf(t, a.accountId)).toBe(700);
    });
  });

  it('lists an account’s holds oldest first, with cursors', async () => {
    const a = await createAccount(t, { initialDeposit: 1000 });
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      made.push((await hold({ accountId: a.accountId, amount: 10 })).holdId);
      clock.advance(1);
    }
    const first = await http()
      .get(`/accounts/${a.accountId}/holds`)
      .query({ limit: 2 })
      .expect(200);
    const second = await http()
      .get(`/accounts/${a.accountId}/holds`)
      .query({ limit: 2, cursor: first.body.nextCursor })
      .expect(200);
    expect([...first.body.data, ...second.body.data].map((x: HoldBody) => x.holdId)).toEqual(made);
    expect(second.body.nextCursor).toBeNull();
    await http().get('/accounts/nobody-here/holds').expect(404);
  });
});
