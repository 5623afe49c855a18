#!/usr/bin/env python3
"""A loopback HTTP proxy in front of a blob server (Azurite) that
misbehaves the way a real one under load does, to test the URL source's
retries: one of every N range requests is answered, in turn, with 503
ServerBusy (Retry-After: 0), with its connection dropped half way through
the body, or with a body cut short behind a full Content-Length.  Others
are passed through.  The page list (comp=pagelist) and the first request
are never spoiled.

  flaky_proxy.py --upstream http://127.0.0.1:PORT --state DIR [--every N]
writes DIR/proxy.port and DIR/proxy.count (spoiled answers so far)."""
import argparse, http.client, http.server, os, socketserver, threading
import urllib.parse

ARGS = None
LOCK = threading.Lock()
SEEN = [0, 0]   # range requests, spoiled answers


def spoil_kind():
    """Which way to spoil this request (None: pass it through)."""
    with LOCK:
        SEEN[0] += 1
        n = SEEN[0]
        if n == 1 or n % ARGS.every != 2:
            return None
        SEEN[1] += 1
        with open(os.path.join(ARGS.state, "proxy.count"), "w") as f:
            f.write(str(SEEN[1]))
        return ("busy", "drop", "short")[SEEN[1] % 3]


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        up = urllib.parse.urlsplit(ARGS.upstream)
        kind = None
        if "comp=pagelist" not in self.path and "Range" in self.headers:
            kind = spoil_kind()
        if kind == "busy":
            body = b"<?xml version=\"1.0\"?><Error><Code>ServerBusy</Code></Error>"
            self.send_response(503)
            self.send_header("Retry-After", "0")
            self.send_header("x-ms-error-code", "ServerBusy")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "connection")}
        conn.request("GET", self.path, headers=headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection",
                                 "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        if kind:
            self.send_header("Connection", "close")
        self.end_headers()
        if kind == "drop" or kind == "short":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("--every", type=int, default=7)
    ARGS = p.parse_args()
    srv = Server(("127.0.0.1", 0), Proxy)
    with open(os.path.join(ARGS.state, "proxy.port"), "w") as f:
        f.write(str(srv.server_address[1]))
    srv.serve_forever()


if __name__ == "__main__":
    main()
