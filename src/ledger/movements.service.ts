import { Injectable } from '@nestjs/common';
import { LedgerEntryDto, ReversalDto } from './dto/ledger-entry.dto';
import {
  AccountAmountDto,
  SingleAccountMovementDto,
  TransferDto,
  TransferResultDto,
} from './dto/movement.dto';
import { LedgerEngine } from './engine/ledger-engine';
import { LedgerRepository } from './repositories/ledger.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Deposits, withdrawals, transfers and reversals: each a command for the ledger engine. */
@Injectable()
export class MovementsService {
  constructor(
    private readonly engine: LedgerEngine,
    private readonly ledger: LedgerRepository,
  ) {}

  /**
   * Reverses part or all (the default) of a movement. Its entries never change (the ledger is
   * append-only), so they are read here, and tell the engine which accounts to lock; how much
   * is already reversed is read by the engine under those locks, so concurrent reversals never
   * exceed the original. An unknown id reaches the rule with no entries (404, stored for an
   * Idempotency-Key like any refusal).
   */
  async reverse(transactionId: string, amount: number | undefined): Promise<ReversalDto> {
    const id = transactionId.toLowerCase();
    const original = UUID.test(id) ? await this.ledger.movement(id) : [];
    return this.engine.submit(
      {
        kind: 'reversal',
        transactionId: original[0]?.movementId ?? transactionId,
        original: original.map((e) => ({
          accountId: e.accountId,
          type: e.type,
          amount: e.amount,
          counterpartyAccountId: e.counterpartyAccountId,
        })),
        amount,
      },
      (r) => ({
        transactionId: r.transactionId,
        type: 'REVERSAL' as const,
        reversedTransactionId: r.reversedTransactionId,
        amount: r.amount,
        entries: r.entries.map((line) => LedgerEntryDto.from(line)),
      }),
    );
  }

  deposit({ accountId, amount }: AccountAmountDto): Promise<SingleAccountMovementDto> {
    return this.engine.submit({ kind: 'deposit', accountId, amount }, (r) => ({
      transactionId: r.transactionId,
      type: 'DEPOSIT' as const,
      accountId,
      amount,
      balance: r.balance,
      timestamp: r.timestamp,
    }));
  }

  withdraw({ accountId, amount }: AccountAmountDto): Promise<SingleAccountMovementDto> {
    return this.engine.submit({ kind: 'withdrawal', accountId, amount }, (r) => ({
      transactionId: r.transactionId,
      type: 'WITHDRAWAL' as const,
      accountId,
      amount,
      balance: r.balance,
      timestamp: r.timestamp,
    }));
  }

  transfer({ sourceAccountId, targetAccountId, amount }: TransferDto): Promise<TransferResultDto> {
    return this.engine.submit(
      { kind: 'transfer', sourceAccountId, targetAccountId, amount },
      (r) => ({
        transactionId: r.transactionId,
        type: 'TRANSFER' as const,
        sourceAccountId,
        targetAccountId,
        amount,
        sourceBalance: r.sourceBalance,
        targetBalance: r.targetBalance,
        timestamp: r.timestamp,
      }),
    );
  }
}
