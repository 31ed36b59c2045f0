# test/t/070_shadowing.pl: no name in the SQL the extension builds or runs
# can be captured through the caller's search_path (issue 17, finding 1).
#
# A low-privilege role with CREATE on public plants, in public, operators,
# functions, aggregates and types that shadow what the code uses: operators
# with the exact signatures pg_catalog has (=, <>, <, >, <=, >= on oid,
# integer, bigint, smallint, text, name, "char", uuid, regclass, boolean) and
# those it does not have (=(oid, integer), =(oid, bigint), =(integer, oid),
# =(text, name), =(name, text), <(oid, integer)...), ||, ~, #>>, LIKE;
# functions named like pg_catalog's with the same or more exact argument
# types (format, quote_ident, quote_literal, lower, btrim, length, unnest,
# count(*), max, min, string_agg, array_agg, jsonb_each, now,
# clock_timestamp, current_setting, set_config, pg_get_*def, format_type,
# setval, nextval, regexp_replace, int8(integer), ...) and like the
# extension's own (legacy_uuid, uuid_generate_v7, _online_capture, ...);
# domains named like the types the code casts to (uuid, text, int8, oid,
# name, regclass, jsonb, timestamptz, ...) and an implicit cast to a type
# of its own.  Every body, run, records current_user in public.caught and,
# run by a superuser, makes the role a superuser.
#
# Then a superuser whose search_path is "public, pg_catalog" (public first:
# pg_catalog is searched after it) runs every entry point: CREATE EXTENSION
# at each version, every update path (1.0 -> 1.1 -> 2.1 -> 1.1 -> 1.0 ->
# 2.0 -> 2.1 -> 2.0 -> 1.0, the dependents carried across 1.1 <-> 2.1),
# the legacy namespace, legacy_uuid / legacy_id_of, the uuid functions,
# validate_fk_integrity, conversion_plan() and conversion_plan(schema),
# add / remove / suggest_legacy_references, convert_legacy in every mode
# (convert_legacy_problems, dry_run, on_orphan error / quarantine / null,
# on_error quarantine, a catch-up run, dependents => 'carry', the 2.0
# signature), every online step (online_start, online_status,
# online_backfill, a write captured meanwhile, the swap by ALTER EXTENSION
# UPDATE, a write through the compatibility views, drop_compat, online_abort;
# at 1.2 and 2.2 online_readiness and compat_sessions too; at 2.2
# convert_legacy_missing, convert_legacy_suggest).
# The second pass does it all again with the session's pg_temp holding
# views named like the catalogs and the extension's tables, domains named
# like the types, and functions and operators, and search_path "pg_temp,
# public, pg_catalog".  The names the statements build come from a source
# schema, dependents and columns named with quotes, spaces, upper case and
# semicolons.
#
# After each step: nothing planted ran (public.caught is empty), and at the
# end the role is not a superuser.
use strict;
use warnings FATAL => 'all';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('shadowing');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
fsync = off
client_min_messages = warning
TimeZone = 'UTC'
});
$node->start;

my @tables = qw(users accounts account_users campaigns ad_groups ads
  analytics_snapshots approval_requests budget_alerts conversations
  conversation_messages);

$node->safe_psql('postgres', q{
CREATE ROLE lowpriv LOGIN;
});

# --- what lowpriv plants in public ----------------------------------------

my $plant_sql = <<'SQL';
SET search_path = pg_catalog;
SET ROLE lowpriv;
CREATE TABLE public.caught (what text, who name);
GRANT INSERT, SELECT ON public.caught TO PUBLIC;
CREATE FUNCTION public.lg_caught(what text) RETURNS boolean
LANGUAGE plpgsql AS $f$
BEGIN
    INSERT INTO public.caught VALUES (what, current_user);
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r
         WHERE r.rolname OPERATOR(pg_catalog.=) current_user) THEN
        EXECUTE 'ALTER ROLE lowpriv SUPERUSER';
    END IF;
    RETURN true;
END $f$;

-- Comparison operators: the signatures pg_catalog has (public, first on the
-- path, wins a tie) and some it has not (an exact match beats a coercion)
DO $d$
DECLARE
    pairs text[] := ARRAY[
        'oid,oid', 'oid,integer', 'oid,bigint', 'integer,oid', 'bigint,oid', 'oid,smallint',
        'integer,integer', 'bigint,bigint', 'bigint,integer', 'integer,bigint',
        'smallint,smallint', 'smallint,integer', 'integer,smallint', 'smallint,bigint',
        'text,text', 'name,name', 'text,name', 'name,text', '"char","char"', 'uuid,uuid',
        'regclass,regclass', 'regclass,oid', 'oid,regclass', 'boolean,boolean',
        'regtype,regtype', 'timestamptz,timestamptz', 'jsonb,jsonb', 'numeric,numeric',
        'double precision,double precision', 'interval,interval', 'int2vector,int2vector'];
    ops text[] := ARRAY['=', '<>', '<', '>', '<=', '>='];
    p text;
    l text;
    r text;
    op text;
    i int := 0;
BEGIN
    FOREACH p IN ARRAY pairs LOOP
        l := split_part(p, ',', 1);
        r := split_part(p, ',', 2);
        FOREACH op IN ARRAY ops LOOP
            CONTINUE WHEN p = 'int2vector,int2vector' AND op <> '=';
            i := i + 1;
            EXECUTE format($x$CREATE FUNCTION public.lg_op_%s(%s, %s) RETURNS boolean
                LANGUAGE plpgsql AS $b$ BEGIN PERFORM public.lg_caught(%L);
                RETURN $1 OPERATOR(pg_catalog.%s) $2; END $b$$x$,
                i, l, r, format('%s %s %s', l, op, r), op);
            EXECUTE format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.lg_op_%s)',
                           op, l, r, i);
        END LOOP;
    END LOOP;
END $d$;

CREATE FUNCTION public.lg_concat(text, text) RETURNS text LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('text || text'); RETURN $1 OPERATOR(pg_catalog.||) $2; END $f$;
CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = public.lg_concat);
CREATE FUNCTION public.lg_match(text, text) RETURNS boolean LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('text ~ text'); RETURN $1 OPERATOR(pg_catalog.~) $2; END $f$;
CREATE OPERATOR public.~ (LEFTARG = text, RIGHTARG = text, FUNCTION = public.lg_match);
CREATE FUNCTION public.lg_like(name, text) RETURNS boolean LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('name ~~ text'); RETURN $1 OPERATOR(pg_catalog.~~) $2; END $f$;
CREATE OPERATOR public.~~ (LEFTARG = name, RIGHTARG = text, FUNCTION = public.lg_like);
CREATE FUNCTION public.lg_like(text, text) RETURNS boolean LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('text ~~ text'); RETURN $1 OPERATOR(pg_catalog.~~) $2; END $f$;
CREATE OPERATOR public.~~ (LEFTARG = text, RIGHTARG = text, FUNCTION = public.lg_like);
CREATE FUNCTION public.lg_path(jsonb, text[]) RETURNS text LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('jsonb #>> text[]'); RETURN $1 OPERATOR(pg_catalog.#>>) $2; END $f$;
CREATE OPERATOR public.#>> (LEFTARG = jsonb, RIGHTARG = text[], FUNCTION = public.lg_path);
CREATE FUNCTION public.lg_minus(bigint, integer) RETURNS bigint LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('bigint - integer'); RETURN $1 OPERATOR(pg_catalog.-) $2; END $f$;
CREATE OPERATOR public.- (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = public.lg_minus);
CREATE FUNCTION public.lg_plus(bigint, bigint) RETURNS bigint LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('bigint + bigint'); RETURN $1 OPERATOR(pg_catalog.+) $2; END $f$;
CREATE OPERATOR public.+ (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.lg_plus);
CREATE FUNCTION public.lg_plus(integer, integer) RETURNS integer LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('integer + integer'); RETURN $1 OPERATOR(pg_catalog.+) $2; END $f$;
CREATE OPERATOR public.+ (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.lg_plus);
CREATE FUNCTION public.lg_plus(bigint, integer) RETURNS bigint LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('bigint + integer'); RETURN $1 OPERATOR(pg_catalog.+) $2; END $f$;
CREATE OPERATOR public.+ (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = public.lg_plus);

-- Functions named like pg_catalog's, with the same or more exact types
DO $d$
DECLARE
    -- name(argument types) -> result type, the body's expression
    f text[] := ARRAY[
        ['format(text)', 'text', 'pg_catalog.format($1)'],
        ['format(text, text)', 'text', 'pg_catalog.format($1, $2)'],
        ['format(text, name)', 'text', 'pg_catalog.format($1, $2)'],
        ['format(text, oid)', 'text', 'pg_catalog.format($1, $2)'],
        ['format(text, regclass)', 'text', 'pg_catalog.format($1, $2)'],
        ['format(text, text, text)', 'text', 'pg_catalog.format($1, $2, $3)'],
        ['format(text, name, name)', 'text', 'pg_catalog.format($1, $2, $3)'],
        ['format(text, text, name)', 'text', 'pg_catalog.format($1, $2, $3)'],
        ['format(text, name, text)', 'text', 'pg_catalog.format($1, $2, $3)'],
        ['format(text, text, text, text)', 'text', 'pg_catalog.format($1, $2, $3, $4)'],
        ['quote_ident(text)', 'text', 'pg_catalog.quote_ident($1)'],
        ['quote_ident(name)', 'text', 'pg_catalog.quote_ident($1)'],
        ['quote_literal(text)', 'text', 'pg_catalog.quote_literal($1)'],
        ['quote_literal(name)', 'text', 'pg_catalog.quote_literal($1)'],
        ['quote_nullable(text)', 'text', 'pg_catalog.quote_nullable($1)'],
        ['lower(text)', 'text', 'pg_catalog.lower($1)'],
        ['lower(varchar)', 'text', 'pg_catalog.lower($1)'],
        ['lower(name)', 'text', 'pg_catalog.lower($1)'],
        ['upper(text)', 'text', 'pg_catalog.upper($1)'],
        ['btrim(text)', 'text', 'pg_catalog.btrim($1)'],
        ['btrim(varchar)', 'text', 'pg_catalog.btrim($1)'],
        ['length(text)', 'integer', 'pg_catalog.length($1)'],
        ['length(name)', 'integer', 'pg_catalog.length($1)'],
        ['strpos(text, text)', 'integer', 'pg_catalog.strpos($1, $2)'],
        ['starts_with(text, text)', 'boolean', 'pg_catalog.starts_with($1, $2)'],
        ['starts_with(name, text)', 'boolean', 'pg_catalog.starts_with($1, $2)'],
        ['concat_ws(text, text, text)', 'text', 'pg_catalog.concat_ws($1, $2, $3)'],
        ['regexp_replace(text, text, text)', 'text', 'pg_catalog.regexp_replace($1, $2, $3)'],
        ['replace(text, text, text)', 'text', 'pg_catalog.replace($1, $2, $3)'],
        ['substring(text, integer)', 'text', 'pg_catalog.substring($1, $2)'],
        ['array_to_string(text[], text)', 'text', 'pg_catalog.array_to_string($1, $2)'],
        ['array_length(bigint[], integer)', 'integer', 'pg_catalog.array_length($1, $2)'],
        ['array_length(text[], integer)', 'integer', 'pg_catalog.array_length($1, $2)'],
        ['int8(integer)', 'bigint', '$1::pg_catalog.int8'],
        ['int4(bigint)', 'integer', '$1::pg_catalog.int4'],
        ['oid(bigint)', 'oid', '$1::pg_catalog.oid'],
        ['text(name)', 'text', '$1::pg_catalog.text'],
        ['now()', 'timestamptz', 'pg_catalog.now()'],
        ['clock_timestamp()', 'timestamptz', 'pg_catalog.clock_timestamp()'],
        ['current_setting(text)', 'text', 'pg_catalog.current_setting($1)'],
        ['current_setting(text, boolean)', 'text', 'pg_catalog.current_setting($1, $2)'],
        ['set_config(text, text, boolean)', 'text', 'pg_catalog.set_config($1, $2, $3)'],
        ['gen_random_uuid()', 'uuid', 'pg_catalog.gen_random_uuid()'],
        ['pg_get_viewdef(oid)', 'text', 'pg_catalog.pg_get_viewdef($1)'],
        ['pg_get_viewdef(oid, boolean)', 'text', 'pg_catalog.pg_get_viewdef($1, $2)'],
        ['pg_get_viewdef(regclass)', 'text', 'pg_catalog.pg_get_viewdef($1)'],
        ['pg_get_indexdef(oid)', 'text', 'pg_catalog.pg_get_indexdef($1)'],
        ['pg_get_indexdef(regclass)', 'text', 'pg_catalog.pg_get_indexdef($1)'],
        ['pg_get_constraintdef(oid)', 'text', 'pg_catalog.pg_get_constraintdef($1)'],
        ['pg_get_constraintdef(oid, boolean)', 'text', 'pg_catalog.pg_get_constraintdef($1, $2)'],
        ['pg_get_triggerdef(oid)', 'text', 'pg_catalog.pg_get_triggerdef($1)'],
        ['pg_get_triggerdef(oid, boolean)', 'text', 'pg_catalog.pg_get_triggerdef($1, $2)'],
        ['pg_get_ruledef(oid)', 'text', 'pg_catalog.pg_get_ruledef($1)'],
        ['pg_get_ruledef(oid, boolean)', 'text', 'pg_catalog.pg_get_ruledef($1, $2)'],
        ['pg_get_functiondef(oid)', 'text', 'pg_catalog.pg_get_functiondef($1)'],
        ['pg_get_statisticsobjdef(oid)', 'text', 'pg_catalog.pg_get_statisticsobjdef($1)'],
        ['pg_get_expr(pg_node_tree, oid)', 'text', 'pg_catalog.pg_get_expr($1, $2)'],
        ['pg_get_expr(pg_node_tree, regclass)', 'text', 'pg_catalog.pg_get_expr($1, $2)'],
        ['pg_get_userbyid(oid)', 'name', 'pg_catalog.pg_get_userbyid($1)'],
        ['format_type(oid, integer)', 'text', 'pg_catalog.format_type($1, $2)'],
        ['obj_description(oid, name)', 'text', 'pg_catalog.obj_description($1, $2)'],
        ['obj_description(oid, text)', 'text', 'pg_catalog.obj_description($1, $2)'],
        ['col_description(oid, integer)', 'text', 'pg_catalog.col_description($1, $2)'],
        ['pg_describe_object(oid, oid, integer)', 'text', 'pg_catalog.pg_describe_object($1, $2, $3)'],
        ['to_regclass(text)', 'regclass', 'pg_catalog.to_regclass($1)'],
        ['setval(regclass, bigint)', 'bigint', 'pg_catalog.setval($1, $2)'],
        ['setval(regclass, bigint, boolean)', 'bigint', 'pg_catalog.setval($1, $2, $3)'],
        ['setval(text, bigint)', 'bigint', 'pg_catalog.setval($1::pg_catalog.regclass, $2)'],
        ['setval(text, bigint, boolean)', 'bigint', 'pg_catalog.setval($1::pg_catalog.regclass, $2, $3)'],
        ['nextval(regclass)', 'bigint', 'pg_catalog.nextval($1)'],
        ['nextval(text)', 'bigint', 'pg_catalog.nextval($1::pg_catalog.regclass)'],
        ['pg_get_serial_sequence(text, text)', 'text', 'pg_catalog.pg_get_serial_sequence($1, $2)'],
        ['pg_advisory_xact_lock(bigint)', 'void', 'pg_catalog.pg_advisory_xact_lock($1)'],
        ['pg_advisory_xact_lock(integer, integer)', 'void', 'pg_catalog.pg_advisory_xact_lock($1, $2)'],
        ['pg_sleep_for(interval)', 'void', 'pg_catalog.pg_sleep_for($1)'],
        ['jsonb_typeof(jsonb)', 'text', 'pg_catalog.jsonb_typeof($1)'],
        ['to_jsonb(text)', 'jsonb', 'pg_catalog.to_jsonb($1)'],
        ['to_jsonb(bigint)', 'jsonb', 'pg_catalog.to_jsonb($1)'],
        ['row_to_json(record)', 'json', 'pg_catalog.row_to_json($1)'],
        ['has_table_privilege(oid, text)', 'boolean', 'pg_catalog.has_table_privilege($1, $2)'],
        -- the extension's own names
        ['legacy_uuid(text, bigint)', 'uuid', 'pg_catalog.gen_random_uuid()'],
        ['legacy_uuid(text, integer)', 'uuid', 'pg_catalog.gen_random_uuid()'],
        ['legacy_id_of(text, uuid)', 'bigint', '1'],
        ['legacy_namespace()', 'uuid', 'pg_catalog.gen_random_uuid()'],
        ['uuid_generate_v7()', 'uuid', 'pg_catalog.gen_random_uuid()'],
        ['uuidv7()', 'uuid', 'pg_catalog.gen_random_uuid()'],
        ['_lg_dependents_legacy_id(regclass, uuid)', 'bigint', '1'],
        ['validate_fk_integrity()', 'bigint', '1'],
        ['conversion_plan()', 'bigint', '1'],
        ['online_status()', 'bigint', '1']];
    i int;
    n text;
BEGIN
    FOR i IN 1 .. array_length(f, 1) LOOP
        n := split_part(f[i][1], '(', 1);
        EXECUTE format($x$CREATE FUNCTION public.%s RETURNS %s LANGUAGE plpgsql AS
            $b$ BEGIN PERFORM public.lg_caught(%L); RETURN %s; END $b$$x$,
            f[i][1], f[i][2], 'function ' || f[i][1],
            CASE WHEN f[i][2] = 'void' THEN '' ELSE f[i][3] END);
    END LOOP;
END $d$;
CREATE FUNCTION public.unnest(bigint[]) RETURNS SETOF bigint LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('function unnest(bigint[])'); RETURN QUERY SELECT pg_catalog.unnest($1); END $f$;
CREATE FUNCTION public.unnest(text[]) RETURNS SETOF text LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('function unnest(text[])'); RETURN QUERY SELECT pg_catalog.unnest($1); END $f$;
CREATE FUNCTION public.unnest(oid[]) RETURNS SETOF oid LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('function unnest(oid[])'); RETURN QUERY SELECT pg_catalog.unnest($1); END $f$;
CREATE FUNCTION public.unnest(smallint[]) RETURNS SETOF smallint LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('function unnest(smallint[])'); RETURN QUERY SELECT pg_catalog.unnest($1); END $f$;
CREATE FUNCTION public.unnest(name[]) RETURNS SETOF name LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('function unnest(name[])'); RETURN QUERY SELECT pg_catalog.unnest($1); END $f$;
CREATE FUNCTION public.jsonb_each(jsonb, OUT key text, OUT value jsonb) RETURNS SETOF record
LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('function jsonb_each(jsonb)'); RETURN QUERY SELECT * FROM pg_catalog.jsonb_each($1); END $f$;
CREATE FUNCTION public.aclexplode(aclitem[], OUT grantor oid, OUT grantee oid, OUT privilege_type text,
                                  OUT is_grantable boolean) RETURNS SETOF record
LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('function aclexplode(aclitem[])'); RETURN QUERY SELECT * FROM pg_catalog.aclexplode($1); END $f$;
CREATE FUNCTION public._online_capture() RETURNS trigger LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('function _online_capture()'); RETURN NULL; END $f$;
CREATE FUNCTION public._compat_write() RETURNS trigger LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('function _compat_write()'); RETURN NULL; END $f$;
CREATE FUNCTION public.set_updated_at() RETURNS trigger LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('function set_updated_at()'); RETURN NEW; END $f$;

-- Aggregates: same signatures as pg_catalog's, or more exact
CREATE FUNCTION public.lg_count_sf(bigint) RETURNS bigint LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('aggregate count(*)'); RETURN $1 OPERATOR(pg_catalog.+) 1; END $f$;
CREATE AGGREGATE public.count(*) (SFUNC = public.lg_count_sf, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION public.lg_count_sf(bigint, anyelement) RETURNS bigint LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('aggregate count(x)'); RETURN $1 OPERATOR(pg_catalog.+) 1; END $f$;
CREATE AGGREGATE public.count(anyelement) (SFUNC = public.lg_count_sf, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION public.lg_max_sf(bigint, bigint) RETURNS bigint LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('aggregate max/min(bigint)'); RETURN pg_catalog.int8larger($1, $2); END $f$;
CREATE AGGREGATE public.max(bigint) (SFUNC = public.lg_max_sf, STYPE = bigint);
CREATE AGGREGATE public.min(bigint) (SFUNC = public.lg_max_sf, STYPE = bigint);
CREATE FUNCTION public.lg_max_sf(integer, integer) RETURNS integer LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('aggregate max/min(integer)'); RETURN pg_catalog.int4larger($1, $2); END $f$;
CREATE AGGREGATE public.max(integer) (SFUNC = public.lg_max_sf, STYPE = integer);
CREATE AGGREGATE public.min(integer) (SFUNC = public.lg_max_sf, STYPE = integer);
CREATE FUNCTION public.lg_agg_sf(text, text, text) RETURNS text LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('aggregate string_agg(text, text)'); RETURN pg_catalog.concat($1, $3, $2); END $f$;
CREATE AGGREGATE public.string_agg(text, text) (SFUNC = public.lg_agg_sf, STYPE = text);
CREATE FUNCTION public.lg_arr_sf(text[], text) RETURNS text[] LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('aggregate array_agg(text)'); RETURN pg_catalog.array_append($1, $2); END $f$;
CREATE AGGREGATE public.array_agg(text) (SFUNC = public.lg_arr_sf, STYPE = text[]);
CREATE FUNCTION public.lg_arr_sf(oid[], oid) RETURNS oid[] LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('aggregate array_agg(oid)'); RETURN pg_catalog.array_append($1, $2); END $f$;
CREATE AGGREGATE public.array_agg(oid) (SFUNC = public.lg_arr_sf, STYPE = oid[]);
CREATE FUNCTION public.lg_arr_sf(bigint[], bigint) RETURNS bigint[] LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('aggregate array_agg(bigint)'); RETURN pg_catalog.array_append($1, $2); END $f$;
CREATE AGGREGATE public.array_agg(bigint) (SFUNC = public.lg_arr_sf, STYPE = bigint[]);

-- An implicit cast from pg_catalog's text to a type of lowpriv's own (a
-- cast needs its creator to own one of the types), and functions taking it
CREATE TYPE public.lg_text AS (t text);
CREATE FUNCTION public.lg_text(text) RETURNS public.lg_text LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('cast text -> lg_text'); RETURN ROW($1)::public.lg_text; END $f$;
CREATE CAST (text AS public.lg_text) WITH FUNCTION public.lg_text(text) AS IMPLICIT;
CREATE FUNCTION public.quote_ident(public.lg_text) RETURNS text LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('function quote_ident(lg_text)'); RETURN pg_catalog.quote_ident(($1).t); END $f$;

-- Types: domains named like those the statements name, each checking
-- through lg_caught (made last: from here on "text" in public is the domain)
DO $d$
BEGIN
    EXECUTE (SELECT pg_catalog.string_agg(pg_catalog.format(
                 'CREATE DOMAIN public.%I AS pg_catalog.%I CHECK (public.lg_caught(%L));',
                 t, t, 'type public.' || t), ' ')
               FROM pg_catalog.unnest(ARRAY['uuid', 'text', 'int8', 'int4', 'int2', 'oid', 'name',
                                            'regclass', 'regtype', 'regnamespace', 'jsonb', 'json',
                                            'timestamptz', 'timestamp', 'bool', 'float8', 'numeric',
                                            'varchar', 'interval', 'date', 'bpchar']) AS t);
END $d$;
RESET ROLE;
SQL

# What a session puts in its own pg_temp (the second pass): views named
# like the catalogs and the extension's tables, domains named like the
# types, functions and operators (never looked up there, planted anyway)
my $temp_sql = <<'SQL';
SET search_path = pg_catalog;
DO $d$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['pg_class', 'pg_namespace', 'pg_attribute', 'pg_attrdef', 'pg_index',
                             'pg_constraint', 'pg_depend', 'pg_trigger', 'pg_proc', 'pg_type',
                             'pg_roles', 'pg_authid', 'pg_extension', 'pg_inherits', 'pg_rewrite',
                             'pg_policy', 'pg_locks', 'pg_description', 'pg_statistic_ext',
                             'pg_sequence', 'pg_views', 'pg_indexes', 'pg_tables', 'pg_cast',
                             'pg_operator', 'pg_am', 'pg_opclass', 'pg_collation'] LOOP
        -- every column but those of a pseudo-type (attmissingval)
        EXECUTE format('CREATE TEMP VIEW %I AS SELECT %s FROM pg_catalog.%I WHERE public.lg_caught(%L)',
                       t, (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                             FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = ('pg_catalog.' || t)::regclass AND a.attnum > 0
                              AND NOT a.attisdropped AND a.atttypid <> 'anyarray'::regtype),
                       t, 'relation pg_temp.' || t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['users', 'accounts', 'account_users', 'campaigns', 'ad_groups', 'ads',
                             'analytics_snapshots', 'approval_requests', 'budget_alerts',
                             'conversations', 'conversation_messages', 'legacy_config',
                             'legacy_quarantine', 'legacy_references', 'state', 'progress',
                             'changes', 'recheck'] LOOP
        EXECUTE format('CREATE TEMP VIEW %I AS SELECT public.lg_caught(%L) AS id',
                       t, 'relation pg_temp.' || t);
    END LOOP;
END $d$;
CREATE FUNCTION pg_temp.lg_op(pg_catalog.oid, pg_catalog.int4) RETURNS boolean LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('pg_temp oid = integer'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $f$;
CREATE OPERATOR pg_temp.= (LEFTARG = pg_catalog.oid, RIGHTARG = pg_catalog.int4, FUNCTION = pg_temp.lg_op);
CREATE FUNCTION pg_temp.format(pg_catalog.text, pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('pg_temp.format'); RETURN pg_catalog.format($1, $2); END $f$;
CREATE FUNCTION pg_temp.legacy_uuid(pg_catalog.text, pg_catalog.int8) RETURNS pg_catalog.uuid LANGUAGE plpgsql AS
    $f$ BEGIN PERFORM public.lg_caught('pg_temp.legacy_uuid'); RETURN pg_catalog.gen_random_uuid(); END $f$;
-- last: from here on the session's "uuid", "text"... are these domains
DO $d$
BEGIN
    EXECUTE (SELECT pg_catalog.string_agg(pg_catalog.format(
                 'CREATE DOMAIN pg_temp.%I AS pg_catalog.%I CHECK (public.lg_caught(%L));',
                 t, t, 'type pg_temp.' || t), ' ')
               FROM pg_catalog.unnest(ARRAY['uuid', 'text', 'int8', 'int4', 'int2', 'oid', 'name',
                                            'regclass', 'regtype', 'jsonb', 'timestamptz', 'bool',
                                            'varchar', 'interval']) AS t);
END $d$;
SQL

# --- the steps --------------------------------------------------------------

my ($db, $prelude, $pass);

# Setup of the test's own (not an entry point under test): a plain path
sub caught
{
	return $node->safe_psql($db,
		'SELECT pg_catalog.string_agg(DISTINCT what || \' as \' || who, \', \') FROM public.caught');
}

# (fully qualified, so that nothing planted runs: a test of the test)
sub setup
{
	my ($sql) = @_;
	my $out = $node->safe_psql($db, "SET search_path = pg_catalog, public;\n$sql");
	my $c = caught();
	die "the test's own setup ran something planted: $c\n$sql" if $c ne '';
	return $out;
}

# An entry point as the superuser, under the hostile search_path; then
# nothing planted may have run.  expect_error: the step fails as it should
# (a refusal), and still nothing ran.
sub step
{
	my ($name, $sql, $expect_error) = @_;
	my ($ret, $out, $err) =
	  $node->psql($db, "$prelude\n$sql", on_error_stop => 1);
	if ($expect_error)
	{
		isnt($ret, 0, "$pass: $name: refused")
		  or diag($out);
		like($err, $expect_error, "$pass: $name: with the expected error");
	}
	else
	{
		is($ret, 0, "$pass: $name: runs") or diag($err);
	}
	my $c = caught();
	is($c, '', "$pass: $name: nothing planted ran");
	setup('TRUNCATE public.caught') if $c ne '';
	return $out;
}

my $seed_sql = <<'SQL';
INSERT INTO lane_google.users (id, email, username, password_hash, salt, first_name, last_name)
VALUES (1, 'a@example.com', 'a', 'h', 's', 'Ann', 'O''Brien; DROP TABLE x; --'),
       (2, 'b@example.com', 'b', 'h', 's', 'Bob', 'B'),
       (3, 'c@example.com', 'c', 'h', 's', 'Cy', 'C');
INSERT INTO lane_google.accounts (id, name, google_customer_id) VALUES (1, 'A "quoted" name', 'c-1'), (2, 'B', 'c-2');
INSERT INTO lane_google.account_users (id, account_id, user_id, invited_by) VALUES (1, 1, 1, 2), (2, 2, 2, NULL);
INSERT INTO lane_google.campaigns (id, account_id, created_by_id, name, customer_id)
VALUES (1, 1, 1, 'C', 'c-1'), (2, 2, NULL, 'D', 'c-2'), (3, 1, 2, 'E', 'c-1');
INSERT INTO lane_google.ad_groups (id, campaign_id, name) VALUES (1, 1, 'g');
INSERT INTO lane_google.ads (id, ad_group_id, headlines, final_url) VALUES (1, 1, '["h"]', 'https://example.com');
INSERT INTO lane_google.conversations (id, user_id, title) VALUES (1, 2, E'tab\there');
INSERT INTO lane_google.conversation_messages (id, conversation_id, role, content)
VALUES (1, 1, 'user', E'back\\slash ''quote'' "dq"');
SQL

# The application's own legacy tables, in a schema with a hostile name,
# one column renamed so that column_map must name it, an orphan
my $source_sql = <<'SQL';
CREATE SCHEMA "Lp; DROP";
CREATE SCHEMA "lp two";
DO $d$
DECLARE t text;
    c record;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'accounts', 'account_users', 'campaigns', 'ad_groups', 'ads',
                             'analytics_snapshots', 'approval_requests', 'budget_alerts',
                             'conversations', 'conversation_messages'] LOOP
        EXECUTE pg_catalog.format('CREATE TABLE "Lp; DROP".%I AS SELECT * FROM lane_google.%I', t, t);
        EXECUTE pg_catalog.format('CREATE TABLE "lp two".%I AS SELECT * FROM lane_google.%I', t, t);
    END LOOP;
    -- the application's own types: text, not the extension's enums
    FOR c IN SELECT n.nspname, cl.relname, a.attname
               FROM pg_attribute a JOIN pg_class cl ON cl.oid = a.attrelid
               JOIN pg_namespace n ON n.oid = cl.relnamespace
               JOIN pg_type ty ON ty.oid = a.atttypid
              WHERE n.nspname IN ('Lp; DROP', 'lp two') AND a.attnum > 0
                AND ty.typnamespace = 'lane_google'::regnamespace LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %I.%I ALTER COLUMN %I TYPE pg_catalog.text',
                                  c.nspname, c.relname, c.attname);
    END LOOP;
END $d$;
ALTER TABLE "Lp; DROP".users RENAME COLUMN first_name TO "First ""Name""; x";
ALTER TABLE "Lp; DROP".users ADD PRIMARY KEY (id);
CREATE TEMP TABLE orphan AS SELECT * FROM "Lp; DROP".campaigns WHERE id = 1;
UPDATE orphan SET id = 4, account_id = 99, name = 'orphan';
INSERT INTO "Lp; DROP".campaigns SELECT * FROM orphan;
SQL

my $colmap = q{column_map => '{"users.First \"Name\"; x": "first_name"}'};

# The application's objects around the extension's tables (carried by the
# update), with hostile names
my $dependents_sql = <<'SQL';
CREATE SCHEMA "Dep Sch; x";
CREATE TABLE "Dep Sch; x"."Odd ""Tab""" (
    id serial PRIMARY KEY,
    "User Id" integer REFERENCES lane_google.users (id) ON DELETE CASCADE,
    "Ref; Col" text);
INSERT INTO "Dep Sch; x"."Odd ""Tab""" ("User Id", "Ref; Col") VALUES (1, '1'), (2, ' 3 '), (NULL, NULL);
CREATE VIEW "Dep Sch; x"."V; ""1""" AS
    SELECT c.id AS "Camp Id", c.name, u.email
      FROM lane_google.campaigns c LEFT JOIN lane_google.users u ON u.id = c.created_by_id;
SQL

my $uuid_steps = <<'SQL';
SELECT lane_google.uuid_generate_v7() IS NOT NULL;
SELECT lane_google.uuid_v7_to_timestamptz(lane_google.uuid_generate_v7()) IS NOT NULL;
SQL
my $uuid_steps_x1 = <<'SQL';
SELECT lane_google.uuidv7() IS NOT NULL, lane_google.uuidv7(interval '1 day') IS NOT NULL,
       lane_google.uuidv4() IS NOT NULL;
SELECT lane_google.uuid_extract_version(lane_google.uuidv7()),
       lane_google.uuid_extract_timestamp(lane_google.uuidv7()) IS NOT NULL,
       lane_google.uuid_v7_to_timestamptz_strict(lane_google.uuidv7()) IS NOT NULL,
       lane_google.uuid_v7_to_timestamp(lane_google.uuidv7()) IS NOT NULL,
       lane_google.uuid_timestamptz_to_v7(pg_catalog.now()) IS NOT NULL,
       lane_google.uuid_timestamp_to_v7(LOCALTIMESTAMP, true) IS NOT NULL;
SQL

sub update_step
{
	my ($to) = @_;
	step("ALTER EXTENSION lane_google UPDATE TO '$to'",
		"ALTER EXTENSION lane_google UPDATE TO '$to'");
	is( setup("SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
		$to, "$pass: at $to");
}

# --- every entry point, offline ---------------------------------------------

sub offline
{
	for my $v ('2.2', '2.1', '2.0', '1.2', '1.1')
	{
		step("CREATE EXTENSION VERSION '$v'", "CREATE EXTENSION lane_google VERSION '$v'");
		step("uuid functions at $v", $uuid_steps);
		step("uuid functions of x.1 at $v", $uuid_steps_x1) if $v =~ /\.[12]$/;
		step("DROP EXTENSION at $v", 'DROP EXTENSION lane_google CASCADE');
	}
	step("CREATE EXTENSION VERSION '1.0'", "CREATE EXTENSION lane_google VERSION '1.0'");
	step('set_legacy_namespace',
		"SELECT lane_google.set_legacy_namespace('6ba7b810-9dad-11d1-80b4-00c04fd430c8')");
	setup($seed_sql);
	step('legacy_namespace, legacy_uuid',
		"SELECT lane_google.legacy_namespace(), lane_google.legacy_uuid('users', 1)");
	step('validate_fk_integrity() at 1.0',
		'SELECT * FROM lane_google.validate_fk_integrity()');
	setup($source_sql);

	update_step('1.1');
	setup($dependents_sql);
	step('conversion_plan() at 1.1', 'SELECT * FROM lane_google.conversion_plan()');
	step('suggest_legacy_references',
		q{SELECT * FROM lane_google.suggest_legacy_references('Dep Sch; x')});
	step('add_legacy_reference',
		q{SELECT lane_google.add_legacy_reference('"Dep Sch; x"."Odd ""Tab"""', 'Ref; Col', 'users')});
	step('remove_legacy_reference',
		q{SELECT lane_google.remove_legacy_reference('"Dep Sch; x"."Odd ""Tab"""', 'Ref; Col')});
	step('add_legacy_reference again',
		q{SELECT lane_google.add_legacy_reference('"Dep Sch; x"."Odd ""Tab"""', 'Ref; Col', 'users')});
	step('add_legacy_reference refused',
		q{SELECT lane_google.add_legacy_reference('"Dep Sch; x"."Odd ""Tab"""', 'no such', 'users')},
		qr/ERROR/);
	step('validate_fk_integrity() at 1.1',
		q{SELECT * FROM lane_google.validate_fk_integrity('lane_google')});
	step('conversion_plan() at 1.1, with dependents',
		'SELECT * FROM lane_google.conversion_plan()');

	update_step('2.1');
	is( setup(q{SELECT pg_catalog.count(*) FROM "Dep Sch; x"."Odd ""Tab""" o
		  JOIN lane_google.users u ON u.id = o."User Id"}),
		'2', "$pass: the dependents were carried to 2.1");
	step('legacy_id_of, legacy_uuid at 2.1',
		"SELECT lane_google.legacy_id_of('users', lane_google.legacy_uuid('users', 1))");
	step('validate_fk_integrity() at 2.1', 'SELECT * FROM lane_google.validate_fk_integrity()');
	step('conversion_plan() at 2.1', 'SELECT * FROM lane_google.conversion_plan()');
	step('conversion_plan(source) at 2.1',
		q{SELECT * FROM lane_google.conversion_plan('Lp; DROP')});
	update_step('1.1');
	step('remove_legacy_reference at 1.1',
		q{SELECT lane_google.remove_legacy_reference('"Dep Sch; x"."Odd ""Tab"""', 'Ref; Col')});
	setup(q{DROP SCHEMA "Dep Sch; x" CASCADE});
	update_step('1.0');
	update_step('2.0');
	step('convert_legacy at 2.0 (dry run)',
		q{SELECT * FROM lane_google.convert_legacy('lp two', 'quarantine', true)});
	update_step('2.1');
	update_step('2.0');
	update_step('1.0');
	update_step('2.0');
	update_step('2.2');
	update_step('1.2');
	update_step('2.2');
	step('convert_legacy_suggest at 2.2',
		q{SELECT lane_google.convert_legacy_suggest('Lp; DROP')});
	update_step('2.1');

	# convert_legacy from the application's tables, in every mode
	setup('TRUNCATE lane_google.users, lane_google.accounts CASCADE');
	step('convert_legacy_problems',
		qq{SELECT * FROM lane_google.convert_legacy_problems('Lp; DROP', $colmap)});
	step('convert_legacy dry_run',
		qq{SELECT * FROM lane_google.convert_legacy('Lp; DROP', on_orphan => 'null', dry_run => true, $colmap)});
	step('convert_legacy on_orphan error (refused: an orphan)',
		qq{SELECT * FROM lane_google.convert_legacy('Lp; DROP', $colmap)},
		qr/orphan|no row|not found|does not exist|missing/i);
	step('convert_legacy on_orphan quarantine, on_error quarantine',
		qq{SELECT * FROM lane_google.convert_legacy('Lp; DROP', on_orphan => 'quarantine',
			on_error => 'quarantine', $colmap)});
	step('convert_legacy catch-up',
		qq{SELECT * FROM lane_google.convert_legacy('Lp; DROP', on_orphan => 'quarantine', $colmap)});
	# at 2.2: a catch-up again (the quarantine's rows are held already, not
	# added again), and the rows no source row maps to
	update_step('2.2');
	step('convert_legacy catch-up at 2.2, no quarantine row twice',
		qq{SELECT * FROM lane_google.convert_legacy('Lp; DROP', on_orphan => 'quarantine', $colmap)});
	step('convert_legacy_missing at 2.2',
		qq{SELECT * FROM lane_google.convert_legacy_missing('Lp; DROP', $colmap)});
	step('convert_legacy at 2.2, a schema of views first (also_from)',
		qq{SELECT * FROM lane_google.convert_legacy('Lp; DROP', on_orphan => 'quarantine', dry_run => true,
			also_from => ARRAY['Lp; DROP']::pg_catalog.name[], $colmap)});
	step('convert_legacy_problems at 2.2, also_from',
		qq{SELECT * FROM lane_google.convert_legacy_problems('Lp; DROP', also_from => ARRAY['Lp; DROP']::pg_catalog.name[], $colmap)});
	update_step('2.1');
	setup('TRUNCATE lane_google.users, lane_google.accounts, lane_google.legacy_quarantine CASCADE');
	step('convert_legacy on_orphan null',
		qq{SELECT * FROM lane_google.convert_legacy('Lp; DROP', on_orphan => 'null', $colmap)});
	setup(<<'SQL');
CREATE SCHEMA "App; Sch";
CREATE TABLE "App; Sch"."Sess ""x""" (id serial PRIMARY KEY,
    "User Id" integer REFERENCES "Lp; DROP".users (id));
INSERT INTO "App; Sch"."Sess ""x""" ("User Id") VALUES (1), (2), (NULL);
CREATE VIEW "App; Sch"."Who; v" AS SELECT u.id AS "U Id", u.email FROM "Lp; DROP".users u;
SQL
	step('conversion_plan(source) with the application dependents',
		q{SELECT * FROM lane_google.conversion_plan('Lp; DROP')});
	step("convert_legacy dependents => 'carry'",
		qq{SELECT * FROM lane_google.convert_legacy('Lp; DROP', on_orphan => 'null',
			dependents => 'carry', $colmap)});
	is( setup(q{SELECT pg_catalog.count(*) FROM "App; Sch"."Sess ""x""" s
		  JOIN lane_google.users u ON u.id = s."User Id"}),
		'2', "$pass: the application's dependents were carried");
	step('validate_fk_integrity() after convert_legacy',
		'SELECT * FROM lane_google.validate_fk_integrity()');
	step('DROP EXTENSION', 'DROP EXTENSION lane_google CASCADE');
}

# --- every online step --------------------------------------------------------

sub online
{
	step("CREATE EXTENSION VERSION '1.1'", "CREATE EXTENSION lane_google VERSION '1.1'");
	setup($seed_sql);
	setup($dependents_sql);
	step('online_start', 'SELECT lane_google.online_start()');
	step('online_status', 'SELECT * FROM lane_google.online_status()');
	step('a write captured',
		q{INSERT INTO lane_google.campaigns (id, account_id, created_by_id, name, customer_id)
		  VALUES (10, 2, 3, 'captured', 'c-2');
		  UPDATE lane_google.users SET username = 'bb' WHERE id OPERATOR(pg_catalog.=) 2});
	step('online_backfill', 'CALL lane_google.online_backfill(2)');
	step('a write through the compatibility views',
		q{INSERT INTO lane_google_v1.campaigns (id, account_id, name, customer_id)
		  VALUES (11, 1, 'via v1', 'c-1')});
	step('online_backfill again', 'CALL lane_google.online_backfill()');
	update_step('2.1');
	step('a write through the compatibility views after the swap',
		q{INSERT INTO lane_google_v1.campaigns (id, account_id, name, customer_id)
		  VALUES (12, 1, 'via v1 at 2.1', 'c-1')});
	step('drop_compat', 'SELECT lane_google.drop_compat()');
	is( setup(q{SELECT pg_catalog.count(*) FROM "Dep Sch; x"."Odd ""Tab""" o
		  JOIN lane_google.users u ON u.id = o."User Id"}),
		'2', "$pass: the dependents were carried by the swap");
	update_step('1.1');
	step('online_start again', 'SELECT lane_google.online_start()');
	step('online_backfill, one batch', 'CALL lane_google.online_backfill(1)');
	step('online_abort', 'SELECT lane_google.online_abort()');

	# 1.2 -> 2.2: the same, with the checks of 1.2 and 2.2 between the steps
	update_step('1.2');
	step('online_readiness() at 1.2', 'SELECT * FROM lane_google.online_readiness()');
	step('online_start at 1.2', 'SELECT lane_google.online_start()');
	step('online_backfill, one batch, at 1.2', 'CALL lane_google.online_backfill(1)');
	step('online_readiness() while copying', 'SELECT * FROM lane_google.online_readiness()');
	step('online_backfill at 1.2', 'CALL lane_google.online_backfill()');
	step('online_readiness() ready to swap', 'SELECT * FROM lane_google.online_readiness()');
	update_step('2.2');
	step('online_readiness() at 2.2', 'SELECT * FROM lane_google.online_readiness()');
	step('compat_sessions() at 2.2', 'SELECT * FROM lane_google.compat_sessions()');
	step('drop_compat at 2.2', 'SELECT lane_google.drop_compat()');
	update_step('2.1');
	step('DROP EXTENSION', 'DROP EXTENSION lane_google CASCADE');
}

for my $p ([ 'public', '' ], [ 'pg_temp', $temp_sql ])
{
	$pass = $p->[0];
	for my $part ('offline', 'online')
	{
		$db = "${pass}_$part";
		$node->safe_psql('postgres', "CREATE DATABASE $db");
		$node->safe_psql($db, 'GRANT CREATE ON SCHEMA public TO lowpriv');
		$node->safe_psql($db, $plant_sql);
		$prelude = $p->[1]
		  . ($pass eq 'public'
			? 'SET search_path = public, pg_catalog;'
			: 'SET search_path = pg_temp, public, pg_catalog;');
		$part eq 'offline' ? offline() : online();
	}
}

is($node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'lowpriv'"),
	'f', 'lowpriv is not a superuser');

$node->stop;
done_testing();
