import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { TransactionRunner } from '../../database/transaction-runner';
import { IDEMPOTENT_REPLAYED_HEADER } from '../../common/http/idempotency-headers';
import { routePattern } from '../http-route';

/** The pg Pool counters TypeORM's postgres driver keeps on `driver.master`. */
interface PgPoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options?: { max?: number };
}

function isPgPool(value: unknown): value is PgPoolStats {
  const pool = value as Partial<PgPoolStats> | undefined;
  return (
    typeof pool?.totalCount === 'number' &&
    typeof pool.idleCount === 'number' &&
    typeof pool.waitingCount === 'number'
  );
}

const HTTP_LABELS = ['method', 'route', 'status'] as const;
/** Seconds; most requests take a few ms, a lock wait or a retry can take much longer. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Prometheus metrics of one app instance, in a registry of its own: several apps in one
 * process (the e2e tests) must not collide in prom-client's global registry.
 *
 * Every label value is bounded: route patterns (never raw URLs), HTTP methods and statuses,
 * entry types, SQLSTATEs. The ledger engine reports entries and batch sizes once a batch has
 * committed: a movement rolled back or retried is not counted.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by method, route pattern and status.',
    labelNames: HTTP_LABELS,
    registers: [this.registry],
  });

  private readonly latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to finishing its response.',
    labelNames: HTTP_LABELS,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  private readonly replays = new Counter({
    name: 'ledger_idempotent_replays_total',
    help: 'Responses replayed from a stored Idempotency-Key result (Idempotent-Replayed: true).',
    labelNames: ['method', 'route'] as const,
    registers: [this.registry],
  });

  private readonly entries = new Counter({
    name: 'ledger_entries_posted_total',
    help: 'Ledger entries posted (money movements), by entry type.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  private readonly cashbacks = new Counter({
    name: 'ledger_cashbacks_settled_total',
    help: 'Cashbacks credited to accounts (CASHBACK entries; one that rounds to 0 books none).',
    registers: [this.registry],
  });

  private readonly batchSize = new Histogram({
    name: 'ledger_batch_size',
    help: 'Commands decided and committed together in one ledger batch (one transaction).',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });

  private readonly retries = new Counter({
    name: 'ledger_transaction_retries_total',
    help: 'Units of work retried in a fresh transaction, by SQLSTATE (40001, 40P01).',
    labelNames: ['sqlstate'] as const,
    registers: [this.registry],
  });

  constructor(transactions: TransactionRunner, dataSource: DataSource) {
    collectDefaultMetrics({ register: this.registry });
    // Known series start at 0, so rate() and alerts see them before the first event.
    for (const sqlstate of ['40001', '40P01']) this.retries.inc({ sqlstate }, 0);
    transactions.onRetry((sqlstate) => this.retries.inc({ sqlstate }));
    this.registerPoolGauges(dataSource);
  }

  /** Starts a series at 0 for each entry type, so rate() and alerts see them from boot. */
  declareEntryTypes(types: readonly string[]): void {
    for (const type of types) this.entries.inc({ type }, 0);
  }

  /** Counts committed ledger entries by type (CASHBACK entries are also settled cashbacks). */
  countEntries(types: readonly string[]): void {
    for (const type of types) {
      this.entries.inc({ type });
      if (type === 'CASHBACK') this.cashbacks.inc();
    }
  }

  /** Records the size of a committed ledger batch. */
  observeBatch(commands: number): void {
    this.batchSize.observe(commands);
  }

  /** The Prometheus text exposition of this app's metrics. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * Counts and times one finished request, from an `onResponse` hook: refused bodies (400,
   * 413, 415) and unknown routes count too. The duration is Fastify's, from the request's
   * arrival to the end of its response.
   */
  observe(request: FastifyRequest, reply: FastifyReply): void {
    const labels = {
      method: request.method,
      route: routePattern(request),
      status: String(reply.statusCode),
    };
    this.requests.inc(labels);
    const elapsedMs = reply.elapsedTime;
    this.latency.observe(labels, Number.isFinite(elapsedMs) ? elapsedMs / 1000 : 0);
    if (String(reply.getHeader(IDEMPOTENT_REPLAYED_HEADER)) === 'true') {
      this.replays.inc({ method: labels.method, route: labels.route });
    }
  }

  /** Pool use, read at scrape time from the pg Pool behind TypeORM's postgres driver. */
  private registerPoolGauges(dataSource: DataSource): void {
    const pool = (): PgPoolStats | undefined => {
      if (!dataSource.isInitialized) return undefined;
      const master = (dataSource.driver as { master?: unknown }).master;
      return isPgPool(master) ? master : undefined;
    };
    const gauge = (name: string, help: string, read: (p: PgPoolStats) => number | undefined) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const p = pool();
          const value = p ? read(p) : undefined;
          if (value !== undefined) this.set(value);
        },
      });
    gauge(
      'ledger_db_pool_connections',
      'Open connections in the pool (idle + in use).',
      (p) => p.totalCount,
    );
    gauge('ledger_db_pool_idle_connections', 'Open connections not in use.', (p) => p.idleCount);
    gauge(
      'ledger_db_pool_waiting_clients',
      'Queries queued for a free connection.',
      (p) => p.waitingCount,
    );
    gauge(
      'ledger_db_pool_max_connections',
      'Pool size limit (DB_POOL_SIZE).',
      (p) => p.options?.max,
    );
  }
}
