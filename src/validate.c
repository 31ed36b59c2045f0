/* temporary: replaced by the validation work */
#include "postgres.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lane_google.h"
PG_FUNCTION_INFO_V1(lg_validate_fk_integrity);
Datum
lg_validate_fk_integrity(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;

	if (SRF_IS_FIRSTCALL())
		funcctx = SRF_FIRSTCALL_INIT();
	funcctx = SRF_PERCALL_SETUP();
	SRF_RETURN_DONE(funcctx);
}
