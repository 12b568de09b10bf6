import { CreateLedgerSchema1763700000000 } from './1763700000000-CreateLedgerSchema';
import { CreatePaymentsAndCashbacks1763700000001 } from './1763700000001-CreatePaymentsAndCashbacks';
import { CreateIdempotencyKeys1763700000002 } from './1763700000002-CreateIdempotencyKeys';
import { AddPendingCreditsToAccounts1763700000003 } from './1763700000003-AddPendingCreditsToAccounts';
import { RenameCashbacksToScheduledCredits1763700000004 } from './1763700000004-RenameCashbacksToScheduledCredits';
import { AddAccountControls1763700000005 } from './1763700000005-AddAccountControls';
import { CreateHolds1763700000006 } from './1763700000006-CreateHolds';
import { AddRefundsAndReversals1763700000007 } from './1763700000007-AddRefundsAndReversals';
import { CreateEventsAndWebhooks1763700000008 } from './1763700000008-CreateEventsAndWebhooks';

/**
 * Every migration, in order. Listed explicitly (not globbed) so the app, the tests (ts-jest)
 * and the compiled build load the very same classes.
 */
export const MIGRATIONS = [
  CreateLedgerSchema1763700000000,
  CreatePaymentsAndCashbacks1763700000001,
  CreateIdempotencyKeys1763700000002,
  AddPendingCreditsToAccounts1763700000003,
  RenameCashbacksToScheduledCredits1763700000004,
  AddAccountControls1763700000005,
  CreateHolds1763700000006,
  AddRefundsAndReversals1763700000007,
  CreateEventsAndWebhooks1763700000008,
];
