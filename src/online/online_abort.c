/*-------------------------------------------------------------------------
 *
 * online_abort.c
 *	  online_abort(), which removes an online conversion, and dropping the
 *	  staging schema (at the abort, and at the end of the swap).
 *
 * Invariants: online_abort() takes the backfill's advisory lock and SHARE
 * ROW EXCLUSIVE on the legacy tables within lane_google.swap_lock_timeout,
 * then drops the capture triggers, the staging schema and the
 * compatibility views; the legacy tables are as they were.  Dropping the
 * staging schema removes its dependency on the extension with it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "lane_google.h"
#include "online_int.h"

PG_FUNCTION_INFO_V1(lg_online_abort);

/* The staging schema and what is left in it (the shadows are moved or go) */
void
lg_online_drop_staging(void)
{
	Oid			nsp = get_namespace_oid(STAGING, false);
	int			t;

	for (t = 0; t < LG_NTABLES; t++)
		if (OidIsValid(get_relname_relid(lg_tables[t].name, nsp)))
			lg_online_spi_run(psprintf("DROP TABLE " STAGING ".%s", quote_identifier(lg_tables[t].name)),
					SPI_OK_UTILITY);
	lg_online_spi_run("DROP TABLE " STAGING ".state, " STAGING ".progress, " STAGING "." CHANGES, SPI_OK_UTILITY);
	lg_online_spi_run("DROP TABLE IF EXISTS " STAGING "." RECHECK, SPI_OK_UTILITY);
	lg_online_spi_run("DROP SCHEMA " STAGING, SPI_OK_UTILITY);
}

/*
 * online_abort(): the capture triggers, the staging schema and the
 * compatibility views go; the legacy tables are as they were.
 */
LG_GUARDED_FUNCTION(lg_online_abort)
{
	LockBudget	b;
	int			t;
	const char *ext = lg_online_ext_q();

	lg_online_require_staging();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	lg_online_budget_begin(&b, "online_abort()");
	lg_online_budget_lock(&b, InvalidOid, ExclusiveLock, "the online backfill's advisory lock");
	lg_online_budget_lock_legacy(&b, ShareRowExclusiveLock);
	lg_online_budget_end(&b);
	for (t = 0; t < LG_NTABLES; t++)
	{
		const char *tq = quote_identifier(lg_tables[t].name);

		lg_online_spi_run(psprintf("DROP TRIGGER IF EXISTS lane_google_online_capture ON %s.%s", ext, tq),
				SPI_OK_UTILITY);
		lg_online_spi_run(psprintf("DROP TRIGGER IF EXISTS lane_google_online_truncate ON %s.%s", ext, tq),
				SPI_OK_UTILITY);
	}
	lg_online_drop_staging();
	lg_online_compat_drop_all();
	SPI_finish();
	PG_RETURN_VOID();
}
