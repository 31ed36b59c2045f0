/*-------------------------------------------------------------------------
 *
 * online_int.h
 *	  What the files of the online conversion (src/online/) share among
 *	  themselves; not for the other subsystems, whose view of it is
 *	  lane_google.h (lg_online_init(), lane_google.swap_lock_timeout).
 *
 * The files, by capability:
 *	  online.c			  module start-up (the setting), the design, small helpers
 *	  online_locks.c	  the backfill's advisory lock, locks within a time budget
 *	  online_shadow.c	  the shadow tables: made, checked against the legacy
 *						  tables, copied into, their keys and indexes
 *	  online_start.c	  online_start() and the capture trigger
 *	  online_backfill.c	  the copy batches and the end of the backfill
 *	  online_catchup.c	  applying the change log, rechecking its foreign keys
 *	  online_compat.c	  the compatibility views (schema lane_google_v1)
 *	  online_swap.c		  the swap, inside ALTER EXTENSION ... UPDATE
 *	  online_abort.c	  online_abort(), and dropping the staging schema
 *
 *-------------------------------------------------------------------------
 */
#ifndef LG_ONLINE_INT_H
#define LG_ONLINE_INT_H

#include "nodes/pg_list.h"
#include "storage/lockdefs.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

/* the staging schema, and the compatibility views' schema */
#define STAGING			"lane_google_online"
#define COMPAT			"lane_google_v1"
/* tables of the staging schema besides the shadows */
#define CHANGES			"changes"
#define RECHECK			"recheck"

/* online.c: small helpers */
extern const char *lg_online_ext_q(void);
extern const char *lg_online_swap_version(void);
extern bool lg_online_staging_exists(void);
extern void lg_online_require_staging(void);
extern void lg_online_require_read_committed(const char *what);
extern void lg_online_spi_run(const char *sql, int ret);
extern int64 lg_online_spi_int8(const char *sql, int64 defval);
extern char *lg_online_phase(void);
extern Oid	lg_online_legacy_relid(int t);
extern const char *lg_online_fk_parent(int t, const char *column);

/* online_locks.c: the advisory lock, and locks within a time budget */
typedef struct LockBudget
{
	TimestampTz start;
	TimestampTz deadline;
	int			timeout_ms;		/* deadline - start */
	bool		plus_deadlock;	/* timeout_ms is swap_lock_timeout +
								 * deadlock_timeout */
	TimestampTz paused_at;
	int			nestlevel;
	const char *what;
} LockBudget;

extern void lg_online_advisory_lock_wait(void);
extern void lg_online_budget_begin(LockBudget *b, const char *what);
extern void lg_online_budget_end(LockBudget *b);
extern long lg_online_budget_elapsed_ms(LockBudget *b);
extern void lg_online_budget_pause(LockBudget *b);
extern void lg_online_budget_resume(LockBudget *b);
extern void lg_online_budget_lock(LockBudget *b, Oid relid, LOCKMODE mode,
								  const char *name);
extern void lg_online_budget_lock_legacy(LockBudget *b, LOCKMODE mode);
extern bool lg_online_budget_lock_dependents(LockBudget *b, List **locked);
extern void lg_online_budget_lock_with_toast(LockBudget *b, Oid relid,
											 LOCKMODE mode, const char *name);

/* online_shadow.c: the shadow tables */
extern void lg_online_create_shadow(int t);
extern void lg_online_check_layouts(void);
extern char *lg_online_copy_sql(int t, const char *where);
extern void lg_online_build_primary_key(int t);
extern void lg_online_build_indexes(int t);

/* online_backfill.c: the steps of online_backfill() */
extern void lg_online_backfill_step_begin(void);

/* online_catchup.c: the change log */
extern int64 lg_online_apply_changes(void);
extern int64 lg_online_apply_until_small(int *passes);
extern void lg_online_recheck_orphans(bool swap);

/* online_compat.c: the compatibility views */
extern void lg_online_compat_create_legacy(int t);
extern void lg_online_compat_drop_all(void);
extern void lg_online_compat_take_out(int64 *next_ids, List **view_grants);
extern void lg_online_compat_put_back(const int64 *next_ids, List **view_grants);

/* online_abort.c */
extern void lg_online_drop_staging(void);

#endif							/* LG_ONLINE_INT_H */
