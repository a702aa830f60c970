/*  proto/tree.c - removing a directory tree.  See tree.h. */
#include "tree.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>

/*  nftw's callback is a plain function: the first error is kept here,
    per thread. */
static _Thread_local int s_first_errno;

static int
s_remove (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (remove (path) && errno != ENOENT && !s_first_errno)
        s_first_errno = errno;
    return 0; /* go on: remove what can be removed */
}

int
proto_remove_tree (const char *path)
{
    s_first_errno = 0;
    if (nftw (path, s_remove, 16, FTW_DEPTH | FTW_PHYS) && errno != ENOENT
        && !s_first_errno)
        s_first_errno = errno;
    if (!s_first_errno)
        return 0;
    errno = s_first_errno;
    return -1;
}
