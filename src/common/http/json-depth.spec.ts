import { jsonDepthExceeds } from './json-depth';

function nestedArrays(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('jsonDepthExceeds', () => {
  it('counts scalars as depth 0 and each array or object as one level', () => {
    expect(jsonDepthExceeds(7, 0)).toBe(false);
    expect(jsonDepthExceeds(null, 0)).toBe(false);
    expect(jsonDepthExceeds({}, 0)).toBe(true);
    expect(jsonDepthExceeds({}, 1)).toBe(false);
    expect(jsonDepthExceeds({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(jsonDepthExceeds({ a: [{ b: 1 }] }, 2)).toBe(true);
  });

  it('finds the deep branch among shallow siblings', () => {
    expect(jsonDepthExceeds({ a: 1, b: [], c: { d: nestedArrays(40) } }, 32)).toBe(true);
    expect(jsonDepthExceeds([1, 2, nestedArrays(31)], 32)).toBe(false);
  });

  it('walks a million levels without overflowing the stack', () => {
    expect(jsonDepthExceeds(nestedArrays(1_000_000), 32)).toBe(true);
  });
});
