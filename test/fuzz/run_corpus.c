/*  test/fuzz/run_corpus.c - replays fuzz inputs without libFuzzer.

    Links a fuzz target (LLVMFuzzerTestOneInput) into a plain program that
    feeds it every file in the directories or files named on the command
    line, so the seed corpus and any crash reproducer saved there run in
    every `meson test` (and under the sanitizers in scripts/run-tests).
*/
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
s_run_file (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        perror (path);
        return -1;
    }
    size_t cap = 4096, size = 0;
    uint8_t *data = malloc (cap);
    size_t n;
    while (data && (n = fread (data + size, 1, cap - size, f)) > 0) {
        size += n;
        if (size == cap) {
            uint8_t *bigger = realloc (data, cap * 2);
            if (!bigger) {
                free (data);
                data = NULL;
                break;
            }
            data = bigger;
            cap *= 2;
        }
    }
    fclose (f);
    if (!data)
        return -1;
    LLVMFuzzerTestOneInput (data, size);
    free (data);
    return 0;
}

int
main (int argc, char *argv[])
{
    int runs = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat (argv[i], &st)) {
            perror (argv[i]);
            return 1;
        }
        if (!S_ISDIR (st.st_mode)) {
            if (s_run_file (argv[i]))
                return 1;
            runs++;
            continue;
        }
        DIR *dir = opendir (argv[i]);
        struct dirent *de;
        while (dir && (de = readdir (dir))) {
            if (de->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf (path, sizeof path, "%s/%s", argv[i], de->d_name);
            if (s_run_file (path))
                return 1;
            runs++;
        }
        if (dir)
            closedir (dir);
    }
    printf ("%d inputs replayed\n", runs);
    return runs > 0 ? 0 : 1;
}
