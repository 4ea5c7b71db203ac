# Sourced by the scripts: makes sure a redis-server answers on 127.0.0.1:16379 (the Debian package does not start
# one) and exports EDGEKV_TEST_REDIS_URL for the tests.
redis_port=16379
if ! redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
    redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no >/dev/null
    for _ in $(seq 50); do
        redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
fi
export EDGEKV_TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
