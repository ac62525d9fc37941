#!/bin/bash
# Runs libFuzzer targets: first every file of fuzz/regressions/<name>/
# (inputs that once crashed), then the fuzzer itself for SECONDS on a
# corpus directory under build/ (the repo corpus is only read).
#
#   fuzz/run.sh SECONDS fresh|keep BUILD_DIR NAME...
#     fresh: a private run directory BUILD_DIR/short.XXXXXX with a fresh
#            copy of fuzz/corpus/<name> (make fuzz-short, make test), so
#            two runs at once do not share files; removed when all pass.
#     keep:  BUILD_DIR/{corpus,logs,artifacts}, the corpus growing across
#            runs (make fuzz).
# Exit 1 if any target crashed, leaked, timed out or ran out of memory;
# the log and the reproducer are under <run dir>/{logs,artifacts}/<name>.
set -u
seconds=$1 mode=$2 bins=$3 dir=$3
shift 3
if [ "$mode" = fresh ]; then
    mkdir -p "$dir"
    dir=$(mktemp -d "$dir/short.XXXXXX") || exit 1
fi

# Longest input per target: big enough for real messages, small enough
# that each execution stays fast.
max_len() {
    case $1 in
    hmac_header)  echo 2048 ;;
    exchange)     echo 32768 ;;
    *)            echo 16384 ;;
    esac
}

failed=()
for name in "$@"; do
    bin=$bins/fuzz_$name
    work=$dir/corpus/$name
    logs=$dir/logs
    art=$dir/artifacts/$name/
    mkdir -p "$logs" "$art"
    log=$logs/$name.log

    if [ -d fuzz/regressions/$name ] \
       && [ -n "$(ls -A fuzz/regressions/$name)" ]; then
        if ! "$bin" -rss_limit_mb=2048 -timeout=10 \
                fuzz/regressions/$name/* > "$logs/$name.regressions.log" 2>&1
        then
            echo "fuzz $name: a regression input fails again" \
                 "(see $logs/$name.regressions.log)"
            tail -n 30 "$logs/$name.regressions.log"
            failed+=("$name")
            continue
        fi
    fi

    mkdir -p "$work"
    if [ -d fuzz/corpus/$name ]; then
        cp -r fuzz/corpus/$name/. "$work/"
    fi
    dict=()
    [ -f fuzz/$name.dict ] && dict=(-dict=fuzz/$name.dict)

    "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -max_len="$(max_len "$name")" -print_final_stats=1 \
        -artifact_prefix="$art" "${dict[@]}" "$work" > "$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -n 1)
    if [ $rc -ne 0 ]; then
        echo "fuzz $name: FAILED (exit $rc), reproducer in $art, log $log"
        grep -a -m 1 -A 30 -E '^==[0-9]+==|^SUMMARY|runtime error|fuzz_' \
            "$log"
        failed+=("$name")
    else
        echo "fuzz $name: ok, ${runs:-?} runs in ${seconds}s" \
             "(${rate:-?} exec/s, $cov, corpus $(ls "$work" | wc -l))"
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz: failed: ${failed[*]} (files kept in $dir)"
    exit 1
fi
[ "$mode" = fresh ] && rm -rf "$dir"
exit 0
