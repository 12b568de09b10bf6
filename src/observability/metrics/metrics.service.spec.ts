import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';
import type { RetryListener, TransactionRunner } from '../../database/transaction-runner';
import { MetricsService } from './metrics.service';

function setup(
  pool: unknown = { totalCount: 4, idleCount: 1, waitingCount: 2, options: { max: 10 } },
) {
  let retried: RetryListener = () => undefined;
  const transactions = {
    onRetry: (l: RetryListener) => (retried = l),
  } as unknown as TransactionRunner;
  const dataSource = { isInitialized: true, driver: { master: pool } } as unknown as DataSource;
  const metrics = new MetricsService(transactions, dataSource);
  metrics.declareEntryTypes(['DEPOSIT', 'TRANSFER_OUT', 'TRANSFER_IN', 'CASHBACK']);
  return {
    metrics,
    retry: (s: string) => retried(s),
  };
}

async function value(metrics: MetricsService, name: string, labels: Record<string, string> = {}) {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const sample = metric?.values.find((v) =>
    Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  );
  return sample?.value;
}

describe('MetricsService', () => {
  it('keeps a registry per instance: two apps in one process do not collide', () => {
    expect(() => [setup(), setup()]).not.toThrow();
  });

  it('counts posted entries by type and CASHBACK lines as cashbacks settled', async () => {
    const { metrics } = setup();
    metrics.countEntries(['TRANSFER_OUT', 'TRANSFER_IN']);
    metrics.countEntries(['CASHBACK']);
    expect(await value(metrics, 'ledger_entries_posted_total', { type: 'TRANSFER_OUT' })).toBe(1);
    expect(await value(metrics, 'ledger_entries_posted_total', { type: 'TRANSFER_IN' })).toBe(1);
    expect(await value(metrics, 'ledger_entries_posted_total', { type: 'DEPOSIT' })).toBe(0);
    expect(await value(metrics, 'ledger_cashbacks_settled_total')).toBe(1);
  });

  it('records batch sizes in a histogram', async () => {
    const { metrics } = setup();
    metrics.observeBatch(1);
    metrics.observeBatch(40);
    const histogram = await metrics.registry.getSingleMetric('ledger_batch_size')?.get();
    const sample = (suffix: string, le?: number) =>
      histogram?.values.find(
        (v) =>
          (v as { metricName?: string }).metricName === `ledger_batch_size${suffix}` &&
          (le === undefined || v.labels.le === le),
      )?.value;
    expect(sample('_count')).toBe(2);
    expect(sample('_sum')).toBe(41);
    expect(sample('_bucket', 1)).toBe(1);
    expect(sample('_bucket', 32)).toBe(1);
    expect(sample('_bucket', 64)).toBe(2);
  });

  it('counts retries by SQLSTATE', async () => {
    const { metrics, retry } = setup();
    retry('40P01');
    retry('40P01');
    retry('40001');
    expect(await value(metrics, 'ledger_transaction_retries_total', { sqlstate: '40P01' })).toBe(2);
    expect(await value(metrics, 'ledger_transaction_retries_total', { sqlstate: '40001' })).toBe(1);
  });

  it('reads the pool gauges at scrape time, and skips them without a pg pool', async () => {
    const pool = { totalCount: 4, idleCount: 1, waitingCount: 2, options: { max: 10 } };
    const { metrics } = setup(pool);
    expect(await value(metrics, 'ledger_db_pool_connections')).toBe(4);
    pool.idleCount = 3;
    expect(await value(metrics, 'ledger_db_pool_idle_connections')).toBe(3);
    expect(await value(metrics, 'ledger_db_pool_waiting_clients')).toBe(2);
    expect(await value(metrics, 'ledger_db_pool_max_connections')).toBe(10);

    const without = setup(null).metrics;
    await expect(without.scrape()).resolves.toMatchObject({ body: expect.any(String) });
    expect(await value(without, 'ledger_db_pool_connections')).toBe(0);
  });

  it('times requests by method, route pattern and status, and counts idempotent replays', async () => {
    const { metrics } = setup();
    const reply = {
      statusCode: 201,
      elapsedTime: 12.5,
      getHeader: (name: string) => (name === 'Idempotent-Replayed' ? 'true' : undefined),
    };
    const request = { method: 'POST', is404: false, routeOptions: { url: '/transfers' } };
    metrics.observe(request as FastifyRequest, reply as unknown as FastifyReply);
    const labels = { method: 'POST', route: '/transfers', status: '201' };
    expect(await value(metrics, 'http_requests_total', labels)).toBe(1);
    const latency = await metrics.registry.getSingleMetricAsString('http_request_duration_seconds');
    expect(latency).toContain(
      'http_request_duration_seconds_count{method="POST",route="/transfers",status="201"} 1',
    );
    expect(
      await value(metrics, 'ledger_idempotent_replays_total', {
        method: 'POST',
        route: '/transfers',
      }),
    ).toBe(1);
  });

  it('exposes the text format with process metrics', async () => {
    const { metrics } = setup();
    const { contentType, body } = await metrics.scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('# TYPE process_cpu_user_seconds_total counter');
  });
});
