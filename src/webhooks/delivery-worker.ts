import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Clock } from '../common/clock/clock';
import { RepeatingTask } from '../common/repeating-task';
import { AppConfig } from '../config/app-config';
import type { EventType } from '../events/event-types';
import { EventsService } from '../events/events.service';
import { MetricsService } from '../observability/metrics/metrics.service';
import { WebhookSender } from './webhook-sender';
import { EndpointRow, WebhooksRepository } from './webhooks.repository';

const INTERVAL_NAME = 'webhook-deliveries';
/** Events read from the feed per step of one endpoint. */
const FEED_BATCH = 100;

/** The delay before retry number `attempt` (1 = after the first failure): exponential, jittered. */
export function retryDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 40));
  // "Equal jitter": between half and all of the exponential delay, so retries spread out.
  return Math.max(1, Math.round(exponential / 2 + random() * (exponential / 2)));
}

/**
 * Delivers webhooks, per endpoint in event order, at least once.
 *
 * Every WEBHOOK_WORKER_INTERVAL_MS it leases the endpoints no instance is working on (a row
 * lease, WebhooksRepository.claim) and runs one loop per leased endpoint, side by side, so a
 * slow or failing endpoint never delays another. A loop: reads the feed after the endpoint's
 * cursor and queues deliveries for its event types; then sends the oldest PENDING delivery,
 * and the next, until one fails (it is retried after a jittered exponential backoff; the
 * endpoint waits for it, keeping its order) or none is left; then it lets the lease go.
 * Deliveries are rows: they survive restarts; an instance that dies mid-send leaves a lease
 * that lapses after WEBHOOK_LEASE_MS, and another instance sends that delivery again.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DeliveryWorker.name);
  /** This instance's name on the leases it holds. */
  private readonly owner = randomUUID();
  private readonly intervalMs: number;
  private readonly task: RepeatingTask;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly retryWindowMs: number;
  /** The loops running now, by endpoint. */
  private readonly active = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(
    private readonly endpoints: WebhooksRepository,
    private readonly events: EventsService,
    private readonly sender: WebhookSender,
    private readonly metrics: MetricsService,
    scheduler: SchedulerRegistry,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    this.intervalMs = config.get('WEBHOOK_WORKER_INTERVAL_MS');
    this.leaseMs = config.get('WEBHOOK_LEASE_MS');
    this.concurrency = config.get('WEBHOOK_CONCURRENCY');
    this.backoffBaseMs = config.get('WEBHOOK_BACKOFF_BASE_MS');
    this.backoffMaxMs = config.get('WEBHOOK_BACKOFF_MAX_MS');
    this.retryWindowMs = config.get('WEBHOOK_RETRY_WINDOW_MS');
    this.task = new RepeatingTask(
      scheduler,
      INTERVAL_NAME,
      this.intervalMs,
      () => this.start(),
      (error) => this.logger.warn(`webhook worker tick failed: ${String(error)}`),
    );
  }

  onApplicationBootstrap(): void {
    if (this.intervalMs === 0) return;
    this.task.start();
  }

  /** Stops claiming and waits for the loops under way (each ends after its current attempt). */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.task.stop();
    await Promise.allSettled(this.active.values());
  }

  /**
   * One round, awaited to the end: claims what is free and runs those loops to completion.
   * What the interval does without waiting; tests call it to drive deliveries step by step.
   */
  async runOnce(): Promise<void> {
    await this.start();
    await Promise.allSettled(this.active.values());
  }

  /** Claims free endpoints and starts a loop for each (not awaited). */
  private async start(): Promise<void> {
    const free = this.concurrency - this.active.size;
    if (free <= 0 || this.stopping) return;
    const claimed = await this.endpoints.claim(this.owner, this.clock.now(), this.leaseMs, free, [
      ...this.active.keys(),
    ]);
    for (const endpoint of claimed) {
      const loop = this.work(endpoint)
        .catch((error) =>
          this.logger.warn(`webhook endpoint ${endpoint.endpointId}: ${String(error)}`),
        )
        .finally(() => this.active.delete(endpoint.endpointId));
      this.active.set(endpoint.endpointId, loop);
    }
  }

  private async work(endpoint: EndpointRow): Promise<void> {
    try {
      if (!(await this.enqueueNewEvents(endpoint))) return;
      while (!this.stopping) {
        const head = await this.endpoints.head(endpoint.endpointId);
        if (!head || head.nextAttemptAt > this.clock.now()) return;
        if (
          !(await this.endpoints.renew(
            endpoint.endpointId,
            this.owner,
            this.clock.now(),
            this.leaseMs,
          ))
        ) {
          return;
        }
        const delivered = await this.attempt(endpoint, head);
        if (!delivered) return;
      }
    } finally {
      await this.endpoints.release(endpoint.endpointId, this.owner);
    }
  }

  /** Queues a delivery for each new event of the endpoint's types. False: the lease was lost. */
  private async enqueueNewEvents(endpoint: EndpointRow): Promise<boolean> {
    let cursor = endpoint.cursor;
    for (;;) {
      const batch = await this.events.readAfter(
        cursor,
        FEED_BATCH,
        endpoint.eventTypes as EventType[] | null,
      );
      if (batch.length === 0) return true;
      cursor = batch[batch.length - 1].position;
      const ok = await this.endpoints.enqueue(
        endpoint.endpointId,
        this.owner,
        batch.map((e) => e.event.eventId),
        cursor,
        this.clock.now(),
      );
      if (!ok) return false;
      if (batch.length < FEED_BATCH) return true;
    }
  }

  /** Sends one delivery and records the outcome. True when it was acknowledged (2xx). */
  private async attempt(
    endpoint: EndpointRow,
    head: NonNullable<Awaited<ReturnType<WebhooksRepository['head']>>>,
  ): Promise<boolean> {
    const event = head.event as {
      eventId: string;
      type: string;
      occurredAt: number;
      accountIds: string[];
      data: unknown;
    } | null;
    const now = this.clock.now();
    if (!event) {
      // Purged before it could be delivered (its endpoint was stalled for the whole retention).
      await this.endpoints.recordAttempt(endpoint.endpointId, this.owner, head.seq, {
        status: 'FAILED',
        statusCode: null,
        attemptAt: now,
        nextAttemptAt: now,
      });
      this.metrics.countDelivery('failed');
      return true;
    }
    const body = JSON.stringify({
      eventId: event.eventId,
      type: event.type,
      occurredAt: event.occurredAt,
      accountIds: event.accountIds,
      data: event.data,
    });
    const result = await this.sender.send({
      url: endpoint.url,
      secret: endpoint.secret,
      eventId: event.eventId,
      timestamp: now,
      body,
    });
    const at = this.clock.now();
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const firstAttemptAt = head.firstAttemptAt ?? now;
    const givingUp = !ok && at - firstAttemptAt >= this.retryWindowMs;
    const status = ok ? 'DELIVERED' : givingUp ? 'FAILED' : 'PENDING';
    const nextAttemptAt =
      status === 'PENDING'
        ? at + retryDelay(head.attempts + 1, this.backoffBaseMs, this.backoffMaxMs)
        : at;
    const recorded = await this.endpoints.recordAttempt(endpoint.endpointId, this.owner, head.seq, {
      status,
      statusCode: result.statusCode,
      attemptAt: now,
      nextAttemptAt,
    });
    this.metrics.countDelivery(
      ok ? 'delivered' : givingUp ? 'failed' : 'retry',
      ok ? at - event.occurredAt : undefined,
    );
    if (!ok && result.error) {
      this.logger.warn(
        `webhook ${event.eventId} to endpoint ${endpoint.endpointId} failed: ${result.error}`,
      );
    }
    // A FAILED delivery no longer holds the endpoint's order back.
    return recorded && status !== 'PENDING';
  }
}
