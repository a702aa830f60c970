/*  libpool/options.c - option defaults, error names, and the code mapping
    shared by the rest of libpool. */
#include "pool_private.h"

#include <string.h>

void
pool_options_default (pool_options_t *options)
{
    if (!options)
        return;
    memset (options, 0, sizeof *options);
    options->server = NULL;
    options->max_attempts = 3;
    options->min_workers = 1;
    options->connect_timeout = 10;
    options->reconnect_timeout = 60;
    options->job_timeout = 0;
    options->insecure = 0;
    options->shared_memory_min = (size_t)64 << 10;
    options->spin_wait = 0.001;
    options->progress_interval = 0.5;
    options->forward_output = 1;
    options->cancel_grace = 1.0;
    options->direct_min = (size_t)64 << 10;
}

const char *
pool_strerror (int code)
{
    switch (code) {
    case POOL_OK:
        return "success";
    case POOL_EINVAL:
        return "invalid argument or option";
    case POOL_ENOMEM:
        return "out of memory";
    case POOL_ECONNECT:
        return "cannot reach the head";
    case POOL_EAUTH:
        return "handshake refused (wrong password?)";
    case POOL_EDENIED:
        return "the head refused the connection";
    case POOL_ELIBRARY:
        return "bad worker library";
    case POOL_EWORKER:
        return "the workers cannot run this pool (init or an update failed)";
    case POOL_ENOWORKERS:
        return "too few workers";
    case POOL_ELOST:
        return "connection to the head lost";
    case POOL_EPROTO:
        return "protocol error";
    case POOL_EJOB:
        return "the job returned an error";
    case POOL_ECRASHED:
        return "the worker crashed running the job";
    case POOL_ETIMEDOUT:
        return "the job timed out";
    case POOL_ECLOSED:
        return "the pool was closed by the head";
    case POOL_EIO:
        return "input/output error";
    case POOL_ETIMEOUT:
        return "timed out";
    case POOL_ECANCELED:
        return "cancelled";
    case POOL_ENOSPACE:
        return "the block store is full";
    default:
        return "unknown error";
    }
}

int
pool_code_from_head (int64_t code)
{
    /* The wire's codes (proto/codes.h), each to the code we return;
       anything else is not ours to pass on. */
    switch (code) {
    case PROTO_CODE_EINVAL:
        return POOL_EINVAL;
    case PROTO_CODE_ENOMEM:
        return POOL_ENOMEM;
    case PROTO_CODE_EDENIED:
        return POOL_EDENIED;
    case PROTO_CODE_ELIBRARY:
        return POOL_ELIBRARY;
    case PROTO_CODE_EWORKER:
        return POOL_EWORKER;
    case PROTO_CODE_EPROTO:
        return POOL_EPROTO;
    case PROTO_CODE_EJOB:
        return POOL_EJOB;
    case PROTO_CODE_ECRASHED:
        return POOL_ECRASHED;
    case PROTO_CODE_ETIMEDOUT:
        return POOL_ETIMEDOUT;
    case PROTO_CODE_ECLOSED:
        return POOL_ECLOSED;
    case PROTO_CODE_EIO:
        return POOL_EIO;
    case PROTO_CODE_ETIMEOUT:
        return POOL_ETIMEOUT;
    case PROTO_CODE_ECANCELED:
        return POOL_ECANCELED;
    case PROTO_CODE_ENOSPACE:
        return POOL_ENOSPACE;
    default:
        return POOL_EPROTO;
    }
}
