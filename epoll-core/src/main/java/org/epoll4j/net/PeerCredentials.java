package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Who is at the other end of a Unix-domain connection: the process id, user id and group id the kernel recorded
 * when the peer connected ({@code SO_PEERCRED}). The kernel vouches for them, so a server on a Unix socket can
 * authorise by user without a password (as PostgreSQL's {@code peer} authentication and D-Bus do).
 */
public final class PeerCredentials {
    private static final int SO_PEERCRED = 17;

    private final int pid;
    private final int uid;
    private final int gid;

    private PeerCredentials(int pid, int uid, int gid) {
        this.pid = pid;
        this.uid = uid;
        this.gid = gid;
    }

    /**
     * Reads the credentials of a connection's peer; from any thread while the connection is open.
     *
     * @param connection a Unix-domain connection (accepted or connected)
     * @return the peer's credentials as of its {@code connect} (or the socket pair's creation)
     * @throws EpollException if getsockopt fails; on a TCP connection the kernel has no credentials to give and the
     *                        call fails naming the connection
     */
    public static PeerCredentials of(Connection connection) throws EpollException {
        Objects.requireNonNull(connection, "connection");
        int fd = connection.fd();
        ByteBuffer b = NativeMemory.allocate(16); // struct ucred { pid_t pid; uid_t uid; gid_t gid; } + socklen_t
        b.putInt(12, 12);
        long base = NativeMemory.address(b);
        if (LibC.getsockopt(fd, LibC.SOL_SOCKET, SO_PEERCRED, base, base + 12) != 0) {
            throw new EpollException("getsockopt(fd=" + fd + ", SO_PEERCRED) on " + connection, LibC.errno());
        }
        if (b.getInt(0) == 0 && b.getInt(4) == -1) { // the kernel's "no credentials": a TCP (or unconnected) socket
            throw new EpollException("getsockopt(fd=" + fd + ", SO_PEERCRED) on " + connection
                    + ": not a Unix-domain connection", org.epoll4j.internal.Errno.EINVAL);
        }
        return new PeerCredentials(b.getInt(0), b.getInt(4), b.getInt(8));
    }

    /** @return the peer's process id (in this process's pid namespace; 0 if the peer is in none we can see) */
    public int pid() {
        return pid;
    }

    /** @return the peer's effective user id */
    public int uid() {
        return uid;
    }

    /** @return the peer's effective group id */
    public int gid() {
        return gid;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PeerCredentials && ((PeerCredentials) o).pid == pid && ((PeerCredentials) o).uid == uid
                && ((PeerCredentials) o).gid == gid;
    }

    @Override
    public int hashCode() {
        return Objects.hash(pid, uid, gid);
    }

    @Override
    public String toString() {
        return "PeerCredentials[pid=" + pid + ", uid=" + uid + ", gid=" + gid + "]";
    }
}
