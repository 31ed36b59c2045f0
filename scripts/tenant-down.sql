
-- scripts/tenant-down.sql: 3.0 -> 2.2, in place, in the update's one
-- transaction.  After scripts/tenant-layout.sql.  The rows stay as they
-- are; the tenant key columns go (as dropped attributes, which no row, view
-- or dump shows), and the 2.2 keys come back with their names.

-- 1. Nothing outside the layout may depend on a 3.0 key or tenant column
SELECT @extschema@._lg_tenant_refuse('3.0', '2.2');

-- 2. The triggers and their function
DO $triggers$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM @extschema@._lg_tenant_columns() ORDER BY step LOOP
        EXECUTE pg_catalog.format('DROP TRIGGER %I ON @extschema@.%I',
                                  c.table_name || '_set_' || c.key_column, c.table_name);
    END LOOP;
END
$triggers$;
DROP FUNCTION @extschema@.set_tenant_key();

-- 3. The keys, and the tenant key columns once no key uses them
SELECT @extschema@._lg_tenant_rekey('3.0', '2.2');
DO $columns$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM @extschema@._lg_tenant_columns() ORDER BY step DESC LOOP
        EXECUTE pg_catalog.format('ALTER TABLE @extschema@.%I DROP COLUMN %I', c.table_name, c.key_column);
    END LOOP;
END
$columns$;

DROP FUNCTION @extschema@._lg_tenant_refuse(text, text);
DROP FUNCTION @extschema@._lg_tenant_rekey(text, text);
DROP FUNCTION @extschema@._lg_tenant_keys();
DROP FUNCTION @extschema@._lg_tenant_columns();
