/*
 * MIME body text for the email lifter (mime.h).  DECNET parses the stored
 * message with Python's email package and walks it; this follows that
 * package's observable behaviour where it decides what the body is
 * (header and boundary recognition, the default content type, lenient
 * base64 and quoted-printable, decode(charset, errors="replace")) and
 * bounds everything else: the whole message is in memory (the caller caps
 * its size), lines are never copied, header sections, nesting and the
 * number of parts are limited, and every output is at most three times
 * its input.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

/* ---- small string helpers ---- */

static int
is_space(unsigned char c)
{
	/* str.strip() whitespace that can occur in a header value */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	    c == '\f' || (c >= 0x1c && c <= 0x1f);
}

static unsigned char
lower_ascii(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Bounds of s[a..b) without surrounding whitespace. */
static void
strip(const char *s, size_t *a, size_t *b)
{
	while (*a < *b && is_space((unsigned char)s[*a]))
		(*a)++;
	while (*b > *a && is_space((unsigned char)s[*b - 1]))
		(*b)--;
}

static char *
dup_range(const char *s, size_t len)
{
	char *out = malloc(len + 1);

	if (out != NULL) {
		if (len > 0)
			memcpy(out, s, len);
		out[len] = '\0';
	}
	return out;
}

static int
eq_nocase(const char *s, size_t len, const char *lit)
{
	size_t i;

	if (len != strlen(lit))
		return 0;
	for (i = 0; i < len; i++)
		if (lower_ascii((unsigned char)s[i]) != (unsigned char)lit[i])
			return 0;
	return 1;
}

/* ---- transfer encodings ---- */

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
mime_decode_base64(const char *in, size_t len, char **out, size_t *outlen)
{
	unsigned char *o;
	unsigned left = 0;
	size_t i, n = 0, pads = 0;
	int quad = 0, v;

	if ((o = malloc(len / 4 * 3 + 3)) == NULL)
		return -1;
	/* binascii.a2b_base64(strict_mode=False), which is what email's
	 * decode_b falls back to for anything that is not clean base64. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '=') {
			if (quad >= 2 && (size_t)quad + ++pads >= 4)
				break;
			continue;
		}
		if ((v = b64_value(c)) < 0)
			continue;
		pads = 0;
		switch (quad) {
		case 0:
			left = (unsigned)v;
			quad = 1;
			break;
		case 1:
			o[n++] = (unsigned char)(left << 2 | (unsigned)v >> 4);
			left = (unsigned)v & 0x0f;
			quad = 2;
			break;
		case 2:
			o[n++] = (unsigned char)(left << 4 | (unsigned)v >> 2);
			left = (unsigned)v & 0x03;
			quad = 3;
			break;
		default:
			o[n++] = (unsigned char)(left << 6 | (unsigned)v);
			quad = 0;
			break;
		}
	}
	if (i == len && quad == 1) {
		/* No padding can fix one dangling character: email returns
		 * the encoded text with its line breaks removed. */
		for (i = 0, n = 0; i < len; i++)
			if (in[i] != '\r' && in[i] != '\n')
				n++;
		free(o);
		if ((o = malloc(n + 1)) == NULL)
			return -1;
		for (i = 0, n = 0; i < len; i++)
			if (in[i] != '\r' && in[i] != '\n')
				o[n++] = (unsigned char)in[i];
	}
	o[n] = '\0';
	*out = (char *)o;
	*outlen = n;
	return 0;
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower_ascii(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
mime_decode_qp(const char *in, size_t len, char **out, size_t *outlen)
{
	unsigned char *o;
	size_t i = 0, n = 0;
	int hi, lo;

	if ((o = malloc(len + 1)) == NULL)
		return -1;
	while (i < len) {
		if (in[i] != '=') {
			o[n++] = (unsigned char)in[i++];
			continue;
		}
		if (++i >= len)
			break;                  /* a final '=' is dropped */
		if (in[i] == '\n' || in[i] == '\r') {
			/* soft line break: up to and including the '\n' */
			while (i < len && in[i] != '\n')
				i++;
			if (i < len)
				i++;
		} else if (in[i] == '=') {
			o[n++] = '=';
			i++;
		} else if (i + 1 < len &&
		    (hi = hex_value((unsigned char)in[i])) >= 0 &&
		    (lo = hex_value((unsigned char)in[i + 1])) >= 0) {
			o[n++] = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else
			o[n++] = '=';           /* broken escape kept */
	}
	o[n] = '\0';
	*out = (char *)o;
	*outlen = n;
	return 0;
}

int
mime_decode_cte(const char *cte, const char *in, size_t len, char **out,
    size_t *outlen)
{
	size_t a = 0, b = cte != NULL ? strlen(cte) : 0;

	if (cte != NULL)
		strip(cte, &a, &b);
	if (cte != NULL && eq_nocase(cte + a, b - a, "base64"))
		return mime_decode_base64(in, len, out, outlen);
	if (cte != NULL && eq_nocase(cte + a, b - a, "quoted-printable"))
		return mime_decode_qp(in, len, out, outlen);
	/* 7bit, 8bit, binary and anything unknown: the bytes as they are */
	if ((*out = dup_range(in, len)) == NULL)
		return -1;
	*outlen = len;
	return 0;
}

/* ---- charsets ---- */

enum charset { CS_UNKNOWN, CS_ASCII, CS_UTF8, CS_LATIN1, CS_CP1252 };

static const struct {
	const char *name;
	enum charset cs;
} charset_names[] = {
	/* Python's encodings.aliases for the four codecs, normalised */
	{ "ascii", CS_ASCII }, { "646", CS_ASCII },
	{ "ansi_x3.4_1968", CS_ASCII }, { "ansi_x3_4_1968", CS_ASCII },
	{ "ansi_x3.4_1986", CS_ASCII }, { "cp367", CS_ASCII },
	{ "csascii", CS_ASCII }, { "ibm367", CS_ASCII },
	{ "iso646_us", CS_ASCII }, { "iso_646.irv_1991", CS_ASCII },
	{ "iso_ir_6", CS_ASCII }, { "us", CS_ASCII }, { "us_ascii", CS_ASCII },
	{ "utf_8", CS_UTF8 }, { "u8", CS_UTF8 }, { "utf", CS_UTF8 },
	{ "utf8", CS_UTF8 }, { "utf8_ucs2", CS_UTF8 },
	{ "utf8_ucs4", CS_UTF8 }, { "cp65001", CS_UTF8 },
	{ "latin_1", CS_LATIN1 }, { "8859", CS_LATIN1 },
	{ "cp819", CS_LATIN1 }, { "csisolatin1", CS_LATIN1 },
	{ "ibm819", CS_LATIN1 }, { "iso8859", CS_LATIN1 },
	{ "iso8859_1", CS_LATIN1 }, { "iso_8859_1", CS_LATIN1 },
	{ "iso_8859_1_1987", CS_LATIN1 }, { "iso_ir_100", CS_LATIN1 },
	{ "l1", CS_LATIN1 }, { "latin", CS_LATIN1 }, { "latin1", CS_LATIN1 },
	{ "cp1252", CS_CP1252 }, { "windows_1252", CS_CP1252 },
	{ "1252", CS_CP1252 },
};

/* codecs.lookup(): lower case, then encodings.normalize_encoding(). */
static enum charset
charset_of(const char *name)
{
	char norm[64];
	size_t i, n = 0, k;
	int punct = 0;

	for (i = 0; name[i] != '\0'; i++) {
		unsigned char c = lower_ascii((unsigned char)name[i]);

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.') {
			if (punct && n > 0)
				norm[n++] = '_';
			norm[n++] = (char)c;
			punct = 0;
		} else if (c < 0x80)
			punct = 1;
		else
			punct = 0;      /* non-ASCII: dropped (never alnum here) */
		if (n >= sizeof norm - 2)
			return CS_UNKNOWN;
	}
	norm[n] = '\0';
	for (k = 0; k < 2; k++) {
		for (i = 0; i < sizeof charset_names / sizeof charset_names[0];
		    i++)
			if (strcmp(charset_names[i].name, norm) == 0)
				return charset_names[i].cs;
		/* the aliases table is also tried with '.' as '_' */
		for (i = 0; i < n; i++)
			if (norm[i] == '.')
				norm[i] = '_';
	}
	return CS_UNKNOWN;
}

/* cp1252 0x80-0x9f; 0 marks the five undefined bytes. */
static const uint16_t cp1252_high[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

#define REPLACEMENT 0xfffdu

/* Append code point c (< 0x10000) to out at *n; count only when out is
 * NULL. */
static void
put_cp(char *out, size_t *n, uint32_t c)
{
	if (c < 0x80) {
		if (out != NULL)
			out[*n] = (char)c;
		*n += 1;
	} else if (c < 0x800) {
		if (out != NULL) {
			out[*n] = (char)(0xc0 | c >> 6);
			out[*n + 1] = (char)(0x80 | (c & 0x3f));
		}
		*n += 2;
	} else {
		if (out != NULL) {
			out[*n] = (char)(0xe0 | c >> 12);
			out[*n + 1] = (char)(0x80 | (c >> 6 & 0x3f));
			out[*n + 2] = (char)(0x80 | (c & 0x3f));
		}
		*n += 3;
	}
}

/*
 * The length of the well-formed UTF-8 sequence at s[0..len) (Unicode
 * table 3-7), or 0 with *bad set to the length of its maximal ill-formed
 * subpart, which Python replaces with one U+FFFD.
 */
static size_t
utf8_sequence(const unsigned char *s, size_t len, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		*bad = 1;
		return 0;
	}
	for (i = 1; i <= need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

/* Convert (or, with out NULL, measure). */
static size_t
convert(enum charset cs, const unsigned char *in, size_t len, char *out)
{
	size_t i = 0, n = 0, seq, bad;

	while (i < len) {
		unsigned char c = in[i];

		if (c < 0x80) {
			put_cp(out, &n, c);
			i++;
			continue;
		}
		switch (cs) {
		case CS_UTF8:
			if ((seq = utf8_sequence(in + i, len - i, &bad)) > 0) {
				if (out != NULL)
					memcpy(out + n, in + i, seq);
				n += seq;
				i += seq;
			} else {
				put_cp(out, &n, REPLACEMENT);
				i += bad;
			}
			continue;
		case CS_LATIN1:
			put_cp(out, &n, c);
			break;
		case CS_CP1252:
			if (c >= 0xa0)
				put_cp(out, &n, c);
			else
				put_cp(out, &n, cp1252_high[c - 0x80] != 0 ?
				    cp1252_high[c - 0x80] : REPLACEMENT);
			break;
		default:
			put_cp(out, &n, REPLACEMENT);
			break;
		}
		i++;
	}
	return n;
}

int
mime_to_utf8(const char *charset, const char *in, size_t len, char **out,
    size_t *outlen)
{
	enum charset cs = charset_of(charset);
	size_t n;

	if (cs == CS_UNKNOWN)
		return 0;
	n = convert(cs, (const unsigned char *)in, len, NULL);
	if ((*out = malloc(n + 1)) == NULL)
		return -1;
	(void)convert(cs, (const unsigned char *)in, len, *out);
	(*out)[n] = '\0';
	*outlen = n;
	return 1;
}

/* ---- headers ---- */

/* The headers of one entity that decide its body. */
struct headers {
	const char *ctype, *cte; /* first occurrence's raw (folded) value */
	size_t ctype_len, cte_len;
	size_t body;             /* offset of the body */
};

/* Line at p[pos..len): content end (no CR LF) and start of the next. */
static void
next_line(const char *p, size_t len, size_t pos, size_t *cend, size_t *next)
{
	const char *nl = memchr(p + pos, '\n', len - pos);
	size_t eol = nl != NULL ? (size_t)(nl - p) : len;

	*next = nl != NULL ? eol + 1 : len;
	if (eol > pos && p[eol - 1] == '\r')
		eol--;
	*cend = eol;
}

/*
 * The header section, as Python's feedparser reads it: it ends at an
 * empty line or at the first line that is neither a field ("name:",
 * name of printable non-colon characters), a continuation (leading
 * space or tab) nor an mbox "From " line; that line starts the body.
 * Returns -1 when the section is bigger than max.
 */
static int
parse_headers(const char *p, size_t len, size_t max, struct headers *h)
{
	size_t pos = 0, cend, next, i;
	int cur = 0;                    /* 1: in Content-Type, 2: in CTE */

	memset(h, 0, sizeof *h);
	while (pos < len) {
		next_line(p, len, pos, &cend, &next);
		if (cend == pos) {
			h->body = next;
			return 0;
		}
		if (p[pos] == ' ' || p[pos] == '\t') {
			if (next > max)
				return -1;
			if (cur == 1)
				h->ctype_len = cend - (size_t)(h->ctype - p);
			else if (cur == 2)
				h->cte_len = cend - (size_t)(h->cte - p);
			pos = next;
			continue;
		}
		for (i = pos; i < cend && p[i] >= 041 && p[i] <= 0176 &&
		    p[i] != ':'; i++)
			;
		if (cend - pos >= 5 && memcmp(p + pos, "From ", 5) == 0)
			i = pos;                /* mbox separator: skipped */
		else if (i == cend || p[i] != ':') {
			h->body = pos;          /* no blank line before it */
			return 0;
		}
		if (next > max)
			return -1;
		cur = 0;
		if (i > pos && h->ctype == NULL &&
		    eq_nocase(p + pos, i - pos, "content-type")) {
			cur = 1;
			h->ctype = p + i + 1;
			h->ctype_len = cend - (i + 1);
		} else if (i > pos && h->cte == NULL &&
		    eq_nocase(p + pos, i - pos, "content-transfer-encoding")) {
			cur = 2;
			h->cte = p + i + 1;
			h->cte_len = cend - (i + 1);
		}
		pos = next;
	}
	h->body = len;
	return 0;
}

/* A header value with its line breaks removed (unfolded), or NULL. */
static char *
unfold(const char *v, size_t len)
{
	char *out;
	size_t i, n = 0;

	if (v == NULL)
		return NULL;
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		if (v[i] != '\r' && v[i] != '\n')
			out[n++] = v[i];
	out[n] = '\0';
	return out;
}

/*
 * The content type of a Content-Type value: the text before the first
 * ';', stripped and lower-cased, "text/plain" when it does not have
 * exactly one '/' (email.message.Message.get_content_type()).
 */
static char *
content_type_of(const char *v)
{
	size_t a = 0, b = strcspn(v, ";"), i, slashes = 0;
	char *out;

	strip(v, &a, &b);
	for (i = a; i < b; i++)
		slashes += v[i] == '/';
	if (slashes != 1)
		return dup_range("text/plain", 10);
	if ((out = dup_range(v + a, b - a)) == NULL)
		return NULL;
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)lower_ascii((unsigned char)out[i]);
	return out;
}

/*
 * Parameter `name` of a Content-Type value, unquoted (Message.get_param()
 * with compat32 parsing: ';'-separated outside double quotes, the first
 * match wins).  *found is 0 when absent.  NULL with *found set means
 * ENOMEM.  RFC 2231 forms (name*=) are not decoded.
 */
static char *
param_of(const char *v, const char *name, int *found)
{
	size_t pos = strcspn(v, ";"), len = strlen(v);

	*found = 0;
	while (pos < len) {
		size_t start = ++pos, end, eq, a, b;
		int quoted = 0;

		for (end = start; end < len; end++) {
			if (v[end] == '\\' && quoted && end + 1 < len)
				end++;
			else if (v[end] == '"')
				quoted = !quoted;
			else if (v[end] == ';' && !quoted)
				break;
		}
		pos = end;
		eq = start + strcspn(v + start, "=");
		if (eq >= end)
			continue;
		a = start;
		b = eq;
		strip(v, &a, &b);
		if (!eq_nocase(v + a, b - a, name))
			continue;
		a = eq + 1;
		b = end;
		strip(v, &a, &b);
		*found = 1;
		if (b - a >= 2 && ((v[a] == '"' && v[b - 1] == '"') ||
		    (v[a] == '<' && v[b - 1] == '>'))) {
			/* email.utils.unquote() */
			char *out = malloc(b - a), quote = v[a];
			size_t i, n = 0;

			if (out == NULL)
				return NULL;
			for (i = a + 1; i < b - 1; i++) {
				if (quote == '"' && v[i] == '\\' &&
				    i + 1 < b - 1 &&
				    (v[i + 1] == '\\' || v[i + 1] == '"'))
					i++;
				out[n++] = v[i];
			}
			out[n] = '\0';
			return out;
		}
		return dup_range(v + a, b - a);
	}
	return NULL;
}

/* ---- the walk ---- */

struct walker {
	const struct mime_limits *lim;
	struct mime_result *res;
	char *html;       /* first text/html part that decoded */
	size_t html_len;
	int stop;         /* a text/plain part was found, or a limit says so */
	int oom;
};

static void walk_entity(struct walker *, const char *, size_t, unsigned,
    int);

/* Is line[0..n) a delimiter of boundary b ("--b", "--b--", then blanks)? */
static int
delimiter(const char *line, size_t n, const char *b, size_t blen,
    int *close)
{
	size_t i = 2 + blen;

	if (n < i || line[0] != '-' || line[1] != '-' ||
	    memcmp(line + 2, b, blen) != 0)
		return 0;
	*close = n - i >= 2 && line[i] == '-' && line[i + 1] == '-';
	if (*close)
		i += 2;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i == n;
}

/*
 * The parts of a multipart body: what lies between delimiter lines, the
 * line break before each delimiter belonging to the delimiter.  No
 * delimiter at all means no parts; a missing close delimiter ends the
 * last part at the end of the body.
 */
static void
walk_multipart(struct walker *w, const char *p, size_t len, const char *b,
    unsigned depth, int digest)
{
	size_t blen = strlen(b), pos = 0, part = 0, cend, next, end;
	int in_part = 0, close;

	while (pos < len && !w->stop && !w->oom) {
		next_line(p, len, pos, &cend, &next);
		if (delimiter(p + pos, cend - pos, b, blen, &close)) {
			if (in_part) {
				end = pos;
				if (end > part && p[end - 1] == '\n')
					end--;
				if (end > part && p[end - 1] == '\r')
					end--;
				walk_entity(w, p + part, end - part, depth + 1,
				    digest);
			}
			if (close)
				return;
			in_part = 1;
			part = next;
		}
		pos = next;
	}
	if (in_part && !w->stop && !w->oom)
		walk_entity(w, p + part, len - part, depth + 1, digest);
}

/* A text part: decode it; keep it when its charset is one we know. */
static void
take_text(struct walker *w, const char *ctype_value, const struct headers *h,
    const char *body, size_t blen, int html)
{
	char *cte = NULL, *charset = NULL, *raw = NULL, *text = NULL;
	size_t rawlen, textlen;
	int found = 0, r;

	if (h->cte != NULL && (cte = unfold(h->cte, h->cte_len)) == NULL)
		goto oom;
	if (ctype_value != NULL &&
	    (charset = param_of(ctype_value, "charset", &found)) == NULL &&
	    found)
		goto oom;
	if (mime_decode_cte(cte, body, blen, &raw, &rawlen) != 0)
		goto oom;
	r = mime_to_utf8(charset != NULL ? charset : "us-ascii", raw, rawlen,
	    &text, &textlen);
	if (r < 0)
		goto oom;
	if (r > 0) {
		if (!html) {
			w->res->text = text;
			w->res->len = textlen;
			w->res->html = 0;
			w->stop = 1;
		} else {
			w->html = text;
			w->html_len = textlen;
		}
	}
	free(cte);
	free(charset);
	free(raw);
	return;
oom:
	w->oom = 1;
	free(cte);
	free(charset);
	free(raw);
}

static void
walk_entity(struct walker *w, const char *p, size_t len, unsigned depth,
    int digest_child)
{
	struct headers h;
	char *value = NULL, *ctype = NULL, *boundary = NULL;
	const char *body, *slash;
	size_t blen;
	int found;

	if (w->stop || w->oom)
		return;
	if (w->res->parts >= w->lim->max_parts) {
		w->res->hits |= MIME_HIT_PARTS;
		w->stop = 1;
		return;
	}
	w->res->parts++;
	if (parse_headers(p, len, w->lim->max_header_bytes, &h) != 0) {
		w->res->hits |= MIME_HIT_HEADER;
		return;
	}
	body = p + h.body;
	blen = len - h.body;
	if (h.ctype != NULL) {
		if ((value = unfold(h.ctype, h.ctype_len)) == NULL ||
		    (ctype = content_type_of(value)) == NULL)
			goto oom;
	} else if ((ctype = dup_range(digest_child ? "message/rfc822" :
	    "text/plain", digest_child ? 14 : 10)) == NULL)
		goto oom;
	slash = strchr(ctype, '/');
	if ((size_t)(slash - ctype) == 9 && memcmp(ctype, "multipart", 9) ==
	    0) {
		boundary = value != NULL ? param_of(value, "boundary", &found) :
		    NULL;
		if (boundary == NULL && value != NULL && found)
			goto oom;
		if (boundary != NULL) {
			/* get_boundary() strips trailing whitespace */
			size_t a = 0, b = strlen(boundary);

			while (b > a && is_space((unsigned char)boundary[b - 1]))
				b--;
			boundary[b] = '\0';
			if (depth >= w->lim->max_depth)
				w->res->hits |= MIME_HIT_DEPTH;
			else
				walk_multipart(w, body, blen, boundary, depth,
				    strcmp(slash + 1, "digest") == 0);
		}
		/* without a boundary it is one opaque, non-text entity */
	} else if ((size_t)(slash - ctype) == 7 &&
	    memcmp(ctype, "message", 7) == 0 &&
	    strcmp(slash + 1, "delivery-status") != 0) {
		/* message/rfc822 and friends: a whole message inside */
		if (depth >= w->lim->max_depth)
			w->res->hits |= MIME_HIT_DEPTH;
		else
			walk_entity(w, body, blen, depth + 1, 0);
	} else if (strcmp(ctype, "text/plain") == 0)
		take_text(w, value, &h, body, blen, 0);
	else if (strcmp(ctype, "text/html") == 0 && w->html == NULL)
		take_text(w, value, &h, body, blen, 1);
	free(boundary);
	free(ctype);
	free(value);
	return;
oom:
	w->oom = 1;
	free(boundary);
	free(ctype);
	free(value);
}

int
mime_body_text(const char *msg, size_t len, const struct mime_limits *lim,
    struct mime_result *res)
{
	struct walker w;

	memset(res, 0, sizeof *res);
	memset(&w, 0, sizeof w);
	w.lim = lim;
	w.res = res;
	walk_entity(&w, msg, len, 0, 0);
	if (w.oom) {
		free(res->text);
		free(w.html);
		res->text = NULL;
		return -1;
	}
	if (res->text == NULL && w.html != NULL) {
		res->text = w.html;
		res->len = w.html_len;
		res->html = 1;
	} else
		free(w.html);
	return 0;
}
