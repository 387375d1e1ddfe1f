# health_lib.sh -- helpers for the health tests (sourced after lib.sh): HTTP backends on loopback
# addresses, meridianctl against the test's server, and polling dig until an answer changes.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CTL=$BUILD_DIR/meridianctl
BPORT=$("$FREEPORT")

# start_backend ADDR: an HTTP backend on ADDR:$BPORT answering as $T_TMP/mode-ADDR says.
start_backend()
{
	local addr=$1 out=$T_TMP/backend-$1.out i
	echo ok >"$T_TMP/mode-$addr"
	python3 "$ROOT/tests/tools/backend.py" --addr "$addr" --port "$BPORT" --mode-file "$T_TMP/mode-$addr" \
		>"$out" 2>&1 &
	T_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		grep -qs listening "$out" && return 0
		sleep 0.05
	done
	cat "$out"
	return 1
}

mode()
{
	echo "$2" >"$T_TMP/mode-$1"
}

ctl()
{
	"$CTL" -s "$DIR/run/meridian.sock" "$@"
}

# answer NAME: the A addresses served for NAME, sorted, space separated.
answer()
{
	q "$1" A +short | sort | tr '\n' ' ' | sed 's/ $//'
}

ttl_of()
{
	q "$1" A +noall +answer | awk '{ print $2; exit }'
}

# wait_answer NAME EXPECTED SECONDS: polls every 0.05 s; prints the seconds it took; fails on timeout.
wait_answer()
{
	local name=$1 want=$2 limit=$3 start now
	start=$(date +%s.%N)
	while :; do
		[ "$(answer "$name")" = "$want" ] && break
		now=$(date +%s.%N)
		if awk -v a="$start" -v b="$now" -v l="$limit" 'BEGIN { exit !(b - a > l) }'; then
			return 1
		fi
		sleep 0.05
	done
	now=$(date +%s.%N)
	awk -v a="$start" -v b="$now" 'BEGIN { printf "%.2f\n", b - a }'
}

