/*
 * The text body of a stored MIME message, the way DECNET's email lifter
 * takes it (decnet-lifters.md 3.4, body loader step 4): the first
 * text/plain part in walk order whose content decodes to a string, else
 * the first such text/html part.  Written for hostile input: every size
 * is bounded by the input and the limits below, nothing recurses deeper
 * than max_depth, and no input makes it fail other than ENOMEM.
 */
#ifndef TTPD_EMAIL_MIME_H
#define TTPD_EMAIL_MIME_H

#include <stddef.h>

/* Structural limits on one message. */
struct mime_limits {
	unsigned max_depth;      /* multipart/message nesting walked into */
	unsigned max_parts;      /* entities looked at, the message included */
	size_t max_header_bytes; /* one entity's header section */
};

#define MIME_DEFAULT_MAX_DEPTH 16
#define MIME_DEFAULT_MAX_PARTS 1000
#define MIME_DEFAULT_MAX_HEADER_BYTES (64 * 1024)

/* Which limits a message ran into (struct mime_result.hits). */
#define MIME_HIT_DEPTH 0x1u  /* a container nested too deep: not walked */
#define MIME_HIT_PARTS 0x2u  /* parts beyond max_parts: not looked at */
#define MIME_HIT_HEADER 0x4u /* a header section too big: entity skipped */

struct mime_result {
	char *text;      /* malloc'd valid UTF-8, NUL-terminated; or NULL */
	size_t len;      /* bytes of text, without the NUL */
	int html;        /* the text came from a text/html part */
	unsigned parts;  /* entities looked at */
	unsigned hits;   /* MIME_HIT_* */
};

/*
 * Find the body text of the message msg[0..len).  Returns 0 (res->text is
 * NULL when no part qualifies) or -1 when out of memory.  Free res->text.
 */
int mime_body_text(const char *msg, size_t len,
    const struct mime_limits *lim, struct mime_result *res);

/*
 * The pieces, exposed for the tests.  Each returns 0 with a malloc'd,
 * NUL-terminated *out (length in *outlen), or -1 when out of memory.
 */
/* Python's lenient base64 as email.message.get_payload(decode=True) does
 * it: non-alphabet bytes ignored, decoding stops at the padding that ends
 * a quantum, a dangling single character leaves the input undecoded
 * (line breaks removed). */
int mime_decode_base64(const char *in, size_t len, char **out,
    size_t *outlen);
/* binascii.a2b_qp(): soft line breaks, =XY, a broken '=' kept. */
int mime_decode_qp(const char *in, size_t len, char **out, size_t *outlen);
/* Content-Transfer-Encoding `cte` (a header value; NULL when absent):
 * base64 and quoted-printable are decoded, anything else is kept as is. */
int mime_decode_cte(const char *cte, const char *in, size_t len, char **out,
    size_t *outlen);
/*
 * bytes.decode(charset, errors="replace") for us-ascii, utf-8, latin-1
 * and cp1252 (any of their Python aliases).  Returns 1 with *out set, 0
 * when the charset is not one of those (nothing allocated), -1 on ENOMEM.
 */
int mime_to_utf8(const char *charset, const char *in, size_t len,
    char **out, size_t *outlen);

#endif
