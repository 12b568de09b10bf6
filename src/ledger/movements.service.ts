import { Injectable } from '@nestjs/common';
import { DomainException } from '../common/errors/domain.exception';
import { TransactionRunner } from '../database/transaction-runner';
import {
  AccountAmountDto,
  SingleAccountMovementDto,
  TransferDto,
  TransferResultDto,
} from './dto/movement.dto';
import { PostingsService } from './postings.service';

/** Deposits, withdrawals and transfers: lock → check → post, one transaction each. */
@Injectable()
export class MovementsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly postings: PostingsService,
  ) {}

  deposit(dto: AccountAmountDto): Promise<SingleAccountMovementDto> {
    return this.single('DEPOSIT', dto.accountId, dto.amount);
  }

  withdraw(dto: AccountAmountDto): Promise<SingleAccountMovementDto> {
    return this.single('WITHDRAWAL', dto.accountId, dto.amount);
  }

  private single(
    type: 'DEPOSIT' | 'WITHDRAWAL',
    accountId: string,
    amount: number,
  ): Promise<SingleAccountMovementDto> {
    return this.transactions.run(async (manager) => {
      const locked = await this.postings.lock(manager, [accountId]);
      const signed = type === 'DEPOSIT' ? amount : -amount;
      const posted = await this.postings.post(manager, locked, [
        { accountId, type, amount: signed },
      ]);
      return {
        transactionId: posted.movementId,
        type,
        accountId,
        amount,
        balance: posted.balances.get(accountId)!,
        timestamp: posted.timestamp,
      };
    });
  }

  /**
   * Both accounts are locked in one query in account_id order (see
   * TransactionRunner.lockForUpdate), so opposite transfers queue instead of deadlocking.
   */
  transfer(dto: TransferDto): Promise<TransferResultDto> {
    const { sourceAccountId, targetAccountId, amount } = dto;
    if (sourceAccountId === targetAccountId) {
      throw new DomainException(
        'SAME_ACCOUNT',
        `Source and target account are both ${sourceAccountId}.`,
      );
    }
    return this.transactions.run(async (manager) => {
      const locked = await this.postings.lock(manager, [sourceAccountId, targetAccountId]);
      const source = locked.accounts.get(sourceAccountId)!;
      const target = locked.accounts.get(targetAccountId)!;
      if (source.currency !== target.currency) {
        throw new DomainException(
          'CURRENCY_MISMATCH',
          `Account ${sourceAccountId} holds ${source.currency} but ${targetAccountId} holds ${target.currency}.`,
        );
      }
      const posted = await this.postings.post(manager, locked, [
        {
          accountId: sourceAccountId,
          type: 'TRANSFER_OUT',
          amount: -amount,
          counterpartyAccountId: targetAccountId,
        },
        {
          accountId: targetAccountId,
          type: 'TRANSFER_IN',
          amount,
          counterpartyAccountId: sourceAccountId,
        },
      ]);
      return {
        transactionId: posted.movementId,
        type: 'TRANSFER',
        sourceAccountId,
        targetAccountId,
        amount,
        sourceBalance: posted.balances.get(sourceAccountId)!,
        targetBalance: posted.balances.get(targetAccountId)!,
        timestamp: posted.timestamp,
      };
    });
  }
}
