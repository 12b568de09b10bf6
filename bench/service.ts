import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { cpuSeconds, delay, terminate } from './process-utils';

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
  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  static async start(options: {
    root: string;
    port: number;
    databaseUrl: string;
    logFile: string;
  }): Promise<ServiceProcess> {
    const log = await open(options.logFile, 'w');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [resolve(options.root, 'dist/src/main.js')], {
        cwd: options.root,
        env: { ...process.env, PORT: String(options.port), DATABASE_URL: options.databaseUrl },
        stdio: ['ignore', log.fd, log.fd],
      });
    } finally {
      await log.close();
    }
    const service = new ServiceProcess(child, `http://127.0.0.1:${options.port}`);
    try {
      await service.waitHealthy(120_000);
    } catch (error) {
      await service.stop();
      throw new Error(`the service did not become healthy; see ${options.logFile}`, {
        cause: error,
      });
    }
    return service;
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`it exited (${this.child.exitCode ?? this.child.signalCode})`);
      }
      try {
        const response = await fetch(`${this.baseUrl}/health`, {
          signal: AbortSignal.timeout(2_000),
        });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`no 200 from /health in ${timeoutMs} ms`);
      await delay(250);
    }
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
  stop(): Promise<void> {
    return terminate(this.child, 15_000);
  }
}
