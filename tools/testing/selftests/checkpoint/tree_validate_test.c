// SPDX-License-Identifier: GPL-2.0
/*
 * The errno of each validation branch of the restart of a process tree.
 *
 * Each case takes a real image of a tree, changes fields of its records
 * (set, add, xor, fill a value; the pid of a task or the id of an object
 * of the image), reseals the checksum of the tail, and restarts it with
 * CR_RESTART_TREE | CR_RESTART_NEW_PIDS in a child that is a subreaper (or
 * in a pid namespace of its own).  It checks the errno, the reason the
 * kernel wrote on the log descriptor, and that nothing is left behind:
 * the restarter has no child, not even a zombie.  The unedited image must
 * restart, and its tasks check their state and report success.
 *
 * The tree, checkpointed by pid 1 of a pid namespace of its own (pids are
 * small and known):
 *
 *   R	the root, in a UTS namespace of its own, a subreaper; a second
 *	thread; a regular file opened before fork (shared with A), the
 *	write end of a pipe holding PIPE_BYTES bytes, and shared anonymous
 *	memory (shared with A) in three areas, the middle one read-only
 *   A	child of R, leads its process group; the read end of the pipe
 *   B	child of R, in A's group
 *   Z	child of R that exited with status 3, not reaped (a zombie)
 *   M	child of R, in the group of L, a child of R that exited and was
 *	reaped (a ghost)
 *
 * The process records are, in order: R, its thread, A, B, Z, M, then the
 * ghost L.  The task records: R, the thread, A, B, M.
 */

#include "tree_harness.h"

#include <stddef.h>
#include <sys/utsname.h>

#define HOSTNAME	"tv-host"
#define PIPE_BYTES	5000		/* in the pipe at the checkpoint */
#define PIPE_SIZE	16384		/* its capacity */
#define SEED_PIPE	0x5eed
#define FILE_POS	7		/* offset of the shared file */
#define FILE_POS_AFTER	100		/* A moves it there after restart */
#define ZOMBIE_STATUS	3
#define SHM_PAGES	3		/* shared memory of R and A */
#define SEED_SHM	0x5a3e
#define SHM_MARK	"written by A"

/* Index of each task's process record */
enum { P_R, P_THR, P_A, P_B, P_Z, P_M, P_L, NR_PROCS };
/* Index of each task's task record */
enum { T_R, T_THR, T_A, T_B, T_M };

static char g_dir[64];		/* the test directory, for the shared file */
static char *g_shm;		/* the shared memory of R and A */

/* The tree */

static void close_from(unsigned int fd)
{
	syscall(__NR_close_range, fd, ~0U, 0);
}

static void wait_stopped(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status))
		setup_fail("a child did not stop");
}

/* A: leads its group, reads the pipe to its end, moves the shared offset */
static void __noreturn task_a(int rd, int shared)
{
	static unsigned char buf[PIPE_BYTES + 1];
	ssize_t n = 0, r;

	cr_phase = "A";
	prctl(PR_SET_NAME, "tv_a");
	if (setpgid(0, 0))
		setup_fail("setpgid A");
	raise(SIGSTOP);
	/* Only the restarted A gets here: the original is killed */
	cr_phase = "restarted A";
	CHECK(getpgid(0) == getpid());
	CHECK(fcntl(rd, F_GETPIPE_SZ) == PIPE_SIZE);
	while ((r = read(rd, buf + n, sizeof(buf) - n)) > 0)
		n += r;
	CHECKF(n == PIPE_BYTES, "%zd bytes in the pipe, not %d", n,
	       PIPE_BYTES);
	CHECK_PAT(buf, PIPE_BYTES, SEED_PIPE, 0);
	CHECK(lseek(shared, 0, SEEK_CUR) == FILE_POS);
	CHECK(lseek(shared, FILE_POS_AFTER, SEEK_SET) == FILE_POS_AFTER);
	CHECK_PAT(g_shm, SHM_PAGES * pg(), SEED_SHM, 0);
	memcpy(g_shm, SHM_MARK, sizeof(SHM_MARK));
	cr_exit(0);
}

/* B and M: in the group @pgid, stopped; restarted, they exit 0 */
static void __noreturn task_member(const char *name, pid_t pgid)
{
	cr_phase = name;
	prctl(PR_SET_NAME, name);
	close_from(3);
	munmap(g_shm, SHM_PAGES * pg());
	if (setpgid(0, pgid))
		setup_fail("setpgid");
	raise(SIGSTOP);
	cr_exit(0);
}

struct kids {
	pid_t a, b, m, z;
};

/*
 * The children of the restarted root, by name: the one without a name of
 * ours is the zombie.  With the image's pids, they are those of before;
 * with new pids, they are found in /proc (of the caller's namespace).
 */
static int nr_kids;

/* Note the child @pid in @arg, a struct kids, by its name */
static bool note_kid(pid_t pid, void *arg)
{
	struct kids *k = arg;
	char comm[32];

	comm_of(pid, comm, sizeof(comm));
	nr_kids++;
	if (!strcmp(comm, "tv_a"))
		k->a = pid;
	else if (!strcmp(comm, "tv_b"))
		k->b = pid;
	else if (!strcmp(comm, "tv_m"))
		k->m = pid;
	else
		k->z = pid;
	return false;
}

static void find_kids(struct kids *k, const struct kids *before,
		      pid_t self_before)
{
	if (getpid() == self_before) {
		*k = *before;
		return;
	}
	memset(k, -1, sizeof(*k));
	nr_kids = 0;
	find_child_if(proc_self_pid(), note_kid, k);
	CHECKF(nr_kids == 4, "%d children, not 4", nr_kids);
	CHECKF(k->a > 0 && k->b > 0 && k->m > 0 && k->z > 0,
	       "children a %d, b %d, m %d, z %d", k->a, k->b, k->m, k->z);
}

/* Wait until child @pid exits, without reaping it */
static bool exited(pid_t pid)
{
	siginfo_t si;

	return !waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
}

static void reap(pid_t pid, int code)
{
	int status = -1;

	CHECKF(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == code,
	       "child %d: wait status %#x, expected exit %d", pid, status,
	       code);
}

/* The restarted root checks the tree and reaps it */
static void __noreturn
restarted_root(int shared, int wr, const struct kids *before, pid_t self)
{
	struct utsname u;
	struct kids k;
	int sub = 0;
	pid_t pgm;

	cr_phase = "restarted root";
	/* A reads the pipe up to its end */
	CHECK(close(wr) == 0);
	CHECK(uname(&u) == 0 && !strcmp(u.nodename, HOSTNAME));
	CHECK(prctl(PR_GET_CHILD_SUBREAPER, &sub) == 0 && sub == 1);
	CHECK(thr_alive() == 0);
	CHECK(thr_stop_join() == 0);
	find_kids(&k, before, self);
	if (cr_fail_line)
		cr_exit(EXIT_CHECK);
	/* Groups and sessions, seen while the children are zombies */
	CHECK(exited(k.a) && exited(k.b) && exited(k.m) && exited(k.z));
	CHECK(getpgid(k.a) == k.a);
	CHECK(getpgid(k.b) == k.a);
	pgm = getpgid(k.m);
	CHECKF(pgm > 0 && pgm != k.m && pgm != k.a && pgm != getpgid(0),
	       "M %d is in group %d", k.m, pgm);
	CHECKF(kill(pgm, 0) < 0 && errno == ESRCH,
	       "the leader %d of M's group is alive", pgm);
	CHECK(getsid(k.a) == getsid(0) && getsid(k.b) == getsid(0) &&
	      getsid(k.m) == getsid(0));
	CHECK(getpgid(k.z) == getpgid(0));
	reap(k.a, 0);
	reap(k.b, 0);
	reap(k.m, 0);
	reap(k.z, ZOMBIE_STATUS);
	/* A moved the offset of the file they share, wrote to the memory */
	CHECK(lseek(shared, 0, SEEK_CUR) == FILE_POS_AFTER);
	CHECK(!memcmp(g_shm, SHM_MARK, sizeof(SHM_MARK)));
	CHECK_PAT(g_shm + sizeof(SHM_MARK), SHM_PAGES * pg() - sizeof(SHM_MARK),
		  SEED_SHM, sizeof(SHM_MARK));
	CHECK(waitpid(-1, NULL, WNOHANG | __WALL) < 0 && errno == ECHILD);
	cr_exit(EXIT_RESTARTED);
}

static void __noreturn tree_root(void)
{
	static unsigned char data[PIPE_BYTES];
	pid_t l, self = getpid();
	struct kids k;
	char path[128];
	int p[2], fd;
	siginfo_t si;

	cr_phase = "root";
	cr_prepare(-1);
	prctl(PR_SET_NAME, "tv_r");
	if (unshare(CLONE_NEWUTS) || sethostname(HOSTNAME, strlen(HOSTNAME)))
		setup_fail("UTS namespace");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		setup_fail("subreaper");
	snprintf(path, sizeof(path), "%s/shared", g_dir);
	fd = open(path, O_RDWR);
	if (fd < 0 || lseek(fd, FILE_POS, SEEK_SET) != FILE_POS)
		setup_fail("shared file");
	if (pipe(p) || fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE) != PIPE_SIZE)
		setup_fail("pipe");
	pat_fill(data, PIPE_BYTES, SEED_PIPE, 0);
	if (write(p[1], data, PIPE_BYTES) != PIPE_BYTES)
		setup_fail("pipe write");
	g_shm = mmap(NULL, SHM_PAGES * pg(), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g_shm == MAP_FAILED)
		setup_fail("shared memory");
	pat_fill(g_shm, SHM_PAGES * pg(), SEED_SHM, 0);
	if (mprotect(g_shm + pg(), pg(), PROT_READ))
		setup_fail("mprotect");

	k.a = tree_fork();
	if (!k.a) {
		close(p[1]);
		task_a(p[0], fd);
	}
	setpgid(k.a, k.a);
	close(p[0]);
	k.b = tree_fork();
	if (!k.b)
		task_member("tv_b", k.a);
	setpgid(k.b, k.a);
	k.z = tree_fork();
	if (!k.z)
		_exit(ZOMBIE_STATUS);
	l = tree_fork();
	if (!l) {
		close_from(3);
		munmap(g_shm, SHM_PAGES * pg());
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(l, l);
	k.m = tree_fork();
	if (!k.m)
		task_member("tv_m", l);
	if (setpgid(k.m, l))
		setup_fail("setpgid M");
	/* L leaves its group to M */
	if (kill(l, SIGKILL) || waitpid(l, NULL, 0) != l)
		setup_fail("reaping L");
	wait_stopped(k.a);
	wait_stopped(k.b);
	wait_stopped(k.m);
	if (waitid(P_PID, k.z, &si, WEXITED | WNOWAIT))
		setup_fail("zombie");
	if (thr_start() || thr_alive())
		setup_fail("thread");
	raise(SIGSTOP);
	restarted_root(fd, p[1], &k, self);
}

/*
 * pid 1 of a pid namespace of its own: forks the tree, checkpoints it
 * once stopped, and exits, which kills it
 */
static void __noreturn checkpointer(int imgfd)
{
	int status;
	pid_t root;
	long r;

	cr_phase = "checkpointer";
	root = tree_fork();
	if (!root)
		tree_root();
	if (waitpid(root, &status, WUNTRACED) != root || !WIFSTOPPED(status)) {
		cr_log("the root did not stop: wait status %#x", status);
		_exit(EXIT_SETUP);
	}
	r = sys_checkpoint(root, imgfd, CR_CHECKPOINT_TREE | CR_LOGFD(2));
	if (r <= 0) {
		cr_log("checkpoint(2) of the tree: %s", strerror(errno));
		_exit(EXIT_CHECKPOINT_FAILED);
	}
	_exit(EXIT_CHECKPOINTED);
}

static void checkpoint_tree(struct __test_metadata *_metadata,
			    struct cr_dir *d)
{
	char path[128];
	pid_t pid;

	snprintf(g_dir, sizeof(g_dir), "%s", d->dir);
	cr_path(d, "shared", path, sizeof(path));
	ASSERT_EQ(0, write_file(path, "0123456789abcdef", 16));
	ASSERT_EQ(0, ftruncate(d->imgfd, 0));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int status;

		cr_phase = "checkpoint";
		if (unshare(CLONE_NEWPID))
			setup_fail("unshare(CLONE_NEWPID)");
		pid = tree_fork();
		if (!pid)
			checkpointer(d->imgfd);
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
			_exit(EXIT_SETUP);
		_exit(WEXITSTATUS(status));
	}
	kid_add(pid);
	expect_exit(_metadata, pid, EXIT_CHECKPOINTED, "checkpoint of the tree");
}

/* Editing the image */

/* Edits besides those of enum edit_op */
enum {
	FILL = EDIT_OPS,	/* its @size bytes become the byte @val */
	PID,		/* it becomes the pid of process record @val */
	PIPE_ID,	/* the object id of the pipe plus @val */
	FILE_ID,	/* the object id of the regular file plus @val */
	RD_ID,		/* that of the read end of the pipe plus @val */
	GROW,		/* @val zero bytes are added at the end of the record */
};

/* Which record of a type: the @nth, or the @nth file record of a kind */
enum pick {
	ANY,
	F_REG,		/* the regular file, in R's section */
	F_OBJ,		/* the same file in A's (CR_FILE_OBJ) */
	F_PIPE_W,	/* the write end of the pipe, in R's section */
	F_PIPE_R,	/* its read end, in A's */
};

struct edit {
	__u32 type;	/* 0 ends the list */
	int nth;
	enum pick pick;
	int off;	/* in the record */
	int size;	/* 1, 2, 4 or 8; bytes for FILL */
	int op;		/* enum edit_op, or one of the above */
	__s64 val;
};

/* Every field edited is 4 bytes long, but the offset of a file (8) */
#define ED(t, n, p, s, f, o, v)	{ t, n, p, offsetof(struct s, f), 4, o, v }
#define PROC(n, f, o, v)	ED(CR_HDR_PROC, n, ANY, cr_hdr_proc, f, o, v)
#define TREE(f, o, v)		ED(CR_HDR_TREE, 0, ANY, cr_hdr_tree, f, o, v)
#define FILEREC(p, f, o, v)	ED(CR_HDR_FILE, 0, p, cr_hdr_file, f, o, v)
#define FILEPOS(p, v)							\
	{ CR_HDR_FILE, 0, p, offsetof(struct cr_hdr_file, pos), 8, SET, v }
#define PIPEREC(n, f, o, v)	ED(CR_HDR_PIPE, n, ANY, cr_hdr_pipe, f, o, v)
#define ZOMBIE(f, o, v)		ED(CR_HDR_ZOMBIE, 0, ANY, cr_hdr_zombie, f, o, v)
#define SHMEM(n, f, o, v)	ED(CR_HDR_SHMEM, n, ANY, cr_hdr_shmem, f, o, v)
#define RECTYPE(t, n, v)	ED(t, n, ANY, cr_hdr, type, SET, v)
#define UTS_BYTE(f, i, v)						\
	{ CR_HDR_UTS, 0, ANY, offsetof(struct cr_hdr_uts, f) + (i), 1, SET, v }
#define UTS_FILL(f, v)							\
	{ CR_HDR_UTS, 0, ANY, offsetof(struct cr_hdr_uts, f),		\
	  CR_UTS_LEN, FILL, v }

static bool picked(const unsigned char *rec, long pick)
{
	const struct cr_hdr_file *f = (const void *)rec;

	switch (pick) {
	case F_REG:
		return f->kind == CR_FILE_REG;
	case F_OBJ:
		return f->kind == CR_FILE_OBJ;
	case F_PIPE_W:
		return f->kind == CR_FILE_PIPE &&
		       (f->flags & O_ACCMODE) == O_WRONLY;
	case F_PIPE_R:
		return f->kind == CR_FILE_PIPE &&
		       (f->flags & O_ACCMODE) == O_RDONLY;
	default:
		return true;
	}
}

/* Offset of the @nth record of @type that @pick selects, or -1 */
static long find_rec(const unsigned char *buf, size_t len, __u32 type,
		     int nth, enum pick pick)
{
	return rec_find(buf, len, 0, type, nth, picked, pick);
}

static __u32 field32(struct __test_metadata *_metadata,
		     const unsigned char *buf, size_t len, __u32 type,
		     int nth, enum pick pick, size_t off)
{
	long at = find_rec(buf, len, type, nth, pick);
	__u32 v;

	if (at < 0) {
		TH_LOG("no record of type %u (nth %d, pick %d)", type, nth,
		       pick);
		return 0;
	}
	memcpy(&v, buf + at + off, sizeof(v));
	return v;
}

/* Add @n zero bytes at the end of the record at @at; the new length */
static size_t grow(unsigned char *buf, size_t len, long at, int n)
{
	struct cr_hdr h;
	size_t old_end, new_end;

	memcpy(&h, buf + at, sizeof(h));
	old_end = at + CR_ALIGN8(h.len);
	new_end = at + CR_ALIGN8(h.len + n);
	memmove(buf + new_end, buf + old_end, len - old_end);
	memset(buf + old_end, 0, new_end - old_end);
	h.len += n;
	memcpy(buf + at, &h, sizeof(h));
	return len + new_end - old_end;
}

/* Apply @e to the image; false if its record is not there */
static bool apply(struct __test_metadata *_metadata, unsigned char *buf,
		  size_t *len, const struct edit *e)
{
	long at = find_rec(buf, *len, e->type, e->nth, e->pick);
	__u64 v = 0;

	if (at < 0) {
		TH_LOG("no record of type %u (nth %d, pick %d) to edit",
		       e->type, e->nth, e->pick);
		return false;
	}
	if (e->op == GROW) {
		*len = grow(buf, *len, at, e->val);
		return true;
	}
	if (e->op == FILL) {
		memset(buf + at + e->off, e->val, e->size);
		return true;
	}
	switch (e->op) {
	case PID:
		v = field32(_metadata, buf, *len, CR_HDR_PROC, e->val, ANY,
			    offsetof(struct cr_hdr_proc, pid));
		break;
	case PIPE_ID:
		v = field32(_metadata, buf, *len, CR_HDR_PIPE, 0, ANY,
			    offsetof(struct cr_hdr_pipe, obj)) + e->val;
		break;
	case FILE_ID:
		v = field32(_metadata, buf, *len, CR_HDR_FILE, 0, F_REG,
			    offsetof(struct cr_hdr_file, obj)) + e->val;
		break;
	case RD_ID:
		v = field32(_metadata, buf, *len, CR_HDR_FILE, 0, F_PIPE_R,
			    offsetof(struct cr_hdr_file, obj)) + e->val;
		break;
	default:
		edit_field(buf + at + e->off, e->size, e->op, e->val);
		return true;
	}
	edit_field(buf + at + e->off, e->size, SET, v);
	return true;
}

/* Where the image is cut */
enum cut {
	CUT_NONE,
	CUT_SECTION,	/* inside A's task record */
	CUT_TAIL,	/* the tail is missing */
	CUT_MOVE_TAIL,	/* cut inside A's task record, the tail after */
	CUT_APPEND,	/* not a cut: 8 bytes more after the tail */
};

static size_t cut(unsigned char *buf, size_t len, enum cut how)
{
	long a = find_rec(buf, len, CR_HDR_TASK, T_A, ANY);
	long tail = find_rec(buf, len, CR_HDR_TAIL, 0, ANY);

	switch (how) {
	case CUT_SECTION:
		return a + 64;
	case CUT_TAIL:
		return tail;
	case CUT_MOVE_TAIL:
		memmove(buf + a + 64, buf + tail, sizeof(struct cr_hdr_tail));
		return a + 64 + sizeof(struct cr_hdr_tail);
	case CUT_APPEND:
		memset(buf + len, 0, 8);
		return len + 8;
	default:
		return len;
	}
}

/* Restarting */

enum mode {
	NEW_PIDS,	/* CR_RESTART_TREE | CR_RESTART_NEW_PIDS, subreaper */
	NO_TREE,	/* restart(2) without CR_RESTART_TREE */
	NEW_PIDS_ONLY,	/* CR_RESTART_NEW_PIDS without CR_RESTART_TREE */
	PIDNS,		/* pid 1 of a new pid namespace, the image's pids */
	PIDNS_TAKEN,	/* same, with the root's pid taken */
	PIDNS_NO_INIT,	/* the image's pids in a namespace without init */
};

/* Drop capability @cap from the effective set */
static int drop_cap(int cap)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[cap / 32].effective &= ~(1U << (cap % 32));
	return syscall(SYS_capset, &h, d);
}

struct restarter_args {
	enum mode mode;
	int cap;		/* capability + 1 to drop, or 0 */
};

/* Restart as @arg, a struct restarter_args, says; report to @out */
static void restarter(void *arg, int fd, int out)
{
	const struct restarter_args *a = arg;
	unsigned long tree = CR_RESTART_TREE;
	pid_t pid, blocker = 0;
	int status;

	if (a->cap && drop_cap(a->cap - 1))
		report_setup(out);
	switch (a->mode) {
	case NEW_PIDS:
		if (prctl(PR_SET_CHILD_SUBREAPER, 1))
			report_setup(out);
		restart_report(fd, tree | CR_RESTART_NEW_PIDS, 0, out);
		break;
	case NO_TREE:
		restart_report(fd, 0, 0, out);
		break;
	case NEW_PIDS_ONLY:
		restart_report(fd, CR_RESTART_NEW_PIDS, 0, out);
		break;
	case PIDNS_NO_INIT:
		if (unshare(CLONE_NEWPID))
			report_setup(out);
		restart_report(fd, tree, 0, out);
		break;
	case PIDNS:
	case PIDNS_TAKEN:
		if (unshare(CLONE_NEWPID))
			report_setup(out);
		pid = tree_fork();
		if (!pid) {
			/* pid 1; pid 2, the root's, taken by a child */
			if (a->mode == PIDNS_TAKEN) {
				blocker = tree_fork();
				if (!blocker)
					for (;;)
						pause();
			}
			restart_report(fd, tree, blocker, out);
			_exit(0);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			_exit(EXIT_SETUP);
		break;
	}
}

FIXTURE(tree_validate) {
	struct cr_dir d;
};

FIXTURE_VARIANT(tree_validate) {
	int err;		/* errno expected, 0 for a restart */
	const char *why;	/* in the kernel's log line */
	enum mode mode;
	enum cut cut;
	bool stream;		/* the image comes through a pipe */
	bool no_reseal;		/* the checksum is left as it was */
	int cap;		/* capability + 1 the restarter drops */
	struct edit edit[4];
};

FIXTURE_SETUP(tree_validate)
{
	REQUIRE_CHECKPOINT();
	if (geteuid())
		SKIP(return, "needs root for a pid and a UTS namespace");
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(tree_validate)
{
	cr_dir_teardown(_metadata, &self->d);
}

/* The image as it is */
FIXTURE_VARIANT_ADD(tree_validate, unedited) {
	.err = 0,
};

FIXTURE_VARIANT_ADD(tree_validate, unedited_stream) {
	.err = 0, .stream = true,
};

FIXTURE_VARIANT_ADD(tree_validate, unedited_own_pids) {
	.err = 0, .mode = PIDNS,
};

/* Flags and pids */
FIXTURE_VARIANT_ADD(tree_validate, restart_without_tree_flag) {
	.err = EINVAL, .mode = NO_TREE, .why = "restart it with CR_RESTART_TREE",
};

FIXTURE_VARIANT_ADD(tree_validate, new_pids_without_tree_flag) {
	.err = EINVAL, .mode = NEW_PIDS_ONLY,
};

FIXTURE_VARIANT_ADD(tree_validate, header_without_tree_flag) {
	.err = EINVAL, .why = "CR_RESTART_TREE, but the image holds one task",
	.edit = { ED(CR_HDR_HEADER, 0, ANY, cr_hdr_header, flags, SET, 0) },
};

FIXTURE_VARIANT_ADD(tree_validate, pid_taken) {
	.err = EEXIST, .mode = PIDNS_TAKEN, .why = "is taken",
};

FIXTURE_VARIANT_ADD(tree_validate, pidns_without_init) {
	.err = EINVAL, .mode = PIDNS_NO_INIT, .why = "creating task",
};

/* Records longer than this kernel knows: only zero bytes past the end */
FIXTURE_VARIANT_ADD(tree_validate, proc_longer_zero) {
	.err = 0,
	.edit = { { CR_HDR_PROC, P_B, ANY, 0, 0, GROW, 8 } },
};

FIXTURE_VARIANT_ADD(tree_validate, proc_longer_nonzero) {
	.err = E2BIG, .why = "unknown fields",
	.edit = {
		{ CR_HDR_PROC, P_B, ANY, 0, 0, GROW, 8 },
		{ CR_HDR_PROC, P_B, ANY, sizeof(struct cr_hdr_proc), 4, SET, 1 },
	},
};

/* The tree record */
FIXTURE_VARIANT_ADD(tree_validate, tree_flags_unknown) {
	.err = EINVAL, .why = "unknown tree flags",
	.edit = { TREE(flags, XOR, 0x100) },
};

FIXTURE_VARIANT_ADD(tree_validate, tree_flags_high_bit) {
	.err = EINVAL, .why = "unknown tree flags",
	.edit = { TREE(flags, XOR, 0x80000000) },
};

/* The UTS record is then taken for the root's section */
FIXTURE_VARIANT_ADD(tree_validate, tree_flags_without_uts) {
	.err = EINVAL, .why = "unexpected record type 29",
	.edit = { TREE(flags, XOR, CR_TREE_UTS) },
};

FIXTURE_VARIANT_ADD(tree_validate, tree_too_many_tasks) {
	.err = EINVAL, .why = "the tree has",
	.edit = { TREE(nr_tasks, SET, CR_TREE_MAX_TASKS + 1) },
};

FIXTURE_VARIANT_ADD(tree_validate, tree_one_task_more) {
	.err = EINVAL, .why = "expected a proc record",
	.edit = { TREE(nr_tasks, ADD, 1) },
};

/* Without the ghost L: M goes to the caller's group */
FIXTURE_VARIANT_ADD(tree_validate, tree_one_task_less) {
	.err = EINVAL, .why = "expected a uts record",
	.edit = {
		TREE(nr_tasks, ADD, -1),
		PROC(P_M, pgid, SET, 0),
	},
};

/* The UTS record */
FIXTURE_VARIANT_ADD(tree_validate, uts_nodename_unterminated) {
	.err = EINVAL, .why = "UTS names are not NUL-terminated",
	.edit = { UTS_FILL(nodename, 'n') },
};

FIXTURE_VARIANT_ADD(tree_validate, uts_nodename_unpadded) {
	.err = EINVAL, .why = "UTS names are not NUL-terminated",
	.edit = { UTS_BYTE(nodename, CR_UTS_LEN - 1, 'n') },
};

FIXTURE_VARIANT_ADD(tree_validate, uts_domainname_unterminated) {
	.err = EINVAL, .why = "UTS names are not NUL-terminated",
	.edit = { UTS_FILL(domainname, 'd') },
};

FIXTURE_VARIANT_ADD(tree_validate, uts_domainname_unpadded) {
	.err = EINVAL, .why = "UTS names are not NUL-terminated",
	.edit = { UTS_BYTE(domainname, CR_UTS_LEN - 1, 'd') },
};

FIXTURE_VARIANT_ADD(tree_validate, uts_pad) {
	.err = EINVAL, .why = "UTS names are not NUL-terminated",
	.edit = { UTS_BYTE(pad, 5, 1) },
};

/* A new UTS namespace needs CAP_SYS_ADMIN */
FIXTURE_VARIANT_ADD(tree_validate, uts_needs_cap_sys_admin) {
	.err = EPERM, .why = "cannot create a UTS namespace",
	.cap = CAP_SYS_ADMIN + 1,
};

/* Process records */
FIXTURE_VARIANT_ADD(tree_validate, proc_pid_zero) {
	.err = EINVAL, .why = "bad pid",
	.edit = { PROC(P_A, pid, SET, 0) },
};

FIXTURE_VARIANT_ADD(tree_validate, proc_pid_negative) {
	.err = EINVAL, .why = "bad pid",
	.edit = { PROC(P_B, pid, SET, -1) },
};

FIXTURE_VARIANT_ADD(tree_validate, proc_pgid_negative) {
	.err = EINVAL, .why = "bad pid",
	.edit = { PROC(P_A, pgid, SET, -1) },
};

FIXTURE_VARIANT_ADD(tree_validate, proc_sid_negative) {
	.err = EINVAL, .why = "bad pid",
	.edit = { PROC(P_R, sid, SET, -1) },
};

FIXTURE_VARIANT_ADD(tree_validate, proc_tgid_zero) {
	.err = EINVAL, .why = "bad pid",
	.edit = { PROC(P_THR, tgid, SET, 0) },
};

FIXTURE_VARIANT_ADD(tree_validate, proc_tgid_negative) {
	.err = EINVAL, .why = "bad pid",
	.edit = { PROC(P_M, tgid, SET, -5) },
};

FIXTURE_VARIANT_ADD(tree_validate, proc_exit_signal_65) {
	.err = EINVAL, .why = "bad exit signal",
	.edit = { PROC(P_B, exit_signal, SET, 65) },
};

FIXTURE_VARIANT_ADD(tree_validate, proc_exit_signal_huge) {
	.err = EINVAL, .why = "bad exit signal",
	.edit = { PROC(P_A, exit_signal, SET, 0x80000011) },
};

FIXTURE_VARIANT_ADD(tree_validate, root_with_parent) {
	.err = EINVAL, .why = "the root task",
	.edit = { PROC(P_R, ppid, SET, 1) },
};

/* M's parent is A, which is neither before M nor an ancestor of it */
FIXTURE_VARIANT_ADD(tree_validate, parent_not_before) {
	.err = EINVAL, .why = "is not the process before it nor one of its ancestors",
	.edit = { PROC(P_M, ppid, PID, P_A) },
};

FIXTURE_VARIANT_ADD(tree_validate, parent_unknown) {
	.err = EINVAL, .why = "is not the process before it nor one of its ancestors",
	.edit = { PROC(P_B, ppid, SET, 999) },
};

FIXTURE_VARIANT_ADD(tree_validate, parent_a_thread) {
	.err = EINVAL, .why = "is not the process before it nor one of its ancestors",
	.edit = { PROC(P_A, ppid, PID, P_THR) },
};

FIXTURE_VARIANT_ADD(tree_validate, pid_twice) {
	.err = EINVAL, .why = "is in the image twice",
	.edit = {
		PROC(P_B, pid, PID, P_A),
		PROC(P_B, tgid, PID, P_A),
	},
};

FIXTURE_VARIANT_ADD(tree_validate, pid_twice_thread) {
	.err = EINVAL, .why = "is in the image twice",
	.edit = { PROC(P_THR, pid, PID, P_A) },
};

/* Threads */
FIXTURE_VARIANT_ADD(tree_validate, thread_with_ppid) {
	.err = EINVAL, .why = "parent, group, session or exit signal set",
	.edit = { PROC(P_THR, ppid, PID, P_R) },
};

FIXTURE_VARIANT_ADD(tree_validate, thread_with_pgid) {
	.err = EINVAL, .why = "parent, group, session or exit signal set",
	.edit = { PROC(P_THR, pgid, PID, P_A) },
};

FIXTURE_VARIANT_ADD(tree_validate, thread_with_sid) {
	.err = EINVAL, .why = "parent, group, session or exit signal set",
	.edit = { PROC(P_THR, sid, PID, P_A) },
};

FIXTURE_VARIANT_ADD(tree_validate, thread_with_exit_signal) {
	.err = EINVAL, .why = "parent, group, session or exit signal set",
	.edit = { PROC(P_THR, exit_signal, SET, SIGCHLD) },
};

/* The thread of R claims to be A's, which comes after it */
FIXTURE_VARIANT_ADD(tree_validate, thread_of_another) {
	.err = EINVAL, .why = "does not follow its process",
	.edit = { PROC(P_THR, tgid, PID, P_A) },
};

FIXTURE_VARIANT_ADD(tree_validate, thread_of_nobody) {
	.err = EINVAL, .why = "does not follow its process",
	.edit = { PROC(P_THR, tgid, SET, 999) },
};

/* Ghosts */
FIXTURE_VARIANT_ADD(tree_validate, ghost_pgid) {
	.err = EINVAL, .why = "bad group or exit signal",
	.edit = { PROC(P_L, pgid, PID, P_M) },
};

FIXTURE_VARIANT_ADD(tree_validate, ghost_exit_signal) {
	.err = EINVAL, .why = "bad group or exit signal",
	.edit = { PROC(P_L, exit_signal, SET, SIGCHLD) },
};

/* A without a parent nor exit signal is a ghost: B then follows a ghost */
FIXTURE_VARIANT_ADD(tree_validate, task_after_ghost) {
	.err = EINVAL, .why = "after a group leader that exited",
	.edit = {
		PROC(P_A, ppid, SET, 0),
		PROC(P_A, exit_signal, SET, 0),
	},
};

/* M a ghost too: its section is one too many, where the tail should be */
FIXTURE_VARIANT_ADD(tree_validate, section_after_last) {
	.err = EINVAL, .why = "unexpected record type 3",
	.edit = {
		PROC(P_M, ppid, SET, 0),
		PROC(P_M, exit_signal, SET, 0),
		PROC(P_M, pgid, PID, P_M),
	},
};

/* L a child of R: it has no section, the tail is where it should be */
FIXTURE_VARIANT_ADD(tree_validate, section_missing) {
	.err = EINVAL, .why = "unexpected record type 2",
	.edit = {
		PROC(P_L, ppid, PID, P_R),
		PROC(P_L, exit_signal, SET, SIGCHLD),
	},
};

/* Process groups and sessions */
FIXTURE_VARIANT_ADD(tree_validate, pgid_a_thread) {
	.err = EINVAL, .why = "is not a process of the tree",
	.edit = { PROC(P_B, pgid, PID, P_THR) },
};

FIXTURE_VARIANT_ADD(tree_validate, sid_a_thread) {
	.err = EINVAL, .why = "is not a process of the tree",
	.edit = { PROC(P_A, sid, PID, P_THR) },
};

FIXTURE_VARIANT_ADD(tree_validate, pgid_not_in_tree) {
	.err = EINVAL, .why = "is not a process of the tree",
	.edit = { PROC(P_M, pgid, SET, 999) },
};

FIXTURE_VARIANT_ADD(tree_validate, sid_not_in_tree) {
	.err = EINVAL, .why = "is not a process of the tree",
	.edit = { PROC(P_B, sid, SET, 999) },
};

FIXTURE_VARIANT_ADD(tree_validate, caller_group_other_session) {
	.err = EINVAL, .why = "in the caller's process group, but in session",
	.edit = { PROC(P_R, sid, PID, P_R) },
};

FIXTURE_VARIANT_ADD(tree_validate, session_leader_not_group_leader) {
	.err = EINVAL, .why = "leads a session, not its process group",
	.edit = { PROC(P_B, sid, PID, P_B) },
};

/* B in session A, which A does not have */
FIXTURE_VARIANT_ADD(tree_validate, session_not_led) {
	.err = EINVAL, .why = "is not led by task",
	.edit = { PROC(P_B, sid, PID, P_A) },
};

/* A leads session A; B, in group A, stays in the caller's session */
FIXTURE_VARIANT_ADD(tree_validate, group_in_other_session) {
	.err = EINVAL, .why = "is in another session",
	.edit = { PROC(P_A, sid, PID, P_A) },
};

/* The ghost L leads its session; M, in group L, is in the caller's */
FIXTURE_VARIANT_ADD(tree_validate, ghost_group_in_other_session) {
	.err = EINVAL, .why = "is in another session",
	.edit = { PROC(P_L, sid, PID, P_L) },
};

/* File records */
FIXTURE_VARIANT_ADD(tree_validate, file_obj_zero) {
	.err = EINVAL, .why = "in a tree",
	.edit = { FILEREC(F_REG, obj, SET, 0) },
};

FIXTURE_VARIANT_ADD(tree_validate, file_ref_obj_zero) {
	.err = EINVAL, .why = "in a tree",
	.edit = { FILEREC(F_OBJ, obj, SET, 0) },
};

FIXTURE_VARIANT_ADD(tree_validate, file_kind_7) {
	.err = EINVAL, .why = "unknown kind",
	.edit = { FILEREC(F_REG, kind, SET, 7) },
};

FIXTURE_VARIANT_ADD(tree_validate, file_reserved) {
	.err = EINVAL, .why = "reserved fields are not zero",
	.edit = { FILEREC(F_OBJ, reserved, SET, 1) },
};

FIXTURE_VARIANT_ADD(tree_validate, file_ref_flags) {
	.err = EINVAL, .why = "fields set for object",
	.edit = { FILEREC(F_OBJ, flags, SET, O_RDWR) },
};

FIXTURE_VARIANT_ADD(tree_validate, file_ref_pos) {
	.err = EINVAL, .why = "fields set for object",
	.edit = { FILEPOS(F_OBJ, FILE_POS) },
};

FIXTURE_VARIANT_ADD(tree_validate, file_ref_rdev_major) {
	.err = EINVAL, .why = "fields set for object",
	.edit = { FILEREC(F_OBJ, rdev_major, SET, 1) },
};

FIXTURE_VARIANT_ADD(tree_validate, file_ref_rdev_minor) {
	.err = EINVAL, .why = "fields set for object",
	.edit = { FILEREC(F_OBJ, rdev_minor, SET, 3) },
};

FIXTURE_VARIANT_ADD(tree_validate, file_ref_undefined) {
	.err = EINVAL, .why = "used before it is defined",
	.edit = { FILEREC(F_OBJ, obj, SET, 1000) },
};

/* Object ids are defined in order: the read end's is not yet */
FIXTURE_VARIANT_ADD(tree_validate, file_ref_later_object) {
	.err = EINVAL, .why = "used before it is defined",
	.edit = { FILEREC(F_OBJ, obj, RD_ID, 0) },
};

FIXTURE_VARIANT_ADD(tree_validate, file_ref_a_pipe) {
	.err = EINVAL, .why = "is of type",
	.edit = { FILEREC(F_OBJ, obj, PIPE_ID, 0) },
};

FIXTURE_VARIANT_ADD(tree_validate, file_id_skipped) {
	.err = EINVAL, .why = "defined after object",
	.edit = { FILEREC(F_REG, obj, ADD, 1) },
};

FIXTURE_VARIANT_ADD(tree_validate, file_id_reused) {
	.err = EINVAL, .why = "defined after object",
	.edit = { FILEREC(F_PIPE_W, obj, FILE_ID, 0) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe_end_id_skipped) {
	.err = EINVAL, .why = "defined after object",
	.edit = { FILEREC(F_PIPE_R, obj, ADD, 1) },
};

/* Flags of a pipe end */
FIXTURE_VARIANT_ADD(tree_validate, pipe_flags_rdwr) {
	.err = EINVAL, .why = "bad pipe flags",
	.edit = { FILEREC(F_PIPE_W, flags, SET, O_RDWR) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe_flags_accmode) {
	.err = EINVAL, .why = "bad pipe flags",
	.edit = { FILEREC(F_PIPE_R, flags, SET, O_ACCMODE) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe_flags_append) {
	.err = EINVAL, .why = "bad pipe flags",
	.edit = { FILEREC(F_PIPE_W, flags, XOR, O_APPEND) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe_flags_high_bit) {
	.err = EINVAL, .why = "bad pipe flags",
	.edit = { FILEREC(F_PIPE_R, flags, XOR, 0x80000000) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe_pos) {
	.err = EINVAL, .why = "bad pipe flags",
	.edit = { FILEPOS(F_PIPE_W, 1) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe_rdev) {
	.err = EINVAL, .why = "bad pipe flags",
	.edit = { FILEREC(F_PIPE_R, rdev_minor, SET, 3) },
};

/* Both ends read ends: the write end's flags O_RDONLY */
FIXTURE_VARIANT_ADD(tree_validate, pipe_two_read_ends) {
	.err = EINVAL, .why = "two files for its read end",
	.edit = { FILEREC(F_PIPE_W, flags, SET, O_RDONLY) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe_two_write_ends) {
	.err = EINVAL, .why = "two files for its write end",
	.edit = { FILEREC(F_PIPE_R, flags, SET, O_WRONLY) },
};

/* Pipe records: the first end's (0), with the data, and the second's (1) */
FIXTURE_VARIANT_ADD(tree_validate, pipe_reserved) {
	.err = EINVAL, .why = "bad pipe record",
	.edit = { PIPEREC(0, reserved, SET, 1) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe2_reserved) {
	.err = EINVAL, .why = "bad pipe record",
	.edit = { PIPEREC(1, reserved, SET, 0x100) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe_bytes_above_size) {
	.err = EINVAL, .why = "bad pipe record",
	.edit = { PIPEREC(0, size, SET, 4096) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe_size_zero) {
	.err = EINVAL, .why = "bad pipe record",
	.edit = { PIPEREC(0, size, SET, 0) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe_size_above_max) {
	.err = EINVAL, .why = "bad pipe record",
	.edit = { PIPEREC(0, size, SET, CR_PIPE_MAX_SIZE + 1) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe_size_huge) {
	.err = EINVAL, .why = "bad pipe record",
	.edit = { PIPEREC(0, size, SET, 0xffffffff) },
};

/* F_SETPIPE_SZ would make it 8192 bytes */
FIXTURE_VARIANT_ADD(tree_validate, pipe_size_not_a_pipe_size) {
	.err = EINVAL, .why = "cannot make it",
	.edit = { PIPEREC(0, size, SET, 5000) },
};

/* Above fs.pipe-max-size (1 MiB) without CAP_SYS_RESOURCE */
FIXTURE_VARIANT_ADD(tree_validate, pipe_size_needs_cap_sys_resource) {
	.err = EPERM, .why = "cannot make it", .cap = CAP_SYS_RESOURCE + 1,
	.edit = { PIPEREC(0, size, SET, 2 << 20) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe_bytes_more_than_data) {
	.err = EINVAL, .why = "bad pipe record",
	.edit = { PIPEREC(0, nr_bytes, ADD, 1) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe_bytes_less_than_data) {
	.err = EINVAL, .why = "bad pipe record",
	.edit = { PIPEREC(0, nr_bytes, ADD, -1) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe2_bytes_without_data) {
	.err = EINVAL, .why = "bad pipe record",
	.edit = { PIPEREC(1, nr_bytes, SET, 8) },
};

/* The second end holds data too */
FIXTURE_VARIANT_ADD(tree_validate, pipe2_data) {
	.err = EINVAL, .why = "described twice",
	.edit = {
		{ CR_HDR_PIPE, 1, ANY, 0, 0, GROW, 8 },
		PIPEREC(1, nr_bytes, SET, 8),
	},
};

FIXTURE_VARIANT_ADD(tree_validate, pipe2_other_size) {
	.err = EINVAL, .why = "described twice",
	.edit = { PIPEREC(1, size, SET, 2 * PIPE_SIZE) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe_id_skipped) {
	.err = EINVAL, .why = "used before it is defined",
	.edit = { PIPEREC(0, obj, ADD, 1) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe2_undefined) {
	.err = EINVAL, .why = "used before it is defined",
	.edit = { PIPEREC(1, obj, SET, 1000) },
};

FIXTURE_VARIANT_ADD(tree_validate, pipe2_a_file) {
	.err = EINVAL, .why = "is of type",
	.edit = { PIPEREC(1, obj, FILE_ID, 0) },
};

/*
 * Shared memory: R's three areas are SHMEM records 0 to 2, the first with
 * the pages of the object; A's are 3 to 5
 */
FIXTURE_VARIANT_ADD(tree_validate, shmem_obj_zero) {
	.err = EINVAL, .why = "bad object",
	.edit = { SHMEM(0, obj, SET, 0) },
};

FIXTURE_VARIANT_ADD(tree_validate, shmem2_obj_zero) {
	.err = EINVAL, .why = "bad object",
	.edit = { SHMEM(3, obj, SET, 0) },
};

FIXTURE_VARIANT_ADD(tree_validate, shmem_id_skipped) {
	.err = EINVAL, .why = "used before it is defined",
	.edit = { SHMEM(0, obj, ADD, 1) },
};

FIXTURE_VARIANT_ADD(tree_validate, shmem_id_of_a_file) {
	.err = EINVAL, .why = "is of type",
	.edit = { SHMEM(0, obj, FILE_ID, 0) },
};

/* R's second area of the object names another */
FIXTURE_VARIANT_ADD(tree_validate, shmem_area_other_obj) {
	.err = EINVAL, .why = "is not the one at",
	.edit = { SHMEM(1, obj, ADD, 1) },
};

FIXTURE_VARIANT_ADD(tree_validate, shmem2_undefined) {
	.err = EINVAL, .why = "used before it is defined",
	.edit = { SHMEM(3, obj, SET, 1000) },
};

FIXTURE_VARIANT_ADD(tree_validate, shmem2_a_pipe) {
	.err = EINVAL, .why = "is of type",
	.edit = { SHMEM(3, obj, PIPE_ID, 0) },
};

FIXTURE_VARIANT_ADD(tree_validate, shmem2_pages) {
	.err = EINVAL, .why = "is not the one described before",
	.edit = { SHMEM(3, nr_pages, SET, 1) },
};

FIXTURE_VARIANT_ADD(tree_validate, shmem2_other_size) {
	.err = EINVAL, .why = "is not the one described before",
	.edit = { SHMEM(3, size, ADD, 4096) },
};

/* Zombies */
FIXTURE_VARIANT_ADD(tree_validate, zombie_code_above_16_bits) {
	.err = EINVAL, .why = "bad exit code",
	.edit = { ZOMBIE(exit_code, XOR, 0x10000) },
};

FIXTURE_VARIANT_ADD(tree_validate, zombie_signal_65) {
	.err = EINVAL, .why = "bad exit code",
	.edit = { ZOMBIE(exit_code, SET, 65) },
};

FIXTURE_VARIANT_ADD(tree_validate, zombie_signal_and_status) {
	.err = EINVAL, .why = "bad exit code",
	.edit = { ZOMBIE(exit_code, SET, (ZOMBIE_STATUS << 8) | SIGKILL) },
};

FIXTURE_VARIANT_ADD(tree_validate, zombie_core_without_signal) {
	.err = EINVAL, .why = "bad exit code",
	.edit = { ZOMBIE(exit_code, SET, (ZOMBIE_STATUS << 8) | 0x80) },
};

FIXTURE_VARIANT_ADD(tree_validate, zombie_reserved) {
	.err = EINVAL, .why = "bad exit code",
	.edit = { ZOMBIE(reserved, SET, 1) },
};

FIXTURE_VARIANT_ADD(tree_validate, zombie_root) {
	.err = EINVAL, .why = "is the root, or has threads or children",
	.edit = { RECTYPE(CR_HDR_TASK, T_R, CR_HDR_ZOMBIE) },
};

/* B a child of A, and A a zombie */
FIXTURE_VARIANT_ADD(tree_validate, zombie_with_child) {
	.err = EINVAL, .why = "is the root, or has threads or children",
	.edit = {
		PROC(P_B, ppid, PID, P_A),
		RECTYPE(CR_HDR_TASK, T_A, CR_HDR_ZOMBIE),
	},
};

/* Sections */
FIXTURE_VARIANT_ADD(tree_validate, section_root_type) {
	.err = EINVAL, .why = "unexpected record type 4",
	.edit = { RECTYPE(CR_HDR_TASK, T_R, CR_HDR_CREDS) },
};

FIXTURE_VARIANT_ADD(tree_validate, section_thread_type) {
	.err = EINVAL, .why = "unexpected record type 4",
	.edit = { RECTYPE(CR_HDR_TASK, T_THR, CR_HDR_CREDS) },
};

FIXTURE_VARIANT_ADD(tree_validate, section_child_type) {
	.err = EINVAL, .why = "unexpected record type 4",
	.edit = { RECTYPE(CR_HDR_TASK, T_A, CR_HDR_CREDS) },
};

/* A thread's section cannot be a zombie's */
FIXTURE_VARIANT_ADD(tree_validate, section_thread_zombie) {
	.err = EINVAL, .why = "unexpected record type 28",
	.edit = { RECTYPE(CR_HDR_TASK, T_THR, CR_HDR_ZOMBIE) },
};

/* The zombie's record, too short for a task record */
FIXTURE_VARIANT_ADD(tree_validate, section_zombie_as_task) {
	.err = EINVAL, .why = "task record at byte",
	.edit = { RECTYPE(CR_HDR_ZOMBIE, 0, CR_HDR_TASK) },
};

/* The end of the image */
FIXTURE_VARIANT_ADD(tree_validate, truncated_in_section) {
	.err = EINVAL, .why = "image truncated", .cut = CUT_SECTION,
};

FIXTURE_VARIANT_ADD(tree_validate, truncated_tail_missing) {
	.err = EINVAL, .why = "image truncated", .cut = CUT_TAIL,
};

FIXTURE_VARIANT_ADD(tree_validate, truncated_tail_moved) {
	.err = EINVAL, .why = "image truncated", .cut = CUT_MOVE_TAIL,
};

/* Through a pipe, the end is found by the tasks reading their sections */
FIXTURE_VARIANT_ADD(tree_validate, stream_truncated_in_section) {
	.err = EINVAL, .why = "image truncated", .cut = CUT_SECTION,
	.stream = true,
};

FIXTURE_VARIANT_ADD(tree_validate, stream_tail_missing) {
	.err = EINVAL, .why = "image truncated", .cut = CUT_TAIL,
	.stream = true,
};

/* Checked once every task is created */
FIXTURE_VARIANT_ADD(tree_validate, tail_nr_records) {
	.err = EINVAL, .why = "tail counts",
	.edit = { ED(CR_HDR_TAIL, 0, ANY, cr_hdr_tail, nr_records, ADD, 1) },
};

FIXTURE_VARIANT_ADD(tree_validate, data_after_tail) {
	.err = EINVAL, .why = "image truncated", .cut = CUT_APPEND,
};

FIXTURE_VARIANT_ADD(tree_validate, stream_data_after_tail) {
	.err = EINVAL, .why = "data after the tail", .cut = CUT_APPEND,
	.stream = true,
};

/* The checksum is checked once every task is created */
FIXTURE_VARIANT_ADD(tree_validate, checksum) {
	.err = EBADMSG, .why = "image checksum", .no_reseal = true,
	.edit = { ZOMBIE(exit_code, SET, 9) },
};

FIXTURE_VARIANT_ADD(tree_validate, stream_checksum) {
	.err = EBADMSG, .why = "image checksum", .no_reseal = true,
	.stream = true,
	.edit = { ZOMBIE(exit_code, SET, 9) },
};

/* Feed @len bytes of @buf to a pipe; its read end */
static int feed(struct __test_metadata *_metadata, const unsigned char *buf,
		size_t len)
{
	size_t done = 0;
	ssize_t n;
	pid_t pid;
	int p[2];

	if (pipe(p))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(p[0]);
		signal(SIGPIPE, SIG_IGN);
		while (done < len) {
			n = write(p[1], buf + done, len - done);
			if (n <= 0)
				break;
			done += n;
		}
		_exit(0);
	}
	kid_add(pid);
	close(p[1]);
	return p[0];
}

TEST_F_TIMEOUT(tree_validate, restart, TEST_TIMEOUT)
{
	struct restarter_args a = { .mode = variant->mode, .cap = variant->cap };
	struct tree_result r;
	unsigned char *buf;
	char path[128];
	struct stat st;
	size_t len;
	int i, fd;

	checkpoint_tree(_metadata, &self->d);
	ASSERT_EQ(0, fstat(self->d.imgfd, &st));
	ASSERT_LT(0, st.st_size);
	len = st.st_size;
	buf = calloc(1, len + 4096);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ((ssize_t)len, pread(self->d.imgfd, buf, len, 0));
	ASSERT_LE(0, find_rec(buf, len, CR_HDR_UTS, 0, ANY))
		TH_LOG("no UTS record in the image");
	ASSERT_LE(0, find_rec(buf, len, CR_HDR_PROC, NR_PROCS - 1, ANY))
		TH_LOG("fewer than %d process records", NR_PROCS);
	ASSERT_GT(0, find_rec(buf, len, CR_HDR_PROC, NR_PROCS, ANY))
		TH_LOG("more than %d process records", NR_PROCS);
	for (i = 0; i < (int)ARRAY_SIZE(variant->edit) && variant->edit[i].type;
	     i++)
		ASSERT_TRUE(apply(_metadata, buf, &len, &variant->edit[i]));
	if (!variant->no_reseal)
		cr_reseal(buf, len);
	len = cut(buf, len, variant->cut);
	cr_path(&self->d, "edited", path, sizeof(path));
	ASSERT_EQ(0, write_file(path, buf, len));

	if (variant->stream)
		fd = feed(_metadata, buf, len);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	run_reporter(_metadata, fd, restarter, &a, &r);
	check_report(_metadata, &r, variant->err, variant->why);
	free(buf);
}

TEST_HARNESS_MAIN
