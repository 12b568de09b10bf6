import { connect, type AddressInfo } from 'node:net';
import { METHODS } from 'node:http';
import fc from 'fast-check';
import { ledgerViolations } from '../support/ledger-invariants';
import { createTestApp, TestApp } from '../support/test-app';
import { call, CallOptions, isProblem, Reply } from './support/http';

/**
 * Hostile input, property-based: whatever arrives — any method on any route, ids and query
 * strings full of SQL, path tricks and unicode, bodies that are random JSON, not JSON, wrongly
 * typed, huge, odd headers — the service never answers 5xx, answers every error as
 * problem+json, and a rejected request changes nothing. In-process (createTestApp) and over
 * real HTTP on 127.0.0.1, so the whole pipeline (body parser, routing, pipes, filter) is hit.
 */

// Every method Node's HTTP parser accepts, except CONNECT (a tunnel, not a request).
const ALL_METHODS = METHODS.filter((m) => m !== 'CONNECT');

const FIXTURE = { usdA: 'fx-usd-a', usdB: 'fx-usd-b', eur: 'fx-eur', empty: 'fx-empty' };
const SQL = [
  "' OR '1'='1",
  '1; DROP TABLE accounts; --',
  "') UNION SELECT account_id, balance FROM accounts --",
  "fx-usd-a' --",
  '"; DELETE FROM ledger_transactions; --',
  "1' AND pg_sleep(5) --",
  '$1',
  "'; UPDATE accounts SET balance = 0; --",
];
const PATHY = [
  '..',
  '../..',
  '../../etc/passwd',
  '%2e%2e%2f',
  '%2F',
  '%00',
  '%',
  '%zz',
  '%E0%A4%A',
  '~',
  '.',
  '//',
  'a/b',
  '%2Faccounts',
  ';',
  '%3B',
  '%20',
  '+',
  '*',
  '%ff%fe',
];
const NUMBERISH = [
  '0',
  '-1',
  '1',
  '500',
  '501',
  '1e3',
  '0x10',
  '5.0',
  'NaN',
  'Infinity',
  '-0',
  '9007199254740991',
  '9007199254740993',
  '99999999999999999999999999',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
];
const cursor = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const CURSORS = [
  cursor([1e308, '1']),
  Buffer.from('[9007199254740993,"99999999999999999999"]', 'utf8').toString('base64url'),
  cursor([-1, '1']),
  cursor([0, "'; DROP TABLE accounts; --"]),
  cursor([1, 2, 3]),
  cursor({ a: 1 }),
  cursor('x'.repeat(400)),
  'not-a-cursor',
  'A'.repeat(600),
];

/**
 * Visible ASCII: what a request line may carry unescaped. (Raw bytes ≥ 0x80 in the request
 * target are not HTTP; Node's parser refuses them before the app sees the request — the
 * 'malformed HTTP' test covers those.) Header values may also carry latin-1 bytes.
 */
const rawChar = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const rawString = (maxLength: number) => fc.string({ unit: rawChar, maxLength });
const headerChar = fc
  .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
  .map((c) => String.fromCharCode(c));

const idSegment: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      ...Object.values(FIXTURE),
      'payment1',
      'payment0',
      'payment-1',
      'payment99999999999999999999',
      'no-such-account',
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom(...SQL).map(encodeURIComponent) },
  { weight: 2, arbitrary: fc.constantFrom(...PATHY) },
  { weight: 1, arbitrary: fc.constantFrom(...NUMBERISH) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map(encodeURIComponent) },
  { weight: 2, arbitrary: rawString(40).map((s) => s.replace(/[?#]/g, '')) },
  { weight: 1, arbitrary: fc.string({ minLength: 60, maxLength: 400 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.uuid() },
);

const queryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...NUMBERISH),
  fc.constantFrom(...CURSORS),
  fc.constantFrom(...SQL).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 60 }).map(encodeURIComponent),
  rawString(30).map((s) => s.replace(/[#&]/g, '')),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.integer().map(String),
);
const queryString: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  {
    weight: 5,
    arbitrary: fc
      .array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom('limit', 'cursor', 'at', 'timestamp', 'limit[]', 'at[x]', '__proto__'),
            rawString(10),
          ),
          queryValue,
        ),
        { minLength: 1, maxLength: 4 },
      )
      .map((pairs) => `?${pairs.map(([k, v]) => `${k.replace(/[#&=]/g, '')}=${v}`).join('&')}`),
  },
);

const path: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 0, max: 19 }), idSegment, idSegment, queryString)
  .map(([route, a, b, query]) => {
    const routes = [
      '/health',
      '/accounts',
      `/accounts/${a}`,
      `/accounts/${a}/balance`,
      `/accounts/${a}/transactions`,
      '/deposits',
      '/withdrawals',
      '/transfers',
      '/payments',
      `/payments/${a}`,
      `/transactions/${a}`,
      '/audit',
      '/metrics',
      '/docs-json',
      `/${a}`,
      `/accounts/${a}/${b}`,
      `/${a}/${b}`,
      '/',
      '/api/accounts',
      `/deposits/${a}`,
    ];
    return `${routes[route]}${query}`;
  });

/** Values that are almost, or not at all, what a field wants. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1,
    1.5,
    0.1,
    1e15,
    1e15 + 1,
    2 ** 53 - 1,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 53),
    1e308,
    Number.MIN_VALUE,
    '100',
    '1e3',
    '',
    ' ',
    null,
    true,
    false,
    [],
    {},
    [1],
    { amount: 1 },
    'USD',
    'usd',
    'XXXX',
    'EUR',
  ),
  fc.constantFrom(...Object.values(FIXTURE), ...SQL, ...PATHY),
  fc.integer(),
  fc.integer({ min: 1, max: 1_000_000 }),
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 100 }),
);
const fieldName = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom(
      'accountId',
      'sourceAccountId',
      'targetAccountId',
      'amount',
      'currency',
      'initialDeposit',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'paymentId',
      'balance',
      'id',
      'createdAt',
      'timestamp',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);
const objectBody = fc.dictionary(fieldName, hostileValue, { maxKeys: 5 });

/** The body as raw bytes/text: JSON of every kind, JSON a JS serializer cannot make, not JSON. */
const rawBody: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: objectBody.map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...Object.values(FIXTURE)),
        fc.constantFrom(
          '123456789012345678901234567890',
          '1e400',
          '-1e400',
          '-0',
          '1.0',
          '1E2',
          '0.000001',
          '00001',
          '9007199254740993',
        ),
      )
      .map(
        ([id, n]) =>
          `{"accountId":"${id}","sourceAccountId":"${FIXTURE.usdA}","targetAccountId":"${id}","amount":${n}}`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      `{"accountId":"${FIXTURE.usdA}","amount":1,"amount":"x"}`,
      `{"amount":1}garbage`,
      '{"a":',
      "{'a':1}",
      'undefined',
      'NaN',
      '\uFEFF{"amount":1}',
      'accountId=fx-usd-a&amount=1',
      '<xml/>',
      '[]',
      '""',
      'null',
      'true',
      '1',
      '['.repeat(5000) + ']'.repeat(5000),
      '{"a":'.repeat(3000) + '1' + '}'.repeat(3000),
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)) },
  {
    weight: 1,
    arbitrary: fc.constant(
      JSON.stringify({ accountId: FIXTURE.usdA, amount: 1, pad: 'x'.repeat(1_100_000) }),
    ),
  },
);

const headerValue = fc
  .string({ unit: headerChar, maxLength: 60 })
  .map((s) => s.trim())
  .filter((s) => s.length > 0);
const headers: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    'content-type': fc.oneof(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'application/json; charset=latin1',
        'application/json; charset=utf-16',
        'application/json; charset=bogus',
        'application/problem+json',
        'application/merge-patch+json',
        'text/plain',
        'text/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=xyz',
        '*/*',
        'application/json, text/plain',
      ),
      headerValue,
    ),
    'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress', 'x-bogus'),
    'x-request-id': fc.oneof(
      headerValue,
      fc.constantFrom('x'.repeat(500), '../../etc', "' OR 1=1 --", 'valid-id-1'),
    ),
    'idempotency-key': fc.oneof(headerValue, fc.constantFrom('k'.repeat(300), "' OR 1=1 --")),
    accept: fc.constantFrom(
      'text/html',
      'application/xml',
      '*/*',
      'application/json;q=0',
      'nothing/at-all',
    ),
    'accept-encoding': fc.constantFrom('gzip', 'br', 'identity;q=0, *;q=0'),
    'x-forwarded-for': fc.constantFrom("' OR 1=1", '1.2.3.4, ::1'),
    'if-none-match': fc.constantFrom('*', 'W/"x"'),
    range: fc.constantFrom('bytes=0-1', 'bytes=-1'),
    cookie: headerValue,
    authorization: fc.constantFrom('Bearer x', "Basic ' OR 1=1"),
  },
  { requiredKeys: [] },
);

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST') },
  { weight: 2, arbitrary: fc.constantFrom(...ALL_METHODS) },
);

describe('hostile input', () => {
  let t: TestApp;
  let base: string;
  let last: string;
  const stats = new Map<number, number>();

  /** Everything a request could change: accounts, balances, entries, payments. */
  async function state(): Promise<string> {
    const [row] = await t.sql<{ state: string }>(`
      SELECT (SELECT count(*) FROM accounts) || '/' ||
             (SELECT count(*) FROM ledger_transactions) || '/' ||
             (SELECT count(*) FROM payments) || '/' ||
             (SELECT count(*) FROM scheduled_credits WHERE settled_at IS NOT NULL) || '/' ||
             (SELECT md5(COALESCE(string_agg(account_id || '=' || balance, ',' ORDER BY account_id), ''))
                FROM accounts) AS state`);
    return row.state;
  }

  async function send(m: string, p: string, options: CallOptions = {}): Promise<Reply> {
    return call(base, m, p, { timeoutMs: 30_000, ...options });
  }

  /** The invariants every single response must satisfy. */
  async function check(m: string, p: string, reply: Reply): Promise<void> {
    stats.set(reply.status, (stats.get(reply.status) ?? 0) + 1);
    const where = `${m} ${p.slice(0, 200)} → ${reply.status} ${reply.text.slice(0, 300)} ${reply.error ?? ''}`;
    if (reply.status === 0 || reply.status >= 500)
      throw new Error(`no 5xx or dropped connection: ${where}`);
    if (!reply.headers['x-request-id']) throw new Error(`no X-Request-Id: ${where}`);
    if (reply.status >= 400) {
      const problem =
        m === 'HEAD'
          ? String(reply.headers['content-type']).startsWith('application/problem+json')
          : isProblem(reply);
      if (!problem) throw new Error(`not problem+json: ${where}`);
    }
    const now = await state();
    if (reply.status >= 400 && now !== last) {
      throw new Error(`a rejected request changed the data (${last} → ${now}): ${where}`);
    }
    last = now;
  }

  beforeAll(async () => {
    t = await createTestApp();
    const server = t.app.getHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const open = async (accountId: string, currency: string, initialDeposit: number) => {
      const r = await send('POST', '/accounts', { body: { accountId, currency, initialDeposit } });
      expect(r.status).toBe(201);
    };
    await open(FIXTURE.usdA, 'USD', 1_000_000);
    await open(FIXTURE.usdB, 'USD', 1_000_000);
    await open(FIXTURE.eur, 'EUR', 1_000);
    await open(FIXTURE.empty, 'USD', 0);
    expect(
      (await send('POST', '/payments', { body: { accountId: FIXTURE.usdA, amount: 500 } })).status,
    ).toBe(201);
    last = await state();
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(async () => {
    expect(await ledgerViolations(t)).toEqual([]);
  });

  it('every method on every route: never a 5xx, errors always problem+json', async () => {
    const paths = [
      '/health',
      '/accounts',
      `/accounts/${FIXTURE.usdA}`,
      `/accounts/${FIXTURE.usdA}/balance`,
      `/accounts/${FIXTURE.usdA}/transactions`,
      '/deposits',
      '/withdrawals',
      '/transfers',
      '/payments',
      '/payments/payment1',
      '/transactions/0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10',
      '/audit',
      '/metrics',
      '/docs-json',
      '/nowhere',
    ];
    for (const p of paths) {
      for (const m of ALL_METHODS) {
        await check(
          m,
          p,
          await send(m, p, {
            raw: '{"accountId":"fx-usd-a","amount":1}garbage',
            headers: { 'content-type': 'application/json' },
          }),
        );
        await check(m, p, await send(m, p));
      }
    }
  });

  it('malformed HTTP: 400 problem+json before the app, never a 5xx, nothing changed', async () => {
    // Node's HTTP parser refuses these before any middleware runs; the service answers them
    // (src/common/http/client-error.ts) in the contract's shape and closes the connection.
    const port = new URL(base).port;
    const raw = [
      Buffer.concat([
        Buffer.from('GET /transfers?'),
        Buffer.from([0xfa]),
        Buffer.from('=1 HTTP/1.1\r\nHost: x\r\n\r\n'),
      ]),
      Buffer.from('POST /deposits HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}'),
      Buffer.from(
        'POST /deposits HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ),
      Buffer.from('GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n'),
      Buffer.from('GARBAGE\r\n\r\n'),
      Buffer.from('GET /health HTTP/9.9\r\n\r\n'),
    ];
    for (const bytes of raw) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        let text = '';
        socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
        socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
        socket.on('error', reject);
        socket.on('close', () => resolve(text));
        socket.end(bytes);
      });
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = body;
      }
      expect({
        request: bytes.toString('latin1'),
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]),
        problemJson: /\r\ncontent-type: application\/problem\+json/i.test(head),
        body: parsed,
      }).toEqual({
        request: bytes.toString('latin1'),
        status: 400,
        problemJson: true,
        body: expect.objectContaining({ status: 400, code: expect.any(String) }),
      });
    }
    expect(await state()).toBe(last);
    expect((await send('GET', '/health')).status).toBe(200);
  });

  it('random requests (methods, paths, query strings, headers, bodies)', async () => {
    await fc.assert(
      fc.asyncProperty(method, path, rawBody, headers, async (m, p, raw, h) => {
        await check(m, p, await send(m, p, { raw, headers: h }));
      }),
      { numRuns: 1500, timeout: 60_000 },
    );
  });

  it('money endpoints with almost-valid JSON bodies of hostile values', async () => {
    const target = fc.constantFrom(
      '/accounts',
      '/deposits',
      '/withdrawals',
      '/transfers',
      '/payments',
    );
    const body = fc.oneof(
      objectBody,
      fc.record(
        {
          accountId: fc.oneof(fc.constantFrom(...Object.values(FIXTURE)), hostileValue),
          sourceAccountId: fc.oneof(fc.constantFrom(...Object.values(FIXTURE)), hostileValue),
          targetAccountId: fc.oneof(fc.constantFrom(...Object.values(FIXTURE)), hostileValue),
          amount: hostileValue,
          currency: hostileValue,
          initialDeposit: hostileValue,
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(target, body, async (p, b) => {
        await check('POST', p, await send('POST', p, { body: b }));
      }),
      { numRuns: 1500, timeout: 60_000 },
    );
    const audit = await send('GET', '/audit');
    expect(audit.body).toMatchObject({ ok: true, mismatches: [] });
    console.log(`hostile input: responses by status ${JSON.stringify(Object.fromEntries(stats))}`);
  });
});
