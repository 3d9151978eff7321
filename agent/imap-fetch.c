/*
 * imap-fetch.c: UID SEARCH SINCE and the two UID FETCH forms (capped
 * bodies for classification, a few header fields for the Sent harvest).
 * libetpan returns the whole reply as a list; unsolicited FETCH lines
 * (flag changes of other messages, no UID) and the "n:*" answer for the
 * highest message (its UID may be below n) are filtered out here.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "agent/imap-private.h"
#include "agent/log.h"
#include "agent/util.h"

int
imap_uid_search(struct imap *s, struct mailimap_search_key *key,
    uint32_t from, const char *what, uint32_t **uids_r, size_t *n_r)
{
	clist *res = NULL;
	clistiter *it;
	uint32_t *v;
	size_t n = 0;
	int r;

	r = mailimap_uid_search(imap_mi(s), NULL, key, &res);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR) {
		/* libetpan hands over its (empty) list even on NO. */
		if (res != NULL)
			mailimap_search_result_free(res);
		return imap_fail(s, r, what);
	}
	v = xcalloc(clist_count(res) + 1, sizeof(*v));
	for (it = clist_begin(res); it != NULL; it = clist_next(it))
		if (clist_content(it) != NULL &&
		    *(uint32_t *)clist_content(it) >= from)
			v[n++] = *(uint32_t *)clist_content(it);
	mailimap_search_result_free(res);
	qsort(v, n, sizeof(*v), util_cmp_u32);
	if (n == 0) {
		free(v);
		v = NULL;
	}
	*uids_r = v;
	*n_r = n;
	return OUT_OK;
}

int
imap_uid_search_since(struct imap *s, time_t since, uint32_t **uids_r,
    size_t *n_r)
{
	struct mailimap_search_key *key;
	struct mailimap_date *d;
	struct tm tm;
	int r;

	*uids_r = NULL;
	*n_r = 0;
	if ((r = imap_ready(s)) != OUT_OK)
		return r;
	if (gmtime_r(&since, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	d = mailimap_date_new(tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
	if (d == NULL || (key = mailimap_search_key_new_since(d)) == NULL)
		fatalx("out of memory");
	return imap_uid_search(s, key, 0, "UID SEARCH", uids_r, n_r);
}

int
imap_uid_search_from(struct imap *s, uint32_t from, uint32_t **uids_r,
    size_t *n_r)
{
	struct mailimap_search_key *key;
	struct mailimap_set *set;
	int r;

	*uids_r = NULL;
	*n_r = 0;
	if ((r = imap_ready(s)) != OUT_OK)
		return r;
	if ((set = mailimap_set_new_interval(from, 0)) == NULL ||
	    (key = mailimap_search_key_new_uid(set)) == NULL)
		fatalx("out of memory");
	return imap_uid_search(s, key, from, "UID SEARCH", uids_r, n_r);
}

static struct mailimap_search_key *
date_key(time_t t, int before)
{
	struct mailimap_search_key *key;
	struct mailimap_date *d;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	d = mailimap_date_new(tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
	key = d == NULL ? NULL : before ? mailimap_search_key_new_before(d) :
	    mailimap_search_key_new_since(d);
	if (key == NULL)
		fatalx("out of memory");
	return key;
}

int
imap_uid_search_kept(struct imap *s, uint32_t from, time_t since,
    time_t before, uint32_t **uids_r, size_t *n_r)
{
	struct mailimap_search_key *key, *k;
	struct mailimap_set *set;
	char *kw;
	int r;

	*uids_r = NULL;
	*n_r = 0;
	if ((r = imap_ready(s)) != OUT_OK)
		return r;
	if ((key = mailimap_search_key_new_multiple_empty()) == NULL ||
	    (set = mailimap_set_new_interval(from, 0)) == NULL ||
	    (k = mailimap_search_key_new_uid(set)) == NULL ||
	    mailimap_search_key_multiple_add(key, k) != MAILIMAP_NO_ERROR ||
	    mailimap_search_key_multiple_add(key, date_key(before, 1)) !=
	    MAILIMAP_NO_ERROR ||
	    (since != 0 && mailimap_search_key_multiple_add(key,
	    date_key(since, 0)) != MAILIMAP_NO_ERROR) ||
	    (kw = strdup("$Junk")) == NULL ||
	    (k = mailimap_search_key_new_keyword(kw)) == NULL ||
	    (k = mailimap_search_key_new_not(k)) == NULL ||
	    mailimap_search_key_multiple_add(key, k) != MAILIMAP_NO_ERROR)
		fatalx("out of memory");
	return imap_uid_search(s, key, from, "UID SEARCH", uids_r, n_r);
}

static unsigned
flag_bits(const struct mailimap_flag *f)
{
	const char *k;

	switch (f->fl_type) {
	case MAILIMAP_FLAG_SEEN:
		return IMAP_FL_SEEN;
	case MAILIMAP_FLAG_ANSWERED:
		return IMAP_FL_ANSWERED;
	case MAILIMAP_FLAG_FLAGGED:
		return IMAP_FL_FLAGGED;
	case MAILIMAP_FLAG_DELETED:
		return IMAP_FL_DELETED;
	case MAILIMAP_FLAG_DRAFT:
		return IMAP_FL_DRAFT;
	case MAILIMAP_FLAG_KEYWORD:
		if ((k = f->fl_data.fl_keyword) == NULL)
			return 0;
		if (strcasecmp(k, "$Junk") == 0 || strcasecmp(k, "Junk") == 0)
			return IMAP_FL_JUNK;
		if (strcasecmp(k, "$NotJunk") == 0 ||
		    strcasecmp(k, "NotJunk") == 0 ||
		    strcasecmp(k, "NonJunk") == 0)
			return IMAP_FL_NOTJUNK;
		return 0;
	default:
		return 0;
	}
}

static unsigned
fetch_flags(clist *l)
{
	const struct mailimap_flag_fetch *ff;
	clistiter *it;
	unsigned fl = 0;

	if (l == NULL)
		return 0;
	for (it = clist_begin(l); it != NULL;
	    it = clist_next(it)) {
		ff = clist_content(it);
		if (ff->fl_type == MAILIMAP_FLAG_FETCH_OTHER &&
		    ff->fl_flag != NULL)
			fl |= flag_bits(ff->fl_flag);
	}
	return fl;
}

/* Fills m from one FETCH response; returns 0 when it carries a UID. */
static int
msg_from_att(struct mailimap_msg_att *att, struct imap_msg *m)
{
	struct mailimap_msg_att_item *item;
	struct mailimap_msg_att_static *st;
	clistiter *it;
	int have_uid = 0;

	memset(m, 0, sizeof(*m));
	m->data = "";
	for (it = clist_begin(att->att_list); it != NULL;
	    it = clist_next(it)) {
		item = clist_content(it);
		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
			if (item->att_data.att_dyn != NULL)
				m->flags |= fetch_flags(
				    item->att_data.att_dyn->att_list);
			continue;
		}
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC ||
		    (st = item->att_data.att_static) == NULL)
			continue;
		switch (st->att_type) {
		case MAILIMAP_MSG_ATT_UID:
			m->uid = st->att_data.att_uid;
			have_uid = 1;
			break;
		case MAILIMAP_MSG_ATT_BODY_SECTION:
			/* sec_section is NULL for BODY[]: not looked at. */
			if (st->att_data.att_body_section != NULL &&
			    st->att_data.att_body_section->sec_body_part !=
			    NULL) {
				m->data = st->att_data.att_body_section->
				    sec_body_part;
				m->len = st->att_data.att_body_section->
				    sec_length;
			}
			break;
		default:
			break;
		}
	}
	return have_uid ? 0 : -1;
}

struct fetch_ctx {
	uint32_t from, to;
	int	(*cb)(void *, const struct imap_msg *);
	void	*arg;
	int	 stop;
};

/* One FETCH response, as the parser reads it (libetpan frees att after
 * this returns): the reply is never held whole. */
static void
on_att(struct mailimap_msg_att *att, void *arg)
{
	struct fetch_ctx *fc = arg;
	struct imap_msg m;

	if (fc->stop || msg_from_att(att, &m) == -1)
		return;			/* unsolicited */
	if (m.uid < fc->from || (fc->to != 0 && m.uid > fc->to))
		return;			/* "n:*" gave the last one */
	if (fc->cb(fc->arg, &m) != 0)
		fc->stop = 1;
}

/* libetpan calls the message handler only when a progress callback is
 * set too (libetpan-notes.md section 5). */
static void
on_progress(size_t cur, size_t max, void *arg)
{
	(void)cur;
	(void)max;
	(void)arg;
}

/* Runs UID FETCH from:to ft and calls cb for the messages in range. */
static int
run_fetch(struct imap *s, uint32_t from, uint32_t to,
    struct mailimap_fetch_type *ft, const char *what,
    int (*cb)(void *, const struct imap_msg *), void *arg)
{
	struct mailimap_set *set;
	struct fetch_ctx fc;
	clist *res = NULL;
	int r;

	if ((set = mailimap_set_new_interval(from, to)) == NULL)
		fatalx("out of memory");
	memset(&fc, 0, sizeof(fc));
	fc.from = from;
	fc.to = to;
	fc.cb = cb;
	fc.arg = arg;
	mailimap_set_progress_callback(imap_mi(s), on_progress, on_progress,
	    NULL);
	mailimap_set_msg_att_handler(imap_mi(s), on_att, &fc);
	r = mailimap_uid_fetch(imap_mi(s), set, ft, &res);
	mailimap_set_msg_att_handler(imap_mi(s), NULL, NULL);
	mailimap_set_progress_callback(imap_mi(s), NULL, NULL, NULL);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, what);
	mailimap_fetch_list_free(res);	/* empty: every FETCH was handled */
	return OUT_OK;
}

static void
ft_add(struct mailimap_fetch_type *ft, struct mailimap_fetch_att *fa)
{
	if (fa == NULL ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, fa) !=
	    MAILIMAP_NO_ERROR)
		fatalx("out of memory");
}

int
imap_uid_fetch(struct imap *s, uint32_t uid_from, uint32_t uid_to,
    size_t max_bytes, int (*cb)(void *, const struct imap_msg *), void *arg)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_section *sec;
	int r;

	if ((r = imap_ready(s)) != OUT_OK)
		return r;
	if (uid_from == 0)
		uid_from = 1;
	if (max_bytes == 0 || max_bytes > UINT32_MAX)
		max_bytes = UINT32_MAX;
	imap_guard_set_limit(imap_mi(s), max_bytes);	/* caps literals */
	if ((ft = mailimap_fetch_type_new_fetch_att_list_empty()) == NULL ||
	    (sec = mailimap_section_new(NULL)) == NULL)
		fatalx("out of memory");
	ft_add(ft, mailimap_fetch_att_new_uid());
	ft_add(ft, mailimap_fetch_att_new_flags());
	ft_add(ft, mailimap_fetch_att_new_body_peek_section_partial(sec, 0,
	    (uint32_t)max_bytes));
	r = run_fetch(s, uid_from, uid_to, ft, "UID FETCH", cb, arg);
	mailimap_fetch_type_free(ft);
	return r;
}

int
imap_fetch_headers(struct imap *s, uint32_t uid_from,
    int (*cb)(void *, const struct imap_msg *), void *arg)
{
	static const char *const fields[] = { "Message-ID", "To", "Cc",
	    "Date" };
	struct mailimap_fetch_type *ft;
	struct mailimap_header_list *hl;
	struct mailimap_section *sec;
	clist *h;
	size_t i;
	int r;

	if ((r = imap_ready(s)) != OUT_OK)
		return r;
	if (uid_from == 0)
		uid_from = 1;
	if ((h = clist_new()) == NULL)
		fatalx("out of memory");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (clist_append(h, xstrdup(fields[i])) < 0)
			fatalx("out of memory");
	if ((hl = mailimap_header_list_new(h)) == NULL ||
	    (sec = mailimap_section_new_header_fields(hl)) == NULL ||
	    (ft = mailimap_fetch_type_new_fetch_att_list_empty()) == NULL)
		fatalx("out of memory");
	ft_add(ft, mailimap_fetch_att_new_uid());
	ft_add(ft, mailimap_fetch_att_new_body_peek_section(sec));
	r = run_fetch(s, uid_from, 0, ft, "UID FETCH headers", cb, arg);
	mailimap_fetch_type_free(ft);
	return r;
}
