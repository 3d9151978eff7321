#!/usr/bin/env python3
"""idle.py: the measuring side of tests/bench/idle.sh (stdlib only).

  idle.py latency PORT CAFILE USER PASS DOMAIN COUNT WARMUP GAP TAG OUT \
          [CMD ...]
      Runs CMD (an IDLE filter: imapsift watch -f, imapfilter) with its
      stdout and stderr on one pipe, and beside it a bare IDLE client
      (LOGIN, SELECT INBOX, IDLE: the floor).  A third connection APPENDs
      WARMUP spam messages (each waited for, not timed: the tool is then
      surely in IDLE), then COUNT more, one at a time: after each APPEND
      it waits for the floor's "* N EXISTS" and for CMD's "moved uid U"
      line (U from the APPENDUID answer), then GAP seconds.  Every
      timestamp is taken in one select() loop (time.monotonic) when the
      bytes arrive.  OUT gets one line per message:
          index uid append_rtt floor latency      (seconds; nan = missing)
      and OUT.tool the tool's output; OUT.stop "rc seconds" of its exit
      after SIGTERM.  Without CMD only the floor is measured.
      Exit 0 when every message was seen moved (and by the floor), else 1.

  idle.py report LABEL=OUT...
      The latency table: per tool median and p95 of latency and of
      latency - floor (per message), and the floor itself.

  idle.py spam TAG I DOMAIN
      The test message (Message-ID <idle-bench-TAG-I@mailer.invalid>).

  idle.py mem PID
      "VmHWM_kB VmRSS_kB nprocs" summed over PID and its descendants.

  idle.py count-moves FILE
      The number of distinct "ACCOUNT/MAILBOX: moved uid N" lines.

  idle.py ready FILE
      The number of distinct accounts named at the start of a connection
      line ("[imapsift: ]ACCOUNT: connected ..., waiting in IDLE").
"""
import math
import os
import re
import selectors
import signal
import socket
import ssl
import subprocess
import sys
import time

MOVED = re.compile(rb"moved uid (\d+)")
EXISTS = re.compile(rb"^\* (\d+) EXISTS\r?$", re.I)


class Conn:
    """An IMAP connection over TLS to 127.0.0.1: blocking for setup,
    non-blocking line reads in the select loop."""

    def __init__(self, port, cafile, user, pw):
        ctx = ssl.create_default_context(cafile=cafile)
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s = ctx.wrap_socket(raw, server_hostname="localhost")
        self.buf = b""
        self.n = 0
        self.readline_blocking()
        self.cmd('LOGIN "%s" "%s"' % (user, pw))

    def readline_blocking(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise SystemExit("idle.py: server closed the connection")
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def cmd(self, text, until=None):
        self.n += 1
        tag = b"s%d" % self.n
        self.s.sendall(tag + b" " + text.encode() + b"\r\n")
        while True:
            line = self.readline_blocking()
            if until is not None and line.startswith(until):
                return line
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise SystemExit("idle.py: %s: %r" % (text, line))
                return line

    def nonblocking(self):
        self.s.setblocking(False)

    def feed(self):
        """Reads what is there; returns the complete lines, None on EOF."""
        while True:
            try:
                d = self.s.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                break
            if not d:
                return None
            self.buf += d
            if not self.s.pending():
                break
        out = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            out.append(line + b"\n")
        return out

    def send(self, data):
        self.s.setblocking(True)
        self.s.sendall(data)
        self.s.setblocking(False)


def spam(tag, i, domain):
    return (
        "From: \"Best Offers\" <offers@mailer.invalid>\r\n"
        "To: alice@example.org\r\n"
        "Subject: idle bench %s %d: limited offer\r\n"
        "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
        "Message-ID: <idle-bench-%s-%d@mailer.invalid>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "Dear customer,\r\n\r\n"
        "Our prices are the lowest this week.  Order now at\r\n"
        "https://www.%s/offer?id=%d and save.\r\n\r\n"
        "Unsubscribe: reply STOP.\r\n" % (tag, i, tag, i, domain, i)
    ).encode()


def latency(argv):
    signal.signal(signal.SIGTERM, lambda *a: sys.exit("idle.py: terminated"))
    procs = []
    try:
        return latency1(argv, procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def latency1(argv, procs):
    (port, cafile, user, pw, domain, count, warm, gap, tag,
     out) = argv[:10]
    cmd = argv[10:]
    port, count, warm, gap = int(port), int(count), int(warm), float(gap)
    sel = selectors.DefaultSelector()
    now = time.monotonic
    moves = {}                  # uid -> first time its move line came
    exists = []                 # times of the floor's EXISTS lines
    toolout = open(out + ".tool", "wb")
    proc = None
    if cmd:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        procs.append(proc)
        os.set_blocking(proc.stdout.fileno(), False)
        sel.register(proc.stdout.fileno(), selectors.EVENT_READ, "tool")
    toolbuf = [b""]

    floor = Conn(port, cafile, user, pw)
    floor.cmd("SELECT INBOX")
    floor.cmd("IDLE", until=b"+")
    floor.nonblocking()
    sel.register(floor.s, selectors.EVENT_READ, "floor")
    app = Conn(port, cafile, user, pw)
    app.nonblocking()
    sel.register(app.s, selectors.EVENT_READ, "app")
    answers = []                # (time, line) of tagged APPEND answers

    def pump(deadline):
        t = deadline - now()
        for key, _ in sel.select(max(t, 0)):
            ts = now()
            if key.data == "tool":
                try:
                    d = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if not d:
                    sel.unregister(key.fd)
                    raise SystemExit("idle.py: %s exited early (rc %s); "
                                     "output in %s.tool"
                                     % (tag, proc.wait(), out))
                toolout.write(d)
                toolout.flush()
                toolbuf[0] += d
                while b"\n" in toolbuf[0]:
                    line, toolbuf[0] = toolbuf[0].split(b"\n", 1)
                    m = MOVED.search(line)
                    if m:
                        moves.setdefault(int(m.group(1)), ts)
            elif key.data == "floor":
                lines = floor.feed()
                if lines is None:
                    raise SystemExit("idle.py: the floor client lost its "
                                     "connection")
                for line in lines:
                    if EXISTS.match(line):
                        exists.append(ts)
            else:
                lines = app.feed()
                if lines is None:
                    raise SystemExit("idle.py: the APPEND connection "
                                     "was closed")
                for line in lines:
                    if line.startswith(b"a"):
                        answers.append((ts, line))

    def append(label, i, limit):
        """APPENDs one spam; waits for the floor and the move (or the
        limit); returns (uid, rtt, floor, latency)."""
        msg = spam(label, i, domain)
        del answers[:]
        ne = len(exists)
        t0 = now()
        app.send(b"a%d APPEND INBOX {%d+}\r\n%s\r\n" % (i, len(msg), msg))
        uid = rtt = fl = lat = None
        end = t0 + limit
        while now() < end:
            if uid is None and answers:
                ts, line = answers[0]
                m = re.search(rb"\[APPENDUID \d+ (\d+)\]", line)
                if not m:
                    raise SystemExit("idle.py: APPEND answered %r" % line)
                uid, rtt = int(m.group(1)), ts - t0
            if fl is None and len(exists) > ne:
                fl = exists[ne] - t0
            if uid is not None and uid in moves:
                lat = moves[uid] - t0
            if uid is not None and fl is not None and \
                    (lat is not None or proc is None):
                break
            pump(end)
        return uid, rtt, fl, lat

    def idle_for(secs):
        end = now() + secs
        while now() < end:
            pump(end)

    ok = True
    for i in range(warm):
        uid, rtt, fl, lat = append(tag + "-warmup", i, 60)
        if uid is None or (proc and lat is None):
            raise SystemExit("idle.py: %s did not move the warm-up "
                             "message within 60 s; output in %s.tool"
                             % (tag, out))
        print("%s warm-up %d: uid %s moved %.3f s after its APPEND"
              % (tag, i, uid, lat if lat is not None else float("nan")),
              file=sys.stderr)
        idle_for(max(gap, 1.0))
    with open(out, "w") as f:
        for i in range(count):
            uid, rtt, fl, lat = append(tag, i, 15)
            if fl is None or (proc and lat is None):
                ok = False
            f.write("%d %s %s %s %s\n" % (
                i, uid if uid is not None else "nan",
                *("%.6f" % x if x is not None else "nan"
                  for x in (rtt, fl, lat))))
            f.flush()
            idle_for(gap)
    try:
        floor.send(b"DONE\r\n")
    except OSError:
        pass
    if proc:
        t = now()
        proc.send_signal(signal.SIGTERM)
        end = t + 10
        rc = None
        while rc is None and now() < end:
            try:
                pump(min(end, now() + 0.05))
            except SystemExit:
                pass
            rc = proc.poll()
        stop = now() - t
        if rc is None:
            proc.kill()
            rc = proc.wait()
            stop = float("nan")
        with open(out + ".stop", "w") as f:
            f.write("%d %.3f\n" % (rc, stop))
    toolout.close()
    return 0 if ok else 1


def pct(xs, p):
    """Nearest-rank percentile of a non-empty list."""
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))]


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def report(argv):
    rows = []
    summary = {}
    for arg in argv:
        label, path = arg.split("=", 1)
        recs = []
        for line in open(path):
            v = line.split()
            recs.append(tuple(float(x) for x in v[2:5]))
        n = len(recs)
        lat = [r[2] for r in recs if not math.isnan(r[2])]
        fl = [r[1] for r in recs if not math.isnan(r[1])]
        ov = [r[2] - r[1] for r in recs
              if not math.isnan(r[1]) and not math.isnan(r[2])]
        rtt = [r[0] for r in recs if not math.isnan(r[0])]
        ms = lambda x: "%.1f" % (x * 1000)
        rows.append((label, "%d/%d" % (len(lat), n),
                     ms(median(fl)) if fl else "-",
                     ms(median(lat)) if lat else "-",
                     ms(pct(lat, 95)) if lat else "-",
                     ms(median(ov)) if ov else "-",
                     ms(pct(ov, 95)) if ov else "-",
                     ms(max(ov)) if ov else "-",
                     ms(median(rtt)) if rtt else "-"))
        summary[label] = median(ov) if ov else None
    hdr = ("tool", "moved", "floor med", "lat med", "lat p95",
           "over med", "over p95", "over max", "APPEND rtt")
    wd = [max(len(str(x[i])) for x in rows + [hdr]) for i in range(len(hdr))]
    print("  ".join(h.ljust(wd[i]) if i == 0 else h.rjust(wd[i])
                    for i, h in enumerate(hdr)))
    print("  ".join("-" * x for x in wd))
    for x in rows:
        print("  ".join(str(v).ljust(wd[i]) if i == 0 else str(v).rjust(wd[i])
                        for i, v in enumerate(x)))
    return summary


def mem(pid):
    kids = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            st = open("/proc/%s/stat" % p).read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(p))
    todo, hwm, rss, n = [pid], 0, 0, 0
    while todo:
        p = todo.pop()
        try:
            for line in open("/proc/%d/status" % p):
                if line.startswith("VmHWM:"):
                    hwm += int(line.split()[1])
                elif line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
            n += 1
        except OSError:
            continue
        todo.extend(kids.get(p, []))
    print(hwm, rss, n)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    c, a = sys.argv[1], sys.argv[2:]
    if c == "latency":
        if len(a) < 10:
            sys.exit(__doc__)
        sys.exit(latency(a))
    elif c == "report":
        s = report(a)
        for k, v in s.items():
            print("median overhead %s %s" % (k, "nan" if v is None
                                               else "%.6f" % v),
                  file=sys.stderr)
    elif c == "spam":
        sys.stdout.buffer.write(spam(a[0], int(a[1]), a[2]))
    elif c == "mem":
        mem(int(a[0]))
    elif c == "count-moves":
        seen = set()
        for line in open(a[0], "rb"):
            m = re.match(rb"(\S+?)/\S*: moved uid (\d+)", line)
            if m:
                seen.add((m.group(1), m.group(2)))
        print(len(seen))
    elif c == "ready":
        seen = set()
        for line in open(a[0], "rb"):
            if MOVED.search(line) or not re.search(rb"connect|idl", line,
                                                   re.I):
                continue
            if line.startswith(b"imapsift: "):
                line = line[10:]
            m = re.match(rb"([A-Za-z0-9._@+-]+)[/:]", line)
            if m:
                seen.add(m.group(1))
        print(len(seen))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
