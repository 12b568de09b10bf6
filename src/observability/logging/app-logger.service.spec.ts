import { createRootLogger } from './root-logger';
import { PinoNestLogger } from './app-logger.service';
import { runInRequestContext } from './request-context';

function setup() {
  const lines: Record<string, unknown>[] = [];
  const pino = createRootLogger({
    level: 'trace',
    destination: { write: (chunk: string) => void lines.push(JSON.parse(chunk)) },
  });
  return { lines, pino, logger: new PinoNestLogger(pino) };
}

const STACK = 'Error: boom\n    at Object.<anonymous> (/app/x.js:1:1)';

describe('PinoNestLogger', () => {
  it("maps Nest's methods to pino levels, with Nest's context as a field", () => {
    const { lines, logger } = setup();
    logger.log('a', 'Ctx');
    logger.warn('b', 'Ctx');
    logger.debug('c', 'Ctx');
    logger.verbose('d', 'Ctx');
    logger.fatal('e', 'Ctx');
    logger.log('no context');
    expect(lines.map((l) => [l.level, l.msg, l.context])).toEqual([
      ['info', 'a', 'Ctx'],
      ['warn', 'b', 'Ctx'],
      ['debug', 'c', 'Ctx'],
      ['trace', 'd', 'Ctx'],
      ['fatal', 'e', 'Ctx'],
      ['info', 'no context', undefined],
    ]);
  });

  it('tells a stack from a context in error(message, stack?, context?)', () => {
    const { lines, logger } = setup();
    logger.error('with both', STACK, 'Ctx');
    logger.error('context only', undefined, 'Ctx');
    logger.error('stack only', STACK);
    expect(lines.map((l) => [l.msg, l.stack, l.context])).toEqual([
      ['with both', STACK, 'Ctx'],
      ['context only', undefined, 'Ctx'],
      ['stack only', STACK, undefined],
    ]);
  });

  it('serializes an Error message as err, and masks credentials in stacks', () => {
    const { lines, logger } = setup();
    logger.error(new Error('connect ECONNREFUSED'), 'ExceptionHandler');
    logger.error('failed', 'Error: x postgres://u:pw@h/d\n    at y (z.js:1:1)', 'Ctx');
    expect(lines[0]).toMatchObject({
      msg: 'connect ECONNREFUSED',
      context: 'ExceptionHandler',
      err: { message: 'connect ECONNREFUSED' },
    });
    expect(lines[1].stack).toContain('postgres://u:***@h/d');
  });

  it('writes through the request logger inside a request context', () => {
    const { lines, pino, logger } = setup();
    runInRequestContext(pino.child({ requestId: 'req-1' }), () => logger.warn('inside', 'Ctx'));
    logger.warn('outside', 'Ctx');
    expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
      ['inside', 'req-1'],
      ['outside', undefined],
    ]);
  });

  it('skips lines below the level', () => {
    const { lines, pino, logger } = setup();
    pino.level = 'warn';
    logger.log('dropped');
    logger.debug('dropped');
    logger.error('kept');
    expect(lines.map((l) => l.msg)).toEqual(['kept']);
  });
});
