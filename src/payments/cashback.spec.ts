import { cashbackAmount, cashbackDueAt, paymentStatus } from './cashback';

describe('cashbackAmount', () => {
  it.each([
    [49, 0],
    [50, 1],
    [99, 1],
    [100, 2],
    [1234, 24],
    [1, 0],
    [1_000_000_000_000_000, 20_000_000_000_000],
    [999_999_999_999_999, 19_999_999_999_999],
  ])('2 %% of %d is %d (rounded down)', (amount, expected) => {
    expect(cashbackAmount(amount, 200)).toBe(expected);
  });

  it('is exact where a float product would round up (10^19-scale products)', () => {
    // 999999999565728 × 6819 / 10000 = 681899999703869.9…; Math.floor of the float gives …870.
    expect(Math.floor((999_999_999_565_728 * 6819) / 10_000)).toBe(681_899_999_703_870);
    expect(cashbackAmount(999_999_999_565_728, 6819)).toBe(681_899_999_703_869);
    expect(cashbackAmount(999_999_999_999_999, 9999)).toBe(999_899_999_999_999);
  });

  it('honours the edges of the rate: 0 bps gives nothing, 10000 bps everything', () => {
    expect(cashbackAmount(1_000_000_000_000_000, 0)).toBe(0);
    expect(cashbackAmount(1_000_000_000_000_000, 10_000)).toBe(1_000_000_000_000_000);
    expect(cashbackAmount(7, 10_000)).toBe(7);
  });

  it('refuses inputs outside its domain instead of rounding them', () => {
    expect(() => cashbackAmount(1.5, 200)).toThrow(RangeError);
    expect(() => cashbackAmount(-1, 200)).toThrow(RangeError);
    expect(() => cashbackAmount(2 ** 53, 200)).toThrow(RangeError);
    expect(() => cashbackAmount(100, 10_001)).toThrow(RangeError);
    expect(() => cashbackAmount(100, 2.5)).toThrow(RangeError);
    expect(() => cashbackAmount(100, -1)).toThrow(RangeError);
  });

  it('says which input is out of range', () => {
    expect(() => cashbackAmount(-1, 200)).toThrow('amount -1 is not a non-negative safe integer');
    expect(() => cashbackAmount(100, -1)).toThrow('rate -1 is not 0 … 10000 basis points');
  });

  it('accepts an amount of 0 (nothing back)', () => {
    expect(cashbackAmount(0, 200)).toBe(0);
  });
});

describe('cashbackDueAt', () => {
  it('is the payment timestamp plus the delay', () => {
    expect(cashbackDueAt(1_763_700_000_000, 86_400_000)).toBe(1_763_786_400_000);
    expect(cashbackDueAt(1_763_700_000_000, 0)).toBe(1_763_700_000_000);
  });
});

describe('paymentStatus', () => {
  const unrefunded = { amount: 2500, refundedAmount: 0 };

  it('is IN_PROGRESS while the cashback is pending', () => {
    expect(paymentStatus({ settledAt: null }, unrefunded)).toBe('IN_PROGRESS');
    expect(paymentStatus({ settledAt: null }, { amount: 2500, refundedAmount: 2499 })).toBe(
      'IN_PROGRESS',
    );
  });

  it('becomes CASHBACK_RECEIVED once the cashback is settled, at any settle time', () => {
    expect(paymentStatus({ settledAt: 1_763_786_400_000 }, unrefunded)).toBe('CASHBACK_RECEIVED');
    expect(paymentStatus({ settledAt: 0 }, unrefunded)).toBe('CASHBACK_RECEIVED');
    expect(paymentStatus({ settledAt: 0 }, { amount: 2500, refundedAmount: 1 })).toBe(
      'CASHBACK_RECEIVED',
    );
  });

  it('is REFUNDED once fully refunded, before or after the cashback', () => {
    const full = { amount: 2500, refundedAmount: 2500 };
    expect(paymentStatus({ settledAt: null }, full)).toBe('REFUNDED');
    expect(paymentStatus({ settledAt: 1_763_786_400_000 }, full)).toBe('REFUNDED');
  });
});
