// SPDX-License-Identifier: GPL-2.0
/*
 * FIFOs (named pipes) in a checkpoint of a process tree, checked from
 * inside the restarted tasks:
 *
 *  - stream: a writer and a reader of a FIFO of 128 KiB (F_SETPIPE_SZ),
 *    full at the checkpoint; the stream goes on to its end after restart,
 *    each byte and the checksum checked by the reader;
 *  - rdwr_nonblock: a parent holding the FIFO O_RDWR, its child sharing
 *    that open file and reading its own end O_NONBLOCK: the bytes left,
 *    then EAGAIN, and one file (with its flags) for both processes;
 *  - reader_only: a reader whose writer (outside the tree) wrote and went:
 *    the bytes left, then end of file, as in the original run;
 *  - refused: a FIFO open outside the tree, an open file of it shared with
 *    a process outside (EBUSY); a FIFO unlinked, locked, O_PATH, with
 *    O_APPEND, in a checkpoint of one task (EOPNOTSUPP): the tree goes on
 *    unharmed;
 *  - restart: the FIFO removed (ENOENT), replaced by a regular file
 *    (ESTALE), open by a stranger (EBUSY), not open to the caller
 *    (EACCES), restarted twice at once (EBUSY), and every check of the
 *    image (EINVAL, ESTALE): no task is left after a failure.
 *
 * Each tree is forked by a root, a child of the test (a subreaper); each
 * task writes its pid to r<idx> in the test directory when ready.
 */

#include "tree_harness.h"

#include <sys/file.h>
#include <sys/ioctl.h>

#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif

#define MAXT		4
static char g_dir[64];		/* the test directory */
static char g_fa[96];		/* the FIFO */
static char g_fb[96];		/* another, with a path as long */

/* Task side */

static void name_task(const char *name)
{
	cr_phase = name;
	prctl(PR_SET_NAME, name);
}

/* Reap one child, which must exit with EXIT_RESTARTED */
static void reap_one(const char *what)
{
	int status;
	pid_t r;

	do {
		r = waitpid(-1, &status, __WALL);
	} while (r < 0 && errno == EINTR);
	if (!CHECKF(r > 0, "waitpid for %s: %s", what, strerror(errno)))
		return;
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_RESTARTED,
	       "%s (pid %d) ended with wait status %#x", what, r, status);
}

static int in_pipe(int fd)
{
	int n = -1;

	if (ioctl(fd, FIONREAD, &n))
		return -1;
	return n;
}

/* Read exactly @len bytes of pattern @seed at @off from @fd, and check */
static bool read_pat(int fd, size_t len, uint64_t seed, size_t off)
{
	static unsigned char buf[1 << 17];
	size_t n = 0;
	ssize_t r;

	if (!CHECKF(len <= sizeof(buf), "%zu bytes", len))
		return false;
	while (n < len) {
		r = read(fd, buf + n, len - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (!CHECKF(r > 0, "read %zu of %zu bytes: %s", n, len,
			    r ? strerror(errno) : "end of file"))
			return false;
		n += r;
	}
	CHECK_PAT(buf, len, seed, off);
	return true;
}

static bool write_pat(int fd, size_t len, uint64_t seed, size_t off)
{
	static unsigned char buf[1 << 17];

	if (len > sizeof(buf))
		return false;
	pat_fill(buf, len, seed, off);
	return write(fd, buf, len) == (ssize_t)len;
}

static void check_flags(int fd, int want, const char *what)
{
	int fl = fcntl(fd, F_GETFL);

	CHECKF(fl >= 0 && (fl & (O_ACCMODE | O_NONBLOCK | O_APPEND)) == want,
	       "%s: flags %#x, not %#x", what, fl, want);
}

/*
 * A stream: byte @pos is byte @pos of the pattern SEED_STREAM.  A writer
 * writes it in CHUNK writes, a reader reads it in CHUNK reads (each takes
 * a whole pipe buffer: a full pipe holds its whole size) and checksums it.
 */
#define SEED_STREAM	0xf1f0
#define CHUNK		4096
#define ST_SIZE		(128 * 1024)
#define ST_TOTAL	(1024 * 1024)
#define ST_BEFORE	(8 * CHUNK)

static void write_stream(int fd, unsigned long from, unsigned long to)
{
	unsigned char buf[CHUNK];
	unsigned long pos;
	ssize_t r;

	for (pos = from; pos < to; pos += r) {
		pat_fill(buf, CHUNK, SEED_STREAM, pos);
		r = write(fd, buf, CHUNK);
		if (r < 0 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (!CHECKF(r == CHUNK, "write at %lu: %zd, %s", pos, r,
			    strerror(errno)))
			return;
	}
}

/* Read and check bytes @from to @to, with their checksum in *@csum */
static bool read_stream(int fd, unsigned long from, unsigned long to,
			uint64_t *csum)
{
	unsigned char buf[CHUNK];
	unsigned long pos;
	ssize_t r;

	for (pos = from; pos < to; pos += r) {
		r = read(fd, buf, CHUNK);
		if (r < 0 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (!CHECKF(r > 0, "read at %lu: %zd, %s", pos, r,
			    r ? strerror(errno) : "end of file"))
			return false;
		if (pat_check(buf, r, SEED_STREAM, pos) >= 0) {
			CHECKF(false, "bytes %lu to %lu differ from the stream",
			       pos, pos + r);
			return false;
		}
		*csum = csum_add(*csum, buf, r);
	}
	return true;
}

static uint64_t stream_csum(unsigned long total)
{
	unsigned char buf[CHUNK];
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned long pos;

	for (pos = 0; pos < total; pos += CHUNK) {
		pat_fill(buf, CHUNK, SEED_STREAM, pos);
		h = csum_add(h, buf, CHUNK);
	}
	return h;
}

static void __noreturn st_writer(void)
{
	int fd;

	name_task("fi_writer");
	fd = open(g_fa, O_WRONLY);
	if (fd < 0 || fcntl(fd, F_SETPIPE_SZ, ST_SIZE) != ST_SIZE)
		setup_fail("writer");
	tree_ready(g_dir, 'r', 1);
	write_stream(fd, 0, ST_TOTAL);
	CHECKF(fcntl(fd, F_GETPIPE_SZ) == ST_SIZE, "pipe size %d",
	       fcntl(fd, F_GETPIPE_SZ));
	check_flags(fd, O_WRONLY, "writer");
	close(fd);
	cr_exit(EXIT_RESTARTED);
}

static void __noreturn st_reader(void)
{
	uint64_t csum = 0xcbf29ce484222325ULL;
	char c;
	int fd;

	name_task("fi_reader");
	fd = open(g_fa, O_RDONLY);
	if (fd < 0 || !read_stream(fd, 0, ST_BEFORE, &csum))
		setup_fail("reader");
	tree_ready(g_dir, 'r', 2);
	raise(SIGSTOP);

	/* The writer filled the pipe: all of it is there */
	CHECKF(in_pipe(fd) == ST_SIZE, "%d bytes in the FIFO, not %d",
	       in_pipe(fd), ST_SIZE);
	CHECKF(fcntl(fd, F_GETPIPE_SZ) == ST_SIZE, "pipe size %d",
	       fcntl(fd, F_GETPIPE_SZ));
	check_flags(fd, O_RDONLY, "reader");
	read_stream(fd, ST_BEFORE, ST_TOTAL, &csum);
	CHECKF(csum == stream_csum(ST_TOTAL), "checksum %#llx, not %#llx",
	       (unsigned long long)csum,
	       (unsigned long long)stream_csum(ST_TOTAL));
	CHECKF(read(fd, &c, 1) == 0, "no end of file after the stream");
	cr_exit(EXIT_RESTARTED);
}

static void __noreturn st_root(void)
{
	name_task("fi_root");
	if (!tree_fork())
		st_writer();
	if (!tree_fork())
		st_reader();
	tree_ready(g_dir, 'r', 0);
	reap_one("writer");
	reap_one("reader");
	cr_exit(EXIT_RESTARTED);
}

/*
 * The root holds the FIFO O_RDWR, with NB_BYTES in it; its child shares
 * that file and opens its own end O_RDONLY | O_NONBLOCK, from which it
 * reads NB_READ bytes before the checkpoint.
 */
#define SEED_NB		0xb10c
#define NB_BYTES	10000
#define NB_READ		3000

static void __noreturn nb_child(int h)
{
	char c;
	int r;

	name_task("fi_child");
	r = open(g_fa, O_RDONLY | O_NONBLOCK);
	if (r < 0 || !read_pat(r, NB_READ, SEED_NB, 0))
		setup_fail("child");
	tree_ready(g_dir, 'r', 1);
	raise(SIGSTOP);

	check_flags(r, O_RDONLY | O_NONBLOCK, "own end");
	check_flags(h, O_RDWR, "shared end");
	CHECKF(in_pipe(r) == NB_BYTES - NB_READ, "%d bytes in the FIFO",
	       in_pipe(r));
	read_pat(r, NB_BYTES - NB_READ, SEED_NB, NB_READ);
	errno = 0;
	CHECKF(read(r, &c, 1) < 0 && errno == EAGAIN,
	       "read from a drained FIFO with a writer: %s, not EAGAIN",
	       strerror(errno));
	/* The root sees this flag and these bytes: one file, one FIFO */
	CHECK(fcntl(h, F_SETFL, O_NONBLOCK) == 0);
	CHECK(write_pat(h, 100, SEED_NB, 1 << 20));
	cr_exit(EXIT_RESTARTED);
}

static void __noreturn nb_root(void)
{
	char c;
	int h;

	name_task("fi_root");
	h = open(g_fa, O_RDWR);
	if (h < 0 || !write_pat(h, NB_BYTES, SEED_NB, 0))
		setup_fail("holder");
	if (!tree_fork())
		nb_child(h);
	tree_ready(g_dir, 'r', 0);
	reap_one("child");
	check_flags(h, O_RDWR | O_NONBLOCK, "root's end");
	read_pat(h, 100, SEED_NB, 1 << 20);
	errno = 0;
	CHECKF(read(h, &c, 1) < 0 && errno == EAGAIN,
	       "read from a drained FIFO open O_RDWR: %s, not EAGAIN",
	       strerror(errno));
	cr_exit(EXIT_RESTARTED);
}

/*
 * A reader alone: the writer, the test, wrote RO_BYTES and closed.  The
 * same checks run in the original tree and in the restarted one.
 */
#define SEED_RO		0x4ead
#define RO_BYTES	6000
#define RO_READ		1000

static void __noreturn ro_reader(void)
{
	char c;
	int fd;

	name_task("fi_reader");
	fd = open(g_fa, O_RDONLY);
	if (fd < 0 || !read_pat(fd, RO_READ, SEED_RO, 0))
		setup_fail("reader");
	tree_ready(g_dir, 'r', 1);
	raise(SIGSTOP);

	CHECKF(in_pipe(fd) == RO_BYTES - RO_READ, "%d bytes in the FIFO",
	       in_pipe(fd));
	read_pat(fd, RO_BYTES - RO_READ, SEED_RO, RO_READ);
	CHECKF(read(fd, &c, 1) == 0, "no end of file without a writer");
	CHECKF(read(fd, &c, 1) == 0, "no end of file the second time");
	check_flags(fd, O_RDONLY, "reader");
	cr_exit(EXIT_RESTARTED);
}

static void __noreturn ro_root(void)
{
	name_task("fi_root");
	if (!tree_fork())
		ro_reader();
	tree_ready(g_dir, 'r', 0);
	reap_one("reader");
	cr_exit(EXIT_RESTARTED);
}

/*
 * What checkpoint refuses: the root sets it up, stops, and once continued
 * checks the FIFO still holds what it wrote.
 */
enum refuse {
	RF_STRANGER,	/* the test has the FIFO open too */
	RF_UNLINKED,	/* the FIFO is unlinked */
	RF_OPATH,	/* an O_PATH descriptor of the FIFO */
	RF_APPEND,	/* O_APPEND set */
	RF_SHARED,	/* the test has the root's open file of the FIFO */
	RF_LOCK,	/* the FIFO is locked with flock(2) */
};

static enum refuse g_refuse;

#define SEED_RF		0x5eed
#define RF_BYTES	100

static void __noreturn rf_root(void)
{
	int h, p;

	name_task("fi_root");
	h = open(g_fa, O_RDWR);
	if (h < 0 || !write_pat(h, RF_BYTES, SEED_RF, 0))
		setup_fail("holder");
	if (g_refuse == RF_UNLINKED && unlink(g_fa))
		setup_fail("unlink");
	p = g_refuse == RF_OPATH ? open(g_fa, O_PATH) : 0;
	if (p < 0 || (g_refuse == RF_APPEND &&
		      fcntl(h, F_SETFL, O_APPEND | O_NONBLOCK)) ||
	    (g_refuse == RF_LOCK && flock(h, LOCK_EX)))
		setup_fail("O_PATH, O_APPEND or flock");
	tree_ready(g_dir, 'r', 0);
	raise(SIGSTOP);
	read_pat(h, RF_BYTES, SEED_RF, 0);
	cr_exit(EXIT_RESTARTED);
}

/*
 * The tree restart images are made of: the root holds the write end of
 * a pipe with PP_BYTES and the FIFO O_RDWR with RS_BYTES; its child, the
 * read end of the pipe and the FIFO O_RDONLY.  Restarted, the child reads
 * both.  @g_uid: the tree runs as this user (0: root).
 */
#define SEED_RS		0x7e57
#define RS_BYTES	2000
#define PP_BYTES	10

static uid_t g_uid;
static bool g_wait;		/* restarted, the child waits for the file go */

static void __noreturn rs_child(int pr)
{
	int r;

	name_task("fi_child");
	r = open(g_fa, O_RDONLY);
	if (r < 0)
		setup_fail("child");
	tree_ready(g_dir, 'r', 1);
	raise(SIGSTOP);
	if (g_wait) {
		char go[96];

		snprintf(go, sizeof(go), "%s/go", g_dir);
		while (access(go, F_OK))
			usleep(10000);
	}
	read_pat(r, RS_BYTES, SEED_RS, 0);
	read_pat(pr, PP_BYTES, SEED_RS, 1 << 20);
	check_flags(r, O_RDONLY, "FIFO");
	cr_exit(EXIT_RESTARTED);
}

static void __noreturn rs_root(void)
{
	int p[2], h;

	name_task("fi_root");
	if (g_uid && (setgroups(0, NULL) || setresgid(g_uid, g_uid, g_uid) ||
		      setresuid(g_uid, g_uid, g_uid)))
		setup_fail("user");
	if (pipe(p) || !write_pat(p[1], PP_BYTES, SEED_RS, 1 << 20))
		setup_fail("pipe");
	h = open(g_fa, O_RDWR);
	if (h < 0 || !write_pat(h, RS_BYTES, SEED_RS, 0))
		setup_fail("holder");
	if (!tree_fork()) {
		close(p[1]);
		close(h);
		rs_child(p[0]);
	}
	close(p[0]);
	tree_ready(g_dir, 'r', 0);
	reap_one("child");
	cr_exit(EXIT_RESTARTED);
}

/* Test side */

struct tree {
	pid_t pids[MAXT];
	int n;
};

FIXTURE(tree_fifo) {
	struct cr_dir d;
};

FIXTURE_SETUP(tree_fifo)
{
	REQUIRE_CHECKPOINT();
	if (geteuid())
		SKIP(return, "needs root, to restart as another user");
	cr_dir_setup(_metadata, &self->d);
	snprintf(g_dir, sizeof(g_dir), "%s", self->d.dir);
	snprintf(g_fa, sizeof(g_fa), "%s/fa", g_dir);
	snprintf(g_fb, sizeof(g_fb), "%s/fb", g_dir);
	ASSERT_EQ(0, mkfifo(g_fa, 0666));
	ASSERT_EQ(0, mkfifo(g_fb, 0666));
	ASSERT_EQ(0, chmod(g_fa, 0666));
	ASSERT_EQ(0, chmod(g_fb, 0666));
	/* Orphans of killed trees come back to be reaped */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
}

FIXTURE_TEARDOWN_PARENT(tree_fifo)
{
	cr_dir_teardown(_metadata, &self->d);
}

/* Wait until task @i is ready */
static void wait_ready(struct __test_metadata *_metadata, struct tree *t,
		       int i)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/r%d", g_dir, i);
	t->pids[i] = wait_ready_file(_metadata, path, t->pids[0]);
	if (i >= t->n)
		t->n = i + 1;
}

/* Fork the root running @fn; wait until tasks 0 to @n - 1 are ready */
static void tree_start(struct __test_metadata *_metadata, struct tree *t,
		       int n, void (*fn)(void))
{
	char path[96];
	pid_t pid;
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < MAXT; i++) {
		snprintf(path, sizeof(path), "%s/r%d", g_dir, i);
		unlink(path);
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		cr_prepare(-1);
		fn();
		_exit(EXIT_SETUP);
	}
	kid_add(pid);
	t->pids[0] = pid;
	for (i = 0; i < n; i++)
		wait_ready(_metadata, t, i);
	ASSERT_EQ(pid, t->pids[0]);
}

static void stop_in(struct __test_metadata *_metadata, pid_t pid, int nr)
{
	expect_in_syscall(_metadata, pid, nr, "task of the tree");
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	wait_state(_metadata, pid, 'T');
}

/* Checkpoint the tree; the result, with errno and the log in @why */
static long tree_checkpoint_log(struct __test_metadata *_metadata,
				struct cr_dir *d, struct tree *t, char *why,
				size_t len)
{
	int log[2], err;
	long crid;

	ASSERT_EQ(0, ftruncate(d->imgfd, 0));
	ASSERT_EQ(0, lseek(d->imgfd, 0, SEEK_SET));
	ASSERT_EQ(0, pipe2(log, O_CLOEXEC | O_NONBLOCK));
	crid = sys_checkpoint(t->pids[0], d->imgfd,
			      CR_CHECKPOINT_TREE | CR_LOGFD(log[1]));
	err = errno;
	cr_read_log(log[0], why, len);
	close(log[0]);
	close(log[1]);
	errno = err;
	return crid;
}

static void tree_kill(struct __test_metadata *_metadata, struct tree *t)
{
	kill_reap(t->pids, t->n);
	kid_del(t->pids[0]);
}

struct img_restarter {
	unsigned long flags;	/* of restart(2) */
	uid_t uid;		/* the user it runs as, if not 0 */
};

/* A subreaper running as @arg's user restarts from @fd, and reports */
static void img_restarter_fn(void *arg, int fd, int out)
{
	const struct img_restarter *a = arg;
	uid_t uid = a->uid;

	name_task("cr_restarter");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) ||
	    (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
		     setresuid(uid, uid, uid))))
		report_setup(out);
	restart_report(fd, a->flags, 0, out);
}

/*
 * Restart @img (a tree if @tree) in a child running as @uid (0: root),
 * which tells what happened
 */
static void restart_img(struct __test_metadata *_metadata, const char *img,
			bool tree, uid_t uid, struct tree_result *res)
{
	struct img_restarter a = {
		.flags = tree ? CR_RESTART_TREE | CR_RESTART_NEW_PIDS : 0,
		.uid = uid,
	};

	run_reporter(_metadata, open(img, O_RDONLY | O_CLOEXEC),
		     img_restarter_fn, &a, res);
}

static void restart_ok(struct __test_metadata *_metadata, struct cr_dir *d,
		       uid_t uid)
{
	struct tree_result r;

	restart_img(_metadata, d->img, true, uid, &r);
	ASSERT_LT(0, r.ret) TH_LOG("restart: %s: %s", strerror(r.err), r.why);
	ASSERT_TRUE(r.status != -1 && WIFEXITED(r.status) &&
		    WEXITSTATUS(r.status) == EXIT_RESTARTED)
		TH_LOG("restarted root: wait status %#x", r.status);
}

static void restart_fails(struct __test_metadata *_metadata, const char *img,
			  bool tree, uid_t uid, int err, const char *why)
{
	struct tree_result r;

	restart_img(_metadata, img, tree, uid, &r);
	ASSERT_EQ(-1, r.ret) TH_LOG("restart returned %ld", r.ret);
	ASSERT_EQ(err, r.err) TH_LOG("restart: %s, not %s: %s",
				     strerror(r.err), strerror(err), r.why);
	ASSERT_NE(NULL, strstr(r.why, why))
		TH_LOG("log \"%s\" without \"%s\"", r.why, why);
	ASSERT_EQ(0, r.left) TH_LOG("task %d left after the failure", r.left);
}

static void img_save(struct __test_metadata *_metadata, const char *path,
		     unsigned char *buf, size_t len)
{
	cr_reseal(buf, len);
	ASSERT_EQ(0, write_file(path, buf, len));
}

/* Which file record: the @nth of kind @kind with access mode @acc */
static long find_file(const unsigned char *buf, size_t len, __u32 kind,
		      int acc, int nth)
{
	struct cr_hdr_file f;
	long off;
	int i;

	for (i = 0; (off = cr_find_rec(buf, len, CR_HDR_FILE, i)) >= 0; i++) {
		memcpy(&f, buf + off, sizeof(f));
		if (f.kind == kind && (acc < 0 || (int)(f.flags & O_ACCMODE) == acc) &&
		    nth-- == 0)
			return off;
	}
	return -1;
}

/* The first record of @type after the record at @from, or -1 */
static long rec_after(const unsigned char *buf, size_t len, long from,
		      __u32 type)
{
	struct cr_hdr h;

	if (from < 0)
		return -1;
	memcpy(&h, buf + from, sizeof(h));
	return rec_find(buf, len, from + CR_ALIGN8(h.len), type, 0, NULL, 0);
}

/* 1. Writer and reader, 128 KiB in flight */
TEST_F_TIMEOUT(tree_fifo, stream, TEST_TIMEOUT)
{
	struct cr_hdr_pipe ph;
	unsigned char *buf;
	struct tree t;
	size_t len;
	long at;

	tree_start(_metadata, &t, 3, st_root);
	/* The reader stopped, the writer fills the FIFO and waits */
	wait_state(_metadata, t.pids[2], 'T');
	stop_in(_metadata, t.pids[1], __NR_write);
	stop_in(_metadata, t.pids[0], __NR_wait4);
	tree_checkpoint_to(_metadata, t.pids[0], self->d.imgfd);
	tree_kill(_metadata, &t);

	/* One pipe, with all its bytes, after the path of its first end */
	buf = img_load(_metadata, self->d.img, &len, 0);
	at = find_file(buf, len, CR_FILE_FIFO, O_WRONLY, 0);
	ASSERT_LE(0, at);
	ASSERT_LE(0, find_file(buf, len, CR_FILE_FIFO, O_RDONLY, 0));
	ASSERT_EQ(-1, find_file(buf, len, CR_FILE_FIFO, -1, 2));
	at = rec_after(buf, len, rec_after(buf, len, at, CR_HDR_FILE_PATH),
		       CR_HDR_PIPE);
	ASSERT_LE(0, at);
	memcpy(&ph, buf + at, sizeof(ph));
	ASSERT_EQ(ST_SIZE, ph.size);
	ASSERT_EQ(ST_SIZE, ph.nr_bytes);
	free(buf);

	restart_ok(_metadata, &self->d, 0);
}

/* 2. An O_RDWR holder shared by two processes, an O_NONBLOCK reader */
TEST_F_TIMEOUT(tree_fifo, rdwr_nonblock, TEST_TIMEOUT)
{
	unsigned char *buf;
	struct tree t;
	size_t len;

	tree_start(_metadata, &t, 2, nb_root);
	wait_state(_metadata, t.pids[1], 'T');
	stop_in(_metadata, t.pids[0], __NR_wait4);
	tree_checkpoint_to(_metadata, t.pids[0], self->d.imgfd);
	tree_kill(_metadata, &t);

	buf = img_load(_metadata, self->d.img, &len, 0);
	ASSERT_LE(0, find_file(buf, len, CR_FILE_FIFO, O_RDWR, 0));
	ASSERT_LE(0, find_file(buf, len, CR_FILE_FIFO, O_RDONLY, 0));
	ASSERT_LE(0, find_file(buf, len, CR_FILE_OBJ, -1, 0));
	free(buf);

	restart_ok(_metadata, &self->d, 0);
}

/* 3. A reader without a writer: the original and the restarted alike */
TEST_F_TIMEOUT(tree_fifo, reader_only, TEST_TIMEOUT)
{
	unsigned char data[RO_BYTES];
	struct tree t;
	int fd;

	tree_start(_metadata, &t, 1, ro_root);
	fd = open(g_fa, O_WRONLY);
	ASSERT_LE(0, fd);
	pat_fill(data, RO_BYTES, SEED_RO, 0);
	ASSERT_EQ(RO_BYTES, write(fd, data, RO_BYTES));
	ASSERT_EQ(0, close(fd));
	wait_ready(_metadata, &t, 1);
	wait_state(_metadata, t.pids[1], 'T');
	stop_in(_metadata, t.pids[0], __NR_wait4);
	tree_checkpoint_to(_metadata, t.pids[0], self->d.imgfd);

	/* The original goes on, and checks the same */
	ASSERT_EQ(0, kill(t.pids[1], SIGCONT));
	ASSERT_EQ(0, kill(t.pids[0], SIGCONT));
	expect_exit(_metadata, t.pids[0], EXIT_RESTARTED, "original root");

	restart_ok(_metadata, &self->d, 0);
}

/* 4. What checkpoint refuses; the tree goes on */
static void refuse_case(struct __test_metadata *_metadata, struct cr_dir *d,
			enum refuse how, int err, const char *why)
{
	char log[512], fdname[64];
	struct tree t;
	int s = -1;

	g_refuse = how;
	tree_start(_metadata, &t, 1, rf_root);
	wait_state(_metadata, t.pids[0], 'T');
	if (how == RF_STRANGER) {
		s = open(g_fa, O_RDONLY | O_NONBLOCK);
		ASSERT_LE(0, s);
	}
	if (how == RF_SHARED) {
		int pidfd = syscall(__NR_pidfd_open, t.pids[0], 0);

		ASSERT_LE(0, pidfd);
		s = syscall(__NR_pidfd_getfd, pidfd, 3, 0);
		ASSERT_LE(0, s) TH_LOG("pidfd_getfd: %s", strerror(errno));
		close(pidfd);
	}
	ASSERT_EQ(-1, tree_checkpoint_log(_metadata, d, &t, log, sizeof(log)));
	ASSERT_EQ(err, errno) TH_LOG("checkpoint: %s: %s", strerror(errno),
				     log);
	ASSERT_NE(NULL, strstr(log, why)) TH_LOG("log: %s", log);
	snprintf(fdname, sizeof(fdname), "task %d: fd %d", t.pids[0],
		 how == RF_OPATH ? 4 : 3);
	ASSERT_NE(NULL, strstr(log, fdname)) TH_LOG("log: %s", log);
	if (how != RF_UNLINKED)
		ASSERT_NE(NULL, strstr(log, "fa")) TH_LOG("log: %s", log);
	if (s >= 0) {
		ASSERT_EQ(RF_BYTES, in_pipe(s));
		close(s);
	}
	ASSERT_EQ(0, kill(t.pids[0], SIGCONT));
	expect_exit(_metadata, t.pids[0], EXIT_RESTARTED,
		    "tree of a refused checkpoint");
}

TEST_F_TIMEOUT(tree_fifo, refused_stranger, TEST_TIMEOUT)
{
	refuse_case(_metadata, &self->d, RF_STRANGER, EBUSY,
		    "FIFO open by a process outside the tree");
}

TEST_F_TIMEOUT(tree_fifo, refused_shared, TEST_TIMEOUT)
{
	refuse_case(_metadata, &self->d, RF_SHARED, EBUSY,
		    "FIFO end shared with a process outside the tree");
}

TEST_F_TIMEOUT(tree_fifo, refused_lock, TEST_TIMEOUT)
{
	refuse_case(_metadata, &self->d, RF_LOCK, EOPNOTSUPP,
		    "FIFO with a lock or a lease");
}

TEST_F_TIMEOUT(tree_fifo, refused_unlinked, TEST_TIMEOUT)
{
	refuse_case(_metadata, &self->d, RF_UNLINKED, EOPNOTSUPP,
		    "unlinked FIFO");
}

TEST_F_TIMEOUT(tree_fifo, refused_o_path, TEST_TIMEOUT)
{
	refuse_case(_metadata, &self->d, RF_OPATH, EOPNOTSUPP,
		    "FIFO opened with O_PATH");
}

TEST_F_TIMEOUT(tree_fifo, refused_append, TEST_TIMEOUT)
{
	refuse_case(_metadata, &self->d, RF_APPEND, EOPNOTSUPP,
		    "FIFO with O_DIRECT, O_APPEND");
}

/* Checkpoint of one task with a FIFO: refused, as its pipes are */
static void one_task_body(void *arg, int imgfd)
{
	char why[512] = "";
	int h, log[2];
	long r;

	cr_prepare(imgfd);
	h = open(g_fa, O_RDWR);
	if (h < 0 || pipe2(log, O_NONBLOCK))
		setup_fail("holder");
	r = sys_checkpoint(0, imgfd, CR_LOGFD(log[1]));
	CHECKF(r == -1 && errno == EOPNOTSUPP,
	       "checkpoint of one task: %ld, %s", r, strerror(errno));
	cr_read_log(log[0], why, sizeof(why));
	CHECKF(strstr(why, "FIFO (saved only in a checkpoint of a tree)"),
	       "log: %s", why);
	cr_exit(EXIT_CHECKPOINTED);
}

TEST_F_TIMEOUT(tree_fifo, refused_one_task, TEST_TIMEOUT)
{
	pid_t pid = spawn_body(_metadata, one_task_body, NULL, self->d.imgfd);

	expect_exit(_metadata, pid, EXIT_CHECKPOINTED, "one task");
}

/* 5. Restart: the FIFO as it is at restart, the caller's permissions */
static void rs_image(struct __test_metadata *_metadata, struct cr_dir *d,
		     uid_t uid)
{
	struct tree t;

	g_uid = uid;
	tree_start(_metadata, &t, 2, rs_root);
	wait_state(_metadata, t.pids[1], 'T');
	stop_in(_metadata, t.pids[0], __NR_wait4);
	tree_checkpoint_to(_metadata, t.pids[0], d->imgfd);
	tree_kill(_metadata, &t);
}

TEST_F_TIMEOUT(tree_fifo, restart_ok, TEST_TIMEOUT)
{
	rs_image(_metadata, &self->d, 0);
	restart_ok(_metadata, &self->d, 0);
	/* Once the restarted tree is gone, again */
	restart_ok(_metadata, &self->d, 0);
}

/*
 * The same image restarted while its first restart runs: the FIFO is
 * open, EBUSY; the first tree is not disturbed
 */
TEST_F_TIMEOUT(tree_fifo, restart_twice_at_once, TEST_TIMEOUT)
{
	char go[96], c;
	int fd, ready[2], status;
	pid_t pid, root;

	g_wait = true;
	rs_image(_metadata, &self->d, 0);
	g_wait = false;
	fd = open(self->d.img, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(ready));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(ready[0]);
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		root = sys_restart(0, fd, CR_RESTART_TREE | CR_RESTART_NEW_PIDS);
		if (root < 0)
			_exit(EXIT_RESTART_RETURNED);
		if (write(ready[1], "r", 1) != 1 ||
		    waitpid(root, &status, 0) != root || !WIFEXITED(status))
			_exit(EXIT_SETUP);
		_exit(WEXITSTATUS(status));
	}
	kid_add(pid);
	close(fd);
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1)) TH_LOG("the first restart failed");
	close(ready[0]);
	restart_fails(_metadata, self->d.img, true, 0, EBUSY,
		      "open outside the tree");
	cr_path(&self->d, "go", go, sizeof(go));
	ASSERT_EQ(0, write_file(go, "", 0));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "first restarted tree");
}

TEST_F_TIMEOUT(tree_fifo, restart_removed, TEST_TIMEOUT)
{
	rs_image(_metadata, &self->d, 0);
	ASSERT_EQ(0, unlink(g_fa));
	restart_fails(_metadata, self->d.img, true, 0, ENOENT,
		      "cannot open");
}

TEST_F_TIMEOUT(tree_fifo, restart_regular_file, TEST_TIMEOUT)
{
	rs_image(_metadata, &self->d, 0);
	ASSERT_EQ(0, unlink(g_fa));
	ASSERT_EQ(0, write_file(g_fa, "x", 1));
	restart_fails(_metadata, self->d.img, true, 0, ESTALE, "not a FIFO");
}

TEST_F_TIMEOUT(tree_fifo, restart_busy, TEST_TIMEOUT)
{
	int s;

	rs_image(_metadata, &self->d, 0);
	s = open(g_fa, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, s);
	restart_fails(_metadata, self->d.img, true, 0, EBUSY,
		      "open outside the tree");
	/* Nothing was written into it */
	ASSERT_EQ(0, in_pipe(s));
	close(s);
}

/* The caller must be able to open the FIFO for reading and writing */
TEST_F_TIMEOUT(tree_fifo, restart_unprivileged, TEST_TIMEOUT)
{
	ASSERT_EQ(0, chmod(g_dir, 0777));
	rs_image(_metadata, &self->d, 65534);
	ASSERT_EQ(0, chmod(g_fa, 0600));
	restart_fails(_metadata, self->d.img, true, 65534, EACCES,
		      "cannot open");
	/* Read-only is not enough: the holder writes the data */
	ASSERT_EQ(0, chmod(g_fa, 0644));
	ASSERT_EQ(0, chown(g_fa, 65534, 65534));
	ASSERT_EQ(0, chmod(g_fa, 0400));
	restart_fails(_metadata, self->d.img, true, 65534, EACCES,
		      "cannot open");
	ASSERT_EQ(0, chmod(g_fa, 0600));
	restart_ok(_metadata, &self->d, 65534);
}

/* 6. Checks of the image */
enum target {
	T_RDWR,		/* the root's FIFO file record (O_RDWR) */
	T_RD,		/* the child's (O_RDONLY) */
	T_RDWR_PIPE,	/* the pipe record after the root's FIFO */
	T_RD_PIPE,	/* the pipe record after the child's FIFO */
	T_RD_PATH,	/* the path record of the child's FIFO */
	T_PIPE_R_PIPE,	/* the pipe record of the read end of the pipe */
};

/* Edits besides SET, OR and ADD (enum edit_op) */
enum {
	OBJ_OF = EDIT_OPS,	/* it becomes the obj of the pipe record @val */
	LAST_B,			/* the last byte of the record becomes 'b' */
};

static long target_rec(const unsigned char *buf, size_t len,
		       enum target tg)
{
	long rw = find_file(buf, len, CR_FILE_FIFO, O_RDWR, 0);
	long rd = find_file(buf, len, CR_FILE_FIFO, O_RDONLY, 0);
	long pr = find_file(buf, len, CR_FILE_PIPE, O_RDONLY, 0);

	switch (tg) {
	case T_RDWR:
		return rw;
	case T_RD:
		return rd;
	case T_RDWR_PIPE:
		return rec_after(buf, len, rw, CR_HDR_PIPE);
	case T_RD_PIPE:
		return rec_after(buf, len, rd, CR_HDR_PIPE);
	case T_RD_PATH:
		return rec_after(buf, len, rd, CR_HDR_FILE_PATH);
	default:
		return rec_after(buf, len, pr, CR_HDR_PIPE);
	}
}

static void edit_restart(struct __test_metadata *_metadata, struct cr_dir *d,
			 enum target tg, size_t off, int op, __u32 val,
			 int err, const char *why)
{
	char img[96];
	unsigned char *buf;
	struct cr_hdr h;
	size_t len;
	__u32 v;
	long at, o;

	rs_image(_metadata, d, 0);
	buf = img_load(_metadata, d->img, &len, 0);
	at = target_rec(buf, len, tg);
	ASSERT_LE(0, at) TH_LOG("no record %d", tg);
	memcpy(&h, buf + at, sizeof(h));
	switch (op) {
	case OBJ_OF:
		o = target_rec(buf, len, val);
		ASSERT_LE(0, o);
		memcpy(&v, buf + o + offsetof(struct cr_hdr_pipe, obj),
		       sizeof(v));
		memcpy(buf + at + off, &v, sizeof(v));
		break;
	case LAST_B:
		ASSERT_EQ('a', buf[at + h.len - 1]);
		buf[at + h.len - 1] = 'b';
		break;
	default:
		edit_field(buf + at + off, sizeof(v), op, val);
		break;
	}
	cr_path(d, "edited", img, sizeof(img));
	img_save(_metadata, img, buf, len);
	free(buf);
	restart_fails(_metadata, img, true, 0, err, why);
}

#define FILE_OFF(f)	offsetof(struct cr_hdr_file, f)
#define PIPE_OFF(f)	offsetof(struct cr_hdr_pipe, f)

TEST_F_TIMEOUT(tree_fifo, image_unknown_kind, TEST_TIMEOUT)
{
	edit_restart(_metadata, &self->d, T_RDWR, FILE_OFF(kind), SET,
		     CR_FILE_FIFO + 1, EINVAL, "unknown kind");
}

TEST_F_TIMEOUT(tree_fifo, image_flags_append, TEST_TIMEOUT)
{
	edit_restart(_metadata, &self->d, T_RDWR, FILE_OFF(flags), OR,
		     O_APPEND, EINVAL, "bad FIFO flags");
}

TEST_F_TIMEOUT(tree_fifo, image_flags_accmode, TEST_TIMEOUT)
{
	edit_restart(_metadata, &self->d, T_RD, FILE_OFF(flags), OR,
		     O_ACCMODE, EINVAL, "bad FIFO flags");
}

TEST_F_TIMEOUT(tree_fifo, image_flags_high_bit, TEST_TIMEOUT)
{
	edit_restart(_metadata, &self->d, T_RD, FILE_OFF(flags), OR,
		     0x80000000, EINVAL, "bad FIFO flags");
}

TEST_F_TIMEOUT(tree_fifo, image_pos, TEST_TIMEOUT)
{
	edit_restart(_metadata, &self->d, T_RDWR, FILE_OFF(pos), SET, 1,
		     EINVAL, "bad FIFO flags");
}

TEST_F_TIMEOUT(tree_fifo, image_rdev, TEST_TIMEOUT)
{
	edit_restart(_metadata, &self->d, T_RD, FILE_OFF(rdev_minor), SET, 3,
		     EINVAL, "bad FIFO flags");
}

TEST_F_TIMEOUT(tree_fifo, image_pipe_reserved, TEST_TIMEOUT)
{
	edit_restart(_metadata, &self->d, T_RDWR_PIPE, PIPE_OFF(reserved),
		     SET, 1, EINVAL, "bad pipe record");
}

TEST_F_TIMEOUT(tree_fifo, image_pipe_nr_bytes, TEST_TIMEOUT)
{
	edit_restart(_metadata, &self->d, T_RDWR_PIPE, PIPE_OFF(nr_bytes),
		     ADD, 1, EINVAL, "bad pipe record");
}

TEST_F_TIMEOUT(tree_fifo, image_pipe_size_zero, TEST_TIMEOUT)
{
	edit_restart(_metadata, &self->d, T_RDWR_PIPE, PIPE_OFF(size), SET, 0,
		     EINVAL, "bad pipe record");
}

/* A size F_SETPIPE_SZ would round up */
TEST_F_TIMEOUT(tree_fifo, image_pipe_size_odd, TEST_TIMEOUT)
{
	edit_restart(_metadata, &self->d, T_RDWR_PIPE, PIPE_OFF(size), SET,
		     3 * 4096 * 4, EINVAL, "cannot make it");
}

TEST_F_TIMEOUT(tree_fifo, image_second_end_size, TEST_TIMEOUT)
{
	edit_restart(_metadata, &self->d, T_RD_PIPE, PIPE_OFF(size), ADD,
		     4096, EINVAL, "described twice");
}

/* The second end of the FIFO refers to the anonymous pipe */
TEST_F_TIMEOUT(tree_fifo, image_fifo_end_of_pipe, TEST_TIMEOUT)
{
	edit_restart(_metadata, &self->d, T_RD_PIPE, PIPE_OFF(obj), OBJ_OF,
		     T_PIPE_R_PIPE, EINVAL, "is of type 2, not 8");
}

/* The second end of the anonymous pipe refers to the FIFO */
TEST_F_TIMEOUT(tree_fifo, image_pipe_end_of_fifo, TEST_TIMEOUT)
{
	edit_restart(_metadata, &self->d, T_PIPE_R_PIPE, PIPE_OFF(obj), OBJ_OF,
		     T_RDWR_PIPE, EINVAL, "is of type 8, not 2");
}

/* The second end of the FIFO names another FIFO */
TEST_F_TIMEOUT(tree_fifo, image_other_fifo, TEST_TIMEOUT)
{
	edit_restart(_metadata, &self->d, T_RD_PATH, 0, LAST_B, 0, ESTALE,
		     "not the FIFO of its pipe record");
}

/* A FIFO or a pipe in an image of one task: EINVAL, not a tree's object */
static void reg_body(void *arg, int imgfd)
{
	char path[96];
	long r;
	int fd;

	cr_prepare(imgfd);
	snprintf(path, sizeof(path), "%s/reg", g_dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		setup_fail("file");
	r = sys_checkpoint(0, imgfd, 0);
	cr_finish(r, errno, NULL);
}

static void one_task_kind(struct __test_metadata *_metadata, struct cr_dir *d,
			  __u32 kind, const char *why)
{
	unsigned char *buf;
	char img[96];
	size_t len;
	long at;

	checkpoint_child(_metadata, d, reg_body, NULL);
	buf = img_load(_metadata, d->img, &len, 0);
	at = find_file(buf, len, CR_FILE_REG, O_RDWR, 0);
	ASSERT_LE(0, at);
	memcpy(buf + at + FILE_OFF(kind), &kind, sizeof(kind));
	memset(buf + at + FILE_OFF(flags), 0, 4);
	memset(buf + at + FILE_OFF(pos), 0, 8);
	cr_path(d, "edited", img, sizeof(img));
	img_save(_metadata, img, buf, len);
	free(buf);
	restart_fails(_metadata, img, false, 0, EINVAL, why);
}

TEST_F_TIMEOUT(tree_fifo, image_one_task_fifo, TEST_TIMEOUT)
{
	one_task_kind(_metadata, &self->d, CR_FILE_FIFO,
		      "FIFO in an image of one task");
}

TEST_F_TIMEOUT(tree_fifo, image_one_task_pipe, TEST_TIMEOUT)
{
	one_task_kind(_metadata, &self->d, CR_FILE_PIPE,
		      "pipe in an image of one task");
}

TEST_HARNESS_MAIN
