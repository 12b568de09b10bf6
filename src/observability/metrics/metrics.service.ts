import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { TransactionRunner } from '../../database/transaction-runner';
import { ENTRY_TYPES } from '../../ledger/ledger-entry.entity';
import { IDEMPOTENT_REPLAYED_HEADER } from '../../idempotency/idempotency-headers';
import { PostingsService } from '../../ledger/postings.service';
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
 * entry types, SQLSTATEs. Movement counters come from PostingsService.onPosted, which fires
 * after commit: a movement rolled back or retried is not counted.
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

  private readonly retries = new Counter({
    name: 'ledger_transaction_retries_total',
    help: 'Units of work retried in a fresh transaction, by SQLSTATE (40001, 40P01).',
    labelNames: ['sqlstate'] as const,
    registers: [this.registry],
  });

  constructor(postings: PostingsService, transactions: TransactionRunner, dataSource: DataSource) {
    collectDefaultMetrics({ register: this.registry });
    // Known series start at 0, so rate() and alerts see them before the first event.
    for (const type of ENTRY_TYPES) this.entries.inc({ type }, 0);
    for (const sqlstate of ['40001', '40P01']) this.retries.inc({ sqlstate }, 0);

    postings.onPosted((lines) => {
      for (const line of lines) {
        this.entries.inc({ type: line.type });
        if (line.type === 'CASHBACK') this.cashbacks.inc();
      }
    });
    transactions.onRetry((sqlstate) => this.retries.inc({ sqlstate }));
    this.registerPoolGauges(dataSource);
  }

  /** The Prometheus text exposition of this app's metrics. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * Express middleware timing every request to the end of its response. Mount it before body
   * parsing so refused bodies (400, 413) count too.
   */
  readonly middleware: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const labels = {
        method: req.method,
        route: routePattern(req),
        status: String(res.statusCode),
      };
      this.requests.inc(labels);
      this.latency.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      if (String(res.getHeader(IDEMPOTENT_REPLAYED_HEADER)) === 'true') {
        this.replays.inc({ method: labels.method, route: labels.route });
      }
    });
    next();
  };

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
