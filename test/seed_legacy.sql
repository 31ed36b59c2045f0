-- test/seed_legacy.sql: deterministic legacy rows for the reliability tests.
--
-- Fills the extension's 1.0 tables (CREATE EXTENSION lane_google VERSION
-- '1.0' first).  psql variable scale (default 1) multiplies every table:
-- at scale 1 about 235,000 rows, 100,000 of them in ads and in
-- analytics_snapshots.  Text carries quotes, backslashes, non-ASCII and
-- NULLs so checksums see more than integers.  Fractional scales work.
\if :{?scale}
\else
\set scale 1
\endif

INSERT INTO lane_google.users (email, username, password_hash, salt, first_name,
                               last_name, phone, role, permissions, status, created_at)
SELECT 'user' || g || '@example.com', 'user_' || g, md5(g::text), left(md5('s' || g), 32),
       'Fïrst ' || g, E'O''Brien\\' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE '+1-555-' || g END,
       (ARRAY['admin', 'manager', 'analyst', 'viewer'])[1 + g % 4]::lane_google.user_role,
       jsonb_build_object('n', g, 'q', 'it''s'), 'active',
       timestamptz '2024-01-01 00:00+00' + g * interval '1 minute'
  FROM generate_series(1, (1000 * :scale)::int) AS g;

INSERT INTO lane_google.accounts (name, google_customer_id, monthly_budget_limit, settings)
SELECT 'Account "' || g || '"', 'cust-' || g, (g * 10.25)::numeric(12,2),
       jsonb_build_object('tier', g % 5)
  FROM generate_series(1, (100 * :scale)::int) AS g;

INSERT INTO lane_google.account_users (account_id, user_id, role, invited_by)
SELECT 1 + g % ((100 * :scale)::int), 1 + g / ((100 * :scale)::int),
       (ARRAY['viewer', 'editor', 'admin', 'owner'])[1 + g % 4]::lane_google.account_role,
       CASE WHEN g % 2 = 0 THEN NULL ELSE 1 + (g * 7) % ((1000 * :scale)::int) END
  FROM generate_series(0, (2000 * :scale)::int - 1) AS g;

INSERT INTO lane_google.campaigns (account_id, created_by_id, name, customer_id,
                                   google_campaign_id, brief, status, budget_amount)
SELECT 1 + g % ((100 * :scale)::int), CASE WHEN g % 5 = 0 THEN NULL ELSE 1 + g % ((1000 * :scale)::int) END,
       'Campaign; ' || g, 'cust-' || (1 + g % ((100 * :scale)::int)), 'gc' || g,
       jsonb_build_object('goal', 'clicks', 'g', g),
       (ARRAY['draft', 'approved', 'active', 'paused', 'cancelled'])[1 + g % 5]::lane_google.campaign_status,
       (g % 1000) * 3.5
  FROM generate_series(1, (1000 * :scale)::int) AS g;

INSERT INTO lane_google.ad_groups (campaign_id, name, google_ad_group_id, cpc_bid, keywords)
SELECT 1 + g % ((1000 * :scale)::int), 'Ad group ' || g, 'ag' || g, (g % 300) / 100.0,
       jsonb_build_array('kw' || g, 'kw' || (g + 1))
  FROM generate_series(1, (5000 * :scale)::int) AS g;

INSERT INTO lane_google.ads (ad_group_id, google_ad_id, headlines, descriptions, final_url, status)
SELECT 1 + g % ((5000 * :scale)::int), 'ad' || g, jsonb_build_array('Headline ' || g),
       jsonb_build_array('Description ' || g), 'https://example.com/' || g,
       (ARRAY['enabled', 'paused', 'removed'])[1 + g % 3]::lane_google.ad_status
  FROM generate_series(1, (100000 * :scale)::int) AS g;

INSERT INTO lane_google.analytics_snapshots (campaign_id, snapshot_date, impressions, clicks,
                                             cost, conversions, conversion_value, metrics)
SELECT 1 + g % ((1000 * :scale)::int), date '2024-01-01' + g / ((1000 * :scale)::int), g * 10, g % 97,
       (g % 10000) / 100.0, g % 7, (g % 5000) / 10.0,
       CASE WHEN g % 4 = 0 THEN NULL ELSE jsonb_build_object('ctr', g % 100) END
  FROM generate_series(0, (100000 * :scale)::int - 1) AS g;

INSERT INTO lane_google.approval_requests (campaign_id, requester_id, approved_by,
                                           request_type, title, description)
SELECT 1 + g % ((1000 * :scale)::int), 1 + g % ((1000 * :scale)::int),
       CASE WHEN g % 2 = 0 THEN NULL ELSE 1 + (g * 3) % ((1000 * :scale)::int) END,
       'budget', 'Request ' || g, E'line one\nline two\t' || g
  FROM generate_series(1, (2000 * :scale)::int) AS g;

INSERT INTO lane_google.budget_alerts (campaign_id, alert_type, message, current_spend,
                                       budget_limit, projected_spend)
SELECT 1 + g % ((1000 * :scale)::int),
       (ARRAY['overspending', 'underspending', 'exhausted', 'at_risk'])[1 + g % 4]::lane_google.alert_type,
       'Alert ' || g, g % 1000, 1000, g % 1500
  FROM generate_series(1, (2000 * :scale)::int) AS g;

INSERT INTO lane_google.conversations (user_id, title, context)
SELECT 1 + g % ((1000 * :scale)::int), 'Conversation ' || g, jsonb_build_object('g', g)
  FROM generate_series(1, (2000 * :scale)::int) AS g;

INSERT INTO lane_google.conversation_messages (conversation_id, role, content, metadata)
SELECT 1 + g % ((2000 * :scale)::int),
       (ARRAY['user', 'assistant', 'system'])[1 + g % 3]::lane_google.message_role,
       'Message ' || g || ' ✓ ''quoted''', NULL
  FROM generate_series(1, (20000 * :scale)::int) AS g;

ANALYZE;
