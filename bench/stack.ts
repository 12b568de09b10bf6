import { resolve } from 'node:path';
import {
  createDatabase,
  databaseUrl,
  dropDatabase,
  externalServer,
  PgServer,
  startEmbeddedServer,
} from './postgres';
import { freePort } from './process-utils';
import { ServiceProcess } from './service';

const ROOT = resolve(__dirname, '..', '..');

/**
 * What a bench entry point runs on: a PostgreSQL (BENCH_DATABASE_URL's server, or a throw-away
 * embedded one), fresh databases on it, and the built service as its own process. Everything
 * it starts is undone by `close()`, in reverse order and exactly once, however often it is
 * called (end of run, failure, signal); a failing step is logged and the others still run.
 */
export class BenchStack {
  private readonly steps: (() => Promise<void>)[] = [];
  private closing: Promise<void> | undefined;
  private server: PgServer | undefined;
  private pgPort: number | undefined;

  constructor(
    private readonly options: {
      /** Ports to choose from, for the embedded PostgreSQL and the service. */
      ports: { from: number; to: number };
      /** The path of a log file: `postgres` and `service` are the ones asked for. */
      logFile: (name: string) => string;
      log: (message: string) => void;
    },
  ) {}

  /** Adds a step to `close()`, run before the ones added earlier. */
  defer(step: () => Promise<void>): void {
    this.steps.push(step);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (let step = this.steps.pop(); step; step = this.steps.pop()) {
        await step().catch((error: unknown) => this.options.log(`cleanup: ${String(error)}`));
      }
    })();
    return this.closing;
  }

  async postgres(maxConnections: number): Promise<PgServer> {
    const { ports, log } = this.options;
    const external = process.env.BENCH_DATABASE_URL;
    if (external) {
      log(
        'using the PostgreSQL server of BENCH_DATABASE_URL (fresh databases, dropped at the end)',
      );
      this.server = externalServer(external);
    } else {
      this.pgPort = await freePort(ports.from, ports.to);
      log(`starting a throw-away embedded PostgreSQL on 127.0.0.1:${this.pgPort}`);
      this.server = await startEmbeddedServer({
        port: this.pgPort,
        maxConnections,
        logFile: this.options.logFile('postgres'),
      });
    }
    const server = this.server;
    this.defer(() => server.stop());
    return server;
  }

  /** A new database on the server (dropped at the end where the server is not ours); its URL. */
  async database(name: string): Promise<string> {
    const server = this.started();
    await createDatabase(server.adminUrl, name);
    if (!server.embedded) this.defer(() => dropDatabase(server.adminUrl, name));
    return databaseUrl(server.adminUrl, name);
  }

  /** The service (`node dist/src/main.js`) on `url`'s database, which it migrates at start. */
  async service(url: string): Promise<ServiceProcess> {
    this.started();
    const { ports, log } = this.options;
    const port = await freePort(
      ports.from,
      ports.to,
      this.pgPort === undefined ? [] : [this.pgPort],
    );
    const db = new URL(url).pathname.slice(1);
    log(`starting the service (node dist/src/main.js) on 127.0.0.1:${port}; it migrates ${db}`);
    const service = await ServiceProcess.start({
      root: ROOT,
      port,
      databaseUrl: url,
      logFile: this.options.logFile('service'),
    });
    this.defer(() => service.stop());
    return service;
  }

  private started(): PgServer {
    if (!this.server) throw new Error('BenchStack: postgres() first');
    return this.server;
  }
}
