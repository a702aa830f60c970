/*  proto/msg.c - the message model: a proto_msg_t built field by field,
    its payloads, and the table of types.  Encoding and decoding are in
    codec.c, sending and receiving in wire.c (msg.h is the interface of
    all three).
*/
#include "msg_internal.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const proto_type_spec_t proto_msg_types[PROTO_TYPE_COUNT] = {
    [PROTO_HELLO] = { "HELLO", PROTO_F_ROLE | PROTO_F_ID, FR_NONE },
    [PROTO_WELCOME] = { "WELCOME", PROTO_F_NUMS, FR_NONE },
    [PROTO_DENIED] = { "DENIED", PROTO_F_TEXT, FR_NONE },
    [PROTO_HEARTBEAT] = { "HEARTBEAT", 0, FR_NONE },
    [PROTO_POOL_OPEN] = { "POOL_OPEN", PROTO_F_HASH | PROTO_F_NUMS, FR_TWO },
    [PROTO_POOL_READY] = { "POOL_READY", PROTO_F_POOL, FR_NONE },
    [PROTO_SUBMIT] = { "SUBMIT", PROTO_F_POOL | PROTO_F_JOBS, FR_JOBS },
    [PROTO_RESULT] = { "RESULT", PROTO_F_POOL | PROTO_F_JOBS, FR_JOBS },
    [PROTO_ASSIGN] = { "ASSIGN", PROTO_F_POOL | PROTO_F_HASH, FR_NONE },
    [PROTO_JOB] = { "JOB", PROTO_F_POOL | PROTO_F_JOBS, FR_JOBS },
    [PROTO_UPDATE] = { "UPDATE", PROTO_F_POOL, FR_ONE },
    [PROTO_WORKER_READY] = { "WORKER_READY", PROTO_F_POOL | PROTO_F_CODE, FR_NONE },
    [PROTO_WORKER_DIED] = { "WORKER_DIED", PROTO_F_ID | PROTO_F_CODE, FR_NONE },
    [PROTO_STATUS_REQ] = { "STATUS_REQ", 0, FR_NONE },
    [PROTO_STATUS] = { "STATUS", PROTO_F_NUMS, FR_NONE },
    [PROTO_BLOCK_PUT] = { "BLOCK_PUT", PROTO_F_HASH, FR_ONE },
    [PROTO_BLOCK_GET] = { "BLOCK_GET", PROTO_F_HASH, FR_NONE },
    [PROTO_BLOCK] = { "BLOCK", PROTO_F_HASH, FR_ONE },
    [PROTO_POOL_CLOSE] = { "POOL_CLOSE", PROTO_F_POOL, FR_NONE },
    [PROTO_ERROR] = { "ERROR", PROTO_F_CODE | PROTO_F_TEXT, FR_NONE },
    [PROTO_BYE] = { "BYE", 0, FR_NONE },
    [PROTO_BLOCK_STORED] = { "BLOCK_STORED", PROTO_F_HASH, FR_NONE },
    [PROTO_WORKER_KILL] = { "WORKER_KILL", PROTO_F_ID | PROTO_F_SEQ, FR_NONE },
    [PROTO_CANCEL] = { "CANCEL", PROTO_F_POOL | PROTO_F_NUMS, FR_NONE },
    [PROTO_OUTPUT] = { "OUTPUT", PROTO_F_ID | PROTO_F_CODE | PROTO_F_TEXT, FR_NONE },
    [PROTO_BLOCK_RELEASE] = { "BLOCK_RELEASE", PROTO_F_HASH, FR_NONE },
    [PROTO_BLOCK_RELEASED] = { "BLOCK_RELEASED", PROTO_F_HASH | PROTO_F_CODE, FR_NONE },
    [PROTO_BLOCK_HOLD] = { "BLOCK_HOLD", PROTO_F_HASH, FR_NONE },
    [PROTO_BLOCKS_HELD] = { "BLOCKS_HELD", 0, FR_ONE },
};

const char *
proto_type_name (proto_type_t type)
{
    if (type <= 0 || type >= PROTO_TYPE_COUNT)
        return "UNKNOWN";
    return proto_msg_types[type].name;
}

void
proto_msg_init (proto_msg_t *self, proto_type_t type)
{
    memset (self, 0, sizeof *self);
    self->type = type;
    self->version = PROTO_VERSION;
}

void
proto_msg_reset (proto_msg_t *self)
{
    proto_type_t type = self->type;
    free (self->text);
    free (self->jobs);
    zmsg_destroy (&self->frames);
    zframe_destroy (&self->packed);
    free (self->packed_off);
    free (self->borrowed);
    proto_msg_free_tails (self);
    proto_msg_init (self, type);
}

void
proto_msg_recycle (proto_msg_t *self)
{
    proto_job_t *jobs = self->jobs;
    proto_slice_t *borrowed = self->borrowed;
    size_t jobs_cap = self->jobs_cap, borrowed_cap = self->borrowed_cap;
    self->jobs = NULL;
    self->borrowed = NULL;
    proto_msg_reset (self);
    self->jobs = jobs;
    self->jobs_cap = jobs_cap;
    self->borrowed = borrowed;
    self->borrowed_cap = borrowed_cap;
}

static int
s_set_string (char *field, const char *value)
{
    size_t len = strlen (value);
    if (len > PROTO_ID_MAX)
        return PROTO_EMALFORMED;
    memcpy (field, value, len + 1);
    return PROTO_OK;
}

int
proto_msg_set_id (proto_msg_t *self, const char *id)
{
    int rc = s_set_string (self->id, id);
    if (rc == PROTO_OK)
        self->present |= PROTO_F_ID;
    return rc;
}

int
proto_msg_set_node (proto_msg_t *self, const char *node)
{
    int rc = s_set_string (self->node, node);
    if (rc == PROTO_OK)
        self->present |= PROTO_F_NODE;
    return rc;
}

int
proto_msg_set_host (proto_msg_t *self, const char *host)
{
    int rc = s_set_string (self->host, host);
    if (rc == PROTO_OK)
        self->present |= PROTO_F_HOST;
    return rc;
}

void
proto_msg_set_role (proto_msg_t *self, proto_role_t role)
{
    self->role = role;
    self->present |= PROTO_F_ROLE;
}

void
proto_msg_set_pool (proto_msg_t *self, uint64_t pool)
{
    self->pool = pool;
    self->present |= PROTO_F_POOL;
}

void
proto_msg_set_seq (proto_msg_t *self, uint64_t seq)
{
    self->seq = seq;
    self->present |= PROTO_F_SEQ;
}

void
proto_msg_set_code (proto_msg_t *self, int64_t code)
{
    self->code = code;
    self->present |= PROTO_F_CODE;
}

int
proto_msg_set_text (proto_msg_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = NULL;
    int len = vasprintf (&text, format, args);
    va_end (args);
    if (len < 0)
        return PROTO_EMALFORMED;
    if ((size_t)len > PROTO_TEXT_MAX) {
        /* Cut, do not fail: a long error message is still worth sending. */
        text[PROTO_TEXT_MAX] = 0;
        len = PROTO_TEXT_MAX;
    }
    free (self->text);
    self->text = text;
    self->text_size = (size_t)len;
    self->present |= PROTO_F_TEXT;
    return PROTO_OK;
}

int
proto_msg_add_hash (proto_msg_t *self, const uint8_t hash[PROTO_HASH_SIZE])
{
    if (self->nhashes >= PROTO_HASHES_MAX)
        return PROTO_EMALFORMED;
    memcpy (self->hash[self->nhashes++], hash, PROTO_HASH_SIZE);
    self->present |= PROTO_F_HASH;
    return PROTO_OK;
}

int
proto_msg_add_num (proto_msg_t *self, uint64_t value)
{
    if (self->nnums >= PROTO_NUMS_MAX)
        return PROTO_EMALFORMED;
    self->nums[self->nnums++] = value;
    self->present |= PROTO_F_NUMS;
    return PROTO_OK;
}

/*  The growth of a message's arrays (jobs, borrowed payloads): array, of
    *cap entries of elem bytes, reallocated to hold count, its capacity
    doubled from first (or from *cap) until it does; *cap updated.  The
    new array, or NULL when out of memory (array untouched).  Doubling: a
    message gathered from many small ones (head/results_out.c) must not
    copy its arrays at every one. */
static void *
s_grow (void *array, size_t *cap, size_t count, size_t elem, size_t first)
{
    size_t grown_cap = *cap ? *cap : first;
    while (grown_cap < count)
        grown_cap *= 2;
    void *grown = realloc (array, grown_cap * elem);
    if (grown)
        *cap = grown_cap;
    return grown;
}

int
proto_msg_jobs_reserve (proto_msg_t *self, size_t count)
{
    if (count <= self->jobs_cap)
        return PROTO_OK;
    proto_job_t *jobs = s_grow (self->jobs, &self->jobs_cap, count, sizeof *jobs, 16);
    if (!jobs)
        return PROTO_EIO;
    self->jobs = jobs;
    return PROTO_OK;
}

proto_job_t *
proto_msg_add_job_grow (proto_msg_t *self)
{
    if (self->njobs >= PROTO_JOBS_MAX
        || proto_msg_jobs_reserve (self, self->njobs + 1) != PROTO_OK)
        return NULL;
    proto_job_t *job = &self->jobs[self->njobs++];
    memset (job, 0, sizeof *job);
    self->present |= PROTO_F_JOBS;
    return job;
}

/*  Room for count borrowed payloads in all. */
static int
s_borrowed_reserve (proto_msg_t *self, size_t count)
{
    if (count <= self->borrowed_cap)
        return PROTO_OK;
    proto_slice_t *grown
        = s_grow (self->borrowed, &self->borrowed_cap, count, sizeof *grown, 64);
    if (!grown)
        return PROTO_EIO;
    self->borrowed = grown;
    return PROTO_OK;
}

int
proto_msg_reserve (proto_msg_t *self, size_t count)
{
    if (count > PROTO_JOBS_MAX)
        count = PROTO_JOBS_MAX;
    if (proto_msg_jobs_reserve (self, self->njobs + count) != PROTO_OK)
        return PROTO_EIO;
    return s_borrowed_reserve (self, self->nborrowed + count);
}

/* Turns borrowed payloads into frames of their own (copies). */
static int
s_materialize (proto_msg_t *self)
{
    if (!self->nborrowed)
        return PROTO_OK;
    if (!self->frames && !(self->frames = zmsg_new ()))
        return PROTO_EIO;
    for (size_t i = 0; i < self->nborrowed; i++) {
        const proto_slice_t *slice = &self->borrowed[i];
        if (!slice->tail) {
            if (zmsg_addmem (self->frames, slice->data, slice->size))
                return PROTO_EIO;
            continue;
        }
        zframe_t *whole = zframe_new (NULL, slice->size);
        if (!whole)
            return PROTO_EIO;
        proto_pieces_copy (zframe_data (whole), slice->data, zframe_size (slice->frame),
                           slice->tail);
        if (zmsg_append (self->frames, &whole)) {
            zframe_destroy (&whole);
            return PROTO_EIO;
        }
    }
    self->nborrowed = 0;
    self->borrowed_tails = false;
    return PROTO_OK;
}

int
proto_msg_add_borrowed_grow (proto_msg_t *self, const void *data, size_t size)
{
    if (self->frames && zmsg_size (self->frames))
        return proto_msg_add_bytes (self, data, size);
    if (s_borrowed_reserve (self, self->nborrowed + 1) != PROTO_OK)
        return PROTO_EIO;
    self->borrowed[self->nborrowed++] = (proto_slice_t){ data, size, NULL, NULL };
    return PROTO_OK;
}

int
proto_msg_add_frame_ref (proto_msg_t *self, zframe_t *frame)
{
    if (self->frames && zmsg_size (self->frames))
        return proto_msg_add_bytes (self, zframe_data (frame), zframe_size (frame));
    int rc = proto_msg_add_borrowed (self, zframe_data (frame), zframe_size (frame));
    if (rc == PROTO_OK)
        self->borrowed[self->nborrowed - 1].frame = frame;
    return rc;
}

int
proto_msg_add_frame (proto_msg_t *self, zframe_t **frame)
{
    if (s_materialize (self) != PROTO_OK)
        return PROTO_EIO;
    if (!self->frames) {
        self->frames = zmsg_new ();
        if (!self->frames)
            return PROTO_EIO;
    }
    return zmsg_append (self->frames, frame) == 0 ? PROTO_OK : PROTO_EIO;
}

int
proto_msg_add_bytes (proto_msg_t *self, const void *data, size_t size)
{
    zframe_t *frame = zframe_new (data, size);
    if (!frame)
        return PROTO_EIO;
    int rc = proto_msg_add_frame (self, &frame);
    zframe_destroy (&frame);
    return rc;
}

size_t
proto_msg_frames (const proto_msg_t *self)
{
    if (self->packed)
        return self->njobs - self->packed_next;
    return (self->frames ? zmsg_size (self->frames) : 0) + self->nborrowed;
}

zframe_t *
proto_msg_pop_frame (proto_msg_t *self)
{
    if (self->packed) {
        if (self->packed_next >= self->njobs)
            return NULL;
        size_t i = self->packed_next++;
        return zframe_new (zframe_data (self->packed) + self->packed_off[i],
                           self->packed_off[i + 1] - self->packed_off[i]);
    }
    if (self->nborrowed && s_materialize (self) != PROTO_OK)
        return NULL;
    zframe_t *frame = self->frames ? zmsg_pop (self->frames) : NULL;
    zmsg_t *tail = frame ? proto_msg_take_tail (self) : NULL;
    return tail ? proto_pieces_join (&frame, &tail) : frame;
}

int
proto_msg_payload (proto_msg_t *self, size_t index, const void **data, size_t *size)
{
    if (self->packed) {
        if (index >= self->njobs)
            return -1;
        proto_msg_packed_payload (self, zframe_data (self->packed), index, data, size);
        return 0;
    }
    /* Payloads in pieces are joined for whoever wants their bytes. */
    if (self->borrowed_tails && s_materialize (self) != PROTO_OK)
        return -1;
    if (self->tails && proto_msg_join_pieces (self) != PROTO_OK)
        return -1;
    if (self->nborrowed) {
        if (index >= self->nborrowed)
            return -1;
        *data = self->borrowed[index].data;
        *size = self->borrowed[index].size;
        return 0;
    }
    if (!self->frames || index >= zmsg_size (self->frames))
        return -1;
    /* zmsg keeps a cursor: walking in order costs one step per call. */
    zframe_t *frame = index == 0 ? zmsg_first (self->frames) : zmsg_next (self->frames);
    if (index > 0 && !frame)
        return -1;
    if (!frame)
        return -1;
    *data = zframe_data (frame);
    *size = zframe_size (frame);
    return 0;
}

int
proto_msg_pop_pieces (proto_msg_t *self, zframe_t **first, zmsg_t **tail)
{
    *tail = NULL;
    if (self->packed || self->nborrowed || !self->tails) {
        *first = proto_msg_pop_frame (self);
        return *first ? 0 : -1;
    }
    *first = self->frames ? zmsg_pop (self->frames) : NULL;
    if (!*first)
        return -1;
    *tail = proto_msg_take_tail (self);
    return 0;
}

int
proto_msg_add_pieces (proto_msg_t *self, zframe_t **first, zmsg_t **tail)
{
    if (!*tail || !proto_pieces_canonical (*first, *tail)) {
        if (*tail && !(*first = proto_pieces_join (first, tail)))
            return PROTO_EIO;
        return proto_msg_add_frame (self, first);
    }
    if (self->nborrowed && s_materialize (self) != PROTO_OK)
        return PROTO_EIO;
    /* The tail's slot first: a frame without its tail would be a
       truncated payload. */
    size_t index = self->frames ? zmsg_size (self->frames) : 0; /* where first goes */
    if (self->packed || proto_msg_put_tail (self, index, tail) != PROTO_OK) {
        zmsg_destroy (tail);
        zframe_destroy (first);
        return PROTO_EIO;
    }
    int rc = proto_msg_add_frame (self, first);
    if (rc != PROTO_OK) {
        zmsg_destroy (&self->tails[self->tails_base + index]);
        zframe_destroy (first);
    }
    return rc;
}

int
proto_msg_add_pieces_ref (proto_msg_t *self, zframe_t *first, zmsg_t *tail)
{
    if (!tail || !zmsg_size (tail))
        return proto_msg_add_frame_ref (self, first);
    if ((self->frames && zmsg_size (self->frames))
        || !proto_pieces_canonical (first, tail)) {
        /* Among frames of its own (or oddly cut): a joined copy. */
        zframe_t *whole
            = zframe_new (NULL, zframe_size (first) + zmsg_content_size (tail));
        if (!whole)
            return PROTO_EIO;
        proto_pieces_copy (zframe_data (whole), zframe_data (first), zframe_size (first),
                           tail);
        return proto_msg_add_frame (self, &whole);
    }
    int rc = proto_msg_add_frame_ref (self, first);
    if (rc == PROTO_OK) {
        proto_slice_t *slice = &self->borrowed[self->nborrowed - 1];
        slice->size += zmsg_content_size (tail);
        slice->tail = tail;
        self->borrowed_tails = true;
    }
    return rc;
}

int
proto_msg_payload_pieces (proto_msg_t *self, size_t index, const void **data,
                          size_t *size, zmsg_t **tail)
{
    *tail = NULL;
    if (!self->tails || self->packed || self->nborrowed)
        return proto_msg_payload (self, index, data, size);
    if (!self->frames || index >= zmsg_size (self->frames))
        return -1;
    zframe_t *frame = index == 0 ? zmsg_first (self->frames) : zmsg_next (self->frames);
    if (!frame)
        return -1;
    size_t at = self->tails_base + index;
    *tail = at < self->ntails ? self->tails[at] : NULL;
    *data = zframe_data (frame);
    *size = zframe_size (frame) + (*tail ? zmsg_content_size (*tail) : 0);
    return 0;
}

int
proto_msg_take_packed (proto_msg_t *self, zframe_t **frame, size_t **off)
{
    if (!self->packed || self->packed_next)
        return -1;
    *frame = self->packed;
    *off = self->packed_off;
    self->packed = NULL;
    self->packed_off = NULL;
    return 0;
}

void
proto_hash (const void *data, size_t size, uint8_t hash[PROTO_HASH_SIZE])
{
    crypto_generichash (hash, PROTO_HASH_SIZE, data, size, NULL, 0);
}

void
proto_hash_hex (const uint8_t hash[PROTO_HASH_SIZE], char out[2 * PROTO_HASH_SIZE + 1])
{
    sodium_bin2hex (out, 2 * PROTO_HASH_SIZE + 1, hash, PROTO_HASH_SIZE);
}
