/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel checkpoint/restart: the context of one operation and the
 * helpers every part of the subsystem uses to write and read records.
 *
 * See Documentation/checkpoint/design.rst.
 */

#ifndef _LINUX_CHECKPOINT_H
#define _LINUX_CHECKPOINT_H

#include <linux/types.h>
#include <linux/checkpoint_hdr.h>

struct file;

/* Flags of checkpoint(2) and restart(2) the kernel knows; none yet */
#define CR_CHECKPOINT_FLAGS	0UL
#define CR_RESTART_FLAGS	0UL

/* Size of the message explaining why an operation failed */
#define CR_MSG_LEN		256

/**
 * struct cr_ctx - state of one checkpoint or restart operation
 * @crid: checkpoint id: the one allocated by checkpoint, or the one read
 *        from the image by restart.
 * @flags: flags given to the system call.
 * @restart: true for restart, false for checkpoint.
 * @file: where the image is written to or read from.
 * @ppos: position in @file, or %NULL for stream files such as pipes.
 * @total: bytes written or read so far.
 * @nr_records: records written or read so far.
 * @crc: running CRC-32 of the bytes written or read so far.
 * @hbuf: header buffer records are built in (see cr_hbuf_get()).
 * @hpos: bytes of @hbuf in use.
 * @err: first error of the operation, or 0.
 * @msg: what failed, when @err is set and the failure has a reason to
 *       give beyond its errno.
 */
struct cr_ctx {
	int crid;
	unsigned long flags;
	bool restart;
	struct file *file;
	loff_t *ppos;
	u64 total;
	u64 nr_records;
	u32 crc;
	void *hbuf;
	unsigned int hpos;
	int err;
	char msg[CR_MSG_LEN];
};

/* sys.c */
__printf(3, 4)
int cr_err(struct cr_ctx *ctx, int err, const char *fmt, ...);
void *cr_hbuf_get(struct cr_ctx *ctx, size_t len);
void cr_hbuf_put(struct cr_ctx *ctx, void *ptr);

/* io.c: the only output and input paths of an image */
int cr_write(struct cr_ctx *ctx, const void *buf, size_t len);
int cr_write_rec(struct cr_ctx *ctx, void *rec, u32 type, u32 len);
int cr_read(struct cr_ctx *ctx, void *buf, size_t len);
int cr_read_hdr(struct cr_ctx *ctx, struct cr_hdr *h);
int cr_read_payload(struct cr_ctx *ctx, const struct cr_hdr *h, void *rec,
		    u32 len);
int cr_read_rec(struct cr_ctx *ctx, void *rec, u32 type, u32 len);
int cr_read_buf(struct cr_ctx *ctx, u32 type, void *buf, u32 max);
int cr_read_string(struct cr_ctx *ctx, u32 type, char *str, u32 max);
int cr_read_eof(struct cr_ctx *ctx);

/* checkpoint.c and restart.c */
int cr_do_checkpoint(struct cr_ctx *ctx);
int cr_do_restart(struct cr_ctx *ctx);
void cr_fill_const(struct cr_const *c);

#endif /* _LINUX_CHECKPOINT_H */
