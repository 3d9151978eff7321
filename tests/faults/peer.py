#!/usr/bin/env python3
"""peer.py: a scripted IMAP4rev1 peer for fault injection (stdlib only).

Serves a small in-memory mailbox set on 127.0.0.1 (random free port),
over implicit TLS, plaintext, or plaintext with STARTTLS, with enough of
IMAP4rev1 + UIDPLUS + MOVE + SPECIAL-USE + IDLE for `imapsift sweep` (and
later `watch`) to work normally, and injects faults from a script.

Usage

  peer.py --port-file F [--tls CERT KEY | --starttls CERT KEY]
          [--no-starttls] [--no-move] [--no-uidplus] [--no-idle]
          [--caps-add CAP]... [--caps-drop CAP]... [--unknown CMD]...
          [--unknown-reply BAD|NO] [--no-uidnext]
          [--user alice --password secret]
          [--mailbox NAME[:\\Attr]]... [--load NAME:FILE.eml]...
          [--faults FILE.json] [--state F] [--log F] [--lifetime SECS]
          [--inject-dir DIR]

  --port-file F   the listening port is written there (then the peer is
                  ready); without it, printed on stdout.
  --tls C K       implicit TLS with the PEM certificate (chain) C and key K.
  --starttls C K  plaintext; STARTTLS offered and done with C/K.
  --no-starttls   (with --starttls) STARTTLS neither advertised nor
                  accepted (BAD).  Without --tls/--starttls: plaintext.
  --caps-add C    advertise capability C too (repeatable), whether or
                  not the peer implements it (NAMESPACE, ID, ...: the
                  command is then answered as --unknown says).
  --caps-drop C   do not advertise C (e.g. SPECIAL-USE; the mailboxes'
                  attributes are whatever --mailbox gives).
  --unknown CMD   treat CMD as a command the peer does not know
                  (repeatable; commands it has no handler for always are).
  --unknown-reply BAD|NO   the reply to an unknown command (BAD).
  --no-uidnext    SELECT/EXAMINE send no [UIDNEXT] and STATUS no UIDNEXT.
  --mailbox N:A   a mailbox with an optional special-use attribute, e.g.
                  "Junk:\\Junk", "Sent:\\Sent".  INBOX always exists.
  --load N:FILE   append FILE (an .eml; LF made CRLF) to mailbox N (made
                  when missing); INTERNALDATE is now.
  --state F       after every change and at exit (SIGTERM, lifetime): one
                  line per message, "MAILBOX<TAB>MESSAGE-ID<TAB>FLAGS",
                  sorted (Message-ID with its <>, "-" when missing).
  --log F         one line per event: "C<n> < TAG COMMAND ..." for what a
                  client sent (LOGIN/AUTHENTICATE secrets replaced by ***),
                  "C<n> fault ACTION" when a fault fires, "C<n> tls" after
                  a handshake, "C<n> eof" and so on.
  --lifetime S    the peer exits by itself after S seconds (default 60).
  --inject-dir D  new mail while clients are connected: every FILE.eml
                  that appears in D (write it under another name, then
                  rename it: the peer looks every 50 ms, in name order) is
                  appended to INBOX (LF made CRLF) and removed; every
                  session idling on INBOX gets "* N EXISTS" at once, the
                  others at their next NOOP or when they start IDLE (after
                  "+ idling", like a real server).  Logged as "injected
                  MSGID uid N"; "C<n> idling" once a session is idling.

APPEND (with optional flags and date, literal or LITERAL+) is supported
too, and likewise wakes the sessions idling on the mailbox.

Fault script (--faults): a JSON list of rules, checked in order for every
command a client sends (the greeting counts as command "GREETING").

  { "cmd": "UID FETCH",        command name: first word, or "UID X";
                               "*" matches any command
    "match": "BODY\\\\.PEEK\\\\[\\\\]", optional regex (case-insensitive)
                               searched in the command line after the tag
    "nth": 1,                  fire from the nth matching command (1)
    "times": 1,                fire this many times (0: every time)
    "action": "drop_before",   see below
    ...action arguments... }

Matching counts are global to the peer (all connections), so a rule with
"times": 1 fires in the first sweep and the next sweep sees a sane server.

Actions (args in parentheses)
  drop_before    close the connection instead of replying
  drop_after     run the command, send the whole reply, then close
  drop_mid       run the command, send part of the reply (at: byte count,
                 default half), close
  drop_literal   run the command, send the reply up to the middle of its
                 first literal, close (EOF inside a literal)
  stall          never answer (the connection stays open until the client
                 closes it or the peer's lifetime ends)
  stall_mid      run the command, send half of the reply, then stall
  delay          wait seconds (default 1) before answering normally
  no / bad       answer the command NO / BAD (text), nothing done
  bye            send "* BYE text" and close (instead of the reply)
  garbage        send lines (default a few unparsable ones) before the
                 normal reply
  garbage_only   send lines instead of the reply, then stall (the client
                 must give up on its own)
  untagged       send lines (untagged responses) before the normal reply;
                 "trickle": true sends them a byte at a time (each byte
                 its own write, TCP_NODELAY), so the client reads them
                 cut anywhere
  truncate       cut the reply's first line in the middle, end it with
                 CRLF, then send the tagged OK
  huge_literal   (FETCH) answer with a literal of {size} (default
                 4294967295), send a few bytes of it, then "then": "close"
                 (default) or "stall"
  alert          send "* OK [ALERT] text" before the normal reply
  alert_no       answer "NO [ALERT] text", nothing done
  uidvalidity    before running the command, give mailbox (default INBOX)
                 the UIDVALIDITY value (default old+1000) and renumber its
                 messages from first_uid (default 1)
  move_noop      (MOVE/COPY) answer OK, change nothing
  move_leave     (MOVE) copy to the destination, answer OK (with COPYUID)
                 but leave the originals (and send no EXPUNGE)
  expunge        (FETCH) the message with Message-ID msgid (default: the
                 first one fetched) is expunged by "another client":
                 when "before" (default) its "* n EXPUNGE" comes instead of
                 its FETCH data, when "after" right after its FETCH data
  extra_uids     (FETCH) also send FETCH data for uids (default [4000]),
                 never asked for, with the body of file (default: the
                 fetched message's)
  idle_untagged  (IDLE) send lines (default ["* 1 EXISTS"]) before
                 "+ idling"
  idle_after     (IDLE) send lines in the same write as "+ idling", right
                 after it (they land in the client's read buffer together)
  idle_bye       (IDLE) send "+ idling", wait delay seconds (default 0.2),
                 then "* BYE text" and close
  idle_drop      (IDLE) send "+ idling", wait delay seconds (default 0.2),
                 then close the connection without a word
  idle_stall     (IDLE) "+ idling", then after the client's DONE never
                 answer (stall)
  The idle_* actions take "add": FILE.eml: the message is appended to the
  selected mailbox first (as new mail arriving just then); the default
  lines are then ["* N EXISTS"] with the new count.
"""
import argparse
import base64
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]
SYSFLAGS = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"]
LOCK = threading.RLock()
ARGS = None
STATE = None
FAULTS = []
LOGF = None
CONN_ID = [0]
CONNS = set()


def log(msg):
    if LOGF is None:
        return
    with LOCK:
        LOGF.write("%.3f %s\n" % (time.time(), msg))
        LOGF.flush()


def imap_date(t):
    tm = time.gmtime(t)
    return '"%02d-%s-%04d %02d:%02d:%02d +0000"' % (
        tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year, tm.tm_hour,
        tm.tm_min, tm.tm_sec)


def parse_date(s):
    m = re.match(r'^"?(\d{1,2})-([A-Za-z]{3})-(\d{4})"?$', s)
    if not m:
        return None
    mon = [x.lower() for x in MONTHS].index(m.group(2).lower()) + 1
    return (int(m.group(3)), mon, int(m.group(1)))


class Msg:
    def __init__(self, uid, data, flags=(), idate=None):
        self.uid = uid
        self.data = data
        self.flags = set(flags)
        self.idate = idate if idate is not None else time.time()
        m = re.search(rb'(?im)^message-id:[ \t]*(<[^>\r\n]*>)', data)
        self.msgid = m.group(1).decode("latin-1") if m else "-"

    def header(self):
        i = self.data.find(b"\r\n\r\n")
        return self.data if i < 0 else self.data[:i + 4]

    def header_fields(self, names, negate=False):
        names = [n.lower() for n in names]
        hdr = self.header()
        out = []
        cur = None
        for line in hdr.split(b"\r\n"):
            if line == b"":
                break
            if line[:1] in (b" ", b"\t") and cur is not None:
                if cur:
                    out.append(line)
                continue
            name = line.split(b":", 1)[0].strip().decode("latin-1").lower()
            cur = (name in names) != negate
            if cur:
                out.append(line)
        return b"".join(x + b"\r\n" for x in out) + b"\r\n"


class Mailbox:
    def __init__(self, name, attr=None, uidvalidity=None):
        self.name = name
        self.attr = attr
        self.uidvalidity = uidvalidity or (1000 + len(name))
        self.uidnext = 1
        self.msgs = []

    def add(self, data, flags=(), idate=None):
        m = Msg(self.uidnext, data, flags, idate)
        self.uidnext += 1
        self.msgs.append(m)
        return m

    def seq_of(self, uid):
        for i, m in enumerate(self.msgs):
            if m.uid == uid:
                return i + 1
        return None


class State:
    def __init__(self, path):
        self.path = path
        self.boxes = {}
        self.box("INBOX")

    def box(self, name, attr=None):
        key = "INBOX" if name.upper() == "INBOX" else name
        if key not in self.boxes:
            self.boxes[key] = Mailbox(key, attr)
        elif attr:
            self.boxes[key].attr = attr
        return self.boxes[key]

    def get(self, name):
        key = "INBOX" if name.upper() == "INBOX" else name
        return self.boxes.get(key)

    def dump(self):
        if not self.path:
            return
        with LOCK:
            lines = []
            for b in self.boxes.values():
                for m in b.msgs:
                    lines.append("%s\t%s\t%s" % (b.name, m.msgid,
                                                 " ".join(sorted(m.flags))))
            lines.sort()
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                f.write("".join(x + "\n" for x in lines))
            os.replace(tmp, self.path)


# ---------------------------------------------------------------- parsing

class Drop(Exception):
    pass


def tokenize(s, lits):
    """Tokens of a command line: str atoms/quoted, bytes literals (via
    \\x00N\\x00 markers), lists for parentheses.  '[...]' and '<...>' stay
    inside their atom (fetch items)."""
    pos = [0]

    def parse_list(end):
        out = []
        while pos[0] < len(s):
            c = s[pos[0]]
            if c == " ":
                pos[0] += 1
            elif c == end:
                pos[0] += 1
                return out
            elif c == "(":
                pos[0] += 1
                out.append(parse_list(")"))
            elif c == '"':
                pos[0] += 1
                v = []
                while pos[0] < len(s) and s[pos[0]] != '"':
                    if s[pos[0]] == "\\":
                        pos[0] += 1
                    v.append(s[pos[0]])
                    pos[0] += 1
                pos[0] += 1
                out.append("".join(v))
            elif c == "\x00":
                j = s.index("\x00", pos[0] + 1)
                out.append(lits[int(s[pos[0] + 1:j])])
                pos[0] = j + 1
            else:
                v = []
                depth = 0
                while pos[0] < len(s):
                    c = s[pos[0]]
                    if c in "[<":
                        depth += 1
                    elif c in "]>":
                        depth -= 1
                    elif depth == 0 and c in " ()":
                        break
                    v.append(c)
                    pos[0] += 1
                out.append("".join(v))
        return out

    return parse_list(None)


def as_str(t):
    if isinstance(t, bytes):
        return t.decode("utf-8", "replace")
    if isinstance(t, list):
        return ""
    return t


def parse_set(spec, star, seqs=None):
    """The numbers of set spec ("1:3,7,9:*"); star is the value of *."""
    out = set()
    for part in spec.split(","):
        if ":" in part:
            a, b = part.split(":", 1)
            a = star if a == "*" else int(a)
            b = star if b == "*" else int(b)
            if a > b:
                a, b = b, a
            if seqs is not None:
                out.update(x for x in seqs if a <= x <= b)
            else:
                out.update(range(a, b + 1))
        else:
            out.add(star if part == "*" else int(part))
    return out


def fmt_set(nums):
    return ",".join(str(x) for x in nums)


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------- faults

def find_fault(name, line):
    with LOCK:
        for r in FAULTS:
            c = r.get("cmd", "*").upper()
            if c != "*" and c != name:
                continue
            if "match" in r and not re.search(r["match"], line, re.I):
                continue
            r["_seen"] = r.get("_seen", 0) + 1
            if r["_seen"] < r.get("nth", 1):
                continue
            times = r.get("times", 1)
            if times and r.get("_fired", 0) >= times:
                continue
            r["_fired"] = r.get("_fired", 0) + 1
            return r
    return None


GARBAGE = ["* 1 FETCH (UID", ")))) ((( \x01\x02\x7f garbage",
           "* XYZZY [[[ {12", "not even a tag"]


# ---------------------------------------------------------------- session

class Conn:
    def __init__(self, sock, cid):
        self.sock = sock
        self.cid = cid
        self.buf = b""
        self.tls = False
        self.authed = False
        self.sel = None
        self.readonly = False
        self.wlock = threading.Lock()
        self.idling = False
        self.told = 0		# the UIDNEXT of the last EXISTS it was sent

    # -- I/O
    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        with self.wlock:
            self.sock.sendall(data)

    def recv_more(self):
        d = self.sock.recv(65536)
        if not d:
            raise Drop("eof")
        self.buf += d

    def readline(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise Drop("line too long")
            self.recv_more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self, n):
        while len(self.buf) < n:
            self.recv_more()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def read_command(self):
        """A command line with its literals: (text, [literal bytes])."""
        parts, lits = [], []
        while True:
            line = self.readline()
            m = re.search(rb"\{(\d+)(\+?)\}$", line)
            if not m:
                parts.append(line.decode("utf-8", "replace"))
                return "".join(parts), lits
            parts.append(line[:m.start()].decode("utf-8", "replace"))
            if not m.group(2):
                self.send(b"+ go ahead\r\n")
            lits.append(self.read(int(m.group(1))))
            parts.append("\x00%d\x00" % (len(lits) - 1))

    def stall(self):
        log("C%d stalling" % self.cid)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    break
        except OSError:
            pass
        raise Drop("stalled")

    def caps(self):
        c = ["IMAP4rev1", "LITERAL+", "SPECIAL-USE", "ENABLE", "UNSELECT"]
        c = [x for x in c if x not in ARGS.caps_drop] + ARGS.caps_add
        if not ARGS.no_idle:
            c.append("IDLE")
        if not ARGS.no_uidplus:
            c.append("UIDPLUS")
        if not ARGS.no_move:
            c.append("MOVE")
        if ARGS.starttls and not self.tls and not ARGS.no_starttls:
            c.append("STARTTLS")
        if not self.authed:
            c.append("AUTH=PLAIN")
        return " ".join(c)

    # -- main loop
    def run(self):
        with LOCK:
            CONNS.add(self)
        try:
            if ARGS.tls:
                self.starttls_wrap()
            r = find_fault("GREETING", "")
            if r:
                if self.pre_fault(r, None, "GREETING"):
                    return
            self.send("* OK [CAPABILITY %s] fault peer ready\r\n"
                      % self.caps())
            while True:
                text, lits = self.read_command()
                self.command(text, lits)
        except (Drop, OSError, ssl.SSLError, ValueError) as e:
            log("C%d closed: %s" % (self.cid, e))
        finally:
            self.idling = False
            with LOCK:
                CONNS.discard(self)
            try:
                self.sock.close()
            except OSError:
                pass

    def starttls_wrap(self):
        if self.buf:
            raise Drop("data after STARTTLS")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.cert, ARGS.key)
        self.sock = ctx.wrap_socket(self.sock, server_side=True)
        self.tls = True
        log("C%d tls" % self.cid)

    def pre_fault(self, r, tag, name):
        """Faults that replace the reply; True when handled."""
        a = r["action"]
        log("C%d fault %s on %s" % (self.cid, a, name))
        if a == "drop_before":
            raise Drop("fault drop_before")
        if a == "stall":
            self.stall()
        if a == "delay":
            log("C%d fault delay on %s" % (self.cid, name))
            time.sleep(float(r.get("seconds", 1)))
            return False
        if a == "bye":
            self.send("* BYE %s\r\n" % r.get("text", "fault peer going away"))
            raise Drop("fault bye")
        if a == "garbage_only":
            for l in r.get("lines", GARBAGE):
                self.send(l + "\r\n")
            self.stall()
        if tag is None:
            if a == "garbage":
                for l in r.get("lines", GARBAGE):
                    self.send(l + "\r\n")
                return False
            if a == "alert":
                self.send("* OK [ALERT] %s\r\n" % r.get("text", "alert"))
                return False
            return False
        if a in ("no", "bad"):
            self.send("%s %s %s\r\n" % (tag, a.upper(),
                                        r.get("text", "fault injected")))
            return True
        if a == "alert_no":
            self.send("%s NO [ALERT] %s\r\n" % (tag, r.get("text", "alert")))
            return True
        if a == "garbage":
            for l in r.get("lines", GARBAGE):
                self.send(l + "\r\n")
        if a == "untagged":
            data = "".join(l + "\r\n" for l in r.get("lines", []))
            if r.get("trickle"):
                self.sock.setsockopt(socket.IPPROTO_TCP,
                                     socket.TCP_NODELAY, 1)
                for ch in data:
                    self.send(ch)
                    time.sleep(0.002)
            else:
                self.send(data)
        if a == "alert":
            self.send("* OK [ALERT] %s\r\n" % r.get("text", "alert"))
        if a == "uidvalidity":
            with LOCK:
                b = STATE.get(r.get("mailbox", "INBOX"))
                b.uidvalidity = r.get("value", b.uidvalidity + 1000)
                first = r.get("first_uid", 1)
                for i, m in enumerate(b.msgs):
                    m.uid = first + i
                b.uidnext = first + len(b.msgs)
            log("C%d uidvalidity of %s now %d" % (self.cid, b.name,
                                                   b.uidvalidity))
        return False

    def post_fault(self, r, reply):
        """Sends reply (a list of byte strings), shaped by fault r."""
        data = b"".join(x if isinstance(x, bytes) else x.encode()
                        for x in reply)
        a = r["action"] if r else None
        if a == "drop_after":
            self.send(data)
            raise Drop("fault drop_after")
        if a in ("drop_mid", "stall_mid"):
            self.send(data[:r.get("at", len(data) // 2)])
            if a == "stall_mid":
                self.stall()
            raise Drop("fault drop_mid")
        if a == "drop_literal":
            m = re.search(rb"\{(\d+)\}\r\n", data)
            if m:
                cut = m.end() + int(m.group(1)) // 2
            else:
                cut = len(data) // 2
            self.send(data[:cut])
            raise Drop("fault drop_literal")
        if a == "truncate":
            first = data.split(b"\r\n", 1)[0]
            tagged = data.rstrip(b"\r\n").rsplit(b"\r\n", 1)[-1]
            self.send(first[:max(1, len(first) // 2)] + b"\r\n" + tagged
                      + b"\r\n")
            return
        self.send(data)

    def command(self, text, lits):
        shown = text
        toks = tokenize(text, lits)
        if len(toks) < 2:
            self.send("%s BAD missing command\r\n" %
                      (as_str(toks[0]) if toks else "*"))
            return
        tag, name = as_str(toks[0]), as_str(toks[1]).upper()
        args = toks[2:]
        if name == "UID" and args:
            name = "UID " + as_str(args[0]).upper()
            args = args[1:]
        if name in ("LOGIN", "AUTHENTICATE"):
            shown = "%s %s %s ***" % (tag, name, as_str(args[0])
                                       if args else "")
        log("C%d < %s" % (self.cid, shown.replace("\x00", "#")))
        line = text.split(" ", 1)[1] if " " in text else ""
        r = find_fault(name, line)
        if r and self.pre_fault(r, tag, name):
            return
        h = HANDLERS.get(name)
        if h is None or name in ARGS.unknown:
            self.send("%s %s unknown command %s\r\n" % (
                tag, ARGS.unknown_reply, name))
            return
        need = NEEDS.get(name, 0)
        if need >= 1 and not self.authed:
            self.send("%s BAD not authenticated\r\n" % tag)
            return
        if need >= 2 and self.sel is None:
            self.send("%s BAD no mailbox selected\r\n" % tag)
            return
        reply = h(self, tag, args, r)
        if reply is None:
            return
        close = reply and reply[0] == "CLOSE"
        if close:
            reply = reply[1:]
        self.post_fault(r, reply)
        if close:
            raise Drop("logout")

    # -- commands
    def c_capability(self, tag, args, r):
        return ["* CAPABILITY %s\r\n" % self.caps(),
                "%s OK CAPABILITY done\r\n" % tag]

    def c_noop(self, tag, args, r):
        return self.exists_update() + ["%s OK NOOP done\r\n" % tag]

    def exists_update(self):
        if self.sel is None:
            return []
        b = STATE.get(self.sel)
        if b is None:
            return []
        self.told = b.uidnext
        return ["* %d EXISTS\r\n" % len(b.msgs)]

    def c_logout(self, tag, args, r):
        return ["CLOSE", "* BYE fault peer logging out\r\n",
                "%s OK LOGOUT done\r\n" % tag]

    def c_starttls(self, tag, args, r):
        if not ARGS.starttls or ARGS.no_starttls or self.tls:
            return ["%s BAD STARTTLS not available\r\n" % tag]
        self.send("%s OK begin TLS now\r\n" % tag)
        self.starttls_wrap()
        return None

    def login_ok(self, tag):
        self.authed = True
        return ["%s OK [CAPABILITY %s] logged in\r\n" % (tag, self.caps())]

    def c_login(self, tag, args, r):
        if self.authed:
            return ["%s BAD already logged in\r\n" % tag]
        u = as_str(args[0]) if len(args) > 0 else ""
        p = as_str(args[1]) if len(args) > 1 else ""
        log("C%d LOGIN arrived (tls=%d)" % (self.cid, self.tls))
        if u == ARGS.user and p == ARGS.password:
            return self.login_ok(tag)
        return ["%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
                % tag]

    def c_authenticate(self, tag, args, r):
        if self.authed or not args or as_str(args[0]).upper() != "PLAIN":
            return ["%s NO unsupported mechanism\r\n" % tag]
        if len(args) > 1:
            resp = as_str(args[1])
        else:
            self.send(b"+ \r\n")
            resp = self.readline().decode("ascii", "replace")
        if resp == "*":
            return ["%s BAD authentication cancelled\r\n" % tag]
        log("C%d AUTHENTICATE arrived (tls=%d)" % (self.cid, self.tls))
        try:
            parts = base64.b64decode(resp).split(b"\x00")
            u, p = parts[1].decode(), parts[2].decode()
        except (ValueError, IndexError, UnicodeDecodeError):
            return ["%s BAD bad PLAIN response\r\n" % tag]
        if u == ARGS.user and p == ARGS.password:
            return self.login_ok(tag)
        return ["%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
                % tag]

    def c_enable(self, tag, args, r):
        return ["* ENABLED\r\n", "%s OK ENABLE done\r\n" % tag]

    def c_id(self, tag, args, r):
        return ['* ID ("name" "fault-peer")\r\n', "%s OK ID done\r\n" % tag]

    def c_list(self, tag, args, r):
        pat = as_str(args[1]) if len(args) > 1 else "*"
        out = []
        if pat == "":
            out.append('* LIST (\\Noselect) "/" ""\r\n')
        else:
            with LOCK:
                for b in STATE.boxes.values():
                    at = ["\\HasNoChildren"] + ([b.attr] if b.attr else [])
                    out.append('* LIST (%s) "/" %s\r\n' % (" ".join(at),
                                                           quote(b.name)))
        return out + ["%s OK LIST done\r\n" % tag]

    c_lsub = c_list

    def c_create(self, tag, args, r):
        name = as_str(args[0]) if args else ""
        with LOCK:
            if STATE.get(name) is not None:
                return ["%s NO [ALREADYEXISTS] Mailbox already exists\r\n"
                        % tag]
            STATE.box(name)
            STATE.dump()
        return ["%s OK CREATE done\r\n" % tag]

    def c_status(self, tag, args, r):
        name = as_str(args[0]) if args else ""
        b = STATE.get(name)
        if b is None:
            return ["%s NO [NONEXISTENT] no such mailbox\r\n" % tag]
        nx = "" if ARGS.no_uidnext else "UIDNEXT %d " % b.uidnext
        return ["* STATUS %s (MESSAGES %d %sUIDVALIDITY %d "
                "UNSEEN 0)\r\n" % (quote(b.name), len(b.msgs), nx,
                                   b.uidvalidity),
                "%s OK STATUS done\r\n" % tag]

    def c_select(self, tag, args, r, readonly=False):
        name = as_str(args[0]) if args else ""
        self.sel = None
        with LOCK:
            b = STATE.get(name)
            if b is None:
                return ["%s NO [NONEXISTENT] Mailbox doesn't exist\r\n"
                        % tag]
            self.sel = b.name
            self.readonly = readonly
            self.told = b.uidnext
            return [
                "* FLAGS (%s $Junk $NotJunk)\r\n" % " ".join(SYSFLAGS),
                "* OK [PERMANENTFLAGS (%s $Junk $NotJunk \\*)] ok\r\n"
                % " ".join(SYSFLAGS),
                "* %d EXISTS\r\n" % len(b.msgs),
                "* 0 RECENT\r\n",
                "* OK [UIDVALIDITY %d] UIDs valid\r\n" % b.uidvalidity,
            ] + ([] if ARGS.no_uidnext else [
                "* OK [UIDNEXT %d] Predicted next UID\r\n" % b.uidnext,
            ]) + [
                "%s OK [%s] %s done\r\n" % (
                    tag, "READ-ONLY" if readonly else "READ-WRITE",
                    "EXAMINE" if readonly else "SELECT")]

    def c_examine(self, tag, args, r):
        return self.c_select(tag, args, r, True)

    def c_unselect(self, tag, args, r):
        self.sel = None
        return ["%s OK done\r\n" % tag]

    c_close = c_unselect

    def box(self):
        b = STATE.get(self.sel)
        if b is None:
            raise Drop("selected mailbox vanished")
        return b

    def msgs_in(self, b, spec, uid):
        if uid:
            star = max((m.uid for m in b.msgs), default=0)
            want = parse_set(spec, star, [m.uid for m in b.msgs])
            return [m for m in b.msgs if m.uid in want]
        want = parse_set(spec, len(b.msgs), range(1, len(b.msgs) + 1))
        return [m for i, m in enumerate(b.msgs) if i + 1 in want]

    def search(self, tag, args, r, uid):
        b = self.box()
        res = list(b.msgs)
        i = 0
        while i < len(args):
            k = as_str(args[i]).upper()
            if k == "SINCE" and i + 1 < len(args):
                d = parse_date(as_str(args[i + 1]))
                res = [m for m in res
                       if time.gmtime(m.idate)[:3] >= d] if d else res
                i += 2
            elif k == "BEFORE" and i + 1 < len(args):
                d = parse_date(as_str(args[i + 1]))
                res = [m for m in res
                       if time.gmtime(m.idate)[:3] < d] if d else res
                i += 2
            elif k == "UID" and i + 1 < len(args):
                sel = self.msgs_in(b, as_str(args[i + 1]), True)
                res = [m for m in res if m in sel]
                i += 2
            elif k == "CHARSET":
                i += 2
            else:
                i += 1
        nums = [m.uid if uid else b.msgs.index(m) + 1 for m in res]
        return ["* SEARCH%s\r\n" % "".join(" %d" % n for n in nums),
                "%s OK SEARCH done\r\n" % tag]

    def c_uid_search(self, tag, args, r):
        return self.search(tag, args, r, True)

    def c_search(self, tag, args, r):
        return self.search(tag, args, r, False)

    def fetch_items(self, spec):
        if isinstance(spec, list):
            return [as_str(x) if not isinstance(x, list) else x
                    for x in spec]
        s = as_str(spec).upper()
        return {"ALL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
                "FAST": ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
                "FULL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE"]}.get(
                    s, [as_str(spec)])

    def fetch_one(self, b, m, items, uid):
        out = [b"* %d FETCH (" % (b.msgs.index(m) + 1)]
        parts = []
        seen = False
        names = [it.upper() if isinstance(it, str) else "" for it in items]
        if uid and "UID" not in names:
            names.insert(0, "UID")
            items = ["UID"] + list(items)
        for it, up in zip(items, names):
            if up == "UID":
                parts.append(b"UID %d" % m.uid)
            elif up == "FLAGS":
                parts.append(("FLAGS (%s)" % " ".join(sorted(m.flags)))
                             .encode())
            elif up == "INTERNALDATE":
                parts.append(("INTERNALDATE %s" % imap_date(m.idate))
                             .encode())
            elif up == "RFC822.SIZE":
                parts.append(b"RFC822.SIZE %d" % len(m.data))
            elif up in ("RFC822", "RFC822.HEADER", "RFC822.TEXT"):
                d = m.data if up == "RFC822" else m.header() \
                    if up == "RFC822.HEADER" else m.data[len(m.header()):]
                parts.append(b"%s {%d}\r\n%s" % (up.encode(), len(d), d))
                seen = seen or up != "RFC822.HEADER"
            elif up.startswith("BODY"):
                mm = re.match(r"^BODY(\.PEEK)?\[([^\]]*)\](?:<(\d+)\.(\d+)>)?$",
                              it, re.I)
                if not mm:
                    raise ValueError("bad fetch item " + it)
                sec = mm.group(2)
                su = sec.upper()
                if su == "":
                    d = m.data
                elif su == "HEADER":
                    d = m.header()
                elif su == "TEXT":
                    d = m.data[len(m.header()):]
                elif su.startswith("HEADER.FIELDS"):
                    fl = re.search(r"\(([^)]*)\)", sec).group(1).split()
                    d = m.header_fields(fl, ".NOT" in su)
                else:
                    d = m.data
                name = "BODY[%s]" % sec
                if mm.group(3) is not None:
                    o, n = int(mm.group(3)), int(mm.group(4))
                    d = d[o:o + n]
                    name += "<%d>" % o
                parts.append(b"%s {%d}\r\n%s" % (name.encode(), len(d), d))
                if not mm.group(1):
                    seen = True
        if seen and not self.readonly and "\\Seen" not in m.flags:
            m.flags.add("\\Seen")
            parts.append(("FLAGS (%s)" % " ".join(sorted(m.flags)))
                         .encode())
        out.append(b" ".join(parts))
        out.append(b")\r\n")
        return b"".join(out)

    def fetch(self, tag, args, r, uid):
        b = self.box()
        if len(args) < 2:
            return ["%s BAD FETCH needs a set and items\r\n" % tag]
        items = self.fetch_items(args[1])
        a = r["action"] if r else None
        out = []
        with LOCK:
            sel = self.msgs_in(b, as_str(args[0]), uid)
            if a == "huge_literal":
                m = sel[0] if sel else None
                size = r.get("size", 4294967295)
                self.send(b"* %d FETCH (UID %d BODY[]<0> {%d}\r\n" % (
                    (b.msgs.index(m) + 1) if m else 1,
                    m.uid if m else 1, size))
                self.send(b"From: x\r\nSubject: y\r\n")
                log("C%d huge literal sent" % self.cid)
                if r.get("then", "close") == "stall":
                    self.stall()
                raise Drop("fault huge_literal")
            victim = None
            if a == "expunge" and sel:
                victim = sel[0]
                if "msgid" in r:
                    victim = next((m for m in sel
                                   if m.msgid == "<%s>" % r["msgid"]
                                   or m.msgid == r["msgid"]), sel[0])
            for m in sel:
                if m is victim and r.get("when", "before") == "before":
                    seq = b.msgs.index(m) + 1
                    b.msgs.remove(m)
                    out.append("* %d EXPUNGE\r\n" % seq)
                    log("C%d expunged %s before its FETCH" % (self.cid,
                                                              m.msgid))
                    continue
                out.append(self.fetch_one(b, m, items, uid))
                if m is victim:
                    seq = b.msgs.index(m) + 1
                    b.msgs.remove(m)
                    out.append("* %d EXPUNGE\r\n" % seq)
                    log("C%d expunged %s after its FETCH" % (self.cid,
                                                             m.msgid))
            if a == "extra_uids":
                tmpl = sel[0] if sel else (b.msgs[0] if b.msgs else None)
                data = tmpl.data if tmpl else b"Subject: x\r\n\r\nx\r\n"
                if r.get("file"):
                    with open(r["file"], "rb") as f:
                        data = crlf(f.read())
                for u in r.get("uids", [4000]):
                    fake = Msg(u, data)
                    out.append(
                        b"* %d FETCH (UID %d FLAGS () INTERNALDATE %s "
                        b"BODY[]<0> {%d}\r\n%s)\r\n" % (
                            len(b.msgs) + 50, u, imap_date(fake.idate)
                            .encode(), len(data), data))
            STATE.dump()
        return out + ["%s OK FETCH done\r\n" % tag]

    def c_uid_fetch(self, tag, args, r):
        return self.fetch(tag, args, r, True)

    def c_fetch(self, tag, args, r):
        return self.fetch(tag, args, r, False)

    def store(self, tag, args, r, uid):
        b = self.box()
        if len(args) < 3:
            return ["%s BAD STORE needs set op flags\r\n" % tag]
        if self.readonly:
            return ["%s NO mailbox is read-only\r\n" % tag]
        op = as_str(args[1]).upper()
        fl = args[2] if isinstance(args[2], list) else [args[2]]
        fl = [as_str(x) for x in fl]
        out = []
        with LOCK:
            for m in self.msgs_in(b, as_str(args[0]), uid):
                if op.startswith("+"):
                    m.flags.update(fl)
                elif op.startswith("-"):
                    m.flags.difference_update(fl)
                else:
                    m.flags = set(fl)
                if ".SILENT" not in op:
                    out.append("* %d FETCH (%sFLAGS (%s))\r\n" % (
                        b.msgs.index(m) + 1,
                        "UID %d " % m.uid if uid else "",
                        " ".join(sorted(m.flags))))
            STATE.dump()
        return out + ["%s OK STORE done\r\n" % tag]

    def c_uid_store(self, tag, args, r):
        return self.store(tag, args, r, True)

    def c_store(self, tag, args, r):
        return self.store(tag, args, r, False)

    def copy(self, tag, args, r, uid, move):
        b = self.box()
        if len(args) < 2:
            return ["%s BAD needs set and mailbox\r\n" % tag]
        a = r["action"] if r else None
        out = []
        with LOCK:
            dest = STATE.get(as_str(args[1]))
            if dest is None:
                return ["%s NO [TRYCREATE] Mailbox doesn't exist\r\n" % tag]
            sel = self.msgs_in(b, as_str(args[0]), uid)
            if a == "move_noop":
                return ["%s OK %s done\r\n" % (tag,
                                               "MOVE" if move else "COPY")]
            src, dst = [], []
            for m in sel:
                n = dest.add(m.data, m.flags - {"\\Deleted"}, m.idate)
                src.append(m.uid)
                dst.append(n.uid)
            code = ""
            if src and not ARGS.no_uidplus:
                code = "[COPYUID %d %s %s] " % (dest.uidvalidity,
                                               fmt_set(src), fmt_set(dst))
            if move and a != "move_leave":
                if code:
                    out.append("* OK %sMoved\r\n" % code)
                    code = ""
                for m in sorted(sel, key=lambda m: -b.msgs.index(m)):
                    seq = b.msgs.index(m) + 1
                    b.msgs.remove(m)
                    out.append("* %d EXPUNGE\r\n" % seq)
            elif move and code:
                out.append("* OK %sMoved\r\n" % code)
                code = ""
            STATE.dump()
        return out + ["%s OK %s%s done\r\n" % (tag, code,
                                               "MOVE" if move else "COPY")]

    def c_uid_copy(self, tag, args, r):
        return self.copy(tag, args, r, True, False)

    def c_copy(self, tag, args, r):
        return self.copy(tag, args, r, False, False)

    def c_uid_move(self, tag, args, r):
        if ARGS.no_move:
            return ["%s BAD MOVE not supported\r\n" % tag]
        return self.copy(tag, args, r, True, True)

    def c_move(self, tag, args, r):
        if ARGS.no_move:
            return ["%s BAD MOVE not supported\r\n" % tag]
        return self.copy(tag, args, r, False, True)

    def expunge(self, tag, args, r, uid):
        b = self.box()
        if self.readonly:
            return ["%s NO mailbox is read-only\r\n" % tag]
        out = []
        with LOCK:
            sel = self.msgs_in(b, as_str(args[0]), True) if uid else b.msgs
            for m in sorted([m for m in sel if "\\Deleted" in m.flags],
                            key=lambda m: -b.msgs.index(m)):
                seq = b.msgs.index(m) + 1
                b.msgs.remove(m)
                out.append("* %d EXPUNGE\r\n" % seq)
            STATE.dump()
        return out + ["%s OK EXPUNGE done\r\n" % tag]

    def c_uid_expunge(self, tag, args, r):
        if ARGS.no_uidplus or not args:
            return ["%s BAD UID EXPUNGE not supported\r\n" % tag]
        return self.expunge(tag, args, r, True)

    def c_expunge(self, tag, args, r):
        return self.expunge(tag, args, r, False)

    def c_check(self, tag, args, r):
        return ["%s OK CHECK done\r\n" % tag]

    def c_idle(self, tag, args, r):
        if ARGS.no_idle:
            return ["%s BAD IDLE not supported\r\n" % tag]
        a = r["action"] if r else None
        lines = r.get("lines", ["* 1 EXISTS"]) if r else []
        if r and r.get("add"):
            with open(r["add"], "rb") as f:
                data = crlf(f.read())
            with LOCK:
                b = self.box()
                m = b.add(data)
                STATE.dump()
            log("C%d added %s uid %d to %s" % (self.cid, m.msgid, m.uid,
                                               b.name))
            lines = r.get("lines", ["* %d EXISTS" % len(b.msgs)])
            self.told = b.uidnext
        if a == "idle_untagged":
            for l in lines:
                self.send(l + "\r\n")
        after = "".join(l + "\r\n" for l in lines) \
            if a == "idle_after" else ""
        b = self.box()
        with self.wlock:	# new mail from now on: "* N EXISTS" at once
            if not after and b.uidnext > self.told:	# news not yet told
                after = "* %d EXISTS\r\n" % len(b.msgs)
                self.told = b.uidnext
            self.sock.sendall(("+ idling\r\n" + after).encode())
            self.idling = True
        log("C%d idling" % self.cid)
        if a == "idle_bye":
            time.sleep(r.get("delay", 0.2))
            self.send("* BYE %s\r\n" % r.get("text", "server shutting down"))
            raise Drop("fault idle_bye")
        if a == "idle_drop":
            time.sleep(r.get("delay", 0.2))
            raise Drop("fault idle_drop")
        while True:
            line = self.readline()
            log("C%d < %s" % (self.cid, line.decode("utf-8", "replace")))
            if line.upper() == b"DONE":
                break
        self.idling = False
        if a == "idle_stall":
            self.stall()
        return ["%s OK IDLE done\r\n" % tag]

    def c_append(self, tag, args, r):
        if len(args) < 2 or not isinstance(args[-1], bytes):
            return ["%s BAD APPEND needs a mailbox and a literal\r\n" % tag]
        flags = []
        idate = None
        for a in args[1:-1]:
            if isinstance(a, list):
                flags = [as_str(x) for x in a]
            else:
                idate = time.time()	# the date is accepted, not parsed
        with LOCK:
            b = STATE.get(as_str(args[0]))
            if b is None:
                return ["%s NO [TRYCREATE] Mailbox doesn't exist\r\n" % tag]
            m = b.add(args[-1], flags, idate)
            STATE.dump()
        log("C%d appended %s uid %d to %s" % (self.cid, m.msgid, m.uid,
                                              b.name))
        wake(b, self)
        code = "" if ARGS.no_uidplus else "[APPENDUID %d %d] " % (
            b.uidvalidity, m.uid)
        return ["%s OK %sAPPEND done\r\n" % (tag, code)]


def wake(b, but=None):
    """'* N EXISTS' to every session idling on mailbox b."""
    with LOCK:
        conns = [c for c in CONNS if c is not but and c.sel == b.name]
    for c in conns:
        try:
            with c.wlock:
                if c.idling:
                    c.sock.sendall(b"* %d EXISTS\r\n" % len(b.msgs))
                    c.told = b.uidnext
                    log("C%d told %d EXISTS" % (c.cid, len(b.msgs)))
        except OSError:
            pass


def injector(d):
    """Appends the FILE.eml files that appear in d to INBOX."""
    while True:
        try:
            names = sorted(n for n in os.listdir(d) if n.endswith(".eml"))
        except OSError:
            names = []
        for n in names:
            path = os.path.join(d, n)
            try:
                with open(path, "rb") as f:
                    data = crlf(f.read())
                os.unlink(path)
            except OSError:
                continue
            with LOCK:
                b = STATE.box("INBOX")
                m = b.add(data)
                STATE.dump()
            log("injected %s uid %d" % (m.msgid, m.uid))
            wake(b)
        time.sleep(0.05)


def _handlers():
    h = {}
    for k in dir(Conn):
        if k.startswith("c_"):
            h[k[2:].upper().replace("_", " ")] = getattr(Conn, k)
    return h


HANDLERS = _handlers()
NEEDS = {n: 1 for n in ("LIST", "LSUB", "CREATE", "STATUS", "SELECT",
                        "EXAMINE", "ENABLE", "APPEND")}
NEEDS.update({n: 2 for n in ("UID SEARCH", "SEARCH", "UID FETCH", "FETCH",
                             "UID STORE", "STORE", "UID COPY", "COPY",
                             "UID MOVE", "MOVE", "UID EXPUNGE", "EXPUNGE",
                             "IDLE", "CLOSE", "UNSELECT", "CHECK")})


def crlf(data):
    return re.sub(rb"\r?\n", b"\r\n", data)


def finish(*_):
    try:
        STATE.dump()
    finally:
        log("peer exiting")
        os._exit(0)


def main():
    global ARGS, STATE, FAULTS, LOGF
    p = argparse.ArgumentParser(description="scripted IMAP fault peer")
    p.add_argument("--port-file")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--no-starttls", action="store_true")
    p.add_argument("--no-move", action="store_true")
    p.add_argument("--no-uidplus", action="store_true")
    p.add_argument("--no-idle", action="store_true")
    p.add_argument("--caps-add", action="append", default=[])
    p.add_argument("--caps-drop", action="append", default=[])
    p.add_argument("--unknown", action="append", default=[],
                   type=str.upper)
    p.add_argument("--unknown-reply", default="BAD",
                   choices=["BAD", "NO"])
    p.add_argument("--no-uidnext", action="store_true")
    p.add_argument("--user", default="alice")
    p.add_argument("--password", default="secret")
    p.add_argument("--mailbox", action="append", default=[])
    p.add_argument("--load", action="append", default=[])
    p.add_argument("--faults")
    p.add_argument("--state")
    p.add_argument("--log")
    p.add_argument("--lifetime", type=float, default=60)
    p.add_argument("--inject-dir")
    ARGS = p.parse_args()
    ARGS.cert = ARGS.key = None
    if ARGS.tls:
        ARGS.cert, ARGS.key = ARGS.tls
    elif ARGS.starttls:
        ARGS.cert, ARGS.key = ARGS.starttls
    if ARGS.log:
        LOGF = open(ARGS.log, "a")
    STATE = State(ARGS.state)
    for spec in ARGS.mailbox:
        name, _, attr = spec.partition(":")
        STATE.box(name, attr or None)
    for spec in ARGS.load:
        name, _, path = spec.partition(":")
        with open(path, "rb") as f:
            STATE.box(name).add(crlf(f.read()))
    if ARGS.faults:
        with open(ARGS.faults) as f:
            FAULTS = json.load(f)
    STATE.dump()
    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    if ARGS.inject_dir:
        threading.Thread(target=injector, args=(ARGS.inject_dir,),
                         daemon=True).start()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    port = ls.getsockname()[1]
    if ARGS.port_file:
        tmp = ARGS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, ARGS.port_file)
    else:
        print(port, flush=True)
    log("listening on %d" % port)
    deadline = time.time() + ARGS.lifetime
    while True:
        left = deadline - time.time()
        if left <= 0:
            break
        ls.settimeout(min(left, 0.5))
        try:
            s, _ = ls.accept()
        except socket.timeout:
            continue
        s.settimeout(None)
        CONN_ID[0] += 1
        log("C%d connected" % CONN_ID[0])
        threading.Thread(target=Conn(s, CONN_ID[0]).run, daemon=True).start()
    finish()


if __name__ == "__main__":
    main()
