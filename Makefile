# lane_google: PGXS build
MODULE_big = lane_google
OBJS = \
	$(WIN32RES) \
	src/lane_google.o \
	src/guard.o \
	src/uuid.o \
	src/legacy.o \
	src/tables.o \
	src/trigger.o \
	src/keyset.o \
	src/convert.o \
	src/validate.o \
	src/dependents.o \
	src/online.o

EXTENSION = lane_google
DATA = $(wildcard lane_google--*.sql)
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

# PGXS tracks no header dependencies: the key-set structures are shared
src/keyset.o src/convert.o src/validate.o: src/keyset.h src/lane_google.h

# legacy.c hashes with the libcrypto the server links, when it was built with
# OpenSSL (USE_OPENSSL); otherwise through pg_cryptohash.  As contrib/pgcrypto.
ifneq ($(filter openssl,$(with_ssl))$(filter yes,$(with_openssl)),)
SHLIB_LINK += $(filter -lcrypto, $(LIBS))
endif


# The TAP tests alone: make prove_installcheck PROVE_TESTS=test/t/NAME.pl
.PHONY: prove_installcheck
prove_installcheck:
	$(prove_installcheck)
