/*
 * Input lines to tagger events: the exact topic table, envelope checks,
 * anchor resolution, source_id priority and stringification, and the
 * session fan-out (decnet-host.md 1.6, 2.2).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json.h"

static struct event_list out;
static char err[256];

static void
setup(void)
{
	event_list_init(&out);
}

static void
teardown(void)
{
	event_list_free(&out);
}

static enum event_result
build(const char *text, const struct anchor_policy *ap)
{
	char perr[128];
	ttpd_value *v = jv_parse(text, strlen(text), perr, sizeof perr);
	enum event_result r;

	ck_assert_msg(v != NULL, "fixture does not parse: %s", perr);
	event_list_clear(&out);
	r = event_build(v, ap, &out, err, sizeof err);
	jv_decref(v);
	return r;
}

static const ttpd_event *
ev(size_t i)
{
	ck_assert_uint_lt(i, out.n);
	return &out.v[i].pub;
}

START_TEST(test_topic_table)
{
	ck_assert_str_eq(event_topic_kind("attacker.session.ended"), "session");
	ck_assert_str_eq(event_topic_kind("attacker.observed"), "session");
	ck_assert_str_eq(event_topic_kind("attacker.intel.enriched"), "intel");
	ck_assert_str_eq(event_topic_kind("attacker.fingerprinted"), "");
	ck_assert_str_eq(event_topic_kind("identity.formed"), "identity");
	ck_assert_str_eq(event_topic_kind("identity.merged"), "identity");
	ck_assert_str_eq(event_topic_kind("credential.reuse.detected"),
	    "credential");
	ck_assert_str_eq(event_topic_kind("email.received"), "email");
	ck_assert_str_eq(event_topic_kind("canary.tok1.triggered"),
	    "canary_fingerprint");
	ck_assert_str_eq(event_topic_kind("canary.x"), "canary_fingerprint");
	/* exact, not substring (DECNET matched "observed" anywhere) */
	ck_assert_ptr_null(event_topic_kind("canary"));
	ck_assert_ptr_null(event_topic_kind("canary."));
	ck_assert_ptr_null(event_topic_kind("x.attacker.observed"));
	ck_assert_ptr_null(event_topic_kind("attacker.observed.x"));
	ck_assert_ptr_null(event_topic_kind("something.session.ended"));
	ck_assert_ptr_null(event_topic_kind("ttp.tagged"));
	ck_assert_ptr_null(event_topic_kind(NULL));
}
END_TEST

START_TEST(test_tagger_event)
{
	ck_assert_int_eq(build("{\"source_kind\":\"command\",\"source_id\":"
	    "\"c\\u00e9\",\"attacker_uuid\":\"a\",\"identity_uuid\":null,"
	    "\"session_id\":\"s\",\"decky_id\":null,\"payload\":{\"k\":1}}",
	    NULL), EVENT_OK);
	ck_assert_uint_eq(out.n, 1);
	ck_assert_str_eq(ev(0)->source_kind, "command");
	ck_assert_str_eq(ev(0)->source_id, "c\xc3\xa9");
	ck_assert_str_eq(ev(0)->attacker_uuid, "a");
	ck_assert_ptr_null(ev(0)->identity_uuid);
	ck_assert_str_eq(ev(0)->session_id, "s");
	ck_assert_ptr_null(ev(0)->decky_id);
	ck_assert_uint_eq(ev(0)->size, sizeof(ttpd_event));
	ck_assert_int_eq(jv_type(jv_object_get(ev(0)->payload, "k")),
	    TTPD_VT_INT);
	/* identity-only anchor is enough */
	ck_assert_int_eq(build("{\"source_kind\":\"identity\",\"source_id\":"
	    "\"x\",\"identity_uuid\":\"i\",\"payload\":{}}", NULL), EVENT_OK);
	/* no anchor: dropped, not an error */
	ck_assert_int_eq(build("{\"source_kind\":\"command\",\"source_id\":"
	    "\"x\",\"attacker_uuid\":null,\"payload\":{}}", NULL),
	    EVENT_DROPPED);
	ck_assert_uint_eq(out.n, 0);
}
END_TEST

START_TEST(test_tagger_event_bad)
{
	static const struct {
		const char *text, *reason;
	} cases[] = {
		{ "[1]", "not a JSON object" },
		{ "\"x\"", "not a JSON object" },
		{ "{}", "neither an envelope" },
		{ "{\"source_kind\":\"\",\"source_id\":\"x\",\"payload\":{}}",
		  "source_kind must be a non-empty string" },
		{ "{\"source_kind\":7,\"source_id\":\"x\",\"payload\":{}}",
		  "source_kind must be a non-empty string" },
		{ "{\"source_kind\":\"command\",\"source_id\":5,"
		  "\"attacker_uuid\":\"a\",\"payload\":{}}",
		  "source_id must be a string" },
		{ "{\"source_kind\":\"command\",\"source_id\":\"x\","
		  "\"attacker_uuid\":\"a\",\"payload\":[]}",
		  "payload must be an object" },
		{ "{\"source_kind\":\"command\",\"source_id\":\"x\","
		  "\"attacker_uuid\":\"a\"}", "payload must be an object" },
		{ "{\"source_kind\":\"command\",\"source_id\":\"x\","
		  "\"attacker_uuid\":1,\"payload\":{}}",
		  "attacker_uuid must be a string or null" },
		{ "{\"source_kind\":\"command\",\"source_id\":\"x\","
		  "\"attacker_uuid\":\"a\",\"session_id\":{},\"payload\":{}}",
		  "session_id must be a string or null" },
		{ "{\"source_kind\":\"command\",\"source_id\":\"x\","
		  "\"attacker_uuid\":\"a\",\"decky_id\":true,\"payload\":{}}",
		  "decky_id must be a string or null" },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_msg(build(cases[i].text, NULL) == EVENT_BAD,
		    "accepted: %s", cases[i].text);
		ck_assert_msg(strstr(err, cases[i].reason) != NULL,
		    "%s: got '%s', want '%s'", cases[i].text, err,
		    cases[i].reason);
		ck_assert_uint_eq(out.n, 0);
	}
}
END_TEST

START_TEST(test_envelope_checks)
{
	ck_assert_int_eq(build("{\"topic\":5,\"payload\":{}}", NULL),
	    EVENT_BAD);
	ck_assert_int_eq(build("{\"topic\":\"email.received\",\"v\":2,"
	    "\"payload\":{\"attacker_uuid\":\"a\"}}", NULL), EVENT_BAD);
	ck_assert(strstr(err, "v must be 1") != NULL);
	ck_assert_int_eq(build("{\"topic\":\"email.received\",\"type\":3,"
	    "\"payload\":{\"attacker_uuid\":\"a\"}}", NULL), EVENT_BAD);
	ck_assert_int_eq(build("{\"topic\":\"email.received\","
	    "\"payload\":[1]}", NULL), EVENT_BAD);
	ck_assert_int_eq(build("{\"topic\":\"email.received\","
	    "\"payload\":\"x\"}", NULL), EVENT_BAD);
	ck_assert_int_eq(build("{\"topic\":\"nope\",\"payload\":{}}", NULL),
	    EVENT_BAD);
	ck_assert(strstr(err, "unknown topic 'nope'") != NULL);
	/* null or absent payload is {}: no anchor, dropped */
	ck_assert_int_eq(build("{\"topic\":\"email.received\","
	    "\"payload\":null}", NULL), EVENT_DROPPED);
	ck_assert_int_eq(build("{\"topic\":\"email.received\"}", NULL),
	    EVENT_DROPPED);
	/* fingerprinted: the envelope type is the kind */
	ck_assert_int_eq(build("{\"topic\":\"attacker.fingerprinted\","
	    "\"type\":\"ipv6_leak\",\"payload\":{\"attacker_uuid\":\"a\"}}",
	    NULL), EVENT_OK);
	ck_assert_str_eq(ev(0)->source_kind, "ipv6_leak");
	ck_assert_int_eq(build("{\"topic\":\"attacker.fingerprinted\","
	    "\"type\":\"\",\"payload\":{\"attacker_uuid\":\"a\"}}", NULL),
	    EVENT_IGNORED);
	ck_assert_int_eq(build("{\"topic\":\"attacker.fingerprinted\","
	    "\"payload\":{\"attacker_uuid\":\"a\"}}", NULL), EVENT_IGNORED);
}
END_TEST

START_TEST(test_source_id_priority)
{
	/* source_id > session_id > token_id > identity_uuid >
	 * credential_id > attacker_uuid > uuid > topic; first truthy */
	ck_assert_int_eq(build("{\"topic\":\"email.received\",\"payload\":{"
	    "\"source_id\":\"\",\"session_id\":0,\"token_id\":\"tok\","
	    "\"attacker_uuid\":\"a\"}}", NULL), EVENT_OK);
	ck_assert_str_eq(ev(0)->source_id, "tok");
	ck_assert_int_eq(build("{\"topic\":\"email.received\",\"payload\":{"
	    "\"attacker_uuid\":\"a\",\"uuid\":\"u\"}}", NULL), EVENT_OK);
	ck_assert_str_eq(ev(0)->source_id, "a");
	ck_assert_int_eq(build("{\"topic\":\"identity.formed\",\"payload\":{"
	    "\"identity_uuid\":\"i\",\"credential_id\":\"c\"}}", NULL),
	    EVENT_OK);
	ck_assert_str_eq(ev(0)->source_id, "i");
	ck_assert_str_eq(ev(0)->source_kind, "identity");
	ck_assert_ptr_null(ev(0)->attacker_uuid);
	/* Python str(): ints, floats, booleans */
	ck_assert_int_eq(build("{\"topic\":\"email.received\",\"payload\":{"
	    "\"source_id\":42,\"attacker_uuid\":\"a\"}}", NULL), EVENT_OK);
	ck_assert_str_eq(ev(0)->source_id, "42");
	ck_assert_int_eq(build("{\"topic\":\"email.received\",\"payload\":{"
	    "\"source_id\":0.1,\"attacker_uuid\":\"a\"}}", NULL), EVENT_OK);
	ck_assert_str_eq(ev(0)->source_id, "0.1");
	ck_assert_int_eq(build("{\"topic\":\"email.received\",\"payload\":{"
	    "\"source_id\":2.0,\"attacker_uuid\":\"a\"}}", NULL), EVENT_OK);
	ck_assert_str_eq(ev(0)->source_id, "2.0");
	ck_assert_int_eq(build("{\"topic\":\"email.received\",\"payload\":{"
	    "\"source_id\":true,\"attacker_uuid\":\"a\"}}", NULL), EVENT_OK);
	ck_assert_str_eq(ev(0)->source_id, "True");
	/* nothing truthy: the topic */
	ck_assert_int_eq(build("{\"topic\":\"canary.t1.triggered\","
	    "\"payload\":{\"attacker_uuid\":\"a\",\"token_id\":\"\"}}", NULL),
	    EVENT_OK);
	ck_assert_str_eq(ev(0)->source_id, "a");
}
END_TEST

static int
lookup_found(void *ud, const char *ip, char *o, size_t n)
{
	(void)ud;
	if (strcmp(ip, "198.51.100.1") == 0) {
		snprintf(o, n, "uuid-of-%s", ip);
		return 1;
	}
	return strcmp(ip, "198.51.100.66") == 0 ? -1 : 0;
}

START_TEST(test_anchor_resolution)
{
	struct anchor_policy lookup = { .lookup_ip = lookup_found };
	struct anchor_policy derive = { .derive = 1 };
	struct anchor_policy drop = { .derive = 0 };
	char want[37];

	/* payload anchors win, no lookup needed */
	ck_assert_int_eq(build("{\"topic\":\"attacker.observed\",\"payload\":"
	    "{\"attacker_uuid\":\"a\",\"attacker_ip\":\"198.51.100.9\"}}",
	    &lookup), EVENT_OK);
	ck_assert_str_eq(ev(0)->attacker_uuid, "a");
	/* ip resolved through the attackers table */
	ck_assert_int_eq(build("{\"topic\":\"attacker.observed\",\"payload\":"
	    "{\"attacker_ip\":\"198.51.100.1\"}}", &lookup), EVENT_OK);
	ck_assert_str_eq(ev(0)->attacker_uuid, "uuid-of-198.51.100.1");
	ck_assert_str_eq(jv_string(jv_object_get(ev(0)->payload,
	    "attacker_uuid")), "uuid-of-198.51.100.1");
	/* unknown ip, lookup error, "Unknown", empty: dropped */
	ck_assert_int_eq(build("{\"topic\":\"attacker.observed\",\"payload\":"
	    "{\"attacker_ip\":\"198.51.100.2\"}}", &lookup), EVENT_DROPPED);
	ck_assert(strstr(err, "198.51.100.2") != NULL);
	ck_assert_int_eq(build("{\"topic\":\"attacker.observed\",\"payload\":"
	    "{\"attacker_ip\":\"198.51.100.66\"}}", &lookup), EVENT_DROPPED);
	ck_assert_int_eq(build("{\"topic\":\"attacker.observed\",\"payload\":"
	    "{\"attacker_ip\":\"Unknown\"}}", &derive), EVENT_DROPPED);
	ck_assert_int_eq(build("{\"topic\":\"attacker.observed\",\"payload\":"
	    "{\"attacker_ip\":\"\"}}", &derive), EVENT_DROPPED);
	ck_assert_int_eq(build("{\"topic\":\"attacker.observed\",\"payload\":"
	    "{\"attacker_ip\":7}}", &derive), EVENT_DROPPED);
	/* no attackers table: drop, or derive when configured */
	ck_assert_int_eq(build("{\"topic\":\"attacker.observed\",\"payload\":"
	    "{\"attacker_ip\":\"198.51.100.3\"}}", &drop), EVENT_DROPPED);
	ck_assert_int_eq(build("{\"topic\":\"attacker.observed\",\"payload\":"
	    "{\"attacker_ip\":\"198.51.100.3\"}}", &derive), EVENT_OK);
	event_derive_attacker_uuid("198.51.100.3", want);
	ck_assert_str_eq(ev(0)->attacker_uuid, want);
	ck_assert_int_eq(want[14], '5');
	event_derive_attacker_uuid("198.51.100.4", want);
	ck_assert_str_ne(ev(0)->attacker_uuid, want);
}
END_TEST

START_TEST(test_fan_out)
{
	ck_assert_int_eq(build("{\"topic\":\"attacker.session.ended\","
	    "\"type\":\"session.ended\",\"payload\":{\"session_id\":\"S\","
	    "\"attacker_uuid\":\"A\",\"identity_uuid\":\"I\","
	    "\"decky_id\":\"D\",\"commands\":["
	    "\"uname -a\","                                  /* 0 */
	    "{\"id\":\"S#1\",\"command_text\":\"id\",\"user\":\"root\"}," /* 1 */
	    "42,"                                            /* 2 skipped */
	    "{\"command_text\":\"\",\"text\":\"w\"},"        /* 3 */
	    "{\"text\":5},"                                  /* 4 skipped */
	    "{\"uuid\":\"U\",\"command_id\":\"C\",\"command_text\":\"ls\"}," /* 5 */
	    "{\"command_id\":7,\"command_text\":\"pwd\"}"    /* 6 */
	    "]}}", NULL), EVENT_OK);
	ck_assert_uint_eq(out.n, 6);
	ck_assert_str_eq(ev(0)->source_kind, "session");
	ck_assert_str_eq(ev(0)->source_id, "S");
	ck_assert_str_eq(ev(1)->source_kind, "command");
	ck_assert_str_eq(ev(1)->source_id, "S#cmd0");
	ck_assert_str_eq(jv_string(jv_object_get(ev(1)->payload,
	    "command_text")), "uname -a");
	ck_assert_uint_eq(jv_object_size(ev(1)->payload), 1);
	ck_assert_str_eq(ev(2)->source_id, "S#1");
	ck_assert_str_eq(jv_string(jv_object_get(ev(2)->payload, "user")),
	    "root");
	ck_assert_str_eq(ev(3)->source_id, "S#cmd3");
	ck_assert_str_eq(jv_string(jv_object_get(ev(3)->payload,
	    "command_text")), "w");
	ck_assert_str_eq(ev(4)->source_id, "U");
	ck_assert_str_eq(ev(5)->source_id, "7");
	/* commands inherit all four ids */
	ck_assert_str_eq(ev(5)->attacker_uuid, "A");
	ck_assert_str_eq(ev(5)->identity_uuid, "I");
	ck_assert_str_eq(ev(5)->session_id, "S");
	ck_assert_str_eq(ev(5)->decky_id, "D");
	/* no fan-out for other kinds, nor for a non-list */
	ck_assert_int_eq(build("{\"topic\":\"email.received\",\"payload\":{"
	    "\"attacker_uuid\":\"A\",\"commands\":[\"x\"]}}", NULL), EVENT_OK);
	ck_assert_uint_eq(out.n, 1);
	ck_assert_int_eq(build("{\"topic\":\"attacker.session.ended\","
	    "\"payload\":{\"attacker_uuid\":\"A\",\"commands\":\"ls\"}}", NULL),
	    EVENT_OK);
	ck_assert_uint_eq(out.n, 1);
	/* many commands: the array grows while fanning out */
	{
		char *text = malloc(200000);
		size_t used, i;

		used = (size_t)sprintf(text, "{\"topic\":\"attacker.session."
		    "ended\",\"payload\":{\"session_id\":\"S\",\"attacker_uuid\":"
		    "\"A\",\"commands\":[");
		for (i = 0; i < 5000; i++)
			used += (size_t)sprintf(text + used, "%s\"c%zu\"",
			    i > 0 ? "," : "", i);
		sprintf(text + used, "]}}");
		ck_assert_int_eq(build(text, NULL), EVENT_OK);
		ck_assert_uint_eq(out.n, 5001);
		ck_assert_str_eq(ev(5000)->source_id, "S#cmd4999");
		ck_assert_str_eq(jv_string(jv_object_get(ev(5000)->payload,
		    "command_text")), "c4999");
		free(text);
	}
}
END_TEST

/* Bus bodies: each malformed class has its own reason. */
START_TEST(test_decode_bus)
{
	static const struct {
		const char *subject, *body;
		enum event_reason want;
	} cases[] = {
		{ "attacker.observed", "{\"payload\":{}}", EVR_OK },
		{ "canary.t1.triggered", "{\"v\":1,\"id\":\"x\",\"type\":null,"
		  "\"ts\":1,\"payload\":null}", EVR_OK },
		{ "attacker.observed", "{nope", EVR_JSON },
		{ "attacker.observed", "\"str\"", EVR_NOT_OBJECT },
		{ "attacker.observed", "[]", EVR_NOT_OBJECT },
		{ "attacker.observed", "{\"v\":1}", EVR_MISSING },
		{ "attacker.observed", "{\"v\":2,\"payload\":{}}", EVR_TYPE },
		{ "attacker.observed", "{\"v\":1.5,\"payload\":{}}", EVR_TYPE },
		{ "attacker.observed", "{\"id\":7,\"payload\":{}}", EVR_TYPE },
		{ "attacker.observed", "{\"type\":[],\"payload\":{}}",
		  EVR_TYPE },
		{ "attacker.observed", "{\"ts\":\"now\",\"payload\":{}}",
		  EVR_TYPE },
		{ "attacker.observed", "{\"payload\":[1]}", EVR_TYPE },
		{ "attacker.observed", "{\"payload\":{\"a\":\"\xc3\x28\"}}",
		  EVR_UTF8 },
		{ "attacker.nope", "{\"payload\":{}}", EVR_UNKNOWN_TOPIC },
		{ "canary.", "{\"payload\":{}}", EVR_UNKNOWN_TOPIC },
	};
	ttpd_value *env;
	size_t i;
	char big[100];

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum event_reason r = event_decode_bus(cases[i].subject,
		    cases[i].body, strlen(cases[i].body), 1024, &env, err,
		    sizeof err);

		ck_assert_msg(r == cases[i].want, "case %zu (%s): %s, not %s: "
		    "%s", i, cases[i].body, event_reason_name(r),
		    event_reason_name(cases[i].want), err);
		ck_assert((r == EVR_OK) == (env != NULL));
		if (env != NULL) {
			/* the transport topic replaces the body's */
			ck_assert_str_eq(jv_string(jv_object_get(env,
			    "topic")), cases[i].subject);
			jv_decref(env);
		}
	}
	memset(big, ' ', sizeof big);
	ck_assert_int_eq(event_decode_bus("attacker.observed", big,
	    sizeof big, 99, &env, err, sizeof err), EVR_OVERSIZED);
	ck_assert(env == NULL);
	ck_assert_str_eq(event_reason_name(EVR_UTF8), "invalid_utf8");
	ck_assert_str_eq(event_reason_name(EVR_UNKNOWN_TOPIC),
	    "unknown_topic");
}
END_TEST

static int intel_calls;

static ttpd_value *
intel_row(void *ud, const char *attacker_uuid)
{
	ttpd_value *o;

	intel_calls++;
	if (strcmp(attacker_uuid, "att-1") != 0)
		return NULL;
	o = jv_new_object();
	jv_object_set_new(o, "attacker_uuid", jv_new_string("att-1", 5));
	jv_object_set_new(o, "abuseipdb_score", jv_new_int(90));
	return o;
}

/* A session of an attacker with an attacker_intel row also yields an
 * intel event (decnet-host.md 2.2 step 4); other topics do not. */
START_TEST(test_intel_catch_up)
{
	struct anchor_policy ap = { .intel_lookup = intel_row };
	int64_t score;

	ck_assert_int_eq(build("{\"topic\":\"attacker.session.ended\","
	    "\"payload\":{\"session_id\":\"s1\",\"attacker_uuid\":\"att-1\","
	    "\"commands\":[\"id\"]}}", &ap), EVENT_OK);
	ck_assert_uint_eq(out.n, 3);
	ck_assert_str_eq(ev(2)->source_kind, "intel");
	ck_assert_str_eq(ev(2)->source_id, "intel-catchup:s1");
	ck_assert_str_eq(ev(2)->attacker_uuid, "att-1");
	ck_assert_str_eq(ev(2)->session_id, "s1");
	ck_assert(jv_get_int(jv_object_get(ev(2)->payload,
	    "abuseipdb_score"), &score) == TTPD_OK && score == 90);
	/* no session id: keyed by the attacker */
	ck_assert_int_eq(build("{\"topic\":\"attacker.session.ended\","
	    "\"payload\":{\"attacker_uuid\":\"att-1\"}}", &ap), EVENT_OK);
	ck_assert_uint_eq(out.n, 2);
	ck_assert_str_eq(ev(1)->source_id, "intel-catchup:att-1");
	/* no row: nothing appended */
	ck_assert_int_eq(build("{\"topic\":\"attacker.session.ended\","
	    "\"payload\":{\"attacker_uuid\":\"att-2\"}}", &ap), EVENT_OK);
	ck_assert_uint_eq(out.n, 1);
	/* not on attacker.observed */
	intel_calls = 0;
	ck_assert_int_eq(build("{\"topic\":\"attacker.observed\","
	    "\"payload\":{\"attacker_uuid\":\"att-1\"}}", &ap), EVENT_OK);
	ck_assert_uint_eq(out.n, 1);
	ck_assert_int_eq(intel_calls, 0);
}
END_TEST

/*
 * Mutated bus bodies: byte flips, truncations and insertions of a valid
 * envelope never crash the decoder or the event builder, and a body is
 * either malformed (with a reason and a message) or decodes and builds.
 */
START_TEST(test_decode_bus_mutations)
{
	static const char seed[] =
	    "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\","
	    "\"topic\":\"attacker.session.ended\",\"type\":\"session.ended\","
	    "\"ts\":1700000000.5,\"payload\":{\"session_id\":\"s1\","
	    "\"attacker_uuid\":\"a1\",\"attacker_ip\":\"10.0.0.1\","
	    "\"commands\":[\"uname -a\",{\"id\":\"c1\",\"command_text\":"
	    "\"wget x\"},{\"text\":7},null,[1]]}}";
	static const char alphabet[] = "{}[]\":,0123456789.eE-+tfnul\\\xff\xc3"
	    " abc";
	struct anchor_policy ap = { .derive = 1 };
	char buf[sizeof seed + 64];
	unsigned int rng = 12345;
	ttpd_value *env;
	size_t len, pos;
	int i, k, ok = 0, bad = 0;

	for (i = 0; i < 20000; i++) {
		memcpy(buf, seed, sizeof seed - 1);
		len = sizeof seed - 1;
		for (k = 0; k < 1 + i % 4; k++) {
			rng = rng * 1103515245u + 12345u;
			pos = (rng >> 8) % len;
			switch ((rng >> 4) % 3) {
			case 0: /* flip to a structural byte */
				buf[pos] = alphabet[(rng >> 16) %
				    (sizeof alphabet - 1)];
				break;
			case 1: /* truncate */
				len = pos + 1;
				break;
			default: /* insert */
				if (len < sizeof buf - 1) {
					memmove(buf + pos + 1, buf + pos,
					    len - pos);
					buf[pos] = alphabet[(rng >> 16) %
					    (sizeof alphabet - 1)];
					len++;
				}
				break;
			}
		}
		err[0] = '\0';
		if (event_decode_bus(i % 2 ? "attacker.session.ended" :
		    "attacker.observed", buf, len, 4096, &env, err,
		    sizeof err) != EVR_OK) {
			ck_assert(env == NULL && err[0] != '\0');
			bad++;
			continue;
		}
		event_list_clear(&out);
		(void)event_build(env, &ap, &out, err, sizeof err);
		event_list_clear(&out);
		jv_decref(env);
		ok++;
	}
	/* both outcomes were exercised */
	ck_assert_int_gt(ok, 100);
	ck_assert_int_gt(bad, 100);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("build");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_topic_table);
	tcase_add_test(tc, test_tagger_event);
	tcase_add_test(tc, test_tagger_event_bad);
	tcase_add_test(tc, test_envelope_checks);
	tcase_add_test(tc, test_source_id_priority);
	tcase_add_test(tc, test_anchor_resolution);
	tcase_add_test(tc, test_fan_out);
	tcase_add_test(tc, test_decode_bus);
	tcase_add_test(tc, test_intel_catch_up);
	tcase_add_test(tc, test_decode_bus_mutations);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
