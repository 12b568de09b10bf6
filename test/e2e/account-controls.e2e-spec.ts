import request from 'supertest';
import { accountId, balanceOf, createAccount, pay } from '../support/factories';
import { ManualClock, TestApp, useLedgerTestApp } from '../support/test-app';

/** API.md v1.1, "Accounts gain controls": overdraft, daily debit limit, freeze, close. */

const DAY_MS = 86_400_000;

describe('account controls', () => {
  // 10:00 UTC of some day, so a test can cross midnight on purpose.
  const clock = new ManualClock(Math.floor(Date.now() / DAY_MS) * DAY_MS + 10 * 3_600_000);
  const app = useLedgerTestApp(clock);
  let t: TestApp;
  beforeAll(() => (t = app()));
  const http = () => request(t.app.getHttpServer());

  const withdraw = (id: string, amount: number) =>
    http().post('/withdrawals').send({ accountId: id, amount });
  const deposit = (id: string, amount: number) =>
    http().post('/deposits').send({ accountId: id, amount });
  const transfer = (source: string, target: string, amount: number) =>
    http().post('/transfers').send({ sourceAccountId: source, targetAccountId: target, amount });
  const account = async (id: string) =>
    (await http().get(`/accounts/${id}`).expect(200)).body as Record<string, unknown>;

  describe('overdraft limit', () => {
    it('lets the balance go down to exactly −overdraftLimit and refuses one unit more', async () => {
      const a = await createAccount(t, { initialDeposit: 100, overdraftLimit: 500 });
      expect(await account(a.accountId)).toMatchObject({
        balance: 100,
        overdraftLimit: 500,
        availableBalance: 600,
        heldAmount: 0,
        status: 'ACTIVE',
        dailyDebitLimit: null,
      });
      const res = await withdraw(a.accountId, 600).expect(201);
      expect(res.body.balance).toBe(-500);
      const refused = await withdraw(a.accountId, 1).expect(422);
      expect(refused.body.code).toBe('INSUFFICIENT_FUNDS');
      const balance = await http().get(`/accounts/${a.accountId}/balance`).expect(200);
      expect(balance.body).toMatchObject({ balance: -500, heldAmount: 0, availableBalance: 0 });
    });

    it('refuses to lower the limit below what is used (LIMIT_BELOW_USAGE), exact at the edge', async () => {
      const a = await createAccount(t, { overdraftLimit: 1000 });
      await withdraw(a.accountId, 300).expect(201);
      const below = await http()
        .patch(`/accounts/${a.accountId}`)
        .send({ overdraftLimit: 299 })
        .expect(422);
      expect(below.body.code).toBe('LIMIT_BELOW_USAGE');
      const edge = await http()
        .patch(`/accounts/${a.accountId}`)
        .send({ overdraftLimit: 300 })
        .expect(200);
      expect(edge.body).toMatchObject({ balance: -300, overdraftLimit: 300, availableBalance: 0 });
      expect((await withdraw(a.accountId, 1).expect(422)).body.code).toBe('INSUFFICIENT_FUNDS');
    });

    it('is kept by the database itself, whatever the service does', async () => {
      const checks = await t.sql<{ conname: string; def: string }>(
        `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
          WHERE conrelid = 'accounts'::regclass AND conname IN ('chk_accounts_balance', 'chk_accounts_available')
          ORDER BY conname`,
      );
      expect(checks.map((c) => [c.conname, c.def])).toEqual([
        ['chk_accounts_available', 'CHECK ((((balance + overdraft_limit) - held_amount) >= 0))'],
        [
          'chk_accounts_balance',
          "CHECK (((balance >= (- overdraft_limit)) AND (balance <= '9007199254740991'::bigint)))",
        ],
      ]);
      const a = await createAccount(t, { overdraftLimit: 10 });
      await expect(
        t.sql(`UPDATE accounts SET balance = -11 WHERE account_id = $1`, [a.accountId]),
      ).rejects.toThrow(/chk_accounts_(balance|available)/);
      await expect(
        t.sql(`UPDATE accounts SET overdraft_limit = 0, balance = -1 WHERE account_id = $1`, [
          a.accountId,
        ]),
      ).rejects.toThrow(/chk_accounts_(balance|available)/);
    });

    it('shows a v1 account no change: no overdraft, INSUFFICIENT_FUNDS at 0', async () => {
      const a = await createAccount(t, { initialDeposit: 5 });
      const refused = await withdraw(a.accountId, 6).expect(422);
      expect(refused.body.detail).toBe(`Account ${a.accountId} has 5, needs 6.`);
    });
  });

  describe('daily debit limit', () => {
    it('counts withdrawals, transfers out and payments together, exact at the boundary', async () => {
      const a = await createAccount(t, { initialDeposit: 10_000, dailyDebitLimit: 1000 });
      const b = await createAccount(t);
      await withdraw(a.accountId, 300).expect(201);
      await transfer(a.accountId, b.accountId, 300).expect(201);
      await pay(t, a.accountId, 300);
      // Credits do not count, nor does the target side of a transfer.
      await deposit(a.accountId, 50).expect(201);
      const over = await withdraw(a.accountId, 101).expect(422);
      expect(over.body).toMatchObject({
        code: 'DAILY_LIMIT_EXCEEDED',
        detail: `Account ${a.accountId} may debit 100 more today (daily debit limit 1000, 900 used); needs 101.`,
      });
      await transfer(a.accountId, b.accountId, 100).expect(201);
      const payment = await http().post('/payments').send({ accountId: a.accountId, amount: 1 });
      expect([payment.status, payment.body.code]).toEqual([422, 'DAILY_LIMIT_EXCEEDED']);
      expect((await withdraw(a.accountId, 1).expect(422)).body.code).toBe('DAILY_LIMIT_EXCEEDED');
      // b received 400 today and may still spend up to its own (absent) limit.
      await withdraw(b.accountId, 400).expect(201);
    });

    it('holds exactly under 100 parallel withdrawals: usage never exceeds it, successes exact', async () => {
      const a = await createAccount(t, { initialDeposit: 1_000_000, dailyDebitLimit: 3_700 });
      const results = await Promise.all(
        Array.from({ length: 100 }, () => withdraw(a.accountId, 100)),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(37);
      expect(statuses.filter((s) => s === 422)).toHaveLength(63);
      expect(
        results
          .filter((r) => r.status === 422)
          .every((r) => r.body.code === 'DAILY_LIMIT_EXCEEDED'),
      ).toBe(true);
      expect(await balanceOf(t, a.accountId)).toBe(1_000_000 - 3_700);
      const [row] = await t.sql<{ debit_used: string }>(
        `SELECT debit_used::text FROM accounts WHERE account_id = $1`,
        [a.accountId],
      );
      expect(row.debit_used).toBe('3700');
    });

    it('starts again at 00:00 UTC (controllable clock)', async () => {
      const a = await createAccount(t, { initialDeposit: 10_000, dailyDebitLimit: 500 });
      const midnight = (Math.floor(clock.now() / DAY_MS) + 1) * DAY_MS;
      clock.set(midnight - 1);
      await withdraw(a.accountId, 500).expect(201);
      expect((await withdraw(a.accountId, 1).expect(422)).body.code).toBe('DAILY_LIMIT_EXCEEDED');
      clock.set(midnight);
      await withdraw(a.accountId, 500).expect(201);
      expect((await withdraw(a.accountId, 1).expect(422)).body.detail).toContain(
        'may debit 0 more today',
      );
      clock.set(midnight + 10 * 3_600_000);
    });

    it('PATCH sets and clears it', async () => {
      const a = await createAccount(t, { initialDeposit: 1000 });
      await http().patch(`/accounts/${a.accountId}`).send({ dailyDebitLimit: 10 }).expect(200);
      expect((await withdraw(a.accountId, 11).expect(422)).body.code).toBe('DAILY_LIMIT_EXCEEDED');
      const cleared = await http()
        .patch(`/accounts/${a.accountId}`)
        .send({ dailyDebitLimit: null })
        .expect(200);
      expect(cleared.body.dailyDebitLimit).toBeNull();
      await withdraw(a.accountId, 11).expect(201);
    });
  });

  describe('freeze and unfreeze', () => {
    it('a frozen account refuses debits but takes a deposit and an incoming transfer', async () => {
      const a = await createAccount(t, { initialDeposit: 1000 });
      const b = await createAccount(t, { initialDeposit: 1000 });
      const frozen = await http().post(`/accounts/${a.accountId}/freeze`).expect(200);
      expect(frozen.body).toMatchObject({ accountId: a.accountId, status: 'FROZEN' });
      // Freezing a frozen account is a no-op 200; with `{}` as the body too.
      await http().post(`/accounts/${a.accountId}/freeze`).send({}).expect(200);

      for (const res of [
        await withdraw(a.accountId, 1),
        await transfer(a.accountId, b.accountId, 1),
        await http().post('/payments').send({ accountId: a.accountId, amount: 1 }),
      ]) {
        expect(res.status).toBe(422);
        expect(res.body.code).toBe('ACCOUNT_FROZEN');
      }
      await deposit(a.accountId, 10).expect(201);
      await transfer(b.accountId, a.accountId, 10).expect(201);
      expect(await balanceOf(t, a.accountId)).toBe(1020);

      const active = await http().post(`/accounts/${a.accountId}/unfreeze`).expect(200);
      expect(active.body.status).toBe('ACTIVE');
      await http().post(`/accounts/${a.accountId}/unfreeze`).expect(200);
      await withdraw(a.accountId, 20).expect(201);
    });

    it('replays a keyed freeze and changes nothing the second time', async () => {
      const a = await createAccount(t);
      const first = await http()
        .post(`/accounts/${a.accountId}/freeze`)
        .set('Idempotency-Key', `freeze-${a.accountId}`)
        .expect(200);
      await http().post(`/accounts/${a.accountId}/unfreeze`).expect(200);
      const replay = await http()
        .post(`/accounts/${a.accountId}/freeze`)
        .set('Idempotency-Key', `freeze-${a.accountId}`)
        .expect(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      expect((await account(a.accountId)).status).toBe('ACTIVE');
    });
  });

  describe('close', () => {
    it('refuses each non-empty case, then closes for good', async () => {
      const a = await createAccount(t, { initialDeposit: 100 });
      const b = await createAccount(t, { initialDeposit: 1000 });
      const notEmpty = async (detail: string) => {
        const res = await http().post(`/accounts/${a.accountId}/close`).expect(409);
        expect(res.body.code).toBe('ACCOUNT_NOT_EMPTY');
        expect(res.body.detail).toContain(detail);
      };
      await notEmpty('its balance is 100, not 0');
      // A payment empties the balance but leaves a cashback pending.
      const payment = await pay(t, a.accountId, 100);
      await notEmpty(`a cashback of ${payment.cashbackAmount} is still pending`);
      // Once the cashback is credited, the balance is not 0 again; move it out.
      clock.set(payment.cashbackDueAt);
      await notEmpty(`its balance is ${payment.cashbackAmount}, not 0`);
      await withdraw(a.accountId, payment.cashbackAmount).expect(201);
      // An overdrawn account is not empty either.
      await http().patch(`/accounts/${a.accountId}`).send({ overdraftLimit: 5 }).expect(200);
      await withdraw(a.accountId, 5).expect(201);
      await notEmpty('its balance is -5, not 0');
      await deposit(a.accountId, 5).expect(201);

      const closed = await http().post(`/accounts/${a.accountId}/close`).send({}).expect(200);
      expect(closed.body).toMatchObject({ status: 'CLOSED', balance: 0 });

      for (const res of [
        await deposit(a.accountId, 1),
        await withdraw(a.accountId, 1),
        await transfer(a.accountId, b.accountId, 1),
        await transfer(b.accountId, a.accountId, 1),
        await http().post('/payments').send({ accountId: a.accountId, amount: 1 }),
      ]) {
        expect(res.status).toBe(422);
        expect(res.body.code).toBe('ACCOUNT_CLOSED');
      }
      for (const path of ['close', 'freeze', 'unfreeze']) {
        const res = await http().post(`/accounts/${a.accountId}/${path}`).expect(409);
        expect(res.body.code).toBe('ACCOUNT_CLOSED');
      }
      const patch = await http()
        .patch(`/accounts/${a.accountId}`)
        .send({ overdraftLimit: 1 })
        .expect(409);
      expect(patch.body.code).toBe('ACCOUNT_CLOSED');

      // Readable forever; the id is never reused.
      expect(await account(a.accountId)).toMatchObject({ status: 'CLOSED', balance: 0 });
      await http().get(`/accounts/${a.accountId}/transactions`).expect(200);
      await http().get(`/accounts/${a.accountId}/statement`).expect(200);
      const again = await http().post('/accounts').send({ accountId: a.accountId }).expect(409);
      expect(again.body.code).toBe('ACCOUNT_EXISTS');
      expect(await balanceOf(t, b.accountId)).toBe(1000);
    });

    it('answers 404 for an unknown account on every control', async () => {
      const id = accountId('ghost');
      for (const path of ['close', 'freeze', 'unfreeze']) {
        const res = await http().post(`/accounts/${id}/${path}`).expect(404);
        expect(res.body.code).toBe('ACCOUNT_NOT_FOUND');
      }
      await http().patch(`/accounts/${id}`).send({ overdraftLimit: 1 }).expect(404);
    });
  });

  describe('bad input', () => {
    it('is a 400 naming the field, and changes nothing', async () => {
      const a = await createAccount(t, { initialDeposit: 10 });
      const cases: [request.Test, string][] = [
        [http().post('/accounts').send({ overdraftLimit: -1 }), 'overdraftLimit'],
        [http().post('/accounts').send({ overdraftLimit: 1.5 }), 'overdraftLimit'],
        [http().post('/accounts').send({ overdraftLimit: null }), 'overdraftLimit'],
        [http().post('/accounts').send({ dailyDebitLimit: 0 }), 'dailyDebitLimit'],
        [http().post('/accounts').send({ dailyDebitLimit: '5' }), 'dailyDebitLimit'],
        [
          http()
            .post('/accounts')
            .send({ overdraftLimit: 1e15 + 1 }),
          'overdraftLimit',
        ],
        [http().patch(`/accounts/${a.accountId}`).send({}), 'body'],
        [http().patch(`/accounts/${a.accountId}`).send({ status: 'CLOSED' }), 'status'],
        [http().post(`/accounts/${a.accountId}/freeze`).send({ why: 1 }), 'why'],
        [http().post(`/accounts/${a.accountId}/close`).send([]), 'body'],
      ];
      for (const [req, field] of cases) {
        const res = await req;
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      }
      expect(await account(a.accountId)).toMatchObject({
        status: 'ACTIVE',
        balance: 10,
        overdraftLimit: 0,
        dailyDebitLimit: null,
      });
    });

    it('accepts null as "no daily limit" when opening an account', async () => {
      const res = await http().post('/accounts').send({ dailyDebitLimit: null }).expect(201);
      expect(res.body.dailyDebitLimit).toBeNull();
    });
  });
});
