// SPDX-License-Identifier: GPL-2.0
/*
 * Who may checkpoint whom: one case per row of the table in
 * Documentation/checkpoint/security.rst.
 *
 * A target sets the credentials of its row, makes itself dumpable again
 * (a uid change clears it) unless the row says otherwise, and stops; a
 * checkpointer with the credentials of its row calls checkpoint(2) on it.
 * Each case checks the result, that nothing was written when checkpoint
 * refused, and that the target, continued, finds its memory as it was.
 * The Yama cases set /proc/sys/kernel/yama/ptrace_scope and put it back;
 * the others run with ptrace_scope 0 so that only the classic rules apply.
 * The tree cases check that a checkpoint of a tree needs the right to
 * ptrace every task of it, and a restart that chooses pids the right to.
 */
#include "cr_harness.h"

#include <grp.h>
#include <linux/capability.h>

#define ALL_CAPS	(~0ULL)
#define CAP(c)		(1ULL << (c))
#define SCOPE_PATH	"/proc/sys/kernel/yama/ptrace_scope"
#define TARGET_LEN	(64 * 1024)

struct who {
	uid_t uid;		/* real, effective and saved uid */
	gid_t gid;		/* real, effective and saved gid */
	bool suid_root;		/* saved uid 0 instead */
	uint64_t caps;		/* permitted and effective; ALL_CAPS: keep */
	bool nondumpable;	/* PR_SET_DUMPABLE 0 */
	bool ptracer_any;	/* PR_SET_PTRACER_ANY */
};

static const struct who root = { .uid = 0, .gid = 0, .caps = ALL_CAPS };
static const struct who user = { .uid = 1000, .gid = 1000 };

static int set_caps(uint64_t caps)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[0].permitted &= (uint32_t)caps;
	d[1].permitted &= (uint32_t)(caps >> 32);
	d[0].effective = d[0].permitted;
	d[1].effective = d[1].permitted;
	d[0].inheritable = 0;
	d[1].inheritable = 0;
	return syscall(SYS_capset, &h, d);
}

/* Take the credentials of @w; the caller runs as root */
static int become(const struct who *w)
{
	if (w->uid || w->gid || w->suid_root) {
		if (prctl(PR_SET_KEEPCAPS, 1) || setgroups(0, NULL) ||
		    setresgid(w->gid, w->gid, w->gid) ||
		    setresuid(w->uid, w->uid, w->suid_root ? 0 : w->uid))
			return -1;
	}
	if (w->caps != ALL_CAPS && set_caps(w->caps))
		return -1;
	if (prctl(PR_SET_DUMPABLE, w->nondumpable ? 0 : 1))
		return -1;
	if (w->ptracer_any && prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY))
		return -1;
	return 0;
}

/*
 * The target: memory with a pattern, then stopped.  Continued, it checks
 * the pattern and exits 0.  Setup failures exit with EXIT_SETUP.
 */
static void __attribute__((noreturn)) target(const struct who *w, int ready)
{
	char *buf;

	cr_phase = "target";
	/* No descriptor or shared mapping of the harness: EBUSY otherwise */
	cr_prepare(ready);
	buf = mmap(NULL, TARGET_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || (w && become(w))) {
		cr_log("target setup: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
	pat_fill(buf, TARGET_LEN, 17, 0);
	if (write(ready, "r", 1) != 1)
		_exit(EXIT_SETUP);
	close(ready);
	raise(SIGSTOP);
	CHECK_PAT(buf, TARGET_LEN, 17, 0);
	_exit(cr_fail_line ? EXIT_CHECK : 0);
}

/* Fork a target; returns when it is stopped */
static pid_t spawn_target(const struct who *w)
{
	int p[2], status;
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		target(w, p[1]);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1 ||
	    waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status)) {
		close(p[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(p[0]);
	return pid;
}

/* What the checkpointer reports to the test */
struct result {
	long ret;		/* checkpoint(2)'s return value */
	int err;		/* its errno if it failed */
	int setup;		/* 0, or the errno of a failed setup step */
	int target_status;	/* wait status of a target of its own */
};

struct checkpointer_args {
	const struct who *who;
	pid_t target;		/* a sibling's pid, or 0: fork our own */
	int imgfd;
	int out;
};

static void __attribute__((noreturn))
checkpointer(const struct checkpointer_args *a)
{
	struct result r = { .target_status = -1 };
	pid_t pid = a->target;

	cr_phase = "checkpointer";
	if (become(a->who)) {
		r.setup = errno;
		goto out;
	}
	if (!pid) {
		/* A child with the same credentials, stopped */
		pid = spawn_target(NULL);
		if (pid < 0) {
			r.setup = errno ? errno : EIO;
			goto out;
		}
	}
	r.ret = sys_checkpoint(pid, a->imgfd, 0);
	r.err = r.ret < 0 ? errno : 0;
	if (!a->target) {
		kill(pid, SIGCONT);
		if (waitpid(pid, &r.target_status, 0) != pid)
			r.target_status = -1;
	}
out:
	if (write(a->out, &r, sizeof(r)) != sizeof(r))
		_exit(EXIT_SETUP);
	_exit(0);
}

static int read_scope(void)
{
	char buf[16];

	if (read_file(SCOPE_PATH, buf, sizeof(buf)) < 0)
		return -1;
	return atoi(buf);
}

static int write_scope(int scope)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d\n", scope);
	return write_file(SCOPE_PATH, buf, strlen(buf));
}

FIXTURE(perm) {
	struct cr_dir d;
	int old_scope;
};

FIXTURE_VARIANT(perm) {
	const struct who *caller;
	const struct who *target;	/* NULL: the caller's own child */
	int scope;			/* Yama ptrace_scope; -1: 0 if present */
	int err;			/* expected errno; 0: a crid */
};

/* Classic rules (ptrace_scope 0) */

FIXTURE_VARIANT_ADD(perm, root_any_user) {
	.caller = &root, .target = &user, .scope = -1,
};

FIXTURE_VARIANT_ADD(perm, same_user) {
	.caller = &user, .target = &user, .scope = -1,
};

FIXTURE_VARIANT_ADD(perm, other_user) {
	.caller = &user,
	.target = &(const struct who){ .uid = 1001, .gid = 1000 },
	.scope = -1, .err = EPERM,
};

FIXTURE_VARIANT_ADD(perm, other_group) {
	.caller = &user,
	.target = &(const struct who){ .uid = 1000, .gid = 1001 },
	.scope = -1, .err = EPERM,
};

/* The target could become root again: a setuid program that dropped */
FIXTURE_VARIANT_ADD(perm, target_saved_uid_root) {
	.caller = &user,
	.target = &(const struct who){ .uid = 1000, .gid = 1000,
				       .suid_root = true, .caps = 0 },
	.scope = -1, .err = EPERM,
};

/* Same ids, but the target holds a capability the caller lacks */
FIXTURE_VARIANT_ADD(perm, target_more_caps) {
	.caller = &user,
	.target = &(const struct who){ .uid = 1000, .gid = 1000,
				       .caps = CAP(CAP_NET_RAW) },
	.scope = -1, .err = EPERM,
};

FIXTURE_VARIANT_ADD(perm, target_nondumpable) {
	.caller = &user,
	.target = &(const struct who){ .uid = 1000, .gid = 1000,
				       .nondumpable = true },
	.scope = -1, .err = EPERM,
};

FIXTURE_VARIANT_ADD(perm, root_target_nondumpable) {
	.caller = &root,
	.target = &(const struct who){ .uid = 1000, .gid = 1000,
				       .nondumpable = true },
	.scope = -1,
};

FIXTURE_VARIANT_ADD(perm, cap_sys_ptrace_other_user) {
	.caller = &(const struct who){ .uid = 1000, .gid = 1000,
				       .caps = CAP(CAP_SYS_PTRACE) },
	.target = &(const struct who){ .uid = 1001, .gid = 1001 },
	.scope = -1,
};

/* uid 0 is not enough: CAP_SYS_PTRACE is what counts */
FIXTURE_VARIANT_ADD(perm, root_without_cap_sys_ptrace) {
	.caller = &(const struct who){ .uid = 0, .gid = 0,
				       .caps = ALL_CAPS & ~CAP(CAP_SYS_PTRACE) },
	.target = &user, .scope = -1, .err = EPERM,
};

/* Yama */

FIXTURE_VARIANT_ADD(perm, yama1_sibling) {
	.caller = &user, .target = &user, .scope = 1, .err = EPERM,
};

FIXTURE_VARIANT_ADD(perm, yama1_own_child) {
	.caller = &user, .target = NULL, .scope = 1,
};

FIXTURE_VARIANT_ADD(perm, yama1_sibling_ptracer_any) {
	.caller = &user,
	.target = &(const struct who){ .uid = 1000, .gid = 1000,
				       .ptracer_any = true },
	.scope = 1,
};

FIXTURE_VARIANT_ADD(perm, yama2_own_child) {
	.caller = &user, .target = NULL, .scope = 2, .err = EPERM,
};

FIXTURE_VARIANT_ADD(perm, yama2_root) {
	.caller = &root, .target = &user, .scope = 2,
};

FIXTURE_SETUP(perm)
{
	self->old_scope = -1;
	REQUIRE_CHECKPOINT();
	if (geteuid())
		SKIP(return, "needs root to run as other users");
	self->old_scope = read_scope();
	if (variant->scope > 0 && self->old_scope < 0)
		SKIP(return, "no Yama (CONFIG_SECURITY_YAMA)");
	if (self->old_scope >= 0) {
		if (self->old_scope == 3)
			SKIP(return, "ptrace_scope is 3 until reboot");
		ASSERT_EQ(0, write_scope(variant->scope > 0 ?
					 variant->scope : 0));
	}
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(perm)
{
	if (self->old_scope >= 0 && self->old_scope != 3)
		write_scope(self->old_scope);
	cr_dir_teardown(_metadata, &self->d);
}

TEST_F_TIMEOUT(perm, checkpoint, TEST_TIMEOUT)
{
	struct checkpointer_args a = {
		.who = variant->caller, .imgfd = self->d.imgfd,
	};
	struct result r;
	pid_t pid, tpid = 0;
	struct stat st;
	int p[2];

	if (variant->target) {
		tpid = spawn_target(variant->target);
		ASSERT_LT(0, tpid) TH_LOG("target setup failed");
		kid_add(tpid);
	}
	ASSERT_EQ(0, pipe(p));
	a.target = tpid;
	a.out = p[1];
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(p[0]);
		checkpointer(&a);
	}
	kid_add(pid);
	close(p[1]);
	ASSERT_EQ(sizeof(r), read(p[0], &r, sizeof(r)));
	close(p[0]);
	expect_exit(_metadata, pid, 0, "checkpointer");
	ASSERT_EQ(0, r.setup) TH_LOG("checkpointer setup: %s",
				     strerror(r.setup));

	ASSERT_EQ(0, fstat(self->d.imgfd, &st));
	if (variant->err) {
		EXPECT_EQ(-1, r.ret);
		EXPECT_EQ(variant->err, r.err) TH_LOG("errno %d (%s)", r.err,
						      strerror(r.err));
		EXPECT_EQ(0, st.st_size) TH_LOG("a refused checkpoint wrote");
	} else {
		EXPECT_LT(0, r.ret) TH_LOG("checkpoint: %s", strerror(r.err));
		EXPECT_LT(0, st.st_size);
	}

	/* The target was left stopped and unharmed */
	if (tpid) {
		EXPECT_EQ('T', proc_state(tpid));
		ASSERT_EQ(0, kill(tpid, SIGCONT));
		expect_exit(_metadata, tpid, 0, "target");
	} else {
		ASSERT_TRUE(WIFEXITED(r.target_status) &&
			    !WEXITSTATUS(r.target_status))
			TH_LOG("own target: wait status %#x", r.target_status);
	}
}

/*
 * Trees: a process of uid 1000 with a child, both stopped.  The child is
 * not dumpable in the first test: a checkpoint of the tree needs the right
 * to ptrace every task, so uid 1000 is refused what root may do.  The
 * second checks who may choose the pids of a restarted tree.
 */

/* The child of the tree: memory with a pattern, stopped, checked */
static void __attribute__((noreturn)) tree_child(bool nondumpable)
{
	char *buf;

	buf = mmap(NULL, TARGET_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED ||
	    (nondumpable && prctl(PR_SET_DUMPABLE, 0)))
		_exit(EXIT_SETUP);
	pat_fill(buf, TARGET_LEN, 23, 0);
	raise(SIGSTOP);
	CHECK_PAT(buf, TARGET_LEN, 23, 0);
	_exit(cr_fail_line ? EXIT_CHECK : 0);
}

/*
 * The root of the tree, uid 1000: forks the child, stops once it is
 * stopped; continued, continues it and exits with its status
 */
static void __attribute__((noreturn)) tree_root(bool nondumpable, int ready)
{
	pid_t child, self;
	int status;

	cr_phase = "tree root";
	cr_prepare(ready);
	if (become(&user))
		_exit(EXIT_SETUP);
	child = fork();
	if (child < 0)
		_exit(EXIT_SETUP);
	if (!child) {
		close(ready);
		tree_child(nondumpable);
	}
	if (waitpid(child, &status, WUNTRACED) != child || !WIFSTOPPED(status) ||
	    write(ready, "r", 1) != 1)
		_exit(EXIT_SETUP);
	close(ready);
	self = getpid();
	raise(SIGSTOP);
	/* Restarted with new pids, the child is another pid, and runs */
	if (getpid() == self)
		kill(child, SIGCONT);
	if (waitpid(-1, &status, 0) <= 0)
		_exit(EXIT_SETUP);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_CHECK);
}

/* Fork a tree; returns when both tasks are stopped */
static pid_t spawn_tree(bool nondumpable)
{
	int p[2], status;
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		tree_root(nondumpable, p[1]);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1 ||
	    waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status)) {
		close(p[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(p[0]);
	return pid;
}

/* Run @fn(@arg) in a child with the credentials @w; its result */
static struct result as_user(const struct who *w,
			     long (*fn)(const void *arg, int *status),
			     const void *arg)
{
	struct result r = { .target_status = -1 };
	pid_t pid;
	int p[2];

	if (pipe(p)) {
		r.setup = errno;
		return r;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		r.setup = errno;
		return r;
	}
	if (pid == 0) {
		close(p[0]);
		if (become(w))
			r.setup = errno;
		else
			r.ret = fn(arg, &r.target_status);
		r.err = r.ret < 0 ? errno : 0;
		if (write(p[1], &r, sizeof(r)) != sizeof(r))
			_exit(EXIT_SETUP);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &r, sizeof(r)) != sizeof(r))
		r.setup = EIO;
	close(p[0]);
	waitpid(pid, NULL, 0);
	return r;
}

struct tree_args {
	pid_t pid;
	int fd;
	unsigned long flags;
};

static long do_checkpoint(const void *arg, int *status)
{
	const struct tree_args *a = arg;

	return sys_checkpoint(a->pid, a->fd, a->flags);
}

/* Restart, and wait for the root the restart returned */
static long do_restart(const void *arg, int *status)
{
	const struct tree_args *a = arg;
	long ret;

	if (lseek(a->fd, 0, SEEK_SET))
		return -1;
	ret = sys_restart(0, a->fd, a->flags);
	if (ret > 0 && waitpid(ret, status, 0) != ret)
		*status = -1;
	return ret;
}

/* Continue the tree and check it finishes well */
static void end_tree(struct __test_metadata *_metadata, pid_t pid)
{
	EXPECT_EQ('T', proc_state(pid));
	ASSERT_EQ(0, kill(pid, SIGCONT));
	expect_exit(_metadata, pid, 0, "tree root");
}

FIXTURE(tree) {
	struct cr_dir d;
	int old_scope;
};

FIXTURE_SETUP(tree)
{
	self->old_scope = -1;
	REQUIRE_CHECKPOINT();
	if (geteuid())
		SKIP(return, "needs root to run as other users");
	self->old_scope = read_scope();
	if (self->old_scope == 3)
		SKIP(return, "ptrace_scope is 3 until reboot");
	if (self->old_scope > 0)
		ASSERT_EQ(0, write_scope(0));
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(tree)
{
	if (self->old_scope > 0 && self->old_scope != 3)
		write_scope(self->old_scope);
	cr_dir_teardown(_metadata, &self->d);
}

/* One task of the tree the caller may not ptrace: the whole tree refused */
TEST_F_TIMEOUT(tree, checkpoint_needs_every_task, TEST_TIMEOUT)
{
	struct tree_args a = { .fd = self->d.imgfd, .flags = CR_CHECKPOINT_TREE };
	struct result r;
	struct stat st;

	a.pid = spawn_tree(true);
	ASSERT_LT(0, a.pid) TH_LOG("tree setup failed");
	kid_add(a.pid);

	r = as_user(&user, do_checkpoint, &a);
	ASSERT_EQ(0, r.setup);
	EXPECT_EQ(-1, r.ret);
	EXPECT_EQ(EPERM, r.err) TH_LOG("errno %d (%s)", r.err, strerror(r.err));
	ASSERT_EQ(0, fstat(self->d.imgfd, &st));
	EXPECT_EQ(0, st.st_size) TH_LOG("a refused checkpoint wrote");

	/* Root may */
	r = as_user(&root, do_checkpoint, &a);
	ASSERT_EQ(0, r.setup);
	EXPECT_LT(0, r.ret) TH_LOG("root: %s", strerror(r.err));
	end_tree(_metadata, a.pid);
}

/*
 * Choosing the pids of a restarted tree needs CAP_CHECKPOINT_RESTORE over
 * the pid namespace: uid 1000 gets EPERM, and nothing is left; with new
 * pids it needs nothing, and the tree runs to its end
 */
TEST_F_TIMEOUT(tree, restart_pids_need_cap, TEST_TIMEOUT)
{
	struct tree_args a = { .fd = self->d.imgfd, .flags = CR_CHECKPOINT_TREE };
	struct result r;
	pid_t pid;

	pid = spawn_tree(false);
	ASSERT_LT(0, pid) TH_LOG("tree setup failed");
	kid_add(pid);
	a.pid = pid;
	r = as_user(&user, do_checkpoint, &a);
	ASSERT_EQ(0, r.setup);
	ASSERT_LT(0, r.ret) TH_LOG("checkpoint: %s", strerror(r.err));
	end_tree(_metadata, pid);

	a.flags = CR_RESTART_TREE;
	r = as_user(&user, do_restart, &a);
	ASSERT_EQ(0, r.setup);
	EXPECT_EQ(-1, r.ret);
	EXPECT_EQ(EPERM, r.err) TH_LOG("errno %d (%s)", r.err, strerror(r.err));
	EXPECT_EQ(-1, r.target_status) TH_LOG("a task was left");

	a.flags = CR_RESTART_TREE | CR_RESTART_NEW_PIDS;
	r = as_user(&user, do_restart, &a);
	ASSERT_EQ(0, r.setup);
	EXPECT_LT(0, r.ret) TH_LOG("restart with new pids: %s", strerror(r.err));
	EXPECT_TRUE(r.target_status != -1 && WIFEXITED(r.target_status) &&
		    !WEXITSTATUS(r.target_status))
		TH_LOG("restarted tree: wait status %#x", r.target_status);
}

TEST_HARNESS_MAIN
