# Turns the runs scripts/bench recorded (one object per storm or healthy
# run) into the Markdown tables it prints: medians over the throughput
# rounds, kernel cost from the stats round, healthy traffic as ratios to no
# tracer, and the overload check.

def median: map(select(. != null)) | sort |
	if length == 0 then null
	elif length % 2 == 1 then .[(length - 1) / 2]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def round_to($digits): if . == null then null else
	(pow(10; $digits)) as $scale | (. * $scale | round) / $scale end;
def grouped: if . == null then "n/a" else
	(round | tostring) as $s | ($s | length) as $n |
	[range(0; $n) as $i | (if $i > 0 and (($n - $i) % 3 == 0) then "," else "" end) + $s[$i:$i + 1]]
	| join("") end;
def text: if . == null then "n/a" else tostring end;
def percent($digits): if . == null then "n/a" else (round_to($digits) | tostring) + " %" end;
def signed_percent: if . == null then "n/a"
	else (round_to(1)) as $v | (if $v > 0 then "+" else "" end) + ($v | tostring) + " %" end;

# What each tracer should have seen: one event per reset sent or received for
# the BPF tracers, one packet per RST for tcpdump.
def expected: if .tracer == "tcpdump" then .storm.resets_sent
	else .storm.resets_sent + .storm.resets_received end;
def resets_made: .storm.resets_sent + .storm.resets_received;

def tracer_order: ["none", "rstwatchd", "rstwatchd-text", "tcpdump", "bpftrace"];

. as $runs
| [$runs[] | select(.phase == "throughput")] as $throughput
| [$throughput[].mode] | unique as $modes
| [
  (if ($throughput | length) == 0 then empty else
   "## Reset storms: throughput and what each tracer saw",
   "",
   "Medians over \($throughput | map(.round) | unique | length) interleaved rounds per mode;",
   "\"vs none\" is the median of each round's storm rate over the same round's untraced rate.",
   "" end),
  ($modes[] as $mode
   | [$throughput[] | select(.mode == $mode)] as $mine
   | ($mine | map(select(.tracer == "none")) | map({key: (.round | tostring), value: .storm.operations_per_second}) | from_entries) as $baseline
   | [tracer_order[] as $t | select($mine | any(.tracer == $t)) | $t] as $present
   | "### \($mode) storm (\($mine[0].storm.threads) thread, \($mine[0].storm.seconds | round_to(1)) s per run)",
     "",
     "| tracer | storm ops/s | vs none | events seen / expected | lost | other resets on the host | tracer CPU | tracer peak RSS | kernel ns per run, per program | kernel ns per reset | /metrics scrape (series) | `recent` 1,000 |",
     "|---|---|---|---|---|---|---|---|---|---|---|---|",
     ($present[] as $t
      | [$mine[] | select(.tracer == $t)] as $rows
      | ($rows | map(.storm.operations_per_second) | median) as $rate
      | ($rows | map(($baseline[.round | tostring]) as $b | if $b and $b > 0 then (.storm.operations_per_second / $b - 1) * 100 else null end) | median) as $change
      | ($rows | map(.seen) | if any(. == null) then null else add end) as $seen
      | ($rows | map(expected) | add) as $expect
      | ($rows | map(.lost) | if any(. == null) then null else add end) as $lost
      | ([$runs[] | select(.phase == "cost" and .mode == $mode and .tracer == $t)][0]) as $cost
      | ($cost.programs // [] | map(select(.run_cnt > 0))) as $programs
      | ($cost.service // []) as $service_runs
      | "| \($t) | \($rate | grouped) | \(if $t == "none" then "1.00" else ($change | signed_percent) end) | "
        + (if $seen == null then "n/a" else "\($seen | grouped) / \($expect | grouped)" end) + " | "
        + ($lost | if . == null then "n/a" else grouped end) + " | "
        + ($rows | map(if .kernel_sent == null then null else .kernel_sent + .kernel_received - resets_made end)
           | if any(. == null) then "n/a" else add | grouped end) + " | "
        + ($rows | map(.tracer_cpu_pct) | median | percent(1)) + " | "
        + ($rows | map(.tracer_peak_rss_kb) | max | if . == null then "n/a" else "\(. / 1024 | round_to(1)) MiB" end) + " | "
        + (if $cost == null then "n/a"
           else ($programs | map("\(.name) \(.run_time_ns / .run_cnt | round)") | join(", ")) end) + " | "
        + (if $cost == null then "n/a"
           else ($programs | map(.run_time_ns) | add // 0) / ($cost | resets_made) | round | tostring end) + " | "
        + (if ($t | startswith("rstwatchd")) | not then "n/a"
           elif $metrics_built == 0 then "n/a (not built)"
           else "\($service_runs | map(.scrape_ms) | median | round_to(2) | text) ms (\($service_runs | map(.series) | median | text))" end) + " | "
        + (if ($t | startswith("rstwatchd")) | not then "n/a"
           elif $query_built == 0 then "n/a (not built)"
           else "\($service_runs | map(.recent_ms) | median | round_to(2) | text) ms" end) + " |"),
     "",
     ([$mine[] | select(.foreign_reset_programs > 0)] | length) as $foreign
     | if $foreign > 0 then "Other reset tracers were attached during \($foreign) of these runs: they slow every column alike.\n" else empty end
  ),
  ([$runs[] | select(.phase == "healthy")] as $healthy
   | if ($healthy | length) == 0 then empty else
     ["churn", "nginx-close", "nginx-keepalive", "syscalls"] as $workloads
     | ["none", "rstwatchd", "rstwatchd-ttl", "bpftrace"] as $order
     | [$order[] as $t | select($healthy | any(.tracer == $t)) | $t] as $present
     | "## Healthy traffic: no resets, each tracer at its defaults",
       "",
       "Median over \($healthy | map(.round) | unique | length) interleaved rounds of each round's rate over the same round's untraced rate",
       "(1.00: as if the tracer were not there). `rstwatchd-ttl` is rstwatchd with its opt-in per-packet TTL hook.",
       "",
       "| workload | untraced rate/s | " + ($present | map(select(. != "none")) | join(" | ")) + " |",
       "|---|---|" + ($present | map(select(. != "none")) | map("---|") | join("")),
       ($workloads[] as $w
        | [$healthy[] | select(.workload == $w)] as $mine
        | select(($mine | length) > 0)
        | ($mine | map(select(.tracer == "none")) | map({key: (.round | tostring), value: .rate}) | from_entries) as $baseline
        | "| \($w) | \($mine | map(select(.tracer == "none") | .rate) | median | grouped) | "
          + ($present | map(select(. != "none")) | map(. as $t
              | [$mine[] | select(.tracer == $t) | ($baseline[.round | tostring]) as $b
                 | if $b and $b > 0 and .rate then .rate / $b else null end]
              | "\(median | round_to(3) | text) (\(map(select(. != null) | round_to(2)) | min | text)-\(map(select(. != null) | round_to(2)) | max | text))")
             | join(" | ")) + " |"),
       "",
       "The range after each median is the lowest and highest round.",
       "",
       ([$runs[] | select(.phase == "healthy-cost")] as $cost
        | if ($cost | length) == 0 then empty else
          "Kernel time of each tracer's programs during the churn (BPF run-time stats), per connection made:",
          "",
          "| tracer | connections | per program: runs per connection, ns per run | kernel ns per connection |",
          "|---|---|---|---|",
          ($cost[] | .result.operations as $ops
           | (.programs | map(select(.run_cnt > 0))) as $p
           | "| \(.tracer) | \($ops | grouped) | "
             + ($p | map("\(.name) \(.run_cnt / $ops | round_to(1)) x \(.run_time_ns / .run_cnt | round)") | join(", "))
             + " | \(($p | map(.run_time_ns) | add // 0) / $ops | round) |"),
          "" end)
     end),
  ([$runs[] | select(.phase == "overload")][0] as $o
   | if $o == null then empty else
     ($o.storm.resets_sent + $o.storm.resets_received) as $made
     | (($o.kernel_sent // 0) + ($o.kernel_received // 0)) as $kernel
     | "## Overload: \($o.storm.mode) storm into a 16 KiB ring drained once a second",
       "",
       "| resets made (namespace OutRsts + seen by sockets) | kernel totals (sent + received) | detailed events | lost (counted) | events + lost | per-cause totals (kernel) |",
       "|---|---|---|---|---|---|",
       "| \($made | grouped) | \($kernel | grouped) | \($o.seen | grouped) | \($o.lost | grouped) | \(($o.seen + $o.lost) | grouped) | "
         + ($o.by_cause // [] | map("\(.direction) \(.cause) \(.total | grouped)") | join(", ")) + " |",
       "",
       (if ($o.seen + $o.lost) == $kernel then "Every reset is either a detailed event or a counted loss (events + lost == kernel totals)."
        else "MISMATCH: events + lost != kernel totals." end),
       (if $kernel == $made then "The kernel's totals equal the resets the storm made."
        elif $kernel > $made then "The kernel's totals exceed the storm's resets by \($kernel - $made): resets elsewhere on this machine during the run."
        else "MISMATCH: the kernel counted fewer resets than the storm made." end),
       "" end)
] | .[]
