/*
 * The email lifter's only reach into the file system (artifact.h).
 *
 * DECNET joins the names to the root, resolves symbolic links and refuses
 * a result outside the root; that check and the later open() look at the
 * path twice, and a link swapped in between escapes.  Here the names are
 * validated first (neither can be "." or ".." nor contain '/'), then each
 * component is opened relative to the descriptor of its parent with
 * O_NOFOLLOW, so the file that is read is the one that was checked and no
 * link below the root is ever followed, whether it points inside the root
 * or not.  The final open adds O_NONBLOCK (a FIFO cannot hang us) and
 * O_NOCTTY, and fstat() on the open descriptor decides "regular file".
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "artifact.h"

#ifndef O_PATH
#define O_PATH O_RDONLY         /* only a lookup handle is needed */
#endif

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c);
}

int
artifact_valid_decky(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > 63 || !is_lower_alnum(s[0]))
		return 0;
	for (i = 1; i < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/*
 * ^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z_[a-f0-9]{12}_[A-Za-z0-9._-]{1,255}$
 * (\d is ASCII only here; Python's also takes other scripts' digits).
 */
int
artifact_valid_stored_as(const char *s, size_t len)
{
	static const char stamp[] = "dddd-dd-ddTdd:dd:ddZ_";
	size_t i, n = sizeof stamp - 1;

	if (len < n + 12 + 1 + 1 || len > n + 12 + 1 + 255)
		return 0;
	for (i = 0; i < n; i++)
		if (stamp[i] == 'd' ? !is_digit(s[i]) : s[i] != stamp[i])
			return 0;
	for (; i < n + 12; i++)
		if (!is_digit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	if (s[i++] != '_')
		return 0;
	for (; i < len; i++)
		if (!is_lower_alnum(s[i]) && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* Why openat() of a component failed, told from what is there now. */
static int
classify(int dirfd, const char *name, int err, int want_dir)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return ART_SYMLINK;
		if (want_dir && !S_ISDIR(st.st_mode))
			return ART_NOT_DIR;
	}
	if (err == ELOOP)
		return ART_SYMLINK;
	if (err == ENOENT)
		return ART_MISSING;
	if (err == ENOTDIR)
		return ART_NOT_DIR;
	return ART_IO;
}

/* Open directory `name` below dirfd without following a link. */
static int
open_dir(int dirfd, const char *name, int *fd, int *errnum)
{
	*fd = openat(dirfd, name,
	    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd >= 0)
		return ART_OK;
	*errnum = errno;
	return classify(dirfd, name, *errnum, 1);
}

static int
read_all(int fd, size_t size_hint, size_t max_bytes, char **data,
    size_t *len)
{
	size_t cap = (size_hint < max_bytes ? size_hint : max_bytes) + 1, n = 0;
	char *buf = malloc(cap + 1), *nbuf;
	ssize_t r;

	if (buf == NULL)
		return ART_NOMEM;
	for (;;) {
		if (n == cap) {
			/* the file grew since fstat(); never past max + 1 */
			if (cap > max_bytes) {
				free(buf);
				return ART_TOO_LARGE;
			}
			cap = cap * 2 > max_bytes + 1 ? max_bytes + 1 : cap * 2;
			if ((nbuf = realloc(buf, cap + 1)) == NULL) {
				free(buf);
				return ART_NOMEM;
			}
			buf = nbuf;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return ART_IO;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max_bytes) {
		free(buf);
		return ART_TOO_LARGE;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return ART_OK;
}

int
artifact_read(const char *root, const char *decky, size_t decky_len,
    const char *stored_as, size_t stored_len, size_t max_bytes, char **data,
    size_t *len, int *errnum)
{
	int rootfd = -1, deckyfd = -1, smtpfd = -1, fd = -1, st;
	char dname[64], sname[300];
	struct stat sb;

	*data = NULL;
	*len = 0;
	*errnum = 0;
	if (!artifact_valid_decky(decky, decky_len))
		return ART_BAD_DECKY;
	if (!artifact_valid_stored_as(stored_as, stored_len))
		return ART_BAD_NAME;
	/* NUL-free now; copied to be NUL-terminated. */
	memcpy(dname, decky, decky_len);
	dname[decky_len] = '\0';
	memcpy(sname, stored_as, stored_len);
	sname[stored_len] = '\0';
	decky = dname;
	stored_as = sname;
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		*errnum = errno;
		return errno == ENOENT ? ART_MISSING : ART_IO;
	}
	if ((st = open_dir(rootfd, decky, &deckyfd, errnum)) != ART_OK)
		goto out;
	if ((st = open_dir(deckyfd, "smtp", &smtpfd, errnum)) != ART_OK)
		goto out;
	/* Look before opening, so a device node is never opened ... */
	if (fstatat(smtpfd, stored_as, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
		*errnum = errno;
		st = classify(smtpfd, stored_as, *errnum, 0);
		goto out;
	}
	if (S_ISLNK(sb.st_mode)) {
		st = ART_SYMLINK;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		st = ART_NOT_REGULAR;
		goto out;
	}
	fd = openat(smtpfd, stored_as,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		*errnum = errno;
		st = classify(smtpfd, stored_as, *errnum, 0);
		goto out;
	}
	/* ... and decide on what was opened, which cannot change under us. */
	if (fstat(fd, &sb) != 0) {
		*errnum = errno;
		st = ART_IO;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		st = ART_NOT_REGULAR;
		goto out;
	}
	if (sb.st_size < 0 || (unsigned long long)sb.st_size > max_bytes) {
		st = ART_TOO_LARGE;
		goto out;
	}
	st = read_all(fd, (size_t)sb.st_size, max_bytes, data, len);
	if (st == ART_IO)
		*errnum = errno;
out:
	if (fd >= 0)
		close(fd);
	if (smtpfd >= 0)
		close(smtpfd);
	if (deckyfd >= 0)
		close(deckyfd);
	if (rootfd >= 0)
		close(rootfd);
	return st;
}

const char *
artifact_status_text(int status)
{
	switch (status) {
	case ART_OK:
		return "read";
	case ART_BAD_DECKY:
		return "decky_id is not a valid decky name";
	case ART_BAD_NAME:
		return "stored_as is not a valid stored message name";
	case ART_SYMLINK:
		return "a symbolic link below artifacts_root (not followed)";
	case ART_NOT_DIR:
		return "a path component is not a directory";
	case ART_NOT_REGULAR:
		return "not a regular file";
	case ART_TOO_LARGE:
		return "larger than max_message_bytes";
	case ART_MISSING:
		return "no such file";
	case ART_IO:
		return "cannot read";
	case ART_NOMEM:
		return "out of memory";
	}
	return "?";
}
