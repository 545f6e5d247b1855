package org.epoll4j.net;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The {@link ConnectionHandler} behind {@link LineDecoder#handler} and friends: feeds each read to one decoder,
 * closes the connection with a {@link FrameTooLongException} when the peer oversteps the limit, and drops the
 * decoder's buffered tail when the connection closes. Serves exactly one connection.
 */
final class DecodingHandler implements ConnectionHandler {
    private final FrameDecoder decoder;
    private final FrameListener<ByteBuffer> listener;
    private Connection bound;

    DecodingHandler(FrameDecoder decoder, FrameListener<ByteBuffer> listener) {
        this.decoder = decoder;
        this.listener = listener;
    }

    /** Adapts a String listener: each frame decoded as UTF-8. */
    static FrameListener<ByteBuffer> utf8(FrameListener<String> strings) {
        return (connection, frame) -> strings.onFrame(connection, utf8(frame));
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
    public void onOpen(Connection connection) {
        bind(connection);
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
    public void onClose(Connection connection, Throwable cause) {
        decoder.release();
    }
}
