#!/usr/bin/env python3
"""make-corpus-zone.py -- writes the seed corpus of the zone loader's fuzz target (tests/fuzz/zone.h)
into tests/fuzz/corpus-zone/: every master file in the repository with its origin renamed to
fuzz.test (the zone the target loads), plus a few files written here for what those do not show:
directives, parentheses across lines, quotes and escapes, comments, RFC 3597 data, blank owners.
Files naming $INCLUDE are left out (the target skips them). Deterministic.

usage: tests/fuzz/make-corpus-zone.py [FOLDER]   (default: tests/fuzz/corpus-zone)"""
import glob
import hashlib
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

EXTRA = [
    "$ORIGIN fuzz.test.\n$TTL 300\n@ IN SOA ns1 host ( 1 ; serial\n 7200 900\n 1209600 300 )\n"
    "@ NS ns1\nns1 A 192.0.2.1\n\tTXT \"a;b\" \"c\\\"d\" \\065\n",
    "$TTL 1h\n@ SOA ns1.fuzz.test. h.fuzz.test. 1 2 3 4 5\n NS ns1\nns1 A 192.0.2.1\n"
    "x TYPE65280 \\# 3 abcdef\ny CLASS1 TYPE1 \\# 4 c0000201\n*.w MX 10 mail\n",
    "@ 60 SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 AAAA 2001:db8::1\nsub NS ns.sub\nns.sub A 192.0.2.9\n"
    "d DNAME fuzz.test.\nc CNAME d\n$ORIGIN sub.fuzz.test.\nbelow TXT x\n",
    "@ SOA ns1 h 1 2 3 4 5\r\n@ NS ns1\r\nns1 A 192.0.2.1 ; comment (\r\n) TXT (\"x\"\n",
]


def seeds():
    for path in sorted(glob.glob(os.path.join(ROOT, "**", "*.zone"), recursive=True)):
        if "/build/" in path:
            continue
        with open(path, "rb") as f:
            text = f.read()
        if b"$INCLUDE" in text:
            continue
        yield re.sub(rb"example\.(com|net)\b", b"fuzz.test", text)
    for text in EXTRA:
        yield text.encode()


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus-zone")
    os.makedirs(folder, exist_ok=True)
    for data in seeds():
        with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
