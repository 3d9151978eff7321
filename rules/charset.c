/*
 * charset.c: iconv descriptors to UTF-8, kept open per thread.
 *
 * Opening a descriptor costs more than converting a header with it, and
 * glibc loads and unloads a charset's gconv module around each open and
 * close; a message with a dozen encoded words in three charsets paid for
 * that a dozen times.  Each thread keeps the descriptors it opened (at
 * most CONV_CACHE, and a miss for each name iconv does not know) until
 * it exits.  A descriptor is for one thread only, so no lock is taken.
 *
 * libetpan's RFC 2047 decoder (mailmime_encoded_phrase_parse) converts
 * through charconv(), which opens and closes a descriptor per encoded
 * word; rules_charconv_install() gives it these descriptors through its
 * extended_charconv hook, converting exactly as charconv() does (an
 * invalid input byte becomes "?"), so the decoded text is the same.
 */
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "rules/charset.h"
#include "rules/rules-private.h"

#define CONV_CACHE	16	/* descriptors per thread */
#define CONV_NAME	48	/* longest charset name cached */

struct conv_cache {
	size_t	 n;
	struct {
		char	 name[CONV_NAME];
		iconv_t	 cd;	/* (iconv_t)-1: unknown to iconv */
	} e[CONV_CACHE];
};

static pthread_key_t conv_key;
static pthread_once_t conv_once = PTHREAD_ONCE_INIT;
static int conv_key_ok;

static void
conv_cache_free(void *p)
{
	struct conv_cache *cc = p;
	size_t i;

	for (i = 0; i < cc->n; i++)
		if (cc->e[i].cd != (iconv_t)-1)
			iconv_close(cc->e[i].cd);
	free(cc);
}

static void
conv_init(void)
{
	conv_key_ok = pthread_key_create(&conv_key, conv_cache_free) == 0;
}

iconv_t
rules_conv_get(const char *name)
{
	struct conv_cache *cc = NULL;
	size_t i, n = strlen(name);
	iconv_t cd;

	pthread_once(&conv_once, conv_init);
	if (conv_key_ok && n < CONV_NAME &&
	    (cc = pthread_getspecific(conv_key)) == NULL) {
		if ((cc = calloc(1, sizeof(*cc))) == NULL)
			return (iconv_t)-1;	/* errno: ENOMEM */
		if (pthread_setspecific(conv_key, cc) != 0) {
			free(cc);
			cc = NULL;
		}
	}
	if (cc == NULL) {		/* uncached: a one-off (rare) */
		errno = EINVAL;
		return (iconv_t)-1;
	}
	for (i = 0; i < cc->n; i++)
		if (strcmp(cc->e[i].name, name) == 0) {
			if (cc->e[i].cd != (iconv_t)-1)
				iconv(cc->e[i].cd, NULL, NULL, NULL, NULL);
			else
				errno = EINVAL;
			return cc->e[i].cd;
		}
	cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1 && errno == ENOMEM)
		return cd;		/* not a verdict on the name */
	if (cc->n == CONV_CACHE) {	/* the newest slot is reused */
		i = CONV_CACHE - 1;
		if (cc->e[i].cd != (iconv_t)-1)
			iconv_close(cc->e[i].cd);
	} else
		i = cc->n++;
	memcpy(cc->e[i].name, name, n + 1);
	cc->e[i].cd = cd;
	if (cd == (iconv_t)-1)
		errno = EINVAL;
	return cd;
}

/* Are the n bytes at s all ASCII? */
static int
all_ascii(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8)
		if (!rules_ascii8(u + i))
			return 0;
	for (; i < n; i++)
		if (u[i] >= 0x80)
			return 0;
	return 1;
}

/* Charsets iconv knows that hold ASCII unchanged, byte for byte: the
 * ones libetpan converts every plain word of a Content-Type field and of
 * most header fields from. */
static int
ascii_superset(const char *cs)
{
	static const char *const names[] = {
		"us-ascii", "utf-8", "iso-8859-1", "iso-8859-15",
		"windows-1252"
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(cs, names[i]) == 0)
			return 1;
	return 0;
}

/* libetpan's extended_charconv: out holds *outlen bytes (six per input
 * byte), *outlen is set to what was written.  ASCII in a charset that
 * keeps it is copied: iconv would give the same bytes. */
static int
charconv_hook(const char *tocode, const char *fromcode, const char *str,
    size_t len, char *out, size_t *outlen)
{
	char *ib = (char *)(uintptr_t)str;	/* iconv wants char ** */
	char *ob = out;
	size_t ibl = len, obl = *outlen;
	iconv_t cd;

	if (strcasecmp(tocode, "utf-8") != 0)
		return MAIL_CHARCONV_ERROR_UNKNOWN_CHARSET;
	if (len <= *outlen && !rules_reference_paths &&
	    ascii_superset(fromcode) && all_ascii(str, len)) {
		memcpy(out, str, len);
		*outlen = len;
		return MAIL_CHARCONV_NO_ERROR;
	}
	if ((cd = rules_conv_get(fromcode)) == (iconv_t)-1)
		return errno == ENOMEM ? MAIL_CHARCONV_ERROR_MEMORY :
		    MAIL_CHARCONV_ERROR_UNKNOWN_CHARSET;
	for (;;) {
		if (iconv(cd, &ib, &ibl, &ob, &obl) == (size_t)-1 &&
		    errno == EILSEQ && ibl > 0 && obl > 0) {
			*ob++ = '?';
			obl--;
			ib++;
			ibl--;
			continue;
		}
		break;
	}
	*outlen = (size_t)(ob - out);
	return MAIL_CHARCONV_NO_ERROR;
}

static pthread_once_t hook_once = PTHREAD_ONCE_INIT;

static void
hook_init(void)
{
	extended_charconv = charconv_hook;
}

void
rules_charconv_install(void)
{
	pthread_once(&hook_once, hook_init);
}
