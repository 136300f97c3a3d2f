// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint and restart of process trees: checkpoint(pid, fd,
 * CR_CHECKPOINT_TREE) and restart(0, fd, CR_RESTART_TREE [|
 * CR_RESTART_NEW_PIDS]).
 *
 * A test describes a tree in T[] (parent, process group, what the task
 * does) and forks it.  Every task fills memory with its own pattern, names
 * itself "t<index>", forks its children, notes its pid, parent, group and
 * session, writes its pid to the file r<index> of the test directory
 * ("ready"), closes its descriptors above 2 and stops itself with SIGSTOP
 * (or blocks in wait(), or polls a marker file when the cgroup freezer
 * stops it).  When it goes on - restarted, or continued after a refused
 * checkpoint - it checks from the inside its memory, its pid, its parent,
 * its group and session as the test expects (g_mode), reaps its children
 * expecting EXIT_RESTARTED from each, and exits with EXIT_RESTARTED or the
 * EXIT_CHECK code of its first failed check: the root's exit status sums
 * up the whole tree.
 */

#include "tree_harness.h"

#include <sys/ptrace.h>
#include <sys/utsname.h>

#define MAXT		128	/* tasks of a test's tree */
#define MEM_PAGES	8	/* pages of pattern per task */

/* What a task expects to find when it goes on (g_mode) */
enum mode {
	MODE_ORIG,	/* the original tree, continued: all unchanged */
	MODE_SAME,	/* restarted with its pids, in a new pid namespace */
	MODE_NEW,	/* restarted with CR_RESTART_NEW_PIDS, same namespace */
};

/* Process group of a task (tnode.pg): these, or the index of a leader */
#define PG_INHERIT	-1	/* its parent's */
#define PG_OWN		-2	/* setpgid(0, 0) */
#define PG_SETSID	-3	/* setsid() */
#define PG_FOREIGN	-4	/* the group g_foreign, led outside the tree */

/* What a task does (tnode.flags) */
#define F_WAITER	0x01	/* blocks in waitpid() for its children */
#define F_NOSTOP	0x02	/* sleeps instead of stopping, until SIGCONT */
#define F_THREAD	0x04	/* has a second thread */
#define F_ZOMBIE	0x08	/* exits at once, its parent reaps it later */
#define F_CLONE_FILES	0x10	/* made with CLONE_FILES */
#define F_MARKER	0x20	/* polls for the file "go" instead of stopping */
#define F_STORM		0x40	/* forks children until "go" (a fork storm) */
#define F_NEWPID	0x80	/* its children are in a new pid namespace */
#define F_EXTSTOP	0x100	/* polls for "go", stopped by the test */
#define F_REAPED	0x200	/* exits at once, reaped before the stop */
#define F_EXITSIG	0x400	/* made with exit signal SIGUSR2 */
#define F_THREAD_FS	0x800	/* has a second thread with its own fs_struct */
#define F_PIPE		0x1000	/* reads from a pipe its parent wrote to */
#define F_NEWUTS	0x2000	/* in a UTS namespace of its own */
#define F_SIGQUEUE	0x8000	/* queues itself signals: sigqueue_self() */
#define F_USERSTOP	0x4000	/* stopped by itself, kept stopped: its parent
				 * continues it after the restart */

/* Bytes in flight in the pipe of F_PIPE */
#define PIPE_BYTES	3000

struct tnode {
	int parent;		/* index of the parent, -1 for the root */
	int pg;			/* PG_*, or index of the group leader */
	unsigned int flags;
};

/* The tree and the test's settings, set before the root is forked */
static struct tnode T[MAXT];
static int nt;
static enum mode g_mode;
static pid_t g_root_ppid;	/* MODE_SAME: the root's parent, 0 or 1 */
static char g_dir[64];		/* the test directory */
static char g_cgroup[PATH_MAX];	/* the cgroup the root moves to, or "" */
static uid_t g_uid;		/* the root becomes this user if not 0 */
static pid_t g_foreign;		/* a process group led outside the tree */
static rlim_t g_sigpending;	/* F_SIGQUEUE: the RLIMIT_SIGPENDING left */
static bool g_sigqueue_legacy;	/* F_SIGQUEUE: SIGUSR1 only */
static char g_uts[16];		/* the root's own host name, or "" */
static bool g_shm;		/* the root maps shared memory for all */
static uint32_t *g_outside;	/* shared memory of the test, kept */

/* The shared memory of g_shm: a pattern, then a word per task */
#define SHM_LEN		(2 * 4096)
#define SHM_PAT		4096
static uint32_t *shm;

/* In each task: the pids of the tasks it knows, from the forks */
static pid_t g_pids[MAXT];
/* In each task: its group, its session are led by a task of the tree */
static bool g_pg_in_tree, g_sid_in_tree;

/* The state of one task, noted before it stops */
static struct {
	int idx;
	pid_t pid, ppid, pgid, sid;
} me;

static unsigned char mem[MEM_PAGES * 4096];
static int pipe_rd = -1;		/* F_PIPE: the read end */
static int new_rd = -1;			/* that of the child being forked */
static int pipe_wr[MAXT];		/* the write ends to F_PIPE children */
static int continued, usr2;	/* set by signal handlers */

static void task_main(int i);

static void add(int parent, int pg, unsigned int flags)
{
	T[nt].parent = parent;
	T[nt].pg = pg;
	T[nt].flags = flags;
	nt++;
}

static void tname(int i, char *buf, size_t len)
{
	snprintf(buf, len, "t%d", i);
}

/* A zombie child of ours that is not another of our children, exited */
static bool other_zombie(pid_t p, int c)
{
	char name[16];
	int k;

	if (proc_state(p) != 'Z')
		return false;
	for (k = 0; k < nt; k++) {
		if (k == c || T[k].parent != me.idx || (T[k].flags & F_ZOMBIE))
			continue;
		tname(k, name, sizeof(name));
		if (comm_is(p, name))
			return false;
	}
	return true;
}

static bool is_task(pid_t p, void *arg)
{
	int c = *(int *)arg;
	char name[16];

	if (T[c].flags & F_ZOMBIE)
		return other_zombie(p, c);
	tname(c, name, sizeof(name));
	return comm_is(p, name);
}

/*
 * MODE_NEW: the new pid of our child @c, found by its name (a zombie by
 * its state: its name is not saved); or -1.
 */
static pid_t find_task(int c)
{
	return find_child_if(proc_self_pid(), is_task, &c);
}

static void on_cont(int sig)
{
	__atomic_store_n(&continued, 1, __ATOMIC_RELAXED);
}

static void on_usr2(int sig)
{
	__atomic_add_fetch(&usr2, 1, __ATOMIC_RELAXED);
}

static int fs_unshared;

/* A thread with a working directory of its own */
static void *fs_thread(void *arg)
{
	if (unshare(CLONE_FS))
		cr_log("unshare(CLONE_FS): %s", strerror(errno));
	__atomic_store_n(&fs_unshared, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
	return NULL;
}

/* F_PIPE: what the parent left in the pipe, then its end */
static void check_pipe(void)
{
	unsigned char buf[PIPE_BYTES + 1];
	size_t n = 0;
	ssize_t r;

	if (!CHECKF(pipe_rd >= 0, "no pipe"))
		return;
	while (n < sizeof(buf)) {
		r = read(pipe_rd, buf + n, sizeof(buf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (!CHECKF(r >= 0, "read from the pipe: %s", strerror(errno)))
			return;
		if (!r)
			break;
		n += r;
	}
	CHECKF(n == PIPE_BYTES, "%zu bytes in the pipe, not %d", n,
	       PIPE_BYTES);
	CHECK_PAT(buf, PIPE_BYTES, 2000 + me.idx, 0);
	close(pipe_rd);
}

/* Make task @i its process group as T[i].pg says, in it */
static void join_group(int i)
{
	int pg = T[i].pg;

	if (pg == PG_SETSID && setsid() < 0)
		CHECKF(false, "setsid: %s", strerror(errno));
	else if (pg == PG_OWN && setpgid(0, 0))
		CHECKF(false, "setpgid(0, 0): %s", strerror(errno));
	else if (pg >= 0 && setpgid(0, g_pids[pg]))
		CHECKF(false, "setpgid(0, %d): %s", g_pids[pg], strerror(errno));
	else if (pg == PG_FOREIGN && setpgid(0, g_foreign))
		CHECKF(false, "setpgid(0, %d): %s", g_foreign, strerror(errno));
}

static int clone_fn(void *arg)
{
	task_main((long)arg);
	return 0;
}

/* Fork child @c of the caller, and put it in its group from here too */
static pid_t fork_task(int c)
{
	unsigned char buf[PIPE_BYTES];
	int p[2] = { -1, -1 };
	pid_t pid;

	if ((T[c].flags & F_PIPE) && pipe(p))
		return -1;
	if (p[0] >= 0) {
		new_rd = p[0];
		pipe_wr[c] = p[1];
	}
	if (T[c].flags & (F_CLONE_FILES | F_EXITSIG)) {
		int fl = T[c].flags & F_EXITSIG ? SIGUSR2 : CLONE_FILES | SIGCHLD;
		size_t sz = 256 * 1024;
		char *stack = malloc(sz);

		if (!stack)
			return -1;
		pid = clone(clone_fn, stack + sz, fl, (void *)(long)c);
	} else {
		pid = fork();
		if (pid == 0)
			task_main(c);
	}
	if (pid < 0)
		return pid;
	g_pids[c] = pid;
	if (p[0] >= 0) {
		/* Left in the pipe for the child to read after the restart */
		close(p[0]);
		new_rd = -1;
		pat_fill(buf, sizeof(buf), 2000 + c, 0);
		if (write(p[1], buf, sizeof(buf)) != sizeof(buf))
			return -1;
	}
	/* As a shell does, so that the next child finds the group made */
	if (T[c].pg == PG_OWN)
		setpgid(pid, pid);
	else if (T[c].pg >= 0)
		setpgid(pid, g_pids[T[c].pg]);
	return pid;
}

/* The checks of a task that goes on, from the inside */
static void verify(void)
{
	int i = me.idx, pg = T[i].pg;
	pid_t ppid = getppid();
	char pname[16];

	CHECK_PAT(mem, sizeof(mem), 1000 + i, 0);
	if (g_uts[0]) {
		struct utsname u;

		CHECK(uname(&u) == 0);
		CHECKF(!strcmp(u.nodename, g_uts), "host name %s, not %s",
		       u.nodename, g_uts);
	}
	if (g_mode == MODE_NEW) {
		/* New pids: the relations, by the names of the tasks */
		CHECKF(getpid() != me.pid, "pid %d, not a new one", getpid());
		if (i)
			tname(T[i].parent, pname, sizeof(pname));
		else
			snprintf(pname, sizeof(pname), "cr_restarter");
		CHECKF(comm_is(ppid, pname), "parent %d is not %s", ppid,
		       pname);
		if (pg >= 0 && (T[pg].flags & F_REAPED)) {
			int ms;

			/* See ghost_left(): the kernel may not be done with it */
			for (ms = 0; ms < 2000 && proc_state(getpgid(0)) != '?';
			     ms += 10)
				usleep(10000);
			/* Led by a pid no process has any more */
			CHECKF(getpgid(0) != getpid() &&
			       proc_state(getpgid(0)) == '?',
			       "process group %d: a process has its pid",
			       getpgid(0));
		} else if (pg >= 0) {
			tname(pg, pname, sizeof(pname));
			CHECKF(comm_is(getpgid(0), pname) && getpgid(0) != getpid(),
			       "process group %d is not that of %s", getpgid(0),
			       pname);
		}
	} else {
		CHECKF(getpid() == me.pid, "pid %d, not %d", getpid(), me.pid);
		if (g_mode == MODE_SAME && !i)
			CHECKF(ppid == g_root_ppid, "root's parent %d, not %d",
			       ppid, g_root_ppid);
		else
			CHECKF(ppid == me.ppid, "parent %d, not %d", ppid,
			       me.ppid);
		/*
		 * Restarted in a new pid namespace, a group or session led
		 * from outside the tree is the restarter's: not visible.
		 */
		pid_t pgid = me.pgid, sid = me.sid;

		if (g_mode == MODE_SAME && !g_pg_in_tree)
			pgid = 0;
		if (g_mode == MODE_SAME && !g_sid_in_tree)
			sid = 0;
		CHECKF(getpgid(0) == pgid, "process group %d, not %d",
		       getpgid(0), pgid);
		CHECKF(getsid(0) == sid, "session %d, not %d", getsid(0), sid);
	}
	/* Relations that hold whatever the pids */
	if (pg == PG_SETSID) {
		CHECKF(getsid(0) == getpid() && getpgid(0) == getpid(),
		       "session %d, group %d: not its own", getsid(0),
		       getpgid(0));
		return;
	}
	if (pg == PG_OWN)
		CHECKF(getpgid(0) == getpid(), "process group %d, not its own",
		       getpgid(0));
	if (pg == PG_INHERIT)
		CHECKF(getpgid(0) == (ppid ? getpgid(ppid) : 0),
		       "process group %d, not its parent's %d", getpgid(0),
		       ppid ? getpgid(ppid) : 0);
	CHECKF(getsid(0) == (ppid ? getsid(ppid) : 0),
	       "session %d, not its parent's %d", getsid(0),
	       ppid ? getsid(ppid) : 0);
}

/* Reap child @c of the caller, which must exit with EXIT_RESTARTED */
static void reap(int c)
{
	pid_t pid = g_pids[c], r;
	int status;

	if (T[c].flags & F_REAPED)
		return;
	if (g_mode == MODE_NEW) {
		pid = find_task(c);
		CHECKF(pid > 0, "no child named t%d", c);
	}
	if (pid <= 0)
		pid = -1;
	do {
		r = waitpid(pid, &status, __WALL);
	} while (r < 0 && errno == EINTR);
	if (!CHECKF(r > 0, "waitpid(%d) for t%d: %s", pid, c, strerror(errno)))
		return;
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_RESTARTED,
	       "child t%d (pid %d) ended with wait status %#x", c, r, status);
	if (T[c].flags & F_EXITSIG) {
		/* Its exit signal came before waitpid() returned */
		int n = __atomic_exchange_n(&usr2, 0, __ATOMIC_RELAXED);

		CHECKF(n == 1, "%d SIGUSR2 from the exit of t%d, not 1", n, c);
	}
}

/*
 * Our child @c stopped itself before the freeze: after the restart it is
 * stopped again, as its stop is reported to us, until we continue it
 */
static void continue_child(int c)
{
	pid_t pid = g_mode == MODE_NEW ? find_task(c) : g_pids[c];
	int ms, status = 0;
	pid_t r;

	if (!CHECKF(pid > 0, "no child named t%d", c))
		return;
	for (ms = 0; ms < 3000 && proc_state(pid) != 'T'; ms += 10)
		usleep(10000);
	usleep(300000);
	CHECKF(proc_state(pid) == 'T', "t%d (pid %d) is not stopped: state %c",
	       c, pid, proc_state(pid));
	r = waitpid(pid, &status, WUNTRACED | WNOHANG);
	CHECKF(r == pid && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP,
	       "waitpid(WUNTRACED) of t%d: %d, status %#x", c, r, status);
	CHECKF(kill(pid, SIGCONT) == 0, "SIGCONT to t%d: %s", c,
	       strerror(errno));
}

/* Fork storm: fork children until "go"; exit with how many were reaped */
static void __noreturn fork_storm(void)
{
	int n = 0, reaped = 0, status;
	pid_t pid;

	while (!tree_have_go(g_dir)) {
		if (n < 60) {
			pid = fork();
			if (pid == 0) {
				prctl(PR_SET_NAME, "storm");
				while (!tree_have_go(g_dir))
					usleep(20000);
				_exit(EXIT_RESTARTED);
			}
			if (pid > 0)
				n++;
		}
		usleep(500 + (n % 7) * 300);
	}
	while ((pid = waitpid(-1, &status, 0)) > 0 || errno == EINTR) {
		if (pid < 0)
			continue;
		CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_RESTARTED,
		       "child %d of the storm: wait status %#x", pid, status);
		reaped++;
	}
	cr_exit(reaped);
}

/*
 * What the root does for the tree: cr_prepare() (descriptors above 2 and
 * the harness's shared mappings), but for the mapping g_outside.
 */
static void prepare_root(void)
{
	if (drop_shared_mappings_but(g_outside) || close_fds_except(-1)) {
		cr_log("preparing the root: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
}

/* g_shm: the pattern, and in the parent what its children wrote */
static void check_shm(int i)
{
	int c;

	if (!shm)
		return;
	CHECK_PAT(shm, SHM_PAT, 3000, 0);
	for (c = i + 1; c < nt; c++)
		if (T[c].parent == i)
			CHECKF(shm[SHM_PAT / 4 + c] == 0xc0de0000U + c,
			       "shared memory: t%d wrote %#x, read %#x", c,
			       0xc0de0000U + c, shm[SHM_PAT / 4 + c]);
	/* For the parent, which reads it once it reaped us */
	shm[SHM_PAT / 4 + i] = 0xc0de0000U + i;
}

/*
 * F_SIGQUEUE: SIGRTMIN + 1 (unless g_sigqueue_legacy) and SIGUSR1 queued
 * with sigqueue(), blocked, then RLIMIT_SIGPENDING lowered to g_sigpending
 */
static int sigqueue_self(int i)
{
	const union sigval v = { .sival_int = 100 + i };
	struct rlimit rl;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) ||
	    (!g_sigqueue_legacy && sigqueue(getpid(), SIGRTMIN + 1, v)) ||
	    sigqueue(getpid(), SIGUSR1, v) || getrlimit(RLIMIT_SIGPENDING, &rl))
		return -1;
	rl.rlim_cur = g_sigpending;
	return setrlimit(RLIMIT_SIGPENDING, &rl);
}

/* The signals of sigqueue_self(), with their information */
static void check_sigqueue(int i)
{
	const struct timespec now = { 0 };
	int sigs[2] = { SIGRTMIN + 1, SIGUSR1 }, k;
	siginfo_t info;
	sigset_t set;

	for (k = g_sigqueue_legacy; k < 2; k++) {
		sigemptyset(&set);
		sigaddset(&set, sigs[k]);
		memset(&info, 0, sizeof(info));
		CHECKF(sigtimedwait(&set, &info, &now) == sigs[k],
		       "signal %d not pending", sigs[k]);
		CHECKF(info.si_code == SI_QUEUE &&
		       info.si_value.sival_int == 100 + i,
		       "signal %d: code %d, value %d: not those of sigqueue()",
		       sigs[k], info.si_code, info.si_value.sival_int);
	}
}

static void __noreturn task_main(int i)
{
	char name[16];
	int c;

	cr_phase = "task";
	me.idx = i;
	if (T[i].flags & F_PIPE) {
		pipe_rd = new_rd;
		new_rd = -1;
	}
	if (!(T[i].flags & F_CLONE_FILES)) {
		/* The write ends of pipes are their writer's alone */
		for (c = 0; c < MAXT; c++)
			if (pipe_wr[c] > 0)
				close(pipe_wr[c]);
		memset(pipe_wr, 0, sizeof(pipe_wr));
	}
	tname(i, name, sizeof(name));
	prctl(PR_SET_NAME, name);
	if (!i && g_cgroup[0] && cg_write(g_cgroup, "cgroup.procs", "0"))
		setup_fail("cgroup.procs");
	if (!i && g_uid &&
	    (setgroups(0, NULL) || setresgid(g_uid, g_uid, g_uid) ||
	     setresuid(g_uid, g_uid, g_uid) ||
	     prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))) {
		cr_log("becoming user %d: %s", g_uid, strerror(errno));
		_exit(EXIT_SETUP);
	}
	/*
	 * The harness's shared mappings and descriptors cannot be saved:
	 * the root drops them for the whole tree (a CLONE_FILES child must
	 * not close what its parent is using).
	 */
	if (!i)
		prepare_root();
	if (!i && g_shm) {
		shm = mmap(NULL, SHM_LEN, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (shm == MAP_FAILED) {
			cr_log("mmap: %s", strerror(errno));
			_exit(EXIT_SETUP);
		}
		pat_fill(shm, SHM_PAT, 3000, 0);
	}
	if (((!i && g_uts[0]) || (T[i].flags & F_NEWUTS)) &&
	    (unshare(CLONE_NEWUTS) ||
	     sethostname(i ? "elsewhere" : g_uts, strlen(i ? "elsewhere" : g_uts)))) {
		cr_log("a UTS namespace: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
	join_group(i);
	g_pg_in_tree |= T[i].pg != PG_INHERIT;
	g_sid_in_tree |= T[i].pg == PG_SETSID;
	pat_fill(mem, sizeof(mem), 1000 + i, 0);
	if (T[i].flags & (F_ZOMBIE | F_REAPED)) {
		tree_ready(g_dir, 'r', i);
		_exit(EXIT_RESTARTED);
	}
	signal(SIGUSR2, on_usr2);
	if ((T[i].flags & F_NEWPID) && unshare(CLONE_NEWPID)) {
		cr_log("unshare(CLONE_NEWPID): %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
	for (c = i + 1; c < nt; c++) {
		if (T[c].parent != i)
			continue;
		if (fork_task(c) < 0) {
			cr_log("fork of t%d: %s", c, strerror(errno));
			_exit(EXIT_SETUP);
		}
	}
	for (c = i + 1; c < nt; c++)
		if (T[c].parent == i && (T[c].flags & F_REAPED) &&
		    waitpid(g_pids[c], NULL, 0) != g_pids[c]) {
			cr_log("waitpid for t%d: %s", c, strerror(errno));
			_exit(EXIT_SETUP);
		}
	if ((T[i].flags & F_THREAD) && thr_start()) {
		cr_log("pthread_create: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
	if (T[i].flags & F_THREAD_FS) {
		pthread_t th;

		errno = pthread_create(&th, NULL, fs_thread, NULL);
		if (errno) {
			cr_log("pthread_create: %s", strerror(errno));
			_exit(EXIT_SETUP);
		}
		while (!__atomic_load_n(&fs_unshared, __ATOMIC_ACQUIRE))
			usleep(1000);
	}
	if (T[i].flags & F_NOSTOP)
		signal(SIGCONT, on_cont);
	if ((T[i].flags & F_SIGQUEUE) && sigqueue_self(i)) {
		cr_log("queueing signals: %s", strerror(errno));
		_exit(EXIT_SETUP);
	}
	me.pid = getpid();
	me.ppid = getppid();
	me.pgid = getpgid(0);
	me.sid = getsid(0);
	tree_ready(g_dir, 'r', i);

	if (T[i].flags & F_STORM)
		fork_storm();
	if (T[i].flags & F_WAITER) {
		/* Stopped by the test in there; the children go on first */
		for (c = i + 1; c < nt; c++)
			if (T[c].parent == i)
				reap(c);
	} else if (T[i].flags & F_NOSTOP) {
		while (!__atomic_load_n(&continued, __ATOMIC_RELAXED))
			usleep(10000);
	} else if (T[i].flags & (F_MARKER | F_EXTSTOP)) {
		while (!tree_have_go(g_dir))
			usleep(2000);
	} else {
		raise(SIGSTOP);
	}

	cr_phase = "going on";
	verify();
	if (T[i].flags & F_SIGQUEUE)
		check_sigqueue(i);
	if (T[i].flags & F_THREAD) {
		CHECKF(nr_threads() == 2, "%d threads, not 2", nr_threads());
		CHECKF(thr_alive() == 0, "the second thread does not run");
	}
	/* The pipes to the children: they read to the end */
	for (c = i + 1; c < nt; c++)
		if (pipe_wr[c] > 0)
			close(pipe_wr[c]);
	if (T[i].flags & F_PIPE)
		check_pipe();
	for (c = i + 1; c < nt; c++)
		if (T[c].parent == i && (T[c].flags & F_USERSTOP))
			continue_child(c);
	if (!(T[i].flags & F_WAITER))
		for (c = nt - 1; c > i; c--)
			if (T[c].parent == i)
				reap(c);
	if ((T[i].flags & F_THREAD) && thr_stop_join())
		CHECKF(false, "joining the thread: %s", strerror(errno));
	check_shm(i);
	cr_exit(EXIT_RESTARTED);
}

/*
 * The test's side
 */

/* The tree as the test sees it */
struct tree {
	pid_t pids[MAXT];	/* pids of the tasks, in the test's namespace */
	pid_t root;		/* the root, our child or the manager's */
	pid_t manager;		/* our child, parent of the root, or 0 */
	int imgfd;
};

static void tree_reset(enum mode mode)
{
	memset(T, 0, sizeof(T));
	nt = 0;
	g_mode = mode;
	g_root_ppid = 0;
	g_cgroup[0] = 0;
	g_uid = 0;
	g_foreign = 0;
	g_sigpending = 0;
	g_sigqueue_legacy = false;
	g_uts[0] = 0;
	g_shm = false;
	g_outside = NULL;
}

/* Once every task is ready: stop the waiters, wait for all to be stopped */
static void wait_tree(struct __test_metadata *_metadata, struct tree *t)
{
	char path[96];
	int i, ms;

	for (i = 0; i < nt; i++) {
		snprintf(path, sizeof(path), "%s/r%d", g_dir, i);
		t->pids[i] = wait_ready_file(_metadata, path, 0);
		ASSERT_LT(0, t->pids[i]);
	}
	for (i = 0; i < nt; i++) {
		unsigned int f = T[i].flags;

		if (f & F_ZOMBIE) {
			wait_state(_metadata, t->pids[i], 'Z');
		} else if (f & F_EXTSTOP) {
			ASSERT_EQ(0, kill(t->pids[i], SIGSTOP));
			wait_state(_metadata, t->pids[i], 'T');
		} else if (f & F_WAITER) {
			for (ms = 0; ms < CHILD_TIMEOUT_MS; ms += 10) {
				if (proc_syscall(t->pids[i]) == __NR_wait4)
					break;
				usleep(10000);
			}
			ASSERT_EQ(__NR_wait4, proc_syscall(t->pids[i]));
			ASSERT_EQ(0, kill(t->pids[i], SIGSTOP));
			wait_state(_metadata, t->pids[i], 'T');
		} else if (!(f & (F_NOSTOP | F_MARKER | F_STORM | F_REAPED))) {
			wait_state(_metadata, t->pids[i], 'T');
		}
	}
}

/*
 * Fork the tree of T[] and wait until it is stopped.  With @root1, a
 * manager forks the root as pid 1 of a new pid namespace.
 */
static void tree_start(struct __test_metadata *_metadata, struct cr_dir *d,
		       struct tree *t, bool root1)
{
	int i, status = 0;
	char path[96];
	pid_t pid;

	memset(t, 0, sizeof(*t));
	t->imgfd = d->imgfd;
	snprintf(g_dir, sizeof(g_dir), "%s", d->dir);
	/* What an earlier tree of the test left */
	for (i = 0; i < MAXT; i++) {
		snprintf(path, sizeof(path), "%s/r%d", g_dir, i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/go", g_dir);
	unlink(path);
	/* A pid 1 ignores the SIGSTOP it sends itself: the test stops it */
	if (root1)
		T[0].flags |= F_WAITER;
	if (g_uid)
		ASSERT_EQ(0, chmod(g_dir, 0777));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (!root1)
			task_main(0);
		cr_phase = "manager";
		prctl(PR_SET_NAME, "cr_manager");
		if (unshare(CLONE_NEWPID)) {
			cr_log("unshare(CLONE_NEWPID): %s", strerror(errno));
			_exit(EXIT_SETUP);
		}
		pid = fork();
		if (pid == 0)
			task_main(0);
		if (pid < 0)
			_exit(EXIT_SETUP);
		/* Until the root dies: then the namespace is gone */
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128);
	}
	kid_add(pid);
	if (root1)
		t->manager = pid;
	wait_tree(_metadata, t);
	t->root = t->pids[0];
	if (!root1)
		ASSERT_EQ(pid, t->root);
}

/*
 * Kill the tasks of the tree and reap them: the test is their subreaper,
 * so that their pids are free again when this returns.
 */
static void tree_kill(struct __test_metadata *_metadata, struct tree *t)
{
	int i;

	for (i = 0; i < nt; i++)
		if (t->pids[i] > 0 && !(T[i].flags & F_REAPED))
			kill(t->pids[i], SIGKILL);
	kill_reap(NULL, 0);
	kid_del(t->manager);
	kid_del(t->root);
	t->root = 0;
	t->manager = 0;
}

/* Continue every task (after a refused checkpoint); expect the root's OK */
static void tree_continue(struct __test_metadata *_metadata, struct tree *t)
{
	int i;

	tree_release(_metadata, g_dir);
	for (i = 0; i < nt; i++)
		if (!(T[i].flags & (F_ZOMBIE | F_REAPED)))
			ASSERT_EQ(0, kill(t->pids[i], SIGCONT));
	expect_exit(_metadata, t->manager ? t->manager : t->root,
		    EXIT_RESTARTED, "continued tree");
	t->root = 0;
	t->manager = 0;
}

/* Checkpoint the stopped tree */
static void tree_checkpoint(struct __test_metadata *_metadata,
			    struct tree *t)
{
	tree_checkpoint_to(_metadata, t->root, t->imgfd);
}

static void img_save(struct __test_metadata *_metadata, const char *path,
		     unsigned char *buf, size_t len)
{
	cr_reseal(buf, len);
	ASSERT_EQ(0, write_file(path, buf, len));
}

/* The CR_HDR_PROC record @n of an image in memory */
static struct cr_hdr_proc *img_proc(struct __test_metadata *_metadata,
				    unsigned char *buf, size_t len, int n)
{
	return img_rec(_metadata, buf, len, CR_HDR_PROC, n);
}

static struct cr_hdr_tree *img_tree(struct __test_metadata *_metadata,
				    unsigned char *buf, size_t len)
{
	return img_rec(_metadata, buf, len, CR_HDR_TREE, 0);
}

/* Check the tree records against the tree: pids, parents, count */
static void check_records(struct __test_metadata *_metadata, const char *img,
			  const pid_t *pids)
{
	unsigned char *buf;
	size_t len;
	int i, p;

	buf = img_load(_metadata, img, &len, 0);
	ASSERT_EQ(nt, img_tree(_metadata, buf, len)->nr_tasks);
	for (i = 0; i < nt; i++) {
		struct cr_hdr_proc *pr = img_proc(_metadata, buf, len, i);

		p = T[i].parent;
		EXPECT_EQ(pids[i], pr->pid) TH_LOG("record %d", i);
		EXPECT_EQ(p < 0 ? 0 : pids[p], pr->ppid) TH_LOG("record %d", i);
		EXPECT_EQ(T[i].flags & F_EXITSIG ? SIGUSR2 : SIGCHLD,
			  pr->exit_signal) TH_LOG("record %d", i);
		EXPECT_EQ(pids[i], pr->tgid) TH_LOG("record %d", i);
	}
	free(buf);
}

/* Restart the tree image and expect every task to report OK */
static void restart_ok(struct __test_metadata *_metadata, struct cr_dir *d,
		       unsigned long flags, pid_t img_root)
{
	const struct tree_restart r = {
		.flags = flags | CR_RESTART_TREE,
		.img_root = img_root,
	};

	tree_restart(_metadata, d->img, &r, EXIT_RESTARTED,
		     "restarted tree's root");
}

/* Restart @img and expect @err, and nothing left behind */
static void restart_err(struct __test_metadata *_metadata, const char *img,
			unsigned long flags, pid_t img_root, int err,
			const char *what)
{
	const struct tree_restart r = {
		.flags = flags | CR_RESTART_TREE,
		.img_root = img_root,
		.err = err,
	};

	tree_restart(_metadata, img, &r, 0, what);
}

/*
 * Fork the tree of T[], checkpoint it, kill it and restart it: with
 * MODE_NEW with new pids, else with the image's in a new pid namespace
 * (as its pid 1 with @root1); every task must report OK
 */
static void tree_cycle(struct __test_metadata *_metadata, struct cr_dir *d,
		       bool root1)
{
	struct tree t;

	tree_start(_metadata, d, &t, root1);
	tree_checkpoint(_metadata, &t);
	tree_kill(_metadata, &t);
	restart_ok(_metadata, d, g_mode == MODE_NEW ? CR_RESTART_NEW_PIDS : 0,
		   root1 ? 1 : t.pids[0]);
}

/* root, 2 children, 3 grandchildren */
static void three_levels(void)
{
	add(-1, PG_INHERIT, 0);		/* 0 */
	add(0, PG_INHERIT, 0);		/* 1 */
	add(1, PG_INHERIT, 0);		/* 2 */
	add(1, PG_INHERIT, 0);		/* 3 */
	add(0, PG_INHERIT, 0);		/* 4 */
	add(4, PG_INHERIT, 0);		/* 5 */
}

/* A session, a group of its own, a group of a sibling */
static void groups_tree(void)
{
	add(-1, PG_INHERIT, 0);		/* 0 */
	add(0, PG_SETSID, 0);		/* 1: a session */
	add(1, PG_OWN, 0);		/* 2: its own group in it */
	add(1, 2, 0);			/* 3: in the group of 2 */
	add(1, PG_INHERIT, 0);		/* 4: in 1's group */
	add(0, PG_OWN, 0);		/* 5: its own group, root's session */
	add(5, PG_INHERIT, 0);		/* 6 */
}

FIXTURE(tree) {
	struct cr_dir d;
};

FIXTURE_SETUP(tree)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
	/* Orphans of killed trees come back to be reaped */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
}

FIXTURE_TEARDOWN_PARENT(tree)
{
	cr_dir_teardown(_metadata, &self->d);
}

/*
 * Three levels, the root pid 1 of a new pid namespace, restarted as pid 1
 * of another: pids, parents, memory; the parents reap their children.
 */
TEST_F_TIMEOUT(tree, pidns_root1, TEST_TIMEOUT)
{
	tree_reset(MODE_SAME);
	three_levels();
	tree_cycle(_metadata, &self->d, true);
}

/*
 * The root with a pid other than 1: restarted under a pid 1 that reaps;
 * the records hold the pids and parents of the tree.
 */
TEST_F_TIMEOUT(tree, pidns_init, TEST_TIMEOUT)
{
	struct tree t;

	tree_reset(MODE_SAME);
	g_root_ppid = 1;
	three_levels();
	tree_start(_metadata, &self->d, &t, false);
	tree_checkpoint(_metadata, &t);
	check_records(_metadata, self->d.img, t.pids);
	tree_kill(_metadata, &t);
	restart_ok(_metadata, &self->d, 0, t.pids[0]);
}

/* CR_RESTART_NEW_PIDS in the caller's namespace: new pids, same tree */
TEST_F_TIMEOUT(tree, new_pids, TEST_TIMEOUT)
{
	tree_reset(MODE_NEW);
	three_levels();
	tree_cycle(_metadata, &self->d, false);
}

/* Sessions and process groups, with the image's pids */
TEST_F_TIMEOUT(tree, groups_same_pids, TEST_TIMEOUT)
{
	tree_reset(MODE_SAME);
	g_root_ppid = 1;
	groups_tree();
	tree_cycle(_metadata, &self->d, false);
}

/* Sessions and process groups, with new pids */
TEST_F_TIMEOUT(tree, groups_new_pids, TEST_TIMEOUT)
{
	unsigned char *buf;
	struct tree t;
	size_t len;

	tree_reset(MODE_NEW);
	groups_tree();
	tree_start(_metadata, &self->d, &t, false);
	tree_checkpoint(_metadata, &t);
	/* The records: groups and sessions led inside the tree by their pid */
	buf = img_load(_metadata, self->d.img, &len, 0);
	EXPECT_EQ(0, img_proc(_metadata, buf, len, 0)->pgid);
	EXPECT_EQ(0, img_proc(_metadata, buf, len, 0)->sid);
	EXPECT_EQ(t.pids[1], img_proc(_metadata, buf, len, 1)->sid);
	EXPECT_EQ(t.pids[1], img_proc(_metadata, buf, len, 1)->pgid);
	EXPECT_EQ(t.pids[2], img_proc(_metadata, buf, len, 3)->pgid);
	EXPECT_EQ(t.pids[1], img_proc(_metadata, buf, len, 3)->sid);
	EXPECT_EQ(t.pids[5], img_proc(_metadata, buf, len, 6)->pgid);
	EXPECT_EQ(0, img_proc(_metadata, buf, len, 6)->sid);
	free(buf);
	tree_kill(_metadata, &t);
	restart_ok(_metadata, &self->d, CR_RESTART_NEW_PIDS, 0);
}

/* Parents blocked in waitpid() for their children across the checkpoint */
TEST_F_TIMEOUT(tree, waiting_parent, TEST_TIMEOUT)
{
	tree_reset(MODE_SAME);
	g_root_ppid = 1;
	add(-1, PG_INHERIT, F_WAITER);	/* 0 */
	add(0, PG_INHERIT, F_WAITER);	/* 1 */
	add(1, PG_INHERIT, 0);		/* 2 */
	add(0, PG_INHERIT, 0);		/* 3 */
	tree_cycle(_metadata, &self->d, false);
}

/* 100 processes: the root, 9 children with 10 children each */
TEST_F_TIMEOUT(tree, hundred, 600)
{
	int i, j, c;

	tree_reset(MODE_SAME);
	add(-1, PG_INHERIT, 0);
	for (i = 0; i < 9; i++) {
		c = nt;
		add(0, PG_INHERIT, 0);
		for (j = 0; j < 10; j++)
			add(c, PG_INHERIT, 0);
	}
	ASSERT_EQ(100, nt);
	tree_cycle(_metadata, &self->d, true);
}

/* One image restarted twice at the same time, in two pid namespaces */
TEST_F_TIMEOUT(tree, twice, TEST_TIMEOUT)
{
	const struct tree_restart r = {
		.flags = CR_RESTART_TREE,
		.img_root = 1,
	};
	struct tree t;
	pid_t r1, r2;

	tree_reset(MODE_SAME);
	three_levels();
	tree_start(_metadata, &self->d, &t, true);
	tree_checkpoint(_metadata, &t);
	tree_kill(_metadata, &t);
	r1 = spawn_tree_restarter(_metadata, self->d.img, &r);
	r2 = spawn_tree_restarter(_metadata, self->d.img, &r);
	expect_exit(_metadata, r1, EXIT_RESTARTED, "first restarted tree");
	expect_exit(_metadata, r2, EXIT_RESTARTED, "second restarted tree");
}

/*
 * A task traced by a process outside the tree, not the caller of
 * checkpoint (which may trace the tasks it stops): a tracer child
 */
static pid_t g_tracer;
static int g_tracer_go[2];

static void trace_t3(struct __test_metadata *_metadata, struct tree *t,
		     bool after)
{
	int ready[2];
	char c;

	if (after) {
		/* It lets t3 go, back in its group stop, and exits */
		ASSERT_EQ(1, write(g_tracer_go[1], "g", 1));
		close(g_tracer_go[1]);
		expect_exit(_metadata, g_tracer, 0, "tracer");
		return;
	}
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(g_tracer_go));
	g_tracer = fork();
	ASSERT_LE(0, g_tracer);
	if (g_tracer == 0) {
		close(ready[0]);
		close(g_tracer_go[1]);
		if (ptrace(PTRACE_SEIZE, t->pids[3], 0, 0) ||
		    write(ready[1], "r", 1) != 1 ||
		    read(g_tracer_go[0], &c, 1) != 1 ||
		    ptrace(PTRACE_INTERRUPT, t->pids[3], 0, 0) ||
		    waitpid(t->pids[3], NULL, __WALL) != t->pids[3] ||
		    ptrace(PTRACE_DETACH, t->pids[3], 0, 0))
			_exit(1);
		_exit(0);
	}
	kid_add(g_tracer);
	close(ready[1]);
	close(g_tracer_go[0]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);
}

/*
 * Checkpoint refused with @err; the tree goes on unharmed.  @hook, if not
 * NULL, runs before the checkpoint and after it.
 */
static void refused_hook(struct __test_metadata *_metadata, struct cr_dir *d,
			 int err,
			 void (*hook)(struct __test_metadata *_metadata,
				      struct tree *t, bool after))
{
	struct tree t;
	long r;
	int e;

	tree_start(_metadata, d, &t, false);
	if (hook)
		hook(_metadata, &t, false);
	r = sys_checkpoint(t.root, t.imgfd, CR_CHECKPOINT_TREE);
	e = errno;
	if (hook)
		hook(_metadata, &t, true);
	tree_continue(_metadata, &t);
	EXPECT_EQ(-1, r);
	EXPECT_EQ(err, e) TH_LOG("checkpoint: %s", strerror(e));
}

static void refused(struct __test_metadata *_metadata, struct cr_dir *d,
		    int err)
{
	refused_hook(_metadata, d, err, NULL);
}

TEST_F_TIMEOUT(tree, refuse_not_stopped, TEST_TIMEOUT)
{
	tree_reset(MODE_ORIG);
	three_levels();
	T[3].flags = F_NOSTOP;
	refused(_metadata, &self->d, EBUSY);
}

/* A thread with a working directory of its own */
TEST_F_TIMEOUT(tree, refuse_thread_fs, TEST_TIMEOUT)
{
	tree_reset(MODE_ORIG);
	three_levels();
	T[4].flags = F_THREAD_FS;
	refused(_metadata, &self->d, EOPNOTSUPP);
}

/* Processes with two threads: both run after restart */
TEST_F_TIMEOUT(tree, threads, TEST_TIMEOUT)
{
	tree_reset(MODE_SAME);
	g_root_ppid = 1;
	three_levels();
	T[0].flags = F_THREAD;
	T[4].flags = F_THREAD;
	T[5].flags = F_THREAD;
	tree_cycle(_metadata, &self->d, false);
}

/*
 * Zombies, one with exit signal SIGUSR2: their parents reap them after
 * restart with their exit status.
 */
static void zombies(struct __test_metadata *_metadata, struct cr_dir *d,
		    enum mode mode)
{
	struct tree t;

	tree_reset(mode);
	g_root_ppid = 1;
	three_levels();
	T[3].flags = F_ZOMBIE;
	T[5].flags = F_ZOMBIE | F_EXITSIG;
	tree_start(_metadata, d, &t, false);
	tree_checkpoint(_metadata, &t);
	check_records(_metadata, d->img, t.pids);
	tree_kill(_metadata, &t);
	restart_ok(_metadata, d, mode == MODE_NEW ? CR_RESTART_NEW_PIDS : 0,
		   t.pids[0]);
}

TEST_F_TIMEOUT(tree, zombies_same_pids, TEST_TIMEOUT)
{
	zombies(_metadata, &self->d, MODE_SAME);
}

TEST_F_TIMEOUT(tree, zombies_new_pids, TEST_TIMEOUT)
{
	zombies(_metadata, &self->d, MODE_NEW);
}

/* A zombie is refused with its parent still running, as any task */
TEST_F_TIMEOUT(tree, refuse_zombie_parent_running, TEST_TIMEOUT)
{
	tree_reset(MODE_ORIG);
	three_levels();
	T[4].flags = F_NOSTOP;
	T[5].flags = F_ZOMBIE;
	refused(_metadata, &self->d, EBUSY);
}

/* Pipes from parents to children with data in flight */
TEST_F_TIMEOUT(tree, pipes, TEST_TIMEOUT)
{
	tree_reset(MODE_NEW);
	three_levels();
	T[1].flags = F_PIPE;
	T[3].flags = F_PIPE;
	T[5].flags = F_PIPE;
	tree_cycle(_metadata, &self->d, false);
}

/* A child that shares its parent's descriptor table (tree_share_test) */
TEST_F_TIMEOUT(tree, clone_files, TEST_TIMEOUT)
{
	tree_reset(MODE_NEW);
	three_levels();
	T[2].flags = F_CLONE_FILES;
	tree_cycle(_metadata, &self->d, false);
}

TEST_F_TIMEOUT(tree, refuse_traced, TEST_TIMEOUT)
{
	tree_reset(MODE_ORIG);
	three_levels();
	refused_hook(_metadata, &self->d, EBUSY, trace_t3);
}

/* A process group led by a process outside the tree, not the root's */
TEST_F_TIMEOUT(tree, refuse_foreign_group, TEST_TIMEOUT)
{
	pid_t leader;

	leader = fork();
	ASSERT_LE(0, leader);
	if (leader == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	kid_add(leader);
	ASSERT_EQ(0, setpgid(leader, leader));
	tree_reset(MODE_ORIG);
	g_foreign = leader;
	three_levels();
	T[3].pg = PG_FOREIGN;
	refused(_metadata, &self->d, EBUSY);
	kill_child(_metadata, leader);
}

/*
 * A process group whose leader exited and was reaped: saved with a ghost
 * record, and restored with its id, the image's or a new one.
 */
/* Check the tree restarted with its ghost gone */
static bool leader_gone(struct __test_metadata *_metadata, struct cr_dir *d,
			enum mode mode)
{
	struct tree_restart rt = {
		.flags = CR_RESTART_TREE |
			 (mode == MODE_NEW ? CR_RESTART_NEW_PIDS : 0),
	};
	struct cr_hdr_proc *pr;
	unsigned char *buf;
	struct tree t;
	size_t len;
	int status;
	pid_t pid;

	tree_reset(mode);
	g_root_ppid = 1;
	add(-1, PG_INHERIT, 0);		/* 0 */
	add(0, PG_OWN, F_REAPED);	/* 1: exits, reaped */
	add(0, 1, 0);			/* 2: in the group of 1 */
	add(2, PG_INHERIT, 0);		/* 3 */
	tree_start(_metadata, d, &t, false);
	tree_checkpoint(_metadata, &t);
	buf = img_load(_metadata, d->img, &len, 0);
	ASSERT_EQ(4, img_tree(_metadata, buf, len)->nr_tasks);
	pr = img_proc(_metadata, buf, len, 3);
	EXPECT_EQ(t.pids[1], pr->pid);
	EXPECT_EQ(0, pr->ppid);
	EXPECT_EQ(t.pids[1], pr->pgid);
	EXPECT_EQ(t.pids[1], pr->tgid);
	EXPECT_EQ(0, pr->exit_signal);
	EXPECT_EQ(t.pids[1], img_proc(_metadata, buf, len, 1)->pgid);
	EXPECT_EQ(t.pids[1], img_proc(_metadata, buf, len, 2)->pgid);
	free(buf);
	tree_kill(_metadata, &t);
	rt.img_root = t.pids[0];
	pid = spawn_tree_restarter(_metadata, d->img, &rt);
	status = wait_child(pid, CHILD_TIMEOUT_MS);
	/* EXIT_GHOST: restart returned with the ghost still its child */
	EXPECT_TRUE(WIFEXITED(status) &&
		    WEXITSTATUS(status) == EXIT_RESTARTED)
		TH_LOG("restarted tree: wait status %#x%s", status,
		       WIFEXITED(status) && WEXITSTATUS(status) == EXIT_GHOST ?
		       " (the ghost of the leader outlived restart)" : "");
	return false;
}

TEST_F_TIMEOUT(tree, leader_gone_same_pids, TEST_TIMEOUT)
{
	leader_gone(_metadata, &self->d, MODE_SAME);
}

TEST_F_TIMEOUT(tree, leader_gone_new_pids, TEST_TIMEOUT)
{
	leader_gone(_metadata, &self->d, MODE_NEW);
}

/* Still refused: a group led by a task gone, and a task running */
TEST_F_TIMEOUT(tree, refuse_leader_gone_running, TEST_TIMEOUT)
{
	tree_reset(MODE_ORIG);
	add(-1, PG_INHERIT, 0);		/* 0 */
	add(0, PG_OWN, F_REAPED);	/* 1: exits, reaped */
	add(0, 1, F_NOSTOP);		/* 2: in the group of 1 */
	refused(_metadata, &self->d, EBUSY);
}

/* A task in a pid namespace below the root's: EOPNOTSUPP */
TEST_F_TIMEOUT(tree, refuse_nested_pidns, TEST_TIMEOUT)
{
	tree_reset(MODE_ORIG);
	add(-1, PG_INHERIT, 0);		/* 0 */
	add(0, PG_INHERIT, F_NEWPID);	/* 1 */
	add(1, PG_INHERIT, F_EXTSTOP);	/* 2: pid 1 of a new namespace */
	refused(_metadata, &self->d, EOPNOTSUPP);
}

/* Exit signals other than SIGCHLD, in the records and after restart */
TEST_F_TIMEOUT(tree, exit_signal, TEST_TIMEOUT)
{
	struct tree t;

	tree_reset(MODE_SAME);
	g_root_ppid = 1;
	three_levels();
	T[2].flags = F_EXITSIG;
	T[4].flags = F_EXITSIG;
	tree_start(_metadata, &self->d, &t, false);
	tree_checkpoint(_metadata, &t);
	check_records(_metadata, self->d.img, t.pids);
	tree_kill(_metadata, &t);
	restart_ok(_metadata, &self->d, 0, t.pids[0]);
}

/* A tree in a UTS namespace of its own: restarted in a new one */
TEST_F_TIMEOUT(tree, uts, TEST_TIMEOUT)
{
	struct utsname before, after;
	unsigned char *buf;
	struct tree t;
	size_t len;

	ASSERT_EQ(0, uname(&before));
	tree_reset(MODE_SAME);
	g_root_ppid = 1;
	snprintf(g_uts, sizeof(g_uts), "cr-tree-uts");
	three_levels();
	tree_start(_metadata, &self->d, &t, false);
	tree_checkpoint(_metadata, &t);
	buf = img_load(_metadata, self->d.img, &len, 0);
	EXPECT_EQ(CR_TREE_UTS, img_tree(_metadata, buf, len)->flags);
	EXPECT_LE(0, cr_find_rec(buf, len, CR_HDR_UTS, 0));
	free(buf);
	tree_kill(_metadata, &t);
	restart_ok(_metadata, &self->d, 0, t.pids[0]);
	/* Not the restarter's */
	ASSERT_EQ(0, uname(&after));
	EXPECT_STREQ(before.nodename, after.nodename);
}

/* A task in another UTS namespace than the root's: EOPNOTSUPP */
TEST_F_TIMEOUT(tree, refuse_uts, TEST_TIMEOUT)
{
	tree_reset(MODE_ORIG);
	three_levels();
	T[4].flags = F_NEWUTS;
	refused(_metadata, &self->d, EOPNOTSUPP);
}

/* Shared memory of the processes of a tree: still shared after restart */
TEST_F_TIMEOUT(tree, shared_memory, TEST_TIMEOUT)
{
	tree_reset(MODE_NEW);
	g_shm = true;
	three_levels();
	tree_cycle(_metadata, &self->d, false);
}

/* Shared memory also mapped outside the tree: EBUSY */
TEST_F_TIMEOUT(tree, refuse_shared_outside, TEST_TIMEOUT)
{
	tree_reset(MODE_ORIG);
	g_outside = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, g_outside);
	three_levels();
	refused(_metadata, &self->d, EBUSY);
	munmap(g_outside, 4096);
	g_outside = NULL;
}

/* A tree of the caller itself, or of pid 0: EINVAL */
TEST_F(tree, refuse_self)
{
	EXPECT_EQ(-1, sys_checkpoint(0, self->d.imgfd, CR_CHECKPOINT_TREE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, sys_checkpoint(getpid(), self->d.imgfd,
				     CR_CHECKPOINT_TREE));
	EXPECT_EQ(EINVAL, errno);
	/* Unknown flags */
	EXPECT_EQ(-1, sys_checkpoint(getppid(), self->d.imgfd, 1U << 7));
	EXPECT_EQ(EINVAL, errno);
}

/* A tree for the bad images: two branches of two levels */
static void bad_tree(struct __test_metadata *_metadata, struct cr_dir *d,
		     struct tree *t)
{
	tree_reset(MODE_NEW);
	add(-1, PG_INHERIT, 0);		/* 0 */
	add(0, PG_INHERIT, 0);		/* 1 */
	add(1, PG_INHERIT, 0);		/* 2 */
	add(0, PG_OWN, 0);		/* 3 */
	add(3, PG_INHERIT, 0);		/* 4 */
	tree_start(_metadata, d, t, false);
	tree_checkpoint(_metadata, t);
	tree_kill(_metadata, t);
}

enum edit {
	E_DUP_PID, E_PPID_AFTER, E_PPID_OFF_CHAIN, E_ROOT_PPID, E_PID_ZERO,
	E_PID_NEG, E_PGID_OUT, E_SID_OUT, E_NR_ZERO, E_NR_BIG, E_EXIT_SIG,
	E_TGID_OUT, E_TGID_LATER, E_TREE_FLAGS, E_TREE_UTS, E_NR,
};

static const char *const edit_names[E_NR] = {
	"duplicate pid", "ppid of a later task", "ppid off the ancestor chain",
	"root with a ppid", "pid 0", "pid -5", "pgid not in the tree",
	"sid not in the tree", "nr_tasks 0", "nr_tasks too big",
	"exit_signal 65", "tgid not in the tree", "tgid of a later task",
	"unknown tree flag", "CR_TREE_UTS without its record",
};

static void edit_image(struct __test_metadata *_metadata, unsigned char *buf,
		       size_t len, enum edit e)
{
	struct cr_hdr_tree *tr = img_tree(_metadata, buf, len);
	struct cr_hdr_proc *p[5];
	int i;

	for (i = 0; i < 5; i++)
		p[i] = img_proc(_metadata, buf, len, i);
	switch (e) {
	case E_DUP_PID:
		p[4]->pid = p[2]->pid;
		break;
	case E_PPID_AFTER:
		p[1]->ppid = p[2]->pid;
		break;
	case E_PPID_OFF_CHAIN:
		p[4]->ppid = p[1]->pid;
		break;
	case E_ROOT_PPID:
		p[0]->ppid = p[1]->pid;
		break;
	case E_PID_ZERO:
		p[2]->pid = 0;
		break;
	case E_PID_NEG:
		p[2]->pid = -5;
		break;
	case E_PGID_OUT:
		p[2]->pgid = p[4]->pid + 1000;
		break;
	case E_SID_OUT:
		p[2]->sid = p[4]->pid + 1000;
		break;
	case E_NR_ZERO:
		tr->nr_tasks = 0;
		break;
	case E_NR_BIG:
		tr->nr_tasks = CR_TREE_MAX_TASKS + 1;
		break;
	case E_EXIT_SIG:
		p[3]->exit_signal = 65;
		break;
	case E_TGID_OUT:
		p[2]->tgid = p[4]->pid + 1000;
		break;
	case E_TGID_LATER:
		p[2]->tgid = p[4]->pid;
		break;
	case E_TREE_FLAGS:
		tr->flags = 1U << 5;
		break;
	case E_TREE_UTS:
		tr->flags = CR_TREE_UTS;
		break;
	default:
		break;
	}
}

/*
 * Bad tree records: EINVAL each, with new pids and with the image's in a
 * new pid namespace, and no task left behind.
 */
TEST_F_TIMEOUT(tree, bad_records, 300)
{
	unsigned char *orig, *buf;
	char img[128], what[96];
	struct tree t;
	size_t len;
	int e;

	bad_tree(_metadata, &self->d, &t);
	orig = img_load(_metadata, self->d.img, &len, 0);
	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	cr_path(&self->d, "bad", img, sizeof(img));
	/* The unedited image restarts: the edits are what is refused */
	restart_ok(_metadata, &self->d, CR_RESTART_NEW_PIDS, 0);
	for (e = 0; e < E_NR; e++) {
		memcpy(buf, orig, len);
		edit_image(_metadata, buf, len, e);
		img_save(_metadata, img, buf, len);
		snprintf(what, sizeof(what), "%s, new pids", edit_names[e]);
		restart_err(_metadata, img, CR_RESTART_NEW_PIDS, 0, EINVAL,
			    what);
		snprintf(what, sizeof(what), "%s, image's pids", edit_names[e]);
		restart_err(_metadata, img, 0, t.pids[0], EINVAL, what);
	}
	free(buf);
	free(orig);
}

/* restart(0, fd of @img, @flags) in a child: @err, and no child left */
static void restart_raw_err(struct __test_metadata *_metadata,
			    const char *img, unsigned long flags, int err,
			    const char *what)
{
	const struct tree_restart r = {
		.flags = flags,
		.err = err,
		.what = what,
	};

	tree_restart(_metadata, img, &r, 0, what);
}

static void single_body(int ready)
{
	if (drop_shared_mappings() || close_fds_except(ready) ||
	    write(ready, "", 1) != 1)
		_exit(EXIT_SETUP);
	close(ready);
	for (;;)
		pause();
}

/* Flags that do not go with the image: EINVAL */
TEST_F_TIMEOUT(tree, bad_flags, TEST_TIMEOUT)
{
	char single[128];
	struct tree t;
	pid_t pid, r;
	int fd;

	bad_tree(_metadata, &self->d, &t);

	/* A tree image without CR_RESTART_TREE: restart replaces the caller */
	restart_raw_err(_metadata, self->d.img, 0, EINVAL,
			"tree image without TREE");

	/* An image of one task */
	cr_path(&self->d, "single", single, sizeof(single));
	pid = start_child(_metadata, single_body);
	stop_child(_metadata, pid);
	fd = open(single, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, sys_checkpoint(pid, fd, 0));
	kill_child(_metadata, pid);
	close(fd);
	restart_err(_metadata, single, CR_RESTART_NEW_PIDS, 0, EINVAL,
		    "one task, TREE | NEW_PIDS");
	restart_err(_metadata, single, 0, 2, EINVAL, "one task, TREE");

	/* CR_RESTART_NEW_PIDS without CR_RESTART_TREE */
	restart_raw_err(_metadata, self->d.img, CR_RESTART_NEW_PIDS, EINVAL,
			"tree image, NEW_PIDS without TREE");
	restart_raw_err(_metadata, single, CR_RESTART_NEW_PIDS, EINVAL,
			"one task, NEW_PIDS without TREE");
	r = waitpid(-1, NULL, WNOHANG);
	EXPECT_EQ(-1, r);
	EXPECT_EQ(ECHILD, errno);
}

/* The pids of the image in use: EEXIST; the original tree unharmed */
TEST_F_TIMEOUT(tree, pid_taken, TEST_TIMEOUT)
{
	/* In this namespace, where the pids are taken */
	const struct tree_restart r = {
		.flags = CR_RESTART_TREE,
		.err = EEXIST,
	};
	struct tree t;

	tree_reset(MODE_ORIG);
	three_levels();
	tree_start(_metadata, &self->d, &t, false);
	tree_checkpoint(_metadata, &t);
	tree_restart(_metadata, self->d.img, &r, 0, "restarter over taken pids");
	tree_continue(_metadata, &t);
}

/*
 * A user without CAP_CHECKPOINT_RESTORE may not choose pids (EPERM), but
 * may restart with new ones.  Nor may the user restore a task "dumped as
 * root" (CR_TASK_DUMPABLE_ROOT) that the image says the last task was:
 * EPERM, and no task left.
 */
TEST_F_TIMEOUT(tree, unprivileged, TEST_TIMEOUT)
{
	const struct tree_restart own = {
		.flags = CR_RESTART_TREE,
		.img_root = -1,
		.err = EPERM,
		.uid = 1000,
	}, new = {
		.flags = CR_RESTART_TREE | CR_RESTART_NEW_PIDS,
		.uid = 1000,
	}, root_dump = {
		.flags = CR_RESTART_TREE | CR_RESTART_NEW_PIDS,
		.err = EPERM,
		.uid = 1000,
		.what = "unprivileged restarter, a task dumped as root",
	};
	struct cr_hdr_task *task;
	unsigned char *buf;
	char img[128];
	struct tree t;
	size_t len;
	int n = 0;

	tree_reset(MODE_NEW);
	g_uid = 1000;
	three_levels();
	tree_start(_metadata, &self->d, &t, false);
	tree_checkpoint(_metadata, &t);
	tree_kill(_metadata, &t);
	tree_restart(_metadata, self->d.img, &own, 0,
		     "unprivileged restarter, image's pids");
	tree_restart(_metadata, self->d.img, &new, EXIT_RESTARTED,
		     "unprivileged restarter, new pids");

	buf = img_load(_metadata, self->d.img, &len, 0);
	while (cr_find_rec(buf, len, CR_HDR_TASK, n + 1) >= 0)
		n++;
	ASSERT_EQ(nt - 1, n) TH_LOG("%d task records, %d tasks", n + 1, nt);
	task = img_rec(_metadata, buf, len, CR_HDR_TASK, n);
	ASSERT_EQ(CR_TASK_DUMPABLE, task->flags &
		  (CR_TASK_DUMPABLE | CR_TASK_DUMPABLE_ROOT));
	task->flags &= ~CR_TASK_DUMPABLE;
	task->flags |= CR_TASK_DUMPABLE_ROOT;
	cr_path(&self->d, "dumped-as-root", img, sizeof(img));
	img_save(_metadata, img, buf, len);
	free(buf);
	tree_restart(_metadata, img, &root_dump, 0, root_dump.what);
}

/* A restart held back: see held_restart() */
struct held {
	pid_t restarter;	/* the caller of restart(2) */
	pid_t task[2];		/* the root task, its first child */
	int wr;			/* the pipe the image comes through */
	unsigned char *buf;	/* the image */
	size_t len, off;	/* its size; how much of it was written */
	bool check_left;	/* the restarter checks that no task is left */
	bool at_tail;		/* held before the tail, all tasks read */
	unsigned int flags;	/* of every task */
	rlim_t sigpending;	/* g_sigpending */
	bool sigqueue_legacy;	/* g_sigqueue_legacy */
};

/* Wait up to 10 s for a child of @parent; it, or -1 */
static pid_t child_of(pid_t parent)
{
	pid_t pid = -1;
	int i;

	for (i = 0; i < 1000 && pid <= 0; i++) {
		pid = find_child_if(parent, NULL, NULL);
		if (pid <= 0)
			usleep(10000);
	}
	return pid;
}

static void on_usr2_restarter(int sig)
{
}

/*
 * Checkpoint a root and its @kids children (1 or 2); restart the image,
 * with new pids, in a child @h->restarter (which handles SIGUSR2, as the
 * tasks of the image do), through a pipe @h->wr that stops in the task
 * record of the first child: the root has read its section and made that
 * child, which waits for the rest of its record (or, with @h->at_tail,
 * before the tail: every task is read).  The two tasks, not yet
 * restored, are in @h->task.  The restarter exits with restart's errno,
 * 200 if it succeeded, 201 if it failed and @h->check_left found a task
 * left.
 */
static void held_restart(struct __test_metadata *_metadata, struct cr_dir *d,
			 struct held *h, int kids)
{
	struct tree t;
	long off, ret;
	int p[2], err;

	tree_reset(MODE_NEW);
	g_sigpending = h->sigpending;
	g_sigqueue_legacy = h->sigqueue_legacy;
	add(-1, PG_INHERIT, h->flags);
	while (kids--)
		add(0, PG_INHERIT, h->flags);
	tree_start(_metadata, d, &t, false);
	tree_checkpoint(_metadata, &t);
	tree_kill(_metadata, &t);
	h->buf = img_load(_metadata, d->img, &h->len, 0);
	/* The header of that record too: the root reads it to end its own */
	off = cr_find_rec(h->buf, h->len, h->at_tail ? CR_HDR_TAIL : CR_HDR_TASK,
			  h->at_tail ? 0 : 1);
	ASSERT_LT(0, off);
	h->off = off + (h->at_tail ? 0 : sizeof(struct cr_hdr));

	ASSERT_EQ(0, pipe(p));
	h->restarter = fork();
	ASSERT_LE(0, h->restarter);
	if (!h->restarter) {
		close(p[1]);
		signal(SIGUSR2, on_usr2_restarter);
		ret = sys_restart(0, p[0], CR_RESTART_TREE |
				  CR_RESTART_NEW_PIDS | CR_LOGFD(2));
		err = errno;
		if (ret >= 0)
			_exit(200);
		if (h->check_left && leftover())
			_exit(201);
		_exit(err);
	}
	close(p[0]);
	h->wr = p[1];
	ASSERT_EQ((ssize_t)h->off, write(p[1], h->buf, h->off));
	h->task[0] = child_of(h->restarter);
	ASSERT_LT(0, h->task[0]) TH_LOG("restart created no task");
	h->task[1] = child_of(h->task[0]);
	ASSERT_LT(0, h->task[1]) TH_LOG("the root made no child");
}

/*
 * Let the rest of the image through (restart may stop reading it before
 * its end): the restarter must exit with @code
 */
static void held_finish(struct __test_metadata *_metadata, struct held *h,
			int code, const char *what)
{
	signal(SIGPIPE, SIG_IGN);
	if (write(h->wr, h->buf + h->off, h->len - h->off) < 0)
		TH_LOG("the rest of the image not written: %s", strerror(errno));
	close(h->wr);
	expect_exit(_metadata, h->restarter, code, what);
	free(h->buf);
}

/* SIGKILL the caller of restart: it must die in 10 s */
static void kill_caller(struct __test_metadata *_metadata, struct held *h)
{
	pid_t w = 0;
	int i, status = 0;

	ASSERT_EQ(0, kill(h->restarter, SIGKILL));
	for (i = 0; i < 1000 && !w; i++) {
		w = waitpid(h->restarter, &status, WNOHANG);
		if (!w)
			usleep(10000);
	}
	EXPECT_EQ(h->restarter, w)
		TH_LOG("the caller of restart outlived SIGKILL by 10 s");
	EXPECT_TRUE(w == h->restarter && WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL);
}

/*
 * A tracer holds a task of a failing restart in its exit stop
 * (PTRACE_O_TRACEEXIT): the caller of restart, which waits to reap it,
 * must still die of SIGKILL, not wait for the tracer.  The tracer seizes
 * the root task while the image is held back; closing the pipe fails the
 * restart.
 */
TEST_F_TIMEOUT(tree, traced_task_caller_killable, TEST_TIMEOUT)
{
	struct held h = {};
	pid_t task;
	int status;

	held_restart(_metadata, &self->d, &h, 1);
	task = h.task[0];
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, task, 0, PTRACE_O_TRACEEXIT))
		TH_LOG("PTRACE_SEIZE of task %d: %s", task, strerror(errno));
	close(h.wr);
	/* The image ends early: the tasks get SIGKILL, ours stops */
	ASSERT_EQ(task, waitpid(task, &status, __WALL));
	ASSERT_EQ(SIGTRAP | (PTRACE_EVENT_EXIT << 8), status >> 8)
		TH_LOG("task %d: status %#x, not its exit stop", task, status);
	kill_caller(_metadata, &h);
	/* The task goes on to exit; it and the rest come to us */
	EXPECT_EQ(0, ptrace(PTRACE_DETACH, task, 0, 0));
	kill_reap(NULL, 0);
	free(h.buf);
}

/*
 * The same caller killed while its traced tasks are still in the restore
 * code: it gives them up only once they are done with its context, which
 * it frees as it returns.  Both tasks traced, and on the caller's CPU
 * with SCHED_IDLE, they run only when the caller sleeps: a caller that
 * did not wait for them would free the context before they use it (a
 * use after free that the debug kernel's KASAN reports).
 */
TEST_F_TIMEOUT(tree, traced_tasks_caller_killed, TEST_TIMEOUT)
{
	const struct sched_param idle = { .sched_priority = 0 };
	struct held h = {};
	cpu_set_t cpu0;
	int i;

	held_restart(_metadata, &self->d, &h, 1);
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	ASSERT_EQ(0, sched_setaffinity(h.restarter, sizeof(cpu0), &cpu0));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ptrace(PTRACE_SEIZE, h.task[i], 0, 0))
			TH_LOG("PTRACE_SEIZE of task %d: %s", h.task[i],
			       strerror(errno));
		ASSERT_EQ(0, sched_setaffinity(h.task[i], sizeof(cpu0), &cpu0));
		ASSERT_EQ(0, sched_setscheduler(h.task[i], SCHED_IDLE, &idle));
	}
	kill_caller(_metadata, &h);
	close(h.wr);
	kill_reap(NULL, 0);
	free(h.buf);
}

/*
 * A task seized by a tracer while it was restored would keep the tracer
 * past the commit of its credentials, and the image had none: EBUSY.
 */
TEST_F_TIMEOUT(tree, traced_task_refused, TEST_TIMEOUT)
{
	struct held h = {};

	held_restart(_metadata, &self->d, &h, 1);
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, h.task[1], 0, 0))
		TH_LOG("PTRACE_SEIZE of task %d: %s", h.task[1],
		       strerror(errno));
	held_finish(_metadata, &h, EBUSY, "restarter of a traced task");
	/* The traced task is ours to reap, then the rest */
	kill_reap(NULL, 0);
}

/*
 * A signal for the root (which handles it) while it waits for its first
 * child to be restored: the creation of the second fails, and restart
 * with it, with EINTR (not the -ERESTARTNOINTR of kernel_clone(), nor
 * restarted), and no task is left.
 */
TEST_F_TIMEOUT(tree, signal_interrupts_creation, TEST_TIMEOUT)
{
	struct held h = { .check_left = true };

	held_restart(_metadata, &self->d, &h, 2);
	ASSERT_EQ(0, kill(h.task[0], SIGUSR2));
	held_finish(_metadata, &h, EINTR, "restarter, a signal for the root");
	kill_reap(NULL, 0);
}

/*
 * Two processes, each with two signals queued with sigqueue(), whose
 * information RLIMIT_SIGPENDING may refuse: the limit of the image
 * counts for the four of them.  Four: restored with their information.
 * Three: each process alone fits, the tree does not, EAGAIN (before, the
 * last signal queued again lost its information, and restart succeeded).
 */
TEST_F_TIMEOUT(tree, sigpending_limit_of_tree, TEST_TIMEOUT)
{
	struct tree t;

	tree_reset(MODE_NEW);
	add(-1, PG_INHERIT, F_SIGQUEUE);
	add(0, PG_INHERIT, F_SIGQUEUE);
	g_sigpending = 4;
	tree_start(_metadata, &self->d, &t, false);
	tree_checkpoint(_metadata, &t);
	tree_kill(_metadata, &t);
	restart_ok(_metadata, &self->d, CR_RESTART_NEW_PIDS, 0);

	g_sigpending = 3;
	tree_start(_metadata, &self->d, &t, false);
	tree_checkpoint(_metadata, &t);
	tree_kill(_metadata, &t);
	restart_err(_metadata, self->d.img, CR_RESTART_NEW_PIDS, 0, EAGAIN,
		    "queued signals over the tree's RLIMIT_SIGPENDING");
}

/*
 * Each of the two processes has SIGUSR1 queued with sigqueue(), which
 * fits under the image's RLIMIT_SIGPENDING of 4 when they are read; then,
 * before the tail, another process of the user queues 8 signals.  Queued
 * again over the limit, SIGUSR1 would lose its information without a
 * word from __send_signal_locked(): restart fails instead (EAGAIN, after
 * the point of no return: the tasks are killed).
 */
TEST_F_TIMEOUT(tree, sigpending_taken_during_restart, TEST_TIMEOUT)
{
	struct held h = {
		.flags = F_SIGQUEUE, .at_tail = true, .sigpending = 4,
		.sigqueue_legacy = true, .check_left = true,
	};
	const union sigval v = { .sival_int = 7 };
	pid_t filler;
	int p[2], i;
	sigset_t set;
	char c;

	held_restart(_metadata, &self->d, &h, 1);
	ASSERT_EQ(0, pipe(p));
	filler = fork();
	ASSERT_LE(0, filler);
	if (!filler) {
		close(h.wr);
		sigemptyset(&set);
		sigaddset(&set, SIGRTMIN + 2);
		sigprocmask(SIG_BLOCK, &set, NULL);
		for (i = 0; i < 8; i++)
			if (sigqueue(getpid(), SIGRTMIN + 2, v))
				_exit(1);
		if (write(p[1], "", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1)) TH_LOG("the filler did not queue");
	close(p[0]);
	held_finish(_metadata, &h, EAGAIN, "restarter, signals over the limit");
	kill(filler, SIGKILL);
	kill_reap(NULL, 0);
}

/* Kill the tree in its cgroup, and remove the cgroup */
static void cg_destroy(struct __test_metadata *_metadata, struct tree *t)
{
	cg_kill(_metadata, g_cgroup);
	tree_kill(_metadata, t);
	cg_remove(_metadata, g_cgroup);
}

/*
 * Fork the tree of T[] into g_cgroup, freeze it, checkpoint it, kill it,
 * remove the cgroup and restart the tree with new pids: every task must
 * report OK
 */
static void frozen_cycle(struct __test_metadata *_metadata, struct cr_dir *d)
{
	struct tree t;

	tree_start(_metadata, d, &t, false);
	cg_freeze(_metadata, g_cgroup);
	tree_checkpoint(_metadata, &t);
	check_records(_metadata, d->img, t.pids);
	cg_destroy(_metadata, &t);
	tree_release(_metadata, g_dir);
	restart_ok(_metadata, d, CR_RESTART_NEW_PIDS, 0);
}

/* A tree frozen by the cgroup v2 freezer, not stopped */
TEST_F_TIMEOUT(tree, cgroup_freezer, TEST_TIMEOUT)
{
	tree_reset(MODE_NEW);
	if (!cg_make(g_cgroup, sizeof(g_cgroup), "cr_tree"))
		SKIP(return, "no cgroup v2 at %s to make a cgroup in",
		     CGROUP_ROOT);
	three_levels();
	for (int i = 0; i < nt; i++)
		T[i].flags = F_MARKER;
	frozen_cycle(_metadata, &self->d);
}

/*
 * A task of a frozen tree that was stopped by SIGSTOP before the freeze
 * (a stopped job) is stopped again after restart, its stop still to be
 * reported to its parent, and goes on at SIGCONT; the others run
 */
TEST_F_TIMEOUT(tree, cgroup_user_stop, TEST_TIMEOUT)
{
	tree_reset(MODE_NEW);
	if (!cg_make(g_cgroup, sizeof(g_cgroup), "cr_tree"))
		SKIP(return, "no cgroup v2 at %s to make a cgroup in",
		     CGROUP_ROOT);
	three_levels();
	for (int i = 0; i < nt; i++)
		T[i].flags = F_MARKER;
	/* A leaf and a task with a child: they raise(SIGSTOP) */
	T[3].flags = F_USERSTOP;
	T[4].flags = F_USERSTOP;
	frozen_cycle(_metadata, &self->d);
}

/*
 * A root forking continuously, frozen at some point: checkpoint saves a
 * consistent tree, whose root reaps as many children as the image holds,
 * or fails with EBUSY.
 */
TEST_F_TIMEOUT(tree, cgroup_fork_storm, 600)
{
	int round, ok = 0, busy = 0, status;
	const struct tree_restart rt = {
		.flags = CR_RESTART_TREE | CR_RESTART_NEW_PIDS,
	};
	unsigned char *buf;
	struct tree t;
	size_t len;
	pid_t pid;
	long r;

	for (round = 0; round < 8; round++) {
		tree_reset(MODE_NEW);
		if (!cg_make(g_cgroup, sizeof(g_cgroup), "cr_tree"))
			SKIP(return, "no cgroup v2 at %s to make a cgroup in",
			     CGROUP_ROOT);
		add(-1, PG_INHERIT, F_STORM);
		tree_start(_metadata, &self->d, &t, false);
		usleep(round * 7000);
		cg_freeze(_metadata, g_cgroup);
		ASSERT_EQ(0, ftruncate(t.imgfd, 0));
		ASSERT_EQ(0, lseek(t.imgfd, 0, SEEK_SET));
		r = sys_checkpoint(t.root, t.imgfd, CR_CHECKPOINT_TREE);
		if (r < 0) {
			ASSERT_EQ(EBUSY, errno) TH_LOG("round %d: %s", round,
						       strerror(errno));
			busy++;
			cg_destroy(_metadata, &t);
			continue;
		}
		ok++;
		buf = img_load(_metadata, self->d.img, &len, 0);
		nt = img_tree(_metadata, buf, len)->nr_tasks;
		free(buf);
		TH_LOG("round %d: %d tasks saved", round, nt);
		ASSERT_LE(1, nt);
		ASSERT_GE(61, nt);
		cg_destroy(_metadata, &t);
		tree_release(_metadata, g_dir);
		pid = spawn_tree_restarter(_metadata, self->d.img, &rt);
		/*
		 * The root exits with the number of children it reaped: those
		 * of the image, and one more if it was saved between its look
		 * for "go" and its fork(), which it then makes after restart.
		 */
		status = wait_child(pid, CHILD_TIMEOUT_MS);
		ASSERT_TRUE(WIFEXITED(status) &&
			    (WEXITSTATUS(status) == nt - 1 ||
			     WEXITSTATUS(status) == nt))
			TH_LOG("restarted tree of %d: wait status %#x, expected exit %d (or %d)",
			       nt, status, nt - 1, nt);
	}
	TH_LOG("%d checkpoints, %d refused with EBUSY", ok, busy);
}

TEST_HARNESS_MAIN
