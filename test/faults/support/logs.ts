/**
 * Output of every service process this test file started (also of those already killed), so
 * a failure message can show what the service logged for the request that went wrong.
 */
const lines: string[] = [];
const MAX_LINES = 5000;

export function recordServiceLog(line: string): void {
  lines.push(line);
  if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
}

/** The service's log lines that mention `needle` (a request id), the first `max` of them. */
export function serviceLinesMentioning(needle: string, max = 3): string[] {
  return lines.filter((l) => l.includes(needle)).slice(0, max);
}
