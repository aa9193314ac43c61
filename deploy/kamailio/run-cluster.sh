#!/bin/bash
# run-cluster.sh: the reference deployment of issue 19 on one machine, in a
# private network namespace — what an operator runs on three machines:
#
#   PostgreSQL   127.0.0.1:5432   (a throwaway cluster: initdb in a temp dir)
#   Kamailio     127.0.0.10:5060 udp, wss://127.0.0.10:8443 (kamailio.cfg here)
#   node n1      127.0.0.11:5060, web phone https://127.0.0.11:8443/
#   node n2      127.0.0.12:5060, web phone https://127.0.0.12:8443/
#
# Users 1001 and 1002 (passwords pw-1001 and pw-1002) are added once, to the
# shared database. Phones register at 127.0.0.10:5060; the web phones'
# pages register on Kamailio's WSS (web_ws_url). Ctrl-C stops everything.
#
# usage: sudo deploy/kamailio/run-cluster.sh [path/to/softswitch] [-- command]
#   With a command, it runs inside the namespace once the cluster is up and
#   the cluster stops when it exits (e.g. `-- sleep 60`, or a sipp scenario).
#
# Needs root (namespace; PostgreSQL then runs as nobody), and the Debian
# packages postgresql, kamailio, kamailio-tls-modules,
# kamailio-websocket-modules (make deps).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../bin/softswitch}
[ "${1:-}" = "--" ] && bin=$here/../../bin/softswitch || { [ $# -gt 0 ] && shift; }
[ "${1:-}" = "--" ] && shift
bin=$(readlink -f "$bin")
[ -x "$bin" ] || { echo "no softswitch binary at $bin: make build" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (network namespace)" >&2; exit 1; }

if [ -z "${SOFTSWITCH_CLUSTER_NS:-}" ]; then
	exec env SOFTSWITCH_CLUSTER_NS=1 unshare --net -- "$0" "$bin" -- "$@"
fi
ip link set lo up

pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "PostgreSQL not installed: make deps" >&2; exit 1; }
command -v kamailio >/dev/null || { echo "kamailio not installed: make deps" >&2; exit 1; }

dir=$(mktemp -d /tmp/softswitch-cluster.XXXXXX)
chmod 755 "$dir" # PostgreSQL runs as nobody below
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== PostgreSQL in $dir/pg"
mkdir -p "$dir/pg" && chown nobody "$dir/pg"
runuser -u nobody -- "$pgbin/initdb" -D "$dir/pg/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >/dev/null
runuser -u nobody -- "$pgbin/postgres" -D "$dir/pg/data" -h 127.0.0.1 -p 5432 -k "$dir/pg" >"$dir/pg/log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	"$pgbin/pg_isready" -q -h 127.0.0.1 -p 5432 && break
	sleep 0.1
done
"$pgbin/psql" -q -h 127.0.0.1 -U postgres -c 'CREATE DATABASE softswitch'
dsn="postgres://postgres@127.0.0.1:5432/softswitch?sslmode=disable"

"$bin" init --data "$dir/init" --db "$dsn" >/dev/null
for ext in 1001 1002; do
	"$bin" user add "$ext" --password "pw-$ext" --db "$dsn" >/dev/null
done

for n in 1 2; do
	ip=127.0.0.1$n
	mkdir -p "$dir/n$n"
	cat >"$dir/n$n/softswitch.yaml" <<YAML
data: $dir/n$n
node: n$n
sip: $ip:5060
sip_tls: ""
https: $ip:8443
ws: ""
media_ip: $ip
database:
  driver: postgres
  dsn: "$dsn"
proxies: [127.0.0.10]
web_ws_url: wss://127.0.0.10:8443
YAML
	echo "== node n$n on $ip"
	"$bin" serve --config "$dir/n$n/softswitch.yaml" >"$dir/n$n/log" 2>&1 &
	pids+=($!)
done
for n in 1 2; do
	for _ in $(seq 100); do
		grep -q 'softswitch running' "$dir/n$n/log" && break
		sleep 0.1
	done
	grep -q 'softswitch running' "$dir/n$n/log" || { echo "node n$n did not start:" >&2; cat "$dir/n$n/log" >&2; exit 1; }
done

echo "== Kamailio on 127.0.0.10"
mkdir -p "$dir/kamailio"
cp "$here/kamailio.cfg" "$dir/kamailio/"
sed "s!/etc/kamailio!$dir/kamailio!g" "$here/local.cfg.example" >"$dir/kamailio/local.cfg"
cp "$here/dispatcher.list.example" "$dir/kamailio/dispatcher.list"
cp "$dir/n1/tls-cert.pem" "$dir/kamailio/edge.crt"
cp "$dir/n1/tls-key.pem" "$dir/kamailio/edge.key"
sed "s!/etc/kamailio!$dir/kamailio!g" "$here/tls.cfg.example" >"$dir/kamailio/tls.cfg"
(cd "$dir/kamailio" && exec kamailio -f "$dir/kamailio/kamailio.cfg" -DD -E -m 256 -M 8 -w "$dir/kamailio" \
	-Y "$dir/kamailio" -P "$dir/kamailio/kamailio.pid" >"$dir/kamailio/log" 2>&1) &
pids+=($!)
sleep 2
kill -0 "${pids[-1]}" 2>/dev/null || { echo "kamailio did not start:" >&2; cat "$dir/kamailio/log" >&2; exit 1; }

echo "== up: phones register at 127.0.0.10:5060 (1001/pw-1001, 1002/pw-1002);"
echo "   logs in $dir/{n1,n2,kamailio}/log; CDRs: $bin cdr list --db '$dsn'"
if [ $# -gt 0 ]; then
	"$@"
else
	echo "   Ctrl-C stops the cluster"
	wait
fi
