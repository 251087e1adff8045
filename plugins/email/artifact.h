/*
 * Reading one stored message below the artifacts root, and nothing else:
 * <root>/<decky_id>/smtp/<stored_as>, both names validated as DECNET
 * validates them, every component below the root opened relative to its
 * parent with O_NOFOLLOW (so no symbolic link is ever followed and no
 * check can be raced), the file required to be a regular file no bigger
 * than a cap.
 */
#ifndef TTPD_EMAIL_ARTIFACT_H
#define TTPD_EMAIL_ARTIFACT_H

#include <stddef.h>

enum artifact_status {
	ART_OK = 0,
	ART_BAD_DECKY,   /* decky_id does not match ^[a-z0-9][a-z0-9-]{0,62}$ */
	ART_BAD_NAME,    /* stored_as does not match DECNET's pattern */
	ART_SYMLINK,     /* a component below the root is a symbolic link */
	ART_NOT_DIR,     /* <decky> or smtp is not a directory */
	ART_NOT_REGULAR, /* the message is a FIFO, device, directory, ... */
	ART_TOO_LARGE,   /* bigger than the cap */
	ART_MISSING,     /* a component does not exist */
	ART_IO,          /* any other error (errno in *errnum) */
	ART_NOMEM
};

/* Does the name pass DECNET's validation?  (Lengths given: a name may
 * contain NUL bytes, which never pass.) */
int artifact_valid_decky(const char *s, size_t len);
int artifact_valid_stored_as(const char *s, size_t len);

/*
 * Read <root>/<decky>/smtp/<stored_as> into a malloc'd buffer (*data,
 * *len; NUL-terminated for convenience) when it is a regular file of at
 * most max_bytes.  The root itself is the operator's and may be reached
 * through symbolic links.  Returns an enum artifact_status; *errnum is
 * the errno behind ART_IO/ART_MISSING/ART_NOT_DIR (0 otherwise).
 */
int artifact_read(const char *root, const char *decky, size_t decky_len,
    const char *stored_as, size_t stored_len, size_t max_bytes, char **data,
    size_t *len, int *errnum);

/* A short description of a status, for logs. */
const char *artifact_status_text(int status);

#endif
