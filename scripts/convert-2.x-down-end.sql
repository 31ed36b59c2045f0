
-- 2.1's convert_legacy and convert_legacy_problems are back: the EXECUTE
-- privileges users granted on 2.2's go to them, as the users' own grants
SELECT @extschema@._lg_carry_grants('@extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text, name[])',
    '@extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text)');
DROP FUNCTION @extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text, name[]);
SELECT @extschema@._lg_carry_grants('@extschema@.convert_legacy_problems(name, jsonb, text[], jsonb, text, name[])',
    '@extschema@.convert_legacy_problems(name, jsonb, text[], jsonb, text)');
DROP FUNCTION @extschema@.convert_legacy_problems(name, jsonb, text[], jsonb, text, name[]);
DROP FUNCTION @extschema@._lg_carry_grants(regprocedure, regprocedure);
