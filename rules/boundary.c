/*
 * boundary.c: a safe mailmime_extract_boundary() for libetpan 1.9.4.
 *
 * libetpan 1.9.4 strips the quotes around a multipart boundary parameter
 * without looking at its length, so `boundary="\""` (a value of one '"')
 * makes it copy (size_t)-1 bytes and crash (fixed upstream in 3f14913,
 * not in Debian 12).  The library calls the function through its PLT, so
 * defining it in our executable makes ELF symbol interposition route the
 * library's own calls here.  That needs dynamic linking against libetpan.
 */
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

/*
 * Returns a malloc'd copy of the boundary parameter of content_type, with
 * one pair of surrounding double quotes removed when both ends have one,
 * or NULL when there is no boundary parameter (or no memory).
 */
char *
mailmime_extract_boundary(struct mailmime_content *content_type)
{
	char name[] = "boundary";
	const char *b;
	char *copy;
	size_t len;

	if (content_type == NULL)
		return NULL;
	b = mailmime_content_param_get(content_type, name);
	if (b == NULL)
		return NULL;
	len = strlen(b);
	if (len >= 2 && b[0] == '"' && b[len - 1] == '"') {
		b++;
		len -= 2;
	}
	copy = malloc(len + 1);
	if (copy == NULL)
		return NULL;
	memcpy(copy, b, len);
	copy[len] = '\0';
	return copy;
}
