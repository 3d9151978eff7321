/*
 * feedsig.c: a feed's detached signature (config keys signature, pubkey,
 * signature_kind), checked with libsodium's Ed25519 before a download may
 * replace the feed's copy.  The only user of sodium.h.
 *
 * Both formats are two-line base64 "boxes" whose first line is an
 * untrusted comment.  A public key line is the base64 of "Ed", an 8-byte
 * key number and the 32-byte Ed25519 key; a signature line is the base64
 * of a 2-byte algorithm, the signing key's number and a 64-byte Ed25519
 * signature.
 *
 *   signify (OpenBSD's; Debian's signify-openbsd): algorithm "Ed", the
 *   signature is over the file itself.
 *
 *   minisign: algorithm "Ed" (legacy: over the file) or "ED" (over the
 *   file's 64-byte BLAKE2b hash, unkeyed), then a third line "trusted
 *   comment: TEXT" and a fourth, the base64 of a 64-byte Ed25519
 *   signature over the 64 signature bytes followed by TEXT (the global
 *   signature), which must verify too: it is what makes TEXT trusted.
 *
 * The key numbers must match: a file signed with another key is refused
 * before any signature is checked, and says which key signed it.
 */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/feedsig.h"
#include "agent/util.h"
#include "conf/conf.h"

#define KEY_BYTES	42	/* "Ed" keynum[8] pk[32] */
#define SIG_BYTES	74	/* alg[2] keynum[8] sig[64] */

/* The next line of [*p, end) in *line_r / *len_r (without "\n" or
 * "\r\n"); -1 at the end. */
static int
next_line(const char **p, const char *end, const char **line_r,
    size_t *len_r)
{
	const char *e;
	size_t	 n;

	if (*p >= end)
		return -1;
	e = memchr(*p, '\n', (size_t)(end - *p));
	n = e != NULL ? (size_t)(e - *p) : (size_t)(end - *p);
	*line_r = *p;
	*p = e != NULL ? e + 1 : end;
	if (n > 0 && (*line_r)[n - 1] == '\r')
		n--;
	*len_r = n;
	return 0;
}

/* Decodes exactly want bytes of standard, padded base64 from s. */
static int
b64_exact(const char *s, size_t len, unsigned char *out, size_t want)
{
	const char *end = NULL;
	size_t	 n = 0;

	if (len == 0 || memchr(s, '\0', len) != NULL)
		return -1;
	if (sodium_base642bin(out, want, s, len, NULL, &n, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || n != want ||
	    end != s + len)
		return -1;
	return 0;
}

static int
has_prefix(const char *s, size_t len, const char *pfx)
{
	size_t	 n = strlen(pfx);

	return len >= n && memcmp(s, pfx, n) == 0;
}

/* A key number as minisign prints it: little-endian, 16 hex digits. */
static void
keyid_hex(const unsigned char *kn, char *out, size_t outlen)
{
	int	 i, o = 0;

	for (i = 7; i >= 0 && (size_t)o + 3 <= outlen; i--)
		o += snprintf(out + o, outlen - (size_t)o, "%02X", kn[i]);
}

void
feedsig_keyid(const char *pubkey, char *out, size_t outlen)
{
	unsigned char k[KEY_BYTES];

	snprintf(out, outlen, "?");
	if (pubkey != NULL && b64_exact(pubkey, strlen(pubkey), k,
	    sizeof(k)) == 0)
		keyid_hex(k + 2, out, outlen);
}

/* The trusted comment for the state file and `imapsift feeds`: control
 * bytes become '?'. */
static void
put_comment(char *tc, size_t tclen, const char *s, size_t n)
{
	size_t	 i;

	if (tclen == 0)
		return;
	if (n >= tclen)
		n = tclen - 1;
	for (i = 0; i < n; i++)
		tc[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	tc[n] = '\0';
}

int
feedsig_verify(const struct conf_feed *f, const char *sig, size_t siglen,
    const void *m, size_t mlen, char *tc, size_t tclen, char *err,
    size_t errlen)
{
	const char *kind = conf_sig_kind_name(f->sig_kind), *p = sig;
	const char *end = sig + siglen, *l, *tl = NULL;
	unsigned char k[KEY_BYTES], s[SIG_BYTES], g[crypto_sign_BYTES];
	unsigned char h[crypto_generichash_BYTES_MAX], *gm;
	char	 want[20], got[20];
	size_t	 n, tn = 0;
	int	 r;

	if (tclen > 0)
		tc[0] = '\0';
	if (sodium_init() == -1) {
		snprintf(err, errlen, "signature: cannot start libsodium");
		return -1;
	}
	if (f->pubkey == NULL || b64_exact(f->pubkey, strlen(f->pubkey), k,
	    sizeof(k)) == -1 || memcmp(k, "Ed", 2) != 0) {
		snprintf(err, errlen, "pubkey: not an Ed25519 public key");
		return -1;
	}
	if (next_line(&p, end, &l, &n) == -1 ||
	    !has_prefix(l, n, "untrusted comment: ")) {
		snprintf(err, errlen, "signature: not a %s signature file "
		    "(no untrusted comment line)", kind);
		return -1;
	}
	if (next_line(&p, end, &l, &n) == -1 ||
	    b64_exact(l, n, s, sizeof(s)) == -1) {
		snprintf(err, errlen, "signature: not a %s signature file "
		    "(its second line is not a base64 signature)", kind);
		return -1;
	}
	if (!(memcmp(s, "Ed", 2) == 0 || (memcmp(s, "ED", 2) == 0 &&
	    f->sig_kind == CONF_SIG_MINISIGN))) {
		snprintf(err, errlen, "signature: not a %s signature "
		    "(algorithm %02x%02x)", kind, s[0], s[1]);
		return -1;
	}
	if (memcmp(s + 2, k + 2, 8) != 0) {
		keyid_hex(s + 2, got, sizeof(got));
		keyid_hex(k + 2, want, sizeof(want));
		snprintf(err, errlen, "signature: made with key %s, not the "
		    "configured key %s", got, want);
		return -1;
	}
	if (f->sig_kind == CONF_SIG_MINISIGN) {
		if (next_line(&p, end, &tl, &tn) == -1 ||
		    !has_prefix(tl, tn, "trusted comment: ")) {
			snprintf(err, errlen, "signature: not a minisign "
			    "signature file (no trusted comment line)");
			return -1;
		}
		tl += strlen("trusted comment: ");
		tn -= strlen("trusted comment: ");
		if (next_line(&p, end, &l, &n) == -1 ||
		    b64_exact(l, n, g, sizeof(g)) == -1) {
			snprintf(err, errlen, "signature: not a minisign "
			    "signature file (no base64 comment signature)");
			return -1;
		}
	}
	if (memcmp(s, "ED", 2) == 0) {
		crypto_generichash(h, sizeof(h), m, mlen, NULL, 0);
		r = crypto_sign_verify_detached(s + 10, h, sizeof(h), k + 10);
	} else
		r = crypto_sign_verify_detached(s + 10, m, mlen, k + 10);
	if (r != 0) {
		snprintf(err, errlen, "signature: the list does not verify "
		    "with the configured key");
		return -1;
	}
	if (f->sig_kind != CONF_SIG_MINISIGN)
		return 0;
	gm = xmalloc(crypto_sign_BYTES + tn + 1);
	memcpy(gm, s + 10, crypto_sign_BYTES);
	memcpy(gm + crypto_sign_BYTES, tl, tn);
	r = crypto_sign_verify_detached(g, gm, crypto_sign_BYTES + tn,
	    k + 10);
	free(gm);
	if (r != 0) {
		snprintf(err, errlen, "signature: the trusted comment does "
		    "not verify");
		return -1;
	}
	put_comment(tc, tclen, tl, tn);
	return 0;
}

long long
feedsig_timestamp(const char *tc)
{
	static const char key[] = "timestamp:";
	const char *p;
	long long t = 0;
	size_t	 n;

	for (p = tc; (p = strstr(p, key)) != NULL; p++)
		if (p == tc || !isalnum((unsigned char)p[-1]))
			break;
	if (p == NULL)
		return -1;
	p += sizeof(key) - 1;
	for (n = 0; isdigit((unsigned char)p[n]) && n < 18; n++)
		t = t * 10 + (p[n] - '0');
	if (n == 0 || isdigit((unsigned char)p[n]))
		return -1;
	return t;
}
