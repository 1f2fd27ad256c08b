#ifndef WSCHATD_TLS_H
#define WSCHATD_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/*
 * The server's one TLS context: TLS 1.2 and 1.3 only, ECDHE with AEAD
 * ciphers for 1.2, no compression, no renegotiation, no session tickets
 * or cache.  Made in the master while still root (the key may be
 * readable by root only); workers inherit it at fork.
 */

/* Load cert (PEM, chain allowed) and key, check that they match. */
SSL_CTX	*tls_ctx_new(const char *cert, const char *key, char *err,
	    size_t errlen);
/* Make ctx the server's context (may be NULL), freeing the previous one. */
void	 tls_set(SSL_CTX *);
/* The server's context, or NULL when TLS is not configured. */
SSL_CTX	*tls_ctx(void);
/* The reason of the last OpenSSL error (clears the error queue). */
const char *tls_error(void);

#endif
