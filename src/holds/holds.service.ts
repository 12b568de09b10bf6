import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock/clock';
import { AccountNotFoundException, DomainException } from '../common/errors/domain.exception';
import { decodeCursor, Page, toPage } from '../common/http/pagination';
import type { HoldState } from '../ledger/engine/commands';
import { LedgerEngine } from '../ledger/engine/ledger-engine';
import { AccountsRepository } from '../ledger/repositories/accounts.repository';
import { HoldsRepository } from '../ledger/repositories/holds.repository';
import { PaymentsService } from '../payments/payments.service';
import {
  CaptureHoldDto,
  CreateHoldDto,
  DEFAULT_HOLD_EXPIRES_IN_MS,
  HoldCapturedDto,
  HoldDto,
  HoldsQueryDto,
} from './dto/hold.dto';

/**
 * Holds (two-phase movements). Authorizing, capturing and voiding are ledger commands,
 * decided under the row locks of the hold's accounts, then the hold's own; expiry is settled
 * by every batch that touches the account, and by the background sweeper otherwise.
 */
@Injectable()
export class HoldsService {
  constructor(
    private readonly engine: LedgerEngine,
    private readonly holds: HoldsRepository,
    private readonly accounts: AccountsRepository,
    private readonly payments: PaymentsService,
    private readonly clock: Clock,
  ) {}

  authorize(dto: CreateHoldDto): Promise<HoldDto> {
    return this.engine.submit(
      {
        kind: 'authorizeHold',
        accountId: dto.accountId,
        targetAccountId: dto.targetAccountId ?? null,
        amount: dto.amount,
        expiresInMs: dto.expiresInMs ?? DEFAULT_HOLD_EXPIRES_IN_MS,
      },
      HoldDto.from,
    );
  }

  /**
   * The hold's accounts are read first (they never change), so the engine can lock them before
   * the hold row; whether it is still AUTHORIZED is decided under those locks.
   */
  async capture(holdId: string, dto: CaptureHoldDto): Promise<HoldCapturedDto> {
    const hold = await this.find(holdId);
    const amount = dto.amount ?? hold.amount;
    return this.engine.submit(
      {
        kind: 'captureHold',
        holdId,
        accountIds: accountsOf(hold),
        amount,
        payment:
          hold.targetAccountId === null ? this.payments.charge(hold.accountId, amount) : undefined,
      },
      (r) => ({
        hold: HoldDto.from(r.hold),
        transactionId: r.transactionId,
        balance: r.balance,
        paymentId: r.paymentId,
      }),
    );
  }

  async void(holdId: string): Promise<HoldDto> {
    const hold = await this.find(holdId);
    return this.engine.submit(
      { kind: 'voidHold', holdId, accountIds: accountsOf(hold) },
      HoldDto.from,
    );
  }

  /** A hold as of now: one whose expiry has come is expired (settled) before it is shown. */
  async get(holdId: string): Promise<HoldDto> {
    let hold = await this.find(holdId);
    if (hold.status === 'AUTHORIZED' && hold.expiresAt <= this.clock.now()) {
      await this.engine.settle([hold.accountId]);
      hold = await this.find(holdId);
    }
    return HoldDto.from(hold);
  }

  /** Oldest first (creation time, then id), after settling what has expired on the account. */
  async list(accountId: string, query: HoldsQueryDto): Promise<Page<HoldDto>> {
    const account = await this.accounts.findById(accountId);
    if (!account) throw new AccountNotFoundException(accountId);
    await this.engine.settleBeforeRead(account);
    const after = query.cursor ? decodeCursor<[number, string]>(query.cursor, 'ns') : undefined;
    const rows = await this.holds.page(accountId, query.limit + 1, query.status, after);
    return toPage(rows, query.limit, HoldDto.from, (h) => [h.createdAt, h.holdId]);
  }

  private async find(holdId: string): Promise<HoldState> {
    const hold = await this.holds.findById(holdId);
    if (!hold) throw new DomainException('HOLD_NOT_FOUND', `Hold ${holdId} does not exist.`);
    return hold;
  }
}

function accountsOf(hold: HoldState): string[] {
  return hold.targetAccountId === null ? [hold.accountId] : [hold.accountId, hold.targetAccountId];
}
