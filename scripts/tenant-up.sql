
-- scripts/tenant-up.sql: 2.2 -> 3.0, in place, in the update's one
-- transaction (all or nothing).  After scripts/tenant-layout.sql.

-- 1. Nothing outside the layout may depend on a key that goes: refused by
--    name before anything changes.
SELECT @extschema@._lg_tenant_refuse('2.2', '3.0');

-- 2. The tenant key of each child table: added, filled from its parent row
--    (parents first, one statement per table), and checked.  The fill
--    changes no row a user sees, so no trigger fires for it (the rows'
--    updated_at stays): session_replication_role = replica for the fill
--    alone (the extension is installed by a superuser).
DO $fill$
DECLARE
    c record;
    role_before text := pg_catalog.current_setting('session_replication_role');
    missing bigint;
    sample text;
    problems text;
BEGIN
    FOR c IN SELECT * FROM @extschema@._lg_tenant_columns() ORDER BY step LOOP
        EXECUTE pg_catalog.format('ALTER TABLE @extschema@.%I ADD COLUMN %I uuid', c.table_name, c.key_column);
    END LOOP;
    PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
    FOR c IN SELECT * FROM @extschema@._lg_tenant_columns() ORDER BY step LOOP
        EXECUTE pg_catalog.format(
            'UPDATE @extschema@.%1$I AS c SET %2$I = p.%2$I FROM @extschema@.%4$I AS p'
            ' WHERE p.id OPERATOR(pg_catalog.=) c.%3$I',
            c.table_name, c.key_column, c.parent_column, c.parent);
    END LOOP;
    PERFORM pg_catalog.set_config('session_replication_role', role_before, true);
    -- every row found its parent: 2.2's foreign keys were validated, so only
    -- rows loaded with triggers disabled can be missing one
    FOR c IN SELECT * FROM @extschema@._lg_tenant_columns() ORDER BY step LOOP
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM @extschema@.%I AS x WHERE x.%I IS NULL',
                                  c.table_name, c.key_column)
          INTO missing;
        IF missing OPERATOR(pg_catalog.>) 0 THEN
            EXECUTE pg_catalog.format(
                'SELECT pg_catalog.string_agg(s.id::text, '', '' ORDER BY s.id) FROM'
                ' (SELECT x.id FROM @extschema@.%I AS x WHERE x.%I IS NULL ORDER BY x.id LIMIT 3) AS s',
                c.table_name, c.key_column)
              INTO sample;
            problems := pg_catalog.concat_ws(E'\n', problems,
                pg_catalog.format('%s: %s rows whose %s matches no row of %s (ids %s)',
                                  c.table_name, missing, c.parent_column, c.parent, sample));
        END IF;
    END LOOP;
    IF problems IS NOT NULL THEN
        RAISE EXCEPTION 'cannot update extension lane_google to 3.0: rows whose parent row is missing have no tenant'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = problems,
                  HINT = 'Nothing was changed.  lane_google.validate_fk_integrity() lists the orphan rows: delete or fix them, then update again.';
    END IF;
    FOR c IN SELECT * FROM @extschema@._lg_tenant_columns() ORDER BY step LOOP
        EXECUTE pg_catalog.format('ALTER TABLE @extschema@.%I ALTER COLUMN %I SET NOT NULL',
                                  c.table_name, c.key_column);
    END LOOP;
END
$fill$;

-- 3. The keys: (account_id, id) and (user_id, id), composite foreign keys
SELECT @extschema@._lg_tenant_rekey('2.2', '3.0');

-- 4. Writes that omit the tenant key: filled from the parent row
CREATE FUNCTION @extschema@.set_tenant_key()
RETURNS trigger
AS 'MODULE_PATHNAME', 'lg_set_tenant_key'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION @extschema@.set_tenant_key() FROM PUBLIC;

DO $triggers$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM @extschema@._lg_tenant_columns() ORDER BY step LOOP
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF %I ON @extschema@.%I'
            ' FOR EACH ROW EXECUTE FUNCTION @extschema@.set_tenant_key(%L, %L, %L)',
            c.table_name || '_set_' || c.key_column, c.parent_column, c.table_name,
            c.key_column, c.parent_column, c.parent);
    END LOOP;
END
$triggers$;

DROP FUNCTION @extschema@._lg_tenant_refuse(text, text);
DROP FUNCTION @extschema@._lg_tenant_rekey(text, text);
DROP FUNCTION @extschema@._lg_tenant_keys();
DROP FUNCTION @extschema@._lg_tenant_columns();
