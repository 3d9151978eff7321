/*
 * imap-tls.c: the certificate check libetpan does not do (its GnuTLS
 * path accepts any certificate).  Runs after the handshake of implicit
 * TLS or STARTTLS and before any credential is sent: the chain the
 * server sent must lead to a trusted CA (ca_file, else the system
 * store), the leaf must name the host (DNS name, or IP address for an IP
 * literal) and allow TLS server use.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "agent/imap-private.h"

#define IMAP_TLS_MAXCHAIN	16

/* The last handshake failure's text, per thread (one per account). */
static _Thread_local char handshake_why[160];

/*
 * libetpan 1.9.4 reports a failed GnuTLS handshake with gnutls_perror(),
 * which writes "GnuTLS error: ..." to stderr: no imapsift prefix, no
 * account, and never to syslog.  Defined in the executable, this one
 * takes the library's place (the dynamic linker binds libetpan's call to
 * the executable's definition first; nothing else of ours calls it):
 * the text is kept and imap.c puts it in the account's error line.
 */
void
gnutls_perror(int error)
{
	snprintf(handshake_why, sizeof(handshake_why), "%s",
	    gnutls_strerror(error));
}

void
imap_tls_why(char *out, size_t outlen)
{
	if (handshake_why[0] != '\0')
		snprintf(out, outlen, ": %s", handshake_why);
	else if (outlen > 0)
		out[0] = '\0';
	handshake_why[0] = '\0';
}

/* Imports the DER chain (leaf first); returns the count, 0 on failure. */
static unsigned
import_chain(carray *ch, gnutls_x509_crt_t *crt)
{
	MMAPString *str;
	gnutls_datum_t d;
	unsigned i, n;

	n = carray_count(ch);
	if (n > IMAP_TLS_MAXCHAIN)
		n = IMAP_TLS_MAXCHAIN;
	for (i = 0; i < n; i++) {
		str = carray_get(ch, i);
		d.data = (unsigned char *)str->str;
		d.size = (unsigned)str->len;
		if (gnutls_x509_crt_init(&crt[i]) < 0)
			break;
		if (gnutls_x509_crt_import(crt[i], &d,
		    GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crt[i]);
			break;
		}
	}
	if (i < n) {
		while (i > 0)
			gnutls_x509_crt_deinit(crt[--i]);
		return 0;
	}
	return n;
}

static int
load_trust(gnutls_x509_trust_list_t tl, const char *ca_file, char *err,
    size_t errlen)
{
	int r;

	if (ca_file != NULL)
		r = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
	else
		r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (r > 0)
		return 0;
	snprintf(err, errlen, "no CA certificate loaded from %s%s%s",
	    ca_file != NULL ? ca_file : "the system trust store",
	    r < 0 ? ": " : "", r < 0 ? gnutls_strerror(r) : "");
	return -1;
}

/* Verifies the chain against tl for host; 0 when trusted. */
static int
verify_chain(gnutls_x509_trust_list_t tl, gnutls_x509_crt_t *crt,
    unsigned n, const char *host, char *err, size_t errlen)
{
	gnutls_typed_vdata_st vd[2];
	gnutls_datum_t out;
	unsigned status = 0;
	unsigned char ip[16];
	size_t len;
	int r;

	memset(vd, 0, sizeof(vd));
	vd[0].type = GNUTLS_DT_DNS_HOSTNAME;
	vd[0].data = (unsigned char *)(uintptr_t)host;
#if GNUTLS_VERSION_NUMBER >= 0x030600
	/* An IP literal must match an IP address SAN, byte for byte. */
	if (inet_pton(AF_INET, host, ip) == 1) {
		vd[0].type = GNUTLS_DT_IP_ADDRESS;
		vd[0].data = ip;
		vd[0].size = 4;
	} else if (inet_pton(AF_INET6, host, ip) == 1) {
		vd[0].type = GNUTLS_DT_IP_ADDRESS;
		vd[0].data = ip;
		vd[0].size = 16;
	}
#else
	(void)ip;	/* the text form is matched against IP SANs too */
#endif
	vd[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd[1].data = (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_SERVER;
	r = gnutls_x509_trust_list_verify_crt2(tl, crt, n, vd, 2, 0, &status,
	    NULL);
	if (r == 0 && status == 0)
		return 0;
	if (r < 0)
		snprintf(err, errlen, "certificate of %s: %s", host,
		    gnutls_strerror(r));
	else if (gnutls_certificate_verification_status_print(status,
	    GNUTLS_CRT_X509, &out, 0) == 0) {
		len = strlen((char *)out.data);
		while (len > 0 && out.data[len - 1] == ' ')
			out.data[--len] = '\0';
		snprintf(err, errlen, "certificate of %s refused: %s", host,
		    (char *)out.data);
		gnutls_free(out.data);
	} else
		snprintf(err, errlen, "certificate of %s refused (0x%x)",
		    host, status);
	return -1;
}

int
imap_tls_verify(struct imap *s, const char *ca_file, char *err,
    size_t errlen)
{
	struct mailimap *mi = imap_mi(s);
	gnutls_x509_trust_list_t tl;
	gnutls_x509_crt_t crt[IMAP_TLS_MAXCHAIN];
	carray *ch;
	unsigned i, n = 0;
	int r = -1;

	ch = mailstream_get_certificate_chain(mi->imap_stream);
	if (ch != NULL)
		n = import_chain(ch, crt);
	if (ch != NULL)
		mailstream_certificate_chain_free(ch);
	if (n == 0) {
		snprintf(err, errlen, "%s sent no usable certificate",
		    imap_host(s));
		return -1;
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (load_trust(tl, ca_file, err, errlen) == 0)
		r = verify_chain(tl, crt, n, imap_host(s), err, errlen);
	gnutls_x509_trust_list_deinit(tl, 1);
out:
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crt[i]);
	return r;
}
