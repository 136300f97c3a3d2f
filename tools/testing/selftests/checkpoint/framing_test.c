// SPDX-License-Identifier: GPL-2.0
/*
 * Framing of checkpoint images: the arguments of checkpoint(2) and
 * restart(2), the stream of records checkpoint writes, and how restart
 * validates the header and the tail.
 *
 * Restart of an image holding a task replaces the caller, as execve(2)
 * does, so no test here restarts what checkpoint wrote.  The validation
 * cases restart an image with no task instead, which restart only checks:
 * the header record of a real checkpoint, so that its release, crid, page
 * size and constants are the kernel's own, followed by a tail the test
 * computes.
 *
 * Checkpoint refuses a task with open files other than 0, 1, 2 and the
 * image, and the test process has some (the harness's), so the test
 * checkpoints a child of its own that closes them first.
 */

#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <asm/unistd.h>
#include <linux/checkpoint_hdr.h>

#include "../kselftest_harness.h"

/*
 * The numbers of the x86_64 system call table this series adds to; build
 * with the uapi headers of the kernel under test (make headers) to get
 * them from <asm/unistd.h>.
 */
#ifndef __NR_checkpoint
#define __NR_checkpoint 463
#endif
#ifndef __NR_restart
#define __NR_restart 464
#endif
#ifndef __NR_close_range
#define __NR_close_range 436
#endif

#define HDR_LEN		((unsigned int)sizeof(struct cr_hdr_header))
#define TAIL_LEN	((unsigned int)sizeof(struct cr_hdr_tail))
#define IMG_LEN		(HDR_LEN + TAIL_LEN)

/* Largest header record restart accepts */
#define HDR_LEN_MAX	CR_FIXED_MAX_LEN

/* Offset of the record after one of @len bytes */
#define REC_ALIGN(len)	(((size_t)(len) + CR_HDR_ALIGN - 1) &		\
			 ~(size_t)(CR_HDR_ALIGN - 1))

/* Number of record types: CR_HDR_* up to the highest one */
#define NR_REC_TYPES	(CR_HDR_ROOT + 1)

static_assert(sizeof(struct cr_hdr_header) == 160, "cr_hdr_header size");
static_assert(sizeof(struct cr_hdr_tail) == 32, "cr_hdr_tail size");

/* Larger than any pid: PID_MAX_LIMIT of 64-bit kernels is 4194304 */
#define PID_UNUSED	4194304

static long sys_checkpoint(pid_t pid, int fd, unsigned long flags)
{
	return syscall(__NR_checkpoint, pid, fd, flags);
}

static long sys_restart(int crid, int fd, unsigned long flags)
{
	return syscall(__NR_restart, crid, fd, flags);
}

/* Why the tests cannot run, or NULL if they can */
static const char *checkpoint_unsupported(void)
{
	if (sys_checkpoint(0, -1, 0) == -1 && errno == ENOSYS)
		return "kernel without CONFIG_CHECKPOINT=y";
	return NULL;
}

#define REQUIRE_CHECKPOINT() do {					\
	const char *__why = checkpoint_unsupported();			\
									\
	if (__why)							\
		SKIP(return, "%s", __why);				\
} while (0)

/* zlib's crc32(0, buf, len): reflected 0xedb88320, inverted in and out */
static __u32 crc32_zlib(const void *buf, size_t len)
{
	static __u32 table[256];
	const unsigned char *p = buf;
	__u32 crc = ~0U, c;
	int i, j;

	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			c = i;
			for (j = 0; j < 8; j++)
				c = (c >> 1) ^ (0xedb88320U & -(c & 1));
			table[i] = c;
		}
	}
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/*
 * A new empty file in /tmp, open read-write.  If @path is not NULL the
 * file is left in place and its name stored there, otherwise it is
 * unlinked at once.
 */
static int make_tmpfile(struct __test_metadata *_metadata, char *path)
{
	char name[] = "/tmp/cr_framing.XXXXXX";
	int fd;

	fd = mkstemp(name);
	ASSERT_LE(0, fd);
	if (path)
		memcpy(path, name, sizeof(name));
	else
		ASSERT_EQ(0, unlink(name));
	return fd;
}

#define TMP_PATH_LEN	sizeof("/tmp/cr_framing.XXXXXX")

static off_t file_pos(int fd)
{
	return lseek(fd, 0, SEEK_CUR);
}

/* Run restart(@crid, fd, 0) on a file holding the @len bytes of @buf */
static long restart_bytes(struct __test_metadata *_metadata, int crid,
			  const void *buf, size_t len)
{
	long ret;
	int fd, err;

	fd = make_tmpfile(_metadata, NULL);
	if (len)
		ASSERT_EQ((ssize_t)len, write(fd, buf, len));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ret = sys_restart(crid, fd, 0);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

/* Read @fd up to end of file into a new buffer; returns its length */
static size_t read_all(struct __test_metadata *_metadata, int fd,
		       unsigned char **bufp)
{
	size_t len = 0, size = 1 << 20;
	unsigned char *buf;
	ssize_t n;

	buf = malloc(size);
	ASSERT_NE(NULL, buf);
	for (;;) {
		if (len == size) {
			size *= 2;
			buf = realloc(buf, size);
			ASSERT_NE(NULL, buf);
		}
		n = read(fd, buf + len, size - len);
		ASSERT_LE(0, n);
		if (!n)
			break;
		len += n;
	}
	*bufp = buf;
	return len;
}

/* Checkpointing a child */

/* Exit status of a checkpointing child given a crid it should not have */
#define BAD_CRID	255

static void close_other_fds(int fd)
{
	if (fd > 3)
		syscall(__NR_close_range, 3U, fd - 1U, 0U);
	syscall(__NR_close_range, fd < 3 ? 3U : fd + 1U, ~0U, 0U);
}

/*
 * Unmap the shared mappings of the caller, those of the harness (its test
 * metadata and results): an image holds private mappings only.
 */
static void unmap_shared(void)
{
	char maps[1 << 16], perms[5], *line, *next;
	unsigned long start, end;
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (len < sizeof(maps) - 1) {
		n = read(fd, maps + len, sizeof(maps) - 1 - len);
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	maps[len] = '\0';

	for (line = maps; *line; line = next) {
		next = strchrnul(line, '\n');
		if (*next)
			next++;
		if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) == 3 &&
		    perms[3] == 's')
			munmap((void *)start, end - start);
	}
}

/*
 * The child's side: checkpoint itself into @fd, by pid 0 or by its own
 * pid, and exit with 0 if that succeeded, with the errno if it failed, or
 * with BAD_CRID if the crid returned is not positive or, @fd being a file
 * it can read, is not the one in the header.
 */
static __noreturn void checkpoint_exit(int fd, bool by_pid)
{
	off_t start = lseek(fd, 0, SEEK_CUR);
	struct cr_hdr_header hdr;
	long crid;

	close_other_fds(fd);
	unmap_shared();
	crid = sys_checkpoint(by_pid ? getpid() : 0, fd, 0);
	if (crid < 0)
		_exit(errno);
	if (crid == 0 || crid > INT_MAX)
		_exit(BAD_CRID);
	if (start >= 0 && pread(fd, &hdr, HDR_LEN, start) == HDR_LEN &&
	    hdr.crid != crid)
		_exit(BAD_CRID);
	_exit(0);
}

/* Fork a child that checkpoints itself into @fd; returns its pid */
static pid_t checkpoint_child(struct __test_metadata *_metadata, int fd,
			      bool by_pid)
{
	pid_t child;

	child = fork();
	ASSERT_LE(0, child);
	if (child == 0)
		checkpoint_exit(fd, by_pid);
	return child;
}

/* Wait for the child of checkpoint_child(), whose checkpoint must succeed */
static void checkpoint_wait(struct __test_metadata *_metadata, pid_t child)
{
	int status;

	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status))
		TH_LOG("checkpointing child killed by signal %d",
		       WTERMSIG(status));
	ASSERT_NE(BAD_CRID, WEXITSTATUS(status))
		TH_LOG("checkpoint returned a bad crid");
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("checkpoint failed: %s", strerror(WEXITSTATUS(status)));
}

/* Checkpoint a child into the file @fd, at the offset of @fd */
static void take_image(struct __test_metadata *_metadata, int fd,
		       bool by_pid)
{
	checkpoint_wait(_metadata, checkpoint_child(_metadata, fd, by_pid));
}

/* What a checkpoint wrote, and the time before and after it */
struct output {
	unsigned char *buf;
	size_t len;
	time_t before;
	time_t after;
};

/*
 * Checkpoint a child into the file @fd, at the offset of @fd, and read
 * the image back.  The image goes to the end of the file, where it leaves
 * the offset.
 */
static void output_file(struct __test_metadata *_metadata, int fd,
			bool by_pid, struct output *out)
{
	off_t start = file_pos(fd), end;

	out->before = time(NULL);
	take_image(_metadata, fd, by_pid);
	out->after = time(NULL);
	end = file_pos(fd);

	ASSERT_EQ(start, lseek(fd, start, SEEK_SET));
	out->len = read_all(_metadata, fd, &out->buf);
	ASSERT_EQ(end - start, (off_t)out->len);
}

/*
 * Checkpoint a child into a pipe and read the image meanwhile: it does not
 * fit in the pipe.
 */
static void output_pipe(struct __test_metadata *_metadata, struct output *out)
{
	int pipefd[2];
	pid_t child;

	ASSERT_EQ(0, pipe(pipefd));
	out->before = time(NULL);
	child = checkpoint_child(_metadata, pipefd[1], false);
	ASSERT_EQ(0, close(pipefd[1]));
	out->len = read_all(_metadata, pipefd[0], &out->buf);
	close(pipefd[0]);
	checkpoint_wait(_metadata, child);
	out->after = time(NULL);
}

/* Images with no task */

/* A header record and a tail: all restart accepts without a task */
struct image {
	struct cr_hdr_header hdr;
	struct cr_hdr_tail tail;
	int crid;
};

/* Make the tail's checksum match the header again */
static void image_seal(struct image *img)
{
	img->tail.csum = crc32_zlib(&img->hdr, HDR_LEN);
}

/* Make @img of the header record @hdr and a tail describing it */
static void image_make(struct image *img, const void *hdr)
{
	memcpy(&img->hdr, hdr, HDR_LEN);
	memset(&img->tail, 0, TAIL_LEN);
	img->tail.h.type = CR_HDR_TAIL;
	img->tail.h.len = TAIL_LEN;
	img->tail.magic = CR_TAIL_MAGIC;
	img->tail.nr_records = 1;
	img->tail.length = HDR_LEN;
	image_seal(img);
	img->crid = img->hdr.crid;
}

/* Checkpoint a child and make an image of the header it gets */
static void image_get(struct __test_metadata *_metadata, struct image *img)
{
	struct cr_hdr_header hdr;
	int fd;

	fd = make_tmpfile(_metadata, NULL);
	take_image(_metadata, fd, false);
	ASSERT_EQ(HDR_LEN, pread(fd, &hdr, HDR_LEN, 0));
	close(fd);

	ASSERT_EQ((__u32)CR_HDR_HEADER, hdr.h.type);
	ASSERT_EQ(HDR_LEN, hdr.h.len);
	image_make(img, &hdr);
}

static void image_bytes(const struct image *img, unsigned char *buf)
{
	memcpy(buf, &img->hdr, HDR_LEN);
	memcpy(buf + HDR_LEN, &img->tail, TAIL_LEN);
}

/* Re-seal @img, then restart from it with crid 0 */
static long restart_image(struct __test_metadata *_metadata,
			  struct image *img)
{
	unsigned char buf[IMG_LEN];

	image_seal(img);
	image_bytes(img, buf);
	return restart_bytes(_metadata, 0, buf, IMG_LEN);
}

/* Restart from @img as it is, stale checksum included */
static long restart_image_unsealed(struct __test_metadata *_metadata,
				   const struct image *img)
{
	unsigned char buf[IMG_LEN];

	image_bytes(img, buf);
	return restart_bytes(_metadata, 0, buf, IMG_LEN);
}

/*
 * Append the tail of @img at @off of @buf, describing the @nr_records
 * records in the @off bytes before it.  Returns the length of the image.
 */
static size_t put_tail(struct image *img, unsigned char *buf, size_t off,
		       __u64 nr_records)
{
	img->tail.nr_records = nr_records;
	img->tail.length = off;
	img->tail.csum = crc32_zlib(buf, off);
	memcpy(buf + off, &img->tail, TAIL_LEN);
	return off + TAIL_LEN;
}

/*
 * Lay out in @buf a header record @hdr_len bytes long: the header of @img
 * followed by zeroes up to @hdr_len, then zero padding up to the next
 * multiple of 8.  Returns the offset of the next record.
 */
static size_t build_long_header(struct image *img, unsigned char *buf,
				__u32 hdr_len)
{
	size_t off = REC_ALIGN(hdr_len);

	img->hdr.h.len = hdr_len;
	memset(buf, 0, off);
	memcpy(buf, &img->hdr, HDR_LEN);
	return off;
}

/* Checkpoint arguments */

TEST(checkpoint_flags)
{
	int fd;

	REQUIRE_CHECKPOINT();
	fd = make_tmpfile(_metadata, NULL);

	ASSERT_EQ(-1, sys_checkpoint(0, fd, 1 << 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, sys_checkpoint(0, fd, 1UL << 63));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, sys_checkpoint(0, fd, ~0UL));
	ASSERT_EQ(EINVAL, errno);

	/* Flags are checked before the pid and the fd */
	ASSERT_EQ(-1, sys_checkpoint(-1, fd, 1 << 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, sys_checkpoint(0, -1, 1 << 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, sys_checkpoint(PID_UNUSED, -1, 1 << 1));
	ASSERT_EQ(EINVAL, errno);

	/* A tree the caller is in: it is not stopped */
	ASSERT_EQ(-1, sys_checkpoint(0, fd, CR_CHECKPOINT_TREE));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, sys_checkpoint(getpid(), fd, CR_CHECKPOINT_TREE));
	ASSERT_EQ(EINVAL, errno);

	/* Nothing was written */
	EXPECT_EQ(0, file_pos(fd));
	EXPECT_EQ(0, lseek(fd, 0, SEEK_END));
	close(fd);
}

TEST(checkpoint_negative_pid)
{
	int fd;

	REQUIRE_CHECKPOINT();
	fd = make_tmpfile(_metadata, NULL);

	ASSERT_EQ(-1, sys_checkpoint(-1, fd, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, sys_checkpoint(-getpid(), fd, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, sys_checkpoint(INT_MIN, fd, 0));
	ASSERT_EQ(EINVAL, errno);

	EXPECT_EQ(0, lseek(fd, 0, SEEK_END));
	close(fd);
}

TEST(checkpoint_bad_fd)
{
	int fd;

	REQUIRE_CHECKPOINT();

	ASSERT_EQ(-1, sys_checkpoint(0, -1, 0));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(-1, sys_checkpoint(0, INT_MAX, 0));
	ASSERT_EQ(EBADF, errno);

	/* A descriptor that was just closed */
	fd = make_tmpfile(_metadata, NULL);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(-1, sys_checkpoint(0, fd, 0));
	ASSERT_EQ(EBADF, errno);
}

/* /dev/null has ->write and ->write_iter: the kernel cannot write it */
TEST(checkpoint_unsupported_file)
{
	int fd;

	REQUIRE_CHECKPOINT();
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, sys_checkpoint(0, fd, 0));
	ASSERT_EQ(EINVAL, errno);
	close(fd);
}

TEST(restart_unsupported_file)
{
	int fd;

	REQUIRE_CHECKPOINT();
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, sys_restart(0, fd, 0));
	ASSERT_EQ(EINVAL, errno);
	close(fd);
}

TEST(checkpoint_rdonly_fd)
{
	char path[TMP_PATH_LEN];
	int fd, rfd, pipefd[2];

	REQUIRE_CHECKPOINT();
	fd = make_tmpfile(_metadata, path);
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	ASSERT_LE(0, rfd);

	ASSERT_EQ(-1, sys_checkpoint(0, rfd, 0));
	ASSERT_EQ(EBADF, errno);
	EXPECT_EQ(0, lseek(fd, 0, SEEK_END));

	/* The read end of a pipe */
	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(-1, sys_checkpoint(0, pipefd[0], 0));
	ASSERT_EQ(EBADF, errno);

	close(pipefd[0]);
	close(pipefd[1]);
	close(rfd);
	close(fd);
}

TEST(checkpoint_opath_fd)
{
	char path[TMP_PATH_LEN];
	int fd, pfd;

	REQUIRE_CHECKPOINT();
	fd = make_tmpfile(_metadata, path);
	pfd = open(path, O_PATH | O_CLOEXEC);
	unlink(path);
	ASSERT_LE(0, pfd);

	ASSERT_EQ(-1, sys_checkpoint(0, pfd, 0));
	ASSERT_EQ(EBADF, errno);
	EXPECT_EQ(0, lseek(fd, 0, SEEK_END));

	close(pfd);
	close(fd);
}

TEST(checkpoint_dead_pid)
{
	int fd, status;
	pid_t child;

	REQUIRE_CHECKPOINT();
	fd = make_tmpfile(_metadata, NULL);

	child = fork();
	ASSERT_LE(0, child);
	if (child == 0)
		_exit(0);
	ASSERT_EQ(child, waitpid(child, &status, 0));

	ASSERT_EQ(-1, sys_checkpoint(child, fd, 0));
	ASSERT_EQ(ESRCH, errno);

	/* Pids the kernel never hands out */
	ASSERT_EQ(-1, sys_checkpoint(PID_UNUSED, fd, 0));
	ASSERT_EQ(ESRCH, errno);
	ASSERT_EQ(-1, sys_checkpoint(PID_UNUSED + 1, fd, 0));
	ASSERT_EQ(ESRCH, errno);
	ASSERT_EQ(-1, sys_checkpoint(INT_MAX, fd, 0));
	ASSERT_EQ(ESRCH, errno);

	close(fd);
}

/* Another task must be stopped to be checkpointed */
TEST(checkpoint_other_task)
{
	int fd, status;
	pid_t child;

	REQUIRE_CHECKPOINT();
	fd = make_tmpfile(_metadata, NULL);

	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			;
	}

	/* A child that runs */
	EXPECT_EQ(-1, sys_checkpoint(child, fd, 0));
	EXPECT_EQ(EBUSY, errno);

	/* The parent, the test harness, asleep in waitpid() */
	EXPECT_EQ(-1, sys_checkpoint(getppid(), fd, 0));
	EXPECT_EQ(EBUSY, errno);

	/* Nothing was written and the child was left alone */
	EXPECT_EQ(0, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(0, waitpid(child, &status, WNOHANG));
	EXPECT_EQ(0, kill(child, 0));

	ASSERT_EQ(0, kill(child, SIGKILL));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGKILL, WTERMSIG(status));
	close(fd);
}

/* What checkpoint writes */

/* Shortest record of each type; 0 for a type checkpoint does not write */
static const __u32 rec_min_len[NR_REC_TYPES] = {
	[CR_HDR_HEADER]		= sizeof(struct cr_hdr_header),
	[CR_HDR_TAIL]		= sizeof(struct cr_hdr_tail),
	[CR_HDR_TASK]		= sizeof(struct cr_hdr_task),
	[CR_HDR_CREDS]		= sizeof(struct cr_hdr_creds),
	[CR_HDR_CWD]		= sizeof(struct cr_hdr),
	[CR_HDR_ROOT]		= sizeof(struct cr_hdr),
	[CR_HDR_SIGHAND]	= sizeof(struct cr_hdr_sighand),
	[CR_HDR_CPU]		= sizeof(struct cr_hdr_cpu),
	[CR_HDR_XSTATE]		= sizeof(struct cr_hdr_xstate),
	[CR_HDR_MM]		= sizeof(struct cr_hdr_mm),
	[CR_HDR_EXE]		= sizeof(struct cr_hdr),
	[CR_HDR_VMA]		= sizeof(struct cr_hdr_vma),
	[CR_HDR_VMA_PATH]	= sizeof(struct cr_hdr),
	[CR_HDR_PAGES]		= sizeof(struct cr_hdr_pages),
	[CR_HDR_FILES]		= sizeof(struct cr_hdr_files),
	[CR_HDR_FD]		= sizeof(struct cr_hdr_fd),
	[CR_HDR_FILE]		= sizeof(struct cr_hdr_file),
	[CR_HDR_FILE_PATH]	= sizeof(struct cr_hdr),
	[CR_HDR_SIGNAL]		= sizeof(struct cr_hdr_signal),
	[CR_HDR_SIGINFO]	= sizeof(struct cr_hdr_siginfo),
	[CR_HDR_RESTART_BLOCK]	= sizeof(struct cr_hdr_restart_block),
	[CR_HDR_SHMEM]		= sizeof(struct cr_hdr_shmem),
	[CR_HDR_SHMEM_PAGES]	= sizeof(struct cr_hdr_pages),
};

/*
 * Walk the @len bytes of @buf checkpoint wrote: a header record, records
 * of known types each padded with zeroes to a multiple of 8 bytes, then a
 * tail that describes them and ends the output.  Counts the records of
 * each type in @nr.
 */
static void check_records(struct __test_metadata *_metadata,
			  const unsigned char *buf, size_t len,
			  unsigned int *nr)
{
	size_t off = 0, next, i;
	struct cr_hdr_tail tail;
	__u64 nr_records = 0;
	struct cr_hdr h;

	for (;;) {
		ASSERT_LE(off + sizeof(h), len)
			TH_LOG("no tail: the output ends at byte %zu", off);
		memcpy(&h, buf + off, sizeof(h));
		ASSERT_TRUE(h.type < NR_REC_TYPES && rec_min_len[h.type])
			TH_LOG("unknown record type %u at byte %zu", h.type,
			       off);
		ASSERT_LE(rec_min_len[h.type], h.len)
			TH_LOG("record of type %u at byte %zu: %u bytes",
			       h.type, off, h.len);
		ASSERT_EQ(off == 0, h.type == CR_HDR_HEADER)
			TH_LOG("record of type %u at byte %zu", h.type, off);
		if (h.type == CR_HDR_TAIL)
			break;

		next = off + REC_ALIGN(h.len);
		ASSERT_LE(next, len)
			TH_LOG("record of type %u at byte %zu: %u bytes, the output ends at %zu",
			       h.type, off, h.len, len);
		for (i = off + h.len; i < next; i++) {
			ASSERT_EQ(0, buf[i])
				TH_LOG("padding byte %zu", i);
		}
		nr[h.type]++;
		nr_records++;
		off = next;
	}

	/* The test's CRC-32 is zlib's */
	ASSERT_EQ(0xcbf43926, crc32_zlib("123456789", 9));

	ASSERT_EQ(TAIL_LEN, h.len);
	ASSERT_EQ(len, off + TAIL_LEN)
		TH_LOG("%zu bytes after the tail", len - off - TAIL_LEN);
	memcpy(&tail, buf + off, TAIL_LEN);
	EXPECT_EQ((__u32)CR_TAIL_MAGIC, tail.magic);
	EXPECT_EQ(nr_records, tail.nr_records);
	EXPECT_EQ(off, tail.length);
	EXPECT_EQ(crc32_zlib(buf, off), tail.csum);
}

static void check_header(struct __test_metadata *_metadata,
			 const struct cr_hdr_header *hdr,
			 time_t before, time_t after)
{
	char release[CR_RELEASE_LEN] = { 0 };
	struct utsname u;
	int i;

	ASSERT_EQ((__u32)CR_HDR_HEADER, hdr->h.type);
	ASSERT_EQ(HDR_LEN, hdr->h.len);
	EXPECT_EQ((__u32)CR_IMAGE_MAGIC, hdr->magic);
	EXPECT_EQ((__u32)CR_IMAGE_VERSION, hdr->version);
	EXPECT_EQ((__u32)CR_ARCH_X86_64, hdr->arch);
	EXPECT_EQ(sysconf(_SC_PAGESIZE), hdr->page_size);
	EXPECT_EQ(0U, hdr->flags);
	EXPECT_LT(0, hdr->crid);
	EXPECT_LE(before - 1, (time_t)hdr->time);
	EXPECT_GE(after + 1, (time_t)hdr->time);

	ASSERT_EQ(0, uname(&u));
	memcpy(release, u.release, strnlen(u.release, CR_RELEASE_LEN - 1));
	EXPECT_EQ(0, memcmp(release, hdr->release, CR_RELEASE_LEN))
		TH_LOG("release \"%.*s\", expected \"%s\"", CR_RELEASE_LEN,
		       hdr->release, release);
	for (i = 0; i < (int)sizeof(hdr->pad); i++)
		EXPECT_EQ(0, hdr->pad[i]);

	EXPECT_EQ(16U, hdr->consts.task_comm_len);
	EXPECT_EQ(64U, hdr->consts.nsig);
	EXPECT_EQ(64U, hdr->consts.uts_len);
	EXPECT_EQ(16U, hdr->consts.rlim_nlimits);
	EXPECT_EQ(65536U, hdr->consts.ngroups_max);
	EXPECT_EQ(4096U, hdr->consts.path_max);
	EXPECT_EQ(0U, hdr->consts.reserved[0]);
	EXPECT_EQ(0U, hdr->consts.reserved[1]);
	EXPECT_EQ(0U, hdr->reserved[0]);
	EXPECT_EQ(0U, hdr->reserved[1]);
}

/* The image of a task that checkpointed itself */
static void check_image(struct __test_metadata *_metadata,
			const struct output *out)
{
	unsigned int nr[NR_REC_TYPES] = { 0 };
	struct cr_hdr_header hdr;

	check_records(_metadata, out->buf, out->len, nr);
	memcpy(&hdr, out->buf, HDR_LEN);
	check_header(_metadata, &hdr, out->before, out->after);

	EXPECT_LE(1U, nr[CR_HDR_TASK]);
	EXPECT_LE(1U, nr[CR_HDR_CPU]);
	EXPECT_LE(1U, nr[CR_HDR_MM]);
	EXPECT_LE(1U, nr[CR_HDR_PAGES]);
}

static void check_checkpoint_self(struct __test_metadata *_metadata,
				  bool by_pid)
{
	struct output out;
	int fd;

	fd = make_tmpfile(_metadata, NULL);
	output_file(_metadata, fd, by_pid, &out);
	close(fd);
	check_image(_metadata, &out);
	free(out.buf);
}

TEST(checkpoint_self_pid0)
{
	REQUIRE_CHECKPOINT();
	check_checkpoint_self(_metadata, false);
}

TEST(checkpoint_self_getpid)
{
	REQUIRE_CHECKPOINT();
	check_checkpoint_self(_metadata, true);
}

TEST(checkpoint_crid_increases)
{
	struct image a, b;

	REQUIRE_CHECKPOINT();
	image_get(_metadata, &a);
	image_get(_metadata, &b);
	ASSERT_LT(a.crid, b.crid);
}

TEST(checkpoint_at_offset)
{
	static const char junk[] = "0123456789abc";
	const off_t off = sizeof(junk);
	unsigned char buf[IMG_LEN];
	char head[sizeof(junk)];
	struct output out;
	struct image img;
	int fd;

	REQUIRE_CHECKPOINT();
	fd = make_tmpfile(_metadata, NULL);
	ASSERT_EQ(off, write(fd, junk, off));

	output_file(_metadata, fd, false, &out);
	ASSERT_EQ(off, pread(fd, head, off, 0));
	EXPECT_EQ(0, memcmp(head, junk, off));
	check_image(_metadata, &out);
	image_make(&img, out.buf);
	free(out.buf);

	/* restart reads from the current offset */
	ASSERT_EQ(0, ftruncate(fd, off));
	image_bytes(&img, buf);
	ASSERT_EQ(IMG_LEN, pwrite(fd, buf, IMG_LEN, off));
	ASSERT_EQ(off, lseek(fd, off, SEEK_SET));
	ASSERT_EQ(0, sys_restart(img.crid, fd, 0));
	EXPECT_EQ(off + IMG_LEN, file_pos(fd));

	/* and so does not find an image at offset 0 */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(-1, sys_restart(0, fd, 0));
	ASSERT_EQ(EINVAL, errno);
	close(fd);
}

/*
 * Round trips: what checkpoint wrote is read back and checked, then its
 * header, sealed with a tail, is restarted from the same kind of file.
 */

TEST(roundtrip_pipe)
{
	unsigned char buf[IMG_LEN];
	struct output out;
	struct image img;
	int pipefd[2];
	unsigned int i;
	char c;

	REQUIRE_CHECKPOINT();
	output_pipe(_metadata, &out);
	check_image(_metadata, &out);
	image_make(&img, out.buf);
	free(out.buf);
	image_bytes(&img, buf);

	/* With the image's crid, then with crid 0 */
	for (i = 0; i < 2; i++) {
		int crid = i ? 0 : img.crid;

		ASSERT_EQ(0, pipe(pipefd));
		ASSERT_EQ(IMG_LEN, write(pipefd[1], buf, IMG_LEN));
		ASSERT_EQ(0, close(pipefd[1]));
		ASSERT_EQ(0, sys_restart(crid, pipefd[0], 0))
			TH_LOG("crid %d", crid);
		/* Everything was consumed */
		EXPECT_EQ(0, read(pipefd[0], &c, 1));
		close(pipefd[0]);
	}
}

TEST(roundtrip_file)
{
	unsigned char buf[IMG_LEN];
	char path[TMP_PATH_LEN];
	struct output out;
	struct image img;
	int fd, rfd;

	REQUIRE_CHECKPOINT();
	fd = make_tmpfile(_metadata, path);
	/* A second open file, read-only, with its own offset */
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	ASSERT_LE(0, rfd);

	output_file(_metadata, fd, false, &out);
	EXPECT_EQ(0, file_pos(rfd));
	check_image(_metadata, &out);
	image_make(&img, out.buf);
	free(out.buf);

	ASSERT_EQ(0, ftruncate(fd, 0));
	image_bytes(&img, buf);
	ASSERT_EQ(IMG_LEN, pwrite(fd, buf, IMG_LEN, 0));

	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(0, sys_restart(img.crid, fd, 0));
	EXPECT_EQ(IMG_LEN, file_pos(fd));

	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(0, sys_restart(0, fd, 0));
	EXPECT_EQ(IMG_LEN, file_pos(fd));

	/* From the descriptor opened read-only */
	ASSERT_EQ(0, sys_restart(img.crid, rfd, 0));
	EXPECT_EQ(IMG_LEN, file_pos(rfd));

	/* At the end of the file there is nothing left to read */
	ASSERT_EQ(-1, sys_restart(0, rfd, 0));
	ASSERT_EQ(EINVAL, errno);

	close(rfd);
	close(fd);
}

/* Restart arguments */

/* An image with no task, of the header of a child's checkpoint */
FIXTURE(image) {
	struct image img;
};

FIXTURE_SETUP(image)
{
	REQUIRE_CHECKPOINT();
	image_get(_metadata, &self->img);
}

FIXTURE_TEARDOWN(image)
{
}

/* Write @img to a new file and leave the file at offset 0 */
static int image_file(struct __test_metadata *_metadata,
		      const struct image *img, char *path)
{
	unsigned char buf[IMG_LEN];
	int fd;

	fd = make_tmpfile(_metadata, path);
	image_bytes(img, buf);
	ASSERT_EQ(IMG_LEN, write(fd, buf, IMG_LEN));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	return fd;
}

TEST_F(image, restart_flags)
{
	int fd;

	fd = image_file(_metadata, &self->img, NULL);
	ASSERT_EQ(-1, sys_restart(0, fd, 1UL << 40));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(-1, sys_restart(self->img.crid, fd, 1UL << 63));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(-1, sys_restart(0, fd, ~0UL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(-1, sys_restart(0, fd, 1 << 5));
	ASSERT_EQ(EINVAL, errno);

	/* New pids are for a tree; a tree needs an image of a tree */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(-1, sys_restart(0, fd, CR_RESTART_NEW_PIDS));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(-1, sys_restart(0, fd, CR_RESTART_TREE));
	ASSERT_EQ(EINVAL, errno);

	/* The image itself is fine */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(0, sys_restart(0, fd, 0));
	close(fd);
}

TEST_F(image, restart_negative_crid)
{
	int fd;

	fd = image_file(_metadata, &self->img, NULL);
	ASSERT_EQ(-1, sys_restart(-1, fd, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(-1, sys_restart(-self->img.crid, fd, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(-1, sys_restart(INT_MIN, fd, 0));
	ASSERT_EQ(EINVAL, errno);
	close(fd);
}

TEST_F(image, restart_bad_fd)
{
	int fd;

	ASSERT_EQ(-1, sys_restart(0, -1, 0));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(-1, sys_restart(self->img.crid, INT_MAX, 0));
	ASSERT_EQ(EBADF, errno);

	fd = image_file(_metadata, &self->img, NULL);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(-1, sys_restart(0, fd, 0));
	ASSERT_EQ(EBADF, errno);
}

TEST_F(image, restart_wronly_fd)
{
	unsigned char buf[IMG_LEN];
	char path[TMP_PATH_LEN];
	int fd, wfd, pipefd[2];

	fd = image_file(_metadata, &self->img, path);
	wfd = open(path, O_WRONLY | O_CLOEXEC);
	unlink(path);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(-1, sys_restart(0, wfd, 0));
	ASSERT_EQ(EBADF, errno);

	/* The write end of a pipe holding an image */
	ASSERT_EQ(0, pipe(pipefd));
	image_bytes(&self->img, buf);
	ASSERT_EQ(IMG_LEN, write(pipefd[1], buf, IMG_LEN));
	ASSERT_EQ(-1, sys_restart(0, pipefd[1], 0));
	ASSERT_EQ(EBADF, errno);

	close(pipefd[0]);
	close(pipefd[1]);
	close(wfd);
	close(fd);
}

TEST_F(image, restart_crid_match)
{
	unsigned char buf[IMG_LEN];

	image_bytes(&self->img, buf);
	ASSERT_EQ(0, restart_bytes(_metadata, 0, buf, IMG_LEN));
	ASSERT_EQ(0, restart_bytes(_metadata, self->img.crid, buf, IMG_LEN));
}

TEST_F(image, restart_crid_mismatch)
{
	unsigned char buf[IMG_LEN];
	struct image other;

	image_bytes(&self->img, buf);
	ASSERT_EQ(-1, restart_bytes(_metadata, self->img.crid + 1, buf,
				    IMG_LEN));
	ASSERT_EQ(EINVAL, errno);
	if (self->img.crid > 1) {
		ASSERT_EQ(-1, restart_bytes(_metadata, self->img.crid - 1,
					    buf, IMG_LEN));
		ASSERT_EQ(EINVAL, errno);
	}

	/* The crid of a later checkpoint */
	image_get(_metadata, &other);
	ASSERT_EQ(-1, restart_bytes(_metadata, other.crid, buf, IMG_LEN));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(image, restart_crid_from_image)
{
	unsigned char buf[IMG_LEN];
	const int crid = 12345;

	if (self->img.crid == crid)
		self->img.hdr.crid = crid + 1;
	else
		self->img.hdr.crid = crid;
	image_seal(&self->img);
	image_bytes(&self->img, buf);

	/* crid 0 takes the image's crid, whatever it is */
	ASSERT_EQ(0, restart_bytes(_metadata, 0, buf, IMG_LEN));
	ASSERT_EQ(0, restart_bytes(_metadata, self->img.hdr.crid, buf,
				   IMG_LEN));
	ASSERT_EQ(-1, restart_bytes(_metadata, self->img.crid, buf, IMG_LEN));
	ASSERT_EQ(EINVAL, errno);
}

/* Validation of the image, one branch each */

TEST_F(image, valid)
{
	int fd;

	fd = image_file(_metadata, &self->img, NULL);
	ASSERT_EQ(0, sys_restart(0, fd, 0));
	/* The whole image was read */
	EXPECT_EQ(IMG_LEN, file_pos(fd));
	close(fd);
}

TEST_F(image, empty)
{
	ASSERT_EQ(-1, restart_bytes(_metadata, 0, NULL, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, restart_bytes(_metadata, self->img.crid, NULL, 0));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(image, truncated)
{
	unsigned char buf[IMG_LEN];
	unsigned int len;

	image_bytes(&self->img, buf);
	for (len = 0; len < IMG_LEN; len++) {
		ASSERT_EQ(-1, restart_bytes(_metadata, 0, buf, len))
			TH_LOG("image cut to %u bytes", len);
		ASSERT_EQ(EINVAL, errno)
			TH_LOG("image cut to %u bytes", len);
	}
	ASSERT_EQ(0, restart_bytes(_metadata, 0, buf, IMG_LEN));
}

TEST_F(image, missing_tail)
{
	ASSERT_EQ(-1, restart_bytes(_metadata, 0, &self->img.hdr, HDR_LEN));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(image, first_record_not_header)
{
	static const __u32 types[] = {
		0, CR_HDR_TAIL, CR_HDR_TASK, 9999, 0xffffffff,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		struct image img = self->img;

		img.hdr.h.type = types[i];
		ASSERT_EQ(-1, restart_image(_metadata, &img))
			TH_LOG("type %u", types[i]);
		ASSERT_EQ(EINVAL, errno)
			TH_LOG("type %u", types[i]);
	}

	/* An image made of a tail alone */
	ASSERT_EQ(-1, restart_bytes(_metadata, 0, &self->img.tail, TAIL_LEN));
	ASSERT_EQ(EINVAL, errno);
}

static void expect_hdr_len(struct __test_metadata *_metadata,
			   const struct image *orig, __u32 len, int err)
{
	struct image img = *orig;

	img.hdr.h.len = len;
	ASSERT_EQ(-1, restart_image(_metadata, &img))
		TH_LOG("header length %u", len);
	ASSERT_EQ(err, errno)
		TH_LOG("header length %u", len);
}

TEST_F(image, header_len_short)
{
	expect_hdr_len(_metadata, &self->img, HDR_LEN - 1, EINVAL);
	expect_hdr_len(_metadata, &self->img, HDR_LEN - 4, EINVAL);
	expect_hdr_len(_metadata, &self->img, HDR_LEN - 8, EINVAL);
	expect_hdr_len(_metadata, &self->img, 16, EINVAL);
	expect_hdr_len(_metadata, &self->img, 8, EINVAL);
}

TEST_F(image, header_len_tiny)
{
	expect_hdr_len(_metadata, &self->img, 0, EINVAL);
	expect_hdr_len(_metadata, &self->img, 1, EINVAL);
	expect_hdr_len(_metadata, &self->img, 4, EINVAL);
	expect_hdr_len(_metadata, &self->img, 7, EINVAL);
}

TEST_F(image, header_len_huge)
{
	expect_hdr_len(_metadata, &self->img, HDR_LEN_MAX + 1, EINVAL);
	expect_hdr_len(_metadata, &self->img, HDR_LEN_MAX + 8, EINVAL);
	expect_hdr_len(_metadata, &self->img, 1 << 20, EINVAL);
	expect_hdr_len(_metadata, &self->img, 0x7fffffff, EINVAL);
	expect_hdr_len(_metadata, &self->img, 0xfffffff8, EINVAL);
	expect_hdr_len(_metadata, &self->img, 0xffffffff, EINVAL);
}

TEST_F(image, header_len_beyond_image)
{
	expect_hdr_len(_metadata, &self->img, IMG_LEN + 8, EINVAL);
	expect_hdr_len(_metadata, &self->img, 1000, EINVAL);
	expect_hdr_len(_metadata, &self->img, HDR_LEN_MAX, EINVAL);
}

/* A header record longer than the struct, the extra bytes being zero */
TEST_F(image, header_extension_zero)
{
	unsigned char buf[HDR_LEN + 8 + TAIL_LEN];
	size_t off, len;

	off = build_long_header(&self->img, buf, HDR_LEN + 8);
	len = put_tail(&self->img, buf, off, 1);
	ASSERT_EQ(sizeof(buf), len);
	ASSERT_EQ(0, restart_bytes(_metadata, 0, buf, len));
	ASSERT_EQ(0, restart_bytes(_metadata, self->img.crid, buf, len));
}

TEST_F(image, header_extension_nonzero)
{
	unsigned char buf[HDR_LEN + 8 + TAIL_LEN];
	struct image img;
	size_t off, len;
	int i;

	for (i = 0; i < 8; i++) {
		img = self->img;
		off = build_long_header(&img, buf, HDR_LEN + 8);
		buf[HDR_LEN + i] = 0x01 << i;
		len = put_tail(&img, buf, off, 1);
		ASSERT_EQ(-1, restart_bytes(_metadata, 0, buf, len))
			TH_LOG("extra byte %d", i);
		ASSERT_EQ(E2BIG, errno)
			TH_LOG("extra byte %d", i);
	}
}

/* The longest header record allowed, and one more aligned step */
TEST_F(image, header_len_max)
{
	unsigned char buf[HDR_LEN_MAX + CR_HDR_ALIGN + TAIL_LEN];
	struct image img = self->img;
	size_t off, len;

	off = build_long_header(&img, buf, HDR_LEN_MAX);
	len = put_tail(&img, buf, off, 1);
	ASSERT_EQ(0, restart_bytes(_metadata, 0, buf, len));

	img = self->img;
	off = build_long_header(&img, buf, HDR_LEN_MAX + CR_HDR_ALIGN);
	len = put_tail(&img, buf, off, 1);
	ASSERT_EQ(-1, restart_bytes(_metadata, 0, buf, len));
	ASSERT_EQ(EINVAL, errno);
}

/*
 * A header record whose length is not a multiple of 8: the padding after
 * it is part of the stream and must be zero.
 */
TEST_F(image, header_padding)
{
	unsigned char buf[HDR_LEN + 8 + TAIL_LEN];
	struct image img;
	size_t off, len;
	int i;

	img = self->img;
	off = build_long_header(&img, buf, HDR_LEN + 4);
	ASSERT_EQ(HDR_LEN + 8, off);
	len = put_tail(&img, buf, off, 1);
	ASSERT_EQ(0, restart_bytes(_metadata, 0, buf, len));

	for (i = 4; i < 8; i++) {
		img = self->img;
		off = build_long_header(&img, buf, HDR_LEN + 4);
		buf[HDR_LEN + i] = 0xff;
		len = put_tail(&img, buf, off, 1);
		ASSERT_EQ(-1, restart_bytes(_metadata, 0, buf, len))
			TH_LOG("padding byte %d", i - 4);
		ASSERT_EQ(EINVAL, errno)
			TH_LOG("padding byte %d", i - 4);
	}
}

TEST_F(image, bad_magic)
{
	static const __u32 magics[] = {
		0, CR_TAIL_MAGIC, CR_IMAGE_MAGIC ^ 1, CR_IMAGE_MAGIC ^ 0x80000000,
		0x434b5054,	/* byte-swapped */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(magics); i++) {
		struct image img = self->img;

		img.hdr.magic = magics[i];
		ASSERT_EQ(-1, restart_image(_metadata, &img))
			TH_LOG("magic %#x", magics[i]);
		ASSERT_EQ(EINVAL, errno)
			TH_LOG("magic %#x", magics[i]);
	}
}

/* Set the 32-bit header field at @offset to each of @values in turn */
static void expect_u32_field(struct __test_metadata *_metadata,
			     const struct image *orig, size_t offset,
			     const char *name, const __u32 *values,
			     unsigned int nr, int err)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		struct image img = *orig;

		memcpy((char *)&img.hdr + offset, &values[i], sizeof(values[i]));
		ASSERT_EQ(-1, restart_image(_metadata, &img))
			TH_LOG("%s = %u", name, values[i]);
		ASSERT_EQ(err, errno)
			TH_LOG("%s = %u", name, values[i]);
	}
}

#define ASSERT_FIELD_ERRNO(field, err, ...) do {			\
	const __u32 __v[] = { __VA_ARGS__ };				\
									\
	expect_u32_field(_metadata, &self->img,				\
			 offsetof(struct cr_hdr_header, field), #field,	\
			 __v, ARRAY_SIZE(__v), err);			\
} while (0)

TEST_F(image, bad_version)
{
	ASSERT_FIELD_ERRNO(version, EOPNOTSUPP, 0, CR_IMAGE_VERSION + 1,
			   CR_IMAGE_VERSION + 0x100, 0xffffffff);
}

TEST_F(image, bad_arch)
{
	ASSERT_FIELD_ERRNO(arch, EOPNOTSUPP, 0, CR_ARCH_X86_64 + 1, 0xffffffff);
}

TEST_F(image, bad_page_size)
{
	__u32 ps = sysconf(_SC_PAGESIZE);

	ASSERT_FIELD_ERRNO(page_size, EOPNOTSUPP, 0, 1, ps / 2, ps * 2, ps + 1,
			   0xffffffff);
}

TEST_F(image, header_flags)
{
	ASSERT_FIELD_ERRNO(flags, EINVAL, 1, 2, 0x80000000, 0xffffffff);
}

TEST_F(image, header_crid)
{
	ASSERT_FIELD_ERRNO(crid, EINVAL, 0, (__u32)-1, (__u32)INT_MIN);
}

TEST_F(image, consts_reserved)
{
	ASSERT_FIELD_ERRNO(consts.reserved[0], EINVAL, 1, 0x80000000, 0xffffffff);
	ASSERT_FIELD_ERRNO(consts.reserved[1], EINVAL, 1, 0x80000000, 0xffffffff);
}

TEST_F(image, pad_nonzero)
{
	int i;

	for (i = 0; i < (int)sizeof(self->img.hdr.pad); i++) {
		struct image img = self->img;

		img.hdr.pad[i] = 0x80;
		ASSERT_EQ(-1, restart_image(_metadata, &img))
			TH_LOG("pad[%d]", i);
		ASSERT_EQ(EINVAL, errno)
			TH_LOG("pad[%d]", i);
	}
}

TEST_F(image, reserved_nonzero)
{
	static const __u64 values[] = { 1, 1ULL << 32, 1ULL << 63 };
	unsigned int i, j;

	for (i = 0; i < 2; i++) {
		for (j = 0; j < ARRAY_SIZE(values); j++) {
			struct image img = self->img;

			img.hdr.reserved[i] = values[j];
			ASSERT_EQ(-1, restart_image(_metadata, &img))
				TH_LOG("reserved[%u] = %#llx", i,
				       (unsigned long long)values[j]);
			ASSERT_EQ(EINVAL, errno)
				TH_LOG("reserved[%u] = %#llx", i,
				       (unsigned long long)values[j]);
		}
	}
}

TEST_F(image, release_unterminated)
{
	memset(self->img.hdr.release, 'a', CR_RELEASE_LEN);
	ASSERT_EQ(-1, restart_image(_metadata, &self->img));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(image, release_garbage_after_nul)
{
	size_t n = strnlen((char *)self->img.hdr.release, CR_RELEASE_LEN);
	size_t i;

	ASSERT_GT((size_t)CR_RELEASE_LEN - 1, n)
		TH_LOG("release string fills the field, no byte after its NUL");
	for (i = n + 1; i < CR_RELEASE_LEN; i++) {
		struct image img = self->img;

		img.hdr.release[i] = 'x';
		ASSERT_EQ(-1, restart_image(_metadata, &img))
			TH_LOG("release[%zu] after NUL at %zu", i, n);
		ASSERT_EQ(EINVAL, errno)
			TH_LOG("release[%zu] after NUL at %zu", i, n);
	}
}

/* Records between the header and the tail */

static size_t build_with_record(struct image *img, unsigned char *buf,
				__u32 type)
{
	struct cr_hdr h = { .type = type, .len = sizeof(h) };

	memcpy(buf, &img->hdr, HDR_LEN);
	memcpy(buf + HDR_LEN, &h, sizeof(h));
	return put_tail(img, buf, HDR_LEN + sizeof(h), 2);
}

TEST_F(image, unknown_record)
{
	static const __u32 types[] = { 9999, 0x10000, 0xffffffff };
	unsigned char buf[HDR_LEN + 8 + TAIL_LEN];
	unsigned int i;
	size_t len;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		struct image img = self->img;

		len = build_with_record(&img, buf, types[i]);
		ASSERT_EQ(-1, restart_bytes(_metadata, 0, buf, len))
			TH_LOG("type %u", types[i]);
		ASSERT_EQ(EINVAL, errno)
			TH_LOG("type %u", types[i]);
	}
}

TEST_F(image, record_type_zero)
{
	unsigned char buf[HDR_LEN + 8 + TAIL_LEN];
	size_t len;

	len = build_with_record(&self->img, buf, 0);
	ASSERT_EQ(-1, restart_bytes(_metadata, 0, buf, len));
	ASSERT_EQ(EINVAL, errno);
}

/* The tail */

/* A record the size of a tail, in place of the tail, of another type */
TEST_F(image, tail_bad_type)
{
	static const __u32 types[] = { 0, CR_HDR_TASK, 9999, 0xffffffff };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		struct image img = self->img;

		img.tail.h.type = types[i];
		ASSERT_EQ(-1, restart_image(_metadata, &img))
			TH_LOG("type %u", types[i]);
		ASSERT_EQ(EINVAL, errno)
			TH_LOG("type %u", types[i]);
	}
}

TEST_F(image, tail_len_short)
{
	static const __u32 lens[] = { 8, 16, 24, TAIL_LEN - 1 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		struct image img = self->img;

		img.tail.h.len = lens[i];
		ASSERT_EQ(-1, restart_image(_metadata, &img))
			TH_LOG("tail length %u", lens[i]);
		ASSERT_EQ(EINVAL, errno)
			TH_LOG("tail length %u", lens[i]);
	}
}

TEST_F(image, tail_len_tiny)
{
	static const __u32 lens[] = { 0, 1, 4, 7 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		struct image img = self->img;

		img.tail.h.len = lens[i];
		ASSERT_EQ(-1, restart_image(_metadata, &img))
			TH_LOG("tail length %u", lens[i]);
		ASSERT_EQ(EINVAL, errno)
			TH_LOG("tail length %u", lens[i]);
	}
}

/* A tail record of 36 bytes followed by 4 non-zero bytes of padding */
TEST_F(image, tail_padding_nonzero)
{
	unsigned char buf[IMG_LEN + 8];

	memset(buf, 0, sizeof(buf));
	self->img.tail.h.len = TAIL_LEN + 4;
	image_seal(&self->img);
	image_bytes(&self->img, buf);
	memset(buf + IMG_LEN + 4, 0xff, 4);

	ASSERT_EQ(-1, restart_bytes(_metadata, 0, buf, sizeof(buf)));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(image, tail_bad_magic)
{
	static const __u32 magics[] = {
		0, CR_IMAGE_MAGIC, CR_TAIL_MAGIC ^ 1, 0xffffffff,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(magics); i++) {
		struct image img = self->img;

		img.tail.magic = magics[i];
		ASSERT_EQ(-1, restart_image(_metadata, &img))
			TH_LOG("tail magic %#x", magics[i]);
		ASSERT_EQ(EINVAL, errno)
			TH_LOG("tail magic %#x", magics[i]);
	}
}

TEST_F(image, tail_nr_records)
{
	static const __u64 values[] = { 0, 2, 1ULL << 32, ~0ULL };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(values); i++) {
		struct image img = self->img;

		img.tail.nr_records = values[i];
		ASSERT_EQ(-1, restart_image(_metadata, &img))
			TH_LOG("nr_records %llu", (unsigned long long)values[i]);
		ASSERT_EQ(EINVAL, errno)
			TH_LOG("nr_records %llu", (unsigned long long)values[i]);
	}
}

TEST_F(image, tail_length)
{
	static const __u64 values[] = {
		0, HDR_LEN - 8, HDR_LEN - 1, HDR_LEN + 1, HDR_LEN + 8, IMG_LEN,
		HDR_LEN + (1ULL << 32), ~0ULL,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(values); i++) {
		struct image img = self->img;

		img.tail.length = values[i];
		ASSERT_EQ(-1, restart_image(_metadata, &img))
			TH_LOG("length %llu", (unsigned long long)values[i]);
		ASSERT_EQ(EINVAL, errno)
			TH_LOG("length %llu", (unsigned long long)values[i]);
	}
}

TEST_F(image, tail_csum)
{
	int bit;

	for (bit = 0; bit < 32; bit++) {
		struct image img = self->img;

		img.tail.csum ^= 1U << bit;
		ASSERT_EQ(-1, restart_image_unsealed(_metadata, &img))
			TH_LOG("csum bit %d flipped", bit);
		ASSERT_EQ(EBADMSG, errno)
			TH_LOG("csum bit %d flipped", bit);
	}
}

/* A change the header checks cannot see is caught by the checksum */
TEST_F(image, header_changed_stale_csum)
{
	struct image img = self->img;

	img.hdr.release[0] ^= 0x01;
	ASSERT_EQ(-1, restart_image_unsealed(_metadata, &img));
	ASSERT_EQ(EBADMSG, errno);

	img = self->img;
	img.hdr.time ^= 1;
	ASSERT_EQ(-1, restart_image_unsealed(_metadata, &img));
	ASSERT_EQ(EBADMSG, errno);
}

TEST_F(image, trailing_garbage)
{
	unsigned char buf[2 * IMG_LEN];
	int extra;

	image_bytes(&self->img, buf);

	memset(buf + IMG_LEN, 0, IMG_LEN);
	ASSERT_EQ(-1, restart_bytes(_metadata, 0, buf, IMG_LEN + 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, restart_bytes(_metadata, 0, buf, IMG_LEN + 8));
	ASSERT_EQ(EINVAL, errno);

	for (extra = 1; extra <= 8; extra *= 2) {
		memset(buf + IMG_LEN, 0xa5, extra);
		ASSERT_EQ(-1, restart_bytes(_metadata, 0, buf, IMG_LEN + extra))
			TH_LOG("%d bytes after the tail", extra);
		ASSERT_EQ(EINVAL, errno)
			TH_LOG("%d bytes after the tail", extra);
	}

	/* Two images one after the other */
	image_bytes(&self->img, buf + IMG_LEN);
	ASSERT_EQ(-1, restart_bytes(_metadata, 0, buf, 2 * IMG_LEN));
	ASSERT_EQ(EINVAL, errno);
}

/* The constants, one variant per field */

FIXTURE(consts) {
	struct image img;
};

FIXTURE_VARIANT(consts) {
	size_t offset;
	__u32 value;		/* what checkpoint writes, 0: any but 0 */
};

FIXTURE_VARIANT_ADD(consts, task_comm_len) {
	.offset = offsetof(struct cr_hdr_header, consts.task_comm_len),
	.value = 16,
};

FIXTURE_VARIANT_ADD(consts, nsig) {
	.offset = offsetof(struct cr_hdr_header, consts.nsig),
	.value = 64,
};

FIXTURE_VARIANT_ADD(consts, uts_len) {
	.offset = offsetof(struct cr_hdr_header, consts.uts_len),
	.value = 64,
};

FIXTURE_VARIANT_ADD(consts, rlim_nlimits) {
	.offset = offsetof(struct cr_hdr_header, consts.rlim_nlimits),
	.value = 16,
};

FIXTURE_VARIANT_ADD(consts, ngroups_max) {
	.offset = offsetof(struct cr_hdr_header, consts.ngroups_max),
	.value = 65536,
};

FIXTURE_VARIANT_ADD(consts, path_max) {
	.offset = offsetof(struct cr_hdr_header, consts.path_max),
	.value = 4096,
};

FIXTURE_SETUP(consts)
{
	REQUIRE_CHECKPOINT();
	image_get(_metadata, &self->img);
}

FIXTURE_TEARDOWN(consts)
{
}

static __u32 const_get(const struct image *img, size_t offset)
{
	__u32 v;

	memcpy(&v, (const char *)&img->hdr + offset, sizeof(v));
	return v;
}

TEST_F(consts, checkpoint_value)
{
	__u32 v = const_get(&self->img, variant->offset);

	if (!variant->value) {
		ASSERT_NE(0U, v);
		return;
	}
	ASSERT_EQ(variant->value, v);
}

TEST_F(consts, changed)
{
	__u32 v = const_get(&self->img, variant->offset);
	const __u32 values[] = { v + 1, v - 1, v * 2, v / 2, 0, ~0U };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(values); i++) {
		struct image img = self->img;

		if (values[i] == v)
			continue;
		memcpy((char *)&img.hdr + variant->offset, &values[i],
		       sizeof(values[i]));
		ASSERT_EQ(-1, restart_image(_metadata, &img))
			TH_LOG("%u instead of %u", values[i], v);
		ASSERT_EQ(EOPNOTSUPP, errno)
			TH_LOG("%u instead of %u", values[i], v);
	}

	/* Unchanged, the image restarts */
	ASSERT_EQ(0, restart_image(_metadata, &self->img));
}

/* The log descriptor (CR_FLAG_LOGFD) */

/* A pipe for the log, read end non-blocking; both ends close-on-exec */
static void log_pipe(struct __test_metadata *_metadata, int p[2])
{
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, fcntl(p[0], F_SETFL, O_NONBLOCK));
}

/* What the kernel wrote to the log pipe @p, NUL-terminated; closes it */
static ssize_t log_read(int p[2], char *buf, size_t len)
{
	ssize_t n;

	close(p[1]);
	n = read(p[0], buf, len - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* @line is one line that starts with @op and contains @what */
static void expect_log_line(struct __test_metadata *_metadata,
			    const char *line, const char *op,
			    const char *what)
{
	size_t len = strlen(line);

	ASSERT_LT(0, len);
	EXPECT_EQ(0, strncmp(line, op, strlen(op))) TH_LOG("log: %s", line);
	EXPECT_EQ('\n', line[len - 1]) TH_LOG("log: %s", line);
	EXPECT_EQ(line + len - 1, strchr(line, '\n')) TH_LOG("log: %s", line);
	EXPECT_NE(NULL, strstr(line, what)) TH_LOG("log: %s", line);
}

TEST(checkpoint_logfd_bad)
{
	int fd, p[2], null;

	REQUIRE_CHECKPOINT();
	fd = make_tmpfile(_metadata, NULL);
	log_pipe(_metadata, p);

	/* Not an open descriptor, or not open for writing */
	ASSERT_EQ(-1, sys_checkpoint(getpid(), fd, CR_LOGFD(-1)));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(-1, sys_checkpoint(getpid(), fd, CR_LOGFD(INT_MAX)));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(-1, sys_checkpoint(getpid(), fd, CR_LOGFD(p[0])));
	ASSERT_EQ(EBADF, errno);

	/* A file the kernel cannot write to, or the image itself */
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, null);
	ASSERT_EQ(-1, sys_checkpoint(getpid(), fd, CR_LOGFD(null)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, sys_checkpoint(getpid(), fd, CR_LOGFD(fd)));
	ASSERT_EQ(EINVAL, errno);
	close(null);

	/* Descriptor bits without CR_FLAG_LOGFD, and the flag alone is fd 0 */
	ASSERT_EQ(-1, sys_checkpoint(getpid(), fd, (unsigned long)p[1] << 32));
	ASSERT_EQ(EINVAL, errno);

	/* Nothing was written anywhere */
	EXPECT_EQ(0, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(-1, read(p[0], &null, 1));
	EXPECT_EQ(EAGAIN, errno);
	close(p[0]);
	close(p[1]);
	close(fd);
}

/* A refusal is explained on the log descriptor, in one line */
TEST(checkpoint_logfd_message)
{
	int fd, p[2], status;
	char line[1024];
	pid_t child;

	REQUIRE_CHECKPOINT();
	fd = make_tmpfile(_metadata, NULL);
	log_pipe(_metadata, p);

	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			;
	}
	EXPECT_EQ(-1, sys_checkpoint(child, fd, CR_LOGFD(p[1])));
	EXPECT_EQ(EBUSY, errno);
	kill(child, SIGKILL);
	ASSERT_EQ(child, waitpid(child, &status, 0));

	ASSERT_LT(0, log_read(p, line, sizeof(line)));
	expect_log_line(_metadata, line, "checkpoint: ", "is not stopped");

	/* No such task */
	log_pipe(_metadata, p);
	EXPECT_EQ(-1, sys_checkpoint(PID_UNUSED, fd, CR_LOGFD(p[1])));
	EXPECT_EQ(ESRCH, errno);
	ASSERT_LT(0, log_read(p, line, sizeof(line)));
	expect_log_line(_metadata, line, "checkpoint: ", "no task");
	close(fd);
}

/* Nothing is written to the log of a checkpoint that succeeds */
TEST(checkpoint_logfd_success)
{
	int fd, p[2], status;
	char line[1024];
	pid_t child;

	REQUIRE_CHECKPOINT();
	fd = make_tmpfile(_metadata, NULL);
	log_pipe(_metadata, p);

	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		/* Image on 3, log on 4: the log is not saved, like the image */
		if (dup2(fd, 3) != 3 || dup2(p[1], 4) != 4)
			_exit(2);
		syscall(__NR_close_range, 5U, ~0U, 0U);
		unmap_shared();
		_exit(sys_checkpoint(0, 3, CR_LOGFD(4)) > 0 ? 0 : 1);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_LT(0, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(0, log_read(p, line, sizeof(line))) TH_LOG("log: %s", line);
	close(fd);
}

TEST_F(image, restart_logfd)
{
	struct image img = self->img;
	char line[1024];
	int fd, p[2];

	/* A valid image without a task: nothing logged */
	fd = image_file(_metadata, &self->img, NULL);
	log_pipe(_metadata, p);
	ASSERT_EQ(0, sys_restart(0, fd, CR_LOGFD(p[1])));
	EXPECT_EQ(0, log_read(p, line, sizeof(line))) TH_LOG("log: %s", line);
	close(fd);

	/* A bad one: the reason */
	img.hdr.magic = 0;
	fd = image_file(_metadata, &img, NULL);
	log_pipe(_metadata, p);
	ASSERT_EQ(-1, sys_restart(0, fd, CR_LOGFD(p[1])));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_LT(0, log_read(p, line, sizeof(line)));
	expect_log_line(_metadata, line, "restart: ", "magic");

	/* The log descriptor is checked like checkpoint's */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(-1, sys_restart(0, fd, CR_LOGFD(fd)));
	ASSERT_EQ(EINVAL, errno);	/* the image itself */
	ASSERT_EQ(-1, sys_restart(0, fd, CR_LOGFD(-1)));
	ASSERT_EQ(EBADF, errno);
	log_pipe(_metadata, p);
	ASSERT_EQ(-1, sys_restart(0, fd, CR_LOGFD(p[0])));
	ASSERT_EQ(EBADF, errno);	/* not open for writing */
	close(p[0]);
	close(p[1]);
	ASSERT_EQ(-1, sys_restart(0, fd, 1UL << 40));
	ASSERT_EQ(EINVAL, errno);
	/* None of these read the image */
	EXPECT_EQ(0, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

TEST_HARNESS_MAIN
