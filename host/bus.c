/*
 * The NATS bus (libnats 3.4): connection, core subscriptions, publish,
 * and the JetStream durable pull consumer.  The only module that includes
 * nats.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "bus.h"
#include "conf.h"
#include "log.h"
#include "xmalloc.h"

#define DEFAULT_SERVER "nats://127.0.0.1:4222"

struct bus_msg {
	natsMsg *msg;
	int js;           /* from the JetStream consumer */
	jsMsgMetaData *meta; /* read on first use */
};

struct core_sub {
	natsSubscription *sub;
	bus_msg_fn fn;
	void *ud;
};

/*
 * Connection state written by libnats threads.  Its callbacks may still
 * run after natsConnection_Destroy() returns, so this part outlives the
 * bus: it is freed by bus_library_cleanup(), after nats_CloseAndWait().
 */
struct bus_cbstate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int closing;          /* bus_close() started: callbacks stay quiet */
	int ever_connected;
	int down;             /* an outage was logged and has not ended */
	int64_t down_since_ms;
	int64_t reconnect_wait_ms, reconnect_max_wait_ms;
	atomic_uint_fast64_t slow_consumer_errors;
	struct log_ratelimit errlog;
	struct bus_cbstate *next_retired;
};

struct bus {
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *pull;
	struct core_sub **subs;
	size_t nsubs;
	struct bus_cbstate *cb;
};

static pthread_mutex_t retired_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bus_cbstate *retired;

static _Thread_local char last_error[512];

static void set_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
}

const char *
bus_last_error(void)
{
	return last_error;
}

/* "status text (library detail)" of the last libnats failure. */
static void
nats_error(char *err, size_t errlen, const char *what, natsStatus s)
{
	const char *detail = nats_GetLastError(NULL);

	snprintf(err, errlen, "%s: %s%s%s%s", what, natsStatus_GetText(s),
	    detail != NULL && detail[0] != '\0' ? " (" : "",
	    detail != NULL ? detail : "",
	    detail != NULL && detail[0] != '\0' ? ")" : "");
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The URL we are connected to, without user:password@ (never logged). */
static void
connected_url(natsConnection *nc, char *out, size_t outlen)
{
	char url[512];
	char *at, *scheme;

	if (natsConnection_GetConnectedUrl(nc, url, sizeof url) != NATS_OK ||
	    url[0] == '\0') {
		snprintf(out, outlen, "the server");
		return;
	}
	scheme = strstr(url, "://");
	at = strrchr(url, '@');
	if (scheme != NULL && at != NULL && at > scheme)
		snprintf(out, outlen, "%.*s%s", (int)(scheme + 3 - url), url,
		    at + 1);
	else
		snprintf(out, outlen, "%s", url);
}

static void
on_connected(natsConnection *nc, void *closure)
{
	struct bus_cbstate *b = closure;
	char url[512];

	connected_url(nc, url, sizeof url);
	pthread_mutex_lock(&b->lock);
	b->ever_connected = 1;
	if (b->down) {
		log_notice("bus: connected to %s after %.1f s", url,
		    (double)(now_ms() - b->down_since_ms) / 1000.0);
		b->down = 0;
	} else
		log_info("bus: connected to %s", url);
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static void
on_disconnected(natsConnection *nc, void *closure)
{
	struct bus_cbstate *b = closure;

	pthread_mutex_lock(&b->lock);
	/* once per outage, however many attempts fail */
	if (!b->down && b->ever_connected && !b->closing) {
		b->down = 1;
		b->down_since_ms = now_ms();
		log_warn("bus: connection lost; reconnecting (every %lld ms, "
		    "backing off to %lld ms)", (long long)b->reconnect_wait_ms,
		    (long long)b->reconnect_max_wait_ms);
	}
	pthread_mutex_unlock(&b->lock);
}

static void
on_reconnected(natsConnection *nc, void *closure)
{
	struct bus_cbstate *b = closure;
	char url[512];

	connected_url(nc, url, sizeof url);
	pthread_mutex_lock(&b->lock);
	if (b->down)
		log_notice("bus: reconnected to %s after %.1f s", url,
		    (double)(now_ms() - b->down_since_ms) / 1000.0);
	b->down = 0;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static void
on_closed(natsConnection *nc, void *closure)
{
	struct bus_cbstate *b = closure;

	pthread_mutex_lock(&b->lock);
	b->closing = 2;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static void
on_error(natsConnection *nc, natsSubscription *sub, natsStatus err,
    void *closure)
{
	struct bus_cbstate *b = closure;

	if (err == NATS_SLOW_CONSUMER) {
		atomic_fetch_add(&b->slow_consumer_errors, 1);
		pthread_mutex_lock(&b->lock);
		log_limited(&b->errlog, TTPD_LOG_WARNING, "bus: messages "
		    "dropped by the client library: ttpd is not keeping up "
		    "(slow consumer)");
		pthread_mutex_unlock(&b->lock);
		return;
	}
	pthread_mutex_lock(&b->lock);
	log_limited(&b->errlog, TTPD_LOG_WARNING, "bus: %s",
	    natsStatus_GetText(err));
	pthread_mutex_unlock(&b->lock);
}

/* Exponential backoff: wait, 2*wait, 4*wait ... up to the ceiling, with
 * up to 10% jitter so that several daemons do not retry in step. */
static int64_t
reconnect_delay(natsConnection *nc, int attempts, void *closure)
{
	struct bus_cbstate *b = closure;
	int64_t d = b->reconnect_wait_ms;
	int i;

	for (i = 1; i < attempts && d < b->reconnect_max_wait_ms; i++)
		d *= 2;
	if (d > b->reconnect_max_wait_ms)
		d = b->reconnect_max_wait_ms;
	return d + (int64_t)(rand() % (int)(d / 10 + 1));
}

/* Freed only by bus_library_cleanup(): see struct bus_cbstate. */
static void
retire(struct bus_cbstate *cb)
{
	pthread_mutex_lock(&retired_lock);
	cb->next_retired = retired;
	retired = cb;
	pthread_mutex_unlock(&retired_lock);
}

#define TRY(call, what)                                                    \
	do {                                                               \
		natsStatus s_ = (call);                                    \
		if (s_ != NATS_OK) {                                       \
			nats_error(err, errlen, (what), s_);               \
			goto fail;                                         \
		}                                                          \
	} while (0)

struct bus *
bus_open(const struct config *cfg, char *err, size_t errlen)
{
	static const char *const default_servers[] = { DEFAULT_SERVER };
	const char *const *servers = (const char *const *)cfg->bus_servers;
	size_t nservers = cfg->bus_nservers;
	natsOptions *o = NULL;
	struct bus_cbstate *cb;
	struct bus *b;
	natsStatus s;

	if (nservers == 0) {
		servers = default_servers;
		nservers = 1;
	}
	b = xcalloc(1, sizeof *b);
	cb = xcalloc(1, sizeof *cb);
	b->cb = cb;
	pthread_mutex_init(&cb->lock, NULL);
	pthread_cond_init(&cb->cond, NULL);
	cb->reconnect_wait_ms = cfg->bus_reconnect_wait_ms;
	cb->reconnect_max_wait_ms = cfg->bus_reconnect_max_wait_ms;
	cb->errlog = (struct log_ratelimit)LOG_RATELIMIT_INIT(60, 5);
	atomic_init(&cb->slow_consumer_errors, 0);

	TRY(natsOptions_Create(&o), "bus: cannot create options");
	TRY(natsOptions_SetServers(o, (const char **)servers,
	    (int)nservers), "bus.servers");
	TRY(natsOptions_SetNoRandomize(o, true), "bus.servers");
	TRY(natsOptions_SetName(o, cfg->bus_name), "bus.name");
	if (cfg->bus_user != NULL || cfg->bus_password != NULL)
		TRY(natsOptions_SetUserInfo(o, cfg->bus_user,
		    cfg->bus_password), "bus.user/bus.password");
	if (cfg->bus_token != NULL)
		TRY(natsOptions_SetToken(o, cfg->bus_token), "bus.token");
	if (cfg->bus_nkey_seed != NULL || cfg->bus_nkey != NULL) {
		if (cfg->bus_nkey_seed == NULL || cfg->bus_nkey == NULL) {
			snprintf(err, errlen, "bus.nkey and bus.nkey_seed go "
			    "together: set both (the public key and the seed "
			    "file) or neither");
			goto fail;
		}
		TRY(natsOptions_SetNKeyFromSeed(o, cfg->bus_nkey,
		    cfg->bus_nkey_seed), "bus.nkey_seed");
	}
	if (cfg->bus_creds != NULL)
		TRY(natsOptions_SetUserCredentialsFromFiles(o, cfg->bus_creds,
		    NULL), "bus.creds");
	if (cfg->bus_tls || cfg->bus_tls_ca != NULL ||
	    cfg->bus_tls_cert != NULL)
		TRY(natsOptions_SetSecure(o, true), "bus.tls");
	if (cfg->bus_tls_ca != NULL)
		TRY(natsOptions_LoadCATrustedCertificates(o, cfg->bus_tls_ca),
		    "bus.tls_ca");
	if (cfg->bus_tls_cert != NULL || cfg->bus_tls_key != NULL) {
		if (cfg->bus_tls_cert == NULL || cfg->bus_tls_key == NULL) {
			snprintf(err, errlen, "bus.tls_cert and bus.tls_key go "
			    "together: set both or neither");
			goto fail;
		}
		TRY(natsOptions_LoadCertificatesChain(o, cfg->bus_tls_cert,
		    cfg->bus_tls_key), "bus.tls_cert/bus.tls_key");
	}
	if (cfg->bus_tls_hostname != NULL)
		TRY(natsOptions_SetExpectedHostname(o, cfg->bus_tls_hostname),
		    "bus.tls_hostname");
	TRY(natsOptions_SetTimeout(o, cfg->bus_connect_timeout_ms),
	    "bus.connect_timeout_ms");
	TRY(natsOptions_SetMaxReconnect(o, -1), "bus: reconnect");
	TRY(natsOptions_SetReconnectWait(o, cfg->bus_reconnect_wait_ms),
	    "bus.reconnect_wait_ms");
	TRY(natsOptions_SetCustomReconnectDelay(o, reconnect_delay, cb),
	    "bus: reconnect");
	/* keep publishes made during an outage (bounded: 8 MiB) */
	TRY(natsOptions_SetReconnectBufSize(o, 8 * 1024 * 1024),
	    "bus: reconnect buffer");
	TRY(natsOptions_SetRetryOnFailedConnect(o, false, NULL, NULL),
	    "bus: connect");
	TRY(natsOptions_SetDisconnectedCB(o, on_disconnected, cb),
	    "bus: callbacks");
	TRY(natsOptions_SetReconnectedCB(o, on_reconnected, cb),
	    "bus: callbacks");
	TRY(natsOptions_SetClosedCB(o, on_closed, cb), "bus: callbacks");
	TRY(natsOptions_SetErrorHandler(o, on_error, cb), "bus: callbacks");
	/* one delivery thread for all subscriptions, in arrival order */
	TRY(natsOptions_UseGlobalMessageDelivery(o, true), "bus: delivery");
	/* a faster PING than the 2-minute default notices a dead server */
	TRY(natsOptions_SetPingInterval(o, 20000), "bus: ping");

	/*
	 * First a plain attempt: a refused password or certificate is a
	 * configuration error to report now, not something to retry
	 * silently.  Only an unreachable server is waited for.
	 */
	s = natsConnection_Connect(&b->nc, o);
	if (s == NATS_NO_SERVER || s == NATS_TIMEOUT ||
	    s == NATS_CONNECTION_DISCONNECTED || s == NATS_IO_ERROR) {
		b->nc = NULL;
		TRY(natsOptions_SetRetryOnFailedConnect(o, true, on_connected,
		    cb), "bus: connect");
		s = natsConnection_Connect(&b->nc, o);
	}
	if (s == NATS_NOT_YET_CONNECTED) {
		log_warn("bus: cannot reach %s%s yet; retrying in the "
		    "background", servers[0], nservers > 1 ? " (or the other "
		    "bus.servers)" : "");
		pthread_mutex_lock(&cb->lock);
		if (!cb->ever_connected) {
			cb->down = 1;
			cb->down_since_ms = now_ms();
		}
		pthread_mutex_unlock(&cb->lock);
	} else if (s != NATS_OK) {
		nats_error(err, errlen, "bus: cannot connect", s);
		goto fail;
	} else
		/* the connected callback only runs for a late connect */
		on_connected(b->nc, cb);
	natsOptions_Destroy(o);
	return b;
fail:
	natsOptions_Destroy(o);
	if (b->nc != NULL)
		natsConnection_Destroy(b->nc);
	retire(cb);
	free(b);
	return NULL;
}

int
bus_connected(const struct bus *b)
{
	return b != NULL && b->nc != NULL &&
	    natsConnection_Status(b->nc) == NATS_CONN_STATUS_CONNECTED;
}

int
bus_wait_connected(struct bus *b, int timeout_ms)
{
	struct timespec ts;
	int ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&b->cb->lock);
	while (!(ok = bus_connected(b)))
		if (pthread_cond_timedwait(&b->cb->cond, &b->cb->lock, &ts) !=
		    0)
			break;
	ok = bus_connected(b);
	pthread_mutex_unlock(&b->cb->lock);
	return ok;
}

static void
on_core_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
    void *closure)
{
	struct core_sub *cs = closure;
	struct bus_msg *m = xcalloc(1, sizeof *m);

	m->msg = msg;
	cs->fn(cs->ud, m);
}

int
bus_subscribe(struct bus *b, const char *subject, const char *queue,
    bus_msg_fn fn, void *ud, char *err, size_t errlen)
{
	struct core_sub *cs = xcalloc(1, sizeof *cs);
	natsStatus s;

	cs->fn = fn;
	cs->ud = ud;
	if (queue != NULL && queue[0] != '\0')
		s = natsConnection_QueueSubscribe(&cs->sub, b->nc, subject,
		    queue, on_core_msg, cs);
	else
		s = natsConnection_Subscribe(&cs->sub, b->nc, subject,
		    on_core_msg, cs);
	if (s != NATS_OK) {
		char what[300];

		snprintf(what, sizeof what, "bus: cannot subscribe to %s",
		    subject);
		nats_error(err, errlen, what, s);
		free(cs);
		return -1;
	}
	/* the library's own buffer in front of ours: bounded too */
	natsSubscription_SetPendingLimits(cs->sub, 65536, 64 * 1024 * 1024);
	b->subs = xreallocarray(b->subs, b->nsubs + 1, sizeof *b->subs);
	b->subs[b->nsubs++] = cs;
	return 0;
}

void
bus_unsubscribe_all(struct bus *b, int timeout_ms)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nsubs; i++)
		natsSubscription_DrainTimeout(b->subs[i]->sub, timeout_ms);
	for (i = 0; i < b->nsubs; i++) {
		natsSubscription_WaitForDrainCompletion(b->subs[i]->sub,
		    timeout_ms);
		natsSubscription_Destroy(b->subs[i]->sub);
		free(b->subs[i]);
	}
	free(b->subs);
	b->subs = NULL;
	b->nsubs = 0;
}

void
bus_drain_start(struct bus *b, int timeout_ms)
{
	size_t i;

	for (i = 0; i < b->nsubs; i++)
		natsSubscription_DrainTimeout(b->subs[i]->sub, timeout_ms);
}

int
bus_drain_done(struct bus *b)
{
	size_t i;

	for (i = 0; i < b->nsubs; i++)
		if (natsSubscription_IsValid(b->subs[i]->sub))
			return 0;
	return 1;
}

uint64_t
bus_dropped(struct bus *b)
{
	uint64_t total = 0;
	int64_t n;
	size_t i;

	for (i = 0; i < b->nsubs; i++)
		if (natsSubscription_GetDropped(b->subs[i]->sub, &n) ==
		    NATS_OK && n > 0)
			total += (uint64_t)n;
	return total;
}

int
bus_publish(struct bus *b, const char *subject, const void *data,
    size_t len, const char *const *hdrs)
{
	natsMsg *msg = NULL;
	natsStatus s;

	if (hdrs == NULL)
		s = natsConnection_Publish(b->nc, subject, data, (int)len);
	else {
		s = natsMsg_Create(&msg, subject, NULL, data, (int)len);
		for (; s == NATS_OK && hdrs[0] != NULL && hdrs[1] != NULL;
		    hdrs += 2)
			s = natsMsgHeader_Set(msg, hdrs[0], hdrs[1]);
		if (s == NATS_OK)
			s = natsConnection_PublishMsg(b->nc, msg);
		natsMsg_Destroy(msg);
	}
	if (s != NATS_OK) {
		set_error("publish on %s: %s", subject, natsStatus_GetText(s));
		return -1;
	}
	return 0;
}

int
bus_flush(struct bus *b, int timeout_ms)
{
	natsStatus s;

	if (b == NULL || b->nc == NULL)
		return 0;
	s = natsConnection_FlushTimeout(b->nc, timeout_ms);
	if (s != NATS_OK) {
		set_error("flush: %s", natsStatus_GetText(s));
		return -1;
	}
	return 0;
}

void
bus_close(struct bus *b, int timeout_ms)
{
	if (b == NULL)
		return;
	bus_unsubscribe_all(b, timeout_ms);
	if (b->pull != NULL) {
		/* Destroy, not Unsubscribe: the durable stays */
		natsSubscription_Destroy(b->pull);
		b->pull = NULL;
	}
	if (b->nc != NULL && bus_connected(b))
		natsConnection_FlushTimeout(b->nc, timeout_ms);
	if (b->js != NULL)
		jsCtx_Destroy(b->js);
	pthread_mutex_lock(&b->cb->lock);
	b->cb->closing = 1;
	pthread_mutex_unlock(&b->cb->lock);
	if (b->nc != NULL) {
		natsConnection_Close(b->nc);
		natsConnection_Destroy(b->nc);
	}
	retire(b->cb);
	free(b);
}

void
bus_library_cleanup(void)
{
	struct bus_cbstate *cb;

	/* every library thread has ended after this: callbacks too */
	nats_CloseAndWait(2000);
	pthread_mutex_lock(&retired_lock);
	while ((cb = retired) != NULL) {
		retired = cb->next_retired;
		pthread_mutex_destroy(&cb->lock);
		pthread_cond_destroy(&cb->cond);
		free(cb);
	}
	pthread_mutex_unlock(&retired_lock);
}

/* ------------------------------------------------------------ JetStream */

static jsRetentionPolicy
retention_of(int r)
{
	switch (r) {
	case CONF_RETENTION_INTEREST:
		return js_InterestPolicy;
	case CONF_RETENTION_WORKQUEUE:
		return js_WorkQueuePolicy;
	default:
		return js_LimitsPolicy;
	}
}

int
bus_js_setup(struct bus *b, const struct bus_js_config *jc, char *err,
    size_t errlen)
{
	jsStreamInfo *si = NULL;
	jsConsumerInfo *ci = NULL;
	jsStreamConfig sc;
	jsConsumerConfig cc;
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;
	char what[300];

	if (b->js == NULL)
		TRY(natsConnection_JetStream(&b->js, b->nc, NULL),
		    "bus: JetStream context");

	s = js_GetStreamInfo(&si, b->js, jc->stream, NULL, &jerr);
	if (s == NATS_OK) {
		log_info("bus: bound to JetStream stream %s (%llu messages)",
		    jc->stream, (unsigned long long)si->State.Msgs);
		jsStreamInfo_Destroy(si);
	} else if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
		jsStreamConfig_Init(&sc);
		sc.Name = jc->stream;
		sc.Subjects = (const char **)jc->subjects;
		sc.SubjectsLen = (int)jc->nsubjects;
		sc.Retention = retention_of(jc->retention);
		sc.Storage = js_FileStorage;
		jerr = 0;
		s = js_AddStream(NULL, b->js, &sc, NULL, &jerr);
		if (s != NATS_OK) {
			snprintf(what, sizeof what, "bus: cannot create "
			    "JetStream stream %s (server error %d)",
			    jc->stream, (int)jerr);
			nats_error(err, errlen, what, s);
			goto fail;
		}
		log_notice("bus: created JetStream stream %s", jc->stream);
	} else {
		snprintf(what, sizeof what, "bus: cannot look up JetStream "
		    "stream %s (server error %d; is JetStream enabled?)",
		    jc->stream, (int)jerr);
		nats_error(err, errlen, what, s);
		goto fail;
	}

	/* Created here, bound below: a consumer created by the subscribe
	 * call would be deleted when the subscription goes away. */
	jsConsumerConfig_Init(&cc);
	cc.Durable = jc->consumer;
	cc.AckPolicy = js_AckExplicit;
	cc.DeliverPolicy = js_DeliverAll;
	cc.AckWait = jc->ack_wait_s * INT64_C(1000000000); /* ns */
	/* unlimited here: the daemon counts deliveries itself and dead-
	 * letters a message past bus.max_deliver (a server-side limit would
	 * silently drop a message whose daemon kept dying on it) */
	cc.MaxDeliver = -1;
	cc.MaxAckPending = jc->max_ack_pending;
	jerr = 0;
	s = js_AddConsumer(&ci, b->js, jc->stream, &cc, NULL, &jerr);
	if (s != NATS_OK) {
		snprintf(what, sizeof what, "bus: cannot create durable "
		    "consumer %s on stream %s (server error %d)",
		    jc->consumer, jc->stream, (int)jerr);
		nats_error(err, errlen, what, s);
		goto fail;
	}
	log_info("bus: durable consumer %s on %s: %llu pending, %d awaiting "
	    "ack", jc->consumer, jc->stream,
	    (unsigned long long)ci->NumPending, (int)ci->NumAckPending);
	jsConsumerInfo_Destroy(ci);

	if (b->pull == NULL) {
		jsSubOptions_Init(&so);
		so.Stream = jc->stream;
		so.Consumer = jc->consumer;
		jerr = 0;
		s = js_PullSubscribe(&b->pull, b->js, jc->subjects[0],
		    jc->consumer, NULL, &so, &jerr);
		if (s != NATS_OK) {
			b->pull = NULL;
			snprintf(what, sizeof what, "bus: cannot bind to "
			    "consumer %s (server error %d)", jc->consumer,
			    (int)jerr);
			nats_error(err, errlen, what, s);
			goto fail;
		}
	}
	return 0;
fail:
	return -1;
}

int
bus_js_fetch(struct bus *b, struct bus_msg **out, int max, int timeout_ms)
{
	natsMsgList list = { NULL, 0 };
	jsErrCode jerr = 0;
	natsStatus s;
	int i, n = 0;

	if (b->pull == NULL)
		return -1;
	s = natsSubscription_Fetch(&list, b->pull, max, timeout_ms, &jerr);
	if (s == NATS_TIMEOUT || s == NATS_CONNECTION_DISCONNECTED ||
	    s == NATS_CONNECTION_CLOSED || s == NATS_NO_RESPONDERS) {
		natsMsgList_Destroy(&list);
		return 0;
	}
	if (s != NATS_OK) {
		natsMsgList_Destroy(&list);
		pthread_mutex_lock(&b->cb->lock);
		log_limited(&b->cb->errlog, TTPD_LOG_WARNING, "bus: JetStream "
		    "fetch failed: %s (server error %d)",
		    natsStatus_GetText(s), (int)jerr);
		pthread_mutex_unlock(&b->cb->lock);
		return -1;
	}
	for (i = 0; i < list.Count && n < max; i++) {
		struct bus_msg *m = xcalloc(1, sizeof *m);

		m->msg = list.Msgs[i];
		m->js = 1;
		list.Msgs[i] = NULL; /* ours now */
		out[n++] = m;
	}
	natsMsgList_Destroy(&list);
	return n;
}

const char *
bus_msg_subject(const struct bus_msg *m)
{
	return natsMsg_GetSubject(m->msg);
}

const char *
bus_msg_data(const struct bus_msg *m, size_t *len)
{
	int n = natsMsg_GetDataLength(m->msg);

	*len = n > 0 ? (size_t)n : 0;
	return natsMsg_GetData(m->msg);
}

static jsMsgMetaData *
meta_of(struct bus_msg *m)
{
	if (!m->js)
		return NULL;
	if (m->meta == NULL && natsMsg_GetMetaData(&m->meta, m->msg) !=
	    NATS_OK)
		m->meta = NULL;
	return m->meta;
}

uint64_t
bus_msg_delivered(struct bus_msg *m)
{
	jsMsgMetaData *md = meta_of(m);

	return md != NULL ? md->NumDelivered : 0;
}

uint64_t
bus_msg_stream_seq(struct bus_msg *m)
{
	jsMsgMetaData *md = meta_of(m);

	return md != NULL ? md->Sequence.Stream : 0;
}

static int
ack_result(natsStatus s, const char *what)
{
	if (s == NATS_OK)
		return 0;
	set_error("%s: %s", what, natsStatus_GetText(s));
	return -1;
}

int
bus_msg_ack(struct bus_msg *m)
{
	return m->js ? ack_result(natsMsg_Ack(m->msg, NULL), "ack") : 0;
}

int
bus_msg_nak(struct bus_msg *m, int64_t nak_delay_ms)
{
	if (!m->js)
		return 0;
	if (nak_delay_ms > 0)
		return ack_result(natsMsg_NakWithDelay(m->msg, nak_delay_ms,
		    NULL), "nak");
	return ack_result(natsMsg_Nak(m->msg, NULL), "nak");
}

int
bus_msg_term(struct bus_msg *m)
{
	return m->js ? ack_result(natsMsg_Term(m->msg, NULL), "term") : 0;
}

void
bus_msg_free(struct bus_msg *m)
{
	if (m == NULL)
		return;
	if (m->meta != NULL)
		jsMsgMetaData_Destroy(m->meta);
	natsMsg_Destroy(m->msg);
	free(m);
}
