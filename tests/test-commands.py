#!/usr/bin/env python3
"""test-commands: every command in every report of the test corpus is real.

Runs firebreak over tests/data/alerts, tests/data/hostile and tests/data/field, extracts each ```sh block of the
Markdown reports, splits it into simple commands (through pipes, lists, $(...), for loops and
sh -c), and checks on this machine that each program exists, that `PROG SUB --help` succeeds
for programs with subcommands (docker, kubectl, ctr, firebreak), that every option appears in
that help text, and that every sysctl a report names exists under /proc/sys. It also checks that
the hostile corpus' marker only ever appears inside a single-quoted shell word."""
import glob, json, os, re, shutil, subprocess, sys

FB = os.environ.get("FIREBREAK", "build/firebreak")
passed = failed = 0
help_cache = {}

def ok(name):
    global passed
    passed += 1
    print("ok   " + name)

def fail(name, why):
    global failed
    failed += 1
    print("FAIL %s: %s" % (name, why))

def helptext(argv):
    key = tuple(argv)
    if key not in help_cache:
        try:
            p = subprocess.run(list(argv), capture_output=True, text=True, timeout=30,
                               stdin=subprocess.DEVNULL)
            help_cache[key] = (p.returncode, p.stdout + p.stderr)
        except (OSError, subprocess.TimeoutExpired) as e:
            help_cache[key] = (127, str(e))
    return help_cache[key]

# ---- a small shell splitter ------------------------------------------------------------------
class Word:
    def __init__(self):
        self.text = ""          # with quotes removed, substitutions replaced by SUBST
        self.quoted_marker = False
        self.unquoted_marker = False

def split_commands(s):
    """Returns a list of simple commands (lists of Word) found in s, including nested ones."""
    out, cur, word = [], [], None
    i, n = 0, len(s)
    def end_word():
        nonlocal word
        if word is not None:
            cur.append(word)
            word = None
    def end_cmd():
        nonlocal cur
        end_word()
        if cur:
            out.append(cur)
        cur = []
    def subst(start):
        # s[start] is '(' after '$': find the matching ')', respecting quotes
        depth, j, q = 1, start + 1, None
        while j < n:
            c = s[j]
            if q:
                if c == q: q = None
            elif c in "'\"": q = c
            elif c == "(": depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0: break
            j += 1
        out.extend(split_commands(s[start + 1:j]))
        return j + 1
    while i < n:
        c = s[i]
        if c in " \t\n":
            end_word(); i += 1; continue
        if c == "&" and word is not None and word.text.endswith((">", "<")):
            word.text += c; i += 1; continue  # 2>&1
        if c in ";|&":
            end_cmd(); i += 1; continue
        if word is None:
            word = Word()
        if c == "'":
            j = s.index("'", i + 1)
            lit = s[i + 1:j]
            word.text += lit
            if "PWNED" in lit: word.quoted_marker = True
            i = j + 1
        elif c == '"':
            j = i + 1
            while s[j] != '"':
                if s[j] == "\\": j += 2; continue
                if s.startswith("$(", j):
                    j = subst(j + 1); word.text += "SUBST"; continue
                word.text += s[j]
                if s.startswith("PWNED", j): word.unquoted_marker = True
                j += 1
            i = j + 1
        elif s.startswith("$(", i):
            i = subst(i + 1); word.text += "SUBST"
        elif c == "\\" and i + 1 < n:
            # an escaped character outside quotes: itself ('\'' in 'it'\''s')
            if s.startswith("PWNED", i + 1): word.unquoted_marker = True
            word.text += s[i + 1]; i += 2
        else:
            if s.startswith("PWNED", i): word.unquoted_marker = True
            word.text += c; i += 1
    end_cmd()
    return out

KEYWORDS = {"do", "then", "else", "done", "fi", "!"}
MULTI = {"docker": 1, "kubectl": 1, "ctr": 2, "firebreak": 1, "openssl": 1}
# subcommands that have subcommands of their own: kubectl auth can-i
MULTI2 = {("kubectl", "auth"), ("kubectl", "config"), ("kubectl", "rollout")}
HELP_ALL = {"ps": ["ps", "--help", "all"], "awk": ["awk", "-W", "usage"], "curl": ["curl", "--help", "all"]}
# shell builtins: nothing to look up
BUILTINS = {"command", "cd", "test", "[", "read", "export", "set", "true", "false", ":", "exit"}
# programs whose options are single-dash words (-name, -xdev), not letters
WORD_OPTS = {"find", "openssl"}
# find's -newerXY is documented as -newer with the letters of its forms
FIND_FORMS = re.compile(r"^-newer[amcBt]{2}$")

# Cloud CLIs (aws, gcloud) are not on every machine: checked against the live CLI where it is
# installed, and against tests/data/cli/PROG.json (each command path's options, recorded from the
# real CLI by FIREBREAK_RECORD_CLI=1 on a machine that has it) where it is not.
CLOUD = {"aws", "gcloud", "bq"}
cli_ref, cli_seen = {}, {}

def clean_help(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", re.sub(r".\x08", "", text))

def cloud_help(prog, path):
    """The help text of PROG PATH..., or None when that is no command."""
    key = " ".join(path)
    if shutil.which(prog):
        if prog == "bq":  # bq help COMMAND, and its global flags in bq --help
            # (bq help exits 1 even when it helps: its text decides)
            rc, text = helptext(["bq", "help"] + path)
            if "Unknown command" in text or (path and ("\n" + path[0] + " ") not in text):
                return None
            text += helptext(["bq", "--help"])[1] if path else ""
            rc = 0
        else:
            rc, text = helptext([prog] + path + (["help"] if prog == "aws" else ["--help"]))
        if rc != 0:
            return None
        text = clean_help(text)
        cli_seen.setdefault(prog, {})[key] = sorted(set(re.findall(r"--[a-z0-9][a-z0-9_-]*", text)) |
                                                    set(re.findall(r"^\s+([a-z][a-z0-9-]*)\b", text, re.M)))
        return text
    if prog not in cli_ref:
        f = "tests/data/cli/%s.json" % prog
        cli_ref[prog] = json.load(open(f)) if os.path.exists(f) else {"paths": {}}
    opts = cli_ref[prog]["paths"].get(key)
    return None if opts is None else " ".join(opts)

def check_cloud(prog, args):
    words = []
    for t in args:
        if t.startswith("-"):
            break
        words.append(t)
    if prog == "bq":
        path = words[:1]
        if not path or cloud_help(prog, path) is None:
            return ["bq %s: no such command" % " ".join(path)]
    elif prog == "aws":
        path = words[:2]
        if len(path) < 2 or cloud_help(prog, path) is None:
            return ["aws %s: no such command" % " ".join(path)]
    else:
        # the longest path whose every step the level above lists as a group or command
        path = []
        for w in words:
            above = cloud_help(prog, path)
            if above is None or not re.search(r"(^|\s)" + re.escape(w) + r"($|\s)", above, re.M):
                break
            path.append(w)
        if not path or cloud_help(prog, path) is None:
            return ["gcloud %s: no such command" % " ".join(words[:3])]
    text = cloud_help(prog, path)
    rest = args[len(path):]
    return check_flags([" ".join([prog] + path)] + rest, text, " ".join([prog] + path))

def check_simple(words, where):
    """Returns a list of problems with one simple command."""
    w = [x.text for x in words]
    probs = []
    for x in words:
        if x.unquoted_marker:
            probs.append("hostile marker outside single quotes: %r" % x.text[:60])
    # drop redirections, leading keywords, assignments and sudo
    clean = []
    skip_next = False
    for t in w:
        if skip_next: skip_next = False; continue
        if re.fullmatch(r"\d*[<>]{1,2}&?\d*", t):
            skip_next = not re.search(r"&\d", t); continue
        clean.append(t)
    while clean and (clean[0] in KEYWORDS or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", clean[0])):
        clean = clean[1:]
    if clean and clean[0] == "for":
        return probs  # the loop's list is a substitution, checked on its own
    if clean and clean[0] == "sudo":
        clean = clean[1:]
    if not clean:
        return probs
    prog = clean[0]
    if prog == "echo" or prog in BUILTINS:
        return probs
    if prog == "kill":  # kill -STOP PID: signal names, not options
        return probs
    if prog in CLOUD:
        return probs + check_cloud(prog, clean[1:])
    if not shutil.which(prog):
        return probs + ["program %r not found" % prog]
    args = clean[1:]
    # nsenter [options] PROGRAM...: its options end where the program starts
    if prog == "nsenter":
        k = 0
        while k < len(args) and args[k].startswith("-"):
            k += 2 if args[k] in ("-t", "--target") else 1
        probs += check_flags(["nsenter"] + args[:k], helptext(["nsenter", "--help"])[1], "nsenter")
        return probs + check_simple([mkword(t) for t in args[k:]], where)
    # sh -c 'script': check the script too
    if prog == "sh" and args[:1] == ["-c"] and len(args) > 1:
        for cmd in split_commands(args[1]):
            probs += check_simple(cmd, where)
        return probs
    path = [prog]
    globals_help = ""
    if prog in MULTI:
        # global options before the subcommand (kubectl -n NS, ctr -n NS)
        while args and args[0].startswith("-"):
            flag = args.pop(0)
            if flag in ("-n", "--namespace") and args:
                args.pop(0)
        for _ in range(MULTI[prog]):
            if args and not args[0].startswith("-"):
                path.append(args.pop(0))
        if tuple(path) in MULTI2 and args and not args[0].startswith("-"):
            path.append(args.pop(0))
        rc, globals_help = helptext([prog, "--help"] if prog != "kubectl" else ["kubectl", "options"])
    rc, text = helptext(path + ["-help" if prog == "openssl" else "--help"]) \
        if prog not in HELP_ALL else helptext(HELP_ALL[prog])
    if prog in MULTI and rc != 0:
        return probs + ["%r fails (%d)" % (" ".join(path + ["--help"]), rc)]
    text += globals_help
    tail = []
    if prog == "docker" and path[1:2] in (["top"], ["exec"]):
        # docker top CONTAINER [ps OPTIONS]; docker exec CONTAINER COMMAND...
        for k, t in enumerate(args):
            if not t.startswith("-"):
                tail = args[k + 1:]
                args = args[:k + 1]
                break
        if path[1] == "top":
            probs += check_flags(["ps"] + tail, helptext(["ps", "--help", "all"])[1], "ps via docker top")
        else:
            probs += check_simple([mkword(t) for t in tail], where)
    probs += check_flags([" ".join(path)] + args, text, " ".join(path), prog in WORD_OPTS)
    return probs

def mkword(t):
    x = Word(); x.text = t; return x

def check_flags(argv, text, what, words=False):
    probs = []
    for t in argv[1:]:
        if t == "--" or (words and t in ("-exec", "-execdir", "-ok", "-okdir")):
            break  # find's -exec runs a command of its own
        if not t.startswith("-") or t == "-" or re.fullmatch(r"-?\d+", t) or t.startswith("+"):
            continue
        name = t.split("=", 1)[0]
        if words and FIND_FORMS.match(name):
            name = "-newer"
        if name.startswith("--") or (words and len(name) > 2):
            if not re.search(r"(^|[\s,\[|])" + re.escape(name) + r"($|[\s=,\[\]|:])", text, re.M):
                probs.append("%s: option %s not in its help" % (what, name))
        else:
            # a cluster of letters (-rn), or one letter with its value attached (-k2,2, -d:)
            letters = name[1:]
            if not letters.isalpha():
                letters = letters[:1]
            for letter in letters:
                if not re.search(r"(^|[\s,\[|])-" + re.escape(letter) + r"($|[\s,=\]|])", text, re.M):
                    probs.append("%s: option -%s not in its help" % (what, letter))
    return probs

SYSCTL = re.compile(r"\b((?:vm|kernel|fs|net)\.[a-z0-9_]+(?:\.[a-z0-9_]+)*)\b")

def main():
    files = sorted(glob.glob("tests/data/alerts/*.json") + glob.glob("tests/data/alerts/*.jsonl") +
                   glob.glob("tests/data/hostile/*.json") +
                   [f for f in glob.glob("tests/data/field/*/*.json") if "/refused/" not in f])
    p = subprocess.run([FB, "triage"] + files, capture_output=True, text=True)
    if p.returncode != 0:
        fail("triage corpus", "exit %d: %s" % (p.returncode, p.stderr[:500]))
        return
    md = p.stdout
    blocks = re.findall(r"^```sh\n(.*?)\n```$", md, re.S | re.M)
    lines = sorted(set(l for b in blocks for l in b.split("\n")))
    if len(lines) < 40:
        fail("corpus has commands", "only %d distinct command lines" % len(lines))
    else:
        ok("corpus has %d distinct command lines in %d blocks" % (len(lines), len(blocks)))
    programs = set()
    for line in lines:
        probs = []
        try:
            cmds = split_commands(line)
        except (ValueError, IndexError) as e:
            probs.append("cannot split: %s" % e)
            cmds = []
        for c in cmds:
            probs += check_simple(c, line)
            t = [x.text for x in c if x.text != "sudo"]
            if t: programs.add(t[0])
        if probs:
            fail(line[:90], "; ".join(sorted(set(probs))))
        else:
            passed_line(line)
    # every sysctl the reports name exists
    names = sorted(set(SYSCTL.findall("\n".join(blocks))))
    for name in names:
        if os.path.exists("/proc/sys/" + name.replace(".", "/")):
            ok("sysctl %s exists" % name)
        else:
            fail("sysctl %s" % name, "not under /proc/sys")
    if not names:
        fail("sysctls", "no sysctl named in the corpus reports")
    # the checker must be able to fail
    probe = check_simple(split_commands("docker pause --frobnicate x")[0], "probe") + \
            check_simple(split_commands("syscall-filter --log-level=INFO")[0], "probe") + \
            check_simple(split_commands("kubectl logz x")[0], "probe") + \
            check_simple(split_commands('echo "$(rm -rf PWNED)" x PWNED')[1], "probe") + \
            check_simple(split_commands("aws cloudtrail lookup-events --frobnicate x")[0], "probe") + \
            check_simple(split_commands("gcloud logging reed 'x' --project=p")[0], "probe")
    if len(probe) >= 6:
        ok("checker rejects invented programs, options, subcommands and unquoted values")
    else:
        fail("checker self-test", "accepted bad commands: %r" % probe)

def record_cli():
    """FIREBREAK_RECORD_CLI=1: writes what the live CLIs said to tests/data/cli/PROG.json."""
    for prog, paths in cli_seen.items():
        rc, version = helptext([prog, "--version"])
        f = "tests/data/cli/%s.json" % prog
        old = json.load(open(f))["paths"] if os.path.exists(f) else {}
        old.update(paths)
        os.makedirs(os.path.dirname(f), exist_ok=True)
        with open(f, "w") as out:
            json.dump({"recorded_from": clean_help(version).strip().split("\n")[0],
                       "paths": dict(sorted(old.items()))}, out, indent=1)
            out.write("\n")

def passed_line(line):
    global passed
    passed += 1
    print("ok   " + line[:100])

main()
for prog in sorted(CLOUD):
    if not shutil.which(prog):
        print("note %s is not installed here: its commands were checked against tests/data/cli/%s.json" % (prog, prog))
if os.environ.get("FIREBREAK_RECORD_CLI") == "1":
    record_cli()
print("%d passed, %d failed, 0 skipped" % (passed, failed))
sys.exit(1 if failed else 0)
