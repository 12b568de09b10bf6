import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Clock } from '../common/clock/clock';
import { RepeatingTask } from '../common/repeating-task';
import { AppConfig } from '../config/app-config';
import { EventsRepository } from './events.repository';

const INTERVAL_NAME = 'events-purge';
const PURGE_BATCH_SIZE = 1000;

/**
 * Deletes events older than EVENTS_RETENTION_MS, every EVENTS_PURGE_INTERVAL_MS (an interval
 * of @nestjs/schedule), in short statements of PURGE_BATCH_SIZE rows. Runs never overlap; on
 * shutdown no new run starts and the one under way stops after its batch, before the pool closes.
 */
@Injectable()
export class EventsPurger implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EventsPurger.name);
  private readonly retentionMs: number;
  private readonly task: RepeatingTask;
  private stopping = false;

  constructor(
    private readonly events: EventsRepository,
    scheduler: SchedulerRegistry,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    this.retentionMs = config.get('EVENTS_RETENTION_MS');
    this.task = new RepeatingTask(
      scheduler,
      INTERVAL_NAME,
      config.get('EVENTS_PURGE_INTERVAL_MS'),
      () => this.purge(),
      (error) => this.logger.warn(`purging old events failed: ${String(error)}`),
    );
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.task.stop();
  }

  /** Deletes every event older than the retention; returns how many. */
  async purge(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.events.purgeBefore(
        this.clock.now() - this.retentionMs,
        PURGE_BATCH_SIZE,
      );
      total += deleted;
      if (deleted < PURGE_BATCH_SIZE || this.stopping) break;
    }
    if (total > 0) this.logger.log(`purged ${total} events older than the retention`);
    return total;
  }
}
