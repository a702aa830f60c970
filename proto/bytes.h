/*  proto/bytes.h - byte counts: read from a command line with a suffix,
    written for people, and the machine's memory.

    start_node and pool-head read --store-max-memory through
    proto_parse_bytes, so "2G", "512M", "65536" mean the same to both; the
    head's messages ("1.9 GiB used of 2.0 GiB") and start_node --status
    use proto_bytes_text.  Suffixes are binary (K = 1024).
*/
#ifndef DCPOOL_PROTO_BYTES_H
#define DCPOOL_PROTO_BYTES_H

#include <stddef.h>
#include <stdint.h>

/*  A whole number of bytes with an optional suffix K, M, G or T (either
    case, an optional "iB" or "B" after it: "2G", "2GiB", "512m", "4096")
    in [min, max] into *out: 0, or -1 (*out untouched) when text is not
    one, overflows or is out of range. */
int proto_parse_bytes (const char *text, uint64_t min, uint64_t max, uint64_t *out);

/*  bytes for people into out[size]: "512 B", "64 MiB", "1.9 GiB" (one
    decimal, dropped on a whole number of 10 or more).  Returns out. */
const char *proto_bytes_text (uint64_t bytes, char *out, size_t size);

/*  The machine's memory (MemTotal of /proc/meminfo) in bytes, or 0 when
    it cannot be read. */
uint64_t proto_mem_total (void);

#endif
