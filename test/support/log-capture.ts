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
  async waitFor(match: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(match);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`no matching log line in ${timeoutMs} ms; got:\n${this.dump()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  dump(): string {
    return this.lines.map((line) => JSON.stringify(line)).join('\n');
  }
}
