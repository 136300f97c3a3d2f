// SPDX-License-Identifier: GPL-2.0
/*
 * The only output and input paths of a checkpoint image.
 *
 * Every byte of an image goes through cr_write() or cr_read(): they keep
 * the position, the record count and the checksum, so that a buffering mode
 * (records held in kernel memory, written out after the task runs again) or
 * another transport only has to change these two functions.
 *
 * On restart the image is untrusted: a record is read into kernel memory
 * once, its length is checked against the bounds of its type before
 * anything looks at its contents, and strings are NUL-terminated here.
 */

#include <linux/checkpoint.h>
#include <linux/crc32.h>
#include <linux/errno.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/sched/signal.h>
#include <linux/string.h>

/**
 * struct rec_type - what restart accepts of one record type
 * @name: for messages.
 * @min_len: shortest valid record, header included.
 * @max_len: longest valid record, header included.
 */
struct rec_type {
	const char *name;
	u32 min_len;
	u32 max_len;
};

#define FIXED(n, s) {							\
	.name = #n, .min_len = sizeof(s), .max_len = CR_FIXED_MAX_LEN	\
}

#define PATH(n) {							\
	.name = #n, .min_len = sizeof(struct cr_hdr) + 1,		\
	.max_len = sizeof(struct cr_hdr) + CR_PATH_MAX			\
}

static const struct rec_type rec_types[] = {
	[CR_HDR_HEADER] = {
		.name = "header",
		.min_len = sizeof(struct cr_hdr_header),
		.max_len = CR_FIXED_MAX_LEN,
	},
	[CR_HDR_TAIL] = {
		.name = "tail",
		.min_len = sizeof(struct cr_hdr_tail),
		.max_len = CR_FIXED_MAX_LEN,
	},
	[CR_HDR_TASK] = FIXED(task, struct cr_hdr_task),
	[CR_HDR_CREDS] = {
		.name = "creds",
		.min_len = sizeof(struct cr_hdr_creds),
		.max_len = sizeof(struct cr_hdr_creds) + NGROUPS_MAX * sizeof(u32),
	},
	[CR_HDR_CWD] = PATH(cwd),
	[CR_HDR_ROOT] = PATH(root),
	[CR_HDR_SIGHAND] = FIXED(sighand, struct cr_hdr_sighand),
	[CR_HDR_CPU] = FIXED(cpu, struct cr_hdr_cpu),
	[CR_HDR_XSTATE] = {
		.name = "xstate",
		.min_len = sizeof(struct cr_hdr_xstate),
		.max_len = sizeof(struct cr_hdr_xstate) + CR_XSTATE_MAX,
	},
	[CR_HDR_MM] = FIXED(mm, struct cr_hdr_mm),
	[CR_HDR_EXE] = PATH(exe),
	[CR_HDR_VMA] = FIXED(vma, struct cr_hdr_vma),
	[CR_HDR_VMA_PATH] = PATH(vma path),
	[CR_HDR_PAGES] = {
		.name = "pages",
		.min_len = sizeof(struct cr_hdr_pages) + sizeof(u64) + PAGE_SIZE,
		.max_len = sizeof(struct cr_hdr_pages) +
			   CR_PAGES_MAX * (sizeof(u64) + PAGE_SIZE),
	},
	[CR_HDR_SHMEM] = FIXED(shmem, struct cr_hdr_shmem),
	[CR_HDR_SHMEM_PAGES] = {
		.name = "shmem pages",
		.min_len = sizeof(struct cr_hdr_pages) + sizeof(u64) + PAGE_SIZE,
		.max_len = sizeof(struct cr_hdr_pages) +
			   CR_PAGES_MAX * (sizeof(u64) + PAGE_SIZE),
	},
	[CR_HDR_FILES] = FIXED(files, struct cr_hdr_files),
	[CR_HDR_FD] = FIXED(fd, struct cr_hdr_fd),
	[CR_HDR_FILE] = FIXED(file, struct cr_hdr_file),
	[CR_HDR_FILE_PATH] = PATH(file path),
	[CR_HDR_SIGNAL] = FIXED(signal, struct cr_hdr_signal),
	[CR_HDR_SIGINFO] = FIXED(siginfo, struct cr_hdr_siginfo),
	[CR_HDR_RESTART_BLOCK] = FIXED(restart block, struct cr_hdr_restart_block),
	[CR_HDR_TREE] = FIXED(tree, struct cr_hdr_tree),
	[CR_HDR_PROC] = FIXED(proc, struct cr_hdr_proc),
	[CR_HDR_ZOMBIE] = FIXED(zombie, struct cr_hdr_zombie),
	[CR_HDR_UTS] = FIXED(uts, struct cr_hdr_uts),
	[CR_HDR_SHARES] = FIXED(shares, struct cr_hdr_shares),
	[CR_HDR_SHARE] = FIXED(share, struct cr_hdr_share),
	[CR_HDR_PIPE] = {
		.name = "pipe", .min_len = sizeof(struct cr_hdr_pipe),
		.max_len = sizeof(struct cr_hdr_pipe) + CR_PIPE_MAX_SIZE
	},
	[CR_HDR_COW_PAGES] = {
		.name = "cow pages",
		.min_len = sizeof(struct cr_hdr_pages) + sizeof(u64),
		.max_len = sizeof(struct cr_hdr_pages) +
			   CR_PAGES_MAX * sizeof(u64),
	},
};

static const struct rec_type *rec_type(u32 type)
{
	if (type >= ARRAY_SIZE(rec_types))
		return NULL;
	type = array_index_nospec(type, ARRAY_SIZE(rec_types));
	return rec_types[type].name ? &rec_types[type] : NULL;
}

static const char *type_name(u32 type)
{
	const struct rec_type *t = rec_type(type);

	return t ? t->name : "unknown";
}

/*
 * A partly written or read image cannot be resumed: a system call
 * interrupted by a signal is never restarted, it fails with -EINTR.
 */
static int io_errno(ssize_t n)
{
	switch (n) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		return -EINTR;
	}
	return n;
}

/**
 * cr_write() - write bytes of the image
 * @ctx: the checkpoint.
 * @buf: the bytes.
 * @len: how many.
 *
 * After the first error of @ctx nothing more is written.
 *
 * Return: 0, or a negative errno when fewer than @len bytes were written.
 */
int cr_write(struct cr_ctx *ctx, const void *buf, size_t len)
{
	const char *p = buf;
	size_t left = len;
	ssize_t n;

	if (ctx->err)
		return ctx->err;
	while (left) {
		if (fatal_signal_pending(current))
			return cr_err(ctx, -EINTR, "killed while writing");
		n = kernel_write(ctx->file, p, left, ctx->ppos);
		if (n <= 0)
			return cr_err(ctx, n ? io_errno(n) : -EIO,
				      "writing the image at byte %llu failed",
				      ctx->total + (len - left));
		p += n;
		left -= n;
	}
	ctx->crc = crc32_le(ctx->crc, buf, len);
	ctx->total += len;
	return 0;
}

/**
 * cr_write_rec_begin() - start writing a record with a payload
 * @ctx: the checkpoint.
 * @rec: the fixed part of the record, starting with a &struct cr_hdr that
 *       this fills in.
 * @type: CR_HDR_* type of the record.
 * @len: length of the fixed part, header included.
 * @extra: length of the payload the caller writes next with cr_write().
 *
 * Finish the record with cr_write_rec_end().
 *
 * Return: 0, or a negative errno.
 */
int cr_write_rec_begin(struct cr_ctx *ctx, void *rec, u32 type, u32 len,
		       u32 extra)
{
	struct cr_hdr *h = rec;
	int ret;

	if (WARN_ON_ONCE(extra > U32_MAX - CR_HDR_ALIGN - len))
		return -E2BIG;
	h->type = type;
	h->len = len + extra;
	ret = cr_write(ctx, rec, len);
	if (!ret)
		ctx->nr_records++;
	return ret;
}

/**
 * cr_write_rec_end() - write the padding that ends a record
 * @ctx: the checkpoint.
 * @len: length of the record, header and payload included.
 *
 * Return: 0, or a negative errno.
 */
int cr_write_rec_end(struct cr_ctx *ctx, u32 len)
{
	static const u8 zeros[CR_HDR_ALIGN];

	if (IS_ALIGNED(len, CR_HDR_ALIGN))
		return 0;
	return cr_write(ctx, zeros, ALIGN(len, CR_HDR_ALIGN) - len);
}

/**
 * cr_write_rec() - write a record and its padding
 * @ctx: the checkpoint.
 * @rec: the record, starting with a &struct cr_hdr that this fills in.
 * @type: CR_HDR_* type of the record.
 * @len: length of the record, header included.
 *
 * Return: 0, or a negative errno.
 */
int cr_write_rec(struct cr_ctx *ctx, void *rec, u32 type, u32 len)
{
	int ret;

	ret = cr_write_rec_begin(ctx, rec, type, len, 0);
	return ret ?: cr_write_rec_end(ctx, len);
}

/**
 * cr_write_string() - write a string record
 * @ctx: the checkpoint.
 * @type: CR_HDR_* type of the record.
 * @str: the string; the record holds its bytes without the NUL.
 *
 * Return: 0, or a negative errno.
 */
int cr_write_string(struct cr_ctx *ctx, u32 type, const char *str)
{
	struct cr_hdr h;
	size_t len = strlen(str);
	int ret;

	if (len > CR_PATH_MAX)
		return cr_err(ctx, -ENAMETOOLONG, "string of %zu bytes", len);
	ret = cr_write_rec_begin(ctx, &h, type, sizeof(h), len);
	if (!ret)
		ret = cr_write(ctx, str, len);
	return ret ?: cr_write_rec_end(ctx, sizeof(h) + len);
}

/**
 * cr_read() - read bytes of the image
 * @ctx: the restart.
 * @buf: where to put them.
 * @len: how many.
 *
 * Return: 0, -EINVAL if the image ends before @len bytes, or another
 * negative errno if reading failed.
 */
int cr_read(struct cr_ctx *ctx, void *buf, size_t len)
{
	char *p = buf;
	size_t left = len;
	ssize_t n;

	if (ctx->err)
		return ctx->err;
	while (left) {
		if (fatal_signal_pending(current))
			return cr_err(ctx, -EINTR, "killed while reading");
		n = kernel_read(ctx->file, p, left, ctx->ppos);
		if (n < 0)
			return cr_err(ctx, io_errno(n),
				      "reading the image at byte %llu failed",
				      ctx->total + (len - left));
		if (!n)
			return cr_err(ctx, -EINVAL,
				      "image truncated at byte %llu",
				      ctx->total + (len - left));
		p += n;
		left -= n;
	}
	ctx->crc = crc32_le(ctx->crc, buf, len);
	ctx->total += len;
	return 0;
}

/**
 * cr_skip() - pass over bytes of an image in a regular file
 * @ctx: the restart, reading an image in a regular file (@ctx->ppos).
 * @len: how many bytes.
 *
 * For a look ahead, whose caller puts the stream back where it was: the
 * bytes passed over are not read, so the running checksum is left behind.
 *
 * Return: 0, -EINVAL if the image ends before @len bytes, or -ESPIPE if it
 * is not in a file one can seek in.
 */
int cr_skip(struct cr_ctx *ctx, u64 len)
{
	loff_t size, left;

	if (ctx->err)
		return ctx->err;
	if (WARN_ON_ONCE(!ctx->ppos))
		return -ESPIPE;
	size = i_size_read(file_inode(ctx->file));
	left = size > *ctx->ppos ? size - *ctx->ppos : 0;
	if (len > left)
		return cr_err(ctx, -EINVAL, "image truncated at byte %llu",
			      ctx->total + left);
	*ctx->ppos += len;
	ctx->total += len;
	return 0;
}

/**
 * cr_check_left() - whether the rest of an image can hold what a count says
 * @ctx: the restart.
 * @len: the fewest bytes the records the count announces take.
 * @what: what they are, for the message.
 *
 * Called before allocating room for the records a count of the image
 * announces, so that the room is bounded by the size of the image, not only
 * by the count's limits.  The end of an image read from a stream is not
 * known: there, only those limits bound the room.
 *
 * Return: 0, or -EINVAL with a message if the image, a regular file, ends
 * before @len more bytes.
 */
int cr_check_left(struct cr_ctx *ctx, u64 len, const char *what)
{
	struct inode *inode = file_inode(ctx->file);
	loff_t size;

	if (!ctx->ppos || !S_ISREG(inode->i_mode))
		return 0;
	size = i_size_read(inode);
	if (size < *ctx->ppos || len > size - *ctx->ppos)
		return cr_err(ctx, -EINVAL,
			      "image truncated: too short for %s at byte %llu",
			      what, ctx->total);
	return 0;
}

/* Read @len bytes that must be zero; @err if one is not */
static int read_zeros(struct cr_ctx *ctx, u32 len, int err, const char *what)
{
	u8 buf[64];
	u32 n;
	int ret;

	while (len) {
		n = min_t(u32, len, sizeof(buf));
		ret = cr_read(ctx, buf, n);
		if (ret)
			return ret;
		if (memchr_inv(buf, 0, n))
			return cr_err(ctx, err, "non-zero %s before byte %llu",
				      what, ctx->total);
		len -= n;
	}
	return 0;
}

static int read_padding(struct cr_ctx *ctx, u32 len)
{
	return read_zeros(ctx, ALIGN(len, CR_HDR_ALIGN) - len, -EINVAL,
			  "record padding");
}

/**
 * cr_read_hdr() - read the header of the next record
 * @ctx: the restart.
 * @h: where to put it.
 *
 * The type must be one this kernel knows and the length within the bounds
 * of that type: the caller can trust @h->len.
 *
 * Return: 0, or a negative errno (-EINVAL for a bad type or length).
 */
int cr_read_hdr(struct cr_ctx *ctx, struct cr_hdr *h)
{
	const struct rec_type *t;
	u64 at = ctx->total;
	int ret;

	ret = cr_read(ctx, h, sizeof(*h));
	if (ret)
		return ret;
	t = rec_type(h->type);
	if (!t)
		return cr_err(ctx, -EINVAL, "unknown record type %u at byte %llu",
			      h->type, at);
	if (h->len < t->min_len || h->len > t->max_len)
		return cr_err(ctx, -EINVAL,
			      "%s record at byte %llu has length %u, not %u to %u",
			      t->name, at, h->len, t->min_len, t->max_len);
	ctx->nr_records++;
	return 0;
}

/* The header of the next record, which must be of @type */
static int read_hdr_of(struct cr_ctx *ctx, struct cr_hdr *h, u32 type)
{
	u64 at = ctx->total;
	int ret;

	ret = cr_read_hdr(ctx, h);
	if (ret)
		return ret;
	if (h->type != type)
		return cr_err(ctx, -EINVAL,
			      "expected a %s record at byte %llu, found %s",
			      type_name(type), at, type_name(h->type));
	return 0;
}

/**
 * cr_read_payload() - read the rest of a fixed-size record
 * @ctx: the restart.
 * @h: its header, as cr_read_hdr() returned it.
 * @rec: where to put the record, header included.
 * @len: size of the structure this kernel knows for the record.
 *
 * A record longer than @len (written by a kernel that knows more fields)
 * is accepted if the bytes past @len are zero.
 *
 * Return: 0, -EINVAL if the record is shorter than @len, -E2BIG if a byte
 * past @len is not zero, or another negative errno.
 */
int cr_read_payload(struct cr_ctx *ctx, const struct cr_hdr *h, void *rec,
		    u32 len)
{
	int ret;

	if (h->len < len)
		return cr_err(ctx, -EINVAL, "%s record too short: %u < %u",
			      type_name(h->type), h->len, len);
	memcpy(rec, h, sizeof(*h));
	ret = cr_read(ctx, rec + sizeof(*h), len - sizeof(*h));
	if (!ret)
		ret = read_zeros(ctx, h->len - len, -E2BIG, "unknown fields");
	if (!ret)
		ret = read_padding(ctx, h->len);
	return ret;
}

/**
 * cr_read_rec() - read a fixed-size record of a given type
 * @ctx: the restart.
 * @rec: where to put the record, header included.
 * @type: the CR_HDR_* type expected.
 * @len: size of the structure this kernel knows for @type.
 *
 * Return: 0, -EINVAL if the next record is not a valid one of @type,
 * -E2BIG if it has non-zero fields this kernel does not know, or another
 * negative errno.
 */
int cr_read_rec(struct cr_ctx *ctx, void *rec, u32 type, u32 len)
{
	struct cr_hdr h;
	int ret;

	ret = read_hdr_of(ctx, &h, type);
	if (ret)
		return ret;
	return cr_read_payload(ctx, &h, rec, len);
}

/**
 * cr_read_rec_ext() - read the fixed part of a record with a payload
 * @ctx: the restart.
 * @rec: where to put the fixed part, header included.
 * @type: the CR_HDR_* type expected.
 * @len: length of the fixed part, header included.
 * @extra: where to put the length of the payload that follows.
 *
 * The caller reads the @extra bytes of payload with cr_read(), then ends
 * the record with cr_read_rec_end().
 *
 * Return: 0, -EINVAL if the next record is not of @type or shorter than
 * @len, or another negative errno.
 */
int cr_read_rec_ext(struct cr_ctx *ctx, void *rec, u32 type, u32 len,
		    u32 *extra)
{
	struct cr_hdr h;
	int ret;

	ret = read_hdr_of(ctx, &h, type);
	if (ret)
		return ret;
	if (h.len < len)
		return cr_err(ctx, -EINVAL, "%s record too short: %u < %u",
			      type_name(type), h.len, len);
	memcpy(rec, &h, sizeof(h));
	*extra = h.len - len;
	return cr_read(ctx, rec + sizeof(h), len - sizeof(h));
}

/**
 * cr_read_rec_end() - read the padding that ends a record
 * @ctx: the restart.
 * @len: length of the record, as its header gives it.
 *
 * Return: 0, -EINVAL if the padding is not zero, or another negative
 * errno.
 */
int cr_read_rec_end(struct cr_ctx *ctx, u32 len)
{
	return read_padding(ctx, len);
}

/**
 * cr_read_buf() - read a variable-size record of a given type
 * @ctx: the restart.
 * @type: the CR_HDR_* type expected.
 * @buf: where to put what follows the record header.
 * @max: size of @buf.
 *
 * Return: the number of bytes put in @buf, -EINVAL if the next record is
 * not of @type or does not fit in @buf, or another negative errno.
 */
int cr_read_buf(struct cr_ctx *ctx, u32 type, void *buf, u32 max)
{
	struct cr_hdr h;
	u64 at = ctx->total;
	u32 len;
	int ret;

	ret = read_hdr_of(ctx, &h, type);
	if (ret)
		return ret;
	len = h.len - sizeof(h);
	if (len > max)
		return cr_err(ctx, -EINVAL, "%s record at byte %llu too long: %u > %u",
			      type_name(type), at, len, max);
	ret = cr_read(ctx, buf, len);
	if (!ret)
		ret = read_padding(ctx, h.len);
	return ret ?: len;
}

/**
 * cr_read_string() - read a string record of a given type
 * @ctx: the restart.
 * @type: the CR_HDR_* type expected.
 * @str: where to put the string.
 * @max: size of @str, the terminating NUL included.
 *
 * The record holds the bytes of the string without a NUL; @str is
 * NUL-terminated here.
 *
 * Return: the length of the string, -EINVAL if the record is not of @type,
 * is too long or holds a NUL, or another negative errno.
 */
int cr_read_string(struct cr_ctx *ctx, u32 type, char *str, u32 max)
{
	int len;

	if (WARN_ON_ONCE(!max))
		return -EINVAL;
	len = cr_read_buf(ctx, type, str, max - 1);
	if (len < 0)
		return len;
	str[len] = '\0';
	if (strlen(str) != len)
		return cr_err(ctx, -EINVAL, "%s string holds a NUL",
			      type_name(type));
	return len;
}

/**
 * cr_read_eof() - check that the image ends here
 * @ctx: the restart.
 *
 * Return: 0 at end of file, -EINVAL if more bytes follow, or another
 * negative errno.
 */
int cr_read_eof(struct cr_ctx *ctx)
{
	ssize_t n;
	u8 byte;

	if (ctx->err)
		return ctx->err;
	n = kernel_read(ctx->file, &byte, 1, ctx->ppos);
	if (n < 0)
		return cr_err(ctx, io_errno(n), "reading the image failed");
	if (n)
		return cr_err(ctx, -EINVAL, "data after the tail, at byte %llu",
			      ctx->total);
	return 0;
}
