/*
 * Fixture for the bus integration tests: a real nats-server on a free
 * loopback port, real host/ttpd daemons, a libnats client for the test
 * side, and the SQLite file they write.  Everything started here dies
 * with the test process (PR_SET_PDEATHSIG) and is also stopped, and the
 * temporary directory removed, at exit (atexit), so a failing assertion
 * leaves nothing behind.
 */
#ifndef TTPD_NATSFX_H
#define TTPD_NATSFX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <nats/nats.h>

#define FX_MAX_TTPD 3

struct fx {
	char *dir;                 /* /tmp/ttpd-test.XXXXXX */
	pid_t nats_pid;
	int port;                  /* client port (kept across restarts) */
	char url[128];
	pid_t ttpd_pid[FX_MAX_TTPD];
	char *conf;                /* <dir>/ttpd.conf */
	const char *store_extra;   /* more settings of the store group */
	char **nats_args;          /* more nats-server arguments */
	const char *plugins_load;  /* plugins.load entries (default:
	                              rule_engine) */
	const char *rules_dir;     /* rules.dirs (default: <dir>/rules) */
	natsConnection *nc;        /* the test's own connection */
	natsSubscription *out;     /* ttp.> and system.ttp.health */
	natsSubscription *health;
};

/*
 * Call first thing in main(): temp dirs get the test runner's pid in
 * their name, so that fx_cleanup_runner() (registered as an unchecked
 * fixture teardown, which runs in the runner even when a forked test
 * died on a failed assertion) can stop what a failed test left running
 * and remove its directory.
 */
void fx_init_runner(void);
void fx_cleanup_runner(void);

/* Temp dir, rules, nats-server, test connection.  `bus_extra` is put
 * inside the bus group of the config (after servers). */
void fx_setup(struct fx *f, const char *bus_extra, const char *extra);

/* How the test's own connection authenticates (all optional). */
struct fx_client {
	const char *user, *password, *token;
	const char *ca;          /* TLS: trust this CA file */
	const char *nkey, *nkey_seed; /* NKey public key and seed file */
};
/* The same, with more nats-server arguments (NULL-terminated; may name
 * files under the fixture directory as "@/name", replaced by the full
 * path) and the test connection's credentials. */
void fx_setup_with(struct fx *f, const char *const *nats_args,
    const struct fx_client *client, const char *bus_extra,
    const char *extra);
/* The fixture directory before fx_setup_with() (for files the server
 * arguments name): a new temp dir. */
char *fx_prepare_dir(void);
/* Stop everything, remove the directory (also done at exit). */
void fx_teardown(struct fx *f);

/* (Re)start nats-server on f->port (-1: pick a free one) with the same
 * store directory. */
void fx_nats_start(struct fx *f);
/* Stop nats-server with sig (SIGTERM waits for a clean exit). */
void fx_nats_stop(struct fx *f, int sig);

/* Rewrite <dir>/ttpd.conf. */
void fx_write_conf(struct fx *f, const char *bus_extra, const char *extra);

/* Start ttpd #i (-f -c conf); waits until its first heartbeat when
 * wait_ready is set. */
void fx_ttpd_start(struct fx *f, int i, int wait_ready);
/* Send sig to ttpd #i and wait (up to 30 s) for it to exit; returns the
 * exit status, or 128+signal. */
int fx_ttpd_stop(struct fx *f, int i, int sig);
/* 1 if ttpd #i is still running. */
int fx_ttpd_alive(struct fx *f, int i);
/* Its log (stderr), malloc'd. */
char *fx_ttpd_log(struct fx *f, int i);
/* Wait up to timeout_s for text in the log of ttpd #i: 1 found, 0 not. */
int fx_wait_log(struct fx *f, int i, const char *text, int timeout_s);

/* Publish on the test connection and flush. */
void fx_pub(struct fx *f, const char *subject, const char *data, size_t len);
void fx_pub_str(struct fx *f, const char *subject, const char *data);
void fx_flush(struct fx *f);

/* A session envelope with one "wget" command (one T1105 tag) for
 * session number n; malloc'd. */
char *fx_session_env(int n);

/* SELECT count(*) ... (the whole query given). */
long fx_count(struct fx *f, const char *sql);
/* Wait up to timeout_s for the count to reach want; returns the count. */
long fx_wait_count(struct fx *f, const char *sql, long want, int timeout_s);

/* Next message on f->out within timeout_ms (NULL on timeout). */
natsMsg *fx_next_out(struct fx *f, int timeout_ms);
/* Drain f->out: number of messages on subject (exact) until quiet for
 * quiet_ms. */
long fx_count_out(struct fx *f, const char *subject, int quiet_ms);

/* The latest heartbeat payload value of `key` (a top-level integer or
 * "malformed.<reason>"), waiting for a heartbeat newer than now. */
long fx_health(struct fx *f, const char *key);
/* The next heartbeat's JSON text (malloc'd) and a value from it. */
char *fx_beat(struct fx *f);
long fx_beat_int(const char *beat, const char *key);

#endif
