-- test/citus_legacy.sql: schema legacy_citus, the 11 legacy tables of schema
-- legacy made Citus tables: users and accounts reference tables, the others
-- distributed by id in :shards shards (psql variable).  For convert_legacy()
-- from Citus sources: test/t/092_citus_convert.pl, test/bench_citus.sh.
--
-- The application's layouts have UNIQUE keys without id, which Citus refuses
-- on a table distributed by id: the copies have their defaults and a primary
-- key on id, nothing else.
SELECT pg_catalog.set_config('lane_google_test.shards', :'shards', false);
CREATE SCHEMA legacy_citus;
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['users', 'accounts', 'account_users', 'campaigns', 'ad_groups', 'ads',
      'analytics_snapshots', 'approval_requests', 'budget_alerts', 'conversations', 'conversation_messages'] LOOP
    EXECUTE format('CREATE TABLE legacy_citus.%I (LIKE legacy.%I INCLUDING DEFAULTS)', t, t);
    EXECUTE format('ALTER TABLE legacy_citus.%I ADD PRIMARY KEY (id)', t);
    EXECUTE format('INSERT INTO legacy_citus.%I SELECT * FROM legacy.%I', t, t);
    IF t IN ('users', 'accounts') THEN
      PERFORM create_reference_table('legacy_citus.' || t);
    ELSE
      PERFORM create_distributed_table('legacy_citus.' || t, 'id',
          shard_count => current_setting('lane_google_test.shards')::integer);
    END IF;
    PERFORM truncate_local_data_after_distributing_table('legacy_citus.' || t);
  END LOOP;
END $$;
