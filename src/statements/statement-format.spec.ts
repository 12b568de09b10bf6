import {
  chooseFormat,
  CSV_COLUMNS,
  EntrySource,
  renderStatement,
  StatementHeader,
} from './statement-format';
import type { RangeTotals } from './statements.repository';

const HEADER: StatementHeader = {
  accountId: 'acc-1',
  currency: 'EUR',
  from: 100,
  to: 200,
  openingBalance: '9007199254740000',
  closingBalance: '9007199254740991',
};

/** A source whose entries arrive in the given chunks and whose totals are `totals`. */
function source(chunks: string[], totals = TOTALS): EntrySource & { totalsRead: number } {
  const src = {
    totalsRead: 0,
    entries: () =>
      Promise.resolve(
        (async function* () {
          for (const chunk of chunks) yield await Promise.resolve(Buffer.from(chunk));
        })(),
      ),
    totals: () => {
      src.totalsRead++;
      return Promise.resolve(totals);
    },
  };
  return src;
}

const TOTALS: RangeTotals = {
  entryCount: '3',
  totalCredits: '10000000000000000',
  totalDebits: '9',
};

async function render(format: 'json' | 'csv' | 'ndjson', src: EntrySource, totals?: RangeTotals) {
  const chunks: string[] = [];
  for await (const chunk of renderStatement(format, HEADER, src, totals)) {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
  }
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

describe('renderStatement', () => {
  it('json: the head, the entries as they stream, then the totals read after them, exact integers', async () => {
    const src = source(['{"entryId":"1"}\n,{"entryId":"2"}\n', ',{"entryId":"3"}\n']);
    const chunks = await render('json', src);
    expect(chunks).toHaveLength(4);
    const text = chunks.join('');
    expect(text.startsWith('{"accountId":"acc-1","currency":"EUR","from":100,"to":200,')).toBe(
      true,
    );
    expect(text).toContain('"openingBalance":9007199254740000,"closingBalance":9007199254740991');
    expect(
      text.endsWith('],"totalCredits":10000000000000000,"totalDebits":9,"entryCount":3}'),
    ).toBe(true);
    expect((JSON.parse(text) as { entries: unknown[] }).entries).toEqual([
      { entryId: '1' },
      { entryId: '2' },
      { entryId: '3' },
    ]);
    expect(src.totalsRead).toBe(1);
  });

  it('json: an empty range is a complete document', async () => {
    const empty = { entryCount: '0', totalCredits: '0', totalDebits: '0' };
    expect(JSON.parse((await render('json', source([], empty))).join(''))).toMatchObject({
      entries: [],
      entryCount: 0,
      totalCredits: 0,
      totalDebits: 0,
    });
  });

  it('ndjson: the totals given go on the first line, then the entry lines', async () => {
    const totals = { entryCount: '1', totalCredits: '0', totalDebits: '9' };
    const src = source(['{"entryId":"2","amount":-9}\n']);
    const lines = (await render('ndjson', src, totals)).join('').split('\n');
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
    expect(src.totalsRead).toBe(0);
  });

  it('ndjson: refuses to start without its totals', async () => {
    await expect(render('ndjson', source([]))).rejects.toThrow(/totals/);
  });

  it('csv: the header row with CRLF, then the rows as they come', async () => {
    const text = (await render('csv', source(['1,u1,101,PAYMENT,-5,0,,,\r\n']))).join('');
    expect(text).toBe(`${CSV_COLUMNS.join(',')}\r\n1,u1,101,PAYMENT,-5,0,,,\r\n`);
  });
});
