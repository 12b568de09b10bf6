import type { HoldState } from './commands';

/** A hold as the API shows it (API.md, "Hold"): GET /holds/{holdId} and the `hold.*` events. */
export interface HoldResource {
  holdId: string;
  accountId: string;
  targetAccountId: string | null;
  amount: number;
  status: HoldState['status'];
  expiresAt: number;
  createdAt: number;
  capturedAmount: number;
  capture: {
    transactionId: string;
    amount: number;
    paymentId: string | null;
    timestamp: number;
  } | null;
}

/**
 * The public Hold. In the ledger (not only the holds module's DTO) because the ledger expires
 * holds on its own and writes their `hold.expired` events.
 */
export function holdResource(hold: HoldState): HoldResource {
  return {
    holdId: hold.holdId,
    accountId: hold.accountId,
    targetAccountId: hold.targetAccountId,
    amount: hold.amount,
    status: hold.status,
    expiresAt: hold.expiresAt,
    createdAt: hold.createdAt,
    capturedAmount: hold.capturedAmount,
    capture:
      hold.captureMovementId === null || hold.captureTimestamp === null
        ? null
        : {
            transactionId: hold.captureMovementId,
            amount: hold.capturedAmount,
            paymentId: hold.capturePaymentId,
            timestamp: hold.captureTimestamp,
          },
  };
}
