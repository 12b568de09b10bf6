import type { App } from 'supertest/types';
import request from 'supertest';
import type { TestApp } from './test-app';

/** One factory per aggregate, through the API: accounts and payments. */

let sequence = 0;

/** A unique, valid account id for this test file. */
export function accountId(prefix = 'acc'): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface AccountBody {
  accountId: string;
  currency: string;
  balance: number;
  createdAt: number;
}

export async function createAccount(
  t: TestApp,
  body: {
    accountId?: string;
    currency?: string;
    initialDeposit?: number;
    overdraftLimit?: number;
    dailyDebitLimit?: number | null;
  } = {},
): Promise<AccountBody> {
  const res = await request(t.app.getHttpServer() as App)
    .post('/accounts')
    .send({ accountId: accountId(), ...body })
    .expect(201);
  return res.body as AccountBody;
}

export async function balanceOf(t: TestApp, id: string): Promise<number> {
  const res = await request(t.app.getHttpServer() as App)
    .get(`/accounts/${id}/balance`)
    .expect(200);
  return (res.body as { balance: number }).balance;
}

export interface PaymentBody {
  paymentId: string;
  transactionId: string;
  accountId: string;
  amount: number;
  cashbackAmount: number;
  cashbackDueAt: number;
  status: 'IN_PROGRESS' | 'CASHBACK_RECEIVED';
  timestamp: number;
  balance?: number;
}

export async function pay(t: TestApp, accountId: string, amount: number): Promise<PaymentBody> {
  const res = await request(t.app.getHttpServer() as App)
    .post('/payments')
    .send({ accountId, amount })
    .expect(201);
  return res.body as PaymentBody;
}

export function paymentNumber(paymentId: string): number {
  const match = /^payment(\d+)$/.exec(paymentId);
  if (!match) throw new Error(`not a payment id: ${paymentId}`);
  return Number(match[1]);
}
