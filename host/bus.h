/*
 * The NATS bus: the only module that includes nats.h.  No libnats type
 * crosses this header.
 *
 * One connection per process.  It reconnects forever with an exponential
 * backoff (bus.reconnect_wait_ms doubling up to bus.reconnect_max_wait_ms);
 * an outage is logged once when it starts and once when it ends.  Core
 * subscriptions deliver on one library thread through a callback; the
 * JetStream side is a durable pull consumer created with js_AddConsumer
 * and bound (never created by the subscribe call, which would delete it
 * on unsubscribe in libnats 3.4).
 */
#ifndef TTPD_BUS_H
#define TTPD_BUS_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct bus;
struct bus_msg; /* one received message, owned by whoever holds it */

/*
 * Connect with the bus.* settings of cfg.  A server that is not up yet is
 * not an error: the connection is retried in the background (forever) and
 * bus_connected() says when it is there.  Returns NULL with a message in
 * err only for settings libnats refuses (a bad URL, an unreadable
 * certificate or credentials file).
 */
struct bus *bus_open(const struct config *cfg, char *err, size_t errlen);

/* Drain the subscriptions (waiting up to timeout_ms), flush what was
 * published, close and free.  NULL is accepted. */
void bus_close(struct bus *b, int timeout_ms);

/* Free libnats' process-wide state (at exit, after every bus_close()). */
void bus_library_cleanup(void);

/* 1 when connected right now. */
int bus_connected(const struct bus *b);

/* Wait up to timeout_ms for the (first) connection: 1 connected, 0 not. */
int bus_wait_connected(struct bus *b, int timeout_ms);

/*
 * Core subscription; `queue` NULL or "" for none.  fn runs on a libnats
 * thread and owns the message it is given (bus_msg_free()).  Returns 0,
 * or -1 with a message in err.
 */
typedef void (*bus_msg_fn)(void *ud, struct bus_msg *m);
int bus_subscribe(struct bus *b, const char *subject, const char *queue,
    bus_msg_fn fn, void *ud, char *err, size_t errlen);

/* Stop every core subscription's delivery (drain), waiting up to
 * timeout_ms for the messages already received to be handed over. */
void bus_unsubscribe_all(struct bus *b, int timeout_ms);

/* Start draining every core subscription (non-blocking): no new
 * messages, the ones already received are still delivered. */
void bus_drain_start(struct bus *b, int timeout_ms);
/* 1 once every subscription has finished draining. */
int bus_drain_done(struct bus *b);

/* Messages the library dropped because a subscription's buffer was full
 * (slow consumer), since the start. */
uint64_t bus_dropped(struct bus *b);

/*
 * Publish (buffered; the library flushes it).  hdrs: NULL, or
 * NULL-terminated key, value pairs sent as NATS headers.  Returns 0, or
 * -1 (the reason is logged by the caller from bus_last_error()).
 */
int bus_publish(struct bus *b, const char *subject, const void *data,
    size_t len, const char *const *hdrs);
/* Push buffered publishes and acks to the server: 0 or -1. */
int bus_flush(struct bus *b, int timeout_ms);
/* Text of the last error of this thread's bus call. */
const char *bus_last_error(void);

/* JetStream. */
struct bus_js_config {
	const char *stream;               /* stream name */
	const char *const *subjects;      /* used when the stream is created */
	size_t nsubjects;
	int retention;                    /* CONF_RETENTION_* */
	const char *consumer;             /* durable name */
	int64_t ack_wait_s;
	int64_t max_ack_pending;
};

/*
 * Bind to the stream (create it when missing), create or update the
 * durable pull consumer and bind a pull subscription to it.  Needs a live
 * connection.  Returns 0, or -1 with a message in err.
 */
int bus_js_setup(struct bus *b, const struct bus_js_config *jc, char *err,
    size_t errlen);

/*
 * Fetch up to max messages, waiting up to timeout_ms for the first.
 * Fills out[] (the caller owns each message) and returns the count (0 on
 * timeout or while disconnected), or -1 on another error (logged).
 */
int bus_js_fetch(struct bus *b, struct bus_msg **out, int max,
    int timeout_ms);

/* A message: its subject and body (valid until bus_msg_free()). */
const char *bus_msg_subject(const struct bus_msg *m);
const char *bus_msg_data(const struct bus_msg *m, size_t *len);
/* JetStream delivery count (1 on first delivery), 0 for core messages;
 * stream sequence, 0 for core. */
uint64_t bus_msg_delivered(struct bus_msg *m);
uint64_t bus_msg_stream_seq(struct bus_msg *m);
/* JetStream acknowledgements (no-ops returning 0 on core messages).
 * nak_delay_ms 0 redelivers at once. */
int bus_msg_ack(struct bus_msg *m);
int bus_msg_nak(struct bus_msg *m, int64_t nak_delay_ms);
int bus_msg_term(struct bus_msg *m);
void bus_msg_free(struct bus_msg *m);

#endif
