#!/usr/bin/env bash
# test/gen_legacy.sh: Lane Google legacy data at scale S, for the conversion
# tests, the demo and the benchmarks.
#
#   bash test/gen_legacy.sh --scale S [--target extension|app] [--schema NAME]
#        [--layout integer|mixed] [--db DBNAME] [--orphans N] [--jobs N] [--replace] [--print-sql]
#
# Scale 1 is about 4.1 million rows in the seed's proportions (users 10k,
# accounts 2k, account_users 20k, campaigns 100k, ad_groups 300k, ads 1M,
# analytics_snapshots 2M, approval_requests 50k, budget_alerts 50k,
# conversations 50k, conversation_messages 500k); S is a float (0.01, 2.5...).
#
# --target extension (default): fills the tables of lane_google installed at
#   VERSION '1.0' (schema lane_google, or --schema), then moves each identity
#   sequence past the largest id.  The rows are consistent by construction, so
#   they are loaded with session_replication_role = replica (no per-row
#   foreign-key trigger); validate_fk_integrity() is the proof.
# --target app: creates the application's own legacy tables in --schema
#   (default public) and fills them: --layout integer (default) has serial ids,
#   integer foreign keys, enum types of its own and jsonb; --layout mixed is
#   the layout the application really had (schema-spec.md, "real legacy
#   layout"): users.id varchar(36) holding UUID text, accounts.id varchar(50),
#   approval_requests, conversations and conversation_messages ids varchar(36)
#   holding decimal integers, the foreign keys of the same kinds as what they
#   point at, campaigns.created_by, status columns varchar, JSON as json or
#   text.  No foreign-key constraints (the application could not create them).
#
# Values are hash-based (hashint8extended of the row number and a per-column
# salt): the same S gives the same rows, on any run.  Ids have gaps: every
# 7th id is never used, and 700 ids are missing after every 10,000 rows
# (deleted ranges); a multiple of 7 is therefore never an id, which is what
# --orphans uses: it sets N rows of every child foreign key (14 of them) to a
# parent key that does not exist.  Nullable foreign keys are NULL in 25-40% of
# the rows.  --jobs (default 2) loads in that many sessions at once (the rows
# are the same whatever the number).  --replace empties the extension's tables
# (or drops the application's tables) first; without it, existing rows are an
# error.  --print-sql prints the load's SQL and exits.
#
# Connects through the usual libpq environment (PGHOST, PGPORT, PGUSER,
# PGDATABASE; --db overrides PGDATABASE).  Needs a superuser for the extension
# target (session_replication_role).  Prints, on stderr, each table's seconds
# (and the backend's CPU seconds, which other work on the machine does not
# inflate), then the row count of every table.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
    sed -n '5,6p' "$0" | sed 's/^# *//' >&2
    exit 2
}

scale=1
target=extension
schema=""
layout=integer
orphans=0
jobs=2
replace=0
print_sql=0
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) scale=${2:?}; shift 2 ;;
        --target) target=${2:?}; shift 2 ;;
        --schema) schema=${2:?}; shift 2 ;;
        --layout) layout=${2:?}; shift 2 ;;
        --db) export PGDATABASE=${2:?}; shift 2 ;;
        --orphans) orphans=${2:?}; shift 2 ;;
        --jobs) jobs=${2:?}; shift 2 ;;
        --replace) replace=1; shift ;;
        --print-sql) print_sql=1; shift ;;
        -h | --help) usage ;;
        *) echo "gen_legacy.sh: unknown option $1" >&2; usage ;;
    esac
done

die() { echo "gen_legacy.sh: $*" >&2; exit 1; }
[[ "$scale" =~ ^[0-9]*\.?[0-9]+$ ]] || die "--scale must be a positive number, not \"$scale\""
awk -v s="$scale" 'BEGIN { exit !(s > 0 && s <= 1000) }' || die "--scale must be in (0, 1000]"
[[ "$orphans" =~ ^[0-9]+$ ]] || die "--orphans must be a whole number"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive whole number"
case "$target" in
    extension) schema=${schema:-lane_google}; layout=integer ;;
    app) schema=${schema:-public} ;;
    *) die "--target must be extension or app" ;;
esac
case "$layout" in integer | mixed) ;; *) die "--layout must be integer or mixed" ;; esac
[[ "$schema" =~ ^[a-z_][a-z0-9_]*$ ]] || die "--schema must be a plain lower-case identifier"

lg_find_pg_config
PSQL=psql
[ -n "${PG_CONFIG:-}" ] && [ -x "$($PG_CONFIG --bindir)/psql" ] && PSQL="$($PG_CONFIG --bindir)/psql"
q() { "$PSQL" -X -v ON_ERROR_STOP=1 -q -At "$@"; }

TABLES="users accounts account_users campaigns ad_groups ads analytics_snapshots approval_requests budget_alerts conversations conversation_messages"

# Row counts in the seed's proportions
count() { awk -v b="$1" -v s="$scale" 'BEGIN { n = int(b * s + 0.5); if (n < 1) n = 1; printf "%d", n }'; }
n_users=$(count 10000)
n_accounts=$(count 2000)
n_account_users=$(count 20000)
n_campaigns=$(count 100000)
n_ad_groups=$(count 300000)
n_ads=$(count 1000000)
n_analytics_snapshots=$(count 2000000)
n_approval_requests=$(count 50000)
n_budget_alerts=$(count 50000)
n_conversations=$(count 50000)
n_conversation_messages=$(count 500000)
# every (account, user) pair at most once
max_au=$((n_accounts * n_users))
[ "$n_account_users" -gt "$max_au" ] && n_account_users=$max_au
au_k=$(((n_account_users + n_accounts - 1) / n_accounts))  # members per account
au_stride=$((n_users / au_k))
[ "$au_stride" -lt 1 ] && au_stride=1
snap_k=$(((n_analytics_snapshots + n_campaigns - 1) / n_campaigns))  # snapshots per campaign
msg_k=$(((n_conversation_messages + n_conversations - 1) / n_conversations))

# --- How each layout spells keys, enums and JSON -----------------------------
S="$schema"
CREATOR=created_by_id
[ "$layout" = mixed ] && CREATOR=created_by
# K TABLE EXPR: the key of row EXPR (a row number's id) of TABLE, as the layout stores it
K() {
    if [ "$layout" = mixed ]; then
        case "$1" in
            users) echo "pg_temp.uid($2)"; return ;;
            accounts | approval_requests | conversations | conversation_messages) echo "($2)::text"; return ;;
        esac
    fi
    echo "$2"
}
# E TYPE: the cast of an enum value (mixed: varchar, so none)
E() { [ "$layout" = mixed ] && echo "" || echo "::$S.$1"; }

# --- Session prelude: deterministic value helpers ----------------------------
PRELUDE=$(cat <<'SQL'
SET client_min_messages = warning;
SET synchronous_commit = off;
SET TimeZone = 'UTC';
SET datestyle = 'ISO, YMD';
SET jit = off;
-- a number in [0, 1) from a row number and a per-column salt
CREATE FUNCTION pg_temp.r(i bigint, salt integer) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (hashint8extended(i, salt) & 9007199254740991)::float8 / 9007199254740992.0 $$;
-- a row number in 1..n
CREATE FUNCTION pg_temp.p(i bigint, salt integer, n bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT 1 + floor(pg_temp.r(i, salt) * n)::bigint $$;
-- an element of a list
CREATE FUNCTION pg_temp.el(a text[], i bigint, salt integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT a[pg_temp.p(i, salt, cardinality(a))] $$;
-- the id of row i: every 7th id unused, 700 ids deleted after every 10,000 rows
CREATE FUNCTION pg_temp.gid(i bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT i + (i - 1) / 6 + 700 * ((i - 1) / 10000) $$;
-- the UUID text a user id had in the application's mixed layout
CREATE FUNCTION pg_temp.uid(id bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT overlay(overlay(md5('lane-google-user:' || id) PLACING '4' FROM 13) PLACING '8' FROM 17)::uuid::text $$;
-- an account's Google Ads customer id, 123-456-7890 (a bijection of the id)
CREATE FUNCTION pg_temp.gcid(id bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT regexp_replace((1000000000 + (id * 7919) % 8999999999)::text, '^(\d{3})(\d{3})(\d{4})$', '\1-\2-\3') $$;
-- a duration of x days, as seconds (adding days to a timestamptz is slower)
CREATE FUNCTION pg_temp.days(x float8) RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT make_interval(secs => x * 86400) $$;
-- a time between 2024-01-01 and 2025-08-23 (600 days)
CREATE FUNCTION pg_temp.ts(i bigint, salt integer) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT to_timestamp(1704067200 + pg_temp.r(i, salt) * 51840000) $$;
-- money in [lo, hi), skewed towards lo
-- CPU seconds this backend used so far (Linux; NULL elsewhere): a figure that
-- other work on the machine does not inflate
CREATE FUNCTION pg_temp.cpu() RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE f text[];
BEGIN
    f := string_to_array(split_part(pg_read_file('/proc/self/stat'), ') ', 2), ' ');
    RETURN (f[12]::bigint + f[13]::bigint) / 100.0;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END $$;
-- x rounded to 2 or 4 decimals, as numeric (float8::numeric is slow)
CREATE FUNCTION pg_temp.n2(x float8) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT floor(x * 100 + 0.5)::bigint * 0.01 $$;
CREATE FUNCTION pg_temp.n4(x float8) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT floor(x * 10000 + 0.5)::bigint * 0.0001 $$;
CREATE FUNCTION pg_temp.money(i bigint, salt integer, lo float8, hi float8) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT pg_temp.n2(lo + (hi - lo) * pg_temp.r(i, salt) ^ 2) $$;
SQL
)

# W SALT label:weight ...: a weighted choice, as a CASE on one draw
W() {
    local salt=$1 total=0 acc=0 lw out="(CASE"
    shift
    for lw in "$@"; do total=$((total + ${lw#*:})); done
    for lw in "$@"; do
        acc=$((acc + ${lw#*:}))
        if [ "$acc" -ge "$total" ]; then
            out="$out ELSE '${lw%%:*}'"
        else
            out="$out WHEN pg_temp.r(i, $salt) < $acc.0 / $total THEN '${lw%%:*}'"
        fi
    done
    echo "$out END)"
}

FIRST="ARRAY['James','Mary','Robert','Patricia','John','Jennifer','Michael','Linda','David','Elizabeth','William','Barbara','Richard','Susan','Joseph','Jessica','Thomas','Sarah','Carlos','Karen','Wei','Aisha','Hiroshi','Olga','Mateo','Priya','Lukas','Fatima','Noah','Emma','Liam','Sofia','Ahmed','Chloe','Ivan','Ana']"
LAST="ARRAY['Smith','Johnson','Williams','Brown','Jones','Garcia','Miller','Davis','Rodriguez','Martinez','Hernandez','Lopez','Gonzalez','Wilson','Anderson','Thomas','Taylor','Moore','Jackson','Martin','Lee','Perez','Thompson','White','Nguyen','Kim','Patel','Schmidt','Rossi','Dubois','Kowalski','Silva','Tanaka','Ivanova','OBrien','Haddad']"
COMPANY="ARRAY['Acme Retail','Northwind Traders','Blue Harbor Travel','Summit Outdoor','Brightside Dental','Urban Loft Furniture','Green Valley Organics','Pixel Forge Studios','Cedar & Stone Realty','Velocity Auto Parts','Lumen Skincare','Harborview Legal','Peak Fitness Club','Silverline Insurance','Maple Street Bakery','Orbit Software']"
DEPT="ARRAY['Marketing','Growth','Paid Search','E-commerce','Brand','Sales','Finance','Operations']"
KW="ARRAY['running shoes','trail shoes','buy sofa online','dentist near me','teeth whitening','cheap flights','hotel deals','car insurance quote','organic vegetables','yoga classes','crm software','wedding photographer','used cars','skin care routine','real estate agent','bakery delivery','gym membership','legal advice','winter jackets','standing desk']"
HEAD="ARRAY['Free Shipping Today','Shop the New Collection','Book Your Visit Online','Save 20% This Week','Trusted by 10,000 Customers','Official Store','Get a Free Quote','Limited Time Offer','Open 7 Days a Week','Top Rated Near You','Fast Delivery','Try It Free for 30 Days']"
DESC="ARRAY['Browse hundreds of styles and find the one that fits you best.','Friendly experts ready to help, with same-day appointments.','Compare plans in minutes and switch with no paperwork.','Fresh, local and delivered to your door every morning.','Award-winning service since 2009. See our reviews.','Order before 2pm for next-day delivery across the country.']"
DOMAIN="ARRAY['example.com','acme-retail.example','northwind.example','blueharbor.example','summit-outdoor.example','brightside.example','urbanloft.example','greenvalley.example']"
QUESTION="ARRAY['Why did my cost per click go up this week?','Which campaigns are overspending?','Pause all ads in the Brand ad group.','How is the Summer Sale campaign pacing?','Suggest new keywords for running shoes.','Compare last month with this month.','Increase the daily budget by 10 percent.','What is my best performing ad?']"
ANSWER="ARRAY['Your average CPC rose 12% because competitors raised bids on your top keywords. Consider adding negative keywords and narrowing match types.','Two campaigns are above their linear pacing line; at the current rate they will exhaust their budget five days early.','Done: the ad group is paused. Impressions will stop within a few minutes.','The campaign has spent 48% of its budget with 52% of the period elapsed, which is on track.','Here are ten keywords with high intent and moderate competition, with estimated CPCs.','Clicks are up 8% month over month while conversions are flat; the conversion rate dropped from 3.1% to 2.9%.','I prepared a budget change for approval; it will take effect once a manager approves it.','The ad with the headline Free Shipping Today has the highest click-through rate, 6.4%.']"

# --- DDL for the application's own tables ---------------------------------------
app_ddl() {
    local mixed=0 ju=jsonb jt=jsonb
    [ "$layout" = mixed ] && { mixed=1; ju=json; jt=text; }
    # key kinds: T_<table> the type of its id and of a foreign key to it
    # (idcol reads them through ${!t})
    # shellcheck disable=SC2034
    local T_users=integer T_accounts=integer T_approval_requests=integer T_conversations=integer T_conversation_messages=integer
    # shellcheck disable=SC2034
    if [ $mixed -eq 1 ]; then
        T_users="varchar(36)"; T_accounts="varchar(50)"; T_approval_requests="varchar(36)"
        T_conversations="varchar(36)"; T_conversation_messages="varchar(36)"
    fi
    idcol() { # table
        local t="T_$1"
        [ "${!t:-integer}" = integer ] && echo "id serial" || echo "id ${!t} NOT NULL"
    }
    en() { [ $mixed -eq 1 ] && echo "varchar(20)" || echo "$S.$1"; }
    local req_user=$T_users
    [ $mixed -eq 1 ] && req_user="varchar(50)"
    if [ $mixed -eq 0 ]; then
        cat <<SQL
CREATE TYPE $S.user_role AS ENUM ('admin', 'manager', 'analyst', 'viewer');
CREATE TYPE $S.user_status AS ENUM ('active', 'inactive', 'suspended', 'pending');
CREATE TYPE $S.account_role AS ENUM ('viewer', 'editor', 'admin', 'owner');
CREATE TYPE $S.campaign_status AS ENUM ('draft', 'approved', 'active', 'paused', 'cancelled');
CREATE TYPE $S.pacing_strategy AS ENUM ('linear', 'accelerated', 'conservative', 'adaptive');
CREATE TYPE $S.ad_status AS ENUM ('enabled', 'paused', 'removed');
CREATE TYPE $S.period_type AS ENUM ('hourly', 'daily', 'weekly', 'monthly');
CREATE TYPE $S.approval_status AS ENUM ('pending', 'approved', 'rejected', 'expired');
CREATE TYPE $S.priority_level AS ENUM ('low', 'medium', 'high', 'urgent');
CREATE TYPE $S.alert_type AS ENUM ('overspending', 'underspending', 'exhausted', 'at_risk');
CREATE TYPE $S.alert_severity AS ENUM ('low', 'medium', 'high', 'critical');
CREATE TYPE $S.conversation_status AS ENUM ('active', 'archived', 'deleted');
CREATE TYPE $S.message_role AS ENUM ('user', 'assistant', 'system');
SQL
    fi
    cat <<SQL
CREATE TABLE $S.users (
    $(idcol users), email varchar(255) NOT NULL, username varchar(100) NOT NULL,
    password_hash varchar(255) NOT NULL, salt varchar(32) NOT NULL,
    first_name varchar(100) NOT NULL, last_name varchar(100) NOT NULL, phone varchar(20),
    company varchar(200), department varchar(100), role $(en user_role) NOT NULL DEFAULT 'viewer',
    permissions $ju, status $(en user_status) NOT NULL DEFAULT 'pending',
    is_verified boolean NOT NULL DEFAULT false, last_login timestamptz, last_activity timestamptz,
    failed_login_attempts integer NOT NULL DEFAULT 0, locked_until timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT now(), google_ads_customer_ids $ju,
    google_ads_refresh_token varchar(500),
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE $S.accounts (
    $(idcol accounts), name varchar(255) NOT NULL, google_customer_id varchar(50) NOT NULL,
    timezone varchar(50) NOT NULL DEFAULT 'America/New_York', currency char(3) NOT NULL DEFAULT 'USD',
    monthly_budget_limit numeric(12,2), is_active boolean NOT NULL DEFAULT true,
    settings $jt NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE $S.account_users (
    $(idcol account_users), account_id $T_accounts NOT NULL, user_id $T_users NOT NULL,
    role $(en account_role) NOT NULL DEFAULT 'viewer', permissions $ju, invited_by $T_users,
    joined_at timestamptz DEFAULT now(), last_access timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE $S.campaigns (
    $(idcol campaigns), account_id $T_accounts NOT NULL, $CREATOR $T_users,
    name varchar(255) NOT NULL, customer_id varchar(50) NOT NULL, google_campaign_id varchar(50),
    brief $ju, status $(en campaign_status) NOT NULL DEFAULT 'draft', approved_at timestamptz,
    budget_amount numeric(12,2) CHECK (budget_amount >= 0), current_spend numeric(12,2) NOT NULL DEFAULT 0,
    pacing_strategy $(en pacing_strategy) NOT NULL DEFAULT 'linear', last_pacing_check timestamptz,
    projected_spend numeric(12,2), billing_period_start timestamptz, billing_period_end timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE $S.ad_groups (
    $(idcol ad_groups), campaign_id integer NOT NULL, name varchar(255) NOT NULL,
    google_ad_group_id varchar(50), status $(en ad_status) NOT NULL DEFAULT 'enabled',
    cpc_bid numeric(12,2), keywords $ju NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE $S.ads (
    $(idcol ads), ad_group_id integer NOT NULL, google_ad_id varchar(50),
    headlines $ju NOT NULL DEFAULT '[]', descriptions $jt NOT NULL DEFAULT '[]', final_url varchar(2048),
    status $(en ad_status) NOT NULL DEFAULT 'enabled',
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE $S.analytics_snapshots (
    $(idcol analytics_snapshots), campaign_id integer NOT NULL, snapshot_date date NOT NULL,
    period_type $(en period_type) NOT NULL DEFAULT 'daily', impressions bigint NOT NULL DEFAULT 0,
    clicks bigint NOT NULL DEFAULT 0, cost numeric(12,2) NOT NULL DEFAULT 0,
    conversions numeric(12,2) NOT NULL DEFAULT 0, conversion_value numeric(12,2) NOT NULL DEFAULT 0,
    metrics $ju, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE $S.approval_requests (
    $(idcol approval_requests), campaign_id integer NOT NULL, requester_id $req_user NOT NULL,
    approved_by $req_user, request_type varchar(50) NOT NULL, title varchar(255) NOT NULL,
    description text, priority $(en priority_level) NOT NULL DEFAULT 'medium',
    status $(en approval_status) NOT NULL DEFAULT 'pending', request_data $ju, approval_config $jt,
    rejection_reason text, comments text, expires_at timestamptz, approved_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE $S.budget_alerts (
    $(idcol budget_alerts), campaign_id integer NOT NULL, alert_type $(en alert_type) NOT NULL,
    severity $(en alert_severity) NOT NULL DEFAULT 'medium', message text NOT NULL,
    current_spend numeric(12,2) NOT NULL, budget_limit numeric(12,2) NOT NULL,
    projected_spend numeric(12,2) NOT NULL, recommended_action text,
    resolved boolean NOT NULL DEFAULT false, resolved_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE $S.conversations (
    $(idcol conversations), user_id $T_users NOT NULL, title varchar(200), context $ju,
    status $(en conversation_status) NOT NULL DEFAULT 'active', last_message_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE $S.conversation_messages (
    $(idcol conversation_messages), conversation_id $T_conversations NOT NULL,
    role $(en message_role) NOT NULL, content text NOT NULL, metadata $ju,
    created_at timestamptz NOT NULL DEFAULT now());
SQL
}

# Keys and indexes of one of the application's tables, built after the load
app_keys() {
    echo "ALTER TABLE $S.$1 ADD PRIMARY KEY (id);"
    case "$1" in
        users) echo "ALTER TABLE $S.users ADD UNIQUE (email), ADD UNIQUE (username);" ;;
        accounts) echo "ALTER TABLE $S.accounts ADD UNIQUE (google_customer_id);" ;;
        account_users) echo "ALTER TABLE $S.account_users ADD UNIQUE (account_id, user_id);" ;;
        analytics_snapshots) echo "ALTER TABLE $S.analytics_snapshots ADD UNIQUE (campaign_id, snapshot_date, period_type);" ;;
        campaigns) echo "CREATE INDEX ON $S.campaigns (account_id);" ;;
        ad_groups) echo "CREATE INDEX ON $S.ad_groups (campaign_id);" ;;
        ads) echo "CREATE INDEX ON $S.ads (ad_group_id);" ;;
        conversation_messages) echo "CREATE INDEX ON $S.conversation_messages (conversation_id);" ;;
    esac
}

# --- The rows ---------------------------------------------------------------------
# One INSERT per table: an inner query (OFFSET 0 keeps each draw computed once)
# makes the values, the outer one spells keys and enums as the layout wants.
gen_sql() {
    case "$1" in
    users) cat <<SQL
INSERT INTO $S.users (id, email, username, password_hash, salt, first_name, last_name, phone, company,
    department, role, permissions, status, is_verified, last_login, last_activity, failed_login_attempts,
    locked_until, password_changed_at, google_ads_customer_ids, google_ads_refresh_token, created_at, updated_at)
SELECT $(K users id), lower(fn || '.' || ln) || '.' || id || '@' || pg_temp.el($DOMAIN, i, 3),
    lower(left(fn, 1) || ln) || id,
    '\$2b\$12\$' || substr(translate(encode(sha256(('pw' || id)::bytea), 'base64'), '+=', '.') || md5('pw' || id), 1, 53),
    substr(md5('salt' || id), 1, 32), fn, ln,
    CASE WHEN pg_temp.r(i, 4) < 0.3 THEN NULL
         ELSE '+1-' || (200 + pg_temp.p(i, 5, 799)) || '-555-' || lpad(pg_temp.p(i, 6, 9999)::text, 4, '0') END,
    CASE WHEN pg_temp.r(i, 7) < 0.2 THEN NULL ELSE pg_temp.el($COMPANY, i, 8) END,
    CASE WHEN pg_temp.r(i, 9) < 0.3 THEN NULL ELSE pg_temp.el($DEPT, i, 10) END,
    role$(E user_role),
    CASE WHEN pg_temp.r(i, 11) < 0.5 THEN NULL
         ELSE jsonb_build_object('campaigns', CASE WHEN role IN ('admin', 'manager') THEN '["read", "write", "approve"]'::jsonb
                                                   ELSE '["read"]'::jsonb END,
                                 'reports', pg_temp.r(i, 12) < 0.7, 'billing', role = 'admin') END,
    status$(E user_status), pg_temp.r(i, 13) < 0.85,
    CASE WHEN status = 'pending' THEN NULL ELSE created + pg_temp.days(pg_temp.r(i, 14) * 200) END,
    CASE WHEN status = 'pending' THEN NULL ELSE created + pg_temp.days(pg_temp.r(i, 14) * 200) + interval '17 minutes' END,
    floor(pg_temp.r(i, 15) ^ 6 * 6)::int,
    CASE WHEN status = 'suspended' THEN created + interval '9600 hours' END,
    created + pg_temp.days(pg_temp.r(i, 16) * 100),
    CASE WHEN pg_temp.r(i, 17) < 0.4 THEN NULL
         ELSE jsonb_build_array(pg_temp.gcid(pg_temp.gid(pg_temp.p(i, 18, $n_accounts)))) END,
    CASE WHEN pg_temp.r(i, 19) < 0.6 THEN NULL ELSE '1//0' || md5('token' || id) || md5('refresh' || id) END,
    created, created + pg_temp.days(pg_temp.r(i, 20) * 60)
FROM (SELECT i, pg_temp.gid(i) AS id, pg_temp.el($FIRST, i, 1) AS fn, pg_temp.el($LAST, i, 2) AS ln,
             $(W 21 admin:5 manager:15 analyst:30 viewer:50) AS role,
             $(W 22 active:70 inactive:10 suspended:5 pending:15) AS status,
             pg_temp.ts(i, 23) AS created
      FROM generate_series(1, $n_users) i OFFSET 0) s;
SQL
    ;;
    accounts) cat <<SQL
INSERT INTO $S.accounts (id, name, google_customer_id, timezone, currency, monthly_budget_limit, is_active,
    settings, created_at, updated_at)
SELECT $(K accounts id),
    pg_temp.el($COMPANY, i, 1) || ' ' || pg_temp.el(ARRAY['US', 'EU', 'UK', 'Canada', 'Brand', 'Performance', 'Local', 'Online'], i, 2),
    pg_temp.gcid(id),
    pg_temp.el(ARRAY['America/New_York', 'America/New_York', 'America/Chicago', 'America/Los_Angeles', 'Europe/London', 'Europe/Berlin', 'Asia/Tokyo', 'Australia/Sydney'], i, 3),
    $(W 4 USD:70 EUR:15 GBP:10 CAD:5),
    CASE WHEN pg_temp.r(i, 5) < 0.2 THEN NULL ELSE pg_temp.money(i, 6, 1000, 250000) END,
    pg_temp.r(i, 7) < 0.9,
    jsonb_build_object('auto_pacing', pg_temp.r(i, 8) < 0.6, 'alert_threshold', pg_temp.n2(0.7 + pg_temp.r(i, 9) * 0.25),
                       'notifications', jsonb_build_object('email', true, 'slack', pg_temp.r(i, 10) < 0.3)),
    created, created + pg_temp.days(pg_temp.r(i, 11) * 90)
FROM (SELECT i, pg_temp.gid(i) AS id, pg_temp.ts(i, 12) AS created
      FROM generate_series(1, $n_accounts) i OFFSET 0) s;
SQL
    ;;
    account_users) cat <<SQL
INSERT INTO $S.account_users (id, account_id, user_id, role, permissions, invited_by, joined_at, last_access,
    created_at, updated_at)
SELECT $(K account_users id), $(K accounts "pg_temp.gid(a)"),
    $(K users "pg_temp.gid(1 + (pg_temp.p(a, 31, $n_users) - 1 + k * $au_stride) % $n_users)"),
    (CASE WHEN k = 0 THEN 'owner' ELSE $(W 1 viewer:40 editor:35 admin:20 owner:5) END)$(E account_role),
    CASE WHEN pg_temp.r(i, 2) < 0.6 THEN NULL
         ELSE jsonb_build_object('can_edit_budgets', pg_temp.r(i, 3) < 0.5, 'can_approve', pg_temp.r(i, 4) < 0.2) END,
    CASE WHEN k = 0 OR pg_temp.r(i, 5) < 0.25 THEN NULL ELSE $(K users "pg_temp.gid(pg_temp.p(i, 6, $n_users))") END,
    CASE WHEN pg_temp.r(i, 7) < 0.05 THEN NULL ELSE created + interval '2 hours' END,
    CASE WHEN pg_temp.r(i, 8) < 0.2 THEN NULL ELSE created + pg_temp.days(pg_temp.r(i, 9) * 300) END,
    created, created + pg_temp.days(pg_temp.r(i, 10) * 30)
FROM (SELECT i, pg_temp.gid(i) AS id, (i - 1) % $n_accounts + 1 AS a, (i - 1) / $n_accounts AS k,
             pg_temp.ts(i, 11) AS created
      FROM generate_series(1, $n_account_users) i OFFSET 0) s;
SQL
    ;;
    campaigns) cat <<SQL
INSERT INTO $S.campaigns (id, account_id, $CREATOR, name, customer_id, google_campaign_id, brief, status,
    approved_at, budget_amount, current_spend, pacing_strategy, last_pacing_check, projected_spend,
    billing_period_start, billing_period_end, created_at, updated_at)
SELECT $(K campaigns id), $(K accounts "pg_temp.gid(a)"),
    CASE WHEN pg_temp.r(i, 1) < 0.25 THEN NULL ELSE $(K users "pg_temp.gid(pg_temp.p(i, 2, $n_users))") END,
    pg_temp.el(ARRAY['Summer Sale', 'Brand Awareness', 'Black Friday', 'Spring Launch', 'Retargeting', 'Local Search', 'Holiday Promo', 'Back to School', 'Lead Gen', 'App Installs'], i, 3)
        || ' ' || to_char(created, 'YYYY-MM') || ' #' || id,
    pg_temp.gcid(pg_temp.gid(a)),
    CASE WHEN status = 'draft' THEN NULL ELSE (10000000000 + id * 37)::text END,
    CASE WHEN pg_temp.r(i, 4) < 0.15 THEN NULL
         ELSE jsonb_build_object('objective', pg_temp.el(ARRAY['sales', 'leads', 'website_traffic', 'brand_awareness', 'app_promotion'], i, 5),
                                 'audience', pg_temp.el(ARRAY['returning visitors', 'in-market: sports', 'lookalike 1%', 'local 10 km', 'all users'], i, 6),
                                 'locations', jsonb_build_array(pg_temp.el(ARRAY['US', 'CA', 'GB', 'DE', 'FR', 'JP', 'AU'], i, 7)),
                                 'keywords', jsonb_build_array(pg_temp.el($KW, i, 8), pg_temp.el($KW, i, 9)),
                                 'daily_budget', round(budget / 30, 2)) END,
    status$(E campaign_status),
    CASE WHEN status IN ('approved', 'active', 'paused') THEN created + pg_temp.days(pg_temp.r(i, 10) * 3) END,
    budget, COALESCE(round(budget * pg_temp.r(i, 11)::numeric, 2), 0),
    $(W 12 linear:50 accelerated:15 conservative:20 adaptive:15)$(E pacing_strategy),
    CASE WHEN status = 'active' THEN created + pg_temp.days(pg_temp.r(i, 13) * 30) END,
    CASE WHEN pg_temp.r(i, 14) < 0.3 OR budget IS NULL THEN NULL ELSE round(budget * (0.6 + pg_temp.r(i, 15) * 0.7)::numeric, 2) END,
    date_trunc('month', created), date_trunc('month', created) + interval '1 month',
    created, created + pg_temp.days(pg_temp.r(i, 16) * 45)
FROM (SELECT i, pg_temp.gid(i) AS id, pg_temp.p(i, 17, $n_accounts) AS a,
             $(W 18 draft:15 approved:10 active:45 paused:20 cancelled:10) AS status,
             CASE WHEN pg_temp.r(i, 19) < 0.05 THEN NULL ELSE pg_temp.money(i, 20, 100, 50000) END AS budget,
             pg_temp.ts(i, 21) AS created
      FROM generate_series(1, $n_campaigns) i OFFSET 0) s;
SQL
    ;;
    ad_groups) cat <<SQL
INSERT INTO $S.ad_groups (id, campaign_id, name, google_ad_group_id, status, cpc_bid, keywords, created_at, updated_at)
SELECT id, pg_temp.gid(pg_temp.p(i, 1, $n_campaigns)),
    pg_temp.el(ARRAY['Brand', 'Generic', 'Competitor', 'Remarketing', 'Long tail', 'Local', 'Seasonal'], i, 2)
        || ' - ' || pg_temp.el(ARRAY['exact', 'phrase', 'broad'], i, 3) || ' ' || id,
    CASE WHEN pg_temp.r(i, 4) < 0.25 THEN NULL ELSE (20000000000 + id * 13)::text END,
    $(W 5 enabled:70 paused:20 removed:10)$(E ad_status),
    CASE WHEN pg_temp.r(i, 6) < 0.1 THEN NULL ELSE pg_temp.money(i, 7, 0.20, 15) END,
    jsonb_build_array(pg_temp.el($KW, i, 8), pg_temp.el($KW, i, 9), pg_temp.el($KW, i, 10)),
    created, created + pg_temp.days(pg_temp.r(i, 11) * 45)
FROM (SELECT i, pg_temp.gid(i) AS id, pg_temp.ts(i, 12) AS created
      FROM generate_series(1, $n_ad_groups) i OFFSET 0) s;
SQL
    ;;
    ads) cat <<SQL
INSERT INTO $S.ads (id, ad_group_id, google_ad_id, headlines, descriptions, final_url, status, created_at, updated_at)
SELECT id, pg_temp.gid(pg_temp.p(i, 1, $n_ad_groups)),
    CASE WHEN pg_temp.r(i, 2) < 0.2 THEN NULL ELSE (30000000000 + id * 7)::text END,
    jsonb_build_array(pg_temp.el($HEAD, i, 3), pg_temp.el($HEAD, i, 4), pg_temp.el($HEAD, i, 5)),
    jsonb_build_array(pg_temp.el($DESC, i, 6), pg_temp.el($DESC, i, 7)),
    'https://www.' || pg_temp.el($DOMAIN, i, 8) || '/' || pg_temp.el(ARRAY['shop', 'offers', 'book', 'quote', 'new', 'sale'], i, 9)
        || '?utm_source=google&utm_content=ad' || id,
    $(W 10 enabled:75 paused:15 removed:10)$(E ad_status),
    created, created + pg_temp.days(pg_temp.r(i, 11) * 45)
FROM (SELECT i, pg_temp.gid(i) AS id, pg_temp.ts(i, 12) AS created
      FROM generate_series(1, $n_ads) i OFFSET 0) s;
SQL
    ;;
    analytics_snapshots) cat <<SQL
INSERT INTO $S.analytics_snapshots (id, campaign_id, snapshot_date, period_type, impressions, clicks, cost,
    conversions, conversion_value, metrics, created_at)
SELECT id, pg_temp.gid(c), day, $(W 1 daily:70 hourly:10 weekly:15 monthly:5)$(E period_type),
    impressions, clicks, pg_temp.n2(cost), pg_temp.n2(conv), pg_temp.n2(conv * (10 + pg_temp.r(i, 2) * 190)),
    CASE WHEN pg_temp.r(i, 3) < 0.2 THEN NULL
         ELSE jsonb_build_object('ctr', CASE WHEN impressions > 0 THEN pg_temp.n4(clicks::float8 / impressions) ELSE 0 END,
                                 'avg_cpc', CASE WHEN clicks > 0 THEN pg_temp.n2(cost / clicks) ELSE 0 END,
                                 'device', jsonb_build_object('mobile', pg_temp.n2(pg_temp.r(i, 4)),
                                                              'desktop', 1 - pg_temp.n2(pg_temp.r(i, 4))),
                                 'quality_score', pg_temp.p(i, 5, 10)) END,
    to_timestamp((day - date '1970-01-01') * 86400.0 + 86400 + pg_temp.r(i, 6) * 21600)
FROM (SELECT i, id, c, day, impressions, clicks, clicks * (0.2 + pg_temp.r(i, 8) * 3) AS cost,
             clicks * pg_temp.r(i, 7) * 0.1 AS conv
      FROM (SELECT i, pg_temp.gid(i) AS id, (i - 1) / $snap_k + 1 AS c,
                   date '2025-01-01' + ((i - 1) % $snap_k)::int AS day,
                   floor(pg_temp.r(i, 9) ^ 2 * 50000)::bigint AS impressions,
                   floor(floor(pg_temp.r(i, 9) ^ 2 * 50000) * (0.005 + pg_temp.r(i, 10) * 0.08))::bigint AS clicks
            FROM generate_series(1, $n_analytics_snapshots) i OFFSET 0) s1 OFFSET 0) s;
SQL
    ;;
    approval_requests) cat <<SQL
INSERT INTO $S.approval_requests (id, campaign_id, requester_id, approved_by, request_type, title, description,
    priority, status, request_data, approval_config, rejection_reason, comments, expires_at, approved_at,
    created_at, updated_at)
SELECT $(K approval_requests id), pg_temp.gid(c), $(K users "pg_temp.gid(pg_temp.p(i, 1, $n_users))"),
    CASE WHEN status IN ('pending', 'expired') THEN NULL ELSE $(K users "pg_temp.gid(pg_temp.p(i, 2, $n_users))") END,
    rtype, initcap(replace(rtype, '_', ' ')) || ' for campaign ' || pg_temp.gid(c),
    CASE WHEN pg_temp.r(i, 3) < 0.3 THEN NULL
         ELSE 'Requested change: ' || replace(rtype, '_', ' ') || '. ' || pg_temp.el($ANSWER, i, 4) END,
    $(W 5 low:25 medium:45 high:22 urgent:8)$(E priority_level), status$(E approval_status),
    CASE WHEN rtype = 'budget_change'
         THEN jsonb_build_object('old_budget', pg_temp.money(i, 6, 100, 20000), 'new_budget', pg_temp.money(i, 7, 100, 30000))
         ELSE jsonb_build_object('note', pg_temp.el($QUESTION, i, 8), 'items', pg_temp.p(i, 9, 5)) END,
    CASE WHEN pg_temp.r(i, 10) < 0.5 THEN NULL
         ELSE jsonb_build_object('required_approvals', pg_temp.p(i, 11, 2), 'auto_expire_hours', 72) END,
    CASE WHEN status = 'rejected'
         THEN pg_temp.el(ARRAY['Budget exceeds the quarterly plan.', 'Creative does not follow brand guidelines.', 'Targeting overlaps another campaign.', 'Missing landing page.'], i, 12) END,
    CASE WHEN pg_temp.r(i, 13) < 0.6 THEN NULL ELSE pg_temp.el(ARRAY['Looks good.', 'Please double-check the dates.', 'Discussed in the Monday sync.', 'Urgent: launch is tomorrow.'], i, 14) END,
    created + interval '72 hours',
    CASE WHEN status = 'approved' THEN created + pg_temp.days(pg_temp.r(i, 15) * 2) END,
    created, created + pg_temp.days(pg_temp.r(i, 16) * 3)
FROM (SELECT i, pg_temp.gid(i) AS id, pg_temp.p(i, 17, $n_campaigns) AS c,
             $(W 18 pending:20 approved:55 rejected:15 expired:10) AS status,
             pg_temp.el(ARRAY['campaign_launch', 'budget_change', 'creative_review', 'targeting_change', 'pause_request'], i, 19) AS rtype,
             pg_temp.ts(i, 20) AS created
      FROM generate_series(1, $n_approval_requests) i OFFSET 0) s;
SQL
    ;;
    budget_alerts) cat <<SQL
INSERT INTO $S.budget_alerts (id, campaign_id, alert_type, severity, message, current_spend, budget_limit,
    projected_spend, recommended_action, resolved, resolved_at, created_at)
SELECT id, pg_temp.gid(pg_temp.p(i, 1, $n_campaigns)), atype$(E alert_type),
    $(W 2 low:25 medium:40 high:25 critical:10)$(E alert_severity),
    'Campaign spend is ' || replace(atype, '_', ' ') || ': ' || round(100 * spend / blimit) || '% of the budget used',
    spend, blimit, round(spend * (1 + pg_temp.r(i, 3) * 0.5)::numeric, 2),
    CASE WHEN pg_temp.r(i, 4) < 0.2 THEN NULL
         ELSE pg_temp.el(ARRAY['Lower bids on the top keywords.', 'Raise the daily budget.', 'Switch pacing to conservative.', 'Pause the lowest performing ad groups.'], i, 5) END,
    resolved, CASE WHEN resolved THEN created + pg_temp.days(pg_temp.r(i, 6) * 48 / 24.0) END, created
FROM (SELECT i, id, atype, blimit, round(blimit * (0.2 + pg_temp.r(i, 7) * 1.1)::numeric, 2) AS spend,
             pg_temp.r(i, 8) < 0.6 AS resolved, created
      FROM (SELECT i, pg_temp.gid(i) AS id, $(W 9 overspending:35 underspending:30 exhausted:10 at_risk:25) AS atype,
                   pg_temp.money(i, 10, 100, 50000) AS blimit, pg_temp.ts(i, 11) AS created
            FROM generate_series(1, $n_budget_alerts) i OFFSET 0) s1 OFFSET 0) s;
SQL
    ;;
    conversations) cat <<SQL
INSERT INTO $S.conversations (id, user_id, title, context, status, last_message_at, created_at, updated_at)
SELECT $(K conversations id), $(K users "pg_temp.gid(pg_temp.p(i, 1, $n_users))"),
    CASE WHEN pg_temp.r(i, 2) < 0.1 THEN NULL ELSE left(pg_temp.el($QUESTION, i, 3), 200) END,
    CASE WHEN pg_temp.r(i, 4) < 0.3 THEN NULL
         ELSE jsonb_build_object('campaign_id', pg_temp.gid(pg_temp.p(i, 5, $n_campaigns)),
                                 'page', pg_temp.el(ARRAY['dashboard', 'campaigns', 'reports', 'approvals'], i, 6)) END,
    $(W 7 active:60 archived:35 deleted:5)$(E conversation_status),
    created + pg_temp.days(pg_temp.r(i, 8) * 10), created, created + pg_temp.days(pg_temp.r(i, 8) * 10)
FROM (SELECT i, pg_temp.gid(i) AS id, pg_temp.ts(i, 9) AS created
      FROM generate_series(1, $n_conversations) i OFFSET 0) s;
SQL
    ;;
    conversation_messages) cat <<SQL
INSERT INTO $S.conversation_messages (id, conversation_id, role, content, metadata, created_at)
SELECT $(K conversation_messages id), $(K conversations "pg_temp.gid(c)"), role$(E message_role),
    CASE role WHEN 'system' THEN 'You are Lane, an assistant for Google Ads campaign management.'
              WHEN 'user' THEN pg_temp.el($QUESTION, i, 1)
              ELSE pg_temp.el($ANSWER, i, 2) END,
    CASE WHEN role = 'assistant'
         THEN jsonb_build_object('model', pg_temp.el(ARRAY['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet'], i, 3),
                                 'tokens', 50 + pg_temp.p(i, 4, 700), 'latency_ms', 300 + pg_temp.p(i, 5, 4000)) END,
    pg_temp.ts(c, 6) + k * interval '47 seconds'
FROM (SELECT i, pg_temp.gid(i) AS id, (i - 1) / $msg_k + 1 AS c, (i - 1) % $msg_k AS k,
             CASE WHEN (i - 1) % $msg_k = 0 AND pg_temp.r((i - 1) / $msg_k + 1, 7) < 0.3 THEN 'system'
                  WHEN ((i - 1) % $msg_k - (pg_temp.r((i - 1) / $msg_k + 1, 7) < 0.3)::int) % 2 = 0 THEN 'user'
                  ELSE 'assistant' END AS role
      FROM generate_series(1, $n_conversation_messages) i OFFSET 0) s;
SQL
    ;;
    esac
}

# The foreign keys: child column parent nullable
FKS="account_users:account_id:accounts account_users:user_id:users account_users:invited_by:users
campaigns:account_id:accounts campaigns:$CREATOR:users ad_groups:campaign_id:campaigns
ads:ad_group_id:ad_groups analytics_snapshots:campaign_id:campaigns approval_requests:campaign_id:campaigns
approval_requests:requester_id:users approval_requests:approved_by:users budget_alerts:campaign_id:campaigns
conversations:user_id:users conversation_messages:conversation_id:conversations"

# N rows of every foreign key point at a parent that never existed (a multiple
# of 7); each foreign key of a table takes different rows.
orphan_sql() {
    local fk child col parent prev="" nth=0
    for fk in $FKS; do
        IFS=: read -r child col parent <<<"$fk"
        [ "$child" = "$prev" ] && nth=$((nth + 1)) || nth=0
        prev=$child
        cat <<SQL
UPDATE $S.$child t SET $col = $(K "$parent" "7 * o.k")
FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM $S.$child
      ORDER BY id OFFSET $((nth * orphans)) LIMIT $orphans) o
WHERE t.id = o.id;
SQL
    done
}

# --- Checks before writing -------------------------------------------------------
tablist=$(for t in $TABLES; do printf "'%s'," "$t"; done)
tablist=${tablist%,}
existing=$(q -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = '$S' AND c.relkind = 'r' AND c.relname IN ($tablist)")
setup=""
if [ "$target" = extension ]; then
    ver=$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'
                AND extnamespace = '$S'::regnamespace" 2>/dev/null || true)
    [ "$ver" = "1.0" ] ||
        die "lane_google must be installed at VERSION '1.0' in schema $S (found: ${ver:-none}); run CREATE EXTENSION lane_google SCHEMA $S VERSION '1.0'"
    rows=$(q -c "SELECT (SELECT count(*) > 0 FROM (SELECT 1 FROM $S.users LIMIT 1) a)
                     OR (SELECT count(*) > 0 FROM (SELECT 1 FROM $S.campaigns LIMIT 1) b)
                     OR (SELECT count(*) > 0 FROM (SELECT 1 FROM $S.ads LIMIT 1) c)")
    if [ "$rows" = t ]; then
        [ $replace -eq 1 ] || die "the tables of $S are not empty (--replace empties them first)"
        setup="TRUNCATE $(for t in $TABLES; do printf '%s.%s, ' "$S" "$t"; done | sed 's/, $//');"
    fi
else
    if [ "$existing" != 0 ]; then
        [ $replace -eq 1 ] || die "schema $S already has legacy tables (--replace drops them first)"
        setup="DROP TABLE IF EXISTS $(for t in $TABLES; do printf '%s.%s, ' "$S" "$t"; done | sed 's/, $//');
DROP TYPE IF EXISTS $S.user_role, $S.user_status, $S.account_role, $S.campaign_status, $S.pacing_strategy,
    $S.ad_status, $S.period_type, $S.approval_status, $S.priority_level, $S.alert_type, $S.alert_severity,
    $S.conversation_status, $S.message_role;"
    fi
    setup="$setup
CREATE SCHEMA IF NOT EXISTS $S;
$(app_ddl)"
fi

# --- Load ------------------------------------------------------------------------
work=$(mktemp -d /tmp/lg_gen.XXXXXX)
trap 'rm -rf "$work"' EXIT
t_start=$(date +%s.%N)
echo "== gen_legacy: scale $scale, target $target, schema $S, layout $layout, database ${PGDATABASE:-(default)}" >&2

[ $print_sql -eq 1 ] || q -c "SET client_min_messages = warning; $setup" >/dev/null

# Spread the work over the sessions, heaviest first.  Weights are the seconds
# a table took at scale 1 (x10); the two largest tables are cut in one range of
# rows per session.
declare -A weight=([users]=3 [accounts]=1 [account_users]=4 [campaigns]=28 [ad_groups]=30
    [ads]=127 [analytics_snapshots]=320 [approval_requests]=8 [budget_alerts]=7
    [conversations]=3 [conversation_messages]=40)
items=()
for t in analytics_snapshots ads conversation_messages ad_groups campaigns approval_requests budget_alerts \
    account_users users conversations accounts; do
    n_var="n_$t"
    n=${!n_var}
    parts=1
    case "$t" in analytics_snapshots | ads) [ "$n" -ge $((jobs * 1000)) ] && parts=$jobs ;; esac
    for ((p = 0; p < parts; p++)); do
        items+=("$t:$((p * n / parts + 1)):$(((p + 1) * n / parts)):$((weight[$t] / parts))")
    done
done
declare -a load
for ((j = 0; j < jobs; j++)); do load[j]=0; : >"$work/job$j.sql"; done
for it in "${items[@]}"; do
    IFS=: read -r t lo hi w <<<"$it"
    best=0
    for ((j = 1; j < jobs; j++)); do [ "${load[j]}" -lt "${load[best]}" ] && best=$j; done
    load[best]=$((load[best] + w))
    n_var="n_$t"
    LG_SALT=0
    for u in $TABLES; do LG_SALT=$((LG_SALT + 1)); [ "$u" = "$t" ] && break; done
    export LG_SALT
    {
        echo "SELECT extract(epoch FROM clock_timestamp()) AS t0, coalesce(pg_temp.cpu(), 0) AS c0 \\gset"
        # each table draws from its own salts: row i of two tables is unrelated
        gen_sql "$t" | perl -pe 's/\b([ica]), (\d+)([,)])/"$1, " . ($2 + 1000 * $ENV{LG_SALT}) . $3/ge' |
            sed "s/generate_series(1, ${!n_var})/generate_series($lo, $hi)/"
        echo "SELECT format('   %-22s %10s rows %6s s%s', '$t', '$((hi - lo + 1))', to_char(extract(epoch FROM clock_timestamp()) - :t0, 'FM9990.0'),
                  ' (cpu ' || to_char(pg_temp.cpu() - :c0, 'FM9990.0') || ' s)') \\g"
    } >>"$work/job$best.sql"
done

if [ $print_sql -eq 1 ]; then
    echo "$PRELUDE"
    cat "$work"/job*.sql
    exit 0
fi
pids=()
for ((j = 0; j < jobs; j++)); do
    [ -s "$work/job$j.sql" ] || continue
    {
        echo "$PRELUDE"
        # rows consistent by construction: skip the per-row foreign-key triggers
        [ "$target" = extension ] && echo "SET session_replication_role = replica;"
        echo "BEGIN;"
        cat "$work/job$j.sql"
        echo "COMMIT;"
    } >"$work/run$j.sql"
    q -f "$work/run$j.sql" >&2 &
    pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
[ $rc -eq 0 ] || die "loading failed"

# --- After the load: sequences, orphans, then keys and statistics ---------------------
{
    echo "$PRELUDE"
    # identity (extension) or serial (app) sequences past the largest id
    for t in $TABLES; do
        [ "$(K "$t" x)" = x ] || continue  # varchar ids have no sequence
        echo "SELECT setval(pg_get_serial_sequence('$S.$t', 'id'), max(id)) FROM $S.$t
              WHERE pg_get_serial_sequence('$S.$t', 'id') IS NOT NULL HAVING max(id) IS NOT NULL;"
    done
    if [ "$orphans" -gt 0 ]; then
        [ "$target" = extension ] && echo "SET session_replication_role = replica;"
        orphan_sql
    fi
} >"$work/after.sql"
q -f "$work/after.sql" >/dev/null || die "setting sequences or planting orphans failed"
# keys (app target) and VACUUM ANALYZE, the largest tables first, spread over the sessions
for ((j = 0; j < jobs; j++)); do
    echo "$PRELUDE" >"$work/finish$j.sql"
    echo "SET maintenance_work_mem = '256MB';" >>"$work/finish$j.sql"
done
j=0
for t in analytics_snapshots ads conversation_messages ad_groups campaigns approval_requests budget_alerts \
    conversations account_users users accounts; do
    {
        [ "$target" = app ] && app_keys "$t"
        echo "VACUUM (ANALYZE) $S.$t;"
    } >>"$work/finish$j.sql"
    j=$(((j + 1) % jobs))
done
pids=()
for ((j = 0; j < jobs; j++)); do
    q -f "$work/finish$j.sql" >/dev/null &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || rc=1; done
[ $rc -eq 0 ] || die "building keys or analyzing failed"
t_end=$(date +%s.%N)

# --- Report ------------------------------------------------------------------------
[ "$orphans" -gt 0 ] && echo "planted $orphans orphan rows in each of the 14 foreign keys" >&2
total=0
printf '%-22s %10s\n' table rows
for t in $TABLES; do
    n=$(q -c "SELECT count(*) FROM $S.$t")
    total=$((total + n))
    printf '%-22s %10s\n' "$t" "$n"
done
printf '%-22s %10s\n' total "$total"
awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "loaded in %.1f s\n", b - a }'
