#!/bin/sh
# Key Vault, end to end, against tests/kv/fake_azure.py (a local HTTPS test
# double of Entra ID, the metadata service and Key Vault; see its header)
# with a CA made here: BitLocker disks (the test writer's, NTFS inside) and
# a LUKS2 data disk unlock from ADE secrets found by their tags, with every
# sign-in method (client secret; certificate, PS256 and RS256; workload
# identity; system- and user-assigned managed identity; the Azure CLI; a
# token file), wrapped secrets unwrapped by Key Vault with the exact KEK
# version and locally with --kek-pem, --secret-url, keys --save; and each
# failure's message: wrong secret, missing permissions, a deleted secret,
# a disabled key version, no matching secret, 429 then success, 500, TLS
# without the CA, DNS.  No secret or token appears in any output.
. "$top_srcdir/tests/integration/lib.sh"
need python3 openssl mkntfs ntfs-3g cryptsetup mkfs.ext4 sfdisk partx qemu-img jq base64 cmp
python3 -c 'import cryptography' 2>/dev/null || skip "python3-cryptography not installed"
[ -c /dev/fuse ] || skip "no /dev/fuse (ntfs-3g populates the NTFS image)"
mk="$top_builddir/tests/tools/mkbitlk"
kv="$top_srcdir/tests/kv"
cd "$work" || exit 1
export VHDUNLOCK_RETRY_MAX_WAIT=1 VHDUNLOCK_HTTP_TIMEOUT=20
unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_CLIENT_CERTIFICATE_PATH \
	AZURE_FEDERATED_TOKEN_FILE AZURE_AUTHORITY_HOST AZURE_POD_IDENTITY_AUTHORITY_HOST

# ---- disks: four BitLocker volumes of one NTFS image, a LUKS2 data disk
mkdir -p src nmnt && echo "payroll 2026" > src/payroll.txt
truncate -s 16M plain.ntfs && mkntfs -F -Q -q plain.ntfs >/dev/null 2>&1 &&
	ntfs-3g plain.ntfs nmnt && cp src/payroll.txt nmnt/ && umount nmnt || fail "NTFS"
for k in 1 2 3 4 5; do # (gpt_vhd uses n)
	mkdir "bek$k"
	"$mk" --method xts-128 --bek-dir "bek$k" --recovery-password-file "rp$k.txt" \
		plain.ntfs "bl$k.img" >/dev/null || fail "mkbitlk $k"
	gpt_vhd "win$k.vhd" "1:0700:16:bl$k.img"
	eval "bek$k=\$(ls bek$k/*.BEK)"
	eval "guid$k=\$(basename \"\$bek$k\" .BEK)"
done
head -c 127 /dev/urandom | base64 -w0 > ade.key
head -c 127 /dev/urandom | base64 -w0 > old.key
mkdir -p dsrc && echo "data disk" > dsrc/readme.txt
mkfs.ext4 -q -F -d dsrc data.fs 24M && cp data.fs data.enc && truncate -s 40M data.enc
cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --batch-mode \
	--key-file ade.key --pbkdf pbkdf2 --pbkdf-force-iterations 1000 data.enc >mk.log 2>&1 ||
	fail "cryptsetup: $(cat mk.log)"
gpt_vhd data.vhd 1:8300:40:data.enc
# an Ubuntu-like OS disk: root LUKS2 with its header only in the plain
# boot partition's luks/osluksheader (ADE's layout, see ade.sh)
mkdir -p rsrc/etc tb/luks && echo ubuntu-vm > rsrc/etc/hostname
mkfs.ext4 -q -F -d rsrc root.fs 24M && cp root.fs root.enc
cryptsetup reencrypt --encrypt --type luks2 --header os.hdr --batch-mode --key-file ade.key \
	--pbkdf pbkdf2 --pbkdf-force-iterations 1000 root.enc >mk.log 2>&1 || fail "cryptsetup root: $(cat mk.log)"
truncate -s 32M os.hdr && cp os.hdr tb/luks/osluksheader
mkfs.ext2 -q -F -d tb boot.fs 40M || fail "mkfs.ext2 boot"
gpt_vhd ubuntu.vhd 1:8300:24:root.enc 2:8300:40:boot.fs
sha256sum ./*.vhd > images.sha256

# ---- CA, certificates, KEKs; the secrets as ADE stores them
sh "$kv/make-ca.sh" "$work" || { fail "make-ca.sh"; finish; }
b64() { base64 -w0 < "$1"; }
# wrap FILE KEYPEM OAEPMD: base64url of the RSA-OAEP-wrapped bytes
wrap() {
	openssl pkeyutl -encrypt -pubin -inkey "$2" -pkeyopt rsa_padding_mode:oaep \
		-pkeyopt rsa_oaep_md:"$3" -pkeyopt rsa_mgf1_md:"$3" -in "$1" |
		base64 -w0 | tr '+/' '-_' | tr -d '='
}
openssl pkey -in kek2.pem -pubout -out kek2-pub.pem 2>/dev/null
V1=0123456789abcdef0123456789abcdef V2=fedcba9876543210fedcba9876543210
TENANT=72f988bf-86f1-41af-91ab-2d7cd011db47
printf 'federated-token-%s' "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" > wi.token
printf 'cli-%s' "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" > cli.token
printf 'file-%s' "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" > file.token
SECRET="s3cr3t-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
U=$(printf '%s' "$guid1" | tr a-f A-F) W=$(printf '%s' "$guid2" | tr a-f A-F)
X=$(printf '%s' "$guid3" | tr a-f A-F) Y=$(printf '%s' "$guid4" | tr a-f A-F)
Z=$(printf '%s' "$guid5" | tr a-f A-F)
all='["secrets/get","secrets/list","keys/unwrapKey"]'
cat > conf.json <<JSON
{ "tenant": "$TENANT", "vault_name": "kv-test", "page_size": 2,
  "principals": {
    "app-secret": {"client_id": "11111111-1111-1111-1111-111111111111", "secret": "$SECRET", "permissions": $all},
    "app-cert": {"client_id": "22222222-2222-2222-2222-222222222222", "cert_pem": "$work/client-cert.pem", "permissions": $all},
    "app-wi": {"client_id": "33333333-3333-3333-3333-333333333333", "federated_token": "$(cat wi.token)", "permissions": $all},
    "mi-system": {"managed_identity": "system", "permissions": $all},
    "mi-user": {"managed_identity": "user", "client_id": "44444444-4444-4444-4444-444444444444", "permissions": $all},
    "cli-user": {"permissions": $all},
    "file-user": {"permissions": $all},
    "app-getonly": {"client_id": "55555555-5555-5555-5555-555555555555", "secret": "$SECRET", "permissions": ["secrets/get"]},
    "app-nounwrap": {"client_id": "66666666-6666-6666-6666-666666666666", "secret": "$SECRET", "permissions": ["secrets/get","secrets/list"]}
  },
  "static_tokens": {"$(cat cli.token)": "cli-user", "$(cat file.token)": "file-user"},
  "secrets": [
    {"name": "a1b2c3d4-0001-4000-8000-000000000001", "version": "$V1", "value": "$(b64 "$bek1")", "contentType": "BEK", "created": 1700000000,
     "tags": {"DiskEncryptionKeyFileName": "$U.BEK", "MachineName": "winvm", "VolumeLetter": "C:\\\\"}},
    {"name": "a1b2c3d4-0002-4000-8000-000000000002", "version": "$V1", "value": "$(wrap "$bek2" kek-pub.pem sha256)", "contentType": "Wrapped BEK", "created": 1700000100,
     "tags": {"DiskEncryptionKeyFileName": "$W.BEK", "DiskEncryptionKeyEncryptionAlgorithm": "RSA-OAEP-256",
              "DiskEncryptionKeyEncryptionKeyURL": "{vault}/keys/kek/$V1", "MachineName": "winvm2"}},
    {"name": "a1b2c3d4-0003-4000-8000-000000000003", "version": "$V1", "value": "$(wrap "$bek3" kek2-pub.pem sha1)", "contentType": "Wrapped BEK", "created": 1700000200,
     "tags": {"DiskEncryptionKeyFileName": "$X.BEK", "DiskEncryptionKeyEncryptionAlgorithm": "RSA-OAEP",
              "DiskEncryptionKeyEncryptionKeyURL": "{vault}/keys/kek2/$V1"}},
    {"name": "a1b2c3d4-0007-4000-8000-000000000007", "version": "$V1", "value": "$(wrap "$bek5" kek-pub.pem sha1)", "contentType": "Wrapped BEK", "created": 1700000400,
     "tags": {"DiskEncryptionKeyFileName": "$Z.BEK", "DiskEncryptionKeyEncryptionAlgorithm": "RSA-OAEP",
              "DiskEncryptionKeyEncryptionKeyURL": "{vault}/keys/kek3/$V1"}},
    {"name": "a1b2c3d4-0005-4000-8000-000000000005", "version": "$V1", "value": "$(b64 old.key)", "created": 1600000000,
     "tags": {"DiskEncryptionKeyFileName": "LinuxPassPhraseFileName_0_0", "MachineName": "linuxvm"}},
    {"name": "a1b2c3d4-0006-4000-8000-000000000006", "version": "$V1", "value": "$(b64 ade.key)", "created": 1700000300,
     "tags": {"DiskEncryptionKeyFileName": "LinuxPassPhraseFileName_0_1", "MachineName": "linuxvm"}},
    {"name": "a1b2c3d4-0000-4000-8000-000000000000", "version": "$V1", "value": "$(b64 "$bek4")", "contentType": "BEK", "created": 1600000000,
     "tags": {"DiskEncryptionKeyFileName": "$U.BEK", "MachineName": "winvm"}},
    {"name": "rsa15", "version": "$V1", "value": "$(openssl pkeyutl -encrypt -pubin -inkey kek-pub.pem -pkeyopt rsa_padding_mode:pkcs1 -in "$bek1" | base64 -w0)", "contentType": "Wrapped BEK",
     "tags": {"DiskEncryptionKeyEncryptionAlgorithm": "RSA1_5", "DiskEncryptionKeyEncryptionKeyURL": "{vault}/keys/kek/$V1"}},
    {"name": "slow", "version": "$V1", "value": "$(b64 "$bek1")", "contentType": "BEK", "tags": {}},
    {"name": "flaky", "version": "$V1", "value": "$(b64 "$bek1")", "contentType": "BEK", "tags": {}},
    {"name": "broken", "version": "$V1", "value": "$(b64 "$bek1")", "contentType": "BEK", "tags": {}},
    {"name": "deleted-one", "version": "$V1", "value": "$(b64 "$bek1")", "deleted": true, "tags": {}},
    {"name": "disabled-one", "version": "$V1", "value": "$(b64 "$bek1")", "enabled": false, "tags": {}}
  ],
  "keys": [
    {"name": "kek", "version": "$V1", "private_pem": "$work/kek.pem"},
    {"name": "kek", "version": "$V2", "private_pem": "$work/kek2.pem"},
    {"name": "kek2", "version": "$V1", "private_pem": "$work/kek2.pem", "enabled": false},
    {"name": "kek3", "version": "$V1", "private_pem": "$work/kek.pem", "exp": 1600000000}
  ],
  "faults": [ {"method": "GET", "path": "^/secrets$", "status": 429, "retry_after": "1", "count": 1},
              {"method": "GET", "path": "^/metadata/identity", "status": 404, "count": 1},
              {"method": "GET", "path": "^/secrets/flaky", "status": 503, "count": 2},
              {"method": "GET", "path": "^/secrets/broken", "status": 500, "count": 99},
              {"method": "GET", "path": "^/secrets/slow", "sleep": 6, "count": 1} ] }
JSON
python3 "$kv/fake_azure.py" --config conf.json --state "$work" 2>server.err &
srv=$!
trap 'kill $srv 2>/dev/null' EXIT
for _ in $(seq 100); do [ -e ready ] && break; sleep 0.1; done
[ -e ready ] || { fail "fake_azure.py did not start: $(cat server.err)"; finish; }
port=$(cat https.port) hport=$(cat http.port)
VAULT="https://localhost:$port"
export AZURE_AUTHORITY_HOST="https://localhost:$port"

# unlocked NAME IMAGE VOL WANT ARGS...: export of VOL equals WANT
unlocked() {
	u_name=$1 u_img=$2 u_vol=$3 u_want=$4
	shift 4
	rm -f out.img
	vu 0 "$u_name" export "$u_img" "$u_vol" out.img --ca-file ca.pem "$@" &&
		cmp -s -n "$(wc -c < "$u_want")" "$u_want" out.img && ok "$u_name" ||
		fail "$u_name: the export differs"
}
logged() { jq -c "select($1)" requests.log | grep -q .; }

# 1. client secret (and the 429 on the first list, retried)
(export AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=11111111-1111-1111-1111-111111111111 AZURE_CLIENT_SECRET=$SECRET
 unlocked "client secret: win1 unlocks from the BEK secret tagged $U.BEK" win1.vhd p1 plain.ntfs --key-vault "$VAULT")
logged '.path == "/'$TENANT'/oauth2/v2.0/token" and .grant == "secret" and .status == 200' &&
	ok "client secret: token endpoint answered" || fail "no client-secret token request in requests.log"
[ "$(jq -c 'select(.path == "/secrets")' requests.log | wc -l)" -ge 2 ] && logged '.path == "/secrets" and .status == 429' &&
	ok "429 with Retry-After: the list was asked again" || fail "no retry after 429"

# 2. client certificate: PS256 with x5t#S256 by default, RS256 with x5t
for alg in PS256 RS256; do
	rm -f requests.log
	(export AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=22222222-2222-2222-2222-222222222222 \
		AZURE_CLIENT_CERTIFICATE_PATH="$work/client.pem"
	 [ $alg = RS256 ] && export VHDUNLOCK_ASSERTION_ALG=RS256
	 unlocked "certificate ($alg): win1 unlocks" win1.vhd p1 plain.ntfs --key-vault "$VAULT")
	logged ".assertion_alg == \"$alg\" and .status == 200" && ok "certificate: a $alg assertion was verified" ||
		fail "certificate: no verified $alg assertion in requests.log"
	# two secrets carry win1's tag: the newer opens it, the older (another
	# BEK) is never fetched
	logged '.path == "/secrets/a1b2c3d4-0001-4000-8000-000000000001"' &&
		! logged '.path == "/secrets/a1b2c3d4-0000-4000-8000-000000000000"' &&
		ok "of two secrets with the tag, the newest was used" || fail "newest-first: $(jq -c .path requests.log | tr '\n' ' ')"
done

# 3. workload identity: the federated token file
(export AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=33333333-3333-3333-3333-333333333333 \
	AZURE_FEDERATED_TOKEN_FILE="$work/wi.token"
 unlocked "workload identity: win1 unlocks" win1.vhd p1 plain.ntfs --key-vault "$VAULT")

# 4. managed identity, system- and user-assigned (tenant from the challenge)
rm -f requests.log
(export AZURE_POD_IDENTITY_AUTHORITY_HOST="http://127.0.0.1:$hport"
 unlocked "managed identity (system): win1 unlocks" win1.vhd p1 plain.ntfs --key-vault "$VAULT" --auth managed-identity
 logged '.path == "/metadata/identity/oauth2/token" and .metadata_header == "true" and .principal == "mi-system"' &&
	ok "managed identity: asked with Metadata: true" || fail "managed identity: no IMDS request"
 logged '.path == "/metadata/identity/oauth2/token" and .status == 404' &&
	ok "managed identity: a 404 of the metadata service was retried" || fail "no IMDS 404 in requests.log"
 logged '.path == "/secrets" and .has_auth == false and .status == 401' &&
	ok "the first call without a token got the 401 challenge" || fail "no challenge in requests.log"
 AZURE_CLIENT_ID=44444444-4444-4444-4444-444444444444 \
	unlocked "managed identity (user-assigned): win1 unlocks" win1.vhd p1 plain.ntfs --key-vault "$VAULT" --auth managed-identity
 logged '.principal == "mi-user"' && ok "user-assigned identity picked by AZURE_CLIENT_ID" || fail "no mi-user request")

# 5. the Azure CLI's account; 6. a token file
(export PATH="$kv:$PATH" FAKE_AZ_TOKEN_FILE="$work/cli.token"
 unlocked "azure-cli: win1 unlocks" win1.vhd p1 plain.ntfs --key-vault "$VAULT" --auth azure-cli
 FAKE_AZ_FAIL=1 vu 1 "azure-cli not signed in" export win1.vhd p1 out.img --ca-file ca.pem \
	--key-vault "$VAULT" --auth azure-cli &&
	grep -q "az login" err && ok "azure-cli not signed in: $(cat err)" ||
	fail "azure-cli not signed in: $(cat err)")
unlocked "token file: win1 unlocks" win1.vhd p1 plain.ntfs --key-vault "$VAULT" --access-token-file file.token --auth token

# 7. wrapped BEK: Key Vault unwraps with the exact version in the tag
# (version 2 of the key is another key); --kek-pem unwraps locally
export AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=11111111-1111-1111-1111-111111111111 AZURE_CLIENT_SECRET=$SECRET
rm -f requests.log
unlocked "wrapped BEK: win2 unlocks through unwrapkey" win2.vhd p1 plain.ntfs --key-vault "$VAULT"
logged ".path == \"/keys/kek/$V1/unwrapkey\" and .alg == \"RSA-OAEP-256\" and .status == 200" &&
	ok "unwrapkey of kek/$V1 (the tag's version), RSA-OAEP-256" || fail "no unwrapkey of kek/$V1"
rm -f requests.log
unlocked "wrapped BEK: win2 unlocks with --kek-pem" win2.vhd p1 plain.ntfs --key-vault "$VAULT" --kek-pem kek.pem
logged '.path | test("unwrapkey")' && fail "--kek-pem still called unwrapkey" || ok "--kek-pem: no unwrapkey call"
vu 3 "--kek-pem with another key" export win2.vhd p1 out.img --ca-file ca.pem --key-vault "$VAULT" --kek-pem kek2.pem ||
	true
grep -q "decryption failed" err && ok "--kek-pem with the wrong key: $(head -n 1 err)" || fail "wrong --kek-pem: $(cat err)"

# 8. LUKS: the LinuxPassPhraseFileName* secrets, newest first
unlocked "LUKS2 data disk unlocks from LinuxPassPhraseFileName_0_1" data.vhd p1 data.fs --key-vault "$VAULT"
unlocked "--machine linuxvm" data.vhd p1 data.fs --key-vault "$VAULT" --machine linuxvm
unlocked "Ubuntu-like OS disk: the root (header on /boot) unlocks from Key Vault" ubuntu.vhd p1 root.fs --key-vault "$VAULT"
vu 3 "--machine othervm" export data.vhd p1 out.img --ca-file ca.pem --key-vault "$VAULT" --machine othervm &&
	grep -q "LinuxPassPhraseFileName\*.*MachineName=othervm" err && ok "--machine othervm: no secret, the tags named" ||
		fail "--machine othervm: exit $v_st: $(cat err)"

# 9. keys --save: the BEK as Windows wrote it, the origin a secret id
rm -rf saved
if vu 0 "keys --save" keys win1.vhd --ca-file ca.pem --key-vault "$VAULT" --save saved --json; then
	cmp -s "saved/$U.BEK" "$bek1" && [ "$(stat -c %a "saved/$U.BEK")" = 600 ] &&
		ok "keys --save wrote $U.BEK byte for byte, mode 0600" || fail "keys --save: saved BEK differs"
	jq -e --arg v "$VAULT" '.volumes[0].key.origin | startswith($v + "/secrets/a1b2c3d4-0001")' out >/dev/null &&
		ok "keys: the origin is the secret's id" || fail "keys --json: $(cat out)"
fi

# RSA1_5 (and a standard-base64 wrapped value), by Key Vault and locally
unlocked "RSA1_5-wrapped BEK by unwrapkey" win1.vhd p1 plain.ntfs --secret-url "$VAULT/secrets/rsa15"
unlocked "RSA1_5-wrapped BEK by --kek-pem" win1.vhd p1 plain.ntfs --secret-url "$VAULT/secrets/rsa15" --kek-pem kek.pem

# 10. --secret-url, with a version; 503 twice, then the secret
unlocked "--secret-url: win1 unlocks" win1.vhd p1 plain.ntfs --secret-url "$VAULT/secrets/a1b2c3d4-0001-4000-8000-000000000001/$V1"
rm -f requests.log
unlocked "503 twice, then the secret: win1 unlocks" win1.vhd p1 plain.ntfs --secret-url "$VAULT/secrets/flaky"
[ "$(jq -c 'select(.path == "/secrets/flaky" and .status == 503)' requests.log | wc -l)" = 2 ] &&
	ok "two 503 answers were retried" || fail "503s not retried: $(cat requests.log)"


# ---- failures
(export AZURE_CLIENT_SECRET=wrong
 vu 1 "wrong client secret" export win1.vhd p1 out.img --ca-file ca.pem --key-vault "$VAULT" &&
	grep -q "AADSTS7000215" err && ok "wrong client secret: $(cat err)" ||
		fail "wrong client secret: exit $v_st: $(cat err)")
(export AZURE_CLIENT_ID=55555555-5555-5555-5555-555555555555
 vu 1 "no secrets/list" export win1.vhd p1 out.img --ca-file ca.pem --key-vault "$VAULT" &&
	grep -q "no secrets/list permission" err && ok "missing secrets/list: $(cat err)" ||
		fail "no secrets/list: exit $v_st: $(cat err)")
(export AZURE_CLIENT_ID=66666666-6666-6666-6666-666666666666
 vu 1 "no keys/unwrapKey" export win2.vhd p1 out.img --ca-file ca.pem --key-vault "$VAULT" &&
	grep -q "no keys/unwrapKey permission" err && ok "missing keys/unwrapKey: $(cat err)" ||
		fail "no keys/unwrapKey: exit $v_st: $(cat err)")
vu 1 "deleted secret" export win1.vhd p1 out.img --ca-file ca.pem --secret-url "$VAULT/secrets/deleted-one" &&
	grep -q "az keyvault secret recover --vault-name localhost --name deleted-one" err &&
	ok "soft-deleted secret: $(cat err)" || fail "soft-deleted secret: $(cat err)"
vu 1 "a secret that is not there" export win1.vhd p1 out.img --ca-file ca.pem --secret-url "$VAULT/secrets/no-such-secret" &&
	grep -q "secret no-such-secret not found" err && ok "missing secret named: $(cat err)" ||
		fail "missing secret: exit $v_st: $(cat err)"
vu 1 "500 every time" export win1.vhd p1 out.img --ca-file ca.pem --secret-url "$VAULT/secrets/broken" &&
	grep -q "HTTP 500" err && [ "$(jq -c 'select(.path == "/secrets/broken")' requests.log | wc -l)" = 5 ] &&
	ok "500 five times: given up: $(cat err)" || fail "persistent 500: exit $v_st: $(cat err)"
vu 1 "disabled secret" export win1.vhd p1 out.img --ca-file ca.pem --secret-url "$VAULT/secrets/disabled-one" &&
	grep -q "disabled" err && ok "disabled secret: $(cat err)" ||
		fail "deleted secret: exit $v_st: $(cat err)"
vu 1 "disabled KEK version" export win3.vhd p1 out.img --ca-file ca.pem --key-vault "$VAULT" &&
	grep -q "disabled" err && grep -q "kek2" err && ok "disabled key version: $(cat err)" ||
		fail "disabled KEK version: exit $v_st: $(cat err)"
vu 1 "expired KEK version" export win5.vhd p1 out.img --ca-file ca.pem --key-vault "$VAULT" &&
	grep -q "expired" err && grep -q "kek3" err && ok "expired key version: $(cat err)" ||
		fail "expired KEK version: exit $v_st: $(cat err)"
vu 3 "no matching secret" export win4.vhd p1 out.img --ca-file ca.pem --key-vault "$VAULT" &&
	grep -q "no secret tagged DiskEncryptionKeyFileName=$guid4.BEK" err && ok "no matching secret: exit 3, the tag named" ||
		fail "no matching secret: exit $v_st: $(cat err)"
VHDUNLOCK_HTTP_TIMEOUT=2 vu 1 "time-out" export win1.vhd p1 out.img --ca-file ca.pem --secret-url "$VAULT/secrets/slow" &&
	grep -q "no answer from localhost:$port in time" err && ok "time-out: $(cat err)" ||
		fail "time-out: exit $v_st: $(cat err)"
vu 1 "TLS without the CA" export win1.vhd p1 out.img --key-vault "$VAULT" &&
	grep -q "not trusted.*--ca-file" err && ok "TLS without --ca-file: $(cat err)" ||
		fail "TLS without the CA: exit $v_st: $(cat err)"
vu 1 "DNS" export win1.vhd p1 out.img --ca-file ca.pem --key-vault https://nonexistent.invalid &&
	grep -q "cannot resolve host nonexistent.invalid" err && ok "DNS: $(cat err)" ||
		fail "DNS: exit $v_st: $(cat err)"
vu 1 "plain http" export win1.vhd p1 out.img --key-vault "http://localhost:$hport" &&
	grep -q "an https:// URL is expected" err && ok "plain http refused: $(cat err)" ||
		fail "plain http: exit $v_st: $(cat err)"

# ---- no secret in any output
for s in "$SECRET" "$(cat wi.token)" "$(cat cli.token)" "$(cat file.token)" "$(cat ade.key)" "$(b64 "$bek1")"; do
	grep -qF -- "$s" all-output && fail "a secret or token appeared in the output"
done
grep -q "$SECRET" requests.log && fail "the client secret reached requests.log"
sha256sum -c --quiet images.sha256 >sha.log 2>&1 && ok "images unchanged (SHA-256)" ||
	fail "images changed: $(cat sha.log)"
finish
