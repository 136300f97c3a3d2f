// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart of signal and timer state: pending signals and their
 * information, the alternate signal stack, interval timers, tasks stopped
 * in a sleep, and what is refused (other restart blocks, ptrace stops that
 * report something, POSIX timers, invalid records).
 */

#include "cr_harness.h"

#include <linux/futex.h>
#include <sys/ptrace.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM	0x80000000U
#endif

#define NSEC		1000000000LL
#define MSEC		1000000LL
#define RT1		(SIGRTMIN + 1)
#define RT2		(SIGRTMIN + 2)
#define NR_RT1		5
#define NR_RT2		3

static long long now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

static long long ts_ns(const struct timespec *ts)
{
	return ts->tv_sec * NSEC + ts->tv_nsec;
}

static long long tv_ns(const struct timeval *tv)
{
	return tv->tv_sec * NSEC + tv->tv_usec * 1000LL;
}

static void block(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		_exit(EXIT_SETUP);
}

/* A signal mask line of /proc/PID/status ("SigPnd:", "ShdPnd:") */
static unsigned long long proc_mask(pid_t pid, const char *key)
{
	char buf[4096], path[64], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return ~0ULL;
	p = strstr(buf, key);
	return p ? strtoull(p + strlen(key), NULL, 16) : ~0ULL;
}

static unsigned long long status_mask(const char *key)
{
	return proc_mask(getpid(), key);
}

static unsigned long long bit(int sig)
{
	return 1ULL << (sig - 1);
}

/*
 * Dequeue @sig if pending.  The system call, since glibc's sigtimedwait()
 * turns SI_TKILL into SI_USER.
 */
static int wait_one(int sig, siginfo_t *si)
{
	struct timespec ts = { 0, 0 };
	unsigned long long set = bit(sig);

	return syscall(SYS_rt_sigtimedwait, &set, si, &ts, sizeof(set));
}

/*
 * Pending signals: standard and real-time, private (tgkill,
 * rt_tgsigqueueinfo) and shared (kill, sigqueue), each with its siginfo.
 */

static pid_t orig_pid;
static uid_t orig_uid;
static int usr1_seen;
static siginfo_t usr1_info;

static void usr1_handler(int sig, siginfo_t *si, void *uc)
{
	usr1_info = *si;
	usr1_seen++;
}

static void pending_verify(bool restarted)
{
	struct sigaction sa = { .sa_sigaction = usr1_handler,
				.sa_flags = SA_SIGINFO };
	siginfo_t si;
	sigset_t set;
	int i;

	CHECKF(status_mask("SigPnd:") == (bit(SIGUSR2) | bit(RT2)),
	       "private pending %#llx", status_mask("SigPnd:"));
	CHECKF(status_mask("ShdPnd:") == (bit(SIGUSR1) | bit(RT1)),
	       "shared pending %#llx", status_mask("ShdPnd:"));

	CHECK(wait_one(SIGUSR2, &si) == SIGUSR2);
	CHECKF(si.si_code == SI_TKILL && si.si_pid == orig_pid &&
	       si.si_uid == orig_uid, "SIGUSR2: code %d pid %d uid %d",
	       si.si_code, si.si_pid, si.si_uid);
	for (i = 0; i < NR_RT1; i++) {
		CHECK(wait_one(RT1, &si) == RT1);
		CHECKF(si.si_code == SI_QUEUE && si.si_pid == orig_pid &&
		       si.si_uid == orig_uid && si.si_value.sival_int == 100 + i,
		       "RT1 #%d: code %d pid %d uid %d value %d", i, si.si_code,
		       si.si_pid, si.si_uid, si.si_value.sival_int);
	}
	for (i = 0; i < NR_RT2; i++) {
		CHECK(wait_one(RT2, &si) == RT2);
		CHECKF(si.si_code == SI_QUEUE && si.si_pid == 12345 &&
		       si.si_uid == 777 && si.si_value.sival_int == 200 + i,
		       "RT2 #%d: code %d pid %d uid %d value %d", i, si.si_code,
		       si.si_pid, si.si_uid, si.si_value.sival_int);
	}
	CHECK(wait_one(RT1, &si) == -1 && errno == EAGAIN);
	CHECK(wait_one(RT2, &si) == -1 && errno == EAGAIN);

	/* Delivered to its handler once unblocked */
	CHECK(!sigaction(SIGUSR1, &sa, NULL));
	CHECK(usr1_seen == 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK(!sigprocmask(SIG_UNBLOCK, &set, NULL));
	CHECK(usr1_seen == 1);
	CHECKF(usr1_info.si_signo == SIGUSR1 && usr1_info.si_code == SI_USER &&
	       usr1_info.si_pid == orig_pid && usr1_info.si_uid == orig_uid,
	       "SIGUSR1: signo %d code %d pid %d uid %d", usr1_info.si_signo,
	       usr1_info.si_code, usr1_info.si_pid, usr1_info.si_uid);
	CHECK(!sigpending(&set) && sigisemptyset(&set));
	if (restarted)
		CHECK(getpid() != orig_pid);
}

static void queue_pending(void)
{
	union sigval v;
	siginfo_t si;
	int i;

	block(SIGUSR1);
	block(SIGUSR2);
	block(RT1);
	block(RT2);
	if (kill(getpid(), SIGUSR1) ||
	    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2))
		_exit(EXIT_SETUP);
	for (i = 0; i < NR_RT1; i++) {
		v.sival_int = 100 + i;
		if (sigqueue(getpid(), RT1, v))
			_exit(EXIT_SETUP);
	}
	for (i = 0; i < NR_RT2; i++) {
		memset(&si, 0, sizeof(si));
		si.si_signo = RT2;
		si.si_code = SI_QUEUE;
		si.si_pid = 12345;
		si.si_uid = 777;
		si.si_value.sival_int = 200 + i;
		if (syscall(SYS_rt_tgsigqueueinfo, getpid(),
			    syscall(SYS_gettid), RT2, &si))
			_exit(EXIT_SETUP);
	}
}

static void pending_body(void *arg, int imgfd)
{
	long r;

	orig_pid = getpid();
	orig_uid = getuid();
	queue_pending();
	cr_prepare(imgfd);
	r = sys_checkpoint(0, imgfd, 0);
	cr_finish(r, errno, pending_verify);
}

/* sigaltstack and an SA_ONSTACK handler */

static char altstack[64 << 10];
static uintptr_t handler_sp;
static int handler_ss_flags;

static void onstack_handler(int sig)
{
	char here;
	stack_t ss;

	handler_sp = (uintptr_t)&here;
	handler_ss_flags = sigaltstack(NULL, &ss) ? -1 : ss.ss_flags;
}

static int altstack_flags;

static void altstack_verify(bool restarted)
{
	stack_t ss;

	CHECK(!sigaltstack(NULL, &ss));
	CHECKF(ss.ss_sp == altstack && ss.ss_size == sizeof(altstack) &&
	       ss.ss_flags == altstack_flags,
	       "sigaltstack %p size %zu flags %#x", ss.ss_sp, ss.ss_size,
	       ss.ss_flags);
	handler_sp = 0;
	CHECK(!raise(SIGUSR1));
	CHECKF(handler_sp >= (uintptr_t)altstack &&
	       handler_sp < (uintptr_t)altstack + sizeof(altstack),
	       "handler ran at sp %#lx, not on the alternate stack",
	       (unsigned long)handler_sp);
	/* SS_AUTODISARM disarms it while the handler runs */
	CHECKF(handler_ss_flags == (altstack_flags & SS_AUTODISARM ?
				    SS_DISABLE : SS_ONSTACK),
	       "flags in the handler %#x", handler_ss_flags);
	CHECK(!sigaltstack(NULL, &ss) && ss.ss_flags == altstack_flags);
}

static void altstack_body(void *arg, int imgfd)
{
	struct sigaction sa = { .sa_handler = onstack_handler,
				.sa_flags = SA_ONSTACK };
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	long r;

	altstack_flags = *(int *)arg;
	ss.ss_flags = altstack_flags;
	if (sigaltstack(&ss, NULL) || sigaction(SIGUSR1, &sa, NULL))
		_exit(EXIT_SETUP);
	cr_prepare(imgfd);
	r = sys_checkpoint(0, imgfd, 0);
	cr_finish(r, errno, altstack_verify);
}

/* Interval timers */

struct timer_args {
	int which;		/* ITIMER_*, or -1 for alarm() */
	long long value;		/* ns */
	long long interval;	/* ns */
};

static struct timer_args tmr;
static long long tmr_before;	/* getitimer() value before the checkpoint */

static int itimer_of(int which)
{
	return which < 0 ? ITIMER_REAL : which;
}

static int signal_of(int which)
{
	switch (itimer_of(which)) {
	case ITIMER_VIRTUAL:
		return SIGVTALRM;
	case ITIMER_PROF:
		return SIGPROF;
	}
	return SIGALRM;
}

static unsigned long long spin_sink;

/* Wait for @sig, burning CPU time for the CPU timers; -1 after @max ns */
static long long wait_fire(int sig, long long max, siginfo_t *si)
{
	long long start = now_ns(CLOCK_MONOTONIC);

	while (now_ns(CLOCK_MONOTONIC) - start < max) {
		if (wait_one(sig, si) == sig)
			return now_ns(CLOCK_MONOTONIC) - start;
		for (int i = 0; i < 100000; i++)
			spin_sink = mix64(spin_sink);
	}
	return -1;
}

static void timer_verify(bool restarted)
{
	struct itimerval it;
	long long val, elapsed;
	siginfo_t si;
	int sig = signal_of(tmr.which);

	CHECK(!getitimer(itimer_of(tmr.which), &it));
	val = tv_ns(&it.it_value);
	CHECKF(tv_ns(&it.it_interval) == tmr.interval,
	       "interval %lld ns, expected %lld",
	       tv_ns(&it.it_interval), tmr.interval);
	/* What was left, less what the restarted process ran since */
	CHECKF(val > 0 && val <= tmr_before && val > tmr_before - 700 * MSEC,
	       "%lld ns left, %lld before the checkpoint", val,
	       tmr_before);
	if (!restarted)
		return;
	if (itimer_of(tmr.which) != ITIMER_REAL && val > 2 * NSEC)
		return;
	elapsed = wait_fire(sig, val + 10 * NSEC, &si);
	CHECKF(elapsed >= 0, "signal %d did not come", sig);
	if (itimer_of(tmr.which) == ITIMER_REAL)
		CHECKF(elapsed >= val - 20 * MSEC && elapsed <= val + 4 * NSEC,
		       "SIGALRM after %lld ns, %lld were left",
		       elapsed, val);
	CHECKF(si.si_code == SI_KERNEL, "si_code %d", si.si_code);
}

static void timer_body(void *arg, int imgfd)
{
	struct itimerval it = { 0 };
	long r;

	tmr = *(struct timer_args *)arg;
	block(signal_of(tmr.which));
	if (tmr.which < 0) {
		if (alarm(tmr.value / NSEC))
			_exit(EXIT_SETUP);
	} else {
		it.it_value.tv_sec = tmr.value / NSEC;
		it.it_value.tv_usec = tmr.value % NSEC / 1000;
		it.it_interval.tv_sec = tmr.interval / NSEC;
		it.it_interval.tv_usec = tmr.interval % NSEC / 1000;
		if (setitimer(tmr.which, &it, NULL))
			_exit(EXIT_SETUP);
	}
	cr_prepare(imgfd);
	if (getitimer(itimer_of(tmr.which), &it))
		_exit(EXIT_SETUP);
	tmr_before = tv_ns(&it.it_value);
	r = sys_checkpoint(0, imgfd, 0);
	cr_finish(r, errno, timer_verify);
}

/* Let time pass before the restart: it must not count */
static void delay_pre(void *arg)
{
	usleep(1500000);
}

/*
 * A child stopped by SIGSTOP in a sleep, checkpointed by the parent,
 * killed and restarted: the sleep goes on for what was left, or until the
 * same absolute time, and returns 0.
 */

#define SLEEP_NS	(6 * NSEC)

struct sleep_args {
	int nr;			/* __NR_nanosleep or __NR_clock_nanosleep */
	clockid_t clk;
	int flags;		/* TIMER_ABSTIME */
	bool interrupt;		/* interrupted by SIGUSR1 after restart */
	char tfile[64];		/* CLOCK_MONOTONIC ns when restart started */
};

static struct sleep_args slp;
static struct timespec slp_rem;
static int slp_usr1;

static void slp_handler(int sig)
{
	slp_usr1++;
}

static long long read_tfile(void)
{
	char buf[64];

	if (read_file(slp.tfile, buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

static void sleep_verify(long r, int err, long long deadline)
{
	long long rem = ts_ns(&slp_rem), t = now_ns(CLOCK_MONOTONIC), start;

	if (slp.interrupt) {
		/* rmtp still works: what is left of the resumed sleep */
		CHECKF(r == -1 && err == EINTR && slp_usr1 == 1,
		       "sleep returned %ld errno %d, %d SIGUSR1", r, err,
		       slp_usr1);
		CHECKF(rem > 0 && rem < SLEEP_NS - 2 * NSEC,
		       "%lld ns left", rem);
		return;
	}
	CHECKF(r == 0, "sleep returned %ld, errno %d", r, err);
	if (slp.flags & TIMER_ABSTIME) {
		t = now_ns(slp.clk);
		CHECKF(t >= deadline && t < deadline + 3 * NSEC,
		       "woke %lld ns after the deadline", t - deadline);
		return;
	}
	/* Written when SIGSTOP interrupted it: what was left then */
	start = read_tfile();
	CHECKF(rem > 0 && rem < SLEEP_NS - NSEC, "%lld ns left at the stop",
	       rem);
	CHECKF(start > 0 && t - start >= rem - NSEC &&
	       t - start < rem + 2500 * MSEC && t - start < SLEEP_NS,
	       "slept %lld ns after the restart began, %lld were left",
	       t - start, rem);
}

static void sleep_main(int ready)
{
	struct sigaction sa = { .sa_handler = slp_handler };
	struct timespec req;
	long long deadline = 0;
	long r;
	int err;

	cr_phase = "sleeper";
	orig_pid = getpid();
	if (sigaction(SIGUSR1, &sa, NULL))
		_exit(EXIT_SETUP);
	slp_rem.tv_sec = -1;
	cr_prepare(ready);
	if (write(ready, "r", 1) != 1)
		_exit(EXIT_SETUP);
	close(ready);
	if (slp.flags & TIMER_ABSTIME)
		deadline = now_ns(slp.clk) + SLEEP_NS;
	req.tv_sec = (slp.flags & TIMER_ABSTIME ? deadline : SLEEP_NS) / NSEC;
	req.tv_nsec = (slp.flags & TIMER_ABSTIME ? deadline : SLEEP_NS) % NSEC;
	if (slp.nr == __NR_nanosleep)
		r = syscall(__NR_nanosleep, &req, &slp_rem);
	else
		r = syscall(__NR_clock_nanosleep, slp.clk, slp.flags, &req,
			    &slp_rem);
	err = errno;
	if (getpid() == orig_pid) {
		cr_log("the original sleeper woke up: %ld", r);
		_exit(EXIT_CHECK);
	}
	cr_phase = "restarted sleeper";
	sleep_verify(r, err, deadline);
	cr_exit(EXIT_RESTARTED);
}

/*
 * A child blocked in a system call with a restart block that cannot be
 * saved: SIGCONT resumes it, SIGUSR1 ends it (exit 0).
 */

static int blk_kind;

static void blk_handler(int sig)
{
	_exit(sig == SIGUSR1 ? 0 : EXIT_CHECK);
}

static void blocked_main(int ready)
{
	struct sigaction sa = { .sa_handler = blk_handler };
	struct timespec ts = { 30, 0 };

	if (sigaction(SIGUSR1, &sa, NULL))
		_exit(EXIT_SETUP);
	cr_prepare(ready);
	if (write(ready, "r", 1) != 1)
		_exit(EXIT_SETUP);
	close(ready);
	for (;;) {
		if (blk_kind == __NR_clock_nanosleep)
			syscall(__NR_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID,
				0, &ts, NULL);
		else
			syscall(__NR_pause);
	}
}

/* POSIX timers are refused; once deleted, checkpoint works */
static void posix_timer_body(void *arg, int imgfd)
{
	int timer = -1;
	long r;

	cr_prepare(imgfd);
	if (syscall(__NR_timer_create, CLOCK_MONOTONIC, NULL, &timer))
		_exit(EXIT_SETUP);
	r = sys_checkpoint(0, imgfd, 0);
	CHECKF(r == -1 && errno == EOPNOTSUPP,
	       "checkpoint with a POSIX timer: %ld errno %d", r, errno);
	CHECK(!syscall(__NR_timer_delete, timer));
	r = sys_checkpoint(0, imgfd, 0);
	CHECKF(r > 0, "checkpoint without it: %ld errno %d", r, errno);
	cr_exit(0);
}

/* Validation of the records: an edited image is refused before the PONR */

/* What the records of the image of bad_body hold, and bad values */
#define BAD_NR_SHARED	4	/* SIGUSR1, SIGUSR2, RT1 twice */
#define PENDING_KILL	(1ULL << (SIGKILL - 1))
#define KERNEL_ADDR	0xffff880000000000ULL

/* The image of bad_body: everything the records can hold */
static void bad_verify(bool restarted)
{
	siginfo_t si;

	if (!restarted)
		return;
	CHECK(wait_one(SIGUSR1, &si) == SIGUSR1);
	CHECK(wait_one(SIGUSR2, &si) == SIGUSR2);
	CHECK(wait_one(RT1, &si) == RT1 && si.si_value.sival_int == 1);
	CHECK(wait_one(RT1, &si) == RT1 && si.si_value.sival_int == 2);
}

static void bad_body(void *arg, int imgfd)
{
	struct itimerval it = { .it_value = { 1000, 0 } };
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	union sigval v;
	long r;

	block(SIGUSR1);
	block(SIGUSR2);
	block(RT1);
	block(SIGVTALRM);
	v.sival_int = 1;
	if (kill(getpid(), SIGUSR1) || kill(getpid(), SIGUSR2) ||
	    sigqueue(getpid(), RT1, v))
		_exit(EXIT_SETUP);
	v.sival_int = 2;
	if (sigqueue(getpid(), RT1, v) || sigaltstack(&ss, NULL) ||
	    setitimer(ITIMER_VIRTUAL, &it, NULL))
		_exit(EXIT_SETUP);
	cr_prepare(imgfd);
	r = sys_checkpoint(0, imgfd, 0);
	cr_finish(r, errno, bad_verify);
}

/* Restart from @fd: exit with the errno of a failed restart */
static void errno_restarter(void *arg, int fd)
{
	long r;

	if (close_fds_except(fd))
		_exit(EXIT_SETUP);
	r = sys_restart(0, fd, 0);
	_exit(r < 0 ? errno : EXIT_RESTART_RETURNED);
}

/*
 * The tests
 */

FIXTURE(signals) {
	struct cr_dir d;
};

FIXTURE_SETUP(signals)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(signals)
{
	cr_dir_teardown(_metadata, &self->d);
}

/*
 * Blocked signals pending in both queues, one standard signal each and
 * several real-time ones of one number with distinct values: all come
 * back, in order, with their siginfo (the original pid and uid).
 */
TEST_F_TIMEOUT(signals, pending, TEST_TIMEOUT)
{
	checkpoint_restart(_metadata, &self->d, pending_body, NULL, NULL, NULL);
}

/* An SA_ONSTACK handler runs on the restored alternate stack */
TEST_F_TIMEOUT(signals, sigaltstack, TEST_TIMEOUT)
{
	int flags = 0;

	checkpoint_restart(_metadata, &self->d, altstack_body, &flags, NULL,
			   NULL);
}

TEST_F_TIMEOUT(signals, sigaltstack_autodisarm, TEST_TIMEOUT)
{
	int flags = SS_AUTODISARM;

	checkpoint_restart(_metadata, &self->d, altstack_body, &flags, NULL,
			   NULL);
}

/*
 * Timers go on from what was left, the time between checkpoint and
 * restart (1.5 s here) not counted.
 */
TEST_F_TIMEOUT(signals, itimer_real, TEST_TIMEOUT)
{
	struct timer_args a = { ITIMER_REAL, 3 * NSEC, 7 * NSEC };

	checkpoint_restart(_metadata, &self->d, timer_body, &a, delay_pre, NULL);
}

TEST_F_TIMEOUT(signals, alarm, TEST_TIMEOUT)
{
	struct timer_args a = { -1, 3 * NSEC, 0 };

	checkpoint_restart(_metadata, &self->d, timer_body, &a, delay_pre, NULL);
}

TEST_F_TIMEOUT(signals, itimer_virtual, TEST_TIMEOUT)
{
	struct timer_args a = { ITIMER_VIRTUAL, 50 * NSEC, 2 * NSEC };

	checkpoint_restart(_metadata, &self->d, timer_body, &a, NULL, NULL);
}

/* A CPU timer that fires after the restart, once the process ran enough */
TEST_F_TIMEOUT(signals, itimer_prof_fires, TEST_TIMEOUT)
{
	struct timer_args a = { ITIMER_PROF, 300 * MSEC, 3 * NSEC };

	checkpoint_restart(_metadata, &self->d, timer_body, &a, NULL, NULL);
}

FIXTURE(sleep) {
	struct cr_dir d;
};

FIXTURE_VARIANT(sleep) {
	int nr;
	clockid_t clk;
	int flags;
	bool interrupt;
};

FIXTURE_VARIANT_ADD(sleep, nanosleep) {
	.nr = __NR_nanosleep, .clk = CLOCK_MONOTONIC,
};

FIXTURE_VARIANT_ADD(sleep, nanosleep_interrupted) {
	.nr = __NR_nanosleep, .clk = CLOCK_MONOTONIC, .interrupt = true,
};

FIXTURE_VARIANT_ADD(sleep, clock_nanosleep_realtime) {
	.nr = __NR_clock_nanosleep, .clk = CLOCK_REALTIME,
};

FIXTURE_VARIANT_ADD(sleep, clock_nanosleep_boottime) {
	.nr = __NR_clock_nanosleep, .clk = CLOCK_BOOTTIME,
};

FIXTURE_VARIANT_ADD(sleep, clock_nanosleep_abs_monotonic) {
	.nr = __NR_clock_nanosleep, .clk = CLOCK_MONOTONIC,
	.flags = TIMER_ABSTIME,
};

FIXTURE_VARIANT_ADD(sleep, clock_nanosleep_abs_realtime) {
	.nr = __NR_clock_nanosleep, .clk = CLOCK_REALTIME,
	.flags = TIMER_ABSTIME,
};

FIXTURE_SETUP(sleep)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(sleep)
{
	cr_dir_teardown(_metadata, &self->d);
}

TEST_F_TIMEOUT(sleep, stopped_in_sleep, TEST_TIMEOUT)
{
	char buf[64];
	long crid;
	pid_t pid;

	slp.nr = variant->nr;
	slp.clk = variant->clk;
	slp.flags = variant->flags;
	slp.interrupt = variant->interrupt;
	cr_path(&self->d, "restart_time", slp.tfile, sizeof(slp.tfile));

	pid = start_child(_metadata, sleep_main);
	expect_in_syscall(_metadata, pid, variant->nr, "sleeper");
	usleep(3000000);
	stop_child(_metadata, pid);
	crid = sys_checkpoint(pid, self->d.imgfd, 0);
	ASSERT_LT(0, crid)
		TH_LOG("checkpoint of a task stopped in a sleep: %s",
		       strerror(errno));
	kill_child(_metadata, pid);

	snprintf(buf, sizeof(buf), "%lld", now_ns(CLOCK_MONOTONIC));
	ASSERT_EQ(0, write_file(slp.tfile, buf, strlen(buf)));
	pid = spawn_restarter(_metadata, &self->d, crid, NULL, NULL);
	if (variant->interrupt) {
		expect_in_syscall(_metadata, pid, __NR_restart_syscall,
				  "restarted sleeper");
		ASSERT_EQ(0, kill(pid, SIGUSR1));
	}
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted sleeper");
}

/*
 * A restart block that cannot be saved (a sleep on a CPU-time clock):
 * EOPNOTSUPP, nothing written, and the task goes on when continued.
 * Futex waits and polls: syscalls_test.c.
 */
FIXTURE(blocked) {
	struct cr_dir d;
};

FIXTURE_VARIANT(blocked) {
	int nr;
};

FIXTURE_VARIANT_ADD(blocked, cpu_clock_nanosleep) {
	.nr = __NR_clock_nanosleep,
};

FIXTURE_SETUP(blocked)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(blocked)
{
	cr_dir_teardown(_metadata, &self->d);
}

TEST_F_TIMEOUT(blocked, refused, TEST_TIMEOUT)
{
	int status;
	pid_t pid;

	blk_kind = variant->nr;
	pid = start_child(_metadata, blocked_main);
	expect_in_syscall(_metadata, pid, variant->nr, "blocked child");
	stop_child(_metadata, pid);
	EXPECT_EQ(-1, sys_checkpoint(pid, self->d.imgfd, 0));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ('T', proc_state(pid));

	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(pid, waitpid(pid, &status, WCONTINUED));
	/* The sleep resumes through restart_syscall */
	expect_in_syscall(_metadata, pid, __NR_restart_syscall,
			  "continued child");
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, 0, "continued child");
}

/*
 * ptrace: a group stop (PTRACE_INTERRUPT) is checkpointed; a
 * syscall-entry stop would lose the system call: EBUSY, and the tracee
 * goes on once detached.
 */
TEST_F_TIMEOUT(signals, ptrace_stops, TEST_TIMEOUT)
{
	int status;
	pid_t pid;

	blk_kind = __NR_pause;
	pid = start_child(_metadata, blocked_main);
	expect_in_syscall(_metadata, pid, __NR_pause, "tracee");
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD));
	ASSERT_EQ(0, ptrace(PTRACE_INTERRUPT, pid, 0, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status) && status >> 16 == PTRACE_EVENT_STOP);
	EXPECT_LT(0, sys_checkpoint(pid, self->d.imgfd, 0))
		TH_LOG("checkpoint in a PTRACE_INTERRUPT stop: %s",
		       strerror(errno));

	ASSERT_EQ(0, ptrace(PTRACE_SYSCALL, pid, 0, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80))
		TH_LOG("wait status %#x", status);
	ASSERT_EQ(0, ftruncate(self->d.imgfd, 0));
	ASSERT_EQ(0, lseek(self->d.imgfd, 0, SEEK_SET));
	EXPECT_EQ(-1, sys_checkpoint(pid, self->d.imgfd, 0));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(0, lseek(self->d.imgfd, 0, SEEK_END));

	ASSERT_EQ(0, ptrace(PTRACE_DETACH, pid, 0, 0));
	expect_in_syscall(_metadata, pid, __NR_pause, "detached tracee");
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, 0, "detached tracee");
}

/*
 * The SIGSTOP that PTRACE_ATTACH sends, reported to the tracer, is
 * checkpointed: the restarted task runs, back in pause().
 */
TEST_F_TIMEOUT(signals, ptrace_attach_stop, TEST_TIMEOUT)
{
	int status;
	long crid;
	pid_t pid;

	blk_kind = __NR_pause;
	pid = start_child(_metadata, blocked_main);
	expect_in_syscall(_metadata, pid, __NR_pause, "tracee");
	ASSERT_EQ(0, ptrace(PTRACE_ATTACH, pid, 0, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
	crid = sys_checkpoint(pid, self->d.imgfd, 0);
	ASSERT_LT(0, crid)
		TH_LOG("checkpoint in the SIGSTOP stop of PTRACE_ATTACH: %s",
		       strerror(errno));
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, pid, 0, 0));
	expect_in_syscall(_metadata, pid, __NR_pause, "detached tracee");
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, 0, "detached tracee");

	pid = spawn_restarter(_metadata, &self->d, crid, NULL, NULL);
	expect_in_syscall(_metadata, pid, __NR_pause, "restarted tracee");
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, 0, "restarted tracee");
}

/*
 * A task in a job-control stop restarts running: the stop signal sent
 * while it was stopped, which SIGCONT would discard, is not restored.
 */
TEST_F_TIMEOUT(signals, stop_signal_dropped, TEST_TIMEOUT)
{
	long crid;
	pid_t pid;

	blk_kind = __NR_pause;
	pid = start_child(_metadata, blocked_main);
	expect_in_syscall(_metadata, pid, __NR_pause, "child");
	stop_child(_metadata, pid);
	/* Queued, since the task is stopped */
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(1ULL << (SIGSTOP - 1), proc_mask(pid, "ShdPnd:"));
	crid = sys_checkpoint(pid, self->d.imgfd, 0);
	ASSERT_LT(0, crid)
		TH_LOG("checkpoint of a stopped task: %s", strerror(errno));
	kill_child(_metadata, pid);

	pid = spawn_restarter(_metadata, &self->d, crid, NULL, NULL);
	expect_in_syscall(_metadata, pid, __NR_pause, "restarted child");
	EXPECT_NE('T', proc_state(pid));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, 0, "restarted child");
}

TEST_F_TIMEOUT(signals, posix_timer_refused, TEST_TIMEOUT)
{
	pid_t pid;

	pid = spawn_body(_metadata, posix_timer_body, NULL, self->d.imgfd);
	expect_exit(_metadata, pid, 0, "child with a POSIX timer");
}

/* Each invalid record is refused with its errno; the restarter survives */
FIXTURE(bad) {
	struct cr_dir d;
};

/* Bytes of a record to change: @size bytes at @off become @val */
struct field_edit {
	size_t off;
	size_t size;
	unsigned long long val;
};

FIXTURE_VARIANT(bad) {
	__u32 type;
	int err;
	struct field_edit edit[3];
};

FIXTURE_VARIANT_ADD(bad, none) {
	.type = CR_HDR_SIGNAL, .err = 0,
};

/* A group stop by a signal that does not stop */
FIXTURE_VARIANT_ADD(bad, sig_stop_hup) {
	.type = CR_HDR_SIGNAL, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_signal, stop), 4, SIGHUP },
	},
};

/* A group stop with an unknown bit */
FIXTURE_VARIANT_ADD(bad, sig_stop_bits) {
	.type = CR_HDR_SIGNAL, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_signal, stop), 4,
		  SIGSTOP | (CR_STOP_REPORTED << 1) },
	},
};

/* A group stop with SIGCONT pending: SIGCONT would have ended it */
FIXTURE_VARIANT_ADD(bad, sig_stop_cont) {
	.type = CR_HDR_SIGNAL, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_signal, stop), 4, SIGTSTP },
		{ offsetof(struct cr_hdr_signal, pending[1]), 8,
		  1ULL << (SIGCONT - 1) },
	},
};

FIXTURE_VARIANT_ADD(bad, sig_reserved2) {
	.type = CR_HDR_SIGNAL, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_signal, reserved2[1]), 8, 1 },
	},
};

FIXTURE_VARIANT_ADD(bad, sig_kill) {
	.type = CR_HDR_SIGNAL, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_signal, pending[CR_SIGQ_PRIVATE]), 8, PENDING_KILL },
	},
};

FIXTURE_VARIANT_ADD(bad, sig_too_many) {
	.type = CR_HDR_SIGNAL, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_signal, nr_queued[CR_SIGQ_PRIVATE]), 4, CR_SIGINFO_MAX },
	},
};

FIXTURE_VARIANT_ADD(bad, sig_one_more) {
	.type = CR_HDR_SIGNAL, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_signal, nr_queued[CR_SIGQ_SHARED]), 4, BAD_NR_SHARED + 1 },
	},
};

FIXTURE_VARIANT_ADD(bad, timer_negative) {
	.type = CR_HDR_SIGNAL, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_signal, itimer[ITIMER_VIRTUAL].value), 8, -1ULL },
	},
};

FIXTURE_VARIANT_ADD(bad, timer_huge) {
	.type = CR_HDR_SIGNAL, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_signal, itimer[ITIMER_REAL].interval),
		  8, CR_TIME_MAX + 1 },
	},
};

FIXTURE_VARIANT_ADD(bad, ss_flags) {
	.type = CR_HDR_SIGNAL, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_signal, ss_flags), 4, 4 },
	},
};

FIXTURE_VARIANT_ADD(bad, ss_small) {
	.type = CR_HDR_SIGNAL, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_signal, ss_size), 8, 16 },
	},
};

FIXTURE_VARIANT_ADD(bad, ss_kernel) {
	.type = CR_HDR_SIGNAL, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_signal, ss_sp), 8, KERNEL_ADDR },
	},
};

FIXTURE_VARIANT_ADD(bad, ss_disabled_area) {
	.type = CR_HDR_SIGNAL, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_signal, ss_flags), 4, SS_DISABLE },
	},
};

FIXTURE_VARIANT_ADD(bad, si_signo_zero) {
	.type = CR_HDR_SIGINFO, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_siginfo, signo), 4, 0 },
	},
};

FIXTURE_VARIANT_ADD(bad, si_signo_65) {
	.type = CR_HDR_SIGINFO, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_siginfo, signo), 4, 65 },
	},
};

FIXTURE_VARIANT_ADD(bad, si_sigkill) {
	.type = CR_HDR_SIGINFO, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_siginfo, signo), 4, SIGKILL },
	},
};

FIXTURE_VARIANT_ADD(bad, si_not_pending) {
	.type = CR_HDR_SIGINFO, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_siginfo, signo), 4, SIGTERM },
	},
};

FIXTURE_VARIANT_ADD(bad, si_twice) {
	.type = CR_HDR_SIGINFO, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_siginfo, signo), 4, SIGUSR2 },
	},
};

FIXTURE_VARIANT_ADD(bad, si_code) {
	.type = CR_HDR_SIGINFO, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_siginfo, code), 4, 1000 },
	},
};

FIXTURE_VARIANT_ADD(bad, si_code_timer) {
	.type = CR_HDR_SIGINFO, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_siginfo, code), 4, SI_TIMER },
	},
};

FIXTURE_VARIANT_ADD(bad, si_queue) {
	.type = CR_HDR_SIGINFO, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_siginfo, queue), 4, CR_SIGQ_PRIVATE },
	},
};

FIXTURE_VARIANT_ADD(bad, si_reserved) {
	.type = CR_HDR_SIGINFO, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_siginfo, reserved), 8, 1 },
	},
};

FIXTURE_VARIANT_ADD(bad, rb_kind) {
	.type = CR_HDR_RESTART_BLOCK, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_restart_block, kind), 4, 99 },
	},
};

FIXTURE_VARIANT_ADD(bad, rb_none_fields) {
	.type = CR_HDR_RESTART_BLOCK, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_restart_block, rmtp), 8, 4096 },
	},
};

FIXTURE_VARIANT_ADD(bad, rb_clock) {
	.type = CR_HDR_RESTART_BLOCK, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_restart_block, kind), 4, CR_RESTART_NANOSLEEP },
		{ offsetof(struct cr_hdr_restart_block, clockid), 4, CLOCK_PROCESS_CPUTIME_ID },
	},
};

FIXTURE_VARIANT_ADD(bad, rb_remaining) {
	.type = CR_HDR_RESTART_BLOCK, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_restart_block, kind), 4, CR_RESTART_NANOSLEEP },
		{ offsetof(struct cr_hdr_restart_block, clockid), 4, CLOCK_MONOTONIC },
		{ offsetof(struct cr_hdr_restart_block, remaining), 8, -1ULL },
	},
};

FIXTURE_VARIANT_ADD(bad, rb_rmtp) {
	.type = CR_HDR_RESTART_BLOCK, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_restart_block, kind), 4, CR_RESTART_NANOSLEEP },
		{ offsetof(struct cr_hdr_restart_block, clockid), 4, CLOCK_MONOTONIC },
		{ offsetof(struct cr_hdr_restart_block, rmtp), 8, KERNEL_ADDR },
	},
};

FIXTURE_VARIANT_ADD(bad, rb_reserved) {
	.type = CR_HDR_RESTART_BLOCK, .err = EINVAL,
	.edit = {
		{ offsetof(struct cr_hdr_restart_block, reserved), 8, 1 },
	},
};

FIXTURE_SETUP(bad)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(bad)
{
	cr_dir_teardown(_metadata, &self->d);
}

TEST_F_TIMEOUT(bad, restart, TEST_TIMEOUT)
{
	static unsigned char buf[64 << 20];
	char path[64];
	ssize_t len;
	size_t i;
	long off;
	pid_t pid;

	checkpoint_child(_metadata, &self->d, bad_body, NULL);
	len = pread(self->d.imgfd, buf, sizeof(buf), 0);
	ASSERT_LT(0, len);
	ASSERT_GT((ssize_t)sizeof(buf), len);
	off = cr_find_rec(buf, len, variant->type, 0);
	ASSERT_LE(0, off)
		TH_LOG("no record of type %u in the image", variant->type);
	for (i = 0; i < ARRAY_SIZE(variant->edit) && variant->edit[i].size; i++)
		memcpy(buf + off + variant->edit[i].off, &variant->edit[i].val,
		       variant->edit[i].size);
	cr_reseal(buf, len);
	cr_path(&self->d, "edited", path, sizeof(path));
	ASSERT_EQ(0, write_file(path, buf, len));

	pid = spawn_restarter_fn(_metadata, path, 0, NULL, errno_restarter,
				 NULL);
	if (!variant->err) {
		expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
		return;
	}
	expect_exit(_metadata, pid, variant->err, "restarter");
}

TEST_HARNESS_MAIN
