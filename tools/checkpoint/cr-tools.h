/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What checkpoint(1) and restart(1) share: the system calls, the hint
 * printed with an errno, and the kernel's own reason for a refusal, which
 * it logs at debug level (CONFIG_CHECKPOINT_DEBUG) and which these tools
 * fetch from /dev/kmsg when they may read it.
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

/* What the kernel logged for checkpoint/restart starts with this */
#define CR_KMSG_PREFIX	"checkpoint: "
/* No kernel log to look at */
#define CR_KMSG_NONE	(~0ULL)

/*
 * Read the kernel log records of /dev/kmsg, oldest first.  With @prog set,
 * print the checkpoint ones of sequence number @since and later.
 * Return: the sequence number the next record will have, or CR_KMSG_NONE
 * if the log cannot be read.
 */
static inline unsigned long long cr_kmsg_scan(const char *prog,
					      unsigned long long since)
{
	unsigned long long seq, next = 0;
	char buf[8192], *msg, *nl;
	bool any = false;
	ssize_t n;
	int fd;

	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return CR_KMSG_NONE;
	for (;;) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n < 0 && (errno == EPIPE || errno == EINTR))
			continue;	/* records overwritten meanwhile */
		if (n < 0 && errno != EAGAIN && !any) {
			close(fd);	/* no right to read it (EPERM) */
			return CR_KMSG_NONE;
		}
		if (n <= 0)
			break;
		any = true;
		buf[n] = '\0';
		/* "level,seq,usecs,flags[,...];message\n[ KEY=value\n]..." */
		msg = strchr(buf, ';');
		if (!msg || sscanf(buf, "%*u,%llu,", &seq) != 1)
			continue;
		next = seq + 1;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		if (prog && seq >= since &&
		    !strncmp(msg, CR_KMSG_PREFIX, strlen(CR_KMSG_PREFIX)))
			fprintf(stderr, "%s: kernel: %s\n", prog,
				msg + strlen(CR_KMSG_PREFIX));
	}
	close(fd);
	return next;
}

/* Where the kernel log is now, to show what is logged from here on */
static inline unsigned long long cr_kmsg_mark(void)
{
	return cr_kmsg_scan(NULL, 0);
}

/* Show the checkpoint lines logged since @mark, from cr_kmsg_mark() */
static inline void cr_kmsg_show(const char *prog, unsigned long long mark)
{
	if (mark != CR_KMSG_NONE)
		cr_kmsg_scan(prog, mark);
}

/*
 * Print why the system call failed: "PROG: WHAT: error", the hint for it,
 * and the kernel's reason if it logged one since @mark.
 */
static inline void cr_report(const char *prog, const char *what, int err,
			     const struct cr_hint *hints,
			     unsigned long long mark)
{
	const char *hint = cr_hint(hints, err);

	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(err));
	if (hint)
		fprintf(stderr, "%s: %s\n", prog, hint);
	cr_kmsg_show(prog, mark);
}

#endif /* _CR_TOOLS_H */
