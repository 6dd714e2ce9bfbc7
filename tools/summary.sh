#!/usr/bin/env bash
# Prints one closing line for `make test` from meson's test log: "N passed, N failed".
set -u
log="${1:-build}/meson-logs/testlog.json"
[ -f "$log" ] || { echo "no test log at $log"; exit 1; }
/usr/bin/python3 - "$log" <<'PY'
import json, sys
res = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        t = json.loads(line)
        res[t["name"]] = t["result"]
ok = sum(1 for r in res.values() if r in ("OK", "EXPECTEDFAIL"))
skip = sum(1 for r in res.values() if r == "SKIP")
bad = [n for n, r in res.items() if r not in ("OK", "EXPECTEDFAIL", "SKIP")]
for n in bad:
    print("FAILED:", n, res[n])
print(f"{ok} passed, {len(bad)} failed, {skip} skipped")
sys.exit(1 if bad else 0)
PY
