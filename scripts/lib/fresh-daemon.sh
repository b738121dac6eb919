# shellcheck shell=bash
# rstwatchd run inside a fresh root (scripts/lib/fresh-root.sh, sourced
# first), for the checks that prove it starts, reports a reset and stops:
# scripts/fresh-check (from a clone) and scripts/package-check (from the
# package). Sourced, not run.
#
#   fresh_step MESSAGE          say MESSAGE after the seconds since sourcing
#   fresh_finish STATUS ROOT KEEP PASSED
#                               the EXIT trap's work: kill a daemon still
#                               running, remove ROOT unless KEEP is 1, say
#                               PASSED or FAILED with the duration, exit
#   fresh_daemon_start ROOT LOGDIR CMD..
#                               run CMD as root in ROOT, in a network
#                               namespace of its own, in the background,
#                               into LOGDIR/stdout and LOGDIR/stderr; sets
#                               fresh_daemon_pid, which is CMD's pid once
#                               CMD runs (every step execs the next)
#   fresh_daemon_ready SECONDS WHAT
#                               wait for "rstwatchd: ready", then make sure
#                               the pid is rstwatchd's, in a netns of its own
#   fresh_daemon_refused_connect
#                               connect to 127.0.0.1:9 in the daemon's netns,
#                               where nothing listens: a reset to report
#   fresh_daemon_wait_for FILE PATTERN SECONDS
#   fresh_daemon_show_logs
#   fresh_daemon_stop           SIGINT; rstwatchd must print its totals and
#                               exit 0 within 30 s

fresh_started=$SECONDS
fresh_daemon_pid=""
fresh_daemon_log=""

fresh_step() { fresh_say "[$((SECONDS - fresh_started)) s] $*"; }

fresh_finish() {
	local status=$1 root=$2 keep=$3 passed=$4
	if [ -n "$fresh_daemon_pid" ] && kill -0 "$fresh_daemon_pid" 2>/dev/null; then
		kill -KILL "$fresh_daemon_pid" 2>/dev/null || true
		wait "$fresh_daemon_pid" 2>/dev/null || true
	fi
	if [ "$keep" = 1 ]; then
		fresh_step "kept the root at $root"
	elif ! fresh_root_remove "$root"; then
		status=1
	fi
	if [ "$status" -eq 0 ]; then
		fresh_say "passed in $((SECONDS - fresh_started)) s: $passed"
	else
		fresh_say "FAILED (exit $status) after $((SECONDS - fresh_started)) s"
	fi
	exit "$status"
}

fresh_daemon_start() {
	local root=$1
	fresh_daemon_log=$2
	shift 2
	mkdir -p "$fresh_daemon_log"
	(fresh_root_exec --exec --own-net "$root" "$@") \
		>"$fresh_daemon_log/stdout" 2>"$fresh_daemon_log/stderr" &
	fresh_daemon_pid=$!
}

fresh_daemon_wait_for() { # FILE PATTERN SECONDS
	local deadline=$((SECONDS + $3))
	until grep -q -- "$2" "$1"; do
		kill -0 "$fresh_daemon_pid" 2>/dev/null || return 1
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

fresh_daemon_show_logs() {
	echo "--- rstwatchd stderr" >&2
	tail -n 30 "$fresh_daemon_log/stderr" >&2
	echo "--- rstwatchd stdout" >&2
	tail -n 10 "$fresh_daemon_log/stdout" >&2
}

fresh_daemon_ready() { # SECONDS WHAT
	fresh_daemon_wait_for "$fresh_daemon_log/stderr" "rstwatchd: ready" "$1" || {
		fresh_daemon_show_logs
		fresh_die "$2 never printed 'ready'"
	}
	grep "rstwatchd: ready" "$fresh_daemon_log/stderr" >&2
	local comm
	comm=$(cat "/proc/$fresh_daemon_pid/comm")
	[ "$comm" = rstwatchd ] || fresh_die "pid $fresh_daemon_pid is $comm, not rstwatchd"
	[ "$(readlink "/proc/$fresh_daemon_pid/ns/net")" != "$(readlink /proc/self/ns/net)" ] ||
		fresh_die "rstwatchd runs in this shell's network namespace, not one of its own"
}

fresh_daemon_refused_connect() {
	if nsenter --net="/proc/$fresh_daemon_pid/ns/net" /bin/bash -c 'exec 3<>/dev/tcp/127.0.0.1/9' \
		2>/dev/null; then
		fresh_die "a connect to 127.0.0.1:9 in the daemon's namespace succeeded: no reset to report"
	fi
}

fresh_daemon_stop() {
	kill -INT "$fresh_daemon_pid"
	for _ in $(seq 150); do
		kill -0 "$fresh_daemon_pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$fresh_daemon_pid" 2>/dev/null; then
		fresh_daemon_show_logs
		fresh_die "rstwatchd was still running 30 s after SIGINT"
	fi
	local status=0
	wait "$fresh_daemon_pid" || status=$?
	fresh_daemon_pid=""
	if [ "$status" -ne 0 ] || ! grep -q "rstwatchd: stopping: " "$fresh_daemon_log/stderr"; then
		fresh_daemon_show_logs
		fresh_die "rstwatchd exited with status $status on SIGINT, without its totals"
	fi
	grep "rstwatchd: stopping: " "$fresh_daemon_log/stderr" >&2
}
