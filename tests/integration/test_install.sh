#!/usr/bin/env bash
# test_install.sh -- make install into a DESTDIR: the programs run, the systemd unit names them under
# PREFIX and differs from scripts/systemd/meridiand.service in nothing else, the README and the
# example deployment are there without make run's state, and the example config passes --check where
# it was installed.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D=$T_TMP/inst
# -o: the programs are what this run tests (under make asan, sanitizer builds): never rebuilt here,
# even when a source changed since they were built
out=$(make -C "$ROOT" --no-print-directory -o "$BUILD_DIR/meridiand" -o "$BUILD_DIR/meridianctl" install \
	BUILD="$BUILD_DIR" DESTDIR="$D" PREFIX=/usr 2>&1)
expect_eq "make install DESTDIR=... PREFIX=/usr: exit 0" 0 $? || printf '%s\n' "$out" | sed 's/^/#   /'
version=$("$D/usr/sbin/meridiand" --version 2>&1)
expect_in version "^meridiand [0-9]+\.[0-9]+\.[0-9]+$" "meridiand installed in sbin, and runs"
version=$("$D/usr/bin/meridianctl" --version 2>&1)
expect_in version "^meridianctl [0-9]+\.[0-9]+\.[0-9]+$" "meridianctl installed in bin, and runs"
UNIT=$D/usr/lib/systemd/system/meridiand.service
unit=$(grep '^ExecStart' "$UNIT")
expect_eq "the unit runs the installed meridiand" \
	"ExecStartPre=/usr/sbin/meridiand -c /etc/meridian/meridian.conf --check"$'\n'"ExecStart=/usr/sbin/meridiand -c /etc/meridian/meridian.conf" \
	"$unit"
check "and is otherwise the template" diff <(sed 's|/usr/sbin/meridiand|/usr/local/sbin/meridiand|' "$UNIT") \
	"$ROOT/scripts/systemd/meridiand.service"
check "the README" test -s "$D/usr/share/doc/meridian/README.md"
EX=$D/usr/share/doc/meridian/examples
check "the example deployment" test -s "$EX/meridian.conf" -a -s "$EX/example.com.zone" -a -s "$EX/geo/demo-city.mmdb"
check "without make run's state folder" test ! -e "$EX/run"
out=$("$D/usr/sbin/meridiand" -c "$EX/meridian.conf" --check 2>&1)
expect_eq "the installed example passes --check" 0 $? || printf '%s\n' "$out" | sed 's/^/#   /'
check "nothing outside DESTDIR's usr" test "$(ls "$D")" = usr

finish
