#!/usr/bin/env python3
"""test-field: firebreak on real alerts that others published (tests/data/field, with their
PROVENANCE). Every alert there is triaged, in Markdown and JSON: none is refused, the JSON report
parses and names the alert's rule, and every file has a provenance entry. The payloads in
refused/ are not Falco output (Falcosidekick's and Talon's hand-made test inputs): each is
refused, with the reason named. What the reports say is checked by test-commands (commands) and
by reading them; the knowledge base's coverage of the corpus grows with issue 22."""
import glob, json, os, subprocess, sys

FB = os.environ.get("FIREBREAK", "build/firebreak")
D = "tests/data/field"
passed = failed = 0

def ok(name):
    global passed
    passed += 1
    print("ok   " + name)

def fail(name, why):
    global failed
    failed += 1
    print("FAIL %s: %s" % (name, why))

def triage(path, form):
    return subprocess.run([FB, "triage", "-f", form, path], capture_output=True, timeout=30)

alerts = sorted(f for f in glob.glob(D + "/*/*.json") if "/refused/" not in f)
bad = []
for f in alerts:
    md, js = triage(f, "md"), triage(f, "json")
    if md.returncode != 0 or js.returncode != 0:
        bad.append("%s: refused: %s" % (f, (md.stderr or js.stderr).decode(errors="replace")[:200]))
        continue
    try:
        rep = json.loads(js.stdout)
        rule = json.load(open(f)).get("rule")
        if rep["alert"]["rule"] != rule:
            bad.append("%s: the report names rule %r, the alert %r" % (f, rep["alert"]["rule"], rule))
    except (ValueError, KeyError) as e:
        bad.append("%s: JSON report: %s" % (f, e))
if len(alerts) >= 100 and not bad:
    ok("%d published alerts, every one triaged in Markdown and JSON, none refused" % len(alerts))
else:
    fail("published alerts triaged", "%d alerts; %s" % (len(alerts), "; ".join(bad[:5])))

expect = {"008-": 'missing required key "time"', "009-": 'missing required key "rule"',
          "010-": 'missing required key "rule"', "011-": 'missing required key "rule"',
          "012-": "not an RFC 3339 time"}
wrong = []
for f in sorted(glob.glob(D + "/refused/*.json")):
    r = triage(f, "md")
    want = next((v for k, v in expect.items() if os.path.basename(f).startswith(k)), None)
    if r.returncode == 0 or not want or want not in r.stderr.decode(errors="replace"):
        wrong.append("%s: exit %d, %s" % (f, r.returncode, r.stderr.decode(errors="replace")[:200]))
if not wrong and len(expect) == len(glob.glob(D + "/refused/*.json")):
    ok("the %d payloads that are not Falco output are refused, each with its reason" % len(expect))
else:
    fail("refused payloads", "; ".join(wrong[:5]) or "the set changed")

missing = []
for d in sorted(glob.glob(D + "/*/")):
    prov = d + "PROVENANCE"
    if os.path.basename(d.rstrip("/")) == "refused":
        prov = D + "/ecosystem/PROVENANCE"
    text = open(prov).read() if os.path.exists(prov) else ""
    for f in glob.glob(d + "*.json"):
        name = os.path.basename(f)
        if name not in text or "from:" not in text:
            missing.append(f)
if not missing:
    ok("every alert has a provenance entry (where it was found, what it is, its licence)")
else:
    fail("provenance", ", ".join(missing[:5]))

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
