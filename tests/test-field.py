#!/usr/bin/env python3
"""test-field: firebreak on real alerts that others published (tests/data/field, with their
PROVENANCE). Every alert there is triaged, in Markdown and JSON: none is refused, the JSON report
parses and names the alert's rule, and every file has a provenance entry. The payloads in
refused/ are not Falco output (Falcosidekick's and Talon's hand-made test inputs): each is
refused, with the reason named. What can be checked mechanically is: every alert of a rule that
Falco or its plugins ship gets that rule's own entry; no report reads a Falco placeholder as a
fact; the report's place fits its source, and no host, Kubernetes API, cloud, SaaS or Falco event
gets container steps (nor a cloud or SaaS event host steps). test-commands checks the commands."""
import glob, json, os, re, subprocess, sys

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

def shipped_rules():
    names = set()
    for f in glob.glob("tests/data/falco/*.yaml"):
        names.update(re.findall(r"^- rule: (.+?)\s*$", open(f).read(), re.M))
    return {n.strip("'\"") for n in names}

SHIPPED = shipped_rules()
# where each directory's alerts may happen
PLACES = {"syscall": {"host", "container", "pod", "unknown"}, "k8saudit": {"kubernetes-api"},
          "cloud": {"cloud", "falco"}}
# programs whose steps belong to a place: none of them may appear elsewhere
CONTAINER_PROGS = re.compile(r"(^|[|;&(]\s*|sudo )(docker|ctr|crictl|nsenter|podman) ")
HOST_PROGS = re.compile(r"(^|[|;&(]\s*|sudo )(ps|journalctl|pgrep|ss|lsof) ")

def commands(rep):
    return [c for sec in ("investigate", "contain", "prevent") for st in rep.get(sec, [])
            for c in st.get("commands", [])]

alerts = sorted(f for f in glob.glob(D + "/*/*.json") if "/refused/" not in f)
bad, generic, facts, places = [], [], [], []
for f in alerts:
    md, js = triage(f, "md"), triage(f, "json")
    if md.returncode != 0 or js.returncode != 0:
        bad.append("%s: refused: %s" % (f, (md.stderr or js.stderr).decode(errors="replace")[:200]))
        continue
    try:
        rep = json.loads(js.stdout)
        alert = json.load(open(f))
        rule = alert.get("rule")
        if rep["alert"]["rule"] != rule:
            bad.append("%s: the report names rule %r, the alert %r" % (f, rep["alert"]["rule"], rule))
    except (ValueError, KeyError) as e:
        bad.append("%s: JSON report: %s" % (f, e))
        continue
    text = md.stdout.decode()
    analysis = text.split("\n## Analysis\n", 1)[-1].split("\n## ", 1)[0]
    fields = alert.get("output_fields") or {}
    # a shipped rule gets its own entry
    if rule in SHIPPED and not rep["summary"].get("entry"):
        generic.append("%s (%s)" % (f, rule))
    # placeholders are not facts
    cmd = fields.get("proc.cmdline")
    if isinstance(cmd, str) and re.fullmatch(r"container:[0-9a-f]+", cmd):
        if "proc.cmdline" not in rep["alert"].get("placeholders", {}) or \
                "ran the command line" in analysis or "so a person" in analysis:
            facts.append("%s: the container event's placeholders read as a process or a person" % f)
    # the knowledge base's own paragraph (the first item) may name the placeholder
    own = analysis.split("\n- ", 1)[1] if "\n- " in analysis else ""
    if "`<NA>`" in own or "`<NA>`" in rep["summary"]["headline"]:
        facts.append("%s: <NA> used as a value" % f)
    # the place fits the source, and the steps fit the place
    place = rep["context"]["place"]
    want = PLACES.get(os.path.basename(os.path.dirname(f)))
    if want and place not in want:
        places.append("%s: place %s" % (f, place))
    cmds = commands(rep)
    if place not in ("container", "pod") and any(CONTAINER_PROGS.search(c) for c in cmds):
        places.append("%s: a %s event with container steps" % (f, place))
    # (a k8s audit event's steps may read the API server's audit log on its control-plane host)
    if place in ("cloud", "saas") and any(HOST_PROGS.search(c) for c in cmds):
        places.append("%s: a %s event with host steps" % (f, place))
    if place == "host" and "docker exec" in analysis:
        places.append("%s: a host event explained with docker exec" % f)
if len(alerts) >= 100 and not bad:
    ok("%d published alerts, every one triaged in Markdown and JSON, none refused" % len(alerts))
else:
    fail("published alerts triaged", "%d alerts; %s" % (len(alerts), "; ".join(bad[:5])))
for name, probs, what in (("shipped rules", generic, "every alert of a shipped rule gets that rule's own entry"),
                          ("placeholders", facts, "no report reads a Falco placeholder as a fact"),
                          ("places", places, "every report's place fits its source, and its steps its place")):
    if probs:
        fail(name, "%d: %s" % (len(probs), "; ".join(probs[:6])))
    else:
        ok(what)

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
