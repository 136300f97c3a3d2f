// SPDX-License-Identifier: GPL-2.0
/*
 * State of a task: what can be saved, the task record, credentials, the
 * working directory and signal dispositions.
 */

#include <linux/capability.h>
#include <linux/checkpoint.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/futex.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/personality.h>
#include <linux/posix-timers.h>
#include <linux/rseq.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/uidgid.h>

/**
 * struct cr_task_state - task state read from an image, until restored
 * @task: the task record.
 * @sighand: the signal dispositions.
 * @cwd: the working directory, looked up in the caller's namespace.
 * @cred: the credentials, checked, until committed.
 */
struct cr_task_state {
	struct cr_hdr_task task;
	struct cr_hdr_sighand sighand;
	struct path cwd;
	struct cred *cred;
};

/* Checkpoint: what this version cannot save is refused up front */

/*
 * Children (running or zombies) and tracees would be lost: the restarted
 * task would have none to wait for.  Process trees are for later.
 */
static int check_relatives(struct cr_ctx *ctx, struct task_struct *t)
{
	bool children, tracees;

	read_lock(&tasklist_lock);
	children = !list_empty(&t->children);
	tracees = !list_empty(&t->ptraced);
	read_unlock(&tasklist_lock);
	if (children)
		return cr_err(ctx, -EBUSY,
			      "task %d has children (running or not reaped): process trees are not supported yet",
			      task_pid_vnr(t));
	if (tracees)
		return cr_err(ctx, -EBUSY, "task %d traces other tasks",
			      task_pid_vnr(t));
	return 0;
}

static int check_sharing(struct cr_ctx *ctx, struct task_struct *t)
{
	int ret = 0;

	if (!thread_group_empty(t))
		return cr_err(ctx, -EBUSY, "task %d is multi-threaded",
			      task_pid_vnr(t));
	task_lock(t);
	if (!t->mm || !t->files || !t->fs)
		ret = cr_err(ctx, -ESRCH, "task %d is exiting", task_pid_vnr(t));
	else if (atomic_read(&t->mm->mm_users) > 1)
		ret = cr_err(ctx, -EBUSY, "task %d shares its address space",
			     task_pid_vnr(t));
	else if (atomic_read(&t->files->count) > 1)
		ret = cr_err(ctx, -EBUSY, "task %d shares its file table",
			     task_pid_vnr(t));
	else if (READ_ONCE(t->fs->users) > 1)
		ret = cr_err(ctx, -EBUSY, "task %d shares its fs_struct",
			     task_pid_vnr(t));
	else if (refcount_read(&t->sighand->count) > 1)
		ret = cr_err(ctx, -EBUSY, "task %d shares its signal handlers",
			     task_pid_vnr(t));
	task_unlock(t);
	return ret;
}

static bool timers_armed(struct signal_struct *sig)
{
#ifdef CONFIG_POSIX_TIMERS
	return hrtimer_active(&sig->real_timer) || sig->it[0].expires ||
	       sig->it[1].expires || !hlist_empty(&sig->posix_timers);
#else
	return false;
#endif
}

/* Signals pending, blocked or not */
static bool has_pending(struct task_struct *t)
{
	bool ret;

	spin_lock_irq(&t->sighand->siglock);
	ret = !sigisemptyset(&t->pending.signal) ||
	      !sigisemptyset(&t->signal->shared_pending.signal);
	spin_unlock_irq(&t->sighand->siglock);
	return ret;
}

static int check_misc(struct cr_ctx *ctx, struct task_struct *t)
{
	pid_t pid = task_pid_vnr(t);
	struct path root = {}, here;
	bool same_root;

#ifdef CONFIG_SECCOMP
	if (t->seccomp.mode != SECCOMP_MODE_DISABLED)
		return cr_err(ctx, -EOPNOTSUPP, "task %d uses seccomp", pid);
#endif
	if (task_no_new_privs(t))
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d has no_new_privs set: not supported yet",
			      pid);
	if (task_cred_xxx(t, user_ns) != current_user_ns())
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d is in another user namespace", pid);
	/* A stopped task can still be killed: exit_fs() clears t->fs */
	task_lock(t);
	if (t->fs)
		get_fs_root(t->fs, &root);
	task_unlock(t);
	if (!root.mnt)
		return cr_err(ctx, -ESRCH, "task %d is exiting", pid);
	get_fs_root(current->fs, &here);
	same_root = path_equal(&root, &here);
	path_put(&here);
	path_put(&root);
	if (!same_root)
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d has another root directory", pid);
	return 0;
}

/**
 * cr_check_task() - refuse a task whose state cannot be saved yet
 * @ctx: the checkpoint; ctx->task is the task.
 *
 * Return: 0, or -EBUSY or -EOPNOTSUPP with a message naming what cannot be
 * saved.
 */
int cr_check_task(struct cr_ctx *ctx)
{
	struct task_struct *t = ctx->task;

	return check_sharing(ctx, t) ?: check_relatives(ctx, t) ?:
	       cr_check_signals(ctx) ?: check_misc(ctx, t);
}

/* Checkpoint: the records */

static void fill_task(struct cr_hdr_task *th, struct task_struct *t)
{
	int i;

	__get_task_comm((char *)th->comm, sizeof(th->comm), t);
	/*
	 * In sigsuspend(), ppoll(), pselect6() or epoll_pwait(), blocked is
	 * the call's temporary mask and the task's own is kept aside until
	 * the call returns.  The call is made again after restart (see
	 * cr_write_cpu()), so the task's own mask is the one to save.
	 */
	if (test_tsk_restore_sigmask(t))
		th->blocked = t->saved_sigmask.sig[0];
	else
		th->blocked = t->blocked.sig[0];
#ifdef CONFIG_FUTEX
	th->robust_list = (unsigned long)t->robust_list;
	if (t->robust_list)
		th->robust_list_len = sizeof(*t->robust_list);
#endif
	th->clear_child_tid = (unsigned long)t->clear_child_tid;
#ifdef CONFIG_RSEQ
	th->rseq = (unsigned long)t->rseq;
	th->rseq_len = t->rseq_len;
	th->rseq_sig = t->rseq_sig;
#endif
	task_lock(t);
	th->umask = t->fs ? t->fs->umask : 0;	/* 0: killed, no tail */
	task_unlock(t);
	th->personality = t->personality;
	task_lock(t->group_leader);
	for (i = 0; i < CR_RLIM_NLIMITS; i++) {
		th->rlim[i].cur = t->signal->rlim[i].rlim_cur;
		th->rlim[i].max = t->signal->rlim[i].rlim_max;
	}
	task_unlock(t->group_leader);
}

static int write_task(struct cr_ctx *ctx)
{
	struct cr_hdr_task *th;
	int ret;

	th = cr_hbuf_get(ctx, sizeof(*th));
	if (!th)
		return -ENOMEM;
	fill_task(th, ctx->task);
	ret = cr_write_rec(ctx, th, CR_HDR_TASK, sizeof(*th));
	cr_hbuf_put(ctx, th);
	return ret;
}

static int write_cwd(struct cr_ctx *ctx)
{
	struct task_struct *t = ctx->task;
	struct path pwd = {};
	char *buf, *name;
	int ret;

	task_lock(t);
	if (t->fs)
		get_fs_pwd(t->fs, &pwd);
	task_unlock(t);
	if (!pwd.mnt)
		return cr_err(ctx, -ESRCH, "task %d is exiting",
			      task_pid_vnr(t));
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf) {
		path_put(&pwd);
		return -ENOMEM;
	}
	name = d_path(&pwd, buf, PATH_MAX);
	if (IS_ERR(name))
		ret = cr_err(ctx, PTR_ERR(name), "task %d: cannot name its cwd",
			     task_pid_vnr(ctx->task));
	else if (d_unlinked(pwd.dentry) || name[0] != '/')
		ret = cr_err(ctx, -EOPNOTSUPP,
			     "task %d: its cwd %s was deleted or is unreachable",
			     task_pid_vnr(ctx->task), name);
	else
		ret = cr_write_string(ctx, CR_HDR_CWD, name);
	path_put(&pwd);
	kfree(buf);
	return ret;
}

static int write_sighand(struct cr_ctx *ctx)
{
	struct sighand_struct *sighand;
	struct cr_hdr_sighand *sh;
	struct k_sigaction *k;
	unsigned long flags;
	int i, ret;

	sh = cr_hbuf_get(ctx, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	/* NULL once a killed task was reaped */
	sighand = lock_task_sighand(ctx->task, &flags);
	if (!sighand) {
		cr_hbuf_put(ctx, sh);
		return cr_err(ctx, -ESRCH, "task %d is exiting",
			      task_pid_vnr(ctx->task));
	}
	for (i = 0; i < _NSIG; i++) {
		k = &sighand->action[i];
		sh->action[i].handler = (unsigned long)k->sa.sa_handler;
		sh->action[i].flags = k->sa.sa_flags;
		sh->action[i].restorer = (unsigned long)k->sa.sa_restorer;
		sh->action[i].mask = k->sa.sa_mask.sig[0];
	}
	unlock_task_sighand(ctx->task, &flags);
	ret = cr_write_rec(ctx, sh, CR_HDR_SIGHAND, sizeof(*sh));
	cr_hbuf_put(ctx, sh);
	return ret;
}

/**
 * cr_write_task() - write the task, credentials, cwd and signal records
 * @ctx: the checkpoint; ctx->task is the task.
 *
 * Return: 0, or a negative errno.
 */
int cr_write_task(struct cr_ctx *ctx)
{
	BUILD_BUG_ON(CR_RLIM_NLIMITS != RLIM_NLIMITS);
	BUILD_BUG_ON(ARRAY_SIZE(((struct cr_hdr_sighand *)0)->action) != _NSIG);
	BUILD_BUG_ON(_NSIG_WORDS != 1);
	BUILD_BUG_ON(sizeof(((struct cr_hdr_task *)0)->comm) != TASK_COMM_LEN);

	return write_task(ctx) ?: cr_write_creds(ctx) ?: write_cwd(ctx) ?:
	       write_sighand(ctx) ?: cr_write_signals(ctx);
}

/* Restart: read and check, before the point of no return */

static int check_rseq(struct cr_ctx *ctx, const struct cr_hdr_task *th)
{
	u64 addr = th->rseq;

	if (!addr)
		return th->rseq_len || th->rseq_sig ?
		       cr_err(ctx, -EINVAL, "rseq length without rseq") : 0;
	if (!IS_ENABLED(CONFIG_RSEQ))
		return cr_err(ctx, -EOPNOTSUPP, "rseq is not configured");
	/* What rseq(2) checks at registration */
	if (th->rseq_len < 32 ||
	    (th->rseq_len == 32 && !IS_ALIGNED(addr, 32)) ||
	    (th->rseq_len != 32 && (!IS_ALIGNED(addr, __alignof__(struct rseq)) ||
				    th->rseq_len < offsetof(struct rseq, end))) ||
	    addr >= TASK_SIZE || th->rseq_len > TASK_SIZE - addr)
		return cr_err(ctx, -EINVAL, "bad rseq area %#llx (%u bytes)",
			      addr, th->rseq_len);
	return 0;
}

static int check_rlimits(struct cr_ctx *ctx, const struct cr_hdr_task *th)
{
	struct rlimit old, new;
	int i, ret;

	for (i = 0; i < CR_RLIM_NLIMITS; i++) {
		new.rlim_cur = th->rlim[i].cur;
		new.rlim_max = th->rlim[i].max;
		if (new.rlim_cur > new.rlim_max)
			return cr_err(ctx, -EINVAL, "rlimit %d: soft > hard", i);
		task_lock(current->group_leader);
		old = current->signal->rlim[i];
		task_unlock(current->group_leader);
		if (new.rlim_max > old.rlim_max && !capable(CAP_SYS_RESOURCE))
			return cr_err(ctx, -EPERM, "rlimit %d: raising the hard limit",
				      i);
		if (i == RLIMIT_NOFILE && new.rlim_max > sysctl_nr_open)
			return cr_err(ctx, -EPERM, "rlimit %d above nr_open", i);
		ret = security_task_setrlimit(current, i, &new);
		if (ret)
			return cr_err(ctx, ret, "rlimit %d refused", i);
	}
	return 0;
}

static int check_task(struct cr_ctx *ctx, const struct cr_hdr_task *th)
{
	size_t len = strnlen((const char *)th->comm, sizeof(th->comm));

	if (len == sizeof(th->comm))
		return cr_err(ctx, -EINVAL, "task name is not NUL-terminated");
	if (memchr_inv(th->reserved, 0, sizeof(th->reserved)))
		return cr_err(ctx, -EINVAL, "reserved task fields are not zero");
	if (th->robust_list &&
	    (th->robust_list_len != sizeof(struct robust_list_head) ||
	     th->robust_list >= TASK_SIZE))
		return cr_err(ctx, -EINVAL, "bad robust list %#llx",
			      th->robust_list);
	if (!th->robust_list && th->robust_list_len)
		return cr_err(ctx, -EINVAL, "robust list length without a list");
	if (th->clear_child_tid >= TASK_SIZE)
		return cr_err(ctx, -EINVAL, "bad clear_child_tid %#llx",
			      th->clear_child_tid);
	if (th->umask & ~0777)
		return cr_err(ctx, -EINVAL, "bad umask %#o", th->umask);
	return check_rseq(ctx, th) ?: check_rlimits(ctx, th);
}

static int read_task(struct cr_ctx *ctx, const struct cr_hdr *h)
{
	struct cr_hdr_task *th = &ctx->ts->task;
	int ret;

	ret = cr_read_payload(ctx, h, th, sizeof(*th));
	return ret ?: check_task(ctx, th);
}

static int read_cwd(struct cr_ctx *ctx)
{
	struct path *cwd = &ctx->ts->cwd;
	char *name;
	int ret;

	name = kmalloc(CR_PATH_MAX + 1, GFP_KERNEL);
	if (!name)
		return -ENOMEM;
	ret = cr_read_string(ctx, CR_HDR_CWD, name, CR_PATH_MAX + 1);
	if (ret < 0)
		goto out;
	if (name[0] != '/') {
		ret = cr_err(ctx, -EINVAL, "working directory %s is not absolute",
			     name);
		goto out;
	}
	ret = kern_path(name, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, cwd);
	if (ret) {
		cr_err(ctx, ret, "cannot find the working directory %s", name);
		goto out;
	}
	ret = path_permission(cwd, MAY_EXEC | MAY_CHDIR);
	if (ret) {
		path_put(cwd);
		memset(cwd, 0, sizeof(*cwd));
		cr_err(ctx, ret, "cannot enter the working directory %s", name);
	}
out:
	kfree(name);
	return ret < 0 ? ret : 0;
}

static int check_sigaction(struct cr_ctx *ctx, int sig,
			   const struct cr_sigaction *a)
{
	if (a->handler >= TASK_SIZE || a->restorer >= TASK_SIZE)
		return cr_err(ctx, -EINVAL, "signal %d: bad handler address", sig);
	if ((sig == SIGKILL || sig == SIGSTOP) && a->handler)
		return cr_err(ctx, -EINVAL, "signal %d cannot be caught", sig);
	return 0;
}

static int read_sighand(struct cr_ctx *ctx)
{
	struct cr_hdr_sighand *sh = &ctx->ts->sighand;
	int i, ret;

	ret = cr_read_rec(ctx, sh, CR_HDR_SIGHAND, sizeof(*sh));
	for (i = 0; i < _NSIG && !ret; i++)
		ret = check_sigaction(ctx, i + 1, &sh->action[i]);
	return ret;
}

/**
 * cr_read_task() - read the task, credentials, cwd and signal records
 * @ctx: the restart.
 * @h: header of the task record, already read.
 *
 * Before the point of no return: checks everything, changes nothing.  The
 * state is kept in ctx->ts until cr_restore_task().
 *
 * Return: 0, or a negative errno.
 */
int cr_read_task(struct cr_ctx *ctx, const struct cr_hdr *h)
{
	ctx->ts = kzalloc(sizeof(*ctx->ts), GFP_KERNEL);
	if (!ctx->ts)
		return -ENOMEM;
	return read_task(ctx, h) ?: cr_read_creds(ctx, &ctx->ts->cred) ?:
	       read_cwd(ctx) ?: read_sighand(ctx) ?: cr_read_signals(ctx);
}

/* Restart: after the point of no return */

static int restore_sighand(struct cr_ctx *ctx)
{
	const struct cr_sigaction *a;
	struct k_sigaction ka;
	int sig, ret;

	for (sig = 1; sig <= _NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		a = &ctx->ts->sighand.action[sig - 1];
		memset(&ka, 0, sizeof(ka));
		ka.sa.sa_handler = (__sighandler_t)(unsigned long)a->handler;
		ka.sa.sa_flags = a->flags;
		ka.sa.sa_restorer = (__sigrestore_t)(unsigned long)a->restorer;
		ka.sa.sa_mask.sig[0] = a->mask;
		ret = do_sigaction(sig, &ka, NULL);
		if (ret)
			return cr_err(ctx, ret, "signal %d: bad disposition", sig);
	}
	return 0;
}

static void restore_rlimits(const struct cr_hdr_task *th)
{
	struct rlimit *rlim = current->signal->rlim;
	int i;

	task_lock(current->group_leader);
	for (i = 0; i < CR_RLIM_NLIMITS; i++) {
		rlim[i].rlim_cur = th->rlim[i].cur;
		rlim[i].rlim_max = th->rlim[i].max;
	}
	task_unlock(current->group_leader);
#ifdef CONFIG_POSIX_TIMERS
	if (th->rlim[RLIMIT_CPU].cur != RLIM_INFINITY)
		update_rlimit_cpu(current, th->rlim[RLIMIT_CPU].cur);
#endif
}

static void restore_ids(const struct cr_hdr_task *th)
{
#ifdef CONFIG_FUTEX
	current->robust_list = u64_to_user_ptr(th->robust_list);
#endif
	current->clear_child_tid = u64_to_user_ptr(th->clear_child_tid);
#ifdef CONFIG_RSEQ
	current->rseq = u64_to_user_ptr(th->rseq);
	current->rseq_len = th->rseq_len;
	current->rseq_sig = th->rseq_sig;
	if (current->rseq)
		rseq_set_notify_resume(current);
#endif
}

/**
 * cr_restore_task() - make the task state read by cr_read_task() the
 *                     caller's
 * @ctx: the restart.
 *
 * After the point of no return.
 *
 * Return: 0, or a negative errno.
 */
int cr_restore_task(struct cr_ctx *ctx)
{
	const struct cr_hdr_task *th = &ctx->ts->task;
	sigset_t blocked = { .sig[0] = th->blocked };
	int ret;

	ret = restore_sighand(ctx);
	if (ret)
		return ret;
	sigdelsetmask(&blocked, sigmask(SIGKILL) | sigmask(SIGSTOP));
	set_current_blocked(&blocked);
	set_task_comm(current, (const char *)th->comm);
	restore_rlimits(th);
	restore_ids(th);
	current->personality = th->personality;
	current->fs->umask = th->umask;
	set_fs_pwd(current->fs, &ctx->ts->cwd);
	/* Signals queued again are charged to the restored credentials */
	cr_commit_creds(&ctx->ts->cred);
	return cr_restore_signals(ctx);
}

/**
 * cr_free_task() - free what cr_read_task() kept
 * @ctx: the restart.
 */
void cr_free_task(struct cr_ctx *ctx)
{
	if (!ctx->ts)
		return;
	if (ctx->ts->cwd.dentry)
		path_put(&ctx->ts->cwd);
	if (ctx->ts->cred)
		abort_creds(ctx->ts->cred);
	kfree(ctx->ts);
	ctx->ts = NULL;
}

/**
 * cr_check_caller() - check the caller of restart can be replaced
 * @ctx: the restart.
 *
 * Return: 0, or -EBUSY if the caller shares what restart replaces.
 */
int cr_check_caller(struct cr_ctx *ctx)
{
	if (!thread_group_empty(current))
		return cr_err(ctx, -EBUSY, "restart from a multi-threaded process");
	if (atomic_read(&current->mm->mm_users) > 1)
		return cr_err(ctx, -EBUSY, "the caller shares its address space");
	if (atomic_read(&current->files->count) > 1)
		return cr_err(ctx, -EBUSY, "the caller shares its file table");
	if (READ_ONCE(current->fs->users) > 1)
		return cr_err(ctx, -EBUSY, "the caller shares its fs_struct");
	if (refcount_read(&current->sighand->count) > 1)
		return cr_err(ctx, -EBUSY, "the caller shares its signal handlers");
	/* The task had none of these: the caller's would leak into it */
	if (has_pending(current))
		return cr_err(ctx, -EBUSY, "the caller has pending signals");
	if (timers_armed(current->signal))
		return cr_err(ctx, -EBUSY,
			      "the caller has timers, itimers or an alarm");
	return 0;
}
