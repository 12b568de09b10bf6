import { randomBytes } from 'node:crypto';
import type { Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import { databaseUrl } from '../../scripts/lib/net';
import { AppModule } from '../../src/app.module';
import { configureApp, createHttpAdapter } from '../../src/app.setup';
import { Clock } from '../../src/common/clock/clock';
import { AppConfig } from '../../src/config/app-config';
import { validateEnvironment } from '../../src/config/environment';
import { LogDestination } from '../../src/observability/logging/app-logger.service';
import { expectLedgerConsistent } from './ledger-invariants';

export interface TestDatabase {
  name: string;
  url: string;
}

function serverUrl(database: string): string {
  const admin = process.env.TEST_PG_ADMIN_URL;
  if (!admin) throw new Error('TEST_PG_ADMIN_URL is unset: run e2e tests through jest');
  return databaseUrl(admin, database);
}

/** A fresh, fully migrated database cloned from the run's template (fast: a file copy). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = process.env.TEST_PG_TEMPLATE;
  if (!template) throw new Error('TEST_PG_TEMPLATE is unset: run e2e tests through jest');
  const name = `${template.replace('ledger_tpl_', 'ledger_t_')}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await admin.end();
  }
  return { name, url: serverUrl(name) };
}

/** A clock tests move by hand. */
export class ManualClock extends Clock {
  constructor(private current = Date.now()) {
    super();
  }
  override now(): number {
    return this.current;
  }
  set(epochMs: number): void {
    this.current = epochMs;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

export interface TestAppOptions {
  /** Extra environment for this app (validated like the real one). */
  env?: Record<string, string>;
  clock?: Clock;
  /** Reuse a database (e.g. a second app instance on the same data). */
  database?: TestDatabase;
  /** Extra modules, e.g. a test-only controller. */
  imports?: Type[];
  /**
   * Capture the app's log lines instead of silencing them: the app is then created without a
   * `logger` option, so LOG_LEVEL (default info here) alone decides the level.
   */
  logs?: { write(chunk: string): void };
}

export interface TestApp {
  app: NestFastifyApplication;
  database: TestDatabase;
  /** Plain SQL on the test database, for assertions that must bypass the API. */
  sql<T extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * The real AppModule on a private database, with the HTTP pipeline of main.ts. Background
 * workers run as in production unless the env turns them off.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const env = validateEnvironment({
    CASHBACK_WORKER_INTERVAL_MS: '200',
    // No webhook deliveries unless a test asks for them (it then drives or enables the worker).
    WEBHOOK_WORKER_INTERVAL_MS: '0',
    ...(options.logs ? { LOG_LEVEL: 'info' } : {}),
    ...options.env,
    DATABASE_URL: database.url,
    DB_POOL_SIZE: options.env?.DB_POOL_SIZE ?? '10',
  });
  let builder = Test.createTestingModule({ imports: [AppModule, ...(options.imports ?? [])] })
    .overrideProvider(AppConfig)
    .useValue(new AppConfig(env));
  if (options.clock) builder = builder.overrideProvider(Clock).useValue(options.clock);
  if (options.logs) {
    builder = builder.overrideProvider(LogDestination).useValue(new LogDestination(options.logs));
  }
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    createHttpAdapter(),
    options.logs ? { bodyParser: false } : { bodyParser: false, logger: ['error', 'warn'] },
  );
  configureApp(app);
  await app.init();
  // Fastify serves requests on its Node server (supertest, raw sockets) once ready.
  await app.getHttpAdapter().getInstance().ready();

  const client = new Client({ connectionString: database.url });
  await client.connect();
  return {
    app,
    database,
    sql: async <T extends Record<string, unknown>>(text: string, params?: unknown[]) =>
      (await client.query<T>(text, params)).rows,
    close: async () => {
      await client.end();
      await app.close();
    },
  };
}

/**
 * One app for the enclosing `describe`: made in its `beforeAll`, closed in its `afterAll`.
 * Returns the app once `beforeAll` has made it.
 */
export function useTestApp(options: TestAppOptions = {}): () => TestApp {
  let t: TestApp | undefined;
  beforeAll(async () => {
    t = await createTestApp(options);
  });
  afterAll(async () => {
    await t?.close();
  });
  return () => {
    if (!t) throw new Error('the test app is made in beforeAll');
    return t;
  };
}

/**
 * One app for a test file, on the given clock, with the cashback worker left to the tests
 * (they run it by hand) and the ledger's invariants checked after every test. Returns the app
 * once `beforeAll` has made it.
 */
export function useLedgerTestApp(clock: Clock): () => TestApp {
  const app = useTestApp({ clock, env: { CASHBACK_WORKER_INTERVAL_MS: '3600000' } });
  afterEach(async () => {
    await expectLedgerConsistent(app());
  });
  return app;
}
