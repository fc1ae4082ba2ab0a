#!/usr/bin/env bash
# Peak RSS and time per hostile input for the CLI (issue 21), one process each.
# Usage: benches/hostile_cli.sh target/release/calcinosis-ls   (inputs, ~700 MB, go to
# $HOSTILE_CLI_DIR, default /tmp/hostile-cli; they hold no note text of anyone).
set -u
B="${1:?usage: benches/hostile_cli.sh BINARY}"; D="${HOSTILE_CLI_DIR:-/tmp/hostile-cli}"; mkdir -p "$D"
B="$(realpath "$B")"
cd "$D"
python3 - "$D" <<'PY'
import json, os
import sys; d=sys.argv[1]
def dense(n):
    s=("Denies RP, has sclerodactyly. "*(n//30+1))[:n]; return s
if not os.path.exists(f'{d}/dense20m.txt'):
    open(f'{d}/dense20m.txt','w').write(dense(20<<20))
    open(f'{d}/dense24m.txt','w').write(dense((24<<20)-1))
    open(f'{d}/dense50m.jsonl','w').write(json.dumps({"id":1,"text":dense(50<<20)})+"\n")
    open(f'{d}/idtext.jsonl','w').write(json.dumps({"text":dense(220_000)})+"\n")
    with open(f'{d}/oneline532m.jsonl','wb') as f:
        f.write(b'{"text": "'); chunk=b'a'*(1<<20)
        for _ in range(532): f.write(chunk)
    with open(f'{d}/q100m.txt','wb') as f:
        f.write(b"calcinosis treatment "*5_000_000+b"\nwhere does calcinosis occur\n")
    with open(f'{d}/tiny200.jsonl','w') as f:
        for i in range(200): f.write(json.dumps({"id":i,"text":"Denies RP."})+"\n")
    with open(f'{d}/mixed.jsonl','w') as f:
        f.write(json.dumps({"id":0,"text":dense(23<<20)})+"\n")
        for i in range(200): f.write(json.dumps({"id":i+1,"text":dense(250_000)})+"\n")
    os.makedirs(f'{d}/loops/a', exist_ok=True)
    open(f'{d}/loops/a/n.txt','w').write("Denies RP.")
    for i in range(50):
        p=f'{d}/loops/a/l{i}'
        if not os.path.lexists(p): os.symlink(f'{d}/loops', p)
PY
m() { # name, then the command (stdin from $IN, stdout to /dev/null or a byte count)
  local name="$1"; shift
  local t; t=$( { /usr/bin/time -f "%e %M" "$@" < "${IN:-/dev/null}" | wc -c > "$D/out.n"; } 2>&1 >/dev/null | tail -1 )
  printf '| %s | %s s | %s MB | %s |\n' "$name" "${t% *}" "$(( ${t#* } / 1024 ))" "$(cat $D/out.n) B"
}
m "check /dev/zero" "$B" check /dev/zero
m "check --input jsonl /dev/zero" "$B" check --input jsonl /dev/zero
IN=/dev/zero m "check < /dev/zero" "$B" check
IN=/dev/zero m "ask < /dev/zero" "$B" ask
IN=$D/q100m.txt m "ask --format json, a 100 MB question line then a question" "$B" ask --format json
m "check --input jsonl, a 532 MB one-line file" "$B" check --input jsonl $D/oneline532m.jsonl
m "check --format jsonl --input jsonl, a 50 MB dense record" "$B" check --format jsonl --input jsonl $D/dense50m.jsonl
for f in json jsonl text; do m "check --format $f, a dense 20 MiB note" "$B" check --format $f $D/dense20m.txt; done
m "check --format json, a dense note 1 byte under 24 MiB" "$B" check --format json $D/dense24m.txt
m "check --input jsonl --id-field text, a dense 220 KB note (text)" "$B" check --input jsonl --id-field text $D/idtext.jsonl
m "check --jobs 10000, 200 tiny records" "$B" check --format jsonl --input jsonl --jobs 10000 $D/tiny200.jsonl
m "check --format json --input jsonl, a dense 23 MiB record then 200 dense 250 KB ones" "$B" check --format json --input jsonl $D/mixed.jsonl
m "check a folder with 50 links looping to it" "$B" check --format jsonl $D/loops
