import { backoffDelay, DEFAULT_RETRY } from './transaction-runner';

describe('backoffDelay', () => {
  it('grows exponentially and is capped', () => {
    const max = () => 0.999999;
    expect(backoffDelay(1, DEFAULT_RETRY, max)).toBeLessThan(DEFAULT_RETRY.baseDelayMs);
    expect(backoffDelay(3, DEFAULT_RETRY, max)).toBe(DEFAULT_RETRY.baseDelayMs * 4 - 1);
    expect(backoffDelay(30, DEFAULT_RETRY, max)).toBe(DEFAULT_RETRY.maxDelayMs - 1);
  });

  it('is jittered between 0 and the ceiling', () => {
    expect(backoffDelay(4, DEFAULT_RETRY, () => 0)).toBe(0);
    expect(backoffDelay(4, DEFAULT_RETRY, () => 0.5)).toBe(
      Math.floor(DEFAULT_RETRY.baseDelayMs * 8 * 0.5),
    );
  });
});
