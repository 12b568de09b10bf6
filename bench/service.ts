import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ServiceProcess as LaunchedService } from '../scripts/lib/service-process';
import { cpuSeconds } from './process-utils';

/** Resident memory of a process in bytes: `/proc` on Linux, `ps` elsewhere. */
function memory(pid: number): { rss: number; peak: number | null } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return match ? Number(match[1]) * 1024 : null;
    };
    const rss = kb('VmRSS');
    if (rss !== null) return { rss, peak: kb('VmHWM') };
  } catch {
    // no procfs: fall back to ps
  }
  try {
    const rssKb = Number(
      execFileSync('ps', ['-o', 'rss=', '-p', String(pid)])
        .toString()
        .trim(),
    );
    return Number.isFinite(rssKb) && rssKb > 0 ? { rss: rssKb * 1024, peak: null } : undefined;
  } catch {
    return undefined;
  }
}

/** The service as its own process (`node dist/src/main.js`), the way it runs in production. */
export class ServiceProcess {
  private constructor(private readonly service: LaunchedService) {}

  get baseUrl(): string {
    return this.service.baseUrl;
  }

  get pid(): number {
    return this.service.pid;
  }

  /** Its output goes straight to `logFile`, not through the bench process it would slow down. */
  static async start(options: {
    root: string;
    port: number;
    databaseUrl: string;
    logFile: string;
  }): Promise<ServiceProcess> {
    const service = await LaunchedService.start({
      main: resolve(options.root, 'dist/src/main.js'),
      cwd: options.root,
      port: options.port,
      env: { ...process.env, DATABASE_URL: options.databaseUrl },
      logFile: options.logFile,
      healthTimeoutMs: 120_000,
    });
    return new ServiceProcess(service);
  }

  /** CPU seconds the service has used so far; null without procfs. */
  cpuSeconds(): number | null {
    return cpuSeconds(this.pid);
  }

  /** Peak RSS since the process started (VmHWM), when the OS reports it. */
  peakRss(): number | null {
    return memory(this.pid)?.peak ?? null;
  }

  /**
   * Samples the RSS every `everyMs` until the returned function is called; it returns the
   * highest sample (bytes), or null when memory cannot be read on this OS.
   */
  sampleRss(everyMs = 100): () => number | null {
    let peak: number | null = null;
    const sample = () => {
      const rss = memory(this.pid)?.rss;
      if (rss !== undefined) peak = Math.max(peak ?? 0, rss);
    };
    sample();
    const timer = setInterval(sample, everyMs);
    return () => {
      clearInterval(timer);
      sample();
      return peak;
    };
  }

  /** SIGTERM (graceful shutdown), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    await this.service.stop(15_000);
  }
}
