// SPDX-License-Identifier: GPL-2.0
/*
 * Restart: the walk that reads an image.
 */

#include <linux/checkpoint.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/stddef.h>
#include <linux/string.h>

#define CONST_FIELD(f) { #f, offsetof(struct cr_const, f) }

static const struct {
	const char *name;
	size_t offset;
} const_fields[] = {
	CONST_FIELD(task_comm_len),
	CONST_FIELD(nsig),
	CONST_FIELD(uts_len),
	CONST_FIELD(rlim_nlimits),
	CONST_FIELD(ngroups_max),
	CONST_FIELD(path_max),
};

static int check_const(struct cr_ctx *ctx, const struct cr_const *c)
{
	struct cr_const here;
	u32 want, got;
	int i;

	cr_fill_const(&here);
	for (i = 0; i < ARRAY_SIZE(const_fields); i++) {
		want = *(u32 *)((void *)&here + const_fields[i].offset);
		got = *(u32 *)((void *)c + const_fields[i].offset);
		if (want != got)
			return cr_err(ctx, -EOPNOTSUPP,
				      "image has %s %u, this kernel %u",
				      const_fields[i].name, got, want);
	}
	return 0;
}

static int check_release(struct cr_ctx *ctx, const u8 *release)
{
	size_t len = strnlen(release, CR_RELEASE_LEN);

	if (len == CR_RELEASE_LEN)
		return cr_err(ctx, -EINVAL, "kernel release is not NUL-terminated");
	if (memchr_inv(release + len, 0, CR_RELEASE_LEN - len))
		return cr_err(ctx, -EINVAL, "kernel release is not NUL-padded");
	return 0;
}

/* What the image must match to be restarted by this kernel */
static int check_compat(struct cr_ctx *ctx, const struct cr_hdr_header *hh)
{
	if (hh->version != CR_IMAGE_VERSION)
		return cr_err(ctx, -EOPNOTSUPP,
			      "image format version %u, this kernel reads %u",
			      hh->version, CR_IMAGE_VERSION);
	if (hh->arch != CR_ARCH)
		return cr_err(ctx, -EOPNOTSUPP,
			      "image of architecture %u, this kernel is %u",
			      hh->arch, CR_ARCH);
	if (hh->page_size != PAGE_SIZE)
		return cr_err(ctx, -EOPNOTSUPP,
			      "image page size %u, this kernel %lu",
			      hh->page_size, PAGE_SIZE);
	return check_const(ctx, &hh->consts);
}

static int check_header(struct cr_ctx *ctx, const struct cr_hdr_header *hh)
{
	int ret;

	if (hh->magic != CR_IMAGE_MAGIC)
		return cr_err(ctx, -EINVAL, "not a checkpoint image (magic %#x)",
			      hh->magic);
	ret = check_compat(ctx, hh);
	if (ret)
		return ret;
	if (hh->flags & ~CR_CHECKPOINT_FLAGS)
		return cr_err(ctx, -EINVAL, "unknown checkpoint flags %#x",
			      hh->flags);
	if (memchr_inv(hh->pad, 0, sizeof(hh->pad)) ||
	    memchr_inv(hh->consts.reserved, 0, sizeof(hh->consts.reserved)) ||
	    memchr_inv(hh->reserved, 0, sizeof(hh->reserved)))
		return cr_err(ctx, -EINVAL, "reserved header fields are not zero");
	ret = check_release(ctx, hh->release);
	if (ret)
		return ret;
	if (hh->crid <= 0)
		return cr_err(ctx, -EINVAL, "bad checkpoint id %d", hh->crid);
	if (ctx->crid && ctx->crid != hh->crid)
		return cr_err(ctx, -EINVAL, "image has checkpoint id %d, not %d",
			      hh->crid, ctx->crid);
	return 0;
}

static int read_header(struct cr_ctx *ctx)
{
	struct cr_hdr_header *hh;
	int ret;

	hh = cr_hbuf_get(ctx, sizeof(*hh));
	if (!hh)
		return -ENOMEM;
	ret = cr_read_rec(ctx, hh, CR_HDR_HEADER, sizeof(*hh));
	if (!ret)
		ret = check_header(ctx, hh);
	if (!ret) {
		ctx->crid = hh->crid;
		ctx->image_flags = hh->flags;
	}
	cr_hbuf_put(ctx, hh);
	return ret;
}

/*
 * The tail must describe what came before it: @crc, @total and @nr are the
 * checksum, length and record count of the image up to the tail; @crc is
 * not looked at unless @check_crc.
 */
static int read_tail(struct cr_ctx *ctx, const struct cr_hdr *h, u32 crc,
		     u64 total, u64 nr, bool check_crc)
{
	struct cr_hdr_tail *th;
	int ret;

	th = cr_hbuf_get(ctx, sizeof(*th));
	if (!th)
		return -ENOMEM;
	ret = cr_read_payload(ctx, h, th, sizeof(*th));
	if (ret)
		goto out;
	if (th->magic != CR_TAIL_MAGIC)
		ret = cr_err(ctx, -EINVAL, "bad tail magic %#x", th->magic);
	else if (th->nr_records != nr || th->length != total)
		ret = cr_err(ctx, -EINVAL,
			     "tail counts %llu records in %llu bytes, image has %llu in %llu",
			     th->nr_records, th->length, nr, total);
	else if (check_crc && th->csum != ~crc)
		ret = cr_err(ctx, -EBADMSG, "image checksum %#x, tail says %#x",
			     ~crc, th->csum);
out:
	cr_hbuf_put(ctx, th);
	return ret;
}

/**
 * cr_mark() - note where the stream is
 * @ctx: the restart.
 * @m: where to note it.
 */
void cr_mark(struct cr_ctx *ctx, struct cr_mark *m)
{
	m->crc = ctx->crc;
	m->total = ctx->total;
	m->nr = ctx->nr_records;
}

/**
 * cr_read_end() - read the tail, and check nothing follows it
 * @ctx: the restart.
 * @h: the header of the tail, already read.
 * @m: where the stream was before @h.
 *
 * Return: 0, -EINVAL or -EBADMSG (with a message) if the tail does not
 * describe the image, or another negative errno.
 */
int cr_read_end(struct cr_ctx *ctx, const struct cr_hdr *h,
		const struct cr_mark *m)
{
	return read_tail(ctx, h, m->crc, m->total, m->nr, true) ?:
	       cr_read_eof(ctx);
}

/**
 * cr_restart_memory() - replace the caller's memory with a task's
 * @ctx: the restart, after cr_restart_read_task().
 * @h: where to put the header of the record after the pages.
 * @m: where to note where the stream was before that header.
 *
 * Context: after the point of no return of the caller.
 * Return: 0, or a negative errno.
 */
int cr_restart_memory(struct cr_ctx *ctx, struct cr_hdr *h, struct cr_mark *m)
{
	int ret;

	ret = cr_restore_mm(ctx);
	while (!ret) {
		cr_mark(ctx, m);
		ret = cr_read_hdr(ctx, h);
		if (ret)
			break;
		if (h->type == CR_HDR_PAGES)
			ret = cr_restore_pages(ctx, h);
		else if (h->type == CR_HDR_COW_PAGES)
			ret = cr_restore_cow_pages(ctx, h);
		else
			return cr_restore_pages_done(ctx);
	}
	return ret;
}

/**
 * cr_restart_finish() - restore what a task has besides its memory
 * @ctx: the restart, after cr_restart_memory().
 * @ax: where to put the value the caller must return to user space.
 *
 * The descriptor table comes before the resource limits of the image; a
 * thread shares its process's, a process of a tree its parent's with
 * %CR_SHARE_FILES.
 *
 * Context: after the point of no return of the caller.
 * Return: 0, or a negative errno.
 */
int cr_restart_finish(struct cr_ctx *ctx, long *ax)
{
	int ret;

	ret = (ctx->share & CR_SHARE_FILES ? 0 : cr_restore_files(ctx)) ?:
	      cr_restore_task(ctx) ?: cr_restore_cpu(ctx, ax);
	if (!ret)
		cr_restore_restart_block(ctx);
	return ret;
}

/* After the point of no return: memory and pages, tail, then the rest */
static int restore(struct cr_ctx *ctx, long *ax)
{
	struct cr_hdr h;
	struct cr_mark m;
	int ret;

	ret = cr_restart_memory(ctx, &h, &m);
	if (ret)
		return ret;
	if (h.type != CR_HDR_TAIL)
		return cr_err(ctx, -EINVAL, "unexpected %u record at byte %llu",
			      h.type, m.total);
	return cr_read_end(ctx, &h, &m) ?: cr_restart_finish(ctx, ax);
}

/**
 * cr_check_tail_at_end() - check an image in a regular file has its tail
 * @ctx: the restart, after the header.
 *
 * An image a failed checkpoint left, or one cut short, has no tail.  The
 * pages and the tail are read after the point of no return, where a
 * missing byte kills the caller: in a regular file, look for the tail at
 * the end before.  Its checksum can only be checked once all is read; a
 * stream (a pipe) cannot be looked ahead in.
 *
 * Return: 0, or -EINVAL with a message.
 */
int cr_check_tail_at_end(struct cr_ctx *ctx)
{
	struct inode *inode = file_inode(ctx->file);
	struct cr_hdr_tail th;
	loff_t start, size, pos;
	ssize_t n;

	if (!ctx->ppos || !S_ISREG(inode->i_mode))
		return 0;
	start = *ctx->ppos - ctx->total;
	size = i_size_read(inode);
	pos = size - sizeof(th);
	if (pos < *ctx->ppos)
		return cr_err(ctx, -EINVAL, "image truncated: it ends at byte %lld",
			      size - start);
	n = kernel_read(ctx->file, &th, sizeof(th), &pos);
	if (n < 0)
		return cr_err(ctx, n, "reading the tail of the image failed");
	if (n != sizeof(th) || th.h.type != CR_HDR_TAIL ||
	    th.h.len != sizeof(th) || th.magic != CR_TAIL_MAGIC ||
	    th.length != size - start - sizeof(th))
		return cr_err(ctx, -EINVAL,
			      "image truncated: no tail at its end, byte %lld",
			      size - start - (loff_t)sizeof(th));
	return 0;
}

/**
 * cr_restart_read_task() - read and check a task's records but its pages
 * @ctx: the restart.
 * @h: the header of its %CR_HDR_TASK record, already read.
 *
 * Changes nothing of the caller.
 *
 * Return: 0, or a negative errno.
 */
int cr_restart_read_task(struct cr_ctx *ctx, const struct cr_hdr *h)
{
	int ret;

	ret = cr_check_caller(ctx) ?: cr_read_task(ctx, h) ?: cr_read_cpu(ctx) ?:
	      (ctx->share & CR_SHARE_FILES ? 0 : cr_read_files(ctx)) ?:
	      cr_read_mm(ctx);
	if (ret)
		return ret;

	/*
	 * Reading the image may have taken long: what the caller must not
	 * have (a pending signal, another thread...) is checked again, and
	 * what restoring will need of the system.
	 */
	return cr_check_caller(ctx) ?: cr_check_task_limits(ctx);
}

/**
 * cr_restart_read_thread() - read and check a thread's records
 * @ctx: the restart of a thread of a tree, or of a process that shares
 *       its parent's address space (%CR_SHARE_VM), whose descriptor table
 *       is read unless it shares that too.
 * @h: the header of its %CR_HDR_TASK record, already read; then the
 *     header of the record after the thread's.
 * @m: where to note where the stream was before that header.
 *
 * Return: 0, or a negative errno.
 */
int cr_restart_read_thread(struct cr_ctx *ctx, struct cr_hdr *h,
			   struct cr_mark *m)
{
	int ret;

	ret = cr_read_task(ctx, h) ?: cr_read_cpu(ctx) ?:
	      (ctx->share & CR_SHARE_FILES ? 0 : cr_read_files(ctx)) ?:
	      cr_check_task_limits(ctx);
	if (ret)
		return ret;
	cr_mark(ctx, m);
	return cr_read_hdr(ctx, h);
}

/*
 * What is read after the point of no return, the pages and the tail, is
 * walked ahead in an image in a regular file: the pages records and their
 * addresses, the tail and its counts, the end of the file.  A bad one is
 * so refused with an errno, the caller left as it was.  Only the checksum
 * is left for after, as the bytes of the pages are passed over (reading
 * them twice would double the time of a restart); and every check, for an
 * image read from a pipe.
 */
static int check_ahead(struct cr_ctx *ctx)
{
	struct cr_mark start, m;
	struct cr_hdr h;
	loff_t pos;
	int ret;

	if (!ctx->ppos || !S_ISREG(file_inode(ctx->file)->i_mode))
		return 0;
	pos = *ctx->ppos;
	cr_mark(ctx, &start);
	ret = cr_check_pages_ahead(ctx, &h, &m);
	if (!ret && h.type != CR_HDR_TAIL)
		ret = cr_err(ctx, -EINVAL, "unexpected %u record at byte %llu",
			     h.type, m.total);
	if (!ret)
		ret = read_tail(ctx, &h, m.crc, m.total, m.nr, false) ?:
		      cr_read_eof(ctx);
	*ctx->ppos = pos;
	ctx->crc = start.crc;
	ctx->total = start.total;
	ctx->nr_records = start.nr;
	return ret;
}

/*
 * Read and check everything but the memory contents, then replace the
 * caller.  Up to the point of no return an error leaves the caller as it
 * was; after it, the caller is killed.
 */
static long restart_task(struct cr_ctx *ctx, const struct cr_hdr *h)
{
	long ax = 0;
	int ret;

	/* The caller is checked again after the look ahead, which reads */
	ret = cr_check_tail_at_end(ctx) ?: cr_restart_read_task(ctx, h) ?:
	      check_ahead(ctx) ?: cr_check_caller(ctx);
	if (ret)
		return ret;

	/* The point of no return */
	ctx->replaced = true;
	ret = restore(ctx, &ax);
	if (ret) {
		force_sig(SIGKILL);
		return ret;
	}
	return ax;
}

/**
 * cr_do_restart() - read an image and become its task
 * @ctx: the restart; @ctx->crid is the checkpoint id asked for, or 0.
 *
 * An image without a task, a header and a tail, is only checked.
 *
 * Return: the value of the restored task's register ax, 0 for an image
 * without a task, or a negative errno.
 */
long cr_do_restart(struct cr_ctx *ctx)
{
	struct cr_hdr h;
	struct cr_mark m;
	long ret;

	ret = read_header(ctx);
	if (ret)
		goto out;
	if (ctx->image_flags & CR_CHECKPOINT_TREE) {
		if (ctx->flags & CR_RESTART_TREE)
			ret = cr_restart_tree(ctx);
		else
			ret = cr_err(ctx, -EINVAL,
				     "the image holds a process tree: restart it with CR_RESTART_TREE");
		goto out;
	}
	if (ctx->flags & CR_RESTART_TREE) {
		ret = cr_err(ctx, -EINVAL,
			     "CR_RESTART_TREE, but the image holds one task");
		goto out;
	}
	cr_mark(ctx, &m);
	ret = cr_read_hdr(ctx, &h);
	if (ret)
		goto out;
	if (h.type == CR_HDR_TAIL)
		ret = cr_read_end(ctx, &h, &m);
	else if (h.type == CR_HDR_TASK)
		ret = restart_task(ctx, &h);
	else
		ret = cr_err(ctx, -EINVAL, "unexpected record type %u at byte %llu",
			     h.type, m.total);
out:
	cr_free_mm(ctx);
	cr_free_files(ctx);
	cr_free_cpu(ctx);
	cr_free_signals(ctx);
	cr_free_task(ctx);
	return ret;
}
