/*
 * JSON values over jansson.  ttpd_value is json_t behind an opaque name so
 * that jansson never appears outside this file.
 */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json.h"

#define J(v) ((json_t *)(uintptr_t)(const void *)(v))
#define V(j) ((ttpd_value *)(void *)(j))

/*
 * The parser.  jansson's json_loadb reads the input through a per-character
 * stream with UTF-8 checks and a token buffer, about 80 MB/s on our event
 * lines.  This one is a single pass over the buffer with an explicit stack,
 * a word-at-a-time scan for the plain runs of strings, and strings without
 * escapes handed to jansson straight from the input.  It accepts exactly
 * what json_loadb(JSON_DECODE_ANY) accepts (strict RFC 8259, no NUL in
 * strings, int64 integers, finite reals, depth <= 2048) with one deliberate
 * exception: jansson silently skips a single NUL byte right after a number
 * or literal ("1\0", "[true\0]"), which is rejected here like any other
 * stray byte.
 */

/* jansson's JSON_PARSER_MAX_DEPTH: a value nested deeper is an error. */
#define PARSE_MAX_DEPTH 2048

/* Number tokens up to this length are converted from the stack. */
#define NUMBER_INLINE 64

/* A growable byte buffer with inline storage for the common case. */
struct scratch {
	char *buf;
	size_t len, cap;
	char inline_buf[256];
};

struct parser {
	const unsigned char *start, *p, *end;
	char *err;
	size_t errlen;
	json_t **stack;		/* open containers, innermost last */
	size_t depth, stack_cap;
	json_t *inline_stack[32];
	struct scratch key;	/* unescaped object key */
	struct scratch str;	/* unescaped string value */
};

static void
scratch_init(struct scratch *s)
{
	s->buf = s->inline_buf;
	s->len = 0;
	s->cap = sizeof s->inline_buf;
}

static void
scratch_free(struct scratch *s)
{
	if (s->buf != s->inline_buf)
		free(s->buf);
}

/* Make room for `more` bytes; 0 on success. */
static int
scratch_reserve(struct scratch *s, size_t more)
{
	size_t cap = s->cap;
	char *nb;

	if (s->cap - s->len >= more)
		return 0;
	while (cap - s->len < more) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	if (s->buf == s->inline_buf) {
		if ((nb = malloc(cap)) == NULL)
			return -1;
		memcpy(nb, s->buf, s->len);
	} else if ((nb = realloc(s->buf, cap)) == NULL)
		return -1;
	s->buf = nb;
	s->cap = cap;
	return 0;
}

/* Record "line:column: reason" for an error at `at` (column counts
 * characters, as jansson does). */
static void parse_error(struct parser *, const unsigned char *, const char *,
    ...) __attribute__((format(printf, 3, 4)));

static void
parse_error(struct parser *ps, const unsigned char *at, const char *fmt, ...)
{
	const unsigned char *q;
	char reason[160];
	unsigned long line = 1, column = 1;
	va_list ap;

	if (ps->err == NULL || ps->errlen == 0)
		return;
	for (q = ps->start; q < at; q++) {
		if (*q == '\n') {
			line++;
			column = 1;
		} else if ((*q & 0xc0) != 0x80)
			column++;
	}
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "%lu:%lu: %s", line, column, reason);
}

static void
unexpected(struct parser *ps, const unsigned char *at, const char *where)
{
	if (at >= ps->end)
		parse_error(ps, at, "unexpected end of input%s", where);
	else if (*at >= 0x21 && *at < 0x7f)
		parse_error(ps, at, "unexpected character '%c'%s", *at, where);
	else
		parse_error(ps, at, "unexpected byte 0x%02x%s", *at, where);
}

static inline const unsigned char *
skip_space(const unsigned char *p, const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' ||
	    *p == '\t'))
		p++;
	return p;
}

/* Length of the valid UTF-8 sequence starting with a byte >= 0x80 at p, or
 * 0 when it is invalid (overlong, surrogate, above U+10FFFF, truncated). */
static inline size_t
utf8_sequence(const unsigned char *p, const unsigned char *end)
{
	size_t avail = (size_t)(end - p);
	unsigned c = p[0];

	if (c < 0xc2)
		return 0;
	if (c < 0xe0)
		return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c < 0xf0) {
		if (avail < 3 || (p[1] & 0xc0) != 0x80 ||
		    (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c < 0xf5) {
		if (avail < 4 || (p[1] & 0xc0) != 0x80 ||
		    (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

#define BYTES_ONES	0x0101010101010101ull
#define BYTES_HIGHS	0x8080808080808080ull

/*
 * High bit set in the lowest byte of w that is '"', '\\', < 0x20 or
 * >= 0x80 (bytes above it may be flagged spuriously by borrows, never
 * below).  Zero when all eight bytes are plain string content.
 */
static inline uint64_t
special_bytes(uint64_t w)
{
	uint64_t quote = w ^ (BYTES_ONES * '"');
	uint64_t bslash = w ^ (BYTES_ONES * '\\');

	return ((quote - BYTES_ONES) | (bslash - BYTES_ONES) |
	    (w - BYTES_ONES * 0x20) | w) & BYTES_HIGHS;
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FIRST_FLAGGED_BYTE(m)	((size_t)__builtin_ctzll(m) >> 3)
#else
#define FIRST_FLAGGED_BYTE(m)	((size_t)0)	/* byte loop finds it */
#endif

static inline int
hex_digit(unsigned c)
{
	if (c - '0' < 10)
		return (int)(c - '0');
	c |= 0x20;
	if (c - 'a' < 6)
		return (int)(c - 'a' + 10);
	return -1;
}

/* Four hex digits at p (p + 4 <= end checked by the caller), or -1. */
static inline long
hex4(const unsigned char *p)
{
	int a = hex_digit(p[0]), b = hex_digit(p[1]), c = hex_digit(p[2]),
	    d = hex_digit(p[3]);

	if ((a | b | c | d) < 0)
		return -1;
	return (long)a << 12 | (long)b << 8 | (long)c << 4 | (long)d;
}

/*
 * Decode the escape at p (p[0] == '\\') into s; return the input position
 * after it, or NULL after reporting an error.
 */
static const unsigned char *
decode_escape(struct parser *ps, const unsigned char *p, struct scratch *s)
{
	const unsigned char *end = ps->end;
	long cp, lo;
	char *o;

	if (scratch_reserve(s, 4) != 0) {
		parse_error(ps, p, "out of memory");
		return NULL;
	}
	o = s->buf + s->len;
	if (end - p < 2) {
		parse_error(ps, end, "end of input inside a string");
		return NULL;
	}
	switch (p[1]) {
	case '"': case '\\': case '/':
		*o = (char)p[1];
		break;
	case 'b':
		*o = '\b';
		break;
	case 'f':
		*o = '\f';
		break;
	case 'n':
		*o = '\n';
		break;
	case 'r':
		*o = '\r';
		break;
	case 't':
		*o = '\t';
		break;
	case 'u':
		if (end - p < 6 || (cp = hex4(p + 2)) < 0) {
			parse_error(ps, p, "invalid \\u escape");
			return NULL;
		}
		if (cp == 0) {
			parse_error(ps, p, "\\u0000 is not allowed in strings");
			return NULL;
		}
		if (cp >= 0xdc00 && cp <= 0xdfff) {
			parse_error(ps, p, "lone low surrogate \\u%04lX", cp);
			return NULL;
		}
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
			    (lo = hex4(p + 8)) < 0xdc00 || lo > 0xdfff) {
				parse_error(ps, p, "high surrogate \\u%04lX not "
				    "followed by a low surrogate", cp);
				return NULL;
			}
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			p += 6;
		}
		if (cp < 0x80) {
			o[0] = (char)cp;
		} else if (cp < 0x800) {
			o[0] = (char)(0xc0 | cp >> 6);
			o[1] = (char)(0x80 | (cp & 0x3f));
			s->len++;
		} else if (cp < 0x10000) {
			o[0] = (char)(0xe0 | cp >> 12);
			o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
			o[2] = (char)(0x80 | (cp & 0x3f));
			s->len += 2;
		} else {
			o[0] = (char)(0xf0 | cp >> 18);
			o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
			o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
			o[3] = (char)(0x80 | (cp & 0x3f));
			s->len += 3;
		}
		s->len++;
		return p + 6;
	default:
		if (p[1] >= 0x21 && p[1] < 0x7f)
			parse_error(ps, p, "invalid escape '\\%c'", p[1]);
		else
			parse_error(ps, p, "invalid escape");
		return NULL;
	}
	s->len++;
	return p + 2;
}

/*
 * Parse the string whose opening quote is at ps->p.  The contents are left
 * in *out and *outlen: a pointer into the input when there was no escape (and
 * copy is 0), else into s, NUL-terminated.  They are valid UTF-8 without
 * NUL.  Returns 0, or -1 after reporting an error.
 */
static int
parse_string(struct parser *ps, struct scratch *s, int copy,
    const char **out, size_t *outlen)
{
	const unsigned char *p = ps->p + 1, *end = ps->end, *run = p;
	int escaped = 0;
	size_t n;

	for (;;) {
		/* The plain run: eight bytes at a time, then bytewise. */
		while (end - p >= 8) {
			uint64_t w, m;

			memcpy(&w, p, sizeof w);
			if ((m = special_bytes(w)) != 0) {
				p += FIRST_FLAGGED_BYTE(m);
				break;
			}
			p += 8;
		}
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' &&
		    *p != '\\')
			p++;
		if (p == end) {
			parse_error(ps, end, "end of input inside a string");
			return -1;
		}
		if (*p == '"')
			break;
		if (*p >= 0x80) {
			if ((n = utf8_sequence(p, end)) == 0) {
				parse_error(ps, p, "invalid UTF-8 in string");
				return -1;
			}
			p += n;
			continue;
		}
		if (*p < 0x20) {
			parse_error(ps, p, "control character 0x%02x in string",
			    *p);
			return -1;
		}
		/* A backslash: flush the run, decode the escape. */
		if (!escaped) {
			s->len = 0;
			escaped = 1;
		}
		n = (size_t)(p - run);
		if (scratch_reserve(s, n) != 0) {
			parse_error(ps, p, "out of memory");
			return -1;
		}
		memcpy(s->buf + s->len, run, n);
		s->len += n;
		if ((p = decode_escape(ps, p, s)) == NULL)
			return -1;
		run = p;
	}
	if (!escaped && !copy) {
		*out = (const char *)run;
		*outlen = (size_t)(p - run);
	} else {
		if (!escaped)
			s->len = 0;
		n = (size_t)(p - run);
		if (scratch_reserve(s, n + 1) != 0) {
			parse_error(ps, p, "out of memory");
			return -1;
		}
		memcpy(s->buf + s->len, run, n);
		s->len += n;
		s->buf[s->len] = '\0';
		*out = s->buf;
		*outlen = s->len;
	}
	ps->p = p + 1;
	return 0;
}

#define IS_DIGIT(c)	((unsigned)(c) - '0' < 10)

/* Convert a real token with strtod semantics (correctly rounded). */
static json_t *
real_value(struct parser *ps, const unsigned char *tok, size_t len)
{
	char inline_buf[NUMBER_INLINE], *buf = inline_buf, *endp;
	double d;
	json_t *v;

	if (len >= sizeof inline_buf && (buf = malloc(len + 1)) == NULL) {
		parse_error(ps, tok, "out of memory");
		return NULL;
	}
	memcpy(buf, tok, len);
	buf[len] = '\0';
	errno = 0;
	d = strtod(buf, &endp);
	if (endp != buf + len) {
		/* A locale with another decimal point: retry with it, as
		 * jansson does. */
		const char *point = localeconv()->decimal_point;
		char *dot = strchr(buf, '.');

		if (dot != NULL && point != NULL && point[0] != '\0' &&
		    point[1] == '\0')
			*dot = point[0];
		errno = 0;
		d = strtod(buf, &endp);
	}
	if (endp != buf + len) {
		parse_error(ps, tok, "invalid number");
		v = NULL;
	} else if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)) {
		parse_error(ps, tok, "real number overflow");
		v = NULL;
	} else if ((v = json_real(d)) == NULL)
		parse_error(ps, tok, "out of memory");
	if (buf != inline_buf)
		free(buf);
	return v;
}

/* Parse the number at ps->p (a '-' or a digit). */
static json_t *
parse_number(struct parser *ps)
{
	const unsigned char *tok = ps->p, *p = tok, *end = ps->end, *digits;
	uint64_t mag = 0;
	size_t ndigits;
	int negative = 0, real = 0;
	json_t *v;

	if (*p == '-') {
		negative = 1;
		p++;
	}
	digits = p;
	if (p == end || !IS_DIGIT(*p)) {
		unexpected(ps, p, " in number");
		return NULL;
	}
	if (*p == '0') {
		p++;
		if (p < end && IS_DIGIT(*p)) {
			parse_error(ps, tok, "leading zero in number");
			return NULL;
		}
	} else {
		while (p < end && IS_DIGIT(*p)) {
			mag = mag * 10 + (unsigned)(*p - '0');
			if (++p - digits == 19)
				break;
		}
	}
	ndigits = (size_t)(p - digits);
	while (p < end && IS_DIGIT(*p))
		p++;
	if (p < end && *p == '.') {
		real = 1;
		if (++p == end || !IS_DIGIT(*p)) {
			unexpected(ps, p, ", digit expected after '.'");
			return NULL;
		}
		while (p < end && IS_DIGIT(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		real = 1;
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !IS_DIGIT(*p)) {
			unexpected(ps, p, ", digit expected in exponent");
			return NULL;
		}
		while (p < end && IS_DIGIT(*p))
			p++;
	}
	ps->p = p;
	if (real)
		return real_value(ps, tok, (size_t)(p - tok));
	/* At most 19 digits were accumulated (no uint64 overflow); more
	 * digits mean the value is out of range anyway. */
	if ((size_t)(p - digits) != ndigits ||
	    mag > (uint64_t)INT64_MAX + (uint64_t)negative) {
		parse_error(ps, tok, negative ? "too big negative integer" :
		    "too big integer");
		return NULL;
	}
	if (negative)
		v = json_integer(mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
		    -(json_int_t)mag);
	else
		v = json_integer((json_int_t)mag);
	if (v == NULL)
		parse_error(ps, tok, "out of memory");
	return v;
}

/* jansson >= 2.14 takes keys with a length; older ones want C strings. */
#if JANSSON_VERSION_HEX >= 0x020e00
#define KEY_NEEDS_COPY	0
#define OBJECT_SET(o, k, n, v)	json_object_setn_new_nocheck(o, k, n, v)
#else
#define KEY_NEEDS_COPY	1
#define OBJECT_SET(o, k, n, v)	json_object_set_new_nocheck(o, k, v)
#endif

/* Hook a new value into the innermost open container (stealing it), or
 * make it the root. */
static int
attach(struct parser *ps, json_t **root, json_t *v, const char *key,
    size_t keylen)
{
	json_t *top;

	if (ps->depth == 0) {
		*root = v;
		return 0;
	}
	top = ps->stack[ps->depth - 1];
	if (json_is_object(top) ? OBJECT_SET(top, key, keylen, v) :
	    json_array_append_new(top, v)) {
		parse_error(ps, ps->p, "out of memory");
		return -1;
	}
	return 0;
}

static int
push(struct parser *ps, json_t *container)
{
	json_t **ns;
	size_t cap;

	if (ps->depth == ps->stack_cap) {
		cap = ps->stack_cap * 2;
		if (ps->stack == ps->inline_stack) {
			if ((ns = malloc(cap * sizeof *ns)) != NULL)
				memcpy(ns, ps->stack, ps->depth * sizeof *ns);
		} else
			ns = realloc(ps->stack, cap * sizeof *ns);
		if (ns == NULL) {
			parse_error(ps, ps->p, "out of memory");
			return -1;
		}
		ps->stack = ns;
		ps->stack_cap = cap;
	}
	ps->stack[ps->depth++] = container;
	return 0;
}

/*
 * The document.  Containers are attached to their parent as soon as they
 * are opened, so on any error releasing the root releases everything.
 */
static json_t *
parse_document(struct parser *ps)
{
	json_t *root = NULL, *v, *top;
	const char *key = NULL, *s;
	size_t keylen = 0, slen;
	const unsigned char *end = ps->end;

value:
	ps->p = skip_space(ps->p, end);
	if (ps->p == end) {
		if (root == NULL)
			parse_error(ps, end, "empty input");
		else
			parse_error(ps, end, "unexpected end of input, value "
			    "expected");
		goto fail;
	}
	if (ps->depth >= PARSE_MAX_DEPTH) {
		parse_error(ps, ps->p, "maximum nesting depth (%d) exceeded",
		    PARSE_MAX_DEPTH);
		goto fail;
	}
	switch (*ps->p) {
	case '"':
		if (parse_string(ps, &ps->str, 0, &s, &slen) != 0)
			goto fail;
		if ((v = json_stringn_nocheck(s, slen)) == NULL) {
			parse_error(ps, ps->p, "out of memory");
			goto fail;
		}
		break;
	case '{':
	case '[':
		v = *ps->p == '{' ? json_object() : json_array();
		if (v == NULL) {
			parse_error(ps, ps->p, "out of memory");
			goto fail;
		}
		if (attach(ps, &root, v, key, keylen) != 0 ||
		    push(ps, v) != 0)
			goto fail;
		ps->p = skip_space(ps->p + 1, end);
		if (ps->p < end && *ps->p == (json_is_object(v) ? '}' : ']')) {
			ps->p++;
			ps->depth--;
			goto next;
		}
		if (json_is_object(v))
			goto member;
		goto value;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		if ((v = parse_number(ps)) == NULL)
			goto fail;
		break;
	case 't':
		if (end - ps->p < 4 || memcmp(ps->p, "true", 4) != 0)
			goto bad_value;
		v = json_true();
		ps->p += 4;
		break;
	case 'f':
		if (end - ps->p < 5 || memcmp(ps->p, "false", 5) != 0)
			goto bad_value;
		v = json_false();
		ps->p += 5;
		break;
	case 'n':
		if (end - ps->p < 4 || memcmp(ps->p, "null", 4) != 0)
			goto bad_value;
		v = json_null();
		ps->p += 4;
		break;
	default:
		goto bad_value;
	}
	if (attach(ps, &root, v, key, keylen) != 0)
		goto fail;

next:
	/* After a value: a separator or the end of its container. */
	if (ps->depth == 0)
		goto done;
	ps->p = skip_space(ps->p, end);
	top = ps->stack[ps->depth - 1];
	if (ps->p < end && *ps->p == ',') {
		ps->p++;
		if (json_is_object(top))
			goto member;
		goto value;
	}
	if (ps->p < end && *ps->p == (json_is_object(top) ? '}' : ']')) {
		ps->p++;
		ps->depth--;
		goto next;
	}
	unexpected(ps, ps->p, json_is_object(top) ? ", ',' or '}' expected" :
	    ", ',' or ']' expected");
	goto fail;

member:
	/* Inside an object: "key" ':' */
	ps->p = skip_space(ps->p, end);
	if (ps->p == end || *ps->p != '"') {
		unexpected(ps, ps->p, ", object key expected");
		goto fail;
	}
	if (parse_string(ps, &ps->key, KEY_NEEDS_COPY, &key, &keylen) != 0)
		goto fail;
	ps->p = skip_space(ps->p, end);
	if (ps->p == end || *ps->p != ':') {
		unexpected(ps, ps->p, ", ':' expected");
		goto fail;
	}
	ps->p++;
	goto value;

bad_value:
	unexpected(ps, ps->p, "");
	goto fail;

done:
	ps->p = skip_space(ps->p, end);
	if (ps->p == end)
		return root;
	unexpected(ps, ps->p, " after the value");
fail:
	json_decref(root);
	return NULL;
}

ttpd_value *
jv_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	struct parser ps;
	json_t *root;

	if (buf == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "1:1: no input");
		return NULL;
	}
	ps.start = ps.p = (const unsigned char *)buf;
	ps.end = ps.start + len;
	ps.err = err;
	ps.errlen = errlen;
	ps.stack = ps.inline_stack;
	ps.stack_cap = sizeof ps.inline_stack / sizeof ps.inline_stack[0];
	ps.depth = 0;
	scratch_init(&ps.key);
	scratch_init(&ps.str);
	root = parse_document(&ps);
	if (ps.stack != ps.inline_stack)
		free(ps.stack);
	scratch_free(&ps.key);
	scratch_free(&ps.str);
	return V(root);
}

/*
 * The serializer.  json_dumps escapes strings one code point at a time
 * through a callback; this writes into one growing buffer, copies the
 * plain runs of strings with memcpy after a word-at-a-time scan, and walks
 * containers with an explicit stack.  The output is byte for byte that of
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) in jansson 2.14:
 *  - strings escape '"', '\\' and the controls below 0x20 only: \b \f \n
 *    \r \t, the others as \u00XX with uppercase hex (NUL as \u0000); '/',
 *    DEL and non-ASCII UTF-8 stay raw; invalid UTF-8 fails the dump;
 *  - integers in decimal; reals as "%.17g" with the locale's decimal point
 *    turned into '.', ".0" appended when there is neither '.' nor 'e', and
 *    the exponent stripped of its '+' and leading zeros ("1e17", "1e-5");
 *  - object keys in insertion order;
 *  - a container inside itself (a cycle) fails the dump.
 * Unlike jansson it does not recurse, so no nesting overflows the stack
 * (json_dumps crashes on 100000 nested arrays).
 */

/* jansson's MAX_REAL_STR_LENGTH. */
#define REAL_BUFFER	100

struct outbuf {
	char *buf;
	size_t len, cap;
};

/* An open container: the object iterator or array index to go on from. */
struct dump_frame {
	json_t *container;
	void *iter;
	size_t index, size;
};

struct dumper {
	struct outbuf out;
	struct dump_frame *stack;
	size_t depth, stack_cap;
	struct dump_frame inline_stack[16];
};

/* Make room for `more` bytes; 0 on success. */
static int
out_reserve(struct outbuf *o, size_t more)
{
	size_t cap = o->cap;
	char *nb;

	if (cap - o->len >= more)
		return 0;
	while (cap - o->len < more) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	if ((nb = realloc(o->buf, cap)) == NULL)
		return -1;
	o->buf = nb;
	o->cap = cap;
	return 0;
}

static inline int
out_bytes(struct outbuf *o, const char *s, size_t n)
{
	if (out_reserve(o, n) != 0)
		return -1;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return 0;
}

static inline int
out_byte(struct outbuf *o, char c)
{
	if (o->len == o->cap && out_reserve(o, 1) != 0)
		return -1;
	o->buf[o->len++] = c;
	return 0;
}

/* The one-letter escapes of the controls, 0 for \u00XX. */
static const char control_escape[0x20] = {
	['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
};

/*
 * A quoted, escaped string.  Room for the rest of the input plus the
 * closing quote is kept reserved, so plain runs and UTF-8 are copied
 * without checks and only escapes, which grow the text, reserve more.
 */
static int
dump_string(struct outbuf *o, const char *str, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)str, *end = p + len;
	const unsigned char *run = p;
	size_t n;
	char *w;

	if (out_reserve(o, len + 2) != 0)
		return -1;
	o->buf[o->len++] = '"';
	for (;;) {
		while (end - p >= 8) {
			uint64_t word, m;

			memcpy(&word, p, sizeof word);
			if ((m = special_bytes(word)) != 0) {
				p += FIRST_FLAGGED_BYTE(m);
				break;
			}
			p += 8;
		}
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' &&
		    *p != '\\')
			p++;
		if (p == end)
			break;
		if (*p >= 0x80) {
			/* jansson checks UTF-8 as it dumps. */
			if ((n = utf8_sequence(p, end)) == 0)
				return -1;
			p += n;
			continue;
		}
		/* An escape: flush the run, write at most 6 bytes. */
		n = (size_t)(p - run);
		memcpy(o->buf + o->len, run, n);
		o->len += n;
		if (out_reserve(o, 6 + (size_t)(end - p)) != 0)
			return -1;
		w = o->buf + o->len;
		w[0] = '\\';
		if (*p == '"' || *p == '\\') {
			w[1] = (char)*p;
			o->len += 2;
		} else if (control_escape[*p] != 0) {
			w[1] = control_escape[*p];
			o->len += 2;
		} else {
			w[1] = 'u';
			w[2] = '0';
			w[3] = '0';
			w[4] = hex[*p >> 4];
			w[5] = hex[*p & 0xf];
			o->len += 6;
		}
		run = ++p;
	}
	n = (size_t)(p - run);
	memcpy(o->buf + o->len, run, n);
	o->len += n;
	o->buf[o->len++] = '"';
	return 0;
}

static int
dump_integer(struct outbuf *o, json_int_t i)
{
	char digits[24], *d = digits + sizeof digits;
	unsigned long long mag = i < 0 ? 0ull - (unsigned long long)i :
	    (unsigned long long)i;

	do {
		*--d = (char)('0' + mag % 10);
		mag /= 10;
	} while (mag != 0);
	if (i < 0)
		*--d = '-';
	return out_bytes(o, d, (size_t)(digits + sizeof digits - d));
}

/* jansson's jsonp_dtostr with the default precision of 17. */
static int
dump_real(struct outbuf *o, double d)
{
	char buf[REAL_BUFFER], *e, *from;
	const char *point;
	int ret;
	size_t len;

	ret = snprintf(buf, sizeof buf, "%.17g", d);
	if (ret < 0 || (size_t)ret >= sizeof buf)
		return -1;
	len = (size_t)ret;
	point = localeconv()->decimal_point;
	if (point[0] != '.' && point[0] != '\0' &&
	    (e = strchr(buf, point[0])) != NULL)
		*e = '.';
	/* Keep it a real when read back. */
	if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL) {
		if (len + 3 >= sizeof buf)
			return -1;
		memcpy(buf + len, ".0", 3);
		len += 2;
	}
	/* "e+05" -> "e5", "e-05" -> "e-5". */
	if ((e = strchr(buf, 'e')) != NULL) {
		e++;
		from = e + 1;
		if (*e == '-')
			e++;
		while (*from == '0')
			from++;
		if (from != e) {
			memmove(e, from, len - (size_t)(from - buf) + 1);
			len -= (size_t)(from - e);
		}
	}
	return out_bytes(o, buf, len);
}

/*
 * Enter a non-empty container; -1 on a cycle.  Instead of searching the
 * whole stack (quadratic in the depth), a container entered at depth d is
 * compared with the one open at depth 2^k - 1, the largest such below d.
 * Equal means a container inside itself.  Conversely, a cycle makes the
 * walk descend forever along a path that is eventually periodic (each
 * container leads into the same child every time), and once 2^k exceeds
 * both the start and the period of that path some comparison matches:
 * Brent's cycle finding, one comparison per container.
 */
static int
dump_push(struct dumper *dp, json_t *container, size_t size)
{
	struct dump_frame *ns, *f;
	size_t mark, cap;

	if (dp->depth > 0) {
		for (mark = 1; mark <= dp->depth / 2; mark *= 2)
			;
		if (dp->stack[mark - 1].container == container)
			return -1;
	}
	if (dp->depth == dp->stack_cap) {
		if (dp->stack_cap > SIZE_MAX / 2 / sizeof *ns)
			return -1;
		cap = dp->stack_cap * 2;
		if (dp->stack == dp->inline_stack) {
			if ((ns = malloc(cap * sizeof *ns)) != NULL)
				memcpy(ns, dp->stack, dp->depth * sizeof *ns);
		} else
			ns = realloc(dp->stack, cap * sizeof *ns);
		if (ns == NULL)
			return -1;
		dp->stack = ns;
		dp->stack_cap = cap;
	}
	f = &dp->stack[dp->depth++];
	f->container = container;
	f->size = size;
	f->index = 0;
	f->iter = json_is_object(container) ? json_object_iter(container) :
	    NULL;
	return 0;
}

#if JANSSON_VERSION_HEX >= 0x020e00
#define ITER_KEY_LEN(it)	json_object_iter_key_len(it)
#else
#define ITER_KEY_LEN(it)	strlen(json_object_iter_key(it))
#endif

static int
dump_document(struct dumper *dp, json_t *v)
{
	struct outbuf *o = &dp->out;
	struct dump_frame *top;
	size_t size;

value:
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if ((size = json_object_size(v)) == 0) {
			if (out_bytes(o, "{}", 2) != 0)
				return -1;
			break;
		}
		if (dump_push(dp, v, size) != 0 || out_byte(o, '{') != 0)
			return -1;
		goto member;
	case JSON_ARRAY:
		if ((size = json_array_size(v)) == 0) {
			if (out_bytes(o, "[]", 2) != 0)
				return -1;
			break;
		}
		if (dump_push(dp, v, size) != 0 || out_byte(o, '[') != 0)
			return -1;
		v = json_array_get(v, 0);
		goto value;
	case JSON_STRING:
		if (dump_string(o, json_string_value(v),
		    json_string_length(v)) != 0)
			return -1;
		break;
	case JSON_INTEGER:
		if (dump_integer(o, json_integer_value(v)) != 0)
			return -1;
		break;
	case JSON_REAL:
		if (dump_real(o, json_real_value(v)) != 0)
			return -1;
		break;
	case JSON_TRUE:
		if (out_bytes(o, "true", 4) != 0)
			return -1;
		break;
	case JSON_FALSE:
		if (out_bytes(o, "false", 5) != 0)
			return -1;
		break;
	case JSON_NULL:
		if (out_bytes(o, "null", 4) != 0)
			return -1;
		break;
	default:
		return -1;
	}

next:
	/* After a value: the next member or element, or the closing. */
	if (dp->depth == 0)
		return 0;
	top = &dp->stack[dp->depth - 1];
	if (json_is_object(top->container)) {
		top->iter = json_object_iter_next(top->container, top->iter);
		if (top->iter == NULL) {
			dp->depth--;
			if (out_byte(o, '}') != 0)
				return -1;
			goto next;
		}
		if (out_byte(o, ',') != 0)
			return -1;
		goto member;
	}
	if (++top->index == top->size) {
		dp->depth--;
		if (out_byte(o, ']') != 0)
			return -1;
		goto next;
	}
	if (out_byte(o, ',') != 0)
		return -1;
	v = json_array_get(top->container, top->index);
	goto value;

member:
	top = &dp->stack[dp->depth - 1];
	if (top->iter == NULL)
		return -1;
	if (dump_string(o, json_object_iter_key(top->iter),
	    ITER_KEY_LEN(top->iter)) != 0 || out_byte(o, ':') != 0)
		return -1;
	v = json_object_iter_value(top->iter);
	goto value;
}

int
jv_dump_into(const ttpd_value *v, char **buf, size_t *cap, size_t *len)
{
	struct dumper dp;
	int rc;

	if (v == NULL)
		return -1;
	dp.out.buf = *buf;
	dp.out.cap = *cap;
	dp.out.len = 0;
	if (dp.out.buf == NULL || dp.out.cap == 0) {
		dp.out.cap = 256;
		if ((dp.out.buf = realloc(*buf, dp.out.cap)) == NULL)
			return -1;
	}
	dp.stack = dp.inline_stack;
	dp.stack_cap = sizeof dp.inline_stack / sizeof dp.inline_stack[0];
	dp.depth = 0;
	rc = dump_document(&dp, J(v));
	if (rc == 0)
		rc = out_byte(&dp.out, '\0');
	if (dp.stack != dp.inline_stack)
		free(dp.stack);
	/* out_reserve() may have moved the buffer even on failure */
	*buf = dp.out.buf;
	*cap = dp.out.cap;
	if (rc != 0)
		return -1;
	*len = dp.out.len - 1;
	return 0;
}

char *
jv_dump(const ttpd_value *v)
{
	char *buf = NULL;
	size_t cap = 0, len;

	if (jv_dump_into(v, &buf, &cap, &len) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

void
jv_incref(const ttpd_value *v)
{
	if (v != NULL)
		json_incref(J(v));
}

void
jv_decref(const ttpd_value *v)
{
	if (v != NULL)
		json_decref(J(v));
}

int
jv_type(const ttpd_value *v)
{
	if (v == NULL)
		return TTPD_VT_ABSENT;
	switch (json_typeof(J(v))) {
	case JSON_NULL:
		return TTPD_VT_NULL;
	case JSON_TRUE:
	case JSON_FALSE:
		return TTPD_VT_BOOL;
	case JSON_INTEGER:
		return TTPD_VT_INT;
	case JSON_REAL:
		return TTPD_VT_REAL;
	case JSON_STRING:
		return TTPD_VT_STRING;
	case JSON_ARRAY:
		return TTPD_VT_ARRAY;
	case JSON_OBJECT:
		return TTPD_VT_OBJECT;
	}
	return TTPD_VT_ABSENT;
}

const ttpd_value *
jv_object_get(const ttpd_value *obj, const char *key)
{
	if (obj == NULL || key == NULL || !json_is_object(J(obj)))
		return NULL;
	return V(json_object_get(J(obj), key));
}

/* Decode one RFC 6901 reference token ("~1" is '/', "~0" is '~'). */
static int
pointer_token(const char *p, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '~') {
			if (i + 1 >= n || (p[i + 1] != '0' && p[i + 1] != '1'))
				return -1;
			c = p[i + 1] == '0' ? '~' : '/';
			i++;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

const ttpd_value *
jv_pointer_get(const ttpd_value *v, const char *ptr)
{
	json_t *cur = J(v);
	char tok[1024];

	if (v == NULL || ptr == NULL)
		return NULL;
	if (*ptr == '\0')
		return v;
	if (*ptr != '/')
		return NULL;
	while (*ptr == '/') {
		const char *start = ptr + 1, *end = strchr(start, '/');
		size_t n = end != NULL ? (size_t)(end - start) : strlen(start);

		if (pointer_token(start, n, tok, sizeof tok) != 0)
			return NULL;
		if (json_is_object(cur)) {
			cur = json_object_get(cur, tok);
		} else if (json_is_array(cur)) {
			char *endp;
			unsigned long idx;

			/* Array index: digits only, no leading zero. */
			if (tok[0] < '0' || tok[0] > '9' ||
			    (tok[0] == '0' && tok[1] != '\0'))
				return NULL;
			idx = strtoul(tok, &endp, 10);
			if (*endp != '\0')
				return NULL;
			cur = json_array_get(cur, idx);
		} else
			return NULL;
		if (cur == NULL)
			return NULL;
		ptr = start + n;
	}
	return V(cur);
}

int
jv_get_string(const ttpd_value *v, const char **s, size_t *len)
{
	if (v == NULL || !json_is_string(J(v)))
		return TTPD_EINVAL;
	if (s != NULL)
		*s = json_string_value(J(v));
	if (len != NULL)
		*len = json_string_length(J(v));
	return TTPD_OK;
}

const char *
jv_string(const ttpd_value *v)
{
	if (v == NULL || !json_is_string(J(v)))
		return NULL;
	return json_string_value(J(v));
}

int
jv_get_int(const ttpd_value *v, int64_t *out)
{
	if (v == NULL || !json_is_integer(J(v)))
		return TTPD_EINVAL;
	if (out != NULL)
		*out = (int64_t)json_integer_value(J(v));
	return TTPD_OK;
}

int
jv_get_number(const ttpd_value *v, double *out)
{
	if (v == NULL || !json_is_number(J(v)))
		return TTPD_EINVAL;
	if (out != NULL)
		*out = json_number_value(J(v));
	return TTPD_OK;
}

int
jv_get_bool(const ttpd_value *v, int *out)
{
	if (v == NULL || !json_is_boolean(J(v)))
		return TTPD_EINVAL;
	if (out != NULL)
		*out = json_is_true(J(v));
	return TTPD_OK;
}

size_t
jv_array_size(const ttpd_value *v)
{
	if (v == NULL || !json_is_array(J(v)))
		return 0;
	return json_array_size(J(v));
}

const ttpd_value *
jv_array_get(const ttpd_value *v, size_t i)
{
	if (v == NULL || !json_is_array(J(v)))
		return NULL;
	return V(json_array_get(J(v), i));
}

size_t
jv_object_size(const ttpd_value *v)
{
	if (v == NULL || !json_is_object(J(v)))
		return 0;
	return json_object_size(J(v));
}

int
jv_object_foreach(const ttpd_value *obj,
    int (*fn)(void *ud, const char *key, const ttpd_value *val), void *ud)
{
	const char *key;
	json_t *val;
	int rc;

	if (obj == NULL || fn == NULL || !json_is_object(J(obj)))
		return 0;
	json_object_foreach(J(obj), key, val) {
		if ((rc = fn(ud, key, V(val))) != 0)
			return rc;
	}
	return 0;
}

int
jv_equal(const ttpd_value *a, const ttpd_value *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return json_equal(J(a), J(b));
}

ttpd_value *
jv_new_object(void)
{
	return V(json_object());
}

ttpd_value *
jv_new_array(void)
{
	return V(json_array());
}

ttpd_value *
jv_new_string(const char *s, size_t len)
{
	if (s == NULL)
		return NULL;
	/* jansson validates UTF-8 and refuses invalid sequences. */
	return V(json_stringn(s, len));
}

ttpd_value *
jv_new_int(int64_t i)
{
	return V(json_integer((json_int_t)i));
}

ttpd_value *
jv_new_real(double d)
{
	if (!isfinite(d))
		return NULL;
	return V(json_real(d));
}

ttpd_value *
jv_new_bool(int b)
{
	return V(json_boolean(b));
}

ttpd_value *
jv_new_null(void)
{
	return V(json_null());
}

ttpd_value *
jv_copy_object(const ttpd_value *obj)
{
	if (obj == NULL || !json_is_object(J(obj)))
		return NULL;
	return V(json_copy(J(obj)));
}

/* Would adding `val` under `container` create a cycle? */
static int
contains(json_t *haystack, json_t *needle, int depth)
{
	size_t i;
	const char *key;
	json_t *m;

	if (haystack == needle)
		return 1;
	if (depth > 64)
		return 1; /* refuse absurd nesting as if it were a cycle */
	if (json_is_object(haystack)) {
		json_object_foreach(haystack, key, m) {
			if ((json_is_object(m) || json_is_array(m)) &&
			    contains(m, needle, depth + 1))
				return 1;
		}
	} else if (json_is_array(haystack)) {
		json_array_foreach(haystack, i, m) {
			if ((json_is_object(m) || json_is_array(m)) &&
			    contains(m, needle, depth + 1))
				return 1;
		}
	}
	return 0;
}

static int
container_ok(json_t *container, json_t *val)
{
	if (!json_is_object(val) && !json_is_array(val))
		return 1;
	return !contains(val, container, 0);
}

/* Bumped by every change to a value (see jv_changes()). */
static _Thread_local uint64_t changes;

uint64_t
jv_changes(void)
{
	return changes;
}

int
jv_object_set(ttpd_value *obj, const char *key, const ttpd_value *val)
{
	changes++;
	if (obj == NULL || key == NULL || val == NULL ||
	    !json_is_object(J(obj)) || !container_ok(J(obj), J(val)))
		return TTPD_EINVAL;
	return json_object_set(J(obj), key, J(val)) == 0 ? TTPD_OK :
	    TTPD_EINVAL;
}

int
jv_object_set_new(ttpd_value *obj, const char *key, ttpd_value *val)
{
	int rc = jv_object_set(obj, key, val);

	jv_decref(val);
	return rc;
}

int
jv_array_append(ttpd_value *arr, const ttpd_value *val)
{
	changes++;
	if (arr == NULL || val == NULL || !json_is_array(J(arr)) ||
	    !container_ok(J(arr), J(val)))
		return TTPD_EINVAL;
	return json_array_append(J(arr), J(val)) == 0 ? TTPD_OK : TTPD_EINVAL;
}

int
jv_array_append_new(ttpd_value *arr, ttpd_value *val)
{
	int rc = jv_array_append(arr, val);

	jv_decref(val);
	return rc;
}

int
jv_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}
