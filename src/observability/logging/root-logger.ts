import { createRequire } from 'node:module';
import { pino, stdSerializers, type DestinationStream, type Level, type Logger } from 'pino';
import type { LogLevel } from '../../config/environment';

/** `scheme://user:secret@host` → `scheme://user:***@host`, wherever it appears in a string. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi;

export function scrubCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1:***@');
}

export interface RootLoggerOptions {
  level: LogLevel;
  /** Where lines go. Unset: stdout, pretty-printed when stdout is a terminal. */
  destination?: DestinationStream;
}

/** pino's error serializer, with credentials masked in the message and the stack. */
export function serializeError(error: Error): ReturnType<typeof stdSerializers.err> {
  const serialized = stdSerializers.err(error);
  if (typeof serialized.message === 'string') {
    serialized.message = scrubCredentials(serialized.message);
  }
  if (typeof serialized.stack === 'string') serialized.stack = scrubCredentials(serialized.stack);
  return serialized;
}

type PrettyFactory = (options: Record<string, unknown>) => DestinationStream;

function loadPinoPretty(): PrettyFactory {
  return createRequire(__filename)('pino-pretty') as PrettyFactory;
}

/**
 * Pretty, coloured lines when stdout is a terminal and pino-pretty is installed; otherwise
 * undefined, and the output stays one JSON object per line. pino-pretty is a dev dependency:
 * the production image does not have it.
 */
export function prettyStdout(
  isTTY = process.stdout.isTTY === true,
  load: () => PrettyFactory = loadPinoPretty,
): DestinationStream | undefined {
  if (!isTTY) return undefined;
  try {
    return load()({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l' });
  } catch {
    return undefined;
  }
}

/**
 * An app's root pino logger (main.ts also makes one for boot lines); Nest's logs, request lines
 * and request-scoped children all derive from it. Secrets stay out: credentials inside URLs are masked in messages and error
 * texts, and fields named like passwords or DATABASE_URL are redacted.
 */
export function createRootLogger(options: RootLoggerOptions): Logger {
  const pretty = options.destination ? undefined : prettyStdout();
  const destination = options.destination ?? pretty ?? pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      // pino-pretty reads numeric levels; JSON readers prefer the label.
      formatters: pretty ? {} : { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'password',
          '*.password',
          'DATABASE_URL',
          '*.DATABASE_URL',
          'req.headers.authorization',
        ],
        censor: '[redacted]',
      },
      serializers: { err: serializeError },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((arg: unknown) =>
            typeof arg === 'string' ? scrubCredentials(arg) : arg,
          ) as Parameters<typeof method>;
          method.apply(this, scrubbed);
        },
      },
    },
    destination,
  );
}

/** Both levels are pino's; the stricter (less verbose) one wins. */
export function stricterLevel(a: Level | 'silent', b: Level | 'silent'): Level | 'silent' {
  const value = (level: Level | 'silent'): number =>
    level === 'silent' ? Infinity : pino.levels.values[level];
  return value(a) >= value(b) ? a : b;
}
