#!/usr/bin/env bash
# sitebench.sh: the S3 gateway benchmarks of issue 3, recorded in
# docs/benchmarks.md ("S3 gateway"). `make bench-s3` builds and runs it.
#
# It starts real ferryd processes on loopback and drives them with s3bench:
#
#   1. a one-node site (`ferryd --dev`, six directories as disks, pool 4+2):
#      one BIG_SIZE (5 GiB) multipart upload while ferryd's VmRSS is sampled
#      every 0.5 s, then the matrix SIZES x CONCS, PUT then GET
#      (s3bench -op both), each phase DURATION long; the 4 MiB cells at
#      concurrency 16 and 64 first measure the disk's sequential write
#      bandwidth (s3bench -disk-dir, -ec 4+2) in the same s3bench run;
#   2. a three-node site (two disks per node, pool 4+2 over six disks, as in
#      docs/operations.md "Three nodes on one machine"): the same matrix
#      against node 1's gateway (s3bench takes a single endpoint).
#
# It prints a markdown report (tables, disk bandwidth, the three targets of
# issue 3) and writes it to OUT as well. Progress goes to stderr.
#
# Environment (all optional):
#   DURATION=5s          length of each PUT and GET phase
#   SIZES="4KiB 64KiB 4MiB"  CONCS="1 16 64"
#   BIG_SIZE=5GiB        the large upload (BIG_SIZE=0 skips it)
#   BIG_PART=64MiB       its part size
#   DISK_SIZE=1GiB       bytes written by each disk measurement
#   SITES="one three"    which sites to run
#   OUT=docs/benchmarks-s3-latest.txt   (not committed)
#   BENCH_DIR=/tmp       where the temporary directory is made
#   BIN=bin              where ferryd, ferryctl and s3bench are (make build)
#   KEEP=1               keep the temporary directory (data and logs)
#   READY_TIMEOUT=60     seconds to wait for a node or site to be ready
#
# Every process it starts is stopped by pid on exit (SIGTERM, then SIGKILL
# after 30 s), and the temporary directory is removed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
DURATION=${DURATION:-5s}
SIZES=${SIZES:-"4KiB 64KiB 4MiB"}
CONCS=${CONCS:-"1 16 64"}
BIG_SIZE=${BIG_SIZE:-5GiB}
BIG_PART=${BIG_PART:-64MiB}
DISK_SIZE=${DISK_SIZE:-1GiB}
SITES=${SITES:-"one three"}
OUT=${OUT:-$ROOT/docs/benchmarks-s3-latest.txt}
READY_TIMEOUT=${READY_TIMEOUT:-60}
KEEP=${KEEP:-0}

for b in ferryd ferryctl s3bench; do
	if [[ ! -x $BIN/$b ]]; then
		echo "sitebench: $BIN/$b missing: run make build" >&2
		exit 2
	fi
done
command -v python3 >/dev/null || { echo "sitebench: python3 is needed for the report" >&2; exit 2; }

# Root credentials of the throwaway sites (ferryd reads them on first start;
# s3bench falls back to them when no AWS_* keys are set, and we unset those).
export FERRY_ROOT_ACCESS_KEY=${FERRY_ROOT_ACCESS_KEY:-SITEBENCH_ROOT_KEY}
export FERRY_ROOT_SECRET_KEY=${FERRY_ROOT_SECRET_KEY:-sitebench-secret-$$-$RANDOM$RANDOM}

WORK=$(mktemp -d "${BENCH_DIR:-/tmp}/ferry-sitebench.XXXXXX")
mkdir -p "$WORK/res"
PIDS=()

log() { printf '%s sitebench: %s\n' "$(date +%T)" "$*" >&2; }

# stop_pid PID [NAME]: SIGTERM, wait up to 30 s for it to exit, then
# SIGKILL; reap. For a named process (ferryd), a slow or failed shutdown is
# noted for the report.
stop_pid() {
	local pid=$1 name=${2:-} i rc=0
	if ! kill "$pid" 2>/dev/null; then # already gone
		wait "$pid" 2>/dev/null || rc=$?
		[[ -n $name ]] && echo "ferryd $name had already exited (status $rc) when it was to be stopped" >>"$WORK/res/stop-problems.txt"
		return 0
	fi
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid${name:+ ($name)} did not exit 30 s after SIGTERM: SIGKILL"
		[[ -n $name ]] && echo "ferryd $name did not exit 30 s after SIGTERM: killed" >>"$WORK/res/stop-problems.txt"
		kill -9 "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	if [[ -n $name ]] && ((rc != 0)); then
		echo "ferryd $name exited with status $rc after SIGTERM" >>"$WORK/res/stop-problems.txt"
	fi
	return 0
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${PIDS[i]}"
	done
	if [[ $KEEP == 1 ]]; then
		log "kept $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() { # forget_pid PID: drop a pid that has exited and been reaped
	local p keep=()
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# free_ports N: N distinct free loopback ports (held together while chosen).
free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# start_ferryd NAME ARGS...: start ferryd in the background, logs in
# $WORK/NAME.out / NAME.err; sets FERRYD_PID.
start_ferryd() {
	local name=$1
	shift
	"$BIN/ferryd" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	FERRYD_PID=$!
	PIDS+=("$FERRYD_PID")
	echo "$FERRYD_PID" >"$WORK/$name.pid"
}

# wait_started NAME PID: poll NAME.out for ferryd's start line (deadline
# READY_TIMEOUT); sets API and S3EP.
wait_started() {
	local name=$1 pid=$2 deadline=$((SECONDS + READY_TIMEOUT)) line
	while :; do
		line=$(grep -m1 -E '^ferryd .* S3 on http://' "$WORK/$name.out" 2>/dev/null || true)
		[[ -n $line ]] && break
		if ! kill -0 "$pid" 2>/dev/null; then
			log "ferryd $name exited before it was up; its stderr:"
			tail -n 40 "$WORK/$name.err" >&2
			return 1
		fi
		if ((SECONDS >= deadline)); then
			log "ferryd $name printed no start line in ${READY_TIMEOUT}s; its stderr:"
			tail -n 40 "$WORK/$name.err" >&2
			return 1
		fi
		sleep 0.1
	done
	API=$(sed -E 's/.*node API on ([^,]+),.*/\1/' <<<"$line")
	S3EP=$(sed -E 's/.* S3 on (http:\/\/[^,]+),.*/\1/' <<<"$line")
	log "$line"
}

# wait_site API MEMBERS DISKS: poll `ferryctl status` until the site has a
# leader, MEMBERS members with API addresses, and pool "default" with DISKS
# disks all online.
wait_site() {
	local api=$1 members=$2 disks=$3 deadline=$((SECONDS + READY_TIMEOUT)) st=""
	while :; do
		st=$("$BIN/ferryctl" --addr "$api" --timeout 5s --json status 2>&1 || true)
		if ST=$st python3 - "$members" "$disks" <<'PY' 2>/dev/null; then
import json, os, sys
want_members, want_disks = int(sys.argv[1]), int(sys.argv[2])
st = json.loads(os.environ["ST"])
members = [m for m in st.get("members", []) if m.get("apiAddr")]
pools = [p for p in st.get("pools", []) if p.get("pool") == "default"]
ok = (st.get("leader") and len(members) == want_members and pools
      and len([d for d in pools[0].get("disks", []) if d.get("online")]) == want_disks)
sys.exit(0 if ok else 1)
PY
			log "site ready: $members member(s), pool default over $disks online disks"
			echo "$st" >"$WORK/status-$members.json"
			return 0
		fi
		if ((SECONDS >= deadline)); then
			log "site not ready after ${READY_TIMEOUT}s; last status:"
			echo "$st" >&2
			return 1
		fi
		sleep 0.2
	done
}

# s3bench ARGS...: run s3bench in the background (so signals reach the
# traps) under a time limit, with only the FERRY_ROOT_* credentials.
s3bench_bg() {
	local out=$1 err=$2 limit=$3
	shift 3
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
		timeout -s INT -k 30 "$limit" "$BIN/s3bench" "$@" >"$out" 2>"$err" &
	S3B_PID=$!
	PIDS+=("$S3B_PID")
}

dur_seconds() { # 5s, 1m30s, 500ms -> whole seconds (rounded up)
	python3 -c '
import re, sys, math
s = sys.argv[1]; t = 0.0
for v, u in re.findall(r"([0-9.]+)(ms|us|µs|ns|h|m|s)", s):
    t += float(v) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}[u]
print(max(1, math.ceil(t)))' "$1"
}
PHASE_S=$(dur_seconds "$DURATION")

# cpu_mark FILE FERRYD_PIDS...: append "wall busy ferryd kids": the time,
# the machine's busy CPU jiffies (/proc/stat), the CPU jiffies of the given
# ferryd processes, and bash's `times` for reaped children (s3bench). The
# report takes differences of two marks to tell the CPU used by the
# benchmark from the CPU used by other processes meanwhile.
cpu_mark() {
	local file=$1 busy fj=0 p j
	shift
	busy=$(awk '$1 == "cpu" { print $2+$3+$4+$7+$8+$9 }' /proc/stat)
	for p in "$@"; do
		j=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
		fj=$((fj + ${j:-0}))
	done
	times >"$WORK/times.txt" # a builtin here: a subshell would see only its own children
	printf '%s %s %s %s\n' "$(date +%s.%N)" "$busy" "$fj" "$(sed -n 2p "$WORK/times.txt")" >>"$file"
}

# hwm_reset PIDS...: reset the peak resident set size (VmHWM) of each
# process (Linux: write 5 to /proc/PID/clear_refs), so that VmHWM read later
# covers what happened in between. Fails silently where unsupported.
hwm_reset() {
	local p
	for p in "$@"; do
		echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true
	done
}

# run_matrix SITE ENDPOINT DISKDIR FERRYD_PIDS...: the SIZES x CONCS matrix.
run_matrix() {
	local site=$1 ep=$2 diskdir=$3
	shift 3
	local pids=("$@") size conc f extra rc p
	for size in $SIZES; do
		for conc in $CONCS; do
			for p in "${pids[@]}"; do
				if ! kill -0 "$p" 2>/dev/null; then
					log "ferryd pid $p of site $site is gone: skipping the rest of its matrix"
					echo "ferryd pid $p exited during the matrix" >>"$WORK/res/$site-problems.txt"
					return 0
				fi
			done
			f="$WORK/res/$site-$size-c$conc"
			extra=()
			if [[ $size == 4MiB && ($conc == 16 || $conc == 64) && -n $diskdir ]]; then
				extra=(-disk-dir "$diskdir" -disk-size "$DISK_SIZE" -ec 4+2)
			fi
			log "$site: $size x $conc (PUT then GET, $DURATION each)${extra:+, disk measurement first}"
			s3bench_bg "$f.json" "$f.err" "$((2 * PHASE_S + 300))" -endpoint "$ep" -op both \
				-size "$size" -concurrency "$conc" -duration "$DURATION" \
				-prefix "$site-c$conc/" -json -quiet "${extra[@]}"
			cpu_mark "$f.cpu" "${pids[@]}"
			hwm_reset "${pids[@]}"
			rc=0
			wait "$S3B_PID" || rc=$?
			forget_pid "$S3B_PID"
			cpu_mark "$f.cpu" "${pids[@]}"
			for p in "${pids[@]}"; do status_kib "$p" VmHWM; done | paste -sd' ' >"$f.hwm"
			echo "$rc" >"$f.rc"
			if ((rc != 0)); then
				log "$site: $size x $conc: s3bench exited $rc (some operations failed, or no result) $(head -c 400 "$f.err")"
			fi
		done
	done
}

# status_kib PID FIELD: a kB field of /proc/PID/status, or empty.
status_kib() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || true
}

# big_upload ENDPOINT FERRYD_PID: one BIG_SIZE object in BIG_PART parts,
# sampling VmRSS of ferryd and s3bench every 0.5 s.
big_upload() {
	local ep=$1 fpid=$2 f="$WORK/res/big" rss peak=0 cpeak=0 samples=0 rc=0 start
	# Reset ferryd's VmHWM so that it covers the upload only (Linux: 5 >
	# clear_refs resets the peak RSS); the baseline is recorded too.
	if echo 5 >"/proc/$fpid/clear_refs" 2>/dev/null; then echo 1 >"$f.hwm_reset"; else echo 0 >"$f.hwm_reset"; fi
	status_kib "$fpid" VmRSS >"$f.rss_before"
	log "one: $BIG_SIZE upload in $BIG_PART parts (ferryd VmRSS before: $(cat "$f.rss_before") KiB)"
	start=$SECONDS
	cpu_mark "$f.cpu" "$fpid"
	s3bench_bg "$f.json" "$f.err" 3600 -endpoint "$ep" -op put -size "$BIG_SIZE" -ops 1 \
		-concurrency 1 -multipart-part-size "$BIG_PART" -prefix big/ -json -quiet
	while kill -0 "$S3B_PID" 2>/dev/null; do
		rss=$(status_kib "$fpid" VmRSS)
		[[ -n $rss ]] && ((rss > peak)) && peak=$rss
		# The s3bench process is timeout's child.
		local cpid
		cpid=$(pgrep -P "$S3B_PID" -x s3bench 2>/dev/null | head -n1 || true)
		if [[ -n $cpid ]]; then
			rss=$(status_kib "$cpid" VmRSS)
			[[ -n $rss ]] && ((rss > cpeak)) && cpeak=$rss
		fi
		samples=$((samples + 1))
		sleep 0.5
	done
	wait "$S3B_PID" || rc=$?
	forget_pid "$S3B_PID"
	cpu_mark "$f.cpu" "$fpid"
	echo "$rc" >"$f.rc"
	echo "$peak" >"$f.rss_peak"
	echo "$cpeak" >"$f.client_rss_peak"
	echo "$samples" >"$f.samples"
	echo "$((SECONDS - start))" >"$f.seconds"
	status_kib "$fpid" VmHWM >"$f.hwm"
	status_kib "$fpid" VmRSS >"$f.rss_after"
	log "one: upload done (exit $rc), ferryd peak VmRSS $peak KiB, VmHWM $(cat "$f.hwm") KiB"
	if ((rc != 0)); then
		log "one: big upload: $(head -c 600 "$f.err")"
	fi
}

# snapshot_load LABEL: loadavg, the CPU time the machine has spent busy
# (/proc/stat) and the CPU time of this script's reaped children (bash's
# `times`: ferryd once stopped, s3bench, ferryctl), so that the report can
# tell how much CPU other processes took meanwhile.
snapshot_load() {
	local busy total kids
	read -r busy total < <(awk '$1 == "cpu" { b = $2+$3+$4+$7+$8+$9; print b, b+$5+$6 }' /proc/stat)
	times >"$WORK/times.txt" # a builtin in this shell: a subshell would see only its own children
	kids=$(sed -n 2p "$WORK/times.txt")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$(date +%s.%N)" "$busy" "$total" "$kids" \
		"$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/res/cpu.tsv"
}

# keep_logs SITE NAMES...: ferryd's stderr (log level warn) and final VmHWM.
keep_logs() {
	local site=$1 n pid
	shift
	for n in "$@"; do
		pid=$(cat "$WORK/$n.pid")
		status_kib "$pid" VmHWM >"$WORK/res/$site-$n.hwm"
		cp "$WORK/$n.err" "$WORK/res/$site-$n.log"
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "ferryd $n (pid $pid) was not running at the end of the site" >>"$WORK/res/$site-problems.txt"
		fi
	done
}

# site_problem SITE MESSAGE: note a problem for the report.
site_problem() {
	log "$1: $2"
	echo "$2" >>"$WORK/res/$1-problems.txt"
}

# ---- one-node site ------------------------------------------------------
site_one() {
	start_ferryd dev --dev "$WORK/dev" --api-addr 127.0.0.1:0 --raft-addr 127.0.0.1:0 \
		--s3-addr 127.0.0.1:0 --log-level warn
	local pid=$FERRYD_PID ep
	if wait_started dev "$pid" && ep=$S3EP && wait_site "$API" 1 6; then
		if [[ $BIG_SIZE != 0 ]]; then
			big_upload "$ep" "$pid"
		fi
		run_matrix one "$ep" "$WORK/dev" "$pid"
	else
		site_problem one "the one-node site did not come up (see its log)"
	fi
	keep_logs one dev
	stop_pid "$pid" dev
	forget_pid "$pid"
}

# ---- three-node site ----------------------------------------------------
site_three() {
	local -a P
	local i o d pids=() n1api n1s3 ok=1
	read -r -a P <<<"$(free_ports 9)"
	for i in 1 2 3; do
		o=$(((i - 1) * 3))
		d="$WORK/n$i"
		{
			echo "node_id: n$i"
			echo "site: bench"
			echo "data_dir: $d"
			echo "api_addr: 127.0.0.1:${P[o]}"
			echo "raft_addr: 127.0.0.1:${P[o + 1]}"
			echo "log_level: warn"
			if ((i == 1)); then echo "bootstrap: true"; else echo "join: [127.0.0.1:${P[0]}]"; fi
			echo "disks:"
			echo "  - {id: d0, dir: $d/disks/d0}"
			echo "  - {id: d1, dir: $d/disks/d1}"
			echo "s3: {addr: 127.0.0.1:${P[o + 2]}}"
		} >"$WORK/n$i.yaml"
	done
	start_ferryd n1 --config "$WORK/n1.yaml"
	pids+=("$FERRYD_PID")
	if wait_started n1 "${pids[0]}"; then
		n1api=$API n1s3=$S3EP
		for i in 2 3; do
			start_ferryd "n$i" --config "$WORK/n$i.yaml"
			pids+=("$FERRYD_PID")
		done
		wait_started n2 "${pids[1]}" || ok=0
		wait_started n3 "${pids[2]}" || ok=0
		if ((ok)) && wait_site "$n1api" 3 6; then
			run_matrix three "$n1s3" "$WORK/n1" "${pids[@]}"
		else
			ok=0
		fi
	else
		ok=0
	fi
	((ok)) || site_problem three "the three-node site did not come up (see the logs)"
	local names=()
	for i in "${!pids[@]}"; do names+=("n$((i + 1))"); done
	keep_logs three "${names[@]}"
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		stop_pid "${pids[i]}" "n$((i + 1))"
		forget_pid "${pids[i]}"
	done
}

T0=$(date -u +%FT%TZ)
snapshot_load start
if [[ " $SITES " == *" one "* ]]; then
	site_one
	snapshot_load "after one-node site"
fi
if [[ " $SITES " == *" three "* ]]; then
	site_three
	snapshot_load "after three-node site"
fi

# ---- report -------------------------------------------------------------
{
	echo "started $T0, ended $(date -u +%FT%TZ)"
	echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)"
	echo "disk: $(df -h "$WORK" | awk 'NR==2 {print $1 ", " $2 " total, " $4 " free"}') (all ferryd disks and the disk measurement share it)"
	echo "go: $(go version "$BIN/ferryd" 2>/dev/null | cut -d' ' -f2- || echo unknown)"
	echo "params: DURATION=$DURATION SIZES='$SIZES' CONCS='$CONCS' BIG_SIZE=$BIG_SIZE BIG_PART=$BIG_PART DISK_SIZE=$DISK_SIZE SITES='$SITES'"
} >"$WORK/res/meta.txt"

python3 - "$WORK/res" "$SIZES" "$CONCS" <<'PY' >"$WORK/report.md"
import json, os, re, sys

res, sizes, concs = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
MiB = 1 << 20


def read(name, default=None):
    try:
        with open(os.path.join(res, name)) as f:
            return f.read().strip()
    except OSError:
        return default


def load(name):
    txt = read(name)
    if not txt:
        return None
    try:
        return json.loads(txt)
    except ValueError:
        return None


def ms(ns):
    v = ns / 1e6
    return f"{v:.3g} ms" if v < 100 else f"{v:.0f} ms"


def phase(r, op):
    for p in (r or {}).get("phases", []):
        if p["op"] == op:
            return p
    return None


def cell(p):
    if p is None:
        return ["–"] * 3
    return [f"{p['ops_per_sec']:.1f}", f"{p['mib_per_sec']:.1f}",
            f"{ms(p['latency']['p50_ns'])} / {ms(p['latency']['p99_ns'])}"]


def cpu(name):
    """ferryd and other processes' CPU between the two marks of name, as
    percentages of the machine (all CPUs)."""
    lines = (read(name, "") or "").splitlines()
    if len(lines) < 2:
        return None
    a, b = lines[0].split(), lines[1].split()
    hz, n = os.sysconf("SC_CLK_TCK"), os.cpu_count()
    wall = float(b[0]) - float(a[0])
    busy = (int(b[1]) - int(a[1])) / hz
    ferryd = (int(b[2]) - int(a[2])) / hz
    kids = sum(secs(x) for x in b[3:]) - sum(secs(x) for x in a[3:])  # user and sys
    other = max(0.0, busy - ferryd - kids)
    return 100 * ferryd / (wall * n), 100 * kids / (wall * n), 100 * other / (wall * n)


def secs(t):  # bash `times`: 1m2.345s
    return sum(float(m) * 60 + float(sec) for m, sec in re.findall(r"(\d+)m([\d.]+)s", t))


def errs(p):
    if p is None:
        return "–"
    return str(p["errors"] + p.get("canceled", 0))


print("# S3 gateway benchmarks (issue 3)\n")
print("```")
print(read("meta.txt", ""))
print("```\n")

checks = []
for site, title in (("one", "One-node site (`ferryd --dev`, 6 local disks, pool 4+2)"),
                    ("three", "Three-node site (2 disks per node, pool 4+2 over 6 disks), all clients on node 1's gateway")):
    if not (any(os.path.exists(os.path.join(res, f"{site}-{s}-c{c}.json")) for s in sizes for c in concs)
            or read(f"{site}-problems.txt")):
        continue
    print(f"## {title}\n")
    print("| size | conc | PUT ops/s | PUT MiB/s | PUT p50 / p99 | GET ops/s | GET MiB/s | GET p50 / p99 | errors PUT/GET | ferryd VmHWM | CPU ferryd / s3bench / other |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    notes, disks = [], []
    for s in sizes:
        for c in concs:
            base = f"{site}-{s}-c{c}"
            r = load(base + ".json")
            rc = read(base + ".rc", "?")
            put, get = phase(r, "put"), phase(r, "get")
            u = cpu(base + ".cpu")
            ucol = f"{u[0]:.0f}% / {u[1]:.0f}% / {u[2]:.0f}%" if u else "–"
            hw = [int(x) for x in (read(base + ".hwm", "") or "").split()]
            hcol = " / ".join(f"{x / 1024:.0f}" for x in hw) + " MiB" if hw else "–"
            print("| " + " | ".join([s, c] + cell(put) + cell(get) + [f"{errs(put)}/{errs(get)}", hcol, ucol]) + " |")
            if rc not in ("0", None) or r is None:
                notes.append(f"- {s} x {c}: s3bench exit {rc}: " + (read(base + ".err", "") or "")[:600].replace("\n", " "))
            for p in (put, get):
                for k in (p or {}).get("error_kinds", []) or []:
                    notes.append(f"- {s} x {c} {p['op']}: {k['kind']} x{k['count']}: " + "; ".join(k.get("samples", [])[:2]))
            if r and r.get("disk"):
                d = r["disk"]
                disks.append((s, c, d, put, get))
    print("\nferryd VmHWM: peak resident memory of each ferryd process during the cell "
          "(reset through /proc/PID/clear_refs before it; n1 / n2 / n3 on the three-node site, n1 serving S3).")
    print("CPU: share of all the machine's CPUs over the cell (both phases, and the disk "
          "measurement where there is one), for the site's ferryd processes, s3bench, and every other process (kernel threads such as writeback included).\n")
    for s, c, d, put, get in disks:
        disk = d["bytes_per_sec"] / MiB
        target = d["target_put_bytes_per_sec"] / MiB
        putm = d.get("put_bytes_per_sec", 0) / MiB
        ok = putm >= target
        print(f"- 4 MiB x {c}: disk sequential write+fsync of {d['bytes'] // MiB} MiB in {d['dir']}: "
              f"**{disk:.1f} MiB/s**; target = {disk:.1f} / 2 / ({d['ec_data']}+{d['ec_parity']})/{d['ec_data']} = "
              f"**{target:.1f} MiB/s**; PUT {putm:.1f} MiB/s = {100 * putm / target if target else 0:.0f}% of target: "
              f"**{'met' if ok else 'NOT met'}**")
        checks.append((site, f"4 MiB PUT at c={c} >= disk/2/1.5", ok,
                       f"PUT {putm:.1f} MiB/s vs target {target:.1f} MiB/s (disk {disk:.1f} MiB/s)"))
    r = load(f"{site}-4MiB-c16.json")
    put, get = phase(r, "put"), phase(r, "get")
    if put and get:
        ok = get["mib_per_sec"] >= put["mib_per_sec"]
        print(f"- 4 MiB x 16: GET {get['mib_per_sec']:.1f} MiB/s vs PUT {put['mib_per_sec']:.1f} MiB/s "
              f"(GET/PUT {get['mib_per_sec'] / put['mib_per_sec'] if put['mib_per_sec'] else 0:.2f}): "
              f"**{'met' if ok else 'NOT met'}**")
        checks.append((site, "4 MiB GET >= PUT at c=16", ok,
                       f"GET {get['mib_per_sec']:.1f} vs PUT {put['mib_per_sec']:.1f} MiB/s"))
    hw = []
    for n in ("dev", "n1", "n2", "n3"):
        v = read(f"{site}-{n}.hwm")
        if v:
            hw.append(f"{n} {int(v) / 1024:.0f} MiB")
    if hw:
        print(f"- ferryd VmHWM at the end of the site (whole process lifetime): {', '.join(hw)}")
    if read(f"{site}-problems.txt"):
        print("- PROBLEMS: " + read(f"{site}-problems.txt").replace("\n", "; "))
    if notes:
        print("\nFailures:\n")
        print("\n".join(notes))
    for n in ("dev", "n1", "n2", "n3"):
        lg = read(f"{site}-{n}.log")
        if lg is None:
            continue
        lines = lg.splitlines()
        count = lambda pat: sum(1 for l in lines if pat in l)
        print(f"\nferryd {n} log (level warn): {len(lines)} lines; elections started "
              f"{count('starting election')}, leader step-downs {count('stepping down')}, "
              f"ERROR lines {count('ERROR')}" + (". Last 15:" if lines else ""))
        if lines:
            print("```")
            print("\n".join(l[:300] for l in lines[-15:]))
            print("```")
    print()

big = load("big.json")
if read("big.rc") is not None:
    print("## Large upload (one-node site)\n")
    put = phase(big, "put")
    peak = int(read("big.rss_peak", "0") or 0)
    hwm = int(read("big.hwm", "0") or 0)
    before = int(read("big.rss_before", "0") or 0)
    cpeak = int(read("big.client_rss_peak", "0") or 0)
    reset = read("big.hwm_reset") == "1"
    size = big["object_size_bytes"] if big else 0
    if put and put["ops"] == 1:
        print(f"- {size / MiB / 1024:.2f} GiB in parts of {big['part_size_bytes'] // MiB} MiB: "
              f"{put['mib_per_sec']:.1f} MiB/s, {put['elapsed_ns'] / 1e9:.1f} s")
    else:
        print(f"- upload FAILED (s3bench exit {read('big.rc')}): " + (read("big.err", "") or "")[:800].replace("\n", " "))
        if put:
            for k in put.get("error_kinds", []) or []:
                print(f"  - {k['kind']} x{k['count']}: " + "; ".join(k.get("samples", [])[:2]))
    print(f"- ferryd VmRSS: {before / 1024:.0f} MiB before, peak {peak / 1024:.0f} MiB "
          f"({read('big.samples')} samples every 0.5 s), VmHWM {hwm / 1024:.0f} MiB "
          f"({'reset just before the upload' if reset else 'whole process lifetime: reset failed'}), "
          f"{int(read('big.rss_after', '0') or 0) / 1024:.0f} MiB after")
    print(f"- s3bench peak VmRSS: {cpeak / 1024:.0f} MiB")
    u = cpu("big.cpu")
    if u:
        print(f"- CPU during the upload (share of all {os.cpu_count()} CPUs): ferryd {u[0]:.0f}%, s3bench {u[1]:.0f}%, other processes {u[2]:.0f}%")
    top = max(peak, hwm if reset else peak)
    ok = bool(put and put["ops"] == 1) and top < 256 * 1024
    print(f"- gateway resident memory < 256 MiB during the upload: max {top / 1024:.0f} MiB: "
          f"**{'met' if ok else 'NOT met'}**" + ("" if size >= 5 * 1024 * MiB else
                                                  f" (only {size / MiB:.0f} MiB uploaded: BIG_SIZE was lowered)"))
    checks.append(("one", f"{size / MiB / 1024:.2f} GiB upload: ferryd RSS < 256 MiB", ok,
                   f"peak {top / 1024:.0f} MiB"))
    print()

if read("stop-problems.txt"):
    print("## Shutdown problems\n")
    print(read("stop-problems.txt"))
    print()

if checks:
    print("## Targets\n")
    print("| site | target | result | figures |")
    print("|---|---|---|---|")
    for site, what, ok, fig in checks:
        print(f"| {site} | {what} | {'met' if ok else '**NOT met**'} | {fig} |")
    print()

rows = [l.split("\t") for l in (read("cpu.tsv", "") or "").splitlines() if l]
if len(rows) > 1:
    hz = os.sysconf("SC_CLK_TCK")
    ncpu = os.cpu_count()
    print("## CPU used by other processes during the run\n")
    print("Busy CPU of the whole machine (/proc/stat) minus the CPU time of the processes "
          "this script started (ferryd, s3bench, ferryctl: bash `times` of reaped children).\n")
    print("| interval | wall | CPU capacity | busy | this benchmark | other processes | loadavg at end |")
    print("|---|---|---|---|---|---|---|")
    for a, b in zip(rows, rows[1:]):
        wall = float(b[1]) - float(a[1])
        busy = (int(b[2]) - int(a[2])) / hz
        ours = sum(secs(x) for x in b[4].split()) - sum(secs(x) for x in a[4].split())
        print(f"| {a[0]} -> {b[0]} | {wall:.0f} s | {wall * ncpu:.0f} CPU-s | {busy:.0f} CPU-s | "
              f"{ours:.0f} CPU-s | **{max(0.0, busy - ours):.0f} CPU-s** ({100 * max(0.0, busy - ours) / (wall * ncpu):.0f}% of the machine) | {b[5]} |")
    print()
PY

cat "$WORK/report.md"
if [[ -n $OUT ]]; then
	mkdir -p "$(dirname "$OUT")"
	cp "$WORK/report.md" "$OUT"
	log "report written to $OUT"
fi
