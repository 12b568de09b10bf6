import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import type { App } from 'supertest/types';
import { waitFor } from '../../scripts/lib/wait';
import { DeliveryWorker } from '../../src/webhooks/delivery-worker';
import { createAccount } from '../support/factories';
import { createTestApp, ManualClock, TestApp } from '../support/test-app';

jest.setTimeout(120_000);

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * A local webhook receiver: records every request, and answers each path with what the test
 * sets (a status, or a promise to wait for first).
 */
class Receiver {
  readonly received: Received[] = [];
  private readonly answers = new Map<string, (n: number) => number | Promise<number>>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.received.push({
          path,
          headers: req.headers as Record<string, string>,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const n = this.received.filter((r) => r.path === path).length;
        void Promise.resolve((this.answers.get(path) ?? (() => 200))(n)).then((status) => {
          res.statusCode = status;
          res.end();
        });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  answer(path: string, status: (n: number) => number | Promise<number>): void {
    this.answers.set(path, status);
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

interface Endpoint {
  endpointId: string;
  url: string;
  eventTypes: string[];
  createdAt: number;
  secret?: string;
}
interface Delivery {
  eventId: string;
  attempts: number;
  status: string;
  lastStatusCode: number | null;
  lastAttemptAt: number | null;
  nextAttemptAt: number | null;
}

const server = (t: TestApp) => t.app.getHttpServer() as App;

async function register(t: TestApp, body: object): Promise<Endpoint> {
  return (await request(server(t)).post('/webhook-endpoints').send(body).expect(201))
    .body as Endpoint;
}

async function deliveries(t: TestApp, endpointId: string): Promise<Delivery[]> {
  const res = await request(server(t))
    .get(`/webhook-endpoints/${endpointId}/deliveries?limit=500`)
    .expect(200);
  return (res.body as { data: Delivery[] }).data;
}

describe('webhooks', () => {
  const clock = new ManualClock();
  const receiver = new Receiver();
  let t: TestApp;
  let worker: DeliveryWorker;
  beforeAll(async () => {
    await receiver.start();
    t = await createTestApp({
      clock,
      env: {
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
        // Driven by hand (runOnce), step by step; no timer.
        WEBHOOK_WORKER_INTERVAL_MS: '0',
        WEBHOOK_BACKOFF_BASE_MS: '1000',
        WEBHOOK_BACKOFF_MAX_MS: '4000',
        WEBHOOK_RETRY_WINDOW_MS: '60000',
      },
    });
    worker = t.app.get(DeliveryWorker);
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  /** Runs the worker until `check` holds (each round claims, enqueues and sends what is due). */
  async function deliverUntil(what: string, check: () => Promise<boolean> | boolean) {
    await waitFor(
      async () => {
        await worker.runOnce();
        return check();
      },
      { what, timeoutMs: 30_000, intervalMs: 10 },
    );
  }

  it('registers, lists, shows (without the secret) and deletes endpoints', async () => {
    const created = await register(t, { url: `${receiver.url}/crud` });
    expect(created).toEqual({
      endpointId: expect.stringMatching(/^we_[0-9a-f]{24}$/),
      url: `${receiver.url}/crud`,
      eventTypes: expect.arrayContaining(['account.created', 'transaction.posted']),
      createdAt: clock.now(),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+=*$/),
    });
    const { secret, ...shown } = created;
    expect(secret).toBeDefined();
    expect((await request(server(t)).get(`/webhook-endpoints/${created.endpointId}`)).body).toEqual(
      shown,
    );
    const list = (await request(server(t)).get('/webhook-endpoints').expect(200)).body as {
      data: Endpoint[];
    };
    expect(list.data).toContainEqual(shown);
    expect(list.data.every((e) => e.secret === undefined)).toBe(true);

    const typed = await register(t, {
      url: `${receiver.url}/typed`,
      eventTypes: ['transaction.posted'],
    });
    expect(typed.eventTypes).toEqual(['transaction.posted']);

    await request(server(t)).delete(`/webhook-endpoints/${created.endpointId}`).expect(204);
    await request(server(t)).delete(`/webhook-endpoints/${typed.endpointId}`).expect(204);
    for (const path of ['', '/deliveries']) {
      const res = await request(server(t))
        .get(`/webhook-endpoints/${created.endpointId}${path}`)
        .expect(404);
      expect(res.body).toMatchObject({ code: 'WEBHOOK_ENDPOINT_NOT_FOUND' });
    }
    await request(server(t)).delete(`/webhook-endpoints/${created.endpointId}`).expect(404);

    const bad = await request(server(t))
      .post('/webhook-endpoints')
      .send({ url: `${receiver.url}/x`, eventTypes: ['account.deleted'] })
      .expect(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    await request(server(t)).post('/webhook-endpoints').send({ url: 5 }).expect(400);
    await request(server(t))
      .post('/webhook-endpoints')
      .send({ url: `${receiver.url}/x`, eventTypes: [] })
      .expect(400);
  });

  it('replays POST /webhook-endpoints with the same Idempotency-Key (same endpoint, same secret)', async () => {
    const send = () =>
      request(server(t))
        .post('/webhook-endpoints')
        .set('Idempotency-Key', `we-${clock.now()}`)
        .send({ url: `${receiver.url}/idem` });
    const first = await send().expect(201);
    const again = await send().expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const [{ n }] = await t.sql<{ n: string }>(
      `SELECT count(*)::text AS n FROM webhook_endpoints WHERE url = $1`,
      [`${receiver.url}/idem`],
    );
    expect(n).toBe('1');
    await request(server(t))
      .delete(`/webhook-endpoints/${(first.body as Endpoint).endpointId}`)
      .expect(204);
  });

  it('signs each delivery so that the standardwebhooks package verifies it, and sends the event as GET /events shows it', async () => {
    const endpoint = await register(t, { url: `${receiver.url}/signed` });
    const account = await createAccount(t, { initialDeposit: 700 });
    await deliverUntil('two deliveries', () => receiver.at('/signed').length >= 2);
    const verifier = new Webhook(endpoint.secret!);
    const feed = (await request(server(t)).get(`/events?accountId=${account.accountId}`)).body as {
      data: unknown[];
    };
    const bodies = receiver.at('/signed').map((r) => {
      expect(r.headers['content-type']).toBe('application/json');
      expect(Number(r.headers['webhook-timestamp'])).toBe(Math.floor(clock.now() / 1000));
      const verified = verifier.verify(r.body, r.headers);
      expect(r.headers['webhook-id']).toBe((verified as { eventId: string }).eventId);
      return verified;
    });
    expect(bodies).toEqual(feed.data);
    // A tampered body or another secret does not verify.
    const first = receiver.at('/signed')[0];
    expect(() => verifier.verify(first.body.replace('700', '701'), first.headers)).toThrow();
    expect(() =>
      new Webhook('whsec_' + Buffer.from('another secret').toString('base64')).verify(
        first.body,
        first.headers,
      ),
    ).toThrow();
    expect((await deliveries(t, endpoint.endpointId)).map((d) => [d.status, d.attempts])).toEqual([
      ['DELIVERED', 1],
      ['DELIVERED', 1],
    ]);
    await request(server(t)).delete(`/webhook-endpoints/${endpoint.endpointId}`).expect(204);
  });

  it('retries after a 500 twice, with backoff, then DELIVERED; and in event order', async () => {
    receiver.answer('/flaky', (n) => (n <= 2 ? 500 : 200));
    const endpoint = await register(t, { url: `${receiver.url}/flaky` });
    const account = await createAccount(t, { initialDeposit: 100 });
    for (let i = 1; i <= 3; i++) {
      await request(server(t))
        .post('/deposits')
        .send({ accountId: account.accountId, amount: i })
        .expect(201);
    }
    await deliverUntil('a first attempt', () => receiver.at('/flaky').length === 1);
    let [head] = await deliveries(t, endpoint.endpointId);
    expect(head).toMatchObject({ status: 'PENDING', attempts: 1, lastStatusCode: 500 });
    // Retried after 500–1000 ms (first retry: base 1000 ms, jittered), not before.
    expect(head.nextAttemptAt! - head.lastAttemptAt!).toBeGreaterThanOrEqual(500);
    expect(head.nextAttemptAt! - head.lastAttemptAt!).toBeLessThanOrEqual(1000);
    await worker.runOnce();
    expect(receiver.at('/flaky')).toHaveLength(1); // not due yet: the endpoint waits, in order

    clock.advance(1000);
    await deliverUntil('a second attempt', () => receiver.at('/flaky').length === 2);
    [head] = await deliveries(t, endpoint.endpointId);
    expect(head).toMatchObject({ status: 'PENDING', attempts: 2, lastStatusCode: 500 });
    expect(head.nextAttemptAt! - head.lastAttemptAt!).toBeGreaterThanOrEqual(1000);
    expect(head.nextAttemptAt! - head.lastAttemptAt!).toBeLessThanOrEqual(2000);

    clock.advance(2000);
    await deliverUntil('all five delivered', async () =>
      (await deliveries(t, endpoint.endpointId)).every((d) => d.status === 'DELIVERED'),
    );
    const all = await deliveries(t, endpoint.endpointId);
    expect(all.map((d) => [d.status, d.attempts, d.lastStatusCode, d.nextAttemptAt])).toEqual([
      ['DELIVERED', 3, 200, null],
      ['DELIVERED', 1, 200, null],
      ['DELIVERED', 1, 200, null],
      ['DELIVERED', 1, 200, null],
      ['DELIVERED', 1, 200, null],
    ]);
    // The same event three times, then the others once each, in feed order.
    const ids = receiver.at('/flaky').map((r) => r.headers['webhook-id']);
    const feed = (
      (await request(server(t)).get(`/events?accountId=${account.accountId}`)).body as {
        data: { eventId: string }[];
      }
    ).data.map((e) => e.eventId);
    expect(feed).toHaveLength(5);
    expect(ids).toEqual([feed[0], feed[0], ...feed]);
    await request(server(t)).delete(`/webhook-endpoints/${endpoint.endpointId}`).expect(204);
  });

  it('gives up (FAILED) once the retry window has passed, and moves on to the next event', async () => {
    receiver.answer('/down', (n) => (n <= 2 ? 503 : 200));
    const endpoint = await register(t, {
      url: `${receiver.url}/down`,
      eventTypes: ['account.created'],
    });
    await createAccount(t);
    await deliverUntil('a first attempt', () => receiver.at('/down').length === 1);
    clock.advance(60_000); // the whole window (WEBHOOK_RETRY_WINDOW_MS) has passed
    await deliverUntil('a last attempt', () => receiver.at('/down').length === 2);
    await createAccount(t);
    await deliverUntil('the next event', () => receiver.at('/down').length === 3);
    expect((await deliveries(t, endpoint.endpointId)).map((d) => [d.status, d.attempts])).toEqual([
      ['FAILED', 2],
      ['DELIVERED', 1],
    ]);
    await request(server(t)).delete(`/webhook-endpoints/${endpoint.endpointId}`).expect(204);
  });

  it('fails a delivery whose event was purged before it could be sent', async () => {
    receiver.answer('/purged', () => 500);
    const endpoint = await register(t, {
      url: `${receiver.url}/purged`,
      eventTypes: ['account.created'],
    });
    await createAccount(t);
    await deliverUntil('a first attempt', () => receiver.at('/purged').length === 1);
    const [pending] = await deliveries(t, endpoint.endpointId);
    await t.sql(`DELETE FROM events WHERE event_id = $1`, [pending.eventId]);
    clock.advance(1000);
    await deliverUntil('the delivery given up', async () =>
      (await deliveries(t, endpoint.endpointId)).every((d) => d.status === 'FAILED'),
    );
    expect(receiver.at('/purged')).toHaveLength(1);
    expect((await deliveries(t, endpoint.endpointId))[0]).toMatchObject({
      attempts: 2,
      lastStatusCode: null,
    });
    await request(server(t)).delete(`/webhook-endpoints/${endpoint.endpointId}`).expect(204);
  });

  it('a slow endpoint does not delay another one', async () => {
    let release!: () => void;
    const released = new Promise<number>((resolve) => (release = () => resolve(200)));
    receiver.answer('/slow', () => released);
    const slow = await register(t, { url: `${receiver.url}/slow` });
    const fast = await register(t, { url: `${receiver.url}/fast` });
    await createAccount(t, { initialDeposit: 1 });
    await createAccount(t, { initialDeposit: 2 });
    const round = worker.runOnce(); // not awaited: the slow endpoint holds it
    await waitFor(() => receiver.at('/fast').length === 4 && receiver.at('/slow').length === 1, {
      what: 'the fast endpoint to get all four events while the slow one hangs on its first',
      timeoutMs: 30_000,
      intervalMs: 10,
    });
    await waitFor(
      async () => (await deliveries(t, fast.endpointId)).every((d) => d.status === 'DELIVERED'),
      { what: 'the fast deliveries recorded', timeoutMs: 30_000, intervalMs: 10 },
    );
    expect((await deliveries(t, slow.endpointId)).map((d) => d.status)).toEqual([
      'PENDING',
      'PENDING',
      'PENDING',
      'PENDING',
    ]);
    release();
    await round;
    await deliverUntil('the slow endpoint to catch up', () => receiver.at('/slow').length === 4);
    for (const e of [slow, fast]) {
      await request(server(t)).delete(`/webhook-endpoints/${e.endpointId}`).expect(204);
    }
  });

  it('two instances on one database share the endpoints without sending anything twice', async () => {
    const second = await createTestApp({
      clock,
      database: t.database,
      env: { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_WORKER_INTERVAL_MS: '0' },
    });
    try {
      const paths = ['/one', '/two', '/three', '/four'];
      const endpoints = [];
      for (const path of paths)
        endpoints.push(await register(t, { url: `${receiver.url}${path}` }));
      await Promise.all(Array.from({ length: 5 }, () => createAccount(t, { initialDeposit: 3 })));
      const workers = [worker, second.app.get(DeliveryWorker)];
      await waitFor(
        async () => {
          await Promise.all(workers.map((w) => w.runOnce()));
          return paths.every((p) => receiver.at(p).length >= 10);
        },
        { what: '10 events at each endpoint', timeoutMs: 30_000, intervalMs: 10 },
      );
      for (const path of paths) {
        const ids = receiver.at(path).map((r) => r.headers['webhook-id']);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toEqual([...ids].sort((a, b) => Number(a) - Number(b)));
      }
      for (const e of endpoints) {
        await request(server(t)).delete(`/webhook-endpoints/${e.endpointId}`).expect(204);
      }
    } finally {
      await second.close();
    }
  });
});

describe('the delivery worker on its interval', () => {
  const receiver = new Receiver();
  let t: TestApp;
  beforeAll(async () => {
    await receiver.start();
    t = await createTestApp({
      env: { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_WORKER_INTERVAL_MS: '20' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  it('delivers without being driven, and stops with the app', async () => {
    await register(t, { url: `${receiver.url}/auto`, eventTypes: ['account.created'] });
    const account = await createAccount(t);
    await waitFor(() => receiver.at('/auto').length === 1, {
      what: 'the worker to deliver on its own',
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    expect(JSON.parse(receiver.at('/auto')[0].body)).toMatchObject({
      type: 'account.created',
      data: account,
    });
  });
});

describe('webhook URLs (private targets not allowed)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { WEBHOOK_WORKER_INTERVAL_MS: '0' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    'http://localhost:8080/hook',
    'http://127.0.0.1/hook',
    'http://127.1.2.3:9/hook',
    'http://[::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://10.1.2.3/hook',
    'http://172.16.0.1/hook',
    'http://192.168.1.1/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://[fe80::1]/hook',
    'http://[fd00::1]/hook',
    'http://0.0.0.0/hook',
    'ftp://93.184.216.34/hook',
    'file:///etc/passwd',
    'not a url',
    'http://user:pw@93.184.216.34/hook',
  ])('refuses %s with 422 URL_NOT_ALLOWED', async (url) => {
    const res = await request(t.app.getHttpServer() as App)
      .post('/webhook-endpoints')
      .send({ url })
      .expect(422);
    expect(res.body).toMatchObject({ code: 'URL_NOT_ALLOWED', status: 422 });
  });

  it('accepts a public address (nothing is sent at registration)', async () => {
    await request(t.app.getHttpServer() as App)
      .post('/webhook-endpoints')
      .send({ url: 'https://93.184.216.34/hook' })
      .expect(201);
  });
});
