-- scripts/comments-3.x.sql: COMMENT ON the objects 3.0 adds (the tenant keys).
-- The last fragment of lane_google--2.2--3.0.sql; the way back drops every
-- object commented here, and its comment with it.

COMMENT ON COLUMN @extschema@.ad_groups.account_id IS 'The tenant key: its campaign''s account (campaigns.account_id), part of the primary key and of the foreign key (account_id, campaign_id); filled from the campaign when an INSERT leaves it NULL.';
COMMENT ON COLUMN @extschema@.ads.account_id IS 'The tenant key: its ad group''s account (ad_groups.account_id), part of the primary key and of the foreign key (account_id, ad_group_id); filled from the ad group when an INSERT leaves it NULL.';
COMMENT ON COLUMN @extschema@.analytics_snapshots.account_id IS 'The tenant key: its campaign''s account (campaigns.account_id), part of the primary key and of the foreign key (account_id, campaign_id); filled from the campaign when an INSERT leaves it NULL.';
COMMENT ON COLUMN @extschema@.approval_requests.account_id IS 'The tenant key: its campaign''s account (campaigns.account_id), part of the primary key and of the foreign key (account_id, campaign_id); filled from the campaign when an INSERT leaves it NULL.';
COMMENT ON COLUMN @extschema@.budget_alerts.account_id IS 'The tenant key: its campaign''s account (campaigns.account_id), part of the primary key and of the foreign key (account_id, campaign_id); filled from the campaign when an INSERT leaves it NULL.';
COMMENT ON COLUMN @extschema@.conversation_messages.user_id IS 'The tenant key: its conversation''s user (conversations.user_id), part of the primary key and of the foreign key (user_id, conversation_id); filled from the conversation when an INSERT leaves it NULL.';

COMMENT ON CONSTRAINT account_users_pkey ON @extschema@.account_users IS 'The tenant-keyed primary key (account_id, id): the rows of one account together, as Citus needs of a table distributed by account_id; id alone stays unique by construction.';
COMMENT ON INDEX @extschema@.account_users_id_idx IS 'Look-ups by id alone (legacy_id_of(), the application''s by-id reads and the fill of the tenant key): not unique, which Citus would not allow.';
COMMENT ON CONSTRAINT campaigns_pkey ON @extschema@.campaigns IS 'The tenant-keyed primary key (account_id, id): the rows of one account together, as Citus needs of a table distributed by account_id; id alone stays unique by construction.';
COMMENT ON INDEX @extschema@.campaigns_id_idx IS 'Look-ups by id alone (legacy_id_of(), the application''s by-id reads and the fill of the tenant key): not unique, which Citus would not allow.';
COMMENT ON CONSTRAINT ad_groups_pkey ON @extschema@.ad_groups IS 'The tenant-keyed primary key (account_id, id): the rows of one account together, as Citus needs of a table distributed by account_id; id alone stays unique by construction.';
COMMENT ON INDEX @extschema@.ad_groups_id_idx IS 'Look-ups by id alone (legacy_id_of(), the application''s by-id reads and the fill of the tenant key): not unique, which Citus would not allow.';
COMMENT ON CONSTRAINT ads_pkey ON @extschema@.ads IS 'The tenant-keyed primary key (account_id, id): the rows of one account together, as Citus needs of a table distributed by account_id; id alone stays unique by construction.';
COMMENT ON INDEX @extschema@.ads_id_idx IS 'Look-ups by id alone (legacy_id_of(), the application''s by-id reads and the fill of the tenant key): not unique, which Citus would not allow.';
COMMENT ON CONSTRAINT analytics_snapshots_pkey ON @extschema@.analytics_snapshots IS 'The tenant-keyed primary key (account_id, id): the rows of one account together, as Citus needs of a table distributed by account_id; id alone stays unique by construction.';
COMMENT ON INDEX @extschema@.analytics_snapshots_id_idx IS 'Look-ups by id alone (legacy_id_of(), the application''s by-id reads and the fill of the tenant key): not unique, which Citus would not allow.';
COMMENT ON CONSTRAINT approval_requests_pkey ON @extschema@.approval_requests IS 'The tenant-keyed primary key (account_id, id): the rows of one account together, as Citus needs of a table distributed by account_id; id alone stays unique by construction.';
COMMENT ON INDEX @extschema@.approval_requests_id_idx IS 'Look-ups by id alone (legacy_id_of(), the application''s by-id reads and the fill of the tenant key): not unique, which Citus would not allow.';
COMMENT ON CONSTRAINT budget_alerts_pkey ON @extschema@.budget_alerts IS 'The tenant-keyed primary key (account_id, id): the rows of one account together, as Citus needs of a table distributed by account_id; id alone stays unique by construction.';
COMMENT ON INDEX @extschema@.budget_alerts_id_idx IS 'Look-ups by id alone (legacy_id_of(), the application''s by-id reads and the fill of the tenant key): not unique, which Citus would not allow.';
COMMENT ON CONSTRAINT conversations_pkey ON @extschema@.conversations IS 'The tenant-keyed primary key (user_id, id): the rows of one user together, as Citus needs of a table distributed by user_id; id alone stays unique by construction.';
COMMENT ON INDEX @extschema@.conversations_id_idx IS 'Look-ups by id alone (legacy_id_of(), the application''s by-id reads and the fill of the tenant key): not unique, which Citus would not allow.';
COMMENT ON CONSTRAINT conversation_messages_pkey ON @extschema@.conversation_messages IS 'The tenant-keyed primary key (user_id, id): the rows of one user together, as Citus needs of a table distributed by user_id; id alone stays unique by construction.';
COMMENT ON INDEX @extschema@.conversation_messages_id_idx IS 'Look-ups by id alone (legacy_id_of(), the application''s by-id reads and the fill of the tenant key): not unique, which Citus would not allow.';

COMMENT ON CONSTRAINT ad_groups_account_id_campaign_id_fkey ON @extschema@.ad_groups IS 'The parent row in the same tenant: (account_id, campaign_id) -> campaigns (account_id, id), ON DELETE CASCADE.  A account_id that is not the parent''s is refused here.';
COMMENT ON INDEX @extschema@.ad_groups_account_id_campaign_id_idx IS 'The foreign key''s index: the rows of one campaign within a tenant.';
COMMENT ON TRIGGER ad_groups_set_account_id ON @extschema@.ad_groups IS 'Fills account_id from the campaigns row of campaign_id when an INSERT, or an UPDATE of campaign_id, leaves it NULL.';
COMMENT ON CONSTRAINT ads_account_id_ad_group_id_fkey ON @extschema@.ads IS 'The parent row in the same tenant: (account_id, ad_group_id) -> ad_groups (account_id, id), ON DELETE CASCADE.  A account_id that is not the parent''s is refused here.';
COMMENT ON INDEX @extschema@.ads_account_id_ad_group_id_idx IS 'The foreign key''s index: the rows of one ad group within a tenant.';
COMMENT ON TRIGGER ads_set_account_id ON @extschema@.ads IS 'Fills account_id from the ad_groups row of ad_group_id when an INSERT, or an UPDATE of ad_group_id, leaves it NULL.';
COMMENT ON CONSTRAINT analytics_snapshots_account_id_campaign_id_fkey ON @extschema@.analytics_snapshots IS 'The parent row in the same tenant: (account_id, campaign_id) -> campaigns (account_id, id), ON DELETE CASCADE.  A account_id that is not the parent''s is refused here.';
COMMENT ON TRIGGER analytics_snapshots_set_account_id ON @extschema@.analytics_snapshots IS 'Fills account_id from the campaigns row of campaign_id when an INSERT, or an UPDATE of campaign_id, leaves it NULL.';
COMMENT ON CONSTRAINT approval_requests_account_id_campaign_id_fkey ON @extschema@.approval_requests IS 'The parent row in the same tenant: (account_id, campaign_id) -> campaigns (account_id, id), ON DELETE CASCADE.  A account_id that is not the parent''s is refused here.';
COMMENT ON INDEX @extschema@.approval_requests_account_id_campaign_id_idx IS 'The foreign key''s index: the rows of one campaign within a tenant.';
COMMENT ON TRIGGER approval_requests_set_account_id ON @extschema@.approval_requests IS 'Fills account_id from the campaigns row of campaign_id when an INSERT, or an UPDATE of campaign_id, leaves it NULL.';
COMMENT ON CONSTRAINT budget_alerts_account_id_campaign_id_fkey ON @extschema@.budget_alerts IS 'The parent row in the same tenant: (account_id, campaign_id) -> campaigns (account_id, id), ON DELETE CASCADE.  A account_id that is not the parent''s is refused here.';
COMMENT ON INDEX @extschema@.budget_alerts_account_id_campaign_id_idx IS 'The foreign key''s index: the rows of one campaign within a tenant.';
COMMENT ON TRIGGER budget_alerts_set_account_id ON @extschema@.budget_alerts IS 'Fills account_id from the campaigns row of campaign_id when an INSERT, or an UPDATE of campaign_id, leaves it NULL.';
COMMENT ON CONSTRAINT conversation_messages_user_id_conversation_id_fkey ON @extschema@.conversation_messages IS 'The parent row in the same tenant: (user_id, conversation_id) -> conversations (user_id, id), ON DELETE CASCADE.  A user_id that is not the parent''s is refused here.';
COMMENT ON INDEX @extschema@.conversation_messages_user_id_conversation_id_idx IS 'The foreign key''s index: the rows of one conversation within a tenant.';
COMMENT ON TRIGGER conversation_messages_set_user_id ON @extschema@.conversation_messages IS 'Fills user_id from the conversations row of conversation_id when an INSERT, or an UPDATE of conversation_id, leaves it NULL.';
COMMENT ON CONSTRAINT analytics_snapshots_account_id_campaign_id_snapshot_date_pe_key ON @extschema@.analytics_snapshots IS 'One snapshot per campaign, date and period within a tenant: UNIQUE (account_id, campaign_id, snapshot_date, period_type); also the foreign key''s index.';

COMMENT ON FUNCTION @extschema@.set_tenant_key() IS 'BEFORE INSERT OR UPDATE OF the parent column row trigger of 3.0: fills a NULL tenant key (account_id, user_id) from the parent row.';
COMMENT ON FUNCTION @extschema@.distribute(integer) IS 'On a Citus coordinator, in the caller''s transaction: users and accounts made reference tables, the tenant tables distributed by account_id co-located with campaigns, conversations and conversation_messages by user_id; every row moved to the shards, the foreign keys kept.  Refuses unless every worker has this version, the coordinator''s legacy namespace and no rows of its own.';
COMMENT ON FUNCTION @extschema@.undistribute() IS 'The way back from distribute(), in the caller''s transaction: every row brought back into the coordinator''s own tables, the Citus metadata and shards of the 11 tables removed.';
COMMENT ON FUNCTION @extschema@._lg_citus_tables() IS 'Internal: what distribute() makes of each of the 11 tables (reference or distributed, distribution column, co-location), in its order.';
COMMENT ON FUNCTION @extschema@._lg_citus_relids() IS 'Internal: the 11 tables as regclass, in distribute()''s order.';
COMMENT ON FUNCTION @extschema@._lg_citus_require(text, boolean) IS 'Internal: the refusals distribute() and undistribute() share (Citus installed, the coordinator, a worker, no foreign key with other tables, distributed or not).';
