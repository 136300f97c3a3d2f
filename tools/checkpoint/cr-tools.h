/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What checkpoint(1) and restart(1) share: the system calls, the hint
 * printed with an errno, and the kernel's own reason for a refusal, which
 * the kernel writes to a log descriptor given with the call.
 */

#ifndef _CR_TOOLS_H
#define _CR_TOOLS_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/checkpoint_hdr.h>

/*
 * The numbers of this series (Linux 6.12, x86_64 only), for a build
 * against headers without them.  Later mainline kernels use them for other
 * system calls: build against the headers of this tree.
 */
#ifndef __NR_checkpoint
#if defined(__x86_64__) && !defined(__ILP32__)
#define __NR_checkpoint	463
#define __NR_restart	464
#else
#error "checkpoint and restart exist only for x86_64 (64-bit ABI)"
#endif
#endif

#ifndef __noreturn
#define __noreturn	__attribute__((noreturn))
#endif
#ifndef __printf
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#endif

/* Exit status of both tools */
#define CR_EXIT_OK	0
#define CR_EXIT_FAIL	1	/* the system call failed or was refused */
#define CR_EXIT_USAGE	2	/* bad arguments */
#define CR_EXIT_STOP	3	/* checkpoint: the task could not be stopped */

/* Say what is wrong with the arguments of @prog and exit */
static inline void __noreturn __printf(2, 3)
cr_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	exit(CR_EXIT_USAGE);
}

/* The unused argument registers are zeroed, for a well-defined call */
static inline long sys_checkpoint(pid_t pid, int fd, unsigned long flags)
{
	return syscall(__NR_checkpoint, pid, fd, flags, 0L, 0L, 0L);
}

static inline long sys_restart(int crid, int fd, unsigned long flags)
{
	return syscall(__NR_restart, crid, fd, flags, 0L, 0L, 0L);
}

/* One line of advice for an errno */
struct cr_hint {
	int err;
	const char *hint;
};

/* The hint for @err in @hints, which ends with an entry of err 0 */
static inline const char *cr_hint(const struct cr_hint *hints, int err)
{
	for (; hints->err; hints++)
		if (hints->err == err)
			return hints->hint;
	return NULL;
}

/*
 * Parse a decimal integer from @min to @max, all of @s.
 * Return: 0, or -1 if @s is not such a number.
 */
static inline int cr_parse_int(const char *s, long min, long max, long *val)
{
	char *end;
	long v;

	if (!*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*val = v;
	return 0;
}

/*
 * The kernel's reason for a refusal comes through a pipe given to the
 * system call as its log descriptor (CR_FLAG_LOGFD).
 */
struct cr_log {
	int rfd;
	int wfd;
};

/* Move @fd above 2, so that it never stands in for standard I/O */
static inline int cr_fd_above_stdio(int fd)
{
	int nfd;

	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

/*
 * Open the pipe for the kernel's reason.  Return: the flags to give the
 * system call for it, or 0 if there is no pipe (the call then fails with
 * nothing more than its errno).
 */
static inline unsigned long cr_log_open(struct cr_log *log)
{
	int p[2];

	log->rfd = -1;
	log->wfd = -1;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return 0;
	log->rfd = cr_fd_above_stdio(p[0]);
	log->wfd = cr_fd_above_stdio(p[1]);
	if (log->rfd < 0 || log->wfd < 0) {
		if (log->rfd >= 0)
			close(log->rfd);
		if (log->wfd >= 0)
			close(log->wfd);
		log->rfd = -1;
		log->wfd = -1;
		return 0;
	}
	return CR_LOGFD(log->wfd);
}

/* Print what the kernel wrote to @log as "PROG: kernel: ...", and close it */
static inline void cr_log_show(const char *prog, struct cr_log *log)
{
	char buf[1024], *line, *nl;
	ssize_t n;

	if (log->rfd < 0)
		return;
	close(log->wfd);
	n = read(log->rfd, buf, sizeof(buf) - 1);
	close(log->rfd);
	log->rfd = -1;
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (line = buf; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		/* "checkpoint: " or "restart: " says what the tool says */
		if (!strncmp(line, "checkpoint: ", 12))
			line += 12;
		else if (!strncmp(line, "restart: ", 9))
			line += 9;
		fprintf(stderr, "%s: kernel: %s\n", prog, line);
		if (!nl)
			break;
	}
}

/*
 * Print why the system call failed: "PROG: WHAT: error", the hint for it,
 * and the kernel's reason if it gave one on @log (which is closed).
 */
static inline void cr_report(const char *prog, const char *what, int err,
			     const struct cr_hint *hints, struct cr_log *log)
{
	const char *hint = cr_hint(hints, err);

	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(err));
	if (log)
		cr_log_show(prog, log);
	if (hint)
		fprintf(stderr, "%s: %s\n", prog, hint);
}

#endif /* _CR_TOOLS_H */
