import request from 'supertest';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../src/database/data-source-options';
import { runMigrations } from '../../src/database/migrate';
import { createTestApp, TestApp } from '../support/test-app';

const PROBLEM = /application\/problem\+json/;

describe('foundation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });
  const http = () => request(t.app.getHttpServer());

  describe('GET /health', () => {
    it('answers 200 ok/up when the database answers', async () => {
      const res = await http().get('/health').expect(200);
      expect(res.body).toEqual({ status: 'ok', database: 'up' });
    });
  });

  describe('docs', () => {
    it('serves Swagger UI at /docs', async () => {
      const res = await http().get('/docs').expect(200);
      expect(res.text).toContain('swagger-ui');
    });

    it('serves the OpenAPI document with the service title and version', async () => {
      const res = await http().get('/docs-json').expect(200);
      expect(res.body.openapi).toMatch(/^3\./);
      expect(res.body.info).toMatchObject({ title: 'Banking Ledger API', version: '1.0.0' });
      expect(res.body.info.description).toEqual(expect.any(String));
      expect(res.body.paths['/health']).toBeDefined();
    });
  });

  describe('error shapes', () => {
    it('unknown route → 404 ROUTE_NOT_FOUND problem+json', async () => {
      const res = await http().get('/no/such/route').expect(404);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toEqual({
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        code: 'ROUTE_NOT_FOUND',
        detail: expect.any(String),
      });
    });

    it('malformed JSON → 400 MALFORMED_JSON', async () => {
      const res = await http()
        .post('/accounts')
        .set('Content-Type', 'application/json')
        .send('{"accountId": ')
        .expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 400, code: 'MALFORMED_JSON', title: 'Bad Request' });
    });

    it('body over 1 MB → 413 PAYLOAD_TOO_LARGE', async () => {
      const big = JSON.stringify({ accountId: 'x', pad: 'a'.repeat(1024 * 1024 + 10) });
      const res = await http()
        .post('/accounts')
        .set('Content-Type', 'application/json')
        .send(big)
        .expect(413);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    });

    it.each(['/accounts', '/deposits', '/withdrawals', '/transfers', '/payments'])(
      'a body nested thousands of levels deep → 400 VALIDATION_FAILED on POST %s',
      async (path) => {
        const deepArray = '['.repeat(5000) + ']'.repeat(5000);
        const deepObject = '{"amount":'.repeat(3000) + '1' + '}'.repeat(3000);
        for (const body of [deepArray, deepObject]) {
          const res = await http()
            .post(path)
            .set('Content-Type', 'application/json')
            .send(body)
            .expect(400);
          expect(res.headers['content-type']).toMatch(PROBLEM);
          expect(res.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
          expect(res.body.detail).toMatch(/deeper than 32 levels/);
        }
      },
    );

    it('a body exactly 32 levels deep still reaches validation', async () => {
      const body = '{"accountId":'.repeat(31) + '[]' + '}'.repeat(31);
      const res = await http()
        .post('/accounts')
        .set('Content-Type', 'application/json')
        .send(body)
        .expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.detail).not.toMatch(/deeper than/);
    });

    it('every response carries X-Request-Id, echoing a valid client id', async () => {
      const generated = await http().get('/health');
      expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const echoed = await http().get('/health').set('X-Request-Id', 'client-trace-42');
      expect(echoed.headers['x-request-id']).toBe('client-trace-42');
      const invalid = await http().get('/health').set('X-Request-Id', 'bad id with spaces');
      expect(invalid.headers['x-request-id']).not.toBe('bad id with spaces');
    });
  });

  describe('schema', () => {
    it('refuses UPDATE, DELETE and TRUNCATE on ledger_transactions', async () => {
      await t.sql(`INSERT INTO accounts (account_id, created_at, balance) VALUES ('trg', 1, 5)`);
      await t.sql(
        `INSERT INTO ledger_transactions (movement_id, account_id, timestamp, operation, amount, balance_after)
         VALUES (gen_random_uuid(), 'trg', 1, 'DEPOSIT', 5, 5)`,
      );
      await expect(t.sql(`UPDATE ledger_transactions SET amount = 6`)).rejects.toThrow(
        /append-only/,
      );
      await expect(t.sql(`DELETE FROM ledger_transactions`)).rejects.toThrow(/append-only/);
      await expect(t.sql(`TRUNCATE ledger_transactions CASCADE`)).rejects.toThrow(/append-only/);
      const rows = await t.sql(`SELECT amount FROM ledger_transactions WHERE account_id = 'trg'`);
      expect(rows).toEqual([{ amount: '5' }]);
    });

    it('enforces the balance and amount CHECK constraints', async () => {
      await expect(
        t.sql(`INSERT INTO accounts (account_id, created_at, balance) VALUES ('neg', 1, -1)`),
        // Either CHECK refuses it: below −overdraft_limit is also a negative available balance.
      ).rejects.toThrow(/chk_accounts_(balance|available)/);
      await expect(
        t.sql(
          `INSERT INTO ledger_transactions (movement_id, account_id, timestamp, operation, amount, balance_after)
           VALUES (gen_random_uuid(), 'trg', 1, 'DEPOSIT', 0, 5)`,
        ),
      ).rejects.toThrow(/chk_ledger_amount_nonzero/);
    });

    it('applying the migrations again is a no-op', async () => {
      const before = await t.sql(`SELECT name FROM typeorm_migrations ORDER BY id`);
      expect(before.length).toBeGreaterThanOrEqual(3);
      const ds = await new DataSource(
        buildDataSourceOptions(t.database.url, { size: 4 }),
      ).initialize();
      try {
        expect(await runMigrations(ds)).toEqual([]);
        // Two instances starting at once: the advisory lock serializes them, neither fails.
        const again = await Promise.all([runMigrations(ds), runMigrations(ds)]);
        expect(again).toEqual([[], []]);
      } finally {
        await ds.destroy();
      }
      expect(await t.sql(`SELECT name FROM typeorm_migrations ORDER BY id`)).toEqual(before);
    });
  });
});
