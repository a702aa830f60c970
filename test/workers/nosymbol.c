/*  test/workers/nosymbol.c - a shared object that is not a worker library:
    it exports no pool_worker symbol.  pool_open must refuse it clearly.
*/
#include "pool_worker.h"

int not_a_worker (int x);

int
not_a_worker (int x)
{
    return x + 1;
}
