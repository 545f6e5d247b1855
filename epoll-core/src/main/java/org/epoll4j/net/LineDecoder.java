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
     * closes the connection with a {@link FrameTooLongException}. If {@code onLine} is a {@link FrameHandler} it
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
    }

    /**
     * Consumes {@code data} (position to limit) and hands every line it completes to {@code listener}, in order;
     * the rest of an unfinished line is kept for the next call. Each line is a buffer positioned on the line's
     * bytes, valid only during the call. On return {@code data} is consumed (position at its limit). Stops early
     * once {@code connection} is closed.
     *
     * @param connection passed to {@code listener}; may be {@code null}
     * @param data       the bytes read
     * @param listener   receives each line
     * @throws FrameTooLongException if a line is longer than the limit (the decoder is then reset)
     * @throws Exception             whatever {@code listener} throws
     */
    @Override
    public void decode(Connection connection, ByteBuffer data, FrameListener<ByteBuffer> listener) throws Exception {
        final int end = data.limit();
        int pos = data.position();
        try {
            while (pos < end) {
                int nl = indexOfNewline(data, pos, end);
                if (nl < 0) {
                    keep(data, pos, end);
                    pos = end;
                    break;
                }
                if (tail == null) {
                    int len = nl - pos;
                    if (len > 0 && data.get(nl - 1) == '\r') {
                        len--;
                    }
                    checkLine(len);
                    data.limit(pos + len).position(pos);
                    listener.onFrame(connection, data);
                    data.limit(end);
                } else {
                    keep(data, pos, nl);
                    ByteBuffer line = tail.flip();
                    tail = null;
                    int len = line.limit();
                    if (len > 0 && line.get(len - 1) == '\r') {
                        line.limit(--len);
                    }
                    checkLine(len);
                    listener.onFrame(connection, line);
                }
                pos = nl + 1;
                if (connection != null && !connection.isOpen()) {
                    break;
                }
            }
        } finally {
            data.limit(end).position(end);
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

    /** Appends data[from, to) to the unfinished line, failing once the line cannot fit the limit. */
    private void keep(ByteBuffer data, int from, int to) throws FrameTooLongException {
        int n = to - from;
        int have = pending();
        // One byte over the limit may still be a '\r' that the '\n' will strip.
        long total = (long) have + n;
        if (total > maxLineLength + 1L
                || total == maxLineLength + 1L && (n > 0 ? data.get(to - 1) : tail.get(have - 1)) != '\r') {
            tail = null;
            throw tooLong(total);
        }
        if (n == 0) {
            return;
        }
        if (tail == null) {
            tail = ByteBuffer.allocate(Math.min(maxLineLength + 1, Math.max(INITIAL_TAIL, n)));
        }
        tail = FrameBuffers.append(tail, data, from, n, maxLineLength + 1);
    }

    private void checkLine(int len) throws FrameTooLongException {
        if (len > maxLineLength) {
            tail = null;
            throw tooLong(len);
        }
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
