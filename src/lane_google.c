/*-------------------------------------------------------------------------
 *
 * lane_google.c
 *	  Module entry point: the module magic, and the start-up that has each
 *	  subsystem register its settings.  It imports the subsystems; none
 *	  imports it back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "lane_google.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	lg_keyset_init();
	lg_convert_init();
	lg_online_init();

	MarkGUCPrefixReserved("lane_google");
}

