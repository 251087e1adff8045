/*
 * ttpd: MITRE ATT&CK tagging daemon.  main(): options, start-up (config,
 * plugins, rules, store) and the replay mode.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attack.h"
#include "bus.h"
#include "conf.h"
#include "daemon.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "pipeline.h"
#include "plugin.h"
#include "probe.h"
#include "rules.h"
#include "startup.h"
#include "store.h"
#include "xmalloc.h"

#ifndef TTPD_SYSCONFDIR
#define TTPD_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG TTPD_SYSCONFDIR "/ttpd/ttpd.conf"

enum { OPT_REPLAY = 256, OPT_TAGS_OUT, OPT_DRY_RUN };

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "debug", no_argument, NULL, 'd' },
	{ "foreground", no_argument, NULL, 'f' },
	{ "test", no_argument, NULL, 't' },
	{ "show-config", no_argument, NULL, 'T' },
	{ "option", required_argument, NULL, 'o' },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ "tags-out", required_argument, NULL, OPT_TAGS_OUT },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: ttpd [-dftTVh] [-c file] [-o key=value]... [--replay file]\n"
"            [--tags-out file] [--dry-run]\n"
"\n"
"Tag deception-network events with MITRE ATT&CK techniques.\n"
"\n"
"  -c, --config FILE     configuration file (default %s)\n"
"  -d, --debug           log debug messages: the same as -o log.level=\"debug\"\n"
"  -o, --option KEY=VAL  override a setting: dotted path, libconfig literal\n"
"                        value, e.g. -o store.path='\"/tmp/t.db\"'; repeatable\n"
"  -t, --test            check configuration, plugins and rules, print each\n"
"                        plugin's report, exit 0 (all good) or 1\n"
"  -T, --show-config     check as -t, then print the effective configuration\n"
"                        (every key, defaults included, in ttpd.conf syntax)\n"
"                        and each plugin's status as comments; exit 0 or 1\n"
"  -f, --foreground      run the daemon in the foreground (for systemd and\n"
"                        terminals); without -f, ttpd detaches and writes\n"
"                        daemon.pidfile.  SIGTERM/SIGINT drain and stop,\n"
"                        SIGHUP reloads the configuration and rules\n"
"      --replay FILE     tag the JSONL events in FILE ('-' = stdin) into the\n"
"                        store without a bus, print a summary line and exit\n"
"      --tags-out FILE   with --replay: also write every newly inserted tag\n"
"                        to FILE as JSONL ('-' = stdout)\n"
"      --dry-run         with --replay: tag but store nothing (inserted=0)\n"
"  -V, --version         print the version and the plugin ABI, then exit\n"
"  -h, --help            print this help and exit\n"
"\n"
"Exit status: 0 success, 1 configuration/plugin/rule/store error, 2 usage.\n"
"See ttpd(8) and ttpd.conf(5).\n", DEFAULT_CONFIG);
}

struct ttpd {
	struct config cfg;
	struct startup su;     /* plugins, rules */
	struct store *store;
};

static int
lookup_ip(void *ud, const char *ip, char *out, size_t outlen)
{
	return store_attacker_by_ip(ud, ip, out, outlen);
}

/* Open the configured store (one connection). NULL: logged. */
static struct store *
open_store(const struct config *cfg)
{
	struct store_options so;
	struct store *s;
	char err[1024];

	startup_store_options(cfg, &so);
	if ((s = store_open(cfg->store_path, &so, err, sizeof err)) == NULL)
		log_err("%s", err);
	return s;
}

/* Load plugins and rules; with with_store, also the store and rule
 * states.  Returns 0 or -1 (every problem already logged). */
static int
setup(struct ttpd *t, int with_store)
{
	startup_load(&t->su, &t->cfg, STARTUP_PLUGINS | STARTUP_GUARD |
	    (with_store ? 0 : STARTUP_PROBE));
	if (t->cfg.nplugins == 0)
		log_warn("%s: plugins.load is empty: nothing will be tagged",
		    t->cfg.file);
	if (with_store) {
		if ((t->store = open_store(&t->cfg)) == NULL)
			return -1;
		if (startup_rule_states(&t->su, t->store) != 0)
			log_warn("%s: reading ttp_rule_state failed: %s; all "
			    "rules start enabled", store_path(t->store),
			    store_error(t->store));
	}
	if (startup_assign(&t->su) > 0) {
		log_err("start-up refused: fix the problems above (ttpd fails "
		    "closed on a broken plugin or rule)");
		return -1;
	}
	return 0;
}

static void
teardown(struct ttpd *t)
{
	startup_free(&t->su);
	if (t->store != NULL)
		store_close(t->store);
	config_free(&t->cfg);
}

/* -t: one report line per plugin and per rule problem. */
static void
print_report(const struct ttpd *t, FILE *fp)
{
	size_t i, k;
	size_t inert = 0;

	for (i = 0; i < t->su.reg.nplugins; i++) {
		const struct plugin *p = t->su.reg.plugins[i];
		const char *const *kp;

		fprintf(fp, "plugin %s: %s ABI %u.%u version %s kinds=", p->name,
		    p->path, p->desc->abi_major, p->desc->abi_minor,
		    p->desc->version != NULL ? p->desc->version : "?");
		for (kp = p->desc->source_kinds; *kp != NULL; kp++)
			fprintf(fp, "%s%s", kp == p->desc->source_kinds ? "" :
			    ",", *kp);
		fprintf(fp, " rules=%zu", p->nrules);
		for (k = 0; k < p->nrules; k++)
			fprintf(fp, "%s%s", k == 0 ? " (" : ",",
			    p->rules[k]->pub.rule_id);
		fprintf(fp, "%s\n", p->nrules > 0 ? ")" : "");
	}
	for (i = 0; i < t->su.rules.n; i++)
		if (t->su.rules.v[i]->owner == NULL)
			inert++;
	fprintf(fp, "rules: %zu loaded, %zu inert (no loaded plugin owns "
	    "them)\n", t->su.rules.n, inert);
}

/*
 * -T: one comment line per configured plugin, so that the whole output
 * still parses as a ttpd.conf.  `names`: plugins.load as configured
 * (the -t probe drops crashing entries from cfg->plugins).
 */
static void
print_plugin_status(const struct ttpd *t, char **names, size_t n, FILE *fp)
{
	size_t i;

	fprintf(fp, "# plugin status (%zu configured, %zu initialised)\n", n,
	    t->su.reg.nplugins);
	for (i = 0; i < n; i++) {
		const struct plugin *p = registry_find(&t->su.reg, names[i]);
		const char *const *kp;

		if (p == NULL) {
			fprintf(fp, "#   %s: init failed (see the messages "
			    "above)\n", names[i]);
			continue;
		}
		fprintf(fp, "#   %s: init ok, path %s, ABI %u.%u, version %s, "
		    "kinds ", p->name, p->path, p->desc->abi_major,
		    p->desc->abi_minor, p->desc->version != NULL ?
		    p->desc->version : "?");
		for (kp = p->desc->source_kinds; *kp != NULL; kp++)
			fprintf(fp, "%s%s", kp == p->desc->source_kinds ? "" :
			    ",", *kp);
		fprintf(fp, ", %zu rules%s\n", p->nrules,
		    p->disabled ? ", disabled" : "");
	}
}

static int
show_config(struct ttpd *t)
{
	char **names;
	size_t i, n = t->cfg.nplugins;
	int rc;

	names = xcalloc(n + 1, sizeof *names);
	for (i = 0; i < n; i++)
		names[i] = xstrdup(t->cfg.plugins[i].name);
	/* printed before the set-up: the ATT&CK check fills in
	 * attack.release, and the probe drops crashing plugins */
	config_print(&t->cfg, stdout);
	rc = setup(t, 0) == 0 ? 0 : 1;
	print_plugin_status(t, names, n, stdout);
	printf("# configuration %s %s\n", t->cfg.file, rc == 0 ? "OK" :
	    "has problems");
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int
run_replay(struct ttpd *t, const char *path, const char *tags_out,
    int dry_run)
{
	struct pipeline pl;
	struct store *wstore = NULL;
	FILE *in = stdin, *out = NULL;
	int rc;

	if (strcmp(path, "-") != 0 && (in = fopen(path, "r")) == NULL) {
		log_err("--replay %s: %s", path, strerror(errno));
		return 1;
	}
	if (tags_out != NULL) {
		out = strcmp(tags_out, "-") == 0 ? stdout :
		    fopen(tags_out, "w");
		if (out == NULL) {
			log_err("--tags-out %s: %s", tags_out,
			    strerror(errno));
			if (in != stdin)
				fclose(in);
			return 1;
		}
	}
	/* The writer thread gets a connection of its own; t->store stays
	 * with this thread for attacker lookups. */
	if (!dry_run) {
		if ((wstore = open_store(&t->cfg)) == NULL) {
			if (in != stdin)
				fclose(in);
			if (out != NULL && out != stdout)
				fclose(out);
			return 1;
		}
	}
	pipeline_init(&pl, &t->su.reg, wstore);
	pl.ts.attack_release = t->cfg.attack_release;
	pl.batch_size = (size_t)t->cfg.store_batch_size;
	pl.max_line_bytes = (size_t)t->cfg.max_event_bytes;
	pl.tags_out = out;
	if (store_has_attackers(t->store) == 1) {
		pl.anchors.lookup_ip = lookup_ip;
		pl.anchors.ud = t->store;
	}
	pl.anchors.derive = t->cfg.anchor_derive;
	if (pipeline_start_writer(&pl) != 0) {
		pipeline_free(&pl);
		store_close(wstore);
		if (in != stdin)
			fclose(in);
		if (out != NULL && out != stdout)
			fclose(out);
		return 1;
	}
	rc = pipeline_replay(&pl, in, strcmp(path, "-") == 0 ? "stdin" : path);
	if (pl.st.bad_lines > 0 || pl.st.dropped > 0 || pl.st.unrouted > 0)
		log_notice("replay %s: %llu lines, %llu bad, %llu without an "
		    "anchor, %llu of a kind no plugin handles, %llu plugin "
		    "errors", path, (unsigned long long)pl.st.lines,
		    (unsigned long long)pl.st.bad_lines,
		    (unsigned long long)pl.st.dropped,
		    (unsigned long long)pl.st.unrouted,
		    (unsigned long long)pl.st.plugin_errors);
	pipeline_summary(&pl, stdout);
	fflush(stdout);
	pipeline_free(&pl);
	if (wstore != NULL)
		store_close(wstore);
	if (in != stdin)
		fclose(in);
	if (out != NULL && out != stdout)
		fclose(out);
	return rc == 0 ? 0 : 1;
}

/* ------------------------------------------------------------ daemon */

/* -o overrides, kept for SIGHUP reloads */
static const char **saved_overrides;
static size_t nsaved_overrides;

/* Settings a reload cannot change in a running daemon. */
static void
warn_restart_needed(const struct config *old, const struct config *nw)
{
	if (strcmp(old->store_path, nw->store_path) != 0)
		log_warn("reload: store.path changed; restart ttpd to use it");
	if (old->bus_mode != nw->bus_mode ||
	    old->bus_nservers != nw->bus_nservers ||
	    old->bus_nsubjects != nw->bus_nsubjects ||
	    old->bus_queue_size != nw->bus_queue_size)
		log_warn("reload: bus settings changed; they take effect at "
		    "the next restart");
}

/* Per-plugin counters count since start-up, not since the last reload. */
static void
carry_counters(const struct registry *old, struct registry *nw)
{
	size_t i;

	for (i = 0; i < nw->nplugins; i++) {
		const struct plugin *p = registry_find(old,
		    nw->plugins[i]->name);

		if (p != NULL)
			nw->plugins[i]->counters = p->counters;
	}
}

/* SIGHUP: a new configuration, plugins and rules, or the old ones. */
static int
reload(struct daemon_env *env)
{
	struct ttpd *t = env->ud, nt;
	char err[2048];

	memset(&nt, 0, sizeof nt);
	if (config_load(t->cfg.file, saved_overrides, nsaved_overrides,
	    &nt.cfg, err, sizeof err) != 0) {
		log_err("reload: %s", err);
		log_err("reload failed: keeping the running configuration");
		return -1;
	}
	if (setup(&nt, 1) != 0) {
		log_err("reload failed: keeping the running configuration, "
		    "plugins and rules");
		teardown(&nt);
		return -1;
	}
	warn_restart_needed(&t->cfg, &nt.cfg);
	carry_counters(&t->su.reg, &nt.su.reg);
	teardown(t);
	*t = nt;
	log_set_level(t->cfg.log_level);
	env->cfg = &t->cfg;
	env->reg = &t->su.reg;
	env->lookup_store = t->store;
	return 0;
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		daemon_reload_requested = 1;
	else
		daemon_stop_requested = 1;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* ------------------------------------------------- privilege drop */

struct priv {
	int set;          /* daemon.user configured and we are root */
	uid_t uid;
	gid_t gid;
	char *user;       /* for messages */
	char *group;
	char *new_store;  /* store.path created by this start (as root) */
};

static struct priv priv;

/* A name or a number; 0 or -1. */
static int
lookup_user(const char *s, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	char *end;
	unsigned long n;

	if ((pw = getpwnam(s)) == NULL) {
		errno = 0;
		n = strtoul(s, &end, 10);
		if (*s == '\0' || *end != '\0' || errno != 0 ||
		    n > (unsigned long)(uid_t)-2)
			return -1;
		pw = getpwuid((uid_t)n);
		*uid = (uid_t)n;
		*gid = pw != NULL ? pw->pw_gid : (gid_t)n;
		return 0;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

static int
lookup_group(const char *s, gid_t *gid)
{
	struct group *gr;
	char *end;
	unsigned long n;

	if ((gr = getgrnam(s)) != NULL) {
		*gid = gr->gr_gid;
		return 0;
	}
	errno = 0;
	n = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 ||
	    n > (unsigned long)(gid_t)-2)
		return -1;
	*gid = (gid_t)n;
	return 0;
}

/*
 * Before anything is opened: resolve daemon.user/daemon.group and decide
 * whether a switch is needed.  Not root: fine only when already running
 * as that user (and group).  0 or -1 (logged).
 */
static int
priv_prepare(const struct config *cfg)
{
	uid_t uid;
	gid_t gid;

	memset(&priv, 0, sizeof priv);
	if (cfg->daemon_user == NULL) {
		if (cfg->daemon_group != NULL) {
			log_err("%s: daemon.group is set without daemon.user; "
			    "set both (or neither)", cfg->file);
			return -1;
		}
		return 0;
	}
	if (lookup_user(cfg->daemon_user, &uid, &gid) != 0) {
		log_err("%s: daemon.user \"%s\": no such user", cfg->file,
		    cfg->daemon_user);
		return -1;
	}
	if (cfg->daemon_group != NULL &&
	    lookup_group(cfg->daemon_group, &gid) != 0) {
		log_err("%s: daemon.group \"%s\": no such group", cfg->file,
		    cfg->daemon_group);
		return -1;
	}
	if (geteuid() != 0) {
		if (getuid() == uid && geteuid() == uid && getgid() == gid &&
		    getegid() == gid) {
			log_info("already running as daemon.user %s (uid %ld, "
			    "gid %ld): no privilege drop needed",
			    cfg->daemon_user, (long)uid, (long)gid);
			return 0;
		}
		log_err("%s: daemon.user is %s (uid %ld, gid %ld) but ttpd "
		    "runs as uid %ld, gid %ld and is not root, so it cannot "
		    "switch: start it as root or as that user", cfg->file,
		    cfg->daemon_user, (long)uid, (long)gid, (long)geteuid(),
		    (long)getegid());
		return -1;
	}
	priv.set = 1;
	priv.uid = uid;
	priv.gid = gid;
	priv.user = cfg->daemon_user;
	priv.group = cfg->daemon_group;
	return 0;
}

/*
 * After the pidfile, the store, the plugins, the bus connection and the
 * log are open: drop supplementary groups, gid, uid; then make sure root
 * cannot be regained.  0 or -1 (logged: the daemon stops).
 */
static int
priv_drop(struct daemon_env *env)
{
	if (!priv.set)
		return 0;
	/* a database this start created as root goes to the user, so that
	 * the reopening of a reload works; one that existed is left alone */
	if (priv.new_store != NULL) {
		static const char *const sfx[] = { "", "-wal", "-shm",
		    "-journal" };
		size_t i;

		for (i = 0; i < sizeof sfx / sizeof *sfx; i++) {
			char *f = xasprintf("%s%s", priv.new_store, sfx[i]);

			if (chown(f, priv.uid, priv.gid) != 0 &&
			    errno != ENOENT)
				log_warn("privilege drop: chown %s: %s", f,
				    strerror(errno));
			free(f);
		}
	}
	if (setgroups(1, &priv.gid) != 0) {
		log_err("privilege drop: setgroups(%ld): %s", (long)priv.gid,
		    strerror(errno));
		return -1;
	}
	if (setgid(priv.gid) != 0) {
		log_err("privilege drop: setgid(%ld): %s", (long)priv.gid,
		    strerror(errno));
		return -1;
	}
	if (setuid(priv.uid) != 0) {
		log_err("privilege drop: setuid(%ld): %s", (long)priv.uid,
		    strerror(errno));
		return -1;
	}
	if (priv.uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_err("privilege drop: root could be regained after "
		    "switching to uid %ld; stopping", (long)priv.uid);
		return -1;
	}
	if (getuid() != priv.uid || geteuid() != priv.uid ||
	    getgid() != priv.gid || getegid() != priv.gid) {
		log_err("privilege drop: still uid %ld/%ld gid %ld/%ld after "
		    "switching; stopping", (long)getuid(), (long)geteuid(),
		    (long)getgid(), (long)getegid());
		return -1;
	}
	log_notice("privileges dropped: running as user %s (uid %ld), group "
	    "%s (gid %ld)", priv.user, (long)priv.uid, priv.group != NULL ?
	    priv.group : "(its primary)", (long)priv.gid);
	if (strcmp(env->cfg->store_path, ":memory:") != 0 &&
	    access(env->cfg->store_path, R_OK | W_OK) != 0)
		log_warn("store.path %s is not writable by daemon.user %s: "
		    "tagging goes on through the open connection, but a "
		    "reload (SIGHUP) will fail; chown it (and its directory) "
		    "to that user", env->cfg->store_path, priv.user);
	return 0;
}

static int pidfile_fd = -1;

/*
 * Lock the pidfile (held for the life of the daemon: a second instance
 * fails here with a clear message).  0 or -1 (logged).
 */
static int
pidfile_lock(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		log_err("daemon.pidfile %s: %s (set daemon.pidfile to a "
		    "writable path, or run in the foreground with -f)", path,
		    strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		n = read(fd, buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		log_err("another ttpd is already running (pid %s, pidfile %s "
		    "is locked); stop it first or give this one another "
		    "daemon.pidfile", buf[0] != '\0' ? buf : "unknown",
		    path);
		close(fd);
		return -1;
	}
	pidfile_fd = fd;
	return 0;
}

static void
pidfile_write(void)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());

	if (ftruncate(pidfile_fd, 0) != 0 ||
	    pwrite(pidfile_fd, buf, (size_t)n, 0) != n)
		log_warn("cannot write the pidfile: %s", strerror(errno));
}

/*
 * Detach: the parent waits on a pipe until the child reports that it
 * started (exit 0) or failed (exit 1), so start-up errors still reach
 * the terminal.  Returns the write end of the pipe in the daemon.
 */
static int
detach(void)
{
	int p[2];
	pid_t pid;
	char c = 1;

	if (pipe(p) != 0) {
		log_err("cannot detach: pipe: %s", strerror(errno));
		exit(1);
	}
	if ((pid = fork()) < 0) {
		log_err("cannot detach: fork: %s", strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			c = 1;
		_exit(c == 0 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	if ((pid = fork()) < 0)
		_exit(1);
	if (pid > 0)
		_exit(0); /* not a session leader: never gets a terminal */
	if (chdir("/") != 0)
		log_warn("chdir /: %s", strerror(errno));
	return p[1];
}

/* Tell the waiting parent we are up; stdio to /dev/null. */
static void
detach_done(int fd, int ok, int syslog_already)
{
	char c = ok ? 0 : 1;
	int null;

	if (ok && !syslog_already)
		log_init("ttpd", LOG_TARGET_SYSLOG, log_level());
	/* (log.facility was set before the first log_init) */
	if (write(fd, &c, 1) != 1)
		log_warn("cannot notify the parent process");
	close(fd);
	if ((null = open("/dev/null", O_RDWR)) >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
}

static int
run_daemon(struct ttpd *t, int foreground)
{
	struct daemon_env env;
	int notify = -1, rc;

	if (priv_prepare(&t->cfg) != 0)
		return 1;
	if (priv.set && strcmp(t->cfg.store_path, ":memory:") != 0 &&
	    access(t->cfg.store_path, F_OK) != 0 && errno == ENOENT)
		priv.new_store = t->cfg.store_path;
	if (!foreground) {
		if (pidfile_lock(t->cfg.pidfile) != 0)
			return 1;
		notify = detach();
	}
	/* before the (possibly slow) set-up: a SIGHUP or SIGTERM that
	 * arrives meanwhile is acted on once it is done, not fatal */
	install_signals();
	if (setup(t, 1) != 0) {
		if (notify >= 0)
			detach_done(notify, 0, 0);
		return 1;
	}
	if (notify >= 0) {
		pidfile_write();
		detach_done(notify, 1, t->cfg.log_syslog);
	}
	memset(&env, 0, sizeof env);
	env.cfg = &t->cfg;
	env.reg = &t->su.reg;
	env.lookup_store = t->store;
	env.reload = reload;
	env.opened = priv_drop;
	env.ud = t;
	env.rules = &t->su.rules; /* same address across reloads (*t = nt) */
	rc = daemon_run(&env);
	bus_library_cleanup();
	if (pidfile_fd >= 0) {
		/* after a privilege drop this may fail: the lock is what
		 * counts, and a stale file is harmless */
		unlink(t->cfg.pidfile);
		close(pidfile_fd);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	const char *config_path = DEFAULT_CONFIG, *replay = NULL;
	const char *tags_out = NULL;
	const char **overrides = NULL;
	size_t noverrides = 0;
	int ch, test = 0, show = 0, dry_run = 0, foreground = 0, rc;
	struct ttpd t;
	char err[2048];

	memset(&t, 0, sizeof t);
	log_init("ttpd", LOG_TARGET_STDERR, TTPD_LOG_INFO);
	while ((ch = getopt_long(argc, argv, "c:dftTo:Vh", long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'd':
			/* an override, so that reloads keep it */
			overrides = xreallocarray(overrides, noverrides + 1,
			    sizeof *overrides);
			overrides[noverrides++] = "log.level=\"debug\"";
			break;
		case 'f':
			foreground = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'T':
			show = 1;
			break;
		case 'o':
			overrides = xreallocarray(overrides, noverrides + 1,
			    sizeof *overrides);
			overrides[noverrides++] = optarg;
			break;
		case OPT_REPLAY:
			replay = optarg;
			break;
		case OPT_TAGS_OUT:
			tags_out = optarg;
			break;
		case OPT_DRY_RUN:
			dry_run = 1;
			break;
		case 'V':
			printf("ttpd %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
			    TTPD_ABI_MAJOR, TTPD_ABI_MINOR);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ttpd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	if (show && (test || replay != NULL)) {
		fprintf(stderr, "ttpd: -T cannot be combined with -t or "
		    "--replay\n");
		return 2;
	}
	if ((tags_out != NULL || dry_run) && replay == NULL) {
		fprintf(stderr, "ttpd: --tags-out and --dry-run need --replay\n");
		return 2;
	}

	if (config_load(config_path, overrides, noverrides, &t.cfg, err,
	    sizeof err) != 0) {
		log_err("%s", err);
		free(overrides);
		return 1;
	}
	saved_overrides = overrides;
	nsaved_overrides = noverrides;
	/* replay and -t talk to a terminal: keep stderr there */
	log_set_facility(t.cfg.log_facility);
	log_init("ttpd", (t.cfg.log_syslog && replay == NULL && !test &&
	    !show) ?
	    LOG_TARGET_SYSLOG : LOG_TARGET_STDERR, t.cfg.log_level);

	if (show) {
		rc = show_config(&t);
		teardown(&t);
		free(overrides);
		return rc;
	}
	if (replay == NULL && !test) {
		rc = run_daemon(&t, foreground);
		teardown(&t);
		free(overrides);
		return rc;
	}
	if (setup(&t, !test) != 0) {
		if (test)
			print_report(&t, stdout);
		teardown(&t);
		free(overrides);
		return 1;
	}
	if (test) {
		print_report(&t, stdout);
		printf("configuration %s OK\n", t.cfg.file);
		teardown(&t);
		free(overrides);
		return 0;
	}
	rc = run_replay(&t, replay, tags_out, dry_run);
	teardown(&t);
	free(overrides);
	return rc;
}
