import type { INestApplicationContext } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock/clock';
import { TransactionRunner } from '../database/transaction-runner';
import {
  IdempotencyPurger,
  PURGE_BATCH_SIZE,
  PURGE_INTERVAL_MS,
  PURGE_JOB,
} from './idempotency-purger';
import { IdempotencyRepository } from './idempotency.repository';

/** A batch the test answers by hand: `resolve(n)` says n keys were deleted. */
interface Batch {
  now: number;
  limit: number;
  resolve(deleted: number): void;
}

describe('IdempotencyPurger schedule', () => {
  let app: INestApplicationContext;
  let closed: boolean;
  let batches: Batch[];
  /** After a test: every batch (also one a broken purger starts late) answers 0 at once. */
  let draining: boolean;
  const manager = {} as EntityManager;

  beforeEach(async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    batches = [];
    draining = false;
    const store = {
      deleteExpired: (m: EntityManager, now: number, limit: number) => {
        expect(m).toBe(manager);
        if (draining) return Promise.resolve(0);
        return new Promise<number>((resolve) => batches.push({ now, limit, resolve }));
      },
    };
    const moduleRef = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot()],
      providers: [
        IdempotencyPurger,
        { provide: IdempotencyRepository, useValue: store },
        {
          provide: TransactionRunner,
          useValue: { run: (work: (m: EntityManager) => Promise<unknown>) => work(manager) },
        },
        Clock,
      ],
    }).compile();
    app = await moduleRef.init();
    closed = false;
  });

  afterEach(async () => {
    draining = true;
    for (const batch of batches) batch.resolve(0);
    if (!closed) await app.close();
    jest.useRealTimers();
  });

  const tick = () => jest.advanceTimersByTimeAsync(PURGE_INTERVAL_MS);

  it('is registered with @nestjs/schedule and runs every PURGE_INTERVAL_MS, batch after batch', async () => {
    expect(app.get(SchedulerRegistry).getIntervals()).toEqual([PURGE_JOB]);
    await jest.advanceTimersByTimeAsync(PURGE_INTERVAL_MS - 1);
    expect(batches).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({
      now: 1_000_000 + PURGE_INTERVAL_MS,
      limit: PURGE_BATCH_SIZE,
    });

    // A full batch means there may be more: the run goes on until a batch comes back short.
    batches[0].resolve(PURGE_BATCH_SIZE);
    await jest.advanceTimersByTimeAsync(0);
    expect(batches).toHaveLength(2);
    batches[1].resolve(3);
    await tick();
    expect(batches).toHaveLength(3);
  });

  it('never overlaps runs: ticks during a run are skipped, not queued', async () => {
    await tick();
    expect(batches).toHaveLength(1);
    await tick();
    await tick();
    await tick();
    expect(batches).toHaveLength(1);
    batches[0].resolve(0);
    await jest.advanceTimersByTimeAsync(0);
    expect(batches).toHaveLength(1);
    await tick();
    expect(batches).toHaveLength(2);
  });

  it('stops on shutdown: waits for the run under way, after its current batch, then no more', async () => {
    await tick();
    expect(batches).toHaveLength(1);
    const closing = app.close().then(() => (closed = true));
    await jest.advanceTimersByTimeAsync(5 * PURGE_INTERVAL_MS);
    expect(closed).toBe(false);
    expect(batches).toHaveLength(1);

    // A full batch would normally be followed by another; a stopping purger ends here.
    batches[0].resolve(PURGE_BATCH_SIZE);
    await jest.advanceTimersByTimeAsync(0);
    expect(batches).toHaveLength(1);
    expect(closed).toBe(true);
    await closing;
    await jest.advanceTimersByTimeAsync(5 * PURGE_INTERVAL_MS);
    expect(batches).toHaveLength(1);
    expect(app.get(SchedulerRegistry).getIntervals()).toEqual([]);
  });
});
