// SPDX-License-Identifier: GPL-2.0
/*
 * Processes of a tree that share tables with their parent: a descriptor
 * table (CLONE_FILES), an fs_struct (CLONE_FS), an address space and
 * signal handlers (CLONE_VM, CLONE_SIGHAND), saved once and shared again
 * after restart; the sharing checkpoint still refuses; bad share records.
 *
 * The test forks a root, which makes its children with clone(2), waits
 * until they stopped themselves, writes their pids to the file "ready"
 * of the test directory and stops itself.  When they go on - restarted
 * with CR_RESTART_NEW_PIDS, or continued after a refused checkpoint -
 * each checks from the inside that what it shares is shared: a
 * descriptor or a directory one changes the other sees, a word one
 * writes the other reads, a handler one installs the other runs.  A child
 * exits with 0 or the line of its first failed check; the root reaps them
 * and exits with EXIT_RESTARTED or the EXIT_CHECK code of a failed check.
 */

#include "tree_harness.h"

#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>

#define STACK_SIZE	(256 * 1024)
#define MAXC		4

/* What the tree is (g_case) */
enum tcase {
	C_FILES,	/* a child with CLONE_FILES */
	C_FS,		/* a child with CLONE_FS */
	C_VM_SIGHAND,	/* a child with CLONE_VM | CLONE_SIGHAND */
	C_VM,		/* a child with CLONE_VM only */
	C_SIBLINGS,	/* two CLONE_FILES children, their parent unshared */
	C_VFORK,	/* a vfork(2)-like child, its parent waiting */
	C_BAD,		/* a thread, a zombie, CLONE_FILES, CLONE_VM | SIGHAND */
	C_CHAIN,	/* a CLONE_FILES child with a CLONE_FILES child */
};

static enum tcase g_case;
static char g_dir[64];

/* Shared by the root and a CLONE_VM child, read and written with LD/ST */
static int word = 1234, child_word, parent_go;
static int usr1_hits, usr2_hits;
static pid_t usr1_pid, usr2_pid;

#define LD(x)		__atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define ST(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)
static int nr_children, chain_level;

static void on_usr1(int sig)
{
	ST(usr1_hits, LD(usr1_hits) + 1);
	ST(usr1_pid, syscall(SYS_getpid));
}

static void on_usr2(int sig)
{
	ST(usr2_hits, LD(usr2_hits) + 1);
	ST(usr2_pid, syscall(SYS_getpid));
}

/* Stop the calling process; glibc's raise() would stop a CLONE_VM parent */
static void stop_self(void)
{
	syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
}

static void dpath(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", g_dir, name);
}

/* Whether @fd is open on the file @name of the test directory */
static bool fd_is(int fd, const char *name)
{
	struct stat a, b;
	char path[96];

	dpath(name, path, sizeof(path));
	return !fstat(fd, &a) && !stat(path, &b) && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

static int open_at(const char *name, int fd)
{
	char path[96];
	int f;

	dpath(name, path, sizeof(path));
	f = open(path, O_RDWR | O_CREAT, 0600);
	if (f < 0 || dup2(f, fd) != fd)
		return -1;
	close(f);
	return 0;
}

/* Wait up to 20 s for @fd to be open */
static bool wait_fd(int fd)
{
	int ms;

	for (ms = 0; ms < 20000; ms += 5) {
		if (fcntl(fd, F_GETFD) >= 0)
			return true;
		usleep(5000);
	}
	return false;
}

static bool wait_word(int *w, int val)
{
	int ms;

	for (ms = 0; ms < 20000; ms += 5) {
		if (LD(*w) == val)
			return true;
		usleep(5000);
	}
	return false;
}

/* The children, after they went on */

static int files_child(void)
{
	char c[2];

	/* Opened by the parent after the restart */
	CHECKF(wait_fd(41), "fd 41 the parent opened never came");
	CHECK(fd_is(41, "b"));
	/* The offset the parent left */
	CHECK(lseek(40, 0, SEEK_CUR) == 3);
	CHECK(read(40, c, 2) == 2 && c[0] == '3' && c[1] == '4');
	CHECK(open_at("c", 42) == 0);
	return cr_fail_line;
}

static int fs_child(void)
{
	char cwd[PATH_MAX], want[96];

	dpath("s1", want, sizeof(want));
	CHECK(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, want));
	CHECK(umask(022) == 027);
	dpath("s2", want, sizeof(want));
	CHECK(chdir(want) == 0);
	umask(077);
	return cr_fail_line;
}

/* Memory and handlers: no stdio, no malloc, the parent's libc is ours */
static int vm_child(bool sighand)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	if (LD(word) != 1234)
		return 1;
	if (!wait_word(&parent_go, 1))
		return 2;
	ST(child_word, 42);
	if (sigaction(SIGUSR1, &sa, NULL))
		return 3;
	/* The handler the parent installed before the checkpoint */
	syscall(SYS_kill, syscall(SYS_getpid), SIGUSR2);
	if (LD(usr2_hits) != 1 || LD(usr2_pid) != syscall(SYS_getpid))
		return 4;
	return 0;
}

static pid_t make_child(unsigned long flags, int (*fn)(void *));

/* C_CHAIN: the grandchild opens a file all three see */
static int chain_child(void)
{
	int status;

	if (chain_level == 2) {
		CHECKF(wait_fd(43), "fd 43 the root opened never came");
		CHECK(fd_is(43, "b"));
		CHECK(open_at("g", 44) == 0);
		return cr_fail_line;
	}
	CHECK(waitpid(-1, &status, __WALL) > 0 && WIFEXITED(status) &&
	      !WEXITSTATUS(status));
	CHECK(fd_is(44, "g"));
	return cr_fail_line;
}

static int child_fn(void *arg)
{
	long what = (long)arg;
	char path[96], buf[32];
	pid_t pid;

	cr_phase = "child";
	if (g_case == C_CHAIN && ++chain_level == 1) {
		/* The test kills the grandchild too: its pid in "chain" */
		pid = make_child(CLONE_FILES, child_fn);
		snprintf(buf, sizeof(buf), " %d", pid);
		dpath("chain", path, sizeof(path));
		if (pid < 0 || write_file(path, buf, strlen(buf)))
			return 100;
		chain_level = 1;
	}
	stop_self();
	switch (g_case) {
	case C_FILES:
		return files_child();
	case C_FS:
		return fs_child();
	case C_VM_SIGHAND:
		return vm_child(true);
	case C_VM:
		return vm_child(false);
	case C_BAD:
		return what == CLONE_FILES ? 0 : vm_child(true);
	case C_CHAIN:
		return chain_child();
	default:
		return 0;
	}
}

static int vfork_fn(void *arg)
{
	char path[96], buf[32];

	/* The parent waits in vfork(): this child tells the test */
	snprintf(buf, sizeof(buf), "%ld", (long)syscall(SYS_getpid));
	dpath("ready", path, sizeof(path));
	if (write_file(path, buf, strlen(buf)))
		return 1;
	stop_self();
	return 0;
}

/* Clone a child with @flags, stopped when this returns */
static pid_t make_child(unsigned long flags, int (*fn)(void *))
{
	char *stack = malloc(STACK_SIZE);
	int status;
	pid_t pid;

	if (!stack)
		return -1;
	pid = clone(fn, stack + STACK_SIZE, flags | SIGCHLD,
		    (void *)(flags & (CLONE_FILES | CLONE_VM)));
	if (pid < 0 || (flags & CLONE_VFORK))
		return pid;
	nr_children++;
	if (waitpid(pid, &status, WUNTRACED | __WALL) != pid ||
	    !WIFSTOPPED(status))
		return -1;
	return pid;
}

static void *thread_fn(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

/* C_BAD: a child with a second thread, stopped */
static pid_t make_threaded(void)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		pthread_t th;

		if (pthread_create(&th, NULL, thread_fn, NULL))
			_exit(EXIT_SETUP);
		stop_self();
		_exit(0);
	}
	nr_children++;
	if (pid < 0 || waitpid(pid, &status, WUNTRACED) != pid ||
	    !WIFSTOPPED(status))
		return -1;
	return pid;
}

/* C_BAD: a zombie child, exited, not reaped */
static pid_t make_zombie(void)
{
	siginfo_t si;
	pid_t pid;

	pid = fork();
	if (pid == 0)
		_exit(0);
	nr_children++;
	if (pid < 0 || waitid(P_PID, pid, &si, WEXITED | WNOWAIT))
		return -1;
	return pid;
}

/* The root's checks once it goes on */
static void root_verify(void)
{
	struct sigaction old;
	char cwd[PATH_MAX], want[96];
	int status, i;

	if (g_case == C_FILES)
		CHECK(open_at("b", 41) == 0);
	if (g_case == C_CHAIN)
		CHECK(open_at("b", 43) == 0);
	if (g_case == C_VM_SIGHAND || g_case == C_VM || g_case == C_BAD)
		ST(parent_go, 1);
	for (i = 0; i < nr_children; i++) {
		CHECKF(waitpid(-1, &status, __WALL) > 0, "waitpid: %s",
		       strerror(errno));
		CHECKF(WIFEXITED(status) && !WEXITSTATUS(status),
		       "a child ended with status %#x", status);
	}
	switch (g_case) {
	case C_FILES:
		/* The child's read moved the shared offset; its fd is ours */
		CHECK(lseek(40, 0, SEEK_CUR) == 5);
		CHECK(fd_is(42, "c"));
		break;
	case C_CHAIN:
		CHECK(fd_is(44, "g"));
		break;
	case C_FS:
		dpath("s2", want, sizeof(want));
		CHECK(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, want));
		CHECK(umask(0) == 077);
		break;
	case C_VM_SIGHAND:
	case C_VM:
	case C_BAD:
		CHECK(LD(child_word) == 42);
		CHECK(sigaction(SIGUSR1, NULL, &old) == 0);
		if (g_case == C_VM) {
			/* Its own handlers: the child's is not ours */
			CHECK(old.sa_handler == SIG_DFL);
			break;
		}
		CHECK(old.sa_handler == on_usr1);
		syscall(SYS_kill, syscall(SYS_getpid), SIGUSR1);
		CHECK(LD(usr1_hits) == 1 && LD(usr1_pid) == syscall(SYS_getpid));
		break;
	default:
		break;
	}
}

static void __noreturn root_main(void)
{
	struct sigaction sa = { .sa_handler = on_usr2 };
	char path[96], buf[128] = "";
	pid_t p[MAXC] = { 0 };
	int i, n = 0;

	cr_phase = "root";
	prctl(PR_SET_NAME, "cr_share_root");
	if (drop_shared_mappings() || close_fds_except(-1) ||
	    sigaction(SIGUSR2, &sa, NULL))
		_exit(EXIT_SETUP);
	switch (g_case) {
	case C_FILES:
		if (open_at("a", 40) || write(40, "0123456789", 10) != 10 ||
		    lseek(40, 3, SEEK_SET) != 3)
			_exit(EXIT_SETUP);
		p[n++] = make_child(CLONE_FILES, child_fn);
		break;
	case C_FS:
		dpath("s1", path, sizeof(path));
		if (mkdir(path, 0700) || chdir(path))
			_exit(EXIT_SETUP);
		dpath("s2", path, sizeof(path));
		if (mkdir(path, 0700))
			_exit(EXIT_SETUP);
		umask(027);
		p[n++] = make_child(CLONE_FS, child_fn);
		break;
	case C_VM_SIGHAND:
		p[n++] = make_child(CLONE_VM | CLONE_SIGHAND, child_fn);
		break;
	case C_VM:
		p[n++] = make_child(CLONE_VM, child_fn);
		break;
	case C_SIBLINGS:
		p[n++] = make_child(CLONE_FILES, child_fn);
		p[n++] = make_child(CLONE_FILES, child_fn);
		if (unshare(CLONE_FILES))
			_exit(EXIT_SETUP);
		break;
	case C_VFORK:
		if (make_child(CLONE_VM | CLONE_VFORK, vfork_fn) < 0)
			_exit(EXIT_SETUP);
		nr_children = 1;
		root_verify();
		cr_exit(EXIT_RESTARTED);
	case C_CHAIN:
		p[n++] = make_child(CLONE_FILES, child_fn);
		dpath("chain", path, sizeof(path));
		if (read_file(path, buf, sizeof(buf)) <= 0)
			_exit(EXIT_SETUP);
		break;
	case C_BAD:
		p[n++] = make_threaded();
		p[n++] = make_zombie();
		p[n++] = make_child(CLONE_FILES, child_fn);
		p[n++] = make_child(CLONE_VM | CLONE_SIGHAND, child_fn);
		break;
	}
	for (i = 0; i < n; i++) {
		if (p[i] <= 0)
			_exit(EXIT_SETUP);
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %d",
			 p[i]);
	}
	dpath("ready", path, sizeof(path));
	if (write_file(path, buf, strlen(buf)))
		_exit(EXIT_SETUP);
	stop_self();
	cr_phase = "root going on";
	root_verify();
	cr_exit(EXIT_RESTARTED);
}

/* The test's side */

struct tree {
	pid_t root;
	pid_t kids[MAXC];
	int n;
};

/* Fork the tree of @c and wait until it is stopped */
static void tree_start(struct __test_metadata *_metadata, struct cr_dir *d,
		       enum tcase c, struct tree *t)
{
	char path[96], buf[128], *s;

	memset(t, 0, sizeof(*t));
	g_case = c;
	snprintf(g_dir, sizeof(g_dir), "%s", d->dir);
	dpath("ready", path, sizeof(path));
	unlink(path);
	fflush(stdout);
	fflush(stderr);
	t->root = fork();
	ASSERT_LE(0, t->root);
	if (t->root == 0)
		root_main();
	kid_add(t->root);
	wait_ready_file(_metadata, path, t->root);
	ASSERT_LT(0, read_file(path, buf, sizeof(buf)));
	for (s = buf; t->n < MAXC && *s; t->n++)
		t->kids[t->n] = strtol(s, &s, 10);
	if (c == C_VFORK) {
		wait_state(_metadata, t->kids[0], 'T');
		/* In vfork(), not stopped: the freezer would count it frozen */
		ASSERT_EQ(SYS_clone, proc_syscall(t->root));
		return;
	}
	wait_state(_metadata, t->root, 'T');
}

/* Kill the tree and reap it: the test is the subreaper of its orphans */
static void tree_kill(struct tree *t)
{
	kill(t->root, SIGKILL);
	kill_reap(t->kids, t->n);
	kid_del(t->root);
}

/* Checkpoint the tree of @pid: 0, or the errno with the kernel's reason */
static int tree_checkpoint(struct __test_metadata *_metadata,
			   struct cr_dir *d, pid_t pid, char *msg, size_t len)
{
	char path[96];
	int log, e = 0;

	cr_path(d, "log", path, sizeof(path));
	log = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, log);
	ASSERT_EQ(0, ftruncate(d->imgfd, 0));
	ASSERT_EQ(0, lseek(d->imgfd, 0, SEEK_SET));
	if (sys_checkpoint(pid, d->imgfd,
			   CR_CHECKPOINT_TREE | CR_LOGFD(log)) < 0)
		e = errno;
	cr_read_log(log, msg, len);
	close(log);
	return e;
}

/*
 * Restart @img with new pids: it fails with @err and leaves no task, or
 * with @err 0 the restarted root exits with EXIT_RESTARTED
 */
static void restart_new_pids(struct __test_metadata *_metadata,
			     const char *img, int err, const char *what)
{
	const struct tree_restart r = {
		.flags = CR_RESTART_TREE | CR_RESTART_NEW_PIDS,
		.err = err,
		.what = what,
	};

	tree_restart(_metadata, img, &r, err ? 0 : EXIT_RESTARTED, what);
}

/* Checkpoint the tree of @c, kill it, restart it: all checks pass */
static void share_ok(struct __test_metadata *_metadata, struct cr_dir *d,
		     enum tcase c)
{
	char msg[512];
	struct tree t;
	int e;

	tree_start(_metadata, d, c, &t);
	e = tree_checkpoint(_metadata, d, t.root, msg, sizeof(msg));
	tree_kill(&t);
	ASSERT_EQ(0, e) TH_LOG("checkpoint: %s: %s", strerror(e), msg);
	restart_new_pids(_metadata, d->img, 0, "restarted tree");
}

/*
 * The checkpoint of the tree of @c (of its task @who: -1 the root, else
 * a child) is refused with EBUSY and a message with @why; the tree goes on
 */
static void share_refused(struct __test_metadata *_metadata, struct cr_dir *d,
			  enum tcase c, int who, const char *why)
{
	char msg[512];
	struct tree t;
	int e, i;

	tree_start(_metadata, d, c, &t);
	e = tree_checkpoint(_metadata, d, who < 0 ? t.root : t.kids[who],
			    msg, sizeof(msg));
	for (i = 0; i < t.n; i++)
		kill(t.kids[i], SIGCONT);
	kill(t.root, SIGCONT);
	expect_exit(_metadata, t.root, EXIT_RESTARTED, "continued tree");
	EXPECT_EQ(EBUSY, e) TH_LOG("checkpoint: %s", strerror(e));
	EXPECT_NE(NULL, strstr(msg, why)) TH_LOG("reason: %s", msg);
}

FIXTURE(share) {
	struct cr_dir d;
};

FIXTURE_SETUP(share)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
}

FIXTURE_TEARDOWN_PARENT(share)
{
	cr_dir_teardown(_metadata, &self->d);
}

/* A descriptor table: fds opened by either, a shared offset */
TEST_F_TIMEOUT(share, clone_files, TEST_TIMEOUT)
{
	share_ok(_metadata, &self->d, C_FILES);
}

/* An fs_struct: a chdir() and a umask() of the child seen by the parent */
TEST_F_TIMEOUT(share, clone_fs, TEST_TIMEOUT)
{
	share_ok(_metadata, &self->d, C_FS);
}

/* Memory both write, a handler the child installs the parent runs */
TEST_F_TIMEOUT(share, clone_vm_sighand, TEST_TIMEOUT)
{
	share_ok(_metadata, &self->d, C_VM_SIGHAND);
}

/* Memory shared, the handlers each process's own */
TEST_F_TIMEOUT(share, clone_vm, TEST_TIMEOUT)
{
	share_ok(_metadata, &self->d, C_VM);
}

/* A grandchild shares the table its parent shares with the root */
TEST_F_TIMEOUT(share, clone_files_chain, TEST_TIMEOUT)
{
	share_ok(_metadata, &self->d, C_CHAIN);
}

/* Siblings share a table their parent no longer has */
TEST_F_TIMEOUT(share, refuse_siblings, TEST_TIMEOUT)
{
	share_refused(_metadata, &self->d, C_SIBLINGS, -1,
		      "which is not its parent");
}

/* A child sharing with its parent, which is outside the tree */
TEST_F_TIMEOUT(share, refuse_outside, TEST_TIMEOUT)
{
	share_refused(_metadata, &self->d, C_FS, 0,
		      "shares its fs_struct with a task outside the tree");
}

/* A vfork(2) child whose parent waits for it */
TEST_F_TIMEOUT(share, refuse_vfork, TEST_TIMEOUT)
{
	share_refused(_metadata, &self->d, C_VFORK, -1, "vfork");
}

/* Bad share records */

enum edit {
	E_RESERVED, E_NR_ZERO, E_NR_BIG, E_FLAGS_ZERO, E_FLAGS_UNKNOWN,
	E_SIGHAND_NO_VM, E_ROOT, E_NOT_IN_TREE, E_THREAD, E_TWICE,
	E_ZOMBIE, E_NO_TREE_FLAG, E_VM_WITH_MM, E_NO_VM_WITHOUT_MM, E_NR,
};

static const char *const edit_names[E_NR] = {
	"reserved field", "no share record", "too many share records",
	"no share flag", "unknown share flag", "signal handlers without memory",
	"the root shares", "a pid not in the tree", "a thread shares",
	"a process twice", "a zombie shares", "records without CR_TREE_SHARE",
	"CR_SHARE_VM with its memory", "no CR_SHARE_VM without memory",
};

/* The pid of a thread record of the image */
static __s32 thread_pid(struct __test_metadata *_metadata, unsigned char *buf,
			size_t len)
{
	struct cr_hdr_proc *p;
	int i;

	for (i = 0; cr_find_rec(buf, len, CR_HDR_PROC, i) >= 0; i++) {
		p = img_rec(_metadata, buf, len, CR_HDR_PROC, i);
		if (p->pid != p->tgid)
			return p->pid;
	}
	ASSERT_TRUE(false) TH_LOG("no thread in the image");
	return 0;
}

/* kids: the threaded child, the zombie, CLONE_FILES, CLONE_VM | SIGHAND */
static void edit_image(struct __test_metadata *_metadata, unsigned char *buf,
		       size_t len, enum edit e, const struct tree *t)
{
	struct cr_hdr_tree *tr = img_rec(_metadata, buf, len, CR_HDR_TREE, 0);
	struct cr_hdr_shares *ss = img_rec(_metadata, buf, len, CR_HDR_SHARES, 0);
	struct cr_hdr_share *s0 = img_rec(_metadata, buf, len, CR_HDR_SHARE, 0);
	struct cr_hdr_share *s1 = img_rec(_metadata, buf, len, CR_HDR_SHARE, 1);

	ASSERT_EQ(2, ss->nr);
	ASSERT_EQ(t->kids[2], s0->pid);
	ASSERT_EQ(CR_SHARE_FILES, s0->flags);
	ASSERT_EQ(t->kids[3], s1->pid);
	ASSERT_EQ(CR_SHARE_VM | CR_SHARE_SIGHAND, s1->flags);
	switch (e) {
	case E_RESERVED:
		ss->reserved = 1;
		break;
	case E_NR_ZERO:
		ss->nr = 0;
		break;
	case E_NR_BIG:
		ss->nr = CR_TREE_MAX_TASKS + 1;
		break;
	case E_FLAGS_ZERO:
		s0->flags = 0;
		break;
	case E_FLAGS_UNKNOWN:
		s0->flags |= 1U << 7;
		break;
	case E_SIGHAND_NO_VM:
		s1->flags = CR_SHARE_SIGHAND;
		break;
	case E_ROOT:
		s0->pid = t->root;
		break;
	case E_NOT_IN_TREE:
		s0->pid = 0x7ffffff0;
		break;
	case E_THREAD:
		s0->pid = thread_pid(_metadata, buf, len);
		break;
	case E_TWICE:
		s1->pid = s0->pid;
		break;
	case E_ZOMBIE:
		s0->pid = t->kids[1];
		break;
	case E_NO_TREE_FLAG:
		tr->flags &= ~CR_TREE_SHARE;
		break;
	case E_VM_WITH_MM:
		s0->flags |= CR_SHARE_VM;
		break;
	case E_NO_VM_WITHOUT_MM:
		s1->flags = CR_SHARE_FS;
		break;
	default:
		break;
	}
}

/*
 * Each edit: EINVAL, and no task left, whether found before the tasks
 * are created or by them
 */
TEST_F_TIMEOUT(share, bad_records, 600)
{
	unsigned char *orig, *buf;
	char img[128], msg[512];
	struct tree t;
	size_t len;
	int e;

	tree_start(_metadata, &self->d, C_BAD, &t);
	e = tree_checkpoint(_metadata, &self->d, t.root, msg, sizeof(msg));
	tree_kill(&t);
	ASSERT_EQ(0, e) TH_LOG("checkpoint: %s: %s", strerror(e), msg);
	/* The image as it is restarts, and what it shares works */
	restart_new_pids(_metadata, self->d.img, 0, "restarted tree");

	orig = img_load(_metadata, self->d.img, &len, 0);
	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	cr_path(&self->d, "bad", img, sizeof(img));
	for (e = 0; e < E_NR; e++) {
		memcpy(buf, orig, len);
		edit_image(_metadata, buf, len, e, &t);
		cr_reseal(buf, len);
		ASSERT_EQ(0, write_file(img, buf, len));
		restart_new_pids(_metadata, img, EINVAL, edit_names[e]);
	}
	free(buf);
	free(orig);
}

TEST_HARNESS_MAIN
