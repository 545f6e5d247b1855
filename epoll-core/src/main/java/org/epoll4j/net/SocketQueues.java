package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * What the kernel holds in a connection's send buffer, beyond what {@link Connection#queuedBytes()} counts: the
 * bytes written to the socket but not yet taken by the peer ({@code ioctl SIOCOUTQ}). A bound on a slow reader's
 * memory that should count everything it has not taken adds {@link #unsentBytes} to the queued bytes.
 *
 * <p>Each call is one {@code ioctl(2)}, with no allocation. Call it on the connection's reactor thread (where its fd
 * cannot be closed and reused meanwhile).
 */
public final class SocketQueues {
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private SocketQueues() {
    }

    /** An int the kernel writes into, per thread. */
    private static final class Scratch {
        final ByteBuffer buf = NativeMemory.allocate(8);
        final long addr = NativeMemory.address(buf);
    }

    /**
     * Bytes in the socket's send queue: on TCP those written but not yet acknowledged by the peer (in flight, or
     * unsent because the peer's window is closed); on a Unix-domain socket those the peer has not read.
     *
     * @throws ClosedConnectionException if the connection is closed
     * @throws EpollException            naming the call if the ioctl fails
     */
    public static int unsentBytes(Connection connection) throws EpollException {
        return query(connection, LibC.SIOCOUTQ, "SIOCOUTQ");
    }

    private static int query(Connection connection, long request, String name) throws EpollException {
        Objects.requireNonNull(connection, "connection");
        if (!connection.isOpen()) {
            throw new ClosedConnectionException("ioctl(" + name + ") on a closed connection: " + connection);
        }
        int fd = connection.fd();
        Scratch s = SCRATCH.get();
        s.buf.putInt(0, 0);
        if (LibC.ioctl(fd, request, s.addr) != 0) {
            throw new EpollException("ioctl(fd=" + fd + ", " + name + ") on " + connection, LibC.errno());
        }
        return s.buf.getInt(0);
    }
}
