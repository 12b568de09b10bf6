import { Injectable } from '@nestjs/common';
import {
  AccountAmountDto,
  SingleAccountMovementDto,
  TransferDto,
  TransferResultDto,
} from './dto/movement.dto';
import { LedgerEngine } from './engine/ledger-engine';

/** Deposits, withdrawals and transfers: each a command for the ledger engine. */
@Injectable()
export class MovementsService {
  constructor(private readonly engine: LedgerEngine) {}

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
