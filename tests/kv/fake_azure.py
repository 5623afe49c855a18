#!/usr/bin/env python3
"""A local test double of Entra ID, the instance metadata service and Key
Vault, following their documented REST contracts closely enough for
vhdunlock's tests (no emulator of Key Vault exists):

  POST /{tenant}/oauth2/v2.0/token   client secret, or a client assertion:
        a JWT signed by the registered certificate (RS256 + x5t, PS256 +
        x5t#S256; aud, iss, sub, nbf, exp checked) or a federated token
  GET  /metadata/identity/oauth2/token   (plain HTTP port) managed identity,
        "Metadata: true" required, client_id picks a user-assigned one
  GET  /secrets/{name}[/{version}], GET /secrets (paged, nextLink),
  GET  /deletedsecrets/{name}, GET /deletedkeys/{name},
  POST /keys/{name}/{version}/unwrapkey  (real RSA: OAEP, OAEP-256, 1_5)

Key Vault calls need api-version=7.4 and a bearer token; without one they
get 401 with the Bearer challenge naming the tenant.  Permissions per
principal (secrets/get, secrets/list, keys/unwrapKey) give 403s; faults
(status S for the first N requests matching a method and path) give 429
with Retry-After and 5xx; a fault with "sleep" waits that long first (a
time-out).  Every request is logged to STATE/requests.log,
one JSON line, without tokens or secret values.

  fake_azure.py --config CONF.json --state DIR
writes DIR/https.port, DIR/http.port, then DIR/ready; TLS from
DIR/server.pem and DIR/server.key (make-ca.sh).  "{vault}" in a tag value
is replaced by the server's own https://HOST:PORT (KEK URLs)."""
import argparse, base64, hashlib, http.server, json, os, re, secrets, signal
import socketserver, ssl, sys, threading, time, urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ARGS = None
CONF = None
LOCK = threading.Lock()
TOKENS = {}      # token -> (principal name, expiry)
FAULTS = []      # dicts with a count left
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def log(entry):
    with LOCK, open(os.path.join(ARGS.state, "requests.log"), "a") as f:
        f.write(json.dumps(entry) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    # ---- plumbing ----
    def reply(self, status, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.entry["status"] = status
        log(self.entry)

    def kv_error(self, status, code, message, inner=None, headers=None):
        err = {"code": code, "message": message}
        if inner:
            err["innererror"] = {"code": inner}
        self.reply(status, {"error": err}, headers)

    def entra_error(self, status, error, desc, code):
        self.reply(status, {"error": error, "error_description": desc,
                            "error_codes": [code]})

    def start(self, method):
        u = urllib.parse.urlsplit(self.path)
        self.path_only, self.query = u.path, urllib.parse.parse_qs(u.query)
        auth = self.headers.get("Authorization", "")
        self.token = auth[7:] if auth.startswith("Bearer ") else None
        self.entry = {"method": method, "path": self.path_only,
                      "query": {k: v for k, v in self.query.items()
                                if k != "client_id"} or None,
                      "has_auth": bool(self.token),
                      "metadata_header": self.headers.get("Metadata"),
                      "principal": None}
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        fault = None
        with LOCK:
            for f in FAULTS:
                if f["left"] > 0 and f.get("method", method) == method and \
                        re.search(f["path"], self.path_only):
                    f["left"] -= 1
                    fault = f
                    break
        if fault and fault.get("sleep"):
            time.sleep(fault["sleep"])  # a service that does not answer
        if fault and fault.get("status"):
            hdr = {"Retry-After": fault["retry_after"]} \
                if "retry_after" in fault else None
            self.entry["fault"] = True
            self.reply(fault["status"], {"error": {"code": "Fault",
                       "message": "injected fault"}}, hdr)
            return False
        return True

    def do_GET(self):
        try:
            if not self.start("GET"):
                return
            if self.path_only == "/metadata/identity/oauth2/token":
                return self.imds()
            return self.vault("GET")
        except Exception as e:  # never a traceback to the client
            self.kv_error(500, "InternalError", "test server: %s" % e)

    def do_POST(self):
        try:
            if not self.start("POST"):
                return
            m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", self.path_only)
            if m:
                return self.token_endpoint(m.group(1))
            return self.vault("POST")
        except Exception as e:
            self.kv_error(500, "InternalError", "test server: %s" % e)

    # ---- Entra ID ----
    def issue(self, principal, lifetime=3599):
        tok = secrets.token_urlsafe(32)
        with LOCK:
            TOKENS[tok] = (principal, time.time() + lifetime)
        return tok

    def token_endpoint(self, tenant):
        if tenant != CONF["tenant"]:
            return self.entra_error(400, "invalid_request",
                "AADSTS90002: Tenant '%s' not found." % tenant, 90002)
        try:
            form = urllib.parse.parse_qs(self.body.decode(), strict_parsing=True)
        except ValueError:
            return self.entra_error(400, "invalid_request",
                "AADSTS900144: The request body must be form-encoded.", 900144)
        f = {k: v[0] for k, v in form.items()}
        if f.get("grant_type") != "client_credentials":
            return self.entra_error(400, "unsupported_grant_type",
                "AADSTS70003: unsupported grant type", 70003)
        if f.get("scope") != "https://vault.azure.net/.default":
            return self.entra_error(400, "invalid_scope",
                "AADSTS70011: The provided value for scope is not valid.", 70011)
        cid = f.get("client_id")
        name, p = next(((n, p) for n, p in CONF["principals"].items()
                        if p.get("client_id") == cid and
                        "managed_identity" not in p), (None, None))
        if not p:
            return self.entra_error(400, "unauthorized_client",
                "AADSTS700016: Application with identifier '%s' was not "
                "found in the directory." % cid, 700016)
        self.entry["principal"] = name
        if "client_secret" in f:
            if p.get("secret") != f["client_secret"]:
                return self.entra_error(401, "invalid_client",
                    "AADSTS7000215: Invalid client secret provided.", 7000215)
        elif f.get("client_assertion_type") == ASSERTION_TYPE:
            why = self.check_assertion(p, cid, tenant, f.get("client_assertion", ""))
            if why:
                return self.entra_error(401, "invalid_client",
                    "AADSTS700027: Client assertion failed signature "
                    "validation. (%s)" % why, 700027)
        else:
            return self.entra_error(401, "invalid_client",
                "AADSTS7000216: client_assertion or client_secret is required.",
                7000216)
        self.entry["grant"] = "secret" if "client_secret" in f else "assertion"
        self.reply(200, {"token_type": "Bearer", "expires_in": 3599,
                         "ext_expires_in": 3599,
                         "access_token": self.issue(name)})

    def check_assertion(self, p, cid, tenant, jwt):
        if "federated_token" in p:
            return None if jwt == p["federated_token"] else "not the federated token"
        if "cert_pem" not in p:
            return "no certificate registered"
        try:
            h64, c64, s64 = jwt.split(".")
            header = json.loads(b64url_decode(h64))
            claims = json.loads(b64url_decode(c64))
            sig = b64url_decode(s64)
        except Exception:
            return "not a JWT"
        with open(p["cert_pem"], "rb") as fh:
            cert = x509.load_pem_x509_certificate(fh.read())
        signed = (h64 + "." + c64).encode()
        try:
            if header.get("alg") == "RS256":
                if header.get("x5t") != b64url(cert.fingerprint(hashes.SHA1())):
                    return "x5t does not match the certificate"
                cert.public_key().verify(sig, signed, padding.PKCS1v15(),
                                         hashes.SHA256())
            elif header.get("alg") == "PS256":
                if header.get("x5t#S256") != b64url(cert.fingerprint(hashes.SHA256())):
                    return "x5t#S256 does not match the certificate"
                cert.public_key().verify(sig, signed, padding.PSS(
                    mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                    hashes.SHA256())
            else:
                return "alg %s" % header.get("alg")
        except Exception:
            return "bad signature"
        self.entry["assertion_alg"] = header["alg"]
        aud = "https://%s/%s/oauth2/v2.0/token" % (self.headers.get("Host"), tenant)
        now = time.time()
        if claims.get("aud") != aud:
            return "aud %s, expected %s" % (claims.get("aud"), aud)
        if claims.get("iss") != cid or claims.get("sub") != cid:
            return "iss/sub"
        if not claims.get("jti"):
            return "no jti"
        if not (claims.get("nbf", 0) <= now + 60 and now < claims.get("exp", 0) <= now + 660):
            return "nbf/exp"
        return None

    # ---- instance metadata service ----
    def imds(self):
        if self.headers.get("Metadata") != "true":
            return self.entra_error(400, "invalid_request",
                "Required metadata header not specified", 0)
        if self.query.get("api-version") != ["2018-02-01"] or \
                self.query.get("resource") != ["https://vault.azure.net"]:
            return self.entra_error(400, "invalid_request",
                "bad api-version or resource", 0)
        cid = self.query.get("client_id", [None])[0]
        for name, p in CONF["principals"].items():
            mi = p.get("managed_identity")
            if (mi == "system" and cid is None) or \
                    (mi == "user" and cid and p.get("client_id") == cid):
                self.entry["principal"] = name
                now = int(time.time())
                return self.reply(200, {"access_token": self.issue(name, 86399),
                    "client_id": p.get("client_id", "system"),
                    "expires_in": "86399", "expires_on": str(now + 86399),
                    "ext_expires_in": "86399", "not_before": str(now),
                    "resource": "https://vault.azure.net", "token_type": "Bearer"})
        return self.entra_error(400, "invalid_request", "Identity not found", 0)

    # ---- Key Vault ----
    def principal(self):
        if self.token in CONF.get("static_tokens", {}):
            return CONF["static_tokens"][self.token]
        with LOCK:
            p = TOKENS.get(self.token)
        if p and p[1] > time.time():
            return p[0]
        return None

    def vault(self, method):
        base = "https://%s" % self.headers.get("Host")
        who = self.principal()
        if not who:
            return self.kv_error(401, "Unauthorized",
                "AKV10000: Request is missing a Bearer or PoP token.", headers={
                "WWW-Authenticate": 'Bearer authorization="%s/%s", resource='
                '"https://vault.azure.net"' % (CONF["authority"], CONF["tenant"])})
        self.entry["principal"] = who
        if self.query.get("api-version") != ["7.4"]:
            return self.kv_error(400, "BadParameter",
                "The specified version of the API is not supported.")
        perms = CONF["principals"][who].get("permissions", [])
        denied = lambda perm: self.kv_error(403, "Forbidden",
            "The user, group or application 'appid=%s;oid=0' does not have "
            "%s permission on key vault '%s;location=westeurope'." % (
                CONF["principals"][who].get("client_id", who),
                perm.replace("/", " ").replace("secrets ", "secrets ")
                    .replace("keys ", "keys "), CONF["vault_name"]),
            "AccessDenied")
        path = self.path_only
        if method == "GET" and path == "/secrets":
            if "secrets/list" not in perms:
                return denied("secrets/list")
            return self.list_secrets(base)
        m = re.fullmatch(r"/secrets/([^/]+)(?:/([^/]*))?", path)
        if method == "GET" and m:
            if "secrets/get" not in perms:
                return denied("secrets/get")
            return self.get_secret(base, m.group(1), m.group(2))
        m = re.fullmatch(r"/deleted(secrets|keys)/([^/]+)", path)
        if method == "GET" and m:
            kind = m.group(1)
            items = CONF["secrets"] if kind == "secrets" else CONF["keys"]
            if any(i["name"] == m.group(2) and i.get("deleted") for i in items):
                return self.reply(200, {"recoveryId": "%s/deleted%s/%s" % (
                    base, kind, m.group(2)), "deletedDate": 1700000000,
                    "scheduledPurgeDate": 1707776000})
            return self.kv_error(404, "%sNotFound" % ("Secret" if kind == "secrets"
                else "Key"), "Deleted %s not found" % kind[:-1])
        m = re.fullmatch(r"/keys/([^/]+)/([^/]+)/unwrapkey", path)
        if method == "POST" and m:
            if "keys/unwrapKey" not in perms:
                return denied("keys/unwrapKey")
            return self.unwrap(base, m.group(1), m.group(2))
        self.kv_error(404, "NotFound", "no such operation: %s %s" % (method, path))

    def visible(self, s):
        return not s.get("deleted")

    def item(self, base, s, with_version):
        i = {"id": "%s/secrets/%s%s" % (base, s["name"],
             "/" + s["version"] if with_version else ""),
             "attributes": {"enabled": s.get("enabled", True),
                            "created": s.get("created", 1700000000),
                            "updated": s.get("created", 1700000000),
                            "recoveryLevel": "Recoverable+Purgeable"},
             "tags": {k: v.replace("{vault}", base)
                      for k, v in s.get("tags", {}).items()}}
        if s.get("contentType"):
            i["contentType"] = s["contentType"]
        return i

    def get_secret(self, base, name, version):
        versions = [s for s in CONF["secrets"] if s["name"] == name and self.visible(s)]
        if version:
            versions = [s for s in versions if s["version"] == version]
        if not versions:
            return self.kv_error(404, "SecretNotFound", "A secret with (name/id) "
                "%s was not found in this key vault. If you recently deleted "
                "this secret you may be able to recover it." % name)
        s = max(versions, key=lambda s: s.get("created", 0))
        if not s.get("enabled", True):
            return self.kv_error(403, "Forbidden", "Operation get is not "
                "allowed on a disabled secret.", "SecretDisabled")
        body = self.item(base, s, True)
        body["value"] = s["value"]
        self.reply(200, body)

    def list_secrets(self, base):
        latest = {}
        for s in CONF["secrets"]:
            if self.visible(s) and (s["name"] not in latest or
                    s.get("created", 0) > latest[s["name"]].get("created", 0)):
                latest[s["name"]] = s
        names = sorted(latest)
        skip = int(self.query.get("$skiptoken", ["0"])[0])
        size = int(self.query.get("maxresults", [CONF.get("page_size", 25)])[0])
        page = names[skip:skip + size]
        nxt = None
        if skip + size < len(names):
            nxt = "%s/secrets?api-version=7.4&$skiptoken=%d&maxresults=%d" % (
                base, skip + size, size)
        self.reply(200, {"value": [self.item(base, latest[n], False) for n in page],
                         "nextLink": nxt})

    def unwrap(self, base, name, version):
        k = next((k for k in CONF["keys"] if k["name"] == name and
                  k["version"] == version and not k.get("deleted")), None)
        if not k:
            return self.kv_error(404, "KeyNotFound", "A key with (name/id) %s/%s "
                "was not found in this key vault." % (name, version))
        if not k.get("enabled", True):
            return self.kv_error(403, "Forbidden", "Operation unwrapKey is not "
                "allowed on a disabled key.", "KeyDisabled")
        if k.get("exp") and k["exp"] < time.time():
            return self.kv_error(403, "Forbidden", "Operation unwrapKey is not "
                "allowed on an expired key.", "KeyExpired")
        try:
            req = json.loads(self.body)
            data = b64url_decode(req["value"])
            alg = req["alg"]
        except Exception:
            return self.kv_error(400, "BadParameter", "Property value is invalid")
        pads = {"RSA-OAEP": padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None),
                "RSA-OAEP-256": padding.OAEP(padding.MGF1(hashes.SHA256()),
                                             hashes.SHA256(), None),
                "RSA1_5": padding.PKCS1v15()}
        if alg not in pads:
            return self.kv_error(400, "BadParameter", "Invalid algorithm %s" % alg)
        with open(k["private_pem"], "rb") as fh:
            key = serialization.load_pem_private_key(fh.read(), None)
        try:
            plain = key.decrypt(data, pads[alg])
        except Exception:
            return self.kv_error(400, "BadParameter", "Unwrap failed: bad data")
        self.entry["alg"] = alg
        self.reply(200, {"kid": "%s/keys/%s/%s" % (base, name, version),
                         "value": b64url(plain)})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS, CONF
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--state", required=True)
    ARGS = ap.parse_args()
    with open(ARGS.config) as f:
        CONF = json.load(f)
    for f in CONF.get("faults", []):
        f["left"] = f.get("count", 1)
        FAULTS.append(f)
    https = Server(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(ARGS.state, "server.pem"),
                        os.path.join(ARGS.state, "server.key"))
    https.socket = ctx.wrap_socket(https.socket, server_side=True)
    plain = Server(("127.0.0.1", 0), Handler)
    CONF["authority"] = CONF.get("authority") or \
        "https://localhost:%d" % https.server_address[1]
    for srv, name in ((https, "https.port"), (plain, "http.port")):
        with open(os.path.join(ARGS.state, name), "w") as f:
            f.write(str(srv.server_address[1]))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    open(os.path.join(ARGS.state, "ready"), "w").close()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
