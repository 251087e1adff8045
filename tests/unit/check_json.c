/*
 * JSON values: jv_parse against jansson's own json_loadb, jv_dump against
 * json_dumps(JSON_COMPACT | JSON_ENCODE_ANY).
 *
 * host/json.c parses and serialises with its own code but over jansson
 * values, so this suite (and only this one) includes jansson to compare
 * the two.  Parsing: tables of valid and invalid documents, every line of
 * the golden set, a randomised differential fuzz over mutated golden
 * lines, limits (depth, a 10 MB string, number ranges) and error
 * positions.  Dumping, byte for byte: every golden line, every ASCII byte,
 * strings with an escape at every position, UTF-8, number formatting,
 * containers, cycles, and random value trees.  ttpd_value is a json_t
 * behind an opaque name, hence the casts.
 *
 * TTPD_JSON_FUZZ_ITERATIONS (default 200000) and TTPD_JSON_FUZZ_SEED tune
 * both fuzzers, e.g. to run them under valgrind.
 *
 * The one deliberate difference from jansson: json_loadb skips a single
 * NUL byte right after a number or literal ("1\0", "[true\0]") because of
 * how its stream pushes characters back; jv_parse rejects it like any other
 * stray byte.  The fuzz checks that this is the only disagreement.
 */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json.h"
#include "testutil.h"

#define J(v) ((json_t *)(void *)(v))

struct doc {
	const char *s;
	size_t n;
};

#define DOC(lit) { lit, sizeof lit - 1 }

static json_t *
jansson_parse(const char *s, size_t n)
{
	json_error_t e;

	return json_loadb(s, n, JSON_DECODE_ANY, &e);
}

/* Printable rendering of arbitrary bytes for failure messages. */
static const char *
show(const char *s, size_t n)
{
	static char out[700];
	size_t i, o = 0;

	for (i = 0; i < n && o + 8 < sizeof out; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, sizeof out - o,
			    "\\x%02x", c);
	}
	if (i < n)
		snprintf(out + o, sizeof out - o, "...");
	else
		out[o] = '\0';
	return out;
}

static char *
dump(json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Same value, same key order, same number formatting. */
static int
same_value(json_t *a, json_t *b)
{
	char *da, *db;
	int same;

	if (!json_equal(a, b))
		return 0;
	da = dump(a);
	db = dump(b);
	same = da != NULL && db != NULL && strcmp(da, db) == 0;
	free(da);
	free(db);
	return same;
}

/* Both parsers accept s and build the same value; returns ours. */
static ttpd_value *
assert_same_accept(const char *s, size_t n)
{
	char err[256];
	ttpd_value *ours = jv_parse(s, n, err, sizeof err);
	json_t *theirs = jansson_parse(s, n);

	ck_assert_msg(theirs != NULL, "jansson rejects %s", show(s, n));
	ck_assert_msg(ours != NULL, "jv_parse rejects %s: %s", show(s, n),
	    err);
	ck_assert_msg(same_value(J(ours), theirs), "values differ for %s",
	    show(s, n));
	json_decref(theirs);
	return ours;
}

/* Both parsers reject s; ours with a "line:column: reason" message. */
static void
assert_both_reject(const char *s, size_t n)
{
	char err[256];
	ttpd_value *ours;
	json_t *theirs = jansson_parse(s, n);
	unsigned line, column;
	int used = 0;

	ck_assert_msg(theirs == NULL, "jansson accepts %s", show(s, n));
	strcpy(err, "(unset)");
	ours = jv_parse(s, n, err, sizeof err);
	ck_assert_msg(ours == NULL, "jv_parse accepts %s", show(s, n));
	ck_assert_msg(sscanf(err, "%u:%u: %n", &line, &column, &used) == 2 &&
	    used > 0 && err[used] != '\0' && line >= 1 && column >= 1,
	    "bad error message for %s: \"%s\"", show(s, n), err);
}

static const struct doc valid_docs[] = {
	DOC("0"), DOC("-0"), DOC("1"), DOC("-1"), DOC("123456789"),
	DOC("9223372036854775807"), DOC("-9223372036854775808"),
	DOC("1000000000000000000"), DOC("-999999999999999999"),
	DOC("0.1"), DOC("-0.0"), DOC("0.0"), DOC("1e308"), DOC("1E+2"),
	DOC("1e-2"), DOC("1e05"), DOC("2.5e-400"), DOC("4.9e-324"),
	DOC("1.7976931348623157e308"), DOC("123.456e-7"),
	DOC("12345678901234567890.5"), DOC("12345678901234567890e0"),
	DOC("0.30000000000000004"), DOC("3.141592653589793238462643383279"),
	DOC("true"), DOC("false"), DOC("null"), DOC(" \t\n\r true \n"),
	DOC("\"\""), DOC("\"abc\""), DOC("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""),
	DOC("\"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\""),
	DOC("\"\\uD83D\\uDE00\""), DOC("\"\\u0001\\u001f\\u007f\\uffff\""),
	DOC("\"\\udbff\\udfff\""), DOC("\"a\\u00e9b\""),
	DOC("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""), DOC("\"\x7f\""),
	DOC("\"\xf4\x8f\xbf\xbf\""), DOC("\"\xef\xbf\xbf\""),
	DOC("\"\xed\x9f\xbf\""), DOC("\"\xee\x80\x80\""),
	DOC("\"\xc2\x80\""), DOC("\"\xe0\xa0\x80\""), DOC("\"\xf0\x90\x80\x80\""),
	DOC("[]"), DOC("{}"), DOC("[ ]"), DOC("{ }"), DOC("[1,2,3]"),
	DOC("[[[]]]"), DOC("[{}, [], \"\", 0, -0.5, true, false, null]"),
	DOC("{\"a\":{\"b\":[1,{\"c\":null}]}}"),
	DOC("{\"a\":1,\"a\":2}"), DOC("{\"a\":1,\"b\":2,\"a\":3}"),
	DOC("{\"a\":[1],\"a\":{\"x\":1}}"),
	DOC("{\"\\u00e9t\\u00e9\":\"x\", \"\xc3\xa9t\xc3\xa9\":\"y\"}"),
	DOC("{\"k\\\"ey\":1, \"\":2}"),
	DOC(" { \"a\" : [ 1 , 2 ] , \"b\" : { } } "),
	DOC("{\"source_kind\": \"command\", \"source_id\": \"cmd_1\", "
	    "\"payload\": {\"command_text\": \"cat /etc/passwd | "
	    "grep \\\"root\\\"\\n\", \"argv\": [\"cat\", \"/etc/passwd\"]}, "
	    "\"ts\": 1712345678.25, \"n\": 42}"),
};

START_TEST(test_valid_table)
{
	size_t i;

	for (i = 0; i < sizeof valid_docs / sizeof valid_docs[0]; i++)
		jv_decref(assert_same_accept(valid_docs[i].s,
		    valid_docs[i].n));
}
END_TEST

static const struct doc invalid_docs[] = {
	DOC(""), DOC(" "), DOC("\n\t"), DOC("-"), DOC("+1"), DOC("01"),
	DOC("-01"), DOC("00"), DOC("1."), DOC(".5"), DOC("1e"), DOC("1e+"),
	DOC("1E-"), DOC("1.e5"), DOC("-.5"), DOC("NaN"), DOC("Infinity"),
	DOC("-Infinity"), DOC("nan"), DOC("tru"), DOC("True"), DOC("nul"),
	DOC("fals"), DOC("truex"), DOC("null1"), DOC("[1,]"),
	DOC("{\"a\":1,}"), DOC("[,1]"), DOC("{,}"), DOC("[1 2]"),
	DOC("{\"a\" 1}"), DOC("{\"a\":}"), DOC("{1:2}"), DOC("{'a':1}"),
	DOC("{a:1}"), DOC("["), DOC("]"), DOC("{"), DOC("}"), DOC("[1"),
	DOC("{\"a\":1"), DOC("{\"a\""), DOC("{\"a\":"), DOC("\"abc"),
	DOC("\"\\"), DOC("\"\\\""), DOC("\"\\x\""), DOC("\"\\u12\""),
	DOC("\"\\u12G4\""), DOC("\"\\U0041\""), DOC("\"\\u0000\""),
	DOC("{\"\\u0000\":1}"), DOC("\"a\\u0000b\""), DOC("\"\\ud800\""),
	DOC("\"\\udc00\""), DOC("\"\\ud800\\u0041\""),
	DOC("\"\\ud800\\ud800\""), DOC("\"\\ud800x\""), DOC("\"\\ud800\\\""),
	DOC("\"\\udbff\\ue000\""), DOC("\"\x01\""), DOC("\"\t\""),
	DOC("\"\n\""), DOC("\"\x1f\""), DOC("\"a\x00" "b\""),
	DOC("\"\xc0\x80\""), DOC("\"\xc1\xbf\""), DOC("\"\xe0\x80\x80\""),
	DOC("\"\xe0\x9f\xbf\""), DOC("\"\xed\xa0\x80\""),
	DOC("\"\xed\xbf\xbf\""), DOC("\"\xf0\x80\x80\x80\""),
	DOC("\"\xf0\x8f\xbf\xbf\""), DOC("\"\xf4\x90\x80\x80\""),
	DOC("\"\xf5\x80\x80\x80\""), DOC("\"\xff\""), DOC("\"\xfe\""),
	DOC("\"\x80\""), DOC("\"\xbf\""), DOC("\"\xc3\""),
	DOC("\"\xe2\x82\""), DOC("\"\xf0\x9f\x98\""), DOC("\"\xc3x\""),
	DOC("\"\xe2\x82x\""), DOC("\"\xc3"), DOC("\"\xf0\x9f"),
	DOC("{\"\xc0\x80\":1}"), DOC("{\"a\x01\":1}"),
	DOC("1 2"), DOC("1,"), DOC("[]]"), DOC("{}}"), DOC("1x"),
	DOC("\"a\"b"), DOC("[] []"), DOC("9223372036854775808"),
	DOC("-9223372036854775809"), DOC("99999999999999999999"),
	DOC("10000000000000000000"), DOC("-10000000000000000000"),
	DOC("1e309"), DOC("-1e309"), DOC("1e99999"), DOC("[1e400]"),
	DOC("\xef\xbb\xbf{}"), DOC("[\x00]"), DOC("\"a\"\x00"), DOC("\x00"),
	DOC("\x00" "1"), DOC("0x10"), DOC("1.5.3"), DOC("--1"), DOC("-a"),
	DOC("[1e]"), DOC("'a'"), DOC("/*c*/1"), DOC("[\"a\":1]"),
	DOC("{\"a\",1}"), DOC("\xc3\xa9"), DOC("\"\xc3\xa9\" x"),
	DOC("[1,,2]"), DOC("{\"a\":1 \"b\":2}"), DOC("\x0b" "1"),
	DOC("\x0c" "1"), DOC("1\x0b"), DOC("[1]\xa0"),
};

START_TEST(test_invalid_table)
{
	size_t i;

	for (i = 0; i < sizeof invalid_docs / sizeof invalid_docs[0]; i++)
		assert_both_reject(invalid_docs[i].s, invalid_docs[i].n);
}
END_TEST

/* The documented difference: a NUL right after a number or literal. */
START_TEST(test_nul_after_token)
{
	static const struct doc docs[] = {
		DOC("1\x00"), DOC("[1\x00,2]"), DOC("true\x00"),
		DOC("1.5\x00"), DOC("[null\x00]"), DOC("{\"a\":-0\x00}"),
	};
	char err[128];
	size_t i;

	for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		json_t *theirs = jansson_parse(docs[i].s, docs[i].n);

		/* If jansson ever fixes this, the comments need updating. */
		ck_assert_msg(theirs != NULL, "jansson now rejects %s",
		    show(docs[i].s, docs[i].n));
		json_decref(theirs);
		ck_assert_ptr_null(jv_parse(docs[i].s, docs[i].n, err,
		    sizeof err));
		ck_assert_msg(strstr(err, "unexpected byte 0x00") != NULL,
		    "%s", err);
	}
}
END_TEST

struct located {
	const char *s;
	const char *prefix;	/* expected start of the message */
	const char *reason;	/* expected substring */
};

START_TEST(test_error_messages)
{
	static const struct located cases[] = {
		{ "", "1:1: ", "empty input" },
		{ "[1,]", "1:4: ", "unexpected character ']'" },
		{ "{\n  \"a\": x\n}", "2:8: ", "unexpected character 'x'" },
		{ "\"\xc3\xa9x\x01\"", "1:4: ", "control character 0x01" },
		{ "[\"ab", "1:5: ", "end of input inside a string" },
		{ "\"a\xc0\x80\"", "1:3: ", "invalid UTF-8 in string" },
		{ "\"\\q\"", "1:2: ", "invalid escape '\\q'" },
		{ "\"\\u0000\"", "1:2: ", "\\u0000" },
		{ "\"\\ud800\"", "1:2: ", "surrogate" },
		{ "\"\\udc00\"", "1:2: ", "surrogate" },
		{ "9223372036854775808", "1:1: ", "too big integer" },
		{ "-9223372036854775809", "1:1: ", "too big negative integer" },
		{ "[1e309]", "1:2: ", "real number overflow" },
		{ "012", "1:1: ", "leading zero" },
		{ "1.x", "1:3: ", "digit expected after '.'" },
		{ "1e", "1:3: ", "end of input" },
		{ "{\"a\":1} x", "1:9: ", "after the value" },
		{ "{\"a\" 1}", "1:6: ", "':' expected" },
		{ "{\"a\":1 2}", "1:8: ", "',' or '}' expected" },
		{ "[1 2]", "1:4: ", "',' or ']' expected" },
		{ "{1}", "1:2: ", "object key expected" },
		{ "[1,\n", "2:1: ", "unexpected end of input" },
		{ "\x01", "1:1: ", "unexpected byte 0x01" },
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_ptr_null(jv_parse(cases[i].s, strlen(cases[i].s),
		    err, sizeof err));
		ck_assert_msg(strncmp(err, cases[i].prefix,
		    strlen(cases[i].prefix)) == 0 &&
		    strstr(err, cases[i].reason) != NULL,
		    "%s: got \"%s\", want \"%s...%s\"", show(cases[i].s,
		    strlen(cases[i].s)), err, cases[i].prefix,
		    cases[i].reason);
	}
}
END_TEST

START_TEST(test_error_buffer)
{
	char err[8];

	/* No buffer at all, or a tiny one: still a clean failure. */
	ck_assert_ptr_null(jv_parse("[1,]", 4, NULL, 0));
	ck_assert_ptr_null(jv_parse("[1,]", 4, err, 0));
	memset(err, 'x', sizeof err);
	ck_assert_ptr_null(jv_parse("[1,]", 4, err, sizeof err));
	ck_assert_uint_eq(strlen(err), sizeof err - 1);
	ck_assert_ptr_null(jv_parse(NULL, 0, err, sizeof err));
	ck_assert_uint_gt(strlen(err), 0);
	/* err is only written on failure. */
	strcpy(err, "keep");
	jv_decref(jv_parse("[1]", 3, err, sizeof err));
	ck_assert_str_eq(err, "keep");
	/* A buffer need not be NUL-terminated: only len bytes are read. */
	jv_decref(assert_same_accept("[12]34", 4));
	jv_decref(assert_same_accept("\"ab\"cd", 4));
}
END_TEST

/*
 * Strings of every length around the word size with a special character
 * at every position: exercises the word-at-a-time scan and its tail.
 */
START_TEST(test_string_boundaries)
{
	static const char *const specials[] = {
		"\\n", "\\\"", "\\u00e9", "\\ud83d\\ude00", "\xc3\xa9",
		"\xe2\x82\xac", "\xf0\x9f\x98\x80", "\x7f", " ", "~",
	};
	static const char *const bad[] = {
		"\x01", "\x1f", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\\u0000", "\\x", "\xc3",
	};
	char buf[128];
	size_t len, pos, k, n;

	for (len = 0; len <= 24; len++) {
		for (pos = 0; pos <= len; pos++) {
			for (k = 0; k < sizeof specials / sizeof *specials;
			    k++) {
				n = (size_t)snprintf(buf, sizeof buf,
				    "\"%.*s%s%.*s\"", (int)pos,
				    "abcdefghijklmnopqrstuvwxyz", specials[k],
				    (int)(len - pos), "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
				jv_decref(assert_same_accept(buf, n));
				/* Unterminated: end of input in the string. */
				assert_both_reject(buf, n - 1);
			}
			for (k = 0; k < sizeof bad / sizeof *bad; k++) {
				n = (size_t)snprintf(buf, sizeof buf,
				    "\"%.*s%s%.*s\"", (int)pos,
				    "abcdefghijklmnopqrstuvwxyz", bad[k],
				    (int)(len - pos), "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
				assert_both_reject(buf, n);
			}
		}
	}
}
END_TEST

/* Escaped keys and values longer than the inline scratch buffers. */
START_TEST(test_long_escaped)
{
	char *buf = malloc(40000);
	size_t n = 0, i;

	ck_assert_ptr_nonnull(buf);
	n += (size_t)sprintf(buf + n, "{\"");
	for (i = 0; i < 1000; i++)
		n += (size_t)sprintf(buf + n, "k\\u00e9y%zu", i);
	n += (size_t)sprintf(buf + n, "\": \"");
	for (i = 0; i < 1000; i++)
		n += (size_t)sprintf(buf + n, "v\\n\\\"%zu\\ud83d\\ude00", i);
	n += (size_t)sprintf(buf + n, "\", \"k\\u00e9y0\": [\"\\t\"]}");
	jv_decref(assert_same_accept(buf, n));
	free(buf);
}
END_TEST

START_TEST(test_numbers)
{
	ttpd_value *v;
	int64_t i;
	double d;
	char err[128];

	v = assert_same_accept("-0", 2);
	ck_assert_int_eq(jv_type(v), TTPD_VT_INT);
	ck_assert_int_eq(jv_get_int(v, &i), TTPD_OK);
	ck_assert_int_eq(i, 0);
	jv_decref(v);

	v = assert_same_accept("-0.0", 4);
	ck_assert_int_eq(jv_type(v), TTPD_VT_REAL);
	ck_assert_int_eq(jv_get_number(v, &d), TTPD_OK);
	ck_assert(d == 0.0 && signbit(d));
	jv_decref(v);

	v = assert_same_accept("9223372036854775807", 19);
	ck_assert_int_eq(jv_get_int(v, &i), TTPD_OK);
	ck_assert(i == INT64_MAX);
	jv_decref(v);

	v = assert_same_accept("-9223372036854775808", 20);
	ck_assert_int_eq(jv_get_int(v, &i), TTPD_OK);
	ck_assert(i == INT64_MIN);
	jv_decref(v);

	v = assert_same_accept("1e308", 5);
	ck_assert_int_eq(jv_type(v), TTPD_VT_REAL);
	ck_assert_int_eq(jv_get_number(v, &d), TTPD_OK);
	ck_assert(d == 1e308);
	jv_decref(v);

	/* strtod's correct rounding, bit for bit. */
	v = assert_same_accept("0.1", 3);
	ck_assert_int_eq(jv_get_number(v, &d), TTPD_OK);
	ck_assert(d == strtod("0.1", NULL));
	jv_decref(v);
	v = assert_same_accept("2.2250738585072011e-308", 23);
	ck_assert_int_eq(jv_get_number(v, &d), TTPD_OK);
	ck_assert(d == strtod("2.2250738585072011e-308", NULL));
	jv_decref(v);

	/* Underflow is not an error (jansson neither). */
	v = assert_same_accept("1e-400", 6);
	ck_assert_int_eq(jv_get_number(v, &d), TTPD_OK);
	ck_assert(d == 0.0);
	jv_decref(v);

	ck_assert_ptr_null(jv_parse("1e309", 5, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "real number overflow"));
	ck_assert_ptr_null(jv_parse("9223372036854775808", 19, err,
	    sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "too big integer"));
	assert_both_reject("1e309", 5);
	assert_both_reject("9223372036854775808", 19);
}
END_TEST

/* A real token longer than the inline conversion buffer. */
START_TEST(test_long_number)
{
	char buf[600];
	size_t n;

	memset(buf, '1', 300);
	buf[300] = '.';
	memset(buf + 301, '7', 200);
	memcpy(buf + 501, "e-250", 5);
	n = 506;
	jv_decref(assert_same_accept(buf, n));
	memcpy(buf + 501, "e+100", 5);
	assert_both_reject(buf, n);	/* 1e400: overflow */
	assert_both_reject(buf, 300);	/* integer: too big */
}
END_TEST

static char *
nested(size_t depth, const char *open, const char *inner, const char *close,
    size_t *len)
{
	size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
	char *s = malloc(depth * (lo + lc) + li + 1), *p = s;
	size_t i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < depth; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, inner, li);
	p += li;
	for (i = 0; i < depth; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	*len = (size_t)(p - s);
	return s;
}

START_TEST(test_depth_limit)
{
	struct {
		size_t depth;
		const char *open, *inner, *close;
		int ok;
	} cases[] = {
		/* jansson counts every value: 2048 levels, scalars included. */
		{ 2048, "[", "", "]", 1 },
		{ 2047, "[", "1", "]", 1 },
		{ 2048, "[", "1", "]", 0 },
		{ 2049, "[", "", "]", 0 },
		{ 2048, "{\"a\":", "{}", "}", 0 },
		{ 2047, "{\"a\":", "{}", "}", 1 },
		{ 2047, "[{\"k\":[1,", "\"x\"", "]}]", 0 },
		{ 682, "[{\"k\":", "\"x\"", "}]", 1 },
	};
	char err[128];
	size_t i, len;
	char *s;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		s = nested(cases[i].depth, cases[i].open, cases[i].inner,
		    cases[i].close, &len);
		if (cases[i].ok)
			jv_decref(assert_same_accept(s, len));
		else {
			assert_both_reject(s, len);
			ck_assert_ptr_null(jv_parse(s, len, err, sizeof err));
			ck_assert_ptr_nonnull(strstr(err,
			    "maximum nesting depth"));
		}
		free(s);
	}
	/* Far deeper than any stack would take recursively. */
	s = nested(1000000, "[", "", "]", &len);
	ck_assert_ptr_null(jv_parse(s, len, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "1:2049: maximum nesting depth"));
	free(s);
}
END_TEST

START_TEST(test_huge_string)
{
	static const char pattern[] = "\\n\xc3\xa9\\u20ac\\\"";
	const size_t size = 10u << 20;
	char *s = malloc(size + 64);
	size_t n = 0, len;
	const char *got;
	ttpd_value *v;

	ck_assert_ptr_nonnull(s);
	/* Plain ASCII: handed to jansson straight from the input. */
	s[n++] = '"';
	memset(s + n, 'x', size);
	n += size;
	s[n++] = '"';
	v = assert_same_accept(s, n);
	ck_assert_int_eq(jv_get_string(v, &got, &len), TTPD_OK);
	ck_assert_uint_eq(len, size);
	jv_decref(v);

	/* With escapes and UTF-8 throughout: through the scratch buffer. */
	for (n = 1; n + 16 < size; n += 100)
		memcpy(s + n, pattern, sizeof pattern - 1);
	v = assert_same_accept(s, size + 2);
	jv_decref(v);
	free(s);
}
END_TEST

/* Every line of the golden files through both parsers. */
static char **
golden_lines(size_t *count)
{
	static const char *const files[] = {
		"events.jsonl", "expected.jsonl", "notes.jsonl",
		"deviations.jsonl",
	};
	const char *shared = tu_env("TTPD_SHARED_DIR");
	char path[4096], **lines = NULL;
	size_t n = 0, cap = 0, f, len;

	for (f = 0; f < sizeof files / sizeof files[0]; f++) {
		char *text, *p, *nl;

		snprintf(path, sizeof path, "%s/golden/%s", shared, files[f]);
		text = tu_read_file(path, &len);
		ck_assert_msg(text != NULL, "cannot read %s", path);
		for (p = text; *p != '\0'; p = nl + 1) {
			if ((nl = strchr(p, '\n')) == NULL)
				nl = p + strlen(p);
			if (n == cap) {
				cap = cap == 0 ? 1024 : cap * 2;
				lines = realloc(lines, cap * sizeof *lines);
				ck_assert_ptr_nonnull(lines);
			}
			lines[n] = strndup(p, (size_t)(nl - p));
			ck_assert_ptr_nonnull(lines[n]);
			n++;
			if (*nl == '\0')
				break;
		}
		free(text);
	}
	*count = n;
	return lines;
}

static void
free_lines(char **lines, size_t n)
{
	while (n > 0)
		free(lines[--n]);
	free(lines);
}

START_TEST(test_golden_differential)
{
	size_t n, i, accepted = 0;
	char **lines = golden_lines(&n);

	ck_assert_uint_gt(n, 7000);
	for (i = 0; i < n; i++) {
		size_t len = strlen(lines[i]);
		json_t *theirs = jansson_parse(lines[i], len);

		if (theirs != NULL) {
			jv_decref(assert_same_accept(lines[i], len));
			json_decref(theirs);
			accepted++;
		} else
			assert_both_reject(lines[i], len);
	}
	/* The golden set is valid JSON, blank lines aside. */
	ck_assert_uint_gt(accepted, n - 10);
	free_lines(lines, n);
}
END_TEST

static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static size_t
rng_below(size_t n)
{
	return n == 0 ? 0 : (size_t)(rng() % n);
}

static const char *const fuzz_tokens[] = {
	"\"", "\\", "\0", "\xc0", "\xed\xa0\x80", "\xf4\x90", "[", "{", "]",
	"}", ",", ":", "\\u", "\\ud800", "\\udc00", "\\u0000", "\\ud83d\\ude00",
	"\\u00e9", "0", "-", ".", "e", "E+", "1e400", "99999999999999999999",
	"9223372036854775807", " ", "\n", "\x01", "\x1f", "\x7f", "\xc3\xa9",
	"\xf0\x9f\x98\x80", "\xe0\x80\x80", "\xff", "\x80", "\xc3", "true",
	"nul", "\\\"", "\"\"", "[]", "{}", "\"a\":", "-0", "0.5",
};

/* fuzz_tokens[i] with its length (the NUL token is one byte). */
static size_t
token_len(size_t i)
{
	return fuzz_tokens[i][0] == '\0' ? 1 : strlen(fuzz_tokens[i]);
}

/* Apply one random mutation to buf[0..*n) (capacity cap). */
static void
mutate(char *buf, size_t *n, size_t cap)
{
	size_t at = rng_below(*n + 1), k, len, src;
	const char *tok;

	switch (rng_below(8)) {
	case 0:	/* flip a bit */
		if (*n > 0)
			buf[rng_below(*n)] ^= (char)(1u << rng_below(8));
		break;
	case 1:	/* replace a byte */
		if (*n > 0)
			buf[rng_below(*n)] = (char)rng_below(256);
		break;
	case 2:	/* replace a byte by a special token */
	case 3:	/* insert a special token */
		k = rng_below(sizeof fuzz_tokens / sizeof fuzz_tokens[0]);
		tok = fuzz_tokens[k];
		len = token_len(k);
		if (*n + len > cap)
			break;
		if (at < *n && rng_below(2) == 0) {
			memmove(buf + at + len, buf + at + 1, *n - at - 1);
			*n -= 1;
		} else
			memmove(buf + at + len, buf + at, *n - at);
		memcpy(buf + at, tok, len);
		*n += len;
		break;
	case 4:	/* truncate */
		*n = at;
		break;
	case 5:	/* delete a few bytes */
		len = 1 + rng_below(8);
		if (at + len > *n)
			len = *n - at;
		memmove(buf + at, buf + at + len, *n - at - len);
		*n -= len;
		break;
	case 6:	/* duplicate a range */
		if (*n == 0)
			break;
		src = rng_below(*n);
		len = 1 + rng_below(32);
		if (src + len > *n)
			len = *n - src;
		if (*n + len > cap)
			break;
		memmove(buf + at + len, buf + at, *n - at);
		memmove(buf + at, buf + (src < at ? src : src + len), len);
		*n += len;
		break;
	default: /* replace a digit run start by another number */
		for (k = at; k < *n; k++)
			if (buf[k] >= '0' && buf[k] <= '9')
				break;
		if (k < *n)
			buf[k] = "0123456789-.eE+"[rng_below(15)];
		break;
	}
}

static unsigned long
env_number(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (v == NULL || *v == '\0')
		return dflt;
	n = strtoul(v, &end, 0);
	ck_assert_msg(*end == '\0', "%s is not a number: %s", name, v);
	return n;
}

/*
 * jansson accepted, jv_parse rejected: only allowed for NUL bytes right
 * after a token, which jansson skips.  Without them jv_parse must accept
 * and agree.
 */
static int
nul_quirk(const char *s, size_t n, json_t *theirs)
{
	char *stripped;
	size_t i, m = 0;
	ttpd_value *ours;
	int same;

	if (memchr(s, '\0', n) == NULL || (stripped = malloc(n + 1)) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] != '\0')
			stripped[m++] = s[i];
	ours = jv_parse(stripped, m, NULL, 0);
	same = ours != NULL && same_value(J(ours), theirs);
	jv_decref(ours);
	free(stripped);
	return same;
}

START_TEST(test_fuzz_differential)
{
	unsigned long iterations = env_number("TTPD_JSON_FUZZ_ITERATIONS",
	    200000);
	uint64_t seed = env_number("TTPD_JSON_FUZZ_SEED", 0x5eed1e55ul);
	size_t nlines, it, n, cap = 0, seeds;
	size_t both_ok = 0, both_bad = 0, quirk = 0;
	char **lines = golden_lines(&nlines), *buf = NULL, err[256];

	rng_state = seed != 0 ? seed : 1;
	/* Small documents mutate into valid ones far more often. */
	seeds = nlines + sizeof valid_docs / sizeof valid_docs[0];
	for (it = 0; it < nlines; it++)
		if (strlen(lines[it]) + 512 > cap)
			cap = strlen(lines[it]) + 512;
	buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	for (it = 0; it < iterations; it++) {
		size_t pick = rng_below(seeds), m, rounds;
		ttpd_value *ours;
		json_t *theirs;

		if (pick < nlines) {
			n = strlen(lines[pick]);
			memcpy(buf, lines[pick], n);
		} else {
			n = valid_docs[pick - nlines].n;
			memcpy(buf, valid_docs[pick - nlines].s, n);
		}
		rounds = 1 + (rng_below(4) == 0 ? rng_below(4) : 0);
		for (m = 0; m < rounds; m++)
			mutate(buf, &n, cap);
		ours = jv_parse(buf, n, err, sizeof err);
		theirs = jansson_parse(buf, n);
		if (ours != NULL && theirs != NULL) {
			ck_assert_msg(same_value(J(ours), theirs),
			    "seed %#" PRIx64 " iteration %zu: values differ "
			    "for %s", seed, it, show(buf, n));
			both_ok++;
		} else if (ours == NULL && theirs == NULL)
			both_bad++;
		else if (theirs != NULL && nul_quirk(buf, n, theirs))
			quirk++;
		else
			ck_abort_msg("seed %#" PRIx64 " iteration %zu: jv_parse "
			    "%s, jansson %s: %s", seed, it,
			    ours != NULL ? "accepts" : err,
			    theirs != NULL ? "accepts" : "rejects",
			    show(buf, n));
		jv_decref(ours);
		json_decref(theirs);
	}
	fprintf(stderr, "fuzz: %lu inputs, %zu accepted by both, %zu rejected "
	    "by both, %zu NUL-after-token (documented)\n", iterations, both_ok,
	    both_bad, quirk);
	/* The mutations must exercise both outcomes. */
	if (iterations >= 1000) {
		ck_assert_uint_gt(both_ok, iterations / 20);
		ck_assert_uint_gt(both_bad, iterations / 20);
	}
	free(buf);
	free_lines(lines, nlines);
}
END_TEST

struct utf8_case {
	const char *s;
	size_t n;
	int valid;
};

#define U8(lit, ok) { lit, sizeof lit - 1, ok }

START_TEST(test_utf8_valid)
{
	static const struct utf8_case cases[] = {
		U8("", 1), U8("plain ascii", 1), U8("a\0b", 1),
		U8("\xc2\x80", 1), U8("\xdf\xbf", 1), U8("\xe0\xa0\x80", 1),
		U8("\xed\x9f\xbf", 1), U8("\xee\x80\x80", 1),
		U8("\xef\xbf\xbf", 1), U8("\xf0\x90\x80\x80", 1),
		U8("\xf4\x8f\xbf\xbf", 1), U8("caf\xc3\xa9", 1),
		U8("\xf0\x9f\x98\x80!", 1),
		U8("\x80", 0), U8("\xbf", 0), U8("\xc0\x80", 0),
		U8("\xc1\xbf", 0), U8("\xc2", 0), U8("\xc2\x41", 0),
		U8("\xe0\x80\x80", 0), U8("\xe0\x9f\xbf", 0),
		U8("\xed\xa0\x80", 0), U8("\xed\xbf\xbf", 0),
		U8("\xe2\x82", 0), U8("\xf0\x80\x80\x80", 0),
		U8("\xf0\x8f\xbf\xbf", 0), U8("\xf4\x90\x80\x80", 0),
		U8("\xf5\x80\x80\x80", 0), U8("\xf8\x88\x80\x80\x80", 0),
		U8("\xfe", 0), U8("\xff", 0), U8("\xf0\x9f\x98", 0),
		U8("ok\xc3", 0),
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(jv_utf8_valid(cases[i].s, cases[i].n) ==
		    cases[i].valid, "jv_utf8_valid(%s) != %d",
		    show(cases[i].s, cases[i].n), cases[i].valid);
}
END_TEST

/*
 * Random byte strings: jv_utf8_valid, jv_parse of the quoted string and
 * jansson all agree on what is valid UTF-8.
 */
START_TEST(test_utf8_random)
{
	static const unsigned char alphabet[] = {
		'a', 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
		0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1,
		0xf3, 0xf4, 0xf5, 0xff,
	};
	char buf[16];
	size_t it, i, n;

	rng_state = 0x1234567;
	for (it = 0; it < 200000; it++) {
		ttpd_value *ours;
		json_t *theirs;
		int valid;

		n = 1 + rng_below(6);
		buf[0] = '"';
		for (i = 1; i <= n; i++)
			buf[i] = (char)alphabet[rng_below(sizeof alphabet)];
		buf[n + 1] = '"';
		valid = jv_utf8_valid(buf + 1, n);
		ours = jv_parse(buf, n + 2, NULL, 0);
		theirs = jansson_parse(buf, n + 2);
		ck_assert_msg((ours != NULL) == valid &&
		    (theirs != NULL) == valid, "%s: jv_utf8_valid %d, "
		    "jv_parse %d, jansson %d", show(buf, n + 2), valid,
		    ours != NULL, theirs != NULL);
		jv_decref(ours);
		json_decref(theirs);
	}
}
END_TEST

/* The parsed values work with the rest of the jv_* API. */
START_TEST(test_values_usable)
{
	static const char text[] = "{\"kind\":\"cmd\",\"n\":3,\"x\":0.5,"
	    "\"ok\":true,\"list\":[1,\"two\"],\"o\":{\"a\\/b\":null},"
	    "\"k\":1,\"k\":2}";
	ttpd_value *v = jv_parse(text, sizeof text - 1, NULL, 0);
	const char *s;
	size_t len;
	int64_t i;
	char *out;

	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(jv_type(v), TTPD_VT_OBJECT);
	ck_assert_uint_eq(jv_object_size(v), 7);
	ck_assert_str_eq(jv_string(jv_object_get(v, "kind")), "cmd");
	ck_assert_int_eq(jv_get_int(jv_object_get(v, "n"), &i), TTPD_OK);
	ck_assert_int_eq(i, 3);
	ck_assert_int_eq(jv_get_int(jv_object_get(v, "k"), &i), TTPD_OK);
	ck_assert_int_eq(i, 2);
	ck_assert_int_eq(jv_get_string(jv_pointer_get(v, "/list/1"), &s,
	    &len), TTPD_OK);
	ck_assert_uint_eq(len, 3);
	ck_assert_str_eq(s, "two");
	ck_assert_int_eq(jv_type(jv_pointer_get(v, "/o/a~1b")), TTPD_VT_NULL);
	out = jv_dump(v);
	ck_assert_str_eq(out, "{\"kind\":\"cmd\",\"n\":3,\"x\":0.5,\"ok\":true,"
	    "\"list\":[1,\"two\"],\"o\":{\"a/b\":null},\"k\":2}");
	free(out);
	jv_decref(v);
}
END_TEST

/*
 * jv_dump against json_dumps(JSON_COMPACT | JSON_ENCODE_ANY): the same
 * bytes, or NULL from both.
 */
static void
assert_same_dump(json_t *j, const char *what)
{
	char *ours = jv_dump((const ttpd_value *)(void *)j), *theirs = dump(j);

	if (theirs == NULL)
		ck_assert_msg(ours == NULL, "%s: json_dumps fails, jv_dump "
		    "gives %s", what, show(ours, strlen(ours)));
	else {
		ck_assert_msg(ours != NULL, "%s: jv_dump fails, json_dumps "
		    "gives %s", what, show(theirs, strlen(theirs)));
		ck_assert_msg(strcmp(ours, theirs) == 0, "%s: jv_dump %s",
		    what, show(ours, strlen(ours)));
	}
	free(ours);
	free(theirs);
}

/* Same, and steal j. */
static void
assert_same_dump_new(json_t *j, const char *what)
{
	ck_assert_ptr_nonnull(j);
	assert_same_dump(j, what);
	json_decref(j);
}

/* jv_dump(j) is exactly `want` (and json_dumps agrees); steals j. */
static void
assert_dump_is(json_t *j, const char *want)
{
	char *ours;

	ck_assert_ptr_nonnull(j);
	ours = jv_dump((const ttpd_value *)(void *)j);
	ck_assert_ptr_nonnull(ours);
	ck_assert_str_eq(ours, want);
	free(ours);
	assert_same_dump_new(j, want);
}

START_TEST(test_dump_golden)
{
	size_t n, i, dumped = 0;
	char **lines = golden_lines(&n);

	for (i = 0; i < n; i++) {
		ttpd_value *v = jv_parse(lines[i], strlen(lines[i]), NULL, 0);

		if (v == NULL)
			continue;
		assert_same_dump(J(v), show(lines[i], strlen(lines[i])));
		jv_decref(v);
		dumped++;
	}
	ck_assert_uint_gt(dumped, n - 10);
	free_lines(lines, n);
}
END_TEST

/* Every ASCII byte (NUL included) alone, between letters and in a key. */
START_TEST(test_dump_ascii)
{
	char s[8], what[32];
	unsigned c;
	json_t *o;

	for (c = 0; c < 0x80; c++) {
		snprintf(what, sizeof what, "byte 0x%02x", c);
		s[0] = (char)c;
		assert_same_dump_new(json_stringn(s, 1), what);
		memcpy(s, "ab", 2);
		s[2] = (char)c;
		memcpy(s + 3, "cd", 2);
		assert_same_dump_new(json_stringn(s, 5), what);
		s[3] = (char)c;
		assert_same_dump_new(json_stringn(s, 4), what);
		o = json_object();
		ck_assert_int_eq(json_object_setn_new(o, s, 5,
		    json_stringn(s + 2, 1)), 0);
		assert_same_dump_new(o, what);
	}
	/* The choices jansson makes, spelled out. */
	assert_dump_is(json_stringn("\x01\x1f\x7f/\b\f\n\r\t\"\\\0", 12),
	    "\"\\u0001\\u001F\x7f/\\b\\f\\n\\r\\t\\\"\\\\\\u0000\"");
	assert_dump_is(json_string("\x0b\x1b"), "\"\\u000B\\u001B\"");
}
END_TEST

/*
 * Strings of 1..300 bytes with one special at every position: the word
 * scan, its tail and the buffer growth around each escape.
 */
START_TEST(test_dump_string_positions)
{
	static const char *const specials[] = {
		"\"", "\\", "\n", "\x01", "\x1f", "\0", "\x7f", "/",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\t\t",
	};
	char buf[320], what[64];
	size_t len, pos, k, sl, i;

	for (len = 1; len <= 300; len++) {
		for (pos = 0; pos < len; pos++) {
			for (k = 0; k < sizeof specials / sizeof *specials;
			    k++) {
				sl = specials[k][0] == '\0' ? 1 :
				    strlen(specials[k]);
				if (pos + sl > len)
					continue;
				for (i = 0; i < len; i++)
					buf[i] = (char)('a' + i % 26);
				memcpy(buf + pos, specials[k], sl);
				snprintf(what, sizeof what, "len %zu pos %zu "
				    "special %zu", len, pos, k);
				assert_same_dump_new(json_stringn(buf, len),
				    what);
			}
		}
		/* Nothing but escapes: the output is six times the input. */
		memset(buf, 0x01, len);
		assert_same_dump_new(json_stringn(buf, len), "all \\u0001");
		memset(buf, '"', len);
		assert_same_dump_new(json_stringn(buf, len), "all quotes");
	}
}
END_TEST

START_TEST(test_dump_utf8)
{
	static const char *const texts[] = {
		"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
		"\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80",
		"\xf4\x8f\xbf\xbf", "caf\xc3\xa9 \xe2\x82\xac\xf0\x9f\x98\x80",
		"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc"
		    "\xd0\xb8\xd1\x80\n\xe4\xbd\xa0\xe5\xa5\xbd\"",
	};
	static const char *const invalid[] = {
		"\xff", "\x80", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"abcdefgh\xc3", "abcdefghijklmnop\xe2\x82",
	};
	size_t i;

	for (i = 0; i < sizeof texts / sizeof *texts; i++)
		assert_same_dump_new(json_string(texts[i]), texts[i]);
	assert_dump_is(json_string("\xc3\xa9\xf0\x9f\x98\x80"),
	    "\"\xc3\xa9\xf0\x9f\x98\x80\"");
	/* jansson refuses bad UTF-8 while dumping; such a string can only
	 * be made behind its back. */
	for (i = 0; i < sizeof invalid / sizeof *invalid; i++) {
		json_t *a = json_array();

		json_array_append_new(a, json_stringn_nocheck(invalid[i],
		    strlen(invalid[i])));
		assert_same_dump(json_array_get(a, 0), "bad UTF-8");
		ck_assert_ptr_null(jv_dump((const ttpd_value *)(void *)
		    json_array_get(a, 0)));
		assert_same_dump_new(a, "bad UTF-8 in an array");
	}
}
END_TEST

START_TEST(test_dump_scalars)
{
	static const struct {
		double d;
		const char *want;
	} reals[] = {
		{ 0.0, "0.0" }, { -0.0, "-0.0" }, { 1e-300, "1e-300" },
		{ 1e300, "1.0000000000000001e300" },
		{ 0.1, "0.10000000000000001" }, { 1.5, "1.5" },
		{ 123456789012345678.0, "1.2345678901234568e17" },
		{ 5e-324, "4.9406564584124654e-324" }, { 1.0, "1.0" },
		{ 100.0, "100.0" }, { -7.0, "-7.0" },
		{ 1e16, "10000000000000000.0" }, { 1e17, "1e17" },
		{ 1e22, "1e22" }, { 1e-5, "1.0000000000000001e-5" },
		{ 1e-4, "0.0001" }, { 1.7976931348623157e308,
		    "1.7976931348623157e308" },
		{ 2.2250738585072014e-308, "2.2250738585072014e-308" },
		{ -1.5e-10, "-1.5e-10" }, { 0.30000000000000004,
		    "0.30000000000000004" }, { 1712345678.25, "1712345678.25" },
	};
	static const struct {
		json_int_t i;
		const char *want;
	} ints[] = {
		{ INT64_MIN, "-9223372036854775808" },
		{ INT64_MAX, "9223372036854775807" }, { 0, "0" }, { -1, "-1" },
		{ 1, "1" }, { 9, "9" }, { 10, "10" }, { -10, "-10" },
		{ 1000000000000000000, "1000000000000000000" },
		{ INT64_MIN + 1, "-9223372036854775807" },
	};
	size_t i;

	for (i = 0; i < sizeof reals / sizeof *reals; i++)
		assert_dump_is(json_real(reals[i].d), reals[i].want);
	for (i = 0; i < sizeof ints / sizeof *ints; i++)
		assert_dump_is(json_integer(ints[i].i), ints[i].want);
	assert_dump_is(json_true(), "true");
	assert_dump_is(json_false(), "false");
	assert_dump_is(json_null(), "null");
	assert_dump_is(json_string(""), "\"\"");
	ck_assert_ptr_null(jv_dump(NULL));
}
END_TEST

START_TEST(test_dump_containers)
{
	static const char *const docs[] = {
		"{}", "[]", "[[]]", "[{}]", "{\"a\":{}}", "{\"\":[]}",
		"[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]",
		"{\"a\":{\"b\":[1,{\"c\":null}],\"d\":[]},\"e\":-0.5}",
		"[{}, [], \"\", 0, -0.5, true, false, null, 1e300]",
		"{\"k\\\"ey\\u0001\":1, \"\\u00e9\":[\"\\t\"], \"/\":2}",
		"{\"z\":1,\"a\":2,\"m\":3,\"b\":4}",
	};
	json_t *o, *shared, *a, *cur;
	size_t i;

	for (i = 0; i < sizeof docs / sizeof *docs; i++)
		assert_same_dump_new(jansson_parse(docs[i], strlen(docs[i])),
		    docs[i]);
	assert_dump_is(json_pack("{s:i,s:[i,{}],s:{}}", "z", 1, "a", 2, "m"),
	    "{\"z\":1,\"a\":[2,{}],\"m\":{}}");

	/* Insertion order survives replacing and deleting members. */
	o = json_object();
	json_object_set_new(o, "b", json_integer(1));
	json_object_set_new(o, "a", json_integer(2));
	json_object_set_new(o, "c", json_integer(3));
	json_object_set_new(o, "b", json_integer(4));
	json_object_del(o, "a");
	json_object_set_new(o, "a", json_integer(5));
	json_object_setn_new(o, "n\0ul", 4, json_true());
	assert_dump_is(o, "{\"b\":4,\"c\":3,\"a\":5,\"n\\u0000ul\":true}");

	/* One value twice is not a cycle. */
	shared = json_pack("{s:[i,s]}", "x", 1, "y");
	a = json_array();
	json_array_append(a, shared);
	json_array_append(a, shared);
	o = json_object();
	json_object_set(o, "p", shared);
	json_object_set(o, "q", shared);
	json_array_append_new(a, o);
	assert_dump_is(a, "[{\"x\":[1,\"y\"]},{\"x\":[1,\"y\"]},"
	    "{\"p\":{\"x\":[1,\"y\"]},\"q\":{\"x\":[1,\"y\"]}}]");
	json_decref(shared);

	/* Deeper than the frame stack's inline part, alternating kinds. */
	a = json_array();
	for (cur = a, i = 0; i < 3000; i++) {
		json_t *n = i % 2 ? json_array() : json_object();

		if (json_is_array(cur))
			json_array_append_new(cur, n);
		else
			json_object_set_new(cur, "k", n);
		if (i % 7 == 0) {
			if (json_is_array(cur))
				json_array_append_new(cur, json_integer(
				    (json_int_t)i));
			else
				json_object_set_new(cur, "i", json_integer(
				    (json_int_t)i));
		}
		cur = n;
	}
	assert_same_dump_new(a, "3000 levels");
}
END_TEST

/* Nesting far deeper than jansson's recursion survives (no reference). */
START_TEST(test_dump_very_deep)
{
	const size_t depth = 1000000;
	json_t *root = json_array(), *cur = root, *n;
	char *out;
	size_t i;

	for (i = 1; i < depth; i++) {
		n = json_array();
		json_array_append_new(cur, n);
		cur = n;
	}
	out = jv_dump((const ttpd_value *)(void *)root);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(strlen(out), 2 * depth);
	for (i = 0; i < depth; i++)
		ck_assert(out[i] == '[' && out[depth + i] == ']');
	free(out);
	/* json_decref recurses too: take the chain apart from the top. */
	for (cur = root; cur != NULL; cur = n) {
		n = json_array_size(cur) > 0 ? json_incref(json_array_get(cur,
		    0)) : NULL;
		json_decref(cur);
	}
}
END_TEST

/* A container inside itself: NULL from both (jansson refuses direct
 * self-insertion, so the loops go through a second container). */
START_TEST(test_dump_cycle)
{
	json_t *a = json_object(), *b = json_object(), *arr = json_array();
	json_t *outer = json_array(), *cur;
	size_t i;

	ck_assert_int_eq(json_object_set(a, "b", b), 0);
	ck_assert_int_eq(json_object_set(b, "a", a), 0);
	assert_same_dump(a, "object cycle");
	ck_assert_ptr_null(jv_dump((const ttpd_value *)(void *)a));
	ck_assert_ptr_null(jv_dump((const ttpd_value *)(void *)b));

	json_array_append(arr, json_null());
	json_array_append(arr, a);
	assert_same_dump(arr, "array leading into a cycle");
	ck_assert_ptr_null(jv_dump((const ttpd_value *)(void *)arr));

	/* A loop closing 40 levels down, past the inline frames. */
	for (cur = outer, i = 0; i < 40; i++) {
		json_t *n = json_array();

		json_array_append_new(cur, json_string("x"));
		json_array_append_new(cur, n);
		cur = n;
	}
	json_array_append(cur, outer);
	assert_same_dump(outer, "deep array cycle");
	ck_assert_ptr_null(jv_dump((const ttpd_value *)(void *)outer));

	/* Break the loops so that everything is freed. */
	json_array_clear(cur);
	json_object_clear(b);
	json_decref(outer);
	json_decref(arr);
	json_decref(a);
	json_decref(b);
}
END_TEST

/* jv_dump_into() reuses and grows the caller's buffer, and says what
 * jv_dump() says. */
START_TEST(test_dump_into)
{
	ttpd_value *o = jv_new_object(), *big;
	char *buf = NULL, *text, *first;
	size_t cap = 0, len = 0;
	char huge[1000];

	ck_assert_int_eq(jv_object_set_new(o, "k", jv_new_int(1)), TTPD_OK);
	ck_assert_int_eq(jv_dump_into(o, &buf, &cap, &len), 0);
	ck_assert_str_eq(buf, "{\"k\":1}");
	ck_assert_uint_eq(len, 7);
	ck_assert_uint_ge(cap, len + 1);
	first = buf;
	ck_assert_int_eq(jv_dump_into(o, &buf, &cap, &len), 0);
	ck_assert_ptr_eq(buf, first);   /* room enough: no new buffer */
	memset(huge, 'x', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	big = jv_new_string(huge, sizeof huge - 1);
	ck_assert_int_eq(jv_object_set_new(o, "s", big), TTPD_OK);
	ck_assert_int_eq(jv_dump_into(o, &buf, &cap, &len), 0);
	text = jv_dump(o);
	ck_assert_str_eq(buf, text);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_uint_ge(cap, len + 1);
	free(text);
	ck_assert_int_eq(jv_dump_into(NULL, &buf, &cap, &len), -1);
	free(buf);
	jv_decref(o);
}
END_TEST

/* Every change through the value API counts, refused ones included. */
START_TEST(test_changes_counted)
{
	ttpd_value *o = jv_new_object(), *a = jv_new_array();
	uint64_t c = jv_changes();

	ck_assert_int_eq(jv_object_set_new(o, "k", jv_new_int(1)), TTPD_OK);
	ck_assert(jv_changes() > c);
	c = jv_changes();
	ck_assert_int_eq(jv_array_append_new(a, jv_new_int(1)), TTPD_OK);
	ck_assert(jv_changes() > c);
	c = jv_changes();
	ck_assert_int_eq(jv_object_set(o, "a", a), TTPD_OK);
	ck_assert(jv_changes() > c);
	c = jv_changes();
	ck_assert_int_eq(jv_array_append(a, o), TTPD_EINVAL); /* a cycle */
	ck_assert(jv_changes() > c);
	c = jv_changes();
	/* reading and building are not changes */
	ck_assert_ptr_nonnull(jv_object_get(o, "k"));
	jv_decref(jv_new_object());
	ck_assert(jv_changes() == c);
	jv_decref(a);
	jv_decref(o);
}
END_TEST

static const char *const string_pieces[] = {
	"a", "Z", "0", " ", "/", "~", "\x7f", "\"", "\\", "\n", "\r", "\t",
	"\b", "\f", "\x01", "\x1f", "\x1b", "\0", "\xc3\xa9", "\xd0\x96",
	"\xe2\x82\xac", "\xef\xbf\xbf", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
	"cat /etc/passwd | grep root", "abcdefgh", "\\\\\\", "\"\"",
};

static json_t *
random_string(void)
{
	char buf[4096];
	size_t n = 0, pieces, k, len, cap;

	/* Mostly short, sometimes command-sized. */
	cap = rng_below(8) == 0 ? 2000 : 40;
	pieces = rng_below(cap);
	for (k = 0; k < pieces; k++) {
		size_t p = rng_below(sizeof string_pieces /
		    sizeof string_pieces[0]);

		len = string_pieces[p][0] == '\0' ? 1 :
		    strlen(string_pieces[p]);
		if (n + len > sizeof buf)
			break;
		memcpy(buf + n, string_pieces[p], len);
		n += len;
	}
	return json_stringn(buf, n);
}

static double
random_real(void)
{
	static const double nice[] = {
		0.0, -0.0, 1.0, 100.0, 0.1, 1.5, 1e17, 1e16, 1e-5, 1e300,
		1e-300, 5e-324, 1.7976931348623157e308,
	};
	uint64_t bits;
	double d;

	switch (rng_below(4)) {
	case 0:
		return nice[rng_below(sizeof nice / sizeof nice[0])];
	case 1:	/* whole numbers print without '.' or 'e' */
		return (double)((int64_t)rng() >> rng_below(64));
	case 2:
		return (double)(int64_t)rng_below(100000) /
		    (double)(1 + rng_below(1000));
	default:
		do {
			bits = rng();
			memcpy(&d, &bits, sizeof d);
		} while (!isfinite(d));
		return d;
	}
}

static json_t *
random_value(int depth)
{
	static const char *const keys[] = {
		"source_kind", "payload", "command_text", "a", "", "k\"ey",
		"\xc3\xa9t\xc3\xa9", "x\ny",
	};
	size_t n, i, kind = rng_below(depth > 4 ? 7 : 9);
	json_t *v, *m;

	switch (kind) {
	case 0:
	case 1:
		return random_string();
	case 2:
		return json_integer((json_int_t)((int64_t)rng() >>
		    rng_below(64)));
	case 3:
		return json_real(random_real());
	case 4:
		return json_boolean(rng_below(2));
	case 5:
		return json_null();
	case 6:
		return json_integer((json_int_t)rng_below(2) ? INT64_MIN :
		    INT64_MAX);
	case 7:
		v = json_array();
		n = rng_below(6);
		for (i = 0; i < n; i++)
			json_array_append_new(v, random_value(depth + 1));
		return v;
	default:
		v = json_object();
		n = rng_below(6);
		for (i = 0; i < n; i++) {
			m = random_value(depth + 1);
			if (rng_below(3) == 0) {
				json_t *k = random_string();

				json_object_setn_new(v, json_string_value(k),
				    json_string_length(k), m);
				json_decref(k);
			} else
				json_object_set_new(v, keys[rng_below(
				    sizeof keys / sizeof keys[0])], m);
		}
		return v;
	}
}

START_TEST(test_dump_random)
{
	unsigned long iterations = env_number("TTPD_JSON_FUZZ_ITERATIONS",
	    200000);
	uint64_t seed = env_number("TTPD_JSON_FUZZ_SEED", 0xd0e5ul);
	unsigned long it;
	char what[64];

	rng_state = seed != 0 ? seed : 1;
	for (it = 0; it < iterations; it++) {
		json_t *v = random_value(0);

		snprintf(what, sizeof what, "seed %#" PRIx64 " iteration %lu",
		    seed, it);
		assert_same_dump_new(v, what);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("parse");
	TCase *slow = tcase_create("differential");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_valid_table);
	tcase_add_test(tc, test_invalid_table);
	tcase_add_test(tc, test_nul_after_token);
	tcase_add_test(tc, test_error_messages);
	tcase_add_test(tc, test_error_buffer);
	tcase_add_test(tc, test_string_boundaries);
	tcase_add_test(tc, test_long_escaped);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_long_number);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_utf8_valid);
	tcase_add_test(tc, test_values_usable);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	tcase_add_test(slow, test_huge_string);
	tcase_add_test(slow, test_golden_differential);
	tcase_add_test(slow, test_fuzz_differential);
	tcase_add_test(slow, test_utf8_random);
	tcase_add_test(tc, test_dump_ascii);
	tcase_add_test(tc, test_dump_string_positions);
	tcase_add_test(tc, test_dump_utf8);
	tcase_add_test(tc, test_dump_scalars);
	tcase_add_test(tc, test_dump_containers);
	tcase_add_test(tc, test_dump_cycle);
	tcase_add_test(tc, test_dump_into);
	tcase_add_test(tc, test_changes_counted);
	tcase_add_test(slow, test_dump_very_deep);
	tcase_add_test(slow, test_dump_golden);
	tcase_add_test(slow, test_dump_random);
	tcase_set_timeout(slow, 1200);
	suite_add_tcase(s, slow);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
