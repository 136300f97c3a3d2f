// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart of a task stopped in a blocking system call: futex
 * waits with a timeout, poll, ppoll, select and pselect.  A child blocks,
 * is stopped with SIGSTOP, checkpointed, killed and restarted; the
 * restarted process checks from the inside what the call returned, and
 * when: a wake, a descriptor becoming ready or the timeout, after what was
 * left of it.  Then every check of the restart block record, on edited
 * images.
 */

#include "cr_harness.h"

#include <linux/futex.h>
#include <sys/select.h>

#define NSEC		1000000000LL
#define MSEC		1000000LL
#define KERNEL_ADDR	0xffff880000000000ULL

/* The wait: long enough that a restored full timeout is told from the rest */
#define WAIT_NS		(8 * NSEC)
/* Before the stop */
#define STOP_AFTER_US	4000000
/* Between the checkpoint and the restart, for deadlines that must stay */
#define DELAY_US	3000000

static long long now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

static struct timespec ns_ts(long long ns)
{
	struct timespec ts = { ns / NSEC, ns % NSEC };

	return ts;
}

/* The blocking calls, and how they end */
enum call {
	FUTEX_REL,		/* FUTEX_WAIT, relative timeout */
	FUTEX_ABS_MONO,		/* FUTEX_WAIT_BITSET, CLOCK_MONOTONIC deadline */
	FUTEX_ABS_RT,		/* FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME */
	POLL,
	PPOLL,
	SELECT,
	PSELECT,
};

enum end {
	TIMEOUT,		/* the timeout expires */
	WAKE,			/* the parent wakes the futex or writes fd 0 */
};

struct sc_args {
	enum call call;
	enum end end;
	bool shared;		/* futex in a MAP_SHARED file */
	bool forever;		/* poll without a timeout */
	__u32 bitset;		/* FUTEX_WAIT_BITSET */
	bool any_time;		/* only how it returned, not when */
	char ckfile[64];	/* CLOCK_MONOTONIC ns after the checkpoint */
	char rsfile[64];	/* CLOCK_MONOTONIC ns when the restart began */
	char ffile[64];		/* the file of a shared futex */
};

static struct sc_args sc;
static pid_t orig_pid;
static int futex_word;
static int *fword = &futex_word;
static long long t_begin, deadline;
static sigset_t mask_before;

static long long read_ns(const char *path)
{
	char buf[64];

	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

static int write_ns(const char *path, long long ns)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%lld", ns);
	return write_file(path, buf, strlen(buf));
}

static bool is_futex(void)
{
	return sc.call <= FUTEX_ABS_RT;
}

/* The futex word in a shared file mapping, which the parent maps too */
static void map_shared_word(void)
{
	int fd = open(sc.ffile, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		_exit(EXIT_SETUP);
	fword = mmap(NULL, pg(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (fword == MAP_FAILED)
		_exit(EXIT_SETUP);
}

static long do_futex(void)
{
	int op = sc.shared ? 0 : FUTEX_PRIVATE_FLAG;
	struct timespec ts;

	if (sc.call == FUTEX_REL) {
		ts = ns_ts(sc.end == WAKE ? 60 * NSEC : WAIT_NS);
		return syscall(__NR_futex, fword, FUTEX_WAIT | op, 0, &ts,
			       NULL, 0);
	}
	if (sc.call == FUTEX_ABS_RT)
		op |= FUTEX_CLOCK_REALTIME;
	deadline = now_ns(sc.call == FUTEX_ABS_RT ? CLOCK_REALTIME :
			  CLOCK_MONOTONIC) +
		   (sc.end == WAKE ? 60 * NSEC : WAIT_NS);
	ts = ns_ts(deadline);
	return syscall(__NR_futex, fword, FUTEX_WAIT_BITSET | op, 0, &ts,
		       NULL, sc.bitset);
}

/* fd 0, a pipe the parent writes; /dev/null that never has events 0 */
static struct pollfd pfd[3] = {
	{ .fd = 0, .events = POLLIN },
	{ .fd = -1, .events = 0 },
	{ .fd = -1, .events = POLLIN },
};

static struct timeval sel_tv;
static struct timespec sel_ts;
static fd_set rfds;

static long do_poll(void)
{
	long long tmo = sc.end == WAKE ? 60 * NSEC : WAIT_NS;
	struct timespec ts = ns_ts(tmo);
	sigset_t m;

	/* ppoll and pselect block SIGUSR2 while they wait */
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	FD_ZERO(&rfds);
	FD_SET(0, &rfds);
	switch (sc.call) {
	case POLL:
		return syscall(__NR_poll, pfd, 3, sc.forever ? -1 :
			       (int)(tmo / MSEC));
	case PPOLL:
		return syscall(__NR_ppoll, pfd, 3, &ts, &m, 8);
	case SELECT:
		sel_tv.tv_sec = tmo / NSEC;
		return syscall(__NR_select, 1, &rfds, NULL, NULL, &sel_tv);
	default:
		sel_ts = ts;
		{
			struct { const sigset_t *ss; size_t len; } a = { &m, 8 };

			return syscall(__NR_pselect6, 1, &rfds, NULL, NULL,
				       &sel_ts, &a);
		}
	}
}

/* Woken after the timeout: what was left at the checkpoint, from the restart */
static void check_timeout(long r, int err)
{
	long long t = now_ns(CLOCK_MONOTONIC), ck = read_ns(sc.ckfile);
	long long rs = read_ns(sc.rsfile), left;

	if (is_futex())
		CHECKF(r == -1 && err == ETIMEDOUT, "futex returned %ld errno %d",
		       r, err);
	else
		CHECKF(r == 0, "returned %ld errno %d", r, err);
	if (sc.any_time)
		return;
	if (sc.call == FUTEX_ABS_RT) {
		/* The same deadline, though the restart came DELAY_US later */
		t = now_ns(CLOCK_REALTIME);
		CHECKF(t >= deadline && t < deadline + 2500 * MSEC,
		       "woke %lld ns after the deadline", t - deadline);
		return;
	}
	left = WAIT_NS - (ck - t_begin);
	CHECKF(ck > t_begin && rs > ck && left > NSEC,
	       "begin %lld, checkpoint %lld, restart %lld", t_begin, ck, rs);
	/* Not from scratch (WAIT_NS), not at once */
	CHECKF(t - rs >= left - 100 * MSEC && t - rs < left + 3 * NSEC &&
	       t - rs < WAIT_NS - 500 * MSEC,
	       "waited %lld ns after the restart began, %lld were left",
	       t - rs, left);
}

static void check_woken(long r, int err)
{
	char c = 0;

	if (is_futex()) {
		CHECKF(r == 0, "futex returned %ld errno %d", r, err);
		CHECKF(*fword == 1, "futex word %d", *fword);
		return;
	}
	CHECKF(r == 1, "returned %ld errno %d", r, err);
	if (sc.call == SELECT || sc.call == PSELECT)
		CHECK(FD_ISSET(0, &rfds));
	else
		CHECKF(pfd[0].revents == POLLIN && !pfd[1].revents &&
		       !pfd[2].revents, "revents %#x %#x %#x",
		       pfd[0].revents, pfd[1].revents, pfd[2].revents);
	CHECK(read(0, &c, 1) == 1 && c == 'x');
}

static void sc_verify(long r, int err)
{
	sigset_t now;

	if (sc.end == TIMEOUT)
		check_timeout(r, err);
	else
		check_woken(r, err);
	/* ppoll and pselect gave back the mask they replaced */
	CHECK(!sigprocmask(SIG_SETMASK, NULL, &now));
	CHECK(!sigismember(&now, SIGUSR2) && sigismember(&now, SIGUSR1));
	CHECK(sigismember(&mask_before, SIGUSR1));
}

static void sc_main(int ready)
{
	sigset_t m;
	long r;
	int err;

	cr_phase = "waiter";
	orig_pid = getpid();
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &m, &mask_before) ||
	    sigprocmask(SIG_BLOCK, NULL, &mask_before))
		_exit(EXIT_SETUP);
	cr_prepare(ready);
	if (sc.shared)
		map_shared_word();
	pfd[1].fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (pfd[1].fd < 0 || write(ready, "r", 1) != 1)
		_exit(EXIT_SETUP);
	close(ready);
	t_begin = now_ns(CLOCK_MONOTONIC);
	r = is_futex() ? do_futex() : do_poll();
	err = errno;
	if (getpid() == orig_pid) {
		cr_log("the original waiter returned: %ld errno %d", r, err);
		_exit(EXIT_CHECK);
	}
	cr_phase = "restarted waiter";
	sc_verify(r, err);
	cr_exit(EXIT_RESTARTED);
}

/* Children stopped in a system call */

static int in_pipe[2] = { -1, -1 };

/* The restarter's fd 0 is the pipe the restarted task polls */
static void pre_stdin(void *arg)
{
	if (in_pipe[0] >= 0 && dup2(in_pipe[0], 0) != 0) {
		cr_log("dup2: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
}

/* The system call a child blocks in */
static int nr_of(enum call c)
{
	switch (c) {
	case POLL:
		return __NR_poll;
	case PPOLL:
		return __NR_ppoll;
	case SELECT:
		return __NR_select;
	case PSELECT:
		return __NR_pselect6;
	default:
		return __NR_futex;
	}
}

/* Which calls resume through restart_syscall(2) */
static int resumed_nr(enum call c)
{
	return c == PPOLL || c == SELECT || c == PSELECT ? nr_of(c) :
	       __NR_restart_syscall;
}

/* Wake the restarted waiter: the futex (checking its bitset), or fd 0 */
static void wake(struct __test_metadata *_metadata, int *word)
{
	int op = sc.shared ? 0 : FUTEX_PRIVATE_FLAG;

	if (!is_futex()) {
		ASSERT_EQ(1, write(in_pipe[1], "x", 1));
		return;
	}
	*word = 1;
	if (sc.call == FUTEX_REL) {
		EXPECT_EQ(1, syscall(__NR_futex, word, FUTEX_WAKE | op, 1,
				     NULL, NULL, 0));
		return;
	}
	/* A wake for other bits does not wake it */
	EXPECT_EQ(0, syscall(__NR_futex, word, FUTEX_WAKE_BITSET | op, 1,
			     NULL, NULL, ~sc.bitset));
	EXPECT_EQ(1, syscall(__NR_futex, word, FUTEX_WAKE_BITSET | op, 1,
			     NULL, NULL, sc.bitset));
}

FIXTURE(sysc) {
	struct cr_dir d;
	int *word;
};

FIXTURE_VARIANT(sysc) {
	enum call call;
	enum end end;
	bool shared;
	bool forever;
	__u32 bitset;
};

FIXTURE_VARIANT_ADD(sysc, futex_wait_timeout) {
	.call = FUTEX_REL, .end = TIMEOUT,
};

FIXTURE_VARIANT_ADD(sysc, futex_bitset_monotonic_timeout) {
	.call = FUTEX_ABS_MONO, .end = TIMEOUT, .bitset = 0x10,
};

FIXTURE_VARIANT_ADD(sysc, futex_bitset_realtime_timeout) {
	.call = FUTEX_ABS_RT, .end = TIMEOUT, .bitset = 0x10,
};

FIXTURE_VARIANT_ADD(sysc, futex_shared_timeout) {
	.call = FUTEX_REL, .end = TIMEOUT, .shared = true,
};

FIXTURE_VARIANT_ADD(sysc, futex_shared_wake) {
	.call = FUTEX_REL, .end = WAKE, .shared = true,
};

FIXTURE_VARIANT_ADD(sysc, futex_bitset_shared_wake) {
	.call = FUTEX_ABS_MONO, .end = WAKE, .shared = true, .bitset = 0xf0f0,
};

FIXTURE_VARIANT_ADD(sysc, futex_bitset_realtime_shared_wake) {
	.call = FUTEX_ABS_RT, .end = WAKE, .shared = true, .bitset = 0x1,
};

FIXTURE_VARIANT_ADD(sysc, poll_timeout) {
	.call = POLL, .end = TIMEOUT,
};

FIXTURE_VARIANT_ADD(sysc, poll_ready) {
	.call = POLL, .end = WAKE,
};

FIXTURE_VARIANT_ADD(sysc, poll_forever_ready) {
	.call = POLL, .end = WAKE, .forever = true,
};

FIXTURE_VARIANT_ADD(sysc, ppoll_timeout) {
	.call = PPOLL, .end = TIMEOUT,
};

FIXTURE_VARIANT_ADD(sysc, ppoll_ready) {
	.call = PPOLL, .end = WAKE,
};

FIXTURE_VARIANT_ADD(sysc, select_timeout) {
	.call = SELECT, .end = TIMEOUT,
};

FIXTURE_VARIANT_ADD(sysc, pselect_ready) {
	.call = PSELECT, .end = WAKE,
};

FIXTURE_VARIANT_ADD(sysc, pselect_timeout) {
	.call = PSELECT, .end = TIMEOUT,
};

FIXTURE_SETUP(sysc)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
	self->word = NULL;
}

FIXTURE_TEARDOWN_PARENT(sysc)
{
	cr_dir_teardown(_metadata, &self->d);
}

/* @v: the variant's call, end, shared, forever and bitset */
static void setup_args(struct __test_metadata *_metadata,
		       const struct sc_args *v, struct cr_dir *d, int **word)
{
	int fd;

	sc = *v;
	cr_path(d, "checkpoint_time", sc.ckfile, sizeof(sc.ckfile));
	cr_path(d, "restart_time", sc.rsfile, sizeof(sc.rsfile));
	cr_path(d, "futex", sc.ffile, sizeof(sc.ffile));
	if (sc.shared) {
		fd = open(sc.ffile, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0600);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ftruncate(fd, pg()));
		*word = mmap(NULL, pg(), PROT_READ | PROT_WRITE, MAP_SHARED,
			     fd, 0);
		ASSERT_NE(MAP_FAILED, *word);
		close(fd);
	}
	if (in_pipe[0] < 0)
		ASSERT_EQ(0, pipe2(in_pipe, O_CLOEXEC));
}

TEST_F_TIMEOUT(sysc, stopped_and_restarted, TEST_TIMEOUT)
{
	struct sc_args v = {
		.call = variant->call, .end = variant->end,
		.shared = variant->shared, .forever = variant->forever,
		.bitset = variant->bitset,
	};
	long crid;
	pid_t pid;

	setup_args(_metadata, &v, &self->d, &self->word);
	pid = start_child_in(_metadata, sc_main, in_pipe[0]);
	expect_in_syscall(_metadata, pid, nr_of(sc.call), "waiter");
	usleep(STOP_AFTER_US);
	stop_child(_metadata, pid);
	crid = sys_checkpoint(pid, self->d.imgfd, 0);
	ASSERT_LT(0, crid)
		TH_LOG("checkpoint of a task stopped in system call %d: %s",
		       nr_of(sc.call), strerror(errno));
	ASSERT_EQ(0, write_ns(sc.ckfile, now_ns(CLOCK_MONOTONIC)));
	kill_child(_metadata, pid);
	if (sc.call == FUTEX_ABS_RT)
		usleep(DELAY_US);

	ASSERT_EQ(0, write_ns(sc.rsfile, now_ns(CLOCK_MONOTONIC)));
	pid = spawn_restarter(_metadata, &self->d, crid, pre_stdin, NULL);
	if (sc.end == WAKE) {
		expect_in_syscall(_metadata, pid, resumed_nr(sc.call),
				  "restarted waiter");
		/* Blocked there, not about to fail */
		usleep(300000);
		ASSERT_EQ(resumed_nr(sc.call), proc_syscall(pid));
		wake(_metadata, self->word);
	}
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted waiter");
}

/*
 * A task stopped in a system call a signal interrupted, with a signal to
 * handle pending (sent while it was stopped): after restart, the handler
 * runs and the call returns EINTR, or is made again with SA_RESTART, as
 * it would have without the checkpoint.
 */

enum intr_call {
	INTR_FUTEX,		/* futex wait, no timeout: -ERESTARTSYS */
	INTR_FUTEX_TIMEOUT,	/* futex wait, timeout: restart block */
	INTR_POLL,		/* poll: restart block */
	INTR_PAUSE,		/* pause: -ERESTARTNOHAND */
};

struct intr_args {
	enum intr_call call;
	bool sa_restart;
	int err;		/* errno of the call after the handler */
};

static struct intr_args ia;
static int intr_handled;

/* Once it ran, a futex wait made again finds another value: EAGAIN */
static void intr_handler(int sig)
{
	intr_handled++;
	futex_word = 1;
}

static void intr_main(int ready)
{
	struct sigaction sa = {
		.sa_handler = intr_handler,
		.sa_flags = ia.sa_restart ? SA_RESTART : 0,
	};
	struct timespec ts = { 60, 0 };
	long r;
	int err;

	cr_phase = "interrupted";
	orig_pid = getpid();
	if (sigaction(SIGUSR1, &sa, NULL))
		_exit(EXIT_SETUP);
	cr_prepare(ready);
	if (write(ready, "r", 1) != 1)
		_exit(EXIT_SETUP);
	close(ready);
	switch (ia.call) {
	case INTR_FUTEX:
	case INTR_FUTEX_TIMEOUT:
		r = syscall(__NR_futex, &futex_word,
			    FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0,
			    ia.call == INTR_FUTEX ? NULL : &ts, NULL, 0);
		break;
	case INTR_POLL:
		r = syscall(__NR_poll, pfd, 1, 60000);
		break;
	default:
		r = syscall(__NR_pause);
	}
	err = errno;
	if (getpid() == orig_pid) {
		cr_log("the original task returned: %ld errno %d", r, err);
		_exit(EXIT_CHECK);
	}
	cr_phase = "restarted interrupted";
	CHECKF(r == -1 && err == ia.err && intr_handled == 1,
	       "returned %ld errno %d (expected %d), %d handlers ran", r, err,
	       ia.err, (int)intr_handled);
	cr_exit(EXIT_RESTARTED);
}

static int intr_nr(enum intr_call c)
{
	return c == INTR_POLL ? __NR_poll : c == INTR_PAUSE ? __NR_pause :
	       __NR_futex;
}

FIXTURE(intr) {
	struct cr_dir d;
};

FIXTURE_VARIANT(intr) {
	enum intr_call call;
	bool sa_restart;
	int err;
};

FIXTURE_VARIANT_ADD(intr, futex_eintr) {
	.call = INTR_FUTEX, .err = EINTR,
};

FIXTURE_VARIANT_ADD(intr, futex_sa_restart) {
	.call = INTR_FUTEX, .sa_restart = true, .err = EAGAIN,
};

FIXTURE_VARIANT_ADD(intr, futex_timeout_sa_restart) {
	.call = INTR_FUTEX_TIMEOUT, .sa_restart = true, .err = EINTR,
};

FIXTURE_VARIANT_ADD(intr, poll_sa_restart) {
	.call = INTR_POLL, .sa_restart = true, .err = EINTR,
};

FIXTURE_VARIANT_ADD(intr, pause) {
	.call = INTR_PAUSE, .sa_restart = true, .err = EINTR,
};

FIXTURE_SETUP(intr)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(intr)
{
	cr_dir_teardown(_metadata, &self->d);
}

TEST_F_TIMEOUT(intr, handler_pending, TEST_TIMEOUT)
{
	long crid;
	pid_t pid;

	ia.call = variant->call;
	ia.sa_restart = variant->sa_restart;
	ia.err = variant->err;
	ASSERT_EQ(0, pipe2(in_pipe, O_CLOEXEC));
	pid = start_child_in(_metadata, intr_main, in_pipe[0]);
	expect_in_syscall(_metadata, pid, intr_nr(ia.call), "task");
	stop_child(_metadata, pid);
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	crid = sys_checkpoint(pid, self->d.imgfd, 0);
	ASSERT_LT(0, crid)
		TH_LOG("checkpoint with a signal to handle: %s",
		       strerror(errno));
	kill_child(_metadata, pid);
	pid = spawn_restarter(_metadata, &self->d, crid, pre_stdin, NULL);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted task");
}

/*
 * The checks of the restart block record: an image of a task stopped in a
 * futex wait, a poll, or in no system call, with one field edited, is
 * refused with its errno before the point of no return.
 */

/*
 * Restart from @fd: exit with the errno of a failed restart, which the
 * kernel explains on stderr
 */
static void errno_restarter(void *arg, int fd)
{
	long r;

	pre_stdin(NULL);
	if (close_fds_except(fd))
		_exit(EXIT_SETUP);
	r = sys_restart(0, fd, CR_LOGFD(2));
	_exit(r < 0 ? errno : EXIT_RESTART_RETURNED);
}

/* A task checkpointing itself: not in a system call */
static void self_verify(bool restarted)
{
}

static void self_body(void *arg, int imgfd)
{
	long r;

	cr_prepare(imgfd);
	r = sys_checkpoint(0, imgfd, 0);
	cr_finish(r, errno, self_verify);
}

struct field_edit {
	size_t off;
	size_t size;
	unsigned long long val;
};

#define RB(f)		offsetof(struct cr_hdr_restart_block, f)

FIXTURE(bad) {
	struct cr_dir d;
};

FIXTURE_VARIANT(bad) {
	int base;		/* -1: self checkpoint; else a call */
	int err;
	__u32 type;		/* the record edited; 0: the restart block */
	struct field_edit edit[3];
};

/* orig_ax and ax in the registers of the cpu record */
#define REG(i)		(offsetof(struct cr_hdr_cpu, regs) + (i) * 8)
#define ORIG_AX		REG(15)
#define AX		REG(10)

FIXTURE_VARIANT_ADD(bad, futex_none) {
	.base = FUTEX_REL, .err = 0,
};

FIXTURE_VARIANT_ADD(bad, futex_flags) {
	.base = FUTEX_REL, .err = EINVAL,
	.edit = { { RB(flags), 4, CR_RESTART_TIMEOUT } },
};

FIXTURE_VARIANT_ADD(bad, futex_clock) {
	.base = FUTEX_REL, .err = EINVAL,
	.edit = { { RB(clockid), 4, CLOCK_BOOTTIME } },
};

FIXTURE_VARIANT_ADD(bad, futex_monotonic_deadline) {
	.base = FUTEX_REL, .err = EINVAL,
	.edit = { { RB(expires), 8, 1 } },
};

FIXTURE_VARIANT_ADD(bad, futex_realtime_remaining) {
	.base = FUTEX_REL, .err = EINVAL,
	.edit = { { RB(clockid), 4, CLOCK_REALTIME },
		  { RB(remaining), 8, NSEC } },
};

FIXTURE_VARIANT_ADD(bad, futex_remaining_huge) {
	.base = FUTEX_REL, .err = EINVAL,
	.edit = { { RB(remaining), 8, -1ULL } },
};

FIXTURE_VARIANT_ADD(bad, futex_deadline_huge) {
	.base = FUTEX_REL, .err = EINVAL,
	.edit = { { RB(clockid), 4, CLOCK_REALTIME }, { RB(remaining), 8, 0 },
		  { RB(expires), 8, -1ULL } },
};

FIXTURE_VARIANT_ADD(bad, futex_realtime_deadline) {
	.base = FUTEX_REL, .err = 0,
	.edit = { { RB(clockid), 4, CLOCK_REALTIME }, { RB(remaining), 8, 0 },
		  { RB(expires), 8, 1 } },
};

FIXTURE_VARIANT_ADD(bad, futex_unaligned) {
	.base = FUTEX_REL, .err = EINVAL,
	.edit = { { RB(uaddr), 8, 0x10002 } },
};

FIXTURE_VARIANT_ADD(bad, futex_kernel_addr) {
	.base = FUTEX_REL, .err = EINVAL,
	.edit = { { RB(uaddr), 8, KERNEL_ADDR } },
};

FIXTURE_VARIANT_ADD(bad, futex_bitset) {
	.base = FUTEX_REL, .err = EINVAL,
	.edit = { { RB(bitset), 4, 0 } },
};

FIXTURE_VARIANT_ADD(bad, futex_nfds) {
	.base = FUTEX_REL, .err = EINVAL,
	.edit = { { RB(nfds), 4, 1 } },
};

FIXTURE_VARIANT_ADD(bad, futex_rmtp) {
	.base = FUTEX_REL, .err = EINVAL,
	.edit = { { RB(rmtp), 8, 4096 } },
};

FIXTURE_VARIANT_ADD(bad, futex_reserved2) {
	.base = FUTEX_REL, .err = EINVAL,
	.edit = { { RB(reserved2), 8, 1 } },
};

FIXTURE_VARIANT_ADD(bad, poll_none) {
	.base = POLL, .err = 0,
};

FIXTURE_VARIANT_ADD(bad, poll_flags) {
	.base = POLL, .err = EINVAL,
	.edit = { { RB(flags), 4, CR_RESTART_TIMEOUT | CR_RESTART_SHARED } },
};

FIXTURE_VARIANT_ADD(bad, poll_clock) {
	.base = POLL, .err = EINVAL,
	.edit = { { RB(clockid), 4, CLOCK_REALTIME } },
};

FIXTURE_VARIANT_ADD(bad, poll_remaining_huge) {
	.base = POLL, .err = EINVAL,
	.edit = { { RB(remaining), 8, -1ULL } },
};

FIXTURE_VARIANT_ADD(bad, poll_remaining_no_timeout) {
	.base = POLL, .err = EINVAL,
	.edit = { { RB(flags), 4, 0 } },
};

FIXTURE_VARIANT_ADD(bad, poll_nfds) {
	.base = POLL, .err = EINVAL,
	.edit = { { RB(nfds), 4, 0x7fffffff } },
};

FIXTURE_VARIANT_ADD(bad, poll_kernel_addr) {
	.base = POLL, .err = EINVAL,
	.edit = { { RB(uaddr), 8, KERNEL_ADDR } },
};

/* Past the end of the largest user address space (5-level paging) */
FIXTURE_VARIANT_ADD(bad, poll_array_end) {
	.base = POLL, .err = EINVAL,
	.edit = { { RB(uaddr), 8, 0x00fffffffffff000ULL - 16 } },
};

FIXTURE_VARIANT_ADD(bad, poll_val) {
	.base = POLL, .err = EINVAL,
	.edit = { { RB(val), 4, 1 } },
};

FIXTURE_VARIANT_ADD(bad, poll_expires) {
	.base = POLL, .err = EINVAL,
	.edit = { { RB(expires), 8, 1 } },
};

FIXTURE_VARIANT_ADD(bad, none_uaddr) {
	.base = -1, .err = EINVAL,
	.edit = { { RB(uaddr), 8, 4096 } },
};

FIXTURE_VARIANT_ADD(bad, none_reserved2) {
	.base = -1, .err = EINVAL,
	.edit = { { RB(reserved2), 8, 1 } },
};

FIXTURE_VARIANT_ADD(bad, cpu_orig_ax) {
	.base = -1, .err = EINVAL, .type = CR_HDR_CPU,
	.edit = { { ORIG_AX, 8, 100000 }, { AX, 8, -512ULL } },
};

FIXTURE_VARIANT_ADD(bad, cpu_not_interrupted) {
	.base = -1, .err = EINVAL, .type = CR_HDR_CPU,
	.edit = { { ORIG_AX, 8, __NR_read } },
};

FIXTURE_VARIANT_ADD(bad, cpu_interrupted) {
	.base = FUTEX_REL, .err = EINVAL, .type = CR_HDR_CPU,
	.edit = { { AX, 8, -EINTR } },
};

FIXTURE_VARIANT_ADD(bad, kind_unknown) {
	.base = -1, .err = EINVAL,
	.edit = { { RB(kind), 4, 99 } },
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

/* Checkpoint a child stopped in @call (a timeout of WAIT_NS) */
static void checkpoint_stopped(struct __test_metadata *_metadata,
			       struct cr_dir *d, enum call call)
{
	pid_t pid;
	long crid;

	memset(&sc, 0, sizeof(sc));
	sc.call = call;
	sc.end = TIMEOUT;
	sc.any_time = true;
	cr_path(d, "checkpoint_time", sc.ckfile, sizeof(sc.ckfile));
	cr_path(d, "restart_time", sc.rsfile, sizeof(sc.rsfile));
	if (in_pipe[0] < 0)
		ASSERT_EQ(0, pipe2(in_pipe, O_CLOEXEC));
	pid = start_child_in(_metadata, sc_main, in_pipe[0]);
	expect_in_syscall(_metadata, pid, nr_of(call), "waiter");
	stop_child(_metadata, pid);
	crid = sys_checkpoint(pid, d->imgfd, 0);
	ASSERT_LT(0, crid)
		TH_LOG("checkpoint of a stopped task: %s", strerror(errno));
	ASSERT_EQ(0, write_ns(sc.ckfile, now_ns(CLOCK_MONOTONIC)));
	kill_child(_metadata, pid);
	ASSERT_EQ(0, write_ns(sc.rsfile, now_ns(CLOCK_MONOTONIC)));
}

TEST_F_TIMEOUT(bad, restart, TEST_TIMEOUT)
{
	static unsigned char buf[64 << 20];
	struct cr_hdr_restart_block rb;
	char path[64];
	ssize_t len;
	size_t i;
	long off;
	pid_t pid;

	if (variant->base < 0)
		checkpoint_child(_metadata, &self->d, self_body, NULL);
	else
		checkpoint_stopped(_metadata, &self->d, variant->base);
	len = pread(self->d.imgfd, buf, sizeof(buf), 0);
	ASSERT_LT(0, len);
	ASSERT_GT((ssize_t)sizeof(buf), len);
	off = cr_find_rec(buf, len, CR_HDR_RESTART_BLOCK, 0);
	ASSERT_LE(0, off);
	/* What checkpoint wrote */
	memcpy(&rb, buf + off, sizeof(rb));
	ASSERT_EQ(sizeof(rb), rb.h.len);
	if (variant->base == FUTEX_REL) {
		ASSERT_EQ(CR_RESTART_FUTEX, rb.kind);
		ASSERT_EQ(CLOCK_MONOTONIC, rb.clockid);
		ASSERT_EQ(FUTEX_BITSET_MATCH_ANY, rb.bitset);
		ASSERT_EQ(0, rb.flags);
		ASSERT_EQ(0, rb.val);
		ASSERT_TRUE(rb.uaddr && !(rb.uaddr & 3));
		ASSERT_TRUE(rb.remaining > 0 && rb.remaining <= WAIT_NS);
	} else if (variant->base == POLL) {
		ASSERT_EQ(CR_RESTART_POLL, rb.kind);
		ASSERT_EQ(CLOCK_MONOTONIC, rb.clockid);
		ASSERT_EQ(CR_RESTART_TIMEOUT, rb.flags);
		ASSERT_EQ(3, rb.nfds);
		ASSERT_TRUE(rb.remaining > 0 && rb.remaining <= WAIT_NS);
	} else {
		ASSERT_EQ(CR_RESTART_NONE, rb.kind);
	}
	if (variant->base >= 0) {
		/* Saved in the call, its -ERESTART_RESTARTBLOCK in ax */
		struct cr_hdr_cpu hc;
		long c = cr_find_rec(buf, len, CR_HDR_CPU, 0);

		ASSERT_LE(0, c);
		memcpy(&hc, buf + c, sizeof(hc));
		ASSERT_EQ(nr_of(variant->base), hc.regs[15]);
		ASSERT_EQ(-516, (long long)hc.regs[10]);
	}
	if (variant->type) {
		off = cr_find_rec(buf, len, variant->type, 0);
		ASSERT_LE(0, off);
	}
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
