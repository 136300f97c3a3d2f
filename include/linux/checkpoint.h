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

struct cred;
struct file;
struct mm_struct;
struct task_struct;
struct cr_cpu_state;
struct cr_files_state;
struct cr_mm_state;
struct cr_task_state;
struct cr_signal_state;
struct cr_tree;

/* Flags of checkpoint(2) and restart(2) the kernel knows */
#define CR_CHECKPOINT_FLAGS	((unsigned long)CR_CHECKPOINT_TREE)
#define CR_RESTART_FLAGS	((unsigned long)(CR_RESTART_INHERIT_FD0 | \
						 CR_RESTART_INHERIT_FD1 | \
						 CR_RESTART_INHERIT_FD2 | \
						 CR_RESTART_TREE | \
						 CR_RESTART_NEW_PIDS))

/* Size of the message explaining why an operation failed */
#define CR_MSG_LEN		256

/**
 * struct cr_ctx - state of one checkpoint or restart operation
 * @crid: checkpoint id: the one allocated by checkpoint, or the one read
 *        from the image by restart.
 * @flags: flags given to the system call.
 * @restart: true for restart, false for checkpoint.
 * @file: where the image is written to or read from.
 * @log: where to say why the operation failed (%CR_FLAG_LOGFD), or %NULL.
 * @ppos: position in @file, or %NULL for stream files such as pipes.
 * @total: bytes written or read so far.
 * @nr_records: records written or read so far.
 * @crc: running CRC-32 of the bytes written or read so far.
 * @hbuf: header buffer records are built in (see cr_hbuf_get()).
 * @hpos: bytes of @hbuf in use.
 * @task: the task checkpointed; on restart, the caller.
 * @cpu: registers read from the image, until restored (restart).
 * @files: open files read from the image, until restored (restart).
 * @mm: address space read from the image, until restored (restart).
 * @ts: task state read from the image, until restored (restart).
 * @ncsw: context switch count of the task when checkpoint found it
 *        stopped (see wait_task_inactive()); 0 for the caller itself.
 * @sig: signal state read from the image, until restored (restart).
 * @replaced: the caller was replaced by the task of the image (restart).
 * @tree: the tasks of a tree being checkpointed or restarted, or %NULL.
 * @thread: the task restarted is a thread of a process of a tree, but
 *          its first.
 * @share: CR_SHARE_* tables the task restarted shares with the task that
 *         created it, which restores them: all for a thread (restart of a
 *         tree).
 * @image_flags: the flags the image was taken with (restart).
 * @cow_parent: the parent, in the tree, of the process being saved, whose
 *              pages it may share copy-on-write, or %NULL (checkpoint).
 * @forked: the process being restarted was created by its restored
 *          parent and starts with a copy of its address space (restart).
 * @groups: the thread groups (&struct signal_struct) the checkpoint
 *          saves, sorted, once it holds them (see cr_hold_groups()), or
 *          %NULL.
 * @nr_groups: number of @groups.
 * @busy: in the list of the checkpoints that hold their @groups.
 * @err: first error of the operation, or 0.
 * @msg: what failed, when @err is set and the failure has a reason to
 *       give beyond its errno.
 */
struct cr_ctx {
	int crid;
	unsigned long flags;
	bool restart;
	struct file *file;
	struct file *log;
	loff_t *ppos;
	u64 total;
	u64 nr_records;
	u32 crc;
	void *hbuf;
	unsigned int hpos;
	struct task_struct *task;
	struct cr_cpu_state *cpu;
	struct cr_files_state *files;
	struct cr_mm_state *mm;
	struct cr_task_state *ts;
	unsigned long ncsw;
	struct cr_signal_state *sig;
	bool replaced;
	struct cr_tree *tree;
	bool thread;
	u32 share;
	u32 image_flags;
	struct task_struct *cow_parent;
	bool forked;
	const void **groups;
	unsigned int nr_groups;
	struct list_head busy;
	int err;
	char msg[CR_MSG_LEN];
};

/* sys.c */
__printf(3, 4)
int cr_err(struct cr_ctx *ctx, int err, const char *fmt, ...);
void *cr_hbuf_get(struct cr_ctx *ctx, size_t len);
void cr_hbuf_put(struct cr_ctx *ctx, void *ptr);
int cr_check_still_stopped(struct cr_ctx *ctx);
int cr_grab_task(struct cr_ctx *ctx, struct task_struct *task,
		 unsigned long *ncsw);
struct cr_ctx *cr_ctx_alloc_task(const struct cr_ctx *coord);
int cr_hold_groups(struct cr_ctx *ctx, const void **groups,
		   unsigned int nr);
void cr_ctx_free_task(struct cr_ctx *ctx);

/* io.c: the only output and input paths of an image */
int cr_write(struct cr_ctx *ctx, const void *buf, size_t len);
int cr_write_rec(struct cr_ctx *ctx, void *rec, u32 type, u32 len);
int cr_write_rec_begin(struct cr_ctx *ctx, void *rec, u32 type, u32 len,
		       u32 extra);
int cr_write_rec_end(struct cr_ctx *ctx, u32 len);
int cr_write_string(struct cr_ctx *ctx, u32 type, const char *str);
int cr_read(struct cr_ctx *ctx, void *buf, size_t len);
int cr_read_hdr(struct cr_ctx *ctx, struct cr_hdr *h);
int cr_read_payload(struct cr_ctx *ctx, const struct cr_hdr *h, void *rec,
		    u32 len);
int cr_read_rec(struct cr_ctx *ctx, void *rec, u32 type, u32 len);
int cr_read_rec_ext(struct cr_ctx *ctx, void *rec, u32 type, u32 len,
		    u32 *extra);
int cr_read_rec_end(struct cr_ctx *ctx, u32 len);
int cr_read_buf(struct cr_ctx *ctx, u32 type, void *buf, u32 max);
int cr_read_string(struct cr_ctx *ctx, u32 type, char *str, u32 max);
int cr_read_eof(struct cr_ctx *ctx);
int cr_skip(struct cr_ctx *ctx, u64 len);
int cr_check_left(struct cr_ctx *ctx, u64 len, const char *what);

/**
 * struct cr_mark - where the stream of an image was before a record
 * @crc: running CRC-32 of the bytes before it.
 * @total: bytes before it.
 * @nr: records before it.
 *
 * What the tail must describe, when the record is the tail.
 */
struct cr_mark {
	u32 crc;
	u64 total;
	u64 nr;
};

/*
 * checkpoint.c and restart.c: the walks.  One task's part of an image is
 * written by cr_write_task_section(); on restart, cr_restart_read_task()
 * reads and checks it but for its pages, cr_restart_memory() replaces the
 * caller's memory and reads the pages, leaving in @h the header of the
 * record after them, read at @m, and cr_restart_finish() restores the
 * rest.  cr_restart_read_thread() reads the part of a thread that is not
 * its process's (its task, signal and cpu records), then the header of
 * the next record.  cr_read_end() reads the tail, whose header @h was read
 * at @m.
 */
int cr_do_checkpoint(struct cr_ctx *ctx);
int cr_write_header(struct cr_ctx *ctx);
int cr_write_task_section(struct cr_ctx *ctx);
int cr_write_tail(struct cr_ctx *ctx);
long cr_do_restart(struct cr_ctx *ctx);
int cr_restart_read_task(struct cr_ctx *ctx, const struct cr_hdr *h);
int cr_restart_read_thread(struct cr_ctx *ctx, struct cr_hdr *h,
			   struct cr_mark *m);
int cr_restart_memory(struct cr_ctx *ctx, struct cr_hdr *h,
		      struct cr_mark *m);
int cr_restart_finish(struct cr_ctx *ctx, long *ax);
int cr_read_end(struct cr_ctx *ctx, const struct cr_hdr *h,
		const struct cr_mark *m);
void cr_mark(struct cr_ctx *ctx, struct cr_mark *m);
int cr_check_tail_at_end(struct cr_ctx *ctx);
void cr_fill_const(struct cr_const *c);

/*
 * tree.c: process trees.  cr_checkpoint_tree() writes the image of
 * ctx->task and its descendants; cr_restart_tree() creates and restores
 * the tasks of such an image, after its header.
 */
int cr_checkpoint_tree(struct cr_ctx *ctx);
long cr_restart_tree(struct cr_ctx *ctx);
u32 cr_tree_charge_signals(struct cr_ctx *ctx, u32 n);

/* Types of the objects the tasks of a tree share */
#define CR_OBJ_FILE	1	/* an open file */
#define CR_OBJ_PIPE	2	/* a pipe */
#define CR_OBJ_SHMEM	3	/* a shared anonymous memory object */
#define CR_OBJ_MM	4	/* an address space (checkpoint) */
#define CR_OBJ_FDT	5	/* a descriptor table (checkpoint) */
#define CR_OBJ_FS	6	/* an fs_struct (checkpoint) */
#define CR_OBJ_SIGHAND	7	/* signal handlers (checkpoint) */
#define CR_OBJ_FIFO	8	/* the pipe of a FIFO (restart) */

/**
 * struct cr_obj - an object the tasks of a tree share
 * @node: in the hash of the objects of a checkpoint, by @ptr.
 * @ptr: the object (checkpoint): a struct file, a struct pipe_inode_info,
 *       a struct mm_struct, files_struct, fs_struct or sighand_struct.
 * @file: the file, with a reference; on restart, the read end of a pipe,
 *        the file of shared memory, the holder of a FIFO (open for
 *        reading and writing, which keeps its data until every file of
 *        the tree is open).
 * @wend: the write end of a pipe, with a reference (restart).
 * @type: CR_OBJ_*.
 * @id: its id in the image; 0 until it is written (checkpoint).
 * @users: what holds it in the tree (checkpoint): descriptors and memory
 *         areas for a file, files for a pipe, tasks for an address space,
 *         a descriptor table, an fs_struct or signal handlers.
 * @size: the capacity of a pipe, the size of shared memory (restart).
 * @ends: the ends of a pipe given to a file so far, as bits 0 (read) and
 *        1 (write) (restart).
 */
struct cr_obj {
	struct hlist_node node;
	const void *ptr;
	struct file *file;
	struct file *wend;
	u32 type;
	u32 id;
	u32 users;
	u64 size;
	u32 ends;
};

/*
 * tree.c: the objects.  On checkpoint, cr_obj_track() finds or adds the
 * object at an address, cr_obj_find() finds it, cr_obj_number() gives it
 * its id when first written.  On restart, cr_obj_define() adds the object
 * of a new id (cr_obj_is_new()), cr_obj_get() finds one defined before.
 */
struct cr_obj *cr_obj_find(struct cr_ctx *ctx, const void *ptr);
struct cr_obj *cr_obj_track(struct cr_ctx *ctx, const void *ptr,
			    struct file *file, u32 type);
void cr_obj_number(struct cr_ctx *ctx, struct cr_obj *obj);
bool cr_obj_is_new(struct cr_ctx *ctx, u32 id);
struct cr_obj *cr_obj_define(struct cr_ctx *ctx, u32 id, u32 type);
struct cr_obj *cr_obj_get(struct cr_ctx *ctx, u32 id, u32 type);

/*
 * process.c: the task.  cr_check_task() refuses (-EBUSY, -EOPNOTSUPP, with
 * a message) a task whose state cannot be saved yet; cr_write_task() writes
 * its task, credentials, cwd and signal disposition records.  On restart,
 * cr_check_caller() checks the caller can be replaced, cr_read_task() reads
 * and checks those records (the first, whose header @h the caller read)
 * into ctx->ts before the point of no return, cr_check_task_limits()
 * checks right before it what restoring them will need,
 * cr_restore_task() applies them after it, and cr_free_task() frees
 * ctx->ts.  cr_mm_tasks() counts the tasks that run in an address space.
 */
int cr_mm_tasks(const struct mm_struct *mm);
int cr_check_task(struct cr_ctx *ctx);
int cr_write_task(struct cr_ctx *ctx);
int cr_check_caller(struct cr_ctx *ctx);
int cr_read_task(struct cr_ctx *ctx, const struct cr_hdr *h);
int cr_check_task_limits(struct cr_ctx *ctx);
int cr_restore_task(struct cr_ctx *ctx);
void cr_free_task(struct cr_ctx *ctx);

/*
 * creds.c: credentials.  cr_write_creds() writes the CR_HDR_CREDS record of
 * ctx->task; cr_read_creds() reads it and builds the credentials the
 * caller may set, before the point of no return; cr_commit_creds() makes
 * them the caller's after it.
 */
int cr_write_creds(struct cr_ctx *ctx);
int cr_read_creds(struct cr_ctx *ctx, struct cred **credp);
void cr_commit_creds(struct cred **credp);

/*
 * signal.c: pending signals, sigaltstack, itimers and restart block.
 *
 * cr_check_signals() refuses (from cr_check_task()) what cannot be saved;
 * cr_write_signals() writes the CR_HDR_SIGNAL, CR_HDR_SIGINFO and
 * CR_HDR_RESTART_BLOCK records after the task's (from cr_write_task()).
 * cr_read_signals() reads and checks them into ctx->sig before the point of
 * no return (from cr_read_task()); cr_check_signal_limits() checks what
 * queueing them needs (from cr_check_task_limits()); cr_restore_signals()
 * applies them after
 * it (from cr_restore_task()), cr_restore_restart_block() once the
 * registers are restored, and cr_free_signals() frees ctx->sig.
 */
int cr_check_signals(struct cr_ctx *ctx);
int cr_write_signals(struct cr_ctx *ctx);
int cr_read_signals(struct cr_ctx *ctx);
int cr_check_signal_limits(struct cr_ctx *ctx, u32 *charged);
int cr_restore_signals(struct cr_ctx *ctx);
void cr_restore_restart_block(struct cr_ctx *ctx);
void cr_free_signals(struct cr_ctx *ctx);

/*
 * arch/x86/kernel/checkpoint.c: registers and extended state.
 *
 * cr_write_cpu() writes the CR_HDR_CPU and CR_HDR_XSTATE records of
 * ctx->task, which is the caller or a stopped task.  cr_read_cpu() reads and
 * validates them into ctx->cpu, before the point of no return; it changes
 * nothing.  cr_restore_cpu() makes them the caller's, after the point of no
 * return, and gives in @ax the value the restart system call returns (the
 * saved ax).  cr_free_cpu() frees ctx->cpu.
 */
int cr_write_cpu(struct cr_ctx *ctx);
int cr_read_cpu(struct cr_ctx *ctx);
int cr_restore_cpu(struct cr_ctx *ctx, long *ax);
void cr_free_cpu(struct cr_ctx *ctx);

/*
 * files.c: the file descriptor table.
 *
 * cr_write_files() writes the CR_HDR_FILES, CR_HDR_FD, CR_HDR_FILE and
 * CR_HDR_FILE_PATH records of ctx->task; it refuses (-EOPNOTSUPP or -EBUSY,
 * with a message naming the descriptor) a file it cannot save, but for
 * descriptors 0-2, which it records as given by the caller of restart.
 * cr_read_files() reads and checks them into ctx->files, and reopens the
 * files with the caller's credentials, before the point of no return; it
 * changes nothing.  cr_restore_files() makes them the caller's descriptor
 * table, after the point of no return.  cr_free_files() frees ctx->files.
 */
int cr_write_files(struct cr_ctx *ctx);
int cr_scan_files(struct cr_ctx *ctx);
int cr_scan_maps(struct cr_ctx *ctx);
int cr_read_files(struct cr_ctx *ctx);
int cr_restore_files(struct cr_ctx *ctx);
void cr_free_files(struct cr_ctx *ctx);

/*
 * memory.c: the address space.
 *
 * cr_write_mm() writes CR_HDR_MM, CR_HDR_EXE, the CR_HDR_VMA records (each
 * with a CR_HDR_VMA_PATH when it maps a file, a CR_HDR_SHMEM and the
 * CR_HDR_SHMEM_PAGES of its object when it maps shared memory) and the
 * CR_HDR_PAGES records of ctx->task; it refuses (-EOPNOTSUPP or -EBUSY,
 * with a message) an area it cannot save.  cr_read_mm() reads CR_HDR_MM,
 * CR_HDR_EXE and the CR_HDR_VMA records with those that follow them into
 * ctx->mm, opens the files and creates and fills the shared memory
 * objects, before the point of no return; it changes nothing of the
 * caller.  cr_restore_mm() replaces the caller's address space
 * with it, after the point of no return.  cr_restore_pages() reads one
 * CR_HDR_PAGES record, whose header @h the caller read, into the new
 * address space, cr_restore_cow_pages() one CR_HDR_COW_PAGES record, and
 * cr_restore_pages_done() ends the pages.  cr_free_mm() frees ctx->mm.
 */
int cr_write_mm(struct cr_ctx *ctx);
int cr_read_mm(struct cr_ctx *ctx);
int cr_restore_mm(struct cr_ctx *ctx);
int cr_check_pages_ahead(struct cr_ctx *ctx, struct cr_hdr *h,
			 struct cr_mark *m);
int cr_restore_pages(struct cr_ctx *ctx, const struct cr_hdr *h);
int cr_restore_cow_pages(struct cr_ctx *ctx, const struct cr_hdr *h);
int cr_restore_pages_done(struct cr_ctx *ctx);
void cr_free_mm(struct cr_ctx *ctx);

#endif /* _LINUX_CHECKPOINT_H */
