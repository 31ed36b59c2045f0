/* temporary: replaced by the conversion engine */
#include "postgres.h"
#include "fmgr.h"
#include "lane_google.h"
PG_FUNCTION_INFO_V1(lg_convert_legacy);
Datum
lg_convert_legacy(PG_FUNCTION_ARGS)
{
	elog(ERROR, "not yet");
}
