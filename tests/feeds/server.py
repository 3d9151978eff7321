#!/usr/bin/env python3
"""server.py: a real HTTPS server on loopback for the feed tests.

usage: server.py CERT KEY DOCROOT PORTFILE LOGFILE

Listens on 127.0.0.1, a free port written to PORTFILE, TLS with CERT and
KEY (the Dovecot harness's certificate for localhost).  Paths:

  /ok/NAME         DOCROOT/NAME with an ETag (its SHA-256) and
                   Last-Modified (its mtime); If-None-Match or
                   If-Modified-Since that match answer 304
  /truncated/NAME  Content-Length of the whole file, then half of it and
                   the connection closed
  /oversized/NAME  the file, then 1 MiB more of host names, no length
  /garbage/NAME    an HTML error page with status 200
  /slow/NAME       waits 30 s before answering (logged when it starts)
  /gzip/NAME       the file gzip-compressed (Content-Encoding: gzip),
                   only to a client that accepts gzip (else 406); no
                   conditional answers
  /bomb/NAME       a gzip body of a few KiB that decodes to the file and
                   4 MiB more of host names
  /status/N        answers status N

Each request adds one line to LOGFILE: "METHOD PATH INM IMS STATUS"
(INM, IMS: the If-None-Match / If-Modified-Since values, or "-").
"""
import email.utils
import gzip
import hashlib
import http.server
import os
import ssl
import sys
import time

cert, key, root, portfile, logfile = sys.argv[1:6]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def note(self, status):
        inm = self.headers.get("If-None-Match") or "-"
        ims = self.headers.get("If-Modified-Since") or "-"
        with open(logfile, "a") as f:
            f.write("%s %s %s %s %d\n" % (self.command, self.path,
                    inm.replace(" ", "_"), ims.replace(" ", "_"), status))

    def send(self, status, body, extra=(), log=True):
        if log:
            self.note(status)
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.split("/")
        mode = parts[1] if len(parts) > 1 else ""
        name = parts[2] if len(parts) > 2 else ""
        if mode == "status":
            self.send(int(name), b"status\n")
            return
        path = os.path.join(root, os.path.basename(name))
        try:
            with open(path, "rb") as f:
                body = f.read()
            mtime = int(os.stat(path).st_mtime)
        except OSError:
            self.send(404, b"not found\n")
            return
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:32]
        lm = email.utils.formatdate(mtime, usegmt=True)
        if mode == "ok":
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if inm == etag or (inm is None and ims is not None and
                               email.utils.parsedate_to_datetime(ims)
                               .timestamp() >= mtime):
                self.note(304)
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send(200, body, [("ETag", etag), ("Last-Modified", lm)])
        elif mode == "truncated":
            self.note(200)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif mode == "oversized":
            self.note(200)
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            line = b"filler-host-name-number.example\n"
            try:
                for _ in range(40):	# 40 * 1024 lines: over 1 MiB
                    self.wfile.write(line * 1024)
            except OSError:
                pass
            self.close_connection = True
        elif mode == "gzip":
            if "gzip" not in (self.headers.get("Accept-Encoding") or ""):
                self.send(406, b"gzip only\n")
                return
            self.send(200, gzip.compress(body),
                      [("Content-Encoding", "gzip"),
                       ("ETag", 'W/"gz-%s"' % etag.strip('"'))])
        elif mode == "bomb":
            filler = b"filler-host-name-number.example\n" * (4 << 15)
            self.send(200, gzip.compress(body + filler),
                      [("Content-Encoding", "gzip")])
        elif mode == "garbage":
            self.send(200, b"<html><head><title>503 Service Unavailable"
                      b"</title></head>\n<body>\n<h1>Sorry</h1>\n<p>Try"
                      b" again later.</p>\n</body></html>\n",
                      [("Content-Type", "text/html")])
        elif mode == "slow":
            self.note(200)	# logged as it starts waiting
            time.sleep(30)
            try:
                self.send(200, body, log=False)
            except OSError:
                pass
        else:
            self.send(404, b"not found\n")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
