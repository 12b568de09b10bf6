import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Clock } from '../common/clock/clock';
import { AccountNotFoundException, DomainException } from '../common/errors/domain.exception';
import { decodeCursor, Page, PageQueryDto, toPage } from '../common/http/pagination';
import { DEFAULT_CURRENCY } from '../common/money';
import { TransactionRunner, XACT_ID_SQL } from '../database/transaction-runner';
import { LedgerQueries } from '../ledger/ledger-queries.service';
import { PostingsService } from '../ledger/postings.service';
import { Account } from './account.entity';
import { AccountDto, BalanceDto } from './dto/account.dto';
import { CreateAccountDto } from './dto/create-account.dto';

@Injectable()
export class AccountsService {
  constructor(
    @InjectRepository(Account) private readonly accounts: Repository<Account>,
    private readonly transactions: TransactionRunner,
    private readonly postings: PostingsService,
    private readonly ledger: LedgerQueries,
    private readonly clock: Clock,
  ) {}

  /**
   * Opens an account; a positive initial deposit is booked as a DEPOSIT entry in the same
   * transaction. The id is unique forever: `ON CONFLICT DO NOTHING` makes concurrent creations
   * of one id wait for each other, exactly one inserts, the others get ACCOUNT_EXISTS, and
   * the transaction stays usable (no aborted statement to roll back).
   */
  async create(dto: CreateAccountDto): Promise<AccountDto> {
    const accountId = dto.accountId ?? `acc_${randomUUID().replace(/-/g, '')}`;
    const currency = dto.currency ?? DEFAULT_CURRENCY;
    const initialDeposit = dto.initialDeposit ?? 0;
    return this.transactions.run(async (manager) => {
      const createdAt = this.clock.now();
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(Account)
        .values({ accountId, currency, createdAt, balance: 0, lastEntryAt: createdAt })
        .orIgnore()
        .returning(`account_id, ${XACT_ID_SQL} AS xact_id`)
        .execute();
      const [created] = inserted.raw as { xact_id: string }[];
      if (!created) {
        throw new DomainException('ACCOUNT_EXISTS', `Account ${accountId} already exists.`);
      }
      this.transactions.noteTransactionId(created.xact_id);
      const account: Account = {
        accountId,
        currency,
        createdAt,
        balance: 0,
        lastEntryAt: createdAt,
        nextCashbackDueAt: null,
        pendingCredits: 0,
      };
      if (initialDeposit > 0) {
        await this.postings.post(
          manager,
          { accounts: new Map([[accountId, account]]), timestamp: createdAt },
          [{ accountId, type: 'DEPOSIT', amount: initialDeposit }],
        );
      }
      return AccountDto.from(account);
    });
  }

  /** Oldest first; ties on creation time broken by id, so the order is total and stable. */
  async list(query: PageQueryDto): Promise<Page<AccountDto>> {
    const qb = this.accounts
      .createQueryBuilder('a')
      .orderBy('a.created_at', 'ASC')
      .addOrderBy('a.account_id', 'ASC')
      .limit(query.limit + 1);
    if (query.cursor) {
      const [createdAt, accountId] = decodeCursor<[number, string]>(query.cursor, 'ns');
      qb.where('(a.created_at, a.account_id) > (:createdAt, :accountId)', { createdAt, accountId });
    }
    const rows = await qb.getMany();
    // Settle-on-touch for the listed balances too (rare: only accounts with a credit due).
    for (const [i, row] of rows.entries()) {
      if (await this.postings.settleDueBeforeRead(row)) {
        rows[i] = (await this.accounts.findOneBy({ accountId: row.accountId })) ?? row;
      }
    }
    return toPage(rows, query.limit, AccountDto.from, (a) => [a.createdAt, a.accountId]);
  }

  async get(accountId: string): Promise<AccountDto> {
    return AccountDto.from(await this.load(accountId));
  }

  async balance(accountId: string, at?: number): Promise<BalanceDto> {
    const account = await this.load(accountId);
    const base = { accountId: account.accountId, currency: account.currency };
    if (at === undefined) return { ...base, balance: account.balance, at: this.clock.now() };
    if (at < account.createdAt) {
      throw new DomainException(
        'ACCOUNT_NOT_FOUND',
        `Account ${accountId} did not exist yet at ${at} (created at ${account.createdAt}).`,
      );
    }
    return { ...base, balance: await this.ledger.balanceAt(accountId, at), at };
  }

  /** Reads the account after settling any credit already due on it (settle-on-touch). */
  private async load(accountId: string): Promise<Account> {
    let account = await this.accounts.findOneBy({ accountId });
    if (account && (await this.postings.settleDueBeforeRead(account))) {
      account = await this.accounts.findOneBy({ accountId });
    }
    if (!account) throw new AccountNotFoundException(accountId);
    return account;
  }
}
