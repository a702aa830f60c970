/*  proto/tree.h - removing a directory tree.

    A throwaway data directory (libpool's private cluster, start_node
    --remove-data-dir) goes with everything in it: files, sockets,
    subdirectories.  Symbolic links are removed, never followed.
*/
#ifndef DCPOOL_PROTO_TREE_H
#define DCPOOL_PROTO_TREE_H

/*  Removes path and everything below it: 0 (also when path did not
    exist), or -1 with errno set by the first removal that failed (the
    rest is still attempted). */
int proto_remove_tree (const char *path);

#endif
