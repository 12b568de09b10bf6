import { stringify } from 'csv-stringify/sync';
import Negotiator from 'negotiator';
import type { RangeTotals, StatementRow } from './statements.repository';

export const STATEMENT_FORMATS = ['json', 'csv', 'ndjson'] as const;
export type StatementFormat = (typeof STATEMENT_FORMATS)[number];

/** The media type of each format, as the contract names them. */
export const MEDIA_TYPE: Record<StatementFormat, string> = {
  json: 'application/json',
  csv: 'text/csv',
  ndjson: 'application/x-ndjson',
};

/** The CSV columns of the contract, in order. */
export const CSV_COLUMNS = [
  'entryId',
  'transactionId',
  'timestamp',
  'type',
  'amount',
  'balanceAfter',
  'counterpartyAccountId',
  'paymentId',
  'reversedTransactionId',
] as const;

/**
 * `format` wins; without it the Accept header chooses among the three media types (q-values
 * honoured, JSON first on ties and for `*\/*`); anything else, or no Accept, is JSON.
 */
export function chooseFormat(
  format: StatementFormat | undefined,
  accept?: string,
): StatementFormat {
  if (format) return format;
  const preferred = new Negotiator({ headers: { accept } }).mediaType([
    MEDIA_TYPE.json,
    MEDIA_TYPE.csv,
    MEDIA_TYPE.ndjson,
  ]);
  return STATEMENT_FORMATS.find((f) => MEDIA_TYPE[f] === preferred?.toLowerCase()) ?? 'json';
}

/** What every format states about the range before (or, for JSON totals, after) the entries. */
export interface StatementHeader {
  accountId: string;
  currency: string;
  from: number;
  to: number;
  /** Decimal integer strings, exact as stored. */
  openingBalance: string;
  closingBalance: string;
}

interface EntryJson {
  entryId: string;
  transactionId: string;
  accountId: string;
  type: string;
  amount: number;
  balanceAfter: number;
  timestamp: number;
  counterpartyAccountId: string | null;
  paymentId: string | null;
  reversedTransactionId: null;
}

/**
 * A ledger row as the contract's LedgerEntry. Money columns are bounded by CHECKs to the safe
 * integer range, so Number() is exact. `reversedTransactionId` is null until reversals exist.
 */
export function toEntry(row: StatementRow): EntryJson {
  return {
    entryId: row[0],
    transactionId: row[1],
    accountId: row[2],
    type: row[3],
    amount: Number(row[4]),
    balanceAfter: Number(row[5]),
    timestamp: Number(row[6]),
    counterpartyAccountId: row[7],
    paymentId: row[8],
    reversedTransactionId: null,
  };
}

/**
 * RFC 4180 (CRLF, quotes doubled, fields with a comma, quote or line break quoted) via
 * csv-stringify. `escape_formulas` prefixes a text field that starts with =, +, -, @, tab or
 * CR with `'`, so a spreadsheet shows it as text instead of running it; numbers (a negative
 * amount) stay numbers.
 */
const CSV_OPTIONS = { record_delimiter: 'windows', escape_formulas: true } as const;

function csvRow(row: StatementRow): (string | number | null)[] {
  return [
    row[0],
    row[1],
    Number(row[6]),
    row[3],
    Number(row[4]),
    Number(row[5]),
    row[7],
    row[8],
    null,
  ];
}

/** The JSON body's fields but `entries` (the first ndjson line; all of the JSON body's head). */
function headFields(header: StatementHeader): string {
  return (
    `"accountId":${JSON.stringify(header.accountId)},"currency":${JSON.stringify(header.currency)},` +
    `"from":${header.from},"to":${header.to},` +
    `"openingBalance":${header.openingBalance},"closingBalance":${header.closingBalance}`
  );
}

function totalsFields(totals: RangeTotals): string {
  return (
    `"totalCredits":${totals.totalCredits},"totalDebits":${totals.totalDebits},` +
    `"entryCount":${totals.entryCount}`
  );
}

/**
 * The response body, chunk by chunk: one chunk per batch of rows, so memory holds one batch
 * whatever the range. Balances and totals are written as the exact integers the database
 * holds (sums kept as BigInt), never through a float.
 *
 * - json: the head fields first (both balances are index probes), then `entries`, then the
 *   totals, counted while the entries pass (JSON key order carries no meaning).
 * - ndjson: the first line needs the totals, so they come from `totals` (read beforehand in
 *   the same snapshot).
 * - csv: the header row, then one row per entry.
 */
export async function* renderStatement(
  format: StatementFormat,
  header: StatementHeader,
  batches: AsyncIterable<StatementRow[]>,
  totals?: RangeTotals,
): AsyncGenerator<string> {
  if (format === 'csv') {
    yield stringify([[...CSV_COLUMNS]], CSV_OPTIONS);
    for await (const rows of batches) yield stringify(rows.map(csvRow), CSV_OPTIONS);
    return;
  }
  if (format === 'ndjson') {
    if (!totals) throw new Error('an ndjson statement needs its totals first');
    yield `{${headFields(header)},${totalsFields(totals)}}\n`;
    for await (const rows of batches) {
      let text = '';
      for (const row of rows) text += JSON.stringify(toEntry(row)) + '\n';
      yield text;
    }
    return;
  }
  yield `{${headFields(header)},"entries":[`;
  let count = 0;
  let credits = 0n;
  let debits = 0n;
  for await (const rows of batches) {
    let text = '';
    for (const row of rows) {
      const amount = BigInt(row[4]);
      if (amount > 0n) credits += amount;
      else debits -= amount;
      text += (count++ === 0 ? '' : ',') + JSON.stringify(toEntry(row));
    }
    yield text;
  }
  const computed: RangeTotals = {
    entryCount: String(count),
    totalCredits: String(credits),
    totalDebits: String(debits),
  };
  yield `],${totalsFields(computed)}}`;
}
