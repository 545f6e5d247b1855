package org.epoll4j.net;

/**
 * A package-private hook that lets something other than the connection move its bytes (a {@link Splice}: socket →
 * pipe → socket with splice(2)), while the connection keeps its fd, registration, pauses, idle timer, counters,
 * half-close and close. Set with {@code Connection.drive}; loop thread only; never on a TLS connection.
 *
 * <p>The input side runs where {@link Inbound} would read(2): with the same pauses, read budget, EDGE continuation,
 * FIN and hang-up handling; the bytes it moves are counted as read and never reach the handler. The output side
 * holds bytes for the socket: they count as queued output (watermarks, {@code isWritable}, {@code queuedBytes},
 * EPOLLOUT interest), and {@code close()} and {@code shutdownOutput()} wait for them.
 */
interface SocketDriver {
    /** {@link #read}'s answer when the driver gives the input back: the connection reads with read(2) again. */
    long DECLINE = Long.MIN_VALUE;

    /**
     * Instead of read(2): moves bytes from the socket. {@code max} is the connection's read size, which bounds
     * what passes through memory; a driver that moves page references instead (splice(2) into a pipe) may move
     * more, up to what it can hold. Returns the bytes moved, 0 at the peer's FIN, {@code -errno} on failure
     * ({@code -EAGAIN}: nothing now; a driver that cannot take more pauses the connection for
     * {@link ReadPause#SPLICE}), or {@link #DECLINE}.
     */
    long read(int max);

    /** The socket may take bytes (EPOLLOUT, or the connection's own queue drained): write what is held for it. */
    void onWritable();

    /** Bytes held for this socket, not yet written; any thread (a recent value). */
    long heldForOutput();

    /** The connection closed (what is held for it is lost); called once. */
    void closed();
}
