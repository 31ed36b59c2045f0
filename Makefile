# lane_google: PGXS build
MODULE_big = lane_google
# Every C file of src/ and of its subsystem folders (src/dependents/, ...)
OBJS = $(WIN32RES) \
	$(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/*/*.c)))

# the subsystem folders' files include the shared headers of src/
PG_CPPFLAGS = -I$(srcdir)/src

EXTENSION = lane_google
# Update scripts of 1.2 and 2.2 on are generated from the fragments in
# scripts/ (each piece of DDL written once, as TimescaleDB builds its update
# scripts); the released scripts (1.0, 1.1, 2.0, 2.1) are files of their own
# and never change (test/released.sha256).
GENERATED = lane_google--1.1--1.2.sql lane_google--1.2--1.1.sql \
	lane_google--2.1--2.2.sql lane_google--2.2--2.1.sql \
	lane_google--2.2--3.0.sql lane_google--3.0--2.2.sql
DATA = $(filter-out $(GENERATED), $(wildcard lane_google--*.sql))
DATA_built = $(GENERATED)
PGFILEDESC = "lane_google - Lane Google UUID schema and legacy key conversion"

# pg_regress: every sql/NAME.sql, in the order of the file names
REGRESS = $(sort $(patsubst sql/%.sql,%,$(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=plpgsql

# TAP tests live in test/t (PostgreSQL::Test::Cluster)
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: every object depends on every header
$(filter-out $(WIN32RES),$(OBJS)): $(wildcard src/*.h src/*/*.h)

# legacy.c hashes with the libcrypto the server links, when it was built with
# OpenSSL (USE_OPENSSL); otherwise through pg_cryptohash.  As contrib/pgcrypto.
ifneq ($(filter openssl,$(with_ssl))$(filter yes,$(with_openssl)),)
SHLIB_LINK += $(filter -lcrypto, $(LIBS))
endif


# Generated update scripts: a guard line, then the fragments: the functions
# new in 1.2 and 2.2 (online-common.sql), those new in 2.2 alone
# (convert-2.x.sql, which comments its own), then the comments.  A way back takes
# the comment fragments with every COMMENT set to NULL (they hold one
# statement a line), then drops the new functions (online-common-down.sql),
# so that up and down again is a no-op.
LG_COMMENTS_1 = scripts/comments-common.sql scripts/comments-1.x.sql
LG_COMMENTS_2 = scripts/comments-common.sql scripts/comments-2.x.sql
lg_guard = printf '%s\n' '-- generated from scripts/ by the Makefile: do not edit' \
	'\echo Use "ALTER EXTENSION lane_google UPDATE TO '"'"'$(1)'"'"'" to load this file. \quit' > $@
lg_uncomment = sed -E "s/^(COMMENT ON .*) IS '.*';$$/\1 IS NULL;/" $(1) >> $@

LG_UP_1 = scripts/online-common.sql $(LG_COMMENTS_1)
LG_UP_2 = scripts/online-common.sql scripts/convert-2.x.sql scripts/suggest-2.x.sql $(LG_COMMENTS_2)
LG_DOWN = scripts/online-common-down.sql
LG_DOWN_2 = scripts/suggest-2.x-down.sql $(LG_DOWN) scripts/convert-2.x-down.sql
# 2.1's convert_legacy and convert_legacy_problems, restored on the way back
# from 2.2, as the released script created them (never copied by hand)
lg_convert_21 = sed -n '/^CREATE FUNCTION @extschema@\.convert_legacy($$/,/^REVOKE ALL ON FUNCTION @extschema@\.convert_legacy_problems(/p' \
	lane_google--2.0--2.1.sql

lane_google--1.1--1.2.sql: $(LG_UP_1)
	$(call lg_guard,1.2)
	cat $(LG_UP_1) >> $@
lane_google--1.2--1.1.sql: $(LG_COMMENTS_1) $(LG_DOWN)
	$(call lg_guard,1.1)
	$(call lg_uncomment,$(LG_COMMENTS_1))
	cat $(LG_DOWN) >> $@
lane_google--2.1--2.2.sql: $(LG_UP_2)
	$(call lg_guard,2.2)
	cat $(LG_UP_2) >> $@
lane_google--2.2--2.1.sql: $(LG_COMMENTS_2) $(LG_DOWN_2) lane_google--2.0--2.1.sql scripts/convert-2.x-down-end.sql
	$(call lg_guard,2.1)
	$(call lg_uncomment,$(LG_COMMENTS_2))
	cat $(LG_DOWN_2) >> $@
	$(lg_convert_21) >> $@
	cat scripts/convert-2.x-down-end.sql >> $@

# 3.0, the tenant-keyed layout (doc/citus.md): both directions are built
# from one description of the layout (tenant-layout.sql: the tenant key
# columns and every key object as it is in 2.2 and in 3.0), then the steps
# of each direction; the way up ends with distribute() and undistribute()
# (citus-3.x.sql) and the comments of what it adds, the way back refuses
# while the tables are distributed (citus-3.x-down.sql), then drops all of it.
LG_TENANT_UP = scripts/tenant-layout.sql scripts/tenant-up.sql scripts/citus-3.x.sql \
	scripts/comments-3.x.sql
LG_TENANT_DOWN = scripts/citus-3.x-down.sql scripts/tenant-layout.sql scripts/tenant-down.sql

lane_google--2.2--3.0.sql: $(LG_TENANT_UP)
	$(call lg_guard,3.0)
	cat $(LG_TENANT_UP) >> $@
lane_google--3.0--2.2.sql: $(LG_TENANT_DOWN)
	$(call lg_guard,2.2)
	cat $(LG_TENANT_DOWN) >> $@

# The TAP tests alone: make prove_installcheck PROVE_TESTS=test/t/NAME.pl
.PHONY: prove_installcheck
prove_installcheck:
	$(prove_installcheck)
