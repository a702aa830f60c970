/*  proto/heap.c - the malloc settings of dcpool's own processes.  See
    heap.h. */
#include "heap.h"

#include <stdlib.h> /* defines __GLIBC__ under glibc */
#ifdef __GLIBC__
#include <malloc.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define S_OWN_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_OWN_ALLOCATOR 1
#endif
#endif

int
proto_heap_hold (void)
{
#ifdef S_OWN_ALLOCATOR
    return 1; /* the sanitizer's malloc, not glibc's: nothing to set */
#elif defined(__GLIBC__)
    /* mallopt returns 1 on success */
    if (mallopt (M_MMAP_THRESHOLD, PROTO_HEAP_MMAP_MIN) == 1
        && mallopt (M_TRIM_THRESHOLD, PROTO_HEAP_KEEP) == 1)
        return 0;
#endif
    return -1;
}
