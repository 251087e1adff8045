/*
 * ttpd.conf reader; the only module that includes libconfig.
 *
 * config_load() reads the file with libconfig, applies the -o overrides
 * to the libconfig tree (every node an override creates carries the
 * override text in its hook, so messages can name it), then walks the
 * tree once against the schema table below and fills struct config.
 * Nothing of libconfig leaves this file: plugin config groups become
 * ttpd_value trees.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <libconfig.h>

#include "conf.h"
#include "json.h"
#include "xmalloc.h"

/* Config files are small; refuse to scan anything absurd. */
#define MAX_CONF_BYTES (16u * 1024 * 1024)

/* ---------------------------------------------------------------- schema */

enum kind {
	K_STRING,	/* char *; "" refused unless F_EMPTY_OK */
	K_PATH,		/* char *, relative paths resolved */
	K_INT,		/* int64_t within [min, max] */
	K_ENUM,		/* int, from names[] */
	K_PATHLIST,	/* char ** at offset, size_t count at offset2 */
	K_PLUGINS,	/* struct plugin_conf * at offset, count at offset2 */
	K_BOOL		/* int, 0 or 1, from true / false */
};

#define F_REQUIRED	0x1u
#define F_EMPTY_OK	0x2u	/* "" means "not set" and is stored as NULL */
#define F_MEMORY_OK	0x4u	/* ":memory:" is kept as it is */
#define F_VERBATIM	0x8u	/* K_PATHLIST of plain strings (URLs, subjects) */

struct enum_name {
	const char *name;
	int value;
};

struct spec {
	const char *section;
	const char *name;
	enum kind kind;
	unsigned flags;
	size_t offset;
	size_t offset2;
	int64_t min, max;
	const struct enum_name *names;	/* NULL-terminated */
	int64_t def_int;
	const char *def_str;
};

/* Numbering as in SQLite's PRAGMA synchronous. */
static const struct enum_name synchronous_names[] = {
	{ "off", 0 }, { "normal", 1 }, { "full", 2 }, { NULL, 0 }
};
/* values are enum store_indexes (store.h) */
static const struct enum_name index_set_names[] = {
	{ "compact", 0 }, { "decnet", 1 }, { NULL, 0 }
};
static const struct enum_name level_names[] = {
	{ "err", TTPD_LOG_ERR }, { "error", TTPD_LOG_ERR },
	{ "warning", TTPD_LOG_WARNING },
	{ "notice", TTPD_LOG_NOTICE }, { "info", TTPD_LOG_INFO },
	{ "debug", TTPD_LOG_DEBUG }, { NULL, 0 }
};
static const struct enum_name target_names[] = {
	{ "stderr", 0 }, { "syslog", 1 }, { NULL, 0 }
};
static const struct enum_name facility_names[] = {
	{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 }, { NULL, 0 }
};
static const struct enum_name anchor_names[] = {
	{ "drop", 0 }, { "derive", 1 }, { NULL, 0 }
};
/* bus.* (host/bus.c, host/daemon.c) */
static const struct enum_name bus_mode_names[] = {
	{ "core", CONF_BUS_CORE }, { "jetstream", CONF_BUS_JETSTREAM },
	{ NULL, 0 }
};
static const struct enum_name bus_tls_names[] = {
	{ "auto", 0 }, { "required", 1 }, { NULL, 0 }
};
static const struct enum_name retention_names[] = {
	{ "limits", CONF_RETENTION_LIMITS },
	{ "interest", CONF_RETENTION_INTEREST },
	{ "workqueue", CONF_RETENTION_WORKQUEUE }, { NULL, 0 }
};

#define OFF(field) offsetof(struct config, field)

/* Every known setting, in the order config_print() writes them. */
static const struct spec schema[] = {
	{ .section = "store", .name = "path", .kind = K_PATH,
	  .flags = F_REQUIRED | F_MEMORY_OK, .offset = OFF(store_path) },
	{ .section = "store", .name = "batch_size", .kind = K_INT,
	  .offset = OFF(store_batch_size), .min = 1, .max = 100000,
	  .def_int = 10000 },
	{ .section = "store", .name = "cache_size_kib", .kind = K_INT,
	  .offset = OFF(store_cache_kib), .min = 0, .max = INT64_MAX,
	  .def_int = 65536 },
	{ .section = "store", .name = "synchronous", .kind = K_ENUM,
	  .offset = OFF(store_synchronous), .names = synchronous_names,
	  .def_int = 1 },
	/* sqlite3_busy_timeout() takes an int. */
	{ .section = "store", .name = "busy_timeout_ms", .kind = K_INT,
	  .offset = OFF(store_busy_timeout_ms), .min = 0, .max = INT32_MAX,
	  .def_int = 30000 },
	{ .section = "store", .name = "indexes", .kind = K_ENUM,
	  .offset = OFF(store_indexes), .names = index_set_names,
	  .def_int = 0 },
	{ .section = "rules", .name = "dirs", .kind = K_PATHLIST,
	  .flags = F_REQUIRED, .offset = OFF(rules_dirs),
	  .offset2 = OFF(nrules_dirs) },
	/* hot reload of rule files in the daemon (host/reload.c) */
	{ .section = "rules", .name = "watch", .kind = K_BOOL,
	  .offset = OFF(rules_watch), .def_int = 1 },
	{ .section = "plugins", .name = "dir", .kind = K_PATH,
	  .flags = F_REQUIRED, .offset = OFF(plugins_dir) },
	{ .section = "plugins", .name = "load", .kind = K_PLUGINS,
	  .offset = OFF(plugins), .offset2 = OFF(nplugins) },
	{ .section = "attack", .name = "bundle", .kind = K_PATH,
	  .flags = F_EMPTY_OK, .offset = OFF(attack_bundle) },
	/* "" = the bundle's release (host/attack.c), else "v15.1" */
	{ .section = "attack", .name = "release", .kind = K_STRING,
	  .flags = F_EMPTY_OK, .offset = OFF(attack_release),
	  .def_str = "v15.1" },
	{ .section = "attack", .name = "sha256", .kind = K_STRING,
	  .flags = F_EMPTY_OK, .offset = OFF(attack_sha256) },
	{ .section = "log", .name = "level", .kind = K_ENUM,
	  .offset = OFF(log_level), .names = level_names,
	  .def_int = TTPD_LOG_INFO },
	{ .section = "log", .name = "target", .kind = K_ENUM,
	  .offset = OFF(log_syslog), .names = target_names, .def_int = 0 },
	{ .section = "log", .name = "facility", .kind = K_ENUM,
	  .offset = OFF(log_facility), .names = facility_names,
	  .def_int = LOG_DAEMON },
	{ .section = "input", .name = "max_event_bytes", .kind = K_INT,
	  .offset = OFF(max_event_bytes), .min = 1024, .max = 67108864,
	  .def_int = 1048576 },
	{ .section = "input", .name = "anchor_policy", .kind = K_ENUM,
	  .offset = OFF(anchor_derive), .names = anchor_names, .def_int = 0 },
	/* bus: the NATS connection (host/bus.c) and the live daemon */
#define BUS_STR(n, f) { .section = "bus", .name = n, .kind = K_STRING, \
	  .flags = F_EMPTY_OK, .offset = OFF(f) }
#define BUS_PATH(n, f) { .section = "bus", .name = n, .kind = K_PATH, \
	  .flags = F_EMPTY_OK, .offset = OFF(f) }
	{ .section = "bus", .name = "servers", .kind = K_PATHLIST,
	  .flags = F_VERBATIM, .offset = OFF(bus_servers),
	  .offset2 = OFF(bus_nservers) },
	{ .section = "bus", .name = "name", .kind = K_STRING,
	  .offset = OFF(bus_name), .def_str = "ttpd" },
	BUS_STR("user", bus_user),
	BUS_STR("password", bus_password),
	BUS_STR("token", bus_token),
	BUS_STR("nkey", bus_nkey),
	BUS_PATH("nkey_seed", bus_nkey_seed),
	BUS_PATH("creds", bus_creds),
	{ .section = "bus", .name = "tls", .kind = K_ENUM,
	  .offset = OFF(bus_tls), .names = bus_tls_names, .def_int = 0 },
	BUS_PATH("tls_ca", bus_tls_ca),
	BUS_PATH("tls_cert", bus_tls_cert),
	BUS_PATH("tls_key", bus_tls_key),
	BUS_STR("tls_hostname", bus_tls_hostname),
	{ .section = "bus", .name = "connect_timeout_ms", .kind = K_INT,
	  .offset = OFF(bus_connect_timeout_ms), .min = 100,
	  .max = 600000, .def_int = 2000 },
	{ .section = "bus", .name = "reconnect_wait_ms", .kind = K_INT,
	  .offset = OFF(bus_reconnect_wait_ms), .min = 10, .max = 600000,
	  .def_int = 250 },
	{ .section = "bus", .name = "reconnect_max_wait_ms", .kind = K_INT,
	  .offset = OFF(bus_reconnect_max_wait_ms), .min = 10,
	  .max = 3600000, .def_int = 10000 },
	{ .section = "bus", .name = "mode", .kind = K_ENUM,
	  .offset = OFF(bus_mode), .names = bus_mode_names,
	  .def_int = CONF_BUS_CORE },
	{ .section = "bus", .name = "subjects", .kind = K_PATHLIST,
	  .flags = F_VERBATIM, .offset = OFF(bus_subjects),
	  .offset2 = OFF(bus_nsubjects) },
	BUS_STR("queue_group", bus_queue_group),
	{ .section = "bus", .name = "queue_size", .kind = K_INT,
	  .offset = OFF(bus_queue_size), .min = 16, .max = 10000000,
	  .def_int = 65536 },
	{ .section = "bus", .name = "heartbeat_s", .kind = K_INT,
	  .offset = OFF(bus_heartbeat_s), .min = 1, .max = 86400,
	  .def_int = 30 },
	{ .section = "bus", .name = "stream", .kind = K_STRING,
	  .offset = OFF(bus_stream), .def_str = "DECNET" },
	{ .section = "bus", .name = "stream_subjects", .kind = K_PATHLIST,
	  .flags = F_VERBATIM, .offset = OFF(bus_stream_subjects),
	  .offset2 = OFF(bus_nstream_subjects) },
	{ .section = "bus", .name = "stream_retention", .kind = K_ENUM,
	  .offset = OFF(bus_stream_retention), .names = retention_names,
	  .def_int = CONF_RETENTION_LIMITS },
	{ .section = "bus", .name = "consumer", .kind = K_STRING,
	  .offset = OFF(bus_consumer), .def_str = "ttpd" },
	{ .section = "bus", .name = "fetch_batch", .kind = K_INT,
	  .offset = OFF(bus_fetch_batch), .min = 1, .max = 100000,
	  .def_int = 1000 },
	{ .section = "bus", .name = "ack_wait_s", .kind = K_INT,
	  .offset = OFF(bus_ack_wait_s), .min = 1, .max = 86400,
	  .def_int = 60 },
	{ .section = "bus", .name = "max_deliver", .kind = K_INT,
	  .offset = OFF(bus_max_deliver), .min = 1, .max = 1000,
	  .def_int = 5 },
	{ .section = "bus", .name = "dead_letter_subject", .kind = K_STRING,
	  .offset = OFF(bus_dead_letter), .def_str = "ttpd.dead_letter" },
#undef BUS_STR
#undef BUS_PATH
	/* daemon mode */
	{ .section = "daemon", .name = "pidfile", .kind = K_PATH,
	  .offset = OFF(pidfile), .def_str = "/run/ttpd.pid" },
	/* privilege drop after start-up (host/ttpd.c) */
	{ .section = "daemon", .name = "user", .kind = K_STRING,
	  .flags = F_EMPTY_OK, .offset = OFF(daemon_user) },
	{ .section = "daemon", .name = "group", .kind = K_STRING,
	  .flags = F_EMPTY_OK, .offset = OFF(daemon_group) },
	/* per-plugin counters for ttpctl status, every heartbeat */
	{ .section = "daemon", .name = "stats_file", .kind = K_PATH,
	  .flags = F_EMPTY_OK, .offset = OFF(stats_file) },
};
#define NSCHEMA (sizeof(schema) / sizeof(schema[0]))

/* Members allowed in one plugins.load entry. */
static const char *const plugin_entry_keys[] = { "name", "path", "config" };

#define FIELD(c, sp, type) ((type *)(void *)((char *)(c) + (sp)->offset))
#define FIELD2(c, sp, type) ((type *)(void *)((char *)(c) + (sp)->offset2))
#define CFIELD(c, sp, type) \
	((type const *)(const void *)((const char *)(c) + (sp)->offset))
#define CFIELD2(c, sp, type) \
	((type const *)(const void *)((const char *)(c) + (sp)->offset2))

/* ------------------------------------------------------------ messages */

static void
vput_err(char *err, size_t errlen, const char *prefix, const char *fmt,
    va_list ap)
{
	int n = 0;

	if (err == NULL || errlen == 0)
		return;
	if (prefix != NULL)
		n = snprintf(err, errlen, "%s: ", prefix);
	if (n < 0)
		n = 0;
	if ((size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
}

static void
put_err(char *err, size_t errlen, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
put_err(char *err, size_t errlen, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput_err(err, errlen, prefix, fmt, ap);
	va_end(ap);
}

static const char *
type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "integer";
	case CONFIG_TYPE_FLOAT:
		return "float";
	case CONFIG_TYPE_STRING:
		return "string";
	case CONFIG_TYPE_BOOL:
		return "boolean";
	case CONFIG_TYPE_ARRAY:
		return "array";
	case CONFIG_TYPE_LIST:
		return "list";
	}
	return "setting of unknown type";
}

/* ---------------------------------------------------------- the loader */

struct loader {
	config_t cfg;
	const char *path;	/* the file as given, used in messages */
	char *dir;		/* absolute directory of the file */
	char *cwd;		/* working directory, for paths from -o */
	char **ov_texts;	/* copies of the overrides; settings' hooks */
	size_t nov;
	struct config *out;
	char *err;
	size_t errlen;
};

static char *join_path(const char *base, const char *rel);

/*
 * The file a setting came from.  libconfig records an @include by the
 * name written, which is relative to the include directory (the
 * directory of the main file).  Caller frees.
 */
static char *
source_path(const struct loader *ld, const char *file)
{
	if (file == NULL || strcmp(file, ld->path) == 0)
		return xstrdup(ld->path);
	if (file[0] == '/' || ld->dir == NULL)
		return xstrdup(file);
	return join_path(ld->dir, file);
}

/* "file:line", "-o KEY=VALUE" or just the file; caller frees. */
static char *
origin_of(const struct loader *ld, const config_setting_t *s)
{
	const char *hook;
	char *file, *r;

	if (s == NULL)
		return xstrdup(ld->path);
	hook = config_setting_get_hook(s);
	if (hook != NULL)
		return xasprintf("-o %s", hook);
	file = source_path(ld, config_setting_source_file(s));
	if (config_setting_source_line(s) == 0)
		return file;
	r = xasprintf("%s:%u", file, config_setting_source_line(s));
	free(file);
	return r;
}

/* Dotted name of a setting, list elements as [N]; caller frees. */
static char *
path_of(const config_setting_t *s)
{
	const config_setting_t *parent = config_setting_parent(s);
	char *up, *r;

	if (parent == NULL)
		return xstrdup("");
	up = path_of(parent);
	if (config_setting_name(s) != NULL)
		r = xasprintf("%s%s%s", up, *up != '\0' ? "." : "",
		    config_setting_name(s));
	else
		r = xasprintf("%s[%d]", up, config_setting_index(s));
	free(up);
	return r;
}

static int
fail(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "origin: message" and returns -1. */
static int
fail(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	char *origin = origin_of(ld, s);
	va_list ap;

	va_start(ap, fmt);
	vput_err(ld->err, ld->errlen, origin, fmt, ap);
	va_end(ap);
	free(origin);
	return -1;
}

static int
fail_type(struct loader *ld, const config_setting_t *s, const char *expected)
{
	char *p = path_of(s);

	fail(ld, s, "%s: expected %s, got %s", p, expected,
	    type_name(config_setting_type(s)));
	free(p);
	return -1;
}

/* ------------------------------------------------------------- paths */

static char *
dir_of(const char *abs)
{
	const char *slash = strrchr(abs, '/');

	if (slash == NULL || slash == abs)
		return xstrdup("/");
	return xstrndup(abs, (size_t)(slash - abs));
}

/*
 * base + "/" + rel.  Leading "./" and "../" of rel are folded into base,
 * which is safe because base comes from realpath() or getcwd() and so has
 * no symbolic links.
 */
static char *
join_path(const char *base, const char *rel)
{
	char *dir = xstrdup(base);
	char *r, *slash;
	size_t n;

	for (;;) {
		if (rel[0] == '.' && (rel[1] == '/' || rel[1] == '\0'))
			rel += 1;
		else if (rel[0] == '.' && rel[1] == '.' &&
		    (rel[2] == '/' || rel[2] == '\0')) {
			rel += 2;
			slash = strrchr(dir, '/');
			if (slash == dir)
				dir[1] = '\0';
			else if (slash != NULL)
				*slash = '\0';
		} else
			break;
		while (*rel == '/')
			rel++;
	}
	if (*rel == '\0')
		return dir;
	n = strlen(dir);
	r = xasprintf("%s%s%s", dir, n > 0 && dir[n - 1] == '/' ? "" : "/",
	    rel);
	free(dir);
	return r;
}

/* Relative paths from the file: its directory; from -o: the cwd. */
static char *
resolve_path(struct loader *ld, const config_setting_t *s, const char *v,
    unsigned flags)
{
	char buf[PATH_MAX];

	if (v[0] == '/')
		return xstrdup(v);
	if ((flags & F_MEMORY_OK) && strcmp(v, ":memory:") == 0)
		return xstrdup(v);
	if (config_setting_get_hook(s) == NULL)
		return join_path(ld->dir, v);
	if (ld->cwd == NULL) {
		if (getcwd(buf, sizeof(buf)) == NULL) {
			fail(ld, s, "cannot resolve relative path '%s': "
			    "getcwd: %s", v, strerror(errno));
			return NULL;
		}
		ld->cwd = xstrdup(buf);
	}
	return join_path(ld->cwd, v);
}

/* ------------------------------------------ integers that do not fit */

/*
 * libconfig 1.5 silently truncates an integer literal that does not fit
 * in 32 bits unless it carries an L suffix (5000000000 reads as
 * 705032704).  Newer versions promote such literals to 64 bits.  Where
 * the library truncates, scan the text for such literals and refuse them.
 */
static int
libconfig_truncates(void)
{
	config_t probe;
	const config_setting_t *s;
	int answer = 1;

	/* Asked afresh each time: cheap, and no shared state. */
	config_init(&probe);
	if (config_read_string(&probe, "probe = 4294967296;") ==
	    CONFIG_TRUE && (s = config_lookup(&probe, "probe")) != NULL &&
	    config_setting_type(s) == CONFIG_TYPE_INT64 &&
	    config_setting_get_int64(s) == 4294967296LL)
		answer = 0;
	config_destroy(&probe);
	return answer;
}

static int
name_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '*';
}

/*
 * Finds the first integer literal without L suffix outside [INT_MIN,
 * INT_MAX] (hex: above 0x7fffffff).  Returns its line (1-based), 0 if
 * none; the literal is copied into lit.
 */
static unsigned
find_wide_int(const char *t, size_t len, char *lit, size_t litlen)
{
	const char *end = t + len, *p = t, *start;
	unsigned line = 1;
	int hex, is_float, neg;
	uint64_t v;
	int over;

	while (p < end) {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '#' || (*p == '/' && p + 1 < end &&
		    p[1] == '/')) {
			while (p < end && *p != '\n')
				p++;
		} else if (*p == '/' && p + 1 < end && p[1] == '*') {
			for (p += 2; p < end && !(*p == '*' && p + 1 < end &&
			    p[1] == '/'); p++)
				if (*p == '\n')
					line++;
			p = p < end ? p + 2 : end;
		} else if (*p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\' && p + 1 < end)
					p++;
				if (*p == '\n')
					line++;
			}
			p = p < end ? p + 1 : end;
		} else if (isalpha((unsigned char)*p) || *p == '*' ||
		    *p == '_') {
			while (p < end && name_char((unsigned char)*p))
				p++;
		} else if (isdigit((unsigned char)*p) || ((*p == '-' ||
		    *p == '+' || *p == '.') && p + 1 < end &&
		    isdigit((unsigned char)p[1]))) {
			start = p;
			neg = *p == '-';
			if (*p == '-' || *p == '+')
				p++;
			hex = p + 1 < end && p[0] == '0' &&
			    (p[1] == 'x' || p[1] == 'X');
			if (hex)
				p += 2;
			v = 0;
			over = 0;
			is_float = 0;
			for (; p < end; p++) {
				int d;

				if (isdigit((unsigned char)*p))
					d = *p - '0';
				else if (hex && isxdigit((unsigned char)*p))
					d = tolower((unsigned char)*p) - 'a' +
					    10;
				else if (!hex && (*p == '.' || *p == 'e' ||
				    *p == 'E' || ((*p == '-' || *p == '+') &&
				    (p[-1] == 'e' || p[-1] == 'E')))) {
					is_float = 1;
					continue;
				} else
					break;
				if (v > (UINT64_MAX - (uint64_t)d) /
				    (hex ? 16 : 10))
					over = 1;
				else
					v = v * (hex ? 16 : 10) + (uint64_t)d;
			}
			if (p < end && (*p == 'L' || *p == 'l'))
				continue;
			if (is_float)
				continue;
			if (over || (hex && v > 0x7fffffffu) ||
			    (!neg && v > (uint64_t)INT_MAX) ||
			    (neg && v > (uint64_t)INT_MAX + 1)) {
				snprintf(lit, litlen, "%.*s",
				    (int)(p - start), start);
				return line;
			}
		} else
			p++;
	}
	return 0;
}

static int
check_wide_ints_file(struct loader *ld, const char *name)
{
	char *file = source_path(ld, name);
	FILE *fp;
	char *buf;
	size_t n;
	char lit[64];
	unsigned line;

	if ((fp = fopen(file, "r")) == NULL) {
		free(file);
		return 0;	/* libconfig read it; nothing more to say */
	}
	buf = xmalloc(MAX_CONF_BYTES);
	n = fread(buf, 1, MAX_CONF_BYTES, fp);
	fclose(fp);
	line = find_wide_int(buf, n, lit, sizeof(lit));
	free(buf);
	if (line != 0)
		put_err(ld->err, ld->errlen, NULL, "%s:%u: integer %s does "
		    "not fit in 32 bits; write it with an L suffix (%sL)",
		    file, line, lit, lit);
	free(file);
	return line != 0 ? -1 : 0;
}

/* Every distinct file settings came from (@include brings more). */
static int
check_wide_ints_tree(struct loader *ld, const config_setting_t *s,
    const char ***seen, size_t *nseen)
{
	const char *file = config_setting_source_file(s);
	size_t i;
	int n;

	if (file != NULL) {
		for (i = 0; i < *nseen; i++)
			if ((*seen)[i] == file || strcmp((*seen)[i], file) == 0)
				break;
		if (i == *nseen) {
			*seen = xreallocarray(*seen, *nseen + 1,
			    sizeof(**seen));
			(*seen)[(*nseen)++] = file;
			if (check_wide_ints_file(ld, file) < 0)
				return -1;
		}
	}
	if (config_setting_is_aggregate(s)) {
		n = config_setting_length(s);
		for (int k = 0; k < n; k++)
			if (check_wide_ints_tree(ld,
			    config_setting_get_elem(s, (unsigned)k), seen,
			    nseen) < 0)
				return -1;
	}
	return 0;
}

/* ---------------------------------------------------------- overrides */

/*
 * Deep copy of src as a new child of parent.  keep_origin copies line,
 * file and hook (moving nodes inside one tree); otherwise the copy gets
 * `hook` (nodes made by an override).
 */
static config_setting_t *
copy_setting(config_setting_t *parent, const char *name,
    const config_setting_t *src, void *hook, int keep_origin)
{
	config_setting_t *dst;
	int n, ok = CONFIG_TRUE;

	dst = config_setting_add(parent, name, config_setting_type(src));
	if (dst == NULL)
		return NULL;
	switch (config_setting_type(src)) {
	case CONFIG_TYPE_INT:
		ok = config_setting_set_int(dst, config_setting_get_int(src));
		break;
	case CONFIG_TYPE_INT64:
		ok = config_setting_set_int64(dst,
		    config_setting_get_int64(src));
		break;
	case CONFIG_TYPE_FLOAT:
		ok = config_setting_set_float(dst,
		    config_setting_get_float(src));
		break;
	case CONFIG_TYPE_BOOL:
		ok = config_setting_set_bool(dst,
		    config_setting_get_bool(src));
		break;
	case CONFIG_TYPE_STRING:
		ok = config_setting_set_string(dst,
		    config_setting_get_string(src));
		break;
	case CONFIG_TYPE_GROUP:
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_ARRAY:
		n = config_setting_length(src);
		for (int i = 0; i < n && ok; i++) {
			const config_setting_t *e =
			    config_setting_get_elem(src, (unsigned)i);

			if (copy_setting(dst, config_setting_name(e), e, hook,
			    keep_origin) == NULL)
				ok = CONFIG_FALSE;
		}
		break;
	}
	if (!ok)
		return NULL;
	config_setting_set_format(dst, config_setting_get_format(src));
	if (keep_origin) {
		dst->line = src->line;
		dst->file = src->file;
		config_setting_set_hook(dst, config_setting_get_hook(src));
	} else
		config_setting_set_hook(dst, hook);
	return dst;
}

/* Replace element idx of a list or array, keeping the others in place. */
static int
replace_elem(config_setting_t *agg, unsigned idx, const config_setting_t *src,
    void *hook)
{
	config_t scratch;
	config_setting_t *tail;
	unsigned n = (unsigned)config_setting_length(agg), i;
	int rc = 0;

	config_init(&scratch);
	tail = config_setting_add(config_root_setting(&scratch), "tail",
	    CONFIG_TYPE_LIST);
	for (i = idx + 1; i < n && tail != NULL; i++)
		if (copy_setting(tail, NULL, config_setting_get_elem(agg, i),
		    NULL, 1) == NULL)
			tail = NULL;
	if (tail == NULL) {
		config_destroy(&scratch);
		return -1;
	}
	for (i = n; i-- > idx;)
		config_setting_remove_elem(agg, i);
	if (copy_setting(agg, NULL, src, hook, 0) == NULL)
		rc = -1;
	n = (unsigned)config_setting_length(tail);
	for (i = 0; i < n && rc == 0; i++)
		if (copy_setting(agg, NULL, config_setting_get_elem(tail, i),
		    NULL, 1) == NULL)
			rc = -1;
	config_destroy(&scratch);
	return rc;
}

struct step {
	char *name;	/* member name, or NULL for [index] */
	unsigned index;
};

static int
valid_name(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '*'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!name_char((unsigned char)s[i]))
			return 0;
	return 1;
}

static void
free_steps(struct step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(steps[i].name);
	free(steps);
}

/* "a.b[2].c" or "a.b.[2].c" into steps; NULL with *why on error. */
static struct step *
parse_key(const char *key, size_t len, size_t *nsteps, const char **why)
{
	struct step *steps = NULL;
	size_t n = 0, i = 0, start;
	unsigned long idx;

	*why = NULL;
	while (i < len) {
		if (key[i] == '[') {
			idx = 0;
			start = ++i;
			while (i < len && isdigit((unsigned char)key[i])) {
				idx = idx * 10 + (unsigned long)(key[i] - '0');
				if (idx > INT_MAX) {
					*why = "list index too large";
					goto bad;
				}
				i++;
			}
			if (i == start || i >= len || key[i] != ']') {
				*why = "expected [N] with a decimal index";
				goto bad;
			}
			i++;
			if (n == 0) {
				*why = "the key must start with a name";
				goto bad;
			}
			steps = xreallocarray(steps, n + 1, sizeof(*steps));
			steps[n].name = NULL;
			steps[n++].index = (unsigned)idx;
		} else {
			start = i;
			while (i < len && key[i] != '.' && key[i] != '[')
				i++;
			if (!valid_name(key + start, i - start)) {
				*why = i == start ? "empty name in the key" :
				    "a name must be a letter followed by "
				    "letters, digits, '_' or '-'";
				goto bad;
			}
			steps = xreallocarray(steps, n + 1, sizeof(*steps));
			steps[n].name = xstrndup(key + start, i - start);
			steps[n++].index = 0;
		}
		if (i < len && key[i] == '.') {
			if (++i == len) {
				*why = "the key ends with '.'";
				goto bad;
			}
		} else if (i < len && key[i] != '[') {
			*why = "unexpected character in the key";
			goto bad;
		}
	}
	if (n == 0) {
		*why = "empty key";
		goto bad;
	}
	*nsteps = n;
	return steps;
bad:
	free_steps(steps, n);
	return NULL;
}

static int
ov_fail(struct loader *ld, const char *text, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
ov_fail(struct loader *ld, const char *text, const char *fmt, ...)
{
	char *prefix = xasprintf("-o %s", text);
	va_list ap;

	va_start(ap, fmt);
	vput_err(ld->err, ld->errlen, prefix, fmt, ap);
	va_end(ap);
	free(prefix);
	return -1;
}

/* Walk (creating groups) to the parent of the last step and set it. */
static int
set_by_steps(struct loader *ld, char *text, const struct step *steps,
    size_t n, const config_setting_t *value)
{
	config_setting_t *cur = config_root_setting(&ld->cfg), *next;
	char *where;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		const struct step *st = &steps[i];
		int last = i + 1 == n;

		if (st->name != NULL && !config_setting_is_group(cur)) {
			where = path_of(cur);
			rc = ov_fail(ld, text, "'%s' is a %s, not a group",
			    where, type_name(config_setting_type(cur)));
			free(where);
			return rc;
		}
		if (st->name == NULL && !config_setting_is_list(cur) &&
		    !config_setting_is_array(cur)) {
			where = path_of(cur);
			rc = ov_fail(ld, text, "'%s' is a %s, not a list",
			    where, type_name(config_setting_type(cur)));
			free(where);
			return rc;
		}
		if (st->name == NULL &&
		    st->index >= (unsigned)config_setting_length(cur)) {
			where = path_of(cur);
			rc = ov_fail(ld, text, "'%s' has %d element(s), no "
			    "[%u]", where, config_setting_length(cur),
			    st->index);
			free(where);
			return rc;
		}
		if (last)
			break;
		if (st->name == NULL) {
			cur = config_setting_get_elem(cur, st->index);
			continue;
		}
		next = config_setting_get_member(cur, st->name);
		if (next == NULL) {
			next = config_setting_add(cur, st->name,
			    CONFIG_TYPE_GROUP);
			if (next == NULL)
				return ov_fail(ld, text, "cannot create "
				    "group '%s'", st->name);
			config_setting_set_hook(next, text);
		}
		cur = next;
	}

	/* libconfig arrays hold scalars of one type. */
	if (config_setting_is_array(cur)) {
		unsigned len = (unsigned)config_setting_length(cur);
		unsigned other = steps[n - 1].index == 0 ? 1 : 0;
		int etype = other < len ? config_setting_type(
		    config_setting_get_elem(cur, other)) : CONFIG_TYPE_NONE;

		if (!config_setting_is_scalar(value) ||
		    (etype != CONFIG_TYPE_NONE &&
		    etype != config_setting_type(value))) {
			where = path_of(cur);
			rc = ov_fail(ld, text, "'%s' is an array of %ss; "
			    "set it whole as a list ( ... ) to mix types",
			    where, type_name(etype != CONFIG_TYPE_NONE ?
			    etype : config_setting_type(
			    config_setting_get_elem(cur, 0))));
			free(where);
			return rc;
		}
	}
	if (steps[n - 1].name == NULL)
		rc = replace_elem(cur, steps[n - 1].index, value, text);
	else {
		if (config_setting_get_member(cur, steps[n - 1].name) != NULL)
			config_setting_remove(cur, steps[n - 1].name);
		rc = copy_setting(cur, steps[n - 1].name, value, text, 0) ==
		    NULL ? -1 : 0;
	}
	if (rc < 0)
		return ov_fail(ld, text, "libconfig refused the value");
	return 0;
}

static int
apply_override(struct loader *ld, char *text)
{
	const char *eq = strchr(text, '=');
	const char *k, *ke, *v, *ve;
	config_t tmp;
	config_setting_t *root, *value;
	struct step *steps;
	const char *why;
	size_t nsteps;
	char lit[64];
	char *src;
	int rc;

	if (eq == NULL)
		return ov_fail(ld, text, "expected KEY=VALUE");
	for (k = text; k < eq && isspace((unsigned char)*k); k++)
		;
	for (ke = eq; ke > k && isspace((unsigned char)ke[-1]); ke--)
		;
	for (v = eq + 1; *v != '\0' && isspace((unsigned char)*v); v++)
		;
	ve = v + strlen(v);
	while (ve > v && isspace((unsigned char)ve[-1]))
		ve--;
	if (ve > v && ve[-1] == ';')	/* tolerate a closing ';' */
		ve--;
	if (ve == v)
		return ov_fail(ld, text, "missing value after '='");
	if ((steps = parse_key(k, (size_t)(ke - k), &nsteps, &why)) == NULL)
		return ov_fail(ld, text, "bad key: %s", why);
	if (libconfig_truncates() &&
	    find_wide_int(v, (size_t)(ve - v), lit, sizeof(lit)) != 0) {
		free_steps(steps, nsteps);
		return ov_fail(ld, text, "integer %s does not fit in 32 bits; "
		    "write it with an L suffix (%sL)", lit, lit);
	}

	config_init(&tmp);
	src = xasprintf("value = %.*s;", (int)(ve - v), v);
	if (config_read_string(&tmp, src) != CONFIG_TRUE) {
		int looks_literal = *v == '"' || *v == '[' || *v == '(' ||
		    *v == '{' || *v == '-' || *v == '+' || *v == '.' ||
		    isdigit((unsigned char)*v);

		rc = ov_fail(ld, text, "%s%s", config_error_text(&tmp),
		    looks_literal ? "" : " (a string value needs double quotes: "
		    "KEY=\"...\")");
		goto out;
	}
	root = config_root_setting(&tmp);
	value = config_setting_get_member(root, "value");
	if (config_setting_length(root) != 1 || value == NULL) {
		rc = ov_fail(ld, text, "the value must be one libconfig "
		    "value, not several settings");
		goto out;
	}
	rc = set_by_steps(ld, text, steps, nsteps, value);
out:
	free(src);
	config_destroy(&tmp);
	free_steps(steps, nsteps);
	return rc;
}

/* ---------------------------------------------------------- validation */

static const struct spec *
find_spec(const char *section, const char *name)
{
	for (size_t i = 0; i < NSCHEMA; i++)
		if (strcmp(schema[i].section, section) == 0 &&
		    (name == NULL || strcmp(schema[i].name, name) == 0))
			return &schema[i];
	return NULL;
}

static const char *
enum_name_of(const struct enum_name *names, int value)
{
	for (; names->name != NULL; names++)
		if (names->value == value)
			return names->name;
	return "?";
}

static int
set_string(struct loader *ld, const struct spec *sp,
    const config_setting_t *s)
{
	char **field = FIELD(ld->out, sp, char *);
	const char *v;
	char *nv, *p;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail_type(ld, s, "string");
	v = config_setting_get_string(s);
	if (*v == '\0') {
		if (sp->flags & F_EMPTY_OK) {
			free(*field);
			*field = NULL;
			return 0;
		}
		p = path_of(s);
		fail(ld, s, "%s: must not be empty", p);
		free(p);
		return -1;
	}
	if (sp->kind == K_PATH)
		nv = resolve_path(ld, s, v, sp->flags);
	else
		nv = xstrdup(v);
	if (nv == NULL)
		return -1;
	free(*field);
	*field = nv;
	return 0;
}

static int
set_int(struct loader *ld, const struct spec *sp, const config_setting_t *s)
{
	int64_t v;
	char *p;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail_type(ld, s, "integer");
	v = config_setting_get_int64(s);
	if (v < sp->min || v > sp->max) {
		p = path_of(s);
		if (sp->max == INT64_MAX)
			fail(ld, s, "%s: %" PRId64 " is out of range (must be "
			    "at least %" PRId64 ")", p, v, sp->min);
		else
			fail(ld, s, "%s: %" PRId64 " is out of range (%"
			    PRId64 "..%" PRId64 ")", p, v, sp->min, sp->max);
		free(p);
		return -1;
	}
	*FIELD(ld->out, sp, int64_t) = v;
	return 0;
}

static int
set_enum(struct loader *ld, const struct spec *sp, const config_setting_t *s)
{
	const struct enum_name *e;
	char expected[128] = "";
	const char *v;
	char *p;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail_type(ld, s, "string");
	v = config_setting_get_string(s);
	for (e = sp->names; e->name != NULL; e++) {
		if (strcmp(e->name, v) == 0) {
			*FIELD(ld->out, sp, int) = e->value;
			return 0;
		}
	}
	for (e = sp->names; e->name != NULL; e++) {
		if (e != sp->names)
			strncat(expected, e[1].name == NULL ? " or " : ", ",
			    sizeof(expected) - strlen(expected) - 1);
		strncat(expected, e->name,
		    sizeof(expected) - strlen(expected) - 1);
	}
	p = path_of(s);
	fail(ld, s, "%s: unknown value \"%s\" (expected %s)", p, v, expected);
	free(p);
	return -1;
}

static int
set_bool(struct loader *ld, const struct spec *sp, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail_type(ld, s, "boolean (true or false)");
	*FIELD(ld->out, sp, int) = config_setting_get_bool(s) ? 1 : 0;
	return 0;
}

static int
set_pathlist(struct loader *ld, const struct spec *sp,
    const config_setting_t *s)
{
	char ***list = FIELD(ld->out, sp, char **);
	size_t *count = FIELD2(ld->out, sp, size_t);
	const config_setting_t *e;
	const char *v;
	char *p;
	int n;

	if (!config_setting_is_list(s) && !config_setting_is_array(s))
		return fail_type(ld, s, "list of strings");
	n = config_setting_length(s);
	/* an empty verbatim list means "the default" */
	if (n == 0 && !(sp->flags & F_VERBATIM)) {
		p = path_of(s);
		fail(ld, s, "%s: must name at least one directory", p);
		free(p);
		return -1;
	}
	for (size_t i = 0; i < *count; i++)
		free((*list)[i]);
	free(*list);
	*list = xcalloc((size_t)n, sizeof(**list));
	*count = 0;
	for (int i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail_type(ld, e, "string");
		v = config_setting_get_string(e);
		if (*v == '\0') {
			p = path_of(e);
			fail(ld, e, "%s: must not be empty", p);
			free(p);
			return -1;
		}
		if (sp->flags & F_VERBATIM)
			(*list)[i] = xstrdup(v);
		else if (((*list)[i] = resolve_path(ld, e, v, 0)) == NULL)
			return -1;
		(*count)++;
	}
	return 0;
}

/* A libconfig tree as a ttpd_value tree. */
static ttpd_value *
to_value(struct loader *ld, const config_setting_t *s)
{
	ttpd_value *v = NULL, *m;
	const config_setting_t *e;
	const char *str;
	double d;
	char *p;
	int n, rc;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_ARRAY:
		v = config_setting_is_group(s) ? jv_new_object() :
		    jv_new_array();
		n = config_setting_length(s);
		for (int i = 0; i < n && v != NULL; i++) {
			e = config_setting_get_elem(s, (unsigned)i);
			if ((m = to_value(ld, e)) == NULL) {
				jv_decref(v);
				return NULL;
			}
			if (config_setting_is_group(s))
				rc = jv_object_set_new(v,
				    config_setting_name(e), m);
			else
				rc = jv_array_append_new(v, m);
			if (rc != TTPD_OK) {
				jv_decref(v);
				v = NULL;
			}
		}
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = jv_new_int(config_setting_get_int64(s));
		break;
	case CONFIG_TYPE_FLOAT:
		d = config_setting_get_float(s);
		if (!isfinite(d)) {
			p = path_of(s);
			fail(ld, s, "%s: %g is not a finite number", p, d);
			free(p);
			return NULL;
		}
		v = jv_new_real(d);
		break;
	case CONFIG_TYPE_BOOL:
		v = jv_new_bool(config_setting_get_bool(s));
		break;
	case CONFIG_TYPE_STRING:
		str = config_setting_get_string(s);
		v = jv_new_string(str, strlen(str));
		if (v == NULL) {
			p = path_of(s);
			fail(ld, s, "%s: string is not valid UTF-8", p);
			free(p);
			return NULL;
		}
		break;
	}
	if (v == NULL) {
		p = path_of(s);
		fail(ld, s, "%s: cannot convert this %s", p,
		    type_name(config_setting_type(s)));
		free(p);
	}
	return v;
}

static int
valid_plugin_name(const char *s)
{
	if (!(*s >= 'a' && *s <= 'z'))
		return 0;
	for (s++; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_'))
			return 0;
	return 1;
}

static void
free_plugin(struct plugin_conf *pc)
{
	free(pc->name);
	free(pc->path);
	if (pc->config != NULL)
		jv_decref(pc->config);
	free(pc->origin);
	memset(pc, 0, sizeof(*pc));
}

static int
set_plugin(struct loader *ld, const config_setting_t *entry,
    struct plugin_conf *pc, const config_setting_t **name_settings,
    size_t index)
{
	const config_setting_t *m;
	const char *v;
	char *p;
	size_t k;
	int n;

	if (!config_setting_is_group(entry))
		return fail_type(ld, entry, "group");
	n = config_setting_length(entry);
	for (int i = 0; i < n; i++) {
		m = config_setting_get_elem(entry, (unsigned)i);
		for (k = 0; k < sizeof(plugin_entry_keys) /
		    sizeof(plugin_entry_keys[0]); k++)
			if (strcmp(plugin_entry_keys[k],
			    config_setting_name(m)) == 0)
				break;
		if (k == sizeof(plugin_entry_keys) /
		    sizeof(plugin_entry_keys[0])) {
			p = path_of(m);
			fail(ld, m, "unknown setting '%s' (a plugins.load "
			    "entry takes name, path and config)", p);
			free(p);
			return -1;
		}
	}
	pc->origin = origin_of(ld, entry);

	if ((m = config_setting_get_member(entry, "name")) == NULL) {
		p = path_of(entry);
		fail(ld, entry, "%s: missing required setting 'name'", p);
		free(p);
		return -1;
	}
	if (config_setting_type(m) != CONFIG_TYPE_STRING)
		return fail_type(ld, m, "string");
	v = config_setting_get_string(m);
	if (!valid_plugin_name(v)) {
		p = path_of(m);
		fail(ld, m, "%s: invalid plugin name \"%s\" (expected "
		    "[a-z][a-z0-9_]*)", p, v);
		free(p);
		return -1;
	}
	for (k = 0; k < index; k++) {
		if (strcmp(config_setting_get_string(name_settings[k]), v)
		    == 0) {
			char *first = origin_of(ld, name_settings[k]);

			p = path_of(m);
			fail(ld, m, "%s: duplicate plugin name \"%s\" (first "
			    "loaded at %s)", p, v, first);
			free(p);
			free(first);
			return -1;
		}
	}
	name_settings[index] = m;
	pc->name = xstrdup(v);

	if ((m = config_setting_get_member(entry, "path")) != NULL) {
		if (config_setting_type(m) != CONFIG_TYPE_STRING)
			return fail_type(ld, m, "string");
		v = config_setting_get_string(m);
		if (*v == '\0') {
			p = path_of(m);
			fail(ld, m, "%s: must not be empty", p);
			free(p);
			return -1;
		}
		if ((pc->path = resolve_path(ld, m, v, 0)) == NULL)
			return -1;
	}

	if ((m = config_setting_get_member(entry, "config")) != NULL) {
		if (!config_setting_is_group(m))
			return fail_type(ld, m, "group");
		if ((pc->config = to_value(ld, m)) == NULL)
			return -1;
	}
	return 0;
}

static int
set_plugins(struct loader *ld, const struct spec *sp,
    const config_setting_t *s)
{
	struct plugin_conf **list = FIELD(ld->out, sp, struct plugin_conf *);
	size_t *count = FIELD2(ld->out, sp, size_t);
	const config_setting_t **names;
	int n, rc = 0;

	if (!config_setting_is_list(s) && !config_setting_is_array(s))
		return fail_type(ld, s, "list of groups");
	n = config_setting_length(s);
	if (n == 0)
		return 0;
	*list = xcalloc((size_t)n, sizeof(**list));
	names = xcalloc((size_t)n, sizeof(*names));
	for (int i = 0; i < n && rc == 0; i++) {
		rc = set_plugin(ld, config_setting_get_elem(s, (unsigned)i),
		    &(*list)[i], names, (size_t)i);
		(*count)++;	/* also a half-built entry, so it gets freed */
	}
	free(names);
	return rc;
}

static int
apply_spec(struct loader *ld, const struct spec *sp, const config_setting_t *s)
{
	switch (sp->kind) {
	case K_STRING:
	case K_PATH:
		return set_string(ld, sp, s);
	case K_INT:
		return set_int(ld, sp, s);
	case K_ENUM:
		return set_enum(ld, sp, s);
	case K_BOOL:
		return set_bool(ld, sp, s);
	case K_PATHLIST:
		return set_pathlist(ld, sp, s);
	case K_PLUGINS:
		return set_plugins(ld, sp, s);
	}
	return -1;
}

static void
set_defaults(struct config *c)
{
	for (size_t i = 0; i < NSCHEMA; i++) {
		const struct spec *sp = &schema[i];

		switch (sp->kind) {
		case K_STRING:
		case K_PATH:
			*FIELD(c, sp, char *) = xstrdup_or_null(sp->def_str);
			break;
		case K_INT:
			*FIELD(c, sp, int64_t) = sp->def_int;
			break;
		case K_ENUM:
		case K_BOOL:
			*FIELD(c, sp, int) = (int)sp->def_int;
			break;
		case K_PATHLIST:
		case K_PLUGINS:
			break;
		}
	}
}

static int
validate(struct loader *ld)
{
	const config_setting_t *root = config_root_setting(&ld->cfg);
	const config_setting_t *group, *s;
	const struct spec *sp;
	char *p;
	int n, m;

	n = config_setting_length(root);
	for (int i = 0; i < n; i++) {
		group = config_setting_get_elem(root, (unsigned)i);
		if (find_spec(config_setting_name(group), NULL) == NULL)
			return fail(ld, group, "unknown setting '%s'",
			    config_setting_name(group));
		if (!config_setting_is_group(group))
			return fail_type(ld, group, "group");
		m = config_setting_length(group);
		for (int j = 0; j < m; j++) {
			s = config_setting_get_elem(group, (unsigned)j);
			sp = find_spec(config_setting_name(group),
			    config_setting_name(s));
			if (sp == NULL) {
				p = path_of(s);
				fail(ld, s, "unknown setting '%s'", p);
				free(p);
				return -1;
			}
			if (apply_spec(ld, sp, s) < 0)
				return -1;
		}
	}
	for (size_t i = 0; i < NSCHEMA; i++) {
		sp = &schema[i];
		if (!(sp->flags & F_REQUIRED))
			continue;
		group = config_setting_get_member(root, sp->section);
		if (group != NULL &&
		    config_setting_get_member(group, sp->name) != NULL)
			continue;
		return fail(ld, group, "missing required setting '%s.%s'",
		    sp->section, sp->name);
	}
	return 0;
}

/* --------------------------------------------------------- public API */

int
config_load(const char *path, const char *const *overrides,
    size_t noverrides, struct config *out, char *err, size_t errlen)
{
	struct loader ld;
	struct stat st;
	const char **seen = NULL;
	size_t nseen = 0;
	char *abs;
	FILE *fp;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || *path == '\0') {
		put_err(err, errlen, NULL, "no configuration file given");
		return -1;
	}
	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	ld.out = out;
	ld.err = err;
	ld.errlen = errlen;
	config_init(&ld.cfg);

	/* libconfig only says "file I/O error"; find out what went wrong. */
	if ((fp = fopen(path, "r")) == NULL) {
		put_err(err, errlen, NULL, "cannot open %s: %s", path,
		    strerror(errno));
		goto done;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(fp);
		put_err(err, errlen, NULL, "cannot read %s: %s", path,
		    strerror(EISDIR));
		goto done;
	}
	fclose(fp);
	if ((abs = realpath(path, NULL)) == NULL) {
		put_err(err, errlen, NULL, "cannot resolve %s: %s", path,
		    strerror(errno));
		goto done;
	}
	out->file = abs;
	ld.dir = dir_of(abs);
	/* @include "x" is relative to the directory of the file too. */
	config_set_include_dir(&ld.cfg, ld.dir);

	if (config_read_file(&ld.cfg, path) != CONFIG_TRUE) {
		char *file = source_path(&ld, config_error_file(&ld.cfg));

		if (config_error_line(&ld.cfg) > 0)
			put_err(err, errlen, NULL, "%s:%d: %s", file,
			    config_error_line(&ld.cfg),
			    config_error_text(&ld.cfg));
		else
			put_err(err, errlen, NULL, "%s: %s", file,
			    config_error_text(&ld.cfg));
		free(file);
		goto done;
	}
	if (libconfig_truncates() && check_wide_ints_tree(&ld,
	    config_root_setting(&ld.cfg), &seen, &nseen) < 0)
		goto done;

	ld.ov_texts = xcalloc(noverrides + 1, sizeof(*ld.ov_texts));
	for (size_t i = 0; i < noverrides; i++) {
		ld.ov_texts[i] = xstrdup(overrides[i]);
		ld.nov++;
		if (apply_override(&ld, ld.ov_texts[i]) < 0)
			goto done;
	}

	set_defaults(out);
	if (validate(&ld) < 0)
		goto done;
	/* Unset, the release comes from the bundle (host/attack.c). */
	out->attack_release_set = out->attack_release != NULL &&
	    config_lookup(&ld.cfg, "attack.release") != NULL;
	if (out->attack_release == NULL)
		out->attack_release = xstrdup("v15.1");
	rc = 0;
done:
	free(seen);
	config_destroy(&ld.cfg);
	for (size_t i = 0; i < ld.nov; i++)
		free(ld.ov_texts[i]);
	free(ld.ov_texts);
	free(ld.dir);
	free(ld.cwd);
	if (rc < 0)
		config_free(out);
	return rc;
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->file);
	for (size_t i = 0; i < NSCHEMA; i++) {
		const struct spec *sp = &schema[i];

		switch (sp->kind) {
		case K_STRING:
		case K_PATH:
			free(*FIELD(c, sp, char *));
			break;
		case K_PATHLIST: {
			char **list = *FIELD(c, sp, char **);
			size_t n = *FIELD2(c, sp, size_t);

			for (size_t k = 0; k < n; k++)
				free(list[k]);
			free(list);
			break;
		}
		case K_PLUGINS: {
			struct plugin_conf *list =
			    *FIELD(c, sp, struct plugin_conf *);
			size_t n = *FIELD2(c, sp, size_t);

			for (size_t k = 0; k < n; k++)
				free_plugin(&list[k]);
			free(list);
			break;
		}
		case K_INT:
		case K_ENUM:
		case K_BOOL:
			break;
		}
	}
	memset(c, 0, sizeof(*c));
}

/* ----------------------------------------------------------- printing */

static void
print_string(FILE *fp, const char *s, size_t len)
{
	fputc('"', fp);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		switch (ch) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		case '\f':
			fputs("\\f", fp);
			break;
		default:
			if (ch < 0x20 || ch == 0x7f)
				fprintf(fp, "\\x%02x", ch);
			else
				fputc(ch, fp);
		}
	}
	fputc('"', fp);
}

static void
print_int(FILE *fp, int64_t v, int wide)
{
	/* Without L libconfig 1.5 would truncate a wide value. */
	if (wide || v < INT32_MIN || v > INT32_MAX)
		fprintf(fp, "%" PRId64 "L", v);
	else
		fprintf(fp, "%" PRId64, v);
}

static void
print_real(FILE *fp, double d)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.17g", d);
	/* libconfig needs a '.' or an exponent to read a float. */
	if (strpbrk(buf, ".eEn") == NULL)
		strncat(buf, ".0", sizeof(buf) - strlen(buf) - 1);
	fputs(buf, fp);
}

static void print_value(FILE *fp, const ttpd_value *v, int depth);

static void
indent(FILE *fp, int depth)
{
	for (int i = 0; i < depth; i++)
		fputc('\t', fp);
}

struct print_ctx {
	FILE *fp;
	int depth;
};

static int
print_member(void *ud, const char *key, const ttpd_value *val)
{
	struct print_ctx *pc = ud;

	indent(pc->fp, pc->depth);
	fprintf(pc->fp, "%s = ", key);
	print_value(pc->fp, val, pc->depth);
	fputs(";\n", pc->fp);
	return 0;
}

/* An array becomes [ ... ] when libconfig can hold it as one, else ( ). */
static int
scalar_array(const ttpd_value *v, int *wide)
{
	size_t n = jv_array_size(v);
	int t0 = n > 0 ? jv_type(jv_array_get(v, 0)) : TTPD_VT_INT;
	int64_t iv;

	*wide = 0;
	if (t0 != TTPD_VT_INT && t0 != TTPD_VT_REAL && t0 != TTPD_VT_BOOL &&
	    t0 != TTPD_VT_STRING)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const ttpd_value *e = jv_array_get(v, i);

		if (jv_type(e) != t0)
			return 0;
		if (t0 == TTPD_VT_INT && jv_get_int(e, &iv) == TTPD_OK &&
		    (iv < INT32_MIN || iv > INT32_MAX))
			*wide = 1;
	}
	return 1;
}

static void
print_scalar(FILE *fp, const ttpd_value *v, int wide)
{
	const char *s;
	size_t len;
	int64_t iv;
	double d;
	int b;

	switch (jv_type(v)) {
	case TTPD_VT_BOOL:
		jv_get_bool(v, &b);
		fputs(b ? "true" : "false", fp);
		break;
	case TTPD_VT_INT:
		jv_get_int(v, &iv);
		print_int(fp, iv, wide);
		break;
	case TTPD_VT_REAL:
		jv_get_number(v, &d);
		print_real(fp, d);
		break;
	case TTPD_VT_STRING:
		jv_get_string(v, &s, &len);
		print_string(fp, s, len);
		break;
	default:
		/* null cannot come from a config file */
		fputs("\"\"", fp);
		break;
	}
}

static void
print_value(FILE *fp, const ttpd_value *v, int depth)
{
	struct print_ctx pc;
	size_t n;
	int wide;

	switch (jv_type(v)) {
	case TTPD_VT_OBJECT:
		if (jv_object_size(v) == 0) {
			fputs("{ }", fp);
			break;
		}
		fputs("{\n", fp);
		pc.fp = fp;
		pc.depth = depth + 1;
		jv_object_foreach(v, print_member, &pc);
		indent(fp, depth);
		fputc('}', fp);
		break;
	case TTPD_VT_ARRAY:
		n = jv_array_size(v);
		if (scalar_array(v, &wide)) {
			fputs("[ ", fp);
			for (size_t i = 0; i < n; i++) {
				if (i > 0)
					fputs(", ", fp);
				print_scalar(fp, jv_array_get(v, i), wide);
			}
			fputs(n > 0 ? " ]" : "]", fp);
			break;
		}
		fputs("(\n", fp);
		for (size_t i = 0; i < n; i++) {
			indent(fp, depth + 1);
			print_value(fp, jv_array_get(v, i), depth + 1);
			fputs(i + 1 < n ? ",\n" : "\n", fp);
		}
		indent(fp, depth);
		fputc(')', fp);
		break;
	default:
		print_scalar(fp, v, 0);
		break;
	}
}

static void
print_plugins(FILE *fp, const struct plugin_conf *list, size_t n)
{
	if (n == 0) {
		fputs("( )", fp);
		return;
	}
	fputs("(\n", fp);
	for (size_t i = 0; i < n; i++) {
		const struct plugin_conf *pc = &list[i];

		fputs("\t\t{\n\t\t\tname = ", fp);
		print_string(fp, pc->name, strlen(pc->name));
		fputs(";\n", fp);
		if (pc->path != NULL) {
			fputs("\t\t\tpath = ", fp);
			print_string(fp, pc->path, strlen(pc->path));
			fputs(";\n", fp);
		}
		if (pc->config != NULL) {
			fputs("\t\t\tconfig = ", fp);
			print_value(fp, pc->config, 3);
			fputs(";\n", fp);
		}
		fputs(i + 1 < n ? "\t\t},\n" : "\t\t}\n", fp);
	}
	fputs("\t)", fp);
}

void
config_print(const struct config *c, FILE *fp)
{
	const char *section = NULL;

	fprintf(fp, "# Effective configuration%s%s\n",
	    c->file != NULL ? " read from " : "",
	    c->file != NULL ? c->file : "");
	for (size_t i = 0; i < NSCHEMA; i++) {
		const struct spec *sp = &schema[i];

		if (section == NULL || strcmp(section, sp->section) != 0) {
			if (section != NULL)
				fputs("};\n", fp);
			section = sp->section;
			fprintf(fp, "%s: {\n", section);
		}
		fprintf(fp, "\t%s = ", sp->name);
		switch (sp->kind) {
		case K_STRING:
		case K_PATH: {
			const char *s = *CFIELD(c, sp, char *);

			print_string(fp, s != NULL ? s : "",
			    s != NULL ? strlen(s) : 0);
			break;
		}
		case K_INT:
			print_int(fp, *CFIELD(c, sp, int64_t), 0);
			break;
		case K_ENUM:
			print_string(fp, enum_name_of(sp->names,
			    *CFIELD(c, sp, int)), strlen(enum_name_of(
			    sp->names, *CFIELD(c, sp, int))));
			break;
		case K_PATHLIST: {
			char *const *list = *CFIELD(c, sp, char **);
			size_t n = *CFIELD2(c, sp, size_t);

			fputs("[ ", fp);
			for (size_t k = 0; k < n; k++) {
				if (k > 0)
					fputs(", ", fp);
				print_string(fp, list[k], strlen(list[k]));
			}
			fputs(" ]", fp);
			break;
		}
		case K_PLUGINS:
			print_plugins(fp, *CFIELD(c, sp, struct plugin_conf *),
			    *CFIELD2(c, sp, size_t));
			break;
		case K_BOOL:
			fputs(*CFIELD(c, sp, int) ? "true" : "false", fp);
			break;
		}
		fputs(";\n", fp);
	}
	if (section != NULL)
		fputs("};\n", fp);
}

/* ------------------------------------------------ plugin config keys */

static const char *
cfg_type_name(int type)
{
	switch (type) {
	case TTPD_CFG_STRING:
		return "string";
	case TTPD_CFG_INT:
		return "integer";
	case TTPD_CFG_REAL:
		return "number";
	case TTPD_CFG_BOOL:
		return "boolean";
	case TTPD_CFG_LIST:
		return "list";
	case TTPD_CFG_GROUP:
		return "group";
	}
	return "unknown type";
}

static const char *
value_type_name(int type)
{
	switch (type) {
	case TTPD_VT_NULL:
		return "null";
	case TTPD_VT_BOOL:
		return "boolean";
	case TTPD_VT_INT:
		return "integer";
	case TTPD_VT_REAL:
		return "float";
	case TTPD_VT_STRING:
		return "string";
	case TTPD_VT_ARRAY:
		return "list";
	case TTPD_VT_OBJECT:
		return "group";
	}
	return "nothing";
}

static int
type_matches(int cfg_type, int vt)
{
	switch (cfg_type) {
	case TTPD_CFG_STRING:
		return vt == TTPD_VT_STRING;
	case TTPD_CFG_INT:
		return vt == TTPD_VT_INT;
	case TTPD_CFG_REAL:
		return vt == TTPD_VT_REAL || vt == TTPD_VT_INT;
	case TTPD_CFG_BOOL:
		return vt == TTPD_VT_BOOL;
	case TTPD_CFG_LIST:
		return vt == TTPD_VT_ARRAY;
	case TTPD_CFG_GROUP:
		return vt == TTPD_VT_OBJECT;
	}
	return 0;
}

struct key_check {
	const struct plugin_conf *pc;
	const ttpd_config_key *keys;
	char *prefix;
	char *err;
	size_t errlen;
};

static int
check_member(void *ud, const char *key, const ttpd_value *val)
{
	struct key_check *kc = ud;
	const ttpd_config_key *k;
	char known[256] = "";

	for (k = kc->keys; k != NULL && k->name != NULL; k++)
		if (strcmp(k->name, key) == 0)
			break;
	if (k == NULL || k->name == NULL) {
		for (k = kc->keys; k != NULL && k->name != NULL; k++) {
			if (k != kc->keys)
				strncat(known, ", ",
				    sizeof(known) - strlen(known) - 1);
			strncat(known, k->name,
			    sizeof(known) - strlen(known) - 1);
		}
		if (known[0] == '\0')
			put_err(kc->err, kc->errlen, kc->prefix, "config key "
			    "'%s': unknown key (this plugin takes no config "
			    "keys)", key);
		else
			put_err(kc->err, kc->errlen, kc->prefix, "config key "
			    "'%s': unknown key (known keys: %s)", key, known);
		return -1;
	}
	if (!type_matches(k->type, jv_type(val))) {
		put_err(kc->err, kc->errlen, kc->prefix, "config key '%s': "
		    "expected %s, got %s", key, cfg_type_name(k->type),
		    value_type_name(jv_type(val)));
		return -1;
	}
	return 0;
}

int
config_check_plugin(const struct plugin_conf *pc,
    const ttpd_config_key *keys, char *err, size_t errlen)
{
	struct key_check kc;
	const ttpd_config_key *k;
	int rc = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	kc.pc = pc;
	kc.keys = keys;
	kc.err = err;
	kc.errlen = errlen;
	kc.prefix = xasprintf("%s: plugin '%s'",
	    pc->origin != NULL ? pc->origin : "plugins.load",
	    pc->name != NULL ? pc->name : "?");
	/* A bad table is the plugin's bug; say so before blaming the file. */
	for (k = keys; k != NULL && k->name != NULL && rc == 0; k++) {
		if (k->type < TTPD_CFG_STRING || k->type > TTPD_CFG_GROUP) {
			put_err(err, errlen, kc.prefix, "config key '%s': "
			    "declared with unknown type %d", k->name,
			    k->type);
			rc = -1;
		}
	}
	if (rc == 0 && pc->config != NULL &&
	    jv_type(pc->config) != TTPD_VT_OBJECT) {
		put_err(err, errlen, kc.prefix, "config is not a group");
		rc = -1;
	}
	if (rc == 0 && pc->config != NULL &&
	    jv_object_foreach(pc->config, check_member, &kc) != 0)
		rc = -1;
	for (k = keys; rc == 0 && k != NULL && k->name != NULL; k++) {
		if (k->required && (pc->config == NULL ||
		    jv_object_get(pc->config, k->name) == NULL)) {
			put_err(err, errlen, kc.prefix, "config key '%s': "
			    "required but not set", k->name);
			rc = -1;
		}
	}
	free(kc.prefix);
	return rc;
}
