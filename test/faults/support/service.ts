import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from '../../../scripts/lib/net';
import { ServiceProcess } from '../../../scripts/lib/service-process';
import { recordServiceLog } from './logs';

const ROOT = resolve(__dirname, '../../..');
const MAIN = resolve(ROOT, 'dist/src/main.js');
const WATCHDOG = resolve(__dirname, 'watchdog.js');

export type Service = ServiceProcess;

const running = new Set<ServiceProcess>();

/**
 * The real service (`node dist/src/main.js`, built by `npm run build`) as a child process on
 * a free port, resolved once GET /health answers 200. Its output is kept for failure messages
 * (`service.logs()`, and per request id through ./logs). A test-only watchdog is preloaded so
 * the process dies with the test run that started it.
 */
export async function startService(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<Service> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  const service = await ServiceProcess.start({
    main: MAIN,
    cwd: ROOT,
    port: await freePort(),
    nodeArgs: ['--require', WATCHDOG],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      NO_COLOR: '1',
      LOG_LEVEL: 'warn',
      ...env,
      DATABASE_URL: databaseUrl,
    },
    onLine: recordServiceLog,
    healthTimeoutMs: 90_000,
  });
  running.add(service);
  void service.exited.then(() => running.delete(service));
  return service;
}

/** Kills every service still running (afterAll): no test leaves one behind. */
export async function killAllServices(): Promise<void> {
  await Promise.all([...running].map((s) => s.kill()));
}
