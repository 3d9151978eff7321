#!/usr/bin/env python3
"""reader.py: which original Message-ID would a person pick from a bounce?

An independent, deliberately simple reader for the backscatter evaluation
(tests/eval/backscatter.sh).  It does what someone does when they open a
bounce, a complaint or a receipt and ask "which of my messages is this
about?", in this order of trust:

 1. an attached copy of the message: the first message/rfc822 or
    message/global part (its transfer encoding undone), or a
    text/rfc822-headers part: its own Message-ID header.  If the attached
    message is itself a report (a bounce forwarded by a gateway), that
    bounce is read instead.  A copy whose header folding was damaged
    upstream is read leniently up to its first blank line; a part with no
    MIME header whose first lines are the copy's header counts too;
 2. a copy pasted into the text: after a line that announces it ("Below
    this line is a copy of the message", "This is a copy of the message",
    "----- Original message -----", "Original message headers:",
    "------- Returned Message --------", "Content-Description:
    Undelivered Message" left in the text by a broken MIME boundary,
    ...), the first block of header lines within a few lines; its
    Message-ID line (folded lines joined, '>' quoting removed);
 3. failing that, a pasted header block that is plainly a message's
    header (three or more fields, among them Received or two of From/To/
    Subject/Date) holding a Message-ID line, unless it is From a mailer
    daemon (the header of a forwarded bounce) or its ID is the bounce's
    own;
 4. an Original-Message-ID or X-Original-Message-ID field (in the report
    parts, the text, or the top header);
 5. prose such as "an email message with the message-id of X@Y" (ARF).

It never reads References or In-Reply-To: a person does not see them.
The bounce's own header is never a candidate.  An ID found by 1, 2 or 4
is taken even when it equals the bounce's own Message-ID: the corpora
reuse IDs (anonymisation, Domino), and the copy is the copy.  When none
of these gives an ID the message "quotes no ID".

Usage: reader.py [-v] [--base DIR] (FILE... | --from LIST)
Prints one line per file: FILE TAB ID TAB SOURCE (ID and SOURCE empty when
none; SOURCE is attached, pasted, header-block, original-field or mention,
followed by " own" when the ID equals the bounce's own Message-ID, which
happens in the corpora where upstream anonymised IDs or Domino reused
them).  With -v, every candidate is printed on further lines beginning
with "  ".  Standard library only.
"""

import base64
import binascii
import email
import email.parser
import html
import os
import quopri
import re
import sys
from email import policy as _policy

# Lines announcing that a copy of the sent message follows.  Matched
# case-insensitively anywhere in the line (after '>' quoting is removed).
MARKERS = [
    r"below (this|the next) line is a copy of the message",
    r"\bcopy of the (original |returned |undelivered )?message",
    r"original message (follows|below|header)",
    r"^\W*original message( headers?)?\W*$",
    r"-{2,}\s*original (message|mail)",
    r"-{2,}\s*returned (message|mail)\s*-{2,}",
    r"returned (message|mail) follows",
    r"start of returned (message|mail)",
    r"unsent message (follows|below)",
    r"message headers follow",
    r"the header of the original message",
    r"header and top .*lines of the message",
    r"lines of your (original )?message follow",
    r"your message reads",
    r"summary of the undelivered message",
    r"^content-description:\s*undelivered message",
]
MARKER_RE = re.compile("|".join("(?:%s)" % m for m in MARKERS), re.I)

FIELD_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]{0,75}):(.*)$")
MSGID_FIELD_RE = re.compile(r"^message-id$", re.I)
ORIG_FIELD_RE = re.compile(r"^(x-)?original-message-id$", re.I)
ID_RE = re.compile(r"<([^<>\s]+)>")
BARE_ID_RE = re.compile(r"^\s*([^<>\s]+@[^<>\s]+)\s*$")


def normalise(mid):
    """Comparison form: no <>, no white space, domain part lower-cased."""
    if mid is None:
        return ""
    mid = re.sub(r"\s+", "", mid).strip("<>")
    if "@" in mid:
        local, _, dom = mid.rpartition("@")
        mid = local + "@" + dom.lower()
    return mid


def id_from_value(value):
    """The Message-ID in a header value: the first <x@y>, or a bare x@y."""
    if value is None:
        return None
    value = re.sub(r"\s+", " ", str(value))
    m = ID_RE.search(value)
    if m:
        return m.group(1)
    m = BARE_ID_RE.match(value)
    if m:
        return m.group(1)
    return None


def unquote_line(line):
    """Drop reply quoting ('> ', '>>') and leading indentation."""
    return re.sub(r"^(\s*>)+ ?", "", line)


def decode_bytes(data, charset=None):
    for cs in (charset, "utf-8", "latin-1"):
        if not cs:
            continue
        try:
            return data.decode(cs)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1", "replace")


def part_text(part):
    """A leaf part's content as text, transfer encoding undone."""
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = part.get_payload()
        if isinstance(payload, list):
            return ""
        return payload or ""
    return decode_bytes(payload, part.get_content_charset())


def html_to_text(s):
    s = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", s)
    s = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>|</tr\s*>|<p\b[^>]*>", "\n", s)
    s = re.sub(r"<[^>]*>", "", s)
    return html.unescape(s)


def raw_of_message_part(part):
    """Bytes of a message/* part's content as it was in the file, for
    parts whose content Python parsed as a message although a transfer
    encoding was applied (not allowed for message/rfc822, but seen)."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        inner = payload[0]
        try:
            return inner.as_bytes(policy=_policy.compat32)
        except Exception:  # noqa: BLE001 - damaged input, keep reading
            return inner.as_string().encode("latin-1", "replace")
    if isinstance(payload, str):
        return payload.encode("latin-1", "replace")
    return b""


def attached_message(part):
    """The Message attached in a message/rfc822 or message/global part,
    with a base64 or quoted-printable encoding undone."""
    cte = (part.get("content-transfer-encoding") or "").strip().lower()
    payload = part.get_payload()
    if cte in ("base64", "quoted-printable"):
        raw = raw_of_message_part(part)
        # as_bytes() of a headerless parse starts with a blank line.
        raw = raw.lstrip(b"\r\n")
        try:
            if cte == "base64":
                data = base64.b64decode(re.sub(rb"\s+", b"", raw) + b"===",
                                        validate=False)
            else:
                data = quopri.decodestring(raw)
        except (binascii.Error, ValueError):
            return None
        return email.message_from_bytes(data)
    if isinstance(payload, list) and payload:
        return payload[0]
    if isinstance(payload, str):
        return email.message_from_string(payload)
    return None


def attached_id(inner):
    """Message-ID of an attached message.  When the copy's header folding
    was damaged (continuation lines without leading white space, which
    ends Python's header parse early), the rest of the header section is
    in the start of the body: read it leniently up to the first blank
    line, taking any line that is not "Name: value" as a continuation."""
    mid = id_from_value(inner.get("message-id"))
    if mid:
        return mid
    if inner.keys() and not any(
            type(d).__name__ == "MissingHeaderBodySeparatorDefect"
            for d in getattr(inner, "defects", [])):
        return None
    body = inner.get_payload()
    if not isinstance(body, str):
        return None
    fields = []
    for line in body.replace("\r\n", "\n").lstrip("\n").split("\n"):
        if not line.strip():
            break
        m = FIELD_RE.match(line)
        if m and line[0] not in " \t":
            fields.append((m.group(1), m.group(2).strip()))
        elif fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + " " + line.strip())
    return block_field(fields, MSGID_FIELD_RE)


def header_block_ids(text):
    """Message-ID of a text made of header lines (text/rfc822-headers)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    block = read_block(lines, 0)
    return block_field(block, MSGID_FIELD_RE)


def read_block(lines, i):
    """Header fields (name, unfolded value) of the block starting at line
    i, up to the first blank or non-header line."""
    fields = []
    while i < len(lines):
        line = unquote_line(lines[i]).rstrip()
        if not line.strip():
            break
        if line[0] in " \t" and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + " " + line.strip())
        else:
            m = FIELD_RE.match(line.strip() if fields else line.lstrip())
            if not m:
                break
            fields.append((m.group(1), m.group(2).strip()))
        i += 1
    return fields


def block_field(fields, name_re):
    for name, value in fields:
        if name_re.match(name):
            mid = id_from_value(value)
            if mid:
                return mid
    return None


def is_header_line(line):
    line = unquote_line(line).strip()
    return bool(FIELD_RE.match(line))


def pasted_after_markers(text, own):
    """Message-ID of the first header block after a copy marker."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found = []
    for i, line in enumerate(lines):
        line = unquote_line(line)
        if not MARKER_RE.search(line):
            continue
        m = FIELD_RE.match(line)
        if m and m.group(1).lower() != "content-description":
            # "Subject: Returned mail: ..." of a quoted bounce announces
            # nothing.
            continue
        if os.environ.get("READER_MARKERS"):
            sys.stderr.write("marker: %s\n" % line.strip())
        # The header block starts within a few lines of the marker (blank
        # lines or a short remark may come between).
        j = i + 1
        limit = i + 8
        while j < len(lines) and j <= limit and not is_header_line(lines[j]):
            j += 1
        if j >= len(lines) or j > limit:
            continue
        fields = read_block(lines, j)
        if fields and all(f.lower().startswith("content-") for f, _ in fields):
            # The MIME header of an attachment (the copy's structure was
            # lost): the copy's own header follows it.
            j += len(fields)
            while j < len(lines) and j <= limit + 8 and not is_header_line(lines[j]):
                j += 1
            fields = read_block(lines, j) if j < len(lines) else []
        mid = block_field(fields, MSGID_FIELD_RE)
        if mid:
            # Even when it equals the bounce's own ID: what follows the
            # announcement is the copy (upstream reused IDs when
            # anonymising).
            found.append(mid)
    return found


MENTION_RE = re.compile(r"message-id (?:of|is|was)\s*:?\s*<?([^<>\s]+@[^<>\s]*[^<>\s.,;])>?",
                        re.I)
DAEMON_RE = re.compile(r"mailer-daemon|postmaster|mail delivery", re.I)


def pasted_blocks(text, own):
    """Message-IDs of header blocks that plainly are a message's header:
    three or more fields, among them Received or two of From/To/Subject/
    Date, and a Message-ID.  A block From a mailer daemon is the header of
    a (forwarded) bounce, not of the user's message: skipped."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found = []
    i = 0
    while i < len(lines):
        if is_header_line(lines[i]) and (i == 0 or not unquote_line(lines[i - 1]).strip()
                                         or not is_header_line(lines[i - 1])):
            fields = read_block(lines, i)
            n = max(1, len(fields))
            names = [f.lower() for f, _ in fields]
            basic = sum(1 for f in ("from", "to", "subject", "date") if f in names)
            daemon = any(f.lower() == "from" and DAEMON_RE.search(v)
                         for f, v in fields)
            if len(fields) >= 3 and ("received" in names or basic >= 2) \
                    and not daemon:
                mid = block_field(fields, MSGID_FIELD_RE)
                if mid and normalise(mid) != own:
                    found.append(mid)
            i += n
        else:
            i += 1
    return found


def original_fields_in_text(text):
    found = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for i, line in enumerate(lines):
        line = unquote_line(line).strip()
        m = FIELD_RE.match(line)
        if m and ORIG_FIELD_RE.match(m.group(1)):
            value = m.group(2)
            if not ID_RE.search(value) and i + 1 < len(lines):
                value += " " + lines[i + 1].strip()
            mid = id_from_value(value)
            if mid:
                found.append(mid)
    return found


def walk(msg, own, cand):
    """Collect candidates of the message (not descending into attached
    messages: those are the copy, not the bounce).  cand: dict source ->
    list of IDs, in document order."""
    texts = []

    def visit(part):
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            inner = attached_message(part)
            if inner is None:
                return
            if inner.get_content_type() == "multipart/report":
                # A bounce forwarded as an attachment: read the bounce.
                visit(inner)
                return
            mid = attached_id(inner)
            if mid:
                # Taken even when it equals the bounce's own ID (Domino
                # reuses the original's ID for its bounce): the attached
                # copy is the original whatever the bounce calls itself.
                cand.setdefault("attached", []).append(mid)
            return
        if ctype in ("text/rfc822-headers", "message/rfc822-headers",
                     "text/rfc822-header", "message/global-headers"):
            text = part_text(part)
            if not text and isinstance(part.get_payload(), list):
                text = raw_of_message_part(part).decode("latin-1", "replace")
            mid = header_block_ids(text)
            if mid and normalise(mid) != own:
                cand.setdefault("attached", []).append(mid)
            return
        if part.get_content_maintype() == "message":
            # delivery-status, disposition-notification, feedback-report:
            # look for Original-Message-ID fields only.
            payload = part.get_payload()
            blocks = payload if isinstance(payload, list) else [payload]
            # Its text is read too: a broken boundary can leave the copy
            # of the message inside it.
            texts.append("\n".join(
                b.as_string() if isinstance(b, email.message.Message) else str(b)
                for b in blocks))
            for b in blocks:
                if isinstance(b, email.message.Message):
                    for name, value in b.items():
                        if ORIG_FIELD_RE.match(name):
                            mid = id_from_value(value)
                            if mid:
                                cand.setdefault("original-field", []).append(mid)
                elif isinstance(b, str):
                    cand.setdefault("original-field", []).extend(
                        original_fields_in_text(b))
            return
        if part.is_multipart():
            for sub in part.get_payload():
                visit(sub)
            return
        if part is not msg and part.get("message-id") and (
                part.get("received") or part.get("from")):
            # A part with no MIME header of its own whose first lines are
            # the copy's header (so they parse as the part's header).
            mid = id_from_value(part.get("message-id"))
            if mid:
                cand.setdefault("attached", []).append(mid)
            return
        if part.get_content_maintype() == "text" or part is msg:
            text = part_text(part)
            if part.get_content_subtype() == "html":
                text = html_to_text(text)
            texts.append(text)

    visit(msg)
    body = "\n\n".join(texts)
    cand.setdefault("pasted", []).extend(pasted_after_markers(body, own))
    cand.setdefault("header-block", []).extend(pasted_blocks(body, own))
    cand.setdefault("original-field", []).extend(original_fields_in_text(body))
    # "... an email message with the message-id of X@Y ..." (ARF text).
    for m in MENTION_RE.finditer(body):
        cand.setdefault("mention", []).append(m.group(1))
    for name, value in msg.items():
        if ORIG_FIELD_RE.match(name):
            mid = id_from_value(value)
            if mid:
                cand["original-field"].append(mid)


ORDER = ("attached", "pasted", "header-block", "original-field", "mention")


def read(path):
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=_policy.compat32)
    own = normalise(id_from_value(msg.get("message-id")) or "")
    cand = {}
    walk(msg, own, cand)
    for src in ORDER:
        for mid in cand.get(src, []):
            if normalise(mid):
                return mid, src + (" own" if normalise(mid) == own else ""), cand
    return None, "", cand


def main(argv):
    verbose = False
    base = ""
    files = []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "-v":
            verbose = True
        elif a == "--base":
            base = args.pop(0).rstrip("/") + "/"
        elif a == "--from":
            with open(args.pop(0), encoding="utf-8") as f:
                files.extend(l.rstrip("\n") for l in f if l.strip())
        else:
            files.append(a)
    out = sys.stdout
    for name in files:
        try:
            mid, src, cand = read(base + name)
        except (OSError, ValueError, LookupError) as e:
            print("reader: %s: %s" % (name, e), file=sys.stderr)
            mid, src, cand = None, "error", {}
        out.write("%s\t%s\t%s\n" % (name, mid or "", src if mid else ""))
        if verbose:
            for s in ORDER:
                for c in cand.get(s, []):
                    out.write("  %s\t%s\n" % (s, c))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
