import { createHash } from 'node:crypto';
import { ValidationFailedException } from '../common/errors/domain.exception';
import { IDEMPOTENCY_KEY_HEADER } from '../common/http/idempotency-headers';

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const VISIBLE_ASCII = /^[\x21-\x7E]*$/;

function invalid(message: string): ValidationFailedException {
  return new ValidationFailedException([{ field: IDEMPOTENCY_KEY_HEADER, message }]);
}

/**
 * The Idempotency-Key of a request: undefined when the header is absent, else 1–255 visible
 * ASCII characters (0x21–0x7E) or a VALIDATION_FAILED. Node joins a repeated header with
 * ", ", which contains a space, so two keys on one request are refused too.
 */
export function parseIdempotencyKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) throw invalid(`${IDEMPOTENCY_KEY_HEADER} must be sent once`);
  if (raw.length === 0) throw invalid(`${IDEMPOTENCY_KEY_HEADER} must not be empty`);
  if (raw.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw invalid(
      `${IDEMPOTENCY_KEY_HEADER} must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
    );
  }
  if (!VISIBLE_ASCII.test(raw)) {
    throw invalid(
      `${IDEMPOTENCY_KEY_HEADER} must contain only visible ASCII characters (0x21-0x7E)`,
    );
  }
  return raw;
}

type Chunk = string | { value: unknown };

/**
 * JSON with the keys of every object sorted (UTF-16 code unit order), no whitespace: two
 * bodies that differ only in key order or spacing yield the same text. Iterative, so a
 * deeply nested body (JSON.parse accepts any depth) cannot overflow the stack.
 */
export function* canonicalJsonChunks(root: unknown): Generator<string> {
  const stack: Chunk[] = [{ value: root }];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (typeof next === 'string') {
      yield next;
      continue;
    }
    const { value } = next;
    if (value === null || typeof value !== 'object') {
      // undefined (absent body, or a hole) serializes like JSON.stringify does inside arrays.
      yield JSON.stringify(value) ?? 'null';
      continue;
    }
    const items: Chunk[] = [];
    if (Array.isArray(value)) {
      items.push('[');
      for (let i = 0; i < value.length; i++) {
        if (i > 0) items.push(',');
        items.push({ value: value[i] as unknown });
      }
      items.push(']');
    } else {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      items.push('{');
      for (let i = 0; i < keys.length; i++) {
        items.push(`${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:`, { value: record[keys[i]] });
      }
      items.push('}');
    }
    for (let i = items.length - 1; i >= 0; i--) stack.push(items[i]);
  }
}

export function canonicalJson(value: unknown): string {
  return [...canonicalJsonChunks(value)].join('');
}

/**
 * What a key is bound to: sha256 over the method, the request target (path and query, so two
 * different resources are never confused) and the canonical JSON of the parsed body.
 */
export function requestFingerprint(method: string, target: string, body: unknown): string {
  const hash = createHash('sha256');
  hash.update(`${method.toUpperCase()} ${target}\n`);
  if (body !== undefined) {
    for (const chunk of canonicalJsonChunks(body)) hash.update(chunk);
  }
  return hash.digest('hex');
}
