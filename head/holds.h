/*  head/holds.h - who holds which block, kept in the head's Redis.

    A holder is a name: "client:<client id>" (a client's pool_put, and
    the blocks its pools' workers put) or "pool:<pool id>" (an open pool's
    library and init data).  A holder holds a block or not: putting it
    twice is one hold (libpool counts its own references, blocks.c).  A
    block whose last holder lets go gets a deadline (now + the head's
    --block-grace) and is deleted when the sweep finds it past it
    still unheld; a hold before then keeps it.  Everything is in Redis, so
    a head restart forgets nothing:

      dcpool:holders:<hex>   HASH holder -> 1
      dcpool:holds:<holder>  SET of the blocks (hex) holder holds
      dcpool:holder-names    SET of every holder that holds something
      dcpool:unheld          ZSET block hex -> deadline (Unix ms)

    Each call is one EVAL (one round trip, atomic: only the head writes
    these keys).  Calls return 0 or -1 with head_store_error set.
*/
#ifndef DCPOOL_HEAD_HOLDS_H
#define DCPOOL_HEAD_HOLDS_H

#include <stdbool.h>
#include <stdint.h>

#include "msg.h"
#include "store.h"

/* Longest holder name: "client:" and an id. */
#define HEAD_HOLDER_MAX (PROTO_ID_MAX + 16)

/*  holder holds the block (its deadline, if it had one, is dropped).  holder NULL or "":
   nobody holds it, and a block that no one holds gets a deadline of deadline_ms unless it
   has one. */
int head_holds_add (head_store_t *store, const char *holder,
                    const uint8_t hash[PROTO_HASH_SIZE], int64_t deadline_ms);
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
/*  Deletes at most `most` blocks whose deadline is at or before now_ms
    and that are still unheld; *deleted (may be NULL) gets how many. */
int head_holds_sweep (head_store_t *store, int64_t now_ms, size_t most, size_t *deleted);
/*  Every holder that holds something: a new zlist of strings (freed with
    it), or NULL when Redis failed. */
zlist_t *head_holds_holders (head_store_t *store);

#endif
