import request from 'supertest';
import { createAccount } from '../support/factories';
import { ledgerViolations } from '../support/ledger-invariants';
import { createTestApp, ManualClock, TestApp } from '../support/test-app';

const PROBLEM = /application\/problem\+json/;
const MAX_BALANCE = Number.MAX_SAFE_INTEGER;

describe('ledger: deposits, withdrawals, transfers, history', () => {
  let t: TestApp;
  const clock = new ManualClock(1_763_800_000_000);
  beforeAll(async () => {
    t = await createTestApp({ clock });
  });
  afterEach(async () => {
    expect(await ledgerViolations(t)).toEqual([]);
  });
  afterAll(async () => {
    await t?.close();
  });
  const http = () => request(t.app.getHttpServer());

  describe('POST /deposits', () => {
    it('credits the account and returns the balance right after', async () => {
      const a = await createAccount(t, { initialDeposit: 100 });
      clock.advance(5);
      const res = await http()
        .post('/deposits')
        .send({ accountId: a.accountId, amount: 250 })
        .expect(201);
      expect(res.body).toEqual({
        transactionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        type: 'DEPOSIT',
        accountId: a.accountId,
        amount: 250,
        balance: 350,
        timestamp: clock.now(),
      });
    });

    it('404 ACCOUNT_NOT_FOUND for an unknown account', async () => {
      const res = await http()
        .post('/deposits')
        .send({ accountId: 'ghost-1', amount: 1 })
        .expect(404);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', status: 404 });
      expect(res.body.detail).toContain('ghost-1');
    });

    it('422 BALANCE_LIMIT_EXCEEDED above 2^53−1, balance unchanged', async () => {
      const a = await createAccount(t);
      await t.sql(`UPDATE accounts SET balance = $2 WHERE account_id = $1`, [
        a.accountId,
        MAX_BALANCE - 10,
      ]);
      // keep the ledger consistent with the forced balance for the invariant check
      await t.sql(
        `INSERT INTO ledger_transactions (movement_id, account_id, timestamp, operation, amount, balance_after)
         VALUES (gen_random_uuid(), $1, $2, 'DEPOSIT', $3, $3)`,
        [a.accountId, clock.now(), MAX_BALANCE - 10],
      );
      const res = await http()
        .post('/deposits')
        .send({ accountId: a.accountId, amount: 11 })
        .expect(422);
      expect(res.body.code).toBe('BALANCE_LIMIT_EXCEEDED');
      await http().post('/deposits').send({ accountId: a.accountId, amount: 10 }).expect(201);
      const [row] = await t.sql(`SELECT balance FROM accounts WHERE account_id = $1`, [
        a.accountId,
      ]);
      expect(row).toEqual({ balance: String(MAX_BALANCE) });
    });
  });

  describe('POST /withdrawals', () => {
    it('debits the account', async () => {
      const a = await createAccount(t, { initialDeposit: 500 });
      const res = await http()
        .post('/withdrawals')
        .send({ accountId: a.accountId, amount: 200 })
        .expect(201);
      expect(res.body).toMatchObject({ type: 'WITHDRAWAL', amount: 200, balance: 300 });
    });

    it('422 INSUFFICIENT_FUNDS, balance unchanged, no entry', async () => {
      const a = await createAccount(t, { initialDeposit: 500 });
      const res = await http()
        .post('/withdrawals')
        .send({ accountId: a.accountId, amount: 700 })
        .expect(422);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toEqual({
        type: 'about:blank',
        title: 'Unprocessable Entity',
        status: 422,
        code: 'INSUFFICIENT_FUNDS',
        detail: `Account ${a.accountId} has 500, needs 700.`,
      });
      const entries = await t.sql(`SELECT 1 FROM ledger_transactions WHERE account_id = $1`, [
        a.accountId,
      ]);
      expect(entries).toHaveLength(1);
    });

    it('may empty an account exactly', async () => {
      const a = await createAccount(t, { initialDeposit: 42 });
      const res = await http()
        .post('/withdrawals')
        .send({ accountId: a.accountId, amount: 42 })
        .expect(201);
      expect(res.body.balance).toBe(0);
    });
  });

  describe('POST /transfers', () => {
    it('moves money and books TRANSFER_OUT/TRANSFER_IN under one transactionId', async () => {
      const a = await createAccount(t, { initialDeposit: 1000 });
      const b = await createAccount(t, { initialDeposit: 10 });
      clock.advance(7);
      const res = await http()
        .post('/transfers')
        .send({ sourceAccountId: a.accountId, targetAccountId: b.accountId, amount: 300 })
        .expect(201);
      expect(res.body).toEqual({
        transactionId: expect.any(String),
        type: 'TRANSFER',
        sourceAccountId: a.accountId,
        targetAccountId: b.accountId,
        amount: 300,
        sourceBalance: 700,
        targetBalance: 310,
        timestamp: clock.now(),
      });
      const tx = await http().get(`/transactions/${res.body.transactionId}`).expect(200);
      expect(tx.body).toEqual({
        transactionId: res.body.transactionId,
        type: 'TRANSFER',
        timestamp: clock.now(),
        entries: [
          {
            entryId: expect.stringMatching(/^\d+$/),
            transactionId: res.body.transactionId,
            accountId: a.accountId,
            type: 'TRANSFER_OUT',
            amount: -300,
            balanceAfter: 700,
            timestamp: clock.now(),
            counterpartyAccountId: b.accountId,
            paymentId: null,
            reversedTransactionId: null,
          },
          {
            entryId: expect.stringMatching(/^\d+$/),
            transactionId: res.body.transactionId,
            accountId: b.accountId,
            type: 'TRANSFER_IN',
            amount: 300,
            balanceAfter: 310,
            timestamp: clock.now(),
            counterpartyAccountId: a.accountId,
            paymentId: null,
            reversedTransactionId: null,
          },
        ],
        reversedAmount: 0,
      });
    });

    it('422 SAME_ACCOUNT', async () => {
      const a = await createAccount(t, { initialDeposit: 100 });
      const res = await http()
        .post('/transfers')
        .send({ sourceAccountId: a.accountId, targetAccountId: a.accountId, amount: 1 })
        .expect(422);
      expect(res.body.code).toBe('SAME_ACCOUNT');
    });

    it('422 INSUFFICIENT_FUNDS leaves both balances unchanged', async () => {
      const a = await createAccount(t, { initialDeposit: 100 });
      const b = await createAccount(t, { initialDeposit: 5 });
      const res = await http()
        .post('/transfers')
        .send({ sourceAccountId: a.accountId, targetAccountId: b.accountId, amount: 101 })
        .expect(422);
      expect(res.body.code).toBe('INSUFFICIENT_FUNDS');
      expect((await http().get(`/accounts/${a.accountId}`)).body.balance).toBe(100);
      expect((await http().get(`/accounts/${b.accountId}`)).body.balance).toBe(5);
    });

    it('422 CURRENCY_MISMATCH between USD and EUR accounts', async () => {
      const a = await createAccount(t, { initialDeposit: 100 });
      const e = await createAccount(t, { currency: 'EUR' });
      const res = await http()
        .post('/transfers')
        .send({ sourceAccountId: a.accountId, targetAccountId: e.accountId, amount: 1 })
        .expect(422);
      expect(res.body.code).toBe('CURRENCY_MISMATCH');
    });

    it('422 BALANCE_LIMIT_EXCEEDED when the target would pass 2^53−1', async () => {
      const a = await createAccount(t, { initialDeposit: 1000 });
      const b = await createAccount(t);
      await t.sql(`UPDATE accounts SET balance = $2 WHERE account_id = $1`, [
        b.accountId,
        MAX_BALANCE,
      ]);
      await t.sql(
        `INSERT INTO ledger_transactions (movement_id, account_id, timestamp, operation, amount, balance_after)
         VALUES (gen_random_uuid(), $1, $2, 'DEPOSIT', $3, $3)`,
        [b.accountId, clock.now(), MAX_BALANCE],
      );
      const res = await http()
        .post('/transfers')
        .send({ sourceAccountId: a.accountId, targetAccountId: b.accountId, amount: 1 })
        .expect(422);
      expect(res.body.code).toBe('BALANCE_LIMIT_EXCEEDED');
      expect((await http().get(`/accounts/${a.accountId}`)).body.balance).toBe(1000);
    });

    it('404 names the missing account, source or target', async () => {
      const a = await createAccount(t, { initialDeposit: 100 });
      const missingTarget = await http()
        .post('/transfers')
        .send({ sourceAccountId: a.accountId, targetAccountId: 'nobody-t', amount: 1 })
        .expect(404);
      expect(missingTarget.body.detail).toContain('nobody-t');
      const missingSource = await http()
        .post('/transfers')
        .send({ sourceAccountId: 'nobody-s', targetAccountId: a.accountId, amount: 1 })
        .expect(404);
      expect(missingSource.body.detail).toContain('nobody-s');
    });
  });

  describe('validation of money movements', () => {
    const cases: [string, unknown][] = [
      ['0', 0],
      ['negative', -5],
      ['fractional', 10.5],
      ['a string', '10'],
      ['null', null],
      ['above 10^15', 1e15 + 1],
      ['a huge number', 1e300],
      ['a boolean', true],
      ['an object', { value: 1 }],
    ];
    it.each(cases)(
      'rejects amount %s with 400 naming amount, nothing changes',
      async (_n, amount) => {
        const a = await createAccount(t, { initialDeposit: 100 });
        for (const path of ['/deposits', '/withdrawals']) {
          const res = await http().post(path).send({ accountId: a.accountId, amount }).expect(400);
          expect(res.headers['content-type']).toMatch(PROBLEM);
          expect(res.body.code).toBe('VALIDATION_FAILED');
          expect(res.body.errors).toEqual(
            expect.arrayContaining([expect.objectContaining({ field: 'amount' })]),
          );
        }
        const b = await createAccount(t);
        await http()
          .post('/transfers')
          .send({ sourceAccountId: a.accountId, targetAccountId: b.accountId, amount })
          .expect(400);
        expect((await http().get(`/accounts/${a.accountId}`)).body.balance).toBe(100);
      },
    );

    it('accepts exactly 10^15', async () => {
      const a = await createAccount(t);
      const res = await http()
        .post('/deposits')
        .send({ accountId: a.accountId, amount: 1e15 })
        .expect(201);
      expect(res.body.balance).toBe(1e15);
    });

    it.each([
      ['missing amount', { accountId: 'x-1' }, 'amount'],
      ['missing accountId', { amount: 5 }, 'accountId'],
      ['bad accountId', { accountId: "x'; DROP TABLE accounts;--", amount: 5 }, 'accountId'],
      ['unknown field', { accountId: 'x-1', amount: 5, note: 'hi' }, 'note'],
    ])('rejects %s with 400 naming the field', async (_n, body, field) => {
      const res = await http().post('/deposits').send(body).expect(400);
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });

    it('rejects transfers with missing or bad ids', async () => {
      const res = await http()
        .post('/transfers')
        .send({ amount: 5, sourceAccountId: '' })
        .expect(400);
      const fields = res.body.errors.map((e: { field: string }) => e.field);
      expect(fields).toEqual(expect.arrayContaining(['sourceAccountId', 'targetAccountId']));
    });
  });

  describe('GET /accounts/{accountId}/transactions', () => {
    it('lists entries by (timestamp, entryId) with an upper bound and stable cursor pages', async () => {
      const a = await createAccount(t, { initialDeposit: 1000 });
      const b = await createAccount(t);
      const start = clock.now();
      for (let i = 1; i <= 6; i++) {
        clock.set(start + i * 10);
        await http()
          .post('/transfers')
          .send({ sourceAccountId: a.accountId, targetAccountId: b.accountId, amount: i })
          .expect(201);
      }
      const all = await http().get(`/accounts/${a.accountId}/transactions`).expect(200);
      expect(all.body.nextCursor).toBeNull();
      expect(all.body.data.map((e: { type: string }) => e.type)).toEqual([
        'DEPOSIT',
        ...Array(6).fill('TRANSFER_OUT'),
      ]);
      expect(all.body.data.map((e: { amount: number }) => e.amount)).toEqual([
        1000, -1, -2, -3, -4, -5, -6,
      ]);
      expect(all.body.data.map((e: { balanceAfter: number }) => e.balanceAfter)).toEqual([
        1000, 999, 997, 994, 990, 985, 979,
      ]);

      const bounded = await http()
        .get(`/accounts/${a.accountId}/transactions`)
        .query({ timestamp: start + 30 })
        .expect(200);
      expect(bounded.body.data).toHaveLength(4);
      expect(bounded.body.data.every((e: { timestamp: number }) => e.timestamp <= start + 30)).toBe(
        true,
      );

      const paged: unknown[] = [];
      let cursor: string | null = null;
      do {
        const res: request.Response = await http()
          .get(`/accounts/${a.accountId}/transactions`)
          .query({ limit: 3, ...(cursor ? { cursor } : {}) })
          .expect(200);
        paged.push(...res.body.data);
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(paged).toEqual(all.body.data);

      const again = await http().get(`/accounts/${a.accountId}/transactions`).expect(200);
      expect(again.body).toEqual(all.body);
    });

    it('404 for an unknown account, 400 for bad query values', async () => {
      expect((await http().get('/accounts/ghost-2/transactions').expect(404)).body.code).toBe(
        'ACCOUNT_NOT_FOUND',
      );
      const a = await createAccount(t);
      for (const query of [
        { limit: '501' },
        { limit: '-1' },
        { timestamp: 'yesterday' },
        { timestamp: '-5' },
        { cursor: 'bm9wZQ' },
        { cursor: Buffer.from('[1,"abc"]').toString('base64url') },
      ]) {
        const res = await http().get(`/accounts/${a.accountId}/transactions`).query(query);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
    });
  });

  describe('GET /transactions/{transactionId}', () => {
    it('returns a deposit with its single entry', async () => {
      const a = await createAccount(t);
      const dep = await http()
        .post('/deposits')
        .send({ accountId: a.accountId, amount: 9 })
        .expect(201);
      const res = await http().get(`/transactions/${dep.body.transactionId}`).expect(200);
      expect(res.body).toMatchObject({ transactionId: dep.body.transactionId, type: 'DEPOSIT' });
      expect(res.body.entries).toHaveLength(1);
    });

    it('404 TRANSACTION_NOT_FOUND for unknown or malformed ids', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '1']) {
        const res = await http().get(`/transactions/${id}`).expect(404);
        expect(res.body.code).toBe('TRANSACTION_NOT_FOUND');
      }
    });
  });

  describe('GET /audit', () => {
    it('is ok on a consistent ledger and reports a tampered balance', async () => {
      const ok = await http().get('/audit').expect(200);
      expect(ok.body).toMatchObject({ ok: true, mismatches: [] });
      expect(ok.body.accountsChecked).toBeGreaterThan(0);
      expect(ok.body.entriesChecked).toBeGreaterThan(0);
      const [sum] = await t.sql<{ total: string }>(
        `SELECT SUM(balance)::text AS total FROM accounts`,
      );
      expect(ok.body.totalBalance).toBe(Number(sum?.total));

      const victim = await createAccount(t, { initialDeposit: 50 });
      await t.sql(`UPDATE accounts SET balance = 60 WHERE account_id = $1`, [victim.accountId]);
      const bad = await http().get('/audit').expect(200);
      expect(bad.body.ok).toBe(false);
      expect(bad.body.mismatches).toEqual([
        expect.objectContaining({ accountId: victim.accountId, balance: 60, ledgerSum: 50 }),
      ]);
      await t.sql(`UPDATE accounts SET balance = 50 WHERE account_id = $1`, [victim.accountId]);
    });
  });
});
