import autocannon from 'autocannon';

export const ACCOUNT_COUNT = 1000;
export const HOT_ACCOUNT = 'hot';
/** Every account starts with this much; a transfer moves 1 … 100, so none ever runs dry. */
export const FUNDING = 1_000_000_000;
export const accountId = (i: number) => `acct-${String(i).padStart(4, '0')}`;
export const ALL_ACCOUNTS = Array.from({ length: ACCOUNT_COUNT }, (_, i) => accountId(i));

const randomAccount = () => accountId(Math.floor(Math.random() * ACCOUNT_COUNT));
const randomAmount = () => 1 + Math.floor(Math.random() * 100);
const JSON_HEADERS = { 'content-type': 'application/json' };

export type WorkloadName = 'uniform' | 'c1' | 'hot' | 'payment' | 'read' | 'overload';

export interface Workload {
  name: WorkloadName;
  description: string;
  /** What its requests book, to check afterwards that each 2xx was booked exactly once. */
  books: 'transfers' | 'payments' | 'nothing';
  /** Connections, when not the run's `--connections` (c1: what a lone client waits). */
  connections?: number;
  requests: autocannon.Request[];
}

function transfer(source: () => string, target: (source: string) => string) {
  return (request: autocannon.Request): autocannon.Request => {
    const sourceAccountId = source();
    const targetAccountId = target(sourceAccountId);
    const body = JSON.stringify({ sourceAccountId, targetAccountId, amount: randomAmount() });
    return { ...request, body };
  };
}

const otherThan = (id: string): string => {
  for (;;) {
    const other = randomAccount();
    if (other !== id) return other;
  }
};

const historyPage = (accountId: string, cursor?: string) =>
  `/accounts/${accountId}/transactions?limit=50` +
  (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');

/** Keeps the account and `nextCursor` of the last first page, for the next-page request. */
const rememberCursor = (status: number, body: string, context: autocannon.Context) => {
  context.cursor = undefined;
  if (status !== 200) return;
  const page = JSON.parse(body) as { nextCursor?: string | null };
  context.cursor = page.nextCursor ?? undefined;
};

const uniformTransfers: autocannon.Request[] = [
  {
    method: 'POST',
    path: '/transfers',
    headers: JSON_HEADERS,
    setupRequest: transfer(randomAccount, otherThan),
  },
];

export const WORKLOADS: readonly Workload[] = [
  {
    name: 'uniform',
    description: `POST /transfers between two random accounts of the ${ACCOUNT_COUNT}, amount 1-100`,
    books: 'transfers',
    requests: uniformTransfers,
  },
  {
    name: 'c1',
    description: 'uniform over ONE connection: the latency a lone client sees (batches of one)',
    books: 'transfers',
    connections: 1,
    requests: uniformTransfers,
  },
  {
    name: 'hot',
    description: `POST /transfers from a random account into the one '${HOT_ACCOUNT}' account`,
    books: 'transfers',
    requests: [
      {
        method: 'POST',
        path: '/transfers',
        headers: JSON_HEADERS,
        setupRequest: transfer(randomAccount, () => HOT_ACCOUNT),
      },
    ],
  },
  {
    name: 'payment',
    description: `POST /payments from a random account of the ${ACCOUNT_COUNT}, amount 1-100`,
    books: 'payments',
    requests: [
      {
        method: 'POST',
        path: '/payments',
        headers: JSON_HEADERS,
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ accountId: randomAccount(), amount: randomAmount() }),
        }),
      },
    ],
  },
  {
    name: 'overload',
    description:
      'uniform over 1,000 connections: requests queue as ledger commands, not pool waits',
    books: 'transfers',
    connections: 1000,
    requests: uniformTransfers,
  },
  {
    name: 'read',
    description:
      'per connection in turn: GET /accounts/{id}/balance, a first history page ' +
      '(limit 50), then the next page through its nextCursor; random accounts',
    books: 'nothing',
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: `/accounts/${randomAccount()}/balance` }),
      },
      {
        method: 'GET',
        setupRequest: (request, context) => {
          context.account = randomAccount();
          return { ...request, path: historyPage(context.account as string) };
        },
        onResponse: rememberCursor,
      },
      {
        method: 'GET',
        setupRequest: (request, context) => {
          const cursor = context.cursor as string | undefined;
          const account = cursor ? (context.account as string) : randomAccount();
          return { ...request, path: historyPage(account, cursor) };
        },
      },
    ],
  },
];

let running: autocannon.Instance | undefined;

/** Drives one workload for `seconds` over `connections` keep-alive connections. */
export function drive(
  baseUrl: string,
  workload: Workload,
  connections: number,
  seconds: number,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    running = autocannon(
      {
        url: baseUrl,
        title: workload.name,
        connections,
        duration: seconds,
        timeout: 30,
        requests: workload.requests,
      },
      (error, result) => {
        running = undefined;
        if (error) reject(error);
        else resolve(result);
      },
    );
  });
}

/** Stops the load that is running, if any (Ctrl-C). */
export function stopLoad(): void {
  running?.stop();
}
