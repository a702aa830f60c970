/*  examples/common/next_to_me.h - the path of a file that sits next to
    the running program: the build puts each example's client and its
    worker library in the same directory, where the client looks for it
    by default.
*/
#ifndef DCPOOL_EXAMPLES_NEXT_TO_ME_H
#define DCPOOL_EXAMPLES_NEXT_TO_ME_H

#include <stddef.h>

/*  Writes "<this program's directory>/name" into path: 0, or -1 when it
    does not fit or /proc/self/exe cannot be read. */
int next_to_me (const char *name, char *path, size_t size);

#endif
