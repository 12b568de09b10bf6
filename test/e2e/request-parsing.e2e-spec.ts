import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { accountId, balanceOf, createAccount } from '../support/factories';
import { createTestApp, TestApp } from '../support/test-app';

const PROBLEM = /^application\/problem\+json/;

interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

describe('request parsing (issues #14, #15)', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp();
    const server = t.app.getHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t?.close();
  });
  const http = () => request(t.app.getHttpServer());

  /** A request with exactly these headers and bytes: no client adds a Content-Type. */
  function raw(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: Buffer | string,
  ): Promise<RawReply> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
          }),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async function accountCount(): Promise<number> {
    const [row] = await t.sql<{ n: string }>('SELECT count(*) AS n FROM accounts');
    return Number(row.n);
  }

  describe('415 for a body that is not application/json in UTF-8', () => {
    it('text/plain on POST /accounts: 415 naming application/json, and no account', async () => {
      const id = accountId('tp');
      const before = await accountCount();
      const res = await http()
        .post('/accounts')
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify({ accountId: id }))
        .expect(415);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
      expect(res.body.detail).toContain('application/json');
      expect(await accountCount()).toBe(before);
      await http().get(`/accounts/${id}`).expect(404);
    });

    it("a body without Content-Type, or curl's default form type, is 415 too", async () => {
      const account = await createAccount(t, { initialDeposit: 100 });
      const body = JSON.stringify({ accountId: account.accountId, amount: 5 });
      const none = await raw('POST', '/deposits', { 'content-length': String(body.length) }, body);
      expect(none).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
      const form = await raw(
        'POST',
        '/deposits',
        { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      );
      expect(form).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
      expect(form.body.detail).toContain('application/json');
      expect(await balanceOf(t, account.accountId)).toBe(100);
    });

    it('a POST without a body on an endpoint whose body is optional is still valid', async () => {
      const res = await raw('POST', '/accounts', {});
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ balance: 0, currency: 'USD' });
    });

    it.each([
      ['UTF-16LE with charset', 'utf-16le', 'application/json; charset=utf-16'],
      ['UTF-16LE with a BOM, no charset', 'bom', 'application/json'],
      ['UTF-16LE without BOM or charset', 'utf-16le', 'application/json'],
      ['Latin-1 bytes', 'latin1', 'application/json'],
      ['UTF-8 bytes labelled latin1', 'utf8', 'application/json; charset=latin1'],
    ])('%s: 415, no money moved', async (_name, encoding, contentType) => {
      const account = await createAccount(t, { initialDeposit: 100 });
      const text = `{"accountId":"${account.accountId}","amount":5}`;
      const bytes =
        encoding === 'bom'
          ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])
          : encoding === 'latin1'
            ? Buffer.from(text.replace('}', ',"x":"é"}'), 'latin1')
            : Buffer.from(text, encoding as BufferEncoding);
      const res = await raw('POST', '/deposits', { 'content-type': contentType }, bytes);
      expect(res).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
      expect(await balanceOf(t, account.accountId)).toBe(100);
    });

    it.each(['br', 'gzip', 'x-bogus'])(
      'Content-Encoding %s on a plain body: 415, never a VALIDATION_FAILED',
      async (encoding) => {
        const account = await createAccount(t, { initialDeposit: 100 });
        const res = await raw(
          'POST',
          '/deposits',
          { 'content-type': 'application/json', 'content-encoding': encoding },
          JSON.stringify({ accountId: account.accountId, amount: 5 }),
        );
        expect(res).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
        expect(await balanceOf(t, account.accountId)).toBe(100);
      },
    );
  });

  describe('JSON that is not what the API reads', () => {
    it.each(['null', '"x"', '[]', '1', 'true'])(
      'valid JSON that is not an object (%s) is 400 VALIDATION_FAILED with errors[]',
      async (body) => {
        const res = await http()
          .post('/deposits')
          .set('Content-Type', 'application/json')
          .send(body)
          .expect(400);
        expect(res.body).toMatchObject({
          code: 'VALIDATION_FAILED',
          errors: [{ field: 'body', message: 'body must be a JSON object' }],
        });
        expect(res.body.detail).not.toMatch(/not valid JSON/);
      },
    );

    it.each([
      ['different values', '{"accountId":"%ID%","amount":1,"amount":999}'],
      ['the same value', '{"accountId":"%ID%","amount":7,"amount":7}'],
      ['in a nested object', '{"accountId":"%ID%","amount":7,"x":{"a":1,"a":2}}'],
    ])('a key given twice (%s) is 400 MALFORMED_JSON, nothing booked', async (_name, body) => {
      const account = await createAccount(t, { initialDeposit: 100 });
      const res = await http()
        .post('/deposits')
        .set('Content-Type', 'application/json')
        .send(body.replace('%ID%', account.accountId))
        .expect(400);
      expect(res.body).toMatchObject({ code: 'MALFORMED_JSON' });
      expect(await balanceOf(t, account.accountId)).toBe(100);
    });

    it.each(['0.99999999999999999', '999999999999999.99', '1.0', '1e2', '1E2', '5.00', '-0.0'])(
      'amount %s is not an integer literal: 400 VALIDATION_FAILED on amount, never rounded',
      async (literal) => {
        const account = await createAccount(t, { initialDeposit: 100 });
        const res = await http()
          .post('/deposits')
          .set('Content-Type', 'application/json')
          .send(`{"accountId":"${account.accountId}","amount":${literal}}`)
          .expect(400);
        expect(res.body).toMatchObject({
          code: 'VALIDATION_FAILED',
          errors: [{ field: 'amount', message: 'amount must be an integer number of minor units' }],
        });
        expect(await balanceOf(t, account.accountId)).toBe(100);
      },
    );

    it('an integer literal is still booked exactly', async () => {
      const account = await createAccount(t, { initialDeposit: 100 });
      await http()
        .post('/deposits')
        .set('Content-Type', 'application/json')
        .send(`{"accountId":"${account.accountId}","amount":999999999999999}`)
        .expect(201);
      expect(await balanceOf(t, account.accountId)).toBe(100 + 999_999_999_999_999);
    });

    it.each(['toString', 'constructor', '__proto__', 'valueOf', 'hasOwnProperty', 'foo'])(
      'an undefined field named %s is 400 and books nothing',
      async (name) => {
        const account = await createAccount(t, { initialDeposit: 100 });
        const res = await http()
          .post('/deposits')
          .set('Content-Type', 'application/json')
          .send(`{"accountId":"${account.accountId}","amount":5,"${name}":1}`)
          .expect(400);
        expect(res.body).toMatchObject({
          code: 'VALIDATION_FAILED',
          errors: [{ field: name, message: `property ${name} should not exist` }],
        });
        expect(await balanceOf(t, account.accountId)).toBe(100);
      },
    );

    it('an undefined query parameter named like a prototype member is 400', async () => {
      const res = await http().get('/accounts?toString=1').expect(400);
      expect(res.body.errors).toEqual([
        { field: 'toString', message: 'property toString should not exist' },
      ]);
    });
  });

  describe('each message names the rule the value broke', () => {
    it('GET /accounts?limit=-1: only the lower bound', async () => {
      const res = await http().get('/accounts?limit=-1').expect(400);
      expect(res.body.errors).toEqual([
        { field: 'limit', message: 'limit must not be less than 1' },
      ]);
    });

    it('a missing amount: "is required", once', async () => {
      const res = await http().post('/deposits').send({ accountId: 'bob' }).expect(400);
      expect(res.body.errors).toEqual([{ field: 'amount', message: 'amount is required' }]);
    });

    it('a string amount: only the type rule', async () => {
      const res = await http()
        .post('/deposits')
        .send({ accountId: 'bob', amount: 'x' })
        .expect(400);
      expect(res.body.errors).toEqual([
        { field: 'amount', message: 'amount must be an integer number of minor units' },
      ]);
    });

    it('an amount of 0: only the lower bound', async () => {
      const res = await http().post('/deposits').send({ accountId: 'bob', amount: 0 }).expect(400);
      expect(res.body.errors).toEqual([{ field: 'amount', message: 'amount must be at least 1' }]);
    });
  });

  describe('405 for a method the path does not support', () => {
    it.each([
      ['PUT', '/accounts', ['GET', 'POST']],
      ['DELETE', '/accounts/alice', ['GET']],
      ['PATCH', '/deposits', ['POST']],
    ])('%s %s: 405 METHOD_NOT_ALLOWED with Allow', async (method, path, allowed) => {
      const res = await raw(method, path, {});
      expect(res.status).toBe(405);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.headers['x-request-id']).toBeDefined();
      expect(res.body).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED' });
      const allow = String(res.headers.allow).split(', ');
      expect(allow).toEqual(expect.arrayContaining(allowed));
      expect(allow).not.toContain(method);
    });

    it('a URL the router cannot decode is a problem+json 400 with a request id', async () => {
      const res = await raw('GET', '/accounts/%zz?limit=0', {});
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.headers['x-request-id']).toBeDefined();
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'url' }] });
    });

    it('an unknown path is still 404 ROUTE_NOT_FOUND', async () => {
      const res = await raw('PUT', '/no/such/route', {});
      expect(res).toMatchObject({ status: 404, body: { code: 'ROUTE_NOT_FOUND' } });
      expect(res.headers.allow).toBeUndefined();
    });
  });
});
