/*
 * folders.c: which of the server's mailboxes are Junk, Sent and
 * Backscatter.  Servers differ: Dovecot and Gmail mark Junk and Sent
 * with RFC 6154 special-use attributes (Gmail's older XLIST says \Spam),
 * some send them in lower case (\junk), Exchange and stock Courier send
 * none and name them as their clients do ("Junk Email", "Sent Items",
 * "INBOX.Junk"), in the user's language.  A second "Junk" made beside
 * the user's own would split their spam in two, and on a server whose
 * personal namespace is "INBOX." (Courier, Cyrus) a top-level "Junk"
 * cannot even be created: so look for the server's own first, and make
 * what is missing under the personal namespace prefix.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/folders.h"
#include "agent/imap.h"
#include "agent/util.h"
#include "conf/conf.h"

/* The names clients give Junk and Sent, most common first (UTF-8;
 * imap_list has decoded the server's modified UTF-7). */
static const char *const junk_names[] = {
	"Junk", "Junk Email", "Junk E-mail", "Junk Mail", "Spam",
	"[Gmail]/Spam", "[Google Mail]/Spam", "Bulk Mail",
	"Courrier indésirable", "Pourriel",		/* fr */
	"Junk-E-Mail", "Spam-Verdacht",			/* de */
	"Posta indesiderata",				/* it */
	"Correo no deseado",				/* es */
	"Lixo Eletrônico", "Lixo Electrónico",		/* pt */
	"Ongewenste e-mail",				/* nl */
	"Nevyžádaná pošta",				/* cs */
	"Wiadomości-śmieci",				/* pl */
	"Skräppost",					/* sv */
	"Uønsket e-post", "Uønsket post",		/* nb, da */
	"Roskaposti",					/* fi */
	"Нежелательная почта", "Спам",			/* ru */
};

static const char *const sent_names[] = {
	"Sent", "Sent Items", "Sent Messages", "Sent Mail",
	"[Gmail]/Sent Mail", "[Google Mail]/Sent Mail",
	"Envoyés", "Éléments envoyés", "Messages envoyés",	/* fr */
	"Gesendet", "Gesendete Elemente", "Gesendete Objekte",	/* de */
	"Posta inviata", "Elementi inviati",			/* it */
	"Enviados", "Elementos enviados",			/* es, pt */
	"Itens Enviados",					/* pt */
	"Verzonden", "Verzonden items",				/* nl */
	"Odeslaná pošta",					/* cs */
	"Wysłane", "Elementy wysłane",				/* pl */
	"Skickat", "Skickade objekt",				/* sv */
	"Sendt", "Sendte elementer",				/* nb, da */
	"Lähetetyt",						/* fi */
	"Отправленные",						/* ru */
};

#define NNAMES(v)	(sizeof(v) / sizeof((v)[0]))

/* Not a mailbox mail can be moved into or read from. */
#define UNUSABLE	(IMAP_MBOX_NOSELECT | IMAP_MBOX_NONEXISTENT)
/* Mailboxes that are something else: never taken by name for Junk or
 * Sent.  \All above all: on Gmail every message is there too, by label. */
#define OTHER_USE	(IMAP_MBOX_ALL | IMAP_MBOX_TRASH | IMAP_MBOX_DRAFTS | \
			 IMAP_MBOX_ARCHIVE | IMAP_MBOX_FLAGGED)

/* name without prefix (case-insensitive: the prefix is usually INBOX
 * plus the delimiter), or NULL when it does not start with it. */
static const char *
strip(const char *name, const char *prefix)
{
	size_t l = strlen(prefix);

	if (l == 0 || strncasecmp(name, prefix, l) != 0 || name[l] == '\0')
		return NULL;
	return name + l;
}

/* 1 when mailbox m is what clients call want: the full name, the name
 * below the personal namespace prefix, or below INBOX and its own
 * delimiter ("INBOX.Junk" on a server without a prefix). */
static int
named(const struct imap_mailbox *m, const char *prefix, const char *want)
{
	char inbox[7];
	const char *rel;

	if (strcasecmp(m->name, want) == 0)
		return 1;
	if ((rel = strip(m->name, prefix)) != NULL &&
	    strcasecmp(rel, want) == 0)
		return 1;
	if (m->delim != '\0') {
		snprintf(inbox, sizeof(inbox), "INBOX%c", m->delim);
		if ((rel = strip(m->name, inbox)) != NULL &&
		    strcasecmp(rel, want) == 0)
			return 1;
	}
	return 0;
}

/* The index in names[] of the name m goes by, or -1. */
static int
rank(const struct imap_mailbox *m, const char *prefix,
    const char *const *names, size_t nn)
{
	size_t i;

	for (i = 0; i < nn; i++)
		if (named(m, prefix, names[i]))
			return (int)i;
	return -1;
}

/*
 * The personal namespace when the server has no NAMESPACE: "INBOX" and
 * its delimiter when every other mailbox is below INBOX (Courier and
 * Cyrus without NAMESPACE, or one that failed), else none.
 */
static void
derive_prefix(const struct imap_mailbox *mb, size_t n, char *buf,
    size_t len, char *delim_r)
{
	char inbox[7];
	size_t i, below = 0, other = 0;
	char d = '\0';

	buf[0] = '\0';
	*delim_r = '\0';
	for (i = 0; i < n; i++)
		if (strcasecmp(mb[i].name, "INBOX") == 0)
			d = mb[i].delim;
	for (i = 0; i < n && d != '\0'; i++) {
		if (strcasecmp(mb[i].name, "INBOX") == 0)
			continue;
		snprintf(inbox, sizeof(inbox), "INBOX%c", d);
		if (strip(mb[i].name, inbox) != NULL)
			below++;
		else
			other++;
	}
	*delim_r = d;
	if (below > 0 && other == 0)
		snprintf(buf, len, "INBOX%c", d);
}

void
folders_choose(const struct conf_account *a, const struct imap_mailbox *mb,
    size_t n, const char *prefix, char delim, char *dest[NDEST],
    struct strlist *sent, char *why, size_t whylen)
{
	char pbuf[64], jwhy[160], swhy[160], bwhy[160], *name;
	const char *from;
	size_t i, k, len;
	int best, r, found;

	if (prefix == NULL) {
		derive_prefix(mb, n, pbuf, sizeof(pbuf), &delim);
		prefix = pbuf;
		from = "derived from LIST";
	} else
		from = "NAMESPACE";
	(void)delim;

	/* Junk */
	dest[DEST_JUNK] = NULL;
	if (a->junk != NULL) {
		dest[DEST_JUNK] = xstrdup(a->junk);
		snprintf(jwhy, sizeof(jwhy), "configured");
	}
	for (i = 0; i < n && dest[DEST_JUNK] == NULL; i++)
		if ((mb[i].flags & IMAP_MBOX_JUNK) &&
		    !(mb[i].flags & UNUSABLE)) {
			dest[DEST_JUNK] = xstrdup(mb[i].name);
			snprintf(jwhy, sizeof(jwhy), "special-use \\Junk");
		}
	for (i = 0, best = -1, k = 0; i < n && dest[DEST_JUNK] == NULL; i++) {
		if (mb[i].flags & (UNUSABLE | OTHER_USE | IMAP_MBOX_SENT))
			continue;
		r = rank(&mb[i], prefix, junk_names, NNAMES(junk_names));
		if (r >= 0 && (best < 0 || r < best)) {
			best = r;
			k = i;
		}
	}
	if (dest[DEST_JUNK] == NULL && best >= 0) {
		dest[DEST_JUNK] = xstrdup(mb[k].name);
		snprintf(jwhy, sizeof(jwhy), "named as clients name it");
	}
	if (dest[DEST_JUNK] == NULL) {
		len = strlen(prefix) + sizeof("Junk");
		name = xmalloc(len);
		snprintf(name, len, "%sJunk", prefix);
		dest[DEST_JUNK] = name;
		snprintf(jwhy, sizeof(jwhy), "none found; namespace \"%s\" (%s)",
		    prefix, from);
	}

	/* Sent: the configured ones, else every \Sent, else by name. */
	found = 0;
	if (a->sent.n > 0) {
		for (i = 0; i < a->sent.n; i++)
			strlist_add(sent, a->sent.v[i]);
		snprintf(swhy, sizeof(swhy), "configured");
		found = 1;
	}
	for (i = 0; i < n && !found; i++)
		if ((mb[i].flags & IMAP_MBOX_SENT) &&
		    !(mb[i].flags & UNUSABLE))
			strlist_add(sent, mb[i].name);
	if (!found && sent->n > 0) {
		snprintf(swhy, sizeof(swhy), "special-use \\Sent");
		found = 1;
	}
	for (k = 0; k < NNAMES(sent_names) && !found; k++)
		for (i = 0; i < n; i++)
			if (!(mb[i].flags & (UNUSABLE | OTHER_USE |
			    IMAP_MBOX_JUNK)) &&
			    rank(&mb[i], prefix, sent_names,
			    NNAMES(sent_names)) == (int)k)
				strlist_add(sent, mb[i].name);
	if (!found && sent->n > 0) {
		snprintf(swhy, sizeof(swhy), "named as clients name it");
		found = 1;
	}
	if (!found)
		snprintf(swhy, sizeof(swhy), "none found: no Sent harvest");

	/* Backscatter */
	dest[DEST_BS] = NULL;
	if (a->lines[CONF_BACKSCATTER] != 0) {
		dest[DEST_BS] = xstrdup(a->backscatter);
		snprintf(bwhy, sizeof(bwhy), "configured");
	}
	for (i = 0; i < n && dest[DEST_BS] == NULL; i++)
		if (!(mb[i].flags & UNUSABLE) &&
		    named(&mb[i], prefix, a->backscatter)) {
			dest[DEST_BS] = xstrdup(mb[i].name);
			snprintf(bwhy, sizeof(bwhy), "exists");
		}
	if (dest[DEST_BS] == NULL) {
		len = strlen(prefix) + strlen(a->backscatter) + 1;
		name = xmalloc(len);
		snprintf(name, len, "%s%s", prefix, a->backscatter);
		dest[DEST_BS] = name;
		snprintf(bwhy, sizeof(bwhy), "under namespace \"%s\" (%s)",
		    prefix, from);
	}

	len = (size_t)snprintf(why, whylen, "Junk \"%s\" (%s), Sent",
	    dest[DEST_JUNK], jwhy);
	for (i = 0; i < sent->n && len < whylen; i++)
		len += (size_t)snprintf(why + len, whylen - len, "%s\"%s\"",
		    i ? ", " : " ", sent->v[i]);
	if (len < whylen)
		len += (size_t)snprintf(why + len, whylen - len, " (%s), "
		    "Backscatter \"%s\" (%s)", swhy, dest[DEST_BS], bwhy);
}
