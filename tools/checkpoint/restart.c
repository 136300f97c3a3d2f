// SPDX-License-Identifier: GPL-2.0
/*
 * restart: become the process of a checkpoint image with the restart(2)
 * system call.  As with execve(2), this process is replaced: on success
 * restart(2) does not return, the restored program carries on instead,
 * with the process id of this one, the files it had open, and the file
 * descriptors 0-2 of this one that it had on a terminal, a pipe or a
 * socket, or that --inherit-fd names.
 *
 * With --tree, restart(2) makes the processes of an image of a process
 * tree as children of the caller, which is not replaced: this command
 * waits for the root of the tree and exits with its exit status.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/checkpoint_hdr.h>

#include "cr-tools.h"

#define PROG		"restart"
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

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
	{ EEXIST,
	  "a process of the image has a pid already in use: restart --tree makes a new pid namespace for them, unless --no-pids is given",
	},
	{ 0, NULL }
};

static const char usage_text[] =
"Usage: restart [-i FILE] [--crid N] [--inherit-fd N]... [--tree [--no-pids]]\n"
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
"      --tree          restart an image of checkpoint --tree: the processes\n"
"                      of the image become children of this one, with their\n"
"                      pids in a new pid namespace, the root of the tree as\n"
"                      its pid 1 or, if the root had another pid, as a child\n"
"                      of a pid 1 that restart forks to reap the orphans;\n"
"                      restart waits for the root and exits with its exit\n"
"                      status (128 + N if signal N killed it)\n"
"      --no-pids       with --tree: new pids in this pid namespace instead\n"
"                      (no privilege needed); parents, process groups and\n"
"                      sessions follow; processes still running when the\n"
"                      root exits are left running\n"
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
"valid image without a process.  With --tree, a failure leaves no process\n"
"behind; the signals INT, TERM, HUP, QUIT, USR1 and USR2 that restart gets\n"
"are passed on to the root (the second INT, TERM, HUP or QUIT as SIGKILL),\n"
"and when the root exits the processes left in the new pid namespace are\n"
"killed.\n";

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

/* Where the record after the record of length @len at @off starts */
static off_t rec_next(off_t off, __u32 len)
{
	return off + ((len + CR_HDR_ALIGN - 1) & ~(off_t)(CR_HDR_ALIGN - 1));
}

/*
 * The type of the record after the record of length @len at @off in @fd,
 * or 0 if there is none; with its first @size bytes in @rec if not NULL.
 */
static __u32 rec_after(int fd, off_t off, __u32 len, void *rec, size_t size)
{
	struct cr_hdr h;

	off = rec_next(off, len);
	if (pread(fd, &h, sizeof(h), off) != sizeof(h))
		return 0;
	if (rec && (h.len < size || pread(fd, rec, size, off) != (ssize_t)size))
		return 0;
	return h.type;
}

/*
 * After a refusal, what the image's header says, when it can be read
 * without moving the file position.
 */
static void explain(const char *name, int fd, off_t pos, int err, long crid,
		    bool tree)
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
	if (err == EINVAL && !tree &&
	    rec_after(fd, pos, hh.h.len, NULL, 0) == CR_HDR_TREE)
		fprintf(stderr, PROG ": %s is an image of a process tree: add --tree\n",
			name);
}

/* The process restart(2) made, or the pid 1 that made it, for relay() */
static pid_t relay_to;
static int nr_stops;	/* signals asking to end, relayed so far */

/*
 * The root may ignore the signal (a pid 1 ignores those it has no handler
 * for): a second one asking to end becomes SIGKILL.
 */
static void relay(int sig)
{
	pid_t pid = __atomic_load_n(&relay_to, __ATOMIC_RELAXED);

	if (pid <= 0)
		return;
	if (sig != SIGUSR1 && sig != SIGUSR2 &&
	    __atomic_add_fetch(&nr_stops, 1, __ATOMIC_RELAXED) > 1)
		sig = SIGKILL;
	kill(pid, sig);
}

static void relay_set(pid_t pid)
{
	__atomic_store_n(&relay_to, pid, __ATOMIC_RELAXED);
}

static void relay_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
				    SIGUSR1, SIGUSR2 };
	struct sigaction sa = { .sa_handler = relay, .sa_flags = SA_RESTART };
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(sigs); i++) {
		struct sigaction old;

		/* One ignored here (in the background of a shell) stays so */
		if (!sigaction(sigs[i], NULL, &old) && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

/* An exit status for a wait status: that of exit(), or 128 + signal */
static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return CR_EXIT_FAIL;
}

/* Wait for the child @pid; its exit code, reaping others on the way */
static int wait_for(pid_t pid, bool others)
{
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(others ? -1 : pid, &status, 0);
		if (r == pid)
			return exit_code(status);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": waiting for process %d: %s\n",
				pid, strerror(errno));
			return CR_EXIT_FAIL;
		}
	}
}

/*
 * A descriptor of the image from which it can be read at any offset: @fd
 * if it is a regular file, or else a memfd with a copy of what is left in
 * @fd.  *@pos is where the image starts.  Return: the descriptor, or -1.
 */
static int seekable(int fd, const char *name, off_t *pos)
{
	char buf[65536];
	struct stat st;
	ssize_t n;
	int mfd;

	*pos = lseek(fd, 0, SEEK_CUR);
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && *pos >= 0)
		return fd;
	mfd = memfd_create("restart-image", MFD_CLOEXEC);
	if (mfd < 0) {
		fprintf(stderr, PROG ": memfd_create: %s\n", strerror(errno));
		return -1;
	}
	mfd = cr_fd_above_stdio(mfd);
	while (mfd >= 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(mfd, buf, n) != n) {
			fprintf(stderr, PROG ": copying %s to memory: %s\n",
				name, strerror(errno));
			close(mfd);
			return -1;
		}
	}
	if (mfd >= 0 && lseek(mfd, 0, SEEK_SET)) {
		close(mfd);
		return -1;
	}
	*pos = 0;
	return mfd;
}

/*
 * The pid of the root of the tree in the image at @pos of @fd.
 * Return: 0, or -1 after saying what is wrong.
 */
static int tree_root(int fd, off_t pos, const char *name, pid_t *root)
{
	struct cr_hdr_header hh;
	struct cr_hdr_tree th;
	struct cr_hdr_proc ph;

	if (pread(fd, &hh, sizeof(hh), pos) != sizeof(hh) ||
	    hh.h.type != CR_HDR_HEADER || hh.magic != CR_IMAGE_MAGIC) {
		fprintf(stderr, PROG ": %s is not a checkpoint image\n", name);
		return -1;
	}
	if (rec_after(fd, pos, hh.h.len, &th, sizeof(th)) != CR_HDR_TREE) {
		fprintf(stderr,
			PROG ": %s is not an image of a process tree: restart it without --tree\n",
			name);
		return -1;
	}
	pos = rec_next(pos, hh.h.len);
	if (rec_after(fd, pos, th.h.len, &ph, sizeof(ph)) != CR_HDR_PROC ||
	    ph.pid <= 0) {
		fprintf(stderr, PROG ": %s: damaged process tree\n", name);
		return -1;
	}
	*root = ph.pid;
	return 0;
}

/* restart(2) of a tree; the pid of its root, or -1 after saying why */
static pid_t call_restart(int fd, off_t pos, const char *name, long crid,
			  unsigned long flags)
{
	struct cr_log log;
	long ret;
	int err;

	ret = sys_restart(crid, fd, flags | CR_RESTART_TREE | cr_log_open(&log));
	err = errno;
	if (ret > 0) {
		cr_log_show(PROG, &log);
		return ret;
	}
	if (!ret)
		err = EPROTO;	/* a tree has a root */
	cr_report(PROG, name, err, hints, &log);
	explain(name, fd, pos, err, crid, true);
	return -1;
}

/*
 * The pid 1 of the new pid namespace, for a root that is not: it restarts
 * the tree, tells restart on @ok whether that worked, reaps the orphans,
 * and exits with the exit code of the root, which brings the others down.
 */
static void __noreturn init_main(int fd, off_t pos, const char *name,
				 long crid, unsigned long flags, int ok)
{
	pid_t root;
	char c;

	relay_signals();
	root = call_restart(fd, pos, name, crid, flags);
	c = root > 0;
	if (write(ok, &c, 1) != 1 || root < 0)
		_exit(CR_EXIT_FAIL);
	close(ok);
	close(fd);
	relay_set(root);
	_exit(wait_for(root, true));
}

/*
 * restart --tree: restore the tree in a new pid namespace, or with
 * @new_pids in this one, and wait for its root.  Return: the exit code.
 */
static int restart_tree(int fd, const char *name, long crid,
			unsigned long flags, bool new_pids)
{
	pid_t root, init;
	int p[2], code;
	off_t pos;
	char c = 0;

	fd = seekable(fd, name, &pos);
	if (fd < 0 || tree_root(fd, pos, name, &root))
		return CR_EXIT_FAIL;
	relay_signals();
	if (new_pids) {
		root = call_restart(fd, pos, name, crid,
				    flags | CR_RESTART_NEW_PIDS);
		if (root < 0)
			return CR_EXIT_FAIL;
		close(fd);
		relay_set(root);
		return wait_for(root, false);
	}
	if (unshare(CLONE_NEWPID)) {
		fprintf(stderr, PROG ": cannot make a pid namespace: %s%s\n",
			strerror(errno),
			errno == EPERM ? " (--no-pids needs no privilege)" : "");
		return CR_EXIT_FAIL;
	}
	if (root == 1) {
		/* The root becomes the pid 1 of the namespace */
		root = call_restart(fd, pos, name, crid, flags);
		if (root < 0)
			return CR_EXIT_FAIL;
		close(fd);
		relay_set(root);
		return wait_for(root, false);
	}
	if (pipe2(p, O_CLOEXEC)) {
		fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
		return CR_EXIT_FAIL;
	}
	fflush(stderr);
	init = fork();
	if (init < 0) {
		fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
		return CR_EXIT_FAIL;
	}
	if (!init) {
		close(p[0]);
		init_main(fd, pos, name, crid, flags, p[1]);
	}
	close(p[1]);
	close(fd);
	relay_set(init);
	while (read(p[0], &c, 1) < 0 && errno == EINTR)
		;
	close(p[0]);
	code = wait_for(init, false);
	return c ? code : CR_EXIT_FAIL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "crid", required_argument, NULL, 'c' },
		{ "inherit-fd", required_argument, NULL, 'I' },
		{ "tree", no_argument, NULL, 'T' },
		{ "no-pids", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *in = NULL, *name;
	bool inherit[3] = { false }, tree = false, new_pids = false;
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
		case 'T':
			tree = true;
			break;
		case 'N':
			new_pids = true;
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
	if (new_pids && !tree)
		usage_error("--no-pids goes with --tree");
	for (c = 0; c < 3; c++)
		if (tree && inherit[c])
			usage_error("--inherit-fd is for one process, not --tree");
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

	for (c = 0; c < 3; c++)
		if (inherit[c])
			flags |= CR_RESTART_INHERIT_FD(c);
	if (tree)
		return restart_tree(fd, name, crid, flags, new_pids);

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
	explain(name, fd, pos, err, crid, false);
	return CR_EXIT_FAIL;
}
