/*
 * boundary.c: a safe mailmime_extract_boundary() for libetpan up to 1.9.
 *
 * libetpan 1.9.4 strips the quotes around a multipart boundary parameter
 * without looking at its length, so `boundary="\""` (a value of one '"')
 * makes it copy (size_t)-1 bytes and crash.  The library calls the
 * function through its PLT, so defining it in our executable makes ELF
 * symbol interposition route the library's own calls here.  That needs
 * dynamic linking against libetpan; rules_boundary_selftest() (run by
 * main() before any command) checks that the library's calls do arrive
 * here, then parses the crashing case.
 *
 * Retired by upstream commit 3f14913 ("Fix MIME boundary quote
 * underflow", dinhvh/libetpan, July 2026), which checks the length and
 * both quotes as this does.  No release has it yet: 1.9.4 is the newest
 * tag, and libetpan_version.h names only major and minor (1.9), so this
 * file is compiled for libetpan 1.9 and older, and leaves the function
 * to a libetpan 1.10 or later (whose release will follow 3f14913).  When
 * Debian's libetpan is past 1.9, delete this file; the self-test stays
 * useful against the library's own function.
 */
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "rules/rules.h"

#if LIBETPAN_VERSION_MAJOR < 1 || \
    (LIBETPAN_VERSION_MAJOR == 1 && LIBETPAN_VERSION_MINOR <= 9)
#define BOUNDARY_OWN	1

/* Set when a call reached this definition in this thread (the
 * self-test's witness). */
static _Thread_local int boundary_seen;

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

	boundary_seen = 1;
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
#endif

/* Parses msg with libetpan: 1 when it is a multipart of nparts parts. */
static int
parts_are(const char *msg, int nparts)
{
	struct mailmime *root = NULL, *body;
	size_t idx = 0;
	int ok;

	if (mailmime_parse(msg, strlen(msg), &idx, &root) != MAILIMF_NO_ERROR)
		return 0;
	body = root->mm_type == MAILMIME_MESSAGE ?
	    root->mm_data.mm_message.mm_msg_mime : NULL;
	ok = body != NULL && body->mm_type == MAILMIME_MULTIPLE &&
	    clist_count(body->mm_data.mm_multipart.mm_mp_list) == nparts;
	mailmime_free(root);
	return ok;
}

int
rules_boundary_selftest(void)
{
	/* boundary="b": harmless to any libetpan. */
	static const char plain[] =
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--\r\n";
	/* boundary="\"": the value is one '"', which 1.9.4 overruns on. */
	static const char quote[] =
	    "Content-Type: multipart/mixed; boundary=\"\\\"\"\r\n\r\n"
	    "--\"\r\n\r\none\r\n--\"--\r\n";
#ifdef BOUNDARY_OWN
	boundary_seen = 0;
	if (!parts_are(plain, 2) || !boundary_seen)
		return -1;	/* libetpan does not call ours: static? */
#else
	if (!parts_are(plain, 2))
		return -1;
#endif
	return parts_are(quote, 1) ? 0 : -1;
}
