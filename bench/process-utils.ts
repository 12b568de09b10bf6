import { ChildProcess, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The exit code, the signal that ended it, or 'timeout'. Resolves at once if already gone. */
export function waitForExit(
  child: ChildProcess,
  timeoutMs: number,
): Promise<number | NodeJS.Signals | 'timeout'> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal ?? 'timeout');
    });
  });
}

export { freePort } from '../scripts/lib/net';

let ticksPerSecond: number | undefined;

interface ProcStat {
  ppid: number;
  /** utime + stime, and cutime + cstime (reaped children), in seconds. */
  own: number;
  children: number;
}

function procStat(pid: number | string): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state ppid … utime(14) stime cutime cstime, 1-based in proc(5).
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;
    const at = (n: number) => Number(fields[n - 3]) / ticksPerSecond!;
    return { ppid: Number(fields[1]), own: at(14) + at(15), children: at(16) + at(17) };
  } catch {
    return undefined;
  }
}

/** CPU seconds a process has used so far; null without procfs. */
export function cpuSeconds(pid: number): number | null {
  return procStat(pid)?.own ?? null;
}

/**
 * CPU seconds used so far by a process and all its children, living (PostgreSQL backends,
 * checkpointer, …) or already exited and reaped; null without procfs.
 */
export function treeCpuSeconds(pid: number): number | null {
  const root = procStat(pid);
  if (!root) return null;
  let total = root.own + root.children;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat?.ppid === pid) total += stat.own;
  }
  return total;
}
