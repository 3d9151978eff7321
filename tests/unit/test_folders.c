/*
 * test_folders.c: folders_choose (agent/folders.c), table-driven: which
 * mailboxes of a LIST are Junk, Sent and Backscatter on each server shape.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/folders.h"
#include "agent/imap.h"
#include "agent/util.h"
#include "conf/conf.h"
#include "tests/unit/test.h"

#define J	IMAP_MBOX_JUNK
#define S	IMAP_MBOX_SENT
#define NS	IMAP_MBOX_NOSELECT
#define TR	IMAP_MBOX_TRASH
#define AL	IMAP_MBOX_ALL
#define MAXMB	8

struct tcase {
	const char *what;
	const char *prefix;		/* NULL: no NAMESPACE (derived) */
	char	 delim;
	struct { const char *name; unsigned flags; } mb[MAXMB];
	const char *conf_junk, *conf_bs;	/* configured, or NULL */
	const char *junk, *sent, *bs;	/* sent: "A|B" in order, "" none */
};

static const struct tcase cases[] = {
	{ "dovecot", "", '/', { { "INBOX", 0 }, { "Junk", J }, { "Sent", S },
	    { "Trash", TR } }, NULL, NULL, "Junk", "Sent", "Backscatter" },
	{ "special-use wins over a name", "", '/', { { "INBOX", 0 },
	    { "Junk", 0 }, { "Spam", J } }, NULL, NULL, "Spam", "",
	    "Backscatter" },
	{ "gmail", "", '/', { { "INBOX", 0 }, { "[Gmail]", NS },
	    { "[Gmail]/All Mail", AL }, { "[Gmail]/Spam", J },
	    { "[Gmail]/Sent Mail", S } }, NULL, NULL, "[Gmail]/Spam",
	    "[Gmail]/Sent Mail", "Backscatter" },
	{ "gmail without special-use", "", '/', { { "INBOX", 0 },
	    { "[Gmail]/All Mail", 0 }, { "[Gmail]/Spam", 0 },
	    { "[Gmail]/Sent Mail", 0 } }, NULL, NULL, "[Gmail]/Spam",
	    "[Gmail]/Sent Mail", "Backscatter" },
	{ "exchange", "", '/', { { "INBOX", 0 }, { "Deleted Items", 0 },
	    { "Junk Email", 0 }, { "Sent Items", 0 } }, NULL, NULL,
	    "Junk Email", "Sent Items", "Backscatter" },
	{ "courier", "INBOX.", '.', { { "INBOX", 0 }, { "INBOX.Sent", 0 },
	    { "INBOX.Trash", 0 }, { "INBOX.Junk", 0 } }, NULL, NULL,
	    "INBOX.Junk", "INBOX.Sent", "INBOX.Backscatter" },
	{ "courier, no NAMESPACE", NULL, '\0', { { "INBOX", 0 },
	    { "INBOX.Spam", 0 }, { "INBOX.Sent", 0 } }, NULL, NULL,
	    "INBOX.Spam", "INBOX.Sent", "INBOX.Backscatter" },
	{ "nothing there, INBOX. namespace", "INBOX.", '.', { { "INBOX",
	    0 } }, NULL, NULL, "INBOX.Junk", "", "INBOX.Backscatter" },
	{ "no NAMESPACE, mailboxes beside INBOX", NULL, '\0', { { "INBOX",
	    0 }, { "Archive", 0 } }, NULL, NULL, "Junk", "",
	    "Backscatter" },
	{ "INBOX.Junk without a prefix", "", '.', { { "INBOX", 0 },
	    { "INBOX.Junk", 0 }, { "Work", 0 } }, NULL, NULL, "INBOX.Junk",
	    "", "Backscatter" },
	{ "the most common name first", "", '/', { { "INBOX", 0 },
	    { "Spam", 0 }, { "Junk", 0 }, { "Sent Items", 0 },
	    { "Sent", 0 } }, NULL, NULL, "Junk", "Sent|Sent Items",
	    "Backscatter" },
	{ "french outlook", "", '/', { { "INBOX", 0 },
	    { "Courrier indésirable", 0 }, { "Éléments envoyés", 0 } },
	    NULL, NULL, "Courrier indésirable", "Éléments envoyés",
	    "Backscatter" },
	{ "case-insensitive names", "", '/', { { "INBOX", 0 },
	    { "JUNK E-MAIL", 0 }, { "sent messages", 0 } }, NULL, NULL,
	    "JUNK E-MAIL", "sent messages", "Backscatter" },
	{ "other uses are never taken by name", "", '/', { { "INBOX", 0 },
	    { "Junk", TR }, { "Sent", AL }, { "Spam", 0 } }, NULL, NULL,
	    "Spam", "", "Backscatter" },
	{ "unselectable \\Junk", "", '/', { { "INBOX", 0 },
	    { "Junk", J | NS }, { "Spam", 0 } }, NULL, NULL, "Spam", "",
	    "Backscatter" },
	{ "an existing Backscatter below the prefix", "INBOX.", '.',
	    { { "INBOX", 0 }, { "INBOX.backscatter", 0 } }, NULL, NULL,
	    "INBOX.Junk", "", "INBOX.backscatter" },
	{ "configured names win", "INBOX.", '.', { { "INBOX", 0 },
	    { "INBOX.Junk", J } }, "Spamfolder", "BS", "Spamfolder", "",
	    "BS" },
	{ NULL, NULL, '\0', { { NULL, 0 } }, NULL, NULL, NULL, NULL, NULL }
};

static void
test_choose(void)
{
	const struct tcase *c;
	struct conf_account a;
	struct imap_mailbox mb[MAXMB];
	struct strlist sent;
	char *dest[NDEST], why[1024], got[512];
	size_t n, i;

	for (c = cases; c->what != NULL; c++) {
		memset(&a, 0, sizeof(a));
		a.junk = (char *)(uintptr_t)c->conf_junk;
		a.backscatter = (char *)(uintptr_t)(c->conf_bs != NULL ?
		    c->conf_bs : CONF_DEF_BACKSCATTER);
		if (c->conf_bs != NULL)
			a.lines[CONF_BACKSCATTER] = 7;
		for (n = 0; n < MAXMB && c->mb[n].name != NULL; n++) {
			mb[n].name = (char *)(uintptr_t)c->mb[n].name;
			mb[n].flags = c->mb[n].flags;
			mb[n].delim = c->delim != '\0' ? c->delim : '.';
		}
		memset(&sent, 0, sizeof(sent));
		folders_choose(&a, mb, n, c->prefix, c->delim, dest, &sent,
		    why, sizeof(why));
		got[0] = '\0';
		for (i = 0; i < sent.n; i++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got),
			    "%s%s", i ? "|" : "", sent.v[i]);
		if (strcmp(dest[DEST_JUNK], c->junk) != 0 ||
		    strcmp(got, c->sent) != 0 ||
		    strcmp(dest[DEST_BS], c->bs) != 0)
			T_FAILF("%s: got Junk \"%s\", Sent \"%s\", Backscatter "
			    "\"%s\"; want \"%s\", \"%s\", \"%s\" (%s)",
			    c->what, dest[DEST_JUNK], got, dest[DEST_BS],
			    c->junk, c->sent, c->bs, why);
		if (strstr(why, c->junk) == NULL)
			T_FAILF("%s: the reason does not name Junk: %s",
			    c->what, why);
		free(dest[DEST_JUNK]);
		free(dest[DEST_BS]);
		strlist_free(&sent);
	}
}

int
main(void)
{
	T_RUN(test_choose);
	return t_done();
}
