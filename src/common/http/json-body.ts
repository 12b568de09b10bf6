import { parse as parseLossless } from 'lossless-json';
import { DomainException } from '../errors/domain.exception';

/**
 * A JSON number written with a fraction or an exponent (`1.0`, `1e2`, `0.99999999999999999`).
 * Every number of this API is an integer (minor units, epoch ms, a page size), and the double
 * such a literal parses to may be an integer by rounding, so the parser keeps its text instead:
 * no integer validator accepts it, and nothing ever reads it as a number.
 */
export class NonIntegerLiteral {
  constructor(readonly literal: string) {}

  toJSON(): string {
    return this.literal;
  }
}

/**
 * No request body of this API nests deeper than two levels. A body nested thousands of levels
 * deep is valid JSON, but the parser, class-transformer and the validator walk it
 * recursively and would overflow the stack (a 500). Refuse it before parsing.
 */
export const MAX_JSON_DEPTH = 32;

const INTEGER_LITERAL = /^-?(?:0|[1-9]\d*)$/;

/** Integer literals become numbers (beyond 2^53 they round, but every limit of the API is lower). */
function parseNumber(text: string): number | NonIntegerLiteral {
  return INTEGER_LITERAL.test(text) ? Number(text) : new NonIntegerLiteral(text);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function unsupported(detail: string): DomainException {
  return new DomainException('UNSUPPORTED_MEDIA_TYPE', detail);
}

function malformed(reason: string): DomainException {
  return new DomainException('MALFORMED_JSON', `The request body is not valid JSON: ${reason}`);
}

/**
 * Refuses any Content-Type but `application/json` (its only parameter may be `charset=utf-8`)
 * and any Content-Encoding but `identity`, naming what is expected. Headers absent mean the
 * body was sent as something else (curl's default is a form), so that is a 415 too.
 */
export function assertJsonMediaType(
  contentType: string | undefined,
  contentEncoding: string | undefined,
): void {
  const expected = 'Send the body as application/json (UTF-8).';
  if (contentEncoding !== undefined && contentEncoding.trim().toLowerCase() !== 'identity') {
    throw unsupported(
      `Content-Encoding ${JSON.stringify(contentEncoding)} is not supported: send the body uncompressed. ${expected}`,
    );
  }
  if (contentType === undefined) {
    throw unsupported(`The request body has no Content-Type. ${expected}`);
  }
  const [type = '', ...params] = contentType.split(';');
  if (type.trim().toLowerCase() !== 'application/json') {
    throw unsupported(`Content-Type ${JSON.stringify(type.trim())} is not supported. ${expected}`);
  }
  for (const param of params) {
    const [name = '', value = ''] = param.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    if (value.trim().replace(/^"|"$/g, '').toLowerCase() !== 'utf-8') {
      throw unsupported(`Charset ${JSON.stringify(value.trim())} is not supported. ${expected}`);
    }
  }
}

/**
 * Nesting depth and number of object members (one `:` each) of syntactically valid JSON text,
 * counted in one pass without recursion; strings are skipped. The depth is checked before
 * parsing (the parser recurses, and class-transformer and class-validator after it), the
 * member count after, against the keys the objects ended up with (see parseJsonBody).
 */
function scan(text: string): { tooDeep: boolean; members: number } {
  let depth = 0;
  let members = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) return { tooDeep: true, members };
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x3a) {
      members++;
    }
  }
  return { tooDeep: false, members };
}

/** Own keys of every object in a parsed value, counted without recursion. */
function countKeys(root: unknown): number {
  let keys = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object' || value instanceof NonIntegerLiteral) continue;
    if (Array.isArray(value)) {
      stack.push(...(value as unknown[]));
    } else {
      const own = Object.keys(value);
      keys += own.length;
      for (const key of own) stack.push((value as Record<string, unknown>)[key]);
    }
  }
  return keys;
}

/**
 * A request body as this API reads it: UTF-8 JSON text whose top level is an object.
 * - bytes that are not UTF-8 (UTF-16 always has NUL bytes, which UTF-8 JSON never has): 415;
 * - nested deeper than MAX_JSON_DEPTH: 400 VALIDATION_FAILED;
 * - not JSON, or an object with a key given twice (same value or not): 400 MALFORMED_JSON;
 * - valid JSON that is not an object (`null`, `"x"`, `[]`): 400 VALIDATION_FAILED;
 * - numbers: integer literals as numbers, anything else as a NonIntegerLiteral.
 * lossless-json parses (it reports a repeated key and hands over each number's text); keys
 * such as `__proto__` become ordinary own properties, as with JSON.parse.
 */
export function parseJsonBody(bytes: Buffer): Record<string, unknown> {
  let text: string;
  try {
    if (bytes.includes(0)) throw new TypeError('NUL byte');
    text = utf8.decode(bytes);
  } catch {
    throw unsupported('The request body is not UTF-8. Send the body as application/json (UTF-8).');
  }
  const { tooDeep, members } = scan(text);
  if (tooDeep) {
    throw new DomainException(
      'VALIDATION_FAILED',
      `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`,
      [{ field: 'body', message: `body must not nest deeper than ${MAX_JSON_DEPTH} levels` }],
    );
  }
  let value: unknown;
  try {
    value = parseLossless(text, undefined, { parseNumber });
  } catch (error) {
    throw malformed(error instanceof Error ? error.message : String(error));
  }
  if (countKeys(value) !== members) throw malformed('an object has the same key twice.');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DomainException(
      'VALIDATION_FAILED',
      'The request body is valid JSON but not an object.',
      [{ field: 'body', message: 'body must be a JSON object' }],
    );
  }
  return value as Record<string, unknown>;
}
