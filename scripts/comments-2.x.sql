-- scripts/comments-2.x.sql: COMMENT ON the objects of the UUID layout (2.x)
-- alone.  A fragment of 2.1--2.2 and 2.2--2.1 (see the Makefile).

COMMENT ON COLUMN @extschema@.users.id IS 'UUID key: uuid_generate_v7() for new rows, legacy_uuid(''users'', legacy_id) for converted ones.';
COMMENT ON COLUMN @extschema@.accounts.id IS 'UUID key: uuid_generate_v7() for new rows, legacy_uuid(''accounts'', legacy_id) for converted ones.';
COMMENT ON COLUMN @extschema@.account_users.id IS 'UUID key: uuid_generate_v7() for new rows, legacy_uuid(''account_users'', legacy_id) for converted ones.';
COMMENT ON COLUMN @extschema@.campaigns.id IS 'UUID key: uuid_generate_v7() for new rows, legacy_uuid(''campaigns'', legacy_id) for converted ones.';
COMMENT ON COLUMN @extschema@.ad_groups.id IS 'UUID key: uuid_generate_v7() for new rows, legacy_uuid(''ad_groups'', legacy_id) for converted ones.';
COMMENT ON COLUMN @extschema@.ads.id IS 'UUID key: uuid_generate_v7() for new rows, legacy_uuid(''ads'', legacy_id) for converted ones.';
COMMENT ON COLUMN @extschema@.analytics_snapshots.id IS 'UUID key: uuid_generate_v7() for new rows, legacy_uuid(''analytics_snapshots'', legacy_id) for converted ones.';
COMMENT ON COLUMN @extschema@.approval_requests.id IS 'UUID key: uuid_generate_v7() for new rows, legacy_uuid(''approval_requests'', legacy_id) for converted ones.';
COMMENT ON COLUMN @extschema@.budget_alerts.id IS 'UUID key: uuid_generate_v7() for new rows, legacy_uuid(''budget_alerts'', legacy_id) for converted ones.';
COMMENT ON COLUMN @extschema@.conversations.id IS 'UUID key: uuid_generate_v7() for new rows, legacy_uuid(''conversations'', legacy_id) for converted ones.';
COMMENT ON COLUMN @extschema@.conversation_messages.id IS 'UUID key: uuid_generate_v7() for new rows, legacy_uuid(''conversation_messages'', legacy_id) for converted ones.';
COMMENT ON COLUMN @extschema@.users.legacy_id IS 'The integer id the row had before conversion (NULL for rows born at 2.x).';
COMMENT ON COLUMN @extschema@.accounts.legacy_id IS 'The integer id the row had before conversion (NULL for rows born at 2.x).';
COMMENT ON COLUMN @extschema@.account_users.legacy_id IS 'The integer id the row had before conversion (NULL for rows born at 2.x).';
COMMENT ON COLUMN @extschema@.campaigns.legacy_id IS 'The integer id the row had before conversion (NULL for rows born at 2.x).';
COMMENT ON COLUMN @extschema@.ad_groups.legacy_id IS 'The integer id the row had before conversion (NULL for rows born at 2.x).';
COMMENT ON COLUMN @extschema@.ads.legacy_id IS 'The integer id the row had before conversion (NULL for rows born at 2.x).';
COMMENT ON COLUMN @extschema@.analytics_snapshots.legacy_id IS 'The integer id the row had before conversion (NULL for rows born at 2.x).';
COMMENT ON COLUMN @extschema@.approval_requests.legacy_id IS 'The integer id the row had before conversion (NULL for rows born at 2.x).';
COMMENT ON COLUMN @extschema@.budget_alerts.legacy_id IS 'The integer id the row had before conversion (NULL for rows born at 2.x).';
COMMENT ON COLUMN @extschema@.conversations.legacy_id IS 'The integer id the row had before conversion (NULL for rows born at 2.x).';
COMMENT ON COLUMN @extschema@.conversation_messages.legacy_id IS 'The integer id the row had before conversion (NULL for rows born at 2.x).';

COMMENT ON FUNCTION @extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text, name[]) IS 'Copies the application''s own legacy tables in a schema into the UUID tables, all or nothing; one report row per table.';
COMMENT ON FUNCTION @extschema@.convert_legacy_problems(name, jsonb, text[], jsonb, text, name[]) IS 'What convert_legacy() would refuse in a schema: every layout mismatch, orphan and bad value, without writing.';
COMMENT ON FUNCTION @extschema@.conversion_plan(name) IS 'The plan of convert_legacy(schema, dependents => ''carry''): the objects around the application''s tables and what happens to each.';
COMMENT ON FUNCTION @extschema@.legacy_id_of(text, uuid) IS 'The legacy integer id a converted UUID key came from (NULL for keys born at 2.x).';
COMMENT ON FUNCTION @extschema@.drop_compat() IS 'After an online conversion: drops the compatibility views of schema lane_google_v1. The point of no return of the integer ids'' interface.';
COMMENT ON FUNCTION @extschema@._compat_write() IS 'Internal: INSTEAD OF trigger function of the compatibility views (writes through them into the UUID tables).';
