/*
 * Pattern text cut into pieces (see pattern_split.h).  The reader follows
 * PCRE2's syntax only as far as the patterns of rule files use it and
 * gives up (returns "not a concatenation") on anything else, so a caller
 * never compiles a piece that means something else than in the whole.
 */
#include "config.h"

#include <string.h>

#include "pattern_split.h"

/* extended mode (x) is left out: its spaces and comments are not followed */
#define OPTION_LETTERS "imsnUJ^-"

const char *
ps_class_end(const char *p, const char *end)
{
	p++;
	if (p < end && *p == '^')
		p++;
	if (p < end && *p == ']')
		p++;
	while (p < end && *p != ']') {
		if (*p == '\\')
			p += 2;
		else if (*p == '[' && p + 1 < end && p[1] == ':') {
			const char *q = p + 2;

			while (q + 1 < end && !(q[0] == ':' && q[1] == ']'))
				q++;
			p = q + 2;
		} else
			p++;
	}
	return p < end ? p : NULL;
}

static int
is_option_letter(char c)
{
	return c != '\0' && strchr(OPTION_LETTERS, c) != NULL;
}

/* After an option setting such as (?i) or (?-s) at p, or NULL. */
static const char *
option_setting_end(const char *p, const char *end)
{
	const char *q;

	if (end - p < 3 || p[0] != '(' || p[1] != '?' ||
	    !is_option_letter(p[2]))
		return NULL;
	for (q = p + 2; q < end && is_option_letter(*q); q++)
		;
	return q < end && *q == ')' ? q + 1 : NULL;
}

size_t
ps_lead_len(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *q;

	while ((q = option_setting_end(p, end)) != NULL)
		p = q;
	return (size_t)(p - text);
}

static const char *
utf8_char_end(const char *p, const char *end)
{
	p++;
	while (p < end && ((unsigned char)*p & 0xc0) == 0x80)
		p++;
	return p;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* After the escape sequence at p ('\'), or NULL. */
static const char *
escape_end(const char *p, const char *end)
{
	const char *q;
	char c;

	if (p + 1 >= end)
		return NULL;
	c = p[1];
	if (c == 'Q' || c == 'E')
		return NULL;
	if (c != '\0' && strchr("xopPNgk", c) != NULL && p + 2 < end &&
	    p[2] == '{') {
		q = memchr(p + 3, '}', (size_t)(end - p - 3));
		return q == NULL ? NULL : q + 1;
	}
	q = p + 2;
	switch (c) {
	case 'x':
		while (q < end && q < p + 4 && *q != '\0' &&
		    strchr("0123456789abcdefABCDEF", *q) != NULL)
			q++;
		return q;
	case 'c':
	case 'p':
	case 'P':
		return q < end ? q + 1 : NULL;
	case 'g':
		if (q < end && (*q == '+' || *q == '-'))
			q++;
		while (q < end && is_digit(*q))
			q++;
		return q;
	case 'k':
		if (q < end && (*q == '<' || *q == '\'')) {
			char close = *q == '<' ? '>' : '\'';

			q = memchr(q, close, (size_t)(end - q));
			return q == NULL ? NULL : q + 1;
		}
		return NULL;
	default:
		if (is_digit(c)) {
			while (q < end && is_digit(*q))
				q++;
			return q;
		}
		return utf8_char_end(p + 1, end);
	}
}

/* After one token at p outside a class: an escape, a class, or one byte;
 * NULL when this reader does not follow it (\Q...\E). */
static const char *
token_end(const char *p, const char *end)
{
	const char *q;

	if (*p == '\\')
		return escape_end(p, end);
	if (*p == '[')
		return (q = ps_class_end(p, end)) == NULL ? NULL : q + 1;
	return p + 1;
}

/* After the group opening at p ('('), or NULL. */
static const char *
group_end(const char *p, const char *end)
{
	int depth = 0;

	if (p + 1 < end && p[1] == '*')
		return NULL;            /* verbs */
	if (p + 2 < end && p[1] == '?' && p[2] == '#')
		return NULL;            /* comments */
	if (option_setting_end(p, end) != NULL)
		return NULL;            /* applies to what follows */
	while (p < end) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p + 1;
		if ((p = token_end(p, end)) == NULL)
			return NULL;
	}
	return NULL;
}

static const char *
atom_end(const char *p, const char *end)
{
	const char *q;

	switch (*p) {
	case '\\':
		return escape_end(p, end);
	case '[':
		q = ps_class_end(p, end);
		return q == NULL ? NULL : q + 1;
	case '(':
		return group_end(p, end);
	case ')':
	case '|':
	case '*':
	case '+':
	case '?':
	case '{':
		return NULL;
	default:
		return utf8_char_end(p, end);
	}
}

/*
 * At most how many characters the shortest match of the atom p..end has:
 * 0 for assertions (and backreferences, which may be empty), PS_LONG for
 * other groups, 1 for the rest.
 */
static size_t
atom_shortest(const char *p, const char *end)
{
	if (*p == '^' || *p == '$')
		return 0;
	if (*p == '\\')
		return p + 1 < end && (strchr("bBAzZGK", p[1]) != NULL ||
		    is_digit(p[1]) || p[1] == 'g' || p[1] == 'k') ? 0 : 1;
	if (*p != '(')
		return 1;
	if (end - p >= 3 && p[1] == '?' && (p[2] == '=' || p[2] == '!' ||
	    (p[2] == '<' && end - p >= 4 && (p[3] == '=' || p[3] == '!'))))
		return 0;
	return PS_LONG;
}

/*
 * After the quantifier at p, if any (p itself when there is none), or
 * NULL when it is one this reader does not take: a '{' that does not
 * open {n}, {n,} or {n,m}.  *times: the least number of repeats.
 */
static const char *
quantifier_end(const char *p, const char *end, int *unbounded, size_t *times)
{
	const char *q;

	*unbounded = 0;
	*times = 1;
	if (p >= end)
		return p;
	if (*p == '*' || *p == '+') {
		*unbounded = 1;
		*times = *p == '+';
		q = p + 1;
	} else if (*p == '?') {
		*times = 0;
		q = p + 1;
	} else if (*p == '{') {
		q = p + 1;
		if (q >= end || !is_digit(*q))
			return NULL;
		for (*times = 0; q < end && is_digit(*q); q++)
			if (*times < PS_LONG)
				*times = *times * 10 + (size_t)(*q - '0');
		if (q < end && *q == ',') {
			q++;
			*unbounded = q < end && *q == '}';
			while (q < end && is_digit(*q))
				q++;
		}
		if (q >= end || *q != '}')
			return NULL;
		q++;
	} else
		return p;
	if (q < end && (*q == '?' || *q == '+'))
		q++;            /* lazy or possessive */
	return q;
}

/*
 * Is option `letter` set anywhere, as in (?x), (?ix:...) or (?-m)?  Read
 * without following escapes, so a \\(?x can be taken for one: that only
 * refuses a pattern.
 */
static int
sets_option(const char *text, size_t len, char letter)
{
	const char *p = text, *end = text + len;

	while ((p = memchr(p, '(', (size_t)(end - p))) != NULL) {
		p++;
		if (p < end && *p == '?')
			for (p++; p < end && (*p == 'x' ||
			    is_option_letter(*p)); p++)
				if (*p == letter)
					return 1;
	}
	return 0;
}

size_t
ps_concat_items(const char *text, size_t from, size_t len,
    struct ps_item *items, size_t max)
{
	const char *p = text + from, *end = text + len, *q;
	size_t n = 0, times;

	/* extended mode's spaces and comments are not followed */
	if (sets_option(text, len, 'x'))
		return 0;
	while (p < end) {
		if (n == max || (q = atom_end(p, end)) == NULL)
			return 0;
		items[n].start = (size_t)(p - text);
		items[n].shortest = atom_shortest(p, q);
		if ((p = quantifier_end(q, end, &items[n].unbounded,
		    &times)) == NULL)
			return 0;
		items[n].shortest = times == 0 ? 0 : items[n].shortest >=
		    PS_LONG / times ? PS_LONG : items[n].shortest * times;
		items[n].end = (size_t)(p - text);
		n++;
	}
	return n;
}

/*
 * After the opening of the group at p ('('), that is where its first
 * alternative begins, or NULL (verbs, comments, option settings).
 * *lookbehind says whether it is one.
 */
static const char *
group_open_end(const char *p, const char *end, int *lookbehind)
{
	const char *q;

	*lookbehind = 0;
	if (p + 1 >= end || p[1] == '*')
		return NULL;
	if (p[1] != '?')
		return p + 1;
	if (p + 2 >= end)
		return NULL;
	switch (p[2]) {
	case ':':
	case '=':
	case '!':
	case '>':
	case '|':
		return p + 3;
	case '<':
		if (p + 3 < end && (p[3] == '=' || p[3] == '!')) {
			*lookbehind = 1;
			return p + 4;
		}
		q = memchr(p + 3, '>', (size_t)(end - p - 3));
		return q == NULL ? NULL : q + 1;
	case 'P':
		if (p + 3 >= end || p[3] != '<')
			return NULL;
		q = memchr(p + 4, '>', (size_t)(end - p - 4));
		return q == NULL ? NULL : q + 1;
	case '\'':
		q = memchr(p + 3, '\'', (size_t)(end - p - 3));
		return q == NULL ? NULL : q + 1;
	default:
		/* (?i:...) opens a group; (?i) and the rest are not followed */
		for (q = p + 2; q < end && is_option_letter(*q); q++)
			;
		return q > p + 2 && q < end && *q == ':' ? q + 1 : NULL;
	}
}

#define MAX_DEPTH 64

size_t
ps_drop_caret_alternatives(const char *text, size_t len, char *out)
{
	const char *p = text, *end = text + len, *q;
	int lookbehind[MAX_DEPTH], depth = 0, open_lookbehinds = 0;
	int alt_start = 1;      /* p begins an alternative */
	size_t n = 0, dropped = 0;

	/* multi-line mode changes what ^ is; extended mode is not followed */
	if (sets_option(text, len, 'm') || sets_option(text, len, 'x'))
		return 0;
	while (p < end) {
		if (*p == '^' && alt_start && p + 1 < end && (p[1] == '|' ||
		    (p[1] == ')' && n > 0 && out[n - 1] == '|'))) {
			if (open_lookbehinds > 0)
				return 0;
			if (p[1] == '|')
				p += 2;         /* ^| */
			else {
				n--;            /* |^ before ) */
				p++;
			}
			dropped++;
			continue;
		}
		alt_start = 0;
		if (*p == '(' && (q = option_setting_end(p, end)) != NULL)
			;
		else if (*p == '(') {
			if (depth == MAX_DEPTH ||
			    (q = group_open_end(p, end, &lookbehind[depth])) ==
			    NULL)
				return 0;
			open_lookbehinds += lookbehind[depth++];
			alt_start = 1;
		} else if (*p == ')') {
			if (depth == 0)
				return 0;
			open_lookbehinds -= lookbehind[--depth];
			q = p + 1;
		} else {
			alt_start = *p == '|';
			q = token_end(p, end);
		}
		if (q == NULL)
			return 0;
		memcpy(out + n, p, (size_t)(q - p));
		n += (size_t)(q - p);
		p = q;
	}
	return dropped > 0 && depth == 0 ? n : 0;
}

int
ps_refers_to_groups(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		if (*p == '\\' && p + 1 < end && ((p[1] >= '1' &&
		    p[1] <= '9') || p[1] == 'g' || p[1] == 'k'))
			return 1;
		if (*p == '(' && end - p >= 3 && p[1] == '?' && (p[2] == '&' ||
		    p[2] == 'R' || p[2] == '(' || is_digit(p[2]) ||
		    (p[2] == 'P' && end - p > 3 && (p[3] == '=' ||
		    p[3] == '>')) || ((p[2] == '+' || p[2] == '-') &&
		    end - p > 3 && is_digit(p[3]))))
			return 1;
		if ((p = token_end(p, end)) == NULL)
			return 1;       /* not read: it may */
	}
	return 0;
}

int
ps_has_start_anchor(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		if (*p == '\\' && p + 1 < end && p[1] == 'G')
			return 1;
		if ((p = token_end(p, end)) == NULL)
			return 1;       /* not read: it may */
	}
	return 0;
}

/*
 * Does the group opening at p ('(') leave the group numbers alone: a
 * non-capturing group or an assertion, (?: (?= (?! (?> (?<= (?<!, and
 * not a group that captures, is named, or calls or tests one?
 */
static int
numbers_no_group(const char *p, const char *end)
{
	if (end - p < 3 || p[1] != '?')
		return 0;
	switch (p[2]) {
	case ':':
	case '=':
	case '!':
	case '>':
		return 1;
	case '<':
		return end - p > 3 && (p[3] == '=' || p[3] == '!');
	default:
		return 0;
	}
}

size_t
ps_leading_alternatives(const char *text, size_t len, struct ps_span *alts,
    size_t max, size_t *rest)
{
	const char *end = text + len, *open, *p, *close = NULL;
	size_t n = 0;
	int depth = 0;

	open = text + ps_lead_len(text, len);
	if (end - open < 3 || memcmp(open, "(?:", 3) != 0 || max < 2)
		return 0;
	alts[0].start = (size_t)(open + 3 - text);
	for (p = open + 3; p < end && close == NULL;) {
		if (*p == '(') {
			if (!numbers_no_group(p, end))
				return 0;
			depth++;
		} else if (*p == ')' && depth-- == 0)
			close = p;
		else if (*p == '|' && depth == 0) {
			if (n + 1 == max)
				return 0;
			alts[n++].end = (size_t)(p - text);
			alts[n].start = (size_t)(p + 1 - text);
		}
		if ((p = token_end(p, end)) == NULL)
			return 0;
	}
	if (close == NULL || n == 0 || (close + 1 < end &&
	    strchr("*+?{", close[1]) != NULL))
		return 0;       /* no group, one alternative, or quantified */
	alts[n++].end = (size_t)(close - text);
	/* rest: with alternatives of its own it would not be one piece */
	for (p = close + 1, depth = 0; p < end;) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		else if (*p == '|' && depth == 0)
			return 0;
		if ((p = token_end(p, end)) == NULL)
			return 0;
	}
	*rest = (size_t)(close + 1 - text);
	return n;
}
