
-- scripts/tenant-up.sql: 2.2 -> 3.0, in place, in the update's one
-- transaction (all or nothing).  After scripts/tenant-layout.sql.

-- 1. Nothing outside the layout may depend on a key that goes: refused by
--    name before anything changes.
SELECT @extschema@._lg_tenant_refuse('2.2', '3.0');

-- 2. The tenant key of each child table: added, filled from its parent row
--    (parents first, one statement per table), and checked.  The fill is a
--    rewrite of the table (ALTER COLUMN ... TYPE uuid USING the parent's
--    key, src/tenant_fill.c): every row written once and the indexes built
--    once, where an UPDATE wrote every row twice and into every index.  A
--    rewrite fires no trigger: the rows' updated_at stays, the
--    application's own triggers see nothing.
CREATE FUNCTION @extschema@._lg_tenant_of(parent regclass, key_column name, parent_id uuid)
RETURNS uuid
AS 'MODULE_PATHNAME', 'lg_tenant_of'
LANGUAGE C STABLE STRICT;
REVOKE ALL ON FUNCTION @extschema@._lg_tenant_of(regclass, name, uuid) FROM PUBLIC;

DO $fill$
DECLARE
    c record;
    missing bigint;
    sample text;
    problems text;
BEGIN
    FOR c IN SELECT * FROM @extschema@._lg_tenant_columns() ORDER BY step LOOP
        EXECUTE pg_catalog.format('ALTER TABLE @extschema@.%I ADD COLUMN %I uuid', c.table_name, c.key_column);
    END LOOP;
    FOR c IN SELECT * FROM @extschema@._lg_tenant_columns() ORDER BY step LOOP
        EXECUTE pg_catalog.format(
            'ALTER TABLE @extschema@.%1$I ALTER COLUMN %2$I TYPE uuid'
            ' USING @extschema@._lg_tenant_of(%4$s::pg_catalog.oid, %2$L, %3$I)',
            c.table_name, c.key_column, c.parent_column,
            pg_catalog.to_regclass('@extschema@.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.parent))::pg_catalog.oid);
    END LOOP;
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
DROP FUNCTION @extschema@._lg_tenant_of(regclass, name, uuid);
