/* The readers' newer helpers: the format of a file by its content, the
 * string-label dictionary, CSV string labels and header detection around
 * them, the --delimiter option, and data without labels (predict). Each
 * file is written here, under the name the case is about (no extension,
 * .txt), so that the expected values sit next to the input. No OpenCL
 * device is needed. */
#define _POSIX_C_SOURCE 200809L /* mkfifo */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "io/dataio.h"
#include "io/read_internal.h"
#include "testutil.h"

#define PUT(name, text) csm_test_put(name, text, sizeof(text) - 1)

static csm_format sniff(const char *text)
{
    return csm_sniff_format((const unsigned char *)text, strlen(text));
}

START_TEST(sniff_text_formats)
{
    ck_assert_int_eq(sniff("+1 1:0.5 3:2\n-1 2:1\n"), CSM_FORMAT_LIBSVM);
    ck_assert_int_eq(sniff("3 qid:7 1:0.5\n"), CSM_FORMAT_LIBSVM);
    ck_assert_int_eq(sniff("1:0.5 3:2\n"), CSM_FORMAT_LIBSVM);           /* no labels */
    ck_assert_int_eq(sniff("# comment, with a comma\n\n1 4:1\n"), CSM_FORMAT_LIBSVM);
    ck_assert_int_eq(sniff("2\n1 1:3\n"), CSM_FORMAT_LIBSVM);            /* no features */
    ck_assert_int_eq(sniff("0,1.5,2\n"), CSM_FORMAT_CSV);
    ck_assert_int_eq(sniff("a;b;c\r\n1;2;3\r\n"), CSM_FORMAT_CSV);
    ck_assert_int_eq(sniff("\xEF\xBB\xBF" "1\t2\t3\n"), CSM_FORMAT_CSV);
    ck_assert_int_eq(sniff("5.1,3.5,setosa"), CSM_FORMAT_CSV);            /* cut line */
    ck_assert_int_eq(sniff(""), CSM_FORMAT_AUTO);
    ck_assert_int_eq(sniff("\n\n  \n"), CSM_FORMAT_AUTO);
    ck_assert_int_eq(sniff("hello world\n"), CSM_FORMAT_AUTO);
    /* numbers separated by blanks: NumPy's savetxt (its header a comment),
     * R's write.table (a header of words, quoted row names) */
    ck_assert_int_eq(sniff("5.099999999999999645e+00 3.5e+00 0.0e+00\n"), CSM_FORMAT_CSV);
    ck_assert_int_eq(sniff("# x0 x1 y\n  1.5  2.25 0\n"), CSM_FORMAT_CSV);
    ck_assert_int_eq(sniff("\"a\" \"b\" \"y\"\n\"1\" 5.1 3.5 \"setosa\"\n"), CSM_FORMAT_CSV);
    ck_assert_int_eq(sniff("a b\nc d\n1 2\n"), CSM_FORMAT_AUTO); /* two lines of words */
    ck_assert_int_eq(sniff("1 2:0.5 3:1\n"), CSM_FORMAT_LIBSVM);
    /* a libsvm comment may hold a CSV delimiter; a '#' inside a cell is data */
    ck_assert_int_eq(sniff("+1 1:0.5 2:0.3 # from a, b; c\n"), CSM_FORMAT_LIBSVM);
    ck_assert_int_eq(sniff("-1\t# a, b\n"), CSM_FORMAT_LIBSVM);
    ck_assert_int_eq(sniff("a#1,b,c\n"), CSM_FORMAT_CSV);
}
END_TEST

/* Writes `text` into the named pipe `path` from a child process (the
 * reader opens the pipe once and waits for it). */
static pid_t write_fifo(const char *path, const char *text)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        FILE *f = fopen(path, "w");
        if (!f)
            _exit(1);
        fputs(text, f);
        _exit(fclose(f) == 0 ? 0 : 1);
    }
    return pid;
}

/* A named pipe is opened once, by the reader, whatever its name says: the
 * guess peeks at the stream the reader goes on with, so a pipe whose name
 * does not tell is guessed from its content and read whole (the guess
 * used to open it a second time, and lose what it had read); a missing
 * file gets the plain "cannot open". */
START_TEST(guess_pipes_and_missing)
{
    char path[8192], err[1024] = "";
    csm_table t;
    int status;
    const char *names[] = {"p.csv", "p"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", csm_test_dir(), names[i]);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        pid_t pid = write_fifo(path, "1,0.5,2\n0,1,3\n1,2,4\n");
        ck_assert_msg(csm_read_table(path, NULL, &t, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_int_eq(t.format, CSM_FORMAT_CSV);
        ck_assert_uint_eq(t.n, 3);
        ck_assert(csm_table_value(&t, 2, 1) == 4.0);
        csm_table_free(&t);
    }
    snprintf(path, sizeof path, "%s/missing.csv", csm_test_dir());
    ck_assert_int_ne(csm_read_table(path, NULL, &t, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "cannot open") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "guessed") == NULL, "%s", err);
}
END_TEST

/* "-" is standard input: guessed from the first block, which the reader
 * then reads again from the stream's buffer; messages name "<stdin>". */
START_TEST(standard_input)
{
    char err[1024] = "";
    csm_table t;
    const char *path = PUT("in", "# x0 x1 y\n1.5 2 0\n-1 0.25 1\n");
    csm_read_options o;
    csm_read_options_init(&o);
    o.label_column = -1;
    ck_assert_ptr_nonnull(freopen(path, "rb", stdin));
    ck_assert_msg(csm_read_table("-", &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.format, CSM_FORMAT_CSV);
    ck_assert_int_eq(t.delimiter, CSM_DELIM_BLANKS);
    ck_assert_uint_eq(t.n, 2);
    ck_assert(csm_table_value(&t, 1, 1) == 0.25);
    ck_assert_str_eq(t.feature_names[1], "x1"); /* savetxt's header, a comment */
    ck_assert_str_eq(csm_display_name("-"), "<stdin>");
    csm_table_free(&t);
    path = PUT("bad", "1,x,2\n");
    ck_assert_ptr_nonnull(freopen(path, "rb", stdin));
    o.header = 0;
    ck_assert_int_ne(csm_read_table("-", &o, &t, err, sizeof err), 0);
    ck_assert_msg(strncmp(err, "<stdin>:1: ", 11) == 0, "%s", err);
}
END_TEST

/* n bytes of data as one gzip member, less its last `cut` bytes, into
 * DIR/name. */
static const char *put_gz_bytes(const char *name, const void *data, size_t len, size_t cut)
{
    static unsigned char out[4096];
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = sizeof out;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = sizeof out - z.avail_out;
    deflateEnd(&z);
    ck_assert_uint_gt(n, cut);
    return csm_test_put(name, out, n - cut);
}

static const char *put_gz(const char *name, const char *text, size_t cut)
{
    return put_gz_bytes(name, text, strlen(text), cut);
}

/* The guess peeks at inflated bytes: gzip on standard input is guessed
 * from its content as a plain file is. A member cut short is the error of
 * the read, named "<stdin>", also for IDX, whose reader takes bytes, not
 * lines (the guess met the damage first and kept it for the reader); a
 * file that is damaged gzip from its first bytes, whose name does not
 * tell, gets the gzip error, not "cannot tell the format". */
START_TEST(standard_input_gzip)
{
    char err[1024] = "";
    csm_table t;
    csm_read_options o;
    csm_read_options_init(&o);
    o.label_column = -1;
    const char *path = put_gz("in.gz", "# x0 x1 y\n1.5 2 0\n-1 0.25 1\n", 0);
    ck_assert_ptr_nonnull(freopen(path, "rb", stdin));
    ck_assert_msg(csm_read_table("-", &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.format, CSM_FORMAT_CSV);
    ck_assert_int_eq(t.delimiter, CSM_DELIM_BLANKS);
    ck_assert_uint_eq(t.n, 2);
    ck_assert(csm_table_value(&t, 1, 1) == 0.25);
    csm_table_free(&t);
    csm_read_options_init(&o);
    static const char svm[] = "+1 1:0.5\n-1 2:2\n";
    path = put_gz("svm.gz", svm, 0);
    ck_assert_ptr_nonnull(freopen(path, "rb", stdin));
    ck_assert_msg(csm_read_table("-", &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.format, CSM_FORMAT_LIBSVM);
    ck_assert_uint_eq(t.n, 2);
    csm_table_free(&t);
    /* its trailer cut: the data is there, the check is not */
    path = put_gz("cut.gz", svm, 6);
    ck_assert_ptr_nonnull(freopen(path, "rb", stdin));
    ck_assert_int_ne(csm_read_table("-", &o, &t, err, sizeof err), 0);
    ck_assert_msg(strncmp(err, "<stdin>:", 8) == 0, "%s", err);
    ck_assert_msg(strstr(err, "gzip member 1 is cut short") != NULL, "%s", err);
    static const char img[] = {0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 51, 9, 0};
    path = put_gz_bytes("idx.gz", img, sizeof img, 6);
    o.no_labels = 1;
    ck_assert_ptr_nonnull(freopen(path, "rb", stdin));
    ck_assert_int_ne(csm_read_table("-", &o, &t, err, sizeof err), 0);
    ck_assert_msg(strncmp(err, "<stdin>: byte ", 14) == 0, "%s", err);
    ck_assert_msg(strstr(err, "gzip member 1 is cut short") != NULL, "%s", err);
    o.no_labels = 0;
    /* an unknown compression method in the header: nothing inflates */
    path = put_gz("damaged", svm, 0);
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 2, SEEK_SET), 0);
    ck_assert_int_eq(fputc(7, f), 7);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_ne(csm_read_table(path, &o, &t, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "corrupt or truncated gzip data") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "cannot tell") == NULL, "%s", err);
}
END_TEST

/* IDX images on standard input: no name to find the labels file from, so
 * the error says to give it with --labels; predict's detection reads them
 * as data without labels; --labels FILE reads them. */
START_TEST(standard_input_idx)
{
    static const char img[] = {0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 51, (char)255, 0};
    static const char lab[] = {0, 0, 0x08, 1, 0, 0, 0, 2, 7, 3};
    const char *labels = strdup(csm_test_put("l-labels-idx1-ubyte", lab, sizeof lab));
    const char *path = csm_test_put("i-images-idx3-ubyte", img, sizeof img);
    csm_read_options o;
    csm_read_options_init(&o);
    csm_table t;
    char err[1024] = "";
    ck_assert_ptr_nonnull(freopen(path, "rb", stdin));
    ck_assert_int_ne(csm_read_table("-", &o, &t, err, sizeof err), 0);
    ck_assert_msg(strncmp(err, "<stdin>: ", 9) == 0, "%s", err);
    ck_assert_msg(strstr(err, "--labels FILE") != NULL, "%s", err);
    ck_assert_ptr_nonnull(freopen(path, "rb", stdin));
    o.no_labels = -1;
    ck_assert_msg(csm_read_table("-", &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.format, CSM_FORMAT_IDX);
    ck_assert_int_eq(t.unlabeled, 1);
    ck_assert_uint_eq(t.n, 2);
    csm_table_free(&t);
    ck_assert_ptr_nonnull(freopen(path, "rb", stdin));
    o.no_labels = 0;
    o.labels_path = labels;
    ck_assert_msg(csm_read_table("-", &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.labels[0], 7);
    ck_assert_int_eq(t.labels[1], 3);
    ck_assert(csm_table_value(&t, 0, 1) == 51 / 255.0);
    csm_table_free(&t);
    free((void *)labels);
}
END_TEST

START_TEST(sniff_idx_magic)
{
    const unsigned char images[] = {0, 0, 0x08, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2};
    const unsigned char labels[] = {0, 0, 0x08, 1, 0, 0, 0, 1, 7};
    const unsigned char f64[] = {0, 0, 0x0E, 2, 0, 0, 0, 1};
    const unsigned char bad_type[] = {0, 0, 0x07, 3, 0, 0, 0, 1};
    const unsigned char bad_dims[] = {0, 0, 0x08, 0, 0, 0, 0, 1};
    ck_assert_int_eq(csm_sniff_format(images, sizeof images), CSM_FORMAT_IDX);
    ck_assert_int_eq(csm_sniff_format(labels, sizeof labels), CSM_FORMAT_IDX);
    ck_assert_int_eq(csm_sniff_format(f64, sizeof f64), CSM_FORMAT_IDX);
    ck_assert_int_ne(csm_sniff_format(bad_type, sizeof bad_type), CSM_FORMAT_IDX);
    ck_assert_int_ne(csm_sniff_format(bad_dims, sizeof bad_dims), CSM_FORMAT_IDX);
    ck_assert_int_ne(csm_sniff_format(images, 3), CSM_FORMAT_IDX);
}
END_TEST

/* liblinear's heart_scale has no extension; a libsvm file called .txt
 * used to be read as CSV ("no delimiter found"). */
START_TEST(read_by_content)
{
    static const char svm[] = "+1 1:0.5 3:-1\n-1 2:0.25\n";
    const char *names[] = {"heart_scale", "train.txt"};
    for (int i = 0; i < 2; i++) {
        const char *path = csm_test_put(names[i], svm, sizeof svm - 1);
        csm_table t;
        char err[1024] = "";
        ck_assert_msg(csm_read_table(path, NULL, &t, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(t.format, CSM_FORMAT_LIBSVM);
        ck_assert_uint_eq(t.n, 2);
        ck_assert_uint_eq(t.k, 3);
        ck_assert_int_eq(t.labels[0], 1);
        ck_assert_int_eq(t.labels[1], -1);
        ck_assert(csm_table_value(&t, 0, 2) == -1.0);
        ck_assert(csm_table_value(&t, 1, 1) == 0.25);
        csm_table_free(&t);
        unlink(path);
    }
    const char *path = PUT("data", "1,0.5,2\n0,1,3\n");
    csm_table t;
    char err[1024] = "";
    ck_assert_msg(csm_read_table(path, NULL, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.format, CSM_FORMAT_CSV);
    ck_assert_int_eq(t.delimiter, ',');
    ck_assert_uint_eq(t.k, 2);
    csm_table_free(&t);
    unlink(path);
}
END_TEST

/* A read that fails in a guessed format names the guess and --format. */
START_TEST(failed_guess_is_named)
{
    /* looks like libsvm on its first line, is not on its second */
    const char *path = PUT("mixed", "1 1:0.5\n1,2,3\n");
    csm_table t;
    char err[1024] = "";
    ck_assert_int_ne(csm_read_table(path, NULL, &t, err, sizeof err), 0);
    ck_assert_msg(strstr(err, ":2: ") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "read as libsvm, guessed from the content") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "--format") != NULL, "%s", err);
    unlink(path);
    /* a guess by name is named too */
    path = PUT("x.csv", "1 1:0.5\n");
    ck_assert_int_ne(csm_read_table(path, NULL, &t, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "read as csv, guessed from the file name") != NULL, "%s", err);
    unlink(path);
    /* no guess: the format was given */
    csm_read_options o;
    csm_read_options_init(&o);
    o.format = CSM_FORMAT_CSV;
    path = PUT("y", "1 1:0.5\n");
    ck_assert_int_ne(csm_read_table(path, &o, &t, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "guessed") == NULL, "%s", err);
    unlink(path);
    /* nothing to guess from */
    path = PUT("z", "hello\n");
    ck_assert_int_ne(csm_read_table(path, NULL, &t, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "cannot tell the format") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "--format") != NULL, "%s", err);
    unlink(path);
}
END_TEST

START_TEST(label_dict_sorts_by_bytes)
{
    csm_label_dict d;
    memset(&d, 0, sizeof d);
    const char *in[] = {"virginica", "setosa", "virginica", "Zeta", "versicolor", "setosa"};
    int64_t y[6];
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(csm_label_dict_add(&d, in[i], strlen(in[i]), &y[i]), 0);
    ck_assert_uint_eq(d.n, 4);
    char **names = NULL;
    size_t m = 0;
    ck_assert_int_eq(csm_label_dict_finish(&d, y, 6, &names, &m), 0);
    ck_assert_uint_eq(m, 4);
    /* byte order: upper case first */
    const char *want[] = {"Zeta", "setosa", "versicolor", "virginica"};
    for (int c = 0; c < 4; c++)
        ck_assert_str_eq(names[c], want[c]);
    const int64_t want_y[] = {3, 1, 3, 0, 2, 1};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(y[i], want_y[i]);
    for (size_t c = 0; c < m; c++)
        free(names[c]);
    free(names);
    ck_assert_uint_eq(d.n, 0);
}
END_TEST

START_TEST(label_dict_grows)
{
    /* well past the first table size: every name keeps its index */
    csm_label_dict d;
    memset(&d, 0, sizeof d);
    enum { N = 5000 };
    int64_t *y = malloc(2 * N * sizeof *y);
    char t[32];
    for (int i = 0; i < 2 * N; i++) {
        int w = snprintf(t, sizeof t, "c%05d", (i * 7919) % N);
        ck_assert_int_eq(csm_label_dict_add(&d, t, (size_t)w, &y[i]), 0);
    }
    ck_assert_uint_eq(d.n, N);
    char **names = NULL;
    size_t m = 0;
    ck_assert_int_eq(csm_label_dict_finish(&d, y, 2 * N, &names, &m), 0);
    ck_assert_uint_eq(m, N);
    for (int i = 0; i < 2 * N; i++)
        ck_assert_int_eq(y[i], (i * 7919) % N); /* "c%05d" sorts as the number */
    for (size_t c = 0; c < m; c++)
        free(names[c]);
    free(names);
    free(y);
    /* a NUL inside a name is refused */
    int64_t ix;
    ck_assert_int_ne(csm_label_dict_add(&d, "a\0b", 3, &ix), 0);
    csm_label_dict_free(&d);
}
END_TEST

START_TEST(csv_string_labels)
{
    const char *path = PUT("iris.csv", "sepal,petal,species\n"
                                       "5.1,1.4,setosa\n"
                                       "6.3,6,virginica\n"
                                       "5.9,4.2,versicolor\n"
                                       "5,1.5,setosa\n");
    csm_read_options o;
    csm_read_options_init(&o);
    o.label_column = -1;
    csm_table t;
    char err[1024] = "";
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.header, 1);
    ck_assert_uint_eq(t.n, 4);
    ck_assert_uint_eq(t.k, 2);
    ck_assert_uint_eq(t.n_label_names, 3);
    ck_assert_str_eq(t.label_names[0], "setosa");
    ck_assert_str_eq(t.label_names[1], "versicolor");
    ck_assert_str_eq(t.label_names[2], "virginica");
    const int64_t want[] = {0, 2, 1, 0};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(t.labels[i], want[i]);
    ck_assert(csm_table_value(&t, 1, 0) == 6.3);
    csm_table_free(&t);

    /* no header line: a string label that occurs again does not make line 1
     * a header, however far below (past the rows that decide the types) */
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("5.1,1.4,setosa\n", f);
    for (int i = 0; i < 500; i++)
        fputs("6.3,6,virginica\n", f);
    fputs("5,1.5,setosa\n", f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.header, 0);
    ck_assert_uint_eq(t.n, 502);
    ck_assert_uint_eq(t.n_label_names, 2);
    csm_table_free(&t);
    /* nor does one that never occurs again in a row of values such as
     * 5.1: names are integers or text */
    path = PUT("iris2.csv", "5.1,1.4,setosa\n6.3,6,virginica\n5.9,4.2,virginica\n");
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.header, 0);
    ck_assert_uint_eq(t.n, 3);
    csm_table_free(&t);
    /* in a row of integers it does: a text label over text labels, found
     * nowhere else in the file, is the rule's last case (pandas writes 0,
     * 1, ..., y over integer pixels and class names); --no-header reads it
     * as data */
    path = PUT("pixels.csv", "0,1,y\n0,255,cat\n17,3,dog\n4,0,cat\n");
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.header, 1);
    ck_assert_int_eq(t.header_by_label, 1);
    ck_assert_uint_eq(t.n, 3);
    ck_assert_uint_eq(t.n_label_names, 2);
    ck_assert_str_eq(t.label_names[0], "cat");
    ck_assert_str_eq(t.label_names[1], "dog");
    ck_assert_int_eq(t.labels[0], 0);
    ck_assert_int_eq(t.labels[1], 1);
    ck_assert_int_eq(t.labels[2], 0);
    ck_assert(csm_table_value(&t, 0, 1) == 255.0);
    ck_assert(csm_table_value(&t, 2, 0) == 4.0);
    ck_assert_str_eq(t.feature_names[1], "1");
    ck_assert_str_eq(t.label_name, "y");
    csm_table_free(&t);
    o.header = 0;
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.header, 0);
    ck_assert_uint_eq(t.n, 4);
    ck_assert_uint_eq(t.n_label_names, 3);
    csm_table_free(&t);
    o.header = -1;

    /* integers and names mix: integers become their text */
    path = PUT("mixed.csv", "2.0,1\n10,2\ncat,3\n");
    csm_read_options_init(&o);
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(t.n_label_names, 3);
    ck_assert_str_eq(t.label_names[0], "10");
    ck_assert_str_eq(t.label_names[1], "2");
    ck_assert_str_eq(t.label_names[2], "cat");
    ck_assert_int_eq(t.labels[0], 1);
    ck_assert_int_eq(t.labels[1], 0);
    ck_assert_int_eq(t.labels[2], 2);
    csm_table_free(&t);

    /* a fraction is still an error: a feature column taken for the label */
    path = PUT("frac.csv", "setosa,1\n6.3,2\n");
    ck_assert_int_ne(csm_read_table(path, &o, &t, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "label '6.3' in column 0 ('setosa'): not an integer") != NULL,
                  "%s", err);
    ck_assert_msg(strstr(err, "--label-column") != NULL, "%s", err);
}
END_TEST

START_TEST(csv_delimiter_option)
{
    ck_assert_str_eq(csm_delimiter_name(';'), ";");
    ck_assert_str_eq(csm_delimiter_name('\t'), "tab");
    ck_assert_str_eq(csm_delimiter_name(0), "auto");
    int d = -1;
    ck_assert_int_eq(csm_parse_delimiter("tab", &d), 0);
    ck_assert_int_eq(d, '\t');
    ck_assert_int_eq(csm_parse_delimiter(";", &d), 0);
    ck_assert_int_eq(d, ';');
    ck_assert_int_eq(csm_parse_delimiter("auto", &d), 0);
    ck_assert_int_eq(d, 0);
    ck_assert_int_ne(csm_parse_delimiter("|", &d), 0);

    /* a label holding commas: detection takes ',' and fails; ';' reads it */
    const char *path = PUT("names.csv", "1.5;Smith, J., and Co\n2.5;Doe, A., and Co\n");
    csm_read_options o;
    csm_read_options_init(&o);
    o.label_column = -1;
    csm_table t;
    char err[1024] = "";
    ck_assert_int_ne(csm_read_table(path, &o, &t, err, sizeof err), 0);
    o.delimiter = ';';
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.delimiter, ';');
    ck_assert_uint_eq(t.k, 1);
    ck_assert_str_eq(t.label_names[0], "Doe, A., and Co");
    ck_assert_int_eq(t.labels[0], 1);
    csm_table_free(&t);
}
END_TEST

START_TEST(csv_no_labels)
{
    const char *path = PUT("x.csv", "1,0.5,2\n3,4,5\n");
    csm_read_options o;
    csm_read_options_init(&o);
    csm_table t;
    char err[1024] = "";
    /* detect: 3 columns are the 3 features */
    o.no_labels = -1;
    o.n_features = 3;
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.unlabeled, 1);
    ck_assert_uint_eq(t.k, 3);
    ck_assert(csm_table_value(&t, 0, 0) == 1.0);
    ck_assert(csm_table_value(&t, 0, 1) == 0.5);
    ck_assert_int_eq(t.labels[1], 0);
    csm_table_free(&t);
    /* detect: 3 columns for 2 features hold a label */
    o.n_features = 2;
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.unlabeled, 0);
    ck_assert_uint_eq(t.k, 2);
    ck_assert_int_eq(t.labels[1], 3);
    ck_assert(csm_table_value(&t, 0, 0) == 0.5);
    csm_table_free(&t);
    /* forced */
    o.no_labels = 1;
    o.n_features = 0;
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.unlabeled, 1);
    ck_assert_uint_eq(t.k, 3);
    csm_table_free(&t);
    /* one feature, no delimiter at all: forced, or detected for a 1-feature model */
    path = PUT("one.csv", "0.5\n2\n");
    o.no_labels = -1;
    o.n_features = 1;
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.unlabeled, 1);
    ck_assert_uint_eq(t.k, 1);
    csm_table_free(&t);
    o.no_labels = 1;
    o.n_features = 0;
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(t.k, 1);
    ck_assert(csm_table_value(&t, 1, 0) == 2.0);
    csm_table_free(&t);
}
END_TEST

START_TEST(libsvm_no_labels)
{
    const char *path = PUT("x.svm", "1:0.5 3:2\n2:1\n");
    csm_read_options o;
    csm_read_options_init(&o);
    csm_table t;
    char err[1024] = "";
    /* by default the first token must be a label */
    ck_assert_int_ne(csm_read_table(path, &o, &t, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "must start with the label") != NULL, "%s", err);
    o.no_labels = -1;
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.unlabeled, 1);
    ck_assert_uint_eq(t.n, 2);
    ck_assert_uint_eq(t.k, 3);
    ck_assert(csm_table_value(&t, 0, 0) == 0.5);
    ck_assert(csm_table_value(&t, 0, 2) == 2.0);
    ck_assert(csm_table_value(&t, 1, 1) == 1.0);
    csm_table_free(&t);
    /* detection keeps labels that are there */
    path = PUT("y.svm", "4 1:0.5\n");
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.unlabeled, 0);
    ck_assert_int_eq(t.labels[0], 4);
    csm_table_free(&t);
}
END_TEST

START_TEST(idx_no_labels)
{
    /* 2 images of 1 x 2 pixels, and no labels file beside them */
    static const char img[] = {0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 51, (char)255, 0};
    const char *path = csm_test_put("t-images-idx3-ubyte", img, sizeof img);
    csm_read_options o;
    csm_read_options_init(&o);
    csm_table t;
    char err[1024] = "";
    ck_assert_int_ne(csm_read_table(path, &o, &t, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "no labels file") != NULL, "%s", err);
    o.no_labels = -1;
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.unlabeled, 1);
    ck_assert_uint_eq(t.n, 2);
    ck_assert_uint_eq(t.k, 2);
    ck_assert(csm_table_value(&t, 0, 1) == 51 / 255.0);
    ck_assert(csm_table_value(&t, 1, 0) == 1.0);
    csm_table_free(&t);
    /* a labels file given as the images stays an error */
    path = csm_test_put("t-labels-idx1-ubyte", img, sizeof img);
    ck_assert_int_ne(csm_read_table(path, &o, &t, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "looks like a labels file") != NULL, "%s", err);
}
END_TEST

static Suite *detect_suite(void)
{
    Suite *s = suite_create("io_detect");
    TCase *tc = tcase_create("detect");
    tcase_add_checked_fixture(tc, csm_test_dir_make, csm_test_dir_remove);
    tcase_add_test(tc, sniff_text_formats);
    tcase_add_test(tc, sniff_idx_magic);
    tcase_add_test(tc, guess_pipes_and_missing);
    tcase_add_test(tc, standard_input);
    tcase_add_test(tc, standard_input_gzip);
    tcase_add_test(tc, standard_input_idx);
    tcase_add_test(tc, read_by_content);
    tcase_add_test(tc, failed_guess_is_named);
    tcase_add_test(tc, label_dict_sorts_by_bytes);
    tcase_add_test(tc, label_dict_grows);
    tcase_add_test(tc, csv_string_labels);
    tcase_add_test(tc, csv_delimiter_option);
    tcase_add_test(tc, csv_no_labels);
    tcase_add_test(tc, libsvm_no_labels);
    tcase_add_test(tc, idx_no_labels);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return csm_test_main(detect_suite(), 0);
}
