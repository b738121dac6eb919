# shellcheck shell=bash
# Healthy traffic (no resets at all) under each tracer, for scripts/bench:
# what an always-on tracer costs the traffic it is not there for. Sourced by
# scripts/bench after its session is set up ($work, $netns, $runs, the tracer
# start/stop functions); nothing here runs on its own.
#
# Workloads, each run for $duration seconds in the bench namespace:
#   churn            reset_storm --mode healthy: connect, 1 byte each way,
#                    graceful close (one thread)
#   nginx-close      nginx (1 worker) + wrk, a new connection per request
#   nginx-keepalive  nginx (1 worker) + wrk, keep-alive connections
#   syscalls         a getppid() loop (what a syscall tracepoint taxes)
# Rounds interleave the tracers in a rotating order; the report takes each
# round's rate over the same round's untraced rate, and the median of those.

healthy_nginx_port=""
healthy_nginx_pid=""

healthy_start_nginx() {
	local dir=$work/nginx
	mkdir -p "$dir/temp"
	healthy_nginx_port=$((20000 + RANDOM % 20000))
	cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 10000000;
	client_body_temp_path $dir/temp;
	proxy_temp_path $dir/temp;
	fastcgi_temp_path $dir/temp;
	uwsgi_temp_path $dir/temp;
	scgi_temp_path $dir/temp;
	server {
		listen 127.0.0.1:$healthy_nginx_port;
		location / { return 200 "ok\n"; }
	}
}
EOF
	ip netns exec "$netns" nginx -c "$dir/nginx.conf" -p "$dir" 2>"$dir/stderr" &
	healthy_nginx_pid=$!
	for _ in $(seq 50); do
		ip netns exec "$netns" bash -c "exec 3<>/dev/tcp/127.0.0.1/$healthy_nginx_port" \
			2>/dev/null && return 0
		kill -0 "$healthy_nginx_pid" 2>/dev/null || break
		sleep 0.1
	done
	log "nginx did not start:"
	cat "$dir/stderr" "$dir/error.log" >&2 2>/dev/null
	return 1
}

healthy_stop_nginx() {
	[ -n "$healthy_nginx_pid" ] || return 0
	kill -QUIT "$healthy_nginx_pid" 2>/dev/null
	wait "$healthy_nginx_pid" 2>/dev/null || true
	healthy_nginx_pid=""
}

# Prints the workload's rate as {"operations_per_second":N,...}.
healthy_workload() {
	local workload=$1
	shift
	case "$workload" in
	churn)
		ip netns exec "$netns" "$storm" --mode healthy --duration "$duration" "$@"
		;;
	nginx-close | nginx-keepalive)
		local header=()
		[ "$workload" = nginx-close ] && header=(-H "Connection: close")
		ip netns exec "$netns" wrk -t1 -c16 -d"${duration}s" "${header[@]}" \
			"http://127.0.0.1:$healthy_nginx_port/" >"$work/wrk.out" 2>&1 || true
		local rate errors
		rate=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.out")
		errors=$(awk '/Non-2xx|Socket errors/ {print}' "$work/wrk.out" | tr '\n' ' ')
		[ -n "$rate" ] || { log "wrk printed no rate:"; cat "$work/wrk.out" >&2; }
		jq -n -c --argjson rate "${rate:-null}" --arg errors "$errors" \
			'{mode: "'"$workload"'", operations_per_second: $rate, errors: $errors}'
		;;
	syscalls)
		"$build_dir/bench/syscall_loop" --duration "$duration"
		;;
	esac
}

healthy_tracer_args() {
	case "$1" in
	rstwatchd-ttl) echo "--ttl-tracking" ;;
	esac
}

# One workload under one tracer; appends one JSON line to $runs. With
# --bpf-stats (churn only), the storm holds BPF run-time stats, and the line
# carries each of the tracer's programs' run count and time.
run_healthy() {
	local phase=$1 round=$2 workload=$3 tracer=$4
	shift 4
	local start_as=$tracer extra
	[ "$tracer" = rstwatchd-ttl ] && start_as=rstwatchd-text
	[ "$tracer" = rstwatchd ] && start_as=rstwatchd-text
	extra=$(healthy_tracer_args "$tracer")
	wait_for_quiet
	# shellcheck disable=SC2086 # one flag or none
	start_tracer "$start_as" $extra || return 1
	local ours='[]'
	[ -n "$tracer_pid" ] && ours=$(prog_ids_of "$tracer_pid")
	local result
	result=$(healthy_workload "$workload" "$@")
	local programs='[]'
	if [ -n "$tracer_pid" ]; then
		programs=$(bpftool prog show -j | jq -c --argjson ours "$ours" '
			[.[] | select(.id as $id | $ours | index($id)) |
			 {name, type, run_cnt: (.run_cnt // 0), run_time_ns: (.run_time_ns // 0)}]')
	fi
	stop_tracer "$start_as"
	[ -s "$work/tracer.err" ] && cp "$work/tracer.err" "$out_dir/$phase-$workload-$tracer-$round.stderr"
	jq -n -c --arg phase "$phase" --argjson round "$round" --arg workload "$workload" \
		--arg tracer "$tracer" --argjson result "$result" --argjson programs "$programs" \
		'{phase: $phase, round: $round, workload: $workload, tracer: $tracer,
		  rate: $result.operations_per_second, result: $result, programs: $programs}' >>"$runs"
}

run_healthy_session() {
	local list=($healthy_tracers) workload round i n
	n=${#list[@]}
	if [[ " $healthy_workloads " == *" nginx-"* ]]; then
		healthy_start_nginx || return 1
	fi
	for ((round = 1; round <= healthy_rounds; round++)); do
		for workload in $healthy_workloads; do
			for ((i = 0; i < n; i++)); do
				local tracer=${list[$(((i + round) % n))]}
				log "healthy round $round/$healthy_rounds: $workload under $tracer"
				run_healthy healthy "$round" "$workload" "$tracer"
			done
		done
	done
	# Kernel time per connection: the churn once more per tracer of ours,
	# with run-time stats held by the generator for the storm only.
	if [[ " $healthy_workloads " == *" churn "* ]]; then
		for tracer in $healthy_tracers; do
			[[ $tracer == rstwatchd* ]] || continue
			log "healthy cost round: churn under $tracer with BPF run-time stats"
			run_healthy healthy-cost 0 churn "$tracer" --bpf-stats
		done
	fi
	healthy_stop_nginx
}
