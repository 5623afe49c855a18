#!/bin/sh
# secrets: no key, password, token or SAS signature leaves the process.
#
# Every command (info, ls, cat, export, extract, audit, keys, mount, umount)
# runs with --debug against the Key Vault, Entra ID and Resource Manager
# double (tests/kv/fake_azure.py) and Azurite, over every way keys come in:
# Key Vault (client secret; the Azure CLI), a wrapped key unwrapped by Key
# Vault, a resource ID (SAS granted by the double), a SAS URL, a .BEK file,
# a recovery password file and VHDUNLOCK_RECOVERY_PASSWORD.  Searched, in
# raw, hex (both cases), base64 and base64url forms: standard output and
# error, the extract manifests, the mount daemon's messages, and the
# command line and environment of every child the program starts (az, and
# fusermount3 for umount: both replaced on PATH by recorders that then run
# the real thing).  The secrets: the client secret, every token the double
# issued, the Azure CLI's token, the SAS signatures, the BitLocker FVEK,
# VMK, startup key (.BEK and the key in it) and recovery password, the LUKS
# key file (text and decoded), its wrapped form and the LUKS volume key.
# Also: the mount daemon's core-dump limit is 0, and a process run as
# another user is not dumpable (its /proc files belong to root), and
# keys --save writes mode 0600.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/blob-lib.sh"
need python3 openssl mkntfs ntfscp cryptsetup mkfs.ext4 sfdisk partx qemu-img \
	jq base64 fusermount3 setpriv stat dd
"$PY" -c 'import cryptography' 2>/dev/null || { fail "python3-cryptography is not installed"; finish; }
[ -c /dev/fuse ] || skip "no /dev/fuse"
[ "$(id -u)" = 0 ] || skip "needs root: a command is run as another user"
mk="$top_builddir/tests/tools/mkbitlk"
[ -x "$mk" ] || { fail "$mk not built"; finish; }
kv="$top_srcdir/tests/kv"
cd "$work" || exit 1
work=$(pwd -P)
export LC_ALL=C
unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_CLIENT_CERTIFICATE_PATH \
	AZURE_FEDERATED_TOKEN_FILE AZURE_AUTHORITY_HOST AZURE_POD_IDENTITY_AUTHORITY_HOST \
	VHDUNLOCK_RECOVERY_PASSWORD
export VHDUNLOCK_RETRY_MAX_WAIT=1
mnt="$work/mnt"
mkdir -p "$mnt" children bin
srv=
cleanup() {
	mounted "$mnt" && fusermount3 -u -z "$mnt"
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	azurite_stop
}

# ---- disks: BitLocker NTFS (the test writer, which prints its keys) and
# an ADE LUKS2 data disk
printf 'payroll 2026\r\n' > payroll.txt
truncate -s 16M plain.ntfs && mkntfs -F -Q -q plain.ntfs >/dev/null 2>&1 &&
	ntfscp -q plain.ntfs payroll.txt payroll.txt || fail "NTFS"
mkdir bek
"$mk" --method xts-128 --bek-dir bek --recovery-password-file rp.txt plain.ntfs bl.img \
	> bitlocker.keys 2>mk.err || fail "mkbitlk: $(cat mk.err)"
gpt_vhd win.vhd 1:0700:16:bl.img
bekfile=$(ls bek/*.BEK) guid=$(basename "$bekfile" .BEK)
ade_key ade.key
mkdir t && echo "data disk" > t/readme.txt
luks_data_vhd lin.vhd t ade.key 16
# the volume key, from the header (partition 1 starts at 1 MiB)
dd if=lin.vhd of=lin.hdr bs=1M skip=1 count=16 status=none
cryptsetup luksDump --dump-volume-key --volume-key-file luks.vk --key-file ade.key \
	--batch-mode lin.hdr >/dev/null 2>&1 || fail "cryptsetup luksDump --dump-volume-key"
[ -s luks.vk ] || { fail "no LUKS volume key"; finish; }
[ "$failures" -eq 0 ] || finish

# ---- Azurite, Entra ID, Key Vault and Resource Manager
azurite_start
trap 'cleanup 2>/dev/null' EXIT
blob_upload win.vhd disks win.vhd && blob_upload lin.vhd disks lin.vhd || { fail "upload"; finish; }
wsas=$(blob_sas disks win.vhd) lsas=$(blob_sas disks lin.vhd)
printf '%s\n' "$wsas" > win.url
sh "$kv/make-ca.sh" "$work" || { fail "make-ca.sh"; finish; }
openssl pkey -in kek.pem -pubout -out kek-pub.pem 2>/dev/null
openssl pkeyutl -encrypt -pubin -inkey kek-pub.pem -pkeyopt rsa_padding_mode:oaep \
	-pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1 -in ade.key |
	base64 -w0 | tr '+/' '-_' | tr -d '=' > wrapped.key
V1=0123456789abcdef0123456789abcdef
TENANT=72f988bf-86f1-41af-91ab-2d7cd011db47
SECRET="s3cr3t-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf 'cli-%s' "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" > cli.token
S=/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ir/providers/Microsoft.Compute
RW=$S/snapshots/win-os RL=$S/snapshots/lin-data
perm='["secrets/get","secrets/list","keys/unwrapKey","arm/*"]'
cat > conf.json <<JSON
{ "tenant": "$TENANT", "vault_name": "kv-ir",
  "principals": {
    "app": {"client_id": "11111111-1111-1111-1111-111111111111", "secret": "$SECRET", "permissions": $perm},
    "cli-user": {"permissions": $perm}
  },
  "static_tokens": {"$(cat cli.token)": "cli-user"},
  "secrets": [
    {"name": "win-bek", "version": "$V1", "value": "$(base64 -w0 < "$bekfile")", "contentType": "BEK",
     "tags": {"DiskEncryptionKeyFileName": "$guid.BEK", "MachineName": "winvm"}},
    {"name": "lin-key", "version": "$V1", "value": "$(cat wrapped.key)",
     "tags": {"DiskEncryptionKeyFileName": "LinuxPassPhraseFileName_0_0", "MachineName": "linuxvm",
              "DiskEncryptionKeyEncryptionAlgorithm": "RSA-OAEP",
              "DiskEncryptionKeyEncryptionKeyURL": "{vault}/keys/kek/$V1"}}
  ],
  "keys": [ {"name": "kek", "version": "$V1", "private_pem": "$work/kek.pem"} ],
  "azurite": {"endpoint": "$blob_endpoint"},
  "arm": [
    {"id": "$RW", "sas": "$wsas", "size": $(stat -c %s win.vhd),
     "encryptionSettings": [{"secretUrl": "{vault}/secrets/win-bek/$V1"}]},
    {"id": "$RL", "sas": "$lsas", "size": $(stat -c %s lin.vhd),
     "encryptionSettings": [{"secretUrl": "{vault}/secrets/lin-key/$V1", "keyUrl": "{vault}/keys/kek/$V1"}]}
  ] }
JSON
"$PY" "$kv/fake_azure.py" --config conf.json --state "$work" 2>server.err &
srv=$!
for _ in $(seq 100); do [ -e ready ] && break; sleep 0.1; done
[ -e ready ] || { fail "fake_azure.py did not start: $(cat server.err)"; finish; }
port=$(cat https.port)
VAULT="https://localhost:$port"

# ---- the children, recorded: their argv and environment as received
for c in az fusermount3; do
	case $c in az) real="$kv/az" ;; *) real=$(command -v fusermount3) ;; esac
	cat > "bin/$c" <<EOF
#!/bin/sh
cp /proc/\$\$/cmdline "$work/children/$c.\$\$.cmdline"
cp /proc/\$\$/environ "$work/children/$c.\$\$.environ"
exec "$real" "\$@"
EOF
	chmod +x "bin/$c"
done
export PATH="$work/bin:$PATH" FAKE_AZ_TOKEN_FILE="$work/cli.token"
export AZURE_AUTHORITY_HOST="$VAULT" AZURE_TENANT_ID=$TENANT \
	AZURE_CLIENT_ID=11111111-1111-1111-1111-111111111111 AZURE_CLIENT_SECRET=$SECRET \
	VHDUNLOCK_ARM_URL="$VAULT"
A="--ca-file ca.pem"

# run NAME CMD...: vhdunlock --debug CMD, its outputs kept for the search
n=0
run() {
	name=$1
	shift
	n=$((n + 1))
	"$VHDUNLOCK" --debug "$@" >"o.$n.out" 2>"o.$n.err" </dev/null
	st=$?
	[ $st -lt 128 ] || fail "$name: status $st"
	return $st
}
must() { run "$@" || fail "$1: exit $st: $(tail -n 3 "o.$n.err")"; }

# every command over one way in: IMAGE VOL FILE KEYS...
sweep() {
	w=$1 img=$2 vol=$3 file=$4
	shift 4
	must "$w info" info "$img" "$@"
	must "$w ls" ls "$img" "$vol:/" -l "$@"
	must "$w cat" cat "$img" "$vol:/$file" "$@"
	rm -f x.img && must "$w export" export "$img" "$vol" x.img "$@"
	rm -rf x.dir && must "$w extract" extract "$img" "$vol:/" x.dir "$@" &&
		cp x.dir/vhdunlock-manifest.sha256 "o.$n.manifest"
	rm -rf saved && must "$w keys --save" keys "$img" --save saved "$@"
	for f in saved/*; do
		[ -e "$f" ] || continue # (a recovery password has no file)
		[ "$(stat -c %a "$f")" = 600 ] || fail "$w: keys --save wrote $f with mode $(stat -c %a "$f")"
	done
	run "$w audit" audit "$img" $A
	[ $st -le 1 ] || fail "$w audit: exit $st: $(tail -n 3 "o.$n.err")"
	# the mount in the foreground: its messages are its standard error
	n=$((n + 1))
	"$VHDUNLOCK" --debug mount "$img" "$mnt" -f "$@" >"o.$n.out" 2>"o.$n.err" </dev/null &
	pid=$!
	for _ in $(seq 300); do mounted "$mnt" && break; sleep 0.1; done
	if mounted "$mnt"; then
		cat "$mnt/$vol/$file" >/dev/null || fail "$w: read through the mount"
		grep -q '^Max core file size *0 *0 ' "/proc/$pid/limits" ||
			fail "$w: the mount daemon may dump core: $(grep core "/proc/$pid/limits")"
		must "$w umount" umount "$mnt"
	else
		fail "$w: not mounted: $(tail -n 3 "o.$n.err")"
	fi
	wait "$pid" || fail "$w: the mount daemon ended with $?"
}
sweep "Key Vault (client secret), BitLocker" win.vhd p1 payroll.txt $A --key-vault "$VAULT"
sweep "Key Vault (wrapped key), LUKS" lin.vhd p1 readme.txt $A --key-vault "$VAULT"
sweep "resource ID, BitLocker" "$RW" p1 payroll.txt $A
sweep "resource ID, LUKS" "$RL" p1 readme.txt $A
sweep "SAS URL (@FILE), recovery password file" @win.url p1 payroll.txt $A --recovery-password-file rp.txt
sweep ".BEK file" win.vhd p1 payroll.txt --bek "$bekfile"
rp=$(cat rp.txt)
(f0=$failures
 export VHDUNLOCK_RECOVERY_PASSWORD="$rp"
 sweep "VHDUNLOCK_RECOVERY_PASSWORD" win.vhd p1 payroll.txt
 [ "$failures" = "$f0" ]) || failures=$((failures + 1))
sweep "LUKS key file" lin.vhd p1 readme.txt --key-file ade.key
# (the secret stays in the environment: az must not inherit it)
(f0=$failures
 sweep "Key Vault (the Azure CLI)" lin.vhd p1 readme.txt $A --key-vault "$VAULT" --auth azure-cli
 [ "$failures" = "$f0" ]) || failures=$((failures + 1))
ls children/az.*.environ >/dev/null 2>&1 || fail "az was never run"
ls children/fusermount3.*.environ >/dev/null 2>&1 || fail "fusermount3 was never run"
[ -s issued-tokens ] || fail "the double issued no token"
ok "$n commands run with --debug; $(ls children | grep -c cmdline) children recorded; $(wc -l < issued-tokens) tokens issued"

# ---- a process run as another user is not dumpable: its /proc files
# belong to root (proc(5), PR_SET_DUMPABLE); blocked writing to a FIFO
pub=$(mktemp -d /tmp/vu-secrets.XXXXXX) && chmod 755 "$pub" &&
	cp win.vhd "$bekfile" "$pub/" && chmod 644 "$pub"/* && mkfifo "$pub/fifo" ||
	fail "a directory for the other user"
setpriv --reuid=65534 --regid=65534 --clear-groups -- \
	"$VHDUNLOCK" export "$pub/win.vhd" p1 - --bek "$pub/$guid.BEK" >"$pub/fifo" 2>other.err &
opid=$!
exec 3<"$pub/fifo"
# a byte read: it has started writing, long after it made itself not
# dumpable, and is blocked on a full pipe
dd bs=1 count=1 status=none <&3 >/dev/null
owner=$(stat -c %u "/proc/$opid/status" 2>/dev/null)
exec 3<&-
wait "$opid"
if [ "$owner" = 0 ]; then
	ok "run as uid 65534, its /proc/PID files belong to root: not dumpable"
else
	fail "run as uid 65534, /proc/$opid belongs to uid '$owner': dumpable ($(cat other.err))"
fi
rm -rf "$pub"

# ---- the search
# secrets: NAME<TAB>KIND<TAB>VALUE (KIND text or hex: the bytes)
{
	printf 'client secret\ttext\t%s\n' "$SECRET"
	printf 'Azure CLI token\ttext\t%s\n' "$(cat cli.token)"
	while read -r t; do printf 'issued token\ttext\t%s\n' "$t"; done < issued-tokens
	for u in "$wsas" "$lsas"; do
		printf 'SAS signature\ttext\t%s\n' "$(printf '%s' "$u" | sed -n 's/.*[?&]sig=\([^&]*\).*/\1/p')"
	done
	for k in fvek vmk; do
		printf 'BitLocker %s\thex\t%s\n' "$k" "$(sed -n "s/^$k=//p" bitlocker.keys)"
	done
	printf 'recovery password\ttext\t%s\n' "$rp"
	printf 'recovery password digits\ttext\t%s\n' "$(printf '%s' "$rp" | tr -d -)"
	printf '.BEK file\thex\t%s\n' "$(od -An -tx1 -v "$bekfile" | tr -d ' \n')"
	printf '.BEK key\thex\t%s\n' "$(tail -c 32 "$bekfile" | od -An -tx1 -v | tr -d ' \n')"
	printf 'LUKS key file\ttext\t%s\n' "$(cat ade.key)"
	printf 'LUKS key file (decoded)\thex\t%s\n' "$(base64 -d < ade.key | od -An -tx1 -v | tr -d ' \n')"
	printf 'wrapped LUKS key\ttext\t%s\n' "$(cat wrapped.key)"
	printf 'LUKS volume key\thex\t%s\n' "$(od -An -tx1 -v luks.vk | tr -d ' \n')"
} > secrets.tsv
grep -c . secrets.tsv > /dev/null
for f in children/*; do tr '\0' '\n' < "$f" > "$f.txt"; done
cat > search.py <<'EOF'
import base64, binascii, sys, urllib.parse
secrets = []
for line in open(sys.argv[1], encoding="utf-8"):
    name, kind, value = line.rstrip("\n").split("\t")
    if not value:
        print("EMPTY %s: no value to search for" % name)
        continue
    b = bytes.fromhex(value) if kind == "hex" else value.encode()
    forms = {"raw": b, "hex": b.hex().encode(), "HEX": b.hex().upper().encode(),
             "base64": base64.b64encode(b), "base64url": base64.urlsafe_b64encode(b).rstrip(b"="),
             "url-decoded": urllib.parse.unquote(value).encode() if kind == "text" else b,
             "url-encoded": urllib.parse.quote(value, safe="").encode() if kind == "text" else b}
    # a part of a long secret counts too: its first 16 bytes as hex/base64
    if len(b) > 24:
        forms["hex prefix"] = b[:16].hex().encode()
        forms["base64 prefix"] = base64.b64encode(b[:15])
    secrets.append((name, forms))
files = {f: open(f, "rb").read() for f in sys.argv[2:]}
total = sum(len(v) for v in files.values())
for name, forms in secrets:
    for form, needle in forms.items():
        if len(needle) < 8:
            continue
        for f, data in files.items():
            if needle in data:
                print("LEAK %s (%s) in %s" % (name, form, f))
print("searched %d secrets in %d files, %d bytes" % (len(secrets), len(files), total))
EOF
"$PY" search.py secrets.tsv o.* children/*.txt > leaks
if grep -q '^LEAK\|^EMPTY' leaks; then
	fail "secrets found: $(grep '^LEAK\|^EMPTY' leaks | sort -u | head -n 20)"
else
	ok "no secret in any form: $(tail -n 1 leaks) (stdout, stderr, manifests, children's argv and environment)"
fi
# the search finds what is there: a planted .BEK and base64 client secret
cp "$bekfile" planted && printf '%s' "$SECRET" | base64 >> planted
"$PY" search.py secrets.tsv planted > planted.out
grep -q "^LEAK .BEK file (raw)" planted.out && grep -q "^LEAK .BEK key (raw)" planted.out &&
	grep -q "^LEAK client secret (base64)" planted.out &&
	ok "the search finds a planted .BEK and a base64 client secret" ||
	fail "the search misses planted secrets: $(cat planted.out)"
cleanup 2>/dev/null
finish
