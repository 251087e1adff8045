/*
 * Forked plugin probe for ttpd -t (anchors L.4 a).
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "crash.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "plugin.h"
#include "probe.h"

/* In the child: load, init, destroy; the exit status is all we need. */
static void
probe_child(const struct config *cfg, const struct plugin_conf *pc)
{
	struct rlimit no_core = { 0, 0 };
	struct registry reg;
	char err[1024];
	int fd, rc;

	/* The parent reports crashes; refusals are reported by the real
	 * load that follows, so the child stays quiet and leaves no core. */
	(void)setrlimit(RLIMIT_CORE, &no_core);
	if ((fd = open("/dev/null", O_WRONLY)) != -1) {
		(void)dup2(fd, STDERR_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	signal(SIGALRM, SIG_DFL);
	alarm(PROBE_TIMEOUT_S);
	registry_init(&reg);
	rc = loader_load(&reg, cfg->plugins_dir, pc, err, sizeof err);
	registry_free(&reg);
	_exit(rc == 0 ? 0 : 1);
}

static void
drop_plugin(struct config *cfg, size_t i)
{
	struct plugin_conf *pc = &cfg->plugins[i];

	free(pc->name);
	free(pc->path);
	if (pc->config != NULL)
		jv_decref(pc->config);
	free(pc->origin);
	memmove(pc, pc + 1, (cfg->nplugins - i - 1) * sizeof *pc);
	cfg->nplugins--;
	memset(&cfg->plugins[cfg->nplugins], 0, sizeof *pc);
}

int
probe_plugins(struct config *cfg)
{
	size_t i = 0;
	int removed = 0;

	while (i < cfg->nplugins) {
		const struct plugin_conf *pc = &cfg->plugins[i];
		char *path;
		pid_t pid;
		int status, sig;

		fflush(NULL);	/* nothing buffered may be written twice */
		pid = fork();
		if (pid == -1) {
			log_warn("plugin %s: cannot fork a probe (%s); loading "
			    "it without one", pc->name, strerror(errno));
			i++;
			continue;
		}
		if (pid == 0)
			probe_child(cfg, pc);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			continue;
		if (!WIFSIGNALED(status)) {
			i++;
			continue;
		}
		sig = WTERMSIG(status);
		if (pc->path != NULL)
			path = strdup(pc->path);
		else if (asprintf(&path, "%s/%s.so", cfg->plugins_dir != NULL ?
		    cfg->plugins_dir : "", pc->name) == -1)
			path = NULL;
		if (sig == SIGALRM)
			log_err("plugin %s (%s): did not finish loading and "
			    "init within %d s; not loaded", pc->name,
			    path != NULL ? path : "?", PROBE_TIMEOUT_S);
		else
			log_err("plugin %s (%s): crashed during init: signal "
			    "%d (%s); not loaded", pc->name,
			    path != NULL ? path : "?", sig, crash_signame(sig));
		free(path);
		drop_plugin(cfg, i);
		removed++;
	}
	return removed;
}

int
probe_guard_plugins(struct config *cfg, int probe)
{
	static int installed;

	if (!installed) {
		if (crash_install("ttpd") != 0)
			log_warn("cannot install the fatal-signal handler: "
			    "%s; a crashing plugin will not be named",
			    strerror(errno));
		installed = 1;
	}
	return probe ? probe_plugins(cfg) : 0;
}
