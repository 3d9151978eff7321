#!/bin/sh
# regress.sh BIN CORPORA BASE: classification speed of BIN against the
# same program built from git revision BASE (the state before a feature),
# on identical input: the bench's input (the spam and phishing corpora:
# target, BIN within 1.2x of BASE), and, for information, the bounce
# corpora, where bounce analysis does its full work on every message.
# Each binary is run 5 times, alternating, pinned to CPU 0; the fastest
# of each is compared.
set -u
bin=${1:?usage: regress.sh BIN CORPORA BASE}
corp=$(cd "${2:?}" && pwd)
base=${3:?}
top=$(cd "$(dirname "$0")/../.." && pwd)
w=$(mktemp -d "${TMPDIR:-/tmp}/imapsift-regress.XXXXXX")
trap 'rm -rf "$w"' EXIT INT TERM

git -C "$top" archive "$base" | tar -x -C "$w" ||
    { echo "regress: cannot read revision $base" >&2; exit 1; }
make -s -C "$w" all > "$w/build.log" 2>&1 ||
    { tail "$w/build.log" >&2; exit 1; }

for set in spam bounce; do
	case $set in
	spam) dirs="spamassassin-public-corpus nazario-phishing phishing-pot" ;;
	bounce) dirs="sisimai-set-of-emails bounce-flufl-bounce \
bounce-phpmailer-bmh-extras bounce-mail-manager bounce-mailbouncedetector \
bounce-deliveryboy" ;;
	esac
	: > "$w/files"
	for d in $dirs; do
		find "$corp/$d" -type f ! -name SOURCE.txt ! -name '*.md' \
		    | sort >> "$w/files"
	done
	for i in 1 2 3 4 5; do
		for b in base new; do
			exe=$bin
			[ $b = base ] && exe=$w/build/imapsift
			tr '\n' '\0' < "$w/files" | taskset -c 0 xargs -0 \
			    "$exe" classify -r "$top/rules/lists" --stats \
			    2>&1 >/dev/null | awk -v b=$b \
			    '/^classified:/ { t += $7; n += $2 }
			    END { print b, n, t }' >> "$w/$set.times"
		done
	done
	awk -v set=$set -v base="$base" '
	{ n = $2; if (!($1 in best) || $3 < best[$1]) best[$1] = $3 }
	END {
		r = best["new"] / best["base"]
		printf "%-6s %5d files: base %s %.3f s, now %.3f s: %.2fx " \
		    "%s\n", set, n, substr(base, 1, 10), best["base"], \
		    best["new"], r, set == "spam" ? (r <= 1.2 ? \
		    "(target <= 1.2x) met" : "(target <= 1.2x) NOT MET") : \
		    "(every message a bounce: information)"
	}' "$w/$set.times"
done
