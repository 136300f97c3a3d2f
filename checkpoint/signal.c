// SPDX-License-Identifier: GPL-2.0
/*
 * Signal and timer state of a task: pending signals with their
 * information, the alternate signal stack, the interval timers, and the
 * interrupted system call a stopped task resumes (its restart block).
 *
 * Times are saved as what is left: they do not elapse while the task is in
 * an image.  Queued signals are saved as the task would receive them, ids
 * included: they were translated into its namespaces when they were sent,
 * and the restarted task, which is in the same user namespace as the
 * caller of checkpoint, receives them unchanged.
 */

#include <linux/cgroup.h>
#include <linux/checkpoint.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/poll.h>
#include <linux/posix-timers.h>
#include <linux/ptrace.h>
#include <linux/restart_block.h>
#include <linux/sched.h>
#include <linux/sched/cputime.h>
#include <linux/sched/jobctl.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/thread_info.h>
#include <linux/time.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include <asm/syscall.h>
#include <asm/unistd.h>

/* The futex flags of a restart block (FLAGS_*), futex_wait_restart() */
#include "../kernel/futex/futex.h"

/**
 * struct cr_signal_state - signal state read from an image, until restored
 * @sig: the signal record, validated.
 * @rb: the restart block record, validated.
 * @info: the queued signals, private queue first; sig.nr_queued[] of each.
 */
struct cr_signal_state {
	struct cr_hdr_signal sig;
	struct cr_hdr_restart_block rb;
	kernel_siginfo_t *info;
};

/* The queues of a task, indexed by CR_SIGQ_* */
static struct sigpending *queue_of(struct task_struct *t, int q)
{
	return q == CR_SIGQ_SHARED ? &t->signal->shared_pending : &t->pending;
}

/*
 * Restart blocks: the kinds of interrupted system calls an image can hold,
 * indexed by CR_RESTART_*.  For each: whether a restart block is one it
 * saves, how it is saved, which fields of the record it uses (the others
 * must be zero), how they are checked and how it is rebuilt.
 */
struct rb_kind {
	const char *name;
	bool (*saved)(const struct restart_block *rb);
	void (*fill)(const struct restart_block *rb,
		     struct cr_hdr_restart_block *hr);
	u32 used;
	int (*check)(struct cr_ctx *ctx, const struct cr_hdr_restart_block *hr);
	void (*restore)(const struct cr_hdr_restart_block *hr,
			struct restart_block *rb);
};

/* The fields of the record a kind may use (&rb_kind.used) */
#define RB_CLOCKID	BIT(0)
#define RB_REMAINING	BIT(1)
#define RB_RMTP		BIT(2)
#define RB_EXPIRES	BIT(3)
#define RB_UADDR	BIT(4)
#define RB_VAL		BIT(5)
#define RB_BITSET	BIT(6)
#define RB_FLAGS	BIT(7)
#define RB_NFDS		BIT(8)

static ktime_t clock_now(clockid_t id)
{
	switch (id) {
	case CLOCK_REALTIME:
		return ktime_get_real();
	case CLOCK_BOOTTIME:
		return ktime_get_boottime();
	case CLOCK_TAI:
		return ktime_get_clocktai();
	}
	return ktime_get();
}

/* Nanoseconds from now on @id to @expires, 0 if past */
static u64 left(ktime_t expires, clockid_t id)
{
	ktime_t d = ktime_sub(expires, clock_now(id));

	return d > 0 ? d : 0;
}

/* Relative sleeps (absolute ones are made again: no restart block) */

static bool is_nanosleep(const struct restart_block *rb)
{
	switch (rb->nanosleep.clockid) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
	case CLOCK_TAI:
		break;
	default:
		return false;
	}
	return rb->fn == hrtimer_nanosleep_restart &&
	       (rb->nanosleep.type == TT_NONE ||
		rb->nanosleep.type == TT_NATIVE);
}

static void fill_nanosleep(const struct restart_block *rb,
			   struct cr_hdr_restart_block *hr)
{
	hr->clockid = rb->nanosleep.clockid;
	hr->remaining = left(rb->nanosleep.expires, rb->nanosleep.clockid);
	if (rb->nanosleep.type == TT_NATIVE)
		hr->rmtp = (unsigned long)rb->nanosleep.rmtp;
}

static int check_nanosleep(struct cr_ctx *ctx,
			   const struct cr_hdr_restart_block *hr)
{
	if (hr->clockid != CLOCK_REALTIME && hr->clockid != CLOCK_MONOTONIC &&
	    hr->clockid != CLOCK_BOOTTIME && hr->clockid != CLOCK_TAI)
		return cr_err(ctx, -EINVAL, "nanosleep on clock %d", hr->clockid);
	if (hr->remaining > CR_TIME_MAX)
		return cr_err(ctx, -EINVAL, "nanosleep of %llu ns",
			      hr->remaining);
	if (hr->rmtp >= TASK_SIZE)
		return cr_err(ctx, -EINVAL, "nanosleep rmtp %#llx", hr->rmtp);
	return 0;
}

/* Writes what is left to the same rmtp if it is interrupted again */
static void restore_nanosleep(const struct cr_hdr_restart_block *hr,
			      struct restart_block *rb)
{
	rb->nanosleep.clockid = hr->clockid;
	rb->nanosleep.expires = ktime_add_safe(clock_now(hr->clockid),
					       hr->remaining);
	rb->nanosleep.type = hr->rmtp ? TT_NATIVE : TT_NONE;
	rb->nanosleep.rmtp = u64_to_user_ptr(hr->rmtp);
	set_restart_fn(rb, hrtimer_nanosleep_restart);
}

/*
 * Futex waits with a timeout (FUTEX_WAIT, FUTEX_WAIT_BITSET of futex(2),
 * or futex_wait(2) on a 32-bit word); those without one are made again.
 */

#define FUTEX_SAVED	(FLAGS_SIZE_MASK | FLAGS_SHARED | FLAGS_CLOCKRT | \
			 FLAGS_HAS_TIMEOUT)

static bool is_futex(const struct restart_block *rb)
{
	u32 flags = rb->futex.flags;

	return IS_ENABLED(CONFIG_FUTEX) && rb->fn == futex_wait_restart &&
	       !(flags & ~FUTEX_SAVED) && (flags & FLAGS_HAS_TIMEOUT) &&
	       (flags & FLAGS_SIZE_MASK) == FLAGS_SIZE_32;
}

/* A deadline on CLOCK_REALTIME stays; one on CLOCK_MONOTONIC is what is left */
static void fill_futex(const struct restart_block *rb,
		       struct cr_hdr_restart_block *hr)
{
	ktime_t t = rb->futex.time;

	hr->uaddr = (unsigned long)rb->futex.uaddr;
	hr->val = rb->futex.val;
	hr->bitset = rb->futex.bitset;
	if (rb->futex.flags & FLAGS_SHARED)
		hr->flags = CR_RESTART_SHARED;
	if (rb->futex.flags & FLAGS_CLOCKRT) {
		hr->clockid = CLOCK_REALTIME;
		hr->expires = t > 0 ? t : 0;
	} else {
		hr->clockid = CLOCK_MONOTONIC;
		hr->remaining = left(t, CLOCK_MONOTONIC);
	}
}

static int check_futex(struct cr_ctx *ctx,
		       const struct cr_hdr_restart_block *hr)
{
	bool rt = hr->clockid == CLOCK_REALTIME;

	if (!IS_ENABLED(CONFIG_FUTEX))
		return cr_err(ctx, -EOPNOTSUPP, "futex wait without CONFIG_FUTEX");
	if (hr->flags & ~CR_RESTART_SHARED)
		return cr_err(ctx, -EINVAL, "futex wait flags %#x", hr->flags);
	if (!rt && hr->clockid != CLOCK_MONOTONIC)
		return cr_err(ctx, -EINVAL, "futex wait on clock %d",
			      hr->clockid);
	if ((rt ? hr->remaining : hr->expires) ||
	    (rt ? hr->expires : hr->remaining) > CR_TIME_MAX)
		return cr_err(ctx, -EINVAL,
			      "futex wait on clock %d: %llu ns left, deadline %llu",
			      hr->clockid, hr->remaining, hr->expires);
	if (!IS_ALIGNED(hr->uaddr, sizeof(u32)) ||
	    hr->uaddr > TASK_SIZE - sizeof(u32))
		return cr_err(ctx, -EINVAL, "futex wait at %#llx", hr->uaddr);
	if (!hr->bitset)
		return cr_err(ctx, -EINVAL, "futex wait with an empty bitset");
	return 0;
}

static void restore_futex(const struct cr_hdr_restart_block *hr,
			  struct restart_block *rb)
{
	u32 flags = FLAGS_SIZE_32 | FLAGS_HAS_TIMEOUT;

	if (!IS_ENABLED(CONFIG_FUTEX))
		return;
	if (hr->flags & CR_RESTART_SHARED)
		flags |= FLAGS_SHARED;
	if (hr->clockid == CLOCK_REALTIME) {
		flags |= FLAGS_CLOCKRT;
		rb->futex.time = hr->expires;
	} else {
		rb->futex.time = ktime_add_safe(ktime_get(), hr->remaining);
	}
	rb->futex.uaddr = u64_to_user_ptr(hr->uaddr);
	rb->futex.val = hr->val;
	rb->futex.bitset = hr->bitset;
	rb->futex.flags = flags;
	set_restart_fn(rb, futex_wait_restart);
}

/* poll(2), with or without a timeout; ppoll and select are made again */

static bool is_poll(const struct restart_block *rb)
{
	return rb->fn == do_restart_poll;
}

static void fill_poll(const struct restart_block *rb,
		      struct cr_hdr_restart_block *hr)
{
	struct timespec64 end = {
		.tv_sec = rb->poll.tv_sec, .tv_nsec = rb->poll.tv_nsec,
	};

	hr->clockid = CLOCK_MONOTONIC;
	hr->uaddr = (unsigned long)rb->poll.ufds;
	hr->nfds = rb->poll.nfds;
	if (!rb->poll.has_timeout)
		return;
	hr->flags = CR_RESTART_TIMEOUT;
	hr->remaining = left(timespec64_to_ktime(end), CLOCK_MONOTONIC);
}

/* poll(2) checks nfds against RLIMIT_NOFILE, at most fs.nr_open */
static int check_poll(struct cr_ctx *ctx, const struct cr_hdr_restart_block *hr)
{
	if (hr->flags & ~CR_RESTART_TIMEOUT)
		return cr_err(ctx, -EINVAL, "poll flags %#x", hr->flags);
	if (hr->clockid != CLOCK_MONOTONIC)
		return cr_err(ctx, -EINVAL, "poll on clock %d", hr->clockid);
	if (hr->remaining > CR_TIME_MAX ||
	    (hr->remaining && !(hr->flags & CR_RESTART_TIMEOUT)))
		return cr_err(ctx, -EINVAL, "poll with %llu ns left",
			      hr->remaining);
	if (hr->nfds > READ_ONCE(sysctl_nr_open))
		return cr_err(ctx, -EINVAL, "poll of %u descriptors", hr->nfds);
	if (hr->uaddr >= TASK_SIZE ||
	    (u64)hr->nfds * sizeof(struct pollfd) > TASK_SIZE - hr->uaddr)
		return cr_err(ctx, -EINVAL, "poll of %u descriptors at %#llx",
			      hr->nfds, hr->uaddr);
	return 0;
}

static void restore_poll(const struct cr_hdr_restart_block *hr,
			 struct restart_block *rb)
{
	struct timespec64 end;

	rb->poll.ufds = u64_to_user_ptr(hr->uaddr);
	rb->poll.nfds = hr->nfds;
	rb->poll.has_timeout = !!(hr->flags & CR_RESTART_TIMEOUT);
	if (rb->poll.has_timeout) {
		end = ktime_to_timespec64(ktime_add_safe(ktime_get(),
							 hr->remaining));
		rb->poll.tv_sec = end.tv_sec;
		rb->poll.tv_nsec = end.tv_nsec;
	}
	set_restart_fn(rb, do_restart_poll);
}

static const struct rb_kind rb_kinds[] = {
	[CR_RESTART_NONE] = { .name = "none" },
	[CR_RESTART_NANOSLEEP] = {
		.name = "nanosleep",
		.saved = is_nanosleep, .fill = fill_nanosleep,
		.used = RB_CLOCKID | RB_REMAINING | RB_RMTP,
		.check = check_nanosleep, .restore = restore_nanosleep,
	},
	[CR_RESTART_FUTEX] = {
		.name = "futex wait",
		.saved = is_futex, .fill = fill_futex,
		.used = RB_CLOCKID | RB_REMAINING | RB_EXPIRES | RB_UADDR |
			RB_VAL | RB_BITSET | RB_FLAGS,
		.check = check_futex, .restore = restore_futex,
	},
	[CR_RESTART_POLL] = {
		.name = "poll",
		.saved = is_poll, .fill = fill_poll,
		.used = RB_CLOCKID | RB_REMAINING | RB_UADDR | RB_FLAGS |
			RB_NFDS,
		.check = check_poll, .restore = restore_poll,
	},
};

/* Checkpoint: what cannot be saved */

/* Stopped with a restart block to run on its return to user space */
static bool in_restart_block(struct task_struct *t)
{
	struct pt_regs *regs = task_pt_regs(t);

	return t != current && syscall_get_nr(t, regs) >= 0 &&
	       syscall_get_error(t, regs) == -ERESTART_RESTARTBLOCK;
}

/* The kind of a restart block, or NULL if it cannot be saved */
static const struct rb_kind *kind_of(const struct restart_block *rb)
{
	int i;

	for (i = CR_RESTART_NONE + 1; i <= CR_RESTART_POLL; i++)
		if (rb_kinds[i].saved(rb))
			return &rb_kinds[i];
	return NULL;
}

static const char *syscall_name(long nr)
{
	switch (nr) {
	case __NR_poll:
		return "poll";
	case __NR_futex:
		return "futex";
	case __NR_futex_wait:
		return "futex_wait";
	case __NR_nanosleep:
		return "nanosleep";
	case __NR_clock_nanosleep:
		return "clock_nanosleep";
	case __NR_restart_syscall:
		return "restart_syscall";
	}
	return "?";
}

/*
 * The restart blocks of relative sleeps, futex waits and polls are saved;
 * others (sleeps on CPU or alarm clocks, futex2 waits on other than 32-bit
 * words) are refused.
 */
static int check_restart_block(struct cr_ctx *ctx, struct task_struct *t)
{
	const struct restart_block *rb = &t->restart_block;
	long nr;

	if (!in_restart_block(t) || rb->fn == do_no_restart_syscall ||
	    kind_of(rb))
		return 0;
	nr = syscall_get_nr(t, task_pt_regs(t));
	return cr_err(ctx, -EOPNOTSUPP,
		      "task %d is stopped in system call %ld (%s) whose restart cannot be saved yet",
		      task_pid_vnr(t), nr, syscall_name(nr));
}

/*
 * A ptrace stop that reports a system call, an event or a signal to the
 * tracer would lose it; group stops (PTRACE_EVENT_STOP traps, or the stop
 * of a task attached with PTRACE_ATTACH) only wait.  So does the report
 * of a SIGSTOP (that of PTRACE_ATTACH, say): the restarted task
 * runs, as after a SIGCONT.
 */
static int check_ptrace_stop(struct cr_ctx *ctx, struct task_struct *t)
{
	const kernel_siginfo_t *si;
	pid_t pid = task_pid_vnr(t);
	int signo = 0, code = 0;

	if (t == current)
		return 0;
	spin_lock_irq(&t->sighand->siglock);
	si = t->ptrace ? t->last_siginfo : NULL;
	if (si) {
		signo = si->si_signo;
		code = si->si_code;
	}
	spin_unlock_irq(&t->sighand->siglock);
	if (!signo || code >> 8 == PTRACE_EVENT_STOP || signo == SIGSTOP)
		return 0;
	if (signo == SIGTRAP && (code & ~0x80) == SIGTRAP)
		return cr_err(ctx, -EBUSY,
			      "task %d is in a ptrace syscall-entry/exit stop", pid);
	if (signo == SIGTRAP && code >> 8)
		return cr_err(ctx, -EBUSY,
			      "task %d is in a ptrace event stop (event %d)", pid,
			      code >> 8);
	return cr_err(ctx, -EBUSY,
		      "task %d is in a ptrace signal-delivery stop (signal %d)",
		      pid, signo);
}

/**
 * cr_check_signals() - refuse signal state that cannot be saved
 * @ctx: the checkpoint; ctx->task is the task.
 *
 * Refused: POSIX timers, a pending SIGKILL, a ptrace stop that is not a
 * group stop, and a restart block other than that of a relative sleep, a
 * futex wait or a poll.
 *
 * Return: 0, or -EBUSY or -EOPNOTSUPP with a message.
 */
int cr_check_signals(struct cr_ctx *ctx)
{
	struct task_struct *t = ctx->task;
	pid_t pid = task_pid_vnr(t);
	bool timers, killed;

	spin_lock_irq(&t->sighand->siglock);
	timers = IS_ENABLED(CONFIG_POSIX_TIMERS) &&
		 !hlist_empty(&t->signal->posix_timers);
	killed = sigismember(&t->pending.signal, SIGKILL) ||
		 sigismember(&t->signal->shared_pending.signal, SIGKILL);
	spin_unlock_irq(&t->sighand->siglock);
	if (timers)
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d has POSIX timers (timer_create): not supported yet",
			      pid);
	if (killed)
		return cr_err(ctx, -EBUSY, "task %d is being killed", pid);
	return check_ptrace_stop(ctx, t) ?: check_restart_block(ctx, t);
}

/* Checkpoint: the records */

/* The queued signals of a task, taken under its siglock */
struct sigsnap {
	u64 mask[2];
	u32 nr[2];
	u32 max;
	kernel_siginfo_t *info;
};

/*
 * A task in a group stop restarts running, as if continued: SIGCONT would
 * have flushed its pending stop signals.
 */
static bool dropped(struct task_struct *t, int sig)
{
	return (t->signal->flags & SIGNAL_STOP_STOPPED) && sig_kernel_stop(sig);
}

/* Fill @s, or count in it what does not fit; siglock held */
static void snap_queues(struct task_struct *t, struct sigsnap *s)
{
	struct sigqueue *q;
	u32 n = 0;
	int i, sig;

	lockdep_assert_held(&t->sighand->siglock);
	/* The shared queue is the process's, saved with its first thread */
	s->mask[CR_SIGQ_SHARED] = 0;
	s->nr[CR_SIGQ_SHARED] = 0;
	for (i = 0; i < (thread_group_leader(t) ? 2 : 1); i++) {
		s->mask[i] = queue_of(t, i)->signal.sig[0];
		s->nr[i] = 0;
		for (sig = 1; sig <= _NSIG; sig++)
			if (dropped(t, sig))
				s->mask[i] &= ~sigmask(sig);
		list_for_each_entry(q, &queue_of(t, i)->list, list) {
			if (dropped(t, q->info.si_signo))
				continue;
			if (n < s->max)
				s->info[n] = q->info;
			n++;
			s->nr[i]++;
		}
	}
}

static int snap_signals(struct cr_ctx *ctx, struct sigsnap *s)
{
	struct task_struct *t = ctx->task;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		spin_lock_irq(&t->sighand->siglock);
		snap_queues(t, s);
		spin_unlock_irq(&t->sighand->siglock);
		if (s->nr[0] + s->nr[1] <= s->max)
			return 0;
		if (s->nr[0] + s->nr[1] > CR_SIGINFO_MAX)
			return cr_err(ctx, -EOPNOTSUPP,
				      "task %d has %u queued signals, more than %u",
				      task_pid_vnr(t), s->nr[0] + s->nr[1],
				      CR_SIGINFO_MAX);
		kvfree(s->info);
		s->max = s->nr[0] + s->nr[1];
		s->info = kvmalloc_array(s->max, sizeof(*s->info), GFP_KERNEL);
		if (!s->info)
			return -ENOMEM;
	}
	return cr_err(ctx, -EBUSY, "task %d: signals keep arriving",
		      task_pid_vnr(t));
}

static void fill_itimers(struct task_struct *t, struct cr_itimer *it)
{
	struct signal_struct *sig = t->signal;
	static const int clock[] = {
		[ITIMER_VIRTUAL] = CPUCLOCK_VIRT, [ITIMER_PROF] = CPUCLOCK_PROF,
	};
	u64 samples[CPUCLOCK_MAX];
	ktime_t rem;
	int i;

	spin_lock_irq(&t->sighand->siglock);
	if (hrtimer_active(&sig->real_timer)) {
		rem = hrtimer_get_remaining(&sig->real_timer);
		/* About to fire: as getitimer(2) says */
		it[ITIMER_REAL].value = rem > 0 ? rem : NSEC_PER_USEC;
		it[ITIMER_REAL].interval = sig->it_real_incr;
	}
	for (i = ITIMER_VIRTUAL; i <= ITIMER_PROF; i++) {
		struct cpu_itimer *c = &sig->it[clock[i]];

		it[i].interval = c->incr;
		if (!c->expires)
			continue;
		thread_group_sample_cputime(t, samples);
		it[i].value = c->expires > samples[clock[i]] ?
			      c->expires - samples[clock[i]] : TICK_NSEC;
	}
	spin_unlock_irq(&t->sighand->siglock);
}

/*
 * The group stop the process of @t is in, if it is one of its own: see
 * &struct cr_hdr_signal.  A stop while the cgroup freezer freezes the
 * process is; one while it is not frozen may be the one the caller of
 * checkpoint made for it, and is not kept.
 */
static u32 own_stop(struct task_struct *t)
{
	struct signal_struct *sig = t->signal;
	bool freezing = false;
	u32 stop = 0;

#ifdef CONFIG_CGROUPS
	rcu_read_lock();
	freezing = test_bit(CGRP_FREEZE, &task_dfl_cgroup(t)->flags);
	rcu_read_unlock();
#endif
	spin_lock_irq(&t->sighand->siglock);
	if (freezing && (sig->flags & SIGNAL_STOP_STOPPED) && !t->ptrace) {
		stop = t->jobctl & JOBCTL_STOP_SIGMASK;
		if (!sig->group_exit_code)
			stop |= CR_STOP_REPORTED;
	}
	spin_unlock_irq(&t->sighand->siglock);
	return sig_kernel_stop(stop & 0xff) ? stop : 0;
}

static int write_signal(struct cr_ctx *ctx, const struct sigsnap *s)
{
	struct task_struct *t = ctx->task;
	struct cr_hdr_signal *hs;
	int ret;

	hs = cr_hbuf_get(ctx, sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	memcpy(hs->pending, s->mask, sizeof(hs->pending));
	memcpy(hs->nr_queued, s->nr, sizeof(hs->nr_queued));
	hs->ss_sp = t->sas_ss_sp;
	hs->ss_size = t->sas_ss_size;
	hs->ss_flags = t->sas_ss_flags;
	if (thread_group_leader(t)) {
		fill_itimers(t, hs->itimer);
		hs->stop = own_stop(t);
	}
	ret = cr_write_rec(ctx, hs, CR_HDR_SIGNAL, sizeof(*hs));
	cr_hbuf_put(ctx, hs);
	return ret;
}

static int write_siginfo(struct cr_ctx *ctx, int queue,
			 const kernel_siginfo_t *info)
{
	struct cr_hdr_siginfo *hi;
	int ret;

	hi = cr_hbuf_get(ctx, sizeof(*hi));
	if (!hi)
		return -ENOMEM;
	hi->queue = queue;
	hi->signo = info->si_signo;
	hi->err = info->si_errno;
	hi->code = info->si_code;
	memcpy(hi->fields, &info->_sifields, sizeof(hi->fields));
	ret = cr_write_rec(ctx, hi, CR_HDR_SIGINFO, sizeof(*hi));
	cr_hbuf_put(ctx, hi);
	return ret;
}

static void fill_restart_block(struct task_struct *t,
			       struct cr_hdr_restart_block *hr)
{
	const struct restart_block *rb = &t->restart_block;
	const struct rb_kind *k;

	if (!in_restart_block(t))
		return;
	k = kind_of(rb);
	if (!k)
		return;
	hr->kind = k - rb_kinds;
	k->fill(rb, hr);
}

static int write_restart_block(struct cr_ctx *ctx)
{
	struct cr_hdr_restart_block *hr;
	int ret;

	hr = cr_hbuf_get(ctx, sizeof(*hr));
	if (!hr)
		return -ENOMEM;
	fill_restart_block(ctx->task, hr);
	ret = cr_write_rec(ctx, hr, CR_HDR_RESTART_BLOCK, sizeof(*hr));
	cr_hbuf_put(ctx, hr);
	return ret;
}

/**
 * cr_write_signals() - write the signal, siginfo and restart block records
 * @ctx: the checkpoint; ctx->task is the task, checked by
 *       cr_check_signals().
 *
 * Return: 0, or a negative errno.
 */
int cr_write_signals(struct cr_ctx *ctx)
{
	struct sigsnap s = {};
	u32 i;
	int ret;

	BUILD_BUG_ON(sizeof(((kernel_siginfo_t *)0)->_sifields) !=
		     CR_SIGINFO_FIELDS);
	BUILD_BUG_ON(KTIME_MAX != CR_TIME_MAX);
	ret = snap_signals(ctx, &s);
	if (!ret)
		ret = write_signal(ctx, &s);
	for (i = 0; !ret && i < s.nr[0] + s.nr[1]; i++)
		ret = write_siginfo(ctx, i < s.nr[0] ? CR_SIGQ_PRIVATE :
				    CR_SIGQ_SHARED, &s.info[i]);
	kvfree(s.info);
	return ret ?: write_restart_block(ctx);
}

/* Restart: read and check, before the point of no return */

/* What sigaltstack(2) accepts */
static int check_altstack(struct cr_ctx *ctx, const struct cr_hdr_signal *hs)
{
	u32 mode = hs->ss_flags & ~SS_FLAG_BITS;

	if ((hs->ss_flags & SS_FLAG_BITS & ~SS_AUTODISARM) ||
	    (mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE))
		return cr_err(ctx, -EINVAL, "bad sigaltstack flags %#x",
			      hs->ss_flags);
	if (!hs->ss_size || mode == SS_DISABLE) {
		if (hs->ss_sp || hs->ss_size)
			return cr_err(ctx, -EINVAL,
				      "disabled sigaltstack with an area");
		return 0;
	}
	if (hs->ss_size < MINSIGSTKSZ || hs->ss_sp >= TASK_SIZE ||
	    hs->ss_size > TASK_SIZE - hs->ss_sp)
		return cr_err(ctx, -EINVAL, "bad sigaltstack %#llx (%llu bytes)",
			      hs->ss_sp, hs->ss_size);
	return 0;
}

static int check_signal(struct cr_ctx *ctx, const struct cr_hdr_signal *hs)
{
	u64 pending = hs->pending[0] | hs->pending[1];
	int i;

	if (memchr_inv(hs->reserved2, 0, sizeof(hs->reserved2)))
		return cr_err(ctx, -EINVAL, "reserved signal fields are not zero");
	if (hs->stop &&
	    (ctx->thread || (hs->stop & ~(CR_STOP_REPORTED | 0xff)) ||
	     !sig_kernel_stop(hs->stop & 0xff) || (pending & sigmask(SIGCONT))))
		return cr_err(ctx, -EINVAL, "bad group stop %#x", hs->stop);
	for (i = 0; i < 2; i++)
		if (hs->pending[i] & sigmask(SIGKILL))
			return cr_err(ctx, -EINVAL, "SIGKILL is pending");
	/* Queueing one discards the other (prepare_signal()) */
	if ((pending & SIG_KERNEL_STOP_MASK) && (pending & sigmask(SIGCONT)))
		return cr_err(ctx, -EINVAL,
			      "a stop signal and SIGCONT are both pending");
	if (hs->nr_queued[0] > CR_SIGINFO_MAX ||
	    hs->nr_queued[1] > CR_SIGINFO_MAX - hs->nr_queued[0])
		return cr_err(ctx, -EINVAL, "%u + %u queued signals, more than %u",
			      hs->nr_queued[0], hs->nr_queued[1], CR_SIGINFO_MAX);
	for (i = 0; i < ARRAY_SIZE(hs->itimer); i++)
		if (hs->itimer[i].value > CR_TIME_MAX ||
		    hs->itimer[i].interval > CR_TIME_MAX)
			return cr_err(ctx, -EINVAL, "itimer %d: bad time", i);
	return check_altstack(ctx, hs);
}

/* What a process may queue to itself with rt_sigqueueinfo(2) */
static bool valid_code(int sig, int code)
{
	if (code == SI_USER || code == SI_KERNEL)
		return true;
	if (code < 0)
		return code >= SI_ASYNCNL && code != SI_TIMER;
	return code < SI_KERNEL && siginfo_layout(sig, code) != SIL_KILL;
}

static int check_siginfo(struct cr_ctx *ctx, const struct cr_hdr_siginfo *hi,
			 int queue, u64 *seen)
{
	const struct cr_hdr_signal *hs = &ctx->sig->sig;
	int sig = hi->signo;

	if (hi->reserved)
		return cr_err(ctx, -EINVAL, "reserved siginfo field is not zero");
	if (hi->queue != queue)
		return cr_err(ctx, -EINVAL, "siginfo of queue %u, expected %d",
			      hi->queue, queue);
	if (sig < 1 || sig > _NSIG || sig == SIGKILL ||
	    !(hs->pending[queue] & sigmask(sig)))
		return cr_err(ctx, -EINVAL, "queued signal %d is not pending",
			      sig);
	if (sig < SIGRTMIN && (*seen & sigmask(sig)))
		return cr_err(ctx, -EINVAL, "signal %d is queued twice", sig);
	*seen |= sigmask(sig);
	if (!valid_code(sig, hi->code))
		return cr_err(ctx, -EINVAL, "signal %d: bad si_code %d", sig,
			      hi->code);
	return 0;
}

static int read_siginfo(struct cr_ctx *ctx, int queue, u64 *seen,
			kernel_siginfo_t *info)
{
	struct cr_hdr_siginfo *hi;
	int ret;

	hi = cr_hbuf_get(ctx, sizeof(*hi));
	if (!hi)
		return -ENOMEM;
	ret = cr_read_rec(ctx, hi, CR_HDR_SIGINFO, sizeof(*hi));
	if (!ret)
		ret = check_siginfo(ctx, hi, queue, seen);
	if (!ret) {
		clear_siginfo(info);
		info->si_signo = hi->signo;
		info->si_errno = hi->err;
		info->si_code = hi->code;
		memcpy(&info->_sifields, hi->fields, sizeof(hi->fields));
	}
	cr_hbuf_put(ctx, hi);
	return ret;
}

static int read_queues(struct cr_ctx *ctx)
{
	struct cr_signal_state *st = ctx->sig;
	u32 nr = st->sig.nr_queued[0] + st->sig.nr_queued[1], i;
	u64 seen[2] = {};
	int q, ret = 0;

	st->info = kvmalloc_array(nr ?: 1, sizeof(*st->info), GFP_KERNEL);
	if (!st->info)
		return -ENOMEM;
	for (i = 0; i < nr && !ret; i++) {
		q = i < st->sig.nr_queued[0] ? CR_SIGQ_PRIVATE : CR_SIGQ_SHARED;
		ret = read_siginfo(ctx, q, &seen[q], &st->info[i]);
	}
	return ret;
}

/**
 * cr_check_signal_limits() - what queueing the signals read by
 *                            cr_read_signals() needs of the caller
 * @ctx: the restart.
 * @charged: set to the number of queued signals, up to the last one that
 *           RLIMIT_SIGPENDING may refuse, as __send_signal_locked() decides.
 *
 * Before the point of no return.
 *
 * Return: 0, or -ENOMEM for a sigaltstack sigaltstack(2) would refuse.
 */
int cr_check_signal_limits(struct cr_ctx *ctx, u32 *charged)
{
	const struct cr_signal_state *st = ctx->sig;
	const struct cr_hdr_signal *hs = &st->sig;
	u32 i, nr = hs->nr_queued[0] + hs->nr_queued[1];
	bool valid = true;

	*charged = 0;
	for (i = 0; i < nr; i++)
		if (st->info[i].si_signo >= SIGRTMIN || st->info[i].si_code < 0)
			*charged = i + 1;
	if (hs->ss_size && (hs->ss_flags & ~SS_FLAG_BITS) != SS_DISABLE) {
		spin_lock_irq(&current->sighand->siglock);
		valid = sigaltstack_size_valid(hs->ss_size);
		spin_unlock_irq(&current->sighand->siglock);
	}
	if (!valid)
		return cr_err(ctx, -ENOMEM,
			      "sigaltstack of %llu bytes: too small for a signal frame",
			      hs->ss_size);
	return 0;
}

/* Clear the fields in @used of @z */
static void clear_used(struct cr_hdr_restart_block *z, u32 used)
{
	if (used & RB_CLOCKID)
		z->clockid = 0;
	if (used & RB_REMAINING)
		z->remaining = 0;
	if (used & RB_RMTP)
		z->rmtp = 0;
	if (used & RB_EXPIRES)
		z->expires = 0;
	if (used & RB_UADDR)
		z->uaddr = 0;
	if (used & RB_VAL)
		z->val = 0;
	if (used & RB_BITSET)
		z->bitset = 0;
	if (used & RB_FLAGS)
		z->flags = 0;
	if (used & RB_NFDS)
		z->nfds = 0;
}

/* Every field but those in @used, the reserved ones included, is zero */
static int check_unused(struct cr_ctx *ctx,
			const struct cr_hdr_restart_block *hr, u32 used)
{
	struct cr_hdr_restart_block z = *hr;

	memset(&z.h, 0, sizeof(z.h));
	z.kind = 0;
	clear_used(&z, used);
	if (memchr_inv(&z, 0, sizeof(z)))
		return cr_err(ctx, -EINVAL,
			      "%s restart block: a field it does not use is not zero",
			      rb_kinds[hr->kind].name);
	return 0;
}

static int check_restart_rec(struct cr_ctx *ctx,
			     const struct cr_hdr_restart_block *hr)
{
	const struct rb_kind *k;

	if (hr->kind >= ARRAY_SIZE(rb_kinds))
		return cr_err(ctx, -EINVAL, "unknown restart block kind %u",
			      hr->kind);
	k = &rb_kinds[hr->kind];
	return check_unused(ctx, hr, k->used) ?:
	       (k->check ? k->check(ctx, hr) : 0);
}

/**
 * cr_read_signals() - read the signal, siginfo and restart block records
 * @ctx: the restart.
 *
 * Before the point of no return: checks everything, changes nothing.  The
 * state is kept in ctx->sig until cr_restore_signals().
 *
 * Return: 0, or a negative errno (-EINVAL for an invalid record).
 */
int cr_read_signals(struct cr_ctx *ctx)
{
	struct cr_signal_state *st;
	int ret;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	ctx->sig = st;
	ret = cr_read_rec(ctx, &st->sig, CR_HDR_SIGNAL, sizeof(st->sig));
	if (!ret)
		ret = check_signal(ctx, &st->sig);
	if (!ret && ctx->thread &&
	    (st->sig.pending[CR_SIGQ_SHARED] || st->sig.nr_queued[CR_SIGQ_SHARED] ||
	     memchr_inv(st->sig.itimer, 0, sizeof(st->sig.itimer))))
		ret = cr_err(ctx, -EINVAL,
			     "a thread has signals of its process: shared queue or itimers");
	if (!ret)
		ret = read_queues(ctx);
	if (!ret)
		ret = cr_read_rec(ctx, &st->rb, CR_HDR_RESTART_BLOCK,
				  sizeof(st->rb));
	return ret ?: check_restart_rec(ctx, &st->rb);
}

/* Restart: after the point of no return */

/* As setitimer(2) does, for a caller without itimers */
static void restore_itimers(const struct cr_itimer *it)
{
	struct signal_struct *sig = current->signal;
	static const int clock[] = {
		[ITIMER_VIRTUAL] = CPUCLOCK_VIRT, [ITIMER_PROF] = CPUCLOCK_PROF,
	};
	u64 val, none;
	int i;

	spin_lock_irq(&current->sighand->siglock);
	/* Not the caller's, even disarmed: getitimer(2) shows the interval */
	sig->it_real_incr = it[ITIMER_REAL].value ? it[ITIMER_REAL].interval : 0;
	if (it[ITIMER_REAL].value)
		hrtimer_start(&sig->real_timer, it[ITIMER_REAL].value,
			      HRTIMER_MODE_REL);
	for (i = ITIMER_VIRTUAL; i <= ITIMER_PROF; i++) {
		/* What is left to expiry, without setitimer's extra tick */
		val = it[i].value;
		none = 0;
		if (val)
			set_process_cpu_timer(current, clock[i], &val, &none);
		sig->it[clock[i]].expires = val;
		sig->it[clock[i]].incr = it[i].interval;
	}
	spin_unlock_irq(&current->sighand->siglock);
}

static int queue_signal(struct cr_ctx *ctx, kernel_siginfo_t *info, int q)
{
	struct sigpending *pending = queue_of(current, q);
	int sig = info->si_signo, ret;
	bool ignored, was, lost;
	void __user *handler;
	struct list_head *last;

	spin_lock_irq(&current->sighand->siglock);
	handler = current->sighand->action[sig - 1].sa.sa_handler;
	/* Ignored, not blocked: dropped, as the image's dispositions say */
	ignored = !sigismember(&current->blocked, sig) &&
		  (handler == SIG_IGN ||
		   (handler == SIG_DFL && sig_kernel_ignore(sig)));
	was = sigismember(&pending->signal, sig);
	last = pending->list.prev;
	ret = send_signal_locked(sig, info, current,
				 q == CR_SIGQ_SHARED ? PIDTYPE_TGID : PIDTYPE_PID);
	/*
	 * Made pending without its information (a real-time one, without
	 * its instance), over RLIMIT_SIGPENDING - as another process of the
	 * user may have queued signals since the check - or out of memory:
	 * __send_signal_locked() says nothing of it.  A standard signal
	 * pending already is not queued twice.
	 */
	lost = !ret && !ignored && (sig >= SIGRTMIN || !was) &&
	       sigismember(&pending->signal, sig) &&
	       (pending->list.prev == last ||
		list_last_entry(&pending->list, struct sigqueue,
				list)->info.si_signo != sig);
	spin_unlock_irq(&current->sighand->siglock);
	if (ret)
		return cr_err(ctx, ret, "cannot queue signal %d again", sig);
	if (lost)
		return cr_err(ctx, -EAGAIN,
			      "signal %d queued again without its information (RLIMIT_SIGPENDING)",
			      sig);
	return 0;
}

/* Pending signals without information: what dequeuing them gives */
static int restore_bare(struct cr_ctx *ctx, int q, u64 mask)
{
	kernel_siginfo_t info;
	int sig, ret;

	for (sig = 1; sig <= _NSIG; sig++) {
		if (!(mask & sigmask(sig)))
			continue;
		clear_siginfo(&info);
		info.si_signo = sig;
		info.si_code = SI_USER;
		ret = queue_signal(ctx, &info, q);
		if (ret)
			return ret;
	}
	return 0;
}

static int restore_pending(struct cr_ctx *ctx)
{
	struct cr_signal_state *st = ctx->sig;
	u32 nr = st->sig.nr_queued[0] + st->sig.nr_queued[1], i;
	u64 bare[2];
	int q, ret;

	memcpy(bare, st->sig.pending, sizeof(bare));
	for (i = 0; i < nr; i++) {
		q = i < st->sig.nr_queued[0] ? CR_SIGQ_PRIVATE : CR_SIGQ_SHARED;
		bare[q] &= ~sigmask(st->info[i].si_signo);
		ret = queue_signal(ctx, &st->info[i], q);
		if (ret)
			return ret;
	}
	return restore_bare(ctx, CR_SIGQ_PRIVATE, bare[CR_SIGQ_PRIVATE]) ?:
	       restore_bare(ctx, CR_SIGQ_SHARED, bare[CR_SIGQ_SHARED]);
}

/*
 * Put the caller's process back in its group stop: each thread stops on
 * its way to user space, as a thread does that takes part in a group stop
 * another started, but without telling the parent (no JOBCTL_STOP_CONSUME:
 * the stop is complete already); SIGCONT ends it.  The threads of a tree
 * are all created by now.
 */
static void restore_stop(u32 stop)
{
	struct signal_struct *sig = current->signal;
	int signr = stop & 0xff;
	struct task_struct *t;

	spin_lock_irq(&current->sighand->siglock);
	sig->group_exit_code = stop & CR_STOP_REPORTED ? 0 : signr;
	sig->group_stop_count = 0;
	signal_set_stop_flags(sig, SIGNAL_STOP_STOPPED);
	for_each_thread(current, t) {
		if (task_set_jobctl_pending(t, signr | JOBCTL_STOP_PENDING))
			signal_wake_up(t, 0);
	}
	spin_unlock_irq(&current->sighand->siglock);
}

/**
 * cr_restore_signals() - make the signal state read by cr_read_signals()
 *                        the caller's
 * @ctx: the restart.
 *
 * After the point of no return, once the signal dispositions and the
 * blocked signals are restored: the signals are queued again as they were,
 * and those not blocked are delivered on the return to user space.  The
 * interval timers go on from what was left.
 *
 * Return: 0, or a negative errno (-EAGAIN if RLIMIT_SIGPENDING does not
 * let the real-time signals be queued again).
 */
int cr_restore_signals(struct cr_ctx *ctx)
{
	const struct cr_hdr_signal *hs = &ctx->sig->sig;
	int ret;

	current->sas_ss_sp = hs->ss_sp;
	current->sas_ss_size = hs->ss_size;
	current->sas_ss_flags = hs->ss_flags;
	/* The process's, restored by its first thread */
	if (!ctx->thread)
		restore_itimers(hs->itimer);
	ret = restore_pending(ctx);
	if (!ret && hs->stop)
		restore_stop(hs->stop);
	return ret;
}

/**
 * cr_restore_restart_block() - resume the interrupted system call
 * @ctx: the restart, after cr_restore_cpu(), whose registers execute
 *       restart_syscall(2) when the task was stopped in a sleep, a futex
 *       wait with a timeout or a poll.
 *
 * The restart block is the one the system call would have left: a sleep
 * or a wait goes on for the time it had left on the same clock (until the
 * same time for a futex wait on CLOCK_REALTIME), with the same arguments.
 */
void cr_restore_restart_block(struct cr_ctx *ctx)
{
	const struct cr_hdr_restart_block *hr = &ctx->sig->rb;
	const struct rb_kind *k = &rb_kinds[hr->kind];

	if (k->restore)
		k->restore(hr, &current->restart_block);
}

/**
 * cr_free_signals() - free what cr_read_signals() kept
 * @ctx: the restart.
 */
void cr_free_signals(struct cr_ctx *ctx)
{
	if (!ctx->sig)
		return;
	kvfree(ctx->sig->info);
	kfree(ctx->sig);
	ctx->sig = NULL;
}
