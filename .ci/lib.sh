# Sourced by the .ci/*.sh steps: a header when the step starts, its time
# when it ends (also when it fails; CI_STEP_STATUS=skipped says so), and the
# repository root in $ROOT.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CI_STEP_START=$SECONDS
ci_step() {
    CI_STEP_NAME=$1
    printf '\n========== CI step: %s ==========\n' "$CI_STEP_NAME"
    printf '========== started %s, load average %s\n' "$(date -u +%H:%M:%SZ)" \
        "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
    trap 'ci_step_end $?' EXIT
}
ci_step_end() {
    local t=$((SECONDS - CI_STEP_START))
    if [ "$1" -eq 0 ]; then
        printf '========== CI step %s: %s in %dm%02ds\n' "$CI_STEP_NAME" "${CI_STEP_STATUS:-passed}" $((t / 60)) $((t % 60))
    else
        printf '========== CI step %s: FAILED (exit %d) after %dm%02ds\n' "$CI_STEP_NAME" "$1" $((t / 60)) $((t % 60))
    fi
}
