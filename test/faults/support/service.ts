import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { call } from './http';
import { recordServiceLog } from './logs';
import { freePort, waitFor } from './util';

const ROOT = resolve(__dirname, '../../..');
const MAIN = resolve(ROOT, 'dist/src/main.js');
const WATCHDOG = resolve(__dirname, 'watchdog.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the process was seen to exit. */
  at: number;
}

const running = new Set<Service>();

/**
 * The real service (`node dist/src/main.js`, built by `npm run build`) as a child process on
 * a free port. Its output is kept (the last lines) for failure messages.
 */
export class Service {
  readonly exited: Promise<Exit>;
  private readonly output: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    this.exited = new Promise((r) =>
      child.once('exit', (code, signal) => {
        running.delete(this);
        r({ code, signal, at: Date.now() });
      }),
    );
    const keep = (chunk: Buffer) => {
      const lines = chunk.toString().split('\n').filter(Boolean);
      lines.forEach(recordServiceLog);
      this.output.push(...lines);
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /** Starts the service and resolves once GET /health answers 200. */
  static async start(databaseUrl: string, env: Record<string, string> = {}): Promise<Service> {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
    const port = await freePort();
    const child = spawn(process.execPath, ['--require', WATCHDOG, MAIN], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NODE_ENV: 'production',
        NO_COLOR: '1',
        LOG_LEVEL: 'warn',
        ...env,
        PORT: String(port),
        DATABASE_URL: databaseUrl,
      },
    });
    const service = new Service(child, port);
    running.add(service);
    try {
      await service.waitHealthy(90_000);
    } catch (error) {
      await service.kill();
      throw new Error(`${(error as Error).message}\n--- service output ---\n${service.logs()}`, {
        cause: error,
      });
    }
    return service;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitHealthy(timeoutMs: number): Promise<void> {
    await waitFor(
      `GET /health 200 on port ${this.port}`,
      async () => {
        if (!this.alive) throw new Error(`the service exited:\n${this.logs()}`);
        const r = await call(this.baseUrl, 'GET', '/health', { timeoutMs: 5000, agent: false });
        return r.status === 200 ? true : undefined;
      },
      timeoutMs,
      200,
    );
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<Exit> {
    this.signal('SIGKILL');
    return this.exited;
  }

  logs(): string {
    return this.output.join('\n');
  }

  /** Kills every service still running (afterAll / afterEach): no test leaves one behind. */
  static async killAll(): Promise<void> {
    await Promise.all([...running].map((s) => s.kill()));
  }
}
