import type { DestinationStream } from 'pino';
import { createRootLogger, prettyStdout, scrubCredentials, stricterLevel } from './root-logger';

function capture(): { stream: DestinationStream; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = {
    write: (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
    },
  };
  return { stream, lines };
}

describe('scrubCredentials', () => {
  it('masks the password of any URL in a text, keeping user and host', () => {
    expect(scrubCredentials('at postgresql://app:hunter2@db:5432/ledger, retrying')).toBe(
      'at postgresql://app:***@db:5432/ledger, retrying',
    );
    expect(scrubCredentials('a postgres://u:p@h/d and redis://x:y@z')).toBe(
      'a postgres://u:***@h/d and redis://x:***@z',
    );
  });

  it('leaves URLs without a password alone', () => {
    const text = 'postgresql://postgres@127.0.0.1:5432/ledger and http://host/path?a=b@c';
    expect(scrubCredentials(text)).toBe(text);
  });
});

describe('stricterLevel', () => {
  it('keeps the less verbose of two levels', () => {
    expect(stricterLevel('info', 'warn')).toBe('warn');
    expect(stricterLevel('error', 'debug')).toBe('error');
    expect(stricterLevel('trace', 'silent')).toBe('silent');
    expect(stricterLevel('fatal', 'fatal')).toBe('fatal');
  });
});

describe('prettyStdout', () => {
  const factory = jest.fn(() => ({ write: () => undefined }));

  it('is pino-pretty only on a terminal', () => {
    expect(prettyStdout(false, () => factory)).toBeUndefined();
    expect(factory).not.toHaveBeenCalled();
    expect(prettyStdout(true, () => factory)).toBeDefined();
  });

  it('falls back to JSON when pino-pretty is not installed (the production image)', () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module 'pino-pretty'"), {
        code: 'MODULE_NOT_FOUND',
      });
    };
    expect(prettyStdout(true, missing)).toBeUndefined();
  });
});

describe('createRootLogger', () => {
  it('writes one JSON object per line with a level label and an ISO time', () => {
    const { stream, lines } = capture();
    createRootLogger({ level: 'info', destination: stream }).info({ a: 1 }, 'hello');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', a: 1, msg: 'hello', time: expect.any(String) }),
    ]);
    expect(new Date(lines[0].time as string).toISOString()).toBe(lines[0].time);
  });

  it('honours the level', () => {
    const { stream, lines } = capture();
    const logger = createRootLogger({ level: 'warn', destination: stream });
    logger.info('dropped');
    logger.debug('dropped');
    logger.warn('kept');
    expect(lines.map((l) => l.msg)).toEqual(['kept']);
  });

  it('never writes a password: URL credentials are masked, password fields redacted', () => {
    const { stream, lines } = capture();
    const logger = createRootLogger({ level: 'info', destination: stream });
    logger.info('connecting to postgresql://app:hunter2@db/ledger');
    logger.info({ password: 'hunter2', config: { password: 'hunter2' } }, 'config');
    logger.error({ err: new Error('failed: postgres://app:hunter2@db/ledger') }, 'boom');
    const text = JSON.stringify(lines);
    expect(text).not.toContain('hunter2');
    expect(text).toContain('postgresql://app:***@db/ledger');
    expect(lines[2]).toMatchObject({ err: { type: 'Error', stack: expect.any(String) } });
  });
});
