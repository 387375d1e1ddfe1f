#!/usr/bin/env bash
# test_cookies.sh -- DNS Cookies (RFC 7873, RFC 9018 server cookies) as dig sees them: a client
# cookie gets a server cookie, dig calls the one it sends back "good", one made with another
# secret or for a tampered value is replaced, malformed ones get FORMERR, a query without a
# question gets a cookie (5.4), a reload keeps cookies valid, two servers sharing cookie_secrets
# accept each other's cookies, and cookies = false ignores the option.
. "$(dirname "$0")/lib.sh"

# start_another CONFIG_LINE...: a second meridiand with the zone and these lines, the first one kept
# running (start_meridian stops the one in MPID); back_to_first stops it and asks the first again.
start_another()
{
	write_config "$(zones_lua example.com)" "$@"
	write_basic_zone
	MPID_FIRST=$MPID
	MPID=""
	start_or_bail "$CONF"
}

back_to_first()
{
	stop_meridian
	MPID=$MPID_FIRST PORT=$FIRST_PORT
}

CLIENT=2464c4abcf10c957
SECRET=e5e973e5a6b2a43f48e7dc849e37bfcf

# cookie_of: the COOKIE value of the last reply ("" when none)
cookie_of()
{
	sed -nE 's/^; COOKIE: ([0-9a-f]+).*/\1/p' <<<"$EDNS"
}

write_config "$(zones_lua example.com)" "cookie_secrets = { \"$SECRET\" }"
write_basic_zone
start_or_bail "$CONF"
FIRST_PORT=$PORT

ask +cookie=$CLIENT www.example.com A
expect_rcode NOERROR "client cookie: NOERROR"
expect_section ANSWER "client cookie: the answer" <<<'www.example.com. 3600 IN A 192.0.2.1'
SERVER_COOKIE=$(cookie_of)
check "client cookie: a client and a 16-octet server cookie come back" \
	test "${#SERVER_COOKIE}" = 48 -a "${SERVER_COOKIE:0:16}" = "$CLIENT"
check "the server cookie is RFC 9018's: version 1, reserved zero" test "${SERVER_COOKIE:16:8}" = 01000000

ask +cookie=$SERVER_COOKIE www.example.com A
expect_in EDNS '^; COOKIE: [0-9a-f]+ \(good\)$' "the cookie sent back: dig calls it good"
check "a young valid server cookie comes back as it went" test "$(cookie_of)" = "$SERVER_COOKIE"

TAMPERED=${SERVER_COOKIE:0:46}$(printf '%02x' $(((0x${SERVER_COOKIE:46:2} + 1) % 256)))
ask +cookie=$TAMPERED www.example.com A
expect_rcode NOERROR "a tampered server cookie: still answered (RFC 7873 5.2.4)"
REPLACED=$(cookie_of)
check "a tampered server cookie: replaced" test "${#REPLACED}" = 48 -a "$REPLACED" != "$TAMPERED" \
	-a "${REPLACED:0:16}" = "$CLIENT"
ask +cookie=$REPLACED www.example.com A
expect_in EDNS '\(good\)$' "the replacement is a valid cookie"

ask +cookie=2464c4abcf10c957aabbccdd www.example.com A
expect_rcode FORMERR "a 12-octet cookie: FORMERR (RFC 7873 5.2.2)"
expect_not_in EDNS 'COOKIE' "FORMERR: no cookie"
ask +nocookie +ednsopt=10:2464c4abcf10c9 www.example.com A
expect_rcode FORMERR "a 7-octet cookie: FORMERR"

ask +header-only +cookie=$CLIENT www.example.com A
expect_rcode NOERROR "no question, a client cookie: NOERROR (RFC 7873 5.4)"
FRESH=$(cookie_of)
check "no question: a server cookie comes back" test "${#FRESH}" = 48 -a "${FRESH:0:16}" = "$CLIENT"
ask +header-only +nobadcookie +cookie=$TAMPERED www.example.com A
expect_rcode BADCOOKIE "no question, an invalid server cookie: BADCOOKIE"
ask +header-only +nocookie www.example.com A
expect_rcode FORMERR "no question, no cookie: FORMERR"

ask +tcp +cookie=$SERVER_COOKIE www.example.com A
expect_in EDNS '\(good\)' "over TCP too"

# a second server with the same secret accepts the first one's cookie (anycast)
start_another "cookie_secrets = { \"0123456789abcdef0123456789abcdef\", \"$SECRET\" }"
ask +cookie=$SERVER_COOKIE www.example.com A
expect_in EDNS '\(good\)' "another server holding the secret second (a rollover): the cookie is good"
check "it answers with a cookie of its first secret" test "$(cookie_of)" != "$SERVER_COOKIE"
back_to_first

# cookies off: the option is ignored, malformed or not
start_another 'cookies = false'
ask +cookie=$CLIENT www.example.com A
expect_not_in EDNS 'COOKIE' "cookies = false: no cookie in the answer"
ask +cookie=2464c4abcf10c957aabbccdd www.example.com A
expect_rcode NOERROR "cookies = false: a malformed cookie is ignored"
back_to_first

# without cookie_secrets a random secret is drawn once: a reload keeps cookies valid
start_another
ask +cookie=$CLIENT www.example.com A
RANDOM_COOKIE=$(cookie_of)
check "no secret configured: a cookie all the same" test "${#RANDOM_COOKIE}" = 48
sed -i 's/^serial = 1$/serial = 2/' "$CONF"
kill -HUP "$MPID"
for ((i = 0; i < 100; i++)); do
	grep -q 'serial 2' "$MLOG" && break
	sleep 0.05
done
check "reloaded" grep -q 'serial 2' "$MLOG"
ask +cookie=$RANDOM_COOKIE www.example.com A
expect_in EDNS '\(good\)' "after a reload the random secret still holds"
back_to_first

check "the first meridiand still running" kill -0 "$MPID"
finish
