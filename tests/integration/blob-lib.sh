# Sourced after lib.sh by tests that read page blobs over HTTP: Azurite
# (the Azure Storage emulator, installed by .ci/deps.sh) on a loopback
# port, and tests/kv/azblob.py to fill it.
#
#   azurite_start           starts azurite-blob, data in $work/azurite; sets
#                           $azurite_pid and $blob_endpoint
#                           (http://127.0.0.1:PORT/devstoreaccount1); a
#                           failure (not installed, not started in 30 s)
#                           ends the test: never a skip
#   azurite_stop            kills $azurite_pid (that process only); set as
#                           the EXIT trap by azurite_start.  A test that sets
#                           its own EXIT trap afterwards must call it there:
#                           trap 'kill $srv 2>/dev/null; azurite_stop' EXIT
#                           Calling it before finish too keeps azurite from
#                           writing into $work while finish removes it.
#   blob_upload FILE CONTAINER BLOB
#                           a page blob with FILE's non-zero 512-byte pages
#   blob_sas CONTAINER BLOB [--minutes N] [--perm P] [--expired]
#                           prints the blob's service SAS URL
#   blob_overwrite CONTAINER BLOB OFFSET LENGTH
#                           random bytes at OFFSET (the ETag changes)
#   blob_copy CONTAINER SRC DST, blob_delete CONTAINER BLOB,
#   blob_pagelist CONTAINER BLOB   ("START END" lines, END inclusive)
# Each wrapper returns azblob.py's status; its errors go to standard error.
# Container names are 3 to 63 lower-case letters, digits and hyphens.

azblob="$top_srcdir/tests/kv/azblob.py"
python_path
azurite_pid=""
blob_endpoint=""

azurite_stop() {
	[ -n "$azurite_pid" ] || return 0
	kill "$azurite_pid" 2>/dev/null
	wait "$azurite_pid" 2>/dev/null
	azurite_pid=""
}

# azurite_start: port 0 lets the system pick a free port, no race with
# other tests; azurite-blob prints the one it got:
#   Azurite Blob service successfully listens on http://127.0.0.1:PORT
azurite_start() {
	command -v azurite-blob >/dev/null 2>&1 ||
		{ fail "azurite-blob is not installed (.ci/deps.sh installs it)"; finish; }
	mkdir -p "$work/azurite"
	azurite-blob --blobHost 127.0.0.1 --blobPort 0 --location "$work/azurite" \
		--silent --skipApiVersionCheck --loose --disableTelemetry \
		>"$work/azurite/stdout" 2>"$work/azurite/stderr" </dev/null &
	azurite_pid=$!
	trap azurite_stop EXIT
	trap 'exit 1' INT TERM HUP
	as_port=""
	for _ in $(seq 300); do
		as_port=$(sed -n 's|.*successfully listens on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' \
			"$work/azurite/stdout")
		[ -n "$as_port" ] && break
		kill -0 "$azurite_pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$as_port" ]; then
		fail "azurite-blob did not start: $(cat "$work/azurite/stdout" "$work/azurite/stderr")"
		azurite_stop
		finish
	fi
	blob_endpoint="http://127.0.0.1:$as_port/devstoreaccount1"
	# listening is not yet answering: wait for a Blob service answer (an
	# anonymous request gets an error document, any HTTP status will do)
	for _ in $(seq 100); do
		curl -s -o /dev/null "$blob_endpoint?comp=list" && return 0
		sleep 0.1
	done
	fail "azurite-blob on port $as_port does not answer"
	azurite_stop
	finish
}

blob_upload() {
	"$PY" "$azblob" upload --endpoint "$blob_endpoint" --container "$2" --blob "$3" "$1"
}
blob_sas() {
	bs_c=$1 bs_b=$2
	shift 2
	"$PY" "$azblob" sas --endpoint "$blob_endpoint" --container "$bs_c" --blob "$bs_b" "$@"
}
blob_overwrite() {
	"$PY" "$azblob" overwrite --endpoint "$blob_endpoint" --container "$1" --blob "$2" \
		--offset "$3" --length "$4"
}
blob_copy() {
	"$PY" "$azblob" copy --endpoint "$blob_endpoint" --container "$1" --src-blob "$2" --blob "$3"
}
blob_delete() {
	"$PY" "$azblob" delete --endpoint "$blob_endpoint" --container "$1" --blob "$2"
}
blob_pagelist() {
	"$PY" "$azblob" pagelist --endpoint "$blob_endpoint" --container "$1" --blob "$2"
}
