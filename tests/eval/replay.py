#!/usr/bin/env python3
"""replay.py BIN CORPORA [RULES]: the chronological replay of learning.

Every spam, phish and ham file of CORPORA/labels.tsv is sorted by its
Date header and cut into batches of one day (UTC).  Each batch is first
classified with what imapsift has learned so far (imapsift classify
--store DB, plus the rule lists in RULES when given, else none), then
learned by its label (imapsift learn --store DB --spam ... --ham ...), as
a user's Junk folder and kept mail would teach it day after day.  Files
without a readable Date are left out (counted).  Printed: recall per
corpus on spam+phish, false positives on ham, the totals, every false
positive with its reasons, and the store's size.

Environment: REPLAY_BY_HAND=1 learns the spam as if the user had moved
each message to Junk by hand (one message is then enough evidence).
"""
import datetime
import email.utils
import os
import subprocess
import sys
import tempfile
from collections import defaultdict


def date_of(path):
    try:
        with open(path, 'rb') as f:
            for raw in f:
                if raw in (b'\n', b'\r\n'):
                    return None
                if raw[:5].lower() == b'date:':
                    v = raw[5:].decode('latin-1').strip()
                    d = email.utils.parsedate_to_datetime(v)
                    if d.tzinfo is None:    # "-0000": UTC, zone unknown
                        d = d.replace(tzinfo=datetime.timezone.utc)
                    return d.timestamp()
    except (OSError, ValueError, TypeError, IndexError):
        return None
    return None


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          errors='replace')


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    bin_, corpora = sys.argv[1], sys.argv[2]
    rules = sys.argv[3] if len(sys.argv) > 3 else None
    by_hand = os.environ.get('REPLAY_BY_HAND') == '1'
    items, undated = [], 0
    with open(os.path.join(corpora, 'labels.tsv')) as f:
        next(f)
        for line in f:
            p, lab, cor = line.rstrip('\n').split('\t')
            if lab not in ('spam', 'phish', 'ham'):
                continue
            full = os.path.join(corpora, p)
            t = date_of(full)
            if t is None:
                undated += 1
                continue
            items.append((t, full, 'ham' if lab == 'ham' else 'spam', cor))
    items.sort()
    days = defaultdict(list)
    for it in items:
        days[int(it[0] // 86400)].append(it)
    tmp = tempfile.mkdtemp(prefix='imapsift-replay-')
    db = os.path.join(tmp, 'learn.db')
    norules = os.path.join(tmp, 'norules')
    os.mkdir(norules)
    n = defaultdict(int)
    junk = defaultdict(int)
    fps = []
    learned_msgs = 0
    for day in sorted(days):
        batch = days[day]
        files = [b[1] for b in batch]
        cmd = [bin_, 'classify', '-r', rules or norules, '--expire', '0']
        if os.path.exists(db):
            cmd += ['--store', db]
        verdict = {}
        for i in range(0, len(files), 500):
            r = run(cmd + files[i:i + 500])
            for ln in r.stdout.splitlines():
                parts = ln.split('\t')
                if len(parts) >= 3:
                    verdict[parts[0]] = (parts[1], parts[2])
        for _, path, cls, cor in batch:
            v, why = verdict.get(path, ('error', ''))
            n[cor, cls] += 1
            if v == 'junk':
                junk[cor, cls] += 1
                if cls == 'ham':
                    fps.append((path, why))
        spam = [b[1] for b in batch if b[2] == 'spam']
        ham = [b[1] for b in batch if b[2] == 'ham']
        lcmd = [bin_, 'learn', '--store', db]
        if by_hand:
            lcmd.append('--by-hand')
        if ham:
            lcmd += ['--ham'] + ham
        if spam:
            lcmd += ['--spam'] + spam
        r = run(lcmd)
        if r.returncode not in (0, 1):
            print('replay: learn failed: ' + r.stderr.strip(),
                  file=sys.stderr)
            return 1
        learned_msgs += len(spam)
    print('%-28s %-5s %6s %6s %9s' % ('corpus', 'class', 'files', 'junk',
                                      'rate'))
    tot = defaultdict(int)
    totj = defaultdict(int)
    for (cor, cls) in sorted(n):
        k = (cor, cls)
        tot[cls] += n[k]
        totj[cls] += junk[k]
        print('%-28s %-5s %6d %6d %8.2f%%  (%s)' % (
            cor, cls, n[k], junk[k], 100.0 * junk[k] / n[k],
            'false positives' if cls == 'ham' else 'recall'))
    print('%-28s %-5s %6d %6d %8.2f%%  (recall; target >= 50%%)' % (
        'all', 'spam', tot['spam'], totj['spam'],
        100.0 * totj['spam'] / max(tot['spam'], 1)))
    print('%-28s %-5s %6d %6d %8.3f%%  (false positives; target <= '
          '0.05%%)' % ('all', 'ham', tot['ham'], totj['ham'],
                       100.0 * totj['ham'] / max(tot['ham'], 1)))
    for path, why in fps:
        print('  false positive: %s\t%s' % (os.path.relpath(path, corpora),
                                           why))
    size = os.path.getsize(db) if os.path.exists(db) else 0
    r = run([bin_, 'learned', '--store', db, '--expire', '0'])
    states = defaultdict(int)
    for ln in r.stdout.splitlines():
        states[ln.split('\t')[0]] += 1
    print('days: %d, files left out (no Date): %d; store: %.1f MB for %d '
          'spam messages (%.1f MB per 10,000), entries: %s' % (
              len(days), undated, size / 1e6, learned_msgs,
              size / 1e6 * 10000 / max(learned_msgs, 1),
              ', '.join('%s %d' % kv for kv in sorted(states.items()))))
    subprocess.run(['rm', '-rf', tmp])
    return 0


if __name__ == '__main__':
    sys.exit(main())
