/*
 * offline.c: the commands that judge message files without a server:
 * classify (one line per file), explain (every indicator and why), and
 * check (validate rule lists).  They share one option parser so that -r
 * and --country mean the same everywhere.  With -c FILE, classify and
 * explain judge as sweep would with that config: its limits, and its
 * rules and country unless -r or --country say otherwise.
 */
#include <sys/time.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/account.h"
#include "agent/cmd.h"
#include "agent/dnsbl.h"
#include "agent/learn.h"
#include "agent/limits.h"
#include "agent/log.h"
#include "agent/outcome.h"
#include "agent/rulesdir.h"
#include "agent/sentdb.h"
#include "agent/sweep.h"
#include "agent/util.h"
#include "conf/conf.h"
#include "rules/rules.h"
#include "store/store.h"

struct offline_opts {
	struct strlist rules;	/* -r paths */
	struct strlist files;	/* message files and directories */
	struct strlist addrs;	/* --address: the user's own */
	const char *store;	/* --store */
	const char *sent_ids;	/* --sent-ids */
	struct conf *conf;	/* -c FILE, or NULL */
	unsigned cc;
	int	 stats;
	int	 unknown_backscatter;
	long	 expire_days;	/* --expire, or -1: the config's */
};

/* explain's store, to name the messages a learned entry came from. */
static struct store *explain_store;
/* explain: the message's DNS blocklist lookups, or why there were none
 * (both NULL: no zone configured). */
static struct dnsbl *explain_dnsbl;
static struct dnsbl_msg *explain_dm;
static const char *explain_dnsbl_none;

/* The usage of cmd on f; EXIT_OK for stdout (--help), else EXIT_CONFIG. */
static int
usage_offline(FILE *f, const char *cmd)
{
	if (strcmp(cmd, "check") == 0)
		fprintf(f, "usage: imapsift check [-r DIR]... "
		    "[--country CC]\n"
		    "       imapsift check -c FILE\n");
	else
		fprintf(f, "usage: imapsift %s [-c FILE] [-r DIR]... "
		    "[--country CC] [--store DB] [--sent-ids FILE]\n"
		    "           [--address ADDR]... [--unknown-bounce "
		    "keep|backscatter] [--expire DAYS]%s FILE...\n", cmd,
		    strcmp(cmd, "classify") == 0 ? " [--stats]" : "");
	return f == stdout ? EXIT_OK : EXIT_CONFIG;
}

static void
free_offline(struct offline_opts *o)
{
	strlist_free(&o->rules);
	strlist_free(&o->files);
	strlist_free(&o->addrs);
	conf_free(&o->conf);
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Parses argv; returns -1 after printing why on bad usage, 1 after
 * printing the usage on stdout for -h/--help. */
static int
parse_offline(int argc, char **argv, struct offline_opts *o)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "country", required_argument, NULL, 'C' },
		{ "stats", no_argument, NULL, 's' },
		{ "store", required_argument, NULL, 'S' },
		{ "sent-ids", required_argument, NULL, 'I' },
		{ "address", required_argument, NULL, 'a' },
		{ "unknown-bounce", required_argument, NULL, 'u' },
		{ "expire", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config = NULL;
	char *end;
	long v;
	int ch, i, cc_given = 0;

	memset(o, 0, sizeof(*o));
	o->cc = 1;
	o->expire_days = -1;
	optind = 1;
	for (;;) {
		ch = getopt_long(argc, argv, "c:r:C:h", longopts, NULL);
		if (ch == -1)
			break;
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'r':
			strlist_add(&o->rules, optarg);
			break;
		case 'C':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 1 || v > 999) {
				log_warnx("--country: \"%s\" is not a "
				    "calling code (1-999)", optarg);
				return -1;
			}
			o->cc = (unsigned)v;
			cc_given = 1;
			break;
		case 's':
			o->stats = 1;
			break;
		case 'S':
			o->store = optarg;
			break;
		case 'I':
			o->sent_ids = optarg;
			break;
		case 'a':
			if (strchr(optarg, '@') == NULL) {
				log_warnx("--address: \"%s\" is not an "
				    "address", optarg);
				return -1;
			}
			strlist_add(&o->addrs, optarg);
			lower(o->addrs.v[o->addrs.n - 1]);
			break;
		case 'u':
			if (strcmp(optarg, "keep") != 0 &&
			    strcmp(optarg, "backscatter") != 0) {
				log_warnx("--unknown-bounce: \"%s\": keep or "
				    "backscatter", optarg);
				return -1;
			}
			o->unknown_backscatter = optarg[0] == 'b';
			break;
		case 'E':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 0 || v > 36500) {
				log_warnx("--expire: \"%s\" is not a number "
				    "of days", optarg);
				return -1;
			}
			o->expire_days = v;
			break;
		case 'h':
			usage_offline(stdout, argv[0]);
			return 1;
		default:
			usage_offline(stderr, argv[0]);
			return -1;
		}
	}
	if (config != NULL) {
		if (config_load(config, 0, &o->conf) != OUT_OK)
			return -1;
		if (!cc_given)
			o->cc = o->conf->country;
		if (o->rules.n == 0)	/* its rules, feed copies too */
			config_rule_paths(o->conf, &o->rules);
	}
	if (o->rules.n == 0)
		rulesdir_default_paths(&o->rules);
	/* Kept as named: a directory is expanded when its turn comes, so a
	 * plain file costs one open, and an unreadable path fails with its
	 * reason in its place in the output. */
	for (i = optind; i < argc; i++)
		strlist_add(&o->files, argv[i]);
	return 0;
}

/* One run over the named files: what each command does with a verdict
 * (out() is called with v NULL for a file that cannot be read). */
struct run {
	const struct rules_set *rs;
	const struct rules_user *user;
	struct dnsbl *dnsbl;	/* the config's zones, or NULL */
	struct rules_limits lim;
	struct buf buf;
	void	(*out)(const char *path, const struct rules_verdict *v,
		    const struct rules_set *rs);
	int	 stats, failed;
	size_t	 n, bytes;
	double	 worst;
	char	*worst_path;
};

/* The DNS blocklists' say on a clean verdict, as sweep would ask. */
static void
judge_dnsbl(struct run *r, struct rules_verdict *v)
{
	struct dnsbl_msg *m;
	char **hosts = NULL, *why, *reasons;
	const char *old;
	size_t i, n = 0;
	double w;

	explain_dnsbl_none = NULL;
	if (v->cls != RULES_CLEAN) {
		explain_dnsbl_none = "not asked: the verdict is not clean";
		return;
	}
	for (i = 0; i < v->nfound; i++)
		if (v->found[i].kind == RULES_ALLOW && v->found[i].matched) {
			explain_dnsbl_none = "not asked: the sender is "
			    "allow-listed";
			return;
		}
	if (v->msg->from != NULL && r->user->correspondent != NULL &&
	    r->user->correspondent(r->user->ctx, v->msg->from) == 1) {
		explain_dnsbl_none = "not asked: the sender is a "
		    "correspondent";
		return;
	}
	work_verdict_hosts(v, &hosts, &n);
	m = dnsbl_start(r->dnsbl, r->rs, hosts, n);
	for (i = 0; i < n; i++)
		free(hosts[i]);
	free(hosts);
	dnsbl_wait(r->dnsbl, m);
	w = dnsbl_score(r->dnsbl, m, &why);
	explain_dm = m;
	if (why == NULL)
		return;
	old = v->reasons != NULL ? v->reasons : "";
	reasons = xmalloc(strlen(old) + strlen(why) + 3);
	sprintf(reasons, "%s%s%s", old, old[0] != '\0' ? "; " : "", why);
	free(v->reasons);
	free(why);
	v->reasons = reasons;
	v->score += w;
	if (v->score > 0 && v->score >= rules_threshold(r->rs))
		v->cls = RULES_JUNK;
}

static void
judge_path(struct run *r, const char *path)
{
	struct strlist sub = { NULL, 0, 0 };
	struct rules_verdict v;
	double t = r->stats ? util_mono_now() : 0;
	const char *why;
	size_t i;
	int trunc;

	/* One byte past the parse cap tells message.c it was cut. */
	if (util_read_file(path, r->lim.max_parse_bytes + 1, &r->buf,
	    &trunc, &why) == -1) {
		if (errno == EISDIR && util_walk_files(path, &sub) == 0) {
			for (i = 0; i < sub.n; i++)
				judge_path(r, sub.v[i]);
			strlist_free(&sub);
			return;
		}
		log_warnx("%s: %s", path, why);
		r->out(path, NULL, r->rs);
		r->failed = 1;
		return;
	}
	if (rules_classify(r->buf.p, r->buf.len, r->rs, &r->lim, r->user,
	    &v) == -1)
		fatalx("%s: out of memory", path);
	if (r->dnsbl != NULL)
		judge_dnsbl(r, &v);
	if (r->stats && (t = util_mono_now() - t) > r->worst) {
		r->worst = t;
		free(r->worst_path);
		r->worst_path = xstrdup(path);
	}
	r->out(path, &v, r->rs);
	dnsbl_msg_free(&explain_dm);
	rules_verdict_free(&v);
	r->bytes += r->buf.len;
	r->n++;
}

/* The config's DNS blocklists, with their answers and zone state in
 * --store, else in the config's store (opened into *own_r). */
static void
dnsbl_open(const struct offline_opts *o, struct run *r, struct sentdb *db,
    struct store **own_r)
{
	char dir[4096];
	size_t i;

	*own_r = NULL;
	if (o->conf == NULL || o->conf->ndnsbl == 0)
		return;
	if (db->st == NULL && account_store_dir(o->conf, dir, sizeof(dir)) == 0)
		(void)account_store_open(dir, own_r);
	r->dnsbl = dnsbl_new(o->conf, db->st != NULL ? db->st : *own_r);
	for (i = 0; i < o->addrs.n; i++)
		dnsbl_add_own(r->dnsbl, o->addrs.v[i]);
	explain_dnsbl = r->dnsbl;
}

/* Loads the rules, judges every file, and returns the exit code. */
static int
run_offline(struct offline_opts *o, void (*out)(const char *,
    const struct rules_verdict *, const struct rules_set *))
{
	struct store *dst;
	struct rules_set *rs, *learned = NULL;
	struct rules_user user;
	struct sentdb db;
	struct run r;
	double t0, t1;
	size_t i, nlearned = 0;
	long days;

	memset(&db, 0, sizeof(db));
	memset(&user, 0, sizeof(user));
	if ((o->store != NULL && sentdb_open_store(&db, o->store) == -1) ||
	    (o->sent_ids != NULL && sentdb_load_ids(&db, o->sent_ids) == -1)) {
		sentdb_close(&db);
		return EXIT_CONFIG;
	}
	user.addrs = (const char *const *)o->addrs.v;
	user.naddrs = o->addrs.n;
	if (o->store != NULL || o->sent_ids != NULL) {
		user.sent = sentdb_sent;
		user.correspondent = sentdb_correspondent;
		user.ctx = &db;
	}
	user.unknown_backscatter = o->unknown_backscatter;
	t0 = util_mono_now();
	rs = rulesdir_load(&o->rules, o->cc, o->conf != NULL ?
	    o->conf->max_rule_file_bytes : 0);
	if (rs == NULL) {
		sentdb_close(&db);
		return EXIT_CONFIG;
	}
	/* The store's active learned entries join the rule lists. */
	if (db.st != NULL) {
		days = o->expire_days >= 0 ? o->expire_days :
		    o->conf != NULL ? o->conf->learn_expiry :
		    CONF_DEF_LEARN_EXPIRY;
		if (learn_active_set(db.st, o->store, o->cc, days > 0 ?
		    time(NULL) - (time_t)days * 86400 : 0, &learned,
		    &nlearned) == -1) {
			rules_free(&rs);
			sentdb_close(&db);
			return EXIT_CONFIG;
		}
		user.learned = learned;
		explain_store = db.st;
	}
	t1 = util_mono_now();
	if (o->stats)
		fprintf(stderr, "rules: %zu entries loaded in %.3f s\n",
		    rules_count(rs, RULES_DOMAIN) + rules_count(rs,
		    RULES_PHONE) + rules_count(rs, RULES_PHRASE) +
		    rules_count(rs, RULES_REGEX) + rules_count(rs,
		    RULES_ALLOW), t1 - t0);
	memset(&r, 0, sizeof(r));
	r.rs = rs;
	r.user = &user;
	r.out = out;
	r.stats = o->stats;
	limits_from_config(o->conf, &r.lim);
	dnsbl_open(o, &r, &db, &dst);
	for (i = 0; i < o->files.n; i++)
		judge_path(&r, o->files.v[i]);
	if (r.dnsbl != NULL && o->stats)
		fprintf(stderr, "dnsbl: %lu queries\n",
		    dnsbl_queries(r.dnsbl));
	dnsbl_free(&r.dnsbl);
	explain_dnsbl = NULL;
	store_close(&dst);
	if (o->stats) {
		fprintf(stderr, "classified: %zu messages, %zu bytes in "
		    "%.3f s\n", r.n, r.bytes, util_mono_now() - t1);
		if (r.worst_path != NULL)
			fprintf(stderr, "slowest: %s in %.3f ms\n",
			    r.worst_path, r.worst * 1e3);
	}
	free(r.worst_path);
	free(r.buf.p);
	rules_free(&rs);
	rules_free(&learned);
	explain_store = NULL;
	sentdb_close(&db);
	return r.failed ? EXIT_FAIL : EXIT_OK;
}

static void
classify_out(const char *path, const struct rules_verdict *v,
    const struct rules_set *rs)
{
	(void)rs;
	if (v == NULL)
		printf("%s\terror\tunreadable\n", path);
	else
		printf("%s\t%s\t%s\n", path, rules_class_name(v->cls),
		    v->reasons != NULL && v->reasons[0] != '\0' ?
		    v->reasons : "-");
}

/* classify and explain: the options, then out for every file. */
static int
offline_cmd(int argc, char **argv, void (*out)(const char *,
    const struct rules_verdict *, const struct rules_set *))
{
	struct offline_opts o;
	int rc;

	if ((rc = parse_offline(argc, argv, &o)) != 0 || o.files.n == 0) {
		if (rc == 0)
			usage_offline(stderr, argv[0]);
		free_offline(&o);
		return rc == 1 ? EXIT_OK : EXIT_CONFIG;
	}
	rc = run_offline(&o, out);
	free_offline(&o);
	return rc;
}

int
cmd_classify(int argc, char **argv)
{
	return offline_cmd(argc, argv, classify_out);
}

static void
explain_found(const struct rules_finding *f)
{
	printf("  %-6s %s", rules_kind_name(f->kind), f->value);
	if (f->via != NULL && f->kind != RULES_PHRASE)
		printf("  via \"%s\"", f->via);
	if (f->where != NULL)
		printf("  in %s", f->where);
	if (f->matched && rules_hit_learned(&f->hit)) {
		printf("\n         learned: %s (store %s)\n", f->hit.entry,
		    f->hit.file);
		if (explain_store != NULL) {
			learn_explain_sources(explain_store, f->kind ==
			    RULES_DOMAIN ? "url" : rules_kind_name(f->kind),
			    f->hit.entry);
			if (f->kind == RULES_DOMAIN)
				learn_explain_sources(explain_store, "host",
				    f->hit.entry);
		}
	} else if (f->matched)
		printf("\n         listed: %s (%s:%u, weight %g)\n",
		    f->hit.entry, f->hit.file, f->hit.line, f->hit.weight);
	else
		printf("  (not listed)\n");
}

static void
explain_bounce(const struct rules_verdict *v)
{
	static const char *said[] = { "not looked up", "sent",
	    "not sent (the store covers its date)",
	    "unknown (the store does not cover its date)" };
	const struct rules_bounce *b = &v->bounce;
	char day[32];
	struct tm tm;
	time_t t;
	size_t i;

	printf("bounce: %s%s\n", rules_report_name(b->kind),
	    b->delayed ? " (delay notice)" : "");
	if (b->why != NULL)
		printf("  recognised by: %s\n", b->why);
	printf("  original message ids:%s\n", b->nids ? "" : " (none quoted)");
	for (i = 0; i < b->nids; i++)
		printf("    <%s> from %s: %s\n", b->ids[i].id, b->ids[i].where,
		    said[v->lookups != NULL ? v->lookups[i] : 0]);
	if (b->orig_from != NULL)
		printf("  original from: %s\n", b->orig_from);
	if (b->orig_to != NULL)
		printf("  original to: %s\n", b->orig_to);
	if (b->orig_date != 0) {
		t = (time_t)b->orig_date;
		strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S UTC",
		    gmtime_r(&t, &tm));
		printf("  original date: %s\n", day);
	}
	if (b->orig_subject != NULL)
		printf("  original subject: %s\n", b->orig_subject);
	if (b->final_rcpt != NULL)
		printf("  final recipient: %s\n", b->final_rcpt);
}

static void
explain_one(const char *path, const struct rules_verdict *v,
    const struct rules_set *rs)
{
	const struct rules_msg *m;
	static int nth;
	size_t i;

	if (nth++ > 0)
		printf("\n");
	if (v == NULL) {
		printf("file: %s\nerror: unreadable\n", path);
		return;
	}
	m = v->msg;
	printf("file: %s\n", path);
	printf("message-id: %s\n", m->message_id ? m->message_id : "(none)");
	printf("from: %s\n", m->from ? m->from : "(none)");
	printf("subject: %s\n", m->subject ? m->subject : "(none)");
	printf("parts:\n");
	for (i = 0; i < m->nparts; i++)
		printf("  %s (%zu bytes%s)\n", m->parts[i].where,
		    m->parts[i].len, m->parts[i].charset_ok ? "" :
		    ", unknown charset: bytes kept");
	printf("links: %zu\n", m->nlinks);
	if (m->note != NULL)
		printf("note: %s\n", m->note);
	if (v->bounce.kind != RULES_REPORT_NONE)
		explain_bounce(v);
	printf("indicators:%s\n", v->bounce.kind != RULES_REPORT_NONE ?
	    " (not looked for in a bounce: what it quotes is not its own)" :
	    "");
	if (v->nfound == 0 && v->bounce.kind == RULES_REPORT_NONE)
		printf("  (none)\n");
	for (i = 0; i < v->nfound; i++)
		explain_found(&v->found[i]);
	if (explain_dm != NULL)
		dnsbl_explain(explain_dnsbl, explain_dm, stdout);
	else if (explain_dnsbl != NULL)
		printf("dnsbl: %s\n", explain_dnsbl_none != NULL ?
		    explain_dnsbl_none : "not asked");
	if (v->bounce.kind != RULES_REPORT_NONE)
		printf("verdict: %s\n", rules_class_name(v->cls));
	else
		printf("verdict: %s (score %g, threshold %g)\n",
		    rules_class_name(v->cls), v->score, rules_threshold(rs));
	printf("reasons: %s\n", v->reasons && v->reasons[0] ? v->reasons :
	    "-");
}

int
cmd_explain(int argc, char **argv)
{
	return offline_cmd(argc, argv, explain_one);
}

int
cmd_check(int argc, char **argv)
{
	struct offline_opts o;
	struct rules_set *rs;
	size_t i;
	int r;

	if (argc == 3 && (strcmp(argv[1], "-c") == 0 ||
	    strcmp(argv[1], "--config") == 0))
		return config_check(argv[2]) == OUT_OK ? EXIT_OK :
		    EXIT_CONFIG;
	if ((r = parse_offline(argc, argv, &o)) != 0 || o.files.n != 0) {
		if (r == 0)
			usage_offline(stderr, argv[0]);
		free_offline(&o);
		return r == 1 ? EXIT_OK : EXIT_CONFIG;
	}
	rs = rulesdir_load(&o.rules, o.cc, o.conf != NULL ?
	    o.conf->max_rule_file_bytes : 0);
	if (rs == NULL) {
		free_offline(&o);
		return EXIT_CONFIG;
	}
	printf("rules OK:");
	for (i = 0; i < o.rules.n; i++)
		printf(" %s", o.rules.v[i]);
	printf("\n  %zu domains, %zu phones, %zu phrases, %zu regex, "
	    "%zu allow; threshold %g\n", rules_count(rs, RULES_DOMAIN),
	    rules_count(rs, RULES_PHONE), rules_count(rs, RULES_PHRASE),
	    rules_count(rs, RULES_REGEX), rules_count(rs, RULES_ALLOW),
	    rules_threshold(rs));
	rules_free(&rs);
	free_offline(&o);
	return EXIT_OK;
}
