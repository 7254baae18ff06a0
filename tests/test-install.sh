#!/bin/sh
# test-install: make install / uninstall honour DESTDIR and PREFIX, and the installed binary
# runs with its built-in knowledge base.
set -u
. tests/lib-test.sh
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

if make -s install DESTDIR="$T" PREFIX=/opt/fb BUILD="${BUILD:-build}" >"$T/log" 2>&1; then
        ok "make install"; else bad "make install" "$(tail -5 "$T/log")"; fi
for f in sbin/firebreak share/man/man8/firebreak.8 share/firebreak/kb/mitre.yaml share/firebreak/kb/rules/stable.yaml share/firebreak/kb/rules/gcpaudit.yaml share/firebreak/policy.yaml \
        share/firebreak/seccomp/memfd-strict.json libexec/firebreak/firebreak-probe \
        lib/systemd/system/firebreak.service lib/systemd/system/firebreak.socket share/firebreak/firebreak.yaml; do
        if [ -f "$T/opt/fb/$f" ]; then ok "installed $f"; else bad "installed $f" "missing"; fi
done
if [ -f "$T/etc/logrotate.d/firebreak" ]; then ok "installed /etc/logrotate.d/firebreak (SYSCONFDIR)"
else bad "installed the logrotate file" "missing"; fi
if "$T/opt/fb/sbin/firebreak" triage tests/data/alerts/memfd-runc-benign.json | grep -q "Verdict: benign"; then
        ok "installed binary triages"; else bad "installed binary triages" "no benign verdict"; fi
make -s uninstall DESTDIR="$T" PREFIX=/opt/fb >/dev/null 2>&1
left=$(find "$T/opt" "$T/etc" -type f 2>/dev/null | wc -l)
if [ "$left" -eq 0 ]; then ok "make uninstall removes every file"; else bad "make uninstall" "$left files left"; fi
summary
