/* Tag identity, time format, mitre_url and confidence arithmetic. */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tag.h"

static void
assert_uuid(const char *kind, const char *id, const char *rule, int64_t ver,
    const char *tech, const char *sub, const char *want)
{
	char got[TAG_UUID_LEN + 1];

	tag_uuid(kind, id, rule, ver, tech, sub, got);
	ck_assert_str_eq(got, want);
}

START_TEST(test_uuid_golden)
{
	/* decnet-lifters.md 1.3 */
	assert_uuid("command", "cmd_42", "R0014", 2, "T1083", NULL,
	    "9aa491e5-f03b-5d8f-9eb5-161becedcdd6");
	assert_uuid("command", "cmd_42", "R0015", 1, "T1548", "T1548.001",
	    "4fd57b14-c135-544c-97d9-4fabc1051584");
	assert_uuid("identity", "src-identity", "R0003", 1, "T1110",
	    "T1110.003", "dc4fa34e-7720-58a7-bc78-b92910bb9f38");
	/* UTF-8 source id: "msg-\u00e9" */
	assert_uuid("email", "msg-\xc3\xa9", "R0044", 1, "T1036", "T1036.005",
	    "e0e6e47a-e366-53e3-a106-9290259bd963");
}
END_TEST

START_TEST(test_uuid_namespace_derivation)
{
	static const unsigned char url_ns[16] = {
		0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
		0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8
	};
	char got[TAG_UUID_LEN + 1];
	const char *name = "decnet:ttp_tag:v1";

	uuid_v5(url_ns, name, strlen(name), got);
	ck_assert_str_eq(got, "1ca31f08-5522-5aae-8371-fe81f0e39de3");
	/* RFC 4122 appendix-style check: uuid5(DNS, "python.org") */
	{
		static const unsigned char dns_ns[16] = {
			0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
			0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8
		};
		uuid_v5(dns_ns, "python.org", 10, got);
		ck_assert_str_eq(got, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	}
}
END_TEST

START_TEST(test_uuid_null_vs_empty_sub)
{
	char a[TAG_UUID_LEN + 1], b[TAG_UUID_LEN + 1], c[TAG_UUID_LEN + 1];

	tag_uuid("command", "x", "R1", 1, "T1083", NULL, a);
	tag_uuid("command", "x", "R1", 1, "T1083", "", b);
	tag_uuid("command", "x", "R1", 1, "T1083", "T1083.001", c);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	/* version is part of the key */
	tag_uuid("command", "x", "R1", 2, "T1083", NULL, b);
	ck_assert_str_ne(a, b);
	/* long keys cross SHA-1 block boundaries */
	{
		char id[300];

		memset(id, 'a', sizeof id - 1);
		id[sizeof id - 1] = '\0';
		tag_uuid("command", id, "R1", 1, "T1083", NULL, b);
		ck_assert_int_eq(b[14], '5');
		ck_assert(strchr("89ab", b[19]) != NULL);
	}
}
END_TEST

/*
 * tag_uuid() is uuid_v5() of "kind|id|rule|version|technique|sub" under
 * the tag namespace, for keys of every length around the SHA-1 block
 * boundaries and past its on-stack buffer, on both SHA-1 paths.
 */
START_TEST(test_uuid_is_v5_of_key)
{
	static const unsigned char tag_ns[16] = {
		0x1c, 0xa3, 0x1f, 0x08, 0x55, 0x22, 0x5a, 0xae,
		0x83, 0x71, 0xfe, 0x81, 0xf0, 0xe3, 0x9d, 0xe3
	};
	char id[400], key[600], got[TAG_UUID_LEN + 1], want[TAG_UUID_LEN + 1];
	size_t len;
	int k, hw;

	for (hw = 0; hw < 2; hw++) {
		(void)tag_sha1_accelerated(hw);
		for (len = 0; len < sizeof id; len++) {
			memset(id, 'a' + (int)(len % 26), len);
			id[len] = '\0';
			for (k = 0; k < 3; k++) {
				const char *sub = k == 0 ? NULL : k == 1 ? "" :
				    "T1083.001";
				int64_t ver = k == 2 ? -7 : 12;

				snprintf(key, sizeof key, "command|%s|R0001|"
				    "%lld|T1083|%s", id, (long long)ver,
				    sub != NULL ? sub : "");
				uuid_v5(tag_ns, key, strlen(key), want);
				tag_uuid("command", id, "R0001", ver, "T1083",
				    sub, got);
				ck_assert_msg(strcmp(got, want) == 0,
				    "id length %zu, case %d: %s, want %s",
				    len, k, got, want);
			}
		}
	}
	(void)tag_sha1_accelerated(1);
}
END_TEST

/*
 * The SHA extensions and the portable code agree on every length around
 * the block boundaries (1, 2 and 3 blocks after padding) and on known
 * UUIDv5 values.  On a CPU without the extensions (or under valgrind)
 * both runs take the portable path.
 */
START_TEST(test_sha1_paths_agree)
{
	static const unsigned char url_ns[16] = {
		0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
		0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
	};
	unsigned char name[300];
	char hw[TAG_UUID_LEN + 1], sw[TAG_UUID_LEN + 1];
	uint32_t x = 12345;
	size_t len, i;

	for (i = 0; i < sizeof name; i++) {
		x = x * 1103515245u + 12345u;
		name[i] = (unsigned char)(x >> 16);
	}
	for (len = 0; len <= sizeof name; len++) {
		(void)tag_sha1_accelerated(1);
		uuid_v5(url_ns, name, len, hw);
		ck_assert_int_eq(tag_sha1_accelerated(0), 0);
		uuid_v5(url_ns, name, len, sw);
		ck_assert_msg(strcmp(hw, sw) == 0, "length %zu: %s vs %s",
		    len, hw, sw);
	}
	/* Python: uuid.uuid5(uuid.NAMESPACE_URL, "decnet:ttp_tag:v1") */
	for (i = 0; i < 2; i++) {
		(void)tag_sha1_accelerated((int)i);
		uuid_v5(url_ns, "decnet:ttp_tag:v1", 17, hw);
		ck_assert_str_eq(hw, "1ca31f08-5522-5aae-8371-fe81f0e39de3");
	}
	(void)tag_sha1_accelerated(1);
}
END_TEST

START_TEST(test_time_format)
{
	char out[TAG_TIME_LEN + 1];

	tag_format_time(0, out);
	ck_assert_str_eq(out, "1970-01-01 00:00:00.000000");
	tag_format_time(1782000000123456789LL, out);
	ck_assert_str_eq(out, "2026-06-21 00:00:00.123456");
	ck_assert_uint_eq(strlen(out), TAG_TIME_LEN);
	/* the same second again (kept), the next one, and back */
	tag_format_time(1782000000000007000LL, out);
	ck_assert_str_eq(out, "2026-06-21 00:00:00.000007");
	tag_format_time(1782000001999999999LL, out);
	ck_assert_str_eq(out, "2026-06-21 00:00:01.999999");
	tag_format_time(1782000000500000000LL, out);
	ck_assert_str_eq(out, "2026-06-21 00:00:00.500000");
	tag_format_time(-1000, out);
	ck_assert_str_eq(out, "1969-12-31 23:59:59.999999");
}
END_TEST

START_TEST(test_mitre_url)
{
	char *u;

	u = tag_mitre_url("T1059", NULL);
	ck_assert_str_eq(u, "https://attack.mitre.org/techniques/T1059");
	free(u);
	u = tag_mitre_url("T1059", "T1059.004");
	ck_assert_str_eq(u, "https://attack.mitre.org/techniques/T1059/004");
	free(u);
	u = tag_mitre_url("T1059", "");
	ck_assert_str_eq(u, "https://attack.mitre.org/techniques/T1059");
	free(u);
	ck_assert_ptr_null(tag_mitre_url("", NULL));
	ck_assert_ptr_null(tag_mitre_url("T99", NULL));
	ck_assert_ptr_null(tag_mitre_url(NULL, NULL));
	ck_assert_ptr_null(tag_mitre_url("T10599", NULL));
	ck_assert_ptr_null(tag_mitre_url("T1059", "T1059.0045"));
	ck_assert_ptr_null(tag_mitre_url("T1059", "T1059-004"));
}
END_TEST

START_TEST(test_mitre_url_into)
{
	char url[TAG_MITRE_URL_SIZE];

	ck_assert_uint_eq(tag_mitre_url_into("T1059", "T1059.004", url),
	    strlen("https://attack.mitre.org/techniques/T1059/004"));
	ck_assert_str_eq(url, "https://attack.mitre.org/techniques/T1059/004");
	ck_assert_uint_eq(tag_mitre_url_into("T1082", NULL, url),
	    strlen("https://attack.mitre.org/techniques/T1082"));
	ck_assert_str_eq(url, "https://attack.mitre.org/techniques/T1082");
	/* malformed: 0 and "" */
	ck_assert_uint_eq(tag_mitre_url_into("T1082", "T1082.0001", url), 0);
	ck_assert_str_eq(url, "");
	ck_assert_uint_eq(tag_mitre_url_into("X1082", NULL, url), 0);
	ck_assert_str_eq(url, "");
	/* the longest URL fits with its NUL */
	ck_assert_uint_lt(strlen("https://attack.mitre.org/techniques/"
	    "T1234/567"), TAG_MITRE_URL_SIZE);
}
END_TEST

START_TEST(test_confidence)
{
	struct rule_state st = { RULE_STATE_ENABLED, 0, 0.0, 0 };
	int64_t now = 1000000000000LL;

	/* DECNET order of operations: base * multiplier */
	ck_assert(tag_confidence(0.7, 95 / 100.0, NULL, now) ==
	    0.6649999999999999);
	ck_assert(tag_confidence(0.6, 50 / 100.0, NULL, now) == 0.3);
	/* clamp */
	ck_assert(tag_confidence(0.7, 1.5, NULL, now) == 1.0);
	ck_assert(tag_confidence(0.7, -1, NULL, now) == 0.0);
	ck_assert(tag_confidence(0.7, NAN, NULL, now) == 0.0);
	/* clipped ceiling only lowers */
	st.state = RULE_STATE_CLIPPED;
	st.has_confidence_max = 1;
	st.confidence_max = 0.5;
	ck_assert(tag_confidence(0.9, 1.0, &st, now) == 0.5);
	ck_assert(tag_confidence(0.4, 1.0, &st, now) == 0.4);
	/* confidence_max only applies to clipped */
	st.state = RULE_STATE_ENABLED;
	ck_assert(tag_confidence(0.9, 1.0, &st, now) == 0.9);
	/* an expired clip reverts to enabled */
	st.state = RULE_STATE_CLIPPED;
	st.expires_at_ns = now - 1;
	ck_assert(tag_confidence(0.9, 1.0, &st, now) == 0.9);
	ck_assert_int_eq(rule_state_effective(&st, now), RULE_STATE_ENABLED);
	st.state = RULE_STATE_DISABLED;
	ck_assert_int_eq(rule_state_effective(&st, now), RULE_STATE_ENABLED);
	st.expires_at_ns = now + 1;
	ck_assert_int_eq(rule_state_effective(&st, now), RULE_STATE_DISABLED);
}
END_TEST

START_TEST(test_tag_list)
{
	struct tag_list l;
	size_t i;

	tag_list_init(&l);
	for (i = 0; i < 40; i++) {
		struct tag *t = tag_list_push(&l);

		t->rule_id = strdup("R1");
	}
	ck_assert_uint_eq(l.n, 40);
	tag_list_truncate(&l, 10);
	ck_assert_uint_eq(l.n, 10);
	ck_assert_str_eq(l.v[9].rule_id, "R1");
	tag_list_free(&l);
	ck_assert_uint_eq(l.n, 0);
}
END_TEST

/* A tag whose strings share one block frees only the block (ASan and
 * valgrind would report a bad free of the others) and is zeroed. */
START_TEST(test_tag_free_block)
{
	struct tag t;
	char *block = malloc(32);

	ck_assert_ptr_nonnull(block);
	memset(&t, 0, sizeof t);
	memcpy(block, "command\0R1\0{}", 14);
	t.strings = block;
	t.source_kind = block;
	t.rule_id = block + 8;
	t.evidence = block + 11;
	tag_free(&t);
	ck_assert_ptr_null(t.strings);
	ck_assert_ptr_null(t.source_kind);
	ck_assert_ptr_null(t.evidence);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tag");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_uuid_golden);
	tcase_add_test(tc, test_uuid_namespace_derivation);
	tcase_add_test(tc, test_uuid_null_vs_empty_sub);
	tcase_add_test(tc, test_uuid_is_v5_of_key);
	tcase_add_test(tc, test_sha1_paths_agree);
	tcase_add_test(tc, test_time_format);
	tcase_add_test(tc, test_mitre_url);
	tcase_add_test(tc, test_mitre_url_into);
	tcase_add_test(tc, test_confidence);
	tcase_add_test(tc, test_tag_list);
	tcase_add_test(tc, test_tag_free_block);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
