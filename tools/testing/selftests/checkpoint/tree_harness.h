/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the process tree selftests (tree_*_test.c), on top of
 * cr_harness.h:
 *
 *  - the tasks' side: forking, telling the test a task is ready (its pid
 *    in a file of the test directory), waiting for the test's "go", and
 *    finding a child by its name after a restart with new pids;
 *  - the test's side: waiting until the tasks are stopped, checkpointing
 *    the tree, killing and reaping it, a cgroup v2 freezer for it;
 *  - restarters of a tree image: one that exits with the restarted root's
 *    exit code, one that reports restart's result through a pipe;
 *  - the records of an image in memory, to read and edit them.
 *
 * Everything here is static: each test program includes it once.
 */
#ifndef TREE_HARNESS_H
#define TREE_HARNESS_H

#include "cr_harness.h"

#include <sys/statfs.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif
#define CGROUP_ROOT		"/sys/fs/cgroup"

/*
 * Exit status of a restarter whose tree went well, but that had another
 * child than the root when restart returned: the kernel had not yet
 * reaped a ghost (the leader of a group that exited) it made.
 */
#define EXIT_GHOST		12

/* The tasks' side */

static inline void __noreturn setup_fail(const char *what)
{
	cr_log("setup: %s: %s", what, strerror(errno));
	_exit(EXIT_SETUP);
}

/* fork(2), the output flushed first; setup_fail() if it fails */
static inline pid_t tree_fork(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		setup_fail("fork");
	return pid;
}

/* Our pid as /proc shows it (in a pid namespace of ours, not getpid()) */
static inline pid_t proc_self_pid(void)
{
	char buf[32];
	ssize_t n;

	n = readlink("/proc/self", buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return atoi(buf);
}

/*
 * Tell the test we are ready: our pid, as /proc shows it, in the file
 * @dir/<@letter><@i>, whole or not there
 */
static inline void tree_ready(const char *dir, char letter, int i)
{
	char path[96], tmp[100], pid[32];
	pid_t self = proc_self_pid();
	int n;

	if (self < 0)
		setup_fail("readlink /proc/self");
	n = snprintf(pid, sizeof(pid), "%d", self);
	snprintf(path, sizeof(path), "%s/%c%d", dir, letter, i);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (write_file(tmp, pid, n))
		setup_fail(tmp);
	if (rename(tmp, path))
		setup_fail(path);
}

/* Whether the test made the file @dir/go: the tasks go on */
static inline bool tree_have_go(const char *dir)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/go", dir);
	return !access(path, F_OK);
}

/* The command name of @pid in /proc, or "" */
static inline void comm_of(pid_t pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_file(path, buf, len) < 0)
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static inline bool comm_is(pid_t pid, const char *name)
{
	char c[64];

	comm_of(pid, c, sizeof(c));
	return !strcmp(c, name);
}

/* The parent of @pid in /proc, or -1 */
static inline pid_t ppid_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/*
 * The first process of /proc whose parent is @parent (a pid as /proc
 * shows it) that @match (if not NULL) accepts, or -1
 */
static inline pid_t find_child_if(pid_t parent,
				  bool (*match)(pid_t pid, void *arg),
				  void *arg)
{
	struct dirent *e;
	pid_t pid = -1;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		pid_t p = atoi(e->d_name);

		if (p > 0 && ppid_of(p) == parent && (!match || match(p, arg))) {
			pid = p;
			break;
		}
	}
	closedir(d);
	return pid;
}

static inline bool comm_match(pid_t pid, void *name)
{
	return comm_is(pid, name);
}

/* Our child named @name (with a new pid after restart), or -1 */
static inline pid_t find_child(const char *name)
{
	return find_child_if(proc_self_pid(), comm_match, (void *)name);
}

/* A child of the caller left, dead or alive, or 0 */
static inline pid_t leftover(void)
{
	pid_t pid = waitpid(-1, NULL, WNOHANG | __WALL);

	if (pid < 0 && errno == ECHILD)
		return 0;
	if (pid > 0)
		return pid;
	return find_child_if(proc_self_pid(), NULL, NULL);
}

/*
 * Wait for our child @pid (and for the others with @others): its exit
 * code, 128 + the signal that killed it, or EXIT_SETUP
 */
static inline int wait_code(pid_t pid, bool others)
{
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(others ? -1 : pid, &status, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return EXIT_SETUP;
		if (r != pid)
			continue;
		if (WIFEXITED(status))
			return WEXITSTATUS(status);
		cr_log("pid %d: wait status %#x", pid, status);
		return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
}

/* The test's side */

/* Make the file @dir/go the tasks wait for */
static inline void tree_release(struct __test_metadata *_metadata,
				const char *dir)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/go", dir);
	ASSERT_EQ(0, write_file(path, "", 0));
}

/*
 * Wait until @path holds a pid, and return it; fail early if our child
 * @watch (if > 0) exits first
 */
static inline pid_t wait_ready_file(struct __test_metadata *_metadata,
				    const char *path, pid_t watch)
{
	char buf[32];
	int ms;

	for (ms = 0; ms < CHILD_TIMEOUT_MS; ms += 10) {
		if (read_file(path, buf, sizeof(buf)) > 0)
			return atoi(buf);
		if (watch > 0 && waitpid(watch, NULL, WNOHANG) == watch) {
			kid_del(watch);
			ASSERT_TRUE(false)
				TH_LOG("%s never came: pid %d exited", path,
				       watch);
		}
		usleep(10000);
	}
	ASSERT_TRUE(false) TH_LOG("%s never came: a task did not start", path);
	return -1;
}

/* The state of every thread of @pid is @state */
static inline bool threads_in(pid_t pid, char state)
{
	char path[64], buf[1024], *p;
	struct dirent *e;
	bool all = true;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return false;
	while (all && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid,
			 atoi(e->d_name));
		p = read_file(path, buf, sizeof(buf)) < 0 ? NULL :
		    strrchr(buf, ')');
		all = p && p[1] == ' ' && p[2] == state;
	}
	closedir(d);
	return all;
}

/* Wait until the state of @pid, and of all its threads, is @state */
static inline void wait_state(struct __test_metadata *_metadata, pid_t pid,
			      char state)
{
	int ms;

	for (ms = 0; ms < CHILD_TIMEOUT_MS; ms += 10) {
		if (proc_state(pid) == state &&
		    (state == 'Z' || threads_in(pid, state)))
			return;
		usleep(10000);
	}
	log_child(pid);
	ASSERT_EQ(state, proc_state(pid)) TH_LOG("pid %d", pid);
}

/*
 * Kill the @n tasks @pids (those > 0) and reap all our children: the test
 * is the subreaper of the tree's orphans, so that their pids are free
 * again when this returns
 */
static inline void kill_reap(const pid_t *pids, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
		;
}

/* checkpoint(@pid, @fd, CR_CHECKPOINT_TREE) into @fd, emptied first */
static inline void tree_checkpoint_to(struct __test_metadata *_metadata,
				      pid_t pid, int fd)
{
	long crid;

	ASSERT_EQ(0, ftruncate(fd, 0));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	crid = sys_checkpoint(pid, fd, CR_CHECKPOINT_TREE | CR_LOGFD(2));
	ASSERT_LT(0, crid) TH_LOG("checkpoint(%d, TREE): %s", pid,
				  strerror(errno));
}

/* A cgroup v2 freezer */

/*
 * Make the cgroup @name.<our pid>, its path in @cg; false if there is no
 * cgroup v2 to make it in
 */
static inline bool cg_make(char *cg, size_t len, const char *name)
{
	struct statfs fs;

	if (statfs(CGROUP_ROOT, &fs) || fs.f_type != CGROUP2_SUPER_MAGIC)
		return false;
	snprintf(cg, len, "%s/%s.%d", CGROUP_ROOT, name, getpid());
	return !mkdir(cg, 0755) || errno == EEXIST;
}

static inline int cg_write(const char *cg, const char *file, const char *s)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	return write_file(path, s, strlen(s));
}

/* The value of @key in cgroup.events */
static inline int cg_event(const char *cg, const char *key)
{
	char path[PATH_MAX + 32], buf[256], *p;

	snprintf(path, sizeof(path), "%s/cgroup.events", cg);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, key);
	return p ? atoi(p + strlen(key) + 1) : -1;
}

static inline void cg_wait(struct __test_metadata *_metadata, const char *cg,
			   const char *key, int val)
{
	int ms;

	for (ms = 0; ms < CHILD_TIMEOUT_MS; ms += 5) {
		if (cg_event(cg, key) == val)
			return;
		usleep(5000);
	}
	ASSERT_EQ(val, cg_event(cg, key)) TH_LOG("%s of %s", key, cg);
}

/* Freeze the cgroup, and wait until it is frozen */
static inline void cg_freeze(struct __test_metadata *_metadata,
			     const char *cg)
{
	ASSERT_EQ(0, cg_write(cg, "cgroup.freeze", "1"));
	cg_wait(_metadata, cg, "frozen", 1);
}

/* Kill what the cgroup holds, and thaw it: its tasks are then reaped */
static inline void cg_kill(struct __test_metadata *_metadata, const char *cg)
{
	ASSERT_EQ(0, cg_write(cg, "cgroup.kill", "1"));
	cg_write(cg, "cgroup.freeze", "0");
}

/* Remove the cgroup once its tasks are gone */
static inline void cg_remove(struct __test_metadata *_metadata, char *cg)
{
	cg_wait(_metadata, cg, "populated", 0);
	ASSERT_EQ(0, rmdir(cg));
	cg[0] = 0;
}

/* A restarter of a tree image that exits with the root's exit code */

/*
 * The pid of @p (as /proc shows it) at @level of the pid namespaces below
 * /proc's (0 is /proc's; -1: the last), or -1; the number of levels in
 * *@nr if not NULL.
 */
static inline pid_t ns_pid(const char *p, int level, int *nr)
{
	char path[64], buf[2048], *l, *end;
	pid_t pid = -1, v;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%s/status", p);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	l = strstr(buf, "\nNSpid:");
	if (!l)
		return -1;
	l += 7;
	end = strchrnul(l, '\n');
	while (l < end) {
		v = strtol(l, &l, 10);
		if (n == level || level < 0)
			pid = v;
		n++;
		while (l < end && (*l == ' ' || *l == '\t'))
			l++;
	}
	if (nr)
		*nr = n;
	return pid;
}

struct ghost_look {
	pid_t root;	/* in our pid namespace */
	int level;	/* of our pid namespace below /proc's */
	bool found;
};

/* A child of ours other than the root: log it, and look on */
static inline bool ghost_match(pid_t p, void *arg)
{
	struct ghost_look *g = arg;
	char name[16], comm[64];

	snprintf(name, sizeof(name), "%d", p);
	if (ns_pid(name, g->level - 1, NULL) == g->root)
		return false;
	comm_of(p, comm, sizeof(comm));
	cr_log("restart returned, a child %d (%s, state %c) besides the root %d",
	       p, comm, proc_state(p), g->root);
	g->found = true;
	return false;
}

/* Once restart returned: has the caller a child other than @root? */
static inline bool ghost_left(pid_t root)
{
	struct ghost_look g = { .root = root };
	pid_t self = proc_self_pid();
	char name[16];

	snprintf(name, sizeof(name), "%d", self);
	if (self < 0 || ns_pid(name, 0, &g.level) < 0)
		return false;
	find_child_if(self, ghost_match, &g);
	return g.found;
}

/* How a restarter restarts a tree image (see tree_restarter()) */
struct tree_restart {
	unsigned long flags;	/* of restart(2), CR_RESTART_TREE included */
	pid_t img_root;		/* the image's root's pid; see below */
	int err;		/* the errno restart must fail with, or 0 */
	uid_t uid;		/* the user the restarter becomes, if not 0 */
	bool subreaper;		/* the restarter is a child subreaper */
	const char *what;	/* the restarter, in messages */
};

/*
 * In a restarter: restart from @fd with @r->flags (and the kernel's reason
 * for a refusal on stderr).  Without CR_RESTART_NEW_PIDS and with an
 * @r->img_root above 0, in a new pid namespace: as its pid 1 if the
 * image's root is 1, else under a pid 1 that reaps.  Exits with the root's exit code
 * (EXIT_GHOST if restart returned with another child than the root), or
 * EXIT_RESTART_RETURNED if restart failed; with @r->err, with 0 if
 * restart failed with that errno and left no task behind.
 */
static inline void __noreturn tree_restarter(int fd,
					     const struct tree_restart *r)
{
	bool init = false, ghost;
	pid_t pid, root;
	uid_t uid = r->uid;
	int code, err;

	cr_phase = r->what ? r->what : "restarter";
	prctl(PR_SET_NAME, "cr_restarter");
	if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
		    setresuid(uid, uid, uid)))
		setup_fail("becoming the user");
	if (r->subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		setup_fail("PR_SET_CHILD_SUBREAPER");
	if (!(r->flags & CR_RESTART_NEW_PIDS) && r->img_root > 0) {
		if (unshare(CLONE_NEWPID))
			setup_fail("unshare(CLONE_NEWPID)");
		if (r->img_root != 1) {
			pid = tree_fork();
			if (pid > 0)
				_exit(wait_code(pid, false));
			init = true;
			cr_phase = "init";
			prctl(PR_SET_NAME, "cr_init");
		}
	}
	root = sys_restart(0, fd, r->flags | CR_LOGFD(2));
	err = errno;
	if (root < 0 && r->err && err == r->err) {
		pid = leftover();
		CHECKF(!pid, "task %d is left after the failed restart", pid);
		cr_exit(0);
	}
	if (root < 0) {
		cr_log("restart(%#lx) failed: %s (errno %d)", r->flags,
		       strerror(err), err);
		_exit(EXIT_RESTART_RETURNED);
	}
	if (r->err) {
		cr_log("restart(%#lx) succeeded (root %d), expected errno %d",
		       r->flags, root, r->err);
		kill(root, SIGKILL);
		wait_code(root, false);
		_exit(EXIT_RESTART_RETURNED);
	}
	close(fd);
	ghost = ghost_left(root);
	code = wait_code(root, init);
	_exit(code == EXIT_RESTARTED && ghost ? EXIT_GHOST : code);
}

static inline void tree_restarter_fn(void *arg, int fd)
{
	tree_restarter(fd, arg);
}

/* Fork a restarter of @img (see tree_restarter()) */
static inline pid_t spawn_tree_restarter(struct __test_metadata *_metadata,
					 const char *img,
					 const struct tree_restart *r)
{
	return spawn_restarter_fn(_metadata, img, 0, NULL, tree_restarter_fn,
				  (void *)r);
}

/* Restart @img as @r says; the restarter must exit with @code */
static inline void tree_restart(struct __test_metadata *_metadata,
				const char *img, const struct tree_restart *r,
				int code, const char *what)
{
	pid_t pid = spawn_tree_restarter(_metadata, img, r);

	expect_exit(_metadata, pid, code, what);
}

/* A restarter that reports restart's result through a pipe */

struct tree_result {
	long ret;		/* restart(2)'s return value */
	int err;		/* its errno */
	int status;		/* wait status of the root, -1 if none */
	pid_t left;		/* a child left after a failure, or 0 */
	int setup;		/* errno of a failed setup step, or 0 */
	char why[400];		/* the line the kernel logged */
};

/*
 * Restart from @fd with @flags, wait for the root, kill @blocker (if > 0),
 * look for a task left behind, and write what happened to @out
 */
static inline void restart_report(int fd, unsigned long flags, pid_t blocker,
				  int out)
{
	struct tree_result r = { .status = -1 };
	int log[2];

	if (pipe(log))
		r.setup = errno;
	if (!r.setup) {
		r.ret = sys_restart(0, fd, flags | CR_LOGFD(log[1]));
		r.err = r.ret < 0 ? errno : 0;
		close(log[1]);
	}
	if (!r.setup && r.ret < 0) {
		cr_read_log(log[0], r.why, sizeof(r.why));
		r.why[strcspn(r.why, "\n")] = 0;
	}
	if (r.ret > 0 && waitpid(r.ret, &r.status, __WALL) != r.ret)
		r.status = -1;
	if (blocker > 0) {
		kill(blocker, SIGKILL);
		waitpid(blocker, NULL, 0);
	}
	r.left = leftover();
	if (write(out, &r, sizeof(r)) != sizeof(r))
		_exit(EXIT_SETUP);
}

/* A step before the restart failed: report its errno to @out and exit */
static inline void __noreturn report_setup(int out)
{
	struct tree_result r = { .status = -1, .setup = errno ? errno : EIO };

	if (write(out, &r, sizeof(r)) != sizeof(r))
		_exit(EXIT_SETUP);
	_exit(0);
}

/*
 * Fork @fn(@arg, @fd, out), which reports what restart did through out,
 * and read the report in @r; @fd is closed
 */
static inline void run_reporter(struct __test_metadata *_metadata, int fd,
				void (*fn)(void *arg, int fd, int out),
				void *arg, struct tree_result *r)
{
	pid_t pid;
	int p[2];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(p));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(p[0]);
		cr_phase = "restarter";
		fn(arg, fd, p[1]);
		_exit(0);
	}
	kid_add(pid);
	close(fd);
	close(p[1]);
	ASSERT_EQ(sizeof(*r), read(p[0], r, sizeof(*r)))
		TH_LOG("the restarter did not report");
	close(p[0]);
	expect_exit(_metadata, pid, 0, "restarter");
	ASSERT_EQ(0, r->setup) TH_LOG("restarter setup: %s", strerror(r->setup));
	if (r->ret < 0)
		TH_LOG("restart: %s: %s", strerror(r->err), r->why);
}

/*
 * Check a report: with @err 0, a restart whose root exited with
 * EXIT_RESTARTED; else a failure with @err and, if @why is not NULL, a
 * reason that says it.  No task left behind either way.
 */
static inline void check_report(struct __test_metadata *_metadata,
				const struct tree_result *r, int err,
				const char *why)
{
	char desc[128];

	if (!err) {
		ASSERT_LT(0, r->ret);
		describe_status(r->status, desc, sizeof(desc));
		EXPECT_TRUE(r->status != -1 && WIFEXITED(r->status) &&
			    WEXITSTATUS(r->status) == EXIT_RESTARTED)
			TH_LOG("restarted root: %s", desc);
	} else {
		EXPECT_EQ(-1, r->ret);
		EXPECT_EQ(err, r->err)
			TH_LOG("errno %d (%s), expected %d (%s)", r->err,
			       strerror(r->err), err, strerror(err));
		if (why)
			EXPECT_NE(NULL, strstr(r->why, why))
				TH_LOG("the kernel's reason is not \"%s\"",
				       why);
	}
	EXPECT_EQ(0, r->left)
		TH_LOG("the restart left task %d behind", r->left);
}

/* Records of an image in memory */

/* The image file @path in memory, with @extra zero bytes after it */
static inline unsigned char *img_load(struct __test_metadata *_metadata,
				      const char *path, size_t *len,
				      size_t extra)
{
	unsigned char *buf;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	buf = calloc(1, st.st_size + extra + 1);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(st.st_size, pread(fd, buf, st.st_size, 0));
	close(fd);
	*len = st.st_size;
	return buf;
}

/* The @nth record of @type of an image in memory */
static inline void *img_rec(struct __test_metadata *_metadata,
			    unsigned char *buf, size_t len, __u32 type,
			    int nth)
{
	long off = cr_find_rec(buf, len, type, nth);

	ASSERT_LE(0, off) TH_LOG("no record of type %u number %d", type, nth);
	return buf + off;
}

/*
 * Offset of the @nth record of @type at or after @from that @match (if
 * not NULL) accepts, or -1
 */
static inline long rec_find(const unsigned char *buf, size_t len,
			    size_t from, __u32 type, int nth,
			    bool (*match)(const unsigned char *rec, long arg),
			    long arg)
{
	struct cr_hdr h;
	size_t off = from;

	while (off + sizeof(h) <= len) {
		memcpy(&h, buf + off, sizeof(h));
		if (h.len < sizeof(h))
			break;
		if (h.type == type && (!match || match(buf + off, arg)) &&
		    nth-- == 0)
			return off;
		if (h.type == CR_HDR_TAIL)
			break;
		off += CR_ALIGN8(h.len);
	}
	return -1;
}

/* How a field is edited */
enum edit_op {
	SET,		/* it becomes the value */
	ADD,		/* the value is added to it */
	XOR,		/* it is xored with the value */
	OR,		/* the bits of the value are set in it */
	ANDN,		/* the bits of the value are cleared in it */
	EDIT_OPS,	/* the first op of a test's own */
};

/* Edit the field of @size bytes (1, 2, 4 or 8) at @p */
static inline void edit_field(unsigned char *p, int size, int op, __s64 val)
{
	__u64 v = 0;

	memcpy(&v, p, size);
	switch (op) {
	case SET:
		v = val;
		break;
	case ADD:
		v += val;
		break;
	case XOR:
		v ^= val;
		break;
	case OR:
		v |= val;
		break;
	case ANDN:
		v &= ~val;
		break;
	}
	memcpy(p, &v, size);
}

#endif /* TREE_HARNESS_H */
