# Sourced by scripts/test: replays the fixtures against a live `edgekv serve` over HTTP (fixtures that need
# in-process state are skipped), then stops the server with SIGINT and checks it exits promptly and cleanly.
# Needs $edgekv (the built binary); sets $live_status.
live_status=0
live_dir=$(mktemp -d)
"$edgekv" serve --port 0 --persist-to "$live_dir/state" >"$live_dir/serve.log" 2>&1 &
serve_pid=$!
live_url=""
for _ in $(seq 100); do
    live_url=$(grep -o 'http://127.0.0.1:[0-9]*' "$live_dir/serve.log" | head -n 1 || true)
    [ -n "$live_url" ] && break
    sleep 0.1
done
if [ -z "$live_url" ]; then
    echo "edgekv serve did not start:" >&2
    cat "$live_dir/serve.log" >&2
    live_status=1
else
    "$edgekv" replay fixtures --target "$live_url" || live_status=1
fi
kill -INT "$serve_pid" 2>/dev/null || true
# serve drains connections for at most its 5 s --shutdown-timeout and has been seen to stop in 0.2 s on a loaded
# two-core machine: 15 s, three times the drain limit, catches a hang without failing a slow machine.
for _ in $(seq 150); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$serve_pid" 2>/dev/null; then
    echo "edgekv serve did not exit within 15 s of SIGINT" >&2
    kill -9 "$serve_pid" 2>/dev/null || true
    live_status=1
fi
# A crash while shutting down (or earlier) must fail the run: after SIGINT, serve exits 0.
serve_status=0
wait "$serve_pid" 2>/dev/null || serve_status=$?
if [ "$serve_status" -ne 0 ]; then
    echo "edgekv serve exited with status $serve_status after SIGINT (expected 0):" >&2
    tail -n 40 "$live_dir/serve.log" >&2
    live_status=1
fi
rm -rf "$live_dir"
