/*
 * Case folding and whitespace the way DECNET's Python sees them.  DECNET
 * compares domains and keywords after str.lower(); a byte-wise ASCII fold
 * would disagree on e.g. "\u212Aey" (KELVIN SIGN lowers to 'k').  The table
 * covers the scripts mail headers realistically carry; other characters
 * are kept as they are.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pyfold.h"

/* Decode one UTF-8 sequence (input is valid UTF-8: host guarantee). */
static uint32_t
utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	uint32_t c = s[*i];
	size_t n = 0, k;

	if (c < 0x80)
		n = 0;
	else if ((c & 0xe0) == 0xc0) {
		c &= 0x1f;
		n = 1;
	} else if ((c & 0xf0) == 0xe0) {
		c &= 0x0f;
		n = 2;
	} else {
		c &= 0x07;
		n = 3;
	}
	(*i)++;
	for (k = 0; k < n && *i < len; k++, (*i)++)
		c = (c << 6) | (s[*i] & 0x3f);
	return c;
}

static size_t
utf8_put(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

static uint32_t
lower_cp(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c < 0x80)
		return c;
	if ((c >= 0xc0 && c <= 0xde && c != 0xd7) ||
	    (c >= 0x391 && c <= 0x3ab && c != 0x3a2) ||
	    (c >= 0x410 && c <= 0x42f) || (c >= 0xff21 && c <= 0xff3a))
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	if (c == 0x212a)
		return 'k';
	if (c == 0x212b)
		return 0xe5;
	if (c == 0x178)
		return 0xff;
	/* Latin Extended-A: pairs, upper case first (two runs shift). */
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return (c & 1) ? c : c + 1;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return (c & 1) ? c + 1 : c;
	return c;
}

char *
py_lower(const char *s, size_t len, size_t *outlen)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = malloc(len * 2 + 4), *p;
	size_t i = 0;

	if (out == NULL)
		return NULL;
	p = out;
	while (i < len) {
		uint32_t c = utf8_next(u, len, &i);

		if (c == 0x130) {
			/* LATIN CAPITAL I WITH DOT ABOVE -> "i\u0307" */
			*p++ = 'i';
			p += utf8_put(0x307, p);
			continue;
		}
		p += utf8_put(lower_cp(c), p);
	}
	*p = '\0';
	*outlen = (size_t)(p - out);
	return out;
}

static int
py_isspace(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) ||
	    c == 0x85 || c == 0xa0 || c == 0x1680 ||
	    (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
	    c == 0x202f || c == 0x205f || c == 0x3000;
}

void
py_strip(const char *s, size_t len, size_t *start, size_t *end)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, at, last_end = 0, first = len;

	/* One pass: remember where the first and after-last non-space are. */
	while (i < len) {
		uint32_t c;

		at = i;
		c = utf8_next(u, len, &i);
		if (!py_isspace(c)) {
			if (first == len)
				first = at;
			last_end = i;
		}
	}
	if (first == len) {
		*start = *end = 0;
		return;
	}
	*start = first;
	*end = last_end;
}
