package org.epoll4j.examples.resp;

/**
 * Incremental parser of one connection's requests: RESP arrays of bulk strings ({@code *2\r\n$3\r\nGET\r\n$1\r\nk\r\n})
 * or inline lines ({@code GET k\r\n}), with Redis's limits and error texts. It keeps its place between calls, so a
 * request arriving in pieces is scanned once, not from its start at every piece, and offsets are relative to the
 * request's first byte, so the caller may move the unparsed bytes between calls. Nothing is sized from a declared
 * length: argument slots grow as arguments arrive and the caller's buffer grows as bytes arrive.
 */
final class RequestParser {
    /** A request is incomplete: keep its bytes and call again with more. */
    static final int NEED_MORE = 0;
    /** A request is parsed: {@link #args()} and {@link #consumed()} describe it (zero arguments: nothing to run). */
    static final int REQUEST = 1;
    /** The bytes are not RESP: reply {@link #error()} and close. */
    static final int ERROR = 2;

    /** Redis's PROTO_INLINE_MAX_SIZE: longest inline request, and longest count line. */
    static final int INLINE_MAX = 64 * 1024;
    /** Redis's proto-max-bulk-len default: longest bulk string. */
    static final long BULK_MAX = 512L * 1024 * 1024;

    private static final int START = 0;
    private static final int ARRAY_HEADER = 1;
    private static final int ARRAY_ARGS = 2;
    private static final int INLINE = 3;

    private final Args args = new Args();
    private int state = START;
    private int declared;
    private int bulkLen = -1;
    private int pos;
    private int scan;
    private int consumed;
    private String error;

    /**
     * Parses the request starting at {@code a[start]}, with {@code a[start, end)} the bytes received so far.
     *
     * @return {@link #NEED_MORE}, {@link #REQUEST} or {@link #ERROR}
     */
    int parse(byte[] a, int start, int end) {
        if (state == START) {
            if (start >= end) {
                return NEED_MORE;
            }
            args.argc = 0;
            pos = 0;
            if (a[start] == '*') {
                state = ARRAY_HEADER;
                scan = 1;
            } else {
                state = INLINE;
                scan = 0;
            }
        }
        if (state == INLINE) {
            return parseInline(a, start, end);
        }
        if (state == ARRAY_HEADER) {
            int cr = indexOf(a, start + scan, end, (byte) '\r');
            if (cr < 0 || cr + 1 >= end) {
                if (cr < 0 && end - start > INLINE_MAX) {
                    return fail("too big mbulk count string");
                }
                scan = (cr < 0 ? end : cr) - start;
                return NEED_MORE;
            }
            if (a[cr + 1] != '\n' || !Numbers.isLong(a, start + 1, cr - start - 1)) {
                return fail("invalid multibulk length");
            }
            long n = Numbers.parseLong(a, start + 1, cr - start - 1);
            if (n > Integer.MAX_VALUE) {
                return fail("invalid multibulk length");
            }
            pos = cr + 2 - start;
            if (n <= 0) {
                return done(a, start, pos); // Redis ignores empty and negative arrays
            }
            declared = (int) n;
            bulkLen = -1;
            scan = pos + 1;
            state = ARRAY_ARGS;
        }
        while (args.argc < declared) {
            if (bulkLen < 0) {
                int p = start + pos;
                if (p >= end) {
                    return NEED_MORE;
                }
                if (a[p] != '$') {
                    return fail("expected '$', got '" + (char) (a[p] & 0xff) + "'");
                }
                int cr = indexOf(a, start + scan, end, (byte) '\r');
                if (cr < 0 || cr + 1 >= end) {
                    if (cr < 0 && end - p > INLINE_MAX) {
                        return fail("too big bulk count string");
                    }
                    scan = (cr < 0 ? end : cr) - start;
                    return NEED_MORE;
                }
                if (a[cr + 1] != '\n' || !Numbers.isLong(a, p + 1, cr - p - 1)) {
                    return fail("invalid bulk length");
                }
                long n = Numbers.parseLong(a, p + 1, cr - p - 1);
                if (n < 0 || n > BULK_MAX) {
                    return fail("invalid bulk length");
                }
                bulkLen = (int) n;
                pos = cr + 2 - start;
            }
            if ((long) start + pos + bulkLen + 2 > end) {
                return NEED_MORE;
            }
            int dataEnd = start + pos + bulkLen;
            if (a[dataEnd] != '\r' || a[dataEnd + 1] != '\n') {
                // Redis skips these two bytes unchecked and loses its place in the stream; we refuse instead.
                return fail("expected CRLF after bulk data");
            }
            args.add(pos, bulkLen);
            pos += bulkLen + 2;
            bulkLen = -1;
            scan = pos + 1;
        }
        return done(a, start, pos);
    }

    private int parseInline(byte[] a, int start, int end) {
        int nl = indexOf(a, start + scan, end, (byte) '\n');
        if (nl < 0) {
            if (end - start > INLINE_MAX) {
                return fail("too big inline request");
            }
            scan = end - start;
            return NEED_MORE;
        }
        int lineEnd = nl > start && a[nl - 1] == '\r' ? nl - 1 : nl;
        boolean quoted = false;
        for (int i = start; i < lineEnd; i++) {
            if (a[i] == '"' || a[i] == '\'') {
                quoted = true;
                break;
            }
        }
        if (quoted) {
            if (!splitQuoted(a, start, lineEnd)) {
                return fail("unbalanced quotes in request");
            }
            int used = nl + 1 - start;
            state = START;
            consumed = used;
            return REQUEST;
        }
        int i = start;
        while (true) {
            while (i < lineEnd && isSpace(a[i])) {
                i++;
            }
            if (i >= lineEnd) {
                break;
            }
            int s = i;
            while (i < lineEnd && !isSpace(a[i])) {
                i++;
            }
            args.add(s - start, i - s);
        }
        return done(a, start, nl + 1 - start);
    }

    /** Redis's sdssplitargs: "double quotes" with \n \r \t \b \a \xHH escapes, 'single quotes' with \'. */
    private boolean splitQuoted(byte[] a, int start, int end) {
        byte[] out = new byte[end - start]; // rare (redis-cli sends arrays): not kept, so idle connections hold none
        int w = 0;
        int i = start;
        while (true) {
            while (i < end && isSpace(a[i])) {
                i++;
            }
            if (i >= end) {
                break;
            }
            int argStart = w;
            boolean inDouble = false;
            boolean inSingle = false;
            boolean done = false;
            while (!done) {
                if (inDouble) {
                    if (i >= end) {
                        return false;
                    }
                    byte c = a[i];
                    if (c == '\\' && i + 3 < end && a[i + 1] == 'x' && hex(a[i + 2]) >= 0 && hex(a[i + 3]) >= 0) {
                        out[w++] = (byte) (hex(a[i + 2]) * 16 + hex(a[i + 3]));
                        i += 3;
                    } else if (c == '\\' && i + 1 < end) {
                        i++;
                        byte e = a[i];
                        out[w++] = e == 'n' ? (byte) '\n' : e == 'r' ? (byte) '\r' : e == 't' ? (byte) '\t'
                                : e == 'b' ? (byte) '\b' : e == 'a' ? (byte) 7 : e;
                    } else if (c == '"') {
                        if (i + 1 < end && !isSpace(a[i + 1])) {
                            return false; // closing quote must be followed by a space or the end
                        }
                        done = true;
                    } else {
                        out[w++] = c;
                    }
                } else if (inSingle) {
                    if (i >= end) {
                        return false;
                    }
                    byte c = a[i];
                    if (c == '\\' && i + 1 < end && a[i + 1] == '\'') {
                        i++;
                        out[w++] = '\'';
                    } else if (c == '\'') {
                        if (i + 1 < end && !isSpace(a[i + 1])) {
                            return false;
                        }
                        done = true;
                    } else {
                        out[w++] = c;
                    }
                } else if (i >= end || isSpace(a[i])) {
                    done = true;
                } else if (a[i] == '"') {
                    inDouble = true;
                } else if (a[i] == '\'') {
                    inSingle = true;
                } else {
                    out[w++] = a[i];
                }
                if (i < end) {
                    i++;
                }
            }
            args.add(argStart, w - argStart);
        }
        args.data = out;
        args.base = 0;
        return true;
    }

    private static int hex(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static boolean isSpace(byte c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x0b || c == '\f';
    }

    private static int indexOf(byte[] a, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private int done(byte[] a, int start, int used) {
        args.data = a;
        args.base = start;
        consumed = used;
        state = START;
        return REQUEST;
    }

    private int fail(String message) {
        error = "ERR Protocol error: " + message;
        state = START;
        return ERROR;
    }

    /** The last request's arguments; valid until the next call and while its bytes stay where they were. */
    Args args() {
        return args;
    }

    /** Bytes the last request took, from its first byte. */
    int consumed() {
        return consumed;
    }

    /** The last error's text, without the leading '-'. */
    String error() {
        return error;
    }

    /**
     * Bytes the request in progress needs in all, from its first byte, when known (inside a bulk string whose
     * length has been read), else -1. Lets the caller size its buffer no larger than what the request can use.
     */
    long expectedLength() {
        return state == ARRAY_ARGS && bulkLen >= 0 ? (long) pos + bulkLen + 2 : -1;
    }

    /** Whether part of a request has been read. */
    boolean inRequest() {
        return state != START;
    }
}
