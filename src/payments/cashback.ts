/** The cashback rule of the contract (../shared/API.md, "Payments and cashback"). */

export const PAYMENT_STATUSES = ['IN_PROGRESS', 'CASHBACK_RECEIVED', 'REFUNDED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

const BPS_PER_UNIT = 10_000n;

/**
 * floor(amount × rateBps / 10000), exactly. amount × rateBps reaches 10^15 × 10^4 = 10^19,
 * far beyond 2^53, so a float product would round (999999999565728 × 6819 bps comes out one
 * too high); BigInt keeps it exact and its division truncates, which is floor for these
 * non-negative operands.
 */
export function cashbackAmount(amount: number, rateBps: number): number {
  if (!Number.isSafeInteger(amount) || amount < 0) {
    throw new RangeError(`amount ${amount} is not a non-negative safe integer`);
  }
  if (!Number.isInteger(rateBps) || rateBps < 0 || rateBps > 10_000) {
    throw new RangeError(`rate ${rateBps} is not 0 … 10000 basis points`);
  }
  return Number((BigInt(amount) * BigInt(rateBps)) / BPS_PER_UNIT);
}

/** The cashback falls due a fixed delay after the payment's own timestamp. */
export function cashbackDueAt(paymentTimestamp: number, delayMs: number): number {
  return paymentTimestamp + delayMs;
}

/**
 * A payment is IN_PROGRESS until its cashback has been settled (credited, or completed
 * without an entry when it rounds to 0), whatever the clock says: a due but not yet settled
 * cashback is settled before any read that could report it, never reported early. A fully
 * refunded payment is REFUNDED, for ever (its pending cashback was cancelled).
 */
export function paymentStatus(
  cashback: { settledAt: number | null },
  payment: { amount: number; refundedAmount: number },
): PaymentStatus {
  if (payment.refundedAmount >= payment.amount) return 'REFUNDED';
  return cashback.settledAt === null ? 'IN_PROGRESS' : 'CASHBACK_RECEIVED';
}
