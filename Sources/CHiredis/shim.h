#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <sys/time.h>

// Fixed-signature wrappers for what Swift cannot import or reach directly: hiredis's variadic
// redisCommand is replaced by redisCommandArgv, and errstr is a char array that imports as a tuple.

static inline redisContext *chiredis_connect(const char *host, int port, long timeout_ms) {
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    return redisConnectWithTimeout(host, port, tv);
}

static inline int chiredis_set_timeout(redisContext *c, long timeout_ms) {
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    return redisSetTimeout(c, tv);
}

static inline redisReply *chiredis_command_argv(redisContext *c, int argc, const char **argv, const size_t *argvlen) {
    return (redisReply *)redisCommandArgv(c, argc, argv, argvlen);
}

static inline int chiredis_err(const redisContext *c) { return c->err; }

static inline const char *chiredis_errstr(const redisContext *c) { return c->errstr; }

#endif
