#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --metrics-listen and --textfile on the real kernel: exact counts on /metrics,
# expositions promtool accepts (a unit named with quotes, backslashes and
# invalid UTF-8 too), a real Prometheus scraping rcatrace and node_exporter
# reading the textfile, malformed and slow clients that get errors while the
# counts stay exact, bad flags, and counters that continue across a restart.
. "$(dirname "$0")/lib.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
PROM_PID=
NODE_PID=
V6_PID=
EVIL=$'metrics-evil"q\\b\xff\xfe.service'

stop_servers() {
	local p
	for p in $PROM_PID $NODE_PID $V6_PID; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PROM_PID= NODE_PID= V6_PID=
	# Not a plain word, so lib.sh's word-split cleanup would not find it.
	if [ -d "$TEST_ROOT/$EVIL" ]; then
		kill_unit_procs "$TEST_ROOT/$EVIL"
		rmdir "$TEST_ROOT/$EVIL" 2>/dev/null
	fi
}
trap 'stop_servers; cleanup' EXIT

# A test that needs a tool it cannot find: a failure under CI=true, else a visible skip.
have() {
	if command -v "$1" > /dev/null; then
		return 0
	fi
	if [ "${CI:-false}" = true ]; then
		fail "$1 is not installed (scripts/install-deps.sh installs it; CI=true makes this a failure)"
	else
		echo "SKIP: $1 is not installed; run scripts/install-deps.sh"
	fi
	return 1
}

# A TCP port nothing listens on, on loopback.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		ss -Htan "( sport = :$p )" | grep -q . || break
	done
	echo "$p"
}

# spawn UNIT N: N starts of /bin/true in UNIT, each a child of this shell that
# moves itself in before its exec, as a supervisor's child does.
spawn() {
	for ((i = 0; i < $2; i++)); do
		bash -c 'echo $$ > "$1/cgroup.procs"; exec /bin/true' _ "$TEST_ROOT/$1"
	done
}

# value EXPOSITION_FILE SERIES: the value of the line whose series is exactly SERIES.
value() {
	awk -v s="$2" 'index($0, s " ") == 1 && length($0) > length(s) { print substr($0, length(s) + 2); exit }' "$1"
}

scrape() {
	curl -s -m 5 "$@" "http://127.0.0.1:$RCA_PORT/metrics"
}

# wait_series SERIES WANT: polls /metrics until SERIES has value WANT (10 s at most).
wait_series() {
	local got=
	for _ in $(seq 50); do
		scrape > "$WORK/scrape" && got=$(value "$WORK/scrape" "$1")
		[ "$got" = "$2" ] && break
		sleep 0.2
	done
	echo "$got"
}

mkdir -p "$WORK/textfile"
RCA_PORT=$(free_port)
make_unit metrics20.service > /dev/null
make_unit metrics-slow.service > /dev/null
mkdir "$TEST_ROOT/$EVIL" || fail "cannot make the hostile cgroup"
start_rcatrace --json --unit 'metrics*' --interval 0.2 --state "$WORK/state" \
	--metrics-listen "$RCA_PORT" --textfile "$WORK/textfile" || finish
assert_eq "serving line" 1 "$(grep -c "^rcatrace: serving metrics at http://127.0.0.1:$RCA_PORT/metrics$" "$WORK/err")"
# A bare port binds loopback, never every interface.
assert_eq "listening on loopback only" "127.0.0.1:$RCA_PORT" \
	"$(ss -Hltn "( sport = :$RCA_PORT )" | awk '{ print $4 }' | sort -u | tr '\n' ' ' | sed 's/ $//')"

# ---- exact counts --------------------------------------------------------------
spawn metrics20.service 20
spawn "$EVIL" 3
S20='rcatrace_unit_starts_total{unit="metrics20.service"}'
assert_eq "starts of metrics20.service" 20 "$(wait_series "$S20" 20)"
sleep 0.5
scrape -D "$WORK/headers" > "$WORK/text"
assert_eq "starts still exactly 20" 20 "$(value "$WORK/text" "$S20")"
# 20 starts, each exiting 0; none was forked inside the unit.
assert_eq "exits with code 0 (each start exits 0)" 20 "$(value "$WORK/text" 'rcatrace_unit_exits_total{unit="metrics20.service",code="0"}')"
assert_eq "forks in the unit (its starts were forked outside it)" 0 "$(value "$WORK/text" 'rcatrace_unit_forks_total{unit="metrics20.service"}')"
# 20 quick starts may well be flagged a storm: the gauge must agree with the findings.
storm=$(jq -R -s '[split("\n")[] | fromjson? | select(.type == "finding" and .finding == "respawn_storm" and
	.unit == "metrics20.service")] | if length > 0 and last.state == "started" then 1 else 0 end' "$WORK/out")
assert_eq "storm gauge agrees with the findings" "$storm" "$(value "$WORK/text" 'rcatrace_unit_storm{unit="metrics20.service"}')"
assert_eq "no ring-buffer loss" 0 "$(value "$WORK/text" 'rcatrace_events_lost_total{kind="ringbuf_exec"}')"
assert_eq "build info" 1 "$(grep -c '^rcatrace_build_info{version="[^"]*"} 1$' "$WORK/text")"
assert_eq "text content type" 1 "$(grep -ci '^content-type: text/plain; version=0.0.4; charset=utf-8' "$WORK/headers")"
# The hostile name: \" and \\ escaped, each invalid byte one U+FFFD, nothing else touched.
evil_line=$'rcatrace_unit_starts_total{unit="metrics-evil\\"q\\\\b\xef\xbf\xbd\xef\xbf\xbd.service"} 3'
assert_eq "hostile unit's starts, escaped" 1 "$(grep -cxF "$evil_line" "$WORK/text")"
assert_eq "exposition is valid UTF-8" ok "$(iconv -f UTF-8 -t UTF-8 "$WORK/text" > /dev/null 2>&1 && echo ok)"
if have promtool; then
	promtool check metrics < "$WORK/text" > "$WORK/promtool.out" 2>&1
	assert_eq "promtool check metrics (text, hostile name included)" "0:" "$?:$(cat "$WORK/promtool.out")"
fi

# OpenMetrics, when the scraper asks for it as Prometheus does.
scrape -D "$WORK/om-headers" -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' > "$WORK/om"
assert_eq "OpenMetrics content type" 1 "$(grep -ci '^content-type: application/openmetrics-text; version=1.0.0' "$WORK/om-headers")"
assert_eq "OpenMetrics ends with # EOF" "# EOF" "$(tail -n 1 "$WORK/om")"
assert_eq "OpenMetrics family name without _total" 1 "$(grep -cx '# TYPE rcatrace_unit_starts counter' "$WORK/om")"
assert_eq "OpenMetrics starts" 20 "$(value "$WORK/om" "$S20")"

# ---- the textfile ----------------------------------------------------------------
for _ in $(seq 25); do
	[ "$(value "$WORK/textfile/rcatrace.prom" "$S20" 2> /dev/null)" = 20 ] && break
	sleep 0.2
done
assert_eq "textfile starts" 20 "$(value "$WORK/textfile/rcatrace.prom" "$S20")"
assert_eq "textfile alone in its directory (no temporary left)" rcatrace.prom "$(ls -A "$WORK/textfile")"
if have promtool; then
	promtool check metrics < "$WORK/textfile/rcatrace.prom" > "$WORK/promtool.out" 2>&1
	assert_eq "promtool check metrics (textfile)" "0:" "$?:$(cat "$WORK/promtool.out")"
fi
if have prometheus-node-exporter; then
	NODE_PORT=$(free_port)
	prometheus-node-exporter --web.listen-address="127.0.0.1:$NODE_PORT" --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$WORK/textfile" > "$WORK/node.log" 2>&1 &
	NODE_PID=$!
	got=
	for _ in $(seq 50); do
		curl -s -m 2 "http://127.0.0.1:$NODE_PORT/metrics" > "$WORK/node" && got=$(value "$WORK/node" "$S20") &&
			[ -n "$got" ] && break
		sleep 0.2
	done
	assert_eq "node_exporter serves the textfile's starts" 20 "$got"
	assert_eq "node_exporter read it without error" 0 "$(value "$WORK/node" node_textfile_scrape_error)"
fi

# ---- a real Prometheus ---------------------------------------------------------
if have prometheus && have promtool; then
	PROM_PORT=$(free_port)
	cat > "$WORK/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	  evaluation_interval: 1s
	rule_files:
	  - $REPO/contrib/rcatrace-alerts.yml
	scrape_configs:
	  - job_name: rcatrace
	    static_configs:
	      - targets: ['127.0.0.1:$RCA_PORT']
	EOF
	promtool check config "$WORK/prometheus.yml" > "$WORK/promtool.out" 2>&1 ||
		fail "promtool check config: $(cat "$WORK/promtool.out")"
	prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus-data" \
		--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn > "$WORK/prometheus.log" 2>&1 &
	PROM_PID=$!
	query() {
		curl -s -m 5 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1"
	}
	got=
	for _ in $(seq 60); do
		got=$(query "$S20" | jq -r '.data.result[0].value[1] // empty' 2> /dev/null)
		[ "$got" = 20 ] && break
		sleep 0.5
	done
	assert_eq "Prometheus scraped the starts of metrics20.service" 20 "$got"
	assert_eq "Prometheus: target up" 1 "$(query 'up{job="rcatrace"}' | jq -r '.data.result[0].value[1]')"
	assert_eq "Prometheus: the hostile unit's name as stored" "$(printf 'metrics-evil"q\\b\xef\xbf\xbd\xef\xbf\xbd.service')" \
		"$(query 'rcatrace_unit_starts_total{unit=~"metrics-evil.*"}' | jq -r '.data.result[0].metric.unit')"
	assert_eq "Prometheus: the hostile unit's starts" 3 \
		"$(query 'rcatrace_unit_starts_total{unit=~"metrics-evil.*"}' | jq -r '.data.result[0].value[1]')"
	sleep 2
	assert_eq "Prometheus: every alert rule evaluates without error" "ok" \
		"$(curl -s -m 5 "http://127.0.0.1:$PROM_PORT/api/v1/rules" | jq -r '[.data.groups[].rules[].health] | unique | join(",")')"
fi

# ---- malformed requests ----------------------------------------------------------
http_first_line() { # PRINTF_FORMAT: sends it raw, prints the status line (empty if closed)
	local fd line=
	exec {fd}<> "/dev/tcp/127.0.0.1/$RCA_PORT" || return
	printf "$1" >&"$fd"
	IFS= read -r -t 5 -u "$fd" line
	exec {fd}>&-
	echo "${line%$'\r'}"
}
assert_eq "garbage request" "HTTP/1.1 400 Bad Request" "$(http_first_line 'GARBAGE \001\377 x\r\n\r\n')"
got=$(http_first_line '\377\376\000\001\002binary\r\n\r\n')
[ "${got#HTTP/1.1 2}" = "$got" ] && echo "ok: binary junk refused (${got:-connection closed})" ||
	fail "binary junk got '$got'"
assert_eq "huge header" 431 "$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)" "http://127.0.0.1:$RCA_PORT/metrics")"
assert_eq "huge URL" 414 "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RCA_PORT/metrics?$(head -c 100000 /dev/zero | tr '\0' a)")"
assert_eq "POST" 405 "$(curl -s -m 5 -o /dev/null -w '%{http_code}' -d x "http://127.0.0.1:$RCA_PORT/metrics")"
assert_eq "unknown path" 404 "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RCA_PORT/../../etc/passwd")"
assert_eq "starts unchanged by bad requests" 20 "$(wait_series "$S20" 20)"

# ---- slow clients: 50 connections that send nothing ------------------------------
fds=()
for _ in $(seq 50); do
	exec {fd}<> "/dev/tcp/127.0.0.1/$RCA_PORT" && fds+=("$fd")
done
assert_eq "idle connections opened" 50 "${#fds[@]}"
t0=$(date +%s%N)
stats0=$(grep -c '^{"type":"stats"' "$WORK/out")
spawn metrics-slow.service 30
sleep 2
stats1=$(grep -c '^{"type":"stats"' "$WORK/out")
# 0.2 s interval: about 10 samples in 2 s; the HTTP side must not hold the loop back.
if [ $((stats1 - stats0)) -ge 6 ]; then
	echo "ok: tracing kept sampling during the attack ($((stats1 - stats0)) samples in 2 s)"
else
	fail "tracing stalled during the attack: $((stats1 - stats0)) samples in 2 s"
fi
S30='rcatrace_unit_starts_total{unit="metrics-slow.service"}'
assert_eq "textfile kept up during the attack" 30 "$(value "$WORK/textfile/rcatrace.prom" "$S30")"
code=$(curl -s -m 2 -o "$WORK/during" -w '%{http_code}' "http://127.0.0.1:$RCA_PORT/metrics")
if [ "$code" = 200 ]; then
	assert_eq "a scrape that got through has exact figures" 30 "$(value "$WORK/during" "$S30")"
else
	echo "ok: scrape during the attack refused or timed out (HTTP $code; 32-connection limit)"
fi
# The server closes idle connections after 10 s; the first 32 were accepted.
closed=0
for fd in "${fds[@]}"; do
	left=$(((t0 + 14000000000 - $(date +%s%N)) / 1000000000))
	[ "$left" -lt 1 ] && left=1
	IFS= read -r -t "$left" -u "$fd" _
	[ $? -eq 1 ] && closed=$((closed + 1)) # 1: end of file; >128: still open at timeout
done
for fd in "${fds[@]}"; do exec {fd}>&-; done
if [ "$closed" -ge 32 ]; then
	echo "ok: the server closed $closed idle connections within 14 s"
else
	fail "the server closed only $closed of 50 idle connections within 14 s"
fi
assert_eq "starts of metrics-slow.service after the attack" 30 "$(wait_series "$S30" 30)"
assert_eq "starts of metrics20.service after the attack" 20 "$(value "$WORK/scrape" "$S20")"

# ---- bad flags -------------------------------------------------------------------
timeout 30 "$RCATRACE" run --no-state --metrics-listen "127.0.0.1:$RCA_PORT" > /dev/null 2> "$WORK/inuse.err"
assert_eq "port in use: exit status" 1 "$?"
assert_eq "port in use: message" 1 \
	"$(grep -c "^rcatrace: cannot serve metrics on 127.0.0.1:$RCA_PORT: Address already in use; another program (or rcatrace) holds that port" "$WORK/inuse.err")"
"$RCATRACE" run --metrics-listen nonsense > /dev/null 2> "$WORK/bad.err"
assert_eq "bad ADDR:PORT: exit status" 2 "$?"
assert_eq "bad ADDR:PORT: message" 1 "$(grep -c "^rcatrace run: --metrics-listen: 'nonsense' is not ADDR:PORT" "$WORK/bad.err")"
assert_eq "bad ADDR:PORT: usage follows" 1 "$(grep -c '^Usage: rcatrace run' "$WORK/bad.err")"
"$RCATRACE" run --metrics-listen '[::1' > /dev/null 2>&1
assert_eq "IPv6 without its bracket: exit status" 2 "$?"
"$RCATRACE" run --metrics-max-units 0 > /dev/null 2>&1
assert_eq "--metrics-max-units 0: exit status" 2 "$?"
timeout 30 "$RCATRACE" run --no-state --textfile "$WORK/no-such-dir" > /dev/null 2> "$WORK/tf.err"
assert_eq "missing textfile directory: exit status" 1 "$?"
assert_eq "missing textfile directory: message" 1 \
	"$(grep -c "^rcatrace: cannot write the metrics textfile $WORK/no-such-dir/rcatrace.prom: No such file or directory" "$WORK/tf.err")"

# ---- IPv6 loopback -----------------------------------------------------------------
if grep -q '^0\{31\}1 ' /proc/net/if_inet6; then
	"$RCATRACE" run --no-state --duration 20 --metrics-listen '[::1]:0' > /dev/null 2> "$WORK/v6.err" &
	V6_PID=$!
	v6port=
	for _ in $(seq 100); do
		v6port=$(sed -n 's|^rcatrace: serving metrics at http://\[::1\]:\([0-9]*\)/metrics$|\1|p' "$WORK/v6.err")
		[ -n "$v6port" ] && grep -q attached "$WORK/v6.err" && break
		sleep 0.1
	done
	assert_eq "[::1]:0 serves on IPv6 loopback" 1 \
		"$(curl -s -m 5 -g "http://[::1]:$v6port/metrics" | grep -c '^rcatrace_build_info{')"
	kill -INT "$V6_PID"
	wait "$V6_PID"
	assert_eq "IPv6 instance exit status" 0 "$?"
	V6_PID=
else
	echo "SKIP: no IPv6 loopback here"
fi

# ---- restart: the counters continue from the state file --------------------------
stop_rcatrace
assert_eq "rcatrace exit status" 0 "$RCA_STATUS"
curl -s -m 2 "http://127.0.0.1:$RCA_PORT/metrics" > /dev/null
assert_eq "port closed after stop (curl: connection refused)" 7 "$?"
start_rcatrace --json --unit 'metrics*' --interval 0.2 --state "$WORK/state" \
	--metrics-listen "$RCA_PORT" --textfile "$WORK/textfile" || finish
scrape > "$WORK/restart"
assert_eq "after restart, before any new event" 20 "$(value "$WORK/restart" "$S20")"
spawn metrics20.service 5
assert_eq "after restart, 5 more" 25 "$(wait_series "$S20" 25)"
if [ -n "$PROM_PID" ]; then
	sleep 3
	assert_eq "Prometheus saw no counter reset across the restart" 0 \
		"$(query "resets($S20[2m])" | jq -r '.data.result[0].value[1]')"
	assert_eq "Prometheus has the continued value" 25 "$(query "$S20" | jq -r '.data.result[0].value[1]')"
fi
stop_rcatrace
assert_eq "rcatrace exit status after restart" 0 "$RCA_STATUS"
assert_eq "textfile keeps the final figures" 25 "$(value "$WORK/textfile/rcatrace.prom" "$S20")"

# ---- alert rules ------------------------------------------------------------------
if have promtool; then
	promtool check rules "$REPO/contrib/rcatrace-alerts.yml" > "$WORK/promtool.out" 2>&1
	assert_eq "promtool check rules" 0 "$?"
	(cd "$REPO/contrib" && promtool test rules rcatrace-alerts.test.yml) > "$WORK/promtool.out" 2>&1
	assert_eq "promtool test rules" "0" "$?"
	# The fleet's recording rules: valid, and computing what their tests say.
	(cd "$REPO/contrib" && promtool check rules rcatrace-fleet.rules.yml &&
		promtool test rules rcatrace-fleet.rules.test.yml) > "$WORK/promtool.out" 2>&1
	assert_eq "promtool check and test the fleet rules" "0" "$?"
elif [ "${CI:-}" = true ]; then
	fail "no promtool (scripts/install-deps.sh test installs prometheus)"
fi
stop_servers
finish
