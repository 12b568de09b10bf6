-- The service's transfer as sent today (TypeORM + node-postgres), balances computed in SQL.
\set s random(0, 999)
\set d random(1, 999)
\set t (:s + :d) % 1000
\set amt random(1, 100)
BEGIN;
SELECT "row"."account_id" AS "row_account_id", "row"."currency" AS "row_currency", "row"."created_at" AS "row_created_at", "row"."balance" AS "row_balance", "row"."last_entry_at" AS "row_last_entry_at", "row"."next_cashback_due_at" AS "row_next_cashback_due_at" FROM "accounts" "row" WHERE "row"."account_id" IN ('acct-' || lpad(:s::text, 4, '0'), 'acct-' || lpad(:t::text, 4, '0')) ORDER BY "row"."account_id" ASC FOR UPDATE;
WITH updated AS ( UPDATE accounts AS a SET balance = a.balance + v.delta, last_entry_at = GREATEST(a.last_entry_at, 1::bigint) FROM unnest(ARRAY['acct-' || lpad(:s::text, 4, '0'), 'acct-' || lpad(:t::text, 4, '0')], ARRAY[-(:amt::bigint), :amt::bigint]::bigint[]) AS v(account_id, delta) WHERE a.account_id = v.account_id ) INSERT INTO ledger_transactions (movement_id, account_id, timestamp, operation, amount, balance_after, counterparty_account_id, payment_ref) SELECT gen_random_uuid(), e.account_id, 1::bigint, e.operation, e.amount, e.balance_after, e.counterparty, e.payment_ref FROM unnest(ARRAY['acct-' || lpad(:s::text, 4, '0'), 'acct-' || lpad(:t::text, 4, '0')], ARRAY['TRANSFER_OUT','TRANSFER_IN'], ARRAY[-(:amt::bigint), :amt::bigint]::bigint[], ARRAY[1000000, 1000000]::bigint[], ARRAY['acct-' || lpad(:t::text, 4, '0'), 'acct-' || lpad(:s::text, 4, '0')], ARRAY[NULL, NULL]::text[]) WITH ORDINALITY AS e(account_id, operation, amount, balance_after, counterparty, payment_ref, ord) ORDER BY e.ord;
COMMIT;
