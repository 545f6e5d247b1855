package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.Sockets;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;

/**
 * A bound, listening socket: opened (socket, options, bind, listen) with everything undone on failure, and closed
 * with its Unix-domain socket file removed. Owned by a {@link TcpServer}, or by a {@link TcpServerGroup} whose
 * EXCLUSIVE members share it.
 */
final class ListenSocket {
    final int fd;
    /** The bound address (the actual port when port 0 was asked for). */
    final SocketAddress localAddress;
    private boolean closed;

    private ListenSocket(int fd, SocketAddress localAddress) {
        this.fd = fd;
        this.localAddress = localAddress;
    }

    /**
     * Opens a socket for {@code s.address}, applies {@code options}, binds and listens.
     *
     * @throws EpollException if socket, setsockopt, bind (e.g. EADDRINUSE) or listen fails; nothing is left open
     *                        then, not even the socket file, so that a retry does not meet EADDRINUSE
     */
    static ListenSocket open(ServerSettings s, SockOpts options) throws EpollException {
        int fd = Sockets.open(s.address);
        boolean bound = false;
        try {
            options.applyTo(fd);
            Sockets.bind(fd, s.address);
            bound = true;
            Sockets.listen(fd, s.backlog);
            return new ListenSocket(fd, Sockets.localAddress(fd));
        } catch (EpollException | RuntimeException e) {
            Sockets.closeQuietly(fd);
            if (bound) {
                deleteSocketFile(s.address);
            }
            throw e;
        }
    }

    /**
     * Closes the fd and removes a Unix-domain socket file; idempotent. Only once nothing can be inside accept4 on
     * it any more (a closed fd number may be reused at once).
     */
    void close() {
        close(true);
    }

    /** @param closeFd false when the fd number was closed under us and reused: it is someone else's now */
    synchronized void close(boolean closeFd) {
        if (closed) {
            return;
        }
        closed = true;
        if (closeFd) {
            LibC.close(fd);
        }
        deleteSocketFile(localAddress);
    }

    private static void deleteSocketFile(SocketAddress address) {
        if (address instanceof UnixDomainSocketAddress u) {
            try {
                Files.deleteIfExists(u.getPath());
            } catch (IOException ignored) {
                // best effort: a stale file only makes the next bind fail with EADDRINUSE, which names the path
            }
        }
    }
}
