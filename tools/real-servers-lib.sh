# SPDX-License-Identifier: MIT
# Starting the real servers of tools/real-servers.sh on 127.0.0.1, each with its own files in a
# directory of the caller's (sourced by tests/integration/test_real_servers.sh and
# tools/bench/lib.sh). Needs bash and curl.
# shellcheck disable=SC2034  # SPID, URLS and READY are the callers'

# free_port: a port on 127.0.0.1 that nothing listens on.
free_port() {
	local p i
	for i in $(seq 50); do
		p=$((20000 + RANDOM % 30000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	return 1
}

# Servers: start_KIND DIR sets SPID and URLS (the URLs the load requests).
start_prometheus() {	# DIR BINARY
	local d=$1 bin=$2 port
	port=$(free_port) || return 1
	cat >"$d/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	scrape_configs:
	  - job_name: self
	    static_configs:
	      - targets: ['127.0.0.1:$port']
	EOF
	"$bin" --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/data" \
		--web.listen-address="127.0.0.1:$port" >"$d/server.log" 2>&1 &
	SPID=$!
	# a PromQL query over its own scrapes (parsing, label sets, aggregation maps) and /metrics
	URLS=("http://127.0.0.1:$port/api/v1/query?query=sum%20by%20(handler)%20(rate(prometheus_http_requests_total%5B5s%5D))"
	      "http://127.0.0.1:$port/metrics")
	READY="http://127.0.0.1:$port/-/ready"
}

start_caddy() {	# DIR BINARY: a file server, and a reverse proxy in front of it (the load)
	local d=$1 bin=$2 p1 p2
	p1=$(free_port) && p2=$(free_port) || return 1
	mkdir -p "$d/www" "$d/home"
	head -c 3000 /dev/urandom | base64 >"$d/www/index.html"
	cat >"$d/Caddyfile" <<-EOF
	{
		admin off
		auto_https off
		storage file_system $d/home/storage
	}
	http://127.0.0.1:$p1 {
		root * $d/www
		file_server
	}
	http://127.0.0.1:$p2 {
		reverse_proxy 127.0.0.1:$p1
	}
	EOF
	HOME=$d/home XDG_DATA_HOME=$d/home XDG_CONFIG_HOME=$d/home \
		"$bin" run --config "$d/Caddyfile" --adapter caddyfile >"$d/server.log" 2>&1 &
	SPID=$!
	URLS=("http://127.0.0.1:$p2/")
	READY="http://127.0.0.1:$p2/"
}

start_hello() {	# DIR BINARY
	local d=$1 bin=$2 port
	port=$(free_port) || return 1
	"$bin" "127.0.0.1:$port" >"$d/server.log" 2>&1 &
	SPID=$!
	URLS=("http://127.0.0.1:$port/")
	READY="http://127.0.0.1:$port/"
}

serving() { curl -fs -o /dev/null --max-time 2 "$READY"; }
