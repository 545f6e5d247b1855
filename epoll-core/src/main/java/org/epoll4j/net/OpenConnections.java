package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.internal.IoFigures;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Open connections and the byte totals of those that closed: what a snapshot walks and adds up, for a reactor
 * ({@link NetContext}, behind {@code Reactor.stats()}) or a server ({@link ServerCounters}, behind
 * {@link TcpServer#stats()}). Changed where connections open and close, never per read or write; any thread (a
 * server's connections may close on several reactors' threads).
 */
final class OpenConnections {
    /** A concurrent set: snapshots walk it from any thread. */
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private final LongAdder closedBytesRead = new LongAdder();
    private final LongAdder closedBytesWritten = new LongAdder();

    /** {@code c} is open (idempotent); on its loop thread. */
    void opened(Connection c) {
        open.add(c);
    }

    /**
     * {@code c} closed (idempotent); on its loop thread, once its byte counts are final. They join the closed totals
     * before it leaves the set, so a snapshot (which walks the set, then reads the totals) never misses them; at
     * worst it counts them twice, once.
     *
     * @return whether it was open (false for one never opened or already closed)
     */
    boolean closed(Connection c) {
        if (!open.contains(c)) {
            return false;
        }
        closedBytesRead.add(c.bytesRead());
        closedBytesWritten.add(c.bytesWritten());
        return open.remove(c);
    }

    /** The open connections: the live set (callers hand out an unmodifiable view). */
    Set<Connection> live() {
        return open;
    }

    /**
     * Adds the open connections' figures and the closed totals to {@code io}.
     *
     * @param reactors where to add the reactor each open connection runs on, or null
     */
    void addTo(IoFigures io, Set<Reactor> reactors) {
        for (Connection c : open) {
            io.connections++;
            if (c.isReadingPaused()) {
                io.pausedConnections++;
            }
            io.queuedBytes += c.queuedBytes();
            io.bytesRead += c.bytesRead();
            io.bytesWritten += c.bytesWritten();
            if (reactors != null) {
                reactors.add(c.reactor());
            }
        }
        io.bytesRead += closedBytesRead.sum();
        io.bytesWritten += closedBytesWritten.sum();
    }
}
