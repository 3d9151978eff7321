/*
 * imap-move.c: moving messages between mailboxes and setting flags.
 * UID MOVE when the server has MOVE; else COPY, then \Deleted, then
 * UID EXPUNGE of exactly those UIDs when UIDPLUS allows it.  A bare
 * EXPUNGE is never sent: it would purge mail the user deleted elsewhere.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "agent/imap-private.h"
#include "agent/log.h"
#include "agent/util.h"

struct copyuid {
	struct mailimap_set	*src, *dst;
};

static int
trycreate(struct imap *s)
{
	struct mailimap_response_info *ri = imap_mi(s)->imap_response_info;

	return ri != NULL && ri->rsp_trycreate;
}

/* One attempt: MOVE or COPY (the libetpan code is returned). */
static int
move_or_copy(struct imap *s, struct mailimap_set *set, const char *w,
    struct copyuid *cu)
{
	struct mailimap *mi = imap_mi(s);
	uint32_t uv = 0;

	if (imap_has(s, "MOVE"))
		return imap_has(s, "UIDPLUS") ? mailimap_uidplus_uid_move(mi,
		    set, w, &uv, &cu->src, &cu->dst) :
		    mailimap_uid_move(mi, set, w);
	return imap_has(s, "UIDPLUS") ? mailimap_uidplus_uid_copy(mi, set, w,
	    &uv, &cu->src, &cu->dst) : mailimap_uid_copy(mi, set, w);
}

/* Flags the originals \Deleted, and UID EXPUNGEs them when UIDPLUS
 * allows it (the libetpan code is returned). */
static int
remove_originals(struct imap *s, struct mailimap_set *set)
{
	struct mailimap_store_att_flags *sa;
	struct mailimap_flag_list *fl;
	int r;

	if ((fl = mailimap_flag_list_new_empty()) == NULL ||
	    mailimap_flag_list_add(fl, mailimap_flag_new_deleted()) !=
	    MAILIMAP_NO_ERROR ||
	    (sa = mailimap_store_att_flags_new_add_flags_silent(fl)) == NULL)
		fatalx("out of memory");
	r = mailimap_uid_store(imap_mi(s), set, sa);
	mailimap_store_att_flags_free(sa);
	if (r == MAILIMAP_NO_ERROR && imap_has(s, "UIDPLUS"))
		r = mailimap_uid_expunge(imap_mi(s), set);
	return r;
}

int
imap_remove(struct imap *s, const uint32_t *uids, size_t n)
{
	struct mailimap_set *set;
	int r;

	if ((r = imap_ready(s)) != OUT_OK || n == 0)
		return r;
	set = imap_uidset(uids, n);
	r = remove_originals(s, set);
	mailimap_set_free(set);
	return imap_fail(s, r, imap_has(s, "UIDPLUS") ? "UID EXPUNGE" :
	    "UID STORE \\Deleted");
}

int
imap_uid_present(struct imap *s, const uint32_t *uids, size_t n,
    char *present)
{
	struct mailimap_search_key *k;
	uint32_t *found;
	size_t i, nfound;
	int r;

	if ((k = mailimap_search_key_new_uid(imap_uidset(uids, n))) == NULL)
		fatalx("out of memory");
	r = imap_uid_search(s, k, 0, "UID SEARCH (checking the move)",
	    &found, &nfound);
	if (r != OUT_OK)
		return r;
	for (i = 0; i < n; i++)
		present[i] = nfound > 0 && bsearch(&uids[i], found, nfound,
		    sizeof(*found), util_cmp_u32) != NULL;
	free(found);
	return OUT_OK;
}

/* Index of uid within the expanded set, or -1. */
static long
set_index(struct mailimap_set *set, uint32_t uid)
{
	struct mailimap_set_item *it;
	clistiter *ci;
	long base = 0;

	for (ci = clist_begin(set->set_list); ci != NULL;
	    ci = clist_next(ci)) {
		it = clist_content(ci);
		if (uid >= it->set_first && uid <= it->set_last)
			return base + (long)(uid - it->set_first);
		base += (long)(it->set_last - it->set_first) + 1;
	}
	return -1;
}

static uint32_t
set_nth(struct mailimap_set *set, long k)
{
	struct mailimap_set_item *it;
	clistiter *ci;

	for (ci = clist_begin(set->set_list); ci != NULL;
	    ci = clist_next(ci)) {
		it = clist_content(ci);
		if (k <= (long)(it->set_last - it->set_first))
			return it->set_first + (uint32_t)k;
		k -= (long)(it->set_last - it->set_first) + 1;
	}
	return 0;
}

static void
map_copyuid(struct copyuid *cu, const uint32_t *uids, size_t n,
    uint32_t *new_uids)
{
	size_t i;
	long k;

	for (i = 0; i < n; i++) {
		new_uids[i] = 0;
		if (cu->src == NULL || cu->dst == NULL)
			continue;
		if ((k = set_index(cu->src, uids[i])) >= 0)
			new_uids[i] = set_nth(cu->dst, k);
	}
}

static void
copyuid_free(struct copyuid *cu)
{
	if (cu->src != NULL)
		mailimap_set_free(cu->src);
	if (cu->dst != NULL)
		mailimap_set_free(cu->dst);
	cu->src = cu->dst = NULL;
}

/* EXPUNGE responses that came with the last command. */
static size_t
expunged(struct imap *s)
{
	struct mailimap_response_info *ri = imap_mi(s)->imap_response_info;

	return ri != NULL && ri->rsp_expunged != NULL ?
	    (size_t)clist_count(ri->rsp_expunged) : 0;
}

/*
 * What became of each message, once the MOVE or COPY was answered OK.
 * A server may answer OK and move nothing, or copy and leave the
 * original: unless COPYUID and EXPUNGE account for every message, the
 * source mailbox is searched for the UIDs.  An original
 * is removed only where COPYUID (or a COPY answered OK) proves its copy
 * exists; one still there without that proof is IMAP_MV_NOT.
 */
static int
settle(struct imap *s, const uint32_t *uids, size_t n, struct copyuid *cu,
    int moved, int *state)
{
	uint32_t *left;
	char *present;
	size_t i, nleft = 0;
	int r, known;

	known = cu->src != NULL || !moved;	/* a COPY copies them all */
	for (i = 0; i < n; i++)
		state[i] = cu->src == NULL ||
		    set_index(cu->src, uids[i]) >= 0 ? IMAP_MV_COPIED :
		    IMAP_MV_NOT;
	if (!moved && !imap_has(s, "UIDPLUS")) {
		/* Left flagged \Deleted, as designed: nothing to check. */
		struct mailimap_set *set = imap_uidset(uids, n);

		r = imap_fail(s, remove_originals(s, set),
		    "UID STORE \\Deleted");
		mailimap_set_free(set);
		for (i = 0; i < n && r == OUT_OK; i++)
			if (state[i] == IMAP_MV_COPIED)
				state[i] = IMAP_MV_DONE;
		return r;
	}
	if (moved && cu->src != NULL && expunged(s) == n) {
		/* COPYUID names every UID and an EXPUNGE came for each: the
		 * server said it all; no need to look. */
		for (i = 0; i < n; i++)
			if (state[i] != IMAP_MV_COPIED)
				break;
		if (i == n) {
			for (i = 0; i < n; i++)
				state[i] = IMAP_MV_DONE;
			return OUT_OK;
		}
	}
	present = xmalloc(n);
	left = xcalloc(n, sizeof(*left));
	if (!moved) {
		struct mailimap_set *set = imap_uidset(uids, n);

		r = imap_fail(s, remove_originals(s, set),
		    "removing the copied originals");
		mailimap_set_free(set);
		if (r != OUT_OK)
			goto out;
	}
	if ((r = imap_uid_present(s, uids, n, present)) != OUT_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (!present[i])
			state[i] = state[i] == IMAP_MV_COPIED || !known ?
			    IMAP_MV_DONE : IMAP_MV_GONE;
		else if (!known)
			state[i] = IMAP_MV_NOT;
		else if (state[i] == IMAP_MV_COPIED)
			left[nleft++] = uids[i];
	}
	if (nleft > 0) {
		log_warnx("%s: %zu message%s copied but still in the source "
		    "mailbox after an OK: removing the original%s",
		    imap_host(s), nleft, nleft == 1 ? "" : "s",
		    nleft == 1 ? "" : "s");
		if ((r = imap_remove(s, left, nleft)) == OUT_OK &&
		    (r = imap_uid_present(s, uids, n, present)) == OUT_OK)
			for (i = 0; i < n; i++)
				if (state[i] == IMAP_MV_COPIED && !present[i])
					state[i] = IMAP_MV_DONE;
	}
	for (i = 0, nleft = 0; i < n; i++)
		nleft += state[i] == IMAP_MV_NOT;
	if (nleft > 0 && r == OUT_OK)
		log_warnx("%s: %zu message%s still in the source mailbox "
		    "after an OK: not moved", imap_host(s), nleft,
		    nleft == 1 ? "" : "s");
out:
	free(present);
	free(left);
	return r;
}

int
imap_move(struct imap *s, const uint32_t *uids, size_t n, const char *dest,
    uint32_t *new_uids_r, int *state_r)
{
	struct copyuid cu = { NULL, NULL };
	struct mailimap_set *set;
	const char *what;
	char *w;
	size_t i;
	int r, ret, moved;

	for (i = 0; i < n; i++) {
		state_r[i] = IMAP_MV_NOT;
		if (new_uids_r != NULL)
			new_uids_r[i] = 0;
	}
	if ((ret = imap_ready(s)) != OUT_OK || n == 0)
		return ret;
	if ((w = imap_utf7_encode(dest)) == NULL) {
		if (errno == ENOMEM)
			fatalx("out of memory");
		return imap_fail(s, MAILIMAP_ERROR_INVAL,
		    "mailbox name not UTF-8");
	}
	moved = imap_has(s, "MOVE");
	what = moved ? "UID MOVE" : "UID COPY";
	set = imap_uidset(uids, n);
	r = move_or_copy(s, set, w, &cu);
	if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_ERROR_STREAM &&
	    trycreate(s)) {
		log_debug("creating %s on TRYCREATE", dest);
		copyuid_free(&cu);
		if ((ret = imap_create(s, dest)) == OUT_OK)
			r = move_or_copy(s, set, w, &cu);
		else
			goto out;
	}
	if ((ret = imap_fail(s, r, what)) != OUT_OK)
		goto out;
	if (new_uids_r != NULL)
		map_copyuid(&cu, uids, n, new_uids_r);
	ret = settle(s, uids, n, &cu, moved, state_r);
out:
	copyuid_free(&cu);
	mailimap_set_free(set);
	free(w);
	return ret;
}

static struct mailimap_flag *
parse_flag(const char *t, size_t len)
{
	static const struct {
		const char		 *name;
		struct mailimap_flag	*(*make)(void);
	} sys[] = {
		{ "\\Seen", mailimap_flag_new_seen },
		{ "\\Answered", mailimap_flag_new_answered },
		{ "\\Flagged", mailimap_flag_new_flagged },
		{ "\\Deleted", mailimap_flag_new_deleted },
		{ "\\Draft", mailimap_flag_new_draft },
	};
	char *k;
	size_t i;

	for (i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (strlen(sys[i].name) == len &&
		    strncasecmp(sys[i].name, t, len) == 0)
			return sys[i].make();
	if (*t == '\\')
		return NULL;
	k = xmalloc(len + 1);
	memcpy(k, t, len);
	k[len] = '\0';
	return mailimap_flag_new_flag_keyword(k);
}

/* "+FLAGS.SILENT ($Junk \Seen)" into a libetpan store attribute. */
static struct mailimap_store_att_flags *
parse_store_op(const char *op)
{
	struct mailimap_flag_list *fl;
	struct mailimap_flag *f;
	const char *p, *q;
	int sign = 0, silent;

	if (*op == '+' || *op == '-')
		sign = *op++ == '+' ? 1 : -1;
	if (strncasecmp(op, "FLAGS", 5) != 0)
		return NULL;
	op += 5;
	if ((silent = strncasecmp(op, ".SILENT", 7) == 0))
		op += 7;
	if (strncmp(op, " (", 2) != 0 || (q = strchr(op, ')')) == NULL ||
	    q[1] != '\0')
		return NULL;
	if ((fl = mailimap_flag_list_new_empty()) == NULL)
		fatalx("out of memory");
	for (p = op + 2; p < q; p += strspn(p, " ")) {
		size_t len = strcspn(p, " )");

		if (len == 0)
			break;
		if ((f = parse_flag(p, len)) == NULL ||
		    mailimap_flag_list_add(fl, f) != MAILIMAP_NO_ERROR) {
			mailimap_flag_list_free(fl);
			return NULL;
		}
		p += len;
	}
	if (sign > 0)
		return silent ? mailimap_store_att_flags_new_add_flags_silent(
		    fl) : mailimap_store_att_flags_new_add_flags(fl);
	if (sign < 0)
		return silent ?
		    mailimap_store_att_flags_new_remove_flags_silent(fl) :
		    mailimap_store_att_flags_new_remove_flags(fl);
	return silent ? mailimap_store_att_flags_new_set_flags_silent(fl) :
	    mailimap_store_att_flags_new_set_flags(fl);
}

int
imap_store_flags(struct imap *s, const uint32_t *uids, size_t n,
    const char *op)
{
	struct mailimap_store_att_flags *sa;
	struct mailimap_set *set;
	int r;

	if ((r = imap_ready(s)) != OUT_OK || n == 0)
		return r;
	if ((sa = parse_store_op(op)) == NULL)
		return imap_fail(s, MAILIMAP_ERROR_INVAL, "UID STORE (bad op)");
	set = imap_uidset(uids, n);
	r = mailimap_uid_store(imap_mi(s), set, sa);
	mailimap_store_att_flags_free(sa);
	mailimap_set_free(set);
	return imap_fail(s, r, "UID STORE");
}
