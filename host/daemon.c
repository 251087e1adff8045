/*
 * The live daemon (see daemon.h): bus messages through the pipeline, and
 * what happens after each commit (publish, ack, dead letters).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "conf.h"
#include "daemon.h"
#include "event.h"
#include "json.h"
#include "log.h"
#include "pipeline.h"
#include "plugin.h"
#include "reload.h"
#include "startup.h"
#include "store.h"
#include "xmalloc.h"

/* DESIGN.md "Bus": DECNET's topics. */
static const char *const default_subjects[] = {
	"attacker.session.ended", "attacker.observed",
	"attacker.intel.enriched", "attacker.fingerprinted",
	"identity.formed", "identity.merged", "credential.reuse.detected",
	"email.received", "canary.>"
};
#define NDEFAULT_SUBJECTS (sizeof default_subjects / sizeof *default_subjects)
#define CONTROL_SUBJECT "system.ttp.control"
#define HEALTH_SUBJECT "system.ttp.health"
#define POP_MAX 256
#define DRAIN_TIMEOUT_MS 10000
/* a message whose tags could not be stored comes back after this */
#define NAK_DELAY_MS 1000

volatile sig_atomic_t daemon_stop_requested;
volatile sig_atomic_t daemon_reload_requested;

/* The bounded queue between the bus callbacks and the tagging thread. */
struct queue {
	struct bus_msg **v;
	size_t cap, head, n;
	int draining;         /* shutting down: block instead of dropping */
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
};

struct counters {
	atomic_uint_fast64_t received;
	atomic_uint_fast64_t queue_dropped;
	atomic_uint_fast64_t malformed[EVR_COUNT];
	atomic_uint_fast64_t no_anchor;
	atomic_uint_fast64_t ignored;
	atomic_uint_fast64_t tags_inserted;
	atomic_uint_fast64_t tagged_published;
	atomic_uint_fast64_t acked;
	atomic_uint_fast64_t redelivered;
	atomic_uint_fast64_t dead_lettered;
	atomic_uint_fast64_t store_failures;
	atomic_uint_fast64_t publish_errors;
};

struct daemon {
	struct daemon_env *env;
	struct bus *bus;
	struct store *wstore;  /* the writer thread's connection */
	struct pipeline pl;
	struct queue q;
	struct counters c;
	int js;
	size_t max_units;      /* messages per batch before a flush */
	int64_t max_deliver;
	char *dead_letter;
	pthread_mutex_t lock;  /* rate limiters, id generator */
	struct log_ratelimit drop_log, bad_log, pub_log, store_log;
	struct log_ratelimit stats_log;
	uint64_t rng[2];
	int64_t next_heartbeat_ms;
	struct reloader *rl;   /* rules at runtime (host/reload.c) */
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
epoch_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define BUMP(ctr) atomic_fetch_add(&(ctr), 1)
#define READ(ctr) ((unsigned long long)atomic_load(&(ctr)))

/* ------------------------------------------------------------ queue */

static void
queue_init(struct queue *q, size_t cap)
{
	memset(q, 0, sizeof *q);
	q->cap = cap;
	q->v = xcalloc(cap, sizeof *q->v);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
}

static void
queue_free(struct queue *q)
{
	while (q->n > 0) {
		bus_msg_free(q->v[q->head]);
		q->head = (q->head + 1) % q->cap;
		q->n--;
	}
	free(q->v);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
}

/* Push, or return -1 when full (not draining). */
static int
queue_push(struct queue *q, struct bus_msg *m)
{
	pthread_mutex_lock(&q->lock);
	while (q->n == q->cap && q->draining)
		pthread_cond_wait(&q->not_full, &q->lock);
	if (q->n == q->cap) {
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	q->v[(q->head + q->n) % q->cap] = m;
	q->n++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

/* Pop up to max, waiting up to wait_ms for the first. */
static size_t
queue_pop(struct queue *q, struct bus_msg **out, size_t max, int wait_ms)
{
	struct timespec ts;
	size_t n = 0;

	pthread_mutex_lock(&q->lock);
	if (q->n == 0 && wait_ms > 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)wait_ms * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		while (q->n == 0 && !daemon_stop_requested &&
		    !daemon_reload_requested)
			if (pthread_cond_timedwait(&q->not_empty, &q->lock,
			    &ts) != 0)
				break;
	}
	while (q->n > 0 && n < max) {
		out[n++] = q->v[q->head];
		q->head = (q->head + 1) % q->cap;
		q->n--;
	}
	if (n > 0)
		pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return n;
}

static size_t
queue_depth(struct queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->n;
	pthread_mutex_unlock(&q->lock);
	return n;
}

/* --------------------------------------------------------- envelopes */

static uint64_t
rng_next(uint64_t s[2])
{
	/* xorshift128+: ids need to be unique, not secret */
	uint64_t x = s[0], y = s[1];

	s[0] = y;
	x ^= x << 23;
	s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
	return s[1] + y;
}

/* 32 lowercase hex characters, like DECNET's uuid4().hex */
static void
new_id(struct daemon *d, char out[33])
{
	uint64_t a, b;

	pthread_mutex_lock(&d->lock);
	a = rng_next(d->rng);
	b = rng_next(d->rng);
	pthread_mutex_unlock(&d->lock);
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)a,
	    (unsigned long long)b);
}

static ttpd_value *
str_or_null(const char *s)
{
	ttpd_value *v = s != NULL ? jv_new_string(s, strlen(s)) : NULL;

	return v != NULL ? v : jv_new_null();
}

/* Publish DECNET's envelope {v,id,topic,type,ts,payload}; steals
 * payload. */
static void
publish_envelope(struct daemon *d, const char *topic, const char *type,
    ttpd_value *payload)
{
	ttpd_value *o = jv_new_object();
	char id[33], *text;

	new_id(d, id);
	jv_object_set_new(o, "v", jv_new_int(1));
	jv_object_set_new(o, "id", jv_new_string(id, 32));
	jv_object_set_new(o, "topic", jv_new_string(topic, strlen(topic)));
	jv_object_set_new(o, "type", jv_new_string(type, strlen(type)));
	jv_object_set_new(o, "ts", jv_new_real(epoch_s()));
	jv_object_set_new(o, "payload", payload);
	text = jv_dump(o);
	jv_decref(o);
	if (text == NULL || bus_publish(d->bus, topic, text, strlen(text),
	    NULL) != 0) {
		BUMP(d->c.publish_errors);
		pthread_mutex_lock(&d->lock);
		log_limited(&d->pub_log, TTPD_LOG_WARNING, "bus: cannot "
		    "publish %s: %s", topic, text == NULL ?
		    "cannot serialise" : bus_last_error());
		pthread_mutex_unlock(&d->lock);
	}
	free(text);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A technique id usable as the last token of a subject. */
static int
subject_token_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s == '.' || *s == '*' || *s == '>' ||
		    (unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

/*
 * ttp.tagged and ttp.rule.fired.<T> for the tags [from, to) of one
 * message that were really inserted (decnet-host.md 1.8; unlike DECNET,
 * pre-existing and below-floor tags are not listed).
 */
static void
publish_tags(struct daemon *d, const struct tag_list *batch,
    const unsigned char *inserted, size_t from, size_t to)
{
	const struct tag *first = NULL;
	const char **techs;
	ttpd_value *payload, *uuids, *added;
	size_t i, k, ntech = 0;

	for (i = from; i < to; i++)
		if (inserted[i]) {
			if (first == NULL)
				first = &batch->v[i];
		}
	if (first == NULL)
		return;
	techs = xcalloc(to - from, sizeof *techs);
	uuids = jv_new_array();
	for (i = from; i < to; i++) {
		if (!inserted[i])
			continue;
		jv_array_append_new(uuids, jv_new_string(batch->v[i].uuid,
		    strlen(batch->v[i].uuid)));
		techs[ntech++] = batch->v[i].technique_id;
	}
	qsort(techs, ntech, sizeof *techs, cmp_str);
	for (i = 0, k = 0; i < ntech; i++)
		if (k == 0 || strcmp(techs[k - 1], techs[i]) != 0)
			techs[k++] = techs[i];
	ntech = k;
	added = jv_new_array();
	for (i = 0; i < ntech; i++)
		jv_array_append_new(added, str_or_null(techs[i]));

	payload = jv_new_object();
	jv_object_set_new(payload, "attacker_uuid",
	    str_or_null(first->attacker_uuid));
	jv_object_set_new(payload, "identity_uuid",
	    str_or_null(first->identity_uuid));
	jv_object_set_new(payload, "session_id",
	    str_or_null(first->session_id));
	jv_object_set_new(payload, "tag_uuids", uuids);
	jv_object_set_new(payload, "techniques_added", added);
	publish_envelope(d, "ttp.tagged", "tagged", payload);
	BUMP(d->c.tagged_published);

	for (k = 0; k < ntech; k++) {
		char *topic;

		if (!subject_token_ok(techs[k])) {
			pthread_mutex_lock(&d->lock);
			log_limited(&d->pub_log, TTPD_LOG_WARNING, "bus: "
			    "technique id \"%s\" cannot be a subject token; "
			    "no ttp.rule.fired for it", techs[k]);
			pthread_mutex_unlock(&d->lock);
			continue;
		}
		uuids = jv_new_array();
		for (i = from; i < to; i++)
			if (inserted[i] && strcmp(batch->v[i].technique_id,
			    techs[k]) == 0)
				jv_array_append_new(uuids, jv_new_string(
				    batch->v[i].uuid,
				    strlen(batch->v[i].uuid)));
		payload = jv_new_object();
		jv_object_set_new(payload, "technique_id",
		    str_or_null(techs[k]));
		jv_object_set_new(payload, "tag_uuids", uuids);
		jv_object_set_new(payload, "attacker_uuid",
		    str_or_null(first->attacker_uuid));
		jv_object_set_new(payload, "identity_uuid",
		    str_or_null(first->identity_uuid));
		jv_object_set_new(payload, "session_id",
		    str_or_null(first->session_id));
		topic = xasprintf("ttp.rule.fired.%s", techs[k]);
		publish_envelope(d, topic, "rule.fired", payload);
		free(topic);
	}
	free(techs);
}

/* Copy a JetStream message to the dead-letter subject with the reason,
 * then terminate it (never redelivered). */
static void
dead_letter(struct daemon *d, struct bus_msg *m, const char *reason,
    const char *detail)
{
	char deliveries[32], seq[32];
	const char *hdrs[] = {
		"Ttpd-Reason", reason,
		"Ttpd-Error", detail,
		"Ttpd-Subject", bus_msg_subject(m),
		"Ttpd-Deliveries", deliveries,
		"Ttpd-Stream-Seq", seq,
		NULL, NULL
	};
	const char *data;
	size_t len;

	snprintf(deliveries, sizeof deliveries, "%llu",
	    (unsigned long long)bus_msg_delivered(m));
	snprintf(seq, sizeof seq, "%llu",
	    (unsigned long long)bus_msg_stream_seq(m));
	data = bus_msg_data(m, &len);
	if (bus_publish(d->bus, d->dead_letter, data, len, hdrs) != 0) {
		/* not copied: leave it to be redelivered rather than lose it */
		pthread_mutex_lock(&d->lock);
		log_limited(&d->pub_log, TTPD_LOG_WARNING, "bus: cannot copy "
		    "a message to %s: %s; it will be redelivered",
		    d->dead_letter, bus_last_error());
		pthread_mutex_unlock(&d->lock);
		bus_msg_nak(m, NAK_DELAY_MS);
		return;
	}
	bus_msg_term(m);
	BUMP(d->c.dead_lettered);
}

/* Writer thread, after each batch: publish, then acknowledge. */
static void
on_commit(void *ud, int ok, const struct tag_list *batch,
    const unsigned char *inserted, const struct pipeline_unit *units,
    size_t nunits)
{
	struct daemon *d = ud;
	size_t i, from = 0, n;

	for (i = 0; i < nunits; i++) {
		struct bus_msg *m = units[i].cookie; /* NULL in core mode */

		if (ok) {
			for (n = from; n < units[i].end; n++)
				if (inserted[n])
					BUMP(d->c.tags_inserted);
			publish_tags(d, batch, inserted, from, units[i].end);
			if (m != NULL && bus_msg_ack(m) == 0)
				BUMP(d->c.acked);
		} else {
			BUMP(d->c.store_failures);
			if (m == NULL)
				; /* core: lost; the writer logged why */
			else if ((int64_t)bus_msg_delivered(m) >=
			    d->max_deliver)
				dead_letter(d, m, "store_failed", "its tags "
				    "could not be stored (see the daemon "
				    "log)");
			else {
				bus_msg_nak(m, NAK_DELAY_MS);
				BUMP(d->c.redelivered);
			}
		}
		bus_msg_free(m);
		from = units[i].end;
	}
}

/* ---------------------------------------------------------- messages */

static void
handle_control(struct daemon *d, struct bus_msg *m)
{
	const ttpd_value *a;
	ttpd_value *v;
	const char *data, *action = NULL;
	size_t len;
	char err[128];

	data = bus_msg_data(m, &len);
	if ((v = jv_parse(data, len, err, sizeof err)) == NULL) {
		log_info("bus: ignoring a control message that is not "
		    "JSON");
		return;
	}
	/* {"action":...} or an envelope whose payload has it */
	a = jv_object_get(v, "action");
	if (a == NULL)
		a = jv_object_get(jv_object_get(v, "payload"), "action");
	action = jv_string(a);
	if (action != NULL && strcmp(action, "stop") == 0) {
		log_notice("bus: stop requested on %s", CONTROL_SUBJECT);
		daemon_stop_requested = 1;
	} else if (action != NULL && strcmp(action, "reload") == 0) {
		log_notice("bus: reload requested on %s", CONTROL_SUBJECT);
		daemon_reload_requested = 1;
	} else
		log_debug("bus: ignoring control action %s",
		    action != NULL ? action : "(none)");
	jv_decref(v);
	/* wake the tagging thread */
	pthread_mutex_lock(&d->q.lock);
	pthread_cond_signal(&d->q.not_empty);
	pthread_mutex_unlock(&d->q.lock);
}

/* libnats delivery thread (core subscriptions). */
static void
on_bus_msg(void *ud, struct bus_msg *m)
{
	struct daemon *d = ud;

	if (strcmp(bus_msg_subject(m), CONTROL_SUBJECT) == 0) {
		handle_control(d, m);
		bus_msg_free(m);
		return;
	}
	if (d->js) {
		/* only control is subscribed in JetStream mode */
		bus_msg_free(m);
		return;
	}
	BUMP(d->c.received);
	if (queue_push(&d->q, m) != 0) {
		BUMP(d->c.queue_dropped);
		pthread_mutex_lock(&d->lock);
		log_limited(&d->drop_log, TTPD_LOG_WARNING, "bus: queue full "
		    "(bus.queue_size %zu): message on %s dropped (%llu so "
		    "far)", d->q.cap, bus_msg_subject(m),
		    READ(d->c.queue_dropped));
		pthread_mutex_unlock(&d->lock);
		bus_msg_free(m);
	}
}

static void
malformed(struct daemon *d, struct bus_msg *m, enum event_reason r,
    const char *err)
{
	BUMP(d->c.malformed[r]);
	pthread_mutex_lock(&d->lock);
	log_limited(&d->bad_log, TTPD_LOG_WARNING, "bus: malformed message "
	    "on %s (%s): %s", bus_msg_subject(m), event_reason_name(r), err);
	pthread_mutex_unlock(&d->lock);
	/* retrying cannot fix it: terminate, keep a copy */
	if (d->js)
		dead_letter(d, m, event_reason_name(r), err);
	bus_msg_free(m);
}

/* Tag one message; it becomes a unit of the batch (or is dealt with
 * here when malformed). */
static void
process(struct daemon *d, struct bus_msg *m)
{
	struct pipeline *pl = &d->pl;
	enum event_reason r;
	ttpd_value *env;
	const char *data;
	size_t len, i;
	char err[512];

	/* delivered max_deliver times and never acknowledged: its daemon
	 * died or failed on it every time */
	if (d->js && (int64_t)bus_msg_delivered(m) > d->max_deliver) {
		snprintf(err, sizeof err, "delivered %llu times without being "
		    "acknowledged (bus.max_deliver is %lld)",
		    (unsigned long long)bus_msg_delivered(m),
		    (long long)d->max_deliver);
		pthread_mutex_lock(&d->lock);
		log_limited(&d->bad_log, TTPD_LOG_WARNING, "bus: message %llu "
		    "on %s %s: dead-lettered",
		    (unsigned long long)bus_msg_stream_seq(m),
		    bus_msg_subject(m), err);
		pthread_mutex_unlock(&d->lock);
		dead_letter(d, m, "max_deliver", err);
		bus_msg_free(m);
		return;
	}
	data = bus_msg_data(m, &len);
	r = event_decode_bus(bus_msg_subject(m), data, len,
	    (size_t)d->env->cfg->max_event_bytes, &env, err, sizeof err);
	if (r != EVR_OK) {
		malformed(d, m, r, err);
		return;
	}
	event_list_clear(&pl->events);
	switch (event_build(env, &pl->anchors, &pl->events, err,
	    sizeof err)) {
	case EVENT_OK:
		for (i = 0; i < pl->events.n; i++)
			pipeline_event(pl, &pl->events.v[i].pub);
		break;
	case EVENT_DROPPED:
		BUMP(d->c.no_anchor);
		log_debug("bus: %s: %s", bus_msg_subject(m), err);
		break;
	case EVENT_IGNORED:
		BUMP(d->c.ignored);
		log_debug("bus: %s: %s", bus_msg_subject(m), err);
		break;
	case EVENT_BAD:
		event_list_clear(&pl->events);
		jv_decref(env);
		malformed(d, m, EVR_TYPE, err);
		return;
	}
	event_list_clear(&pl->events);
	jv_decref(env);
	/* core messages need no ack: only JetStream ones wait for the
	 * commit, so the batch holds tags, not message bodies */
	if (!d->js) {
		bus_msg_free(m);
		m = NULL;
	}
	pipeline_mark(pl, m);
	if (pipeline_pending_units(pl) >= d->max_units)
		pipeline_flush(pl);
}

/* ------------------------------------------------------- heartbeat */

/* Per-plugin counters (kept by hostapi_run() in the tagging thread, the
 * thread that builds the heartbeat): [{name, events, tags, ...}]. */
static ttpd_value *
plugin_counters(const struct registry *reg)
{
	ttpd_value *arr = jv_new_array(), *o;
	size_t i;

	for (i = 0; reg != NULL && i < reg->nplugins; i++) {
		const struct plugin *p = reg->plugins[i];

		o = jv_new_object();
		jv_object_set_new(o, "name", jv_new_string(p->name,
		    strlen(p->name)));
		jv_object_set_new(o, "events",
		    jv_new_int((int64_t)p->counters.events));
		jv_object_set_new(o, "tags",
		    jv_new_int((int64_t)p->counters.tags));
		jv_object_set_new(o, "errors",
		    jv_new_int((int64_t)p->counters.errors));
		jv_object_set_new(o, "gated",
		    jv_new_int((int64_t)p->counters.gated));
		jv_object_set_new(o, "ns_spent",
		    jv_new_int((int64_t)p->counters.ns_spent));
		jv_object_set_new(o, "rules", jv_new_int((int64_t)p->nrules));
		jv_object_set_new(o, "disabled", jv_new_bool(p->disabled));
		jv_array_append_new(arr, o);
	}
	return arr;
}

static ttpd_value *
health_payload(struct daemon *d, const char *state)
{
	ttpd_value *p = jv_new_object(), *bad = jv_new_object();
	int r;

	jv_object_set_new(p, "worker", jv_new_string("ttp", 3));
	jv_object_set_new(p, "ts", jv_new_real(epoch_s()));
	jv_object_set_new(p, "pid", jv_new_int((int64_t)getpid()));
	jv_object_set_new(p, "mode", jv_new_string(d->js ? "jetstream" :
	    "core", d->js ? 9 : 4));
	jv_object_set_new(p, "state", jv_new_string(state, strlen(state)));
	jv_object_set_new(p, "version", jv_new_string(PACKAGE_VERSION,
	    strlen(PACKAGE_VERSION)));
	jv_object_set_new(p, "heartbeat_s",
	    jv_new_int(d->env->cfg->bus_heartbeat_s));
	jv_object_set_new(p, "bus_connected",
	    jv_new_bool(d->bus != NULL && bus_connected(d->bus)));
#define PUT(name, ctr) jv_object_set_new(p, name, jv_new_int( \
	(int64_t)atomic_load(&(ctr))))
	PUT("received", d->c.received);
	PUT("queue_dropped", d->c.queue_dropped);
	/* dropped by the client library before reaching our queue */
	jv_object_set_new(p, "library_dropped",
	    jv_new_int(d->bus != NULL ? (int64_t)bus_dropped(d->bus) : 0));
	jv_object_set_new(p, "queue_depth",
	    jv_new_int((int64_t)queue_depth(&d->q)));
	PUT("no_anchor", d->c.no_anchor);
	PUT("ignored", d->c.ignored);
	PUT("tags_inserted", d->c.tags_inserted);
	PUT("tagged_published", d->c.tagged_published);
	PUT("acked", d->c.acked);
	PUT("redelivered", d->c.redelivered);
	PUT("dead_lettered", d->c.dead_lettered);
	PUT("store_failures", d->c.store_failures);
	PUT("publish_errors", d->c.publish_errors);
	for (r = 1; r < EVR_COUNT; r++)
		jv_object_set_new(bad, event_reason_name((enum event_reason)r),
		    jv_new_int((int64_t)atomic_load(&d->c.malformed[r])));
#undef PUT
	jv_object_set_new(p, "malformed", bad);
	jv_object_set_new(p, "plugins", plugin_counters(d->env->reg));
	return p;
}

/*
 * daemon.stats_file: the heartbeat payload as JSON, replaced atomically
 * (temporary file in the same directory, then rename) for ttpctl status.
 */
static void
write_stats(struct daemon *d, const ttpd_value *payload)
{
	const char *path = d->env->cfg->stats_file;
	char *tmp, *text;
	FILE *fp;
	int ok;

	if (path == NULL)
		return;
	if ((text = jv_dump(payload)) == NULL)
		return;
	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	ok = (fp = fopen(tmp, "w")) != NULL;
	if (ok) {
		ok = fputs(text, fp) >= 0 && fputc('\n', fp) != EOF;
		ok = (fclose(fp) == 0) && ok;
	}
	if (ok && rename(tmp, path) != 0)
		ok = 0;
	if (!ok) {
		pthread_mutex_lock(&d->lock);
		log_limited(&d->stats_log, TTPD_LOG_WARNING, "daemon.stats_file "
		    "%s: cannot write it: %s", path, strerror(errno));
		pthread_mutex_unlock(&d->lock);
		unlink(tmp);
	}
	free(tmp);
	free(text);
}

static void
heartbeat(struct daemon *d)
{
	ttpd_value *p = health_payload(d, "running");

	write_stats(d, p);
	if (bus_connected(d->bus))
		publish_envelope(d, HEALTH_SUBJECT, "health", p);
	else
		jv_decref(p);
}

static void
maybe_heartbeat(struct daemon *d)
{
	int64_t now = mono_ms();

	if (now < d->next_heartbeat_ms)
		return;
	d->next_heartbeat_ms = now + d->env->cfg->bus_heartbeat_s * 1000;
	heartbeat(d);
}

/* -------------------------------------------------------------- run */

static ttpd_value *
intel_lookup(void *ud, const char *attacker_uuid);

static int
lookup_ip(void *ud, const char *ip, char *out, size_t outlen)
{
	return store_attacker_by_ip(ud, ip, out, outlen);
}

/* Point the pipeline at the current configuration and plugins. */
static void
apply_env(struct daemon *d)
{
	struct daemon_env *env = d->env;
	struct pipeline *pl = &d->pl;

	pl->reg = env->reg;
	pl->ts.attack_release = env->cfg->attack_release;
	pl->batch_size = (size_t)env->cfg->store_batch_size;
	pl->max_line_bytes = (size_t)env->cfg->max_event_bytes;
	memset(&pl->anchors, 0, sizeof pl->anchors);
	if (store_has_attackers(env->lookup_store) == 1) {
		pl->anchors.lookup_ip = lookup_ip;
		pl->anchors.ud = env->lookup_store;
	}
	pl->anchors.derive = env->cfg->anchor_derive;
	if (store_has_attacker_intel(env->lookup_store) == 1) {
		pl->anchors.intel_lookup = intel_lookup;
		pl->anchors.intel_ud = env->lookup_store;
	}
}

static void
maybe_reload(struct daemon *d)
{
	if (!daemon_reload_requested)
		return;
	daemon_reload_requested = 0;
	/* no batch in flight while plugins change */
	pipeline_finish(&d->pl);
	if (d->env->reload(d->env) == 0)
		log_notice("configuration, plugins and rules reloaded from %s",
		    d->env->cfg->file);
	apply_env(d);
	reloader_rebind(d->rl);
	if (pipeline_start_writer(&d->pl) != 0)
		daemon_stop_requested = 1;
}

/* host/reload.c: ttp.rule.reloaded.<id> and ttp.rule.state.<id>. */
static void
publish_rule_change(void *ud, const char *topic, ttpd_value *payload)
{
	publish_envelope(ud, topic, "", payload);
}

static int
subscribe_all(struct daemon *d)
{
	const struct config *cfg = d->env->cfg;
	const char *const *subjects = (const char *const *)cfg->bus_subjects;
	size_t n = cfg->bus_nsubjects, i;
	char err[1024];

	if (n == 0) {
		subjects = default_subjects;
		n = NDEFAULT_SUBJECTS;
	}
	if (bus_subscribe(d->bus, CONTROL_SUBJECT, NULL, on_bus_msg, d, err,
	    sizeof err) != 0) {
		log_err("%s", err);
		return -1;
	}
	if (d->js)
		return 0;
	for (i = 0; i < n; i++)
		if (bus_subscribe(d->bus, subjects[i], cfg->bus_queue_group,
		    on_bus_msg, d, err, sizeof err) != 0) {
			log_err("%s", err);
			return -1;
		}
	log_info("bus: core mode, %zu subjects%s%s", n,
	    cfg->bus_queue_group != NULL ? ", queue group " : "",
	    cfg->bus_queue_group != NULL ? cfg->bus_queue_group : "");
	return 0;
}

static void
run_core(struct daemon *d)
{
	struct bus_msg *buf[POP_MAX];
	size_t n, i;
	int64_t deadline;

	while (!daemon_stop_requested) {
		int pending, idle;

		maybe_reload(d);
		maybe_heartbeat(d);
		reloader_tick(d->rl);
		/*
		 * Hand a batch over as soon as the writer is free and we
		 * have caught up; while it is busy, keep tagging into the
		 * next batch instead of waiting (bigger transactions under
		 * load, no stall of the tagging thread).
		 */
		pending = pipeline_pending_units(&d->pl) > 0;
		idle = pending && pipeline_writer_idle(&d->pl);
		n = queue_pop(&d->q, buf, POP_MAX, !pending ? 200 :
		    idle ? 0 : 2);
		for (i = 0; i < n; i++)
			process(d, buf[i]);
		if (n == 0 && pending && pipeline_writer_idle(&d->pl))
			pipeline_flush(&d->pl);
	}
	/* drain: what the library already holds is still delivered (the
	 * callbacks now wait for room instead of dropping) */
	pthread_mutex_lock(&d->q.lock);
	d->q.draining = 1;
	pthread_mutex_unlock(&d->q.lock);
	bus_drain_start(d->bus, DRAIN_TIMEOUT_MS);
	deadline = mono_ms() + DRAIN_TIMEOUT_MS;
	for (;;) {
		n = queue_pop(&d->q, buf, POP_MAX, 50);
		for (i = 0; i < n; i++)
			process(d, buf[i]);
		if (n == 0 && (bus_drain_done(d->bus) ||
		    mono_ms() > deadline))
			break;
		/* queue_pop does not wait once a stop is requested */
		if (n == 0)
			usleep(5000);
	}
}

static void
run_jetstream(struct daemon *d)
{
	const struct config *cfg = d->env->cfg;
	struct bus_js_config jc;
	struct bus_msg **buf;
	const char *const *subjects;
	size_t nsubjects;
	/* fixed for the run: a reload does not resize buf */
	int batch = (int)cfg->bus_fetch_batch;
	int ready = 0, n, i, warned = 0;
	char err[1024];

	if (cfg->bus_nstream_subjects > 0) {
		subjects = (const char *const *)cfg->bus_stream_subjects;
		nsubjects = cfg->bus_nstream_subjects;
	} else if (cfg->bus_nsubjects > 0) {
		subjects = (const char *const *)cfg->bus_subjects;
		nsubjects = cfg->bus_nsubjects;
	} else {
		subjects = default_subjects;
		nsubjects = NDEFAULT_SUBJECTS;
	}
	memset(&jc, 0, sizeof jc);
	jc.stream = cfg->bus_stream;
	jc.subjects = subjects;
	jc.nsubjects = nsubjects;
	jc.retention = cfg->bus_stream_retention;
	jc.consumer = cfg->bus_consumer;
	jc.ack_wait_s = cfg->bus_ack_wait_s;
	/* one batch being tagged and one being written, with room */
	jc.max_ack_pending = (int64_t)batch * 4;
	buf = xcalloc((size_t)batch, sizeof *buf);

	while (!daemon_stop_requested) {
		if (!ready) {
			if (!bus_wait_connected(d->bus, 500))
				continue;
			if (bus_js_setup(d->bus, &jc, err, sizeof err) != 0) {
				if (!warned++)
					log_err("%s; retrying", err);
				sleep(1);
				continue;
			}
			if (warned)
				log_notice("bus: JetStream consumer ready");
			ready = 1;
			log_info("bus: JetStream mode, stream %s, consumer %s, "
			    "batches of %d", jc.stream, jc.consumer, batch);
		}
		maybe_reload(d);
		maybe_heartbeat(d);
		reloader_tick(d->rl);
		n = bus_js_fetch(d->bus, buf, batch, 500);
		if (n < 0) {
			usleep(100000);
			continue;
		}
		for (i = 0; i < n; i++) {
			BUMP(d->c.received);
			process(d, buf[i]);
		}
		/* one fetched batch, one transaction; its acks follow the
		 * commit.  (Fetching more while the writer is busy was tried:
		 * short fetch timeouts hit libnats 3.4.1 Fetch bugs, and
		 * no-wait fetches cost more than they gained.) */
		if (pipeline_pending_units(&d->pl) > 0)
			pipeline_flush(&d->pl);
	}
	free(buf);
}

static void
log_totals(struct daemon *d)
{
	unsigned long long bad = 0;
	int r;

	for (r = 1; r < EVR_COUNT; r++)
		bad += READ(d->c.malformed[r]);
	log_notice("stopped: %llu messages received, %llu dropped (queue "
	    "full), %llu malformed, %llu without an anchor, %llu tags "
	    "inserted, %llu ttp.tagged published, %llu acked, %llu "
	    "dead-lettered, %llu store failures", READ(d->c.received),
	    READ(d->c.queue_dropped), bad, READ(d->c.no_anchor),
	    READ(d->c.tags_inserted), READ(d->c.tagged_published),
	    READ(d->c.acked), READ(d->c.dead_lettered),
	    READ(d->c.store_failures));
}

int
daemon_run(struct daemon_env *env)
{
	struct daemon d;
	struct store_options so;
	const struct config *cfg = env->cfg;
	char err[1024];
	int rc = 1;

	memset(&d, 0, sizeof d);
	d.env = env;
	d.js = cfg->bus_mode == CONF_BUS_JETSTREAM;
	d.max_deliver = cfg->bus_max_deliver;
	d.dead_letter = xstrdup(cfg->bus_dead_letter);
	/* messages per transaction at most: core, store.batch_size;
	 * JetStream, one fetched batch */
	d.max_units = d.js ? (size_t)cfg->bus_fetch_batch + 1 :
	    (size_t)cfg->store_batch_size;
	pthread_mutex_init(&d.lock, NULL);
	d.drop_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(10, 1);
	d.bad_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(10, 10);
	d.pub_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(60, 5);
	d.store_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(60, 5);
	d.stats_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(300, 1);
	if (getrandom(d.rng, sizeof d.rng, 0) != sizeof d.rng) {
		d.rng[0] = (uint64_t)epoch_s() * 2654435761u ^ (uint64_t)getpid();
		d.rng[1] = ~d.rng[0];
	}
	d.rng[0] |= 1;
	queue_init(&d.q, (size_t)cfg->bus_queue_size);

	startup_store_options(cfg, &so);
	if ((d.wstore = store_open(cfg->store_path, &so, err,
	    sizeof err)) == NULL) {
		log_err("%s", err);
		goto out;
	}
	pipeline_init(&d.pl, env->reg, d.wstore);
	d.pl.on_commit = on_commit;
	d.pl.commit_ud = &d;
	apply_env(&d);
	if (pipeline_start_writer(&d.pl) != 0)
		goto out_pl;

	if ((d.bus = bus_open(cfg, err, sizeof err)) == NULL) {
		log_err("%s", err);
		goto out_pl;
	}
	if (subscribe_all(&d) != 0)
		goto out_bus;
	if (env->opened != NULL && env->opened(env) != 0)
		goto out_bus;
	d.rl = reloader_new(env, publish_rule_change, &d);
	log_notice("ttpd %s running (pid %ld, %s mode)", PACKAGE_VERSION,
	    (long)getpid(), d.js ? "jetstream" : "core");
	rc = 0;
	if (d.js)
		run_jetstream(&d);
	else
		run_core(&d);
	log_info("stopping: committing what was received");
out_bus:
	/* last batch: commit, publish, ack; then push it all out */
	pipeline_finish(&d.pl);
	reloader_free(d.rl);
	d.rl = NULL;
	if (bus_connected(d.bus) && bus_flush(d.bus, 5000) != 0)
		log_warn("bus: %s", bus_last_error());
	bus_close(d.bus, 5000);
	d.bus = NULL;
	if (rc == 0) {
		log_totals(&d);
		/* the last counters, marked stopped, for ttpctl status */
		if (d.env->cfg->stats_file != NULL) {
			ttpd_value *p = health_payload(&d, "stopped");

			write_stats(&d, p);
			jv_decref(p);
		}
	}
out_pl:
	pipeline_free(&d.pl);
out:
	store_close(d.wstore);
	queue_free(&d.q);
	free(d.dead_letter);
	pthread_mutex_destroy(&d.lock);
	return rc;
}

/* ------------------------------------------------- intel catch-up */

struct intel_build {
	ttpd_value *obj;
};

/* Keys of the catch-up payload (decnet-host.md 2.2 step 4). */
static const char *const intel_keys[] = {
	"attacker_uuid", "attacker_ip", "aggregate_verdict",
	"abuseipdb_score", "abuseipdb_categories", "greynoise_classification",
	"greynoise_name", "greynoise_tags", "feodo_listed",
	"feodo_malware_family", "threatfox_listed", "threatfox_threat_types",
	"threatfox_ioc_types", "threatfox_malware_families", NULL
};

static void
intel_column(void *ud, const char *col, int type, const char *text,
    int64_t i, double r)
{
	struct intel_build *ib = ud;
	const char *const *k;
	ttpd_value *v = NULL;
	char err[64];

	for (k = intel_keys; *k != NULL; k++)
		if (strcmp(*k, col) == 0)
			break;
	if (*k == NULL)
		return;
	switch (type) {
	case STORE_COL_INT:
		v = jv_new_int(i);
		break;
	case STORE_COL_REAL:
		v = jv_new_real(r);
		break;
	case STORE_COL_TEXT:
		/* lists are stored as JSON text */
		if (text[0] == '[' || text[0] == '{')
			v = jv_parse(text, strlen(text), err, sizeof err);
		if (v == NULL)
			v = jv_new_string(text, strlen(text));
		break;
	default:
		break;
	}
	jv_object_set_new(ib->obj, col, v != NULL ? v : jv_new_null());
}

static ttpd_value *
intel_lookup(void *ud, const char *attacker_uuid)
{
	struct intel_build ib;
	int rc;

	ib.obj = jv_new_object();
	rc = store_attacker_intel(ud, attacker_uuid, intel_column, &ib);
	if (rc != 1) {
		if (rc < 0)
			log_warn("intel catch-up for %s: %s", attacker_uuid,
			    store_error(ud));
		jv_decref(ib.obj);
		return NULL;
	}
	/* DECNET's feodo/threatfox flags are booleans stored as 0/1 */
	return ib.obj;
}
