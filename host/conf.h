/*
 * ttpd.conf: the only module that includes libconfig.
 *
 * The file is read, `-o KEY=VALUE` overrides are applied (dotted path,
 * value as a libconfig literal; a missing setting is created), then every
 * setting is checked against the schema: unknown keys and wrong types are
 * errors reported as "file:line: message".  The result is a plain struct.
 *
 * Relative paths in the file are resolved against the directory of the
 * file; relative paths given with -o against the working directory.
 */
#ifndef TTPD_CONF_H
#define TTPD_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ttpd/lifter.h"

/* One entry of plugins.load. */
struct plugin_conf {
	char *name;          /* plugin name, required */
	char *path;          /* explicit .so path, or NULL: <dir>/<name>.so */
	ttpd_value *config;  /* its `config` group as values, or NULL */
	char *origin;        /* "file:line" of the entry, for messages */
};

struct config {
	char *file;                /* the file read (absolute) */

	/* store */
	char *store_path;          /* store.path, required */
	int64_t store_batch_size;  /* store.batch_size, default 10000 */
	int64_t store_cache_kib;   /* store.cache_size_kib, default 65536 */
	int store_synchronous;     /* store.synchronous "off|normal|full" */
	int store_indexes;         /* store.indexes "compact|decnet" (0|1) */
	int64_t store_busy_timeout_ms; /* store.busy_timeout_ms, 30000 */

	/* rules */
	char **rules_dirs;         /* rules.dirs, list of strings, required */
	size_t nrules_dirs;
	int rules_watch;           /* rules.watch, default true: hot reload */

	/* plugins */
	char *plugins_dir;         /* plugins.dir, required */
	struct plugin_conf *plugins; /* plugins.load */
	size_t nplugins;

	/* attack */
	char *attack_bundle;       /* attack.bundle, may be "" / NULL */
	char *attack_release;      /* attack.release, default "v15.1";
	                            * attack_setup() may put the bundle's */
	char *attack_sha256;       /* attack.sha256: pin, may be NULL */
	int attack_release_set;    /* attack.release given, not "" */

	/* log */
	int log_level;             /* log.level name -> TTPD_LOG_*, "info" */
	int log_syslog;            /* log.target "stderr" (0) | "syslog" (1) */
	int log_facility;          /* log.facility, syslog LOG_* facility */

	/* input */
	int64_t max_event_bytes;   /* input.max_event_bytes, default 1048576 */
	int anchor_derive;         /* input.anchor_policy "drop" | "derive" */

	/* bus (NATS): see ttpd.conf(5) */
	char **bus_servers;        /* bus.servers; none: nats://127.0.0.1:4222 */
	size_t bus_nservers;
	char *bus_name;            /* bus.name, connection name, "ttpd" */
	char *bus_user, *bus_password, *bus_token; /* NULL: unset */
	char *bus_nkey, *bus_nkey_seed, *bus_creds;
	int bus_tls;               /* bus.tls "auto" (0) | "required" (1) */
	char *bus_tls_ca, *bus_tls_cert, *bus_tls_key, *bus_tls_hostname;
	int64_t bus_connect_timeout_ms;
	int64_t bus_reconnect_wait_ms;     /* first reconnect delay */
	int64_t bus_reconnect_max_wait_ms; /* backoff ceiling */
	int bus_mode;              /* CONF_BUS_* */
	char **bus_subjects;       /* none: the nine of DESIGN.md */
	size_t bus_nsubjects;
	char *bus_queue_group;     /* NULL: no queue group */
	int64_t bus_queue_size;    /* bounded queue, messages */
	int64_t bus_heartbeat_s;
	char *bus_stream;          /* JetStream stream name */
	char **bus_stream_subjects; /* none: the subscribed subjects */
	size_t bus_nstream_subjects;
	int bus_stream_retention;  /* CONF_RETENTION_* */
	char *bus_consumer;        /* durable consumer name */
	int64_t bus_fetch_batch;
	int64_t bus_ack_wait_s;
	int64_t bus_max_deliver;
	char *bus_dead_letter;     /* dead-letter subject */

	/* daemon */
	char *pidfile;             /* daemon.pidfile */
	char *daemon_user;         /* daemon.user: name or uid, NULL: stay */
	char *daemon_group;        /* daemon.group: name or gid, NULL: the
	                            * user's primary group */
	char *stats_file;          /* daemon.stats_file, NULL: none */
};

enum { CONF_BUS_CORE = 0, CONF_BUS_JETSTREAM = 1 };
enum {
	CONF_RETENTION_LIMITS = 0,
	CONF_RETENTION_INTEREST = 1,
	CONF_RETENTION_WORKQUEUE = 2
};

/*
 * Load `path`, apply `overrides` ("key=value" strings) in order, validate.
 * Returns 0, or -1 with a message in err ("file:line: ..." when a setting
 * is to blame).
 */
int config_load(const char *path, const char *const *overrides,
    size_t noverrides, struct config *out, char *err, size_t errlen);
void config_free(struct config *c);

/* Print the effective configuration in ttpd.conf syntax. */
void config_print(const struct config *c, FILE *fp);

/*
 * Check a plugin's config group against the keys it declares: every
 * member known and of the declared type, every required key present.
 * Returns 0 or -1 with "origin: plugin 'x': config key 'k': reason".
 */
int config_check_plugin(const struct plugin_conf *pc,
    const ttpd_config_key *keys, char *err, size_t errlen);

#endif
