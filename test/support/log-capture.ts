import { waitFor } from '../../scripts/lib/wait';

export type LogLine = Record<string, unknown> & {
  level?: string;
  msg?: string;
  requestId?: string;
};

/** A pino destination that keeps every line, parsed, for assertions (`createTestApp({ logs: capture.stream })`). */
export class LogCapture {
  readonly lines: LogLine[] = [];
  readonly stream = {
    write: (chunk: string): void => {
      for (const line of chunk.split('\n')) {
        if (line.trim() !== '') this.lines.push(JSON.parse(line) as LogLine);
      }
    },
  };

  forRequest(requestId: string): LogLine[] {
    return this.lines.filter((line) => line.requestId === requestId);
  }

  /**
   * Waits for a line to match: a request's line is written on the response's `finish` event,
   * which may come after the client has read the response.
   */
  waitFor(match: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    return waitFor(
      'a matching log line',
      () => {
        const found = this.lines.find(match);
        if (!found) throw new Error(`none yet; got:\n${this.dump()}`);
        return found;
      },
      { timeoutMs, intervalMs: 20 },
    );
  }

  dump(): string {
    return this.lines.map((line) => JSON.stringify(line)).join('\n');
  }
}
