// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint and restart of open files: regular files, directories,
 * stateless character devices, shared offsets, close-on-exec, descriptors
 * 0-2 given by the restarter; what checkpoint refuses; and each check
 * restart makes of the file records.
 */

#include "cr_harness.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>

#define SEED_DATA	0xf11e0001ULL
#define SEED_RO		0xf11e0002ULL
#define SEED_BSS	0xf11e0003ULL
#define DATA_LEN	8192
#define RO_LEN		4096
#define NR_ENTRIES	30

/* Where the restored descriptors are */
#define FD_RW		10	/* "data", O_RDWR, at offset 1234 */
#define FD_APPEND	11	/* "log", O_WRONLY | O_APPEND */
#define FD_RO		12	/* "ro", O_RDONLY, close-on-exec, at 100 */
#define FD_DIR		13	/* "dir", half read */
#define FD_DEVNULL		14	/* /dev/null, close-on-exec */
#define FD_DEVZERO		15	/* /dev/zero */
#define FD_URANDOM	16	/* /dev/urandom, O_NONBLOCK */
#define FD_OPATH	17	/* "data", O_PATH */
#define FD_DUP		100	/* dup of FD_RW, close-on-exec */
#define FD_HIGH		1000	/* "ro", O_NONBLOCK, beyond its end */

static const int saved_fds[] = {
	FD_RW, FD_APPEND, FD_RO, FD_DIR, FD_DEVNULL, FD_DEVZERO, FD_URANDOM,
	FD_OPATH, FD_DUP, FD_HIGH,
};

static unsigned char bss_mark[4096];

/* The state the restored process checks, set up before the checkpoint */
static struct {
	char dir[64];
	int getfl[ARRAY_SIZE(saved_fds)];
	int getfd[ARRAY_SIZE(saved_fds)];
	off_t pos[ARRAY_SIZE(saved_fds)];
	bool stdio[3];			/* which of 0-2 were open */
	char seen[NR_ENTRIES + 2][16];	/* entries read before */
	int nr_seen;
	ino_t data_ino;
	void *map;
} fs;

static void setup_fail(const char *what)
{
	cr_log("%s: %s", what, strerror(errno));
	_exit(EXIT_SETUP);
}

/* Move @fd to @to, with close-on-exec if @cloexec */
static void place(int fd, int to, bool cloexec)
{
	if (fd < 0)
		setup_fail("open");
	if (fd == to)
		return;
	if (dup3(fd, to, cloexec ? O_CLOEXEC : 0) != to)
		setup_fail("dup3");
	close(fd);
}

/*
 * Move the image out of the way of the descriptors the tests set (the test
 * runner may leave some open, so that it could get any number), and close
 * all others.
 */
static int prepare(int imgfd)
{
	int fd = fcntl(imgfd, F_DUPFD_CLOEXEC, 200);

	if (fd < 0)
		setup_fail("F_DUPFD");
	close(imgfd);
	cr_prepare(fd);
	return fd;
}

static void path_in(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static int open_in(const char *dir, const char *name, int flags)
{
	char path[PATH_MAX];

	path_in(path, sizeof(path), dir, name);
	return open(path, flags, 0644);
}

static void make_file(const char *dir, const char *name, uint64_t seed,
		      size_t len)
{
	static char buf[DATA_LEN];
	char path[PATH_MAX];

	pat_fill(buf, len, seed, 0);
	path_in(path, sizeof(path), dir, name);
	if (write_file(path, buf, len))
		setup_fail(path);
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Read directory entries of @fd with a buffer of @size into fs.seen */
static int read_entries(int fd, size_t size, char names[][16], int *nr,
			int max)
{
	uint64_t words[512];
	char *buf = (char *)words;
	struct linux_dirent64 *d;
	long n, off;

	n = syscall(SYS_getdents64, fd, buf, size);
	if (n < 0)
		return -1;
	for (off = 0; off < n; off += d->d_reclen) {
		d = (struct linux_dirent64 *)(buf + off);
		if (*nr >= max)
			return -1;
		snprintf(names[(*nr)++], 16, "%s", d->d_name);
	}
	return n;
}

static void make_dir(const char *dir)
{
	char path[PATH_MAX], name[16];
	int i;

	path_in(path, sizeof(path), dir, "dir");
	if (mkdir(path, 0755))
		setup_fail("mkdir");
	for (i = 0; i < NR_ENTRIES; i++) {
		snprintf(name, sizeof(name), "dir/e%02d", i);
		make_file(dir, name, SEED_DATA + i, 16 + i);
	}
}

static void open_files(const char *dir)
{
	place(open_in(dir, "data", O_RDWR), FD_RW, false);
	if (lseek(FD_RW, 1234, SEEK_SET) != 1234)
		setup_fail("lseek");
	if (dup3(FD_RW, FD_DUP, O_CLOEXEC) != FD_DUP)
		setup_fail("dup3");
	place(open_in(dir, "log", O_WRONLY | O_APPEND), FD_APPEND, false);
	place(open_in(dir, "ro", O_RDONLY), FD_RO, true);
	if (lseek(FD_RO, 100, SEEK_SET) != 100)
		setup_fail("lseek");
	place(open_in(dir, "dir", O_RDONLY | O_DIRECTORY), FD_DIR, false);
	/* A first batch of entries, not all */
	if (read_entries(FD_DIR, 200, fs.seen, &fs.nr_seen, NR_ENTRIES + 2) <= 0)
		setup_fail("getdents64");
	place(open("/dev/null", O_WRONLY), FD_DEVNULL, true);
	place(open("/dev/zero", O_RDONLY), FD_DEVZERO, false);
	place(open("/dev/urandom", O_RDONLY | O_NONBLOCK), FD_URANDOM, false);
	place(open_in(dir, "data", O_PATH), FD_OPATH, false);
	place(open_in(dir, "ro", O_RDONLY | O_NONBLOCK), FD_HIGH, true);
	if (lseek(FD_HIGH, 10000, SEEK_SET) != 10000)
		setup_fail("lseek");
}

static void check_fd_table(void)
{
	char path[64];
	int fd, i, nr = 0, expected = 0;
	struct dirent *e;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (!CHECK(d))
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd == dirfd(d))
			continue;
		nr++;
		for (i = 0; i < (int)ARRAY_SIZE(saved_fds); i++)
			if (saved_fds[i] == fd)
				break;
		snprintf(path, sizeof(path), "fd %d", fd);
		CHECKF(i < (int)ARRAY_SIZE(saved_fds) || (fd <= 2 && fs.stdio[fd]),
		       "%s is open in the restored process", path);
	}
	closedir(d);
	for (i = 0; i < 3; i++)
		expected += fs.stdio[i];
	expected += ARRAY_SIZE(saved_fds);
	CHECKF(nr == expected, "%d descriptors open, expected %d", nr,
	       expected);
}

static void check_flags(void)
{
	int i, fd;

	for (i = 0; i < (int)ARRAY_SIZE(saved_fds); i++) {
		fd = saved_fds[i];
		CHECKF(fcntl(fd, F_GETFL) == fs.getfl[i],
		       "fd %d: F_GETFL %#x, was %#x", fd, fcntl(fd, F_GETFL),
		       fs.getfl[i]);
		CHECKF(fcntl(fd, F_GETFD) == fs.getfd[i],
		       "fd %d: F_GETFD %d, was %d", fd, fcntl(fd, F_GETFD),
		       fs.getfd[i]);
		if (fd == FD_OPATH)
			continue;
		CHECKF(lseek(fd, 0, SEEK_CUR) == fs.pos[i],
		       "fd %d: offset %lld, was %lld", fd,
		       (long long)lseek(fd, 0, SEEK_CUR), (long long)fs.pos[i]);
	}
	CHECK(fcntl(FD_URANDOM, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(FD_HIGH, F_GETFL) & O_NONBLOCK);
	CHECK(!(fcntl(FD_RO, F_GETFL) & O_NONBLOCK));
	CHECK(fcntl(FD_APPEND, F_GETFL) & O_APPEND);
	CHECK((fcntl(FD_RW, F_GETFL) & O_ACCMODE) == O_RDWR);
	CHECK(fcntl(FD_RO, F_GETFD) == FD_CLOEXEC);
	CHECK(fcntl(FD_RW, F_GETFD) == 0);
	CHECK(fcntl(FD_DUP, F_GETFD) == FD_CLOEXEC);
	CHECK(fcntl(FD_DEVNULL, F_GETFD) == FD_CLOEXEC);
	CHECK(fcntl(FD_HIGH, F_GETFD) == FD_CLOEXEC);
}

/* FD_RW and FD_DUP share one offset */
static void check_shared_offset(void)
{
	char buf[100];

	CHECK(lseek(FD_DUP, 0, SEEK_CUR) == 1234);
	CHECK(read(FD_RW, buf, sizeof(buf)) == sizeof(buf));
	CHECK_PAT(buf, sizeof(buf), SEED_DATA, 1234);
	CHECKF(lseek(FD_DUP, 0, SEEK_CUR) == 1334,
	       "fd %d at %lld after reading fd %d", FD_DUP,
	       (long long)lseek(FD_DUP, 0, SEEK_CUR), FD_RW);
	CHECK(read(FD_DUP, buf, 10) == 10);
	CHECK_PAT(buf, 10, SEED_DATA, 1334);
	CHECK(lseek(FD_RW, 0, SEEK_CUR) == 1344);
}

static void check_dir(void)
{
	char names[2 * NR_ENTRIES + 4][16], want[16];
	int nr = 0, i, j, found, fd;
	struct stat sb;
	char buf[64];
	long n;

	for (i = 0; i < fs.nr_seen; i++)
		snprintf(names[nr++], 16, "%s", fs.seen[i]);
	do {
		n = read_entries(FD_DIR, sizeof(buf) * 8, names, &nr,
				 ARRAY_SIZE(names));
	} while (n > 0);
	CHECKF(n == 0, "getdents64 after restart: %s", strerror(errno));
	CHECKF(nr == NR_ENTRIES + 2, "%d directory entries, expected %d", nr,
	       NR_ENTRIES + 2);
	for (i = -2; i < NR_ENTRIES; i++) {
		if (i < 0)
			snprintf(want, sizeof(want), "%s", i == -2 ? "." : "..");
		else
			snprintf(want, sizeof(want), "e%02d", i);
		for (found = 0, j = 0; j < nr; j++)
			found += !strcmp(names[j], want);
		CHECKF(found == 1, "entry %s read %d times", want, found);
	}
	CHECK(fstatat(FD_DIR, "e05", &sb, 0) == 0 && sb.st_size == 21);
	fd = openat(FD_DIR, "e07", O_RDONLY);
	if (CHECK(fd >= 0)) {
		CHECK(read(fd, buf, sizeof(buf)) == 23);
		CHECK_PAT(buf, 23, SEED_DATA + 7, 0);
		close(fd);
	}
}

static void check_devices(void)
{
	unsigned char buf[32];
	struct stat sb;

	CHECK(fstat(FD_DEVNULL, &sb) == 0 && S_ISCHR(sb.st_mode) &&
	      sb.st_rdev == makedev(1, 3));
	CHECK(write(FD_DEVNULL, "gone", 4) == 4);
	CHECK(fstat(FD_DEVZERO, &sb) == 0 && sb.st_rdev == makedev(1, 5));
	memset(buf, 0xff, sizeof(buf));
	CHECK(read(FD_DEVZERO, buf, sizeof(buf)) == sizeof(buf) &&
	      all_zero(buf, sizeof(buf)));
	CHECK(fstat(FD_URANDOM, &sb) == 0 && sb.st_rdev == makedev(1, 9));
	CHECK(read(FD_URANDOM, buf, sizeof(buf)) == sizeof(buf));
}

static void check_others(bool restarted)
{
	char path[PATH_MAX], buf[64];
	struct stat sb;

	/* O_PATH: the same file, which cannot be read */
	CHECK(fstat(FD_OPATH, &sb) == 0 && sb.st_ino == fs.data_ino);
	CHECK(read(FD_OPATH, buf, 1) == -1 && errno == EBADF);
	/* FD_RO reads at its offset; FD_HIGH is beyond the end */
	CHECK(read(FD_RO, buf, 10) == 10);
	CHECK_PAT(buf, 10, SEED_RO, 100);
	CHECK(read(FD_HIGH, buf, 10) == 0);
	CHECK(lseek(FD_HIGH, 0, SEEK_CUR) == 10000);
	if (!restarted)
		return;
	/* O_APPEND: written at the end, whatever the offset */
	CHECK(write(FD_APPEND, "xyz", 3) == 3);
	path_in(path, sizeof(path), fs.dir, "log");
	CHECK(read_file(path, buf, sizeof(buf)) == 6 && !strcmp(buf, "abcxyz"));
	check_fd_table();
}

static void files_verify(bool restarted)
{
	check_flags();
	check_shared_offset();
	check_dir();
	check_devices();
	check_others(restarted);
}

static void files_body(void *arg, int imgfd)
{
	const char *dir = arg;
	char path[PATH_MAX];
	struct stat sb;
	int i;
	long r;

	snprintf(fs.dir, sizeof(fs.dir), "%s", dir);
	imgfd = prepare(imgfd);
	make_file(fs.dir, "data", SEED_DATA, DATA_LEN);
	make_file(fs.dir, "ro", SEED_RO, RO_LEN);
	path_in(path, sizeof(path), fs.dir, "log");
	if (write_file(path, "abc", 3))
		setup_fail("log");
	path_in(path, sizeof(path), fs.dir, "data");
	if (stat(path, &sb))
		setup_fail("stat");
	fs.data_ino = sb.st_ino;
	make_dir(fs.dir);
	open_files(fs.dir);
	for (i = 0; i < 3; i++)
		fs.stdio[i] = fcntl(i, F_GETFD) >= 0;
	for (i = 0; i < (int)ARRAY_SIZE(saved_fds); i++) {
		fs.getfl[i] = fcntl(saved_fds[i], F_GETFL);
		fs.getfd[i] = fcntl(saved_fds[i], F_GETFD);
		fs.pos[i] = lseek(saved_fds[i], 0, SEEK_CUR);
	}
	r = sys_checkpoint(0, imgfd, 0);
	cr_finish(r, errno, files_verify);
}

/* Standard output: a pipe, inherited from the restarter */

static void stdout_verify(bool restarted)
{
	static const char msg[] = "hello from the restored process\n";
	struct stat sb;

	if (!restarted)
		return;
	CHECK(fstat(1, &sb) == 0 && S_ISFIFO(sb.st_mode));
	CHECK(write(1, msg, sizeof(msg) - 1) == sizeof(msg) - 1);
}

static void stdout_body(void *arg, int imgfd)
{
	int p[2];
	long r;

	imgfd = prepare(imgfd);
	/* Standard output is a pipe of its own: not saved */
	if (pipe(p) || dup2(p[1], 1) != 1)
		setup_fail("pipe");
	close(p[0]);
	close(p[1]);
	signal(SIGPIPE, SIG_IGN);
	r = sys_checkpoint(0, imgfd, 0);
	cr_finish(r, errno, stdout_verify);
}

/* Standard output: a regular file, saved, or the restarter's on request */

static void regout_verify(bool restarted)
{
	struct stat sb;

	if (!restarted)
		return;
	CHECK(fstat(1, &sb) == 0);
	CHECK(write(1, "second\n", 7) == 7);
}

static void regout_body(void *arg, int imgfd)
{
	char dir[64];
	long r;

	snprintf(dir, sizeof(dir), "%s", (const char *)arg);
	imgfd = prepare(imgfd);
	place(open_in(dir, "out", O_WRONLY | O_CREAT | O_TRUNC), 1, false);
	if (write(1, "first\n", 6) != 6)
		setup_fail("write");
	r = sys_checkpoint(0, imgfd, 0);
	cr_finish(r, errno, regout_verify);
}

/* A stopped task, checkpointed by another: fds 5 and 6 share a mapped file */

static void target_handler(int sig)
{
	const unsigned char *map = fs.map;
	char buf[10];

	cr_phase = "restarted target";
	CHECK(sig == SIGUSR1);
	CHECK(fcntl(5, F_GETFD) == 0 && fcntl(6, F_GETFD) == FD_CLOEXEC);
	CHECK(fcntl(7, F_GETFD) == FD_CLOEXEC);
	CHECK(lseek(6, 0, SEEK_CUR) == 100);
	CHECK(read(5, buf, sizeof(buf)) == sizeof(buf));
	CHECK_PAT(buf, sizeof(buf), SEED_DATA, 100);
	CHECK(lseek(6, 0, SEEK_CUR) == 110);
	CHECK_PAT(map, DATA_LEN, SEED_DATA, 0);
	CHECK(write(7, "x", 1) == 1);
	CHECK(fcntl(40, F_GETFD) == -1 && errno == EBADF);
	cr_exit(EXIT_RESTARTED);
}

static void target_main(const char *dir, int ready)
{
	struct sigaction sa = { .sa_handler = target_handler };

	cr_phase = "target";
	snprintf(fs.dir, sizeof(fs.dir), "%s", dir);
	if (sigaction(SIGUSR1, &sa, NULL) || dup2(ready, 40) != 40)
		setup_fail("sigaction");
	cr_prepare(40);
	make_file(fs.dir, "data", SEED_DATA, DATA_LEN);
	place(open_in(fs.dir, "data", O_RDWR), 5, false);
	if (dup3(5, 6, O_CLOEXEC) != 6 || lseek(5, 100, SEEK_SET) != 100)
		setup_fail("dup3");
	place(open("/dev/null", O_WRONLY), 7, true);
	/* The mapping holds the open file of fds 5 and 6 too */
	fs.map = mmap(NULL, DATA_LEN, PROT_READ, MAP_PRIVATE, 5, 0);
	if (fs.map == MAP_FAILED)
		setup_fail("mmap");
	if (write(40, "r", 1) != 1)
		setup_fail("write");
	close(40);
	for (;;)
		syscall(SYS_pause);
}

/* A restarter with restart flags, that may expect restart to fail */

struct restarter_args {
	unsigned long flags;
	int err;		/* 0: restart must succeed */
	int close_fd;		/* -1, or a descriptor to close first */
	int out;		/* -1, or a descriptor to make fd 1 */
	rlim_t nofile;		/* 0, or the soft RLIMIT_NOFILE */
	const char *msg;	/* NULL, or what the log of the error says */
	pid_t parent;
};

static void run_restarter(void *arg, int fd)
{
	const struct restarter_args *a = arg;
	int log[2] = { -1, -1 };
	unsigned long flags;
	char line[512];
	struct rlimit rl;
	ssize_t n;
	long r;

	pat_fill(bss_mark, sizeof(bss_mark), SEED_BSS, 0);
	/* Images of the tests have the caller's fd 0 */
	if (fcntl(0, F_GETFD) < 0 && open("/dev/null", O_RDONLY) != 0)
		setup_fail("/dev/null");
	if (a->out >= 0 && dup2(a->out, 1) != 1)
		setup_fail("dup2");
	cr_prepare(fd);
	if (a->close_fd >= 0)
		close(a->close_fd);
	if (a->nofile) {
		if (getrlimit(RLIMIT_NOFILE, &rl))
			setup_fail("getrlimit");
		rl.rlim_cur = a->nofile;
		/* Above the hard limit: the tests check that they are root */
		if (rl.rlim_max < a->nofile)
			rl.rlim_max = a->nofile;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			setup_fail("setrlimit");
	}
	flags = a->flags;
	if (a->msg) {
		if (pipe2(log, O_CLOEXEC | O_NONBLOCK))
			setup_fail("pipe2");
		flags |= CR_LOGFD(log[1]);
	}
	r = sys_restart(0, fd, flags);
	if (!a->err) {
		cr_log("restart failed: %s", strerror(errno));
		_exit(EXIT_RESTART_RETURNED);
	}
	CHECKF(r == -1 && errno == a->err,
	       "restart returned %ld, errno %d (%s); expected errno %d (%s)",
	       r, r ? errno : 0, r ? strerror(errno) : "-", a->err,
	       strerror(a->err));
	if (a->msg) {
		n = read(log[0], line, sizeof(line) - 1);
		line[n > 0 ? n : 0] = 0;
		CHECKF(strstr(line, a->msg), "the log says \"%s\", not \"%s\"",
		       line, a->msg);
	}
	/* The restarter is unharmed */
	CHECK_PAT(bss_mark, sizeof(bss_mark), SEED_BSS, 0);
	CHECK(getppid() == a->parent);
	CHECK(fcntl(fd, F_GETFD) >= 0);
	cr_exit(0);
}

static pid_t restart_with(struct __test_metadata *_metadata, const char *img,
			  struct restarter_args *a)
{
	a->parent = getpid();
	return spawn_restarter_fn(_metadata, img, 0, NULL, run_restarter, a);
}

static void expect_restart_err(struct __test_metadata *_metadata,
			       const char *img, struct restarter_args *a)
{
	pid_t pid = restart_with(_metadata, img, a);

	expect_exit(_metadata, pid, 0, "restarter expecting an error");
}

/* A file that moved or cannot be opened any more */

static void fd5_body(void *arg, int imgfd)
{
	char dir[64];
	long r;

	snprintf(dir, sizeof(dir), "%s", (const char *)arg);
	imgfd = prepare(imgfd);
	place(open_in(dir, "five", O_RDONLY), 5, false);
	r = sys_checkpoint(0, imgfd, 0);
	cr_finish(r, errno, NULL);
}

/* As uid and gid 65534, with no groups: both the child and the restarter */
static void become_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		setup_fail("becoming nobody");
}

static void nobody_body(void *arg, int imgfd)
{
	become_nobody();
	fd5_body(arg, imgfd);
}

static void nobody_restarter(void *arg, int fd)
{
	become_nobody();
	run_restarter(arg, fd);
}

/* What checkpoint refuses */

struct refuse_args {
	char dir[64];
	int err;
	int (*setup)(const char *dir);
};

static int setup_pipe(const char *dir)
{
	int p[2];

	if (pipe(p))
		return -1;
	/* Out of the way of 5 and 6 first */
	place(p[0], 50, false);
	place(p[1], 51, false);
	place(50, 5, false);
	place(51, 6, false);
	return 0;
}

static int setup_socket(const char *dir)
{
	int s[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s))
		return -1;
	/* Out of the way of 5 and 6 first */
	place(s[0], 50, false);
	place(s[1], 51, false);
	place(50, 5, false);
	place(51, 6, false);
	return 0;
}

static int setup_eventfd(const char *dir)
{
	place(eventfd(3, 0), 5, false);
	return 0;
}

static int setup_epoll(const char *dir)
{
	place(epoll_create1(0), 5, false);
	return 0;
}

static int setup_memfd(const char *dir)
{
	place(memfd_create("cr", 0), 5, false);
	return 0;
}

static int setup_unlinked(const char *dir)
{
	char path[PATH_MAX];

	path_in(path, sizeof(path), dir, "unlinked");
	place(open(path, O_RDWR | O_CREAT, 0600), 5, false);
	return unlink(path);
}

static int setup_proc(const char *dir)
{
	place(open("/proc/self/status", O_RDONLY), 5, false);
	return 0;
}

static int setup_device(const char *dir)
{
	place(open("/dev/full", O_WRONLY), 5, false);
	return 0;
}

static int setup_flock(const char *dir)
{
	place(open_in(dir, "locked", O_RDWR | O_CREAT), 5, false);
	return flock(5, LOCK_EX);
}

static int setup_posix_lock(const char *dir)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	place(open_in(dir, "locked", O_RDWR | O_CREAT), 5, false);
	return fcntl(5, F_SETLK, &fl);
}

static pid_t sharer;

/* A child process holds the same open file */
static int setup_shared(const char *dir)
{
	place(open_in(dir, "shared", O_RDWR | O_CREAT), 5, false);
	sharer = fork();
	if (sharer < 0)
		return -1;
	if (!sharer) {
		for (;;)
			pause();
	}
	return 0;
}

static void refuse_body(void *arg, int imgfd)
{
	const struct refuse_args *a = arg;
	long r;
	int err;

	pat_fill(bss_mark, sizeof(bss_mark), SEED_BSS, 0);
	imgfd = prepare(imgfd);
	if (a->setup(a->dir))
		setup_fail("setting up the refused file");
	r = sys_checkpoint(0, imgfd, 0);
	err = errno;
	cr_phase = "refused";
	if (r == 0) {
		cr_log("checkpoint returned 0");
		_exit(EXIT_CHECK);
	}
	CHECKF(r == -1 && err == a->err,
	       "checkpoint returned %ld, errno %d (%s); expected errno %d (%s)",
	       r, r < 0 ? err : 0, r < 0 ? strerror(err) : "-", a->err,
	       strerror(a->err));
	/* Unharmed, the descriptor still there */
	CHECK_PAT(bss_mark, sizeof(bss_mark), SEED_BSS, 0);
	CHECK(fcntl(5, F_GETFD) >= 0);
	if (sharer > 0) {
		kill(sharer, SIGKILL);
		waitpid(sharer, NULL, 0);
		sharer = 0;
		/* Now the file is this process's alone */
		r = sys_checkpoint(0, imgfd, 0);
		CHECKF(r > 0, "checkpoint once the file is not shared: %s",
		       strerror(errno));
	}
	/* Without it, checkpoint works */
	close(5);
	close(6);
	r = sys_checkpoint(0, imgfd, 0);
	CHECKF(r > 0, "checkpoint without the refused file: %s",
	       strerror(errno));
	cr_exit(0);
}

/* Images to edit: records located by type, the tail resealed */

struct image {
	unsigned char *buf;
	size_t len;
};

static void image_load(struct __test_metadata *_metadata, const char *path,
		       struct image *img)
{
	struct stat sb;
	int fd;

	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &sb));
	img->len = sb.st_size;
	img->buf = malloc(img->len);
	ASSERT_NE(NULL, img->buf);
	ASSERT_EQ((ssize_t)img->len, pread(fd, img->buf, img->len, 0));
	close(fd);
}

/* The @nth (from 0) record of @type, or NULL */
static void *image_rec(struct image *img, uint32_t type, int nth)
{
	struct cr_hdr h;
	size_t off = 0;

	while (off + sizeof(h) <= img->len) {
		memcpy(&h, img->buf + off, sizeof(h));
		if (h.type == type && !nth--)
			return img->buf + off;
		if (h.type == CR_HDR_TAIL || h.len < sizeof(h))
			break;
		off += (h.len + 7) & ~7UL;
	}
	return NULL;
}

/* Recompute the checksum and write the image to @path */
static void image_save(struct __test_metadata *_metadata, struct image *img,
		       const char *path)
{
	unsigned char *t = image_rec(img, CR_HDR_TAIL, 0);
	struct cr_hdr_tail tail;

	ASSERT_NE(NULL, t);
	memcpy(&tail, t, sizeof(tail));
	tail.csum = crc32_zlib(img->buf, t - img->buf);
	memcpy(t, &tail, sizeof(tail));
	ASSERT_EQ(0, write_file(path, img->buf, img->len));
}

/* The image the record checks edit: fd 0 a pipe, fds 5, 6 (dup), 7 */
static void edit_body(void *arg, int imgfd)
{
	char dir[64];
	int p[2];
	long r;

	snprintf(dir, sizeof(dir), "%s", (const char *)arg);
	imgfd = prepare(imgfd);
	if (pipe(p) || dup2(p[0], 0) != 0)
		setup_fail("pipe");
	close(p[0]);
	close(p[1]);
	place(open_in(dir, "five", O_RDWR), 5, false);
	if (dup2(5, 6) != 6)
		setup_fail("dup2");
	place(open("/dev/null", O_RDONLY), 7, true);
	r = sys_checkpoint(0, imgfd, 0);
	cr_finish(r, errno, NULL);
}

/*
 * The tests
 */

FIXTURE(files) {
	struct cr_dir d;
};

FIXTURE_SETUP(files)
{
	struct rlimit rl;

	REQUIRE_CHECKPOINT();
	/* Descriptor 1000 must fit, in the child and in the restarter */
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max <= FD_HIGH)
		SKIP(return, "RLIMIT_NOFILE hard limit %lu <= %d",
		     (unsigned long)rl.rlim_max, FD_HIGH);
	if (rl.rlim_cur <= FD_HIGH) {
		rl.rlim_cur = rl.rlim_max;
		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	}
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(files)
{
	cr_dir_teardown(_metadata, &self->d);
}

/*
 * Regular files read-write, append-only and read-only at their offsets, a
 * directory half read, /dev/null, zero and urandom, O_PATH, descriptors
 * 100 and 1000, close-on-exec, two descriptors sharing an offset,
 * O_NONBLOCK; nothing else open.
 */
TEST_F_TIMEOUT(files, restored, TEST_TIMEOUT)
{
	char dir[sizeof(self->d.dir)];

	/* The fixture is in shared memory, which checkpoint refuses */
	snprintf(dir, sizeof(dir), "%s", self->d.dir);
	checkpoint_restart(_metadata, &self->d, files_body, dir, NULL, NULL);
}

/* Standard output, a pipe, is the restarter's */
TEST_F_TIMEOUT(files, stdout_inherited, TEST_TIMEOUT)
{
	static const char msg[] = "hello from the restored process\n";
	char buf[256];
	int out[2];
	pid_t pid;

	checkpoint_child(_metadata, &self->d, stdout_body, NULL);
	ASSERT_EQ(0, pipe(out));
	pid = spawn_restarter(_metadata, &self->d, 0, pre_stdout, &out[1]);
	close(out[1]);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
	ASSERT_LE(0, read_all(out[0], buf, sizeof(buf)));
	close(out[0]);
	ASSERT_STREQ(msg, buf);
}

/*
 * Standard output, a regular file, is restored; with
 * CR_RESTART_INHERIT_FD1 it is the restarter's instead.
 */
TEST_F_TIMEOUT(files, inherit_fd_flag, TEST_TIMEOUT)
{
	struct restarter_args a = { .close_fd = -1 };
	char path[PATH_MAX], moved[PATH_MAX], buf[256], dir[sizeof(self->d.dir)];
	int out[2];
	pid_t pid;

	cr_path(&self->d, "out", path, sizeof(path));
	snprintf(dir, sizeof(dir), "%s", self->d.dir);
	checkpoint_child(_metadata, &self->d, regout_body, dir);

	/* Restored: writes after "first" in the file */
	ASSERT_EQ(0, pipe(out));
	a.out = out[1];
	pid = restart_with(_metadata, self->d.img, &a);
	close(out[1]);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
	ASSERT_EQ(0, read_all(out[0], buf, sizeof(buf)));
	close(out[0]);
	ASSERT_EQ(13, read_file(path, buf, sizeof(buf)));
	ASSERT_STREQ("first\nsecond\n", buf);

	/* Replaced: writes into the restarter's pipe */
	ASSERT_EQ(0, pipe(out));
	a.out = out[1];
	a.flags = CR_RESTART_INHERIT_FD1;
	pid = restart_with(_metadata, self->d.img, &a);
	close(out[1]);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
	ASSERT_EQ(7, read_all(out[0], buf, sizeof(buf)));
	close(out[0]);
	ASSERT_STREQ("second\n", buf);
	ASSERT_EQ(13, read_file(path, buf, sizeof(buf)));

	/* A replaced file need not exist any more */
	cr_path(&self->d, "out.old", moved, sizeof(moved));
	ASSERT_EQ(0, rename(path, moved));
	ASSERT_EQ(0, pipe(out));
	a.out = out[1];
	pid = restart_with(_metadata, self->d.img, &a);
	close(out[1]);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
	ASSERT_EQ(7, read_all(out[0], buf, sizeof(buf)));
	close(out[0]);
	a.flags = 0;
	a.err = ENOENT;
	a.out = -1;
	expect_restart_err(_metadata, self->d.img, &a);
	a.err = 0;

	/* Unknown flags */
	a.flags = 1UL << 40;
	a.err = EINVAL;
	a.out = -1;
	expect_restart_err(_metadata, self->d.img, &a);
	/* The restarter must have the descriptor it gives */
	a.flags = CR_RESTART_INHERIT_FD2;
	a.err = EBADF;
	a.close_fd = 2;
	expect_restart_err(_metadata, self->d.img, &a);
}

/* A stopped task: its files, one of them mapped, saved by another task */
TEST_F_TIMEOUT(files, stopped_task, TEST_TIMEOUT)
{
	char dir[sizeof(self->d.dir)], c;
	int status, p[2];
	long crid;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s", self->d.dir);
	ASSERT_EQ(0, pipe(p));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		target_main(dir, p[1]);
	kid_add(pid);
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	ASSERT_EQ(0, read(p[0], &c, 1));
	close(p[0]);
	expect_in_syscall(_metadata, pid, __NR_pause, "target");
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));

	crid = sys_checkpoint(pid, self->d.imgfd, 0);
	ASSERT_LT(0, crid)
		TH_LOG("checkpoint of a stopped task: %s", strerror(errno));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	kid_del(pid);

	pid = spawn_restarter(_metadata, &self->d, crid, NULL, NULL);
	expect_in_syscall(_metadata, pid, __NR_pause, "restarted target");
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted target");
}

/* A file renamed or removed after the checkpoint: ENOENT, then back */
TEST_F_TIMEOUT(files, file_moved, TEST_TIMEOUT)
{
	struct restarter_args a = { .close_fd = -1, .out = -1 };
	char path[PATH_MAX], moved[PATH_MAX], dir[sizeof(self->d.dir)];
	pid_t pid;

	cr_path(&self->d, "five", path, sizeof(path));
	cr_path(&self->d, "moved", moved, sizeof(moved));
	ASSERT_EQ(0, write_file(path, "5", 1));
	snprintf(dir, sizeof(dir), "%s", self->d.dir);
	checkpoint_child(_metadata, &self->d, fd5_body, dir);

	ASSERT_EQ(0, rename(path, moved));
	a.err = ENOENT;
	expect_restart_err(_metadata, self->d.img, &a);

	/* Another kind of file at the path */
	ASSERT_EQ(0, mkdir(path, 0755));
	a.err = ESTALE;
	expect_restart_err(_metadata, self->d.img, &a);
	ASSERT_EQ(0, rmdir(path));

	ASSERT_EQ(0, rename(moved, path));
	pid = spawn_restarter(_metadata, &self->d, 0, NULL, NULL);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted process");
}

/* A file the restarter may not open: EACCES */
TEST_F_TIMEOUT(files, file_eacces, TEST_TIMEOUT)
{
	struct restarter_args a = { .close_fd = -1, .out = -1 };
	char path[PATH_MAX], dir[sizeof(self->d.dir)];
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root to run as another user");
	cr_path(&self->d, "five", path, sizeof(path));
	ASSERT_EQ(0, write_file(path, "5", 1));
	ASSERT_EQ(0, chmod(path, 0644));
	ASSERT_EQ(0, chmod(self->d.dir, 0755));
	/* The image is written by the test, read by the restarter */
	snprintf(dir, sizeof(dir), "%s", self->d.dir);
	checkpoint_child(_metadata, &self->d, nobody_body, dir);

	ASSERT_EQ(0, chmod(path, 0));
	a.err = EACCES;
	a.parent = getpid();
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 nobody_restarter, &a);
	expect_exit(_metadata, pid, 0, "restarter as nobody");

	ASSERT_EQ(0, chmod(path, 0644));
	a.err = 0;
	pid = spawn_restarter_fn(_metadata, self->d.img, 0, NULL,
				 nobody_restarter, &a);
	expect_exit(_metadata, pid, EXIT_RESTARTED, "restarted as nobody");
}

/* Each kind of file checkpoint refuses, and the process goes on */

FIXTURE(refuse) {
	struct cr_dir d;
};

FIXTURE_VARIANT(refuse) {
	int err;
	int (*setup)(const char *dir);
};

FIXTURE_VARIANT_ADD(refuse, pipe) {
	.err = EOPNOTSUPP, .setup = setup_pipe,
};

FIXTURE_VARIANT_ADD(refuse, socket) {
	.err = EOPNOTSUPP, .setup = setup_socket,
};

FIXTURE_VARIANT_ADD(refuse, eventfd) {
	.err = EOPNOTSUPP, .setup = setup_eventfd,
};

FIXTURE_VARIANT_ADD(refuse, epoll) {
	.err = EOPNOTSUPP, .setup = setup_epoll,
};

FIXTURE_VARIANT_ADD(refuse, memfd) {
	.err = EOPNOTSUPP, .setup = setup_memfd,
};

FIXTURE_VARIANT_ADD(refuse, unlinked) {
	.err = EOPNOTSUPP, .setup = setup_unlinked,
};

FIXTURE_VARIANT_ADD(refuse, proc) {
	.err = EOPNOTSUPP, .setup = setup_proc,
};

FIXTURE_VARIANT_ADD(refuse, dev_full) {
	.err = EOPNOTSUPP, .setup = setup_device,
};

FIXTURE_VARIANT_ADD(refuse, flock) {
	.err = EOPNOTSUPP, .setup = setup_flock,
};

FIXTURE_VARIANT_ADD(refuse, posix_lock) {
	.err = EOPNOTSUPP, .setup = setup_posix_lock,
};

FIXTURE_VARIANT_ADD(refuse, shared) {
	.err = EBUSY, .setup = setup_shared,
};

FIXTURE_SETUP(refuse)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(refuse)
{
	cr_dir_teardown(_metadata, &self->d);
}

TEST_F_TIMEOUT(refuse, checkpoint, TEST_TIMEOUT)
{
	struct refuse_args a = { .err = variant->err, .setup = variant->setup };
	pid_t pid;

	snprintf(a.dir, sizeof(a.dir), "%s", self->d.dir);
	pid = spawn_body(_metadata, refuse_body, &a, self->d.imgfd);
	expect_exit(_metadata, pid, 0, "checkpointing child");
}

/* Each check of the file records: restart fails, the restarter goes on */

enum edit_what {
	E_NONE, E_FILES_RESERVED, E_NR_FDS_HUGE, E_NR_FILES, E_FD_RESERVED,
	E_FD_FLAGS, E_FD_RANGE, E_FD_RLIMIT, E_FD_DUP, E_FD_ORDER,
	E_FD_UNDEFINED, E_FD_INHERIT_ABOVE_2, E_FILE_UNUSED, E_FILE_RESERVED,
	E_KIND_ZERO, E_KIND_UNKNOWN, E_KIND_OBJ, E_FLAGS_CREAT, E_FLAGS_TRUNC,
	E_FLAGS_KIND, E_POS_NEGATIVE, E_DEV_OTHER, E_DEV_ON_REG, E_DEV_HUGE,
	E_DEV_CHANGED, E_PATH_RELATIVE, E_PATH_NUL, E_NO_FD0, E_FILES_TYPE,
	E_NR_FDS_SHORT,
};

FIXTURE(edit) {
	struct cr_dir d;
};

FIXTURE_VARIANT(edit) {
	enum edit_what what;
	int err;
	const char *msg;
};

FIXTURE_VARIANT_ADD(edit, unchanged) {
	.what = E_NONE, .err = 0,
};

FIXTURE_VARIANT_ADD(edit, files_reserved) {
	.what = E_FILES_RESERVED, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, nr_fds_huge) {
	.what = E_NR_FDS_HUGE, .err = EMFILE,
};

/*
 * As many descriptors as the caller may have (raised to the most
 * fs.nr_open allows by default), more than the image has room for: refused
 * before room for them is taken, not when the records run out.
 */
FIXTURE_VARIANT_ADD(edit, nr_fds_beyond_image) {
	.what = E_NR_FDS_SHORT, .err = EINVAL,
	.msg = "too short for its descriptors",
};

FIXTURE_VARIANT_ADD(edit, nr_files_above_nr_fds) {
	.what = E_NR_FILES, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, fd_reserved) {
	.what = E_FD_RESERVED, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, fd_flags) {
	.what = E_FD_FLAGS, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, fd_out_of_range) {
	.what = E_FD_RANGE, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, fd_above_rlimit) {
	.what = E_FD_RLIMIT, .err = EMFILE,
};

FIXTURE_VARIANT_ADD(edit, fd_duplicate) {
	.what = E_FD_DUP, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, fd_out_of_order) {
	.what = E_FD_ORDER, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, fd_undefined_file) {
	.what = E_FD_UNDEFINED, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, fd_inherited_above_2) {
	.what = E_FD_INHERIT_ABOVE_2, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, file_unused) {
	.what = E_FILE_UNUSED, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, file_reserved) {
	.what = E_FILE_RESERVED, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, kind_zero) {
	.what = E_KIND_ZERO, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, kind_unknown) {
	.what = E_KIND_UNKNOWN, .err = EINVAL,
};

/* A file object (of trees) in an image of one task, its fields all zero */
FIXTURE_VARIANT_ADD(edit, kind_obj_one_task) {
	.what = E_KIND_OBJ, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, flags_creat) {
	.what = E_FLAGS_CREAT, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, flags_trunc) {
	.what = E_FLAGS_TRUNC, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, flags_for_kind) {
	.what = E_FLAGS_KIND, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, pos_negative) {
	.what = E_POS_NEGATIVE, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, dev_other) {
	.what = E_DEV_OTHER, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, dev_on_regular_file) {
	.what = E_DEV_ON_REG, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, dev_truncated) {
	.what = E_DEV_HUGE, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, dev_changed) {
	.what = E_DEV_CHANGED, .err = ESTALE,
};

FIXTURE_VARIANT_ADD(edit, path_relative) {
	.what = E_PATH_RELATIVE, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, path_holds_nul) {
	.what = E_PATH_NUL, .err = EINVAL,
};

FIXTURE_VARIANT_ADD(edit, no_fd0_to_give) {
	.what = E_NO_FD0, .err = EBADF,
};

FIXTURE_VARIANT_ADD(edit, files_record_missing) {
	.what = E_FILES_TYPE, .err = EINVAL,
};

FIXTURE_SETUP(edit)
{
	REQUIRE_CHECKPOINT();
	cr_dir_setup(_metadata, &self->d);
}

FIXTURE_TEARDOWN_PARENT(edit)
{
	cr_dir_teardown(_metadata, &self->d);
}

/* fds 0 (the caller's), 1-2 (maybe), 5 and 6 (file 1), 7 (file 2) */
static void edit_image(struct __test_metadata *_metadata, struct image *img,
		       enum edit_what what, struct restarter_args *a)
{
	struct cr_hdr_files *files = image_rec(img, CR_HDR_FILES, 0);
	struct cr_hdr_file *f1 = image_rec(img, CR_HDR_FILE, 0);
	struct cr_hdr_file *f2 = image_rec(img, CR_HDR_FILE, 1);
	struct cr_hdr *p1 = image_rec(img, CR_HDR_FILE_PATH, 0);
	struct cr_hdr_fd *fd5, *fd6, *fd7, *fd;
	int i;

	ASSERT_NE(NULL, files);
	ASSERT_NE(NULL, f1);
	ASSERT_NE(NULL, f2);
	ASSERT_NE(NULL, p1);
	ASSERT_EQ(2U, files->nr_files);
	ASSERT_EQ((__u32)CR_FILE_REG, f1->kind);
	ASSERT_EQ((__u32)CR_FILE_CHR, f2->kind);
	fd5 = NULL;
	fd6 = NULL;
	fd7 = NULL;
	for (i = 0; (fd = image_rec(img, CR_HDR_FD, i)); i++) {
		if (fd->fd == 0)
			ASSERT_EQ(0U, fd->file);
		fd5 = fd->fd == 5 ? fd : fd5;
		fd6 = fd->fd == 6 ? fd : fd6;
		fd7 = fd->fd == 7 ? fd : fd7;
	}
	ASSERT_EQ(files->nr_fds, (__u32)i);
	ASSERT_TRUE(fd5 && fd6 && fd7);
	ASSERT_EQ(1U, fd5->file);
	ASSERT_EQ(1U, fd6->file);
	ASSERT_EQ(2U, fd7->file);
	ASSERT_EQ((__u32)CR_FD_CLOEXEC, fd7->flags);

	switch (what) {
	case E_NONE:
		break;
	case E_FILES_RESERVED:
		files->reserved = 1;
		break;
	case E_NR_FDS_HUGE:
		files->nr_fds = 0x7fffffff;
		break;
	case E_NR_FILES:
		files->nr_files = files->nr_fds + 1;
		break;
	case E_NR_FDS_SHORT:
		/* fs.nr_open's default: 24 MB of fd records */
		files->nr_fds = 1 << 20;
		a->nofile = 1 << 20;
		break;
	case E_FD_RESERVED:
		fd6->reserved = 1;
		break;
	case E_FD_FLAGS:
		fd6->flags = 2;
		break;
	case E_FD_RANGE:
		fd7->fd = 0x7fffffff;
		break;
	case E_FD_RLIMIT:
		/* nr_fds descriptors fit, but not number 7 */
		a->nofile = 7;
		break;
	case E_FD_DUP:
		fd6->fd = 5;
		break;
	case E_FD_ORDER:
		fd6->fd = 4;
		break;
	case E_FD_UNDEFINED:
		fd6->file = 3;
		break;
	case E_FD_INHERIT_ABOVE_2:
		fd6->file = 0;
		break;
	case E_FILE_UNUSED:
		fd7->file = 1;
		break;
	case E_FILE_RESERVED:
		f1->reserved = 1;
		break;
	case E_KIND_ZERO:
		f1->kind = 0;
		break;
	case E_KIND_UNKNOWN:
		f1->kind = 99;
		break;
	case E_KIND_OBJ:
		/* Nothing else set: only the kind can refuse it */
		f1->kind = CR_FILE_OBJ;
		f1->obj = 0;
		f1->flags = 0;
		f1->pos = 0;
		f1->rdev_major = 0;
		f1->rdev_minor = 0;
		break;
	case E_FLAGS_CREAT:
		f1->flags |= O_CREAT;
		break;
	case E_FLAGS_TRUNC:
		f1->flags |= O_TRUNC;
		break;
	case E_FLAGS_KIND:
		f1->flags |= O_DIRECTORY;
		break;
	case E_POS_NEGATIVE:
		f1->pos = -1;
		break;
	case E_DEV_OTHER:
		f2->rdev_minor = 7;
		break;
	case E_DEV_ON_REG:
		f1->rdev_major = 1;
		f1->rdev_minor = 3;
		break;
	case E_DEV_HUGE:
		/* MKDEV() would make it 1:3 */
		f2->rdev_major = 1 + (1U << 12);
		break;
	case E_DEV_CHANGED:
		/* /dev/null is not /dev/zero */
		f2->rdev_minor = 5;
		break;
	case E_PATH_RELATIVE:
		((char *)(p1 + 1))[0] = 'x';
		break;
	case E_PATH_NUL:
		((char *)(p1 + 1))[2] = 0;
		break;
	case E_NO_FD0:
		a->close_fd = 0;
		break;
	case E_FILES_TYPE:
		files->h.type = CR_HDR_FD;
		break;
	}
}

TEST_F_TIMEOUT(edit, restart, TEST_TIMEOUT)
{
	struct restarter_args a = { .close_fd = -1, .out = -1 };
	char path[PATH_MAX], edited[PATH_MAX], dir[sizeof(self->d.dir)];
	struct image img;
	pid_t pid;

	if (variant->what == E_NR_FDS_SHORT && geteuid())
		SKIP(return, "raising RLIMIT_NOFILE needs root");
	cr_path(&self->d, "five", path, sizeof(path));
	cr_path(&self->d, "edited", edited, sizeof(edited));
	ASSERT_EQ(0, write_file(path, "55555", 5));
	snprintf(dir, sizeof(dir), "%s", self->d.dir);
	checkpoint_child(_metadata, &self->d, edit_body, dir);
	image_load(_metadata, self->d.img, &img);
	edit_image(_metadata, &img, variant->what, &a);
	image_save(_metadata, &img, edited);
	free(img.buf);

	a.err = variant->err;
	a.msg = variant->msg;
	a.parent = getpid();
	pid = spawn_restarter_fn(_metadata, edited, 0, NULL, run_restarter, &a);
	expect_exit(_metadata, pid, variant->err ? 0 : EXIT_RESTARTED,
		    "restarter");
}

TEST_HARNESS_MAIN
