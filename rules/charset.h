/*
 * charset.h: charset conversion for rules/ (charset.c), the one part of
 * the module that needs iconv.h: message.c and charset.c include it.
 */
#ifndef IMAPSIFT_RULES_CHARSET_H
#define IMAPSIFT_RULES_CHARSET_H

#include <iconv.h>


/* charset.c: a descriptor converting charset name to UTF-8, this
 * thread's own, kept open and reset to its initial state; or
 * (iconv_t)-1, errno ENOMEM when out of memory, else EINVAL (a name iconv
 * does not know).  Never closed by the caller. */
iconv_t	rules_conv_get(const char *name);
/* Makes libetpan's charset conversions (RFC 2047 words) use them. */
void	rules_charconv_install(void);

#endif
