import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { APPLICATION_NAME } from '../database/data-source-options';
import { DatabaseLocation } from '../database/database-location';

/** How long the probe waits to connect, and then for `SELECT 1`, before it says "down". */
export const PROBE_TIMEOUT_MS = 1000;

/**
 * Answers "does PostgreSQL answer?" on a connection of its own, never one of the pool's: a pool
 * that is merely busy (every connection taken by slow requests, a table lock, a load spike)
 * must not make a healthy instance look dead to an orchestrator, which would then restart it.
 *
 * The connection is opened on the first probe and kept; any failure drops it, and the next
 * probe opens a new one. Concurrent probes share one round trip, so the probe never holds more
 * than this one connection however often it is asked.
 */
@Injectable()
export class DatabaseProbe implements OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseProbe.name);
  private client?: Client;
  private inFlight?: Promise<boolean>;
  private closed = false;

  constructor(private readonly location: DatabaseLocation) {}

  isUp(): Promise<boolean> {
    this.inFlight ??= this.probe().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async probe(): Promise<boolean> {
    if (this.closed) return false;
    try {
      const client = this.client ?? (await this.connect());
      await client.query('SELECT 1');
      return true;
    } catch (error) {
      this.logger.warn(`database probe failed: ${(error as Error)?.message ?? String(error)}`);
      this.drop();
      return false;
    }
  }

  private async connect(): Promise<Client> {
    const client = new Client({
      connectionString: this.location.url,
      connectionTimeoutMillis: PROBE_TIMEOUT_MS,
      query_timeout: PROBE_TIMEOUT_MS,
      statement_timeout: PROBE_TIMEOUT_MS,
      lock_timeout: PROBE_TIMEOUT_MS,
      idle_in_transaction_session_timeout: PROBE_TIMEOUT_MS,
      keepAlive: true,
      application_name: `${APPLICATION_NAME}:health`,
    });
    // An idle connection that dies (server restart, terminated backend) emits `error`: drop it.
    client.on('error', () => {
      if (this.client === client) this.drop();
    });
    this.client = client;
    await client.connect();
    return client;
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    client?.end().catch(() => {});
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
