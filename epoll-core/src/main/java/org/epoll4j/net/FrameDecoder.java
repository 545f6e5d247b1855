package org.epoll4j.net;

import java.nio.ByteBuffer;

/**
 * Splits one connection's byte stream into frames ({@link LineDecoder}, {@link LengthFieldDecoder}, or your own).
 * A decoder keeps the partial frame between reads, so it serves exactly one connection.
 */
public interface FrameDecoder {
    /**
     * Consumes {@code data} and hands each complete frame to {@code listener}, keeping an incomplete tail.
     *
     * @param connection the connection the bytes came from (may be {@code null} when used standalone)
     * @param data       the bytes read; consumed entirely
     * @param listener   receives each frame, valid only during the call
     * @throws FrameTooLongException if the peer exceeds the decoder's limit
     * @throws Exception             whatever the listener throws
     */
    void decode(Connection connection, ByteBuffer data, FrameListener<ByteBuffer> listener) throws Exception;

    /** Drops any buffered partial frame (the connection closed). */
    void release();

    /**
     * A connection handler that feeds every read to {@code decoder} and closes the connection with a
     * {@link FrameTooLongException} when the peer oversteps the limit. If {@code listener} is a
     * {@link FrameHandler} it also gets the connection's lifecycle callbacks ({@code onOpen}, {@code onClose},
     * {@code onReadHangup}, {@code onWritabilityChanged}, {@code onIdle}).
     *
     * @param decoder  a decoder for this connection only
     * @param listener receives each frame
     * @return the handler; give each connection its own (TcpServer.Builder.handlerFactory)
     */
    static ConnectionHandler handler(FrameDecoder decoder, FrameListener<ByteBuffer> listener) {
        java.util.Objects.requireNonNull(decoder, "decoder");
        java.util.Objects.requireNonNull(listener, "listener");
        return DecodingHandler.of(decoder, listener);
    }
}
