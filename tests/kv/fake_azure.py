#!/usr/bin/env python3
"""A local test double of Entra ID, the instance metadata service, Key
Vault and Azure Resource Manager's disks and snapshots, following their documented REST contracts closely enough for
vhdunlock's tests (no emulator of Key Vault exists):

  POST /{tenant}/oauth2/v2.0/token   client secret, or a client assertion:
        a JWT signed by the registered certificate (RS256 + x5t, PS256 +
        x5t#S256; aud, iss, sub, nbf, exp checked) or a federated token
  GET  /metadata/identity/oauth2/token   (plain HTTP port) managed identity,
        "Metadata: true" required, client_id picks a user-assigned one
  GET  /secrets/{name}[/{version}], GET /secrets (paged, nextLink),
  GET  /deletedsecrets/{name}, GET /deletedkeys/{name},
  POST /keys/{name}/{version}/unwrapkey  (real RSA: OAEP, OAEP-256, 1_5)
  Azure Resource Manager, Microsoft.Compute disks and snapshots
  (api-version=2023-10-02, a token for https://management.azure.com):
  GET  {id}, POST {id}/beginGetAccess, POST {id}/endGetAccess,
  GET  /subscriptions/S/providers/Microsoft.Compute/locations/L/
       DiskOperations/{op}   polled through Location (monitor=true: 202
       until done, then the result) or Azure-AsyncOperation (a status body)

Key Vault calls need api-version=7.4 and a bearer token; without one they
get 401 with the Bearer challenge naming the tenant.  Permissions per
principal (secrets/get, secrets/list, keys/unwrapKey) give 403s; faults
(status S for the first N requests matching a method and path) give 429
with Retry-After and 5xx; a fault with "sleep" waits that long first (a
time-out); "code" names the error code of its body (default "Fault"), as
{"method": "POST", "path": "/beginGetAccess$", "status": 429,
"retry_after": "0", "code": "TooManyRequests", "count": 1} for ARM.
Every token issued is appended to STATE/issued-tokens (for the tests'
searches for leaked secrets).  Every request is logged to STATE/requests.log, one JSON line, without
tokens or secret values (ARM calls: no query, so never a SAS).  Tokens carry their audience, from the scope asked for
(https://vault.azure.net/.default or https://management.azure.com/.default;
the metadata service's resource likewise); a token for the other service
gets 401.  Tokens of "static_tokens" are good for both.

"arm": [ RESOURCE, ... ] lists the disks and snapshots; RESOURCE is
  {"id": "/subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/
          snapshots/N" (or .../disks/N),
   "sas": the accessSAS to hand out (a list: one per grant in turn, the
          last repeated), "size": bytes,
   "location": "westeurope", "osType": optional,
   "diskState": "Unattached" (default) | "Attached" | "Reserved" | ...,
   "managedBy": a VM's id (attached disks),
   "encryptionSettings": [{"secretUrl": U, "keyUrl": K (optional),
                           "sourceVault": vault id (optional)}],
   "encryptionSettingsVersion": "1.1" (default),
   "asyncOperation": true to send Azure-AsyncOperation besides Location,
   "polls": answers "in progress" before the grant's result (default 0),
   "endPolls": the same for endGetAccess (default 0),
   "retryAfter": the Retry-After seconds of 202s (default 0),
   "beginStatus": 409 | 403 | other: beginGetAccess always fails so,
   "revoke": {"container": C, "blob": B}: endGetAccess deletes that blob
             at "azurite": {"endpoint": "http://127.0.0.1:P/devstoreaccount1"}
             (tests/kv/azblob.py), so the SAS stops working}
  Principals need "arm/read", "arm/beginGetAccess", "arm/endGetAccess"
  (or "arm/*") in "permissions", else 403 AuthorizationFailed.  beginGetAccess
  sets diskState to ActiveSAS, endGetAccess back; an attached disk gets 409
  OperationNotAllowed.  endGetAccess answers 202 (Location, and
  Azure-AsyncOperation when asyncOperation), then 200 without a body.

  fake_azure.py --config CONF.json --state DIR
writes DIR/https.port, DIR/http.port, then DIR/ready; TLS from
DIR/server.pem and DIR/server.key (make-ca.sh).  "{vault}" in a tag value,
a secretUrl or a keyUrl is replaced by the server's own https://HOST:PORT."""
import argparse, base64, datetime, hashlib, http.server, json, os, re, secrets
import signal, socketserver, ssl, sys, threading, time, urllib.parse, uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import azblob  # noqa: E402  (endGetAccess revokes a SAS by deleting its blob)

ARGS = None
CONF = None
LOCK = threading.Lock()
TOKENS = {}      # token -> (principal name, expiry, audience)
GRANTS = {}      # resource id (lower case) -> read accesses granted so far
FAULTS = []      # dicts with a count left
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
VAULT_AUD = "https://vault.azure.net"
ARM_AUD = "https://management.azure.com"
SCOPES = {VAULT_AUD + "/.default": VAULT_AUD, ARM_AUD + "/.default": ARM_AUD}
IMDS_RESOURCES = {VAULT_AUD: VAULT_AUD, ARM_AUD: ARM_AUD, ARM_AUD + "/": ARM_AUD}
ARM_API = "2023-10-02"
ARM_STATE = {}   # lower-case resource id -> {"diskState": ...}
OPS = {}         # operation id -> {"kind", "res", "left", "start", "sub"}


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
        if self.path_only.startswith("/subscriptions/"):
            # ARM: the path only (a query could someday carry a token)
            self.entry["query"] = None
            self.entry["api_version"] = self.query.get("api-version", [None])[0]
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
            self.reply(fault["status"], {"error": {"code": fault.get("code", "Fault"),
                       "message": "injected fault"}}, hdr)
            return False
        return True

    def do_GET(self):
        try:
            if not self.start("GET"):
                return
            if self.path_only == "/metadata/identity/oauth2/token":
                return self.imds()
            if self.path_only.startswith("/subscriptions/"):
                return self.arm("GET")
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
            if self.path_only.startswith("/subscriptions/"):
                return self.arm("POST")
            return self.vault("POST")
        except Exception as e:
            self.kv_error(500, "InternalError", "test server: %s" % e)

    # ---- Entra ID ----
    def issue(self, principal, audience, lifetime=3599):
        tok = secrets.token_urlsafe(32)
        with LOCK:
            TOKENS[tok] = (principal, time.time() + lifetime, audience)
            # for the tests' leak checks only: every token handed out
            with open(os.path.join(ARGS.state, "issued-tokens"), "a") as f:
                f.write(tok + "\n")
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
        if f.get("scope") not in SCOPES:
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
        self.entry["scope"] = f["scope"]
        self.reply(200, {"token_type": "Bearer", "expires_in": 3599,
                         "ext_expires_in": 3599,
                         "access_token": self.issue(name, SCOPES[f["scope"]])})

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
        resource = self.query.get("resource", [None])[0]
        if self.query.get("api-version") != ["2018-02-01"] or \
                resource not in IMDS_RESOURCES:
            return self.entra_error(400, "invalid_request",
                "bad api-version or resource", 0)
        cid = self.query.get("client_id", [None])[0]
        for name, p in CONF["principals"].items():
            mi = p.get("managed_identity")
            if (mi == "system" and cid is None) or \
                    (mi == "user" and cid and p.get("client_id") == cid):
                self.entry["principal"] = name
                now = int(time.time())
                return self.reply(200, {"access_token": self.issue(
                        name, IMDS_RESOURCES[resource], 86399),
                    "client_id": p.get("client_id", "system"),
                    "expires_in": "86399", "expires_on": str(now + 86399),
                    "ext_expires_in": "86399", "not_before": str(now),
                    "resource": resource, "token_type": "Bearer"})
        return self.entra_error(400, "invalid_request", "Identity not found", 0)

    # ---- Key Vault ----
    def principal(self, audience):
        """(principal, None) for a good token for AUDIENCE, else (None,
        why): "missing", "invalid", "expired" or the token's audience"""
        if not self.token:
            return None, "missing"
        if self.token in CONF.get("static_tokens", {}):
            return CONF["static_tokens"][self.token], None
        with LOCK:
            p = TOKENS.get(self.token)
        if not p:
            return None, "invalid"
        if p[1] <= time.time():
            return None, "expired"
        if p[2] != audience:
            return None, p[2]
        return p[0], None

    def vault(self, method):
        base = "https://%s" % self.headers.get("Host")
        who, why = self.principal(VAULT_AUD)
        if not who:
            return self.kv_error(401, "Unauthorized",
                "AKV10022: Invalid audience." if why == ARM_AUD else
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

    # ---- Azure Resource Manager: Microsoft.Compute disks and snapshots ----
    # Following "Disks - Get", "Disks - Grant Access", "Disks - Revoke
    # Access" and the Snapshots ones, and ARM's asynchronous operations
    # ("Track asynchronous Azure operations"): 202 with Location (polled:
    # 202 until done, then the operation's result) and, for Compute,
    # Azure-AsyncOperation (polled: a status body, the result in
    # properties.output).
    def arm_error(self, status, code, message, headers=None):
        self.reply(status, {"error": {"code": code, "message": message}}, headers)

    def arm_unauthorized(self, why):
        messages = {
            "missing": ("AuthenticationFailed", "Authentication failed. The "
                        "'Authorization' header is missing."),
            "invalid": ("InvalidAuthenticationToken", "The access token is "
                        "invalid."),
            "expired": ("ExpiredAuthenticationToken", "The access token "
                        "expiry UTC time is earlier than current UTC time.")}
        code, msg = messages.get(why, ("InvalidAuthenticationTokenAudience",
            "The access token has been obtained for wrong audience or "
            "resource '%s'. It should exactly match with one of the allowed "
            "audiences 'https://management.core.windows.net/','https://"
            "management.core.windows.net','https://management.azure.com/',"
            "'https://management.azure.com'." % why))
        desc = "The authentication failed because of missing 'Authorization' " \
            "header." if why == "missing" else "The access token is not valid."
        self.arm_error(401, code, msg, {"WWW-Authenticate":
            'Bearer authorization_uri="%s/%s", error="invalid_token", '
            'error_description="%s"' % (CONF["authority"], CONF["tenant"], desc)})

    def arm_denied(self, who, res, action):
        p = CONF["principals"][who]
        oid = p.get("object_id", str(uuid.uuid5(uuid.NAMESPACE_URL, who)))
        self.arm_error(403, "AuthorizationFailed",
            "The client '%s' with object id '%s' does not have authorization "
            "to perform action 'Microsoft.Compute/%s/%s' over scope '%s' or "
            "the scope is invalid. If access was recently granted, please "
            "refresh your credentials." % (p.get("client_id", oid), oid,
                                           arm_kind(res), action, res["id"]))

    def arm(self, method):
        who, why = self.principal(ARM_AUD)
        if not who:
            return self.arm_unauthorized(why)
        self.entry["principal"] = who
        api = self.query.get("api-version", [None])[0]
        if api is None:
            return self.arm_error(400, "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required "
                "for all requests.")
        path = self.path_only
        m = re.fullmatch(r"/subscriptions/([^/]+)/providers/Microsoft\.Compute/"
                         r"locations/([^/]+)/DiskOperations/([^/]+)", path, re.I)
        if api != ARM_API:
            kind = re.search(r"/(disks|snapshots)/", path, re.I)
            return self.arm_error(400, "NoRegisteredProviderFound",
                "No registered resource provider found for location '%s' and "
                "API version '%s' for type '%s'. The supported api-versions "
                "are '%s'." % (m.group(2) if m else "westeurope", api,
                "locations/DiskOperations" if m else
                kind.group(1) if kind else "unknown", ARM_API))
        if m and method == "GET":
            return self.arm_poll(m.group(1), m.group(3))
        m = re.fullmatch(r"(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
                         r"Microsoft\.Compute/(?:disks|snapshots)/[^/]+)"
                         r"(?:/(beginGetAccess|endGetAccess))?", path, re.I)
        if not m or (method == "GET") != (m.group(2) is None):
            return self.arm_error(404, "NotFound", "no such operation: %s %s"
                                  % (method, path))
        res = next((r for r in CONF.get("arm", [])
                    if r["id"].lower() == m.group(1).lower()), None)
        if not res:
            parts = m.group(1).split("/")
            return self.arm_error(404, "ResourceNotFound",
                "The Resource 'Microsoft.Compute/%s/%s' under resource group "
                "'%s' was not found. For more details please go to "
                "https://aka.ms/ARMResourceNotFoundFix" % (parts[-2], parts[-1],
                                                           parts[4]))
        op = (m.group(2) or "read")
        self.entry["arm_op"] = op
        perms = CONF["principals"][who].get("permissions", [])
        if "arm/" + op not in perms and "arm/*" not in perms:
            return self.arm_denied(who, res, "read" if op == "read"
                                   else op + "/action")
        if op == "read":
            return self.reply(200, self.arm_resource(res))
        if op == "beginGetAccess":
            return self.arm_begin(res)
        return self.arm_end(res)

    def arm_resource(self, res):
        """The disk or snapshot as GET returns it."""
        base = "https://%s" % self.headers.get("Host")
        rid, size = res["id"], res["size"]
        parts = rid.split("/")
        body = {"id": rid, "name": parts[-1],
                "type": "Microsoft.Compute/" + arm_kind(res),
                "location": res.get("location", "westeurope"),
                "sku": {"name": "Standard_LRS", "tier": "Standard"},
                "properties": {
                    "diskSizeGB": -(-size // (1 << 30)), "diskSizeBytes": size,
                    "diskState": arm_state(res), "provisioningState": "Succeeded",
                    "timeCreated": "2024-01-01T00:00:00.0000000+00:00",
                    "uniqueId": str(uuid.uuid5(uuid.NAMESPACE_URL, rid.lower()))}}
        if res.get("managedBy"):
            body["managedBy"] = res["managedBy"]
        if res.get("osType"):
            body["properties"]["osType"] = res["osType"]
        if arm_kind(res) == "snapshots":
            body["properties"]["incremental"] = False
        vault_id = "/subscriptions/%s/resourceGroups/%s/providers/" \
            "Microsoft.KeyVault/vaults/%s" % (parts[2], parts[4],
                                              CONF.get("vault_name", "kv"))
        settings = []
        for e in res.get("encryptionSettings", []):
            sv = {"id": e.get("sourceVault", vault_id)}
            s = {"diskEncryptionKey": {"sourceVault": sv,
                 "secretUrl": e["secretUrl"].replace("{vault}", base)}}
            if e.get("keyUrl"):
                s["keyEncryptionKey"] = {"sourceVault": sv,
                                         "keyUrl": e["keyUrl"].replace("{vault}", base)}
            settings.append(s)
        if settings:
            body["properties"]["encryptionSettingsCollection"] = {
                "enabled": True, "encryptionSettings": settings,
                "encryptionSettingsVersion": res.get("encryptionSettingsVersion", "1.1")}
        return body

    def arm_begin(self, res):
        """Grant Access: validate, then start an operation (202)."""
        try:
            req = json.loads(self.body or b"null")
            access, secs = req.get("access"), req.get("durationInSeconds")
        except (ValueError, AttributeError):
            return self.arm_error(400, "InvalidRequestContent", "The request "
                                  "content was invalid and could not be deserialized.")
        if access != "Read":
            return self.arm_error(400, "InvalidParameter", "The value '%s' of "
                "parameter 'grantAccessData.access' is not valid." % access)
        if not isinstance(secs, int) or isinstance(secs, bool) or secs <= 0:
            return self.arm_error(400, "InvalidParameter", "The value of "
                "parameter 'grantAccessData.durationInSeconds' is not valid.")
        self.entry["duration"] = secs
        forced = res.get("beginStatus")
        if forced == 403:
            return self.arm_denied(self.entry["principal"], res,
                                   "beginGetAccess/action")
        name = res["id"].rsplit("/", 1)[-1]
        if forced == 409 or arm_state(res) == "Attached":
            return self.arm_error(409, "OperationNotAllowed",
                "Operation 'beginGetAccess' is not allowed on %s '%s' since "
                "the disk is attached to VM '%s'." % (
                    "Disk" if arm_kind(res) == "disks" else "Snapshot", name,
                    res.get("managedBy", "unknown")))
        if forced:
            return self.arm_error(forced, "Conflict" if forced < 500 else
                                  "InternalServerError", "configured failure")
        with LOCK:
            ARM_STATE[res["id"].lower()] = "ActiveSAS"
        self.arm_accepted(res, "grant", res.get("polls", 0))

    def arm_end(self, res):
        """Revoke Access: the SAS stops working now (its blob is deleted
        when "revoke" says which), the operation still runs."""
        rv = res.get("revoke")
        if rv:
            try:
                azblob.delete_blob(CONF["azurite"]["endpoint"], rv["container"],
                                   rv["blob"])
                self.entry["revoked"] = True
            except azblob.BlobError as e:   # deleted already: revoked too
                self.entry["revoked"] = "BlobNotFound" in str(e) or str(e)[:80]
        with LOCK:
            ARM_STATE.pop(res["id"].lower(), None)
        self.arm_accepted(res, "end", res.get("endPolls", 0))

    def arm_accepted(self, res, kind, polls):
        """202 with the operation's Location (and Azure-AsyncOperation)."""
        opid = str(uuid.uuid4())
        sub = res["id"].split("/")[2]
        with LOCK:
            nth = GRANTS.get(res["id"].lower(), 0)
            if kind == "grant":
                GRANTS[res["id"].lower()] = nth + 1
            OPS[opid] = {"kind": kind, "res": res, "left": polls, "sub": sub.lower(),
                         "start": iso_now(), "nth": nth}
        self.entry["operation"] = opid
        self.reply(202, None, self.arm_op_headers(res, opid, True))

    def arm_op_headers(self, res, opid, with_async):
        url = "https://%s/subscriptions/%s/providers/Microsoft.Compute/" \
            "locations/%s/DiskOperations/%s?%%sapi-version=%s" % (
                self.headers.get("Host"), res["id"].split("/")[2],
                res.get("location", "westeurope"), opid, ARM_API)
        h = {"Location": url % "monitor=true&",
             "Retry-After": str(res.get("retryAfter", 0))}
        if with_async and res.get("asyncOperation"):
            h["Azure-AsyncOperation"] = url % ""
        return h

    def arm_poll(self, sub, opid):
        monitor = self.query.get("monitor") == ["true"]   # the Location URL
        self.entry["arm_op"] = "poll-location" if monitor else "poll-async"
        with LOCK:
            op = OPS.get(opid)
            if op and op["sub"] == sub.lower():
                running = op["left"] > 0
                op["left"] -= running
        if not op or op["sub"] != sub.lower():
            return self.arm_error(404, "NotFound", "The operation '%s' was "
                                  "not found." % opid)
        res, grant = op["res"], op["kind"] == "grant"
        if running:
            if monitor:
                return self.reply(202, None, self.arm_op_headers(res, opid, False))
            return self.reply(200, {"name": opid, "status": "InProgress",
                                    "startTime": op["start"]},
                              {"Retry-After": str(res.get("retryAfter", 0))})
        sas = res["sas"]
        if isinstance(sas, list):   # one per grant, the last repeated
            sas = sas[min(op["nth"], len(sas) - 1)]
        output = {"accessSAS": sas} if grant else None
        if monitor:
            return self.reply(200, output)
        body = {"name": opid, "status": "Succeeded", "startTime": op["start"],
                "endTime": iso_now()}
        if output:
            body["properties"] = {"output": output}
        self.reply(200, body)


def arm_kind(res):
    """"disks" or "snapshots", from the resource id"""
    return res["id"].split("/")[-2].lower()


def arm_state(res):
    with LOCK:
        return ARM_STATE.get(res["id"].lower(), res.get("diskState", "Unattached"))


def iso_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f0+00:00")


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
