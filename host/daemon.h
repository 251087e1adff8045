/*
 * The live daemon: NATS messages -> bounded queue -> tagging thread ->
 * store writer -> ttp.tagged / ttp.rule.fired.<T> -> JetStream ack.
 *
 * Core mode: subscription callbacks push raw messages into a bounded
 * queue (full: the message is dropped, counted and logged, rate-limited);
 * the calling thread tags them and flushes a batch whenever the queue runs
 * empty or the batch is full.  JetStream mode: the calling thread fetches
 * bus.fetch_batch messages at a time from a durable pull consumer; each
 * fetched batch is one transaction and its messages are acknowledged only
 * after the commit (it fetches again only once it has room, so a slow
 * store simply slows the fetching).
 */
#ifndef TTPD_DAEMON_H
#define TTPD_DAEMON_H

#include <signal.h>

struct config;
struct registry;
struct ruleset;
struct store;

struct daemon_env {
	/* current configuration, plugins and the tagging thread's own store
	 * connection (anchor and intel lookups); reload() replaces them */
	struct config *cfg;
	struct registry *reg;
	struct store *lookup_store;
	/*
	 * Re-read the configuration, plugins and rules (SIGHUP, "reload"
	 * control message).  Called between batches, with no batch in
	 * flight.  0: the fields above now point at the new ones; -1: the
	 * old ones stay in force (the reason is logged).
	 */
	int (*reload)(struct daemon_env *env);
	/*
	 * Optional: called once everything that may need root is open (the
	 * store connections, the bus connection and its subscriptions),
	 * before the first message is handled; ttpd drops privileges here.
	 * -1 stops the daemon (exit status 1).
	 */
	int (*opened)(struct daemon_env *env);
	void *ud;
	/* the loaded rules (owned by the caller, like reg; NULL: no hot
	 * reload of rule files and states, see host/reload.h) */
	struct ruleset *rules;
};

/* Set from signal handlers: stop (SIGTERM/SIGINT), reload (SIGHUP). */
extern volatile sig_atomic_t daemon_stop_requested;
extern volatile sig_atomic_t daemon_reload_requested;

/*
 * Run until a stop is requested (signal or {"action":"stop"} on
 * system.ttp.control), then drain: stop receiving, tag what was received,
 * commit, acknowledge, flush the publishes and close.  Returns the exit
 * status (0, or 1 when the bus or the store could not be set up).
 */
int daemon_run(struct daemon_env *env);

#endif
