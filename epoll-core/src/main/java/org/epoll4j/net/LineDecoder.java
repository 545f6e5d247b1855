package org.epoll4j.net;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Cuts a byte stream into lines ended by {@code \n}; a {@code \r} just before the {@code \n} is stripped too. The
 * terminator is not part of the line.
 *
 * <pre>{@code
 * TcpServer.builder(reactor)
 *         .handlerFactory(() -> LineDecoder.handler(8192, (conn, line) -> conn.write(line + "\n")))
 *         .start();
 * }</pre>
 *
 * <p>A line that lies whole inside one read is handed over as a view of the read buffer, without copying; only the
 * unfinished tail of a read is copied, into a per-connection buffer that is dropped as soon as its line is complete
 * (an idle connection holds none). A line longer than the limit fails with a {@link FrameTooLongException} as soon
 * as that is certain, without buffering more than the limit. One decoder serves one connection; it is not
 * thread-safe (use it on the connection's reactor thread).
 */
public final class LineDecoder implements FrameDecoder {
    private static final int INITIAL_TAIL = 256;

    private final int maxLineLength;
    private ByteBuffer tail; // the unfinished line, in write mode; null when there is none
    private boolean discarding; // skipping the rest of a too-long line, up to its '\n'

    /**
     * A decoder for lines of at most {@code maxLineLength} bytes, not counting the terminator.
     *
     * @param maxLineLength 1 or more
     * @throws IllegalArgumentException if {@code maxLineLength} is less than 1
     */
    public LineDecoder(int maxLineLength) {
        if (maxLineLength < 1 || maxLineLength == Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxLineLength must be 1.." + (Integer.MAX_VALUE - 1) + ": "
                    + maxLineLength);
        }
        this.maxLineLength = maxLineLength;
    }

    /**
     * A handler for one connection that hands each line, decoded as UTF-8, to {@code onLine}; a line over the limit
     * closes the connection with a {@link FrameTooLongException} (a {@link FrameHandler} can answer first, or skip
     * it: {@link FrameHandler#onFrameTooLong}); after {@link Connection#pauseReading()} no further frame is delivered
     * until reading resumes. If {@code onLine} is a {@link FrameHandler} it
     * also gets the connection's lifecycle callbacks. Use it through {@link TcpServer.Builder#handlerFactory} (one
     * handler per connection).
     *
     * @param maxLineLength the longest line in bytes, without the terminator
     * @param onLine        receives each line
     * @return a new handler
     */
    public static ConnectionHandler handler(int maxLineLength, FrameListener<String> onLine) {
        Objects.requireNonNull(onLine, "onLine");
        return DecodingHandler.ofUtf8(new LineDecoder(maxLineLength), onLine);
    }

    /**
     * Like {@link #handler(int, FrameListener)}, but hands each line over as bytes (a view valid during the call);
     * a {@link FrameHandler} gets the lifecycle callbacks too.
     *
     * @param maxLineLength the longest line in bytes, without the terminator
     * @param onLine        receives each line
     * @return a new handler
     */
    public static ConnectionHandler bufferHandler(int maxLineLength, FrameListener<ByteBuffer> onLine) {
        Objects.requireNonNull(onLine, "onLine");
        return DecodingHandler.of(new LineDecoder(maxLineLength), onLine);
    }

    /** The longest line accepted, in bytes without the terminator. */
    public int maxLineLength() {
        return maxLineLength;
    }

    /** Bytes of an unfinished line held from earlier reads. */
    public int pending() {
        return tail == null ? 0 : tail.position();
    }

    /** Bytes of heap held for an unfinished line (for tests: it must follow what arrived, not what was declared). */
    int bufferCapacity() {
        return tail == null ? 0 : tail.capacity();
    }

    /** Drops any unfinished line (e.g. when the connection closes). */
    @Override
    public void release() {
        tail = null;
        discarding = false;
    }

    /**
     * Consumes {@code data} (position to limit) and hands every line it completes to {@code listener}, in order;
     * the rest of an unfinished line is kept for the next call. Each line is a buffer positioned on the line's
     * bytes, valid only during the call. On return {@code data} is consumed (position at its limit), except that
     * decoding stops after a line once {@code connection} is closed or its reading is paused
     * ({@link Connection#isReadingPaused()}): {@code data}'s position is then where the next line starts, and the
     * caller passes the rest again once reading resumes.
     *
     * <p>A line over the limit throws a {@link FrameTooLongException}, leaving {@code data}'s position after the
     * bytes of it seen so far; calling again skips the rest of that line (up to its {@code \n}) and goes on.
     *
     * @param connection passed to {@code listener}; may be {@code null}
     * @param data       the bytes read
     * @param listener   receives each line
     * @throws FrameTooLongException if a line is longer than the limit (nothing of it is kept)
     * @throws Exception             whatever {@code listener} throws
     */
    @Override
    public void decode(Connection connection, ByteBuffer data, FrameListener<ByteBuffer> listener) throws Exception {
        final int end = data.limit();
        int pos = data.position();
        try {
            while (pos < end) {
                int nl = indexOfNewline(data, pos, end);
                if (discarding) {
                    // the rest of a too-long line the handler chose to skip
                    if (nl < 0) {
                        pos = end;
                        break;
                    }
                    discarding = false;
                    pos = nl + 1;
                    continue;
                }
                if (nl < 0) {
                    if (!keep(data, pos, end)) {
                        discarding = true;
                        long seen = (long) end - pos;
                        pos = end;
                        throw tooLong(seen);
                    }
                    pos = end;
                    break;
                }
                int lineStart = pos;
                pos = nl + 1; // where the next line starts, whatever happens to this one
                if (tail == null) {
                    int len = nl - lineStart;
                    if (len > 0 && data.get(nl - 1) == '\r') {
                        len--;
                    }
                    if (len > maxLineLength) {
                        throw tooLong(len);
                    }
                    data.limit(lineStart + len).position(lineStart);
                    listener.onFrame(connection, data);
                    data.limit(end);
                } else {
                    long have = pending();
                    if (!keep(data, lineStart, nl)) {
                        throw tooLong(have + nl - lineStart);
                    }
                    ByteBuffer line = tail.flip();
                    tail = null;
                    int len = line.limit();
                    if (len > 0 && line.get(len - 1) == '\r') {
                        line.limit(--len);
                    }
                    if (len > maxLineLength) {
                        throw tooLong(len);
                    }
                    listener.onFrame(connection, line);
                }
                if (connection != null && (!connection.isOpen() || connection.isReadingPaused())) {
                    break;
                }
            }
        } finally {
            data.limit(end).position(pos);
        }
    }

    private static int indexOfNewline(ByteBuffer data, int from, int end) {
        if (data.hasArray()) {
            byte[] a = data.array();
            int off = data.arrayOffset();
            for (int i = from + off, e = end + off; i < e; i++) {
                if (a[i] == '\n') {
                    return i - off;
                }
            }
            return -1;
        }
        for (int i = from; i < end; i++) {
            if (data.get(i) == '\n') {
                return i;
            }
        }
        return -1;
    }

    /**
     * Appends data[from, to) to the unfinished line; false (and nothing kept) once the line cannot fit the limit.
     */
    private boolean keep(ByteBuffer data, int from, int to) {
        int n = to - from;
        int have = pending();
        // One byte over the limit may still be a '\r' that the '\n' will strip.
        long total = (long) have + n;
        if (total > maxLineLength + 1L
                || total == maxLineLength + 1L && (n > 0 ? data.get(to - 1) : tail.get(have - 1)) != '\r') {
            tail = null;
            return false;
        }
        if (n == 0) {
            return true;
        }
        if (tail == null) {
            tail = ByteBuffer.allocate(Math.min(maxLineLength + 1, Math.max(INITIAL_TAIL, n)));
        }
        tail = FrameBuffers.append(tail, data, from, n, maxLineLength + 1);
        return true;
    }

    private FrameTooLongException tooLong(long atLeast) {
        return new FrameTooLongException("line longer than the limit of " + maxLineLength + " bytes (" + atLeast
                + " bytes seen)", maxLineLength);
    }

    @Override
    public String toString() {
        return "LineDecoder[max=" + maxLineLength + ", pending=" + pending() + "]";
    }
}
