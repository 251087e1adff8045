/*
 * Tag identity and arithmetic shared by every lifter: UUIDv5 (own SHA-1,
 * so no crypto library is needed), DECNET's datetime text, mitre_url and
 * the confidence rules.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "tag.h"
#include "xmalloc.h"

/* --- SHA-1 (FIPS 180-4) ------------------------------------------------ */

struct sha1 {
	uint32_t h[5];
	uint64_t len;
	unsigned char buf[64];
	size_t nbuf;
};

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

/*
 * The portable block function: rounds unrolled five at a time with the
 * variables renamed instead of shifted, and the message schedule kept in
 * 16 words (every tag costs one or two blocks: a quarter of its assembly
 * time with the rolled loop).
 */
#define SHA1_W(i) (w[(i) & 15] = ROL(w[((i) + 13) & 15] ^ \
	w[((i) + 8) & 15] ^ w[((i) + 2) & 15] ^ w[(i) & 15], 1))
#define SHA1_F0(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define SHA1_F1(b, c, d) ((b) ^ (c) ^ (d))
#define SHA1_F2(b, c, d) (((b) & (c)) | ((d) & ((b) | (c))))
#define SHA1_R(a, b, c, d, e, f, k, wi) do {				\
	(e) += ROL(a, 5) + f(b, c, d) + (k) + (wi);			\
	(b) = ROL(b, 30);						\
} while (0)
#define SHA1_5(i, f, k, wx) do {					\
	SHA1_R(a, b, cc, d, e, f, k, wx(i));				\
	SHA1_R(e, a, b, cc, d, f, k, wx((i) + 1));			\
	SHA1_R(d, e, a, b, cc, f, k, wx((i) + 2));			\
	SHA1_R(cc, d, e, a, b, f, k, wx((i) + 3));			\
	SHA1_R(b, cc, d, e, a, f, k, wx((i) + 4));			\
} while (0)
#define SHA1_WLOAD(i) (w[i])

static void
sha1_block_portable(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[16], a, b, cc, d, e;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	a = h[0];
	b = h[1];
	cc = h[2];
	d = h[3];
	e = h[4];
	SHA1_5(0, SHA1_F0, 0x5a827999, SHA1_WLOAD);
	SHA1_5(5, SHA1_F0, 0x5a827999, SHA1_WLOAD);
	SHA1_5(10, SHA1_F0, 0x5a827999, SHA1_WLOAD);
	SHA1_R(a, b, cc, d, e, SHA1_F0, 0x5a827999, w[15]);
	SHA1_R(e, a, b, cc, d, SHA1_F0, 0x5a827999, SHA1_W(16));
	SHA1_R(d, e, a, b, cc, SHA1_F0, 0x5a827999, SHA1_W(17));
	SHA1_R(cc, d, e, a, b, SHA1_F0, 0x5a827999, SHA1_W(18));
	SHA1_R(b, cc, d, e, a, SHA1_F0, 0x5a827999, SHA1_W(19));
	SHA1_5(20, SHA1_F1, 0x6ed9eba1, SHA1_W);
	SHA1_5(25, SHA1_F1, 0x6ed9eba1, SHA1_W);
	SHA1_5(30, SHA1_F1, 0x6ed9eba1, SHA1_W);
	SHA1_5(35, SHA1_F1, 0x6ed9eba1, SHA1_W);
	SHA1_5(40, SHA1_F2, 0x8f1bbcdc, SHA1_W);
	SHA1_5(45, SHA1_F2, 0x8f1bbcdc, SHA1_W);
	SHA1_5(50, SHA1_F2, 0x8f1bbcdc, SHA1_W);
	SHA1_5(55, SHA1_F2, 0x8f1bbcdc, SHA1_W);
	SHA1_5(60, SHA1_F1, 0xca62c1d6, SHA1_W);
	SHA1_5(65, SHA1_F1, 0xca62c1d6, SHA1_W);
	SHA1_5(70, SHA1_F1, 0xca62c1d6, SHA1_W);
	SHA1_5(75, SHA1_F1, 0xca62c1d6, SHA1_W);
	h[0] += a;
	h[1] += b;
	h[2] += cc;
	h[3] += d;
	h[4] += e;
}

#if defined(__x86_64__) && defined(__GNUC__) && defined(__has_include)
#if __has_include(<cpuid.h>) && __has_include(<immintrin.h>)
#define SHA1_HW 1
#endif
#endif

#ifdef SHA1_HW
#include <cpuid.h>
#include <immintrin.h>

/*
 * The x86 SHA extensions (Intel since Goldmont/Ice Lake, AMD since Zen):
 * four rounds an instruction.  Used only when CPUID says so (valgrind's
 * CPU does not, so memory checks run the portable code; check_tag
 * compares both on the same inputs).
 */
#define SHA1_NI_GROUP(g) do {						\
	if ((g) >= 4)							\
		m[(g) & 3] = _mm_sha1msg2_epu32(_mm_xor_si128(		\
		    _mm_sha1msg1_epu32(m[(g) & 3], m[((g) + 1) & 3]),	\
		    m[((g) + 2) & 3]), m[((g) + 3) & 3]);		\
	e = (g) == 0 ? _mm_add_epi32(e, m[0]) :				\
	    _mm_sha1nexte_epu32(saved, m[(g) & 3]);			\
	saved = abcd;							\
	abcd = _mm_sha1rnds4_epu32(abcd, e, (g) / 5);			\
} while (0)

__attribute__((target("sha,sse4.1")))
static void
sha1_block_ni(uint32_t h[5], const unsigned char *p)
{
	const __m128i bswap = _mm_set_epi64x(0x0001020304050607LL,
	    0x08090a0b0c0d0e0fLL);
	__m128i abcd, abcd0, e, e0, saved, m[4];
	int i;

	abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h), 0x1b);
	e = _mm_set_epi32((int)h[4], 0, 0, 0);
	abcd0 = abcd;
	e0 = e;
	saved = abcd;
	for (i = 0; i < 4; i++)
		m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)
		    (p + 16 * i)), bswap);
	SHA1_NI_GROUP(0); SHA1_NI_GROUP(1); SHA1_NI_GROUP(2);
	SHA1_NI_GROUP(3); SHA1_NI_GROUP(4); SHA1_NI_GROUP(5);
	SHA1_NI_GROUP(6); SHA1_NI_GROUP(7); SHA1_NI_GROUP(8);
	SHA1_NI_GROUP(9); SHA1_NI_GROUP(10); SHA1_NI_GROUP(11);
	SHA1_NI_GROUP(12); SHA1_NI_GROUP(13); SHA1_NI_GROUP(14);
	SHA1_NI_GROUP(15); SHA1_NI_GROUP(16); SHA1_NI_GROUP(17);
	SHA1_NI_GROUP(18); SHA1_NI_GROUP(19);
	e = _mm_sha1nexte_epu32(saved, e0);
	abcd = _mm_shuffle_epi32(_mm_add_epi32(abcd, abcd0), 0x1b);
	_mm_storeu_si128((__m128i *)h, abcd);
	h[4] = (uint32_t)_mm_extract_epi32(e, 3);
}

static int
sha1_ni_available(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) ||
	    !(c & bit_SSSE3))
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (b & bit_SHA) != 0;
}
#endif

/* 1: portable, 2: SHA extensions; decided before main() (no race
 * between the threads that make tags) */
static int sha1_impl = 1;

__attribute__((constructor))
static void
sha1_pick(void)
{
	(void)tag_sha1_accelerated(1);
}

int
tag_sha1_accelerated(int allow)
{
	sha1_impl = 1;
#ifdef SHA1_HW
	if (allow && sha1_ni_available())
		sha1_impl = 2;
#else
	(void)allow;
#endif
	return sha1_impl == 2;
}

static void
sha1_block(struct sha1 *c, const unsigned char *p)
{
#ifdef SHA1_HW
	if (sha1_impl == 2) {
		sha1_block_ni(c->h, p);
		return;
	}
#endif
	sha1_block_portable(c->h, p);
}

static void
sha1_init(struct sha1 *c)
{
	c->h[0] = 0x67452301;
	c->h[1] = 0xefcdab89;
	c->h[2] = 0x98badcfe;
	c->h[3] = 0x10325476;
	c->h[4] = 0xc3d2e1f0;
	c->len = 0;
	c->nbuf = 0;
}

static void
sha1_update(struct sha1 *c, const void *data, size_t n)
{
	const unsigned char *p = data;

	c->len += n;
	if (c->nbuf > 0) {
		size_t take = 64 - c->nbuf < n ? 64 - c->nbuf : n;

		memcpy(c->buf + c->nbuf, p, take);
		c->nbuf += take;
		p += take;
		n -= take;
		if (c->nbuf < 64)
			return;
		sha1_block(c, c->buf);
		c->nbuf = 0;
	}
	for (; n >= 64; p += 64, n -= 64)
		sha1_block(c, p);
	memcpy(c->buf, p, n);
	c->nbuf = n;
}

static void
sha1_final(struct sha1 *c, unsigned char out[20])
{
	uint64_t bits = c->len * 8;
	int i;

	/* 0x80, zeros up to 56 mod 64, the bit length big-endian */
	c->buf[c->nbuf++] = 0x80;
	if (c->nbuf > 56) {
		memset(c->buf + c->nbuf, 0, 64 - c->nbuf);
		sha1_block(c, c->buf);
		c->nbuf = 0;
	}
	memset(c->buf + c->nbuf, 0, 56 - c->nbuf);
	for (i = 0; i < 8; i++)
		c->buf[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_block(c, c->buf);
	for (i = 0; i < 5; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

/* --- UUIDs --------------------------------------------------------------- */

/* uuid5(NAMESPACE_URL, "decnet:ttp_tag:v1") */
static const unsigned char tag_namespace[16] = {
	0x1c, 0xa3, 0x1f, 0x08, 0x55, 0x22, 0x5a, 0xae,
	0x83, 0x71, 0xfe, 0x81, 0xf0, 0xe3, 0x9d, 0xe3
};

static void
uuid_format(const unsigned char b[16], char out[TAG_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	/* where each byte's two digits go: 8-4-4-4-12 */
	static const unsigned char at[16] = {
		0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34
	};
	int i;

	for (i = 0; i < 16; i++) {
		out[at[i]] = hex[b[i] >> 4];
		out[at[i] + 1] = hex[b[i] & 15];
	}
	out[8] = out[13] = out[18] = out[23] = '-';
	out[TAG_UUID_LEN] = '\0';
}

static void
uuid_v5_finish(struct sha1 *c, char out[TAG_UUID_LEN + 1])
{
	unsigned char d[20];

	sha1_final(c, d);
	d[6] = (unsigned char)((d[6] & 0x0f) | 0x50);
	d[8] = (unsigned char)((d[8] & 0x3f) | 0x80);
	uuid_format(d, out);
}

void
uuid_v5(const unsigned char ns[16], const void *name, size_t len,
    char out[TAG_UUID_LEN + 1])
{
	struct sha1 c;

	sha1_init(&c);
	sha1_update(&c, ns, 16);
	sha1_update(&c, name, len);
	uuid_v5_finish(&c, out);
}

static void
sha1_str(struct sha1 *c, const char *s)
{
	if (s != NULL)
		sha1_update(c, s, strlen(s));
}

/* Keys up to this long (namespace included) are built on the stack and
 * hashed in one piece. */
#define TAG_KEY_BUF 256

void
tag_uuid(const char *source_kind, const char *source_id, const char *rule_id,
    int64_t rule_version, const char *technique_id,
    const char *sub_technique_id, char out[TAG_UUID_LEN + 1])
{
	unsigned char key[TAG_KEY_BUF];
	const char *part[6];
	size_t len[6], n, i;
	struct sha1 c;
	char ver[24];

	/* decimal without printf: this runs once per tag */
	if (rule_version >= 0) {
		char *p = ver + sizeof ver - 1;
		uint64_t v = (uint64_t)rule_version;

		*p = '\0';
		do {
			*--p = (char)('0' + v % 10);
			v /= 10;
		} while (v != 0);
		part[3] = p;
	} else {
		snprintf(ver, sizeof ver, "%lld", (long long)rule_version);
		part[3] = ver;
	}
	part[0] = source_kind;
	part[1] = source_id;
	part[2] = rule_id;
	part[4] = technique_id;
	part[5] = sub_technique_id;
	n = 16 + 5;
	for (i = 0; i < 6; i++) {
		len[i] = part[i] != NULL ? strlen(part[i]) : 0;
		n += len[i];
	}
	sha1_init(&c);
	if (n > sizeof key) {
		/* stream the key "kind|id|rule|version|technique|sub" */
		sha1_update(&c, tag_namespace, 16);
		for (i = 0; i < 6; i++) {
			if (i > 0)
				sha1_update(&c, "|", 1);
			sha1_str(&c, part[i]);
		}
	} else {
		/* the usual short key: built on the stack, hashed in one
		 * piece rather than eleven */
		memcpy(key, tag_namespace, 16);
		n = 16;
		for (i = 0; i < 6; i++) {
			if (i > 0)
				key[n++] = '|';
			if (len[i] > 0)
				memcpy(key + n, part[i], len[i]);
			n += len[i];
		}
		sha1_update(&c, key, n);
	}
	uuid_v5_finish(&c, out);
}

/* --- time, URL ----------------------------------------------------------- */

int64_t
tag_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
tag_format_time(int64_t unix_ns, char out[TAG_TIME_LEN + 1])
{
	/* the seconds part changes once a second: keep it per thread */
	static _Thread_local time_t last_secs;
	static _Thread_local char last[TAG_TIME_LEN + 1];
	time_t secs = (time_t)(unix_ns / 1000000000);
	long usec = (long)((unix_ns % 1000000000) / 1000);
	struct tm tm;
	char buf[96];
	int i;

	if (usec < 0) {
		usec += 1000000;
		secs--;
	}
	if (last[0] == '\0' || secs != last_secs) {
		gmtime_r(&secs, &tm);
		snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06ld",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, usec);
		memcpy(last, buf, TAG_TIME_LEN);
		last[TAG_TIME_LEN] = '\0';
		last_secs = secs;
	}
	memcpy(out, last, TAG_TIME_LEN + 1);
	/* the six digits of microseconds end the text */
	for (i = 1; i <= 6; i++) {
		out[TAG_TIME_LEN - i] = (char)('0' + usec % 10);
		usec /= 10;
	}
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static const char mitre_base[] = "https://attack.mitre.org/techniques/";

size_t
tag_mitre_url_into(const char *technique_id, const char *sub_technique_id,
    char out[TAG_MITRE_URL_SIZE])
{
	const char *id = sub_technique_id != NULL && *sub_technique_id != '\0' ?
	    sub_technique_id : technique_id;
	size_t n;

	out[0] = '\0';
	if (id == NULL || id[0] != 'T')
		return 0;
	n = strnlen(id, 10);
	/* T1234 -> base T1234; T1234.567 -> base T1234/567 (once per tag:
	 * no printf) */
	if (!(n == 5 && all_digits(id + 1, 4)) &&
	    !(n == 9 && all_digits(id + 1, 4) && id[5] == '.' &&
	    all_digits(id + 6, 3)))
		return 0;
	memcpy(out, mitre_base, sizeof mitre_base - 1);
	memcpy(out + sizeof mitre_base - 1, id, n + 1);
	if (n == 9)
		out[sizeof mitre_base - 1 + 5] = '/';
	return sizeof mitre_base - 1 + n;
}

char *
tag_mitre_url(const char *technique_id, const char *sub_technique_id)
{
	char url[TAG_MITRE_URL_SIZE], *copy;
	size_t n = tag_mitre_url_into(technique_id, sub_technique_id, url);

	if (n == 0)
		return NULL;
	copy = xmalloc(n + 1);
	memcpy(copy, url, n + 1);
	return copy;
}

/* --- confidence and state ----------------------------------------------- */

enum rule_state_kind
rule_state_effective(const struct rule_state *st, int64_t now_ns)
{
	if (st == NULL)
		return RULE_STATE_ENABLED;
	if (st->expires_at_ns != 0 && st->expires_at_ns < now_ns)
		return RULE_STATE_ENABLED; /* expired: reverts to default */
	return st->state;
}

double
tag_confidence(double base, double multiplier, const struct rule_state *st,
    int64_t now_ns)
{
	double conf = base * multiplier;

	if (st != NULL && rule_state_effective(st, now_ns) == RULE_STATE_CLIPPED &&
	    st->has_confidence_max && st->confidence_max < 1.0 &&
	    st->confidence_max < conf)
		conf = st->confidence_max;
	if (isnan(conf) || conf < 0.0)
		conf = 0.0;
	if (conf > 1.0)
		conf = 1.0;
	return conf;
}

/* --- lists ------------------------------------------------------------- */

void
tag_free(struct tag *t)
{
	if (t->strings != NULL) {
		free(t->strings);
		memset(t, 0, sizeof *t);
		return;
	}
	free(t->source_kind);
	free(t->source_id);
	free(t->attacker_uuid);
	free(t->identity_uuid);
	free(t->session_id);
	free(t->decky_id);
	free(t->tactic);
	free(t->technique_id);
	free(t->sub_technique_id);
	free(t->rule_id);
	free(t->evidence);
	free(t->attack_release);
	free(t->mitre_url);
	memset(t, 0, sizeof *t);
}

void
tag_list_init(struct tag_list *l)
{
	l->v = NULL;
	l->n = l->cap = 0;
}

struct tag *
tag_list_push(struct tag_list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 16 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	memset(&l->v[l->n], 0, sizeof l->v[l->n]);
	return &l->v[l->n++];
}

void
tag_list_truncate(struct tag_list *l, size_t from)
{
	while (l->n > from)
		tag_free(&l->v[--l->n]);
}

void
tag_list_free(struct tag_list *l)
{
	tag_list_truncate(l, 0);
	free(l->v);
	tag_list_init(l);
}

char *
tag_json_line(const struct tag *t, int with_created_at)
{
	ttpd_value *o = jv_new_object();
	char *text, *line = NULL;
	size_t n;

#define SET_STR(k, s)                                                          \
	jv_object_set_new(o, k, (s) != NULL ? jv_new_string((s), strlen(s)) : \
	    jv_new_null())
	SET_STR("uuid", t->uuid);
	SET_STR("source_kind", t->source_kind);
	SET_STR("source_id", t->source_id);
	SET_STR("attacker_uuid", t->attacker_uuid);
	SET_STR("identity_uuid", t->identity_uuid);
	SET_STR("session_id", t->session_id);
	SET_STR("decky_id", t->decky_id);
	SET_STR("tactic", t->tactic);
	SET_STR("technique_id", t->technique_id);
	SET_STR("sub_technique_id", t->sub_technique_id);
	jv_object_set_new(o, "confidence", jv_new_real(t->confidence));
	SET_STR("rule_id", t->rule_id);
	jv_object_set_new(o, "rule_version", jv_new_int(t->rule_version));
	SET_STR("attack_release", t->attack_release);
	SET_STR("mitre_url", t->mitre_url);
	if (with_created_at)
		SET_STR("created_at", t->created_at);
#undef SET_STR
	text = jv_dump(o);
	/* text is "{...}": the evidence (already JSON) replaces the brace */
	if (text != NULL && (n = strlen(text)) >= 2)
		line = xasprintf("%.*s,\"evidence\":%s}\n", (int)(n - 1), text,
		    t->evidence);
	free(text);
	jv_decref(o);
	return line;
}
