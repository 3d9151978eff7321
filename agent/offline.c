/*
 * offline.c: the commands that judge message files without a server:
 * classify (one line per file), explain (every indicator and why), and
 * check (validate rule lists).  They share one option parser so that -r
 * and --country mean the same everywhere.
 */
#include <sys/time.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"

struct offline_opts {
	struct strlist rules;	/* -r paths */
	struct strlist files;	/* message files and directories */
	unsigned cc;
	int	 stats;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage_offline(const char *cmd)
{
	if (strcmp(cmd, "check") == 0)
		fprintf(stderr, "usage: imapsift check [-r DIR]... "
		    "[--country CC]\n");
	else
		fprintf(stderr, "usage: imapsift %s [-r DIR]... "
		    "[--country CC]%s FILE...\n", cmd,
		    strcmp(cmd, "classify") == 0 ? " [--stats]" : "");
}

/* Parses argv; returns -1 after printing why on bad usage. */
static int
parse_offline(int argc, char **argv, struct offline_opts *o)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "country", required_argument, NULL, 'C' },
		{ "stats", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	long v;
	int ch, i;

	memset(o, 0, sizeof(*o));
	o->cc = 1;
	optind = 1;
	for (;;) {
		ch = getopt_long(argc, argv, "r:C:h", longopts, NULL);
		if (ch == -1)
			break;
		switch (ch) {
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
			break;
		case 's':
			o->stats = 1;
			break;
		default:
			usage_offline(argv[0]);
			return -1;
		}
	}
	if (o->rules.n == 0)
		rules_default_paths(&o->rules);
	/* Kept as named: a directory is expanded when its turn comes, so a
	 * plain file costs one open, and an unreadable path fails with its
	 * reason in its place in the output. */
	for (i = optind; i < argc; i++)
		strlist_add(&o->files, argv[i]);
	return 0;
}

static void
free_offline(struct offline_opts *o)
{
	strlist_free(&o->rules);
	strlist_free(&o->files);
}

/* One run over the named files: what each command does with a verdict
 * (out() is called with v NULL for a file that cannot be read). */
struct run {
	const struct rules_set *rs;
	struct rules_limits lim;
	struct buf buf;
	void	(*out)(const char *path, const struct rules_verdict *v,
		    const struct rules_set *rs);
	int	 stats, failed;
	size_t	 n, bytes;
	double	 worst;
	char	*worst_path;
};

static void
judge_path(struct run *r, const char *path)
{
	struct strlist sub = { NULL, 0, 0 };
	struct rules_verdict v;
	double t = r->stats ? now() : 0;
	size_t i;
	int trunc;

	/* One byte past the parse cap tells message.c it was cut. */
	if (read_file(path, r->lim.max_parse_bytes + 1, &r->buf,
	    &trunc) == -1) {
		if (errno == EISDIR && walk_files(path, &sub) == 0) {
			for (i = 0; i < sub.n; i++)
				judge_path(r, sub.v[i]);
			strlist_free(&sub);
			return;
		}
		log_warn("%s", path);
		r->out(path, NULL, r->rs);
		r->failed = 1;
		return;
	}
	if (rules_classify(r->buf.p, r->buf.len, r->rs, &r->lim, NULL, NULL,
	    &v) == -1)
		fatalx("%s: out of memory", path);
	if (r->stats && now() - t > r->worst) {
		r->worst = now() - t;
		free(r->worst_path);
		r->worst_path = xstrdup(path);
	}
	r->out(path, &v, r->rs);
	rules_verdict_free(&v);
	r->bytes += r->buf.len;
	r->n++;
}

/* Loads the rules, judges every file, and returns the exit code. */
static int
run_offline(struct offline_opts *o, void (*out)(const char *,
    const struct rules_verdict *, const struct rules_set *))
{
	struct rules_set *rs;
	struct run r;
	double t0, t1;
	size_t i;

	t0 = now();
	rs = load_rules(&o->rules, o->cc);
	if (rs == NULL)
		return EXIT_CONFIG;
	t1 = now();
	if (o->stats)
		fprintf(stderr, "rules: %zu entries loaded in %.3f s\n",
		    rules_count(rs, RULES_DOMAIN) + rules_count(rs,
		    RULES_PHONE) + rules_count(rs, RULES_PHRASE) +
		    rules_count(rs, RULES_REGEX) + rules_count(rs,
		    RULES_ALLOW), t1 - t0);
	memset(&r, 0, sizeof(r));
	r.rs = rs;
	r.out = out;
	r.stats = o->stats;
	rules_limits_default(&r.lim);
	for (i = 0; i < o->files.n; i++)
		judge_path(&r, o->files.v[i]);
	if (o->stats) {
		fprintf(stderr, "classified: %zu messages, %zu bytes in "
		    "%.3f s\n", r.n, r.bytes, now() - t1);
		if (r.worst_path != NULL)
			fprintf(stderr, "slowest: %s in %.3f ms\n",
			    r.worst_path, r.worst * 1e3);
	}
	free(r.worst_path);
	free(r.buf.p);
	rules_free(&rs);
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

int
cmd_classify(int argc, char **argv)
{
	struct offline_opts o;
	int rc;

	if (parse_offline(argc, argv, &o) == -1) {
		free_offline(&o);
		return EXIT_CONFIG;
	}
	if (o.files.n == 0) {
		usage_offline(argv[0]);
		free_offline(&o);
		return EXIT_CONFIG;
	}
	rc = run_offline(&o, classify_out);
	free_offline(&o);
	return rc;
}

static void
explain_found(const struct rules_finding *f)
{
	printf("  %-6s %s", rules_kind_name(f->kind), f->value);
	if (f->via != NULL && f->kind != RULES_PHRASE)
		printf("  via \"%s\"", f->via);
	if (f->where != NULL)
		printf("  in %s", f->where);
	if (f->matched)
		printf("\n         listed: %s (%s:%u, weight %g)\n",
		    f->hit.entry, f->hit.file, f->hit.line, f->hit.weight);
	else
		printf("  (not listed)\n");
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
	printf("indicators:\n");
	if (v->nfound == 0)
		printf("  (none)\n");
	for (i = 0; i < v->nfound; i++)
		explain_found(&v->found[i]);
	printf("verdict: %s (score %g, threshold %g)\n",
	    rules_class_name(v->cls), v->score, rules_threshold(rs));
	printf("reasons: %s\n", v->reasons && v->reasons[0] ? v->reasons :
	    "-");
}

int
cmd_explain(int argc, char **argv)
{
	struct offline_opts o;
	int rc;

	if (parse_offline(argc, argv, &o) == -1 || o.files.n == 0) {
		if (o.files.n == 0)
			usage_offline(argv[0]);
		free_offline(&o);
		return EXIT_CONFIG;
	}
	rc = run_offline(&o, explain_one);
	free_offline(&o);
	return rc;
}

int
cmd_check(int argc, char **argv)
{
	struct offline_opts o;
	struct rules_set *rs;
	size_t i;

	if (parse_offline(argc, argv, &o) == -1 || o.files.n != 0) {
		if (o.files.n != 0)
			usage_offline(argv[0]);
		free_offline(&o);
		return EXIT_CONFIG;
	}
	rs = load_rules(&o.rules, o.cc);
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
