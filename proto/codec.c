/*  proto/codec.c - encoding, decoding and validation of dcpool messages.

    The header frame is a msgpack map with one-letter keys; see msg.h for
    the conversation.  The decoder trusts nothing: it checks the version
    first, then the type, then every key's type and length, then that the
    type's required fields and frame count are there.
*/
#include "msg_internal.h"
#include "shm.h"

#include <endian.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_pack_key (msgpack_packer *pk, const char *key)
{
    msgpack_pack_str (pk, 1);
    msgpack_pack_str_body (pk, key, 1);
}

static void
s_pack_str (msgpack_packer *pk, const char *key, const char *value, size_t len)
{
    s_pack_key (pk, key);
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, value, len);
}

/* Little-endian fields as single loads and stores (endian.h). */
static inline void
s_put_le64 (uint8_t *p, uint64_t v)
{
    v = htole64 (v);
    memcpy (p, &v, sizeof v);
}

static inline void
s_put_le32 (uint8_t *p, uint32_t v)
{
    v = htole32 (v);
    memcpy (p, &v, sizeof v);
}

/*  Room for n more bytes at the end of sbuf, counted in its size: where to
    write them, or NULL when out of memory.  Grows the buffer as msgpack's
    own writes do (doubling), so that entries written one by one into it
    cost a store each, not a call. */
static uint8_t *
s_sbuf_room (msgpack_sbuffer *sbuf, size_t n)
{
    if (sbuf->alloc - sbuf->size < n) {
        size_t alloc = sbuf->alloc ? sbuf->alloc * 2 : MSGPACK_SBUFFER_INIT_SIZE;
        while (alloc < sbuf->size + n)
            alloc *= 2;
        char *data = realloc (sbuf->data, alloc);
        if (!data)
            return NULL;
        sbuf->data = data;
        sbuf->alloc = alloc;
    }
    uint8_t *at = (uint8_t *)sbuf->data + sbuf->size;
    sbuf->size += n;
    return at;
}

/*  Packs key with a bin of the u32 little-endian indexes of the jobs that
    have flag (count of them), ascending. */
static void
s_pack_marks (msgpack_packer *pk, msgpack_sbuffer *sbuf, const proto_msg_t *self,
              const char *key, uint32_t flag, size_t count)
{
    s_pack_key (pk, key);
    msgpack_pack_bin (pk, count * 4);
    for (size_t i = 0; i < self->njobs; i++)
        if (self->jobs[i].flags & flag) {
            uint8_t index[4];
            s_put_le32 (index, (uint32_t)i);
            msgpack_sbuffer_write (sbuf, (const char *)index, sizeof index);
        }
}

static inline uint64_t
s_get_le64 (const uint8_t *p)
{
    uint64_t v;
    memcpy (&v, p, sizeof v);
    return le64toh (v);
}

static inline uint32_t
s_get_le32 (const uint8_t *p)
{
    uint32_t v;
    memcpy (&v, p, sizeof v);
    return le32toh (v);
}

static uint32_t
s_popcount (uint32_t bits)
{
    return (uint32_t)__builtin_popcount (bits);
}

/*  Whether a borrowed payload is a frame that can go by reference. */
static bool
s_has_frame_refs (const proto_msg_t *self)
{
    for (size_t i = 0; i < self->nborrowed; i++)
        if (self->borrowed[i].frame)
            return true;
    return false;
}

/*  Payload i as proto_msg_payload gives it, without the call for the
    common case of a message built from borrowed payloads. */
static inline int
s_payload (proto_msg_t *self, size_t i, const void **data, size_t *size)
{
    if (!self->packed && i < self->nborrowed) {
        *data = self->borrowed[i].data;
        *size = self->borrowed[i].size;
        return 0;
    }
    return proto_msg_payload (self, i, data, size);
}

/*  Payload i's size on the wire, pieces and all, without joining them:
    for i from 0 in order (the frames' cursor walks). */
static size_t
s_wire_payload_size (proto_msg_t *self, size_t i)
{
    const void *data;
    size_t size = 0;
    zmsg_t *tail;
    if (!self->tails || self->nborrowed || self->packed)
        s_payload (self, i, &data, &size); /* borrowed tails stay borrowed */
    else
        proto_msg_payload_pieces (self, i, &data, &size, &tail);
    return size;
}

/*  True when the jobs are a run: two or more, consecutive ids, the same
    attempt, status and useq (the short form of "j", see proto_job_t). */
static bool
s_jobs_run (const proto_msg_t *self)
{
    if (self->njobs < 2 || self->jobs[0].id > UINT64_MAX - (self->njobs - 1))
        return false;
    const proto_job_t *first = &self->jobs[0];
    for (size_t i = 1; i < self->njobs; i++) {
        const proto_job_t *job = &self->jobs[i];
        if (job->id != first->id + i || job->attempt != first->attempt
            || job->status != first->status || job->useq != first->useq)
            return false;
    }
    return true;
}

/*  The number of runs of consecutive ids the jobs fall into when they all
    have the same attempt, status and useq (the segments form of "j"), or
    0 when they do not. */
static size_t
s_jobs_segments (const proto_msg_t *self)
{
    if (self->njobs < 2)
        return 0;
    const proto_job_t *first = &self->jobs[0];
    size_t segments = 1;
    for (size_t i = 1; i < self->njobs; i++) {
        const proto_job_t *job = &self->jobs[i];
        if (job->attempt != first->attempt || job->status != first->status
            || job->useq != first->useq)
            return 0;
        const proto_job_t *before = job - 1;
        if (before->id == UINT64_MAX || job->id != before->id + 1)
            segments++;
    }
    return segments;
}

/*  proto_msg_encode; with stream, unpacked borrowed payloads that include
    frame references stay borrowed (the header alone goes into *out) for
    s_send to stream after it. */
int
proto_msg_encode_to (proto_msg_t *self, zmsg_t **out, bool stream)
{
    assert (out);
    assert (self->type > 0 && self->type < PROTO_TYPE_COUNT);
    int rc = PROTO_EIO;
    zmsg_t *msg = NULL;
    bool split = stream; /* sent by s_send, which splits */
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);

    /* Payloads in pieces go as they are when s_send sends them (it cuts
       nothing smaller), else joined: "w" is written for s_send alone. */
    if (!split && proto_msg_join_pieces (self) != PROTO_OK)
        goto cleanup;
    /* Pack small payloads into one frame (see PROTO_PACK_ITEM_MAX). */
    size_t frames = proto_msg_frames (self);
    bool pack = proto_msg_types[self->type].frames == FR_JOBS && frames >= 2
                && frames == self->njobs && self->packed_next == 0 && !self->tails
                && !self->borrowed_tails;
    size_t packed_size = 0, first_size = 0;
    bool uniform = true; /* every packed payload the same size */
    for (size_t i = 0; pack && i < frames; i++) {
        const void *data;
        size_t size = 0;
        if (s_payload (self, i, &data, &size) || size > PROTO_PACK_ITEM_MAX)
            pack = false;
        if (i == 0)
            first_size = size;
        uniform = uniform && size == first_size;
        packed_size += size;
    }
    stream = stream && !pack && !self->packed && s_has_frame_refs (self);
    if (!pack && !stream && (self->nborrowed || self->packed)) {
        /* Big or odd payloads go as frames of their own. */
        zframe_t *frame;
        zmsg_t *owned = zmsg_new ();
        if (!owned)
            goto cleanup;
        while ((frame = proto_msg_pop_frame (self)))
            zmsg_append (owned, &frame);
        zmsg_destroy (&self->frames);
        zframe_destroy (&self->packed);
        self->nborrowed = 0;
        self->frames = owned;
    }
    size_t shared = 0, direct = 0;
    for (size_t i = 0; (self->present & PROTO_F_JOBS) && i < self->njobs; i++) {
        shared += (self->jobs[i].flags & PROTO_JOB_SHARED) != 0;
        direct += (self->jobs[i].flags & PROTO_JOB_DIRECT) != 0;
    }
    /* Payload frames over PROTO_PIECE_MAX, as they will go on the wire:
       the packed frame, or one frame per payload. */
    size_t wire = pack ? 1 : frames, big = 0;
    for (size_t i = 0; split && i < wire; i++)
        big += (pack ? packed_size : s_wire_payload_size (self, i)) > PROTO_PIECE_MAX;
    msgpack_pack_map (&pk, 2 + s_popcount (self->present) + (pack ? 1 : 0)
                               + (shared ? 1 : 0) + (direct ? 1 : 0) + (big ? 1 : 0));
    s_pack_key (&pk, "v");
    msgpack_pack_uint32 (&pk, PROTO_VERSION);
    s_pack_key (&pk, "t");
    msgpack_pack_uint32 (&pk, (uint32_t)self->type);
    if (self->present & PROTO_F_ROLE) {
        s_pack_key (&pk, "r");
        msgpack_pack_uint32 (&pk, self->role);
    }
    if (self->present & PROTO_F_ID)
        s_pack_str (&pk, "i", self->id, strlen (self->id));
    if (self->present & PROTO_F_NODE)
        s_pack_str (&pk, "n", self->node, strlen (self->node));
    if (self->present & PROTO_F_HOST)
        s_pack_str (&pk, "k", self->host, strlen (self->host));
    if (self->present & PROTO_F_POOL) {
        s_pack_key (&pk, "p");
        msgpack_pack_uint64 (&pk, self->pool);
    }
    if (self->present & PROTO_F_SEQ) {
        s_pack_key (&pk, "s");
        msgpack_pack_uint64 (&pk, self->seq);
    }
    if (self->present & PROTO_F_CODE) {
        s_pack_key (&pk, "c");
        msgpack_pack_int64 (&pk, self->code);
    }
    if (self->present & PROTO_F_TEXT)
        s_pack_str (&pk, "x", self->text ? self->text : "",
                    self->text ? self->text_size : 0);
    if (self->present & PROTO_F_HASH) {
        s_pack_key (&pk, "h");
        msgpack_pack_array (&pk, self->nhashes);
        for (size_t i = 0; i < self->nhashes; i++) {
            msgpack_pack_bin (&pk, PROTO_HASH_SIZE);
            msgpack_pack_bin_body (&pk, self->hash[i], PROTO_HASH_SIZE);
        }
    }
    if (self->present & PROTO_F_NUMS) {
        s_pack_key (&pk, "u");
        msgpack_pack_array (&pk, self->nnums);
        for (size_t i = 0; i < self->nnums; i++)
            msgpack_pack_uint64 (&pk, self->nums[i]);
    }
    size_t segments = 0;
    if ((self->present & PROTO_F_JOBS) && s_jobs_run (self)) {
        const proto_job_t *first = &self->jobs[0];
        s_pack_key (&pk, "j");
        msgpack_pack_array (&pk, 5);
        msgpack_pack_uint64 (&pk, first->id);
        msgpack_pack_uint64 (&pk, self->njobs);
        msgpack_pack_uint32 (&pk, first->attempt);
        msgpack_pack_int32 (&pk, first->status);
        msgpack_pack_uint64 (&pk, first->useq);
    } else if ((self->present & PROTO_F_JOBS) && (segments = s_jobs_segments (self)) >= 2
               && segments * PROTO_SEGMENT_WIRE_SIZE
                      < self->njobs * PROTO_JOB_WIRE_SIZE / 2) {
        /* Runs of consecutive ids (a worker's share of a map, which the
           head hands out in turns): [first id, count] each. */
        const proto_job_t *first = &self->jobs[0];
        s_pack_key (&pk, "j");
        msgpack_pack_array (&pk, 4);
        msgpack_pack_bin (&pk, segments * PROTO_SEGMENT_WIRE_SIZE);
        uint8_t entry[PROTO_SEGMENT_WIRE_SIZE];
        size_t start = 0;
        for (size_t i = 1; i <= self->njobs; i++) {
            if (i < self->njobs && self->jobs[i - 1].id != UINT64_MAX
                && self->jobs[i].id == self->jobs[i - 1].id + 1)
                continue;
            s_put_le64 (entry, self->jobs[start].id);
            s_put_le32 (entry + 8, (uint32_t)(i - start));
            msgpack_sbuffer_write (&sbuf, (const char *)entry, sizeof entry);
            start = i;
        }
        msgpack_pack_uint32 (&pk, first->attempt);
        msgpack_pack_int32 (&pk, first->status);
        msgpack_pack_uint64 (&pk, first->useq);
    } else if (self->present & PROTO_F_JOBS) {
        size_t size = self->njobs * PROTO_JOB_WIRE_SIZE;
        s_pack_key (&pk, "j");
        msgpack_pack_bin (&pk, size);
        /* Grow the buffer once and write the entries in place. */
        uint8_t *entry = s_sbuf_room (&sbuf, size);
        if (!entry)
            goto cleanup;
        for (size_t i = 0; i < self->njobs; i++, entry += PROTO_JOB_WIRE_SIZE) {
            const proto_job_t *job = &self->jobs[i];
            s_put_le64 (entry, job->id);
            s_put_le32 (entry + 8, job->attempt);
            s_put_le32 (entry + 12, (uint32_t)job->status);
            s_put_le64 (entry + 16, job->useq);
        }
    }
    if (shared)
        s_pack_marks (&pk, &sbuf, self, "m", PROTO_JOB_SHARED, shared);
    if (direct)
        s_pack_marks (&pk, &sbuf, self, "d", PROTO_JOB_DIRECT, direct);
    if (big) {
        s_pack_key (&pk, "w");
        msgpack_pack_bin (&pk, big * 8);
        for (size_t i = 0; i < wire; i++) {
            size_t size = pack ? packed_size : s_wire_payload_size (self, i);
            if (size <= PROTO_PIECE_MAX)
                continue;
            uint8_t pair[8];
            s_put_le32 (pair, (uint32_t)i);
            s_put_le32 (pair + 4,
                        (uint32_t)((size + PROTO_PIECE_MAX - 1) / PROTO_PIECE_MAX));
            msgpack_sbuffer_write (&sbuf, (const char *)pair, sizeof pair);
        }
    }
    zframe_t *packed = NULL;
    if (pack) {
        s_pack_key (&pk, "z");
        msgpack_pack_bin (&pk, uniform ? 4 : frames * 4);
        if (uniform) {
            uint8_t size[4];
            s_put_le32 (size, (uint32_t)first_size);
            msgpack_sbuffer_write (&sbuf, (const char *)size, sizeof size);
        }
        uint8_t *sizes = uniform ? NULL : s_sbuf_room (&sbuf, frames * 4);
        packed = zframe_new (NULL, packed_size);
        if (!packed || (!uniform && !sizes)) {
            zframe_destroy (&packed);
            goto cleanup;
        }
        uint8_t *at = zframe_data (packed);
        /* Payloads that lie end to end (a worker's packed results passing
           the head, a client's inputs from one array) go in one copy. */
        const uint8_t *run = NULL;
        size_t run_len = 0;
        for (size_t i = 0; i < frames; i++) {
            const void *data = NULL;
            size_t len = 0;
            s_payload (self, i, &data, &len);
            if (sizes)
                s_put_le32 (sizes + 4 * i, (uint32_t)len);
            if (!len)
                continue;
            if (run && (const uint8_t *)data == run + run_len) {
                run_len += len;
                continue;
            }
            if (run_len)
                memcpy (at, run, run_len);
            at += run_len;
            run = data;
            run_len = len;
        }
        if (run_len)
            memcpy (at, run, run_len);
        zmsg_destroy (&self->frames);
        zframe_destroy (&self->packed);
        self->nborrowed = 0;
    }
    msg = zmsg_new ();
    if (!msg || zmsg_addmem (msg, sbuf.data, sbuf.size)) {
        zframe_destroy (&packed);
        goto cleanup;
    }
    if (packed && zmsg_append (msg, &packed)) {
        zframe_destroy (&packed);
        goto cleanup;
    }
    if (self->frames) {
        zframe_t *frame;
        while ((frame = zmsg_pop (self->frames))) {
            zmsg_t *tail = proto_msg_take_tail (self); /* its pieces after it */
            if (zmsg_append (msg, &frame)) {
                zframe_destroy (&frame);
                zmsg_destroy (&tail);
                goto cleanup;
            }
            while (tail && (frame = zmsg_pop (tail)))
                if (zmsg_append (msg, &frame)) {
                    zframe_destroy (&frame);
                    zmsg_destroy (&tail);
                    goto cleanup;
                }
            zmsg_destroy (&tail);
        }
        zmsg_destroy (&self->frames);
        proto_msg_free_tails (self);
    }
    *out = msg;
    msg = NULL;
    rc = PROTO_OK;
cleanup:
    zmsg_destroy (&msg);
    msgpack_sbuffer_destroy (&sbuf);
    return rc;
}

/* Formats a decode failure into the caller's buffer. */
int
proto_msg_fail (char *reason, size_t reason_size, int rc, const char *format, ...)
{
    if (reason && reason_size) {
        va_list args;
        va_start (args, format);
        vsnprintf (reason, reason_size, format, args);
        va_end (args);
    }
    return rc;
}

static bool
s_uint (const msgpack_object *o, uint64_t *value)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    *value = o->via.u64;
    return true;
}

static bool
s_int (const msgpack_object *o, int64_t *value)
{
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *value = o->via.i64;
        return true;
    }
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
        *value = (int64_t)o->via.u64;
        return true;
    }
    return false;
}

static bool
s_idstr (const msgpack_object *o, char *field)
{
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size > PROTO_ID_MAX
        || memchr (o->via.str.ptr, 0, o->via.str.size))
        return false;
    memcpy (field, o->via.str.ptr, o->via.str.size);
    field[o->via.str.size] = 0;
    return true;
}

/*  Reads the short form of "j": [first id, count, attempt, status, useq]. */
static int
s_jobs_run_decode (proto_msg_t *self, const msgpack_object *val)
{
    uint64_t first, count, attempt, useq;
    int64_t status;
    if (val->via.array.size != 5 || !s_uint (&val->via.array.ptr[0], &first)
        || !s_uint (&val->via.array.ptr[1], &count)
        || !s_uint (&val->via.array.ptr[2], &attempt)
        || !s_int (&val->via.array.ptr[3], &status)
        || !s_uint (&val->via.array.ptr[4], &useq) || count < 2 || count > PROTO_JOBS_MAX
        || first > UINT64_MAX - (count - 1) || attempt > UINT32_MAX || status < INT32_MIN
        || status > INT32_MAX)
        return PROTO_EMALFORMED;
    if (proto_msg_jobs_reserve (self, count) != PROTO_OK)
        return PROTO_EIO;
    for (size_t i = 0; i < count; i++)
        self->jobs[i] = (proto_job_t){ .id = first + i,
                                       .attempt = (uint32_t)attempt,
                                       .status = (int32_t)status,
                                       .useq = useq };
    self->njobs = count;
    return PROTO_OK;
}

/*  Reads the segments form of "j": [runs, attempt, status, useq], runs a
    bin of PROTO_SEGMENT_WIRE_SIZE-byte entries {u64 first id, u32 count}. */
static int
s_jobs_segments_decode (proto_msg_t *self, const msgpack_object *val)
{
    const msgpack_object *runs = &val->via.array.ptr[0];
    uint64_t attempt, useq;
    int64_t status;
    if (val->via.array.size != 4 || runs->type != MSGPACK_OBJECT_BIN
        || runs->via.bin.size == 0 || runs->via.bin.size % PROTO_SEGMENT_WIRE_SIZE != 0
        || !s_uint (&val->via.array.ptr[1], &attempt)
        || !s_int (&val->via.array.ptr[2], &status)
        || !s_uint (&val->via.array.ptr[3], &useq) || attempt > UINT32_MAX
        || status < INT32_MIN || status > INT32_MAX)
        return PROTO_EMALFORMED;
    size_t nruns = runs->via.bin.size / PROTO_SEGMENT_WIRE_SIZE;
    const uint8_t *p = (const uint8_t *)runs->via.bin.ptr;
    size_t total = 0;
    for (size_t r = 0; r < nruns; r++) {
        uint64_t first = s_get_le64 (p + r * PROTO_SEGMENT_WIRE_SIZE);
        uint32_t count = s_get_le32 (p + r * PROTO_SEGMENT_WIRE_SIZE + 8);
        if (count == 0 || count > PROTO_JOBS_MAX - total
            || first > UINT64_MAX - (count - 1))
            return PROTO_EMALFORMED;
        total += count;
    }
    if (proto_msg_jobs_reserve (self, total) != PROTO_OK)
        return PROTO_EIO;
    size_t n = 0;
    for (size_t r = 0; r < nruns; r++) {
        uint64_t first = s_get_le64 (p + r * PROTO_SEGMENT_WIRE_SIZE);
        uint32_t count = s_get_le32 (p + r * PROTO_SEGMENT_WIRE_SIZE + 8);
        for (uint32_t i = 0; i < count; i++)
            self->jobs[n++] = (proto_job_t){ .id = first + i,
                                             .attempt = (uint32_t)attempt,
                                             .status = (int32_t)status,
                                             .useq = useq };
    }
    self->njobs = total;
    return PROTO_OK;
}

/* Decodes one key/value pair of the header into self. */
static int
s_decode_field (proto_msg_t *self, const msgpack_object *key, const msgpack_object *val,
                char *reason, size_t reason_size)
{
    if (key->type != MSGPACK_OBJECT_STR || key->via.str.size != 1)
        return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                               "header key is not a one-letter string");
    char k = key->via.str.ptr[0];
    if (k == 'z' || k == 'm' || k == 'd' || k == 'w')
        return PROTO_OK; /* read once the jobs and frames are */
    static const char keys[] = "rinpscxhujk";
    const char *at = k ? strchr (keys, k) : NULL;
    uint32_t bit = at ? 1u << (at - keys) : 0;
    if (bit & self->present)
        return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                               "header key '%c' given twice", k);
    uint64_t u;
    switch (k) {
    case 'v':
    case 't':
        return PROTO_OK; /* read before */
    case 'r':
        if (!s_uint (val, &u) || u < PROTO_ROLE_CLIENT || u > PROTO_ROLE_STATUS)
            goto bad;
        self->role = (uint32_t)u;
        break;
    case 'i':
        if (!s_idstr (val, self->id))
            goto bad;
        break;
    case 'n':
        if (!s_idstr (val, self->node))
            goto bad;
        break;
    case 'k':
        if (!s_idstr (val, self->host))
            goto bad;
        break;
    case 'p':
        if (!s_uint (val, &self->pool))
            goto bad;
        break;
    case 's':
        if (!s_uint (val, &self->seq))
            goto bad;
        break;
    case 'c':
        if (!s_int (val, &self->code))
            goto bad;
        break;
    case 'x':
        if (val->type != MSGPACK_OBJECT_STR || val->via.str.size > PROTO_TEXT_MAX)
            goto bad;
        self->text = malloc (val->via.str.size + 1);
        if (!self->text)
            return proto_msg_fail (reason, reason_size, PROTO_EIO, "out of memory");
        memcpy (self->text, val->via.str.ptr, val->via.str.size);
        self->text[val->via.str.size] = 0;
        self->text_size = val->via.str.size;
        break;
    case 'h':
        if (val->type != MSGPACK_OBJECT_ARRAY || val->via.array.size == 0
            || val->via.array.size > PROTO_HASHES_MAX)
            goto bad;
        for (uint32_t i = 0; i < val->via.array.size; i++) {
            const msgpack_object *h = &val->via.array.ptr[i];
            if (h->type != MSGPACK_OBJECT_BIN || h->via.bin.size != PROTO_HASH_SIZE)
                goto bad;
            memcpy (self->hash[i], h->via.bin.ptr, PROTO_HASH_SIZE);
        }
        self->nhashes = val->via.array.size;
        break;
    case 'u':
        if (val->type != MSGPACK_OBJECT_ARRAY || val->via.array.size > PROTO_NUMS_MAX)
            goto bad;
        for (uint32_t i = 0; i < val->via.array.size; i++)
            if (!s_uint (&val->via.array.ptr[i], &self->nums[i]))
                goto bad;
        self->nnums = val->via.array.size;
        break;
    case 'j': {
        if (val->type == MSGPACK_OBJECT_ARRAY) {
            int rc = val->via.array.size == 4 ? s_jobs_segments_decode (self, val)
                                              : s_jobs_run_decode (self, val);
            if (rc == PROTO_EIO)
                return proto_msg_fail (reason, reason_size, PROTO_EIO, "out of memory");
            if (rc != PROTO_OK)
                goto bad;
            break;
        }
        if (val->type != MSGPACK_OBJECT_BIN
            || val->via.bin.size % PROTO_JOB_WIRE_SIZE != 0)
            goto bad;
        size_t count = val->via.bin.size / PROTO_JOB_WIRE_SIZE;
        if (count == 0 || count > PROTO_JOBS_MAX)
            goto bad;
        if (proto_msg_jobs_reserve (self, count) != PROTO_OK)
            return proto_msg_fail (reason, reason_size, PROTO_EIO, "out of memory");
        const uint8_t *p = (const uint8_t *)val->via.bin.ptr;
        for (size_t i = 0; i < count; i++, p += PROTO_JOB_WIRE_SIZE) {
            proto_job_t *job = &self->jobs[i];
            job->id = s_get_le64 (p);
            job->attempt = s_get_le32 (p + 8);
            job->status = (int32_t)s_get_le32 (p + 12);
            job->useq = s_get_le64 (p + 16);
            job->flags = 0;
        }
        self->njobs = count;
        break;
    }
    default:
        return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                               "unknown header key '%c'", k);
    }
    self->present |= bit;
    return PROTO_OK;
bad:
    return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                           "header field '%c' has a wrong type or length", k);
}

/*  Walks one msgpack object without allocating and returns the byte after
    it, or NULL when it is truncated, too deep, or declares more elements
    than bytes remain.  msgpack-c allocates a container's elements from the
    declared count before reading them, so this must run first: otherwise
    a 6-byte header can ask for gigabytes. */
static const uint8_t *
s_skim (const uint8_t *p, const uint8_t *end, int depth)
{
    if (p >= end || depth > 4)
        return NULL;
    uint8_t b = *p++;
    size_t left = (size_t)(end - p);
    uint64_t len = 0, items = 0;
    size_t width = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return p;
    if ((b & 0xf0) == 0x80) {
        items = 2 * (uint64_t)(b & 0x0f);
        goto container;
    }
    if ((b & 0xf0) == 0x90) {
        items = b & 0x0f;
        goto container;
    }
    if ((b & 0xe0) == 0xa0) {
        len = b & 0x1f;
        goto bytes;
    }
    switch (b) {
    case 0xcc:
    case 0xd0:
        len = 1;
        goto bytes;
    case 0xcd:
    case 0xd1:
        len = 2;
        goto bytes;
    case 0xca:
    case 0xce:
    case 0xd2:
        len = 4;
        goto bytes;
    case 0xcb:
    case 0xcf:
    case 0xd3:
        len = 8;
        goto bytes;
    case 0xd4:
        len = 2;
        goto bytes;
    case 0xd5:
        len = 3;
        goto bytes;
    case 0xd6:
        len = 5;
        goto bytes;
    case 0xd7:
        len = 9;
        goto bytes;
    case 0xd8:
        len = 17;
        goto bytes;
    case 0xc4:
    case 0xd9:
        width = 1;
        break;
    case 0xc5:
    case 0xda:
        width = 2;
        break;
    case 0xc6:
    case 0xdb:
        width = 4;
        break;
    case 0xc7:
        width = 1;
        len = 1;
        break; /* ext: + type byte */
    case 0xc8:
        width = 2;
        len = 1;
        break;
    case 0xc9:
        width = 4;
        len = 1;
        break;
    case 0xdc:
    case 0xde:
        width = 2;
        break;
    case 0xdd:
    case 0xdf:
        width = 4;
        break;
    default:
        return NULL; /* 0xc1: never used */
    }
    if (left < width)
        return NULL;
    uint64_t n = 0;
    for (size_t i = 0; i < width; i++)
        n = (n << 8) | p[i];
    p += width;
    left -= width;
    if (b == 0xdc || b == 0xdd) {
        items = n;
        goto container;
    }
    if (b == 0xde || b == 0xdf) {
        items = 2 * n;
        goto container;
    }
    len += n;
bytes:
    return len <= left ? p + len : NULL;
container:
    if (items > left)
        return NULL;
    for (uint64_t i = 0; i < items; i++)
        if (!(p = s_skim (p, end, depth + 1)))
            return NULL;
    return p;
}

/*  Takes the one packed payload frame of msg into self, with the offsets
    of its njobs payloads; checks that the sizes fit the frame exactly. */
static int
s_unpack (proto_msg_t *self, zmsg_t *msg, const msgpack_object *sizes,
          const proto_type_spec_t *spec, char *reason, size_t reason_size)
{
    size_t njobs = self->njobs;
    bool uniform = sizes->type == MSGPACK_OBJECT_BIN && sizes->via.bin.size == 4;
    if (spec->frames != FR_JOBS || sizes->type != MSGPACK_OBJECT_BIN
        || (sizes->via.bin.size != njobs * 4 && !uniform) || njobs < 2
        || zmsg_size (msg) != 1)
        return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                               "%s: packed payload sizes do not match its jobs",
                               spec->name);
    size_t *off = malloc ((njobs + 1) * sizeof *off);
    if (!off)
        return proto_msg_fail (reason, reason_size, PROTO_EIO, "out of memory");
    zframe_t *packed = zmsg_pop (msg);
    const uint8_t *p = (const uint8_t *)sizes->via.bin.ptr;
    size_t total = zframe_size (packed);
    off[0] = 0;
    for (size_t i = 0; i < njobs; i++) {
        size_t size = s_get_le32 (p + (uniform ? 0 : 4 * i));
        if (size > total - off[i]) {
            free (off);
            zframe_destroy (&packed);
            return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                                   "%s: packed payload %zu overruns its frame",
                                   spec->name, i);
        }
        off[i + 1] = off[i] + size;
    }
    if (off[njobs] != total) {
        size_t left = total - off[njobs];
        free (off);
        zframe_destroy (&packed);
        return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                               "%s: %zu bytes of packed payload left over", spec->name,
                               left);
    }
    self->packed = packed;
    self->packed_off = off;
    self->packed_next = 0;
    return PROTO_OK;
}

/*  Reads "w" and joins the pieces of each big payload frame (see
    PROTO_PIECE_MAX) back into one frame, in place in msg. */
static int
s_join (proto_msg_t *self, zmsg_t *msg, const msgpack_object *pieces, bool keep,
        const proto_type_spec_t *spec, char *reason, size_t reason_size)
{
    if (pieces->type != MSGPACK_OBJECT_BIN || pieces->via.bin.size == 0
        || pieces->via.bin.size % 8)
        return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                               "%s: header field 'w' has a wrong type or length",
                               spec->name);
    const uint8_t *p = (const uint8_t *)pieces->via.bin.ptr;
    size_t npairs = pieces->via.bin.size / 8;
    size_t wire = zmsg_size (msg);
    zmsg_t *joined = zmsg_new ();
    if (!joined)
        return proto_msg_fail (reason, reason_size, PROTO_EIO, "out of memory");
    size_t index = 0; /* of the frame being rebuilt */
    size_t pair = 0;
    int64_t last = -1;
    zframe_t *frame;
    while ((frame = zmsg_pop (msg))) {
        uint32_t at = pair < npairs ? s_get_le32 (p + 8 * pair) : UINT32_MAX;
        uint32_t count = pair < npairs ? s_get_le32 (p + 8 * pair + 4) : 0;
        if (at != index) {
            zmsg_append (joined, &frame);
            index++;
            continue;
        }
        if ((int64_t)at <= last || count < 2 || count > wire) {
            zframe_destroy (&frame);
            zmsg_destroy (&joined);
            return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                                   "%s: header field 'w' names pieces that are not there",
                                   spec->name);
        }
        /* The pieces are the next count frames: frame and its tail. */
        zmsg_t *tail = zmsg_new ();
        if (!tail) {
            zframe_destroy (&frame);
            zmsg_destroy (&joined);
            return proto_msg_fail (reason, reason_size, PROTO_EIO, "out of memory");
        }
        for (uint32_t i = 1; i < count; i++) {
            zframe_t *piece = zmsg_pop (msg);
            if (!piece) {
                zframe_destroy (&frame);
                zmsg_destroy (&tail);
                zmsg_destroy (&joined);
                return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                                       "%s: a payload lacks %u of its %u pieces",
                                       spec->name, count - i, count);
            }
            zmsg_append (tail, &piece);
        }
        /* With keep_pieces, pieces cut as proto_msg_send cuts stay as they
           came (frame among the frames, the rest its tail); others are
           joined into one frame. */
        if (keep && proto_pieces_canonical (frame, tail)
            && proto_msg_put_tail (self, zmsg_size (joined), &tail) == PROTO_OK) {
            zmsg_append (joined, &frame);
            last = at;
            index++;
            pair++;
            continue;
        }
        zframe_t *whole = proto_pieces_join (&frame, &tail);
        if (!whole) {
            zmsg_destroy (&joined);
            return proto_msg_fail (reason, reason_size, PROTO_EIO, "out of memory");
        }
        zmsg_append (joined, &whole);
        last = at;
        index++;
        pair++;
    }
    if (pair < npairs) {
        zmsg_destroy (&joined);
        return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                               "%s: header field 'w' names frames past the end",
                               spec->name);
    }
    while ((frame = zmsg_pop (joined)))
        zmsg_append (msg, &frame);
    zmsg_destroy (&joined);
    return PROTO_OK;
}

/*  Reads "m" or "d" (key), the ascending indexes of jobs whose payload is
    a reference (proto/shm.h): flag PROTO_JOB_SHARED or PROTO_JOB_DIRECT.
    A job cannot be both. */
static int
s_marks (proto_msg_t *self, const msgpack_object *marks, char key, uint32_t flag,
         const proto_type_spec_t *spec, char *reason, size_t reason_size)
{
    if (spec->frames != FR_JOBS || marks->type != MSGPACK_OBJECT_BIN
        || marks->via.bin.size == 0 || marks->via.bin.size % 4
        || marks->via.bin.size / 4 > self->njobs)
        return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                               "%s: header field '%c' has a wrong type or length",
                               spec->name, key);
    const uint8_t *p = (const uint8_t *)marks->via.bin.ptr;
    size_t count = marks->via.bin.size / 4;
    for (size_t i = 0; i < count; i++) {
        uint32_t index = s_get_le32 (p + 4 * i);
        if (index >= self->njobs || (i && index <= s_get_le32 (p + 4 * (i - 1)))
            || (self->jobs[index].flags & (PROTO_JOB_SHARED | PROTO_JOB_DIRECT)))
            return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                                   "%s: '%c' job indexes are not ascending jobs, or "
                                   "name a job marked already",
                                   spec->name, key);
        self->jobs[index].flags |= flag;
    }
    return PROTO_OK;
}

int
proto_msg_decode (proto_msg_t *self, zmsg_t **in, char *reason, size_t reason_size)
{
    assert (in);
    bool keep = self->keep_pieces;
    proto_msg_reset (self);
    self->keep_pieces = keep;
    self->type = 0;
    int rc = PROTO_EMALFORMED;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    zmsg_t *msg = *in;
    *in = NULL;
    zframe_t *header = msg ? zmsg_pop (msg) : NULL;
    if (!header) {
        rc = proto_msg_fail (reason, reason_size, PROTO_EMALFORMED, "empty message");
        goto cleanup;
    }
    const uint8_t *hdr = zframe_data (header);
    if (s_skim (hdr, hdr + zframe_size (header), 0) != hdr + zframe_size (header)) {
        rc = proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                             "header is not one well-formed msgpack object");
        goto cleanup;
    }
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next (
        &unpacked, (const char *)zframe_data (header), zframe_size (header), &off);
    if (ur != MSGPACK_UNPACK_SUCCESS || off != zframe_size (header)) {
        rc = proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                             "header is not one msgpack object");
        goto cleanup;
    }
    const msgpack_object *root = &unpacked.data;
    if (root->type != MSGPACK_OBJECT_MAP) {
        rc = proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                             "header is not a map");
        goto cleanup;
    }
    /* Version first, then type: a peer of another version may use a
       header layout we do not know, so nothing else is read before. */
    uint64_t version = 0, type = 0;
    bool has_version = false, has_type = false;
    const msgpack_object_map *map = &root->via.map;
    for (uint32_t i = 0; i < map->size; i++) {
        const msgpack_object *key = &map->ptr[i].key;
        if (key->type != MSGPACK_OBJECT_STR || key->via.str.size != 1)
            continue;
        if (key->via.str.ptr[0] == 'v')
            has_version = s_uint (&map->ptr[i].val, &version);
        else if (key->via.str.ptr[0] == 't')
            has_type = s_uint (&map->ptr[i].val, &type);
    }
    if (!has_version) {
        rc = proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                             "header has no protocol version");
        goto cleanup;
    }
    if (version != PROTO_VERSION) {
        self->version = version > UINT32_MAX ? UINT32_MAX : (uint32_t)version;
        rc = proto_msg_fail (reason, reason_size, PROTO_EVERSION,
                             "protocol version %llu, this side speaks %d",
                             (unsigned long long)version, PROTO_VERSION);
        goto cleanup;
    }
    if (!has_type || type == 0 || type >= PROTO_TYPE_COUNT) {
        rc = proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                             "unknown message type %llu", (unsigned long long)type);
        goto cleanup;
    }
    self->type = (proto_type_t)type;
    for (uint32_t i = 0; i < map->size; i++) {
        rc = s_decode_field (self, &map->ptr[i].key, &map->ptr[i].val, reason,
                             reason_size);
        if (rc != PROTO_OK)
            goto cleanup;
    }
    const proto_type_spec_t *spec = &proto_msg_types[self->type];
    if ((self->present & spec->required) != spec->required) {
        rc = proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                             "%s lacks a required field", spec->name);
        goto cleanup;
    }
    /* Packed payloads: cut the one frame back into one per job. */
    const msgpack_object *sizes = NULL, *marks = NULL, *directs = NULL, *pieces = NULL;
    for (uint32_t i = 0; i < map->size; i++) {
        const msgpack_object *key = &map->ptr[i].key;
        if (key->type != MSGPACK_OBJECT_STR || key->via.str.size != 1)
            continue;
        char k = key->via.str.ptr[0];
        const msgpack_object **slot = k == 'z'   ? &sizes
                                      : k == 'm' ? &marks
                                      : k == 'd' ? &directs
                                      : k == 'w' ? &pieces
                                                 : NULL;
        if (!slot)
            continue;
        if (*slot) {
            rc = proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                                 "header key '%c' given twice", k);
            goto cleanup;
        }
        *slot = &map->ptr[i].val;
    }
    if (pieces) {
        /* A packed frame is cut apart, so joined. */
        rc = s_join (self, msg, pieces, keep && !sizes, spec, reason, reason_size);
        if (rc != PROTO_OK)
            goto cleanup;
    }
    if (marks) {
        rc = s_marks (self, marks, 'm', PROTO_JOB_SHARED, spec, reason, reason_size);
        if (rc != PROTO_OK)
            goto cleanup;
    }
    if (directs) {
        rc = s_marks (self, directs, 'd', PROTO_JOB_DIRECT, spec, reason, reason_size);
        if (rc != PROTO_OK)
            goto cleanup;
    }
    if (sizes) {
        rc = s_unpack (self, msg, sizes, spec, reason, reason_size);
        if (rc != PROTO_OK)
            goto cleanup;
    }
    size_t frames = zmsg_size (msg) + (self->packed ? self->njobs : 0);
    size_t want = 0;
    switch (spec->frames) {
    case FR_NONE:
        want = 0;
        break;
    case FR_ONE:
        want = 1;
        break;
    case FR_TWO:
        want = 2;
        break;
    case FR_JOBS:
        want = self->njobs;
        break;
    default:
        want = frames;
        break;
    }
    if (frames != want) {
        rc = proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                             "%s has %zu payload frames, expected %zu", spec->name,
                             frames, want);
        goto cleanup;
    }
    if (frames) {
        self->frames = msg;
        msg = NULL;
    }
    /* A shared payload is a reference, of its exact size.  (Payloads are
       walked in order: frames are found by a cursor.) */
    for (size_t i = 0; (marks || directs) && i < self->njobs; i++) {
        size_t size = s_wire_payload_size (self, i); /* pieces stay apart */
        if ((self->jobs[i].flags & (PROTO_JOB_SHARED | PROTO_JOB_DIRECT))
            && size != PROTO_SHM_REF_SIZE) {
            rc = proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                                 "%s: shared payload %zu is %zu bytes, not a reference",
                                 spec->name, i, size);
            goto cleanup;
        }
    }
    rc = PROTO_OK;
cleanup:
    if (rc != PROTO_OK && rc != PROTO_EVERSION) {
        proto_type_t keep = self->type;
        proto_msg_reset (self);
        self->type = keep;
    }
    zframe_destroy (&header);
    zmsg_destroy (&msg);
    msgpack_unpacked_destroy (&unpacked);
    return rc;
}

int
proto_msg_encode (proto_msg_t *self, zmsg_t **out)
{
    return proto_msg_encode_to (self, out, false);
}
