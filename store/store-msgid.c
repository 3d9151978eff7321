/*
 * store-msgid.c: the comparison key of a Message-ID.
 *
 * The same message reaches us with its ID written in several ways: in
 * angle brackets or not, folded across lines, padded, with the domain in
 * another case.  Domain names ignore case and local parts do not (RFC
 * 5321), so only the part after the last '@' is folded.
 */
#include <string.h>

#include "store/store.h"

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
store_msgid_key(const char *in, char *out, size_t outsz)
{
	const char *b, *e, *p;
	char *at;
	size_t n = 0;

	if (out == NULL || outsz == 0)
		return -1;
	out[0] = '\0';
	if (in == NULL)
		return -1;
	for (b = in; is_space((unsigned char)*b); b++)
		;
	for (e = b + strlen(b); e > b && is_space((unsigned char)e[-1]); e--)
		;
	if (e > b && *b == '<')
		b++;
	if (e > b && e[-1] == '>')
		e--;
	for (p = b; p < e; p++) {
		if (is_space((unsigned char)*p))
			continue;
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '<' ||
		    *p == '>' || n + 1 >= outsz) {
			out[0] = '\0';
			return -1;
		}
		out[n++] = *p;
	}
	out[n] = '\0';
	if (n == 0)
		return -1;
	at = strrchr(out, '@');
	for (; at != NULL && *at != '\0'; at++)
		if (*at >= 'A' && *at <= 'Z')
			*at = (char)(*at - 'A' + 'a');
	return 0;
}
