// SPDX-License-Identifier: GPL-2.0
/*
 * checkpoint: save a process to an image with the checkpoint(2) system
 * call, stopping it with SIGSTOP or freezing it in a cgroup v2 for the
 * time of the call if asked to, then resuming it, or killing it.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "cr-tools.h"

#define PROG		"checkpoint"
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define CGROUP_ROOT	"/sys/fs/cgroup"
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif

/* How long to wait for the task to stop, freeze or die */
#define WAIT_MS		10000
#define POLL_MS		10

static const struct cr_hint hints[] = {
	{ EBUSY,
	  "the task must be stopped (--stop/--freeze) and single-threaded, and not share its memory, its descriptor table or an open file above 2 with another process",
	},
	{ EOPNOTSUPP,
	  "the task holds state this kernel cannot save yet: a descriptor above 2 on a pipe, socket, eventfd, deleted or locked file, /proc file or device other than /dev/null, zero, random and urandom; memory shared with another process, POSIX timers, a stop in poll() or a futex wait with a timeout...",
	},
	{ EPERM,
	  "checkpoint needs the right to ptrace the task: same user and not more privileged, or CAP_SYS_PTRACE (and see Yama's ptrace_scope)",
	},
	{ ESRCH,
	  "no such process, or it is exiting",
	},
	{ EINVAL,
	  "the kernel cannot write an image to this file: use a regular file, a pipe or a socket",
	},
	{ EBADF,
	  "the output is not open for writing",
	},
	{ ENOSYS,
	  "this kernel has no checkpoint system call (CONFIG_CHECKPOINT=y, x86_64)",
	},
	{ EINTR,
	  "interrupted by a signal",
	},
	{ EPIPE,
	  "the reader of the image went away",
	},
	{ 0, NULL }
};

enum stop_mode { STOP_NONE, STOP_SIGNAL, STOP_FREEZE };

/* The target and what was done to it, to undo */
struct target {
	pid_t pid;
	bool was_stopped;	/* stopped or frozen before we came */
	bool sent_stop;		/* we sent it SIGSTOP */
	bool moved;		/* we moved it into @cgroup */
	bool froze;		/* we froze @cgroup */
	char cgroup[PATH_MAX];	/* the cgroup we made, under CGROUP_ROOT */
	char orig[PATH_MAX];	/* its cgroup before, as in /proc/PID/cgroup */
};

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

static const char usage_text[] =
"Usage: checkpoint [-o FILE] [--stop | --freeze] [--leave-running | --kill] PID\n"
"\n"
"Save process PID to a checkpoint image with the checkpoint(2) system call;\n"
"restart(1) makes a process of the image again.\n"
"\n"
"  -o, --output FILE   write the image to FILE, created with mode 0600 or\n"
"                      truncated; default (or -): standard output, which\n"
"                      must not be a terminal\n"
"      --stop          stop PID with SIGSTOP for the checkpoint\n"
"      --freeze        freeze PID for the checkpoint in a new cgroup v2,\n"
"                      " CGROUP_ROOT "/checkpoint-PID, then move it back\n"
"      --leave-running after the checkpoint, resume PID as it was before\n"
"                      (the default): a task stopped or frozen before stays so\n"
"      --kill          after a successful checkpoint, kill PID (SIGKILL)\n"
"  -h, --help          show this help\n"
"\n"
"Without --stop or --freeze, PID must be stopped already: by SIGSTOP, by\n"
"ptrace or by the cgroup freezer.  This kernel saves single-threaded\n"
"processes whose descriptors are regular files, directories, /dev/null,\n"
"zero, random or urandom (descriptors 0, 1 and 2 of another kind are left\n"
"to restart), with no memory shared with another process and no POSIX\n"
"timer, not stopped in a system call other than a sleep that a restart\n"
"could not resume (poll, futex); it refuses the others, and\n"
"this tool prints the kernel's reason (\"kernel:\").  If the checkpoint\n"
"fails, PID is resumed as it was and never killed, and a partial image\n"
"FILE is removed.\n"
"\n"
"Exit status: 0 saved, 1 the checkpoint failed, 2 usage error, 3 PID could\n"
"not be stopped or frozen.\n";

static void print_help(FILE *f)
{
	fputs(usage_text, f);
}

#define usage_error(...)	cr_usage_error(PROG, __VA_ARGS__)

static void __printf(1, 2) warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The whole of a small file, NUL-terminated; -1 with errno on failure */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			close(fd);
			errno = err;
			return -1;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

/* Write @s to a cgroup or proc file; -1 with errno on failure */
static int write_file(const char *path, const char *s)
{
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	err = errno;
	if (close(fd) && n >= 0) {
		err = errno;
		n = -1;
	}
	if (n != (ssize_t)strlen(s)) {
		errno = n < 0 ? err : EIO;
		return -1;
	}
	return 0;
}

/*
 * The state letter of @pid in /proc/PID/stat ('R', 'S', 'T', 't', 'Z'...),
 * or 0 if there is no such process.
 */
static char task_state(pid_t pid)
{
	char path[64], buf[1024], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return 0;
	/* "pid (comm) S ...": the name may hold spaces and parentheses */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return 0;
	return p[2];
}

static bool state_stopped(char state)
{
	return state == 'T' || state == 't';
}

static bool state_gone(char state)
{
	return !state || state == 'Z' || state == 'X';
}

/* The value of @key in a cgroup.events file, or -1 */
static int cgroup_event(const char *cgroup, const char *key)
{
	char path[PATH_MAX + 32], buf[256], *p;
	size_t len = strlen(key);

	snprintf(path, sizeof(path), "%s/cgroup.events", cgroup);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, len) && p[len] == ' ')
			return atoi(p + len + 1);
	return -1;
}

/* CGROUP_ROOT followed by @rel, a path as /proc/PID/cgroup gives it */
static int cgroup_path(char *buf, size_t size, const char *rel)
{
	int n;

	n = snprintf(buf, size, "%s%s", CGROUP_ROOT, strcmp(rel, "/") ? rel : "");
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* The cgroup v2 path of @pid into t->orig */
static int find_cgroup(struct target *t)
{
	char path[64], buf[4096], *line, *nl;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", t->pid);
	if (read_file(path, buf, sizeof(buf)) < 0) {
		warn("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	for (line = buf; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!strncmp(line, "0::/", 4)) {
			if (snprintf(t->orig, sizeof(t->orig), "%s",
				     line + 3) >= (int)sizeof(t->orig))
				break;
			return 0;
		}
	}
	warn("process %d is in no cgroup v2 (%s)", t->pid, path);
	return -1;
}

/* Wait up to WAIT_MS for the state of @pid to be @done */
static bool wait_task(pid_t pid, bool (*done)(char state))
{
	int ms;

	for (ms = 0; ms < WAIT_MS && !caught; ms += POLL_MS) {
		if (done(task_state(pid)))
			return true;
		sleep_ms(POLL_MS);
	}
	return done(task_state(pid));
}

/* Wait up to WAIT_MS for @key of cgroup.events of @cgroup to be @value */
static bool wait_cgroup(const char *cgroup, const char *key, int value)
{
	int ms;

	for (ms = 0; ms < WAIT_MS && !caught; ms += POLL_MS) {
		if (cgroup_event(cgroup, key) == value)
			return true;
		sleep_ms(POLL_MS);
	}
	return cgroup_event(cgroup, key) == value;
}

static int stop_signal(struct target *t)
{
	if (kill(t->pid, SIGSTOP)) {
		warn("cannot stop process %d: %s", t->pid, strerror(errno));
		return -1;
	}
	t->sent_stop = true;
	if (!wait_task(t->pid, state_stopped)) {
		if (state_gone(task_state(t->pid)))
			warn("process %d exited", t->pid);
		else
			warn("process %d did not stop within %d s%s", t->pid,
			     WAIT_MS / 1000, caught ? " (interrupted)" : "");
		return -1;
	}
	return 0;
}

static int freeze_task(struct target *t)
{
	char orig[PATH_MAX + 16], path[PATH_MAX + 32], pid[32];
	struct statfs fs;

	if (statfs(CGROUP_ROOT, &fs) || fs.f_type != CGROUP2_SUPER_MAGIC) {
		warn("--freeze needs cgroup v2 mounted at %s", CGROUP_ROOT);
		return -1;
	}
	if (find_cgroup(t))
		return -1;
	if (cgroup_path(orig, sizeof(orig), t->orig)) {
		warn("cgroup path %s too long", t->orig);
		return -1;
	}
	if (cgroup_event(orig, "frozen") == 1) {
		/* Frozen already: leave it where it is */
		t->was_stopped = true;
		return 0;
	}
	snprintf(t->cgroup, sizeof(t->cgroup), "%s/checkpoint-%d", CGROUP_ROOT,
		 t->pid);
	if (mkdir(t->cgroup, 0755)) {
		if (errno == EEXIST)
			warn("%s exists (an earlier checkpoint?): empty and remove it",
			     t->cgroup);
		else
			warn("cannot create %s: %s", t->cgroup, strerror(errno));
		t->cgroup[0] = '\0';
		return -1;
	}
	snprintf(path, sizeof(path), "%s/cgroup.procs", t->cgroup);
	snprintf(pid, sizeof(pid), "%d", t->pid);
	if (write_file(path, pid)) {
		warn("cannot move process %d into %s: %s", t->pid, t->cgroup,
		     strerror(errno));
		return -1;
	}
	t->moved = true;
	snprintf(path, sizeof(path), "%s/cgroup.freeze", t->cgroup);
	if (write_file(path, "1")) {
		warn("cannot freeze %s: %s", t->cgroup, strerror(errno));
		return -1;
	}
	t->froze = true;
	if (!wait_cgroup(t->cgroup, "frozen", 1)) {
		warn("process %d did not freeze within %d s%s", t->pid,
		     WAIT_MS / 1000, caught ? " (interrupted)" : "");
		return -1;
	}
	return 0;
}

/* Undo freeze_task(): thaw, move the task back, remove the cgroup */
static int unfreeze(struct target *t)
{
	char path[PATH_MAX + 32], pid[32];
	int ret = 0;

	if (t->froze) {
		snprintf(path, sizeof(path), "%s/cgroup.freeze", t->cgroup);
		if (write_file(path, "0")) {
			warn("cannot thaw %s: %s", t->cgroup, strerror(errno));
			ret = -1;
		}
		t->froze = false;
	}
	if (t->moved && !state_gone(task_state(t->pid))) {
		if (cgroup_path(path, sizeof(path) - 16, t->orig))
			return -1;
		strcat(path, "/cgroup.procs");
		snprintf(pid, sizeof(pid), "%d", t->pid);
		if (write_file(path, pid)) {
			warn("cannot move process %d back to cgroup %s: %s; it stays in %s",
			     t->pid, t->orig, strerror(errno), t->cgroup);
			return -1;
		}
	}
	t->moved = false;
	if (t->cgroup[0]) {
		/* A task killed in it leaves it once it has exited */
		wait_cgroup(t->cgroup, "populated", 0);
		if (rmdir(t->cgroup)) {
			warn("cannot remove %s: %s", t->cgroup, strerror(errno));
			return -1;
		}
		t->cgroup[0] = '\0';
	}
	return ret;
}

/* Put the task back as it was; 0 or -1 */
static int resume_task(struct target *t)
{
	int ret = 0;

	if (t->sent_stop) {
		if (kill(t->pid, SIGCONT) && errno != ESRCH) {
			warn("cannot resume process %d: %s", t->pid,
			     strerror(errno));
			ret = -1;
		}
		t->sent_stop = false;
	}
	if (t->moved || t->froze || t->cgroup[0])
		ret |= unfreeze(t);
	return ret;
}

static int kill_target(struct target *t)
{
	if (kill(t->pid, SIGKILL)) {
		warn("cannot kill process %d: %s", t->pid, strerror(errno));
		return -1;
	}
	if (!wait_task(t->pid, state_gone))
		warn("process %d was sent SIGKILL but has not exited yet",
		     t->pid);
	t->sent_stop = false;
	return t->cgroup[0] ? unfreeze(t) : 0;
}

/* @fd is the regular file @path, not reached through a symlink */
static bool is_file(int fd, const char *path)
{
	struct stat st, lst;

	return !fstat(fd, &st) && S_ISREG(st.st_mode) && !lstat(path, &lst) &&
	       S_ISREG(lst.st_mode) && st.st_dev == lst.st_dev &&
	       st.st_ino == lst.st_ino;
}

/* Where the image starts in @fd, to tell its size; -1 if unknown */
static off_t image_start(int fd)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return -1;
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && (fl & O_APPEND))
		return st.st_size;
	return lseek(fd, 0, SEEK_CUR);
}

static void catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa = { .sa_handler = on_signal };
	size_t i;

	/* Not SA_RESTART: a signal interrupts a blocked write of the image */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	/* A reader that goes away makes the call fail with EPIPE */
	signal(SIGPIPE, SIG_IGN);
}

/* After a signal asked us to stop: die of it, now that PID is resumed */
static void __noreturn exit_caught(int status)
{
	if (caught) {
		signal(caught, SIG_DFL);
		raise(caught);
	}
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "stop", no_argument, NULL, 'S' },
		{ "freeze", no_argument, NULL, 'F' },
		{ "leave-running", no_argument, NULL, 'L' },
		{ "kill", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	enum stop_mode mode = STOP_NONE;
	const char *out = NULL, *name;
	struct target t = { 0 };
	struct cr_log log;
	int c, fd, err, status;
	/* A partial image in a regular file is removed */
	bool kill_after = false, leave = false, created = false;
	off_t start, end;
	long crid, val;
	char state;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'S':
		case 'F':
			if (mode != STOP_NONE &&
			    mode != (c == 'S' ? STOP_SIGNAL : STOP_FREEZE))
				usage_error("--stop and --freeze exclude each other");
			mode = c == 'S' ? STOP_SIGNAL : STOP_FREEZE;
			break;
		case 'L':
			leave = true;
			break;
		case 'K':
			kill_after = true;
			break;
		case 'h':
			print_help(stdout);
			return CR_EXIT_OK;
		default:
			fprintf(stderr, "Try 'checkpoint --help' for more information.\n");
			return CR_EXIT_USAGE;
		}
	}
	if (leave && kill_after)
		usage_error("--leave-running and --kill exclude each other");
	if (optind == argc)
		usage_error("no PID given");
	if (optind + 1 < argc)
		usage_error("one PID only, not '%s'", argv[optind + 1]);
	if (cr_parse_int(argv[optind], 1, INT_MAX, &val))
		usage_error("'%s' is not a process id", argv[optind]);
	t.pid = val;
	if (t.pid == getpid())
		usage_error("checkpoint cannot save itself");
	if (out && !strcmp(out, "-"))
		out = NULL;

	/* The output, before anything is done to the process */
	if (out) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			warn("cannot open %s: %s", out, strerror(errno));
			return CR_EXIT_FAIL;
		}
		if (isatty(fd)) {
			close(fd);
			usage_error("refusing to write an image to the terminal %s",
				    out);
		}
		created = is_file(fd, out);
		name = out;
	} else {
		fd = STDOUT_FILENO;
		if (fcntl(fd, F_GETFL) < 0)
			usage_error("standard output is closed: give -o FILE");
		if (isatty(fd))
			usage_error("refusing to write an image to a terminal: give -o FILE");
		name = "standard output";
	}

	state = task_state(t.pid);
	if (state_gone(state)) {
		warn("no process %d (or it has exited)", t.pid);
		goto fail_output;
	}
	t.was_stopped = state_stopped(state);

	catch_signals();
	if (!t.was_stopped && mode != STOP_NONE) {
		if (mode == STOP_SIGNAL ? stop_signal(&t) : freeze_task(&t)) {
			resume_task(&t);
			if (created)
				unlink(out);
			exit_caught(CR_EXIT_STOP);
		}
	}

	start = image_start(fd);
	crid = sys_checkpoint(t.pid, fd, cr_log_open(&log));
	err = errno;

	if (crid < 0) {
		char what[64];

		snprintf(what, sizeof(what), "process %d", t.pid);
		cr_report(PROG, what, err, hints, &log);
		if (err == EBUSY && mode == STOP_NONE &&
		    !state_stopped(task_state(t.pid)))
			warn("process %d is not stopped: add --stop or --freeze",
			     t.pid);
		resume_task(&t);
		goto fail_output;
	}

	cr_log_show(PROG, &log);	/* nothing, but it closes the pipe */
	end = start >= 0 ? lseek(fd, 0, SEEK_CUR) : -1;
	if (out && close(fd)) {
		warn("%s: %s", out, strerror(errno));
		resume_task(&t);
		unlink(out);
		exit_caught(CR_EXIT_FAIL);
	}
	if (start >= 0 && end >= start)
		fprintf(stderr, PROG ": %d saved to %s (crid %ld, %lld bytes)\n",
			t.pid, name, crid, (long long)(end - start));
	else
		fprintf(stderr, PROG ": %d saved to %s (crid %ld)\n", t.pid,
			name, crid);

	/* Interrupted: leave the process as it was, rather than kill it */
	status = CR_EXIT_OK;
	if (kill_after && !caught) {
		if (kill_target(&t))
			status = CR_EXIT_FAIL;
	} else if (resume_task(&t)) {
		status = CR_EXIT_FAIL;
	}
	exit_caught(status);

fail_output:
	if (created)
		unlink(out);
	exit_caught(CR_EXIT_FAIL);
}
