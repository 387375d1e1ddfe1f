#!/usr/bin/env python3
"""promcheck.py -- checks a page in Prometheus's text exposition format (version 0.0.4), read from
standard input, the way a scraper would read it (tests/integration/test_metrics.sh).

Every metric has one HELP and one TYPE line (counter or gauge) before its samples; each sample is
NAME{LABEL="VALUE",...} NUMBER with a name the TYPE line announced, a counter's name ends in
_total, label values are properly escaped, and no sample (name and labels) appears twice. Prints
each problem on a line and exits 1 when there is one; otherwise prints "N metrics, N samples".
"""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(\{(?:%s)(?:,%s)*\})? (\S+)$" % (NAME, LABEL, LABEL))


def main():
    problems, types, helps, seen, samples = [], {}, set(), set(), 0
    for n, line in enumerate(sys.stdin.read().split("\n"), 1):
        if not line:
            continue
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            if name in helps:
                problems.append("%d: a second HELP for %s" % (n, name))
            helps.add(name)
        elif line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] not in ("counter", "gauge"):
                problems.append("%d: bad TYPE line: %s" % (n, line))
            elif parts[2] in types:
                problems.append("%d: a second TYPE for %s" % (n, parts[2]))
            else:
                types[parts[2]] = parts[3]
                if parts[3] == "counter" and not parts[2].endswith("_total"):
                    problems.append("%d: counter %s does not end in _total" % (n, parts[2]))
        elif line.startswith("#"):
            continue
        else:
            m = SAMPLE.match(line)
            if not m:
                problems.append("%d: not a sample: %s" % (n, line))
                continue
            name, labels, value = m.group(1), m.group(2) or "", m.group(3)
            if name not in types or name not in helps:
                problems.append("%d: %s has no TYPE and HELP before it" % (n, name))
            try:
                float(value)
            except ValueError:
                problems.append("%d: not a number: %s" % (n, value))
            if (name, labels) in seen:
                problems.append("%d: %s%s twice" % (n, name, labels))
            seen.add((name, labels))
            samples += 1
    for p in problems:
        print(p)
    if not problems:
        print("%d metrics, %d samples" % (len(types), samples))
    return 1 if problems else 0


sys.exit(main())
