/*  test/integration/output_util.c - see output_util.h. */
#include "output_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ou_collect (const char *worker_id, int stream, const char *line, size_t size, void *arg)
{
    ou_lines_t *lines = arg;
    if (lines->count == lines->cap) {
        size_t cap = lines->cap ? lines->cap * 2 : 256;
        ou_line_t *grown = realloc (lines->lines, cap * sizeof *grown);
        H_CHECK (grown, "out of memory");
        lines->lines = grown;
        lines->cap = cap;
    }
    ou_line_t *at = &lines->lines[lines->count];
    snprintf (at->worker, sizeof at->worker, "%s", worker_id);
    at->stream = stream;
    at->text = strndup (line, size);
    H_CHECK (at->text && strlen (line) == size, "the line is %zu bytes, size says %zu",
             strlen (line), size);
    lines->count++;
}

void
ou_lines_free (ou_lines_t *lines)
{
    for (size_t i = 0; i < lines->count; i++)
        free (lines->lines[i].text);
    free (lines->lines);
    memset (lines, 0, sizeof *lines);
}

pool_t *
ou_open (const h_proc_t *head, const char *tag, ou_lines_t *lines, int forward_output,
         int workers)
{
    pool_options_t options;
    h_options (&options, head, "printer");
    options.init_data = (pool_bytes_t){ tag, strlen (tag) };
    options.output = lines ? ou_collect : NULL;
    options.output_arg = lines;
    options.forward_output = forward_output;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    rc = pool_wait_for_workers (pool, workers, h_timeout (60));
    H_CHECK (rc == 0, "pool_wait_for_workers: %s", pool_strerror (rc));
    return pool;
}

size_t
ou_count (const ou_lines_t *lines, const char *text, int stream)
{
    size_t n = 0;
    for (size_t i = 0; i < lines->count; i++)
        if ((!stream || lines->lines[i].stream == stream)
            && strstr (lines->lines[i].text, text))
            n++;
    return n;
}

void
ou_map (pool_t *pool, const char *const *inputs, size_t count)
{
    pool_bytes_t *in = calloc (count, sizeof *in);
    pool_result_t *out = calloc (count, sizeof *out);
    H_CHECK (in && out, "out of memory");
    for (size_t i = 0; i < count; i++)
        in[i] = (pool_bytes_t){ inputs[i], strlen (inputs[i]) };
    int rc = pool_map (pool, in, count, out);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    for (size_t i = 0; i < count; i++)
        H_CHECK (out[i].status == 0 && out[i].value.size == in[i].size
                     && memcmp (out[i].value.data, in[i].data, in[i].size) == 0,
                 "input %zu (%s): status %d (%s)", i, inputs[i], out[i].status,
                 out[i].error ? out[i].error : "");
    pool_results_release (pool, out, count);
    free (in);
    free (out);
}

bool
ou_wait (pool_t *pool, const ou_lines_t *lines, const char *text, int stream,
         size_t count, double seconds)
{
    double deadline = h_now () + h_timeout (seconds);
    static const char *const nothing[] = { "0" };
    while (ou_count (lines, text, stream) < count) {
        if (h_now () > deadline)
            return false;
        ou_map (pool, nothing, 1);
    }
    return true;
}
