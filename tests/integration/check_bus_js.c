/*
 * ttpd on JetStream: a durable pull consumer, ack after commit.  A daemon
 * killed with SIGKILL, a nats-server killed and restarted, poison
 * messages and a store that refuses writes: every tag ends up stored
 * exactly once, nothing stays unacknowledged, poison goes to the dead
 * letter subject.
 *
 * N is 20 000 rather than the 50 000: the kill lands in the
 * middle of the run either way (it waits for a quarter of the rows), and
 * the suite stays within a few seconds per test.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "natsfx.h"
#include "testutil.h"

#define ROWS "SELECT count(*) FROM ttp_tag"
#define JS_BUS "mode = \"jetstream\"; fetch_batch = 500; ack_wait_s = 2;" \
	" max_deliver = 3;"

static jsCtx *
js_of(struct fx *f)
{
	jsCtx *js = NULL;
	jsOptions o;

	jsOptions_Init(&o);
	o.PublishAsync.MaxPending = 4000;
	ck_assert(natsConnection_JetStream(&js, f->nc, &o) == NATS_OK);
	return js;
}

static void
js_publish_sessions(jsCtx *js, int from, int to)
{
	char *env;
	int i;

	for (i = from; i < to; i++) {
		env = fx_session_env(i);
		ck_assert(js_PublishAsync(js, "attacker.session.ended", env,
		    (int)strlen(env), NULL) == NATS_OK);
		free(env);
	}
	ck_assert(js_PublishAsyncComplete(js, NULL) == NATS_OK);
}

/* Wait until the consumer has nothing pending and nothing unacked. */
static void
assert_consumer_empty(struct fx *f, jsCtx *js)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr;
	uint64_t pending = 1;
	int64_t ackpending = 1;
	int i;

	for (i = 0; i < 200; i++) {
		if (js_GetConsumerInfo(&ci, js, "DECNET", "ttpd", NULL,
		    &jerr) == NATS_OK) {
			pending = ci->NumPending;
			ackpending = ci->NumAckPending;
			jsConsumerInfo_Destroy(ci);
			if (pending == 0 && ackpending == 0)
				return;
		}
		usleep(100000);
	}
	ck_abort_msg("consumer not drained: %llu pending, %lld unacked",
	    (unsigned long long)pending, (long long)ackpending);
}

/* Messages delivered to ttpd and not acknowledged (-1: no answer). */
static int64_t
consumer_unacked(jsCtx *js)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr;
	int64_t n;

	if (js_GetConsumerInfo(&ci, js, "DECNET", "ttpd", NULL, &jerr) !=
	    NATS_OK)
		return -1;
	n = ci->NumAckPending;
	jsConsumerInfo_Destroy(ci);
	return n;
}

START_TEST(test_js_kill9_and_restart)
{
	enum { N = 20000 };
	struct fx f;
	jsCtx *js;
	long rows_at_kill;

	fx_setup(&f, JS_BUS, NULL);
	fx_ttpd_start(&f, 0, 1);
	js = js_of(&f);
	js_publish_sessions(js, 0, N);
	rows_at_kill = fx_wait_count(&f, ROWS, N / 4, 60);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGKILL), 128 + SIGKILL);
	ck_assert_msg(rows_at_kill < N, "killed too late (%ld rows)",
	    rows_at_kill);
	fx_ttpd_start(&f, 0, 1);
	ck_assert_int_eq(fx_wait_count(&f, ROWS, N, 90), N);
	ck_assert_int_eq(fx_count(&f, "SELECT count(DISTINCT source_id) "
	    "FROM ttp_tag"), N);
	assert_consumer_empty(&f, js);
	/* redelivered events insert nothing: never a second ttp.tagged */
	ck_assert_int_le(fx_count_out(&f, "ttp.tagged", 1000), N);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	ck_assert_int_eq(fx_count(&f, ROWS), N);
	jsCtx_Destroy(js);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_js_server_restart)
{
	enum { N = 20000 };
	struct fx f;
	jsCtx *js;
	char *log;

	fx_setup(&f, JS_BUS, NULL);
	fx_ttpd_start(&f, 0, 1);
	js = js_of(&f);
	js_publish_sessions(js, 0, N);
	fx_wait_count(&f, ROWS, N / 4, 60);
	fx_nats_stop(&f, SIGKILL);
	usleep(500000);
	fx_nats_start(&f); /* same port, same store */
	ck_assert_int_eq(fx_wait_count(&f, ROWS, N, 90), N);
	ck_assert_int_eq(fx_count(&f, "SELECT count(DISTINCT source_id) "
	    "FROM ttp_tag"), N);
	assert_consumer_empty(&f, js);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	/* the outage was logged once when it began and once when it
	 * ended */
	log = fx_ttpd_log(&f, 0);
	{
		const char *p = strstr(log, "bus: connection lost");

		ck_assert_msg(p != NULL && strstr(p + 1,
		    "bus: connection lost") == NULL, "%s", log);
		p = strstr(log, "bus: reconnected to nats://127.0.0.1:");
		ck_assert_msg(p != NULL && strstr(p + 1, "bus: reconnected")
		    == NULL, "%s", log);
	}
	free(log);
	jsCtx_Destroy(js);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_js_poison_to_dead_letter)
{
	struct fx f;
	natsSubscription *dl;
	natsMsg *m;
	jsCtx *js;
	const char *v;
	char *env;

	fx_setup(&f, JS_BUS, NULL);
	/* fail fast on the lock below */
	f.store_extra = "busy_timeout_ms = 100;";
	fx_write_conf(&f, JS_BUS, NULL);
	ck_assert(natsConnection_SubscribeSync(&dl, f.nc,
	    "ttpd.dead_letter") == NATS_OK);
	fx_ttpd_start(&f, 0, 1);
	js = js_of(&f);
	ck_assert(js_PublishAsync(js, "attacker.session.ended", "{oops", 5,
	    NULL) == NATS_OK);
	ck_assert(js_PublishAsync(js, "email.received", "[]", 2, NULL) ==
	    NATS_OK);
	js_publish_sessions(js, 0, 10);
	ck_assert(natsSubscription_NextMsg(&m, dl, 10000) == NATS_OK);
	ck_assert_str_eq(natsMsg_GetData(m), "{oops");
	ck_assert(natsMsgHeader_Get(m, "Ttpd-Reason", &v) == NATS_OK);
	ck_assert_str_eq(v, "not_json");
	ck_assert(natsMsgHeader_Get(m, "Ttpd-Subject", &v) == NATS_OK);
	ck_assert_str_eq(v, "attacker.session.ended");
	ck_assert(natsMsgHeader_Get(m, "Ttpd-Stream-Seq", &v) == NATS_OK);
	ck_assert_str_eq(v, "1");
	natsMsg_Destroy(m);
	ck_assert(natsSubscription_NextMsg(&m, dl, 10000) == NATS_OK);
	ck_assert(natsMsgHeader_Get(m, "Ttpd-Reason", &v) == NATS_OK);
	ck_assert_str_eq(v, "not_object");
	natsMsg_Destroy(m);
	/* the stream keeps flowing */
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 10, 30), 10);
	assert_consumer_empty(&f, js);

	/*
	 * A store that refuses writes (another connection holds the write
	 * lock): the message is redelivered, and after max_deliver (3)
	 * attempts it goes to the dead letter subject with the reason.
	 */
	{
		char path[1024];
		sqlite3 *db;

		snprintf(path, sizeof path, "%s/ttpd.db", f.dir);
		ck_assert(sqlite3_open(path, &db) == SQLITE_OK);
		ck_assert(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL,
		    NULL) == SQLITE_OK);
		env = fx_session_env(500);
		ck_assert(js_PublishAsync(js, "attacker.session.ended", env,
		    (int)strlen(env), NULL) == NATS_OK);
		ck_assert(js_PublishAsyncComplete(js, NULL) == NATS_OK);
		free(env);
		ck_assert(natsSubscription_NextMsg(&m, dl, 60000) ==
		    NATS_OK);
		ck_assert(natsMsgHeader_Get(m, "Ttpd-Reason", &v) ==
		    NATS_OK);
		ck_assert_str_eq(v, "store_failed");
		ck_assert(natsMsgHeader_Get(m, "Ttpd-Deliveries", &v) ==
		    NATS_OK);
		ck_assert_str_eq(v, "3");
		natsMsg_Destroy(m);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	js_publish_sessions(js, 10, 20);
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 20, 30), 20);
	assert_consumer_empty(&f, js);
	ck_assert(fx_ttpd_alive(&f, 0));
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	natsSubscription_Destroy(dl);
	jsCtx_Destroy(js);
	fx_teardown(&f);
}
END_TEST

/*
 * A daemon that keeps dying on its messages: with max_deliver = 1, every
 * message it held unacknowledged when killed comes back once, is not
 * tried again but copied to the dead letter subject.  Every event ends up
 * either tagged or dead-lettered; the consumer is left empty.
 */
START_TEST(test_js_crash_loop_dead_letter)
{
	enum { BATCH = 5000, TRIES = 5, N = BATCH * TRIES };
	struct fx f;
	natsSubscription *dl;
	natsMsg *m;
	jsCtx *js;
	sqlite3 *db;
	sqlite3_stmt *st;
	unsigned char *seen = calloc(N, 1);
	char path[1024];
	const char *p, *v;
	long n, covered = 0, dead = 0;
	int64_t unacked = 0;
	int i, published = 0;

	fx_setup(&f, "mode = \"jetstream\"; fetch_batch = 500; "
	    "ack_wait_s = 1; max_deliver = 1;", NULL);
	ck_assert(natsConnection_SubscribeSync(&dl, f.nc,
	    "ttpd.dead_letter") == NATS_OK);
	natsSubscription_SetPendingLimits(dl, -1, -1);
	js = NULL;
	/* a kill after a fifth of a batch is tagged; a ttpd fast enough to
	 * have acknowledged all of it by then gets another batch */
	while (unacked == 0 && published < N) {
		fx_ttpd_start(&f, 0, 1);
		if (js == NULL)
			js = js_of(&f);
		js_publish_sessions(js, published, published + BATCH);
		fx_wait_count(&f, ROWS, published + BATCH / 5, 60);
		ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGKILL), 128 + SIGKILL);
		published += BATCH;
		unacked = consumer_unacked(js);
		ck_assert(unacked >= 0);
	}
	ck_assert_msg(unacked > 0, "%d kills left nothing unacknowledged",
	    N / BATCH);
	fx_ttpd_start(&f, 0, 1);
	assert_consumer_empty(&f, js);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	while (natsSubscription_NextMsg(&m, dl, 1000) == NATS_OK) {
		ck_assert(natsMsgHeader_Get(m, "Ttpd-Reason", &v) == NATS_OK);
		ck_assert_str_eq(v, "max_deliver");
		p = strstr(natsMsg_GetData(m), "\"session_id\":\"sess-");
		ck_assert(p != NULL);
		n = strtol(p + 19, NULL, 10);
		ck_assert(n >= 0 && n < published);
		seen[n] = 1;
		dead++;
		natsMsg_Destroy(m);
	}
	snprintf(path, sizeof path, "%s/ttpd.db", f.dir);
	ck_assert(sqlite3_open(path, &db) == SQLITE_OK);
	ck_assert(sqlite3_prepare_v2(db, "SELECT source_id FROM ttp_tag", -1,
	    &st, NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		n = strtol((const char *)sqlite3_column_text(st, 0) + 5, NULL,
		    10);
		ck_assert(n >= 0 && n < published);
		seen[n] = 1;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	for (i = 0; i < published; i++)
		covered += seen[i];
	ck_assert_int_eq(covered, published);
	ck_assert_int_ge(dead, 1);
	free(seen);
	natsSubscription_Destroy(dl);
	jsCtx_Destroy(js);
	fx_teardown(&f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("bus_jetstream");
	TCase *tc = tcase_create("jetstream");
	SRunner *sr;
	int failed;

	fx_init_runner();
	/* runs in this process after the tests, even after a failed one */
	tcase_add_unchecked_fixture(tc, NULL, fx_cleanup_runner);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_js_poison_to_dead_letter);
	tcase_add_test(tc, test_js_kill9_and_restart);
	tcase_add_test(tc, test_js_server_restart);
	tcase_add_test(tc, test_js_crash_loop_dead_letter);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
