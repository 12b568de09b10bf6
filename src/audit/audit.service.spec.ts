import type { AuditAccountRow } from './audit.repository';
import { AuditTally, checkAccount } from './audit.service';

const row = (over: Partial<AuditAccountRow> = {}): AuditAccountRow => ({
  accountId: 'acc-1',
  balance: '150',
  overdraftLimit: '0',
  heldAmount: '0',
  holdsSum: '0',
  ledgerSum: '150',
  lastBalanceAfter: '150',
  entries: '2',
  brokenLinks: '0',
  firstBrokenEntry: null,
  badPayments: '0',
  firstBadPayment: null,
  ...over,
});

describe('audit checks', () => {
  it('accepts an account its ledger explains, with or without entries', () => {
    expect(checkAccount(row())).toBeUndefined();
    expect(
      checkAccount(row({ balance: '0', ledgerSum: '0', lastBalanceAfter: null, entries: '0' })),
    ).toBeUndefined();
  });

  it('names every problem of an account', () => {
    expect(
      checkAccount(
        row({ ledgerSum: '140', lastBalanceAfter: '140', brokenLinks: '1', firstBrokenEntry: '7' }),
      ),
    ).toEqual({
      accountId: 'acc-1',
      balance: 150,
      ledgerSum: 140,
      detail:
        'balance 150 differs from the ledger sum 140; balance 150 differs from the last balanceAfter 140; 1 entries break the balanceAfter chain (first: entry 7)',
    });
  });

  it("names an account's payments whose cashback its entries do not explain", () => {
    expect(checkAccount(row({ badPayments: '2', firstBadPayment: 'payment7' }))).toEqual({
      accountId: 'acc-1',
      balance: 150,
      ledgerSum: 150,
      detail: "2 payments' cashback or refunds disagree with their entries (first: payment7)",
    });
  });

  it('accepts a negative balance within the overdraft limit, and names one below it', () => {
    const at = { balance: '-50', ledgerSum: '-50', lastBalanceAfter: '-50' };
    expect(checkAccount(row({ ...at, overdraftLimit: '50' }))).toBeUndefined();
    expect(checkAccount(row({ ...at, overdraftLimit: '49' }))?.detail).toBe(
      'balance -50 is below −overdraftLimit (49)',
    );
  });

  it('names an account whose heldAmount is not the sum of its authorized holds', () => {
    expect(checkAccount(row({ heldAmount: '30', holdsSum: '30' }))).toBeUndefined();
    expect(checkAccount(row({ heldAmount: '30', holdsSum: '20' }))?.detail).toBe(
      'heldAmount 30 differs from its AUTHORIZED holds, 20',
    );
  });

  it('keeps totalBalance exact up to 2^53-1 and never fails on a larger sum', () => {
    const max = '9007199254740991';
    const tally = new AuditTally();
    tally.add(row({ balance: max, ledgerSum: max, lastBalanceAfter: max }));
    expect(tally.result().totalBalance).toBe(Number.MAX_SAFE_INTEGER);
    tally.add(row({ accountId: 'acc-2', balance: max, ledgerSum: max, lastBalanceAfter: max }));
    expect(tally.result().totalBalance).toBe(Number(2n * BigInt(max)));
  });

  it('adds up accounts, entries and balances over chunks', () => {
    const tally = new AuditTally();
    tally.add(row());
    tally.add(
      row({
        accountId: 'acc-2',
        balance: '60',
        ledgerSum: '50',
        lastBalanceAfter: '50',
        entries: '1',
      }),
    );
    expect(tally.result()).toEqual({
      ok: false,
      accountsChecked: 2,
      entriesChecked: 3,
      totalBalance: 210,
      mismatches: [expect.objectContaining({ accountId: 'acc-2', balance: 60, ledgerSum: 50 })],
    });
  });
});
