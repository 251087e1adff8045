/*
 * Required-literal prefilter: literal extraction from PCRE2 patterns and
 * an Aho-Corasick scanner.  See prefilter.h.
 *
 * The extractor is a small recursive-descent reader of PCRE2 syntax that
 * computes, for every sub-expression, one of:
 *
 *   EXACT S   the sub-expression matches exactly one string of S
 *   REQ S     every match contains some string of S as a substring
 *   NONE      nothing known
 *
 * over ASCII-case-folded literals, the way RE2's prefilter does.
 * pf_extract_clauses() refines that per top-level alternative with the
 * two best sets of the alternative's sequence (both are required).  It gives
 * up (the whole pattern becomes unfilterable) on anything outside a
 * conservative subset: non-ASCII pattern bytes, numeric and property
 * escapes, named and multi-digit backreferences (\1-\9 are read as
 * "unknown text"), recursion, conditionals, verbs, \Q..\E,
 * extended mode, and brace forms whose meaning differs between PCRE2
 * releases.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "prefilter.h"

#define EXACT_MAX 16    /* strings in an EXACT set before it degrades */
#define UNION_MAX 64    /* strings in a REQ set from an alternation */
#define DEPTH_MAX 200   /* group nesting the reader follows */

enum info_kind { I_NONE, I_EXACT, I_REQ };

/*
 * A zero-width "word boundary on the ASCII level" marker inside extracted
 * strings: \b, lookarounds that prove the neighbouring character is
 * not a word character, and both sides of a run of non-word characters
 * (\s, \s+, [;&|]: see nonword_run()).  pf_extract() turns a marker at
 * either end of a literal, next to a word character, into a PF_LB /
 * PF_RB flag and strips every marker.
 */
#define MARK '\x01'

struct sset {
	char **v;
	size_t n, cap;
};

/*
 * Besides the set, every sub-expression gets maxw, the most bytes a match
 * of it can span (W_INF: no bound known), and an EXACT or REQ one reach:
 * every match has an occurrence of a string of the set ending at most
 * reach bytes after the match's start (for EXACT, reach = maxw).  A
 * character can take up to 4 bytes (UTF-8; UCP \s \w . and classes
 * match non-ASCII ones), and a letter s, k or i up to 3 (U+017F, U+212A,
 * U+0130, U+0131 under caseless matching).
 */
struct info {
	enum info_kind kind;
	struct sset s;
	size_t maxw, reach;
	int nw;                 /* enum nw_effect of the sub-expression */
};

/*
 * What a sub-expression tells about the character just before the point
 * where its match ends (inside the subject): NW_ONE, it is surely not an
 * ASCII word character, or there is none (every match ends with such a
 * character or at ^); NW_KEEP, whatever held where it started still holds
 * (it can match the empty string, and its other matches end with such a
 * character); NW_NONE, nothing is known.  A literal found where NW_ONE
 * holds gets PF_LB: after "(?:^|;)\s*" and before "(?:id|w)", "id" and
 * "w" count only as words, not inside "hidden" or "wget".
 */
enum nw_effect { NW_NONE, NW_ONE, NW_KEEP };

/* a then b */
static int
nw_then(int a, int b)
{
	return b == NW_KEEP ? a : b;
}

/* either a or b */
static int
nw_either(int a, int b)
{
	if (a == b)
		return a;
	return a == NW_NONE || b == NW_NONE ? NW_NONE : NW_KEEP;
}

#define W_INF ((size_t)-1)
#define W_CHAR 4                /* bytes of any one character */
#define W_CAP ((size_t)1 << 24) /* anything above counts as W_INF */

static size_t
w_add(size_t a, size_t b)
{
	return a >= W_CAP || b >= W_CAP || a + b >= W_CAP ? W_INF : a + b;
}

/* n repetitions, n < 0 for unbounded */
static size_t
w_times(size_t w, long n)
{
	if (w == 0 || n == 0)
		return 0;
	if (n < 0 || w >= W_CAP || (size_t)n >= W_CAP / w)
		return W_INF;
	return w * (size_t)n;
}

static size_t
w_max(size_t a, size_t b)
{
	return a > b ? a : b;
}

struct reader {
	const unsigned char *p, *end;
	int bail;       /* unsupported syntax: give up */
	int nomem;
	int depth;
	/* top-level option settings such as (?i): those at the very start
	 * end at lead_opts; any other sets other_opts */
	const unsigned char *start;
	const unsigned char *lead_opts;
	int other_opts;
	int at_start_offset;    /* \G: matches depend on where a search
				   starts, so no reach is given */
};

/* ---- string sets ---- */

static void
sset_free(struct sset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static int
sset_has(const struct sset *s, const char *str, size_t len)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strlen(s->v[i]) == len && memcmp(s->v[i], str, len) == 0)
			return 1;
	return 0;
}

/* Add a copy of str[0..len) unless present; 0 or -1 (no memory). */
static int
sset_add(struct sset *s, const char *str, size_t len)
{
	char *copy;

	if (sset_has(s, str, len))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		char **v = realloc(s->v, cap * sizeof *v);

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	if ((copy = malloc(len + 1)) == NULL)
		return -1;
	memcpy(copy, str, len);
	copy[len] = '\0';
	s->v[s->n++] = copy;
	return 0;
}

/* Length without boundary markers. */
static size_t
text_len(const char *str)
{
	size_t n = 0;

	for (; *str != '\0'; str++)
		if (*str != MARK)
			n++;
	return n;
}

static size_t
sset_min_len(const struct sset *s)
{
	size_t i, m = (size_t)-1;

	for (i = 0; i < s->n; i++)
		if (text_len(s->v[i]) < m)
			m = text_len(s->v[i]);
	return m;
}

/* Can the set match the empty string (markers are zero-width)? */
static int
sset_has_blank(const struct sset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (text_len(s->v[i]) == 0)
			return 1;
	return 0;
}

/* ---- infos ---- */

static void
info_free(struct info *in)
{
	sset_free(&in->s);
	in->kind = I_NONE;
}

static struct info
info_none(void)
{
	struct info in = { I_NONE, { NULL, 0, 0 }, W_INF, W_INF, NW_NONE };

	return in;
}

/* Bytes a match of an extracted string can span. */
static size_t
text_width(const char *str, size_t len)
{
	size_t i, w = 0;

	for (i = 0; i < len; i++)
		if (str[i] == 's' || str[i] == 'k' || str[i] == 'i')
			w += 3;
		else if (str[i] != MARK)
			w++;
	return w;
}

/* NONE for something of width maxw. */
static struct info
info_width(size_t maxw)
{
	struct info in = info_none();

	in.maxw = maxw;
	return in;
}

/* EXACT {str}; on failure r->nomem is set and NONE returned. */
static struct info
info_exact1(struct reader *r, const char *str, size_t len)
{
	struct info in = info_none();

	in.kind = I_EXACT;
	in.maxw = in.reach = text_width(str, len);
	if (sset_add(&in.s, str, len) < 0) {
		r->nomem = 1;
		info_free(&in);
	}
	return in;
}

/* info_exact1() of a zero-width item. */
static struct info
info_zero_width(struct reader *r, const char *str, size_t len)
{
	struct info in = info_exact1(r, str, len);

	in.nw = NW_KEEP;
	return in;
}

/* An EXACT set becomes REQ, unless it can match the empty string. */
static struct info
as_req(struct info in)
{
	if (in.kind == I_EXACT) {
		if (sset_has_blank(&in.s)) {
			info_free(&in);
			return in;
		}
		in.kind = I_REQ;
	}
	return in;
}

/* Is b more selective than a?  Both REQ or NONE. */
static int
is_better(const struct info *a, const struct info *b)
{
	size_t ma, mb;

	if (b->kind == I_NONE)
		return 0;
	if (a->kind == I_NONE)
		return 1;
	ma = sset_min_len(&a->s);
	mb = sset_min_len(&b->s);
	return mb > ma || (mb == ma && b->s.n < a->s.n);
}

/* Keep the best two of *best, *second and x (REQ or NONE; taken);
 * with second NULL, only the best (the other is freed). */
static void
keep_two(struct info *best, struct info *second, struct info x)
{
	if (is_better(best, &x)) {
		struct info old = *best;

		*best = x;
		x = old;
	}
	if (second != NULL && is_better(second, &x)) {
		info_free(second);
		*second = x;
	} else
		info_free(&x);
}

/*
 * run x item (both EXACT) into *out; 1 done, 0 too big (nothing changed),
 * -1 out of memory.
 */
static int
cross(const struct info *run, const struct info *item, struct info *out)
{
	struct info res = info_none();
	char buf[2 * PF_MAX_LITERAL + 1];
	size_t i, j;

	if (run->s.n * item->s.n > EXACT_MAX)
		return 0;
	for (i = 0; i < run->s.n; i++)
		for (j = 0; j < item->s.n; j++)
			if (strlen(run->s.v[i]) + strlen(item->s.v[j]) >
			    PF_MAX_LITERAL)
				return 0;
	res.kind = I_EXACT;
	res.maxw = res.reach = w_add(run->maxw, item->maxw);
	for (i = 0; i < run->s.n; i++)
		for (j = 0; j < item->s.n; j++) {
			size_t a = strlen(run->s.v[i]);
			size_t b = strlen(item->s.v[j]);

			memcpy(buf, run->s.v[i], a);
			memcpy(buf + a, item->s.v[j], b);
			if (sset_add(&res.s, buf, a + b) < 0) {
				info_free(&res);
				return -1;
			}
		}
	*out = res;
	return 1;
}

/* ---- the reader ---- */

static struct info parse_alt(struct reader *r);

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static int
fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/*
 * At a '{': 1 and *min and *max when every PCRE2 release reads a quantifier
 * there ({n} {n,} {n,m}), 0 when every release reads a literal '{', and
 * the reader bails when releases disagree ({,m}, spaces inside).  *len is
 * the length of the quantifier.
 */
static int
brace_quantifier(struct reader *r, const unsigned char *p, long *min,
    long *max, size_t *len)
{
	const unsigned char *q = p + 1;
	long lo = 0, hi;
	int digits = 0, other = 0;

	/* the strict form */
	while (q < r->end && is_digit(*q) && lo < 100000)
		lo = lo * 10 + (*q++ - '0'), digits++;
	if (digits > 0 && q < r->end) {
		if (*q == '}') {
			*min = *max = lo;
			*len = (size_t)(q + 1 - p);
			return 1;
		}
		if (*q == ',') {
			q++;
			if (q < r->end && *q == '}') {
				*min = lo;
				*max = -1;
				*len = (size_t)(q + 1 - p);
				return 1;
			}
			hi = 0;
			digits = 0;
			while (q < r->end && is_digit(*q) && hi < 100000)
				hi = hi * 10 + (*q++ - '0'), digits++;
			if (digits > 0 && q < r->end && *q == '}') {
				*min = lo;
				*max = hi;
				*len = (size_t)(q + 1 - p);
				return 1;
			}
		}
	}
	/* something newer releases may read as a quantifier? */
	digits = 0;
	for (q = p + 1; q < r->end && *q != '}'; q++) {
		if (is_digit(*q))
			digits++;
		else if (*q != ',' && *q != ' ' && *q != '\t')
			other++;
	}
	if (q < r->end && digits > 0 && other == 0)
		r->bail = 1;
	return 0;
}

/*
 * PCRE2's check_posix_syntax(): at "[:" (or "[." "[="), is this a POSIX
 * class name?  Returns the position just past its ":]", or NULL when the
 * '[' is an ordinary class member.
 */
static const unsigned char *
posix_class_end(const unsigned char *p, const unsigned char *end)
{
	int terminator = p[1];

	for (p += 2; p < end; p++) {
		if (*p == '\\' && p + 1 < end && (p[1] == ']' || p[1] == '\\'))
			p++;
		else if ((*p == '[' && p + 1 < end && p[1] == terminator) ||
		    *p == ']')
			return NULL;
		else if (*p == terminator && p + 1 < end && p[1] == ']')
			return p + 2;
	}
	return NULL;
}

/* Skip a character class; the reader is just past '['. */
static void
skip_class(struct reader *r)
{
	if (r->p < r->end && *r->p == '^')
		r->p++;
	if (r->p < r->end && *r->p == ']')
		r->p++;         /* a leading ']' is literal */
	while (r->p < r->end) {
		int c = *r->p;

		if (c == ']') {
			r->p++;
			return;
		}
		if (c == '\\') {
			if (r->p + 1 >= r->end || r->p[1] == 'Q' ||
			    r->p[1] == 'E') {
				r->bail = 1;
				return;
			}
			r->p += 2;
			continue;
		}
		if (c == '[' && r->p + 1 < r->end && (r->p[1] == ':' ||
		    r->p[1] == '.' || r->p[1] == '=')) {
			const unsigned char *q = posix_class_end(r->p, r->end);

			if (q != NULL) {
				if (r->p[1] != ':') {
					r->bail = 1;    /* [.x.] [=x=] */
					return;
				}
				r->p = q;
				continue;
			}
		}
		r->p++;
	}
	r->bail = 1;            /* unterminated */
}

/* A backslash escape outside a class; the reader is at the '\'. */
static struct info
parse_escape(struct reader *r)
{
	int c;
	char lit;

	if (r->p + 1 >= r->end) {
		r->bail = 1;
		return info_none();
	}
	c = r->p[1];
	r->p += 2;
	if (c >= 0x80) {
		r->bail = 1;
		return info_none();
	}
	if (!is_alnum(c)) {
		if (c == '\0' || c == MARK)
			return info_none();
		lit = (char)fold(c);
		return info_exact1(r, &lit, 1);
	}
	switch (c) {
	case 'b': case 'A': case 'z': case 'Z': {
		/* zero width, and the character on one side is not a word
		 * character (or there is none) */
		char mark = MARK;

		return info_exact1(r, &mark, 1);
	}
	case 'G':
		r->at_start_offset = 1;
		return info_exact1(r, "", 0);           /* zero width */
	case 'B': case 'K':
		return info_exact1(r, "", 0);           /* zero width */
	case 't': case 'n': case 'r': case 'f': case 'e': case 'a':
		return info_width(1);                   /* one ASCII char */
	case 'd': case 'D': case 's': case 'S': case 'w': case 'W':
	case 'h': case 'H': case 'v': case 'V': case 'C':
		return info_width(W_CHAR);              /* one char */
	case 'R':
		return info_width(W_CHAR);              /* \r\n or one char */
	case 'X':
		return info_none();                     /* a grapheme cluster */
	case 'N':
		if (r->p < r->end && *r->p == '{')
			r->bail = 1;                    /* \N{U+...} */
		return info_width(W_CHAR);
	case '1': case '2': case '3': case '4': case '5': case '6': case '7':
	case '8': case '9':
		/* \1-\9 is always a backreference: it matches text the
		 * pattern already matched, i.e. something unknown.  Longer
		 * numbers may be octal or literal digits: give up. */
		if (r->p < r->end && is_digit(*r->p))
			r->bail = 1;
		return info_none();
	default:
		r->bail = 1;    /* \x \o \c \p \g \k \Q digits ... */
		return info_none();
	}
}

/*
 * One atom at p (up to end) that can only match a character that is not
 * an ASCII word character, or the end of the subject: \s \n \t \r \f \v
 * \h \z \Z $ ^, an escaped or plain punctuation character, or a class
 * without a word character, range or negation.  Returns its length, 0 if
 * it is not such an atom.
 */
static size_t
nonword_atom(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q;

	if (p >= end)
		return 0;
	if (*p == '$' || *p == '^')
		return 1;
	if (*p == '\\') {
		if (p + 1 >= end)
			return 0;
		if (strchr("sntrfvhzZ", p[1]) != NULL)
			return 2;
		return p[1] < 0x80 && !is_alnum(p[1]) && p[1] != '_' ? 2 : 0;
	}
	if (*p == '[') {
		q = p + 1;
		if (q < end && (*q == '^' || *q == ']'))
			return 0;
		for (; q < end && *q != ']'; q++) {
			if (*q >= 0x80 || is_alnum(*q) || *q == '_' ||
			    *q == '[' || (*q == '-' && q[-1] != '[' &&
			    q + 1 < end && q[1] != ']'))
				return 0;       /* word chars, ranges, POSIX */
			if (*q == '\\') {
				if (q + 1 >= end || (strchr("sntrfvh", q[1]) ==
				    NULL && (q[1] >= 0x80 || is_alnum(q[1]) ||
				    q[1] == '_')))
					return 0;
				q++;
			}
		}
		return q < end ? (size_t)(q + 1 - p) : 0;
	}
	if (*p < 0x80 && !is_alnum(*p) && *p != '_' &&
	    strchr(".()|*+?{}", *p) == NULL)
		return 1;
	return 0;
}

/* A class or escape at p that every ASCII word character matches: \w, or
 * a class listing \w.  Returns its length, or 0. */
static size_t
all_word_atom(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q;
	int has_w = 0;

	if (p + 1 < end && p[0] == '\\' && p[1] == 'w')
		return 2;
	if (p >= end || *p != '[' || p + 1 >= end || p[1] == '^')
		return 0;
	for (q = p + 1; q < end && *q != ']'; q++)
		if (*q == '\\') {
			if (q + 1 >= end)
				return 0;
			if (q[1] == 'w')
				has_w = 1;
			q++;
		} else if (*q == '[')
			return 0;
	return q < end && has_w ? (size_t)(q + 1 - p) : 0;
}

/*
 * Does the lookaround body [p, end) (end at its ')') prove that the
 * character on its side is not an ASCII word character?  Positive: every
 * branch is one non-word atom.  Negative: the body is one atom that every
 * word character matches.
 */
static int
lookaround_bounds(const unsigned char *p, const unsigned char *end,
    int negative)
{
	size_t len;

	if (negative)
		return (len = all_word_atom(p, end)) > 0 && p + len == end;
	for (;;) {
		if ((len = nonword_atom(p, end)) == 0)
			return 0;
		p += len;
		if (p == end)
			return 1;
		if (*p != '|')
			return 0;
		p++;
	}
}

/* A group; the reader is just past '('. */
static struct info
parse_group(struct reader *r)
{
	struct info in;
	int zero_width = 0, negative = 0;
	const unsigned char *body, *open = r->p - 1;

	if (r->p < r->end && *r->p == '*') {
		r->bail = 1;            /* verbs, (*pla:...) */
		return info_none();
	}
	if (r->p < r->end && *r->p == '?') {
		r->p++;
		if (r->p >= r->end) {
			r->bail = 1;
			return info_none();
		}
		switch (*r->p) {
		case ':':
		case '>':               /* atomic */
		case '|':               /* branch reset */
			r->p++;
			break;
		case '=':
		case '!':
			negative = *r->p == '!';
			r->p++;
			zero_width = 1;
			break;
		case '<':
			if (r->p + 1 < r->end &&
			    (r->p[1] == '=' || r->p[1] == '!')) {
				negative = r->p[1] == '!';
				r->p += 2;
				zero_width = 1;
				break;
			}
			/* a named group (?<name>...) */
			/* FALLTHROUGH */
		case 'P':
		case '\'': {
			int close = *r->p == '\'' ? '\'' : '>';

			if (*r->p == 'P') {
				if (r->p + 1 >= r->end || r->p[1] != '<') {
					r->bail = 1;
					return info_none();
				}
				r->p++;
			}
			r->p++;
			while (r->p < r->end && (is_alnum(*r->p) ||
			    *r->p == '_'))
				r->p++;
			if (r->p >= r->end || *r->p != close) {
				r->bail = 1;
				return info_none();
			}
			r->p++;
			break;
		}
		case '#':
			while (r->p < r->end && *r->p != ')')
				r->p++;
			if (r->p >= r->end) {
				r->bail = 1;
				return info_none();
			}
			r->p++;
			return info_zero_width(r, "", 0);
		default:
			/* option letters: (?i) (?-i) (?i:...) (?^) */
			while (r->p < r->end && (*r->p == 'i' ||
			    *r->p == 'm' || *r->p == 's' || *r->p == 'n' ||
			    *r->p == 'U' || *r->p == 'J' || *r->p == '-' ||
			    *r->p == '^'))
				r->p++;
			if (r->p >= r->end) {
				r->bail = 1;
				return info_none();
			}
			if (*r->p == ')') {
				r->p++;
				if (r->depth == 0 && open == r->lead_opts)
					r->lead_opts = r->p;
				else if (r->depth == 0)
					r->other_opts = 1;
				return info_zero_width(r, "", 0);
			}
			if (*r->p != ':') {
				r->bail = 1;    /* x, digits, C, R, (, ... */
				return info_none();
			}
			r->p++;
			break;
		}
	}
	if (++r->depth > DEPTH_MAX) {
		r->bail = 1;
		return info_none();
	}
	body = r->p;
	in = parse_alt(r);
	r->depth--;
	if (r->bail || r->nomem) {
		info_free(&in);
		return info_none();
	}
	if (r->p >= r->end || *r->p != ')') {
		r->bail = 1;
		info_free(&in);
		return info_none();
	}
	r->p++;
	if (zero_width) {
		/* a lookaround consumes nothing of the match; some prove
		 * that a neighbour is not a word character */
		char mark = MARK;

		info_free(&in);
		if (lookaround_bounds(body, r->p - 1, negative))
			return info_zero_width(r, &mark, 1);
		return info_zero_width(r, "", 0);
	}
	return in;
}

/* The nw_effect of the atom [p, end), not a group. */
static int
atom_nw(const unsigned char *p, const unsigned char *end)
{
	if (*p == '^')
		return NW_ONE;
	if (*p == '$')
		return NW_KEEP;
	if (*p == '\\' && end - p == 2) {
		if (p[1] == 'A')
			return NW_ONE;
		if (strchr("bBzZGK", p[1]) != NULL)
			return NW_KEEP;
	}
	return nonword_atom(p, end) == (size_t)(end - p) ? NW_ONE : NW_NONE;
}

/* Apply {min,max} (max -1: unbounded) to an atom's info. */
static struct info
quantify(struct reader *r, struct info in, long min, long max)
{
	size_t maxw = w_times(in.maxw, max);

	if (min == 0) {
		if (max == 1 && in.kind == I_EXACT && in.s.n < EXACT_MAX) {
			if (sset_add(&in.s, "", 0) < 0) {
				r->nomem = 1;
				info_free(&in);
			}
			return in;
		}
		info_free(&in);
		in.maxw = maxw;
		return in;
	}
	if (min == 1 && max == 1)
		return in;
	/* the first repetition has an occurrence within reach */
	in = as_req(in);
	in.maxw = maxw;
	return in;
}

/* One atom and its quantifier. */
static struct info
parse_item(struct reader *r)
{
	struct info in;
	long min, max;
	size_t qlen;
	int c = *r->p, nw;
	char lit;
	const unsigned char *atom = r->p;

	switch (c) {
	case '(':
		r->p++;
		in = parse_group(r);
		break;
	case '[':
		r->p++;
		skip_class(r);
		in = info_width(W_CHAR);
		break;
	case '.':
		r->p++;
		in = info_width(W_CHAR);
		break;
	case '^':
	case '$':
		/* next to the start, the end or a newline: not a word
		 * character on that side */
		r->p++;
		lit = MARK;
		in = info_exact1(r, &lit, 1);
		break;
	case '\\':
		in = parse_escape(r);
		break;
	case '*':
	case '+':
	case '?':
		r->bail = 1;
		return info_none();
	case '{':
		if (brace_quantifier(r, r->p, &min, &max, &qlen) || r->bail) {
			r->bail = 1;    /* nothing to repeat */
			return info_none();
		}
		/* not a quantifier: a literal brace */
		/* FALLTHROUGH */
	default:
		if (c >= 0x80) {
			r->bail = 1;
			return info_none();
		}
		r->p++;
		if (c == '\0' || c == MARK)
			in = info_width(1);     /* MARK is ours */
		else {
			lit = (char)fold(c);
			in = info_exact1(r, &lit, 1);
		}
		break;
	}
	if (r->bail || r->nomem) {
		info_free(&in);
		return info_none();
	}
	in.nw = nw = c == '(' ? in.nw : atom_nw(atom, r->p);

	/* quantifier, then an optional possessive/lazy mark */
	if (r->p >= r->end)
		return in;
	c = *r->p;
	if (c == '*' || c == '+' || c == '?') {
		min = c == '+' ? 1 : 0;
		max = c == '?' ? 1 : -1;
		r->p++;
	} else if (c == '{' && brace_quantifier(r, r->p, &min, &max, &qlen))
		r->p += qlen;
	else {
		if (r->bail)
			info_free(&in);
		return in;
	}
	if (r->p < r->end && (*r->p == '+' || *r->p == '?'))
		r->p++;
	if (r->p < r->end && (*r->p == '*' || *r->p == '+' || *r->p == '?' ||
	    (*r->p == '{' && (brace_quantifier(r, r->p, &min, &max, &qlen) ||
	    r->bail)))) {
		r->bail = 1;    /* stacked quantifiers: not worth reading */
		info_free(&in);
		return info_none();
	}
	in = quantify(r, in, min, max);
	in.nw = min == 0 ? nw_either(nw, NW_KEEP) : nw;
	return in;
}

/*
 * Is the item text [p, end) one non-word atom (nonword_atom()) repeated at
 * least once: \s, \s+, [;&|]+?, ...?  The characters on both of its
 * sides inside the match are then not ASCII word characters, which the
 * literals before and after it get as boundary markers.
 */
static int
nonword_run(const unsigned char *p, const unsigned char *end)
{
	size_t len = nonword_atom(p, end);

	if (len == 0 || *p == '$' || *p == '^')
		return 0;       /* zero width: a marker of their own */
	p += len;
	if (p < end && *p == '+') {
		p++;
		if (p < end && (*p == '+' || *p == '?'))
			p++;    /* possessive or lazy: still at least one */
	}
	return p == end;
}

/*
 * REQ x (or NONE) found in a sequence `offset` bytes at most after its
 * start: its reach from the sequence's start.
 */
static struct info
shifted(struct info x, size_t offset)
{
	if (x.kind != I_NONE)
		x.reach = w_add(offset, x.reach);
	return x;
}

/*
 * EXACT item (taken) starting a new run: with a marker in front when the
 * items before it end at a non-word character (nw_before is NW_ONE).
 */
static struct info
after_nonword(struct reader *r, struct info item, int nw_before)
{
	struct info mark, joined;

	if (nw_before != NW_ONE)
		return item;
	mark = info_exact1(r, "\x01", 1);
	if (mark.kind == I_EXACT && cross(&mark, &item, &joined) > 0) {
		joined.nw = item.nw;
		info_free(&item);
		item = joined;
	}
	info_free(&mark);
	return item;
}

/*
 * A sequence of items up to '|', ')' or the end: its best required factor.
 * For a top-level branch (second != NULL) also the second-best factor,
 * found in another item of the sequence, so that a match needs a literal
 * of each.
 */
static struct info
parse_concat_top(struct reader *r, struct info *second)
{
	struct info run, best = info_none(), item, joined;
	int all_exact = 1, rc;
	int nw = NW_KEEP;       /* the nw_effect of the items read so far */
	size_t width = 0;       /* of the items read so far */
	size_t run_start = 0;   /* the width before the run */

	if (second != NULL)
		*second = info_none();
	run = info_exact1(r, "", 0);
	while (!r->bail && !r->nomem && r->p < r->end && *r->p != '|' &&
	    *r->p != ')') {
		const unsigned char *item_start = r->p;
		size_t item_start_w = width;
		int nonword, nw_before = nw;

		item = parse_item(r);
		if (r->bail || r->nomem) {
			info_free(&item);
			break;
		}
		nw = nw_then(nw, item.nw);
		width = w_add(width, item.maxw);
		if (item.kind == I_EXACT) {
			rc = cross(&run, &item, &joined);
			if (rc < 0) {
				r->nomem = 1;
				info_free(&item);
				break;
			}
			if (rc > 0) {
				info_free(&run);
				info_free(&item);
				run = joined;
			} else {
				all_exact = 0;
				keep_two(&best, second,
				    shifted(as_req(run), run_start));
				run = after_nonword(r, item, nw_before);
				run_start = item_start_w;
			}
			continue;
		}
		all_exact = 0;
		nonword = !r->bail && nonword_run(item_start, r->p);
		if (nonword) {
			/* the run ends before a non-word character */
			struct info mark = info_exact1(r, "\x01", 1);

			if (mark.kind == I_EXACT &&
			    cross(&run, &mark, &joined) > 0) {
				info_free(&run);
				run = joined;
			}
			info_free(&mark);
		}
		keep_two(&best, second, shifted(as_req(run), run_start));
		keep_two(&best, second, shifted(item, item_start_w));
		/* the next one starts after a non-word character (or at ^)
		 * when the items so far say so */
		run = info_exact1(r, nw == NW_ONE ? "\x01" : "",
		    nw == NW_ONE ? 1 : 0);
		run_start = width;
	}
	if (r->bail || r->nomem) {
		info_free(&run);
		info_free(&best);
		if (second != NULL)
			info_free(second);
		return info_none();
	}
	if (all_exact) {
		/* one run from the start: reach = maxw = width */
		run.maxw = run.reach = width;
		run.nw = nw;
		return second != NULL ? as_req(run) : run;
	}
	keep_two(&best, second, shifted(as_req(run), run_start));
	best.maxw = width;
	best.nw = nw;
	return best;
}

static struct info
parse_concat(struct reader *r)
{
	return parse_concat_top(r, NULL);
}

/* Alternatives up to ')' or the end. */
static struct info
parse_alt(struct reader *r)
{
	struct info acc, branch;
	size_t i, maxw;
	int nw;

	acc = parse_concat(r);
	maxw = acc.maxw;
	nw = acc.nw;
	while (!r->bail && !r->nomem && r->p < r->end && *r->p == '|') {
		r->p++;
		branch = parse_concat(r);
		if (r->bail || r->nomem) {
			info_free(&branch);
			break;
		}
		maxw = w_max(maxw, branch.maxw);
		nw = nw_either(nw, branch.nw);
		if (acc.kind == I_EXACT && branch.kind == I_EXACT &&
		    acc.s.n + branch.s.n <= EXACT_MAX) {
			/* stays exact */
		} else {
			acc = as_req(acc);
			branch = as_req(branch);
			if (acc.kind == I_NONE || branch.kind == I_NONE ||
			    acc.s.n + branch.s.n > UNION_MAX) {
				info_free(&acc);
				info_free(&branch);
				/* keep reading: the syntax must still be
				 * understood for the answer to hold */
				acc = info_none();
				continue;
			}
		}
		for (i = 0; i < branch.s.n; i++)
			if (sset_add(&acc.s, branch.s.v[i],
			    strlen(branch.s.v[i])) < 0) {
				r->nomem = 1;
				break;
			}
		acc.reach = w_max(acc.reach, branch.reach);
		info_free(&branch);
	}
	if (r->bail || r->nomem) {
		info_free(&acc);
		return info_none();
	}
	acc.maxw = maxw;
	acc.nw = nw;
	if (acc.kind == I_EXACT)
		acc.reach = maxw;
	return acc;
}

/*
 * Note on the NONE branch above: once an alternation has lost all
 * information, later branches are still read (to find the group's end and
 * to bail on unsupported syntax), but `acc` stays NONE because as_req()
 * of NONE is NONE.
 */

static int
is_word(int c)
{
	return is_alnum(c) || c == '_';
}

/*
 * Turn boundary markers into flags: a marker at an end of a literal, next
 * to a word character of it, says the neighbour outside is not a word
 * character.  Markers are then removed; literals that became equal keep
 * the flags they share.  -1 on out of memory.
 */
static int
strip_marks(struct sset *s, unsigned char **flagsp)
{
	unsigned char *flags = calloc(s->n ? s->n : 1, 1);
	size_t i, j, k, len;

	if (flags == NULL)
		return -1;
	for (i = 0; i < s->n; i++) {
		char *v = s->v[i];
		size_t first, last;

		len = strlen(v);
		for (first = 0; first < len && v[first] == MARK; first++)
			;
		for (last = len; last > first && v[last - 1] == MARK; last--)
			;
		if (first > 0 && first < len && is_word((unsigned char)v[first]))
			flags[i] |= PF_LB;
		if (last < len && last > first &&
		    is_word((unsigned char)v[last - 1]))
			flags[i] |= PF_RB;
		for (j = k = 0; j < len; j++)
			if (v[j] != MARK)
				v[k++] = v[j];
		v[k] = '\0';
	}
	/* merge duplicates */
	for (i = 0; i < s->n; i++)
		for (j = i + 1; j < s->n; j++)
			if (strcmp(s->v[i], s->v[j]) == 0) {
				flags[i] &= flags[j];
				free(s->v[j]);
				s->v[j] = s->v[s->n - 1];
				flags[j] = flags[s->n - 1];
				s->n--;
				j--;
			}
	*flagsp = flags;
	return 0;
}

static size_t
reach_of(const struct info *in)
{
	return in->reach >= W_CAP ? PF_NO_REACH : in->reach;
}

/* Move an info's strings into literals (markers to flags). */
static int
take_literals(struct info *in, struct pf_literals *out)
{
	out->v = NULL;
	out->flags = NULL;
	out->n = 0;
	out->reach = PF_NO_REACH;
	if (strip_marks(&in->s, &out->flags) < 0)
		return -1;
	out->v = in->s.v;
	out->n = in->s.n;
	out->reach = reach_of(in);
	in->s.v = NULL;
	in->s.n = in->s.cap = 0;
	in->kind = I_NONE;
	return 0;
}

int
pf_extract(const char *pattern, size_t len, struct pf_literals *out)
{
	struct reader r;
	struct info in;

	out->v = NULL;
	out->flags = NULL;
	out->n = 0;
	out->reach = PF_NO_REACH;
	memset(&r, 0, sizeof r);
	r.p = (const unsigned char *)pattern;
	r.end = r.p + len;
	in = parse_alt(&r);
	if (!r.bail && !r.nomem && r.p != r.end)
		r.bail = 1;     /* an unbalanced ')' */
	if (r.nomem) {
		info_free(&in);
		return -1;
	}
	if (r.bail) {
		info_free(&in);
		return 0;
	}
	in = as_req(in);
	if (in.kind != I_REQ || in.s.n == 0 || sset_min_len(&in.s) == 0) {
		info_free(&in);
		return 0;
	}
	if (take_literals(&in, out) < 0) {
		info_free(&in);
		return -1;
	}
	if (r.at_start_offset)
		out->reach = PF_NO_REACH;
	return 1;
}

void
pf_clauses_free(struct pf_clauses *c)
{
	size_t i, k;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		for (k = 0; k < c->v[i].nf; k++)
			pf_literals_free(&c->v[i].f[k]);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

static int extract_clauses(const char *pattern, size_t len,
    struct pf_clauses *out);

int
pf_extract_clauses(const char *pattern, size_t len, struct pf_clauses *out)
{
	struct pf_literals whole;
	int rc;

	out->v = NULL;
	out->n = 0;
	out->prefix_len = 0;
	out->splittable = 0;
	/* the whole pattern must be understood and filterable first */
	if ((rc = pf_extract(pattern, len, &whole)) != 1)
		return rc;
	pf_literals_free(&whole);
	return extract_clauses(pattern, len, out);
}

int
pf_extract_clauses_after(const char *pattern, size_t len,
    struct pf_clauses *out)
{
	out->v = NULL;
	out->n = 0;
	out->prefix_len = 0;
	out->splittable = 0;
	return extract_clauses(pattern, len, out);
}

static int
extract_clauses(const char *pattern, size_t len, struct pf_clauses *out)
{
	struct reader r;
	struct info best, second;
	memset(&r, 0, sizeof r);
	r.p = (const unsigned char *)pattern;
	r.end = r.p + len;
	r.start = r.lead_opts = r.p;
	for (;;) {
		struct pf_clause *c, *v;
		const unsigned char *alt = r.p;

		best = parse_concat_top(&r, &second);
		if (r.bail || r.nomem || best.kind != I_REQ ||
		    sset_min_len(&best.s) == 0)
			goto fail;
		v = realloc(out->v, (out->n + 1) * sizeof *v);
		if (v == NULL) {
			r.nomem = 1;
			goto fail;
		}
		out->v = v;
		c = &out->v[out->n++];
		c->nf = 0;
		c->start = (size_t)(alt - r.start);
		c->len = (size_t)(r.p - alt);
		if (take_literals(&best, &c->f[c->nf]) < 0) {
			r.nomem = 1;
			goto fail;
		}
		c->nf++;
		if (second.kind == I_REQ && sset_min_len(&second.s) > 0) {
			if (take_literals(&second, &c->f[c->nf]) < 0) {
				r.nomem = 1;
				goto fail;
			}
			c->nf++;
		}
		info_free(&second);
		if (r.p < r.end && *r.p == '|') {
			r.p++;
			continue;
		}
		break;
	}
	if (r.p != r.end)
		goto fail0;     /* cannot happen: pf_extract() read it */
	if (r.at_start_offset) {
		size_t i, k;

		for (i = 0; i < out->n; i++)
			for (k = 0; k < out->v[i].nf; k++)
				out->v[i].f[k].reach = PF_NO_REACH;
	}
	out->prefix_len = (size_t)(r.lead_opts - r.start);
	out->splittable = !r.other_opts;
	return 1;
fail:
	info_free(&best);
	info_free(&second);
fail0:
	pf_clauses_free(out);
	return r.nomem ? -1 : 0;
}

uint64_t
pf_literals_hash(const struct pf_literals *lits)
{
	uint64_t sum = lits->n;
	size_t i;

	for (i = 0; i < lits->n; i++) {
		const unsigned char *c = (const unsigned char *)lits->v[i];
		uint64_t h = UINT64_C(14695981039346656037) ^ lits->flags[i];

		for (; *c != '\0'; c++)
			h = (h ^ *c) * UINT64_C(1099511628211);
		sum += h;       /* a sum: the order does not count */
	}
	return sum;
}

int
pf_literals_same(const struct pf_literals *a, const struct pf_literals *b)
{
	size_t i, j;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		for (j = 0; j < b->n; j++)
			if (a->flags[i] == b->flags[j] &&
			    strcmp(a->v[i], b->v[j]) == 0)
				break;
		if (j == b->n)
			return 0;
	}
	return 1;
}

int
pf_literals_copy(const struct pf_literals *lits, struct pf_literals *out)
{
	out->n = 0;
	out->reach = lits->reach;
	out->v = calloc(lits->n ? lits->n : 1, sizeof *out->v);
	out->flags = malloc(lits->n ? lits->n : 1);
	if (out->v == NULL || out->flags == NULL)
		goto nomem;
	for (; out->n < lits->n; out->n++) {
		if ((out->v[out->n] = strdup(lits->v[out->n])) == NULL)
			goto nomem;
		out->flags[out->n] = lits->flags[out->n];
	}
	return 0;
nomem:
	pf_literals_free(out);
	return -1;
}

void
pf_literals_free(struct pf_literals *lits)
{
	size_t i;

	if (lits == NULL)
		return;
	for (i = 0; i < lits->n; i++)
		free(lits->v[i]);
	free(lits->v);
	free(lits->flags);
	lits->v = NULL;
	lits->flags = NULL;
	lits->n = 0;
}

/* ---- Aho-Corasick ---- */

/*
 * The DFA works on byte classes: every character that occurs in some
 * literal has its own class (upper and lower case share one), everything
 * else is class 0, which sends every state back to the root.  States are
 * numbered in BFS order so the shallow, hot ones come first.  The first
 * ndense states (at most PF_DENSE_BYTES of table) have a full row of
 * transitions; deeper ones keep only their trie edges and their failure
 * link, so that thousands of rules' literals do not need megabytes of
 * table.  A transition is the target's number with the top bit set when
 * the target reports literals, in 16 bits while there are fewer than
 * PF_NARROW_STATES states: the same table then holds twice the rows, and
 * a scan, which hops from row to row, misses the cache less.  ttpd's
 * pack (5,588 states, 69 classes) fits in full rows of 16 bits, and its
 * scan then takes no branch per byte but the one for non-ASCII
 * characters (scan_dense16()); a step to a sparse state took a search
 * of its edges and failure links, 5.6 times per short line.
 *
 * Only the first PF_SCAN_PREFIX bytes of each literal go into the trie: a
 * prefix of a required literal is required too.
 *
 * A state's reports come in groups, one per condition (none, or the
 * PF_LB/PF_RB flags and, for PF_LB, the literal's length): a report
 * checks each group's condition once and notes the group's first and
 * last counted occurrence; the sets of a group of several get their
 * bits, first and last once, at the end of the scan.  A state reports
 * for several sets on average, often the same ones over and over in a
 * long subject.  A state's first group sits at the state's own number
 * (the others after the states), and a group of one set holds its id:
 * a report reads one record where it chased three pointers, each a
 * likely cache miss on a short line.
 */
#define PF_ALPHABET 128
#define PF_OUT_FLAG 0x80000000u
#define PF_OUT_FLAG16 0x8000u
#define PF_NARROW_STATES 0x8000u
#define PF_SCAN_PREFIX 8
#define PF_DENSE_BYTES (2048 * 1024)
#define PF_PENDING 64

struct pf_automaton {
	uint8_t cls[PF_ALPHABET]; /* folded ASCII byte -> class */
	size_t nclasses;
	size_t nstates;
	size_t ndense;          /* states 0..ndense-1 have full rows */
	uint32_t *dense;        /* ndense x nclasses transitions, or */
	uint16_t *dense16;      /* the same in half the room (fewer than
				   PF_NARROW_STATES states) */
	uint32_t *fail;         /* per state: its failure state */
	uint32_t *child_off;    /* per sparse state (and one more): edges */
	uint8_t *child_cls;
	uint32_t *child_to;     /* transitions along trie edges */
	/* per state (by number) its first group, then the others */
	struct out_group *groups;
	uint32_t *group_sets;           /* the groups' set ids */
	size_t ngroups;
	/* scan scratch, per group: the ends of the first and the last
	 * occurrence counted (first NO_END: none yet), and the groups
	 * with one, in order */
	struct group_seen *seen;
	uint32_t *touched;
	size_t nsets;
};

struct out_entry {
	uint32_t id;
	uint8_t flags, len;     /* PF_LB/PF_RB to check; literal bytes in
				   the trie */
};

struct out_group {
	uint32_t sets;          /* the set id when sets_n is 1, else the
				   offset of the ids in group_sets */
	uint32_t sets_n;
	uint32_t more, nmore;   /* a state's first group: the others */
	uint8_t flags, len;     /* the condition; len only with PF_LB */
};

struct group_seen {
	size_t first, last;
};

#define NO_END ((size_t)-1)

static int ascii_word(unsigned c);

struct builder {
	size_t nclasses;
	int32_t *go;            /* nstates x nclasses, -1 = no edge */
	size_t nstates, cap;
	struct out_entry **out; /* per state: set ids, merged along fail */
	size_t *out_n, *out_cap;
	/* per state: the folded text that leads to it */
	unsigned char *label;   /* PF_SCAN_PREFIX bytes per state */
	uint8_t *depth;
};

static int
builder_state(struct builder *b)
{
	size_t i;

	if (b->nstates == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		int32_t *go;
		struct out_entry **out;
		size_t *on, *oc;
		unsigned char *label;
		uint8_t *depth;

		if (cap * b->nclasses >= PF_OUT_FLAG)
			return -1;
		label = realloc(b->label, cap * PF_SCAN_PREFIX);
		if (label == NULL)
			return -1;
		b->label = label;
		depth = realloc(b->depth, cap);
		if (depth == NULL)
			return -1;
		b->depth = depth;
		go = realloc(b->go, cap * b->nclasses * sizeof *go);
		if (go == NULL)
			return -1;
		b->go = go;
		out = realloc(b->out, cap * sizeof *out);
		if (out == NULL)
			return -1;
		b->out = out;
		on = realloc(b->out_n, cap * sizeof *on);
		if (on == NULL)
			return -1;
		b->out_n = on;
		oc = realloc(b->out_cap, cap * sizeof *oc);
		if (oc == NULL)
			return -1;
		b->out_cap = oc;
		b->cap = cap;
	}
	for (i = 0; i < b->nclasses; i++)
		b->go[b->nstates * b->nclasses + i] = -1;
	b->out[b->nstates] = NULL;
	b->out_n[b->nstates] = 0;
	b->out_cap[b->nstates] = 0;
	b->depth[b->nstates] = 0;
	return (int)b->nstates++;
}

static int
builder_add_out(struct builder *b, size_t state, struct out_entry e)
{
	size_t i;

	for (i = 0; i < b->out_n[state]; i++) {
		struct out_entry *o = &b->out[state][i];

		if (o->id == e.id && (o->flags == 0 ||
		    (o->flags == e.flags && o->len == e.len)))
			return 0;       /* already reported at least as often */
	}
	if (b->out_n[state] == b->out_cap[state]) {
		size_t cap = b->out_cap[state] ? b->out_cap[state] * 2 : 2;
		struct out_entry *v = realloc(b->out[state], cap * sizeof *v);

		if (v == NULL)
			return -1;
		b->out[state] = v;
		b->out_cap[state] = cap;
	}
	b->out[state][b->out_n[state]++] = e;
	return 0;
}

/* The condition of an entry: its flags, and its length for PF_LB. */
static int
same_condition(const struct out_entry *x, const struct out_entry *y)
{
	return x->flags == y->flags &&
	    (!(x->flags & PF_LB) || x->len == y->len);
}

/* Is entry j of a state's n entries a conditional one for a set that
 * another entry of the state already reports with no condition? */
static int
needless(const struct out_entry *e, size_t n, size_t j)
{
	size_t i;

	if (e[j].flags == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (e[i].id == e[j].id && e[i].flags == 0)
			return 1;
	return 0;
}

/*
 * Append a state's groups: one per condition of its entries, with the set
 * ids that have it (an id that also counts unconditionally only there).
 * *nsets_used counts the group_sets taken.
 */
static void
add_groups(struct pf_automaton *a, const struct out_entry *e, size_t n,
    size_t *nsets_used)
{
	size_t i, j, k;

	for (i = 0; i < n; i++) {
		struct out_group *g;

		if (needless(e, n, i))
			continue;
		for (j = 0; j < i; j++)
			if (same_condition(&e[j], &e[i]) && !needless(e, n, j))
				break;
		if (j < i)
			continue;       /* the group of an earlier entry */
		g = &a->groups[a->ngroups++];
		g->flags = e[i].flags;
		g->len = e[i].flags & PF_LB ? e[i].len : 0;
		g->sets = (uint32_t)*nsets_used;
		g->sets_n = 0;
		g->more = g->nmore = 0;
		for (j = i; j < n; j++) {
			if (!same_condition(&e[j], &e[i]) || needless(e, n, j))
				continue;
			for (k = 0; k < g->sets_n; k++)
				if (a->group_sets[g->sets + k] == e[j].id)
					break;
			if (k == g->sets_n) {
				a->group_sets[g->sets + g->sets_n++] = e[j].id;
				(*nsets_used)++;
			}
		}
		if (g->sets_n == 1)
			g->sets = a->group_sets[g->sets];
	}
}

/*
 * The groups of state `state`, appended from `from` on, with the first
 * moved to the state's own place, where a report finds it without a
 * look-up.
 */
static void
place_groups(struct pf_automaton *a, size_t state, size_t from)
{
	struct out_group *own = &a->groups[state];

	if (a->ngroups == from) {
		memset(own, 0, sizeof *own);    /* reports nothing */
		return;
	}
	*own = a->groups[from];
	memmove(&a->groups[from], &a->groups[from + 1],
	    (a->ngroups - from - 1) * sizeof *a->groups);
	a->ngroups--;
	own->more = (uint32_t)from;
	own->nmore = (uint32_t)(a->ngroups - from);
}

/*
 * Can a state's entry for a shorter literal (a suffix of the state's
 * text) never count?  With PF_LB, when the character before it in that
 * text is an ASCII word character: the subject has it or its other case
 * there.  Not for s, k and i, which the subject may have as U+017F,
 * U+212A, U+0130 or U+0131, not ASCII word characters.
 */
static int
never_counts(const struct builder *b, size_t state,
    const struct out_entry *e)
{
	unsigned c;

	if (!(e->flags & PF_LB) || e->len >= b->depth[state])
		return 0;
	c = b->label[state * PF_SCAN_PREFIX + b->depth[state] - e->len - 1];
	return ascii_word(c) && c != 's' && c != 'k' && c != 'i';
}

static void
builder_free(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->nstates; i++)
		free(b->out[i]);
	free(b->go);
	free(b->out);
	free(b->out_n);
	free(b->out_cap);
	free(b->label);
	free(b->depth);
}

void
pf_free(struct pf_automaton *a)
{
	if (a == NULL)
		return;
	free(a->dense);
	free(a->dense16);
	free(a->fail);
	free(a->child_off);
	free(a->child_cls);
	free(a->child_to);
	free(a->groups);
	free(a->group_sets);
	free(a->seen);
	free(a->touched);
	free(a);
}

struct pf_automaton *
pf_build(const struct pf_literals *const *sets, size_t nsets)
{
	return pf_build_dense(sets, nsets, PF_DENSE_BYTES);
}

struct pf_automaton *
pf_build_dense(const struct pf_literals *const *sets, size_t nsets,
    size_t dense_bytes)
{
	struct builder b;
	struct pf_automaton *a;
	uint32_t *fail = NULL, *order = NULL, *rank = NULL;
	uint32_t *ch_first = NULL, *ch_n = NULL, *ch_to = NULL;
	uint8_t *ch_cls = NULL;
	size_t i, j, k, head, tail, total, nc, nch, nsparse_edges;
	size_t ngroups_max;

	memset(&b, 0, sizeof b);
	if (nsets > UINT32_MAX || (a = calloc(1, sizeof *a)) == NULL)
		return NULL;
	a->nsets = nsets;

	/* byte classes */
	nc = 1;
	for (i = 0; i < nsets; i++)
		for (j = 0; sets[i] != NULL && j < sets[i]->n; j++)
			for (k = 0; sets[i]->v[j][k] != '\0'; k++) {
				unsigned c = (unsigned char)sets[i]->v[j][k] &
				    0x7f;

				if (a->cls[c] == 0)
					a->cls[c] = (uint8_t)nc++;
			}
	for (i = 'A'; i <= 'Z'; i++)
		a->cls[i] = a->cls[i - 'A' + 'a'];
	a->nclasses = b.nclasses = nc;
	if (builder_state(&b) < 0)
		goto fail;

	/* the trie */
	for (i = 0; i < nsets; i++) {
		if (sets[i] == NULL)
			continue;
		for (j = 0; j < sets[i]->n; j++) {
			const unsigned char *s =
			    (const unsigned char *)sets[i]->v[j];
			struct out_entry e;
			size_t st = 0;

			for (k = 0; s[k] != '\0' && k < PF_SCAN_PREFIX; k++) {
				size_t edge = st * nc + a->cls[s[k] & 0x7f];
				int ns;

				if (b.go[edge] < 0) {
					if ((ns = builder_state(&b)) < 0)
						goto fail;
					b.go[edge] = ns;  /* go may have moved */
					memcpy(&b.label[ns * PF_SCAN_PREFIX],
					    &b.label[st * PF_SCAN_PREFIX], k);
					b.label[ns * PF_SCAN_PREFIX + k] =
					    (unsigned char)fold(s[k] & 0x7f);
					b.depth[ns] = (uint8_t)(k + 1);
				}
				st = (size_t)b.go[edge];
			}
			e.id = (uint32_t)i;
			e.len = (uint8_t)k;
			e.flags = sets[i]->flags != NULL ? sets[i]->flags[j] :
			    0;
			if (s[k] != '\0')
				e.flags &= ~PF_RB;  /* its end is not in the trie */
			if (builder_add_out(&b, st, e) < 0)
				goto fail;
		}
	}

	/* failure links in BFS order; go[] becomes the full DFA, and the
	 * trie edges are kept aside: ch_first[s], ch_n[s] into ch_cls/ch_to */
	fail = calloc(b.nstates, sizeof *fail);
	order = malloc(b.nstates * sizeof *order);
	rank = malloc(b.nstates * sizeof *rank);
	ch_first = calloc(b.nstates, sizeof *ch_first);
	ch_n = calloc(b.nstates, sizeof *ch_n);
	ch_cls = malloc(b.nstates * sizeof *ch_cls);
	ch_to = malloc(b.nstates * sizeof *ch_to);
	if (fail == NULL || order == NULL || rank == NULL ||
	    ch_first == NULL || ch_n == NULL || ch_cls == NULL ||
	    ch_to == NULL)
		goto fail;
	nch = 0;
	head = tail = 0;
	order[tail++] = 0;
	head = 1;
	for (i = 0; i < nc; i++) {
		int32_t t = b.go[i];

		if (t <= 0)
			b.go[i] = 0;
		else {
			order[tail++] = (uint32_t)t;    /* fail = root */
			ch_cls[nch] = (uint8_t)i;
			ch_to[nch++] = (uint32_t)t;
		}
	}
	ch_n[0] = (uint32_t)nch;
	while (head < tail) {
		size_t s = order[head++];

		for (k = 0; k < b.out_n[fail[s]]; k++)
			if (!never_counts(&b, s, &b.out[fail[s]][k]) &&
			    builder_add_out(&b, s, b.out[fail[s]][k]) < 0)
				goto fail;
		ch_first[s] = (uint32_t)nch;
		for (i = 0; i < nc; i++) {
			int32_t t = b.go[s * nc + i];

			if (t < 0)
				b.go[s * nc + i] = b.go[fail[s] * nc + i];
			else {
				fail[t] = (uint32_t)b.go[fail[s] * nc + i];
				order[tail++] = (uint32_t)t;
				ch_cls[nch] = (uint8_t)i;
				ch_to[nch++] = (uint32_t)t;
			}
		}
		ch_n[s] = (uint32_t)(nch - ch_first[s]);
	}
	for (i = 0; i < b.nstates; i++)
		rank[order[i]] = (uint32_t)i;

	/* flatten in BFS order: dense rows first, then sparse edges */
	a->nstates = b.nstates;
	if (b.nstates < PF_NARROW_STATES)
		a->ndense = dense_bytes / (nc * sizeof *a->dense16);
	else
		a->ndense = dense_bytes / (nc * sizeof *a->dense);
	if (a->ndense < 1)
		a->ndense = 1;
	if (a->ndense > b.nstates)
		a->ndense = b.nstates;
	if (b.nstates < PF_NARROW_STATES)
		a->dense16 = malloc(a->ndense * nc * sizeof *a->dense16);
	else
		a->dense = malloc(a->ndense * nc * sizeof *a->dense);
	a->fail = malloc(b.nstates * sizeof *a->fail);
	a->child_off = malloc((b.nstates - a->ndense + 1) *
	    sizeof *a->child_off);
	a->child_cls = malloc(nch ? nch : 1);
	a->child_to = malloc((nch ? nch : 1) * sizeof *a->child_to);
	for (total = 0, i = 0; i < b.nstates; i++)
		total += b.out_n[i];
	/* one place per state, and at most one group, and one set id, per
	 * entry */
	ngroups_max = b.nstates + total;
	a->groups = malloc(ngroups_max * sizeof *a->groups);
	a->group_sets = malloc((total ? total : 1) * sizeof *a->group_sets);
	a->seen = malloc(ngroups_max * sizeof *a->seen);
	a->touched = malloc(ngroups_max * sizeof *a->touched);
	if ((a->dense == NULL && a->dense16 == NULL) || a->fail == NULL ||
	    a->child_off == NULL ||
	    a->child_cls == NULL || a->child_to == NULL ||
	    a->groups == NULL ||
	    a->group_sets == NULL || a->seen == NULL || a->touched == NULL ||
	    ngroups_max > UINT32_MAX)
		goto fail;
	for (k = 0; k < ngroups_max; k++)
		a->seen[k].first = NO_END;
	nsparse_edges = 0;
	a->ngroups = b.nstates;
	for (total = 0, i = 0; i < b.nstates; i++) {
		size_t old = order[i], from = a->ngroups;

		add_groups(a, b.out[old], b.out_n[old], &total);
		place_groups(a, i, from);
		a->fail[i] = rank[fail[old]];
		if (i < a->ndense) {
			for (k = 0; k < nc; k++) {
				size_t t = (size_t)b.go[old * nc + k];
				/* class 0: the root, reporting nothing */
				int out = k > 0 && b.out_n[t] > 0;

				if (a->dense16 != NULL)
					a->dense16[i * nc + k] = (uint16_t)(
					    rank[t] | (out ? PF_OUT_FLAG16 : 0));
				else
					a->dense[i * nc + k] = rank[t] |
					    (out ? PF_OUT_FLAG : 0);
			}
			continue;
		}
		a->child_off[i - a->ndense] = (uint32_t)nsparse_edges;
		for (k = 0; k < ch_n[old]; k++) {
			size_t t = ch_to[ch_first[old] + k];

			a->child_cls[nsparse_edges] = ch_cls[ch_first[old] + k];
			a->child_to[nsparse_edges++] = rank[t] |
			    (b.out_n[t] ? PF_OUT_FLAG : 0);
		}
	}
	a->child_off[b.nstates - a->ndense] = (uint32_t)nsparse_edges;
	free(ch_first);
	free(ch_n);
	free(ch_cls);
	free(ch_to);
	free(fail);
	free(order);
	free(rank);
	builder_free(&b);
	return a;
fail:
	free(fail);
	free(order);
	free(rank);
	free(ch_first);
	free(ch_n);
	free(ch_cls);
	free(ch_to);
	builder_free(&b);
	pf_free(a);
	return NULL;
}

size_t
pf_hit_words(const struct pf_automaton *a)
{
	return a == NULL ? 0 : (a->nsets + 63) / 64;
}

/*
 * The ASCII letter a non-ASCII character matches caselessly under PCRE2
 * UTF+UCP (U+017F, U+212A) or Python's re (also U+0130, U+0131), or -1
 * when it cannot be part of an ASCII literal.  *len gets its length.
 */
static int
fold_non_ascii(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t cp;

	if (s[0] < 0xe0) {
		*len = 2;
		if (n < 2)
			return -1;
		cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	} else if (s[0] < 0xf0) {
		*len = 3;
		if (n < 3)
			return -1;
		cp = (uint32_t)(s[0] & 0x0f) << 12 |
		    (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	} else {
		*len = 4;
		return -1;
	}
	switch (cp) {
	case 0x017f:            /* LATIN SMALL LETTER LONG S */
		return 's';
	case 0x212a:            /* KELVIN SIGN */
		return 'k';
	case 0x0130:            /* LATIN CAPITAL LETTER I WITH DOT ABOVE */
	case 0x0131:            /* LATIN SMALL LETTER DOTLESS I */
		return 'i';
	default:
		return -1;
	}
}

static int
ascii_word(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* Set id's hit bit, and widen its first and last ends to first..last. */
static inline void
mark_set(uint64_t *hits, struct pf_ends *ends, uint32_t id, size_t first,
    size_t last)
{
	uint64_t bit = UINT64_C(1) << (id & 63);

	if (!(hits[id >> 6] & bit)) {
		hits[id >> 6] |= bit;
		ends[id].first = first;
		ends[id].last = last;
		return;
	}
	if (first < ends[id].first)
		ends[id].first = first;
	if (last > ends[id].last)
		ends[id].last = last;
}

/*
 * Note the occurrences that count of the literals reported by `state`,
 * which end just before s[end], in the state's groups.  A PF_LB/PF_RB
 * literal counts only without an ASCII word character on that side.
 * Bytes before ascii_from may hold non-ASCII characters (a folded one
 * spans several bytes), so a literal starting before it has no known
 * start, and its PF_LB is not checked.
 */
static inline void
report_group(struct pf_automaton *a, uint32_t g, const unsigned char *s,
    size_t n, size_t end, size_t ascii_from, size_t *ntouched,
    uint64_t *hits, struct pf_ends *ends)
{
	const struct out_group *grp = &a->groups[g];
	unsigned flags = grp->flags;

	if (flags & PF_RB && end < n && ascii_word(s[end]))
		return;
	if (flags & PF_LB) {
		size_t start = end - grp->len;

		if (start >= ascii_from && start > 0 &&
		    ascii_word(s[start - 1]))
			return;
	}
	if (grp->sets_n == 1) {
		/* nothing to share: straight to the set */
		mark_set(hits, ends, grp->sets, end, end);
		return;
	}
	if (a->seen[g].first == NO_END) {
		a->seen[g].first = end;
		a->touched[(*ntouched)++] = g;
	}
	a->seen[g].last = end;
}

static void
report(struct pf_automaton *a, size_t state, const unsigned char *s,
    size_t n, size_t end, size_t ascii_from, size_t *ntouched,
    uint64_t *hits, struct pf_ends *ends)
{
	uint32_t g = a->groups[state].more;
	uint32_t g_end = g + a->groups[state].nmore;

	report_group(a, (uint32_t)state, s, n, end, ascii_from, ntouched,
	    hits, ends);
	for (; g < g_end; g++)
		report_group(a, g, s, n, end, ascii_from, ntouched, hits,
		    ends);
}

/* Hand the groups' occurrences to their sets, and clear the scratch. */
static void
collect(struct pf_automaton *a, size_t ntouched, uint64_t *hits,
    struct pf_ends *ends)
{
	size_t t;

	for (t = 0; t < ntouched; t++) {
		uint32_t g = a->touched[t];
		/* in locals: the stores below could alias them */
		size_t f = a->seen[g].first, l = a->seen[g].last;
		const uint32_t *ids = a->group_sets + a->groups[g].sets;
		const uint32_t *ids_end = ids + a->groups[g].sets_n;

		a->seen[g].first = NO_END;
		for (; ids < ids_end; ids++)
			mark_set(hits, ends, *ids, f, l);
	}
}

/* Dense transition i, with PF_OUT_FLAG. */
static inline uint32_t
dense_at(const struct pf_automaton *a, size_t i)
{
	uint32_t e;

	if (a->dense16 == NULL)
		return a->dense[i];
	e = a->dense16[i];
	return (e & ~PF_OUT_FLAG16) | (e & PF_OUT_FLAG16 ? PF_OUT_FLAG : 0);
}

/* The next state after class k (not 0) from `st`, with PF_OUT_FLAG. */
static uint32_t
step(const struct pf_automaton *a, size_t st, unsigned k)
{
	for (;;) {
		uint32_t j, end;

		if (st < a->ndense)
			return dense_at(a, st * a->nclasses + k);
		end = a->child_off[st - a->ndense + 1];
		for (j = a->child_off[st - a->ndense]; j < end; j++)
			if (a->child_cls[j] == k)
				return a->child_to[j];
		st = a->fail[st];       /* shallower; the root is dense */
	}
}

/* The number of bytes before the first non-ASCII one. */
static size_t
ascii_run(const unsigned char *s, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		if (w & UINT64_C(0x8080808080808080))
			break;
	}
	while (i < n && s[i] < 0x80)
		i++;
	return i;
}

/* Reports put aside: the state reached and where (the byte after). */
struct pending {
	uint16_t state[PF_PENDING];
	size_t end[PF_PENDING];
	size_t n;
};

/* One step of a chain; the state is put aside when it reports. */
static inline size_t
step16(const uint16_t *rows, size_t nc, const uint8_t *cls, size_t st,
    const unsigned char *s, size_t i, struct pending *pend)
{
	unsigned e = rows[st * nc + cls[s[i]]];

	st = e & ~PF_OUT_FLAG16;
	pend->state[pend->n] = (uint16_t)st;
	pend->end[pend->n] = i + 1;
	pend->n += e >> 15;
	return st;
}

/*
 * The scan of an automaton whose states all have rows of 16 bits.  A
 * transition is one load that depends on the one before, likely a cache
 * miss: ASCII runs are cut in blocks of up to 2 * PF_PENDING bytes whose
 * halves are scanned as two chains, one step of each at a time, so their
 * misses overlap.  The second half's chain starts at the root
 * PF_SCAN_PREFIX bytes early (no state has a longer text, so it is in
 * the right state when its half begins).  The states that report are
 * put aside and their reports made after each block, in order: the next
 * transition then depends on no branch (class 0 has a column, which
 * leads to the root), and a report's look-ups do not hold it up.
 */
static void
scan_dense16(struct pf_automaton *a, const unsigned char *s, size_t n,
    size_t *ntouched, uint64_t *hits, struct pf_ends *ends)
{
	const uint16_t *rows = a->dense16;
	const uint8_t *cls = a->cls;
	size_t nc = a->nclasses;
	size_t st = 0;          /* the current state */
	size_t i = 0, p, k;
	size_t ascii_from = 0;  /* no non-ASCII byte from here on */
	struct pending first, second;

	while (i < n) {
		size_t run_end = i + ascii_run(s + i, n - i);

		while (i < run_end) {
			size_t len = run_end - i, half;

			if (len > 2 * PF_PENDING)
				len = 2 * PF_PENDING;
			half = len / 2;
			first.n = second.n = 0;
			if (half >= PF_SCAN_PREFIX) {
				size_t mid = i + half, st2 = 0;

				for (k = mid - PF_SCAN_PREFIX; k < mid; k++)
					st2 = rows[st2 * nc + cls[s[k]]] &
					    ~PF_OUT_FLAG16;
				for (k = 0; k < half; k++) {
					st = step16(rows, nc, cls, st, s, i + k,
					    &first);
					st2 = step16(rows, nc, cls, st2, s,
					    mid + k, &second);
				}
				if (len % 2)
					st2 = step16(rows, nc, cls, st2, s,
					    mid + half, &second);
				st = st2;
			} else
				for (k = 0; k < len; k++)
					st = step16(rows, nc, cls, st, s, i + k,
					    &first);
			for (p = 0; p < first.n; p++)
				report(a, first.state[p], s, n, first.end[p],
				    ascii_from, ntouched, hits, ends);
			for (p = 0; p < second.n; p++)
				report(a, second.state[p], s, n,
				    second.end[p], ascii_from, ntouched, hits,
				    ends);
			i += len;
		}
		if (i < n) {
			/* a non-ASCII character: ends the ASCII run */
			size_t len;
			int f = fold_non_ascii(s + i, n - i, &len);
			unsigned e;

			i += len;
			ascii_from = i;
			e = rows[st * nc + (f < 0 ? 0 : cls[f])];
			st = e & ~PF_OUT_FLAG16;
			if (e & PF_OUT_FLAG16)
				report(a, st, s, n, i, ascii_from, ntouched,
				    hits, ends);
		}
	}
}

void
pf_scan_ends(struct pf_automaton *a, const unsigned char *s, size_t n,
    uint64_t *hits, struct pf_ends *ends)
{
	const uint8_t *cls = a->cls;
	size_t st = 0;          /* the current state */
	size_t i = 0;
	size_t ascii_from = 0;  /* no non-ASCII byte from here on */
	size_t ntouched = 0;

	if (a->dense16 != NULL && a->ndense == a->nstates) {
		scan_dense16(a, s, n, &ntouched, hits, ends);
		collect(a, ntouched, hits, ends);
		return;
	}
	while (i < n) {
		unsigned c = s[i], k;
		uint32_t e;

		if (c < 0x80) {
			i++;
			k = cls[c];
		} else {
			size_t len;
			int f = fold_non_ascii(s + i, n - i, &len);

			i += len;
			ascii_from = i;
			k = f < 0 ? 0 : cls[f];
		}
		if (k == 0) {
			st = 0; /* in no literal: back to the root */
			continue;
		}
		e = st < a->ndense ? dense_at(a, st * a->nclasses + k) :
		    step(a, st, k);
		st = e & ~PF_OUT_FLAG;
		if (e & PF_OUT_FLAG)
			report(a, st, s, n, i, ascii_from, &ntouched, hits,
			    ends);
	}
	collect(a, ntouched, hits, ends);
}
