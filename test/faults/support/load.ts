import { waitFor } from '../../../scripts/lib/wait';
import { call, CallOptions, describeReply, Reply } from './http';
import type { Service } from './service';
import { pick, randomInt } from './util';

export interface PlannedRequest<T> {
  method: string;
  path: string;
  body?: unknown;
  options?: CallOptions;
  /** What the test needs to remember about this request (e.g. its unique amount). */
  tag: T;
}

export interface Exchange<T> {
  request: PlannedRequest<T>;
  reply: Reply;
}

/**
 * Closed-loop load: `workers` concurrent clients, each sending its next request as soon as the
 * previous one is answered, against 127.0.0.1 only. Bounded by `maxRequests` and by `stop()`;
 * never throws (network errors are replies with status 0).
 */
export class Load<T> {
  readonly exchanges: Exchange<T>[] = [];
  inFlight = 0;
  private issued = 0;
  private stopped = false;
  readonly done: Promise<void>;

  constructor(
    private readonly options: {
      workers: number;
      maxRequests: number;
      target: () => string;
      next: (index: number) => PlannedRequest<T>;
    },
  ) {
    this.done = Promise.all(Array.from({ length: options.workers }, () => this.worker())).then(
      () => undefined,
    );
  }

  /** No new requests after this; the ones in flight still complete. */
  stop(): void {
    this.stopped = true;
  }

  get count(): number {
    return this.exchanges.length;
  }

  /** The replies whose status is none of `statuses` (0: no response), described for a failure message. */
  repliesOtherThan(statuses: readonly number[]): string[] {
    return this.exchanges
      .filter((e) => !statuses.includes(e.reply.status))
      .map((e) => describeReply(e.reply));
  }

  private async worker(): Promise<void> {
    while (!this.stopped && this.issued < this.options.maxRequests) {
      const request = this.options.next(this.issued++);
      this.inFlight++;
      const reply = await call(this.options.target(), request.method, request.path, {
        ...request.options,
        body: request.body,
      });
      this.inFlight--;
      this.exchanges.push({ request, reply });
    }
  }
}

/**
 * kill -9 under load: once `until` holds (polled, for up to 90 s), SIGKILLs `service` while
 * `load` still runs against it, then stops the load and waits for the replies of the requests
 * that were in flight (status 0 for those the dead service never answered). `inFlightAtKill`
 * is read right before the kill.
 */
export async function killUnderLoad<T>(
  service: Service,
  load: Load<T>,
  wait: { what: string; until: () => boolean | Promise<boolean>; intervalMs?: number },
): Promise<{ exit: Awaited<ReturnType<Service['kill']>>; inFlightAtKill: number }> {
  await waitFor(wait.until, {
    what: wait.what,
    timeoutMs: 90_000,
    intervalMs: wait.intervalMs ?? 20,
  });
  const inFlightAtKill = load.inFlight;
  const exit = await service.kill();
  load.stop();
  await load.done;
  return { exit, inFlightAtKill };
}

export interface TransferBody {
  sourceAccountId: string;
  targetAccountId: string;
  amount: number;
}

/** POST /transfers between two different random accounts of `accounts`, 1 … `maxAmount`. */
export function randomTransfer(
  accounts: readonly string[],
  maxAmount: number,
): PlannedRequest<TransferBody> {
  const source = pick(accounts);
  const target = pick(accounts.filter((a) => a !== source));
  const body = {
    sourceAccountId: source,
    targetAccountId: target,
    amount: randomInt(1, maxAmount),
  };
  return { method: 'POST', path: '/transfers', body, tag: body };
}
