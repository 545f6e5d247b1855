package org.epoll4j.net;

import java.nio.ByteBuffer;

/**
 * Splits one connection's byte stream into frames ({@link LineDecoder}, {@link LengthFieldDecoder}, or your own).
 * A decoder keeps the partial frame between reads, so it serves exactly one connection.
 */
public interface FrameDecoder {
    /**
     * Consumes {@code data} and hands each complete frame to {@code listener}, keeping an incomplete tail. A decoder
     * should stop after a frame once {@code connection}'s reading is paused ({@link Connection#isReadingPaused()}),
     * leaving the rest in {@code data} (its position where the next frame starts): the decoding handler holds it
     * and passes it again when reading resumes. (One that always consumes everything still works, but then a pause
     * takes effect only at the next read.)
     *
     * @param connection the connection the bytes came from (may be {@code null} when used standalone)
     * @param data       the bytes read; consumed, up to where a pause stopped decoding
     * @param listener   receives each frame, valid only during the call
     * @throws FrameTooLongException if the peer exceeds the decoder's limit; {@code data}'s position is then after
     *                               the bytes of the frame seen, and a decoder that supports skipping
     *                               ({@link FrameHandler#onFrameTooLong}) discards the rest of it when called again
     * @throws Exception             whatever the listener throws
     */
    void decode(Connection connection, ByteBuffer data, FrameListener<ByteBuffer> listener) throws Exception;

    /** Drops any buffered partial frame (the connection closed). */
    void release();

    /**
     * A connection handler that feeds every read to {@code decoder} and closes the connection with a
     * {@link FrameTooLongException} when the peer oversteps the limit (a {@link FrameHandler} can answer and skip
     * instead: {@link FrameHandler#onFrameTooLong}). After {@link Connection#pauseReading()} no further frame is
     * delivered until reading resumes. If {@code listener} is a
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
