/** Every event type of the contract (API.md, "Events and webhooks"); a filter names only these. */
export const EVENT_TYPES = [
  'account.created',
  'account.updated',
  'transaction.posted',
  'payment.created',
  'payment.cashback_credited',
  'payment.refunded',
  'hold.created',
  'hold.captured',
  'hold.voided',
  'hold.expired',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
