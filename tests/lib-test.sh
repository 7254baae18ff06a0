# lib-test.sh: counters and the closing line for the shell test suites (sourced).
passed=0; failed=0; skipped=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "  $l"; done; }
# skip REASON: a skip always says why; FIREBREAK_TEST_STRICT=1 makes it a failure
skip() { skipped=$((skipped + 1)); echo "skip $1"; }
summary() {
        if [ "${FIREBREAK_TEST_STRICT:-0}" = 1 ] && [ "$skipped" -gt 0 ]; then
                echo "strict mode: $skipped skipped case(s) count as failures"
                failed=$((failed + skipped)); skipped=0
        fi
        echo "$passed passed, $failed failed, $skipped skipped"
        [ "$failed" -eq 0 ]
}
