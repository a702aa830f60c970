/*  test/integration/shards_util.c - block-server tests' helpers
    (shards_util.h). */
#include "shards_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_matrix.h"

h_proc_t *
sh_start (ru_redis_t servers[SU_SERVERS], int workers, const char *const *extra)
{
    static char list[3 * sizeof servers[0].url + 8];
    list[0] = 0;
    for (int i = 0; i < SU_SERVERS; i++) {
        char name[16];
        snprintf (name, sizeof name, "blocks%d", i);
        ru_start (&servers[i], name);
        if (i)
            strcat (list, ",");
        strcat (list, servers[i].url);
    }
    const char *args[24] = { "--block-store", list };
    int n = 2;
    for (int i = 0; extra && extra[i] && n < 23; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    return h_start_head_with (workers, false, args);
}

int
sh_server_of (ru_redis_t servers[SU_SERVERS], const uint8_t hash[POOL_HASH_SIZE])
{
    int found = -1;
    for (int i = 0; i < SU_SERVERS; i++)
        if (ru_has_block (&servers[i], hash)) {
            H_CHECK (found < 0, "a block is on %s and on %s", servers[found].name,
                     servers[i].name);
            found = i;
        }
    H_CHECK (found >= 0, "a block is on no block server");
    return found;
}

void
sh_fill (double *a_host, double *b_host, int seed)
{
    for (int i = 0; i < SH_N * SH_N; i++) {
        a_host[i] = ((i + seed) % 7) - 3;
        b_host[i] = ((i * 3 + seed) % 5) - 2;
    }
}

void
sh_product_check (pool_t *pool, const pool_matrix_t *a, const pool_matrix_t *b,
                  const double *a_host, const double *b_host)
{
    double *c_host = malloc (SH_N * SH_N * sizeof *c_host);
    H_CHECK (c_host, "malloc");
    pool_matrix_t *c = NULL;
    H_CHECK (pool_matrix_multiply (pool, a, false, b, false, &c) == 0, "multiply: %s",
             pool_last_error (pool));
    H_CHECK (pool_matrix_get (pool, c, c_host) == 0, "get: %s", pool_last_error (pool));
    for (int i = 0; i < SH_N; i++)
        for (int j = 0; j < SH_N; j++) {
            double want = 0;
            for (int k = 0; k < SH_N; k++)
                want += a_host[i * SH_N + k] * b_host[k * SH_N + j];
            H_CHECK (c_host[i * SH_N + j] == want, "c[%d][%d] = %g, want %g", i, j,
                     c_host[i * SH_N + j], want);
        }
    pool_matrix_delete (&c);
    free (c_host);
}

void
sh_multiply_check (pool_t *pool, int seed)
{
    double *a_host = malloc (SH_N * SH_N * sizeof *a_host);
    double *b_host = malloc (SH_N * SH_N * sizeof *b_host);
    H_CHECK (a_host && b_host, "malloc");
    sh_fill (a_host, b_host, seed);
    pool_matrix_t *a = NULL, *b = NULL;
    H_CHECK (pool_matrix_create (pool, &a, a_host, SH_N, SH_N, POOL_FLOAT64, SH_BS) == 0,
             "create a: %s", pool_last_error (pool));
    H_CHECK (pool_matrix_create (pool, &b, b_host, SH_N, SH_N, POOL_FLOAT64, SH_BS) == 0,
             "create b: %s", pool_last_error (pool));
    sh_product_check (pool, a, b, a_host, b_host);
    pool_matrix_delete (&a);
    pool_matrix_delete (&b);
    free (a_host);
    free (b_host);
}

char *
sh_status (const h_proc_t *head)
{
    char port[16];
    snprintf (port, sizeof port, "%d", head->port);
    const char *args[] = { "--status", "-a",          "127.0.0.1", "-p", port,
                           "-r",       h_password (), "--timeout", "5",  NULL };
    char *out = NULL;
    int rc = h_run_start_node (args, h_timeout (30), &out);
    H_CHECK (rc == 0, "start_node --status exited %d: %s", rc, out ? out : "");
    return out;
}
