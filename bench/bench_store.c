/*
 * bench_store: tag insert throughput of the SQLite store.
 *
 * Inserts N tags with random UUIDv5-shaped uuids, in batches (one
 * transaction each, as the daemon does), into a fresh database file and
 * prints rows/s.  Knobs: cache size, synchronous, wal_autocheckpoint, the
 * index set (store.indexes), extra SQL, and (bench only) dropping every
 * secondary index to see what they cost.
 *
 * The store module is compiled into this program so the bench can reach its
 * private connection for the two knobs the product never changes
 * (wal_autocheckpoint, dropping indexes) without widening store.h.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../host/store.c"

static const char *const tactics[] = {
	"discovery", "execution", "persistence", "credential-access",
	"defense-evasion", "collection", "command-and-control", "impact",
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	/* xorshift64*: cheap and good enough for key spread. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void
random_v5_uuid(char out[TAG_UUID_LEN + 1])
{
	unsigned char b[16];
	uint64_t a = rng(), c = rng();

	memcpy(b, &a, 8);
	memcpy(b + 8, &c, 8);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x50);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, TAG_UUID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
	    b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	    b[15]);
}

/* CPU seconds (user + system) used so far. */
static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
xfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xfmt(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (p = malloc((size_t)n + 1)) == NULL) {
		perror("bench_store");
		exit(1);
	}
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/*
 * Workloads (-w): how attackers and sessions spread over the tags, which
 * decides how many index pages a batch dirties.
 *   mixed      1000 attackers picked at random per tag, sessions of ~50
 *              tags (the historical default);
 *   realistic  honeypot-like: few attackers at a time (40 active), each
 *              session a run of 20 commands by one attacker, so
 *              attacker_uuid/session_id keys repeat in runs;
 *   worst      every tag a new attacker, identity and session.
 */
enum workload { WL_MIXED, WL_REALISTIC, WL_WORST };

static void
fill_tag(struct tag *t, long i, int64_t t0_ns, enum workload wl)
{
	unsigned att = (unsigned)(rng() % 1000), tech = (unsigned)(rng() % 60);
	unsigned rule = (unsigned)(rng() % 120);
	unsigned long sess = (unsigned long)i / 50;

	if (wl == WL_REALISTIC) {
		/* session k: 20 commands; attacker = one of 40 active,
		 * drifting slowly (a new attacker every ~10 sessions) */
		sess = (unsigned long)i / 20;
		att = (unsigned)(sess / 10 + sess % 40);
	} else if (wl == WL_WORST) {
		att = (unsigned)i;
		sess = (unsigned long)i;
	}
	memset(t, 0, sizeof(*t));
	random_v5_uuid(t->uuid);
	t->source_kind = xfmt("command");
	t->source_id = xfmt("sess-%u#%ld", att, i);
	t->attacker_uuid = xfmt("%08x-0000-4000-8000-%012u",
	    (unsigned)(att * 2654435761u), att);
	t->identity_uuid = (i % 10 == 0) ?
	    xfmt("11111111-0000-4000-8000-%012u", att / 4) : NULL;
	t->session_id = xfmt("%08lx%08lx", (unsigned long)(sess * 2654435761u),
	    sess);
	t->decky_id = xfmt("decky-%02u", att % 24);
	t->tactic = xfmt("%s", tactics[tech % 8]);
	t->technique_id = xfmt("T%04u", 1000 + tech * 7);
	t->sub_technique_id = (tech % 3 == 0) ?
	    xfmt("T%04u.%03u", 1000 + tech * 7, 1 + rule % 5) : NULL;
	t->confidence = 0.3 + (double)(rng() % 70) / 100.0;
	t->rule_id = xfmt("R%04u", rule);
	t->rule_version = 1 + rule % 3;
	t->evidence = xfmt("{\"matched_tokens\": [\"wget\", \"chmod\"],"
	    " \"rule_pattern\": \"wget.*\\\\|.*sh\", \"uid\": %u}", att);
	t->attack_release = xfmt("v15.1");
	t->mitre_url = xfmt("https://attack.mitre.org/techniques/T%04u",
	    1000 + tech * 7);
	tag_format_time(t0_ns + (int64_t)i * 3571, t->created_at);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_store [-I] [-a wal_autocheckpoint]"
	    " [-b batch] [-c cache_kib] [-d dir] [-i compact|decnet]\n"
	    "                   [-p page_size] [-r] [-s 0|1|2]"
	    " [-w mixed|realistic|worst] [-x sql] [N]\n"
	    "  N    tags to insert (default 200000)\n"
	    "  -a   SQLite's own checkpoint every N pages instead of the"
	    " store's\n"
	    "       (which also starts the WAL's writeback early)\n"
	    "  -I   drop every secondary index (bench only)\n"
	    "  -i   store.indexes of the fresh file (default compact: 9"
	    " indexes; decnet: 13)\n"
	    "  -p   page size of the fresh file (SQLite default 4096)\n"
	    "  -r   then insert the same tags again (replay: all"
	    " conflicts)\n"
	    "  -w   attacker/session spread (default mixed; see the"
	    " source)\n"
	    "  -x   SQL to run right after opening (say \"PRAGMA"
	    " mmap_size=1073741824\")\n");
	exit(2);
}

/* Bytes this process has written so far (Linux /proc/self/io), or -1. */
static long long
bytes_written(void)
{
	char line[128];
	long long v = -1;
	FILE *f;

	if ((f = fopen("/proc/self/io", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "wchar: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int
run_sql(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "bench_store: %s: %s\n", sql, msg);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
insert_all(struct store *s, struct tag *tags, long n, long batch,
    long *written)
{
	long i, k, r;

	*written = 0;
	for (i = 0; i < n; i += batch) {
		k = n - i < batch ? n - i : batch;
		if (store_begin(s) < 0 ||
		    (r = store_insert_tags(s, tags + i, (size_t)k,
		    NULL)) < 0 || store_commit(s) < 0) {
			fprintf(stderr, "bench_store: %s\n", store_error(s));
			return -1;
		}
		*written += r;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *const ix[] = {
		"attack_release", "attacker_technique", "attacker_uuid",
		"created_at", "decky_id", "identity_technique",
		"identity_uuid", "rule_id", "session_id", "sub_technique_id",
		"tactic", "technique_created", "technique_id",
	};
	struct store_options o;
	const char *tmp = "/tmp";
	char dir[4096], path[4200], err[512], sql[128], ckpt_label[32];
	long n = 200000, batch = 1000, autockpt = -1, page_size = 0, written;
	long i;
	int drop_indexes = 0, replay = 0, ch;
	const char *extra_sql = NULL;
	enum workload wl = WL_MIXED;
	struct store *s;
	struct tag *tags;
	double t0, t1, t2, t3, c0, c1;
	long long w0, w1;
	struct timespec wall;

	store_options_default(&o);
	while ((ch = getopt(argc, argv, "Ia:b:c:d:i:p:rs:w:x:")) != -1) {
		switch (ch) {
		case 'I':
			drop_indexes = 1;
			break;
		case 'a':
			autockpt = strtol(optarg, NULL, 10);
			break;
		case 'b':
			batch = strtol(optarg, NULL, 10);
			break;
		case 'c':
			o.cache_size_kib = strtoll(optarg, NULL, 10);
			break;
		case 'd':
			tmp = optarg;
			break;
		case 'i':
			if (strcmp(optarg, "compact") == 0)
				o.indexes = STORE_INDEXES_COMPACT;
			else if (strcmp(optarg, "decnet") == 0)
				o.indexes = STORE_INDEXES_DECNET;
			else
				usage();
			break;
		case 'p':
			page_size = strtol(optarg, NULL, 10);
			break;
		case 'r':
			replay = 1;
			break;
		case 'w':
			if (strcmp(optarg, "mixed") == 0)
				wl = WL_MIXED;
			else if (strcmp(optarg, "realistic") == 0)
				wl = WL_REALISTIC;
			else if (strcmp(optarg, "worst") == 0)
				wl = WL_WORST;
			else
				usage();
			break;
		case 's':
			o.synchronous = (int)strtol(optarg, NULL, 10);
			break;
		case 'x':
			extra_sql = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind < argc)
		n = strtol(argv[optind], NULL, 10);
	if (n <= 0 || batch <= 0)
		usage();

	clock_gettime(CLOCK_REALTIME, &wall);
	if ((tags = calloc((size_t)n, sizeof(*tags))) == NULL) {
		perror("bench_store");
		return 1;
	}
	for (i = 0; i < n; i++)
		fill_tag(&tags[i], i, (int64_t)wall.tv_sec * 1000000000, wl);

	snprintf(dir, sizeof(dir), "%s/bench_store.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/ttp.db", dir);
	if (page_size > 0) {
		/* The page size sticks once the file is initialised. */
		sqlite3 *db;

		snprintf(sql, sizeof(sql), "PRAGMA page_size=%ld;"
		    " CREATE TABLE bench_init(x); DROP TABLE bench_init;",
		    page_size);
		if (sqlite3_open(path, &db) != SQLITE_OK ||
		    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			fprintf(stderr, "bench_store: %s: %s\n", path,
			    sqlite3_errmsg(db));
			return 1;
		}
		sqlite3_close(db);
	}
	if ((s = store_open(path, &o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench_store: %s\n", err);
		return 1;
	}
	snprintf(ckpt_label, sizeof(ckpt_label), "%d", STORE_WAL_CHECKPOINT);
	if (autockpt >= 0) {
		snprintf(ckpt_label, sizeof(ckpt_label), "%ld", autockpt);
		snprintf(sql, sizeof(sql), "PRAGMA wal_autocheckpoint=%ld",
		    autockpt);
		if (run_sql(s, sql) < 0)
			return 1;
	}
	if (extra_sql != NULL && run_sql(s, extra_sql) < 0)
		return 1;
	for (i = 0; drop_indexes && i < 13; i++) {
		snprintf(sql, sizeof(sql), "DROP INDEX IF EXISTS ix_ttp_tag_%s",
		    ix[i]);
		if (run_sql(s, sql) < 0)
			return 1;
	}

	w0 = bytes_written();
	c0 = cpu_s();
	t0 = now_s();
	if (insert_all(s, tags, n, batch, &written) < 0)
		return 1;
	t1 = now_s();
	c1 = cpu_s();
	w1 = bytes_written();
	printf("insert: %ld rows in %.3f s = %.0f rows/s (batch %ld, cache"
	    " %" PRId64 " KiB, synchronous %d, autocheckpoint %s, %s"
	    " indexes, %s workload)\n", written, t1 - t0, (double)written / (t1 - t0),
	    batch, o.cache_size_kib, o.synchronous,
	    ckpt_label, drop_indexes ? "without" :
	    o.indexes == STORE_INDEXES_DECNET ? "DECNET's 13" : "compact (9)",
	    wl == WL_REALISTIC ? "realistic" : wl == WL_WORST ? "worst" :
	    "mixed");
	printf("cpu: %.3f s = %.1f us/row (all threads)\n", c1 - c0,
	    written > 0 ? (c1 - c0) * 1e6 / (double)written : 0.0);
	if (w0 >= 0 && w1 >= 0 && written > 0)
		printf("written: %.1f MiB, %.0f bytes/row\n",
		    (double)(w1 - w0) / 1048576.0,
		    (double)(w1 - w0) / (double)written);
	if (replay) {
		t2 = now_s();
		c0 = cpu_s();
		if (insert_all(s, tags, n, batch, &written) < 0)
			return 1;
		c1 = cpu_s();
		t3 = now_s();
		printf("replay: %ld tags, %ld new, in %.3f s = %.0f tags/s"
		    " (cpu %.1f us/tag)\n", n, written, t3 - t2,
		    (double)n / (t3 - t2), (c1 - c0) * 1e6 / (double)n);
	}
	t2 = now_s();
	store_close(s);
	t3 = now_s();
	printf("close (final checkpoint): %.3f s\n", t3 - t2);

	for (i = 0; i < n; i++)
		tag_free(&tags[i]);
	free(tags);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ttp.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ttp.db-shm", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}
