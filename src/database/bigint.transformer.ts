import { ValueTransformer } from 'typeorm';

/**
 * node-postgres returns BIGINT as a string to avoid silent precision loss. Money in this
 * service is bounded by CHECK constraints to 0 … 2^53−1, so every value converts exactly;
 * anything outside the safe range is a bug and fails loudly instead of rounding.
 */
export function toSafeInteger(value: string | number | bigint): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`BIGINT value ${String(value)} is outside the safe integer range`);
  }
  return n;
}

export const bigintTransformer: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : toSafeInteger(value)),
};
