import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { toSafeInteger } from '../database/bigint.transformer';
import { LedgerEngine } from '../ledger/engine/ledger-engine';
import { AuditAccountRow, AuditRepository } from './audit.repository';
import { AuditDto, AuditMismatchDto } from './dto/audit.dto';

/** What is wrong with one account, or undefined when its ledger explains its balance. */
export function checkAccount(row: AuditAccountRow): AuditMismatchDto | undefined {
  const balance = BigInt(row.balance);
  const ledgerSum = BigInt(row.ledgerSum);
  const problems: string[] = [];
  if (balance !== ledgerSum) {
    problems.push(`balance ${row.balance} differs from the ledger sum ${row.ledgerSum}`);
  }
  if (row.lastBalanceAfter !== null && BigInt(row.lastBalanceAfter) !== balance) {
    problems.push(
      `balance ${row.balance} differs from the last balanceAfter ${row.lastBalanceAfter}`,
    );
  }
  if (balance < -BigInt(row.overdraftLimit)) {
    problems.push(`balance ${row.balance} is below −overdraftLimit (${row.overdraftLimit})`);
  }
  if (BigInt(row.heldAmount) !== BigInt(row.holdsSum)) {
    problems.push(
      `heldAmount ${row.heldAmount} differs from its AUTHORIZED holds, ${row.holdsSum}`,
    );
  }
  if (BigInt(row.brokenLinks) > 0n) {
    problems.push(
      `${row.brokenLinks} entries break the balanceAfter chain (first: entry ${row.firstBrokenEntry})`,
    );
  }
  if (BigInt(row.badPayments) > 0n) {
    problems.push(
      `${row.badPayments} payments' cashback or refunds disagree with their entries (first: ${row.firstBadPayment})`,
    );
  }
  if (problems.length === 0) return undefined;
  return {
    accountId: row.accountId,
    balance: toSafeInteger(row.balance),
    ledgerSum: toSafeInteger(row.ledgerSum),
    detail: problems.join('; '),
  };
}

/**
 * Each balance is at most 2^53−1 (a CHECK), but their sum is not: a few accounts near the limit
 * exceed it. Exact up to 2^53−1 (toSafeInteger); beyond, the nearest double, which is all a JSON
 * number gives a JavaScript client anyway, rather than failing the whole audit.
 */
function totalAsNumber(total: bigint): number {
  return total <= BigInt(Number.MAX_SAFE_INTEGER) ? toSafeInteger(total) : Number(total);
}

/** Adds up the audit's figures chunk by chunk; sums stay BigInt until the end. */
export class AuditTally {
  private accounts = 0;
  private entries = 0n;
  private total = 0n;
  private readonly mismatches: AuditMismatchDto[] = [];

  add(row: AuditAccountRow): void {
    this.accounts += 1;
    this.entries += BigInt(row.entries);
    this.total += BigInt(row.balance);
    const mismatch = checkAccount(row);
    if (mismatch) this.mismatches.push(mismatch);
  }

  result(): AuditDto {
    return {
      ok: this.mismatches.length === 0,
      accountsChecked: this.accounts,
      entriesChecked: toSafeInteger(this.entries),
      totalBalance: totalAsNumber(this.total),
      mismatches: this.mismatches,
    };
  }
}

/**
 * GET /audit: recomputes every balance from the ledger and walks every balanceAfter chain.
 *
 * Its cost is bounded whatever the ledger's size: one run at a time per instance (callers
 * arriving while one runs get its result), on one connection outside the request pool, in
 * chunks of AUDIT_CHUNK_ACCOUNTS accounts, each chunk one statement, all in one snapshot.
 */
@Injectable()
export class AuditService implements BeforeApplicationShutdown {
  private inFlight?: Promise<AuditDto>;

  constructor(
    private readonly repository: AuditRepository,
    private readonly engine: LedgerEngine,
    private readonly config: AppConfig,
  ) {}

  /** The running audit's result, or a new run's if none is running. */
  audit(): Promise<AuditDto> {
    this.inFlight ??= this.run().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * One audit run. Credits already due are booked first (through the ledger engine, like any
   * settlement), so the snapshot sees what every balance read started now sees.
   */
  private async run(): Promise<AuditDto> {
    await this.engine.settleAllDue();
    const chunkSize = this.config.get('AUDIT_CHUNK_ACCOUNTS');
    return this.repository.inSnapshot(async (snapshot) => {
      const tally = new AuditTally();
      let after = '';
      for (;;) {
        const rows = await snapshot.chunk(after, chunkSize);
        for (const row of rows) tally.add(row);
        const last = rows.at(-1);
        if (!last || rows.length < chunkSize) return tally.result();
        after = last.accountId;
      }
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.repository.cancelRunning();
  }
}
