/*  test/integration/http_util.c - see http_util.h. */
#include "http_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

h_proc_t *
hu_start_head (int cpu_workers, const char *bind, int *http_port)
{
    *http_port = h_free_port ();
    char port[16];
    snprintf (port, sizeof port, "%d", *http_port);
    const char *with_bind[] = { "--http", port, "--http-bind", bind, NULL };
    const char *plain[] = { "--http", port, NULL };
    h_proc_t *head = h_start_head_with (cpu_workers, false, bind ? with_bind : plain);
    char url[128];
    snprintf (url, sizeof url, "http://%s:%d/", bind ? bind : "127.0.0.1", *http_port);
    H_CHECK (strstr (head->out, url),
             "start_node does not say where its page is (%s):\n%s", url, head->out);
    return head;
}

const char *
hu_which (const char *name, char *path, size_t size)
{
    const char *dirs = getenv ("PATH");
    char copy[4096];
    snprintf (copy, sizeof copy, "%s", dirs ? dirs : "/usr/bin:/bin");
    char *save = NULL;
    for (char *dir = strtok_r (copy, ":", &save); dir;
         dir = strtok_r (NULL, ":", &save)) {
        snprintf (path, size, "%s/%s", dir, name);
        if (access (path, X_OK) == 0)
            return path;
    }
    return NULL;
}

int
hu_get (const char *url, const char *password, char **body)
{
    char curl[512];
    if (!hu_which ("curl", curl, sizeof curl))
        h_skip ("curl is not installed (scripts/install-deps installs it)");
    char file[512], code_file[512], auth[512];
    static int n;
    n++;
    snprintf (file, sizeof file, "%s/curl-%d.body", h_tmpdir (), n);
    snprintf (code_file, sizeof code_file, "%s/curl-%d.code", h_tmpdir (), n);
    snprintf (auth, sizeof auth, "dcpool:%s", password ? password : "");
    pid_t pid = fork ();
    H_CHECK (pid >= 0, "fork: %s", strerror (errno));
    if (pid == 0) {
        FILE *out = freopen (code_file, "w", stdout);
        (void)out;
        if (password)
            execl (curl, "curl", "-s", "-m", "20", "-o", file, "-w", "%{http_code}", "-u",
                   auth, url, (char *)NULL);
        else
            execl (curl, "curl", "-s", "-m", "20", "-o", file, "-w", "%{http_code}", url,
                   (char *)NULL);
        _exit (127);
    }
    int status = 0;
    waitpid (pid, &status, 0);
    int code = 0;
    FILE *in = fopen (code_file, "r");
    if (in) {
        if (fscanf (in, "%d", &code) != 1)
            code = 0;
        fclose (in);
    }
    if (body) {
        *body = NULL;
        in = fopen (file, "r");
        if (in) {
            size_t cap = 1 << 16, len = 0;
            char *text = malloc (cap);
            size_t got;
            while (text && (got = fread (text + len, 1, cap - len - 1, in)) > 0) {
                len += got;
                if (cap - len < 2) {
                    char *grown = realloc (text, cap * 2);
                    if (!grown)
                        break;
                    text = grown;
                    cap *= 2;
                }
            }
            if (text)
                text[len] = 0;
            *body = text;
            fclose (in);
        }
    }
    unlink (file);
    unlink (code_file);
    return code;
}

int
hu_connect (const char *addr, int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    H_CHECK (fd >= 0, "socket: %s", strerror (errno));
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
    H_CHECK (inet_pton (AF_INET, addr, &sa.sin_addr) == 1, "bad address %s", addr);
    H_CHECK (connect (fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect %s:%d: %s",
             addr, port, strerror (errno));
    return fd;
}

size_t
hu_read_until_close (int fd, char *buf, size_t size, double timeout, bool *closed)
{
    size_t len = 0;
    *closed = false;
    double deadline = h_now () + timeout;
    while (h_now () < deadline) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int ms = (int)((deadline - h_now ()) * 1000) + 1;
        if (poll (&p, 1, ms) <= 0)
            continue;
        char chunk[4096];
        ssize_t got = recv (fd, chunk, sizeof chunk, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            *closed = true;
            break;
        }
        size_t keep = (size_t)got < size - 1 - len ? (size_t)got : size - 1 - len;
        memcpy (buf + len, chunk, keep);
        len += keep;
    }
    buf[len] = 0;
    return len;
}
