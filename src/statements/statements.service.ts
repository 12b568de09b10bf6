import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock/clock';
import { AppConfig } from '../config/app-config';
import {
  AccountNotFoundException,
  DomainException,
  ValidationFailedException,
} from '../common/errors/domain.exception';
import { StatementQueryDto } from './dto/statement-query.dto';
import {
  chooseFormat,
  MEDIA_TYPE,
  renderStatement,
  type StatementFormat,
  type StatementHeader,
} from './statement-format';
import { StatementsRepository } from './statements.repository';

export interface StatementBody {
  format: StatementFormat;
  /** Content-Type of the body. */
  contentType: string;
  /** Content-Disposition, for formats meant to be saved as a file. */
  disposition?: string;
  stream: Readable;
}

@Injectable()
export class StatementsService {
  constructor(
    private readonly repository: StatementsRepository,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /**
   * Checks the request and reads the statement's head (account, both balances, and for
   * ndjson the totals) in a fresh read-only snapshot, then returns the body as a stream that
   * copies the entries from that same snapshot as fast as the client takes them (and fails
   * when the client reads nothing for STATEMENT_STALL_TIMEOUT_MS). The
   * snapshot's connection goes back to the pool when the stream ends, fails or is destroyed
   * (the client went away); errors found before the stream exists are thrown as usual.
   */
  async open(accountId: string, query: StatementQueryDto, accept?: string): Promise<StatementBody> {
    const format = chooseFormat(query.format, accept);
    if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
      throw rangeError(`from (${query.from}) is later than to (${query.to})`);
    }
    const now = this.clock.now();
    const snapshot = await this.repository.openSnapshot();
    try {
      const account = await snapshot.account(accountId);
      if (!account) throw new AccountNotFoundException(accountId);
      const from = query.from ?? account.createdAt;
      const to = Math.min(query.to ?? now, now);
      if (from > to) {
        const fromIs = query.from === undefined ? "the account's createdAt, " : '';
        const toIs = query.to === undefined || query.to > now ? "the request's time, " : '';
        throw rangeError(`from (${fromIs}${from}) is later than to (${toIs}${to})`);
      }
      const header: StatementHeader = {
        accountId,
        currency: account.currency,
        from,
        to,
        openingBalance: await snapshot.balanceBefore(accountId, from),
        closingBalance: await snapshot.balanceBefore(accountId, to),
      };
      const totals = format === 'ndjson' ? await snapshot.totals(accountId, from, to) : undefined;
      const stallTimeoutMs = this.config.get('STATEMENT_STALL_TIMEOUT_MS');
      const stream = Readable.from(
        renderStatement(
          format,
          header,
          {
            entries: () => snapshot.copyEntries(format, accountId, from, to, stallTimeoutMs),
            totals: () => snapshot.totals(accountId, from, to),
          },
          totals,
        ),
        { objectMode: false },
      );
      stream.once('error', (error) => void snapshot.close(error));
      stream.once('close', () => void snapshot.close());
      snapshot.onFailure((error) => stream.destroy(error));
      return {
        format,
        contentType: `${MEDIA_TYPE[format]}; charset=utf-8`,
        disposition:
          format === 'csv'
            ? `attachment; filename="statement-${accountId}-${from}-${to}.csv"`
            : undefined,
        stream,
      };
    } catch (error) {
      await snapshot.close(error instanceof DomainException ? undefined : error);
      throw error;
    }
  }
}

function rangeError(message: string): ValidationFailedException {
  return new ValidationFailedException([{ field: 'from', message }]);
}
