import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock/clock';
import {
  AccountNotFoundException,
  DomainException,
  ValidationFailedException,
} from '../common/errors/domain.exception';
import { decodeCursor, Page, PageQueryDto, toPage } from '../common/http/pagination';
import { DEFAULT_CURRENCY } from '../common/money';
import { Account } from '../ledger/account.entity';
import { LedgerEngine } from '../ledger/engine/ledger-engine';
import { LedgerQueries } from '../ledger/ledger-queries.service';
import { AccountsRepository } from '../ledger/repositories/accounts.repository';
import { AccountDto, BalanceDto } from './dto/account.dto';
import { UpdateAccountDto } from './dto/account-controls.dto';
import { CreateAccountDto } from './dto/create-account.dto';

/** Opening and reading accounts; the rows themselves are the ledger's. */
@Injectable()
export class AccountsService {
  constructor(
    private readonly engine: LedgerEngine,
    private readonly accounts: AccountsRepository,
    private readonly ledger: LedgerQueries,
    private readonly clock: Clock,
  ) {}

  /**
   * Opens an account (a ledger command): a positive initial deposit is booked as a DEPOSIT
   * entry in the same batch. The id is unique forever: two openings of one id, in one batch or
   * in concurrent ones, leave exactly one ACCOUNT_EXISTS-free success.
   */
  create(dto: CreateAccountDto): Promise<AccountDto> {
    const command = {
      kind: 'openAccount' as const,
      accountId: dto.accountId ?? `acc_${randomUUID().replace(/-/g, '')}`,
      currency: dto.currency ?? DEFAULT_CURRENCY,
      initialDeposit: dto.initialDeposit ?? 0,
      overdraftLimit: dto.overdraftLimit ?? 0,
      dailyDebitLimit: dto.dailyDebitLimit ?? null,
    };
    return this.engine.submit(command, AccountDto.from);
  }

  /**
   * New limits, decided on the locked row like every movement, so a limit change and a debit
   * racing it behave as if one ran first.
   */
  update(accountId: string, dto: UpdateAccountDto): Promise<AccountDto> {
    if (dto.overdraftLimit === undefined && dto.dailyDebitLimit === undefined) {
      throw new ValidationFailedException([
        { field: 'body', message: 'give at least one of overdraftLimit, dailyDebitLimit' },
      ]);
    }
    return this.engine.submit(
      {
        kind: 'updateAccount',
        accountId,
        overdraftLimit: dto.overdraftLimit,
        dailyDebitLimit: dto.dailyDebitLimit,
      },
      AccountDto.from,
    );
  }

  /** Freeze, unfreeze or close, on the locked row. */
  changeStatus(accountId: string, action: 'freeze' | 'unfreeze' | 'close'): Promise<AccountDto> {
    return this.engine.submit({ kind: 'changeStatus', accountId, action }, AccountDto.from);
  }

  /** Oldest first; ties on creation time broken by id, so the order is total and stable. */
  async list(query: PageQueryDto): Promise<Page<AccountDto>> {
    const after = query.cursor ? decodeCursor<[number, string]>(query.cursor, 'ns') : undefined;
    const rows = await this.accounts.page(query.limit + 1, after);
    // Settle-on-touch for the listed balances too (rare: only accounts with a credit due).
    for (const [i, row] of rows.entries()) {
      if (await this.engine.settleBeforeRead(row)) {
        rows[i] = (await this.accounts.findById(row.accountId)) ?? row;
      }
    }
    return toPage(rows, query.limit, AccountDto.from, (a) => [a.createdAt, a.accountId]);
  }

  async get(accountId: string): Promise<AccountDto> {
    return AccountDto.from(await this.load(accountId));
  }

  /**
   * The current balance, or the balance as of `at`. An `at` in the future is answered as of
   * the request's time (and says so): a later answer for it could still change.
   */
  async balance(accountId: string, at?: number): Promise<BalanceDto> {
    const account = await this.load(accountId);
    const base = { accountId: account.accountId, currency: account.currency };
    const now = this.clock.now();
    if (at === undefined) {
      const { heldAmount, availableBalance } = AccountDto.from(account);
      return { ...base, balance: account.balance, at: now, heldAmount, availableBalance };
    }
    if (at < account.createdAt) {
      throw new DomainException(
        'ACCOUNT_NOT_FOUND',
        `Account ${accountId} did not exist yet at ${at} (created at ${account.createdAt}).`,
      );
    }
    const asOf = Math.min(at, now);
    const balance = await this.ledger.balanceAt(accountId, asOf);
    return { ...base, balance, at: asOf, heldAmount: null, availableBalance: null };
  }

  /** Reads the account after settling any credit already due on it (settle-on-touch). */
  private async load(accountId: string): Promise<Account> {
    let account = await this.accounts.findById(accountId);
    if (account && (await this.engine.settleBeforeRead(account))) {
      account = await this.accounts.findById(accountId);
    }
    if (!account) throw new AccountNotFoundException(accountId);
    return account;
  }
}
