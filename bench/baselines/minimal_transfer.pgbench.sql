-- THE BASELINE: the correct minimal transfer, for pgbench (bench/baselines/pgbench_transfer.py).
-- Variables (pgbench -D): platform, accounts (how many in bench.accounts), amount_max.
-- Why each statement is needed, and how the event is numbered: pgbench_transfer.py.
\set a random(1, :accounts)
\set offset random(1, :accounts - 1)
\set b 1 + (:a - 1 + :offset) % :accounts
\set amount random(1, :amount_max)
SELECT d.id AS debited, d.user_id AS debited_user, c.id AS credited, c.user_id AS credited_user, bench.v7() AS transfer_id, 'minimal-' || gen_random_uuid() AS idempotency_key FROM bench.accounts d, bench.accounts c WHERE d.n = :a AND c.n = :b \gset
BEGIN;
INSERT INTO idempotency_records (id, platform_id, key, operation, fingerprint, object_id, created_at) VALUES (gen_random_uuid(), :platform, :idempotency_key, 'createTransfer', encode(sha256(convert_to(:idempotency_key, 'UTF8')), 'hex'), :transfer_id, now());
SELECT id FROM accounts WHERE platform_id = :platform AND id IN (:debited, :credited) ORDER BY id FOR UPDATE;
UPDATE accounts SET balance = balance - CAST(:amount AS bigint), updated_at = now() WHERE id = :debited AND balance >= CAST(:amount AS bigint) RETURNING balance AS debited_balance \gset
UPDATE accounts SET balance = balance + CAST(:amount AS bigint), updated_at = now() WHERE id = :credited RETURNING balance AS credited_balance \gset
INSERT INTO ledger_entries (id, platform_id, account_id, currency, kind, amount, balance_after, operation_type, operation_id, created_at) VALUES (bench.v7(), :platform, :debited, 'EUR', 'TRANSFER_OUT', -CAST(:amount AS bigint), :debited_balance, 'Transfer', :transfer_id, now()), (bench.v7(), :platform, :credited, 'EUR', 'TRANSFER_IN', CAST(:amount AS bigint), :credited_balance, 'Transfer', :transfer_id, now());
INSERT INTO transfers (id, platform_id, debited_account_id, credited_account_id, amount, currency, status, created_at) VALUES (:transfer_id, :platform, :debited, :credited, CAST(:amount AS bigint), 'EUR', 'SUCCEEDED', now());
INSERT INTO events (id, platform_id, sequence, type, object_type, object_id, user_id, counterpart_user_id, status, occurred_at) VALUES (bench.v7(), :platform, CAST(CAST(pg_current_xact_id() AS text) AS bigint) * 16, 'TRANSFER_SUCCESSFUL', 'Transfer', :transfer_id, :debited_user, :credited_user, 'SUCCEEDED', now());
COMMIT;
