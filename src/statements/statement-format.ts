import { stringify } from 'csv-stringify/sync';
import Negotiator from 'negotiator';
import type { CsvEntryRow, JsonEntryRow, RangeTotals } from './statements.repository';

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

/**
 * RFC 4180 quoting (quotes doubled; a field with a comma, quote or line break quoted) and the
 * formula guard (`escape_formulas`: a text field starting with =, +, -, @, tab or CR gets a
 * leading `'`, so a spreadsheet shows it as text instead of running it), by csv-stringify.
 * `eof: false`: one field, no record delimiter after it.
 */
const CSV_FIELD_OPTIONS = { escape_formulas: true, eof: false } as const;
const CSV_EOL = '\r\n';
/** What csv-stringify writes unchanged: no quoting and no guard needed. */
const PLAIN_CSV_FIELD = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/;

/** One free-text CSV field (the paymentId): the common plain case skips the writer. */
export function csvField(value: string | null): string {
  if (value === null || value === '') return '';
  return PLAIN_CSV_FIELD.test(value) ? value : stringify([[value]], CSV_FIELD_OPTIONS);
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

/** Where a statement's entries come from: one async batch source per rendering. */
export interface EntrySource {
  json(): AsyncIterable<JsonEntryRow[]>;
  csv(): AsyncIterable<CsvEntryRow[]>;
}

/**
 * The response body, chunk by chunk: one chunk per batch of rows, so memory holds one batch
 * whatever the range. Entries arrive rendered by the database (see StatementsRepository);
 * balances and totals are written as the exact integers the database holds (sums kept as
 * BigInt), never through a float.
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
  source: EntrySource,
  totals?: RangeTotals,
): AsyncGenerator<string> {
  if (format === 'csv') {
    yield CSV_COLUMNS.join(',') + CSV_EOL;
    for await (const rows of source.csv()) {
      let text = '';
      for (const [columns, paymentId, reversed] of rows)
        text += `${columns},${csvField(paymentId)},${reversed}${CSV_EOL}`;
      yield text;
    }
    return;
  }
  if (format === 'ndjson') {
    if (!totals) throw new Error('an ndjson statement needs its totals first');
    yield `{${headFields(header)},${totalsFields(totals)}}\n`;
    for await (const rows of source.json()) {
      let text = '';
      for (const [entry] of rows) text += entry + '\n';
      yield text;
    }
    return;
  }
  yield `{${headFields(header)},"entries":[`;
  let count = 0;
  let credits = 0n;
  let debits = 0n;
  for await (const rows of source.json()) {
    let text = '';
    for (const [entry, amountText] of rows) {
      const amount = BigInt(amountText);
      if (amount > 0n) credits += amount;
      else debits -= amount;
      text += count++ === 0 ? entry : ',' + entry;
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
