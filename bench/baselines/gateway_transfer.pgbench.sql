-- DIAGNOSTIC: the gateway's createTransfer transaction, statement for statement, for pgbench
-- Variables (pgbench -D): platform, accounts (how many in bench.accounts), amount_max.
\set a random(1, :accounts)
\set offset random(1, :accounts - 1)
\set b 1 + (:a - 1 + :offset) % :accounts
\set amount random(1, :amount_max)
SELECT d.id AS debited, d.user_id AS debited_user, c.id AS credited, c.user_id AS credited_user, bench.v7() AS transfer_id, 'pgbench-' || gen_random_uuid() AS idempotency_key FROM bench.accounts d, bench.accounts c WHERE d.n = :a AND c.n = :b \gset
BEGIN;
INSERT INTO idempotency_records (id, platform_id, key, operation, fingerprint, created_at) VALUES (gen_random_uuid(), :platform, :idempotency_key, 'createTransfer', encode(sha256(convert_to(:idempotency_key, 'UTF8')), 'hex'), now()) ON CONFLICT DO NOTHING RETURNING id;
SAVEPOINT transfer;
SELECT id, name, environment, allowed_currencies, created_at, event_sequence, user_token_secret FROM platforms WHERE id = :platform;
SELECT id, platform_id, user_id, currency, label, status, balance, reserved, created_at, updated_at FROM accounts WHERE platform_id = :platform AND id IN (:debited, :credited) ORDER BY id FOR UPDATE;
SELECT id, platform_id, email, email_key, login, kind, status, validation_status, qualified_at, created_at, updated_at, tokens_valid_after FROM users WHERE platform_id = :platform AND id IN (:debited_user, :credited_user);
UPDATE accounts SET balance = balance - CAST(:amount AS bigint), updated_at = now() WHERE id = :debited AND balance - CAST(:amount AS bigint) >= 0 AND balance + reserved - CAST(:amount AS bigint) <= 9007199254740991 RETURNING id, balance AS debited_balance \gset
INSERT INTO ledger_entries (id, platform_id, account_id, settlement_account_id, currency, kind, amount, balance_after, operation_type, operation_id, created_at) VALUES (bench.v7(), :platform, :debited, NULL, 'EUR', 'TRANSFER_OUT', -CAST(:amount AS bigint), :debited_balance, 'Transfer', :transfer_id, now());
UPDATE accounts SET balance = balance + CAST(:amount AS bigint), updated_at = now() WHERE id = :credited AND balance + CAST(:amount AS bigint) >= 0 AND balance + reserved + CAST(:amount AS bigint) <= 9007199254740991 RETURNING id, balance AS credited_balance \gset
INSERT INTO ledger_entries (id, platform_id, account_id, settlement_account_id, currency, kind, amount, balance_after, operation_type, operation_id, created_at) VALUES (bench.v7(), :platform, :credited, NULL, 'EUR', 'TRANSFER_IN', CAST(:amount AS bigint), :credited_balance, 'Transfer', :transfer_id, now());
INSERT INTO transfers (id, platform_id, debited_account_id, credited_account_id, amount, currency, label, status, created_at) VALUES (:transfer_id, :platform, :debited, :credited, CAST(:amount AS bigint), 'EUR', NULL, 'SUCCEEDED', now());
UPDATE platforms SET event_sequence = event_sequence + 1 WHERE id = :platform RETURNING event_sequence AS sequence \gset
INSERT INTO events (id, platform_id, sequence, type, object_type, object_id, user_id, counterpart_user_id, previous_status, status, occurred_at) VALUES (bench.v7(), :platform, :sequence, 'TRANSFER_SUCCESSFUL', 'Transfer', :transfer_id, :debited_user, :credited_user, NULL, 'SUCCEEDED', now());
SELECT pg_notify('mps_events', CAST(:platform AS text) || ':' || CAST(:sequence AS text));
RELEASE SAVEPOINT transfer;
UPDATE idempotency_records SET object_id = :transfer_id, rejection = 'null' WHERE platform_id = :platform AND key = :idempotency_key;
COMMIT;
