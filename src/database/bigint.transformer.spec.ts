import { bigintTransformer, toSafeInteger } from './bigint.transformer';

describe('bigint transformer', () => {
  it('converts driver strings exactly up to 2^53−1', () => {
    expect(bigintTransformer.from('9007199254740991')).toBe(9_007_199_254_740_991);
    expect(bigintTransformer.from('0')).toBe(0);
    expect(bigintTransformer.from(null)).toBeNull();
  });

  it('refuses values that a number cannot hold exactly', () => {
    expect(() => toSafeInteger('9007199254740993')).toThrow(RangeError);
  });
});
