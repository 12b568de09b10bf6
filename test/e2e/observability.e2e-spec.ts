import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Controller, Get, Logger, Module } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { waitFor } from '../../scripts/lib/wait';
import { accountId, createAccount } from '../support/factories';
import { LogCapture } from '../support/log-capture';
import { createTestApp, type TestApp } from '../support/test-app';

/** Test-only routes: never part of the production app. */
@Controller('__observability_test__')
class ProbeController {
  private readonly logger = new Logger('Probe');

  constructor(private readonly dataSource: DataSource) {}

  @Get('boom')
  boom(): never {
    // What an unexpected failure may carry: SQL, a connection string, a stack.
    throw new Error(
      'relation "secret_table" does not exist (SELECT * FROM secret_table) at postgresql://app:hunter2@db:5432/ledger',
    );
  }

  /** Logs after a database round trip, to prove the request context survives awaits. */
  @Get('log')
  async log(): Promise<{ ok: true }> {
    await this.dataSource.query('SELECT 1');
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.logger.warn('probe inside a request');
    return { ok: true };
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// Prometheus text exposition format 0.0.4, one regex per kind of line.
const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
// A float as Go's ParseFloat reads it: NaN and Inf in any letter case (prom-client writes Nan).
const VALUE =
  '(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|[nN][aA][nN]|[+-]?[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)';
const HELP_LINE = new RegExp(`^# HELP (${METRIC_NAME}) .*$`);
const TYPE_LINE = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(
  `^(${METRIC_NAME})(\\{(?:${LABEL})(?:,${LABEL})*\\})? (${VALUE})(?: -?\\d+)?$`,
);

interface Scrape {
  /** `name{labels}` exactly as exposed → value. */
  samples: Map<string, number>;
  types: Map<string, string>;
  text: string;
}

/** Parses the exposition strictly: any line that is not HELP, TYPE, a sample or blank fails. */
function parsePrometheus(text: string): Scrape {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  const bad: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || HELP_LINE.test(line)) continue;
    const type = TYPE_LINE.exec(line);
    if (type) {
      types.set(type[1], type[2]);
      continue;
    }
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) {
      bad.push(line);
      continue;
    }
    const key = `${sample[1]}${sample[2] ?? ''}`;
    if (samples.has(key)) bad.push(`duplicate ${key}`);
    samples.set(key, Number(sample[3].replace(/inf(inity)?/i, 'Infinity').replace(/nan/i, 'NaN')));
  }
  expect(bad).toEqual([]);
  return { samples, types, text };
}

describe('observability: request ids, logs, metrics', () => {
  const logs = new LogCapture();
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      logs: logs.stream,
      imports: [ProbeModule],
      env: { CASHBACK_DELAY_MS: '0' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });
  const http = () => request(t.app.getHttpServer());
  const requestLine = (id: string) =>
    logs.waitFor((l) => l.requestId === id && l.msg === 'request completed');
  const scrape = async (): Promise<Scrape> => {
    const res = await http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(res.text);
  };

  describe('X-Request-Id and the request log line', () => {
    it('echoes a valid client id and logs the request under it', async () => {
      const res = await http().get('/health').set('X-Request-Id', 'obs-trace-1').expect(200);
      expect(res.headers['x-request-id']).toBe('obs-trace-1');
      const line = await requestLine('obs-trace-1');
      expect(line).toMatchObject({
        level: 'info',
        method: 'GET',
        route: '/health',
        status: 200,
        durationMs: expect.any(Number),
      });
      expect(line.durationMs).toBeGreaterThanOrEqual(0);
    });

    it('generates an id when none (or an invalid one) is sent, and logs that id', async () => {
      for (const sent of [undefined, 'bad id with spaces']) {
        const req = http().get('/health');
        if (sent) void req.set('X-Request-Id', sent);
        const res = await req.expect(200);
        const id = res.headers['x-request-id'];
        expect(id).toMatch(UUID);
        await requestLine(id);
      }
      expect(logs.lines.some((l) => JSON.stringify(l).includes('bad id with spaces'))).toBe(false);
    });

    it('logs the route pattern, never the raw URL with its ids', async () => {
      const id = accountId('secret-acc');
      await http().get(`/accounts/${id}`).set('X-Request-Id', 'obs-route-1').expect(404);
      const line = await requestLine('obs-route-1');
      expect(line).toMatchObject({ route: '/accounts/:accountId', status: 404 });
      expect(
        logs
          .forRequest('obs-route-1')
          .map((l) => JSON.stringify(l))
          .join(),
      ).not.toContain(id);
    });

    it('tags every line written while serving a request with its id (Nest logger too)', async () => {
      await http().get('/__observability_test__/log').set('X-Request-Id', 'obs-ctx-1').expect(200);
      await requestLine('obs-ctx-1');
      const probe = logs.lines.find((l) => l.msg === 'probe inside a request');
      expect(probe).toMatchObject({ level: 'warn', context: 'Probe', requestId: 'obs-ctx-1' });
    });

    it('writes one request line per request, none after the response has fully finished', async () => {
      // 'close' is the last event a response emits: by the time it has been handled (all its
      // listeners, then queued ticks and one turn of the event loop) a late duplicate line
      // would be in the capture.
      const server: Server = t.app.getHttpServer();
      const closed = new Promise<void>((resolve) => {
        const onRequest = (req: IncomingMessage, res: ServerResponse) => {
          if (req.headers['x-request-id'] !== 'obs-once-1') return;
          server.off('request', onRequest);
          res.once('close', () => resolve());
        };
        server.on('request', onRequest);
      });
      await http().get('/health').set('X-Request-Id', 'obs-once-1').expect(200);
      await requestLine('obs-once-1');
      await closed;
      await new Promise((resolve) => setImmediate(resolve));
      expect(
        logs.forRequest('obs-once-1').filter((l) => l.msg?.startsWith('request ')),
      ).toHaveLength(1);
    });
  });

  describe('a forced 500', () => {
    it('answers problem+json with the request id and no internals, and logs under that id', async () => {
      const res = await http()
        .get('/__observability_test__/boom')
        .set('X-Request-Id', 'obs-boom-1')
        .expect(500);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['x-request-id']).toBe('obs-boom-1');
      expect(res.body).toEqual({
        type: 'about:blank',
        title: 'Internal Server Error',
        status: 500,
        code: 'INTERNAL_ERROR',
        detail: expect.any(String),
        requestId: 'obs-boom-1',
      });
      for (const internal of ['secret_table', 'SELECT', 'hunter2', 'postgresql://', ' at ']) {
        expect(res.text).not.toContain(internal);
      }

      const line = await logs.waitFor((l) => l.requestId === 'obs-boom-1' && l.status === 500);
      expect(line).toMatchObject({ level: 'error', route: '/__observability_test__/boom' });
      const lines = logs.forRequest('obs-boom-1');
      const failure = lines.find((l) => l.context === 'ProblemDetailsFilter');
      expect(failure).toMatchObject({ level: 'error' });
      expect(JSON.stringify(failure)).toContain('secret_table');
      // The credentials inside the error never reach the log either.
      expect(JSON.stringify(lines)).not.toContain('hunter2');
    });
  });

  describe('GET /metrics', () => {
    it('serves valid Prometheus text with the documented metric families', async () => {
      await http().get('/health').expect(200);
      const { types, samples } = await scrape();
      expect(Object.fromEntries(types)).toMatchObject({
        http_requests_total: 'counter',
        http_request_duration_seconds: 'histogram',
        ledger_entries_posted_total: 'counter',
        ledger_cashbacks_settled_total: 'counter',
        ledger_transaction_retries_total: 'counter',
        ledger_idempotent_replays_total: 'counter',
        ledger_db_pool_connections: 'gauge',
        ledger_db_pool_idle_connections: 'gauge',
        ledger_db_pool_waiting_clients: 'gauge',
        process_cpu_user_seconds_total: 'counter',
        nodejs_heap_size_used_bytes: 'gauge',
      });
      expect(
        samples.get('http_requests_total{method="GET",route="/health",status="200"}'),
      ).toBeGreaterThanOrEqual(1);
      expect(samples.get('ledger_db_pool_connections')).toBeGreaterThanOrEqual(1);
      expect(samples.get('ledger_db_pool_max_connections')).toBe(10);
      expect(samples.get('ledger_transaction_retries_total{sqlstate="40P01"}')).toBe(0);
    });

    it('counts a transfer: entries by type, requests and latency by route pattern', async () => {
      const source = await createAccount(t, { initialDeposit: 1000 });
      const target = await createAccount(t);
      const before = (await scrape()).samples;
      const transfer = await http()
        .post('/transfers')
        .send({ sourceAccountId: source.accountId, targetAccountId: target.accountId, amount: 250 })
        .expect(201);
      const after = await scrape();
      const delta = (key: string) => (after.samples.get(key) ?? 0) - (before.get(key) ?? 0);
      expect(delta('ledger_entries_posted_total{type="TRANSFER_OUT"}')).toBe(1);
      expect(delta('ledger_entries_posted_total{type="TRANSFER_IN"}')).toBe(1);
      expect(delta('ledger_entries_posted_total{type="DEPOSIT"}')).toBe(0);
      expect(delta('http_requests_total{method="POST",route="/transfers",status="201"}')).toBe(1);
      expect(
        delta('http_request_duration_seconds_count{method="POST",route="/transfers",status="201"}'),
      ).toBe(1);
      expect(
        delta(
          'http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/transfers",status="201"}',
        ),
      ).toBe(1);
      // Label values are route patterns: no account id ever becomes a series.
      expect(after.text).not.toContain(source.accountId);
      expect(after.text).not.toContain(target.accountId);
      // Nor does any info log line carry the accounts or the money.
      await requestLine(transfer.headers['x-request-id']);
      const info = JSON.stringify(logs.lines.filter((l) => l.level === 'info'));
      expect(info).not.toContain(source.accountId);
      expect(info).not.toContain(target.accountId);
      expect(info).not.toMatch(/"(amount|balance|sourceBalance)"/);
    });

    it('counts responses replayed from an Idempotency-Key, and their movement once', async () => {
      const account = await createAccount(t);
      const replays = 'ledger_idempotent_replays_total{method="POST",route="/deposits"}';
      const deposits = 'ledger_entries_posted_total{type="DEPOSIT"}';
      const before = (await scrape()).samples;
      for (const replayed of [undefined, 'true']) {
        const res = await http()
          .post('/deposits')
          .set('Idempotency-Key', `obs-${account.accountId}`)
          .send({ accountId: account.accountId, amount: 500 })
          .expect(201);
        expect(res.headers['idempotent-replayed']).toBe(replayed);
      }
      const after = (await scrape()).samples;
      expect((after.get(replays) ?? 0) - (before.get(replays) ?? 0)).toBe(1);
      expect((after.get(deposits) ?? 0) - (before.get(deposits) ?? 0)).toBe(1);
    });

    it('counts a settled cashback', async () => {
      const account = await createAccount(t, { initialDeposit: 10_000 });
      const cashbacks = 'ledger_cashbacks_settled_total';
      const before = (await scrape()).samples.get(cashbacks) ?? 0;
      await http()
        .post('/payments')
        .send({ accountId: account.accountId, amount: 1000 })
        .expect(201);
      // Due at once (CASHBACK_DELAY_MS=0): the worker or the next touch settles it.
      const now = await waitFor(
        'the cashback to be counted',
        async () => {
          await http().get(`/accounts/${account.accountId}/balance`).expect(200);
          const value = (await scrape()).samples.get(cashbacks) ?? 0;
          return value === before ? undefined : value;
        },
        { timeoutMs: 20_000 },
      );
      expect(now).toBe(before + 1);
    });

    it('labels requests no route matched with one fixed value', async () => {
      await http().get('/no/such/route/42').expect(404);
      const { samples, text } = await scrape();
      expect(
        samples.get('http_requests_total{method="GET",route="(unmatched)",status="404"}'),
      ).toBeGreaterThanOrEqual(1);
      expect(text).not.toContain('/no/such/route');
    });

    it('is documented in the OpenAPI document', async () => {
      const res = await http().get('/docs-json').expect(200);
      expect(res.body.paths['/metrics']?.get?.responses?.['200']?.content).toHaveProperty(
        'text/plain',
      );
    });
  });
});
