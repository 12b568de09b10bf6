import request from 'supertest';
import { accountId, createAccount } from '../support/factories';
import { ledgerViolations } from '../support/ledger-invariants';
import { createTestApp, ManualClock, TestApp } from '../support/test-app';

describe('accounts', () => {
  let t: TestApp;
  const clock = new ManualClock(1_763_700_000_000);
  beforeAll(async () => {
    t = await createTestApp({ clock });
  });
  afterAll(async () => {
    await t?.close();
  });
  const http = () => request(t.app.getHttpServer());

  describe('POST /accounts', () => {
    it('creates an account with a chosen id, default currency and zero balance', async () => {
      const id = accountId();
      const res = await http().post('/accounts').send({ accountId: id }).expect(201);
      expect(res.body).toEqual({
        accountId: id,
        currency: 'USD',
        balance: 0,
        createdAt: clock.now(),
        status: 'ACTIVE',
        heldAmount: 0,
        availableBalance: 0,
        overdraftLimit: 0,
        dailyDebitLimit: null,
      });
      const entries = await t.sql(`SELECT * FROM ledger_transactions WHERE account_id = $1`, [id]);
      expect(entries).toHaveLength(0);
    });

    it('generates an id when none is given', async () => {
      const res = await http().post('/accounts').send({}).expect(201);
      expect(res.body.accountId).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
      await http().get(`/accounts/${res.body.accountId}`).expect(200);
    });

    it('books a positive initialDeposit as a DEPOSIT entry in the same transaction', async () => {
      const id = accountId();
      const res = await http()
        .post('/accounts')
        .send({ accountId: id, currency: 'EUR', initialDeposit: 1050 })
        .expect(201);
      expect(res.body).toMatchObject({ accountId: id, currency: 'EUR', balance: 1050 });
      const history = await http().get(`/accounts/${id}/transactions`).expect(200);
      expect(history.body.data).toEqual([
        expect.objectContaining({
          accountId: id,
          type: 'DEPOSIT',
          amount: 1050,
          balanceAfter: 1050,
          timestamp: res.body.createdAt,
          counterpartyAccountId: null,
          paymentId: null,
        }),
      ]);
    });

    it('refuses a duplicate id with 409 ACCOUNT_EXISTS and changes nothing', async () => {
      const id = accountId();
      await http().post('/accounts').send({ accountId: id, initialDeposit: 10 }).expect(201);
      const res = await http()
        .post('/accounts')
        .send({ accountId: id, initialDeposit: 99 })
        .expect(409);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 409, code: 'ACCOUNT_EXISTS', title: 'Conflict' });
      const account = await http().get(`/accounts/${id}`).expect(200);
      expect(account.body.balance).toBe(10);
    });

    it('lets exactly one of 20 concurrent creations of one id win', async () => {
      const id = accountId();
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          http().post('/accounts').send({ accountId: id, initialDeposit: 5 }),
        ),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(19);
      const [row] = await t.sql(`SELECT balance FROM accounts WHERE account_id = $1`, [id]);
      expect(row).toEqual({ balance: '5' });
      expect(await ledgerViolations(t)).toEqual([]);
    });

    it.each([
      ['bad id characters', { accountId: 'has space' }, 'accountId'],
      ['id starting with a dash', { accountId: '-abc' }, 'accountId'],
      ['id too long', { accountId: 'a'.repeat(65) }, 'accountId'],
      ['numeric id', { accountId: 123 }, 'accountId'],
      ['lower-case currency', { currency: 'usd' }, 'currency'],
      ['4-letter currency', { currency: 'USDT' }, 'currency'],
      ['made-up currency XYZ', { currency: 'XYZ' }, 'currency'],
      ['withdrawn currency DEM', { currency: 'DEM' }, 'currency'],
      ['ISO 4217 test code XTS', { currency: 'XTS' }, 'currency'],
      ['"no currency" code XXX', { currency: 'XXX' }, 'currency'],
      ['null currency', { currency: null }, 'currency'],
      ['numeric currency', { currency: 840 }, 'currency'],
      ['negative initialDeposit', { initialDeposit: -1 }, 'initialDeposit'],
      ['fractional initialDeposit', { initialDeposit: 1.5 }, 'initialDeposit'],
      ['string initialDeposit', { initialDeposit: '100' }, 'initialDeposit'],
      ['null initialDeposit', { initialDeposit: null }, 'initialDeposit'],
      ['initialDeposit above 10^15', { initialDeposit: 1e15 + 1 }, 'initialDeposit'],
      ['unknown field', { accountId: 'ok-1', owner: 'me' }, 'owner'],
    ])('rejects %s with 400 VALIDATION_FAILED naming the field', async (_name, body, field) => {
      const res = await http().post('/accounts').send(body).expect(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ field, message: expect.any(String) })]),
      );
    });

    it('accepts any active ISO 4217 code and refuses XYZ without creating the account', async () => {
      for (const currency of ['JPY', 'CHF', 'GBP', 'XOF']) {
        const id = accountId();
        const res = await http().post('/accounts').send({ accountId: id, currency }).expect(201);
        expect(res.body).toMatchObject({ accountId: id, currency });
      }
      const id = accountId();
      const res = await http()
        .post('/accounts')
        .send({ accountId: id, currency: 'XYZ', initialDeposit: 100 })
        .expect(400);
      expect(res.body.errors).toEqual([
        {
          field: 'currency',
          message:
            'currency must be an active ISO 4217 currency code in upper case, such as USD or EUR',
        },
      ]);
      await http().get(`/accounts/${id}`).expect(404);
    });

    it('rejects a JSON array body with 400', async () => {
      const res = await http()
        .post('/accounts')
        .send([{ accountId: 'x' }])
        .expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });
  });

  describe('GET /accounts', () => {
    it('pages through all accounts oldest first, deterministically', async () => {
      const created: string[] = [];
      for (let i = 0; i < 5; i++) {
        clock.advance(1);
        created.push((await createAccount(t)).accountId);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: request.Response = await http()
          .get('/accounts')
          .query({ limit: 2, ...(cursor ? { cursor } : {}) })
          .expect(200);
        expect(res.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.data.map((a: { accountId: string }) => a.accountId));
        cursor = res.body.nextCursor;
        pages += 1;
      } while (cursor && pages < 100);
      const all = await http().get('/accounts').query({ limit: 500 }).expect(200);
      expect(seen).toEqual(all.body.data.map((a: { accountId: string }) => a.accountId));
      expect(seen.slice(-5)).toEqual(created);
      const createdAts = all.body.data.map((a: { createdAt: number }) => a.createdAt);
      expect([...createdAts].sort((a, b) => a - b)).toEqual(createdAts);
      expect(all.body.nextCursor).toBeNull();
    });

    it.each([
      ['limit=0', { limit: '0' }, 'limit'],
      ['limit=501', { limit: '501' }, 'limit'],
      ['limit=abc', { limit: 'abc' }, 'limit'],
      ['limit=1.5', { limit: '1.5' }, 'limit'],
      ['garbage cursor', { cursor: 'not-a-cursor' }, 'cursor'],
      ['cursor with bad characters', { cursor: '!!' }, 'cursor'],
      ['unknown query parameter', { sort: 'desc' }, 'sort'],
    ])('rejects %s with 400', async (_name, query, field) => {
      const res = await http().get('/accounts').query(query).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });
  });

  describe('GET /accounts/{accountId}', () => {
    it('returns the account', async () => {
      const account = await createAccount(t, { initialDeposit: 77 });
      const res = await http().get(`/accounts/${account.accountId}`).expect(200);
      expect(res.body).toEqual(account);
    });

    it('404 ACCOUNT_NOT_FOUND names the account', async () => {
      const res = await http().get('/accounts/nobody-here').expect(404);
      expect(res.body).toMatchObject({ status: 404, code: 'ACCOUNT_NOT_FOUND' });
      expect(res.body.detail).toContain('nobody-here');
    });

    it('400 for a malformed id', async () => {
      const res = await http().get('/accounts/bad%20id').expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });
  });

  describe('GET /accounts/{accountId}/balance', () => {
    it('answers the current balance and, with `at`, the balance at a past time', async () => {
      clock.advance(1000);
      const account = await createAccount(t, { initialDeposit: 100 });
      const t0 = account.createdAt;
      clock.set(t0 + 10);
      await http().post('/deposits').send({ accountId: account.accountId, amount: 50 }).expect(201);
      clock.set(t0 + 20);
      await http()
        .post('/withdrawals')
        .send({ accountId: account.accountId, amount: 30 })
        .expect(201);

      const now = await http().get(`/accounts/${account.accountId}/balance`).expect(200);
      expect(now.body).toEqual({
        accountId: account.accountId,
        currency: 'USD',
        balance: 120,
        at: clock.now(),
        heldAmount: 0,
        availableBalance: 120,
      });
      const at = async (time: number) =>
        (await http().get(`/accounts/${account.accountId}/balance`).query({ at: time }).expect(200))
          .body.balance;
      expect(await at(t0)).toBe(100);
      expect(await at(t0 + 9)).toBe(100);
      expect(await at(t0 + 10)).toBe(150);
      expect(await at(t0 + 19)).toBe(150);
      expect(await at(t0 + 20)).toBe(120);
      expect(await at(t0 + 1_000_000)).toBe(120);
    });

    it('answers an `at` in the future as of the request time, and says so', async () => {
      const account = await createAccount(t, { initialDeposit: 70 });
      const future = clock.now() + 60_000;
      const res = await http()
        .get(`/accounts/${account.accountId}/balance`)
        .query({ at: future })
        .expect(200);
      // Not as of `future`: a movement could still be stamped before it, so the answer
      // could change. As of now, which the response's `at` states.
      expect(res.body).toMatchObject({ balance: 70, at: clock.now() });
      clock.advance(10);
      await http().post('/deposits').send({ accountId: account.accountId, amount: 5 }).expect(201);
      const again = await http()
        .get(`/accounts/${account.accountId}/balance`)
        .query({ at: res.body.at as number })
        .expect(200);
      expect(again.body.balance).toBe(70);
    });

    it('404 when the account did not exist yet at `at`', async () => {
      const account = await createAccount(t);
      const res = await http()
        .get(`/accounts/${account.accountId}/balance`)
        .query({ at: account.createdAt - 1 })
        .expect(404);
      expect(res.body.code).toBe('ACCOUNT_NOT_FOUND');
    });

    it('is 0 at creation time for an account opened empty', async () => {
      const account = await createAccount(t);
      const res = await http()
        .get(`/accounts/${account.accountId}/balance`)
        .query({ at: account.createdAt })
        .expect(200);
      expect(res.body).toMatchObject({ balance: 0, at: account.createdAt });
    });

    it.each([['-1'], ['abc'], ['1.5'], ['1e3'], ['99999999999999999999']])(
      'rejects at=%s with 400',
      async (value) => {
        const account = await createAccount(t);
        const res = await http()
          .get(`/accounts/${account.accountId}/balance`)
          .query({ at: value })
          .expect(400);
        expect(res.body.errors).toEqual(
          expect.arrayContaining([expect.objectContaining({ field: 'at' })]),
        );
      },
    );

    it('404 for an unknown account', async () => {
      const res = await http().get('/accounts/ghost/balance').expect(404);
      expect(res.body.code).toBe('ACCOUNT_NOT_FOUND');
    });
  });
});
