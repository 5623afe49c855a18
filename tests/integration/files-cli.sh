#!/bin/sh
# ls, cat and extract over a fixed VHD (qemu-img) with a GPT (sgdisk)
# holding:
#   p1 ext4 made by mkfs.ext4 -d from a source tree: nested directories,
#      Unicode names, a name with a space and one with ':', a 5 MiB random
#      file, a sparse file, symbolic links (relative, absolute, to a
#      directory, dangling), a hard link, an empty file, a file with an old
#      mtime, a read-only directory, set-uid and private modes, a fifo;
#   p2 XFS made by mkfs.xfs -p from a protofile of the same tree (without
#      the name with a space; the hard link as a copy);
#   p3 LUKS2 (cryptsetup reencrypt --encrypt) with an ext4 inside;
#   p4 ext2 with a damaged file (block pointer past the end) and a
#      directory entry pointing at an inode that does not exist;
#   p5 random bytes (no file system).
# Checked: ls (text, -l and --json) against stat(1) of the source (XFS
# mtimes against xfs_db), cat of every file against the source, extract of
# each tree (diff -r, mtimes, modes without set-id bits, symlinks, hard
# links as copies, holes, the manifest with sha256sum -c), no overwriting
# without --force, overwriting with it, single files and links, the
# damaged volume (warnings, the rest extracted, exit 1), locked volumes
# (exit 3), usage errors (exit 2), missing paths and volumes (exit 1), and
# the image unchanged.
. "$top_srcdir/tests/integration/lib.sh"
need sgdisk partx qemu-img mkfs.ext4 mkfs.ext2 debugfs mkfs.xfs xfs_repair \
	xfs_db e2fsck cryptsetup jq sha256sum cmp diff stat find mkfifo \
	truncate dd head readlink grep sort
cd "$work" || exit 1
export LC_ALL=C TZ=UTC
V() { "$VHDUNLOCK" "$@"; }

# run WANT DESC CMD...: stdout in out.txt, stderr in err.txt
run() {
	want=$1 desc=$2
	shift 2
	"$@" >out.txt 2>err.txt
	got=$?
	if [ "$got" -eq "$want" ]; then
		ok "$desc"
	else
		fail "$desc: exit status $got, expected $want: $(head -c 600 err.txt)"
	fi
}
# says TEXT DESC: err.txt holds TEXT
says() {
	grep -qF -- "$1" err.txt || fail "$2: the message does not say '$1': $(head -c 600 err.txt)"
}

# --- the source tree
U1="ünïcödé-名前.txt" SP="dir ü with space"
mkdir -p tree/d1/d2/d3 tree/links tree/d1/ro "tree/$SP" tree/日本
echo "hello, world" > tree/hello.txt
ln tree/hello.txt tree/hard.txt
: > tree/empty.txt
echo "from the last century" > tree/old.txt
echo "colon" > "tree/a:b.txt"
echo "backslash" > 'tree/back\slash.txt'
head -c 5242880 /dev/urandom > tree/big.bin
truncate -s 6M tree/sparse.bin
head -c 4096 /dev/urandom | dd of=tree/sparse.bin bs=4096 seek=256 conv=notrunc status=none
printf end | dd of=tree/sparse.bin bs=1 seek=$((6 * 1048576 - 3)) conv=notrunc status=none
printf '#!/bin/sh\necho hi\n' > tree/exec.sh && chmod 755 tree/exec.sh
echo secret > tree/private.txt && chmod 600 tree/private.txt
echo setuid > tree/suid && chmod 4755 tree/suid
echo "unicode" > "tree/$U1"
echo "in a space" > "tree/$SP/inside.txt"
echo "japanese" > "tree/日本/ファイル.txt"
echo deep > tree/d1/d2/d3/deep.txt
echo "read-only dir" > tree/d1/ro/f.txt && chmod 555 tree/d1/ro
ln -s ../hello.txt tree/links/rel
ln -s /etc/passwd tree/links/abs
ln -s ../d1 tree/links/dir
ln -s nowhere tree/links/dangling
mkfifo tree/fifo
chown 1234:5678 tree/hello.txt 2>/dev/null
touch -d "1999-12-31 23:59:59" tree/old.txt
touch -h -d "2010-06-01 12:00:00" tree/links/rel
touch -d "2005-05-05 05:05:05" tree/d1/d2/d3 tree/d1/d2

# The XFS copy: protofiles take no names with white space and no hard links
cp -a tree xtree
rm -rf "xtree/$SP" xtree/hard.txt
cp -p tree/hard.txt xtree/hard.txt

# proto_dir DIR: protofile lines for the entries of DIR (mkfs.xfs(8))
proto_dir() {
	LC_ALL=C ls -A "$1" | while IFS= read -r n; do
		p="$1/$n"
		m=$(stat -c %a "$p")
		perm=$(printf %03o $((0$m & 0777)))
		su=- sg=-
		[ $((0$m & 04000)) -ne 0 ] && su=u
		[ $((0$m & 02000)) -ne 0 ] && sg=g
		own=$(stat -c '%u %g' "$p")
		if [ -L "$p" ]; then
			echo "$n l--777 $own $(readlink "$p")"
		elif [ -d "$p" ]; then
			echo "$n d$su$sg$perm $own"
			proto_dir "$p"
			echo '$'
		elif [ -p "$p" ]; then
			echo "$n p$su$sg$perm $own"
		else
			echo "$n -$su$sg$perm $own $work/$p"
		fi
	done
}
{
	echo xfsfiles
	echo "0 0"
	echo "d--$(stat -c %a xtree) $(stat -c '%u %g' xtree)"
	proto_dir xtree
	echo '$'
} > xfs.proto

# --- file systems
mkfs.ext4 -q -F -L files -d tree ext4.fs 48M || fail "mkfs.ext4 -d"
e2fsck -fn ext4.fs > fsck.log 2>&1 || fail "ext4.fs is damaged: $(tail -n 5 fsck.log)"
truncate -s 96M xfs.fs
# two 48 MiB allocation groups: mkfs.xfs 6.1 damages the next group's
# headers when protofile data reaches past the first
mkfs_xfs_small -L xfiles -p xfs.proto -d file,name=xfs.fs,size=96m,agcount=2 ||
	fail "mkfs.xfs -p"
xfs_repair -n -f xfs.fs > fsck.log 2>&1 || fail "xfs.fs is damaged: $(tail -n 5 fsck.log)"

printf 'correct horse battery' > pass.txt
printf 'wrong horse' > wrong.txt
mkdir -p ltree && echo "inside luks" > ltree/secret.txt
mkfs.ext4 -q -F -d ltree luks.fs 8M && truncate -s 24M luks.fs
cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --batch-mode \
	--key-file pass.txt --pbkdf pbkdf2 --pbkdf-force-iterations 1000 luks.fs \
	> mk.log 2>&1 || fail "cryptsetup: $(cat mk.log)"

mkdir -p dtree/sub && echo good > dtree/good.txt && echo "good too" > dtree/sub/ok.txt
echo gone > dtree/sub/x.txt
echo forged > dtree/sub/zz
head -c 8192 /dev/urandom > dtree/bad.txt
mkfs.ext2 -q -F -d dtree damaged.fs 4M || fail "mkfs.ext2 -d"
debugfs -w -R "sif /bad.txt block[0] 0xfffff0" damaged.fs 2>/dev/null
# the entry x.txt of /sub now names inode 60000 (the file system has fewer)
blk=$(debugfs -R "blocks /sub" damaged.fs 2>/dev/null | tr -d ' \n')
dd if=damaged.fs of=sub.blk bs=1024 skip="$blk" count=1 status=none
at=$(grep -boa 'x\.txt' sub.blk | head -n 1 | cut -d: -f1)
[ -n "$at" ] && printf '\140\352\000\000' |
	dd of=damaged.fs bs=1 seek=$((blk * 1024 + at - 8)) conv=notrunc status=none ||
	fail "could not damage /sub/x.txt"
# and the entry zz is renamed "z/", as a forged image could (the file
# system layer skips it with a warning, which extract counts)
at=$(grep -boa 'zz' sub.blk | head -n 1 | cut -d: -f1)
[ -n "$at" ] && printf 'z/' |
	dd of=damaged.fs bs=1 seek=$((blk * 1024 + at)) conv=notrunc status=none ||
	fail "could not forge /sub/zz"

# --- the disk
truncate -s 184M disk.raw
sgdisk -n 1:2048:+48M -c 1:files -n 2:0:+96M -c 2:xfiles -n 3:0:+24M -c 3:locked \
	-n 4:0:+4M -c 4:damaged -n 5:0:+2M -c 5:random disk.raw > /dev/null || fail "sgdisk"
head -c 2097152 /dev/urandom > random.bin
for spec in 1:ext4.fs 2:xfs.fs 3:luks.fs 4:damaged.fs 5:random.bin; do
	start=$(partx -g -o START -n "${spec%%:*}" disk.raw | tr -d ' ')
	dd if="${spec#*:}" of=disk.raw bs=512 seek="$start" conv=notrunc,sparse status=none
done
qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on disk.raw disk.vhd ||
	fail "qemu-img convert"
rm -f disk.raw random.bin
img_sum=$(sha256sum disk.vhd)

# --- ls IMAGE: the volumes
run 0 "ls IMAGE lists the volumes" V ls disk.vhd
for want in "p1 ext4 readable" "p2 xfs readable" "p3 luks2 locked" \
	"p4 ext2 readable" "p5 unknown no file system"; do
	set -- $want
	line=$(grep "^$1 " out.txt)
	case $line in
	*" $2 "*" $3"*) ;;
	*) fail "ls IMAGE: $1 should be $2, $3: '$line'" ;;
	esac
done
run 0 "ls IMAGE --json" V ls disk.vhd --json
[ "$(jq -r '[.[] | .id + "=" + .kind + "=" + .files] | join(",")' out.txt)" = \
  "p1=ext4=readable,p2=xfs=readable,p3=luks2=locked,p4=ext2=readable,p5=unknown=no file system" ] ||
	fail "ls --json volumes: $(jq -c . out.txt)"
[ "$(jq -r '.[] | select(.id == "p1") | .label' out.txt)" = files ] || fail "p1 label"
run 0 "ls IMAGE with the LUKS passphrase" V ls disk.vhd --passphrase-file pass.txt
grep -q '^p3 .*luks2 (ext4).* readable' out.txt || fail "p3 unlocked: $(grep ^p3 out.txt)"

# --- ls VOLUME:PATH against the source tree
# want_tsv DIR MTIME: what ls --json should say of DIR's entries (MTIME
# "-": not compared here)
want_tsv() {
	LC_ALL=C ls -A "$1" | while IFS= read -r n; do
		p="$1/$n"
		case $(stat -c %F "$p") in
		directory) t=dir s=- l=$(($(find "$p" -mindepth 1 -maxdepth 1 -type d | wc -l) + 2)) ;;
		"symbolic link") t=symlink s=$(stat -c %s "$p") l=1 ;;
		regular*) t=file s=$(stat -c %s "$p") l=$(stat -c %h "$p") ;;
		*) t=other s=$(stat -c %s "$p") l=1 ;;
		esac
		tgt=""
		[ -L "$p" ] && tgt=$(readlink "$p")
		mt=$(stat -c %Y "$p")
		[ "$2" = - ] && mt=-
		printf '%s\t%s\t%s\t%04o\t%s\t%s\t%s\t%s\t%s\n' "$n" "$t" "$s" \
			"0$(stat -c %a "$p")" "$(stat -c %u "$p")" "$(stat -c %g "$p")" \
			"$l" "$mt" "$tgt"
	done
}
# got_tsv JSON MTIME: the same from ls --json
got_tsv() {
	jq -r --arg mt "$2" '.[] | select(.name != "lost+found") |
		[.name, .type, (if .type == "dir" then "-" else (.size | tostring) end),
		 .mode, .uid, .gid, .nlink,
		 (if $mt == "-" then "-" else (.mtime | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) end),
		 (.target // "")] | map(tostring) | join("\t")' "$1"
}
# check_ls VOL SRC MTIME: every directory of SRC listed as the source says
check_ls() {
	find "$2" -type d | sort > dirs.txt
	while IFS= read -r d; do
		rel=${d#"$2"}
		run 0 "ls $1:${rel:-/} --json" V ls disk.vhd "$1:${rel:-/}" --json
		got_tsv out.txt "$3" > got.tsv
		want_tsv "$d" "$3" > want.tsv
		diff want.tsv got.tsv > ls.diff || fail "ls $1:${rel:-/}: differs from stat: $(cat ls.diff)"
		jq -e 'all(.[]; (.btime | type) == "string" and (.mtime | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z$")) and .streams == [] and (.flags | type) == "array")' \
			out.txt > /dev/null || fail "ls $1:${rel:-/}: bad JSON fields: $(head -c 400 out.txt)"
		run 0 "ls $1:${rel:-/} (names)" V ls disk.vhd "$1:${rel:-/}"
		LC_ALL=C ls -A "$d" > want.txt
		grep -vx 'lost+found' out.txt | diff want.txt - > ls.diff ||
			fail "ls $1:${rel:-/}: names differ: $(cat ls.diff)"
	done < dirs.txt
}
check_ls p1 tree mtime

run 0 "ls -l of the root" V ls disk.vhd p1:/ -l
o=$(stat -c %u tree/old.txt) g=$(stat -c %g tree/old.txt)
grep -qE "^-rw-r--r-- +1 +$o +$g +22 1999-12-31T23:59:59Z old.txt\$" out.txt ||
	fail "ls -l old.txt: $(grep old.txt out.txt)"
grep -qE '^-rwsr-xr-x .* suid$' out.txt || fail "ls -l suid: $(grep suid out.txt)"
grep -qE '^prw-r--r-- .* fifo$' out.txt || fail "ls -l fifo: $(grep fifo out.txt)"
grep -qE '^-rw-r--r-- +2 .* hard.txt$' out.txt || fail "ls -l hard.txt: $(grep hard.txt out.txt)"
run 0 "ls -l of a symbolic link" V ls disk.vhd p1:/links/rel -l
grep -qE '^lrwxrwxrwx .* 2010-06-01T12:00:00Z /links/rel -> \.\./hello\.txt$' out.txt ||
	fail "ls -l link: $(cat out.txt)"
run 0 "ls of a file names it" V ls disk.vhd "p1:/$SP/inside.txt"
[ "$(cat out.txt)" = "/$SP/inside.txt" ] || fail "ls file: $(cat out.txt)"
run 0 "ls --json of a file: one entry" V ls disk.vhd "p1:/a:b.txt" --json
[ "$(jq -r 'length, .[0].name, .[0].size' out.txt | tr '\n' ' ')" = "1 a:b.txt 6 " ] ||
	fail "ls --json a:b.txt: $(jq -c . out.txt)"
run 0 "ls follows a link in the middle of the path" V ls disk.vhd p1:/links/dir/d2
[ "$(cat out.txt)" = d3 ] || fail "ls links/dir/d2: $(cat out.txt)"

# XFS: mtimes are mkfs's own, checked against xfs_db with nanoseconds
check_ls p2 xtree -
run 0 "ls --json of the XFS root" V ls disk.vhd p2:/ --json
jq -r '.[] | [.inode, .name, .mtime] | @tsv' out.txt > xfs-times.tsv
while IFS="$(printf '\t')" read -r ino name mtime; do
	xfs_db -r -c "inode $ino" -c "print core.mtime.sec core.mtime.nsec" xfs.fs > db.txt
	sec=$(date -u -d "$(sed -n 's/^core.mtime.sec = //p' db.txt)" +%s)
	ns=$(sed -n 's/^core.mtime.nsec = //p' db.txt)
	want="$(date -u -d "@$sec" +%Y-%m-%dT%H:%M:%S).$(printf %09d "$ns")Z"
	[ "$mtime" = "$want" ] || fail "p2:/$name: mtime $mtime, xfs_db says $want"
done < xfs-times.tsv

# --- cat
# check_cat VOL SRC: every regular file, byte for byte
check_cat() {
	find "$2" -type f | sort > files.txt
	n=0
	while IFS= read -r f; do
		rel=${f#"$2"}
		if ! V cat disk.vhd "$1:$rel" > cat.out 2> err.txt; then
			fail "cat $1:$rel: $(cat err.txt)"
		elif ! cmp -s "$f" cat.out; then
			fail "cat $1:$rel differs from the source"
		else
			n=$((n + 1))
		fi
	done < files.txt
	ok "cat: $n files of $1 equal their sources"
}
check_cat p1 tree
check_cat p2 xtree
run 0 "cat follows a symbolic link" V cat disk.vhd p1:/links/rel
cmp -s out.txt tree/hello.txt || fail "cat of links/rel is not hello.txt"
run 0 "cat follows a link to a directory in the path" V cat disk.vhd p1:/links/dir/d2/d3/deep.txt
[ "$(cat out.txt)" = deep ] || fail "cat links/dir/...: $(cat out.txt)"
{ V cat disk.vhd p1:/big.bin 2> err.txt; echo $? > status.txt; } | head -c 10 > /dev/null
[ "$(cat status.txt)" = 0 ] && [ ! -s err.txt ] && ok "cat into a closed pipe ends quietly" ||
	fail "cat | head: exit $(cat status.txt), $(cat err.txt)"
run 0 "cat of the LUKS volume's file with the passphrase" \
	V cat disk.vhd p3:/secret.txt --passphrase-file pass.txt
[ "$(cat out.txt)" = "inside luks" ] || fail "cat p3:/secret.txt: $(cat out.txt)"

# --- errors
run 1 "cat of a missing path" V cat disk.vhd p1:/no/such
says "disk.vhd: p1:/no/such: no such file or directory" "cat missing"
run 1 "ls of a missing path" V ls disk.vhd p2:/nothing.txt
says "p2:/nothing.txt" "ls missing"
run 1 "cat of a directory" V cat disk.vhd p1:/d1
says "p1:/d1: is a directory" "cat dir"
run 1 "cat of a stream on ext4" V cat disk.vhd p1:/hello.txt:zone
says 'p1:/hello.txt:zone: no such file, and /hello.txt has no stream "zone"' "cat stream"
run 1 "cat of a dangling link" V cat disk.vhd p1:/links/dangling
says "p1:/links/dangling" "cat dangling"
run 1 "cat of a fifo" V cat disk.vhd p1:/fifo
says "not a regular file" "cat fifo"
run 1 "unknown volume" V cat disk.vhd p9:/x
says "no volume 'p9'; the volumes are: p1, p2, p3, p4, p5" "unknown volume"
run 1 "a volume without a file system" V ls disk.vhd p5:/
says "volume p5 holds no file system" "p5"
run 3 "a locked volume without keys" V ls disk.vhd p3:/
says "volume p3 is encrypted with LUKS and locked: give its key with --passphrase-file" "p3 no key"
run 3 "a locked volume with a wrong key" V cat disk.vhd p3:/secret.txt --passphrase-file wrong.txt
says "p3" "p3 wrong key"
for args in "cat disk.vhd nocolon" "ls disk.vhd :/x" "extract disk.vhd p1:/" \
	"cat disk.vhd" "ls disk.vhd p1:/ --bogus" "extract disk.vhd p1:/ a b"; do
	run 2 "usage: $args" V $args
done
for c in ls cat extract; do
	run 0 "$c --help" V "$c" --help
	grep -q "^Usage: vhdunlock $c " out.txt || fail "$c --help: $(head -n 1 out.txt)"
done
run 1 "extract of a missing path" V extract disk.vhd p1:/no/such never
says "p1:/no/such" "extract missing"
[ ! -e never ] || fail "extract of a missing path made its DEST"
: > a-file
run 1 "extract of a tree onto a file" V extract disk.vhd p1:/d1 a-file
says "a-file: exists and is not a directory" "extract onto file"

# --- extract a whole tree
# check_tree SRC OUT DESC: OUT is an exact copy of SRC
check_tree() {
	diff -r --no-dereference -x lost+found -x vhdunlock-manifest.sha256 -x fifo "$1" "$2" > tree.diff &&
		ok "$3: same tree as the source" || fail "$3: differs: $(head -n 20 tree.diff)"
	(cd "$2" && sha256sum -c --quiet vhdunlock-manifest.sha256) > sum.log 2>&1 &&
		ok "$3: the manifest verifies" || fail "$3: sha256sum -c: $(head -n 5 sum.log)"
	[ "$(wc -l < "$2/vhdunlock-manifest.sha256")" -eq "$(find "$1" -type f | wc -l)" ] ||
		fail "$3: $(wc -l < "$2/vhdunlock-manifest.sha256") manifest lines for $(find "$1" -type f | wc -l) files"
	[ -e "$2/fifo" ] && fail "$3: the fifo was made"
	find "$2" -name '.vhdunlock.*' > tmp.txt
	[ -s tmp.txt ] && fail "$3: temporary files left: $(cat tmp.txt)"
	[ -L "$2/links/abs" ] && [ "$(readlink "$2/links/abs")" = /etc/passwd ] ||
		fail "$3: links/abs is not the link to /etc/passwd"
	[ "$(stat -c %a "$2/suid")" = 755 ] || fail "$3: suid has mode $(stat -c %a "$2/suid"), expected 755"
	[ "$(stat -c %a "$2/private.txt")" = 600 ] || fail "$3: private.txt mode"
	[ "$(stat -c %a "$2/d1/ro")" = 555 ] || fail "$3: d1/ro mode"
	[ "$(stat -c %b "$2/sparse.bin")" -lt 2048 ] ||
		fail "$3: sparse.bin takes $(stat -c %b "$2/sparse.bin") blocks: the holes were written"
}
# check_mtimes SRC OUT DESC
check_mtimes() {
	(cd "$1" && find . -mindepth 1 ! -name fifo) | sort > entries.txt
	bad=0
	while IFS= read -r e; do
		[ "$(stat -c %Y "$1/$e")" = "$(stat -c %Y "$2/$e")" ] && continue
		bad=$((bad + 1))
		[ $bad -le 5 ] && fail "$3: $e: mtime $(stat -c %y "$2/$e"), source $(stat -c %y "$1/$e")"
	done < entries.txt
	[ $bad -eq 0 ] && ok "$3: $(wc -l < entries.txt) modification times kept"
}
run 0 "extract p1:/ (ext4)" V extract disk.vhd p1:/ out1
check_tree tree out1 "ext4 extract"
grep -qxF '\'"$(sha256sum < 'tree/back\slash.txt' | cut -c1-64)  back\\\\slash.txt" out1/vhdunlock-manifest.sha256 ||
	fail "the manifest line of back\\slash.txt is not escaped as sha256sum does: $(grep back out1/vhdunlock-manifest.sha256)"
check_mtimes tree out1 "ext4 extract"
# the root's times are mkfs's own (mkfs.ext4 -d does not copy them)
root_mt=$(debugfs -R "stat /" ext4.fs 2>/dev/null | sed -n 's/^ *mtime: 0x\([0-9a-f]*\).*/\1/p')
[ "$(stat -c %Y out1)" = "$(printf %d "0x$root_mt")" ] && ok "DEST made with the root's mtime" ||
	fail "out1 mtime $(stat -c %Y out1), the image's root says $(printf %d "0x$root_mt")"
[ "$(stat -c %i out1/hello.txt)" != "$(stat -c %i out1/hard.txt)" ] &&
	cmp -s out1/hello.txt out1/hard.txt || fail "the hard link is not a copy"
says "p1:/fifo: skipped" "fifo skipped"

# again, without --force: refused, nothing touched
(cd out1 && find . -printf '%p %s %T@ %m\n' | sort) > before.txt
sha256sum out1/big.bin > big.sum
run 1 "extract again without --force" V extract disk.vhd p1:/ out1
says "already exists; use --force to overwrite it" "extract again"
says "nothing extracted" "extract again"
(cd out1 && find . -printf '%p %s %T@ %m\n' | sort) > after.txt
cmp -s before.txt after.txt && sha256sum -c --quiet big.sum && ok "nothing changed" ||
	fail "the second extract changed files: $(diff before.txt after.txt | head)"

# with --force: damaged copies are replaced
echo tampered > out1/hello.txt
chmod 700 out1/d1/ro
run 0 "extract --force" V extract disk.vhd p1:/ out1 --force
check_tree tree out1 "ext4 extract --force"
# (out1 itself was there before: its times are its own now)
check_mtimes tree/d1 out1/d1 "ext4 extract --force (d1)"

run 0 "extract a subtree" V extract disk.vhd "p1:/$SP" out-sp
[ "$(cat "out-sp/inside.txt")" = "in a space" ] && [ "$(stat -c %Y out-sp)" = "$(stat -c %Y "tree/$SP")" ] ||
	fail "extract of '$SP' into out-sp"

run 0 "extract p2:/ (XFS)" V extract disk.vhd p2:/ out2
check_tree xtree out2 "XFS extract"
run 0 "ls --json of the XFS root again" V ls disk.vhd p2:/ --json
jq -r '.[] | [.name, ((.mtime | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601 | tostring) + "." + (.mtime | capture("\\.(?<n>[0-9]+)Z$").n))] | @tsv' \
	out.txt > want-times.tsv
while IFS="$(printf '\t')" read -r name t; do
	[ -e "out2/$name" ] || [ -L "out2/$name" ] || continue
	[ "$(stat -c %.9Y "out2/$name")" = "$t" ] || fail "out2/$name: mtime $(stat -c %.9Y "out2/$name"), the image says $t"
done < want-times.tsv

# a symbolic link in DEST where the image has a directory is never
# followed: refused, and replaced by the directory with --force
mkdir -p outside evil && ln -s ../outside evil/d1
run 1 "extract onto a link where a directory goes" V extract disk.vhd p1:/ evil
says "evil/d1: already exists" "link in the way"
run 0 "extract --force onto a link where a directory goes" V extract disk.vhd p1:/ evil --force
[ -d evil/d1 ] && [ ! -L evil/d1 ] && [ -z "$(ls -A outside)" ] &&
	ok "the link was replaced, nothing written through it" ||
	fail "evil/d1: $(ls -la evil/d1 outside)"

# --- single files, links and DEST forms
mkdir single
run 0 "extract a file into a directory" V extract disk.vhd p1:/big.bin single
cmp -s single/big.bin tree/big.bin || fail "single/big.bin differs"
run 0 "extract a file to a new name" V extract disk.vhd p1:/old.txt single/renamed.txt
[ "$(stat -c %Y single/renamed.txt)" = "$(stat -c %Y tree/old.txt)" ] || fail "renamed.txt mtime"
run 0 "extract a symbolic link" V extract disk.vhd p1:/links/rel single
[ "$(readlink single/rel)" = ../hello.txt ] || fail "single/rel is not the link"
(cd single && sha256sum -c --quiet vhdunlock-manifest.sha256) > sum.log 2>&1 &&
	[ "$(wc -l < single/vhdunlock-manifest.sha256)" -eq 2 ] &&
	ok "the manifest keeps the lines of earlier extracts" ||
	fail "single manifest: $(cat single/vhdunlock-manifest.sha256) $(cat sum.log)"
run 1 "extract a file over an existing one" V extract disk.vhd p1:/hello.txt single/renamed.txt
says "single/renamed.txt: already exists; use --force" "single exists"
cmp -s single/renamed.txt tree/old.txt || fail "renamed.txt was changed"
run 0 "extract a file over an existing one with --force" V extract disk.vhd p1:/hello.txt single/renamed.txt --force
cmp -s single/renamed.txt tree/hello.txt || fail "renamed.txt was not replaced"
(cd single && sha256sum -c --quiet vhdunlock-manifest.sha256) > sum.log 2>&1 ||
	fail "manifest after --force: $(cat sum.log)"
run 1 "extract never replaces the image" V extract disk.vhd p1:/hello.txt disk.vhd --force
says "is a file of the image itself" "image protected"

# --- a damaged volume: what can be read is extracted, the rest is counted
run 1 "extract of a damaged volume" V extract disk.vhd p4:/ out4
says "p4:/bad.txt" "damaged file named"
says "3 entries could not be extracted" "damaged count"
says 'entry with a bad name' "forged name"
[ "$(cat out4/good.txt)" = good ] && [ "$(cat out4/sub/ok.txt)" = "good too" ] &&
	[ ! -e out4/bad.txt ] && [ ! -e out4/sub/x.txt ] || fail "out4: $(find out4)"
(cd out4 && sha256sum -c --quiet vhdunlock-manifest.sha256) > sum.log 2>&1 ||
	fail "out4 manifest: $(cat sum.log)"
find out4 -name '.vhdunlock.*' > tmp.txt
[ -s tmp.txt ] && fail "damaged: temporary files left: $(cat tmp.txt)"
run 1 "extract -q still counts skipped entries" V -q extract disk.vhd p4:/sub out4q
says "2 entries could not be extracted" "damaged -q"

# --- the image was only read
[ "$(sha256sum disk.vhd)" = "$img_sum" ] && ok "the image is unchanged" ||
	fail "the image changed"
finish
