#!/usr/bin/env python3
"""A small client of the Blob service REST API for the tests, talking to
Azurite (the Azure Storage emulator) as its well-known development account
with Shared Key authorization, path-style URLs:

    http://127.0.0.1:PORT/devstoreaccount1/CONTAINER/BLOB

ENDPOINT below is the account's URL, http://127.0.0.1:PORT/devstoreaccount1
(a URL without a path gets /devstoreaccount1).  Python's standard library
only.  Subcommands (nothing printed on success unless said):

  upload    --endpoint E --container C --blob B FILE
        creates C if needed, a page blob of FILE's size (a multiple of 512,
        else refused) and writes only FILE's non-zero 512-byte pages, at
        most 4 MiB per Put Page, so Get Page Ranges lists just those
  sas       --endpoint E --container C --blob B [--minutes N] [--perm r]
            [--expired]
        prints a service SAS URL of the blob (sv=2021-08-06, sr=b); with
        --expired its expiry is an hour ago
  overwrite --endpoint E --container C --blob B --offset O --length L
        Put Page of L random bytes at O (both multiples of 512): new ETag
  copy      --endpoint E --container C --src-blob A --blob B
        B becomes a page blob with A's size and A's written ranges
  delete    --endpoint E --container C --blob B
  pagelist  --endpoint E --container C --blob B
        prints Get Page Ranges' ranges, "START END" a line, END inclusive
        (as the service reports them)

The functions (upload, sas_url, overwrite, copy, delete_blob, page_ranges)
can be imported too: tests/kv/fake_azure.py deletes a blob with
delete_blob to revoke a SAS it handed out.

References: "Authorize with Shared Key", "Create a service SAS",
"Put Blob", "Put Page", "Get Page Ranges" (Blob service REST API)."""
import argparse, base64, datetime, hashlib, hmac, http.client, os, sys
import urllib.parse
import xml.etree.ElementTree as ET

ACCOUNT = "devstoreaccount1"
KEY = base64.b64decode("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
                       "K1SZFPTOtr/KBHBeksoGMGw==")   # Azurite's, as published
VERSION = "2021-08-06"      # x-ms-version of requests and sv of SASes
PAGE = 512
MAX_PUT = 4 << 20           # the largest range one Put Page may write


class BlobError(Exception):
    pass


def sign(string_to_sign):
    return base64.b64encode(hmac.new(KEY, string_to_sign.encode(),
                                     hashlib.sha256).digest()).decode()


def account_url(endpoint):
    """The account's URL: ENDPOINT, with /devstoreaccount1 when it has no path."""
    u = urllib.parse.urlsplit(endpoint.rstrip("/"))
    if u.scheme not in ("http", "https") or not u.hostname:
        raise BlobError("not an http(s) URL: %s" % endpoint)
    return endpoint.rstrip("/") + ("" if u.path else "/" + ACCOUNT)


def blob_path(container, blob=None):
    return "/" + urllib.parse.quote(container) + \
        ("/" + urllib.parse.quote(blob) if blob is not None else "")


def request(endpoint, method, path, query=None, headers=None, body=b"",
            ok=(200, 201, 202)):
    """One Shared Key authorized request to ENDPOINT + PATH; returns
    (status, headers, body); a status not in OK raises BlobError naming the
    service's error code."""
    base = urllib.parse.urlsplit(account_url(endpoint))
    full_path = base.path + path
    query = dict(query or {})
    h = {"x-ms-version": VERSION,
         "x-ms-date": datetime.datetime.now(datetime.timezone.utc)
             .strftime("%a, %d %b %Y %H:%M:%S GMT"),
         "Content-Length": str(len(body))}
    h.update(headers or {})
    # Shared Key: the standard headers, x-ms-* sorted, then the resource:
    # "/account" + the URI path (so the emulator's account appears twice),
    # then each query parameter as "name:value" on its own line
    std = ["Content-Encoding", "Content-Language", "Content-Length",
           "Content-MD5", "Content-Type", "Date", "If-Modified-Since",
           "If-Match", "If-None-Match", "If-Unmodified-Since", "Range"]
    lower = {k.lower(): str(v) for k, v in h.items()}
    vals = [lower.get(s.lower(), "") for s in std]
    if vals[2] == "0":
        vals[2] = ""
    canon_headers = "".join("%s:%s\n" % (k, lower[k].strip())
                            for k in sorted(lower) if k.startswith("x-ms-"))
    canon_res = "/" + ACCOUNT + full_path + "".join(
        "\n%s:%s" % (k.lower(), query[k]) for k in sorted(query, key=str.lower))
    sts = method + "\n" + "\n".join(vals) + "\n" + canon_headers + canon_res
    h["Authorization"] = "SharedKey %s:%s" % (ACCOUNT, sign(sts))
    conn_cls = http.client.HTTPSConnection if base.scheme == "https" \
        else http.client.HTTPConnection
    conn = conn_cls(base.hostname, base.port, timeout=60)
    try:
        target = full_path
        if query:
            target += "?" + urllib.parse.urlencode(query)
        conn.request(method, target, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    if resp.status not in ok:
        code = resp.getheader("x-ms-error-code") or ""
        raise BlobError("%s %s: HTTP %d %s %s" % (method, path, resp.status, code,
                        data[:300].decode(errors="replace")))
    return resp.status, resp, data


# ---- containers and blobs ----
def create_container(endpoint, container):
    """Create Container; one that exists already is fine."""
    request(endpoint, "PUT", blob_path(container), {"restype": "container"},
            ok=(201, 409))


def create_page_blob(endpoint, container, blob, size):
    """Put Blob of a page blob of SIZE bytes, all zeros, no pages written."""
    if size % PAGE:
        raise BlobError("%d bytes is not a multiple of %d" % (size, PAGE))
    request(endpoint, "PUT", blob_path(container, blob), headers={
        "x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": str(size)},
        ok=(201,))


def put_page(endpoint, container, blob, offset, data):
    """Put Page (update) of DATA at OFFSET; both 512-aligned, <= 4 MiB."""
    request(endpoint, "PUT", blob_path(container, blob), {"comp": "page"}, {
        "x-ms-page-write": "update",
        "x-ms-range": "bytes=%d-%d" % (offset, offset + len(data) - 1)},
        body=data, ok=(201,))


def blob_size(endpoint, container, blob):
    _, resp, _ = request(endpoint, "HEAD", blob_path(container, blob), ok=(200,))
    return int(resp.getheader("Content-Length"))


def read_range(endpoint, container, blob, start, end):
    """Get Blob of bytes START..END (inclusive)."""
    _, _, data = request(endpoint, "GET", blob_path(container, blob), headers={
        "x-ms-range": "bytes=%d-%d" % (start, end)}, ok=(200, 206))
    return data


def page_ranges(endpoint, container, blob):
    """Get Page Ranges: [(start, end inclusive), ...]"""
    _, _, data = request(endpoint, "GET", blob_path(container, blob),
                         {"comp": "pagelist"}, ok=(200,))
    root = ET.fromstring(data)
    return [(int(r.findtext("Start")), int(r.findtext("End")))
            for r in root.iter("PageRange")]


def delete_blob(endpoint, container, blob):
    request(endpoint, "DELETE", blob_path(container, blob), ok=(202,))


# ---- what the subcommands do ----
def data_extents(f, size):
    """(start, end) of the parts of file F that may hold data: its
    SEEK_DATA/SEEK_HOLE extents, or the whole file where those fail."""
    fd = f.fileno()
    try:
        pos, out = 0, []
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:     # ENXIO: only a hole is left
                break
            end = os.lseek(fd, start, os.SEEK_HOLE)
            out.append((start, end))
            pos = end
        return out
    except (AttributeError, OSError):
        return [(0, size)]


def nonzero_runs(f, size):
    """(offset, length) of each run of non-zero 512-byte pages of F, cut
    at 4 MiB."""
    zero = bytes(PAGE)
    run_start, run_len = None, 0
    for start, end in data_extents(f, size):
        start -= start % PAGE
        end = min(size, end + (-end % PAGE))
        pos = start
        while pos < end:
            f.seek(pos)     # the caller reads F between our yields
            chunk = f.read(min(MAX_PUT, end - pos))
            if not chunk:
                break
            for i in range(0, len(chunk), PAGE):
                if chunk[i:i + PAGE] == zero:
                    if run_start is not None:
                        yield run_start, run_len
                        run_start = None
                    continue
                if run_start is not None and run_start + run_len != pos + i:
                    yield run_start, run_len    # the run ended at a hole
                    run_start = None
                if run_start is None:
                    run_start, run_len = pos + i, 0
                run_len += PAGE
                if run_len == MAX_PUT:
                    yield run_start, run_len
                    run_start = None
            pos += len(chunk)
    if run_start is not None:
        yield run_start, run_len


def upload(endpoint, container, blob, path):
    size = os.path.getsize(path)
    if size % PAGE:
        raise BlobError("%s: %d bytes is not a multiple of %d: a page blob "
                        "cannot hold it" % (path, size, PAGE))
    create_container(endpoint, container)
    create_page_blob(endpoint, container, blob, size)
    with open(path, "rb") as f:
        for off, length in nonzero_runs(f, size):
            f.seek(off)
            put_page(endpoint, container, blob, off, f.read(length))


def sas_url(endpoint, container, blob, minutes=60, perm="r", expired=False):
    """A service SAS of the blob (documented string-to-sign of version
    2020-12-06 and later), the start five minutes back for clock skew."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    if expired:
        st, se = now - datetime.timedelta(hours=2), now - datetime.timedelta(hours=1)
    else:
        st, se = now - datetime.timedelta(minutes=5), now + datetime.timedelta(minutes=minutes)
    fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
    canon = "/blob/%s/%s/%s" % (ACCOUNT, container, blob)
    # sp st se canonicalizedResource si sip spr sv sr snapshot ses
    # rscc rscd rsce rscl rsct
    sts = "\n".join([perm, fmt(st), fmt(se), canon, "", "", "", VERSION, "b",
                     "", "", "", "", "", "", ""])
    q = urllib.parse.urlencode([("sv", VERSION), ("sr", "b"), ("sp", perm),
                                ("st", fmt(st)), ("se", fmt(se)),
                                ("sig", sign(sts))])
    return account_url(endpoint) + blob_path(container, blob) + "?" + q


def overwrite(endpoint, container, blob, offset, length):
    if offset % PAGE or length % PAGE or length <= 0:
        raise BlobError("offset and length must be positive multiples of %d" % PAGE)
    for o in range(offset, offset + length, MAX_PUT):
        put_page(endpoint, container, blob, o,
                 os.urandom(min(MAX_PUT, offset + length - o)))


def copy(endpoint, container, src, dst):
    """Download and upload: DST gets SRC's size and written ranges."""
    create_page_blob(endpoint, container, dst, blob_size(endpoint, container, src))
    for start, end in page_ranges(endpoint, container, src):
        for o in range(start, end + 1, MAX_PUT):
            e = min(end, o + MAX_PUT - 1)
            put_page(endpoint, container, dst, o,
                     read_range(endpoint, container, src, o, e))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def cmd(name, blob=True):
        p = sub.add_parser(name)
        p.add_argument("--endpoint", required=True)
        p.add_argument("--container", required=True)
        if blob:
            p.add_argument("--blob", required=True)
        return p

    cmd("upload").add_argument("file")
    p = cmd("sas")
    p.add_argument("--minutes", type=float, default=60)
    p.add_argument("--perm", default="r")
    p.add_argument("--expired", action="store_true")
    p = cmd("overwrite")
    p.add_argument("--offset", type=int, required=True)
    p.add_argument("--length", type=int, required=True)
    cmd("copy").add_argument("--src-blob", required=True)
    cmd("delete")
    cmd("pagelist")
    a = ap.parse_args(argv)
    e, c = a.endpoint, a.container
    try:
        if a.cmd == "upload":
            upload(e, c, a.blob, a.file)
        elif a.cmd == "sas":
            print(sas_url(e, c, a.blob, a.minutes, a.perm, a.expired))
        elif a.cmd == "overwrite":
            overwrite(e, c, a.blob, a.offset, a.length)
        elif a.cmd == "copy":
            copy(e, c, a.src_blob, a.blob)
        elif a.cmd == "delete":
            delete_blob(e, c, a.blob)
        elif a.cmd == "pagelist":
            for s, t in page_ranges(e, c, a.blob):
                print(s, t)
    except (BlobError, OSError) as err:
        print("azblob.py %s: %s" % (a.cmd, err), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
