import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Client } from 'pg';
import request from 'supertest';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { IdempotencyPurger } from '../../src/idempotency/idempotency-purger';
import { requestFingerprint } from '../../src/idempotency/idempotency-key';
import { balanceOf, createAccount } from '../support/factories';
import { ledgerViolations } from '../support/ledger-invariants';
import { LogCapture } from '../support/log-capture';
import { createTestApp, ManualClock, TestApp } from '../support/test-app';

const PROBLEM = /^application\/problem\+json/;
const JSON_TYPE = /^application\/json/;
const TTL_MS = 86_400_000;

describe('idempotency keys', () => {
  let t: TestApp;
  const clock = new ManualClock(1_763_700_000_000);
  // The 500 below logs its error: captured and asserted, not printed.
  const logs = new LogCapture();
  beforeAll(async () => {
    t = await createTestApp({ clock, logs: logs.stream });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t?.close();
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  const http = () => request(t.app.getHttpServer());
  const newKey = () => `key-${randomUUID()}`;
  const post = (path: string, body: unknown, key?: string) => {
    const req = http().post(path);
    if (key !== undefined) req.set('Idempotency-Key', key);
    return req.send(body as object);
  };
  const entriesOf = async (accountId: string) =>
    (
      await t.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM ledger_transactions WHERE account_id = $1`,
        [accountId],
      )
    )[0].n;
  const storedRow = async (key: string) =>
    (
      await t.sql<{ status_code: number; response_body: string; expires_at: string }>(
        `SELECT status_code, response_body, expires_at FROM idempotency_keys
          WHERE idempotency_key = $1`,
        [key],
      )
    )[0];

  /** Polls until `check` holds; no timing assertion, only a generous ceiling. */
  async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  function expectSameResponse(first: request.Response, replay: request.Response): void {
    expect(replay.status).toBe(first.status);
    expect(replay.text).toBe(first.text);
    expect(replay.headers['content-type']).toBe(first.headers['content-type']);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
  }

  describe('a retried POST answers the first response and moves money once', () => {
    it('deposit', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 1000 });
      const key = newKey();
      const first = await post('/deposits', { accountId, amount: 250 }, key).expect(201);
      expect(first.headers['content-type']).toMatch(JSON_TYPE);
      expect(first.body).toMatchObject({ type: 'DEPOSIT', accountId, amount: 250, balance: 1250 });
      const replay = await post('/deposits', { accountId, amount: 250 }, key).expect(201);
      expectSameResponse(first, replay);
      expect(await balanceOf(t, accountId)).toBe(1250);
      expect(await entriesOf(accountId)).toBe(2);
      expect(await storedRow(key)).toEqual({
        status_code: 201,
        response_body: first.text,
        expires_at: String(clock.now() + TTL_MS),
      });
    });

    it('withdrawal', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 1000 });
      const key = newKey();
      const first = await post('/withdrawals', { accountId, amount: 300 }, key).expect(201);
      expect(first.body).toMatchObject({ type: 'WITHDRAWAL', balance: 700 });
      for (let i = 0; i < 3; i++) {
        const replay = await post('/withdrawals', { accountId, amount: 300 }, key).expect(201);
        expectSameResponse(first, replay);
      }
      expect(await balanceOf(t, accountId)).toBe(700);
      expect(await entriesOf(accountId)).toBe(2);
    });

    it('transfer', async () => {
      const source = await createAccount(t, { initialDeposit: 1000 });
      const target = await createAccount(t, { initialDeposit: 10 });
      const body = {
        sourceAccountId: source.accountId,
        targetAccountId: target.accountId,
        amount: 400,
      };
      const key = newKey();
      const first = await post('/transfers', body, key).expect(201);
      expect(first.body).toMatchObject({ sourceBalance: 600, targetBalance: 410 });
      expectSameResponse(first, await post('/transfers', body, key).expect(201));
      expect(await balanceOf(t, source.accountId)).toBe(600);
      expect(await balanceOf(t, target.accountId)).toBe(410);
      expect(await entriesOf(source.accountId)).toBe(2);
    });

    it('payment: one PAYMENT entry, one payment number, one scheduled cashback', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 1000 });
      const key = newKey();
      const first = await post('/payments', { accountId, amount: 200 }, key).expect(201);
      expect(first.body).toMatchObject({
        accountId,
        amount: 200,
        balance: 800,
        status: 'IN_PROGRESS',
      });
      expectSameResponse(
        first,
        await post('/payments', { accountId, amount: 200 }, key).expect(201),
      );
      expect(await balanceOf(t, accountId)).toBe(800);
      expect(await entriesOf(accountId)).toBe(2);
      const payments = await t.sql<{ payment_id: string }>(
        `SELECT payment_id FROM payments WHERE account_id = $1`,
        [accountId],
      );
      expect(payments).toEqual([{ payment_id: first.body.paymentId }]);
      await http().get(`/payments/${first.body.paymentId}`).expect(200);
    });

    it('account creation: a retry is not ACCOUNT_EXISTS, and the deposit is booked once', async () => {
      const accountId = `acc-${randomUUID()}`;
      const key = newKey();
      const body = { accountId, currency: 'EUR', initialDeposit: 500 };
      const first = await post('/accounts', body, key).expect(201);
      expect(first.body).toMatchObject({ accountId, currency: 'EUR', balance: 500 });
      expectSameResponse(first, await post('/accounts', body, key).expect(201));
      expect(await balanceOf(t, accountId)).toBe(500);
      expect(await entriesOf(accountId)).toBe(1);
      // Without a key the same body is a new request, and the id is taken.
      const again = await post('/accounts', body).expect(409);
      expect(again.body.code).toBe('ACCOUNT_EXISTS');
    });

    it('account creation with a generated id opens exactly one account', async () => {
      const count = async () =>
        (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM accounts`))[0].n;
      const before = await count();
      const key = newKey();
      const first = await post('/accounts', {}, key).expect(201);
      const replay = await post('/accounts', {}, key).expect(201);
      expectSameResponse(first, replay);
      expect(replay.body.accountId).toBe(first.body.accountId);
      expect(await count()).toBe(before + 1);
    });

    it('a body differing only in key order and spacing is the same request', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 0 });
      const key = newKey();
      const first = await post('/deposits', { accountId, amount: 5 }, key).expect(201);
      const replay = await http()
        .post('/deposits')
        .set('Idempotency-Key', key)
        .set('Content-Type', 'application/json')
        .send(`{ "amount" : 5,\n "accountId": ${JSON.stringify(accountId)} }`)
        .expect(201);
      expectSameResponse(first, replay);
      expect(await balanceOf(t, accountId)).toBe(5);
    });
  });

  describe('a 4xx is stored and replayed too', () => {
    it('a replayed 422 INSUFFICIENT_FUNDS stays 422 after the account is funded', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 500 });
      const key = newKey();
      const first = await post('/withdrawals', { accountId, amount: 700 }, key).expect(422);
      expect(first.headers['content-type']).toMatch(PROBLEM);
      expect(first.body).toMatchObject({ status: 422, code: 'INSUFFICIENT_FUNDS' });
      await post('/deposits', { accountId, amount: 1000 }).expect(201);
      const replay = await post('/withdrawals', { accountId, amount: 700 }, key).expect(422);
      expectSameResponse(first, replay);
      expect(await balanceOf(t, accountId)).toBe(1500);
      // A new key is a new request, which now succeeds.
      await post('/withdrawals', { accountId, amount: 700 }, newKey()).expect(201);
      expect(await balanceOf(t, accountId)).toBe(800);
    });

    it('a 404 ACCOUNT_NOT_FOUND stays 404 after the account is opened', async () => {
      const accountId = `acc-${randomUUID()}`;
      const key = newKey();
      const first = await post('/deposits', { accountId, amount: 10 }, key).expect(404);
      await createAccount(t, { accountId });
      expectSameResponse(first, await post('/deposits', { accountId, amount: 10 }, key));
      expect(await balanceOf(t, accountId)).toBe(0);
    });

    it('a 400 VALIDATION_FAILED of the body is replayed', async () => {
      const { accountId } = await createAccount(t);
      const key = newKey();
      const first = await post('/deposits', { accountId, amount: 0 }, key).expect(400);
      expect(first.body).toMatchObject({ code: 'VALIDATION_FAILED' });
      expectSameResponse(first, await post('/deposits', { accountId, amount: 0 }, key));
    });
  });

  describe('a 5xx is never stored', () => {
    /**
     * A database error inside the batch's transaction: a trigger (created for this test only)
     * refuses one amount. Nothing the batch wrote stays, and no answer is stored.
     */
    it('a database error answers 500, changes nothing, and a retry runs afresh', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 100 });
      await t.sql(`CREATE FUNCTION refuse_4242() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused by a test trigger'; END $$`);
      await t.sql(`CREATE TRIGGER refuse_4242 BEFORE INSERT ON ledger_transactions
        FOR EACH ROW WHEN (NEW.amount = 4242) EXECUTE FUNCTION refuse_4242()`);
      const key = newKey();
      try {
        const failed = await post('/deposits', { accountId, amount: 4242 }, key).expect(500);
        expect(failed.body.code).toBe('INTERNAL_ERROR');
        const requestId = failed.headers['x-request-id'];
        await logs.waitFor(
          (l) =>
            l.level === 'error' &&
            l.requestId === requestId &&
            JSON.stringify(l).includes('refused by a test trigger'),
        );
        expect(await storedRow(key)).toBeUndefined();
        expect(await balanceOf(t, accountId)).toBe(100);
      } finally {
        await t.sql(`DROP TRIGGER refuse_4242 ON ledger_transactions`);
        await t.sql(`DROP FUNCTION refuse_4242()`);
      }
      const retry = await post('/deposits', { accountId, amount: 4242 }, key).expect(201);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
      expect(await balanceOf(t, accountId)).toBe(4342);
    });

    it('a serialization failure retries the whole batch: effects and stored answer once', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 100 });
      // Fails the first insert of this amount with 40001; a sequence is not rolled back.
      await t.sql(`CREATE SEQUENCE fail_once_4343`);
      await t.sql(`CREATE FUNCTION fail_once_4343() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF nextval('fail_once_4343') = 1 THEN
            RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001';
          END IF;
          RETURN NEW;
        END $$`);
      await t.sql(`CREATE TRIGGER fail_once_4343 BEFORE INSERT ON ledger_transactions
        FOR EACH ROW WHEN (NEW.amount = 4343) EXECUTE FUNCTION fail_once_4343()`);
      const retried: string[] = [];
      t.app.get(TransactionRunner).onRetry((state) => retried.push(state));
      const key = newKey();
      try {
        const first = await post('/deposits', { accountId, amount: 4343 }, key).expect(201);
        expect(retried).toEqual(['40001']);
        expect(first.body.balance).toBe(4443);
        expectSameResponse(first, await post('/deposits', { accountId, amount: 4343 }, key));
        expect(JSON.parse((await storedRow(key)).response_body)).toEqual(first.body);
      } finally {
        await t.sql(`DROP TRIGGER fail_once_4343 ON ledger_transactions`);
        await t.sql(`DROP FUNCTION fail_once_4343()`);
      }
      expect(await balanceOf(t, accountId)).toBe(4443);
      expect(await entriesOf(accountId)).toBe(2);
    });
  });

  describe('the same key for a different request', () => {
    it('different body → 422 IDEMPOTENCY_KEY_REUSED, nothing changes, the original still replays', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 100 });
      const key = newKey();
      const first = await post('/deposits', { accountId, amount: 10 }, key).expect(201);
      const reused = await post('/deposits', { accountId, amount: 11 }, key).expect(422);
      expect(reused.headers['content-type']).toMatch(PROBLEM);
      expect(reused.body).toEqual({
        type: 'about:blank',
        title: 'Unprocessable Entity',
        status: 422,
        code: 'IDEMPOTENCY_KEY_REUSED',
        detail: expect.any(String),
      });
      expect(reused.headers['idempotent-replayed']).toBeUndefined();
      expect(await balanceOf(t, accountId)).toBe(110);
      expectSameResponse(first, await post('/deposits', { accountId, amount: 10 }, key));
    });

    it('different path → 422 IDEMPOTENCY_KEY_REUSED', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 100 });
      const key = newKey();
      await post('/deposits', { accountId, amount: 10 }, key).expect(201);
      const reused = await post('/withdrawals', { accountId, amount: 10 }, key).expect(422);
      expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await balanceOf(t, accountId)).toBe(110);
    });
  });

  describe('concurrency', () => {
    it('20 concurrent requests with one key: one effect, the others 409 or replays, no 5xx', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 0 });
      const key = newKey();
      const results = await Promise.all(
        Array.from({ length: 20 }, () => post('/deposits', { accountId, amount: 7 }, key)),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
      const fresh = results.filter((r) => r.status === 201 && !r.headers['idempotent-replayed']);
      expect(fresh).toHaveLength(1);
      for (const r of results.filter((x) => x.status === 201)) expect(r.text).toBe(fresh[0].text);
      for (const r of results.filter((x) => x.status === 409)) {
        expect(r.headers['content-type']).toMatch(PROBLEM);
        expect(r.body.code).toBe('IDEMPOTENCY_KEY_IN_PROGRESS');
      }
      expect(await balanceOf(t, accountId)).toBe(7);
      expect(await entriesOf(accountId)).toBe(1);
      expectSameResponse(fresh[0], await post('/deposits', { accountId, amount: 7 }, key));
      expect(await ledgerViolations(t)).toEqual([]);
    });

    it('20 concurrent account creations with one key open one account', async () => {
      const accountId = `acc-${randomUUID()}`;
      const key = newKey();
      const body = { accountId, initialDeposit: 3 };
      const results = await Promise.all(
        Array.from({ length: 20 }, () => post('/accounts', body, key)),
      );
      expect(results.every((r) => r.status === 201 || r.status === 409)).toBe(true);
      expect(results.filter((r) => r.status === 409).map((r) => r.body.code)).not.toContain(
        'ACCOUNT_EXISTS',
      );
      expect(
        results.filter((r) => r.status === 201 && !r.headers['idempotent-replayed']),
      ).toHaveLength(1);
      expect(await balanceOf(t, accountId)).toBe(3);
    });

    it('while the key is held by a running request: 409 IDEMPOTENCY_KEY_IN_PROGRESS', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 0 });
      const key = newKey();
      const holder = new Client({ connectionString: t.database.url });
      await holder.connect();
      try {
        await holder.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [key]);
        const busy = await post('/deposits', { accountId, amount: 5 }, key).expect(409);
        expect(busy.body).toMatchObject({ status: 409, code: 'IDEMPOTENCY_KEY_IN_PROGRESS' });
        expect(await storedRow(key)).toBeUndefined();
        await holder.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [key]);
      } finally {
        await holder.end();
      }
      await post('/deposits', { accountId, amount: 5 }, key).expect(201);
      expect(await balanceOf(t, accountId)).toBe(5);
    });

    it('the primary key is the final arbiter: the loser of a race rolls back and replays', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 0 });
      const key = newKey();
      const body = { accountId, amount: 9 };
      const winnerBody = '{"winner":true}';
      // Another "request" inserted the key but has not committed: invisible to the read, and
      // the lock it would hold is not taken, so the request runs its handler...
      const other = new Client({ connectionString: t.database.url });
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query(`INSERT INTO idempotency_keys VALUES ($1, $2, 201, $3, $4, $5)`, [
          key,
          requestFingerprint('POST', '/deposits', body),
          winnerBody,
          clock.now(),
          clock.now() + TTL_MS,
        ]);
        const pending = post('/deposits', body, key).then((r) => r);
        // ...and then waits on the primary key for the other transaction to finish.
        await waitFor('the request to block on the idempotency key insert', async () => {
          const rows = await t.sql(
            `SELECT 1 FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid()
                AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO idempotency_keys%'`,
          );
          return rows.length > 0;
        });
        await other.query('COMMIT');
        const res = await pending;
        expect(res.status).toBe(201);
        expect(res.text).toBe(winnerBody);
        expect(res.headers['idempotent-replayed']).toBe('true');
      } finally {
        await other.end();
      }
      expect(await balanceOf(t, accountId)).toBe(0);
      expect(await entriesOf(accountId)).toBe(0);
    });
  });

  describe('the key itself', () => {
    it.each([
      ['empty', ''],
      ['256 characters', 'k'.repeat(256)],
      ['a tab (control character)', 'abc\tdef'],
      ['a space', 'abc def'],
      ['non-ASCII', 'clé'],
    ])('%s → 400 VALIDATION_FAILED on Idempotency-Key, nothing changes', async (_name, key) => {
      const { accountId } = await createAccount(t, { initialDeposit: 100 });
      const res = await post('/deposits', { accountId, amount: 5 }, key).expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.errors).toEqual([{ field: 'Idempotency-Key', message: expect.any(String) }]);
      expect(await balanceOf(t, accountId)).toBe(100);
      const stored = await t.sql(`SELECT 1 FROM idempotency_keys WHERE idempotency_key = $1`, [
        key,
      ]);
      expect(stored).toHaveLength(0);
    });

    it.each([
      ['\\x01', '\u0001'],
      ['DEL', '\u007f'],
    ])('a key with %s never reaches the handler: 400, nothing changes', async (_name, char) => {
      const { accountId } = await createAccount(t, { initialDeposit: 100 });
      const server = t.app.getHttpServer();
      if (!server.listening) {
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      }
      const { port } = server.address() as { port: number };
      const body = JSON.stringify({ accountId, amount: 5 });
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let answer = '';
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => (answer += chunk));
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
        socket.write(
          `POST /deposits HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
            `Idempotency-Key: abc${char}def\r\n\r\n${body}`,
          'latin1',
        );
      });
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      expect(await balanceOf(t, accountId)).toBe(100);
    });

    it('accepts a 255-character key of every visible ASCII character', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 0 });
      let visible = '';
      for (let c = 0x21; c <= 0x7e; c++) visible += String.fromCharCode(c);
      const key = (visible + visible + visible).slice(0, 255);
      const first = await post('/deposits', { accountId, amount: 1 }, key).expect(201);
      expectSameResponse(first, await post('/deposits', { accountId, amount: 1 }, key));
      expect(await balanceOf(t, accountId)).toBe(1);
    });

    it('is ignored on GET requests, even when invalid', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 4 });
      const res = await http()
        .get(`/accounts/${accountId}`)
        .set('Idempotency-Key', 'not valid')
        .expect(200);
      expect(res.body.balance).toBe(4);
    });
  });

  describe('without a key nothing changes', () => {
    it('identical requests are separate movements, stored nowhere, never replayed', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 0 });
      const count = async () =>
        (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM idempotency_keys`))[0].n;
      const before = await count();
      const a = await post('/deposits', { accountId, amount: 5 }).expect(201);
      const b = await post('/deposits', { accountId, amount: 5 }).expect(201);
      expect(a.headers['content-type']).toMatch(JSON_TYPE);
      expect(a.headers['idempotent-replayed']).toBeUndefined();
      expect(b.headers['idempotent-replayed']).toBeUndefined();
      expect(b.body.transactionId).not.toBe(a.body.transactionId);
      expect(b.body.balance).toBe(10);
      const refused = await post('/withdrawals', { accountId, amount: 50 }).expect(422);
      expect(refused.body.code).toBe('INSUFFICIENT_FUNDS');
      expect(await count()).toBe(before);
    });

    it('a keyed response has the same headers and body shape as an unkeyed one', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 0 });
      const plain = await post('/deposits', { accountId, amount: 5 }).expect(201);
      const keyed = await post('/deposits', { accountId, amount: 5 }, newKey()).expect(201);
      expect(keyed.headers['content-type']).toBe(plain.headers['content-type']);
      expect(Object.keys(keyed.body)).toEqual(Object.keys(plain.body));
      const plainError = await post('/withdrawals', { accountId, amount: 99 }).expect(422);
      const keyedError = await post('/withdrawals', { accountId, amount: 99 }, newKey());
      expect(keyedError.status).toBe(422);
      expect(keyedError.headers['content-type']).toBe(plainError.headers['content-type']);
      expect(keyedError.text).toBe(plainError.text);
    });
  });

  describe('expiry and purge', () => {
    it('a key is kept for the TTL, then counts as new and is overwritten', async () => {
      const { accountId } = await createAccount(t, { initialDeposit: 0 });
      const key = newKey();
      const first = await post('/deposits', { accountId, amount: 1 }, key).expect(201);
      clock.advance(TTL_MS - 1);
      expectSameResponse(first, await post('/deposits', { accountId, amount: 1 }, key));
      clock.advance(1);
      const renewed = await post('/deposits', { accountId, amount: 2 }, key).expect(201);
      expect(renewed.headers['idempotent-replayed']).toBeUndefined();
      expect(await balanceOf(t, accountId)).toBe(3);
      expectSameResponse(renewed, await post('/deposits', { accountId, amount: 2 }, key));
      const reused = await post('/deposits', { accountId, amount: 1 }, key).expect(422);
      expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect((await storedRow(key)).expires_at).toBe(String(clock.now() + TTL_MS));
    });

    it('the purge deletes expired keys in batches and only those', async () => {
      const now = clock.now();
      const prefix = `purge-${randomUUID()}-`;
      const insert = (name: string, expiresAt: number) =>
        t.sql(`INSERT INTO idempotency_keys VALUES ($1, 'f', 201, '{}', $2, $3)`, [
          prefix + name,
          expiresAt - TTL_MS,
          expiresAt,
        ]);
      for (let i = 0; i < 5; i++) await insert(`old-${i}`, now - 1000 * (i + 1));
      await insert('exactly-now', now);
      await insert('live', now + 1);
      await insert('live-long', now + TTL_MS);

      const purged = await t.app.get(IdempotencyPurger).purgeExpired(2);
      expect(purged).toBeGreaterThanOrEqual(6);
      const left = await t.sql<{ idempotency_key: string }>(
        `SELECT idempotency_key FROM idempotency_keys WHERE idempotency_key LIKE $1 ORDER BY 1`,
        [`${prefix}%`],
      );
      expect(left.map((r) => r.idempotency_key)).toEqual([prefix + 'live', prefix + 'live-long']);
      const expired = await t.sql(`SELECT 1 FROM idempotency_keys WHERE expires_at <= $1`, [now]);
      expect(expired).toHaveLength(0);
    });
  });

  describe('OpenAPI', () => {
    it('documents the Idempotency-Key header on every POST', async () => {
      const doc = (await http().get('/docs-json').expect(200)).body as {
        paths: Record<string, { post?: { parameters?: { in: string; name: string }[] } }>;
      };
      const posts = Object.entries(doc.paths).filter(([, item]) => item.post);
      expect(posts.map(([path]) => path)).toEqual(
        expect.arrayContaining([
          '/accounts',
          '/deposits',
          '/withdrawals',
          '/transfers',
          '/payments',
        ]),
      );
      for (const [path, item] of posts) {
        const headers = (item.post!.parameters ?? []).filter((p) => p.in === 'header');
        expect({ path, headers: headers.map((h) => h.name) }).toEqual({
          path,
          headers: expect.arrayContaining(['Idempotency-Key']),
        });
      }
    });
  });
});
