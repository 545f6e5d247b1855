package org.epoll4j.net;

/**
 * Receives the frames a decoder ({@link LineDecoder}, {@link LengthFieldDecoder}) cuts from a connection's byte
 * stream. Runs on the connection's reactor thread and must not block; a {@link java.nio.ByteBuffer} frame is valid
 * only during the call (copy what you keep; passing it to {@link Connection#write} is fine).
 *
 * @param <T> the frame type, {@link java.nio.ByteBuffer} or {@link String}
 */
@FunctionalInterface
public interface FrameListener<T> {
    /**
     * One complete frame arrived.
     *
     * @param connection the connection it came from (whatever was passed to the decoder; {@code null} is allowed)
     * @param frame      the frame
     * @throws Exception any failure closes the connection
     */
    void onFrame(Connection connection, T frame) throws Exception;
}
