// SPDX-License-Identifier: GPL-2.0
/*
 * State of a task: what can be saved, the task record, credentials, the
 * root and working directories and signal dispositions.
 *
 * The root directory is saved by its path as seen from the root directory
 * of the caller of checkpoint(2), the working directory by its path as seen
 * from the task's root directory (what getcwd(2) gives the task).  Restart
 * looks the root up in the root of its caller, and the working directory in
 * the restored root, as the chrooted task would.
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
#include <linux/nospec.h>
#include <linux/personality.h>
#include <linux/posix-timers.h>
#include <linux/prctl.h>
#include <linux/rseq.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/security.h>
#include <linux/signal_types.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>

/* The flags of &struct cr_hdr_task this kernel knows */
#define TASK_FLAGS	(CR_TASK_NO_NEW_PRIVS | CR_TASK_DUMPABLE | \
			 CR_TASK_DUMPABLE_ROOT | CR_TASK_MCE_KILL_LATE | \
			 CR_TASK_MCE_KILL_EARLY | CR_TASK_CHILD_SUBREAPER | \
			 CR_TASK_THP_DISABLE | CR_TASK_MDWE | \
			 CR_TASK_MDWE_NO_INHERIT | CR_TASK_IO_FLUSHER | \
			 CR_TASK_TSC_SIGSEGV | SPEC_FLAGS)
#define SPEC_FLAGS	(CR_TASK_SSB_DISABLE | CR_TASK_SSB_FORCE_DISABLE | \
			 CR_TASK_SSB_NOEXEC | CR_TASK_IB_DISABLE | \
			 CR_TASK_IB_FORCE_DISABLE | CR_TASK_L1D_FLUSH)

/* What prctl(PR_SET_IO_FLUSHER) sets */
#define IO_FLUSHER	(PF_MEMALLOC_NOIO | PF_LOCAL_THROTTLE)

/* The speculation controls, indexed by PR_SPEC_* (which) */
#define NR_SPEC		3

/* A choice of prctl(PR_SET_SPECULATION_CTRL) and its task flag */
static const struct {
	unsigned long which;
	unsigned long ctrl;
	u32 flag;
} spec_flags[] = {
	{ PR_SPEC_STORE_BYPASS, PR_SPEC_DISABLE, CR_TASK_SSB_DISABLE },
	{ PR_SPEC_STORE_BYPASS, PR_SPEC_FORCE_DISABLE, CR_TASK_SSB_FORCE_DISABLE },
	{ PR_SPEC_STORE_BYPASS, PR_SPEC_DISABLE_NOEXEC, CR_TASK_SSB_NOEXEC },
	{ PR_SPEC_INDIRECT_BRANCH, PR_SPEC_DISABLE, CR_TASK_IB_DISABLE },
	{ PR_SPEC_INDIRECT_BRANCH, PR_SPEC_FORCE_DISABLE, CR_TASK_IB_FORCE_DISABLE },
	{ PR_SPEC_L1D_FLUSH, PR_SPEC_ENABLE, CR_TASK_L1D_FLUSH },
};

/* What a task that chose nothing has: speculation on, no L1D flush */
static const unsigned long spec_default[NR_SPEC] = {
	[PR_SPEC_STORE_BYPASS] = PR_SPEC_ENABLE,
	[PR_SPEC_INDIRECT_BRANCH] = PR_SPEC_ENABLE,
	[PR_SPEC_L1D_FLUSH] = PR_SPEC_DISABLE,
};

/**
 * struct cr_task_state - task state read from an image, until restored
 * @task: the task record.
 * @sighand: the signal dispositions.
 * @root: the root directory, looked up in the caller's root.
 * @cwd: the working directory, looked up in @root.
 * @cred: the credentials, checked, until committed.
 * @spec: the speculation controls to set, PR_SPEC_* (ctrl), or 0 for
 *        those the caller has as the task had them.
 */
struct cr_task_state {
	struct cr_hdr_task task;
	struct cr_hdr_sighand sighand;
	struct path root;
	struct path cwd;
	struct cred *cred;
	unsigned long spec[NR_SPEC];
};

/* Checkpoint: what this version cannot save is refused up front */

/*
 * Children (running or zombies) and tracees would be lost: the restarted
 * task would have none to wait for.  The children of a task of a tree are
 * in the tree (checkpoint/tree.c).
 */
static int check_relatives(struct cr_ctx *ctx, struct task_struct *t)
{
	bool children, tracees;

	read_lock(&tasklist_lock);
	children = (!ctx->tree || !thread_group_leader(t)) &&
		   !list_empty(&t->children);
	tracees = !list_empty(&t->ptraced);
	read_unlock(&tasklist_lock);
	if (children && ctx->tree)
		return cr_err(ctx, -EOPNOTSUPP,
			      "thread %d has children: only those of a process's first thread are supported",
			      task_pid_vnr(t));
	if (children)
		return cr_err(ctx, -EBUSY,
			      "task %d has children (running or not reaped): checkpoint the tree (CR_CHECKPOINT_TREE)",
			      task_pid_vnr(t));
	if (tracees)
		return cr_err(ctx, -EBUSY, "task %d traces other tasks",
			      task_pid_vnr(t));
	return 0;
}

/**
 * cr_mm_tasks() - count the tasks that run in an address space
 * @mm: the address space.
 *
 * mm_users also counts the references a /proc reader, ptrace or a kernel
 * thread takes for a while: those do not share the address space the way
 * a task created with CLONE_VM does, and must not make checkpoint or
 * restart fail.  Walks every task: call it when mm_users is not enough.
 *
 * Return: the number of user tasks (threads) whose address space is @mm.
 */
int cr_mm_tasks(const struct mm_struct *mm)
{
	struct task_struct *p, *t;
	int n = 0;

	rcu_read_lock();
	for_each_process_thread(p, t)
		if (!(t->flags & PF_KTHREAD) && READ_ONCE(t->mm) == mm)
			n++;
	rcu_read_unlock();
	return n;
}

/* A task alone, not in a tree, shares nothing with another task */
static int check_alone(struct cr_ctx *ctx, struct task_struct *t)
{
	pid_t pid = task_pid_vnr(t);

	if (atomic_read(&t->files->count) > 1)
		return cr_err(ctx, -EBUSY, "task %d shares its file table", pid);
	if (READ_ONCE(t->fs->users) > 1)
		return cr_err(ctx, -EBUSY, "task %d shares its fs_struct", pid);
	if (refcount_read(&t->sighand->count) > 1)
		return cr_err(ctx, -EBUSY, "task %d shares its signal handlers",
			      pid);
	return 0;
}

/*
 * The threads of a process share its tables.  What else shares them, in
 * a tree, is checked by the tree (see checkpoint/tree.c).
 */
static int check_sharing(struct cr_ctx *ctx, struct task_struct *t)
{
	struct task_struct *leader = t->group_leader;
	const struct mm_struct *mm = NULL;
	int ret = 0;

	if (!thread_group_empty(t) && !ctx->tree)
		return cr_err(ctx, -EBUSY,
			      "task %d is multi-threaded: checkpoint it with CR_CHECKPOINT_TREE",
			      task_pid_vnr(t));
	task_lock(t);
	if (!t->mm || !t->files || !t->fs)
		ret = cr_err(ctx, -ESRCH, "task %d is exiting", task_pid_vnr(t));
	else if (t != leader && (t->files != READ_ONCE(leader->files) ||
				 t->fs != READ_ONCE(leader->fs)))
		ret = cr_err(ctx, -EOPNOTSUPP,
			     "thread %d has a file table or an fs_struct of its own",
			     task_pid_vnr(t));
	else if (!ctx->tree)
		ret = check_alone(ctx, t);
	if (!ret && !ctx->tree && atomic_read(&t->mm->mm_users) > 1)
		mm = t->mm;
	task_unlock(t);
	/* Walks every task: not under task_lock(); @mm only compared */
	if (mm && cr_mm_tasks(mm) > 1)
		ret = cr_err(ctx, -EBUSY, "task %d shares its address space",
			     task_pid_vnr(t));
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
	bool reachable;

#ifdef CONFIG_SECCOMP
	if (t->seccomp.mode != SECCOMP_MODE_DISABLED)
		return cr_err(ctx, -EOPNOTSUPP, "task %d uses seccomp", pid);
#endif
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
	reachable = path_is_under(&root, &here);
	path_put(&here);
	path_put(&root);
	if (!reachable)
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d: its root directory is not under the caller's",
			      pid);
	return 0;
}

/*
 * prctl() state the task record has no room for.  The default timer slack
 * (what prctl(PR_SET_TIMERSLACK, 0) goes back to) is the parent's slack at
 * fork; the boot default is the slack of init_task, which nothing changes.
 */
static int check_prctl(struct cr_ctx *ctx, struct task_struct *t)
{
	pid_t pid = task_pid_vnr(t);

	if (t->default_timer_slack_ns != init_task.timer_slack_ns)
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d: its default timer slack %llu ns is not the boot default (inherited from a parent with prctl(PR_SET_TIMERSLACK))",
			      pid, t->default_timer_slack_ns);
	if (test_bit(MMF_VM_MERGE_ANY, &t->mm->flags))
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d uses prctl(PR_SET_MEMORY_MERGE)", pid);
	if (test_task_syscall_work(t, SYSCALL_USER_DISPATCH))
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d uses syscall user dispatch", pid);
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
	       cr_check_signals(ctx) ?: check_misc(ctx, t) ?:
	       check_prctl(ctx, t);
}

/* Checkpoint: the records */

/*
 * The choice of prctl(PR_SET_SPECULATION_CTRL) in @state, what
 * prctl(PR_GET_SPECULATION_CTRL) returns: the default where the system
 * does not let the task choose
 */
static unsigned long spec_choice(unsigned long which, int state)
{
	if (state < 0 || !(state & PR_SPEC_PRCTL))
		return spec_default[which];
	return state & (PR_SPEC_ENABLE | PR_SPEC_DISABLE |
			PR_SPEC_FORCE_DISABLE | PR_SPEC_DISABLE_NOEXEC);
}

static u32 spec_task_flags(struct task_struct *t)
{
	unsigned long which, ctrl;
	u32 flags = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(spec_flags); i++) {
		which = spec_flags[i].which;
		ctrl = spec_choice(which, arch_prctl_spec_ctrl_get(t, which));
		if (ctrl == spec_flags[i].ctrl)
			flags |= spec_flags[i].flag;
	}
	return flags;
}

static u32 mm_task_flags(const struct mm_struct *mm)
{
	u32 flags = 0;

	if (test_bit(MMF_DISABLE_THP, &mm->flags))
		flags |= CR_TASK_THP_DISABLE;
	if (test_bit(MMF_HAS_MDWE, &mm->flags))
		flags |= CR_TASK_MDWE;
	if (test_bit(MMF_HAS_MDWE_NO_INHERIT, &mm->flags))
		flags |= CR_TASK_MDWE_NO_INHERIT;
	return flags;
}

static u32 task_flags(struct task_struct *t)
{
	int dumpable = SUID_DUMP_DISABLE;
	u32 flags = 0;

	if (task_no_new_privs(t))
		flags |= CR_TASK_NO_NEW_PRIVS;
	/* A stopped task can still be killed: exit_mm() clears t->mm */
	task_lock(t);
	if (t->mm) {
		dumpable = get_dumpable(t->mm);
		flags |= mm_task_flags(t->mm);
	}
	task_unlock(t);
	switch (dumpable) {
	case SUID_DUMP_USER:
		flags |= CR_TASK_DUMPABLE;
		break;
	case SUID_DUMP_ROOT:
		flags |= CR_TASK_DUMPABLE_ROOT;
		break;
	}
	/* As prctl(PR_MCE_KILL_GET) shows it */
	if (t->flags & PF_MCE_PROCESS)
		flags |= t->flags & PF_MCE_EARLY ? CR_TASK_MCE_KILL_EARLY :
						   CR_TASK_MCE_KILL_LATE;
	if (t->signal->is_child_subreaper)
		flags |= CR_TASK_CHILD_SUBREAPER;
	if ((t->flags & IO_FLUSHER) == IO_FLUSHER)
		flags |= CR_TASK_IO_FLUSHER;
	if (test_tsk_thread_flag(t, TIF_NOTSC))
		flags |= CR_TASK_TSC_SIGSEGV;
	return flags | spec_task_flags(t);
}

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
	th->flags = task_flags(t);
	th->pdeath_signal = t->pdeath_signal;
	th->timer_slack_ns = t->timer_slack_ns;
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

/* A record of type @type with the path of @path as seen from @root */
static int write_path(struct cr_ctx *ctx, u32 type, const struct path *path,
		      const struct path *root, const char *what)
{
	pid_t pid = task_pid_vnr(ctx->task);
	char *buf, *name;
	int ret;

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	name = __d_path(path, root, buf, PATH_MAX);
	if (IS_ERR(name))
		ret = cr_err(ctx, PTR_ERR(name), "task %d: cannot name its %s",
			     pid, what);
	else if (!name)
		ret = cr_err(ctx, -EOPNOTSUPP,
			     type == CR_HDR_CWD ?
			     "task %d: its %s is not under its root directory" :
			     "task %d: its %s is not under the caller's root directory",
			     pid, what);
	else if (d_unlinked(path->dentry))
		ret = cr_err(ctx, -EOPNOTSUPP, "task %d: its %s %s was deleted",
			     pid, what, name);
	else
		ret = cr_write_string(ctx, type, name);
	kfree(buf);
	return ret;
}

/* The root, seen from the caller's; the cwd, seen from the root */
static int write_dirs(struct cr_ctx *ctx)
{
	struct task_struct *t = ctx->task;
	struct path root = {}, pwd, here;
	int ret;

	/* A stopped task can still be killed: exit_fs() clears t->fs */
	task_lock(t);
	if (t->fs) {
		get_fs_root(t->fs, &root);
		get_fs_pwd(t->fs, &pwd);
	}
	task_unlock(t);
	if (!root.mnt)
		return cr_err(ctx, -ESRCH, "task %d is exiting", task_pid_vnr(t));
	get_fs_root(current->fs, &here);
	ret = write_path(ctx, CR_HDR_ROOT, &root, &here, "root directory") ?:
	      write_path(ctx, CR_HDR_CWD, &pwd, &root, "working directory");
	path_put(&here);
	path_put(&pwd);
	path_put(&root);
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
 * cr_write_task() - write the task, credentials, root, cwd and signal
 *                   records
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

	return write_task(ctx) ?: cr_write_creds(ctx) ?: write_dirs(ctx) ?:
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

/*
 * no_new_privs can be set, never cleared; the dumpable state is one of
 * three, and never more than prctl(PR_SET_DUMPABLE, 1) lets anyone set:
 * "dumped as root" (a core written with fsuid 0) needs a caller already
 * dumped as root or CAP_SYS_ADMIN; the machine check policy one of three
 */
static int check_task_flags(struct cr_ctx *ctx, u32 flags)
{
	if (flags & ~TASK_FLAGS)
		return cr_err(ctx, -EINVAL, "unknown task flags %#x",
			      flags & ~TASK_FLAGS);
	if ((flags & CR_TASK_DUMPABLE) && (flags & CR_TASK_DUMPABLE_ROOT))
		return cr_err(ctx, -EINVAL,
			      "task flags both dumpable and dumpable as root");
	if ((flags & CR_TASK_MCE_KILL_LATE) && (flags & CR_TASK_MCE_KILL_EARLY))
		return cr_err(ctx, -EINVAL,
			      "task flags both late and early machine check kill");
	if ((flags & CR_TASK_MDWE_NO_INHERIT) && !(flags & CR_TASK_MDWE))
		return cr_err(ctx, -EINVAL,
			      "task flags: memory-deny-write-execute not inherited, but not set");
	if (task_no_new_privs(current) && !(flags & CR_TASK_NO_NEW_PRIVS))
		return cr_err(ctx, -EPERM,
			      "the caller has no_new_privs, which cannot be cleared, and the task had not");
	if ((flags & CR_TASK_DUMPABLE_ROOT) &&
	    get_dumpable(current->mm) != SUID_DUMP_ROOT &&
	    !capable(CAP_SYS_ADMIN))
		return cr_err(ctx, -EPERM,
			      "task flags dumped as root: the caller is not and lacks CAP_SYS_ADMIN");
	return 0;
}

/*
 * What prctl() would refuse the caller: clearing memory-deny-write-execute
 * it would keep across execve(2), becoming an I/O flusher without
 * CAP_SYS_RESOURCE
 */
static int check_prctl_flags(struct cr_ctx *ctx, u32 flags)
{
	unsigned long mm_flags = current->mm->flags;
	u32 mdwe = flags & (CR_TASK_MDWE | CR_TASK_MDWE_NO_INHERIT);

	if (test_bit(MMF_HAS_MDWE, &mm_flags) &&
	    !test_bit(MMF_HAS_MDWE_NO_INHERIT, &mm_flags) && mdwe != CR_TASK_MDWE)
		return cr_err(ctx, -EPERM,
			      "the caller has memory-deny-write-execute, which cannot be changed, and the task had not");
	if ((flags & CR_TASK_IO_FLUSHER) &&
	    (current->flags & IO_FLUSHER) != IO_FLUSHER &&
	    !capable(CAP_SYS_RESOURCE))
		return cr_err(ctx, -EPERM,
			      "becoming an I/O flusher needs CAP_SYS_RESOURCE");
	return 0;
}

/* The choice of the image for @which: at most one */
static int spec_wanted(struct cr_ctx *ctx, u32 flags, unsigned long which,
		       unsigned long *ctrl)
{
	int i, n = 0;

	*ctrl = spec_default[which];
	for (i = 0; i < ARRAY_SIZE(spec_flags); i++) {
		if (spec_flags[i].which != which || !(flags & spec_flags[i].flag))
			continue;
		*ctrl = spec_flags[i].ctrl;
		n++;
	}
	if (n > 1)
		return cr_err(ctx, -EINVAL,
			      "task flags: %d choices for speculation control %lu",
			      n, which);
	return 0;
}

/*
 * The speculation controls of the image, where the caller's differ: the
 * system must let a task choose, and the caller's must not be forced
 */
static int check_spec(struct cr_ctx *ctx, u32 flags)
{
	unsigned long which, want;
	int state, ret;

	for (which = 0; which < NR_SPEC; which++) {
		ret = spec_wanted(ctx, flags, which, &want);
		if (ret)
			return ret;
		state = arch_prctl_spec_ctrl_get(current, which);
		if (spec_choice(which, state) == want)
			continue;
		if (state < 0 || !(state & PR_SPEC_PRCTL))
			return cr_err(ctx, -EOPNOTSUPP,
				      "speculation control %lu cannot be set here (state %#x)",
				      which, state);
		if (state & PR_SPEC_FORCE_DISABLE)
			return cr_err(ctx, -EPERM,
				      "speculation control %lu: the caller's forced disable cannot be undone",
				      which);
		ctx->ts->spec[which] = want;
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
	if (!valid_signal(th->pdeath_signal))
		return cr_err(ctx, -EINVAL, "bad parent death signal %u",
			      th->pdeath_signal);
	return check_task_flags(ctx, th->flags) ?:
	       check_prctl_flags(ctx, th->flags) ?:
	       check_spec(ctx, th->flags) ?: check_rseq(ctx, th) ?:
	       check_rlimits(ctx, th);
}

static int read_task(struct cr_ctx *ctx, const struct cr_hdr *h)
{
	struct cr_hdr_task *th = &ctx->ts->task;
	int ret;

	ret = cr_read_payload(ctx, h, th, sizeof(*th));
	return ret ?: check_task(ctx, th);
}

/*
 * Read the path record of type @type into @name, and look the directory up
 * from @root (the caller's root if %NULL) with the caller's permissions;
 * chdir(2) and chroot(2) need to search it.
 */
static int read_dir(struct cr_ctx *ctx, u32 type, const struct path *root,
		    struct path *path, char *name, const char *what)
{
	unsigned int flags = LOOKUP_FOLLOW | LOOKUP_DIRECTORY;
	int ret;

	ret = cr_read_string(ctx, type, name, CR_PATH_MAX + 1);
	if (ret < 0)
		return ret;
	if (name[0] != '/')
		return cr_err(ctx, -EINVAL, "%s %s is not absolute", what, name);
	if (root)
		ret = vfs_path_lookup(root->dentry, root->mnt, name, flags, path);
	else
		ret = kern_path(name, flags, path);
	if (ret)
		return cr_err(ctx, ret, "cannot find the %s %s", what, name);
	ret = path_permission(path, MAY_EXEC | MAY_CHDIR);
	if (ret)
		return cr_err(ctx, ret, "cannot enter the %s %s", what, name);
	return 0;
}

/* What chroot(2) checks, for a root other than the caller's */
static int check_chroot(struct cr_ctx *ctx, const struct path *root,
			const char *name)
{
	struct path here;
	bool same;
	int ret;

	get_fs_root(current->fs, &here);
	same = path_equal(root, &here);
	path_put(&here);
	if (same)
		return 0;
	if (!ns_capable(current_user_ns(), CAP_SYS_CHROOT))
		return cr_err(ctx, -EPERM,
			      "changing the root directory to %s needs CAP_SYS_CHROOT",
			      name);
	ret = security_path_chroot(root);
	if (ret)
		return cr_err(ctx, ret, "changing the root directory to %s was refused",
			      name);
	return 0;
}

/* The root in the caller's root, then the cwd in that root */
static int read_dirs(struct cr_ctx *ctx)
{
	struct cr_task_state *ts = ctx->ts;
	char *name;
	int ret;

	name = kmalloc(CR_PATH_MAX + 1, GFP_KERNEL);
	if (!name)
		return -ENOMEM;
	ret = read_dir(ctx, CR_HDR_ROOT, NULL, &ts->root, name,
		       "root directory") ?:
	      check_chroot(ctx, &ts->root, name) ?:
	      read_dir(ctx, CR_HDR_CWD, &ts->root, &ts->cwd, name,
		       "working directory");
	kfree(name);
	return ret;
}

static int check_sigaction(struct cr_ctx *ctx, int sig,
			   const struct cr_sigaction *a)
{
	if (a->handler >= TASK_SIZE || a->restorer >= TASK_SIZE)
		return cr_err(ctx, -EINVAL, "signal %d: bad handler address", sig);
	if ((sig == SIGKILL || sig == SIGSTOP) && a->handler)
		return cr_err(ctx, -EINVAL, "signal %d cannot be caught", sig);
	/* sigaction(2) would drop them silently */
	if (a->flags & ~(u64)UAPI_SA_FLAGS)
		return cr_err(ctx, -EINVAL, "signal %d: unknown flags %#llx", sig,
			      a->flags & ~(u64)UAPI_SA_FLAGS);
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
	       read_dirs(ctx) ?: read_sighand(ctx) ?: cr_read_signals(ctx);
}

/*
 * The queued signals are charged to the user of the restored credentials:
 * the first @n, up to the last one the kernel may refuse, must fit under
 * the image's RLIMIT_SIGPENDING, and under the limits of the user
 * namespaces above, as __sigqueue_alloc() will count them.
 */
static int check_sigpending(struct cr_ctx *ctx, u32 n)
{
	u64 cur = ctx->ts->task.rlim[RLIMIT_SIGPENDING].cur;
	long max = min_t(u64, cur, LONG_MAX), count;
	struct ucounts *iter;

	if (!n)
		return 0;
	for (iter = ctx->ts->cred->ucounts; iter; iter = iter->ns->ucounts) {
		count = get_rlimit_value(iter, UCOUNT_RLIMIT_SIGPENDING);
		if (count > max || n > max - count)
			return cr_err(ctx, -EAGAIN,
				      "%u queued signals above RLIMIT_SIGPENDING: limit %ld, %ld pending already",
				      n, max, count);
		max = get_userns_rlimit_max(iter->ns, UCOUNT_RLIMIT_SIGPENDING);
	}
	return 0;
}

/**
 * cr_check_task_limits() - check what restoring the task will ask of the
 *                          system, right before the point of no return
 * @ctx: the restart, after cr_read_task().
 *
 * What the steps after the point of no return could be refused is refused
 * here instead: the queued signals must fit under RLIMIT_SIGPENDING, the
 * sigaltstack must hold a signal frame of this CPU.
 *
 * Return: 0, -EAGAIN if the queued signals would exceed RLIMIT_SIGPENDING,
 * -ENOMEM for a sigaltstack sigaltstack(2) would refuse.
 */
int cr_check_task_limits(struct cr_ctx *ctx)
{
	u32 charged;

	return cr_check_signal_limits(ctx, &charged) ?:
	       check_sigpending(ctx, cr_tree_charge_signals(ctx, charged));
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

/* After the credentials, which may have made the task not dumpable */
static void restore_flags(u32 flags)
{
	int dumpable = SUID_DUMP_DISABLE;

	if (flags & CR_TASK_NO_NEW_PRIVS)
		task_set_no_new_privs(current);
	if (flags & CR_TASK_DUMPABLE)
		dumpable = SUID_DUMP_USER;
	else if (flags & CR_TASK_DUMPABLE_ROOT)
		dumpable = SUID_DUMP_ROOT;
	set_dumpable(current->mm, dumpable);
	/* prctl(PR_MCE_KILL), which needs no privilege */
	current->flags &= ~(PF_MCE_PROCESS | PF_MCE_EARLY);
	if (flags & (CR_TASK_MCE_KILL_LATE | CR_TASK_MCE_KILL_EARLY))
		current->flags |= PF_MCE_PROCESS;
	if (flags & CR_TASK_MCE_KILL_EARLY)
		current->flags |= PF_MCE_EARLY;
	/* prctl(PR_SET_IO_FLUSHER), checked before */
	current->flags &= ~IO_FLUSHER;
	if (flags & CR_TASK_IO_FLUSHER)
		current->flags |= IO_FLUSHER;
	current->signal->is_child_subreaper = !!(flags & CR_TASK_CHILD_SUBREAPER);
}

/* After the areas, which memory-deny-write-execute would not let map */
static void restore_mm_flags(u32 flags)
{
	struct mm_struct *mm = current->mm;

	mmap_write_lock(mm);
	assign_bit(MMF_DISABLE_THP, &mm->flags, flags & CR_TASK_THP_DISABLE);
	mmap_write_unlock(mm);
	assign_bit(MMF_HAS_MDWE, &mm->flags, flags & CR_TASK_MDWE);
	assign_bit(MMF_HAS_MDWE_NO_INHERIT, &mm->flags,
		   flags & CR_TASK_MDWE_NO_INHERIT);
}

/*
 * The prctl() state the credentials do not reset: after them, as
 * commit_creds() may clear the parent death signal
 */
static int restore_prctl(struct cr_ctx *ctx, const struct cr_hdr_task *th)
{
	unsigned long which;
	int ret;

	current->pdeath_signal = th->pdeath_signal;
	current->default_timer_slack_ns = init_task.timer_slack_ns;
	current->timer_slack_ns = th->timer_slack_ns;
	set_tsc_mode(th->flags & CR_TASK_TSC_SIGSEGV ? PR_TSC_SIGSEGV :
						       PR_TSC_ENABLE);
	restore_mm_flags(th->flags);
	for (which = 0; which < NR_SPEC; which++) {
		if (!ctx->ts->spec[which])
			continue;
		ret = arch_prctl_spec_ctrl_set(current, which,
					       ctx->ts->spec[which]);
		if (ret)
			return cr_err(ctx, ret,
				      "setting speculation control %lu failed",
				      which);
	}
	return 0;
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

	/*
	 * What the threads of a process share, its first thread restores;
	 * what a process shares with its parent, the parent (ctx->share)
	 */
	ret = ctx->share & CR_SHARE_SIGHAND ? 0 : restore_sighand(ctx);
	if (ret)
		return ret;
	sigdelsetmask(&blocked, sigmask(SIGKILL) | sigmask(SIGSTOP));
	set_current_blocked(&blocked);
	set_task_comm(current, (const char *)th->comm);
	if (!ctx->thread)
		restore_rlimits(th);
	restore_ids(th);
	current->personality = th->personality;
	if (!(ctx->share & CR_SHARE_FS)) {
		current->fs->umask = th->umask;
		set_fs_root(current->fs, &ctx->ts->root);
		set_fs_pwd(current->fs, &ctx->ts->cwd);
	}
	/* Signals queued again are charged to the restored credentials */
	cr_commit_creds(&ctx->ts->cred);
	restore_flags(th->flags);
	return restore_prctl(ctx, th) ?: cr_restore_signals(ctx);
}

/**
 * cr_free_task() - free what cr_read_task() kept
 * @ctx: the restart.
 */
void cr_free_task(struct cr_ctx *ctx)
{
	if (!ctx->ts)
		return;
	if (ctx->ts->root.dentry)
		path_put(&ctx->ts->root);
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
	/* A process of a tree shares what its parent restores (ctx->share) */
	if (!(ctx->share & CR_SHARE_VM) &&
	    atomic_read(&current->mm->mm_users) > 1 &&
	    cr_mm_tasks(current->mm) > 1)
		return cr_err(ctx, -EBUSY, "the caller shares its address space");
	if (!(ctx->share & CR_SHARE_FILES) &&
	    atomic_read(&current->files->count) > 1)
		return cr_err(ctx, -EBUSY, "the caller shares its file table");
	if (!(ctx->share & CR_SHARE_FS) && READ_ONCE(current->fs->users) > 1)
		return cr_err(ctx, -EBUSY, "the caller shares its fs_struct");
	if (!(ctx->share & CR_SHARE_SIGHAND) &&
	    refcount_read(&current->sighand->count) > 1)
		return cr_err(ctx, -EBUSY, "the caller shares its signal handlers");
	/* The task had none of these: the caller's would leak into it */
	if (has_pending(current))
		return cr_err(ctx, -EBUSY, "the caller has pending signals");
	if (timers_armed(current->signal))
		return cr_err(ctx, -EBUSY,
			      "the caller has timers, itimers or an alarm");
	/* Address space wide, and would not fit the image's */
	if (test_bit(MMF_VM_MERGE_ANY, &current->mm->flags))
		return cr_err(ctx, -EBUSY,
			      "the caller uses prctl(PR_SET_MEMORY_MERGE)");
	if (test_task_syscall_work(current, SYSCALL_USER_DISPATCH))
		return cr_err(ctx, -EBUSY,
			      "the caller uses syscall user dispatch");
	return 0;
}
