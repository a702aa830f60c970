/*  proto/elf_check.c - the ELF checks of a worker library: its header
    (a shared object for this machine?) and the ABI version of its
    `pool_worker` table, both read from the file before any dlopen. */
#include "elf_check.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ------------------------------------------------------------------------
    The ABI version of the pool_worker table, from the file */

/* This process' own ELF class (<link.h>'s ElfW: proto has its own link.h). */
#if UINTPTR_MAX > 0xffffffffu
typedef Elf64_Ehdr s_ehdr_t;
typedef Elf64_Shdr s_shdr_t;
typedef Elf64_Sym s_sym_t;
#define S_NATIVE_CLASS ELFCLASS64
#else
typedef Elf32_Ehdr s_ehdr_t;
typedef Elf32_Shdr s_shdr_t;
typedef Elf32_Sym s_sym_t;
#define S_NATIVE_CLASS ELFCLASS32
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define S_NATIVE_DATA ELFDATA2LSB
#else
#define S_NATIVE_DATA ELFDATA2MSB
#endif

/* The one symbol a worker library defines, with its NUL. */
static const char s_table_name[] = "pool_worker";
/* No section read is larger: a million dynamic symbols is already absurd. */
#define S_SECTION_MAX ((uint64_t)64 << 20)

/* size bytes at offset, all of them inside the file's file_size bytes. */
static bool
s_read_at (int fd, void *buf, uint64_t size, uint64_t offset, uint64_t file_size)
{
    if (offset > file_size || size > file_size - offset)
        return false;
    uint64_t done = 0;
    while (done < size) {
        ssize_t got = pread (fd, (char *)buf + done, size - done, (off_t)(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        done += (uint64_t)got;
    }
    return true;
}

/* A section's bytes, fresh (caller frees); NULL when empty, too big,
   outside the file or out of memory. */
static void *
s_read_section (int fd, const s_shdr_t *section, uint64_t file_size)
{
    if (section->sh_type == SHT_NOBITS || section->sh_size == 0
        || section->sh_size > S_SECTION_MAX)
        return NULL;
    void *bytes = malloc (section->sh_size);
    if (bytes
        && !s_read_at (fd, bytes, section->sh_size, section->sh_offset, file_size)) {
        free (bytes);
        bytes = NULL;
    }
    return bytes;
}

/*  Finds pool_worker in one dynamic symbol table and reads its first four
    bytes: 0 and *abi_version, -1 when this table does not have it. */
static int
s_abi_in_symtab (int fd, const s_shdr_t *sections, unsigned nsections, unsigned symtab,
                 uint64_t file_size, uint32_t *abi_version)
{
    int rc = -1;
    const s_shdr_t *syms = &sections[symtab];
    s_sym_t *symbols = NULL;
    char *names = NULL;
    if (syms->sh_entsize != sizeof (s_sym_t) || syms->sh_link >= nsections
        || sections[syms->sh_link].sh_type != SHT_STRTAB)
        goto cleanup;
    const s_shdr_t *strtab = &sections[syms->sh_link];
    symbols = s_read_section (fd, syms, file_size);
    names = s_read_section (fd, strtab, file_size);
    if (!symbols || !names)
        goto cleanup;
    uint64_t nsymbols = syms->sh_size / sizeof (s_sym_t);
    for (uint64_t i = 1; i < nsymbols; i++) {
        const s_sym_t *sym = &symbols[i];
        if (sym->st_name >= strtab->sh_size
            || strtab->sh_size - sym->st_name < sizeof s_table_name
            || memcmp (names + sym->st_name, s_table_name, sizeof s_table_name) != 0)
            continue;
        /* Defined here, in a section with bytes in the file. */
        if (sym->st_shndx == SHN_UNDEF || sym->st_shndx >= nsections)
            continue;
        const s_shdr_t *home = &sections[sym->st_shndx];
        if (home->sh_type == SHT_NOBITS || sym->st_value < home->sh_addr
            || home->sh_size < sizeof *abi_version
            || sym->st_value - home->sh_addr > home->sh_size - sizeof *abi_version)
            continue;
        /* abi_version comes first in the table and is a plain number: no
           relocation touches it, so the file holds what dlsym would see. */
        uint64_t offset = home->sh_offset + (sym->st_value - home->sh_addr);
        if (offset < home->sh_offset
            || !s_read_at (fd, abi_version, sizeof *abi_version, offset, file_size))
            continue;
        rc = 0;
        break;
    }
cleanup:
    free (symbols);
    free (names);
    return rc;
}

int
proto_elf_worker_abi (const char *path, uint32_t *abi_version)
{
    int rc = -1;
    s_shdr_t *sections = NULL;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    s_ehdr_t header;
    if (fstat (fd, &st) || st.st_size < 0)
        goto cleanup;
    uint64_t file_size = (uint64_t)st.st_size;
    if (!s_read_at (fd, &header, sizeof header, 0, file_size))
        goto cleanup;
    /* Another class or byte order: proto_elf_check says why not. */
    if (memcmp (header.e_ident, ELFMAG, SELFMAG) != 0
        || header.e_ident[EI_CLASS] != S_NATIVE_CLASS
        || header.e_ident[EI_DATA] != S_NATIVE_DATA || header.e_type != ET_DYN
        || header.e_shentsize != sizeof (s_shdr_t) || header.e_shnum == 0)
        goto cleanup;
    unsigned nsections = header.e_shnum;
    sections = malloc (nsections * sizeof *sections);
    if (!sections
        || !s_read_at (fd, sections, nsections * sizeof *sections, header.e_shoff,
                       file_size))
        goto cleanup;
    for (unsigned i = 0; i < nsections && rc; i++)
        if (sections[i].sh_type == SHT_DYNSYM)
            rc = s_abi_in_symtab (fd, sections, nsections, i, file_size, abi_version);
cleanup:
    free (sections);
    close (fd);
    return rc;
}

void
proto_elf_abi_refusal (const char *shown, uint32_t abi_version, int supported,
                       const char *who, const char *upgrade, char *error,
                       size_t error_size)
{
    if (abi_version == 0)
        snprintf (error, error_size,
                  "%s declares pool_worker ABI 0, which no dcpool has: set its "
                  "abi_version to POOL_WORKER_ABI",
                  shown);
    else
        snprintf (error, error_size,
                  "%s was built for pool_worker ABI %u; %s supports ABI 1..%d: "
                  "upgrade dcpool %s",
                  shown, (unsigned)abi_version, who, supported, upgrade);
}
