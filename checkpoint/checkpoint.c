// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint: the walk that writes an image.
 */

#include <linux/checkpoint.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/signal.h>
#include <linux/timekeeping.h>
#include <linux/utsname.h>

/**
 * cr_fill_const() - the kernel constants an image depends on
 * @c: where to put them.
 */
void cr_fill_const(struct cr_const *c)
{
	memset(c, 0, sizeof(*c));
	c->task_comm_len = TASK_COMM_LEN;
	c->nsig = _NSIG;
	c->uts_len = __NEW_UTS_LEN;
	c->rlim_nlimits = RLIM_NLIMITS;
	c->ngroups_max = NGROUPS_MAX;
	c->path_max = PATH_MAX;
}

/**
 * cr_write_header() - write the header record of an image
 * @ctx: the checkpoint.
 *
 * Return: 0, or a negative errno.
 */
int cr_write_header(struct cr_ctx *ctx)
{
	struct cr_hdr_header *hh;
	int ret;

	hh = cr_hbuf_get(ctx, sizeof(*hh));
	if (!hh)
		return -ENOMEM;
	hh->magic = CR_IMAGE_MAGIC;
	hh->version = CR_IMAGE_VERSION;
	hh->arch = CR_ARCH;
	hh->page_size = PAGE_SIZE;
	hh->flags = ctx->flags;
	hh->crid = ctx->crid;
	hh->time = ktime_get_real_seconds();
	strscpy((char *)hh->release, init_utsname()->release,
		sizeof(hh->release));
	cr_fill_const(&hh->consts);
	ret = cr_write_rec(ctx, hh, CR_HDR_HEADER, sizeof(*hh));
	cr_hbuf_put(ctx, hh);
	return ret;
}

/**
 * cr_write_tail() - write the tail record of an image
 * @ctx: the checkpoint.
 *
 * Return: 0, or a negative errno.
 */
int cr_write_tail(struct cr_ctx *ctx)
{
	struct cr_hdr_tail *th;
	int ret;

	th = cr_hbuf_get(ctx, sizeof(*th));
	if (!th)
		return -ENOMEM;
	th->magic = CR_TAIL_MAGIC;
	th->csum = ~ctx->crc;
	th->nr_records = ctx->nr_records;
	th->length = ctx->total;
	ret = cr_write_rec(ctx, th, CR_HDR_TAIL, sizeof(*th));
	cr_hbuf_put(ctx, th);
	return ret;
}

/**
 * cr_write_task_section() - write the records of one task
 * @ctx: the checkpoint; @ctx->task is the task, checked by cr_check_task().
 *
 * Return: 0, or a negative errno.
 */
int cr_write_task_section(struct cr_ctx *ctx)
{
	return cr_write_task(ctx) ?: cr_write_cpu(ctx) ?:
	       cr_write_files(ctx) ?: cr_write_mm(ctx);
}

/**
 * cr_do_checkpoint() - write an image
 * @ctx: the checkpoint.
 *
 * The tail is written only if the task stayed stopped all along: an image
 * without its tail is refused by restart.
 *
 * Return: 0, or a negative errno.
 */
int cr_do_checkpoint(struct cr_ctx *ctx)
{
	return cr_check_task(ctx) ?: cr_write_header(ctx) ?:
	       cr_write_task_section(ctx) ?: cr_check_still_stopped(ctx) ?:
	       cr_write_tail(ctx);
}
