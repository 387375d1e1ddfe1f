#!/usr/bin/env bash
# deps.sh -- install the Debian packages meridian needs to build, test and benchmark.
#
#   scripts/deps.sh [build|test|bench|fuzz|all]...     (default: all; fuzz is only for make fuzz)
#
# Silent when everything is installed. As root it runs `apt-get update` once and installs what is
# missing without prompts; otherwise it prints the apt-get line to run and exits 1. Package
# maintainer scripts must not start nsd/knot/gdnsd (they would take port 53 and disturb tests and
# benchmarks), so a policy-rc.d that forbids service starts is in place for the install, and any
# of those daemons that appears anyway is stopped again.
set -euo pipefail

BUILD_PKGS=(gcc make pkg-config libldns-dev libev-dev libmaxminddb-dev liblua5.4-dev liburcu-dev
	check libcurl4-openssl-dev libsodium-dev libmicrohttpd-dev libcap-dev libsystemd-dev nettle-dev)
# "a|b": either satisfies (dnsutils is a transitional package for bind9-dnsutils); the first is
# installed when neither is.
# gdnsd, knot and knot-module-geoip: the geo differential test (tests/differential/geo.sh) serves
# the same geo routing from them as from meridian. systemd: systemd-analyze checks the unit file.
# ldnsutils: the DNSSEC differential test (tests/differential/dnssec.sh) makes keys and signs its
# zones at test time with ldns-keygen and ldns-signzone (delv, from dnsutils, validates answers).
TEST_PKGS=("dnsutils|bind9-dnsutils" nsd libmaxmind-db-writer-perl mmdb-bin python3 openssl curl
	systemd gdnsd knot knot-module-geoip ldnsutils)
BENCH_PKGS=(dnsperf gdnsd knot nsd valgrind)
# make fuzz: libFuzzer comes with clang
FUZZ_PKGS=(clang)
DAEMONS=(nsd knotd gdnsd)

usage() {
	echo "usage: $0 [build|test|bench|fuzz|all]..." >&2
	exit 2
}

wanted=()
[ $# -eq 0 ] && set -- all
for group in "$@"; do
	case $group in
	build) wanted+=("${BUILD_PKGS[@]}") ;;
	test) wanted+=("${TEST_PKGS[@]}") ;;
	bench) wanted+=("${BENCH_PKGS[@]}") ;;
	fuzz) wanted+=("${FUZZ_PKGS[@]}") ;;
	all) wanted+=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
	*) usage ;;
	esac
done

installed() {
	local status
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) || return 1
	[ "${status:0:2}" = ii ]
}

missing=()
for spec in "${wanted[@]}"; do
	ok=0
	IFS='|' read -r -a alts <<<"$spec"
	for p in "${alts[@]}"; do
		if installed "$p"; then ok=1; break; fi
	done
	if [ $ok = 0 ] && [[ " ${missing[*]-} " != *" ${alts[0]} "* ]]; then
		missing+=("${alts[0]}")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

install_cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "run as root:" >&2
	echo "  apt-get update && DEBIAN_FRONTEND=noninteractive ${install_cmd[*]}" >&2
	exit 1
fi

echo "deps.sh: installing ${missing[*]}" >&2

# pids of the daemons running before the install: only ones that appear during it are ours to stop
daemon_pids() {
	local d
	for d in "${DAEMONS[@]}"; do pgrep -x "$d" || true; done | sort
}
before=$(daemon_pids)

# Forbid service starts during the install; keep (and restore) a policy-rc.d that was already
# there, such as the one Docker images carry.
POLICY=/usr/sbin/policy-rc.d
saved=""
# shellcheck disable=SC2317 # run by the trap
restore_policy() {
	if [ -n "$saved" ]; then
		mv -f "$saved" "$POLICY"
	else
		rm -f "$POLICY"
	fi
}
if [ -e "$POLICY" ]; then
	saved=$(mktemp "$POLICY.meridian-saved.XXXXXX")
	cp -p "$POLICY" "$saved"
fi
trap restore_policy EXIT
printf '#!/bin/sh\n# written by meridian scripts/deps.sh for the duration of an install\nexit 101\n' >"$POLICY"
chmod 755 "$POLICY"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -qq -y --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"

# On a host with systemd the packages' units are enabled for the next boot; disable the
# authoritative servers we just installed so nothing claims port 53 later either.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
	for unit in nsd knot gdnsd; do
		if [[ " ${missing[*]} " == *" $unit "* ]]; then
			systemctl disable --now "$unit" >/dev/null 2>&1 || true
		fi
	done
fi

# Stop any daemon that started during the install despite the policy.
after=$(daemon_pids)
for pid in $(comm -13 <(echo "$before") <(echo "$after")); do
	echo "deps.sh: stopping $(cat /proc/"$pid"/comm 2>/dev/null || echo daemon) (pid $pid) started by its package" >&2
	kill "$pid" 2>/dev/null || true
done
exit 0
