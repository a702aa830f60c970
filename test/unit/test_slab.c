/*  test/unit/test_slab.c - small result values in shared blocks
    (libpool/slab.c).

    Values keep their bytes until given back, whatever order they are
    given back in and from whichever thread; a block goes when its last
    value and its owner have gone (ASan and valgrind see any block left);
    pointers that are not slab values are said to be so; values are
    16-byte aligned; sizes over POOL_SLAB_VALUE_MAX are refused.
*/
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slab.h"

enum { VALUES = 20000 }; /* several blocks' worth */

typedef struct {
    unsigned char *data;
    size_t size;
} value_t;

static void
s_fill (value_t *v, size_t i)
{
    memset (v->data, (int)(i & 0xff), v->size);
}

static void
s_check (const value_t *v, size_t i)
{
    for (size_t k = 0; k < v->size; k++)
        assert_int_equal (v->data[k], (int)(i & 0xff));
}

static value_t *
s_make (pool_slab_t **owner, size_t count)
{
    value_t *values = calloc (count, sizeof *values);
    assert_non_null (values);
    for (size_t i = 0; i < count; i++) {
        values[i].size = i % 41; /* 0 to 40 bytes */
        values[i].data = pool_slab_alloc (owner, values[i].size);
        assert_non_null (values[i].data);
        assert_int_equal ((uintptr_t)values[i].data % 16, 0);
        s_fill (&values[i], i);
    }
    return values;
}

static void
test_values_keep_their_bytes_in_any_order (void **state)
{
    (void)state;
    pool_slab_t *owner = NULL;
    value_t *values = s_make (&owner, VALUES);
    for (size_t i = 0; i < VALUES; i++)
        s_check (&values[i], i);
    /* The owner goes first: the blocks stay for their values. */
    pool_slab_retire (&owner);
    assert_null (owner);
    /* Odd ones backwards, then even ones forwards, through one cursor. */
    pool_slab_cursor_t cursor = { NULL };
    for (size_t i = VALUES; i-- > 0;)
        if (i % 2) {
            s_check (&values[i], i);
            assert_true (pool_slab_release_at (&cursor, values[i].data));
        }
    for (size_t i = 0; i < VALUES; i += 2) {
        s_check (&values[i], i);
        assert_true (pool_slab_release_at (&cursor, values[i].data));
    }
    pool_slab_cursor_end (&cursor);
    free (values);
}

static void
test_other_pointers_are_not_slab_values (void **state)
{
    (void)state;
    pool_slab_cursor_t cursor = { NULL };
    int on_stack = 0;
    char *heap = malloc (16);
    assert_non_null (heap);
    /* With no block in use, and with one. */
    assert_false (pool_slab_release_at (&cursor, heap));
    assert_false (pool_slab_release_at (&cursor, NULL));
    pool_slab_t *owner = NULL;
    void *value = pool_slab_alloc (&owner, 8);
    assert_non_null (value);
    assert_false (pool_slab_release_at (&cursor, heap));
    assert_false (pool_slab_release_at (&cursor, &on_stack));
    assert_true (pool_slab_release_at (&cursor, value));
    assert_false (pool_slab_release_at (&cursor, heap));
    pool_slab_cursor_end (&cursor);
    pool_slab_retire (&owner);
    free (heap);
}

static void
test_too_big_is_refused (void **state)
{
    (void)state;
    pool_slab_t *owner = NULL;
    assert_null (pool_slab_alloc (&owner, POOL_SLAB_VALUE_MAX + 1));
    assert_null (owner);
    void *value = pool_slab_alloc (&owner, POOL_SLAB_VALUE_MAX);
    assert_non_null (value);
    memset (value, 7, POOL_SLAB_VALUE_MAX);
    pool_slab_cursor_t cursor = { NULL };
    assert_true (pool_slab_release_at (&cursor, value));
    pool_slab_cursor_end (&cursor);
    pool_slab_retire (&owner);
}

typedef struct {
    value_t *values;
    size_t from, count, step;
} part_t;

static void *
s_release_part (void *arg)
{
    part_t *part = arg;
    pool_slab_cursor_t cursor = { NULL };
    for (size_t i = part->from; i < part->count; i += part->step) {
        s_check (&part->values[i], i);
        if (!pool_slab_release_at (&cursor, part->values[i].data))
            return "a value was not found";
    }
    pool_slab_cursor_end (&cursor);
    return NULL;
}

static void
test_two_owners_released_from_four_threads (void **state)
{
    (void)state;
    pool_slab_t *a = NULL, *b = NULL;
    value_t *va = s_make (&a, VALUES);
    value_t *vb = s_make (&b, VALUES);
    pool_slab_retire (&a);
    pthread_t threads[4];
    part_t parts[4] = { { va, 0, VALUES, 2 },
                        { va, 1, VALUES, 2 },
                        { vb, 0, VALUES, 3 },
                        { vb, 1, VALUES, 3 } };
    for (int t = 0; t < 4; t++)
        assert_int_equal (pthread_create (&threads[t], NULL, s_release_part, &parts[t]),
                          0);
    for (int t = 0; t < 4; t++) {
        void *failed = NULL;
        assert_int_equal (pthread_join (threads[t], &failed), 0);
        assert_null (failed);
    }
    /* b's third part, while b still fills a block. */
    part_t rest = { vb, 2, VALUES, 3 };
    assert_null (s_release_part (&rest));
    pool_slab_retire (&b);
    free (va);
    free (vb);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_values_keep_their_bytes_in_any_order),
        cmocka_unit_test (test_other_pointers_are_not_slab_values),
        cmocka_unit_test (test_too_big_is_refused),
        cmocka_unit_test (test_two_owners_released_from_four_threads),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
