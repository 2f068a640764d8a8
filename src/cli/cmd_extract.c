/* extract: the RAM blocks of a stream as raw memory images */
#define _GNU_SOURCE /* O_TMPFILE */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"
#include "visit/extract.h"
#include "visit/visitors.h"

enum { OPT_BLOCK = 0x200 };

static void usage(const void *opaque, FILE *f)
{
    fprintf(f,
"Usage: migconv extract [OPTIONS] IN DIR\n"
"       migconv extract [OPTIONS] --block NAME IN -\n"
"Write the guest RAM of a migration stream (legacy or BER, detected) as raw\n"
"memory images: one sparse file per RAM block in the new directory DIR,\n"
"holding each page's final content (ZERO, PAGE, XBZRLE and COMPRESS_PAGE\n"
"records applied in stream order), plus state.json (the dump output),\n"
"blocks.json (block name, file, length, pages sent) and vmdesc.json when\n"
"the stream has a vmdesc.  A block's file is its name with every byte\n"
"outside [A-Za-z0-9._@+-] (and a leading '.') written as %%XX, then '.ram':\n"
"'/rom@etc/acpi/tables' -> '%%2from@etc%%2facpi%%2ftables.ram'.  DIR must not\n"
"exist; it appears only when the extraction succeeded.\n"
"\n"
"Options:\n"
"      --block NAME     extract only the RAM block NAME; with DIR '-' write\n"
"                       its image to stdout (holes as zeros on a pipe)\n"
"      --progress, --no-progress, -q, --buffer-limit N, --tables FILE:\n"
"                       as for legacy-to-ber\n"
"  -h, --help           show this help\n");
}

/* Remove what a failed extraction left in its temporary directory. */
static void remove_dir(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                unlinkat(dirfd(d), e->d_name, 0);
            }
        }
        closedir(d);
    }
    rmdir(path);
}

/* Copy the image to stdout; data only, seeking over holes, when stdout is
 * a regular file (it stays sparse), everything when it is a pipe. */
static bool copy_fd(int from, int to, mc_error **errp)
{
    static uint8_t buf[1 << 16];
    struct stat st;
    bool seekable = fstat(to, &st) == 0 && S_ISREG(st.st_mode) &&
                    lseek(to, 0, SEEK_CUR) == 0;
    off_t size = lseek(from, 0, SEEK_END);
    off_t pos = 0;
    if (size < 0) {
        mc_error_set_errno(errp, errno, "cannot seek the block image");
        return false;
    }
    while (pos < size) {
        off_t end = size;
#ifdef SEEK_DATA
        if (seekable) {
            off_t d = lseek(from, pos, SEEK_DATA);
            if (d < 0) {
                break; /* only a hole is left */
            }
            pos = d;
            off_t h = lseek(from, pos, SEEK_HOLE);
            end = h < 0 ? size : h;
            if (lseek(to, pos, SEEK_SET) != pos) {
                mc_error_set_errno(errp, errno, "cannot seek stdout");
                return false;
            }
        }
#endif
        while (pos < end) {
            size_t want = (size_t)(end - pos) < sizeof(buf)
                              ? (size_t)(end - pos) : sizeof(buf);
            ssize_t r = pread(from, buf, want, pos);
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r <= 0) {
                mc_error_set_errno(errp, r < 0 ? errno : EIO,
                                   "read error on the block image");
                return false;
            }
            for (ssize_t o = 0; o < r;) {
                ssize_t w = write(to, buf + o, (size_t)(r - o));
                if (w < 0 && errno == EINTR) {
                    continue;
                }
                if (w <= 0) {
                    mc_error_set_errno(errp, w < 0 ? errno : ENOSPC,
                                       "write error");
                    return false;
                }
                o += w;
            }
            pos += r;
        }
    }
    if (seekable && ftruncate(to, size) != 0) {
        mc_error_set_errno(errp, errno, "cannot size stdout");
        return false;
    }
    return true;
}

/* A seekable file for one block's image on stdout: stdout itself when it
 * is a regular file at offset 0 (opened again read-write through
 * /proc/self/fd/1 when it is write-only), else an unnamed temporary file
 * that is copied to stdout at the end. */
static int stdout_image(bool *is_tmp, mc_error **errp)
{
    struct stat st;
    *is_tmp = false;
    if (isatty(STDOUT_FILENO)) {
        mc_error_set(errp, MC_ERR_USAGE, MC_NO_OFFSET, NULL,
                     "refusing to write binary data to a terminal "
                     "(redirect it or name an output directory)");
        return -1;
    }
    if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
        lseek(STDOUT_FILENO, 0, SEEK_CUR) == 0) {
        int fl = fcntl(STDOUT_FILENO, F_GETFL);
        if (fl >= 0 && (fl & (O_ACCMODE | O_APPEND)) == O_RDWR) {
            return STDOUT_FILENO;
        }
        if (fl >= 0 && !(fl & O_APPEND)) {
            /* "> FILE" opens it write-only: open the same file again for
             * reading too (Linux /proc), if that is allowed. */
            int fd = open("/proc/self/fd/1", O_RDWR | O_CLOEXEC);
            struct stat st2;
            if (fd >= 0 && fstat(fd, &st2) == 0 && st2.st_dev == st.st_dev &&
                st2.st_ino == st.st_ino) {
                *is_tmp = false;
                return fd;
            }
            if (fd >= 0) {
                close(fd);
            }
        }
    }
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir) {
        tmpdir = "/tmp";
    }
    int fd = mc_tmpfile(tmpdir, errp);
    if (fd < 0) {
        return -1;
    }
    *is_tmp = true;
    return fd;
}

static bool extract_opt(void *opaque, int opt, const char *arg,
                        int *exit_code)
{
    if (opt != OPT_BLOCK) {
        return false;
    }
    *(const char **)opaque = arg;
    return true;
}

int mc_cmd_extract(int argc, char **argv)
{
    mc_cli_common c = {.progress = -1};
    const char *block = NULL;
    static const struct option longopts[] = {
        MC_CLI_COMMON_LONG,
        {"block", required_argument, NULL, OPT_BLOCK},
        {NULL, 0, NULL, 0},
    };
    const mc_cli_cmdline l = {
        .cmd = "extract", .longopts = longopts, .usage = usage,
        .opt = extract_opt, .opaque = (void *)&block,
        .min_args = 2, .max_args = 2,
        .args_msg = "expected an input and an output directory",
    };
    int code = mc_cli_parse(&l, argc, argv, &c);
    if (code != MC_CLI_GO) {
        return code;
    }
    const char *inpath = argv[optind], *outpath = argv[optind + 1];
    bool to_stdout = strcmp(outpath, "-") == 0;
    if (to_stdout && !block) {
        return mc_cli_usage_error("extract", "'-' (stdout) needs --block NAME");
    }
    mc_error *err = NULL;
    struct stat st;
    if (!to_stdout && lstat(outpath, &st) == 0) {
        mc_error_set(&err, MC_ERR_USAGE, MC_NO_OFFSET, NULL,
                     "already exists (extract makes a new directory)");
        return mc_cli_report(outpath, err);
    }
    mc_input in;
    if ((code = mc_cli_open_stream(&in, inpath, &c)) != 0) {
        return code;
    }

    char *tmpdir = NULL;
    int dfd = -1, state_fd = -1, img_fd = -1;
    bool img_tmp = false;
    const char *errfile = in.name;
    mc_sink state;
    bool have_state = false;
    mc_visitor *inner = NULL;
    bool ok = false;
    if (to_stdout) {
        img_fd = stdout_image(&img_tmp, &err);
        if (img_fd < 0) {
            errfile = "(stdout)";
            goto out;
        }
    } else {
        size_t n = strlen(outpath) + 16;
        tmpdir = mc_malloc(n);
        snprintf(tmpdir, n, "%s.XXXXXX", outpath);
        if (!mkdtemp(tmpdir)) {
            mc_error_set_errno(&err, errno, "cannot create a temporary "
                               "directory beside the output");
            free(tmpdir);
            tmpdir = NULL;
            errfile = outpath;
            goto out;
        }
        mode_t mask = umask(0);
        umask(mask);
        chmod(tmpdir, 0777 & ~mask);
        dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        state_fd = dfd < 0 ? -1
                           : openat(dfd, "state.json",
                                    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                                    0666);
        if (state_fd < 0) {
            mc_error_set_errno(&err, errno, "cannot create %s/state.json",
                               tmpdir);
            errfile = outpath;
            goto out;
        }
        mc_sink_init_fd(&state, state_fd);
        have_state = true;
        mc_json_opts jo = {0};
        inner = mc_json_visitor_new(&state, &jo);
    }
    mc_extract_opts eo = {
        .dirfd = dfd, .block = block, .block_fd = img_fd, .src = in.src,
    };
    mc_visitor *v = mc_extract_visitor_new(&eo, inner);
    ok = mc_cli_read(&in, in.format, v, &c, false, &err);
    mc_visitor_free(v);
    if (ok && have_state) {
        ok = mc_sink_flush(&state, &err);
        if (ok && close(state_fd) != 0) {
            mc_error_set_errno(&err, errno, "write error on state.json");
            ok = false;
        }
        state_fd = -1;
    }
    if (ok && img_tmp) {
        ok = copy_fd(img_fd, STDOUT_FILENO, &err);
        if (!ok) {
            errfile = "(stdout)";
        }
    }
    if (ok && tmpdir) {
        if (rename(tmpdir, outpath) != 0) {
            mc_error_set_errno(&err, errno, "cannot rename the temporary "
                               "directory");
            errfile = outpath;
            ok = false;
        }
    }
out:
    if (have_state) {
        mc_sink_cleanup(&state);
    }
    if (state_fd >= 0) {
        close(state_fd);
    }
    if (dfd >= 0) {
        close(dfd);
    }
    if (img_fd > STDERR_FILENO) {
        close(img_fd);
    }
    if (tmpdir) {
        if (!ok) {
            remove_dir(tmpdir);
        }
        free(tmpdir);
    }
    mc_input_close(&in);
    return ok ? 0 : mc_cli_report(errfile, err);
}
