/*  head/holds.h - who holds which block, kept in the head's Redis.

    A holder is a name: "client:<client id>" (a client's pool_put, and
    the blocks its pools' workers put) or "pool:<pool id>" (an open pool's
    library and init data).  A holder holds a block or not: putting it
    twice is one hold (libpool counts its own references, blocks.c).  A
    block whose last holder lets go gets a deadline (now + the head's
    --block-grace) and is deleted when the sweep finds it past it
    still unheld; a hold before then keeps it.  A holder that is gone (a
    client lost) lets go after the grace too, so a client that comes back
    in time (it was only cut off) keeps its holds.  Everything is in
    Redis, so a head restart forgets nothing:

      dcpool:holders:<hex>   HASH holder -> 1
      dcpool:holds:<holder>  SET of the blocks (hex) holder holds
      dcpool:holder-names    SET of every holder that holds something
      dcpool:unheld          ZSET block hex -> deadline (Unix ms)
      dcpool:gone            ZSET holder -> when it lets go (Unix ms)

    Each call is one EVAL (one round trip, atomic: only the head writes
    these keys).  Calls return 0 or -1 with head_store_error set.
*/
#ifndef DCPOOL_HEAD_HOLDS_H
#define DCPOOL_HEAD_HOLDS_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>

#include "msg.h"
#include "store.h"

/* Longest holder name: "client:" and an id. */
#define HEAD_HOLDER_MAX (PROTO_ID_MAX + 16)

/*  holder holds the block (its deadline, if it had one, is dropped).  holder NULL or "":
   nobody holds it, and a block that no one holds gets a deadline of deadline_ms unless it
   has one. */
int head_holds_add (head_store_t *store, const char *holder,
                    const uint8_t hash[PROTO_HASH_SIZE], int64_t deadline_ms);
/*  head_holds_add for a block that is in the store: *exists false (and
    nothing changed) when it is not. */
int head_holds_add_existing (head_store_t *store, const char *holder,
                             const uint8_t hash[PROTO_HASH_SIZE], int64_t deadline_ms,
                             bool *exists);
/*  Drops holder's hold on the block; *held false (and nothing changed)
    when holder held it not.  The last holder gone, the
    block is deleted at deadline_ms unless held again. */
int head_holds_release (head_store_t *store, const char *holder,
                        const uint8_t hash[PROTO_HASH_SIZE], int64_t deadline_ms,
                        bool *held);
/*  Drops every hold of holder (a client gone, a pool closed); *count (may
    be NULL) gets how many blocks it held. */
int head_holds_release_all (head_store_t *store, const char *holder, int64_t deadline_ms,
                            size_t *count);
/*  A holder that is gone (a client lost) lets go of everything at at_ms,
    unless head_holds_back comes first (the client came back). */
int head_holds_depart (head_store_t *store, const char *holder, int64_t at_ms);
int head_holds_back (head_store_t *store, const char *holder);
/*  Every holder there is departs at at_ms unless it departs sooner
    already (a head starting: its previous life's clients and pools);
    *count (may be NULL) gets how many holders there are. */
int head_holds_depart_all (head_store_t *store, int64_t at_ms, size_t *count);
/*  Releases at most `most` holders whose departure is due (at or before
    now_ms), then deletes at most `most` blocks whose deadline is due and
    that are still unheld; *deleted and *released (may be NULL) get how
    many.  With due not NULL (the bytes are on block servers, shards.h)
    those blocks are not deleted but appended to due (their hashes in hex,
    autofree) and forgotten here: the caller deletes their bytes. */
int head_holds_sweep (head_store_t *store, int64_t now_ms, size_t most, zlist_t *due,
                      size_t *deleted, size_t *released);

#endif
