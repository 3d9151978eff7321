#!/usr/bin/env python3
"""peer.py UPSTREAM_PORT PORTFILE MODE: a scripted DNS peer on a random
loopback UDP port (written to PORTFILE) for the DNSBL timeout and
lying-resolver cases.  MODE "hang": a query whose name starts with
"hang" is never answered.  MODE "garbage": a query whose name starts
with "bad" is answered at once with a packet that breaks off inside its
second answer record (its rdata for "badrd...", its owner name for
"badname..."), after a first record well formed and saying 127.0.0.2
(listed); each such query is written to stderr ("garbage NAME").  Any
other query is relayed to the Unbound on UPSTREAM_PORT and its answer
sent back 0.2 s later (a slow server).  Stops after 10 minutes at
most."""
import socket
import sys
import threading
import time

up = ("127.0.0.1", int(sys.argv[1]))
mode = sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
import os
os.rename(sys.argv[2] + ".tmp", sys.argv[2])


def question(pkt):
    """The question's name, and the offset just past its type and class."""
    i, labels = 12, []
    while i < len(pkt) and pkt[i] != 0:
        n = pkt[i]
        labels.append(pkt[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += n + 1
    return ".".join(labels).lower(), i + 5


def qname(pkt):
    return question(pkt)[0]


def relay(pkt, peer):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    try:
        u.sendto(pkt, up)
        ans = u.recv(4096)
    except OSError:
        return
    finally:
        u.close()
    time.sleep(0.2)
    s.sendto(ans, peer)


def garbage(pkt, peer):
    name, end = question(pkt)
    # id, QR RD RA NOERROR, 1 question, 2 answers, 0, 0; the question
    ans = pkt[:2] + bytes([0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0]) + pkt[12:end]
    # the question's name, A IN, TTL 3600, 4 bytes: 127.0.0.2
    rec = bytes([0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 127, 0, 0, 2])
    if name.startswith("badname"):
        ans += rec + bytes([40]) + b"cut"    # a label past the end
    else:
        ans += rec + rec[:-2]                # rdata cut short
    s.sendto(ans, peer)
    print("garbage %s" % name, file=sys.stderr, flush=True)


end = time.time() + 600
s.settimeout(1)
while time.time() < end:
    try:
        pkt, peer = s.recvfrom(4096)
    except socket.timeout:
        continue
    if mode == "hang" and qname(pkt).startswith("hang"):
        continue
    if mode == "garbage" and qname(pkt).startswith("bad"):
        garbage(pkt, peer)
        continue
    threading.Thread(target=relay, args=(pkt, peer), daemon=True).start()
