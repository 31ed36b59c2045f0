-- scripts/comments-1.x.sql: COMMENT ON the objects of the integer-keyed
-- layout (1.x) alone.  A fragment of 1.1--1.2 and 1.2--1.1 (see the Makefile).

COMMENT ON COLUMN @extschema@.users.id IS 'Legacy integer key (identity); becomes legacy_uuid(''users'', id) at 2.x.';
COMMENT ON COLUMN @extschema@.accounts.id IS 'Legacy integer key (identity); becomes legacy_uuid(''accounts'', id) at 2.x.';
COMMENT ON COLUMN @extschema@.account_users.id IS 'Legacy integer key (identity); becomes legacy_uuid(''account_users'', id) at 2.x.';
COMMENT ON COLUMN @extschema@.campaigns.id IS 'Legacy integer key (identity); becomes legacy_uuid(''campaigns'', id) at 2.x.';
COMMENT ON COLUMN @extschema@.ad_groups.id IS 'Legacy integer key (identity); becomes legacy_uuid(''ad_groups'', id) at 2.x.';
COMMENT ON COLUMN @extschema@.ads.id IS 'Legacy integer key (identity); becomes legacy_uuid(''ads'', id) at 2.x.';
COMMENT ON COLUMN @extschema@.analytics_snapshots.id IS 'Legacy integer key (identity); becomes legacy_uuid(''analytics_snapshots'', id) at 2.x.';
COMMENT ON COLUMN @extschema@.approval_requests.id IS 'Legacy integer key (identity); becomes legacy_uuid(''approval_requests'', id) at 2.x.';
COMMENT ON COLUMN @extschema@.budget_alerts.id IS 'Legacy integer key (identity); becomes legacy_uuid(''budget_alerts'', id) at 2.x.';
COMMENT ON COLUMN @extschema@.conversations.id IS 'Legacy integer key (identity); becomes legacy_uuid(''conversations'', id) at 2.x.';
COMMENT ON COLUMN @extschema@.conversation_messages.id IS 'Legacy integer key (identity); becomes legacy_uuid(''conversation_messages'', id) at 2.x.';

COMMENT ON FUNCTION @extschema@.online_start() IS 'Starts an online conversion: shadow UUID tables in schema lane_google_online, capture triggers, compatibility views in lane_google_v1.';
COMMENT ON PROCEDURE @extschema@.online_backfill(integer, interval) IS 'Copies the legacy rows into the shadows batch by batch, each batch committed (resumable), then applies the captured changes. Not in a transaction block.';
COMMENT ON FUNCTION @extschema@.online_status() IS 'Per table, how far the online conversion got: state, rows copied and estimated, changes captured and pending.';
COMMENT ON FUNCTION @extschema@.online_abort() IS 'Abandons the online conversion: drops the capture triggers, the shadows and the compatibility views; no legacy row changes.';
COMMENT ON FUNCTION @extschema@._online_capture() IS 'Internal: trigger function recording changes to the legacy tables during an online conversion.';
COMMENT ON FUNCTION @extschema@._online_copy_batch(integer) IS 'Internal: one batch of online_backfill(); false when every table is copied.';
COMMENT ON FUNCTION @extschema@._online_apply() IS 'Internal: applies captured changes to the shadows; returns how many.';
COMMENT ON FUNCTION @extschema@._online_finish() IS 'Internal: the last step of online_backfill() (keys checked, shadows'' indexes built).';
