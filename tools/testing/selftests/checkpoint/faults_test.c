// SPDX-License-Identifier: GPL-2.0
/*
 * Faults: nothing lost, nothing left behind.
 *
 *  - checkpoint(2) into a descriptor that fails part-way (a pipe whose
 *    reader goes away, a full tmpfs, RLIMIT_FSIZE, a descriptor not open
 *    for writing), at many offsets across the whole image: the call
 *    returns the error, and the stopped target, continued, finds its
 *    memory, its open file and its pending signal as they were;
 *  - SIGKILL to the caller of checkpoint or to its target in the middle,
 *    checkpoint racing with the target's exit: no hang, a crid or a clean
 *    error, the target intact; two checkpoints of one task at once: the
 *    second waits for the first, both succeed;
 *  - restart(2) from an image truncated at every record boundary, or with
 *    a byte changed in every record (the checksum resealed): an errno and
 *    the caller as it was (memory, descriptors, no task left), but for
 *    the records restart reads after its point of no return.
 *
 * The target reports to the test on its standard output, a pipe, from
 * the inside: what it checked each time it was continued.
 */

#include "cr_harness.h"

#include <sys/mount.h>

#define TGT_BIG_LEN	(3UL << 19)	/* 1.5 MiB: two pages records */
#define TGT_SMALL_PAGES	16
#define TGT_FILE_LEN	8192
#define TGT_FILE_POS	1234
#define SEED_BIG	0xb16
#define SEED_SMALL	0x5a11
#define SEED_FILE	0xf11e
#define SEED_MARK	0x3a4c
#define PIPE_SLOT	4096		/* pipe size set with F_SETPIPE_SZ */
#define EXTRA_POS	77		/* offset of the restarter's extra file */
#define NR_SPREAD	32		/* offsets spread across the pages */
#define MAX_OFFSETS	1024
#define MAX_RECORDS	4096

/*
 * What the target tells the test: first when it is ready, then each time
 * it was continued, before it stops itself again.
 */
struct report {
	int round;		/* times continued */
	int usr1;		/* SIGUSR1 handled, in all */
	int mem_ok;		/* memory checksum as before */
	int file_ok;		/* file offset and contents as before */
	long long pos;		/* the file offset it found */
};

/* The target */

static int tgt_usr1;

static void tgt_handler(int sig)
{
	if (sig == SIGUSR1)
		tgt_usr1++;
}

static uint64_t tgt_csum(const void *big, const void *small)
{
	__u64 h = 0xcbf29ce484222325ULL;

	h = csum_add(h, big, TGT_BIG_LEN);
	return csum_add(h, small, TGT_SMALL_PAGES * pg());
}

static bool tgt_file_ok(long long *pos)
{
	static unsigned char buf[TGT_FILE_LEN];

	*pos = lseek(3, 0, SEEK_CUR);
	if (*pos != TGT_FILE_POS)
		return false;
	if (pread(3, buf, sizeof(buf), 0) != sizeof(buf))
		return false;
	return pat_check(buf, sizeof(buf), SEED_FILE, 0) < 0;
}

/*
 * Fill memory, open @file at fd 3 at TGT_FILE_POS, report on @report (fd
 * 1), then stop itself with SIGSTOP; each time it is continued, check and
 * report again.  It never exits: the test kills it.
 */
static __noreturn void target_main(int report, const char *file)
{
	struct sigaction sa = { .sa_handler = tgt_handler };
	unsigned char *big, *small;
	struct report r = { 0 };
	__u64 csum;
	int fd;

	cr_phase = "target";
	prctl(PR_SET_NAME, "cr_target");
	big = mmap(NULL, TGT_BIG_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	small = mmap(NULL, TGT_SMALL_PAGES * pg(), PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* Out of the way of 1 and 3 first */
	fd = fcntl(open(file, O_RDWR), F_DUPFD, 100);
	report = fcntl(report, F_DUPFD, 100);
	if (big == MAP_FAILED || small == MAP_FAILED || fd < 0 ||
	    report < 0 || sigaction(SIGUSR1, &sa, NULL) || dup2(fd, 3) != 3 ||
	    dup2(report, 1) != 1 || lseek(3, TGT_FILE_POS, SEEK_SET) < 0)
		_exit(EXIT_SETUP);
	pat_fill(big, TGT_BIG_LEN, SEED_BIG, 0);
	pat_fill(small, TGT_SMALL_PAGES * pg(), SEED_SMALL, 0);
	csum = tgt_csum(big, small);
	cr_prepare(3);
	for (;;) {
		if (write(1, &r, sizeof(r)) != sizeof(r))
			_exit(EXIT_SETUP);
		syscall(SYS_kill, getpid(), SIGSTOP);
		r.round++;
		r.usr1 = tgt_usr1;
		r.mem_ok = tgt_csum(big, small) == csum;
		r.file_ok = tgt_file_ok(&r.pos);
	}
}

struct target {
	pid_t pid;
	int report;		/* read end of its standard output */
	int round;
	int usr1;		/* SIGUSR1 sent */
};

/* Read the target's next report and check it; expect it to stop */
static void target_sync(struct __test_metadata *_metadata, struct target *t)
{
	struct report r;
	int status;
	ssize_t n;

	do {
		n = read(t->report, &r, sizeof(r));
	} while (n < 0 && errno == EINTR);
	ASSERT_EQ(sizeof(r), n)
		TH_LOG("no report from the target after round %d", t->round);
	ASSERT_EQ(t->round, r.round);
	if (r.round) {
		EXPECT_EQ(t->usr1, r.usr1)
			TH_LOG("round %d: the target handled SIGUSR1 %d times, sent %d",
			       r.round, r.usr1, t->usr1);
		EXPECT_TRUE(r.mem_ok)
			TH_LOG("round %d: the target's memory changed", r.round);
		EXPECT_TRUE(r.file_ok)
			TH_LOG("round %d: the target's file changed (offset %lld)",
			       r.round, r.pos);
	}
	ASSERT_EQ(t->pid, waitpid(t->pid, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
}

/* Start a target, stopped, with a SIGUSR1 pending */
static void target_start(struct __test_metadata *_metadata,
			 const struct cr_dir *d, struct target *t)
{
	static unsigned char buf[TGT_FILE_LEN];
	char file[96];
	pid_t pid;
	int p[2];

	cr_path(d, "target_file", file, sizeof(file));
	pat_fill(buf, sizeof(buf), SEED_FILE, 0);
	ASSERT_EQ(0, write_file(file, buf, sizeof(buf)));
	ASSERT_EQ(0, pipe(p));
	memset(t, 0, sizeof(*t));
	fflush(stdout);
	fflush(stderr);
	/* @t is in memory the child shares until it unmaps it */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(p[0]);
		target_main(p[1], file);
	}
	t->pid = pid;
	kid_add(pid);
	close(p[1]);
	t->report = p[0];
	target_sync(_metadata, t);
	ASSERT_EQ(0, kill(t->pid, SIGUSR1));
	t->usr1++;
}

/* The target must still be stopped, as checkpoint found it */
static void target_still_stopped(struct __test_metadata *_metadata,
				 struct target *t)
{
	int status;

	EXPECT_EQ('T', proc_state(t->pid));
	EXPECT_EQ(0, waitpid(t->pid, &status,
			     WNOHANG | WUNTRACED | WCONTINUED));
}

/*
 * Continue the target: it handles its SIGUSR1, checks its memory and file
 * and stops again, with a new SIGUSR1 pending.
 */
static void target_resume(struct __test_metadata *_metadata, struct target *t)
{
	target_still_stopped(_metadata, t);
	/* Not waited for: the target may stop again first */
	ASSERT_EQ(0, kill(t->pid, SIGCONT));
	t->round++;
	target_sync(_metadata, t);
	ASSERT_EQ(0, kill(t->pid, SIGUSR1));
	t->usr1++;
}

static void target_end(struct __test_metadata *_metadata, struct target *t)
{
	int status;

	kill(t->pid, SIGKILL);
	waitpid(t->pid, &status, 0);
	kid_del(t->pid);
	close(t->report);
}

/* Images: records located by walking their headers */

struct image {
	unsigned char *buf;
	size_t len;
	size_t off[MAX_RECORDS];	/* offset of each record */
	__u32 type[MAX_RECORDS];
	int nr;				/* records, the tail included */
	int first_pages;		/* first CR_HDR_PAGES record, or -1 */
};

#define ALIGN8(x)	(((size_t)(x) + 7) & ~(size_t)7)

static void image_parse(struct __test_metadata *_metadata, struct image *img)
{
	struct cr_hdr h;
	size_t off = 0;

	img->nr = 0;
	img->first_pages = -1;
	while (off + sizeof(h) <= img->len) {
		ASSERT_GT(MAX_RECORDS, img->nr);
		memcpy(&h, img->buf + off, sizeof(h));
		ASSERT_LE(sizeof(h), h.len);
		img->off[img->nr] = off;
		img->type[img->nr] = h.type;
		if (h.type == CR_HDR_PAGES && img->first_pages < 0)
			img->first_pages = img->nr;
		img->nr++;
		off += ALIGN8(h.len);
		if (h.type == CR_HDR_TAIL)
			break;
	}
	ASSERT_EQ(img->len, off);
	ASSERT_EQ((__u32)CR_HDR_TAIL, img->type[img->nr - 1]);
	ASSERT_LT(0, img->first_pages);
}

static void image_load_fd(struct __test_metadata *_metadata, int fd,
			  struct image *img)
{
	struct stat sb;

	ASSERT_EQ(0, fstat(fd, &sb));
	img->len = sb.st_size;
	img->buf = malloc(img->len);
	ASSERT_NE(NULL, img->buf);
	ASSERT_EQ((ssize_t)img->len, pread(fd, img->buf, img->len, 0));
	image_parse(_metadata, img);
}

/* A complete image: its tail at the end, with the right checksum */
static bool image_complete(const unsigned char *buf, size_t len)
{
	struct cr_hdr_tail t;

	if (len < sizeof(struct cr_hdr_header) + sizeof(t))
		return false;
	memcpy(&t, buf + len - sizeof(t), sizeof(t));
	return t.h.type == CR_HDR_TAIL && t.magic == CR_TAIL_MAGIC &&
	       t.length == len - sizeof(t) &&
	       t.csum == crc32_zlib(buf, len - sizeof(t));
}

/* Whether the image in @fd is complete; malloc'd: not inherited by targets */
static bool image_file_complete(int fd)
{
	unsigned char *buf;
	struct stat sb;
	bool ok;

	if (fstat(fd, &sb))
		return false;
	buf = malloc(sb.st_size ?: 1);
	if (!buf)
		return false;
	ok = pread(fd, buf, sb.st_size, 0) == sb.st_size &&
	     image_complete(buf, sb.st_size);
	free(buf);
	return ok;
}

/* Whether the last bytes @t of a stream are a tail record */
static bool is_tail(const struct cr_hdr_tail *t)
{
	return t->h.type == CR_HDR_TAIL && t->h.len == sizeof(*t) &&
	       t->magic == CR_TAIL_MAGIC;
}

static void reseal(unsigned char *buf, size_t len)
{
	struct cr_hdr_tail t;

	memcpy(&t, buf + len - sizeof(t), sizeof(t));
	t.csum = crc32_zlib(buf, len - sizeof(t));
	memcpy(buf + len - sizeof(t), &t, sizeof(t));
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Offsets to fail at: 0, 1, 8, every record boundary, a few bytes into
 * some records, and NR_SPREAD points spread across the pages; all below
 * @max.
 */
static int fail_offsets(const struct image *img, size_t max, size_t *offs)
{
	size_t pages = img->off[img->first_pages];
	size_t tail = img->off[img->nr - 1];
	int i, n = 0, k;

	offs[n++] = 0;
	offs[n++] = 1;
	offs[n++] = 8;
	for (i = 1; i < img->nr; i++)
		offs[n++] = img->off[i];
	for (i = 0; i < img->nr; i += 7)
		offs[n++] = img->off[i] + 12;
	for (i = 1; i <= NR_SPREAD; i++)
		offs[n++] = pages + (tail - pages) / (NR_SPREAD + 1) * i + i;
	qsort(offs, n, sizeof(*offs), cmp_size);
	for (i = 0, k = 0; i < n; i++)
		if (offs[i] < max && (!k || offs[i] != offs[k - 1]))
			offs[k++] = offs[i];
	return k;
}

/* A successful checkpoint of the target, to know its image */
static void measure(struct __test_metadata *_metadata, const struct cr_dir *d,
		    struct target *t, struct image *img)
{
	char path[96];
	long crid;
	int fd;

	cr_path(d, "full_image", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	crid = sys_checkpoint(t->pid, fd, 0);
	ASSERT_LT(0, crid) TH_LOG("checkpoint: %s", strerror(errno));
	image_load_fd(_metadata, fd, img);
	close(fd);
	ASSERT_TRUE(image_complete(img->buf, img->len));
	TH_LOG("image of %zu bytes, %d records, pages from byte %zu", img->len,
	       img->nr, img->off[img->first_pages]);
	target_resume(_metadata, t);
}

/* Restart from a broken image, in a child: what it found */

enum outcome {
	OUT_ERRNO,	/* restart returned an errno, the caller intact */
	OUT_KILLED,	/* killed by SIGKILL after the point of no return */
	OUT_RAN,	/* the image was accepted: the restored process ran */
};

struct probe_report {
	int err;	/* errno of restart */
	int fail_line;	/* line of the first failed check, or 0 */
};

static char probe_maps[2][1 << 16];
static char probe_fds[2][8192];

/* The descriptors of the caller, with what they refer to */
static void list_fds(char *out, size_t len)
{
	char path[64], link[PATH_MAX];
	struct dirent *e;
	size_t n = 0;
	ssize_t l;
	DIR *dir;

	out[0] = 0;
	dir = opendir("/proc/self/fd");
	if (!dir)
		return;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%.16s", e->d_name);
		l = readlink(path, link, sizeof(link) - 1);
		link[l < 0 ? 0 : l] = 0;
		n += snprintf(out + n, len - n, "%s %s\n", e->d_name, link);
		if (n >= len)
			break;
	}
	closedir(dir);
}

/*
 * Number of processes @match() takes, given the pid directory name and
 * what @match wants; each logged, with @what, if @log
 */
static int nr_procs(bool (*match)(const char *pid, const void *arg),
		    const void *arg, const char *what, bool log)
{
	char path[64], buf[256];
	struct dirent *e;
	int nr = 0;
	DIR *dir;

	dir = opendir("/proc");
	if (!dir)
		return -1;
	while ((e = readdir(dir))) {
		if (atoi(e->d_name) <= 0 || !match(e->d_name, arg))
			continue;
		nr++;
		snprintf(path, sizeof(path), "/proc/%.16s/stat", e->d_name);
		if (log && read_file(path, buf, sizeof(buf)) > 0)
			cr_log("%s: %.80s", what, buf);
	}
	closedir(dir);
	return nr;
}

/* The process of /proc/@pid has the parent *@arg */
static bool child_of(const char *pid, const void *arg)
{
	char path[64], buf[1024], *p;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%.16s/stat", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return false;
	p = strrchr(buf, ')');
	return p && sscanf(p + 1, " %*c %d", &ppid) == 1 &&
	       ppid == *(const pid_t *)arg;
}

/* Number of processes whose parent is @parent, logged if @log */
static int nr_children(pid_t parent, bool log)
{
	return nr_procs(child_of, &parent, "left behind", log);
}

/*
 * The restarter: a marker in its memory, an extra file at fd 5 at
 * EXTRA_POS, the image at fd 4, the report pipe at fd 6; it restarts, and
 * if restart returns, checks that nothing changed and reports.
 */
static __noreturn void probe_main(const char *img, off_t at,
				  const char *extra, int rep)
{
	struct probe_report r = { 0 };
	char cwd[2][PATH_MAX];
	unsigned char *mark;
	int fd, xfd;
	long ret;

	cr_phase = "restarter";
	prctl(PR_SET_NAME, "cr_probe");
	mark = mmap(NULL, 8 * pg(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* Out of the way of 4, 5 and 6 first */
	fd = fcntl(open(img, O_RDONLY), F_DUPFD, 100);
	xfd = fcntl(open(extra, O_RDWR), F_DUPFD, 100);
	rep = fcntl(rep, F_DUPFD, 100);
	if (mark == MAP_FAILED || fd < 0 || xfd < 0 || rep < 0 ||
	    dup2(fd, 4) != 4 ||
	    dup2(xfd, 5) != 5 || dup2(rep, 6) != 6 ||
	    lseek(5, EXTRA_POS, SEEK_SET) != EXTRA_POS ||
	    lseek(4, at, SEEK_SET) != at)
		_exit(EXIT_SETUP);
	if (syscall(__NR_close_range, 3, 3, 0) ||
	    syscall(__NR_close_range, 7, ~0U, 0))
		_exit(EXIT_SETUP);
	pat_fill(mark, 8 * pg(), SEED_MARK, 0);
	if (read_file("/proc/self/maps", probe_maps[0], sizeof(probe_maps[0])) < 0 ||
	    !getcwd(cwd[0], sizeof(cwd[0])))
		_exit(EXIT_SETUP);
	list_fds(probe_fds[0], sizeof(probe_fds[0]));

	ret = sys_restart(0, 4, 0);
	r.err = errno;

	cr_phase = "restarter after restart failed";
	CHECKF(ret == -1 && r.err > 0 && r.err < 4096,
	       "restart returned %ld, errno %d", ret, r.err);
	CHECK_PAT(mark, 8 * pg(), SEED_MARK, 0);
	CHECK(read_file("/proc/self/maps", probe_maps[1],
			sizeof(probe_maps[1])) > 0);
	check_same_text("/proc/self/maps", probe_maps[0], probe_maps[1]);
	list_fds(probe_fds[1], sizeof(probe_fds[1]));
	check_same_text("descriptors", probe_fds[0], probe_fds[1]);
	CHECK(lseek(5, 0, SEEK_CUR) == EXTRA_POS);
	CHECK(getcwd(cwd[1], sizeof(cwd[1])) && !strcmp(cwd[0], cwd[1]));
	CHECK(nr_threads() == 1);
	CHECK(nr_children(getpid(), true) == 0);
	r.fail_line = cr_fail_line;
	if (write(6, &r, sizeof(r)) != sizeof(r))
		_exit(EXIT_SETUP);
	_exit(0);
}

/*
 * Restart from @img, at its offset @at, in a child; *@err is its errno
 * when restart returned one.
 * Fails the test if the child hung or a check of the caller failed.
 */
static enum outcome probe(struct __test_metadata *_metadata,
			  const struct cr_dir *d, const char *img, off_t at,
			  int *err)
{
	struct probe_report r;
	char extra[96], desc[128];
	int p[2], status;
	ssize_t n;
	pid_t pid;

	cr_path(d, "extra", extra, sizeof(extra));
	if (access(extra, F_OK))
		EXPECT_EQ(0, write_file(extra, probe_fds[1], 4 * EXTRA_POS));
	*err = 0;
	if (pipe(p)) {
		EXPECT_TRUE(false) TH_LOG("pipe: %s", strerror(errno));
		return OUT_RAN;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		probe_main(img, at, extra, p[1]);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		EXPECT_TRUE(false) TH_LOG("fork: %s", strerror(errno));
		return OUT_RAN;
	}
	kid_add(pid);
	status = wait_child(pid, CHILD_TIMEOUT_MS);
	n = read(p[0], &r, sizeof(r));
	close(p[0]);
	describe_status(status, desc, sizeof(desc));
	EXPECT_NE(-1, status) TH_LOG("restarter: %s", desc);
	if (n == sizeof(r)) {
		EXPECT_EQ(0, r.fail_line)
			TH_LOG("the caller of the failed restart changed (errno %d, line %d)",
			       r.err, r.fail_line);
		*err = r.err;
		return OUT_ERRNO;
	}
	if (status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return OUT_KILLED;
	EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SETUP)
		TH_LOG("restarter: %s", desc);
	return OUT_RAN;
}

/* No process left whose parent is the test */
static void no_children_left(struct __test_metadata *_metadata)
{
	EXPECT_EQ(0, nr_children(getpid(), true));
}

/*
 * The tests
 */

FIXTURE(faults) {
	struct cr_dir d;
	struct target t;
	struct image img;
	size_t offs[MAX_OFFSETS];
	int nr_offs;
};

FIXTURE_SETUP(faults)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN_PARENT(faults)
{
	cr_dir_teardown(_metadata, &self->d);
}

/*
 * A target and its image, and the offsets below @margin from its end.
 * The helpers take the fixture as FIXTURE_DATA(faults) names it.
 */
static void setup_target(struct __test_metadata *_metadata,
			 struct _test_data_faults *self, size_t margin)
{
	target_start(_metadata, &self->d, &self->t);
	measure(_metadata, &self->d, &self->t, &self->img);
	self->nr_offs = fail_offsets(&self->img, self->img.len - margin,
				     self->offs);
}

/* Checkpoint the target into a pipe whose reader exits after @n bytes */
static void fail_pipe(struct __test_metadata *_metadata,
		      struct _test_data_faults *self, size_t n)
{
	static char buf[PIPE_SLOT];
	int p[2], status;
	size_t got = 0;
	ssize_t r;
	pid_t pid;
	long ret;

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(PIPE_SLOT, fcntl(p[1], F_SETPIPE_SZ, PIPE_SLOT));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(p[1]);
		while (got < n) {
			r = read(p[0], buf, n - got < sizeof(buf) ?
					    n - got : sizeof(buf));
			if (r <= 0)
				_exit(1);
			got += r;
		}
		_exit(0);
	}
	kid_add(pid);
	close(p[0]);
	ret = sys_checkpoint(self->t.pid, p[1], 0);
	EXPECT_TRUE(ret == -1 && errno == EPIPE)
		TH_LOG("checkpoint into a pipe read for %zu bytes: %ld, %s", n,
		       ret, ret < 0 ? strerror(errno) : "no error");
	close(p[1]);
	status = wait_child(pid, CHILD_TIMEOUT_MS);
	EXPECT_TRUE(status != -1 && WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("the reader did not get its %zu bytes", n);
}

TEST_F_TIMEOUT(faults, pipe_reader_exits, 600)
{
	int i;

	/* The pipe holds PIPE_SLOT bytes: fail well before the end */
	setup_target(_metadata, self, 3 * PIPE_SLOT);
	for (i = 0; i < self->nr_offs; i++) {
		fail_pipe(_metadata, self, self->offs[i]);
		target_resume(_metadata, &self->t);
	}
	TH_LOG("%d offsets", self->nr_offs);
	target_end(_metadata, &self->t);
}

/*
 * Restart from the partial image at @at in @img: refused with EINVAL
 * before the point of no return, its caller as it was.
 */
static void partial_refused(struct __test_metadata *_metadata,
			    const struct cr_dir *d, const char *img, off_t at,
			    size_t n)
{
	enum outcome o;
	int err;

	o = probe(_metadata, d, img, at, &err);
	EXPECT_TRUE(o == OUT_ERRNO && err == EINVAL)
		TH_LOG("restart from the %zu bytes a failed checkpoint wrote: %s, errno %d",
		       n, o == OUT_KILLED ? "killed" : o == OUT_RAN ? "ran" : "returned",
		       err);
}

/* Checkpoint the target into a tmpfs with room for @n bytes of image */
static void fail_tmpfs(struct __test_metadata *_metadata,
		       struct _test_data_faults *self, const char *mnt, size_t n)
{
	static char zeros[65536];
	size_t ps = pg(), start = (ps - n % ps) % ps;
	size_t pages = (start + n) / ps;
	char opts[64], path[PATH_MAX];
	struct stat sb;
	int fd, err;
	long ret;

	/* One page for a filler file, the image's pages from @start */
	snprintf(opts, sizeof(opts), "size=%zu,nr_inodes=16", (pages + 1) * ps);
	ASSERT_EQ(0, mount("cr_faults", mnt, "tmpfs", 0, opts))
		TH_LOG("mount -t tmpfs -o %s: %s", opts, strerror(errno));
	snprintf(path, sizeof(path), "%s/filler", mnt);
	ASSERT_EQ(0, write_file(path, zeros, ps));
	snprintf(path, sizeof(path), "%s/image", mnt);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(start, lseek(fd, start, SEEK_SET));

	ret = sys_checkpoint(self->t.pid, fd, 0);
	err = errno;
	EXPECT_TRUE(ret == -1 && err == ENOSPC)
		TH_LOG("checkpoint into a tmpfs with room for %zu bytes: %ld, %s",
		       n, ret, ret < 0 ? strerror(err) : "no error");
	/* What was written stays, and the offset is past it */
	EXPECT_EQ(start + n, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(0, fstat(fd, &sb));
	EXPECT_EQ(start + n, sb.st_size);
	close(fd);
	partial_refused(_metadata, &self->d, path, start, n);
	ASSERT_EQ(0, umount(mnt));
}

TEST_F_TIMEOUT(faults, tmpfs_full, 600)
{
	char mnt[64];
	int i;

	cr_path(&self->d, "mnt", mnt, sizeof(mnt));
	ASSERT_EQ(0, mkdir(mnt, 0700));
	if (mount("cr_faults", mnt, "tmpfs", 0, "size=4096")) {
		if (errno == EPERM)
			SKIP(return, "cannot mount a tmpfs: not root");
		ASSERT_EQ(0, errno);
	}
	ASSERT_EQ(0, umount(mnt));
	setup_target(_metadata, self, 1);
	for (i = 0; i < self->nr_offs; i++) {
		fail_tmpfs(_metadata, self, mnt, self->offs[i]);
		target_resume(_metadata, &self->t);
	}
	TH_LOG("%d offsets", self->nr_offs);
	target_end(_metadata, &self->t);
}

/*
 * Checkpoint the target, from a child whose RLIMIT_FSIZE is @n, into
 * @fd: EFBIG (SIGXFSZ ignored) with @n bytes written.
 */
static void fail_fsize(struct __test_metadata *_metadata,
		       struct _test_data_faults *self, int fd, size_t n)
{
	struct rlimit rl = { .rlim_cur = n, .rlim_max = n };
	int status;
	pid_t pid;
	long ret;

	ASSERT_EQ(0, ftruncate(fd, 0));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl))
			_exit(EXIT_SETUP);
		ret = sys_checkpoint(self->t.pid, fd, 0);
		_exit(ret < 0 ? errno : 0);
	}
	kid_add(pid);
	status = wait_child(pid, CHILD_TIMEOUT_MS);
	EXPECT_TRUE(status != -1 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == EFBIG)
		TH_LOG("checkpoint with RLIMIT_FSIZE %zu: status %#x", n, status);
	EXPECT_EQ(n, lseek(fd, 0, SEEK_CUR));
}

TEST_F_TIMEOUT(faults, file_size_limit, 600)
{
	char path[96];
	int i, fd;

	setup_target(_metadata, self, 1);
	cr_path(&self->d, "fsize_image", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	for (i = 0; i < self->nr_offs; i++) {
		fail_fsize(_metadata, self, fd, self->offs[i]);
		if (i % 8 == 1)
			partial_refused(_metadata, &self->d, path, 0,
					self->offs[i]);
		target_resume(_metadata, &self->t);
	}
	close(fd);
	TH_LOG("%d offsets", self->nr_offs);
	target_end(_metadata, &self->t);
}

/* Descriptors checkpoint cannot write to: EBADF, nothing written */
TEST_F_TIMEOUT(faults, not_writable, TEST_TIMEOUT)
{
	char path[96];
	struct stat sb;
	long ret;
	int fd;

	target_start(_metadata, &self->d, &self->t);
	cr_path(&self->d, "ro_image", path, sizeof(path));
	ASSERT_EQ(0, write_file(path, "", 0));

	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ret = sys_checkpoint(self->t.pid, fd, 0);
	EXPECT_TRUE(ret == -1 && errno == EBADF)
		TH_LOG("checkpoint into a read-only descriptor: %ld, %s", ret,
		       ret < 0 ? strerror(errno) : "no error");
	close(fd);
	target_resume(_metadata, &self->t);

	fd = open(path, O_PATH | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ret = sys_checkpoint(self->t.pid, fd, 0);
	EXPECT_TRUE(ret == -1 && errno == EBADF)
		TH_LOG("checkpoint into an O_PATH descriptor: %ld, %s", ret,
		       ret < 0 ? strerror(errno) : "no error");
	close(fd);
	ASSERT_EQ(0, stat(path, &sb));
	EXPECT_EQ(0, sb.st_size);
	target_resume(_metadata, &self->t);
	target_end(_metadata, &self->t);
}

/*
 * checkpoint(2) of @target into @fd with @flags, logging the kernel's
 * reason if it fails
 */
static long checkpoint_logged(pid_t target, int fd, unsigned long flags)
{
	char why[512];
	int log[2], err;
	ssize_t n;
	long r;

	if (pipe(log))
		return -1;
	r = sys_checkpoint(target, fd, flags | CR_LOGFD(log[1]));
	err = errno;
	close(log[1]);
	n = r < 0 ? read(log[0], why, sizeof(why) - 1) : 0;
	close(log[0]);
	if (n > 0) {
		why[n - 1] = 0;
		cr_log("%s", why);
	}
	errno = err;
	return r;
}

/* A child checkpointing the target into @fd; exits with the errno, or 0 */
static pid_t spawn_caller(struct __test_metadata *_metadata, pid_t target,
			  int fd, int close_fd)
{
	pid_t pid;
	long ret;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		if (close_fd >= 0)
			close(close_fd);
		cr_phase = "caller";
		ret = checkpoint_logged(target, fd, 0);
		_exit(ret < 0 ? errno : 0);
	}
	if (pid > 0)
		kid_add(pid);
	return pid;
}

/* Read @n bytes from @fd, a little at a time; the number read */
static size_t read_slowly(int fd, size_t n)
{
	static char buf[4096];
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, buf, n - got < sizeof(buf) ? n - got : sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
		if (!(got % (16 * sizeof(buf))))
			usleep(1000);
	}
	return got;
}

/*
 * SIGKILL to the caller of checkpoint while it writes into a pipe read
 * slowly: the caller dies, the target stays stopped and intact.
 */
TEST_F_TIMEOUT(faults, kill_caller, 300)
{
	size_t at[] = { 0, 4096, 65536, 300000, 0 }, got;
	int i, p[2], status;
	pid_t pid;

	setup_target(_metadata, self, 1);
	at[4] = self->img.len - 3 * 65536;
	for (i = 0; i < (int)ARRAY_SIZE(at); i++) {
		ASSERT_EQ(0, pipe(p));
		pid = spawn_caller(_metadata, self->t.pid, p[1], p[0]);
		ASSERT_LT(0, pid);
		close(p[1]);
		got = read_slowly(p[0], at[i]);
		EXPECT_EQ(at[i], got);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		status = wait_child(pid, CHILD_TIMEOUT_MS);
		EXPECT_TRUE(status != -1 && WIFSIGNALED(status) &&
			    WTERMSIG(status) == SIGKILL)
			TH_LOG("caller killed after %zu bytes: status %#x",
			       at[i], status);
		while (read_slowly(p[0], 65536) == 65536)
			;
		close(p[0]);
		target_resume(_metadata, &self->t);
	}
	target_end(_metadata, &self->t);
	no_children_left(_metadata);
}

/*
 * SIGKILL to the target while checkpoint writes it into a pipe read
 * slowly: the target dies, checkpoint fails with EBUSY (the task did not
 * stay stopped: cr_check_still_stopped()), no tail written, no hang.
 */
TEST_F_TIMEOUT(faults, kill_target, 300)
{
	unsigned char last[2 * sizeof(struct cr_hdr_tail)];
	size_t at[] = { 8192, 300000, 0 }, len, keep;
	struct cr_hdr_tail tail;
	int i, p[2], status;
	char buf[4096];
	ssize_t r;
	pid_t pid;

	for (i = 0; i < (int)ARRAY_SIZE(at); i++) {
		setup_target(_metadata, self, 1);
		if (!at[i])
			at[i] = self->img.len - 3 * 65536;
		free(self->img.buf);
		ASSERT_EQ(0, pipe(p));
		pid = spawn_caller(_metadata, self->t.pid, p[1], p[0]);
		ASSERT_LT(0, pid);
		close(p[1]);
		EXPECT_EQ(at[i], read_slowly(p[0], at[i]));
		ASSERT_EQ(0, kill(self->t.pid, SIGKILL));
		ASSERT_EQ(self->t.pid, waitpid(self->t.pid, &status, 0));
		kid_del(self->t.pid);
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		/* The rest of the stream, its last bytes kept */
		len = 0;
		memset(last, 0, sizeof(last));
		while ((r = read(p[0], buf, sizeof(buf))) > 0) {
			keep = (size_t)r < sizeof(tail) ? (size_t)r : sizeof(tail);
			memmove(last, last + keep, sizeof(last) - keep);
			memcpy(last + sizeof(last) - keep, buf + r - keep, keep);
			len += r;
		}
		close(p[0]);
		close(self->t.report);
		status = wait_child(pid, CHILD_TIMEOUT_MS);
		EXPECT_TRUE(status != -1 && WIFEXITED(status) &&
			    WEXITSTATUS(status) == EBUSY)
			TH_LOG("checkpoint of a target killed after %zu bytes: status %#x",
			       at[i], status);
		memcpy(&tail, last + sizeof(last) - sizeof(tail), sizeof(tail));
		EXPECT_FALSE(len >= sizeof(tail) && is_tail(&tail))
			TH_LOG("an image with a tail, of a killed target");
	}
	no_children_left(_metadata);
}

/*
 * Checkpoint racing with the exit of its target (SIGKILL at varying
 * moments): a crid with a complete image, or ESRCH or EBUSY.
 */
TEST_F_TIMEOUT(faults, race_exit, 300)
{
	int i, fd, status, nr_ok = 0, nr_err = 0;
	char path[96];
	pid_t pid;

	cr_path(&self->d, "race_image", path, sizeof(path));
	for (i = 0; i < 24; i++) {
		target_start(_metadata, &self->d, &self->t);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		ASSERT_LE(0, fd);
		pid = spawn_caller(_metadata, self->t.pid, fd, -1);
		ASSERT_LT(0, pid);
		/* From at once to after the checkpoint ended */
		usleep((i % 12) * (i % 12) * 1500);
		ASSERT_EQ(0, kill(self->t.pid, SIGKILL));
		status = wait_child(pid, CHILD_TIMEOUT_MS);
		ASSERT_TRUE(status != -1 && WIFEXITED(status))
			TH_LOG("caller: status %#x", status);
		status = WEXITSTATUS(status);
		EXPECT_TRUE(!status || status == ESRCH || status == EBUSY)
			TH_LOG("checkpoint racing with exit: %s", strerror(status));
		if (!status) {
			nr_ok++;
			EXPECT_TRUE(image_file_complete(fd));
		} else {
			nr_err++;
			EXPECT_FALSE(image_file_complete(fd));
		}
		close(fd);
		target_end(_metadata, &self->t);
	}
	TH_LOG("%d checkpoints done, %d failed", nr_ok, nr_err);
	no_children_left(_metadata);
}

/*
 * Two callers checkpoint one task at once, each three times, one of the
 * task alone and one of its tree: the second waits for the first, and
 * each gets a crid and a complete image; the target is intact.
 */
TEST_F_TIMEOUT(faults, concurrent, 300)
{
	unsigned long flags[2] = { 0, CR_CHECKPOINT_TREE };
	int i, j, k, fd[2], status, nr_ok = 0;
	char path[96];
	pid_t pid[2];

	target_start(_metadata, &self->d, &self->t);
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 2; j++) {
			snprintf(path, sizeof(path), "%s/conc%d", self->d.dir, j);
			fd[j] = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
				     0600);
			ASSERT_LE(0, fd[j]);
		}
		for (j = 0; j < 2; j++) {
			fflush(stdout);
			fflush(stderr);
			pid[j] = fork();
			ASSERT_LE(0, pid[j]);
			if (pid[j] == 0) {
				for (k = 0; k < 3; k++) {
					if (ftruncate(fd[j], 0) ||
					    lseek(fd[j], 0, SEEK_SET))
						_exit(EXIT_SETUP);
					cr_phase = "caller";
					if (checkpoint_logged(self->t.pid, fd[j],
							      flags[j]) < 0)
						_exit(errno);
					if (!image_file_complete(fd[j]))
						_exit(200);
				}
				_exit(0);
			}
			kid_add(pid[j]);
		}
		for (j = 0; j < 2; j++) {
			status = wait_child(pid[j], CHILD_TIMEOUT_MS);
			ASSERT_TRUE(status != -1 && WIFEXITED(status))
				TH_LOG("caller %d: status %#x", j, status);
			EXPECT_EQ(0, WEXITSTATUS(status))
				TH_LOG("caller %d: exit status %d (%s)", j,
				       WEXITSTATUS(status),
				       strerror(WEXITSTATUS(status)));
			nr_ok += !WEXITSTATUS(status);
			close(fd[j]);
		}
		target_resume(_metadata, &self->t);
	}
	EXPECT_EQ(8, nr_ok);
	target_end(_metadata, &self->t);
}

static void on_alarm(int sig)
{
}

/*
 * A checkpoint blocked writing into a pipe nobody reads yet: a second
 * checkpoint of the same task waits for it (a signal interrupts the wait
 * with EINTR, before anything is written), and a third, waiting too,
 * completes once the first is done.
 */
TEST_F_TIMEOUT(faults, concurrent_waits, 300)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	int p[2], fd, status;
	char path[96];
	struct stat sb;
	pid_t first, second, third;
	size_t got;

	setup_target(_metadata, self, 1);
	ASSERT_EQ(0, pipe(p));
	first = spawn_caller(_metadata, self->t.pid, p[1], p[0]);
	ASSERT_LT(0, first);
	close(p[1]);
	/* Once its first bytes are there, it holds the task */
	got = read_slowly(p[0], 4096);
	ASSERT_EQ(4096, got);

	snprintf(path, sizeof(path), "%s/waiter", self->d.dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	fflush(stdout);
	fflush(stderr);
	second = fork();
	ASSERT_LE(0, second);
	if (second == 0) {
		long r;

		close(p[0]);
		if (sigaction(SIGALRM, &sa, NULL))
			_exit(EXIT_SETUP);
		alarm(2);
		r = sys_checkpoint(self->t.pid, fd, 0);
		_exit(r < 0 ? errno : 0);
	}
	kid_add(second);
	status = wait_child(second, CHILD_TIMEOUT_MS);
	ASSERT_TRUE(status != -1 && WIFEXITED(status))
		TH_LOG("second caller: status %#x", status);
	EXPECT_EQ(EINTR, WEXITSTATUS(status))
		TH_LOG("second caller: exit status %d", WEXITSTATUS(status));
	ASSERT_EQ(0, fstat(fd, &sb));
	EXPECT_EQ(0, sb.st_size);

	third = spawn_caller(_metadata, self->t.pid, fd, p[0]);
	ASSERT_LT(0, third);
	/* Still waiting while the first is blocked */
	usleep(300000);
	ASSERT_EQ(0, fstat(fd, &sb));
	EXPECT_EQ(0, sb.st_size);
	EXPECT_EQ(0, waitpid(third, &status, WNOHANG));

	got += read_slowly(p[0], SIZE_MAX);
	close(p[0]);
	EXPECT_LT(self->img.len / 2, got);
	status = wait_child(first, CHILD_TIMEOUT_MS);
	EXPECT_TRUE(status != -1 && WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("first caller: status %#x", status);
	status = wait_child(third, CHILD_TIMEOUT_MS);
	EXPECT_TRUE(status != -1 && WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("third caller: status %#x", status);
	EXPECT_TRUE(image_file_complete(fd));
	close(fd);
	target_resume(_metadata, &self->t);
	target_end(_metadata, &self->t);
	no_children_left(_metadata);
}

/* SIGKILL to the caller of restart */

#define KT_KIDS		4		/* children of the tree's root */
#define KT_PAGES	64		/* pages of memory of each process */
#define KT_SEED		0x4b17
#define KT_DELAYS	32		/* kills spread over a restart */

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/*
 * A process of the tree: memory with a pattern of its own; stopped for
 * the checkpoint; once continued (restored), it checks its memory and
 * says what it found in its name, then waits to be killed
 */
static __noreturn void kt_proc(int i)
{
	unsigned char *m;
	bool ok;

	prctl(PR_SET_NAME, "cr_kt");
	m = mmap(NULL, KT_PAGES * pg(), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(EXIT_SETUP);
	pat_fill(m, KT_PAGES * pg(), KT_SEED + i, 0);
	syscall(SYS_kill, getpid(), SIGSTOP);
	ok = pat_check(m, KT_PAGES * pg(), KT_SEED + i, 0) < 0;
	prctl(PR_SET_NAME, ok ? "cr_kt_ok" : "cr_kt_bad");
	for (;;)
		pause();
}

/* The root: a session of its own, KT_KIDS children, their pids on @rep */
static __noreturn void kt_root(int rep)
{
	pid_t kids[KT_KIDS];
	int i;

	/* Nothing shared with the test but 0-2, which restart gives back */
	if (setsid() < 0 || dup2(rep, 3) != 3)
		_exit(EXIT_SETUP);
	cr_prepare(3);
	for (i = 0; i < KT_KIDS; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			_exit(EXIT_SETUP);
		if (!kids[i]) {
			close(3);
			kt_proc(i + 1);
		}
	}
	if (write(3, kids, sizeof(kids)) != sizeof(kids))
		_exit(EXIT_SETUP);
	close(3);
	kt_proc(0);
}

/* The process of /proc/@pid is named @arg */
static bool named(const char *pid, const void *arg)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%.16s/comm", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	buf[strcspn(buf, "\n")] = 0;
	return !strcmp(buf, arg);
}

/* The processes named @comm, the descendants of the test or not */
static int nr_named(const char *comm)
{
	return nr_procs(named, comm, "left", false);
}

/* The process of /proc/@pid is one of the tree's, whatever it found */
static bool of_kt(const char *pid, const void *arg)
{
	return named(pid, "cr_kt") || named(pid, "cr_kt_ok") ||
	       named(pid, "cr_kt_bad");
}

/*
 * The processes of the tree restored, in one walk of /proc: one that
 * renames itself between two walks would be counted twice
 */
static int nr_restored(void)
{
	return nr_procs(of_kt, NULL, "left", false);
}

static void log_restored(void)
{
	nr_procs(of_kt, NULL, "left", true);
}

/*
 * Kill the processes of the tree restored, orphans of the test, reap them
 * and wait until none is left: 0, or how many are
 */
static int kt_kill_all(void)
{
	char path[64], buf[64];
	struct dirent *e;
	int tries, nr;
	DIR *dir;

	for (tries = 0; tries < 1000; tries++) {
		dir = opendir("/proc");
		while (dir && (e = readdir(dir))) {
			if (atoi(e->d_name) <= 0)
				continue;
			snprintf(path, sizeof(path), "/proc/%.16s/comm",
				 e->d_name);
			if (read_file(path, buf, sizeof(buf)) > 0 &&
			    !strncmp(buf, "cr_kt", 5))
				kill(atoi(e->d_name), SIGKILL);
		}
		if (dir)
			closedir(dir);
		while (waitpid(-1, NULL, __WALL) > 0)
			;
		nr = nr_restored();
		if (!nr)
			return 0;
		usleep(10000);
	}
	log_restored();
	return nr;
}

/* Checkpoint the tree into @img; the original tree is gone after */
static void kt_checkpoint(struct __test_metadata *_metadata, const char *img)
{
	pid_t root, kids[KT_KIDS];
	int p[2], fd, i, tries;
	bool stopped;

	ASSERT_EQ(0, pipe(p));
	fflush(stdout);
	fflush(stderr);
	root = fork();
	ASSERT_LE(0, root);
	if (!root) {
		close(p[0]);
		kt_root(p[1]);
	}
	kid_add(root);
	close(p[1]);
	ASSERT_EQ(sizeof(kids), read(p[0], kids, sizeof(kids)));
	close(p[0]);
	for (tries = 0; tries < 1000; tries++) {
		stopped = proc_state(root) == 'T';
		for (i = 0; i < KT_KIDS; i++)
			stopped &= proc_state(kids[i]) == 'T';
		if (stopped)
			break;
		usleep(10000);
	}
	ASSERT_TRUE(stopped);
	fd = open(img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, checkpoint_logged(root, fd, CR_CHECKPOINT_TREE))
		TH_LOG("checkpoint of the tree: %s", strerror(errno));
	close(fd);
	ASSERT_EQ(0, kt_kill_all());
	kid_del(root);
}

/*
 * A restarter of the tree of @img: once restart returned it says so on
 * @rep and waits to be killed
 */
static pid_t kt_restarter(const char *img, int rep, int other)
{
	pid_t pid;
	long r;
	int fd;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid)
		return pid;
	close(other);
	fd = open(img, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(EXIT_SETUP);
	r = sys_restart(0, fd, CR_RESTART_TREE | CR_RESTART_NEW_PIDS);
	if (r < 0)
		r = -errno;
	if (write(rep, &r, sizeof(r)) != sizeof(r))
		_exit(EXIT_SETUP);
	for (;;)
		pause();
}

/*
 * A tree: SIGKILL to the caller of restart(2) at KT_DELAYS points spread
 * over the time a restart takes.  Each time, either nothing of the image
 * is left (the tasks restart created so far were killed and reaped with
 * it), or the kill came after the tree was let run and the whole tree
 * runs, each process finding its memory intact.  Never a part of it,
 * never a task left stopped or dead and unreaped.
 */
TEST_F_TIMEOUT(faults, kill_tree_restarter, 600)
{
	int i, p[2], status, nr, tries, nr_whole = 0;
	const int nr_procs = KT_KIDS + 1;
	long long t0, full;
	char img[96];
	pid_t pid;
	long r;

	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	cr_path(&self->d, "kt_image", img, sizeof(img));
	kt_checkpoint(_metadata, img);

	/* How long a restart takes, to spread the kills over it */
	ASSERT_EQ(0, pipe(p));
	t0 = now_us();
	pid = kt_restarter(img, p[1], p[0]);
	ASSERT_LT(0, pid);
	kid_add(pid);
	ASSERT_EQ(sizeof(r), read(p[0], &r, sizeof(r)));
	full = now_us() - t0;
	close(p[0]);
	close(p[1]);
	ASSERT_LT(0, r) TH_LOG("restart: %s", strerror(-r));
	kill(pid, SIGKILL);
	EXPECT_NE(-1, wait_child(pid, CHILD_TIMEOUT_MS));
	kid_del(pid);
	EXPECT_EQ(0, kt_kill_all());
	TH_LOG("a restart of the tree takes %lld us", full);

	for (i = 0; i < KT_DELAYS; i++) {
		ASSERT_EQ(0, pipe(p));
		pid = kt_restarter(img, p[1], p[0]);
		ASSERT_LT(0, pid);
		kid_add(pid);
		close(p[1]);
		usleep(full * i / (KT_DELAYS - 6));
		ASSERT_EQ(0, kill(pid, SIGKILL));
		status = wait_child(pid, CHILD_TIMEOUT_MS);
		kid_del(pid);
		EXPECT_TRUE(status != -1 && WIFSIGNALED(status) &&
			    WTERMSIG(status) == SIGKILL)
			TH_LOG("kill %d: restarter status %#x", i, status);
		close(p[0]);
		/* All of the tree, or nothing: all of it checks itself */
		nr = nr_restored();
		if (nr && nr != nr_procs)
			log_restored();
		for (tries = 0; nr && tries < 1000; tries++) {
			if (nr_named("cr_kt_ok") + nr_named("cr_kt_bad") == nr)
				break;
			usleep(10000);
		}
		EXPECT_TRUE(!nr || nr == nr_procs)
			TH_LOG("kill %d: %d of the %d processes left", i, nr,
			       nr_procs);
		if (nr)
			EXPECT_EQ(nr, nr_named("cr_kt_ok"))
				TH_LOG("kill %d: %d processes checked their memory, %d wrong",
				       i, nr_named("cr_kt_ok"),
				       nr_named("cr_kt_bad"));
		nr_whole += nr == nr_procs;
		EXPECT_EQ(0, kt_kill_all());
		EXPECT_EQ(0, nr_children(getpid(), true));
	}
	TH_LOG("%d kills after the tree ran, %d during restart", nr_whole,
	       KT_DELAYS - nr_whole);
}

/* Images to break: the image of a process that checkpointed itself */

#define SELF_PAGES	96

static void self_verify(bool restarted)
{
}

static void self_body(void *arg, int imgfd)
{
	unsigned char *m;
	long r;

	cr_prepare(imgfd);
	m = mmap(NULL, SELF_PAGES * pg(), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(EXIT_SETUP);
	pat_fill(m, SELF_PAGES * pg(), SEED_BIG, 0);
	r = sys_checkpoint(0, imgfd, 0);
	if (r >= 0)
		CHECK_PAT(m, SELF_PAGES * pg(), SEED_BIG, 0);
	cr_finish(r, errno, self_verify);
}

static const char *outcome_name(enum outcome o)
{
	return o == OUT_ERRNO ? "an errno" : o == OUT_KILLED ? "killed" : "ran";
}

/*
 * Restart from the image truncated at every record boundary and a few
 * bytes into records: EINVAL each time (a regular file without its tail
 * is refused before the point of no return), the caller as it was.
 */
TEST_F_TIMEOUT(faults, restart_truncated, 600)
{
	size_t offs[MAX_OFFSETS];
	enum outcome o;
	char path[96];
	int i, n, err;

	checkpoint_child(_metadata, &self->d, self_body, NULL);
	image_load_fd(_metadata, self->d.imgfd, &self->img);
	n = fail_offsets(&self->img, self->img.len, offs);
	offs[n++] = self->img.len - 1;
	cr_path(&self->d, "truncated", path, sizeof(path));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, write_file(path, self->img.buf, offs[i]));
		o = probe(_metadata, &self->d, path, 0, &err);
		EXPECT_TRUE(o == OUT_ERRNO && err == EINVAL)
			TH_LOG("image truncated at byte %zu of %zu: %s, errno %d",
			       offs[i], self->img.len, outcome_name(o), err);
	}
	TH_LOG("%d truncations of an image of %d records", n, self->img.nr);
	no_children_left(_metadata);
}

/*
 * Restart from the image with one byte changed in every record, the
 * checksum resealed: its type, its length, and a byte of its contents.
 * Each gives an errno and leaves the caller as it was: the pages records
 * and the tail, read after the point of no return, are checked ahead in a
 * regular file.  A changed byte of contents may be one restart accepts.
 */
TEST_F_TIMEOUT(faults, restart_corrupted, 600)
{
	static unsigned char buf[4 << 20];
	int i, j, err, nr[3] = { 0 };
	enum outcome o;
	size_t off, len;
	char path[96];
	struct cr_hdr h;
	bool late;

	checkpoint_child(_metadata, &self->d, self_body, NULL);
	image_load_fd(_metadata, self->d.imgfd, &self->img);
	ASSERT_GE(sizeof(buf), self->img.len);
	cr_path(&self->d, "corrupted", path, sizeof(path));
	for (i = 0; i < self->img.nr; i++) {
		off = self->img.off[i];
		memcpy(&h, self->img.buf + off, sizeof(h));
		late = h.type == CR_HDR_PAGES;
		for (j = 0; j < 3; j++) {
			memcpy(buf, self->img.buf, self->img.len);
			len = self->img.len;
			if (j == 0)
				buf[off] ^= 0x40;		/* type */
			else if (j == 1)
				buf[off + 4] += 8;		/* length */
			else if (late)
				buf[off + 16] ^= 1;		/* an address */
			else if (h.type == CR_HDR_TAIL)
				buf[off + 8] ^= 1;		/* magic */
			else
				buf[off + 8 + (h.len - 8) / 2] ^= 0xff;
			reseal(buf, len);
			ASSERT_EQ(0, write_file(path, buf, len));
			o = probe(_metadata, &self->d, path, 0, &err);
			nr[o]++;
			if (j == 2 && !late && h.type != CR_HDR_TAIL)
				continue;
			EXPECT_EQ(OUT_ERRNO, o)
				TH_LOG("record %d (type %u) edit %d: %s, expected an errno",
				       i, h.type, j, outcome_name(o));
		}
	}
	TH_LOG("%d records: %d errnos, %d killed, %d ran", self->img.nr,
	       nr[OUT_ERRNO], nr[OUT_KILLED], nr[OUT_RAN]);
	no_children_left(_metadata);
}

TEST_HARNESS_MAIN
