/*  proto/elf_check.c - the ELF header check of a worker library. */
#include "elf_check.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* What the check needs of a header, whatever its class. */
typedef struct {
    unsigned char klass; /* ELFCLASS32 / ELFCLASS64 */
    unsigned char data;  /* ELFDATA2LSB / ELFDATA2MSB */
    unsigned type;       /* ET_DYN for a shared object */
    unsigned machine;    /* EM_* */
} s_header_t;

static uint16_t
s_u16 (const unsigned char *p, unsigned char data)
{
    return data == ELFDATA2MSB ? (uint16_t)(p[0] << 8 | p[1])
                               : (uint16_t)(p[1] << 8 | p[0]);
}

/*  0 and *header, 1 when the file is not ELF (or too short), -1 when it
    cannot be read (errno set). */
static int
s_read_header (const char *path, s_header_t *header)
{
    unsigned char bytes[EI_NIDENT + 4];
    FILE *file = fopen (path, "rb");
    if (!file)
        return -1;
    size_t got = fread (bytes, 1, sizeof bytes, file);
    int saved = errno;
    bool failed = ferror (file);
    fclose (file);
    if (failed) {
        errno = saved;
        return -1;
    }
    if (got < sizeof bytes || memcmp (bytes, ELFMAG, SELFMAG) != 0)
        return 1;
    header->klass = bytes[EI_CLASS];
    header->data = bytes[EI_DATA];
    if ((header->klass != ELFCLASS32 && header->klass != ELFCLASS64)
        || (header->data != ELFDATA2LSB && header->data != ELFDATA2MSB))
        return 1;
    /* e_type and e_machine follow e_ident in both classes. */
    header->type = s_u16 (bytes + EI_NIDENT, header->data);
    header->machine = s_u16 (bytes + EI_NIDENT + 2, header->data);
    return 0;
}

void
proto_elf_machine_name (unsigned machine, char *out, size_t size)
{
    static const struct {
        unsigned machine;
        const char *name;
    } names[] = {
        { EM_X86_64, "x86_64" },
        { EM_AARCH64, "aarch64" },
        { EM_386, "i386" },
        { EM_ARM, "arm" },
        { EM_PPC64, "ppc64" },
        { EM_PPC, "ppc" },
        { EM_S390, "s390x" },
        { EM_RISCV, "riscv" },
        { EM_MIPS, "mips" },
        { EM_SPARCV9, "sparc64" },
        { EM_IA_64, "ia64" },
        { 258, "loongarch" }, /* EM_LOONGARCH, not in older elf.h */
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].machine == machine) {
            snprintf (out, size, "%s", names[i].name);
            return;
        }
    snprintf (out, size, "machine %u", machine);
}

static const char *
s_class_name (unsigned char klass)
{
    return klass == ELFCLASS64 ? "64-bit" : "32-bit";
}

int
proto_elf_check (const char *path, const char *shown, char *error, size_t error_size)
{
    if (!shown)
        shown = path;
    s_header_t lib, self;
    int rc = s_read_header (path, &lib);
    if (rc < 0) {
        snprintf (error, error_size, "cannot read %s: %s", shown, strerror (errno));
        return -1;
    }
    if (rc > 0) {
        snprintf (error, error_size,
                  "%s is not a shared object (no ELF header): build it with "
                  "cc -shared -fPIC",
                  shown);
        return -1;
    }
    if (lib.type != ET_DYN) {
        snprintf (error, error_size,
                  "%s is an ELF %s, not a shared object: build it with "
                  "cc -shared -fPIC",
                  shown,
                  lib.type == ET_EXEC  ? "executable"
                  : lib.type == ET_REL ? "object file (.o)"
                                       : "file of another type");
        return -1;
    }
    if (s_read_header ("/proc/self/exe", &self) != 0)
        return 0; /* nothing to compare with: dlopen decides */
    if (lib.machine != self.machine || lib.klass != self.klass || lib.data != self.data) {
        char want[32], have[32];
        proto_elf_machine_name (lib.machine, want, sizeof want);
        proto_elf_machine_name (self.machine, have, sizeof have);
        if (lib.machine != self.machine)
            snprintf (error, error_size, "%s is built for %s, this machine is %s", shown,
                      want, have);
        else
            snprintf (error, error_size,
                      "%s is built for %s %s %s-endian, this "
                      "machine is %s %s %s-endian",
                      shown, s_class_name (lib.klass), want,
                      lib.data == ELFDATA2LSB ? "little" : "big",
                      s_class_name (self.klass), have,
                      self.data == ELFDATA2LSB ? "little" : "big");
        return -1;
    }
    return 0;
}
