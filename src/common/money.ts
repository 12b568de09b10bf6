/** Limits of the contract (../shared/API.md, "money" and "ids"). */
export const MIN_AMOUNT = 1;
export const MAX_AMOUNT = 1_000_000_000_000_000; // 10^15
/** 2^53−1: every balance stays exact in a JavaScript number. Also a CHECK in the schema. */
export const MAX_BALANCE = Number.MAX_SAFE_INTEGER;

export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;
export const DEFAULT_CURRENCY = 'USD';
