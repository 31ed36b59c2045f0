/* temporary: replaced by the validation work */
#include "postgres.h"
#include "fmgr.h"
#include "lane_google.h"
PG_FUNCTION_INFO_V1(lg_validate_fk_integrity);
Datum
lg_validate_fk_integrity(PG_FUNCTION_ARGS)
{
	elog(ERROR, "not yet");
}
