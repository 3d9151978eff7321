/*
 * imap-mbox.c: LIST (with special-use attributes), CREATE and
 * SELECT/EXAMINE, translating names between UTF-8 and modified UTF-7.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "agent/imap-private.h"
#include "agent/log.h"
#include "agent/util.h"

/* Encodes name for the wire, or records the error and returns NULL. */
static char *
wire_name(struct imap *s, const char *name)
{
	char *w;

	if ((w = imap_utf7_encode(name)) == NULL) {
		if (errno == ENOMEM)
			fatalx("out of memory");
		(void)imap_fail(s, MAILIMAP_ERROR_INVAL,
		    "mailbox name not UTF-8");
	}
	return w;
}

static const struct {
	const char	*name;	/* without the backslash, as libetpan has it */
	unsigned	 flag;
} mbox_attrs[] = {
	{ "Noselect", IMAP_MBOX_NOSELECT },
	{ "NoInferiors", IMAP_MBOX_NOINFERIORS },
	{ "NonExistent", IMAP_MBOX_NONEXISTENT },
	{ "HasChildren", IMAP_MBOX_HASCHILDREN },
	{ "Junk", IMAP_MBOX_JUNK },
	{ "Spam", IMAP_MBOX_JUNK },	/* Gmail's XLIST name for it */
	{ "Sent", IMAP_MBOX_SENT },
	{ "Trash", IMAP_MBOX_TRASH },
	{ "Drafts", IMAP_MBOX_DRAFTS },
	{ "Archive", IMAP_MBOX_ARCHIVE },
	{ "All", IMAP_MBOX_ALL },
	{ "AllMail", IMAP_MBOX_ALL },	/* XLIST */
	{ "Flagged", IMAP_MBOX_FLAGGED },
};

static unsigned
mbox_flags(const struct mailimap_mbx_list_flags *f)
{
	const struct mailimap_mbx_list_oflag *of;
	const char *name;
	clistiter *it;
	unsigned fl = 0;
	size_t i;

	if (f == NULL)
		return 0;
	if (f->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
	    f->mbf_sflag == MAILIMAP_MBX_LIST_SFLAG_NOSELECT)
		fl |= IMAP_MBOX_NOSELECT;
	for (it = clist_begin(f->mbf_oflags); it != NULL;
	    it = clist_next(it)) {
		of = clist_content(it);
		if (of->of_type == MAILIMAP_MBX_LIST_OFLAG_NOINFERIORS) {
			fl |= IMAP_MBOX_NOINFERIORS;
			continue;
		}
		if (of->of_type != MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT ||
		    of->of_flag_ext == NULL)
			continue;
		name = of->of_flag_ext;
		if (*name == '\\')	/* in case a version keeps it */
			name++;
		for (i = 0; i < sizeof(mbox_attrs) / sizeof(mbox_attrs[0]);
		    i++)
			if (strcasecmp(name, mbox_attrs[i].name) == 0)
				fl |= mbox_attrs[i].flag;
	}
	return fl;
}

int
imap_list(struct imap *s, struct imap_mailbox **mb_r, size_t *n_r)
{
	struct mailimap_mailbox_list *ml;
	struct imap_mailbox *v;
	clist *res = NULL;
	clistiter *it;
	size_t n = 0;
	char *name;
	int r;

	*mb_r = NULL;
	*n_r = 0;
	if ((r = imap_ready(s)) != OUT_OK)
		return r;
	r = mailimap_list(imap_mi(s), "", "*", &res);
	if (r != MAILIMAP_NO_ERROR) {
		/* libetpan hands over its (empty) list even on NO. */
		if (res != NULL)
			mailimap_list_result_free(res);
		return imap_fail(s, r, "LIST");
	}
	v = xcalloc(clist_count(res) + 1, sizeof(*v));
	for (it = clist_begin(res); it != NULL; it = clist_next(it)) {
		ml = clist_content(it);
		if (ml->mb_name == NULL)
			continue;
		if ((name = imap_utf7_decode(ml->mb_name)) == NULL) {
			if (errno == ENOMEM)
				fatalx("out of memory");
			log_debug("imap: skipping mailbox with an invalid "
			    "modified UTF-7 name");
			continue;
		}
		v[n].name = name;
		v[n].delim = ml->mb_delimiter;
		v[n].flags = mbox_flags(ml->mb_flag);
		n++;
	}
	mailimap_list_result_free(res);
	*mb_r = v;
	*n_r = n;
	return OUT_OK;
}

void
imap_list_free(struct imap_mailbox *mb, size_t n)
{
	size_t i;

	if (mb == NULL)
		return;
	for (i = 0; i < n; i++)
		free(mb[i].name);
	free(mb);
}

int
imap_create(struct imap *s, const char *name)
{
	struct mailimap *mi = imap_mi(s);
	const char *atom;
	char *w;
	int r;

	if ((r = imap_ready(s)) != OUT_OK)
		return r;
	if ((w = wire_name(s, name)) == NULL)
		return OUT_PERM;
	r = mailimap_create(mi, w);
	free(w);
	if (r == MAILIMAP_ERROR_CREATE && mi->imap_response_info != NULL) {
		atom = mi->imap_response_info->rsp_atom;
		if (atom != NULL && strcasecmp(atom, "ALREADYEXISTS") == 0)
			return OUT_OK;
	}
	return imap_fail(s, r, "CREATE");
}

int
imap_select(struct imap *s, const char *name, int readonly,
    uint32_t *uidvalidity_r, uint32_t *uidnext_r, uint32_t *exists_r)
{
	struct mailimap *mi = imap_mi(s);
	struct mailimap_selection_info *si;
	char *w;
	int r;

	if (uidvalidity_r != NULL)
		*uidvalidity_r = 0;
	if (uidnext_r != NULL)
		*uidnext_r = 0;
	if (exists_r != NULL)
		*exists_r = 0;
	if ((r = imap_ready(s)) != OUT_OK)
		return r;
	if ((w = wire_name(s, name)) == NULL)
		return OUT_PERM;
	imap_set_selected(s, NULL, 0);
	r = readonly ? mailimap_examine(mi, w) : mailimap_select(mi, w);
	free(w);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, readonly ? "EXAMINE" : "SELECT");
	imap_set_selected(s, name, readonly);
	if ((si = mi->imap_selection_info) == NULL)
		return OUT_OK;
	si->sel_has_exists = 0;		/* imap_news: only what comes later */
	if (uidvalidity_r != NULL)
		*uidvalidity_r = si->sel_uidvalidity;
	if (uidnext_r != NULL)
		*uidnext_r = si->sel_uidnext;
	if (exists_r != NULL)
		*exists_r = si->sel_exists;
	return OUT_OK;
}

int
imap_news(struct imap *s)
{
	struct mailimap_selection_info *si;
	struct mailimap *mi = imap_mi(s);
	int n;

	if (mi == NULL || (si = mi->imap_selection_info) == NULL)
		return 0;
	n = si->sel_has_exists != 0;
	si->sel_has_exists = 0;
	return n;
}

int
imap_status(struct imap *s, const char *name, uint32_t *uidvalidity_r,
    uint32_t *uidnext_r)
{
	struct mailimap_status_att_list *l;
	struct mailimap_mailbox_data_status *st = NULL;
	struct mailimap_status_info *si;
	clistiter *it;
	char *w;
	int r;

	*uidvalidity_r = 0;
	*uidnext_r = 0;
	if ((r = imap_ready(s)) != OUT_OK)
		return r;
	if ((w = wire_name(s, name)) == NULL)
		return OUT_PERM;
	if ((l = mailimap_status_att_list_new_empty()) == NULL ||
	    mailimap_status_att_list_add(l, MAILIMAP_STATUS_ATT_UIDVALIDITY) !=
	    MAILIMAP_NO_ERROR ||
	    mailimap_status_att_list_add(l, MAILIMAP_STATUS_ATT_UIDNEXT) !=
	    MAILIMAP_NO_ERROR)
		fatalx("out of memory");
	r = mailimap_status(imap_mi(s), w, l, &st);
	mailimap_status_att_list_free(l);
	free(w);
	if (r != MAILIMAP_NO_ERROR) {
		if (st != NULL)
			mailimap_mailbox_data_status_free(st);
		return imap_fail(s, r, "STATUS");
	}
	/* An OK with no STATUS line leaves st NULL, and st_info_list may be
	 * NULL: the values stay 0 (unknown), which callers take as changed. */
	if (st == NULL)
		return OUT_OK;
	for (it = st->st_info_list != NULL ? clist_begin(st->st_info_list) :
	    NULL; it != NULL; it = clist_next(it)) {
		si = clist_content(it);
		if (si == NULL)
			continue;
		if (si->st_att == MAILIMAP_STATUS_ATT_UIDVALIDITY)
			*uidvalidity_r = si->st_value;
		else if (si->st_att == MAILIMAP_STATUS_ATT_UIDNEXT)
			*uidnext_r = si->st_value;
	}
	mailimap_mailbox_data_status_free(st);
	return OUT_OK;
}

int
imap_namespace(struct imap *s, char **prefix_r, char *delim_r)
{
	struct mailimap_namespace_data *ns = NULL;
	struct mailimap_namespace_info *ni;
	char *p;
	int r;

	*prefix_r = NULL;
	*delim_r = '\0';
	if ((r = imap_ready(s)) != OUT_OK)
		return r;
	r = mailimap_namespace(imap_mi(s), &ns);
	if (r != MAILIMAP_NO_ERROR) {
		if (ns != NULL)
			mailimap_namespace_data_free(ns);
		return imap_fail_optional(s, r, "NAMESPACE");
	}
	/* No personal namespace (NIL), or none at all: the empty prefix. */
	ni = NULL;
	if (ns != NULL && ns->ns_personal != NULL &&
	    ns->ns_personal->ns_data_list != NULL &&
	    clist_begin(ns->ns_personal->ns_data_list) != NULL)
		ni = clist_content(clist_begin(ns->ns_personal->ns_data_list));
	if (ni != NULL && ni->ns_prefix != NULL) {
		if ((p = imap_utf7_decode(ni->ns_prefix)) == NULL) {
			if (errno == ENOMEM)
				fatalx("out of memory");
			log_debug("imap: NAMESPACE prefix not valid modified "
			    "UTF-7: taken as none");
			p = xstrdup("");
		}
		*prefix_r = p;
		*delim_r = ni->ns_delimiter;
	} else
		*prefix_r = xstrdup("");
	if (ns != NULL)
		mailimap_namespace_data_free(ns);
	return OUT_OK;
}
