import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;
const emptyToUndefined = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/**
 * Every setting the service reads from the environment, with its default.
 * Validated once at boot: a bad value stops the process with a message naming the variable.
 */
export class Environment {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string = undefined;

  @IsString()
  EMBEDDED_PG_DIR = './.data/postgres';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  EMBEDDED_PG_PORT = 54329;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10000)
  CASHBACK_RATE_BPS = 200;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10 * 365 * 86_400_000)
  CASHBACK_DELAY_MS = 86_400_000;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  CASHBACK_WORKER_INTERVAL_MS = 1000;

  @Transform(toInt)
  @IsInt()
  @Min(60_000)
  IDEMPOTENCY_TTL_MS = 86_400_000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE = 10;

  /** Commands decided and committed together in one ledger batch, at most. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  LEDGER_MAX_BATCH = 256;

  /**
   * Ledger batches running at once (each holds one pool connection). While they run, arriving
   * commands queue and form the next batch: there is no timer, so an idle service commits a
   * batch of one at once. Must leave pool connections for reads: at most DB_POOL_SIZE − 1.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  LEDGER_BATCHES_IN_FLIGHT = 2;

  /**
   * Commands waiting for a ledger batch, at most. Past it a request is shed at once with 503
   * SERVICE_BUSY and Retry-After (nothing changed), instead of waiting without bound.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  LEDGER_MAX_QUEUE = 10_000;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /**
   * PostgreSQL `statement_timeout` of every pool connection: a statement running longer is
   * cancelled by the server (SQLSTATE 57014) and the request answers 503 SERVICE_BUSY.
   */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  DB_STATEMENT_TIMEOUT_MS = 15_000;

  /**
   * PostgreSQL `lock_timeout` of every pool connection: waiting longer for one lock (a row
   * lock, a table lock someone else holds) fails the statement (55P03, 503 SERVICE_BUSY).
   */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  DB_LOCK_TIMEOUT_MS = 5_000;

  /**
   * PostgreSQL `idle_in_transaction_session_timeout` of every pool connection: a session that
   * sits inside an open transaction without sending anything for longer is ended by the server,
   * releasing its locks (a safety net against a stuck request; the service never waits there).
   */
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  DB_IDLE_IN_TRANSACTION_SESSION_TIMEOUT_MS = 30_000;

  /**
   * `statement_timeout` of the audit's own connection, per chunk statement: long enough for the
   * largest single account's history.
   */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  AUDIT_STATEMENT_TIMEOUT_MS = 300_000;

  /**
   * A statement export fails (its connection goes back to the pool) when its client has read
   * nothing for this long.
   */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  STATEMENT_STALL_TIMEOUT_MS = 60_000;

  /** Accounts per audit chunk (one statement each, keyset over account_id). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100_000)
  AUDIT_CHUNK_ACCOUNTS = 200;

  /** A client must send its whole request line and headers within this time, else 408. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  HTTP_HEADERS_TIMEOUT_MS = 10_000;

  /** Events are kept this long (GET /events); older cursors answer 410 CURSOR_EXPIRED. */
  @Transform(toInt)
  @IsInt()
  @Min(60_000)
  EVENTS_RETENTION_MS = 30 * 86_400_000;

  /** How often the purge job deletes events older than EVENTS_RETENTION_MS. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(86_400_000)
  EVENTS_PURGE_INTERVAL_MS = 3_600_000;

  /**
   * `true` lets webhook endpoints point at loopback, private and link-local addresses (tests
   * with a local receiver); otherwise such a URL is 422 URL_NOT_ALLOWED and never connected to.
   */
  @Transform(toBoolean)
  @IsBoolean({ message: 'WEBHOOK_ALLOW_PRIVATE_URLS must be true or false' })
  WEBHOOK_ALLOW_PRIVATE_URLS = false;

  /** How often the delivery worker looks for endpoints with work; 0 turns it off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  WEBHOOK_WORKER_INTERVAL_MS = 1000;

  /** One delivery attempt (connect, send, answer) must finish within this time. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  WEBHOOK_TIMEOUT_MS = 10_000;

  /**
   * An instance owns an endpoint's deliveries for this long after claiming it (renewed before
   * each attempt); an instance that died is taken over once it lapses. Must exceed the timeout.
   */
  @Transform(toInt)
  @IsInt()
  @Min(200)
  @Max(3_600_000)
  WEBHOOK_LEASE_MS = 60_000;

  /** First retry delay; doubled per failed attempt (with jitter) up to WEBHOOK_BACKOFF_MAX_MS. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  WEBHOOK_BACKOFF_BASE_MS = 5_000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86_400_000)
  WEBHOOK_BACKOFF_MAX_MS = 3_600_000;

  /** A delivery still failing this long after its first attempt is FAILED (at least 24 h). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  WEBHOOK_RETRY_WINDOW_MS = 86_400_000;

  /** Endpoints one instance delivers to at once (each in its own loop: none waits for another). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  WEBHOOK_CONCURRENCY = 16;

  /** A client must send its whole request (headers and body) within this time, else 408. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  HTTP_REQUEST_TIMEOUT_MS = 30_000;
}

/** `ConfigModule.validate` hook: returns the typed, defaulted environment or throws. */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const env = plainToInstance(Environment, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: false, forbidUnknownValues: false });
  if (errors.length === 0 && env.LEDGER_BATCHES_IN_FLIGHT >= env.DB_POOL_SIZE) {
    throw new Error(
      `Invalid configuration:\n  LEDGER_BATCHES_IN_FLIGHT=${env.LEDGER_BATCHES_IN_FLIGHT}: must be below DB_POOL_SIZE (${env.DB_POOL_SIZE}), so reads keep a connection`,
    );
  }
  if (errors.length === 0 && env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    throw new Error(
      `Invalid configuration:\n  HTTP_HEADERS_TIMEOUT_MS=${env.HTTP_HEADERS_TIMEOUT_MS}: must not exceed HTTP_REQUEST_TIMEOUT_MS=${env.HTTP_REQUEST_TIMEOUT_MS}`,
    );
  }
  if (errors.length === 0 && env.WEBHOOK_LEASE_MS <= env.WEBHOOK_TIMEOUT_MS) {
    throw new Error(
      `Invalid configuration:\n  WEBHOOK_LEASE_MS=${env.WEBHOOK_LEASE_MS}: must exceed WEBHOOK_TIMEOUT_MS=${env.WEBHOOK_TIMEOUT_MS}, so no delivery outlives its lease`,
    );
  }
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const value = e.property === 'DATABASE_URL' ? '<hidden>' : JSON.stringify(e.value);
      return `  ${e.property}=${value}: ${Object.values(e.constraints ?? {}).join('; ')}`;
    });
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return env;
}
