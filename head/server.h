/*  head/server.h - pool-head's loop: the ROUTER socket and its peers. */
#ifndef DCPOOL_HEAD_SERVER_H
#define DCPOOL_HEAD_SERVER_H

#include "head.h"

/*  Derives the keys, connects to Redis, binds the ROUTER.  NULL with the
    reason in error when any of it fails. */
head_t *head_new (const head_config_t *config, const char *password,
                  const char *redis_url, char *error, size_t error_size);
/* The port bound (the one picked when config->port was 0). */
int head_port (head_t *head);
/* Runs until SIGINT/SIGTERM: 0. */
int head_run (head_t *head);
void head_destroy (head_t **head);

#endif
