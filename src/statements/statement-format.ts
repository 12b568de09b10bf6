import Negotiator from 'negotiator';
import type { RangeTotals } from './statements.repository';

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

const CSV_EOL = '\r\n';

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

/** Where a statement's entries and totals come from (one snapshot). */
export interface EntrySource {
  /**
   * The entries as the format's bytes: json, the array's elements with their separators;
   * ndjson, one line per entry; csv, one CRLF-ended row per entry.
   */
  entries(): Promise<AsyncIterable<Uint8Array>>;
  /** Count and sums of the range. */
  totals(): Promise<RangeTotals>;
}

/**
 * The response body: the format's head, the entries as they stream from the database, and
 * the format's tail. Balances and totals are written as the exact integers the database
 * holds, never through a float.
 *
 * - json: the head fields first (both balances are index probes), then `entries`, then the
 *   totals, read once the entries are written (JSON key order carries no meaning).
 * - ndjson: the first line needs the totals, so they come first (`totals`, read beforehand in
 *   the same snapshot, so that a failure there is still an error status).
 * - csv: the header row, then one row per entry.
 */
export async function* renderStatement(
  format: StatementFormat,
  header: StatementHeader,
  source: EntrySource,
  totals?: RangeTotals,
): AsyncGenerator<string | Uint8Array> {
  if (format === 'csv') {
    yield CSV_COLUMNS.join(',') + CSV_EOL;
    yield* await source.entries();
    return;
  }
  if (format === 'ndjson') {
    if (!totals) throw new Error('an ndjson statement needs its totals first');
    yield `{${headFields(header)},${totalsFields(totals)}}\n`;
    yield* await source.entries();
    return;
  }
  yield `{${headFields(header)},"entries":[`;
  yield* await source.entries();
  yield `],${totalsFields(await source.totals())}}`;
}
