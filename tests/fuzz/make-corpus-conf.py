#!/usr/bin/env python3
"""make-corpus-conf.py -- writes the seed corpus of the config loader's fuzz target (tests/fuzz/conf.h)
into tests/fuzz/corpus-conf/: the example deployment's config and tests/fuzz/fuzz.conf, plus configs
written here for each part of the schema and for what a config can do wrong: a syntax error, a
runaway loop (the instruction budget), a huge string (the memory cap), wrong types, unknown keys.
The target's folder holds example.com.zone, which the seeds name. Deterministic.

usage: tests/fuzz/make-corpus-conf.py [FOLDER]   (default: tests/fuzz/corpus-conf)"""
import hashlib
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
HEAD = 'serial = 1\nlisten = { "127.0.0.1:5353" }\nzones = { { name = "example.com", file = "example.com.zone" } }\n'

EXTRA = [
    HEAD,
    HEAD + 'workers = 2\nnsid = "ns1"\nidentity = "ns1"\nversion = "v"\nudp_payload = 1232\n'
    'tcp_idle_timeout = 10\ntcp_clients = 256\nprepared_answers = 1000\ncookies = true\n'
    'cookie_secrets = { "e5e973e5a6b2a43f48e7dc849e37bfcf" }\nmetrics = "127.0.0.1:9153"\n',
    HEAD + 'rate_limit = { rate = 100, burst = 200, slip = 2, ipv4_prefix = 24, ipv6_prefix = 56,\n'
    '  table_size = 65536, exempt = { "192.0.2.0/24", "2001:db8::53" }, dry_run = false }\n',
    HEAD + 'regions = { europe = { nets = { "192.0.2.0/24", "2001:db8::/32" } },\n'
    '  americas = { nets = { "198.51.100.0/24" }, lat = 40, lon = -70 } }\ndefault_region = "americas"\n'
    'ecs = true\ndatacenters = { ams = { lat = 52.37, lon = 4.90 }, iad = {} }\n'
    'pools = { web = { check = { type = "http", port = 80, path = "/health", expect = { 200 },\n'
    '  interval = 2, timeout = 1, rise = 2, fall = 3 },\n'
    '  members = { { name = "ams-1", addr = "192.0.2.10", dc = "ams" },\n'
    '              { name = "iad-1", addr = "198.51.100.10", dc = "iad", weight = 2 } } } }\n'
    'records = {\n'
    '  { name = "www.example.com", type = "A", pool = "web", ttl = 30, policy = "failover",\n'
    '    order = { europe = { "ams", "iad" }, americas = { "iad", "ams" } } },\n'
    '  { name = "cdn.example.com", type = "A", pool = "web", ttl = 30, policy = "nearest", answers = 2 },\n'
    '  { name = "img.example.com", type = "A", pool = "web", ttl = 60, policy = "weighted" } }\n',
    HEAD + 'local t = {}\nfor i = 1, 50 do t[i] = string.format("192.0.2.%d/32", i) end\n'
    'regions = { r = { nets = t } }\ndefault_region = "r"\n',
    HEAD + 'serial = 2\nserial = "x"\n',
    'serial = 1\nlisten = { "127.0.0.1:5353" \nzones = {',
    HEAD + 'while true do end\n',
    HEAD + 'local s = "x"\nfor i = 1, 40 do s = s .. s end\n',
    HEAD + 'listen = { "[::1]:53", "127.0.0.1:0", "1.2.3.4:99999", "nonsense" }\n',
    HEAD + 'zones = { { name = "example.com", file = "nothere.zone" }, { name = "EXAMPLE.com.", file = "example.com.zone" } }\n',
    HEAD + 'listn = 1\nrecords = { { name = 1 } }\npools = "x"\n',
    HEAD + 'user = "root"\nstate_dir = "run"\ncontrol = "run/ctl.sock"\n',
    HEAD + 'geoip = { "nothere.mmdb" }\nregions = { a = { continents = { "EU" } }, b = { countries = { "XX" } },\n'
    '  c = { subdivisions = { "US-CA" } } }\n',
    HEAD + 'error("stop here")\n',
    HEAD + 'x = setmetatable({}, { __index = function() return 1 end })\nrecords = { x }\n',
]


def seeds():
    for name in ("zones/meridian.conf", "tests/fuzz/fuzz.conf"):
        with open(os.path.join(ROOT, name), "rb") as f:
            yield f.read()
    for text in EXTRA:
        yield text.encode()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "fuzz", "corpus-conf")
    os.makedirs(out, exist_ok=True)
    n = 0
    for data in seeds():
        with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
        n += 1
    print("%d seeds in %s" % (n, out))


if __name__ == "__main__":
    main()
