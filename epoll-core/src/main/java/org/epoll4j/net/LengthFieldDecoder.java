package org.epoll4j.net;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Cuts a byte stream into frames that each start with a 4-byte big-endian unsigned length followed by that many
 * payload bytes; hands over the payloads. {@link #frame} and {@link #writeFrame} produce such frames.
 *
 * <pre>{@code
 * TcpServer.builder(reactor)
 *         .handlerFactory(() -> LengthFieldDecoder.handler(1 << 20,
 *                 (conn, payload) -> LengthFieldDecoder.writeFrame(conn, payload)))   // echo each frame
 *         .start();
 * }</pre>
 *
 * <p>A frame that lies whole inside one read is handed over as a view of the read buffer, without copying; only an
 * unfinished frame is copied, into a per-connection buffer that grows with the bytes that actually arrived (doubling,
 * up to the declared length, so a peer announcing a huge frame costs only what it sends) and is dropped once the
 * frame is complete. A length above the limit fails with a {@link FrameTooLongException} before anything of the
 * payload is buffered. One decoder serves one connection; it is not thread-safe.
 */
public final class LengthFieldDecoder implements FrameDecoder {
    /** Bytes of the length prefix. */
    public static final int HEADER_LENGTH = 4;
    private static final int INITIAL_PARTIAL = 4096;

    private final int maxFrameLength;
    private int headerBytes; // bytes of a split length prefix seen so far
    private int headerValue;
    private ByteBuffer partial; // what arrived of an unfinished payload, in write mode; null when there is none
    private int partialLength; // the unfinished payload's declared length
    private long discard; // bytes left of a too-long frame the handler chose to skip

    /**
     * A decoder for payloads of at most {@code maxFrameLength} bytes (the prefix not counted).
     *
     * @param maxFrameLength 0 or more
     * @throws IllegalArgumentException if {@code maxFrameLength} is negative
     */
    public LengthFieldDecoder(int maxFrameLength) {
        if (maxFrameLength < 0) {
            throw new IllegalArgumentException("maxFrameLength must be >= 0: " + maxFrameLength);
        }
        this.maxFrameLength = maxFrameLength;
    }

    /**
     * A handler for one connection that hands each payload (a view valid during the call) to {@code onFrame}; a
     * length over the limit closes the connection with a {@link FrameTooLongException} (a {@link FrameHandler} can answer first, or skip
     * it: {@link FrameHandler#onFrameTooLong}); after {@link Connection#pauseReading()} no further frame is delivered
     * until reading resumes. If {@code onFrame} is a
     * {@link FrameHandler} it also gets the connection's lifecycle callbacks. Use it through
     * {@link TcpServer.Builder#handlerFactory} (one handler per connection).
     *
     * @param maxFrameLength the longest payload in bytes
     * @param onFrame        receives each payload
     * @return a new handler
     */
    public static ConnectionHandler handler(int maxFrameLength, FrameListener<ByteBuffer> onFrame) {
        Objects.requireNonNull(onFrame, "onFrame");
        return DecodingHandler.of(new LengthFieldDecoder(maxFrameLength), onFrame);
    }

    /**
     * A new heap buffer holding {@code payload}'s remaining bytes behind their 4-byte big-endian length, ready to
     * write; {@code payload} is not consumed.
     *
     * @param payload the payload
     * @return the frame, positioned at 0
     */
    public static ByteBuffer frame(ByteBuffer payload) {
        int n = payload.remaining();
        ByteBuffer f = ByteBuffer.allocate(HEADER_LENGTH + n).putInt(n);
        f.put(HEADER_LENGTH, payload, payload.position(), n);
        return f.clear();
    }

    /**
     * Writes {@code payload}'s remaining bytes to {@code connection} as one frame: the length prefix and the payload
     * go in one {@link Connection#write(ByteBuffer...) gathering write}, so frames written from several threads never
     * interleave, and a small frame leaves in one segment even with TCP_NODELAY. The payload is not first copied
     * behind its prefix. {@code payload} is consumed.
     *
     * @param connection the connection
     * @param payload    the payload
     * @throws ClosedConnectionException as for {@link Connection#write(ByteBuffer)}
     */
    public static void writeFrame(Connection connection, ByteBuffer payload) {
        connection.write(ByteBuffer.allocate(HEADER_LENGTH).putInt(0, payload.remaining()), payload);
    }

    /** The longest payload accepted, in bytes. */
    public int maxFrameLength() {
        return maxFrameLength;
    }

    /** Bytes of an unfinished frame (prefix and payload) held from earlier reads. */
    public int pending() {
        return partial != null ? HEADER_LENGTH + partial.position() : headerBytes;
    }

    /** Bytes of heap held for an unfinished frame (for tests: it must follow what arrived, not what was declared). */
    int bufferCapacity() {
        return partial == null ? 0 : partial.capacity();
    }

    /** Drops any unfinished frame (e.g. when the connection closes). */
    @Override
    public void release() {
        partial = null;
        headerBytes = 0;
        headerValue = 0;
        discard = 0;
    }

    /**
     * Consumes {@code data} (position to limit) and hands every payload it completes to {@code listener}, in order;
     * the rest of an unfinished frame is kept for the next call. Each payload is a buffer positioned on its bytes,
     * valid only during the call. On return {@code data} is consumed, except that decoding stops after a frame once
     * {@code connection} is closed or its reading is paused ({@link Connection#isReadingPaused()}): {@code data}'s
     * position is then where the next frame starts, and the caller passes the rest again once reading resumes.
     *
     * <p>A length over the limit throws a {@link FrameTooLongException} with {@code data}'s position right after the
     * length prefix; calling again skips that frame's payload (as it arrives, without buffering it) and goes on.
     *
     * @param connection passed to {@code listener}; may be {@code null}
     * @param data       the bytes read
     * @param listener   receives each payload
     * @throws FrameTooLongException if a length prefix exceeds the limit
     * @throws Exception             whatever {@code listener} throws
     */
    @Override
    public void decode(Connection connection, ByteBuffer data, FrameListener<ByteBuffer> listener) throws Exception {
        final int end = data.limit();
        int pos = data.position();
        try {
            while (pos < end) {
                if (discard > 0) {
                    int take = (int) Math.min(discard, end - pos);
                    discard -= take;
                    pos += take;
                    continue;
                }
                if (partial != null) {
                    int take = Math.min(partialLength - partial.position(), end - pos);
                    partial = FrameBuffers.append(partial, data, pos, take, partialLength);
                    pos += take;
                    if (partial.position() < partialLength) {
                        break;
                    }
                    ByteBuffer payload = partial.flip();
                    partial = null;
                    listener.onFrame(connection, payload);
                } else {
                    int len;
                    if (headerBytes == 0 && end - pos >= HEADER_LENGTH) {
                        len = (data.get(pos) & 0xff) << 24 | (data.get(pos + 1) & 0xff) << 16
                                | (data.get(pos + 2) & 0xff) << 8 | (data.get(pos + 3) & 0xff);
                        pos += HEADER_LENGTH;
                    } else {
                        headerValue = headerValue << 8 | (data.get(pos++) & 0xff);
                        if (++headerBytes < HEADER_LENGTH) {
                            continue;
                        }
                        len = headerValue;
                        headerBytes = 0;
                        headerValue = 0;
                    }
                    if (Integer.toUnsignedLong(len) > maxFrameLength) {
                        release();
                        discard = Integer.toUnsignedLong(len); // skipped if decoding goes on
                        throw new FrameTooLongException("frame length " + Integer.toUnsignedLong(len)
                                + " exceeds the limit of " + maxFrameLength + " bytes", maxFrameLength);
                    }
                    if (end - pos >= len) {
                        data.limit(pos + len).position(pos);
                        listener.onFrame(connection, data);
                        data.limit(end);
                        pos += len;
                    } else {
                        partialLength = len;
                        partial = ByteBuffer.allocate(Math.min(len, Math.max(INITIAL_PARTIAL, end - pos)));
                        continue; // the copy happens above
                    }
                }
                if (connection != null && (!connection.isOpen() || connection.isReadingPaused())) {
                    break;
                }
            }
        } finally {
            data.limit(end).position(pos);
        }
    }

    @Override
    public String toString() {
        return "LengthFieldDecoder[max=" + maxFrameLength + ", pending=" + pending() + "]";
    }
}
