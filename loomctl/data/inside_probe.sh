# loomctl in-replica probe for images without node (POSIX sh / busybox). loomctl prepends the variable T (seconds)
# and, after this body, one call per host and peer with every value single-quoted. Output lines start with
# LOOMPROBE; loomctl interprets them (exit statuses and HTTP status lines, no judgement here).
have() { command -v "$1" >/dev/null 2>&1; }
TOOLS=""
for t in getent nslookup curl wget nc; do if have "$t"; then TOOLS="$TOOLS $t"; fi; done
echo "LOOMPROBE tools sh$TOOLS"

probe_dns() { # index host dns-server-or-empty
  if have getent && [ -z "$3" ]; then
    out=$(getent ahosts "$2" 2>/dev/null); rc=$?
    echo "LOOMPROBE dns $1 getent $rc $(echo "$out" | awk '{print $1}' | sort -u | tr '\n' ' ')"
  elif have nslookup; then
    if [ -n "$3" ]; then out=$(nslookup "$2" "$3" 2>&1); else out=$(nslookup "$2" 2>&1); fi; rc=$?
    addrs=$(echo "$out" | sed -n '/^Name:/,$p' | sed -n 's/^Address[^:]*: *\([0-9a-fA-F.:]*\).*/\1/p' | sort -u | tr '\n' ' ')
    kind=other
    if echo "$out" | grep -qi "NXDOMAIN\|can't find\|not found"; then kind=nxdomain; fi
    if echo "$out" | grep -qi "SERVFAIL"; then kind=servfail; fi
    if echo "$out" | grep -qi "timed out\|no servers could be reached"; then kind=timeout; fi
    echo "LOOMPROBE dns $1 nslookup $rc $kind $addrs"
  elif have getent; then
    out=$(getent ahosts "$2" 2>/dev/null); rc=$?
    echo "LOOMPROBE dns $1 getent $rc $(echo "$out" | awk '{print $1}' | sort -u | tr '\n' ' ')"
  else
    echo "LOOMPROBE dns $1 none"
  fi
}

probe_peer() { # index http-url host port
  if have curl; then
    out=$(curl -sS -i -N --http1.1 --max-time "$T" -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
      -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: bG9vbWN0bC1pbnNpZGUtcA==' \
      -w '\nLOOMCURL %{http_code} %{time_connect}\n' "$2" 2>&1); rc=$?
    status=$(echo "$out" | sed -n '1s/^HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p')
    connect=$(echo "$out" | sed -n 's/^LOOMCURL [0-9]* \([0-9.]*\)$/\1/p' | tail -n 1)
    hello=0; if echo "$out" | grep -q '"dam":"?"'; then hello=1; fi
    echo "LOOMPROBE peer $1 curl $rc ${status:-0} ${connect:-0} $hello"
  elif have wget; then
    out=$(wget -S -O /dev/null -T "$T" -t 1 --header='Connection: Upgrade' --header='Upgrade: websocket' \
      --header='Sec-WebSocket-Version: 13' --header='Sec-WebSocket-Key: bG9vbWN0bC1pbnNpZGUtcA==' "$2" 2>&1); rc=$?
    status=$(echo "$out" | sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' | head -n 1)
    connected=0; if echo "$out" | grep -q "connected\.\|HTTP/"; then connected=1; fi
    refused=0; if echo "$out" | grep -qi "refused"; then refused=1; fi
    echo "LOOMPROBE peer $1 wget $rc ${status:-0} $connected $refused"
  elif have nc; then
    nc -z -w "$T" "$3" "$4" >/dev/null 2>&1; rc=$?
    echo "LOOMPROBE peer $1 nc $rc"
  else
    echo "LOOMPROBE peer $1 none"
  fi
}
