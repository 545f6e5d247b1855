package org.epoll4j.examples.http;

/**
 * Decodes a chunked request body (RFC 9112 7.1) incrementally, from whatever pieces the reads bring: chunk sizes in
 * hex, chunk extensions (skipped), chunk data handed to a {@link Sink}, the last chunk, and trailer fields (read
 * and dropped). Bounded: a chunk-size line (with its extensions) of at most {@link #MAX_LINE} bytes, a body of at
 * most the configured total, trailers of at most the header limit. No allocation; one per connection, reused.
 */
final class ChunkedDecoder {
    /** Where chunk data goes. */
    interface Sink {
        /** {@code len} bytes of chunk data at {@code a[off]}. */
        void data(byte[] a, int off, int len);
    }

    /** The longest chunk-size line, extensions included. */
    static final int MAX_LINE = 4096;

    private static final int SIZE = 0;
    private static final int EXT = 1;
    private static final int SIZE_LF = 2;
    private static final int DATA = 3;
    private static final int DATA_CR = 4;
    private static final int DATA_LF = 5;
    private static final int TRAILER_START = 6;
    private static final int TRAILER = 7;
    private static final int TRAILER_LF = 8;
    private static final int END_LF = 9;
    private static final int DONE = 10;
    private static final int FAILED = 11;

    private int state = DONE;
    private long size;
    private int digits;
    private int lineBytes;
    private long remaining;
    private long total;
    private int trailerBytes;
    private long maxTotal;
    private int maxTrailer;
    private int error;

    /** Starts a new body. */
    void start(long maxTotal, int maxTrailer) {
        this.maxTotal = maxTotal;
        this.maxTrailer = maxTrailer;
        state = SIZE;
        size = 0;
        digits = 0;
        lineBytes = 0;
        total = 0;
        trailerBytes = 0;
        error = 0;
    }

    /** Whether a body is being decoded (started, neither complete nor failed). */
    boolean active() {
        return state < DONE;
    }

    /** Whether the last body ended with its last chunk and trailers. */
    boolean done() {
        return state == DONE;
    }

    /** The status a failure deserves: 400 for bad syntax, 413 for a body over the limit; 0 if none. */
    int error() {
        return error;
    }

    /** Data bytes decoded so far. */
    long total() {
        return total;
    }

    /**
     * Decodes from {@code a[p, end)} until the body ends, fails, or the bytes run out.
     *
     * @return the offset after the last byte consumed (bytes after the body's end belong to the next request)
     */
    int consume(byte[] a, int p, int end, Sink sink) {
        while (p < end && state < DONE) {
            if (state == DATA) {
                int take = (int) Math.min(remaining, end - p);
                sink.data(a, p, take);
                remaining -= take;
                p += take;
                if (remaining == 0) {
                    state = DATA_CR;
                }
                continue;
            }
            byte b = a[p++];
            switch (state) {
                case SIZE:
                    int d = hex(b);
                    if (d >= 0) {
                        if (++digits > 15) {
                            return fail(p, 413); // 16 hex digits: far beyond any limit (and long's range)
                        }
                        size = size << 4 | d;
                    } else if (digits > 0 && (b == ';' || b == ' ' || b == '\t')) {
                        state = EXT; // BWS ";" ext-name ["=" ext-val]: skipped
                    } else if (digits > 0 && b == '\r') {
                        state = SIZE_LF;
                    } else {
                        return fail(p, 400);
                    }
                    if (++lineBytes > MAX_LINE) {
                        return fail(p, 400);
                    }
                    break;
                case EXT:
                    if (b == '\r') {
                        state = SIZE_LF;
                    } else if ((b >= 0 && b < 0x20 && b != '\t') || b == 0x7f || ++lineBytes > MAX_LINE) {
                        return fail(p, 400); // a bare LF, control bytes, or an endless extension
                    }
                    break;
                case SIZE_LF:
                    if (b != '\n') {
                        return fail(p, 400);
                    }
                    if (size == 0) {
                        state = TRAILER_START;
                    } else if (size > maxTotal - total) {
                        return fail(p, 413);
                    } else {
                        total += size;
                        remaining = size;
                        state = DATA;
                    }
                    break;
                case DATA_CR:
                    if (b != '\r') {
                        return fail(p, 400); // the chunk was longer than its size said
                    }
                    state = DATA_LF;
                    break;
                case DATA_LF:
                    if (b != '\n') {
                        return fail(p, 400);
                    }
                    state = SIZE;
                    size = 0;
                    digits = 0;
                    lineBytes = 0;
                    break;
                case TRAILER_START:
                case TRAILER:
                    if (b == '\r') {
                        state = state == TRAILER_START ? END_LF : TRAILER_LF;
                    } else if (b == '\n' || (b >= 0 && b < 0x20 && b != '\t') || b == 0x7f
                            || ++trailerBytes > maxTrailer) {
                        return fail(p, 400);
                    } else {
                        state = TRAILER;
                    }
                    break;
                case TRAILER_LF:
                    if (b != '\n') {
                        return fail(p, 400);
                    }
                    state = TRAILER_START;
                    break;
                case END_LF:
                    if (b != '\n') {
                        return fail(p, 400);
                    }
                    state = DONE;
                    break;
                default:
                    throw new IllegalStateException("state " + state);
            }
        }
        return p;
    }

    private int fail(int p, int status) {
        state = FAILED;
        error = status;
        return p;
    }

    private static int hex(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        return -1;
    }
}
