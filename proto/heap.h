/*  proto/heap.h - the malloc settings of dcpool's own processes (pool-worker,
    pool-head).

    A big payload crosses the data plane and the head in chunks of a few
    MiB, each a fresh allocation by libzmq (a message received, a CURVE box
    sealed or opened) or by us, freed as soon as it has been passed on.
    glibc returns the top of its heap to the kernel once more than a few
    MiB of it are free, so every chunk faulted its pages in again: on the
    project's VM a 64 MiB echo between two namespaces took about 60,000
    page faults in each process, and 20-30% of its time.

    proto_heap_hold sets what glibc's own rule reaches after the process
    freed one 32 MiB block: blocks under 32 MiB come from the heap, and up
    to 64 MiB of freed heap are kept for the next chunk rather than
    returned.  Only for processes of ours: a client's process keeps its
    own settings. */
#ifndef DCPOOL_PROTO_HEAP_H
#define DCPOOL_PROTO_HEAP_H

#define PROTO_HEAP_MMAP_MIN ((int)32 << 20) /* blocks this big are mapped */
#define PROTO_HEAP_KEEP ((int)64 << 20)     /* freed heap kept, at most */

/*  Applies the settings above: 0; 1 when malloc is not glibc's own (a
    sanitizer's, under ASan): nothing to set; or -1 when the C library
    refused them (or is not glibc); the process then runs with its
    defaults. */
int proto_heap_hold (void);

#endif
