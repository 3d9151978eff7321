/*
 * folders.c: which mailboxes are Junk, Sent and Backscatter.
 */
#ifndef IMAPSIFT_AGENT_FOLDERS_H
#define IMAPSIFT_AGENT_FOLDERS_H

#include <stddef.h>

struct conf_account;
struct imap_mailbox;
struct strlist;

/* The destinations of moves: struct sweep's dest[] and folders_choose's. */
enum { DEST_JUNK, DEST_BS, NDEST };

/*
 * The account's configured names win; else Junk is the \Junk (or XLIST
 * \Spam) mailbox, then the first of the names clients give it ("Junk",
 * "Junk Email", "Spam", "[Gmail]/Spam", localized ones, with or without
 * the personal namespace prefix), and only when none exists prefix +
 * "Junk" (to be created); Sent every \Sent mailbox, else every one
 * named as clients name it; Backscatter an existing one, else prefix +
 * "Backscatter".  prefix and delim: the personal namespace (NAMESPACE),
 * or NULL to derive it from the list (INBOX's children).  Fills
 * dest[DEST_JUNK], dest[DEST_BS] (malloc'd), adds to *sent, and writes
 * why each was chosen, one line, into why.
 */
void	folders_choose(const struct conf_account *a,
	    const struct imap_mailbox *mb, size_t n, const char *prefix,
	    char delim, char *dest[NDEST], struct strlist *sent, char *why,
	    size_t whylen);

#endif
