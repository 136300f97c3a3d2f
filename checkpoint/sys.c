// SPDX-License-Identifier: GPL-2.0
/*
 * checkpoint(2) and restart(2): argument checks, the operation context,
 * its header buffer and its error reporting.
 */

#define pr_fmt(fmt) "checkpoint: " fmt

#include <linux/atomic.h>
#include <linux/build_bug.h>
#include <linux/checkpoint.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/stddef.h>
#include <linux/syscalls.h>
#include <linux/utsname.h>
#include <linux/wait.h>

/*
 * Room for the records being built at one time.  Records nest (a task
 * record is built while its header is still in use, say), so this is the
 * sum of the largest nesting, not the largest record.
 */
#define CR_HBUF_SIZE	(4 * PAGE_SIZE)

static atomic_t last_crid = ATOMIC_INIT(0);

/*
 * The checkpoints that hold their thread groups (see cr_hold_groups()),
 * and where checkpoints of the same tasks wait for them to end
 */
static DEFINE_SPINLOCK(busy_lock);
static LIST_HEAD(busy_list);
static DECLARE_WAIT_QUEUE_HEAD(busy_wq);

static void cr_build_check_abi(void)
{
	/* The image format must not depend on the compiler or the arch */
	BUILD_BUG_ON(sizeof(struct cr_hdr) != 8);
	BUILD_BUG_ON(offsetof(struct cr_hdr, len) != 4);

	BUILD_BUG_ON(sizeof(struct cr_const) != 32);
	BUILD_BUG_ON(offsetof(struct cr_const, reserved) != 24);

	BUILD_BUG_ON(sizeof(struct cr_hdr_header) != 160);
	BUILD_BUG_ON(offsetof(struct cr_hdr_header, magic) != 8);
	BUILD_BUG_ON(offsetof(struct cr_hdr_header, crid) != 28);
	BUILD_BUG_ON(offsetof(struct cr_hdr_header, time) != 32);
	BUILD_BUG_ON(offsetof(struct cr_hdr_header, release) != 40);
	BUILD_BUG_ON(offsetof(struct cr_hdr_header, consts) != 112);
	BUILD_BUG_ON(offsetof(struct cr_hdr_header, reserved) != 144);

	BUILD_BUG_ON(sizeof(struct cr_hdr_tail) != 32);
	BUILD_BUG_ON(offsetof(struct cr_hdr_tail, csum) != 12);
	BUILD_BUG_ON(offsetof(struct cr_hdr_tail, length) != 24);

	BUILD_BUG_ON(sizeof(struct cr_rlimit) != 16);
	BUILD_BUG_ON(sizeof(struct cr_hdr_task) != 352);
	BUILD_BUG_ON(offsetof(struct cr_hdr_task, blocked) != 24);
	BUILD_BUG_ON(offsetof(struct cr_hdr_task, rseq_len) != 64);
	BUILD_BUG_ON(offsetof(struct cr_hdr_task, flags) != 80);
	BUILD_BUG_ON(offsetof(struct cr_hdr_task, pdeath_signal) != 84);
	BUILD_BUG_ON(offsetof(struct cr_hdr_task, reserved) != 85);
	BUILD_BUG_ON(offsetof(struct cr_hdr_task, timer_slack_ns) != 88);
	BUILD_BUG_ON(offsetof(struct cr_hdr_task, rlim) != 96);
	BUILD_BUG_ON(sizeof(struct cr_hdr_creds) != 96);
	BUILD_BUG_ON(offsetof(struct cr_hdr_creds, cap_inheritable) != 40);
	BUILD_BUG_ON(offsetof(struct cr_hdr_creds, ngroups) != 84);
	BUILD_BUG_ON(sizeof(struct cr_sigaction) != 32);
	BUILD_BUG_ON(sizeof(struct cr_hdr_sighand) != 2056);
	BUILD_BUG_ON(sizeof(struct cr_hdr_mm) != 624);
	BUILD_BUG_ON(offsetof(struct cr_hdr_mm, nr_vmas) != 104);
	BUILD_BUG_ON(offsetof(struct cr_hdr_mm, auxv) != 112);
	BUILD_BUG_ON(sizeof(struct cr_hdr_vma) != 56);
	BUILD_BUG_ON(offsetof(struct cr_hdr_vma, prot) != 40);
	BUILD_BUG_ON(sizeof(struct cr_hdr_pages) != 16);
	BUILD_BUG_ON(offsetof(struct cr_hdr_mm, flags) != 108);
	BUILD_BUG_ON(sizeof(struct cr_hdr_shmem) != 32);
	BUILD_BUG_ON(offsetof(struct cr_hdr_shmem, size) != 16);
	BUILD_BUG_ON(sizeof(struct cr_hdr_files) != 24);
	BUILD_BUG_ON(offsetof(struct cr_hdr_files, nr_files) != 12);
	BUILD_BUG_ON(sizeof(struct cr_hdr_fd) != 24);
	BUILD_BUG_ON(offsetof(struct cr_hdr_fd, file) != 16);
	BUILD_BUG_ON(sizeof(struct cr_hdr_file) != 40);
	BUILD_BUG_ON(offsetof(struct cr_hdr_file, pos) != 16);
	BUILD_BUG_ON(offsetof(struct cr_hdr_file, rdev_minor) != 28);
	BUILD_BUG_ON(sizeof(struct cr_itimer) != 16);
	BUILD_BUG_ON(sizeof(struct cr_hdr_signal) != 120);
	BUILD_BUG_ON(offsetof(struct cr_hdr_signal, nr_queued) != 24);
	BUILD_BUG_ON(offsetof(struct cr_hdr_signal, ss_sp) != 32);
	BUILD_BUG_ON(offsetof(struct cr_hdr_signal, ss_flags) != 48);
	BUILD_BUG_ON(offsetof(struct cr_hdr_signal, itimer) != 56);
	BUILD_BUG_ON(offsetof(struct cr_hdr_signal, reserved2) != 104);
	BUILD_BUG_ON(sizeof(struct cr_hdr_siginfo) != 64);
	BUILD_BUG_ON(offsetof(struct cr_hdr_siginfo, code) != 20);
	BUILD_BUG_ON(offsetof(struct cr_hdr_siginfo, fields) != 24);
	BUILD_BUG_ON(offsetof(struct cr_hdr_siginfo, reserved) != 56);
	BUILD_BUG_ON(sizeof(struct cr_hdr_restart_block) != 80);
	BUILD_BUG_ON(offsetof(struct cr_hdr_restart_block, remaining) != 16);
	BUILD_BUG_ON(offsetof(struct cr_hdr_restart_block, rmtp) != 24);
	BUILD_BUG_ON(offsetof(struct cr_hdr_restart_block, expires) != 40);
	BUILD_BUG_ON(offsetof(struct cr_hdr_restart_block, uaddr) != 48);
	BUILD_BUG_ON(offsetof(struct cr_hdr_restart_block, val) != 56);
	BUILD_BUG_ON(offsetof(struct cr_hdr_restart_block, flags) != 64);
	BUILD_BUG_ON(offsetof(struct cr_hdr_restart_block, reserved2) != 72);

	BUILD_BUG_ON(sizeof(struct cr_hdr_tree) != 16);
	BUILD_BUG_ON(sizeof(struct cr_hdr_proc) != 32);
	BUILD_BUG_ON(offsetof(struct cr_hdr_proc, exit_signal) != 24);
	BUILD_BUG_ON(offsetof(struct cr_hdr_file, obj) != 32);
	BUILD_BUG_ON(sizeof(struct cr_hdr_pipe) != 24);
	BUILD_BUG_ON(sizeof(struct cr_hdr_zombie) != 32);
	BUILD_BUG_ON(sizeof(((struct cr_hdr_zombie *)0)->comm) != TASK_COMM_LEN);
	BUILD_BUG_ON(sizeof(struct cr_hdr_uts) != 144);
	BUILD_BUG_ON(__NEW_UTS_LEN + 1 != CR_UTS_LEN);
	BUILD_BUG_ON(sizeof(struct cr_hdr_shares) != 16);
	BUILD_BUG_ON(offsetof(struct cr_hdr_shares, nr) != 8);
	BUILD_BUG_ON(sizeof(struct cr_hdr_share) != 16);
	BUILD_BUG_ON(offsetof(struct cr_hdr_share, flags) != 12);

	BUILD_BUG_ON(sizeof(struct cr_hdr_header) % CR_HDR_ALIGN);
	BUILD_BUG_ON(sizeof(struct cr_hdr_tail) % CR_HDR_ALIGN);
	BUILD_BUG_ON(CR_FIXED_MAX_LEN > CR_HBUF_SIZE);
	/* The flags given to checkpoint(2) are kept in a __u32 */
	BUILD_BUG_ON(CR_CHECKPOINT_FLAGS > U32_MAX);
	BUILD_BUG_ON(CR_RESTART_INHERIT_FD(2) != CR_RESTART_INHERIT_FD2);
}

/**
 * cr_err() - record why an operation failed
 * @ctx: the operation.
 * @err: negative errno.
 * @fmt: printf-style explanation naming the task, fd, address or record.
 *
 * Only the first error of an operation is kept: later ones are most often
 * consequences of it.
 *
 * Return: the first error of @ctx, which is @err unless one was recorded
 * before.
 */
int cr_err(struct cr_ctx *ctx, int err, const char *fmt, ...)
{
	va_list args;

	if (ctx->err)
		return ctx->err;
	ctx->err = err;
	va_start(args, fmt);
	vsnprintf(ctx->msg, sizeof(ctx->msg), fmt, args);
	va_end(args);
	return err;
}

/**
 * cr_hbuf_get() - take room for a record in the header buffer
 * @ctx: the operation.
 * @len: bytes needed.
 *
 * The room is zeroed, so padding and reserved fields written out are zero
 * and no kernel memory leaks into an image.  Calls nest: release the room
 * with cr_hbuf_put() in the reverse order of taking it.
 *
 * Return: the room, or %NULL if the buffer is full (a kernel bug: the
 * records the kernel builds have sizes known at build time).
 */
void *cr_hbuf_get(struct cr_ctx *ctx, size_t len)
{
	void *ptr;

	len = ALIGN(len, CR_HDR_ALIGN);
	if (WARN_ON_ONCE(len > CR_HBUF_SIZE - ctx->hpos))
		return NULL;
	ptr = ctx->hbuf + ctx->hpos;
	ctx->hpos += len;
	memset(ptr, 0, len);
	return ptr;
}

/**
 * cr_hbuf_put() - give back room taken with cr_hbuf_get()
 * @ctx: the operation.
 * @ptr: what cr_hbuf_get() returned.
 *
 * Room taken after @ptr, by nested calls, is given back too.
 */
void cr_hbuf_put(struct cr_ctx *ctx, void *ptr)
{
	if (WARN_ON_ONCE(ptr < ctx->hbuf || ptr > ctx->hbuf + ctx->hpos))
		return;
	ctx->hpos = ptr - ctx->hbuf;
}

/*
 * kernel_write() and kernel_read() only take files with ->write_iter
 * (->read_iter) and no ->write (->read): refuse the others up front rather
 * than half-way through an image.
 */
static bool kernel_io_ok(struct file *file, bool write)
{
	const struct file_operations *fop = file->f_op;

	if (write)
		return (file->f_mode & FMODE_CAN_WRITE) && fop->write_iter &&
		       !fop->write;
	return (file->f_mode & FMODE_CAN_READ) && fop->read_iter && !fop->read;
}

/* 0 if @flags has only @known flags and a well-formed log descriptor */
static long check_flags(unsigned long flags, unsigned long known)
{
	unsigned long logbits = CR_FLAG_LOGFD | (~0UL << CR_LOGFD_SHIFT);

	if (!(flags & CR_FLAG_LOGFD) && (flags & logbits))
		return -EINVAL;
	if (flags & ~known & ~logbits)
		return -EINVAL;
	return 0;
}

/*
 * The file of the log descriptor in @flags with a reference, NULL if there
 * is none, or an ERR_PTR(): -EBADF if it is not open for writing, -EINVAL
 * if the kernel cannot write to it or it is the image's @image.
 */
static struct file *get_log(unsigned long flags, struct file *image)
{
	struct file *log;

	if (!(flags & CR_FLAG_LOGFD))
		return NULL;
	log = fget(flags >> CR_LOGFD_SHIFT);
	if (!log)
		return ERR_PTR(-EBADF);
	if (!(log->f_mode & FMODE_WRITE)) {
		fput(log);
		return ERR_PTR(-EBADF);
	}
	if (!kernel_io_ok(log, true) || log == image) {
		fput(log);
		return ERR_PTR(-EINVAL);
	}
	return log;
}

/*
 * Say why the operation failed on its log descriptor, if it has one.  A
 * failure to write the line is ignored: the system call's own error is
 * what the caller gets.
 */
static void write_log(struct cr_ctx *ctx, long ret)
{
	const char *op = ctx->restart ? "restart" : "checkpoint";
	loff_t *ppos = NULL;
	char *line;
	int len;

	line = kmalloc(CR_MSG_LEN + 64, GFP_KERNEL);
	if (!line)
		return;
	if (ctx->err == ret && ctx->msg[0])
		len = scnprintf(line, CR_MSG_LEN + 64, "%s: %pe: %s\n", op,
				ERR_PTR(ret), ctx->msg);
	else
		len = scnprintf(line, CR_MSG_LEN + 64, "%s: %pe\n", op,
				ERR_PTR(ret));
	if (!(ctx->log->f_mode & FMODE_STREAM)) {
		mutex_lock(&ctx->log->f_pos_lock);
		ppos = &ctx->log->f_pos;
	}
	kernel_write(ctx->log, line, len, ppos);
	if (ppos)
		mutex_unlock(&ctx->log->f_pos_lock);
	kfree(line);
}

static struct cr_ctx *ctx_alloc(struct file *file, unsigned long flags,
				bool restart)
{
	struct cr_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	ctx->hbuf = kmalloc(CR_HBUF_SIZE, GFP_KERNEL);
	if (!ctx->hbuf) {
		kfree(ctx);
		return ERR_PTR(-ENOMEM);
	}
	ctx->log = get_log(flags, file);
	if (IS_ERR(ctx->log)) {
		long err = PTR_ERR(ctx->log);

		kfree(ctx->hbuf);
		kfree(ctx);
		return ERR_PTR(err);
	}
	ctx->file = file;
	ctx->ppos = (file->f_mode & FMODE_STREAM) ? NULL : &file->f_pos;
	ctx->flags = flags & ~(CR_FLAG_LOGFD | (~0UL << CR_LOGFD_SHIFT));
	ctx->restart = restart;
	ctx->crc = ~0U;
	return ctx;
}

/**
 * cr_ctx_alloc_task() - the context of one task of a tree being restarted
 * @coord: the context of the restart(2) call, which reads the image.
 *
 * The task reads its part of the image from @coord's file; the position,
 * length and checksum of the stream pass from one context to the other
 * (see checkpoint/tree.c), as only one task reads at a time.
 *
 * Context: the task, created by the restart.
 * Return: the context, or %NULL if out of memory.
 */
struct cr_ctx *cr_ctx_alloc_task(const struct cr_ctx *coord)
{
	struct cr_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return NULL;
	ctx->hbuf = kmalloc(CR_HBUF_SIZE, GFP_KERNEL);
	if (!ctx->hbuf) {
		kfree(ctx);
		return NULL;
	}
	ctx->crid = coord->crid;
	ctx->flags = coord->flags;
	ctx->restart = true;
	ctx->file = coord->file;
	ctx->ppos = coord->ppos;
	ctx->task = current;
	ctx->tree = coord->tree;
	return ctx;
}

/**
 * cr_ctx_free_task() - free a context of cr_ctx_alloc_task()
 * @ctx: the context; what it read must have been freed.
 */
void cr_ctx_free_task(struct cr_ctx *ctx)
{
	WARN_ON_ONCE(ctx->hpos);
	kfree(ctx->hbuf);
	kfree(ctx);
}

/*
 * Free @ctx and release the image's descriptor @f, which the system call
 * took with its position lock: before the log is written, whose file has
 * a position lock of its own.  Two calls each logging to the other's
 * image would otherwise take the two locks in opposite orders.
 */
static long ctx_free(struct cr_ctx *ctx, long ret, struct fd f)
{
	if (ctx->groups) {
		spin_lock(&busy_lock);
		if (!list_empty(&ctx->busy)) {
			list_del(&ctx->busy);
			wake_up_all(&busy_wq);
		}
		spin_unlock(&busy_lock);
		kvfree(ctx->groups);
	}
	if (ctx->err && ctx->msg[0])
		pr_debug("%s failed (%ld): %s\n",
			 ctx->restart ? "restart" : "checkpoint", ret, ctx->msg);
	fdput_pos(f);
	/*
	 * A restart that replaced the caller returns the restored task's ax,
	 * which may be a negative errno of its own: only a restore that
	 * failed, and killed the caller, has a reason to log.
	 */
	if (ctx->log) {
		if (ret < 0 && (!ctx->replaced || fatal_signal_pending(current)))
			write_log(ctx, ret);
		fput(ctx->log);
	}
	WARN_ON_ONCE(ctx->hpos);
	kfree(ctx->hbuf);
	kfree(ctx);
	return ret;
}

static int cmp_ptr(const void *a, const void *b)
{
	unsigned long x = (unsigned long)*(const void * const *)a;
	unsigned long y = (unsigned long)*(const void * const *)b;

	return x < y ? -1 : x > y;
}

/* Whether the sorted arrays @a and @b have an element in common */
static bool overlap(const void * const *a, unsigned int na,
		    const void * const *b, unsigned int nb)
{
	unsigned int i = 0, j = 0;

	while (i < na && j < nb) {
		if (a[i] == b[j])
			return true;
		if ((unsigned long)a[i] < (unsigned long)b[j])
			i++;
		else
			j++;
	}
	return false;
}

/* Hold the groups of @ctx if no other checkpoint holds one of them */
static bool try_hold(struct cr_ctx *ctx)
{
	struct cr_ctx *other;
	bool free = true;

	spin_lock(&busy_lock);
	list_for_each_entry(other, &busy_list, busy) {
		if (overlap(ctx->groups, ctx->nr_groups, other->groups,
			    other->nr_groups)) {
			free = false;
			break;
		}
	}
	if (free)
		list_add(&ctx->busy, &busy_list);
	spin_unlock(&busy_lock);
	return free;
}

/**
 * cr_hold_groups() - keep other checkpoints away from the tasks saved
 * @ctx: the checkpoint.
 * @groups: the &struct signal_struct of every task it saves, in an array
 *          from kvmalloc() that @ctx takes, whatever the result.
 * @nr: number of @groups, duplicates allowed.
 *
 * A checkpoint holds references to the address spaces, descriptor tables
 * and files of its tasks while it saves them, and refuses what has more
 * references than its tasks explain as shared with a task outside: two
 * checkpoints of one task at once would each see the other's references.
 * The second to come waits here until the first is done, then goes on.
 * Call it before taking such references; they are released by ctx_free().
 *
 * Context: process context, no lock held.
 * Return: 0, or -ERESTARTSYS if a signal interrupted the wait.
 */
int cr_hold_groups(struct cr_ctx *ctx, const void **groups, unsigned int nr)
{
	unsigned int i, n = 0;

	if (WARN_ON_ONCE(ctx->groups)) {
		kvfree(groups);
		return -EINVAL;
	}
	sort(groups, nr, sizeof(*groups), cmp_ptr, NULL);
	for (i = 0; i < nr; i++)
		if (!n || groups[i] != groups[n - 1])
			groups[n++] = groups[i];
	ctx->groups = groups;
	ctx->nr_groups = n;
	INIT_LIST_HEAD(&ctx->busy);
	return wait_event_interruptible(busy_wq, try_hold(ctx));
}

static int new_crid(void)
{
	int crid;

	do {
		crid = atomic_inc_return(&last_crid) & INT_MAX;
	} while (!crid);
	return crid;
}

/* Stopped by a signal, by ptrace or by the cgroup freezer */
static bool task_stopped(struct task_struct *t)
{
	if (READ_ONCE(t->__state) & (__TASK_STOPPED | __TASK_TRACED))
		return true;
#ifdef CONFIG_CGROUPS
	if (t->frozen)
		return true;
#endif
	return false;
}

/**
 * cr_grab_task() - check a task may be checkpointed now, and hold it there
 * @ctx: the checkpoint.
 * @task: the task, with a reference.
 * @ncsw: where to put the context switch count of @task, off its CPU.
 *
 * The caller must have the right to ptrace @task, which must be stopped
 * (by a signal, ptrace or the cgroup freezer) and off its CPU, so that its
 * registers are all in memory; cr_check_still_stopped() later checks it
 * did not run since.
 *
 * Return: 0, -EPERM or -EBUSY with a message, or another negative errno.
 */
int cr_grab_task(struct cr_ctx *ctx, struct task_struct *task,
		 unsigned long *ncsw)
{
	pid_t pid = task_pid_vnr(task);
	int err;

	*ncsw = 0;
	err = down_read_killable(&task->signal->exec_update_lock);
	if (err)
		return err;
	if (!ptrace_may_access(task, PTRACE_MODE_ATTACH_REALCREDS)) {
		err = cr_err(ctx, -EPERM, "task %d: no right to ptrace it",
			     pid);
		goto out_unlock;
	}
	if (task_stopped(task) && !task->exit_state)
		*ncsw = wait_task_inactive(task, READ_ONCE(task->__state));
	if (!*ncsw || !task_stopped(task))
		err = cr_err(ctx, -EBUSY,
			     "task %d is not stopped (by SIGSTOP, ptrace or the cgroup freezer)",
			     pid);
out_unlock:
	up_read(&task->signal->exec_update_lock);
	return err;
}

/*
 * The task to checkpoint, with a reference, or an ERR_PTR() whose reason
 * is recorded in @ctx.
 */
static struct task_struct *get_target(struct cr_ctx *ctx, pid_t pid)
{
	struct task_struct *task;
	int err;

	if (!pid || pid == task_pid_vnr(current)) {
		if (ctx->flags & CR_CHECKPOINT_TREE)
			return ERR_PTR(cr_err(ctx, -EINVAL,
					      "the caller cannot checkpoint a tree it is in"));
		get_task_struct(current);
		return current;
	}
	task = find_get_task_by_vpid(pid);
	if (!task)
		return ERR_PTR(cr_err(ctx, -ESRCH, "no task %d", pid));
	err = cr_grab_task(ctx, task, &ctx->ncsw);
	if (err) {
		put_task_struct(task);
		return ERR_PTR(err);
	}
	return task;
}

/**
 * cr_check_still_stopped() - check the task did not run during the checkpoint
 * @ctx: the checkpoint.
 *
 * The caller of checkpoint(2) must keep the task stopped; a SIGCONT or a
 * thaw in the middle would make the image a mix of two moments.  The task
 * must still be stopped, and must not have been switched in since
 * get_target() found it off its CPU (wait_task_inactive() counts the
 * switches).
 *
 * Return: 0, or -EBUSY with a message.
 */
int cr_check_still_stopped(struct cr_ctx *ctx)
{
	struct task_struct *t = ctx->task;

	if (t == current)
		return 0;
	if (!task_stopped(t) ||
	    wait_task_inactive(t, READ_ONCE(t->__state)) != ctx->ncsw ||
	    !task_stopped(t))
		return cr_err(ctx, -EBUSY,
			      "task %d ran during the checkpoint: the image is not consistent",
			      task_pid_vnr(t));
	return 0;
}

/* Only one checkpoint of @ctx->task at a time */
static int hold_task(struct cr_ctx *ctx)
{
	const void **groups = kvmalloc(sizeof(*groups), GFP_KERNEL);

	if (!groups)
		return -ENOMEM;
	groups[0] = ctx->task->signal;
	return cr_hold_groups(ctx, groups, 1);
}

/**
 * sys_checkpoint() - save the state of a task to a file descriptor
 * @pid: the task (a thread id), or 0 for the caller.
 * @fd: file descriptor open for writing; the image is written at its
 *      current position.
 * @flags: %CR_CHECKPOINT_TREE to save @pid and its descendants, with
 *         %CR_FLAG_LOGFD and its descriptor (CR_LOGFD()), or 0.
 *
 * Return: a checkpoint id greater than 0, or a negative errno.
 */
SYSCALL_DEFINE3(checkpoint, pid_t, pid, int, fd, unsigned long, flags)
{
	struct task_struct *task;
	struct cr_ctx *ctx;
	struct fd f;
	long ret;

	cr_build_check_abi();
	ret = check_flags(flags, CR_CHECKPOINT_FLAGS);
	if (ret)
		return ret;
	if (pid < 0)
		return -EINVAL;

	f = fdget_pos(fd);
	if (!fd_file(f))
		return -EBADF;
	ret = -EBADF;
	if (!(fd_file(f)->f_mode & FMODE_WRITE))
		goto out_fdput;
	ret = -EINVAL;
	if (!kernel_io_ok(fd_file(f), true))
		goto out_fdput;

	ctx = ctx_alloc(fd_file(f), flags, false);
	if (IS_ERR(ctx)) {
		ret = PTR_ERR(ctx);
		goto out_fdput;
	}
	task = get_target(ctx, pid);
	if (IS_ERR(task))
		return ctx_free(ctx, PTR_ERR(task), f);
	/*
	 * A stopped task can still be killed and exit meanwhile: keep the
	 * stack its registers are saved on (checkpoint then fails with
	 * -EBUSY, the task having left its stop).
	 */
	if (!try_get_task_stack(task)) {
		ret = ctx_free(ctx, cr_err(ctx, -ESRCH, "task %d is exiting",
					   pid), f);
		put_task_struct(task);
		return ret;
	}
	ctx->crid = new_crid();
	ctx->task = task;
	if (ctx->flags & CR_CHECKPOINT_TREE)
		ret = cr_checkpoint_tree(ctx);
	else
		ret = hold_task(ctx) ?: cr_do_checkpoint(ctx);
	if (!ret)
		ret = ctx->crid;
	ret = ctx_free(ctx, ret, f);
	put_task_stack(task);
	put_task_struct(task);
	return ret;

out_fdput:
	fdput_pos(f);
	return ret;
}

/**
 * sys_restart() - restart from a checkpoint image
 * @crid: checkpoint id the image must have, or 0 for any.
 * @fd: file descriptor open for reading; the image is read from its
 *      current position up to end of file.
 * @flags: CR_RESTART_INHERIT_FD(n) bits (see checkpoint_hdr.h),
 *         %CR_RESTART_TREE for an image of a tree (with
 *         %CR_RESTART_NEW_PIDS to give its tasks new pids), with
 *         %CR_FLAG_LOGFD and its descriptor (CR_LOGFD()), or 0.
 *
 * The caller becomes the task of the image, as execve(2) makes it another
 * program: it returns to user space where the checkpointed task was, with
 * the value its register ax had (0 for a task that checkpointed itself).
 * An image without a task (header and tail only) is only checked.  With
 * %CR_RESTART_TREE the caller stays as it is: the tasks of the image are
 * created as its descendants, and run once they are all restored.
 *
 * Return: the restored task's ax, 0 for an image without a task, the pid
 * of the root task of a tree, or a negative errno if the image was
 * refused; after the point of no return of a single task (see
 * Documentation/checkpoint/design.rst) the caller is killed instead.
 */
SYSCALL_DEFINE3(restart, int, crid, int, fd, unsigned long, flags)
{
	struct file *image;
	struct cr_ctx *ctx;
	struct fd f;
	long ret;

	cr_build_check_abi();
	ret = check_flags(flags, CR_RESTART_FLAGS);
	if (ret)
		return ret;
	if (crid < 0)
		return -EINVAL;
	if ((flags & CR_RESTART_NEW_PIDS) && !(flags & CR_RESTART_TREE))
		return -EINVAL;
	if ((flags & CR_RESTART_TREE) &&
	    (flags & (CR_RESTART_INHERIT_FD0 | CR_RESTART_INHERIT_FD1 |
		      CR_RESTART_INHERIT_FD2)))
		return -EINVAL;

	f = fdget_pos(fd);
	if (!fd_file(f))
		return -EBADF;
	ret = -EBADF;
	if (!(fd_file(f)->f_mode & FMODE_READ))
		goto out_fdput;
	ret = -EINVAL;
	if (!kernel_io_ok(fd_file(f), false))
		goto out_fdput;

	ctx = ctx_alloc(fd_file(f), flags, true);
	if (IS_ERR(ctx)) {
		ret = PTR_ERR(ctx);
		goto out_fdput;
	}
	ctx->crid = crid;
	ctx->task = current;
	/* Restart replaces the descriptor table, @fd included */
	image = get_file(fd_file(f));
	ret = cr_do_restart(ctx);
	ret = ctx_free(ctx, ret, f);
	fput(image);
	return ret;

out_fdput:
	fdput_pos(f);
	return ret;
}
