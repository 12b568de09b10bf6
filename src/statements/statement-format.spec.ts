import {
  chooseFormat,
  csvField,
  CSV_COLUMNS,
  EntrySource,
  renderStatement,
  StatementHeader,
} from './statement-format';
import type { CsvEntryRow, JsonEntryRow, RangeTotals } from './statements.repository';

const HEADER: StatementHeader = {
  accountId: 'acc-1',
  currency: 'EUR',
  from: 100,
  to: 200,
  openingBalance: '9007199254740000',
  closingBalance: '9007199254740991',
};

const entry = (id: number, amount: number): JsonEntryRow => [
  JSON.stringify({ entryId: String(id), amount }),
  String(amount),
];

function source(json: JsonEntryRow[][], csv: CsvEntryRow[][] = []): EntrySource {
  async function* from<T>(groups: T[][]) {
    for (const group of groups) yield await Promise.resolve(group);
  }
  return { json: () => from(json), csv: () => from(csv) };
}

async function render(format: 'json' | 'csv' | 'ndjson', src: EntrySource, totals?: RangeTotals) {
  const chunks: string[] = [];
  for await (const chunk of renderStatement(format, HEADER, src, totals)) chunks.push(chunk);
  return chunks;
}

describe('chooseFormat', () => {
  it.each([
    [undefined, undefined, 'json'],
    [undefined, '*/*', 'json'],
    [undefined, 'text/csv', 'csv'],
    [undefined, 'TEXT/CSV', 'csv'],
    [undefined, 'application/x-ndjson', 'ndjson'],
    [undefined, 'text/csv;q=0.2, application/x-ndjson;q=0.8', 'ndjson'],
    [undefined, 'image/png', 'json'],
    ['csv', 'application/x-ndjson', 'csv'],
  ] as const)('format %s, Accept %s → %s', (format, accept, expected) => {
    expect(chooseFormat(format, accept)).toBe(expected);
  });
});

describe('csvField', () => {
  it.each([
    [null, ''],
    ['', ''],
    ['payment42', 'payment42'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=1+2', "'=1+2"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['=HYPERLINK("x","y")', `"'=HYPERLINK(""x"",""y"")"`],
  ])('%j → %j', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });
});

describe('renderStatement', () => {
  it('json: head first, one chunk per batch, totals counted after the entries, exact integers', async () => {
    const chunks = await render('json', source([[entry(1, 900)], [entry(2, -9), entry(3, 100)]]));
    expect(chunks).toHaveLength(4);
    const text = chunks.join('');
    expect(text.startsWith('{"accountId":"acc-1","currency":"EUR","from":100,"to":200,')).toBe(
      true,
    );
    expect(text).toContain('"openingBalance":9007199254740000,"closingBalance":9007199254740991');
    expect(text.endsWith('],"totalCredits":1000,"totalDebits":9,"entryCount":3}')).toBe(true);
    expect((JSON.parse(text) as { entries: unknown[] }).entries).toEqual([
      { entryId: '1', amount: 900 },
      { entryId: '2', amount: -9 },
      { entryId: '3', amount: 100 },
    ]);
  });

  it('json: totals beyond 2^53 stay exact', async () => {
    const big: JsonEntryRow = ['{}', '1000000000000000'];
    const text = (await render('json', source([Array.from({ length: 10 }, () => big)]))).join('');
    expect(text.endsWith('"totalCredits":10000000000000000,"totalDebits":0,"entryCount":10}')).toBe(
      true,
    );
  });

  it('json: an empty range is a complete document', async () => {
    expect(JSON.parse((await render('json', source([]))).join(''))).toMatchObject({
      entries: [],
      entryCount: 0,
      totalCredits: 0,
      totalDebits: 0,
    });
  });

  it('ndjson: the totals given go on the first line, then one entry per line', async () => {
    const totals = { entryCount: '1', totalCredits: '0', totalDebits: '9' };
    const lines = (await render('ndjson', source([[entry(2, -9)]]), totals)).join('').split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0])).toEqual({
      accountId: 'acc-1',
      currency: 'EUR',
      from: 100,
      to: 200,
      openingBalance: 9007199254740000,
      closingBalance: 9007199254740991,
      totalCredits: 0,
      totalDebits: 9,
      entryCount: 1,
    });
    expect(JSON.parse(lines[1])).toEqual({ entryId: '2', amount: -9 });
    expect(lines[2]).toBe('');
  });

  it('csv: header row, CRLF, the paymentId quoted and guarded, the reversedTransactionId or empty', async () => {
    const text = (
      await render(
        'csv',
        source(
          [],
          [
            [
              ['1,u1,101,PAYMENT,-5,0,', '=1+2', ''],
              ['2,u2,102,DEPOSIT,7,7,acc-2', 'a,"b"\r\nc', ''],
            ],
            [
              ['3,u3,103,DEPOSIT,1,8,', null, ''],
              ['4,u4,104,REVERSAL,-1,7,', null, 'u3'],
            ],
          ],
        ),
      )
    ).join('');
    expect(text).toBe(
      `${CSV_COLUMNS.join(',')}\r\n` +
        `1,u1,101,PAYMENT,-5,0,,'=1+2,\r\n` +
        `2,u2,102,DEPOSIT,7,7,acc-2,"a,""b""\r\nc",\r\n` +
        `3,u3,103,DEPOSIT,1,8,,,\r\n` +
        `4,u4,104,REVERSAL,-1,7,,,u3\r\n`,
    );
  });
});
