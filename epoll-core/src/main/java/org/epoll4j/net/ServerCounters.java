package org.epoll4j.net;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@link TcpServer}'s open connections and the counters behind its {@link ServerStats} (the accept counters are
 * its {@link Acceptor}'s), kept where connections open and close and where a TLS handshake or an offloaded result
 * fails: never per read or write. A server's connections may run on several reactors (a group's HANDOFF), so every
 * method is safe from any thread.
 */
final class ServerCounters {
    /** Open connections, on whichever reactor they run; for stats, broadcast and graceful shutdown. */
    final OpenConnections connections = new OpenConnections();
    private final AtomicInteger active = new AtomicInteger();
    /** Peers that failed the TLS handshake. */
    private final LongAdder tlsHandshakeFailures = new LongAdder();
    /** Offloaded results dropped because their connection's reactor closed first. */
    private final LongAdder offloadResultsDropped = new LongAdder();

    /** On the connection's loop thread: it became open (a TLS connection at the end of its handshake). */
    void opened(Connection c) {
        active.incrementAndGet();
        connections.opened(c);
    }

    /** On the connection's loop thread, once its byte counts are final. */
    void closed(Connection c) {
        if (connections.closed(c)) {
            active.decrementAndGet();
        }
    }

    void tlsHandshakeFailed() {
        tlsHandshakeFailures.increment();
    }

    void offloadResultsDropped(int n) {
        offloadResultsDropped.add(n);
    }

    int active() {
        return active.get();
    }

    long tlsHandshakeFailures() {
        return tlsHandshakeFailures.sum();
    }

    long offloadResultsDropped() {
        return offloadResultsDropped.sum();
    }
}
