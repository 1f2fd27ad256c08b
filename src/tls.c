/*
 * TLS context: settings and the certificate and key.  The handshake and
 * the records are the worker's business (worker.c, its transport layer).
 */
#include "config.h"

#include <stdio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls.h"

/* TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only.  TLS 1.3 has
 * only such suites and keeps OpenSSL's default list. */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
/* Length of an OpenSSL error text. */
#define TLS_ERRLEN	256

static SSL_CTX	*server_ctx;

const char *
tls_error(void)
{
	static char	 buf[TLS_ERRLEN];
	unsigned long	 e, last = 0;

	/* The last error is the most specific one. */
	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last == 0)
		return "unknown error";
	/* The reason alone reads best ("unsupported protocol"). */
	if (ERR_reason_error_string(last) != NULL)
		snprintf(buf, sizeof(buf), "%s", ERR_reason_error_string(last));
	else
		ERR_error_string_n(last, buf, sizeof(buf));
	return buf;
}

static SSL_CTX *
ctx_fail(SSL_CTX *ctx, char *err, size_t errlen, const char *what,
    const char *file)
{
	const char	*why = tls_error();

	snprintf(err, errlen, "%s%s%s: %s", what, file ? " " : "",
	    file ? file : "", why);
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_ctx_new(const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX		*ctx;
	unsigned long	 e;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return ctx_fail(NULL, err, errlen, "TLS context", NULL);
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS))
		return ctx_fail(ctx, err, errlen, "TLS settings", NULL);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* One process per connection: a session cache would never hit. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	/* Output lives in a growing buffer: let a retry see it moved.  An
	 * idle connection keeps no record buffers (some 34 KiB a worker). */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return ctx_fail(ctx, err, errlen, "tls-cert", cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		e = ERR_peek_last_error();
		if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
		    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH) {
			snprintf(err, errlen, "tls-key %s does not match "
			    "tls-cert %s", key, cert);
			ERR_clear_error();
			SSL_CTX_free(ctx);
			return NULL;
		}
		return ctx_fail(ctx, err, errlen, "tls-key", key);
	}
	return ctx;
}

void
tls_set(SSL_CTX *ctx)
{
	SSL_CTX_free(server_ctx);
	server_ctx = ctx;
}

SSL_CTX *
tls_ctx(void)
{
	return server_ctx;
}
