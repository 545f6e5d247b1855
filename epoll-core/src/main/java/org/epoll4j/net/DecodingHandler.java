package org.epoll4j.net;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The {@link ConnectionHandler} behind {@link LineDecoder#handler} and friends: feeds each read to one decoder,
 * asks the user ({@link FrameHandler#onFrameTooLong}) whether to close or skip when the peer oversteps the limit,
 * drops the decoder's buffered tail when the connection closes, and passes the lifecycle callbacks on to the user's
 * listener when it is a {@link FrameHandler}. Serves exactly one connection.
 *
 * <p>A pause is honoured frame by frame: once reading is paused the decoder stops after the current frame, and the
 * rest of that read (at most one read buffer, since a paused connection reads nothing more) is held here until
 * {@link #readingResumed} decodes it, before anything read later and before the peer's FIN is reported.
 */
final class DecodingHandler implements ConnectionHandler {
    /** For a plain listener: {@link FrameHandler}'s defaults, which are {@link ConnectionHandler}'s. */
    private static final FrameHandler<Object> DEFAULTS = (connection, frame) -> { };

    private final FrameDecoder decoder;
    private final FrameListener<ByteBuffer> listener;
    private final FrameHandler<?> lifecycle;
    private Connection bound;
    /** Bytes read but not yet decoded because reading was paused; read mode; null when none. */
    private ByteBuffer held;
    /** A decode is running (a resume from inside a frame callback needs no drain: the running loop goes on). */
    private boolean decoding;
    /** The peer's FIN came while bytes were held: reported once they are decoded. */
    private boolean hangupHeld;
    /** Closing because of a too-long frame: what onClose reports if the close itself had no cause. */
    private FrameTooLongException tooLong;

    /**
     * @param decoder  this connection's decoder
     * @param listener receives each frame as bytes (possibly an adapter of {@code user})
     * @param user     what the user passed: its lifecycle callbacks are called if it is a {@link FrameHandler}
     */
    DecodingHandler(FrameDecoder decoder, FrameListener<ByteBuffer> listener, FrameListener<?> user) {
        this.decoder = decoder;
        this.listener = listener;
        this.lifecycle = user instanceof FrameHandler<?> h ? h : DEFAULTS;
    }

    /** For a listener of bytes, which is also the user's object. */
    static DecodingHandler of(FrameDecoder decoder, FrameListener<ByteBuffer> listener) {
        return new DecodingHandler(decoder, listener, listener);
    }

    /** For a listener of strings: each frame decoded as UTF-8. */
    static DecodingHandler ofUtf8(FrameDecoder decoder, FrameListener<String> strings) {
        return new DecodingHandler(decoder, (connection, frame) -> strings.onFrame(connection, utf8(frame)), strings);
    }

    static String utf8(ByteBuffer frame) {
        int n = frame.remaining();
        if (frame.hasArray()) {
            String s = new String(frame.array(), frame.arrayOffset() + frame.position(), n, StandardCharsets.UTF_8);
            frame.position(frame.limit());
            return s;
        }
        byte[] bytes = new byte[n];
        frame.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private void bind(Connection connection) {
        if (bound == null) {
            bound = connection;
            connection.decodingHandler = this; // found even when the user wraps this handler in another
        } else if (bound != connection) {
            throw new IllegalStateException("a decoding handler keeps one connection's partial frame and serves "
                    + "only that connection; create one per connection (TcpServer.Builder.handlerFactory)");
        }
    }

    @Override
    public void onOpen(Connection connection) throws Exception {
        bind(connection);
        lifecycle.onOpen(connection);
    }

    @Override
    public void onData(Connection connection, ByteBuffer data) throws Exception {
        bind(connection);
        if (held != null) {
            // Bytes from before a pause go first (a read can only come after the resume that drains them, but
            // EDGE re-reads and TLS's buffered records may race it).
            held = append(held, data);
            drain(connection);
            return;
        }
        feed(connection, data);
        if (data.hasRemaining() && connection.isOpen()) {
            held = append(null, data);
        }
    }

    /** Decodes {@code data} until it is consumed, the connection closes, or reading pauses. */
    private void feed(Connection connection, ByteBuffer data) throws Exception {
        decoding = true;
        try {
            while (data.hasRemaining()) {
                try {
                    decoder.decode(connection, data, listener);
                    return;
                } catch (FrameTooLongException e) {
                    if (lifecycle.onFrameTooLong(connection, e)) {
                        decoder.release();
                        data.position(data.limit());
                        if (connection.queuedBytes() == 0) {
                            connection.closeWith(e);
                        } else {
                            tooLong = e; // onClose reports it
                            connection.close(); // gracefully: the answer written in onFrameTooLong is sent first
                        }
                        return;
                    }
                    // skip: the decoder discards the rest of the frame as decoding goes on
                }
                if (!connection.isOpen() || connection.isReadingPaused()) {
                    return;
                }
            }
        } finally {
            decoding = false;
        }
    }

    /** Decodes what a pause held back; then reports a FIN that came meanwhile. */
    private void drain(Connection connection) throws Exception {
        ByteBuffer h = held;
        feed(connection, h);
        if (!h.hasRemaining() || !connection.isOpen()) {
            held = null;
            if (hangupHeld && connection.isOpen() && !connection.isReadingPaused()) {
                hangupHeld = false;
                lifecycle.onReadHangup(connection);
            }
        }
    }

    /**
     * Reading resumed ({@link Connection#resumeReading()}), on the loop: decodes the bytes a pause held back, before
     * the connection reads again. What throws closes the connection.
     */
    void readingResumed(Connection connection) {
        if (held == null || decoding || !connection.isOpen()) {
            return; // nothing held, or the decode that paused is still running and goes on by itself
        }
        try {
            drain(connection);
        } catch (Throwable t) {
            connection.closeWith(t);
        }
    }

    /** {@code data}'s remaining bytes appended to {@code to} (read mode, or null), as a new heap buffer if needed. */
    private static ByteBuffer append(ByteBuffer to, ByteBuffer data) {
        int n = data.remaining();
        if (to == null) {
            ByteBuffer b = ByteBuffer.allocate(n).put(data);
            return b.flip();
        }
        ByteBuffer b = ByteBuffer.allocate(to.remaining() + n).put(to).put(data);
        return b.flip();
    }

    /** Bytes held back by a pause (for tests and stats). */
    int heldBytes() {
        return held == null ? 0 : held.remaining();
    }

    @Override
    public void onWritabilityChanged(Connection connection, boolean writable) throws Exception {
        lifecycle.onWritabilityChanged(connection, writable);
    }

    @Override
    public void onReadHangup(Connection connection) throws Exception {
        if (held != null) {
            hangupHeld = true; // every frame before the FIN is delivered first
            return;
        }
        lifecycle.onReadHangup(connection);
    }

    @Override
    public void onIdle(Connection connection, IdleState state) throws Exception {
        lifecycle.onIdle(connection, state);
    }

    @Override
    public void onClose(Connection connection, Throwable cause) {
        decoder.release();
        held = null;
        lifecycle.onClose(connection, cause != null ? cause : tooLong);
    }
}
