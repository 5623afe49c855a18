#!/bin/sh
# Images given as the resource ID of a managed disk or snapshot, against
# tests/kv/fake_azure.py (Entra ID, Key Vault and Resource Manager) and
# Azurite: vhdunlock signs in, reads the resource, takes its ADE secret
# (a plain BEK; a KEK-wrapped Linux key file) from the encryption settings
# without --key-vault, asks for read access (polled through Location and
# through Azure-AsyncOperation), reads the blob through the SAS it gets,
# and revokes the access at the end of every command and at unmount: the
# SAS then no longer works.  --keep-access keeps it; an attached disk (409)
# and a missing permission (403) get messages that say what to do; no SAS
# signature or client secret appears in any output, --debug included.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/blob-lib.sh"
need qemu-img cryptsetup sfdisk partx mkfs.ext4 jq curl openssl fusermount3 cmp python3
[ -c /dev/fuse ] || skip "no /dev/fuse"
cd "$work" || exit 1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$work/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$work/ubsan:print_stacktrace=1"
kv="$top_srcdir/tests/kv"
mnt="$work/mnt" rmnt="$work/mnt-renew"
mkdir -p "$mnt" "$rmnt"
srv=""
cleanup() {
	mounted "$mnt" && fusermount3 -u -z "$mnt"
	mounted "$rmnt" && fusermount3 -u -z "$rmnt"
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	azurite_stop
}

# --- the disks: Windows-like (demo) and a Linux data disk (inline LUKS2)
qemu-img convert -O vpc -o subformat=fixed,force_size=on \
	"$top_srcdir/testdata/demo.vhd" win.vhd || { fail "qemu-img"; finish; }
bek=$(ls "$top_srcdir"/testdata/demo-keys/*.BEK)
guid=$(basename "$bek" .BEK)
mkdir -p tree/etc
echo linuxvm > tree/etc/hostname
head -c 2000000 /dev/urandom > tree/data.bin
head -c 12000000 /dev/urandom > tree/big.bin
ade_key ade.key
luks_data_vhd lin.vhd tree ade.key 24 || finish

azurite_start
trap cleanup EXIT
blob_upload win.vhd disks win.vhd && blob_upload lin.vhd disks lin.vhd ||
	{ fail "upload"; finish; }
blob_copy disks lin.vhd lin-revoke.vhd || fail "blob_copy"
wsas=$(blob_sas disks win.vhd) lsas=$(blob_sas disks lin-revoke.vhd) ksas=$(blob_sas disks lin.vhd)
# a SAS that expires in 9 s: the mount of RX must ask for a new one
shortsas=$(blob_sas disks lin.vhd --minutes 0.15)

# --- Entra ID, Key Vault and Resource Manager
sh "$kv/make-ca.sh" "$work" || { fail "make-ca.sh"; finish; }
openssl pkey -in kek.pem -pubout -out kek-pub.pem 2>/dev/null
wrap() {
	openssl pkeyutl -encrypt -pubin -inkey "$2" -pkeyopt rsa_padding_mode:oaep \
		-pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1 -in "$1" |
		base64 -w0 | tr '+/' '-_' | tr -d '='
}
V1=0123456789abcdef0123456789abcdef
TENANT=72f988bf-86f1-41af-91ab-2d7cd011db47
SECRET="s3cr3t-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
S=/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ir/providers/Microsoft.Compute
RW=$S/snapshots/win-os RL=$S/snapshots/lin-data RK=$S/snapshots/lin-keep
RA=$S/disks/web01-os RD=$S/snapshots/denied RX=$S/snapshots/lin-renew
perm='["secrets/get","keys/unwrapKey","arm/*"]'
cat > conf.json <<JSON
{ "tenant": "$TENANT", "vault_name": "kv-ir",
  "principals": {
    "app": {"client_id": "11111111-1111-1111-1111-111111111111", "secret": "$SECRET", "permissions": $perm},
    "app-noarm": {"client_id": "22222222-2222-2222-2222-222222222222", "secret": "$SECRET", "permissions": ["secrets/get", "arm/read"]}
  },
  "secrets": [
    {"name": "win-bek", "version": "$V1", "value": "$(base64 -w0 < "$bek")", "contentType": "BEK",
     "tags": {"DiskEncryptionKeyFileName": "$guid.BEK", "MachineName": "winvm"}},
    {"name": "lin-key", "version": "$V1", "value": "$(wrap ade.key kek-pub.pem)",
     "tags": {"DiskEncryptionKeyFileName": "LinuxPassPhraseFileName_0_0", "MachineName": "linuxvm",
              "DiskEncryptionKeyEncryptionAlgorithm": "RSA-OAEP",
              "DiskEncryptionKeyEncryptionKeyURL": "{vault}/keys/kek/$V1"}}
  ],
  "keys": [ {"name": "kek", "version": "$V1", "private_pem": "$work/kek.pem"} ],
  "azurite": {"endpoint": "$blob_endpoint"},
  "arm": [
    {"id": "$RW", "sas": "$wsas", "size": $(stat -c %s win.vhd), "polls": 2,
     "encryptionSettings": [{"secretUrl": "{vault}/secrets/win-bek/$V1"}]},
    {"id": "$RL", "sas": "$lsas", "size": $(stat -c %s lin.vhd), "polls": 1, "asyncOperation": true,
     "encryptionSettings": [{"secretUrl": "{vault}/secrets/lin-key/$V1", "keyUrl": "{vault}/keys/kek/$V1"}],
     "revoke": {"container": "disks", "blob": "lin-revoke.vhd"}},
    {"id": "$RK", "sas": "$ksas", "size": $(stat -c %s lin.vhd),
     "encryptionSettings": [{"secretUrl": "{vault}/secrets/lin-key/$V1", "keyUrl": "{vault}/keys/kek/$V1"}]},
    {"id": "$RA", "sas": "$ksas", "size": $(stat -c %s lin.vhd), "diskState": "Attached",
     "managedBy": "$S/../Microsoft.Compute/virtualMachines/web01"},
    {"id": "$RD", "sas": "$ksas", "size": $(stat -c %s lin.vhd)},
    {"id": "$RX", "sas": ["$shortsas", "$ksas"], "size": $(stat -c %s lin.vhd),
     "encryptionSettings": [{"secretUrl": "{vault}/secrets/lin-key/$V1", "keyUrl": "{vault}/keys/kek/$V1"}]}
  ],
  "faults": [ {"method": "POST", "path": "$RK/beginGetAccess\$", "status": 429, "retry_after": "0",
               "code": "TooManyRequests", "count": 1} ] }
JSON
"$PY" "$kv/fake_azure.py" --config conf.json --state "$work" 2>server.err &
srv=$!
for _ in $(seq 100); do [ -e ready ] && break; sleep 0.1; done
[ -e ready ] || { fail "fake_azure.py did not start: $(cat server.err)"; finish; }
port=$(cat https.port)
export AZURE_AUTHORITY_HOST="https://localhost:$port" AZURE_TENANT_ID=$TENANT \
	AZURE_CLIENT_ID=11111111-1111-1111-1111-111111111111 AZURE_CLIENT_SECRET=$SECRET
export VHDUNLOCK_ARM_URL="https://localhost:$port" VHDUNLOCK_RETRY_MAX_WAIT=1
A="--ca-file ca.pem"
: > all-output
run() {
	"$VHDUNLOCK" "$@" >out 2>err </dev/null
	r_st=$?
	cat out err >> all-output
	return $r_st
}
logged() { jq -c "select($1)" requests.log | grep -q .; }
ends() { jq -c "select(.method == \"POST\" and (.path | endswith(\"$1/endGetAccess\")))" requests.log | wc -l; }

# 0. a SAS refused during a mount (expired) is replaced by a new grant:
# the file being read is read right, not EIO.  Mounted here (its own
# mount point), read again after sections 1-5 once the clock is past the
# first SAS's expiry: the wait overlaps their work instead of a sleep.
if "$VHDUNLOCK" mount "$RX" "$rmnt" $A --cache-size 8M 2>rx.err; then
	for _ in $(seq 100); do mounted "$rmnt" && break; sleep 0.1; done
	cmp -s tree/etc/hostname "$rmnt/p1/etc/hostname" || fail "renew: hostname"
	rx_mounted=1
else
	fail "mount $RX: $(cat rx.err)"
	rx_mounted=
fi
v=$(printf '%s' "$shortsas" | sed -n 's/.*[?&]sig=\([^&]*\).*/\1/p')
printf '%s\n' "$v" > short.sig

# 1. the Windows snapshot: the BEK secret of its encryption settings opens
# p2, no --key-vault; access granted through Location polling
run cat "$RW" p2:/README.txt $A && mv out readme.url &&
	"$VHDUNLOCK" cat win.vhd p2:/README.txt --bek "$top_srcdir/testdata/demo-keys" > readme.local &&
	cmp -s readme.url readme.local && ok "win snapshot: cat p2:/README.txt through the resource ID" ||
	fail "win snapshot: $(cat err)"
logged ".method == \"GET\" and .path == \"$RW\" and .status == 200" &&
	logged ".method == \"POST\" and .path == \"$RW/beginGetAccess\" and .status == 202" &&
	logged '.path == "/secrets/win-bek/'$V1'" and .status == 200' &&
	ok "win snapshot: GET, beginGetAccess (202, polled), the exact secret version" ||
	fail "win snapshot: requests: $(tail -n 8 requests.log)"
[ "$(ends "$RW")" -ge 1 ] && ok "win snapshot: access revoked at the end" ||
	fail "win snapshot: no endGetAccess"
logged '.path == "/secrets"' && fail "the vault's secrets were listed" ||
	ok "nothing listed: only the secret the resource names"

# 2. the Linux snapshot: KEK-wrapped key file, unwrapped with the keyUrl's
# version; Azure-AsyncOperation polling; mounted, every file checked
run export "$RL" p1 url.img $A && "$VHDUNLOCK" export lin.vhd p1 local.img --key-file ade.key 2>/dev/null &&
	cmp -s url.img local.img && ok "lin snapshot: export p1 equals the local file's" ||
	fail "lin snapshot: export: $(cat err)"
logged ".path == \"/keys/kek/$V1/unwrapkey\" and .status == 200" &&
	ok "lin snapshot: the key file unwrapped with kek/$V1" || fail "no unwrapkey"
n0=$(ends "$RL")
# the double revoked by deleting the blob its SAS reads: put it back
blob_copy disks lin.vhd lin-revoke.vhd || fail "blob_copy"
if "$VHDUNLOCK" mount "$RL" "$mnt" $A 2>err; then
	for _ in $(seq 100); do mounted "$mnt" && break; sleep 0.1; done
	same_tree "lin snapshot: p1 through the mount" tree "$mnt/p1"
	[ "$(ends "$RL")" = "$n0" ] && ok "mounted: access not revoked while mounted" ||
		fail "access revoked while mounted"
	"$VHDUNLOCK" umount "$mnt" 2>err || fail "umount: $(cat err)"
	for _ in $(seq 100); do [ "$(ends "$RL")" -gt "$n0" ] && break; sleep 0.1; done
	[ "$(ends "$RL")" -gt "$n0" ] && ok "unmounted: access revoked" || fail "no endGetAccess at unmount"
else
	fail "mount $RL: $(cat err)"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' "$lsas")
[ "$code" != 200 ] && [ "$code" != 206 ] && ok "the revoked SAS no longer reads (HTTP $code)" ||
	fail "the SAS still reads after endGetAccess (HTTP $code)"

# 3. SIGTERM of a foreground mount revokes too; --keep-access keeps
n0=$(ends "$RK")
"$VHDUNLOCK" mount -f "$RK" "$mnt" $A 2>fg.err &
fg=$!
for _ in $(seq 150); do mounted "$mnt" && break; sleep 0.1; done
mounted "$mnt" && ok "foreground mount after a 429 on beginGetAccess" || fail "foreground mount: $(cat fg.err)"
kill -TERM "$fg"
wait "$fg"
for _ in $(seq 50); do mounted "$mnt" || break; sleep 0.1; done
[ "$(ends "$RK")" -gt "$n0" ] && ok "SIGTERM: access revoked" || fail "SIGTERM: no endGetAccess: $(cat fg.err)"
n0=$(ends "$RK")
run ls "$RK" p1:/ $A --keep-access
[ $r_st -eq 0 ] && [ "$(ends "$RK")" = "$n0" ] && grep -q 'read access kept' err &&
	ok "--keep-access: not revoked, and said so" || fail "--keep-access: $(cat err)"

# 4. refusals
run info "$RA" $A
[ $r_st -eq 1 ] && grep -q 'az snapshot create' err && ok "attached disk: $(cat err)" ||
	fail "attached disk: exit $r_st: $(cat err)"
(export AZURE_CLIENT_ID=22222222-2222-2222-2222-222222222222
 run info "$RD" $A
 [ $r_st -eq 1 ] && grep -q 'Microsoft.Compute/snapshots/beginGetAccess/action' err &&
	ok "no permission: $(cat err)" || fail "no permission: exit $r_st: $(cat err)")
run info "$S/snapshots/nosuch" $A
[ $r_st -eq 1 ] && grep -q 'no such snapshot' err && ok "missing snapshot: $(cat err)" ||
	fail "missing snapshot: exit $r_st: $(cat err)"

# 0, after sections 1-5: wait until the first SAS has expired (its se= is
# the expiry, whole seconds, UTC; one second more for the server's
# comparison), then read a file larger than the cache
se=$(printf '%s' "$shortsas" | sed -n 's/.*[?&]se=\([^&]*\).*/\1/p' | sed 's/%3A/:/g')
se_s=$(date -u -d "$se" +%s) || fail "renew: no expiry in the short SAS: $se"
i=0
while [ "$(date +%s)" -le $((se_s + 1)) ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(date +%s)" -gt $((se_s + 1)) ] || fail "renew: the clock did not pass the SAS's expiry $se"
if [ -n "$rx_mounted" ]; then
	cmp -s tree/big.bin "$rmnt/p1/big.bin" && ok "renew: big.bin read right after the first SAS expired" ||
		fail "renew: big.bin not read right after the SAS expired"
	n=$(jq -c "select(.method == \"POST\" and .path == \"$RX/beginGetAccess\" and .status == 202)" requests.log | wc -l)
	[ "$n" -ge 2 ] && ok "renew: read access asked for again ($n grants)" ||
		fail "renew: $n grants"
	"$VHDUNLOCK" umount "$rmnt" 2>err || fail "umount: $(cat err)"
	for _ in $(seq 100); do mounted "$rmnt" || break; sleep 0.1; done
fi

# 5. no secret in any output, --debug included
run --debug info "$RW" $A
run --debug ls "$RL" p1:/ $A
for s in "$wsas" "$lsas" "$ksas" "$shortsas"; do
	v=$(printf '%s' "$s" | sed -n 's/.*[?&]sig=\([^&]*\).*/\1/p')
	[ -n "$v" ] || fail "no signature in a SAS"
	grep -qF -- "$v" all-output && fail "a SAS signature appeared in the output"
done
grep -qF -- "$SECRET" all-output && fail "the client secret appeared in the output"
grep -qF -- "$(cat ade.key)" all-output && fail "the key file appeared in the output"
ok "no SAS signature, client secret or key in $(wc -l < all-output) lines of output"
finish
