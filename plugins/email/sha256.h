/* SHA-256 as lower-case hex, for the email lifter's body_sha256. */
#ifndef TTPD_EMAIL_SHA256_H
#define TTPD_EMAIL_SHA256_H

#include <stddef.h>

void sha256_hex(const void *data, size_t len, char out[65]);

#endif
