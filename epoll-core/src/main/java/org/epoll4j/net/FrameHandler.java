package org.epoll4j.net;

/**
 * A {@link FrameListener} that also wants the connection's lifecycle: pass one wherever a decoding handler takes a
 * listener ({@link LineDecoder#handler}, {@link LineDecoder#bufferHandler}, {@link LengthFieldDecoder#handler},
 * {@link FrameDecoder#handler}) and the handler calls these methods as a {@link ConnectionHandler} would get them.
 * The defaults do what {@link ConnectionHandler}'s do. All methods run on the connection's reactor thread; any that
 * throws closes the connection with that throwable.
 *
 * <pre>{@code
 * TcpServer.builder(reactor).handlerFactory(() -> LineDecoder.handler(8192, new FrameHandler<String>() {
 *     public void onOpen(Connection c) { c.write("hello\n"); }
 *     public void onFrame(Connection c, String line) { c.write(line + "\n"); }
 *     public void onClose(Connection c, Throwable cause) { log(cause); }
 * })).start();
 * }</pre>
 *
 * @param <T> the frame type, {@link java.nio.ByteBuffer} or {@link String}
 */
public interface FrameHandler<T> extends FrameListener<T> {
    /**
     * As {@link ConnectionHandler#onOpen}.
     *
     * @param connection the new connection
     * @throws Exception any failure closes the connection
     */
    default void onOpen(Connection connection) throws Exception {
    }

    /**
     * As {@link ConnectionHandler#onWritabilityChanged}.
     *
     * @param connection the connection
     * @param writable   whether writing is welcome again
     * @throws Exception any failure closes the connection
     */
    default void onWritabilityChanged(Connection connection, boolean writable) throws Exception {
    }

    /**
     * As {@link ConnectionHandler#onReadHangup}: every complete frame the peer sent has been delivered; the default
     * closes gracefully (an unfinished frame is dropped), after the connection's {@link Offload} has delivered every
     * outstanding result.
     *
     * @param connection the connection
     * @throws Exception any failure closes the connection
     */
    default void onReadHangup(Connection connection) throws Exception {
        Offload.closeGracefully(connection);
    }

    /**
     * The peer sent a frame longer than the decoder's limit; called before anything is closed, so the handler can
     * answer first (e.g. {@code c.write("ERR line too long\n")}). Return {@code true} to close the connection: it
     * closes gracefully (what was written, the answer included, is sent first) and {@link #onClose} sees
     * {@code tooLong}. Return {@code false} to skip the frame and go on with the next one: the decoder discards the
     * frame's bytes as they arrive, without buffering them. The default closes.
     *
     * @param connection the connection
     * @param tooLong    what was too long, naming the limit
     * @return whether to close the connection
     * @throws Exception any failure closes the connection
     */
    default boolean onFrameTooLong(Connection connection, FrameTooLongException tooLong) throws Exception {
        return true;
    }

    /**
     * As {@link ConnectionHandler#onIdle}; the default closes the connection with an {@link IdleTimeoutException}.
     *
     * @param connection the idle connection
     * @param state      which timeout expired
     * @throws Exception any failure closes the connection
     */
    default void onIdle(Connection connection, IdleState state) throws Exception {
        connection.closeWith(new IdleTimeoutException(state, state + " for " + connection));
    }

    /**
     * As {@link ConnectionHandler#onClose}; called exactly once. A connection closed because the peer overstepped
     * the decoder's limit sees a {@link FrameTooLongException}.
     *
     * @param connection the closed connection
     * @param cause      {@code null} after a local close, else what ended it
     */
    default void onClose(Connection connection, Throwable cause) {
    }
}
