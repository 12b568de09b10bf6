import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Account } from '../accounts/account.entity';
import { AccountNotFoundException, DomainException } from '../common/errors/domain.exception';
import { decodeCursor, Page, toPage } from '../common/http/pagination';
import { toSafeInteger } from '../database/bigint.transformer';
import { HistoryQueryDto, LedgerEntryDto, TransactionDto } from './dto/ledger-entry.dto';
import { LedgerEntry } from './ledger-entry.entity';
import { PostingsService } from './postings.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Read side of the ledger: history, movements and balances in the past. */
@Injectable()
export class LedgerQueries {
  constructor(
    @InjectRepository(LedgerEntry) private readonly entries: Repository<LedgerEntry>,
    @InjectRepository(Account) private readonly accounts: Repository<Account>,
    private readonly postings: PostingsService,
  ) {}

  /**
   * The balance after every entry with timestamp ≤ at: the stored balance_after of the last
   * such entry in (timestamp, id) order — one index probe, no summing of history.
   */
  async balanceAt(accountId: string, at: number): Promise<number> {
    const last = await this.entries
      .createQueryBuilder('e')
      .select('e.balance_after', 'balanceAfter')
      .where('e.account_id = :accountId AND e.timestamp <= :at', { accountId, at })
      .orderBy('e.timestamp', 'DESC')
      .addOrderBy('e.transaction_id', 'DESC')
      .limit(1)
      .getRawOne<{ balanceAfter: string }>();
    return last ? toSafeInteger(last.balanceAfter) : 0;
  }

  /** One account's entries in (timestamp, entryId) order, keyset-paginated. */
  async history(accountId: string, query: HistoryQueryDto): Promise<Page<LedgerEntryDto>> {
    const account = await this.accounts.findOneBy({ accountId });
    if (!account) throw new AccountNotFoundException(accountId);
    await this.postings.settleDueBeforeRead(account);
    const qb = this.entries
      .createQueryBuilder('e')
      .where('e.account_id = :accountId', { accountId })
      .orderBy('e.timestamp', 'ASC')
      .addOrderBy('e.transaction_id', 'ASC')
      .limit(query.limit + 1);
    if (query.timestamp !== undefined) {
      qb.andWhere('e.timestamp <= :upTo', { upTo: query.timestamp });
    }
    if (query.cursor) {
      const [timestamp, entryId] = decodeCursor<[number, string]>(query.cursor, 'nd');
      qb.andWhere('(e.timestamp, e.transaction_id) > (:timestamp, :entryId)', {
        timestamp,
        entryId,
      });
    }
    const rows = await qb.getMany();
    return toPage(rows, query.limit, LedgerEntryDto.from, (e) => [e.timestamp, e.entryId]);
  }

  async transaction(transactionId: string): Promise<TransactionDto> {
    const notFound = () =>
      new DomainException('TRANSACTION_NOT_FOUND', `Transaction ${transactionId} does not exist.`);
    if (!UUID.test(transactionId)) throw notFound();
    const rows = await this.entries.find({
      where: { movementId: transactionId.toLowerCase() },
      order: { entryId: 'ASC' },
    });
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
    };
  }
}
