import {
  Inject,
  Injectable,
  Logger,
  LoggerService,
  LogLevel as NestLogLevel,
} from '@nestjs/common';
import type { DestinationStream, Level, Logger as PinoLogger } from 'pino';
import { AppConfig } from '../../config/app-config';
import { currentRequestLogger } from './request-context';
import { createRootLogger, scrubCredentials, stricterLevel } from './root-logger';

/** Where log lines go; tests inject a stream to read them. Unset: stdout. */
export class LogDestination {
  constructor(readonly stream?: DestinationStream) {}
}

const PINO_LEVEL_OF: Record<NestLogLevel, Level> = {
  verbose: 'trace',
  debug: 'debug',
  log: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
};
const NEST_LEVELS_MOST_VERBOSE_FIRST: NestLogLevel[] = [
  'verbose',
  'debug',
  'log',
  'warn',
  'error',
  'fatal',
];

/** A stack trace as Nest passes it to `error(message, stack, context)`. */
const STACK = /^.*\n\s+at .+/s;

/**
 * Nest's LoggerService over a pino logger, so Nest's own lines are JSON like the rest. Inside
 * a request it writes through that request's child logger (request id included).
 */
export class PinoNestLogger implements LoggerService {
  constructor(readonly pino: PinoLogger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /**
   * Nest calls `log(message, context)` and `error(message, stack, context)`; `Logger` with a
   * context appends it as the last argument, so a trailing string that is not a stack is it.
   */
  private write(level: Level, message: unknown, params: unknown[]): void {
    const logger = currentRequestLogger() ?? this.pino;
    if (!logger.isLevelEnabled(level)) return;
    const rest = [...params];
    const fields: Record<string, unknown> = {};
    const last = rest[rest.length - 1];
    if (typeof last === 'string' && !STACK.test(last)) fields.context = rest.pop();
    const stack = rest.findIndex((p) => typeof p === 'string' && STACK.test(p));
    if (stack >= 0) fields.stack = scrubCredentials(rest.splice(stack, 1)[0] as string);
    const extra = rest.filter((p) => p !== undefined);
    if (extra.length > 0) fields.details = extra;

    if (message instanceof Error) {
      logger[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      logger[level]({ ...fields, ...message });
    } else {
      logger[level](fields, String(message));
    }
  }
}

/**
 * The app's logger: LOG_LEVEL, to stdout unless a LogDestination is provided, but never more
 * verbose than the `logger` levels the Nest app was created with: the e2e test apps use
 * `['error', 'warn']`, which keeps test output quiet.
 */
@Injectable()
export class AppLogger extends PinoNestLogger {
  constructor(config: AppConfig, @Inject(LogDestination) destination: LogDestination) {
    super(createRootLogger({ level: config.get('LOG_LEVEL'), destination: destination.stream }));
  }

  /** Applies the cap of Nest's own level setting; call before installing this logger. */
  capToNestLevels(): void {
    const mostVerbose = NEST_LEVELS_MOST_VERBOSE_FIRST.find((l) => Logger.isLevelEnabled(l));
    const cap = mostVerbose ? PINO_LEVEL_OF[mostVerbose] : 'silent';
    this.pino.level = stricterLevel(this.pino.level as Level | 'silent', cap);
  }
}
