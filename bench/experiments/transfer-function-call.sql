-- One round trip: the transfer as one call of bench_transfer (transfer-function.sql).
\set s random(0, 999)
\set d random(1, 999)
\set t (:s + :d) % 1000
\set amt random(1, 100)
SELECT * FROM bench_transfer('acct-' || lpad(:s::text, 4, '0'), 'acct-' || lpad(:t::text, 4, '0'), :amt, 1, gen_random_uuid());
