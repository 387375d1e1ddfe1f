#!/usr/bin/env bash
# run-tests.sh -- runs the unit, integration and differential tests and sums them into "N passed, N failed".
#
# usage: scripts/run-tests.sh BUILD_DIR [unit|integration|differential|all]
#
#   unit          every BUILD_DIR/tests/test_* binary (Check): its "NN%: Checks: N, Failures: F, Errors: E"
#                 line gives N-F-E passed and F+E failed; a binary that crashes, times out or prints no
#                 such line counts as 1 failed.
#   integration   every tests/integration/test_*.sh: each assertion counts 1 (the script's last line is
#                 "N passed, N failed"); a script that dies or times out counts 1 more failure.
#   differential  tests/differential/run.sh: each query compared with NSD counts 1;
#                 tests/differential/geo.sh: each geo comparison with the model, gdnsd and Knot counts 1;
#                 tests/differential/dnssec.sh: each signed-zone query compared with NSD (with and without
#                 DO) and each delv validation counts 1
#                 (as run.sh, their last line is "N passed, N failed").
#
# Every test runs under `timeout`, with BUILD_DIR, MERIDIAND and FREEPORT exported. The full output of
# each is kept in BUILD_DIR/test-logs/; failures are shown here. VERBOSE=1 shows every line.
# Exit status 1 when anything failed.
set -u

usage()
{
	echo "usage: $0 BUILD_DIR [unit|integration|differential|all]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "$1" 2>/dev/null && pwd) || {
	echo "run-tests: no build folder $1" >&2
	exit 2
}
WHAT=${2:-all}
case $WHAT in
unit | integration | differential | all) ;;
*) usage ;;
esac

export BUILD_DIR
export MERIDIAND=$BUILD_DIR/meridiand
export FREEPORT=$BUILD_DIR/tests/freeport
LOGS=$BUILD_DIR/test-logs
mkdir -p "$LOGS"

UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}
SCRIPT_TIMEOUT=${SCRIPT_TIMEOUT:-300}
DIFF_TIMEOUT=${DIFF_TIMEOUT:-600}

PASSED=0
FAILED=0
SUMMARY=()

# record NAME PASSED FAILED NOTE LOG: adds to the totals and prints one summary line, then the
# failure details from LOG (every line with VERBOSE=1).
record()
{
	local name=$1 p=$2 f=$3 note=$4 log=$5 status=PASS
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	[ "$f" -gt 0 ] && status=FAIL
	SUMMARY+=("$(printf '%-4s %-34s %4d passed, %3d failed%s' "$status" "$name" "$p" "$f" "${note:+  ($note)}")")
	printf '%s %s: %d passed, %d failed%s\n' "$status" "$name" "$p" "$f" "${note:+ ($note)}"
	if [ "${VERBOSE:-0}" = 1 ]; then
		sed 's/^/    /' "$log"
	elif [ "$f" -gt 0 ]; then
		failure_details "$log" | head -n 400 | sed 's/^/    /'
		echo "    (full output: $log)"
	fi
}

# failure_details LOG: the "not ok" lines and their "#" details, Check's failure lines, and the tail
# of the output when it has neither (a crash).
failure_details()
{
	if grep -qE '^not ok - |:[FE]:' "$1"; then
		awk '/^not ok - / { show = 1; print; next }
		     /^#/ { if (show) print; next }
		     /:[FE]:/ { print; show = 0; next }
		     { show = 0 }' "$1"
	else
		tail -n 30 "$1"
	fi
}

# ---- unit tests -------------------------------------------------------------------------------------
run_unit()
{
	local bin name log rc line n f e p x note found=0
	for bin in "$BUILD_DIR"/tests/test_*; do
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		found=1
		name=unit/$(basename "$bin")
		log=$LOGS/$(basename "$bin").log
		(cd "$ROOT" && timeout -k 5 "$UNIT_TIMEOUT" "$bin") >"$log" 2>&1
		rc=$?
		line=$(grep -oE '[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n 1)
		note=""
		if [ -n "$line" ]; then
			read -r n f e < <(sed -E 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+)/\1 \2 \3/' <<<"$line")
			x=$((f + e))
			p=$((n - x))
			if [ "$rc" -ne 0 ] && [ "$x" -eq 0 ]; then
				x=1
				note="exit status $rc"
			fi
		else
			p=0
			x=1
			note="no Check summary line, exit status $rc"
		fi
		[ "$rc" = 124 ] && note="timed out after ${UNIT_TIMEOUT}s"
		record "$name" "$p" "$x" "$note" "$log"
	done
	if [ "$found" = 0 ]; then
		echo "no unit test binaries in $BUILD_DIR/tests (build them with make)" >"$LOGS/unit.log"
		record "unit" 0 1 "no test binaries in $BUILD_DIR/tests" "$LOGS/unit.log"
	fi
}

# run_script NAME TIMEOUT SCRIPT: runs a test script that ends with "N passed, N failed".
run_script()
{
	local name=$1 limit=$2 script=$3 log rc line p x note=""
	log=$LOGS/$(basename "$(dirname "$script")")-$(basename "$script" .sh).log
	if [ "${VERBOSE:-0}" = 1 ]; then
		echo "---- $name"
	fi
	(cd "$ROOT" && timeout -k 10 "$limit" bash "$script") >"$log" 2>&1 </dev/null
	rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		p=${line%% passed*}
		x=${line#*, }
		x=${x%% failed}
		if [ "$rc" -ne 0 ] && [ "$x" -eq 0 ]; then
			x=1
			note="exit status $rc"
		fi
	else
		# died before its summary: count what it printed, plus one failure for the death
		p=$(grep -c '^ok - ' "$log")
		x=$(($(grep -c '^not ok - ' "$log") + 1))
		note="no summary line, exit status $rc"
	fi
	[ "$rc" = 124 ] || [ "$rc" = 137 ] && note="timed out after ${limit}s"
	record "$name" "$p" "$x" "$note" "$log"
}

run_integration()
{
	local s found=0
	for s in "$ROOT"/tests/integration/test_*.sh; do
		[ -f "$s" ] || continue
		found=1
		run_script "integration/$(basename "$s")" "$SCRIPT_TIMEOUT" "$s"
	done
	if [ "$found" = 0 ]; then
		echo "no tests/integration/test_*.sh" >"$LOGS/integration.log"
		record integration 0 1 "no test scripts" "$LOGS/integration.log"
	fi
}

run_differential()
{
	run_script "differential/run.sh" "$DIFF_TIMEOUT" "$ROOT/tests/differential/run.sh"
	run_script "differential/geo.sh" "$DIFF_TIMEOUT" "$ROOT/tests/differential/geo.sh"
	run_script "differential/dnssec.sh" "$DIFF_TIMEOUT" "$ROOT/tests/differential/dnssec.sh"
}

case $WHAT in
unit) run_unit ;;
integration) run_integration ;;
differential) run_differential ;;
all)
	run_unit
	run_integration
	run_differential
	;;
esac

echo
echo "summary ($BUILD_DIR):"
printf '  %s\n' "${SUMMARY[@]}"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
