import { DomainException } from '../errors/domain.exception';
import { assertJsonMediaType, MAX_JSON_DEPTH, NonIntegerLiteral, parseJsonBody } from './json-body';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof DomainException ? error.code : 'NOT_A_DOMAIN_EXCEPTION';
  }
  return undefined;
}

const parse = (text: string) => parseJsonBody(Buffer.from(text, 'utf8'));

describe('parseJsonBody', () => {
  it('keeps integer literals as numbers and any other literal as its text', () => {
    const body = parse('{"a":5,"b":-0,"c":1.0,"d":1e2,"e":0.99999999999999999}');
    expect(body.a).toBe(5);
    expect(body.c).toEqual(new NonIntegerLiteral('1.0'));
    expect(body.d).toEqual(new NonIntegerLiteral('1e2'));
    expect(body.e).toEqual(new NonIntegerLiteral('0.99999999999999999'));
  });

  it('makes __proto__ an own key, never the prototype', () => {
    const body = parse('{"__proto__":{"polluted":1}}');
    expect(Object.keys(body)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    '{"a":1,"a":2}',
    '{"a":1,"a":1}',
    '{"x":{"k":"v","k":"v"}}',
    '[{"a":1},{"b":2,"b":2}]',
    '{"a":',
    '{"a":1}x',
    "{'a':1}",
    '\uFEFF{"a":1}',
  ])('%s is MALFORMED_JSON', (text) => {
    expect(codeOf(() => parse(text))).toBe('MALFORMED_JSON');
  });

  it('does not mistake a colon inside a string, or keys equal across objects, for a repeat', () => {
    expect(parse('{"a":"x:y","b":[{"a":1},{"a":2}],"c\\":":{"a":3}}')).toEqual({
      a: 'x:y',
      b: [{ a: 1 }, { a: 2 }],
      'c":': { a: 3 },
    });
  });

  it.each(['null', '"x"', '[]', '1', 'true'])('%s is valid JSON but VALIDATION_FAILED', (text) => {
    expect(codeOf(() => parse(text))).toBe('VALIDATION_FAILED');
  });

  it('refuses more than MAX_JSON_DEPTH levels before parsing, at any size', () => {
    const nest = (n: number) => '{"a":'.repeat(n - 1) + '[]' + '}'.repeat(n - 1);
    expect(codeOf(() => parse(nest(MAX_JSON_DEPTH)))).toBeUndefined();
    expect(codeOf(() => parse(nest(MAX_JSON_DEPTH + 1)))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => parse('['.repeat(1_000_000)))).toBe('VALIDATION_FAILED');
  });

  it('refuses bytes that are not UTF-8 as UNSUPPORTED_MEDIA_TYPE', () => {
    expect(codeOf(() => parseJsonBody(Buffer.from('{"a":1}', 'utf16le')))).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(codeOf(() => parseJsonBody(Buffer.from('{"a":"é"}', 'latin1')))).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(parseJsonBody(Buffer.from('{"a":"é€😀"}', 'utf8'))).toEqual({ a: 'é€😀' });
  });
});

describe('assertJsonMediaType', () => {
  it.each([
    ['application/json', undefined],
    ['Application/JSON; charset=UTF-8', undefined],
    ['application/json; charset="utf-8"', 'identity'],
  ])('accepts %s (encoding %s)', (type, encoding) => {
    expect(codeOf(() => assertJsonMediaType(type, encoding))).toBeUndefined();
  });

  it.each([
    [undefined, undefined],
    ['text/plain', undefined],
    ['application/x-www-form-urlencoded', undefined],
    ['application/merge-patch+json', undefined],
    ['application/json; charset=utf-16', undefined],
    ['application/json; charset=latin1', undefined],
    ['application/json', 'gzip'],
    ['application/json', 'br'],
  ])('refuses %s (encoding %s) as UNSUPPORTED_MEDIA_TYPE', (type, encoding) => {
    expect(codeOf(() => assertJsonMediaType(type, encoding))).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});
