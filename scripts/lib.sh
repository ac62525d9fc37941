# shellcheck shell=bash
# Helpers shared by scripts/run.sh and bench/run.sh, which source this file.
# The caller sets lib_prefix, the prefix of its messages ("run.sh", "bench";
# default: the script's file name), and may redefine fail() after sourcing
# (bench/run.sh does, to keep its directory).
: "${lib_prefix:=${0##*/}}"

fail() {    # message: print it, exit 1
    echo "$lib_prefix: $*" >&2
    exit 1
}

alive() {    # pid: running, not merely an unreaped child (zombie)
    local s
    s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ $s != Z* ]]
}

stop_pid() {    # pid (may be empty): TERM, wait up to 5 s, then KILL
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        alive "$pid" || break
        sleep 0.1
    done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}

free_ports() {    # n: that many free loopback ports
    perl -MIO::Socket::INET -e '
        my @s = map { IO::Socket::INET->new(LocalAddr => "127.0.0.1",
                      LocalPort => 0, Listen => 1) or die } 1 .. $ARGV[0];
        print join(" ", map { $_->sockport } @s), "\n"' "$1"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }    # port

wait_ready() {    # name pid port log: until the port answers, up to 10 s
    for _ in $(seq 100); do
        port_open "$3" && return 0
        alive "$2" || fail "$1 exited during startup; last lines of $4:"$'\n'"$(tail -n 20 "$4")"
        sleep 0.1
    done
    fail "$1 did not answer on port $3 within 10 s; see $4"
}
