-- A sketch of a one-round-trip transfer (not the service's code): lock both rows in
-- account_id order, check, update, append both entries. Business errors would be raised with
-- their own SQLSTATE and mapped to domain codes; due cashbacks would make it return a flag
-- so the caller takes the existing slow path.
CREATE OR REPLACE FUNCTION bench_transfer(src text, tgt text, amt bigint, ts bigint, mid uuid)
RETURNS TABLE(account_id text, balance bigint) LANGUAGE plpgsql AS $$
DECLARE r record; sb bigint; tb bigint;
BEGIN
  FOR r IN SELECT a.account_id, a.balance FROM accounts a
            WHERE a.account_id IN (src, tgt) ORDER BY a.account_id FOR UPDATE LOOP
    IF r.account_id = src THEN sb := r.balance; ELSE tb := r.balance; END IF;
  END LOOP;
  IF sb IS NULL OR tb IS NULL THEN RAISE EXCEPTION 'ACCOUNT_NOT_FOUND' USING ERRCODE = 'P0002'; END IF;
  IF sb < amt THEN RAISE EXCEPTION 'INSUFFICIENT_FUNDS' USING ERRCODE = 'P0001'; END IF;
  UPDATE accounts a SET balance = CASE WHEN a.account_id = src THEN sb - amt ELSE tb + amt END,
         last_entry_at = GREATEST(a.last_entry_at, ts)
   WHERE a.account_id IN (src, tgt);
  INSERT INTO ledger_transactions
    (movement_id, account_id, timestamp, operation, amount, balance_after, counterparty_account_id)
  VALUES (mid, src, ts, 'TRANSFER_OUT', -amt, sb - amt, tgt),
         (mid, tgt, ts, 'TRANSFER_IN', amt, tb + amt, src);
  RETURN QUERY VALUES (src, sb - amt), (tgt, tb + amt);
END $$;
