# Shell helpers shared by the broker scripts (scripts/kafka.sh, scripts/cluster.sh): port probes,
# liveness of a detached process, a clean stop, memory. Sourced, never run; callers set $HOST and
# define say().

port_open() {  # $1 = port
  timeout 1 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# alive and not a zombie: a detached broker is reaped by whatever adopted it, maybe late.
alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  local stat; stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"; [ "${stat%% *}" != Z ]
}

# SIGTERM (clean shutdown), wait up to $2 seconds, then SIGKILL. Returns 1 if SIGKILL was needed.
stop_pid() {  # $1 = pid, $2 = seconds
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < $2 * 4; i++)); do alive "$pid" || return 0; sleep 0.25; done
  say "pid $pid still running after ${2}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do alive "$pid" || return 1; sleep 0.25; done
  alive "$pid" && { say "pid $pid survived SIGKILL"; exit 1; }
  return 1
}

# Resident memory of a process and its descendants, in KiB (0 when gone).
rss_kib() {  # $1 = pid
  local total=0 p kids
  [ -r "/proc/$1/status" ] || { echo 0; return; }
  total="$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null)"
  kids="$(cat /proc/"$1"/task/*/children 2>/dev/null || true)"
  for p in $kids; do total=$((${total:-0} + $(rss_kib "$p"))); done
  echo "${total:-0}"
}
