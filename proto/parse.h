/*  proto/parse.h - numbers from a command line or the environment.

    Every program of dcpool reads its numeric flags through these, so a
    value is accepted or refused the same way everywhere: the whole text
    must be one number (strtoll's or strtod's syntax: leading blanks and a
    sign allowed, nothing after it) inside the caller's range.  Only
    proto_parse_flag prints: the one message for a bad flag value.
*/
#ifndef DCPOOL_PROTO_PARSE_H
#define DCPOOL_PROTO_PARSE_H

/*  A whole decimal integer in [min, max] into *out: 0, or -1 (*out
    untouched) when text is NULL, empty, not a number, has anything after
    the number, overflows, or is out of range. */
int proto_parse_int (const char *text, long long min, long long max, long long *out);

/*  proto_parse_int for a command-line flag: on a bad value, prints
    "PROGRAM: FLAG wants a number from MIN to MAX, not 'TEXT'" on stderr
    and returns -1. */
int proto_parse_flag (const char *program, const char *flag, const char *text,
                      long long min, long long max, long long *out);

/*  The same for a finite number (decimal or strtod's other forms) in
    [min, max]; "nan" and "inf" are refused. */
int proto_parse_double (const char *text, double min, double max, double *out);

#endif
