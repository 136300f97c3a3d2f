// SPDX-License-Identifier: GPL-2.0
/*
 * restart: become the process of a checkpoint image with the restart(2)
 * system call.  As with execve(2), this process is replaced: on success
 * restart(2) does not return, the restored program carries on instead,
 * with the process id of this one, the files it had open, and the file
 * descriptors 0-2 of this one that it had on a terminal, a pipe or a
 * socket, or that --inherit-fd names.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/checkpoint_hdr.h>

#include "cr-tools.h"

#define PROG		"restart"

#ifndef __NR_close_range
#define __NR_close_range	436
#endif

static const struct cr_hint hints[] = {
	{ EPERM,
	  "the image's user and group ids, groups and capabilities must be exactly the caller's: run restart as the user that was checkpointed (and raising resource limits needs CAP_SYS_RESOURCE)",
	},
	{ EINVAL,
	  "not a valid checkpoint image, or a damaged or truncated one, or one the kernel cannot read from this file",
	},
	{ E2BIG,
	  "the image has fields this kernel does not know: it comes from a newer kernel",
	},
	{ EBADMSG,
	  "the image checksum does not match: the image is damaged",
	},
	{ EOPNOTSUPP,
	  "the image needs what this kernel or CPU does not have: another format version, architecture, page size, kernel constants, vDSO or CPU state",
	},
	{ ENOENT,
	  "a file of the image is missing here: its executable, a mapped or open file or its working directory",
	},
	{ ESTALE,
	  "a file the image maps or has open has changed since the checkpoint",
	},
	{ EACCES,
	  "the caller may not open the image's executable, mapped or open files, or enter its working directory",
	},
	{ EMFILE,
	  "the image has a file descriptor above the caller's RLIMIT_NOFILE (ulimit -n)",
	},
	{ EBUSY,
	  "restart must be called by a single-threaded process that shares neither its memory nor its files",
	},
	{ EBADF,
	  "the image is not open for reading, or the restored program is to get a file descriptor 0-2 this process does not have open",
	},
	{ ENOSYS,
	  "this kernel has no restart system call (CONFIG_CHECKPOINT=y, x86_64)",
	},
	{ EINTR,
	  "interrupted by a signal",
	},
	{ 0, NULL }
};

static const char usage_text[] =
"Usage: restart [-i FILE] [--crid N] [--inherit-fd N]...\n"
"\n"
"Become the process saved in a checkpoint image, with the restart(2) system\n"
"call.  As with exec, this process is replaced: the restored program carries\n"
"on with this process id and the files it had open, reopened by path.  Its\n"
"descriptors 0, 1 and 2 that were a terminal, a pipe, a socket or shared\n"
"with another process are those of restart (standard input, output and\n"
"error) instead; restart's other descriptors are closed.\n"
"\n"
"  -i, --input FILE    read the image from FILE; default (or -): standard\n"
"                      input, which must not be a terminal (the restored\n"
"                      program then has the image, read to its end, as\n"
"                      standard input)\n"
"  -c, --crid N        refuse the image unless its checkpoint id is N;\n"
"                      default 0: any\n"
"      --inherit-fd N  give the restored program file descriptor N of\n"
"                      restart in place of the one it had (a file it\n"
"                      wrote its output to, say); N is 0, 1 or 2; repeat\n"
"                      the option for several\n"
"  -h, --help          show this help\n"
"\n"
"The image must have been taken by the same user, with the same groups and\n"
"capabilities, and the files it maps (its executable first) or has open and\n"
"its working directory must still be there.  The kernel checks the image\n"
"before it replaces anything: restart then fails, prints the kernel's\n"
"reason (\"kernel:\") and exits with status 1.  A failure after that point\n"
"kills the process (SIGKILL).\n"
"\n"
"Exit status, when the restart fails: 1 refused, 2 usage error; 0 for a\n"
"valid image without a process.\n";

static void print_help(FILE *f)
{
	fputs(usage_text, f);
}

#define usage_error(...)	cr_usage_error(PROG, __VA_ARGS__)

/* Close every file descriptor from @lo to @hi */
static void close_fds(unsigned int lo, unsigned int hi)
{
	long max;

	if (lo > hi)
		return;
	if (!syscall(__NR_close_range, lo, hi, 0))
		return;
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (; lo <= hi && lo < (unsigned long)max; lo++)
		close(lo);
}

/*
 * After a refusal, what the image's header says, when it can be read
 * without moving the file position.
 */
static void explain(const char *name, int fd, off_t pos, int err, long crid)
{
	struct cr_hdr_header hh;
	struct utsname u;
	ssize_t n;

	if (pos < 0)
		return;
	n = pread(fd, &hh, sizeof(hh), pos);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(hh) || hh.h.type != CR_HDR_HEADER ||
	    hh.magic != CR_IMAGE_MAGIC) {
		if (err == EINVAL)
			fprintf(stderr, PROG ": %s is not a checkpoint image\n",
				name);
		return;
	}
	if (err == EINVAL && crid && hh.crid != crid)
		fprintf(stderr, PROG ": %s has checkpoint id %d, not %ld\n",
			name, hh.crid, crid);
	hh.release[CR_RELEASE_LEN - 1] = '\0';
	if (err == EOPNOTSUPP && !uname(&u) &&
	    strcmp((char *)hh.release, u.release))
		fprintf(stderr, PROG ": %s was taken on Linux %s, this is %s\n",
			name, (char *)hh.release, u.release);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "crid", required_argument, NULL, 'c' },
		{ "inherit-fd", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *in = NULL, *name;
	bool inherit[3] = { false };
	unsigned long flags = 0;
	struct cr_log log;
	long crid = 0, ret, val;
	int c, fd, err;
	off_t pos;

	while ((c = getopt_long(argc, argv, "i:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			in = optarg;
			break;
		case 'c':
			if (cr_parse_int(optarg, 0, INT_MAX, &crid))
				usage_error("--crid takes a number >= 0, not '%s'",
					    optarg);
			break;
		case 'I':
			if (cr_parse_int(optarg, 0, INT_MAX, &val))
				usage_error("--inherit-fd takes a file descriptor number, not '%s'",
					    optarg);
			if (val > 2)
				usage_error("--inherit-fd %ld: only 0, 1 and 2",
					    val);
			inherit[val] = true;
			break;
		case 'h':
			print_help(stdout);
			return CR_EXIT_OK;
		default:
			fprintf(stderr, "Try 'restart --help' for more information.\n");
			return CR_EXIT_USAGE;
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s' (the image is given with -i FILE)",
			    argv[optind]);
	if (in && !strcmp(in, "-"))
		in = NULL;

	if (in) {
		fd = open(in, O_RDONLY);
		if (fd < 0) {
			fprintf(stderr, PROG ": cannot open %s: %s\n", in,
				strerror(errno));
			return CR_EXIT_FAIL;
		}
		if (fd <= 2) {
			/* 0-2 were closed: they are not the restored program's */
			c = fcntl(fd, F_DUPFD, 3);
			if (c < 0) {
				fprintf(stderr, PROG ": %s: %s\n", in,
					strerror(errno));
				return CR_EXIT_FAIL;
			}
			close(fd);
			fd = c;
		}
		name = in;
	} else {
		fd = STDIN_FILENO;
		if (fcntl(fd, F_GETFL) < 0)
			usage_error("standard input is closed: give -i FILE");
		if (isatty(fd))
			usage_error("refusing to read an image from a terminal: give -i FILE");
		if (inherit[0])
			usage_error("--inherit-fd 0: standard input is the image");
		name = "standard input";
	}
	for (c = 0; c < 3; c++)
		if (inherit[c] && fcntl(c, F_GETFD) < 0)
			usage_error("--inherit-fd %d: file descriptor %d is not open",
				    c, c);

	/*
	 * The restored program gets at most the descriptors 0-2 of this
	 * process: close the others now, but the image.  The kernel
	 * replaces what is left once the program is restored.
	 */
	if (fd > 2) {
		close_fds(3, fd - 1);
		close_fds(fd + 1, ~0U);
	} else {
		close_fds(3, ~0U);
	}

	for (c = 0; c < 3; c++)
		if (inherit[c])
			flags |= CR_RESTART_INHERIT_FD(c);

	pos = lseek(fd, 0, SEEK_CUR);
	ret = sys_restart(crid, fd, flags | cr_log_open(&log));
	err = errno;

	if (ret >= 0) {
		/* Only an image without a process returns */
		fprintf(stderr, PROG ": %s: a valid image without a process\n",
			name);
		return CR_EXIT_OK;
	}
	cr_report(PROG, name, err, hints, &log);
	explain(name, fd, pos, err, crid);
	return CR_EXIT_FAIL;
}
