import { Injectable } from '@nestjs/common';
import { AccountNotFoundException, DomainException } from '../common/errors/domain.exception';
import { decodeCursor, Page, toPage } from '../common/http/pagination';
import { TransactionRunner } from '../database/transaction-runner';
import {
  AuditDto,
  AuditMismatchDto,
  HistoryQueryDto,
  LedgerEntryDto,
  TransactionDto,
} from './dto/ledger-entry.dto';
import { LedgerEngine } from './engine/ledger-engine';
import { AccountsRepository } from './repositories/accounts.repository';
import { LedgerRepository } from './repositories/ledger.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Read side of the ledger: history, movements, balances in the past, and the audit. */
@Injectable()
export class LedgerQueries {
  constructor(
    private readonly entries: LedgerRepository,
    private readonly accounts: AccountsRepository,
    private readonly engine: LedgerEngine,
    private readonly transactions: TransactionRunner,
  ) {}

  /** The balance after every entry with timestamp ≤ at (one index probe). */
  balanceAt(accountId: string, at: number): Promise<number> {
    return this.entries.balanceAt(accountId, at);
  }

  /** One account's entries in (timestamp, entryId) order, keyset-paginated. */
  async history(accountId: string, query: HistoryQueryDto): Promise<Page<LedgerEntryDto>> {
    const account = await this.accounts.findById(accountId);
    if (!account) throw new AccountNotFoundException(accountId);
    await this.engine.settleBeforeRead(account);
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
    };
  }

  /**
   * Recomputes every balance from the ledger and walks every balance_after chain in history
   * order, in one pass over the ledger inside a REPEATABLE READ snapshot (so movements
   * committing meanwhile cannot show up as false mismatches).
   */
  async audit(): Promise<AuditDto> {
    return this.transactions.run(
      async (manager) => {
        const rows: {
          account_id: string;
          balance: string;
          ledger_sum: string;
          last_balance_after: string | null;
          entries: string;
          broken_links: string;
          first_broken_entry: string | null;
        }[] = await manager.query(`
        WITH chain AS (
          SELECT account_id, transaction_id, amount, balance_after,
                 balance_after - amount
                   <> COALESCE(LAG(balance_after) OVER w, 0) AS broken,
                 ROW_NUMBER() OVER (PARTITION BY account_id
                                    ORDER BY timestamp DESC, transaction_id DESC) AS from_end
            FROM ledger_transactions
          WINDOW w AS (PARTITION BY account_id ORDER BY timestamp, transaction_id)
        ), per_account AS (
          SELECT account_id,
                 SUM(amount) AS ledger_sum,
                 COUNT(*) AS entries,
                 COUNT(*) FILTER (WHERE broken) AS broken_links,
                 MIN(transaction_id) FILTER (WHERE broken) AS first_broken_entry,
                 MAX(balance_after) FILTER (WHERE from_end = 1) AS last_balance_after
            FROM chain GROUP BY account_id
        )
        SELECT a.account_id, a.balance,
               COALESCE(p.ledger_sum, 0) AS ledger_sum,
               p.last_balance_after,
               COALESCE(p.entries, 0) AS entries,
               COALESCE(p.broken_links, 0) AS broken_links,
               p.first_broken_entry
          FROM accounts a LEFT JOIN per_account p USING (account_id)
         ORDER BY a.created_at, a.account_id`);
        const mismatches: AuditMismatchDto[] = [];
        let entriesChecked = 0;
        let totalBalance = 0;
        for (const row of rows) {
          const balance = Number(row.balance);
          const ledgerSum = Number(row.ledger_sum);
          entriesChecked += Number(row.entries);
          totalBalance += balance;
          const problems: string[] = [];
          if (balance !== ledgerSum)
            problems.push(`balance ${balance} differs from the ledger sum ${ledgerSum}`);
          if (row.last_balance_after !== null && Number(row.last_balance_after) !== balance) {
            problems.push(
              `balance ${balance} differs from the last balanceAfter ${row.last_balance_after}`,
            );
          }
          if (Number(row.broken_links) > 0) {
            problems.push(
              `${row.broken_links} entries break the balanceAfter chain (first: entry ${row.first_broken_entry})`,
            );
          }
          if (problems.length > 0) {
            mismatches.push({
              accountId: row.account_id,
              balance,
              ledgerSum,
              detail: problems.join('; '),
            });
          }
        }
        return {
          ok: mismatches.length === 0,
          accountsChecked: rows.length,
          entriesChecked,
          totalBalance,
          mismatches,
        };
      },
      { isolationLevel: 'REPEATABLE READ' },
    );
  }
}
