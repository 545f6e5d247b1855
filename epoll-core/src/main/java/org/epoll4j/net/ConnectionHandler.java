package org.epoll4j.net;

import java.nio.ByteBuffer;

/**
 * What a server or client does with its connections. All methods run on the connection's reactor thread and must
 * not block. Only {@link #onData} is required.
 *
 * <p>A method that throws closes the connection with that throwable as the cause ({@link #onClose} sees it); other
 * connections are not affected.
 */
@FunctionalInterface
public interface ConnectionHandler {
    /**
     * The connection is established (accepted, or a client's connect completed). With TLS, once the handshake
     * finished: the session ({@link Connection#tlsSession()}, {@link Connection#applicationProtocol()}) is complete
     * here, and a connection whose handshake fails never gets here (only {@link #onClose}, with the cause).
     *
     * @param connection the new connection
     * @throws Exception any failure closes the connection
     */
    default void onOpen(Connection connection) throws Exception {
    }

    /**
     * Bytes arrived. {@code data} is a view of a buffer shared by every connection of the reactor, valid only
     * during this call: consume it, or copy what you keep. Passing it straight to {@link Connection#write} is fine.
     *
     * @param connection the connection
     * @param data       the bytes read, from position to limit
     * @throws Exception any failure closes the connection
     */
    void onData(Connection connection, ByteBuffer data) throws Exception;

    /**
     * File descriptors arrived (SCM_RIGHTS over a Unix-domain socket), on a connection whose config enables
     * {@link ConnectionConfig#withFileDescriptorPassing(boolean)}. Called right before {@link #onData} for the bytes
     * read with them: the fds were sent with one byte of that data (the first byte of the sender's
     * {@link Connection#writeWithFileDescriptors} message), which may follow bytes written before it, so a protocol
     * that passes fds frames its messages as usual. Each fd is close-on-exec.
     *
     * <p>The fds are this method's to keep or close; the default closes them, so a handler that ignores them leaks
     * nothing. (During a graceful close, and before {@link #onOpen}, the connection closes them itself.)
     *
     * @param connection the connection
     * @param fds        the received descriptors, in the order the sender passed them
     * @throws Exception any failure closes the connection (the fds stay the handler's)
     */
    default void onFileDescriptors(Connection connection, int[] fds) throws Exception {
        for (int fd : fds) {
            org.epoll4j.internal.LibC.close(fd);
        }
    }

    /**
     * The connection's queued output crossed a watermark: {@code false} above the high watermark (stop writing,
     * e.g. pause reading from whatever produces the data), {@code true} once it drained to the low watermark.
     *
     * @param connection the connection
     * @param writable   whether writing is welcome again
     * @throws Exception any failure closes the connection
     */
    default void onWritabilityChanged(Connection connection, boolean writable) throws Exception {
    }

    /**
     * The peer shut down its writing side (FIN). Every byte it sent has been delivered to {@link #onData}. The
     * connection can still write. The default closes gracefully (queued bytes are sent first), but only after the
     * connection's {@link Offload} has delivered every outstanding result ({@link Offload#closeWhenDone()}), so a
     * peer that half-closes after its requests still gets the replies; override to keep writing, then call
     * {@link Connection#close()} or {@link Connection#shutdownOutput()} yourself.
     *
     * @param connection the connection
     * @throws Exception any failure closes the connection
     */
    default void onReadHangup(Connection connection) throws Exception {
        Offload.closeGracefully(connection);
    }

    /**
     * An idle timeout of the connection's {@link ConnectionConfig} expired. The default closes the connection with
     * an {@link IdleTimeoutException}.
     *
     * @param connection the idle connection
     * @param state      which timeout expired
     * @throws Exception any failure closes the connection
     */
    default void onIdle(Connection connection, IdleState state) throws Exception {
        connection.closeWith(new IdleTimeoutException(state, state + " for " + connection + ""));
    }

    /**
     * The connection is closed; called exactly once, also for a client whose connect failed (then without
     * {@link #onOpen}).
     *
     * @param connection the closed connection
     * @param cause      {@code null} after a local {@link Connection#close()}; otherwise what ended it: an
     *                   {@link org.epoll4j.EpollException} such as ECONNRESET, EPIPE or ECONNREFUSED, an
     *                   {@link IdleTimeoutException}, a throwable from this handler, or a
     *                   {@link org.epoll4j.ClosedReactorException}; with TLS also an
     *                   {@link javax.net.ssl.SSLException} (a failed or timed-out handshake, a bad record) or a
     *                   {@link TlsTruncationException} (the peer closed without close_notify)
     */
    default void onClose(Connection connection, Throwable cause) {
    }
}
