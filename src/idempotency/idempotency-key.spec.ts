import { createHash } from 'node:crypto';
import { DomainException } from '../common/errors/domain.exception';
import { canonicalJson, parseIdempotencyKey, requestFingerprint } from './idempotency-key';

function rejection(raw: string | string[]): DomainException {
  try {
    parseIdempotencyKey(raw);
  } catch (error) {
    return error as DomainException;
  }
  throw new Error(`${JSON.stringify(raw)} was accepted`);
}

describe('parseIdempotencyKey', () => {
  it('is undefined when the header is absent', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
  });

  it.each([
    'a',
    '3f1c2a9e-5d7b-4e8a-9c1f-2b6d8e0a4c7f',
    '!~"#$%&()*+,./:;<=>?@[\\]^_`{|}',
    'k'.repeat(255),
  ])('accepts %j', (key) => {
    expect(parseIdempotencyKey(key)).toBe(key);
  });

  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['a space', 'a b'],
    ['a tab', 'a\tb'],
    ['a NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
    ['a newline', 'a\nb'],
    ['non-ASCII', 'clé'],
    ['an emoji', 'key-😀'],
    ['two joined keys', 'a, b'],
  ])('refuses %s with VALIDATION_FAILED on the header', (_name, key) => {
    const error = rejection(key);
    expect(error).toBeInstanceOf(DomainException);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.errors).toEqual([{ field: 'Idempotency-Key', message: expect.any(String) }]);
  });

  it('refuses a header given as a list', () => {
    expect(rejection(['a', 'b']).code).toBe('VALIDATION_FAILED');
  });

  it.each([
    [['a', 'b'], 'Idempotency-Key must be sent once'],
    ['', 'Idempotency-Key must not be empty'],
    ['k'.repeat(256), 'Idempotency-Key must be at most 255 characters'],
    ['a b', 'Idempotency-Key must contain only visible ASCII characters (0x21-0x7E)'],
  ])('tells the client what is wrong with %j', (key, message) => {
    expect(rejection(key).errors).toEqual([{ field: 'Idempotency-Key', message }]);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops whitespace', () => {
    const a = JSON.parse('{ "b": 1, "a": { "y": [1, {"d": null, "c": "x"}], "x": true } }');
    expect(canonicalJson(a)).toBe('{"a":{"x":true,"y":[1,{"c":"x","d":null}]},"b":1}');
  });

  it('agrees with JSON.stringify on values without objects', () => {
    for (const value of [0, -1.5, 1e21, 'a"\\\u2028é', true, null, [], [1, 'two', [null]]]) {
      expect(canonicalJson(value)).toBe(JSON.stringify(value));
    }
  });

  it('writes undefined (an absent body, a hole in an array) as null, like JSON.stringify in arrays', () => {
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson([1, undefined, 2])).toBe('[1,null,2]');
  });

  it('keeps a "__proto__" key that JSON.parse made an own property', () => {
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1},"a":2}'))).toBe(
      '{"__proto__":{"x":1},"a":2}',
    );
  });

  it('handles nesting far deeper than the call stack', () => {
    const depth = 200_000;
    const deep: unknown = JSON.parse('['.repeat(depth) + ']'.repeat(depth));
    expect(canonicalJson(deep)).toHaveLength(2 * depth);
  });
});

describe('requestFingerprint', () => {
  const body = { accountId: 'acc-1', amount: 5 };

  it('is the same for bodies differing only in key order', () => {
    expect(requestFingerprint('POST', '/deposits', body)).toBe(
      requestFingerprint('POST', '/deposits', { amount: 5, accountId: 'acc-1' }),
    );
  });

  it('is sha256 over the upper-cased method, the target and the canonical body', () => {
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(requestFingerprint('post', '/deposits', undefined)).toBe(sha256('POST /deposits\n'));
    expect(requestFingerprint('post', '/deposits', { b: 1, a: 2 })).toBe(
      sha256('POST /deposits\n{"a":2,"b":1}'),
    );
  });

  it('differs by method, target and body', () => {
    const base = requestFingerprint('POST', '/deposits', body);
    expect(requestFingerprint('PUT', '/deposits', body)).not.toBe(base);
    expect(requestFingerprint('POST', '/withdrawals', body)).not.toBe(base);
    expect(requestFingerprint('POST', '/deposits?x=1', body)).not.toBe(base);
    expect(requestFingerprint('POST', '/deposits', { ...body, amount: 6 })).not.toBe(base);
    expect(requestFingerprint('POST', '/deposits', { ...body, amount: '5' })).not.toBe(base);
    expect(requestFingerprint('POST', '/deposits', undefined)).not.toBe(
      requestFingerprint('POST', '/deposits', null),
    );
  });
});
