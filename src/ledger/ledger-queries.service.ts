import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock/clock';
import { AccountNotFoundException, DomainException } from '../common/errors/domain.exception';
import { decodeCursor, Page, toPage } from '../common/http/pagination';
import { HistoryQueryDto, LedgerEntryDto, TransactionDto } from './dto/ledger-entry.dto';
import { LedgerEngine } from './engine/ledger-engine';
import { AccountsRepository } from './repositories/accounts.repository';
import { LedgerRepository } from './repositories/ledger.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Read side of the ledger: history, movements and balances in the past. */
@Injectable()
export class LedgerQueries {
  constructor(
    private readonly entries: LedgerRepository,
    private readonly accounts: AccountsRepository,
    private readonly engine: LedgerEngine,
    private readonly clock: Clock,
  ) {}

  /** The balance after every entry with timestamp ≤ at (one index probe). */
  async balanceAt(accountId: string, at: number): Promise<number> {
    await this.makeFinal(accountId, at);
    return this.entries.balanceAt(accountId, at);
  }

  /**
   * Makes the history of the account up to `asOf` final before a read of it, so the same read
   * repeated later gives the same answer (contract, guarantee 6). A movement is stamped when
   * its batch has locked the account, and becomes visible at COMMIT, a few ms later. So: wait
   * until the clock has passed `asOf` (a batch locking from now on is stamped later than it),
   * then for the batches that hold the account's lock now. Only for reads as of a time that
   * has come; the wait for the clock is bounded (a test's manual clock does not move).
   */
  private async makeFinal(accountId: string, asOf: number): Promise<void> {
    if (asOf > this.clock.now()) return;
    for (let waited = 0; waited < 5 && this.clock.now() <= asOf; waited++) await sleep(1);
    await this.accounts.awaitMovementsInFlight(accountId);
  }

  /** One account's entries in (timestamp, entryId) order, keyset-paginated. */
  async history(accountId: string, query: HistoryQueryDto): Promise<Page<LedgerEntryDto>> {
    const account = await this.accounts.findById(accountId);
    if (!account) throw new AccountNotFoundException(accountId);
    await this.engine.settleBeforeRead(account);
    if (query.timestamp !== undefined) await this.makeFinal(accountId, query.timestamp);
    const after = query.cursor ? decodeCursor<[number, string]>(query.cursor, 'nd') : undefined;
    const rows = await this.entries.history(accountId, query.limit + 1, query.timestamp, after);
    return toPage(rows, query.limit, LedgerEntryDto.from, (e) => [e.timestamp, e.entryId]);
  }

  async transaction(transactionId: string): Promise<TransactionDto> {
    const notFound = () =>
      new DomainException('TRANSACTION_NOT_FOUND', `Transaction ${transactionId} does not exist.`);
    if (!UUID.test(transactionId)) throw notFound();
    const rows = await this.entries.movement(transactionId.toLowerCase());
    const first = rows[0];
    if (!first) throw notFound();
    const type = rows.some((e) => e.type === 'TRANSFER_OUT' || e.type === 'TRANSFER_IN')
      ? 'TRANSFER'
      : first.type;
    return {
      transactionId: first.movementId,
      type,
      timestamp: first.timestamp,
      entries: rows.map(LedgerEntryDto.from),
      reversedAmount: await this.entries.reversedAmount(first.movementId),
    };
  }
}
