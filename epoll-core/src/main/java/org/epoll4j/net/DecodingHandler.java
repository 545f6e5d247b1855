package org.epoll4j.net;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The {@link ConnectionHandler} behind {@link LineDecoder#handler} and friends: feeds each read to one decoder,
 * closes the connection with a {@link FrameTooLongException} when the peer oversteps the limit, drops the decoder's
 * buffered tail when the connection closes, and passes the lifecycle callbacks on to the user's listener when it is
 * a {@link FrameHandler}. Serves exactly one connection.
 */
final class DecodingHandler implements ConnectionHandler {
    /** For a plain listener: {@link FrameHandler}'s defaults, which are {@link ConnectionHandler}'s. */
    private static final FrameHandler<Object> DEFAULTS = (connection, frame) -> { };

    private final FrameDecoder decoder;
    private final FrameListener<ByteBuffer> listener;
    private final FrameHandler<?> lifecycle;
    private Connection bound;

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
        try {
            decoder.decode(connection, data, listener);
        } catch (FrameTooLongException e) {
            decoder.release();
            connection.closeWith(e);
        }
    }

    @Override
    public void onWritabilityChanged(Connection connection, boolean writable) throws Exception {
        lifecycle.onWritabilityChanged(connection, writable);
    }

    @Override
    public void onReadHangup(Connection connection) throws Exception {
        lifecycle.onReadHangup(connection);
    }

    @Override
    public void onIdle(Connection connection, IdleState state) throws Exception {
        lifecycle.onIdle(connection, state);
    }

    @Override
    public void onClose(Connection connection, Throwable cause) {
        decoder.release();
        lifecycle.onClose(connection, cause);
    }
}
