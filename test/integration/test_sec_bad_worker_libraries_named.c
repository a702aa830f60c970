/*  Worker libraries that cannot work are refused with an error that names
    the cause, and the workers stay healthy:
    - a text file: POOL_ELIBRARY, "not a shared object";
    - a copy of a real worker built "for another architecture" (e_machine
      patched in its ELF header): POOL_ELIBRARY naming both architectures;
    - another ABI version (badabi): POOL_ELIBRARY naming the version;
    - init failing (initfail): POOL_EWORKER with init's message;
    - the other-architecture library sent straight to the head by a raw
      client (as if libpool's own check were skipped): the worker host's
      check refuses it and the pool's ERROR names the architecture.
    After each, and at the end, every worker serves a correct map.
*/
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "sec_util.h"

static void
s_expect (const h_proc_t *head, const char *path, int want_rc, const char *want_a,
          const char *want_b)
{
    pool_options_t options;
    h_options (&options, head, NULL);
    options.worker_library = path;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    const char *error = pool_open_error ();
    h_log ("pool_open (%s): %s: %s", path, pool_strerror (rc), error ? error : "(null)");
    H_CHECK (rc == want_rc && !pool, "pool_open (%s) returned %s, want %s", path,
             pool_strerror (rc), pool_strerror (want_rc));
    H_CHECK (error && strcasestr (error, want_a)
                 && (!want_b || strcasestr (error, want_b)),
             "the error '%s' does not name the cause ('%s'%s%s)",
             error ? error : "(null)", want_a, want_b ? ", " : "", want_b ? want_b : "");
}

static void
s_write (const char *path, const void *data, size_t size)
{
    FILE *f = fopen (path, "wb");
    H_CHECK (f && fwrite (data, 1, size, f) == size, "write %s", path);
    fclose (f);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    char text_path[400], arch_path[400];

    snprintf (text_path, sizeof text_path, "%s/notes.so", h_tmpdir ());
    s_write (text_path, "this is not a shared object\n", 28);
    s_expect (head, text_path, POOL_ELIBRARY, "not a shared object", NULL);

    /* Another machine: aarch64 (x86_64 when this is an aarch64 machine). */
    size_t size;
    uint8_t *lib = sec_read_file (h_worker_path ("square"), &size);
    H_CHECK (size > sizeof (Elf64_Ehdr) && memcmp (lib, ELFMAG, SELFMAG) == 0,
             "square.so is not ELF");
    uint16_t machine;
    memcpy (&machine, lib + 18, 2);
    uint16_t other = machine == EM_AARCH64 ? EM_X86_64 : EM_AARCH64;
    const char *other_name = other == EM_AARCH64 ? "aarch64" : "x86_64";
    memcpy (lib + 18, &other, 2); /* e_machine, little-endian hosts */
    snprintf (arch_path, sizeof arch_path, "%s/square-%s.so", h_tmpdir (), other_name);
    s_write (arch_path, lib, size);
    struct utsname un;
    uname (&un);
    s_expect (head, arch_path, POOL_ELIBRARY, other_name, un.machine);

    s_expect (head, h_worker_path ("badabi"), POOL_ELIBRARY, "999", "abi");
    s_expect (head, h_worker_path ("initfail"), POOL_EWORKER, "no data", NULL);
    sec_map_square_ok (head, 2, 100);

    /* Past libpool's check: the worker host refuses it itself. */
    char *error = sec_raw_open_error (head, "other-arch", lib, size, NULL);
    h_log ("raw POOL_OPEN of the %s library: ERROR '%s'", other_name, error);
    H_CHECK (strstr (error, other_name) && strstr (error, un.machine),
             "the worker's error '%s' does not name %s and %s", error, other_name,
             un.machine);
    free (error);
    free (lib);

    sec_map_square_ok (head, 2, 300);
}

int
main (void)
{
    return h_main ("test_sec_bad_worker_libraries_named", s_body);
}
