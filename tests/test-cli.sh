#!/bin/sh
# test-cli: firebreak's command line: exit codes, error lines, inputs, outputs, help.
set -u
FB=${FIREBREAK:-build/firebreak}
. tests/lib-test.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# expect NAME WANT_RC CMD...: runs CMD with stdout in $T/out and stderr in $T/err
expect() {
        name=$1; want=$2; shift 2
        "$@" >"$T/out" 2>"$T/err"; rc=$?
        if [ "$rc" -eq "$want" ]; then ok "$name"; else
                bad "$name" "exit $rc, want $want" "stderr: $(head -c 400 "$T/err")"; fi
}
contains() { # NAME FILE TEXT
        if grep -qF -- "$3" "$2"; then ok "$1"; else bad "$1" "$2 lacks: $3" "$(head -c 300 "$2")"; fi
}

A=tests/data/alerts/memfd-modest_brahmagupta.json
expect "help" 0 "$FB" --help
contains "help lists triage" "$T/out" "triage"
expect "version" 0 "$FB" --version
contains "version printed" "$T/out" "firebreak 0."
expect "triage --help" 0 "$FB" triage --help
contains "triage help documents exit status" "$T/out" "Exit status"
expect "no verb is a usage error" 2 "$FB"
expect "unknown verb is a usage error" 2 "$FB" frobnicate
contains "unknown verb named" "$T/err" "unknown verb 'frobnicate'"
expect "bad format is a usage error" 2 "$FB" triage --format html "$A"

expect "one alert" 0 "$FB" triage "$A"
contains "markdown report" "$T/out" "# Alert Analysis Report"
expect "stdin" 0 sh -c "\"$FB\" triage < $A"
contains "stdin report" "$T/out" "60df1444-1e4a-43f1-bcaa-67f76c3b5294"
expect "dash is stdin" 0 sh -c "cat $A | \"$FB\" triage -"
printf ' \n\n' > "$T/empty.json"
expect "a file with no alert in it: exit 0" 0 "$FB" triage "$T/empty.json"
contains "... and said, not silence" "$T/err" "$T/empty.json: no alerts in it"

expect "json lines out" 0 "$FB" triage --format json tests/data/alerts/stable-rules.jsonl
n=$(wc -l < "$T/out")
if [ "$n" -eq 26 ]; then ok "one JSON line per alert"; else bad "one JSON line per alert" "got $n lines"; fi
if python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/out"; then
        ok "every line is JSON"; else bad "every line is JSON"; fi

# a bad alert in the middle: one error line naming input, index, line, column; rest reported
{ head -n 2 tests/data/alerts/stable-rules.jsonl; echo '{"rule": "x", "priority":'; \
  sed -n 3,4p tests/data/alerts/stable-rules.jsonl; } > "$T/mixed.jsonl"
expect "bad alert gives exit 1" 1 "$FB" triage --format json "$T/mixed.jsonl"
n=$(wc -l < "$T/out")
if [ "$n" -eq 4 ]; then ok "the other alerts are reported"; else bad "others reported" "got $n"; fi
contains "error line format" "$T/err" "mixed.jsonl: alert 3 (line 3, column 1): truncated"
n=$(wc -l < "$T/err")
if [ "$n" -eq 1 ]; then ok "one error line per bad alert"; else bad "one error line" "got $n"; fi

# Falco's text output (json_output: false) is named as such; other text is not
printf '18:31:02.120004111: Critical Fileless execution via memfd_create | container_id=69484342a56c\n' > "$T/text.log"
expect "Falco's text output: exit 1" 1 "$FB" triage "$T/text.log"
contains "... with the setting that makes JSON" "$T/err" "text.log: alert 1 (line 1, column 1): unexpected text outside an alert (expected '{' or '['): Falco's text output? Falco writes JSON with json_output: true"
printf 'hello\n' > "$T/hello.txt"
expect "other text: exit 1" 1 "$FB" triage "$T/hello.txt"
if grep -q "json_output" "$T/err"; then bad "other text: no Falco hint" "$(cat "$T/err")"; else ok "other text: no Falco hint"; fi

expect "missing file gives exit 1" 1 "$FB" triage /nonexistent/alerts.json "$A"
contains "missing file named" "$T/err" "/nonexistent/alerts.json: No such file or directory"
contains "the readable file is still reported" "$T/out" "# Alert Analysis Report"

expect "output dir" 0 "$FB" triage -o "$T/reports" tests/data/alerts/memfd-pedantic_varahamihira.json
if [ -f "$T/reports/3b0f5e2a-8d1c-4c67-9a43-2f6d0e9b7c15.md" ]; then ok "report file named by id"; else
        bad "report file named by id" "$(ls "$T/reports")"; fi
contains "one line per alert" "$T/out" "3b0f5e2a-8d1c-4c67-9a43-2f6d0e9b7c15  likely-test"
contains "summary on stderr" "$T/err" "1 report(s) written"
# standard output and error in one file (make demo > log 2>&1, a unit's journal): the index
# lines come whole and before the summary, which is the last line
"$FB" triage -o "$T/reports2" tests/data/alerts/stable-rules.jsonl >"$T/both" 2>&1
if tail -n 1 "$T/both" | grep -q '^firebreak: 2[0-9] report(s) written' &&
   [ "$(grep -c '^[0-9a-f]\{32\}  [a-z-]*  ' "$T/both")" = "$(($(wc -l <"$T/both") - 1))" ]; then
        ok "one file for both streams: whole index lines, the summary last"
else
        bad "one file for both streams: whole index lines, the summary last" "$(tail -n 3 "$T/both")"
fi
mkdir "$T/ro" && chmod 0500 "$T/ro"
if [ "$(id -u)" = 0 ]; then
        # root ignores directory modes: make writing fail with a path that is a file
        : > "$T/ro/file"
        expect "unwritable output gives exit 3" 3 "$FB" triage -o "$T/ro/file/x" "$A"
else
        expect "unwritable output gives exit 3" 3 "$FB" triage -o "$T/ro/x" "$A"
fi

expect "invalid kb gives exit 2" 2 "$FB" triage --kb tests/data/kb-invalid/bad-var.yaml "$A"
contains "kb error has file:line:column" "$T/err" "bad-var.yaml:7:20: unknown template variable"
expect "user kb applies" 0 "$FB" triage --kb tests/data/kb-user tests/data/alerts/terminal-shell-falco-docs.json
contains "override used" "$T/out" "(site override)"

# a reader that goes away ends firebreak by SIGPIPE (141) or an output error (3), not a crash
("$FB" triage tests/data/alerts/stable-rules.jsonl 2>"$T/err"; echo $? > "$T/rc") | head -c 10 >/dev/null
rc=$(cat "$T/rc")
if [ "$rc" -eq 141 ] || [ "$rc" -eq 3 ]; then ok "closed stdout ends cleanly ($rc)"; else
        bad "closed stdout ends cleanly" "exit $rc"; fi

# serve's configuration: errors name the line and column, and the service does not start
printf 'sources:\n  journal:\n    units: [falco]\n' >"$T/units.yaml"
expect "serve: a journal unit name without a type is a config error" 2 "$FB" serve -c "$T/units.yaml"
contains "serve: the error names where" "$T/err" "units.yaml:3:13: units[0]: not a unit name"
printf 'sources:\n  journal:\n    units: []\n' >"$T/units.yaml"
expect "serve: an empty unit list is a config error" 2 "$FB" serve -c "$T/units.yaml"
printf 'sources:\n  journal:\n    unit: falco.service\n' >"$T/units.yaml"
expect "serve: an unknown journal key is a config error" 2 "$FB" serve -c "$T/units.yaml"
contains "serve: the unknown key is named" "$T/err" "unit"
# evidence verify: usage errors and an unreadable bundle are exit 2
expect "evidence --help" 0 "$FB" evidence --help
contains "evidence help documents exit status" "$T/out" "Exit status"
expect "evidence without a verb" 2 "$FB" evidence
expect "evidence verify, bad hash" 2 "$FB" evidence verify --manifest-sha256 xyz /nonexistent
expect "evidence verify, no bundle" 2 "$FB" evidence verify /nonexistent

# the manual documents every option each --help lists, and renders without warnings
for help in "$FB --help" "$FB triage --help" "$FB container --help" "$FB respond --help" \
        "$FB evidence --help" "$FB seccomp --help" "$FB harden --help"; do
        for opt in $($help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
                if grep -qF -- "$(echo "$opt" | sed 's/-/\\-/g')" docs/firebreak.8; then
                        ok "man page documents $opt"
                else bad "man page documents $opt" "docs/firebreak.8 lacks $opt"; fi
        done
done
# alert ids without uuid: alert.c's canonical encoding against an independent implementation
# of the documented one (tests/canon-id.py), on the samples and on an alert with every kind of
# value (integers past INT64_MAX too), nested under an unknown key and in output_fields (lists
# too), keys out of order
cat > "$T/kinds.json" <<'JSON'
{
 "time":"2024-10-05T18:29:40.1Z","rule":"r","priority":"Notice","source":"syscall",
 "zz":{"b":[1,-2,3.5,true,false,null,"\u00fc",{"k":"v","ka":[]}],"a":{"b":{}},"":0,
  "u":[18446744073709551615,{"n":9223372036854775808}]},
 "output_fields":{"proc.name":"x","evt.num":-9223372036854775807,"a.real":-0.25,
  "a.bool":true,"a.null":null,"a.zero":0,"fd.name":"\u00e9t\u00e9",
  "evt.rawarg.argument":18446744073709551615,"a.u63":9223372036854775808,"a.m1":-1,
  "ka.req.pod.containers.image":["n\u00fc",1,null,true,-0.5,"",18446744073709551614],
  "a.empty":[]},"output":"o"}
JSON
ids_ok=yes
for f in tests/data/alerts/memfd-falco-syslog-line.json tests/data/alerts/custom-rule-u64-arg.json \
        "$T/kinds.json"; do
        want=$(python3 tests/canon-id.py "$f")
        got=$("$FB" triage --format json "$f" | python3 -c 'import json,sys; print(json.load(sys.stdin)["alert"]["id"])')
        [ "$want" = "$got" ] || { ids_ok=no; bad "canonical id of $f" "alert.c $got, canon-id.py $want"; }
done
[ "$ids_ok" = yes ] && ok "alert ids without uuid match an independent implementation of the encoding"

if groff -man -ww -z docs/firebreak.8 2>"$T/groff" && [ ! -s "$T/groff" ]; then ok "man page renders cleanly"
else bad "man page renders cleanly" "$(head -5 "$T/groff")"; fi

# under systemd (JOURNAL_STREAM names standard error), each line carries its priority, so that
# `journalctl -p err` finds errors; elsewhere no prefix
"$FB" policy check "$T/none.yaml" 2>"$T/prio" >/dev/null
js=$(stat -c '%d:%i' "$T/prio")
JOURNAL_STREAM=$js "$FB" policy check "$T/none.yaml" 2>>"$T/prio" >/dev/null
if [ "$(sed -n 1p "$T/prio" | cut -c1-11)" = "firebreak: " ] && [ "$(sed -n 2p "$T/prio" | cut -c1-14)" = "<3>firebreak: " ]; then
        ok "errors carry <3> when standard error is the journal's stream, nothing otherwise"
else bad "log priority prefix" "$(cat "$T/prio")"; fi

summary
