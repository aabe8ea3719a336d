/* test-relay-host.c: the fake host for the relay transport, and launchers. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "relay-test-host.h"

/* CLOCK_MONOTONIC and CLOCK_REALTIME in microseconds. */
int64_t
test_mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

int64_t
test_real_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* Load the transport (its init, as the host would call it); its log
 * lines go to stderr as TAP comments. */
int
test_relay_load(struct sb_plugin *p, const char *site, const char **kv)
{
	size_t	i;

	memset(p, 0, sizeof *p);
	p->site = site;
	p->echo = 1;
	for (i = 0; kv[i] != NULL && kv[i + 1] != NULL && i < 30; i += 2)
		fake_plugin_arg(p, kv[i], kv[i + 1]);
	return (synbridge_plugin_init(p, &fake_host));
}

/* Free the transport and what was recorded (as the host unloads). */
void
test_relay_unload(struct sb_plugin *p)
{
	fake_plugin_unload(p, synbridge_plugin_end);
}

/* Path of a built program, if it is there. */
char *
test_relay_program(const char *rel)
{
	const char	*top = getenv("top_builddir");
	char		*path;

	if (top == NULL)
		top = ".";
	if (asprintf(&path, "%s/%s", top, rel) < 0)
		return (NULL);
	if (access(path, X_OK) != 0) {
		free(path);
		return (NULL);
	}
	return (path);
}

/* Run argv with stdout to DIR/out; wait for its ready lines (10 s). */
static int
test_spawn(struct test_proc *tp, char **argv)
{
	char		 path[128], line[512];
	int64_t		 deadline = test_mono_us() + 10000000;
	struct timespec	 ts = { 0, 5000000 };
	FILE		*f;
	int		 fd;

	snprintf(path, sizeof path, "%s/out", tp->dir);
	if ((tp->pid = fork()) == 0) {
		/* a test or benchmark that dies leaves no process behind */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		close(fd);
		execv(argv[0], argv);
		_exit(127);
	}
	while (tp->port == 0 && test_mono_us() < deadline) {
		nanosleep(&ts, NULL);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof line, f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (strncmp(line, "pin ", 4) == 0)
				snprintf(tp->pin, sizeof tp->pin, "%.120s",
				    line + 4);
			if (strncmp(line, "listening on ", 13) == 0 &&
			    strrchr(line, ':') != NULL)
				tp->port = atoi(strrchr(line, ':') + 1);
		}
		fclose(f);
		if (waitpid(tp->pid, NULL, WNOHANG) == tp->pid) {
			tp->pid = 0;
			break;
		}
	}
	if (tp->port == 0) {
		test_proc_stop(tp);
		return (-1);
	}
	return (0);
}

/*
 * Run the relay of tp->dir (its tokens, key and spool) on 127.0.0.1:port
 * (0: a free one) with extra as for test_relay_start.
 */
static int
test_relay_run(struct test_proc *tp, int port, const char *extra)
{
	char	*prog, listen[32], tokfile[128], certdir[128], spool[128];
	char	*argv[32], *more = NULL, *arg, *save = NULL;
	int	 argc = 0, rc;

	if ((prog = test_relay_program("src/relay/synbridge-relay")) == NULL)
		return (-1);
	snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
	snprintf(tokfile, sizeof tokfile, "%s/tokens", tp->dir);
	snprintf(certdir, sizeof certdir, "%s/tls", tp->dir);
	snprintf(spool, sizeof spool, "%s/spool", tp->dir);
	argv[argc++] = prog;
	argv[argc++] = (char *)"--listen";
	argv[argc++] = listen;
	argv[argc++] = (char *)"--self-signed";
	argv[argc++] = certdir;
	argv[argc++] = (char *)"--tokens";
	argv[argc++] = tokfile;
	if (extra != NULL && strcmp(extra, "spool") == 0) {
		argv[argc++] = (char *)"--spool";
		argv[argc++] = spool;
	} else if (extra != NULL && strncmp(extra, "--", 2) == 0 &&
	    (more = strdup(extra)) != NULL) {
		for (arg = strtok_r(more, " ", &save); arg != NULL && argc < 30;
		    arg = strtok_r(NULL, " ", &save))
			argv[argc++] = arg;
	}
	argv[argc] = NULL;
	signal(SIGPIPE, SIG_IGN);
	rc = test_spawn(tp, argv);
	free(more);
	free(prog);
	return (rc);
}

/*
 * Start the relay with tokens in a fresh directory: extra "spool" spools
 * it there; extra "--OPTION VALUE ..." adds those arguments (split at
 * spaces).
 */
int
test_relay_start(struct test_proc *tp, const char *tokens, const char *extra)
{
	char	 tokfile[128];
	FILE	*f;

	memset(tp, 0, sizeof *tp);
	snprintf(tp->dir, sizeof tp->dir, "/tmp/test-relay-XXXXXX");
	if (mkdtemp(tp->dir) == NULL) {
		tp->dir[0] = '\0';
		return (-1);
	}
	snprintf(tokfile, sizeof tokfile, "%s/tokens", tp->dir);
	if ((f = fopen(tokfile, "w")) == NULL) {
		test_proc_stop(tp);
		return (-1);
	}
	fputs(tokens, f);
	fclose(f);
	if (test_relay_run(tp, 0, extra) != 0) {
		test_proc_stop(tp);
		return (-1);
	}
	return (0);
}

/*
 * Kill the relay and start it again on its port, key and tokens, with
 * extra as for test_relay_start: without its spool ("spool"), the relay's
 * sessions start a new life. 0, or -1 (tp stopped).
 */
int
test_relay_restart(struct test_proc *tp, const char *extra)
{
	char	path[128];
	int	port = tp->port;

	if (tp->pid > 0) {
		kill(tp->pid, SIGKILL);
		waitpid(tp->pid, NULL, 0);
		tp->pid = 0;
	}
	/* (test_spawn reads the new relay's lines there) */
	snprintf(path, sizeof path, "%s/out", tp->dir);
	unlink(path);
	tp->port = 0;
	if (test_relay_run(tp, port, extra) != 0) {
		test_proc_stop(tp);
		return (-1);
	}
	return (0);
}

/* Start the proxy in front of port with rules. */
int
test_proxy_start(struct test_proc *tp, int port, const char **rules)
{
	return (test_proxy_start_on(tp, 0, port, rules));
}

/* The same, listening on listen (0: a free port). */
int
test_proxy_start_on(struct test_proc *tp, int listen, int port,
    const char **rules)
{
	char	*prog, target[64], from[64], *argv[32];
	int	 argc = 0;

	memset(tp, 0, sizeof *tp);
	if ((prog = test_relay_program("tests/tcp-proxy")) == NULL)
		return (-1);
	snprintf(tp->dir, sizeof tp->dir, "/tmp/test-relay-XXXXXX");
	if (mkdtemp(tp->dir) == NULL) {
		free(prog);
		return (-1);
	}
	snprintf(target, sizeof target, "127.0.0.1:%d", port);
	snprintf(from, sizeof from, "127.0.0.1:%d", listen);
	argv[argc++] = prog;
	argv[argc++] = from;
	argv[argc++] = target;
	while (*rules != NULL && argc < 30)
		argv[argc++] = (char *)*rules++;
	argv[argc] = NULL;
	if (test_spawn(tp, argv) != 0) {
		free(prog);
		return (-1);
	}
	free(prog);
	return (0);
}

/* Stop a started program and remove its directory. */
void
test_proc_stop(struct test_proc *tp)
{
	char	cmd[128];

	if (tp->pid > 0) {
		kill(tp->pid, SIGTERM);
		waitpid(tp->pid, NULL, 0);
		tp->pid = 0;
	}
	if (tp->dir[0] != '\0' && strncmp(tp->dir, "/tmp/test-relay-", 16)
	    == 0) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tp->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "# could not remove %s\n", tp->dir);
		tp->dir[0] = '\0';
	}
}
